"""Structured events and the scheduler's log: ``log_event``, ``get_events``, ``subscribe_topic``, ...

The scheduler keeps the events of each topic (``(time, message)`` pairs) and
pushes new ones to the clients subscribed to the topic; a subscribed client
calls its handler with each event, in order, in its callback thread (a
coroutine function handler runs on the client's event loop instead).
Tasks log events too, with ``get_worker().log_event(topic, msg)``
(:meth:`~shoal.distributed.server.worker_admin.WorkerAdminMixin.log_event`):
they travel on the worker's stream and are stamped on arrival, so they look
the same here. Mirrors ``distributed.Client.log_event`` and friends.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from shoal.distributed.client_base import ClientCore

__all__ = ["ClientEventsMixin"]

logger = logging.getLogger("shoal.distributed.client")


class ClientEventsMixin(ClientCore):
    """``log_event``, ``get_events``, ``subscribe_topic``, ``unsubscribe_topic``, ``get_scheduler_logs``."""

    id: str
    _callback_pool: Any
    _loop: Any

    @property
    def _topic_handlers(self) -> dict[str, Callable[..., Any]]:
        handlers = self.__dict__.get("_shoal_topic_handlers")
        if handlers is None:
            handlers = self.__dict__["_shoal_topic_handlers"] = {}
        return handlers

    def log_event(self, topic: str | list[str], msg: Any) -> Any:
        """Record ``msg`` (anything picklable) under ``topic`` (or each of a list of topics) on the scheduler.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     client.log_event("jobs", {"done": 1})
        ...     [msg for _, msg in client.get_events("jobs")]
        [{'done': 1}]
        """
        if not isinstance(topic, (str, list, tuple)):
            raise TypeError(f"log_event expects a topic string or a list of them, got {type(topic).__name__}.")
        return self._call("log_event", topic=topic if isinstance(topic, str) else list(topic), msg=msg)

    def get_events(self, topic: str | None = None) -> Any:
        """The events of ``topic`` as a tuple of ``(time, message)``; of every topic as a dict when None."""
        return self._call("get_events", topic=topic)

    def subscribe_topic(self, topic: str, handler: Callable[[tuple[float, Any]], Any]) -> Any:
        """Call ``handler((time, message))`` for each event logged under ``topic`` from now on.

        A second subscription to the same topic replaces the handler.
        """
        if not callable(handler):
            raise TypeError(f"subscribe_topic expects a callable handler, got {type(handler).__name__}.")
        self._topic_handlers[topic] = handler
        return self._call("subscribe_topic", topic=topic, client=self.id)

    def unsubscribe_topic(self, topic: str) -> Any:
        """Stop calling the handler of ``topic``.

        Raises
        ------
        ValueError
            When this client is not subscribed to ``topic``.
        """
        if self._topic_handlers.pop(topic, None) is None:
            raise ValueError(f"This client is not subscribed to topic {topic!r}; subscribed: "
                             f"{sorted(self._topic_handlers)}.")
        return self._call("unsubscribe_topic", topic=topic, client=self.id)

    def _on_event(self, msg: dict[str, Any]) -> None:
        """A pushed event arrived (on the event loop): hand it to the topic's handler."""
        handler = self._topic_handlers.get(msg["topic"])
        if handler is None:
            return
        event = tuple(msg["event"])
        if inspect.iscoroutinefunction(handler):
            task = asyncio.get_running_loop().create_task(handler(event))
            task.add_done_callback(_log_failure)
        else:
            self._callback_pool.submit(_call_handler, handler, event)

    def get_scheduler_logs(self, n: int | None = None) -> Any:
        """The scheduler's last ``n`` log records (all it kept when None) as ``(level, message)``, oldest first."""
        return self._call("get_logs", n=n)


def _call_handler(handler: Callable[..., Any], event: tuple[Any, ...]) -> None:
    try:
        handler(event)
    except Exception:  # noqa: BLE001 - a broken handler must not stop the others
        logger.exception("error in the event handler %r", handler)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("error in an event handler: %r", task.exception())

"""Forwarding log records from tasks on workers to the client (``Client.forward_logging``).

:class:`ForwardLoggingPlugin` is a worker plugin: it adds a handler to the
named logger in each worker that publishes every record the logger handles
in a task of that worker as an event (``log_event``) on a topic of its own.
The client subscribes to the topic and hands each record to its own logger
of the same name (:func:`handle_forwarded_record`), so handlers configured
in the client process (``caplog`` in tests) see it. Records emitted outside
task threads (the worker's own messages, or a client sharing the process
with in-process workers) are not forwarded, so nothing comes back round.

As in Dask, a record travels only when the worker-side logger's level lets
it through and arrives only when the client-side logger's level does; the
record gains a ``worker`` attribute, the address of the worker that logged it.
"""

from __future__ import annotations

import logging
from typing import Any

from shoal.distributed.plugins import WorkerPlugin
from shoal.distributed.server.worker import current_worker

__all__ = ["ForwardLoggingPlugin", "handle_forwarded_record", "plugin_name_of", "topic_of"]

#: Prefix of the event topics forwarded records travel on (Dask's ``TOPIC_PREFIX_FORWARDED_LOG_RECORD``).
TOPIC_PREFIX = "forwarded-log-record"


def plugin_name_of(logger_name: str | None) -> str:
    return f"forward-logging-{logger_name or '<root>'}"


def topic_of(logger_name: str | None) -> str:
    return f"{TOPIC_PREFIX}-{plugin_name_of(logger_name)}"


class ForwardLoggingPlugin(WorkerPlugin):
    """Forward records of ``logger_name`` (the root logger when None) at ``level`` or above to ``topic``."""

    def __init__(self, logger_name: str | None, level: int | str, topic: str) -> None:
        self.logger_name = logger_name
        self.level = level
        self.topic = topic
        self.name = plugin_name_of(logger_name)
        self.handler: logging.Handler | None = None

    def setup(self, worker: Any) -> None:
        self.handler = _ForwardingHandler(worker, self.topic, self.level)
        logging.getLogger(self.logger_name).addHandler(self.handler)

    def teardown(self, worker: Any) -> None:
        if self.handler is not None:
            logging.getLogger(self.logger_name).removeHandler(self.handler)
            self.handler = None


class _ForwardingHandler(logging.Handler):
    def __init__(self, worker: Any, topic: str, level: int | str) -> None:
        super().__init__(level)
        self.worker = worker
        self.topic = topic

    def emit(self, record: logging.LogRecord) -> None:
        if current_worker() is not self.worker:
            return  # not in one of this worker's tasks
        try:
            self.worker.log_event(self.topic, self._attributes(record))
        except Exception:  # noqa: BLE001 - logging must never break the task
            self.handleError(record)

    def _attributes(self, record: logging.LogRecord) -> dict[str, Any]:
        # As logging.handlers.SocketHandler.makePickle: the message is formatted here (its args may not
        # travel) and the traceback becomes text.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        attributes = dict(record.__dict__)
        attributes["msg"] = record.getMessage()
        attributes["args"] = None
        attributes["exc_info"] = None
        attributes.pop("message", None)
        attributes["worker"] = self.worker.address
        return {k: v if v is None or isinstance(v, (str, int, float, bool)) else repr(v)
                for k, v in attributes.items()}


def handle_forwarded_record(event: tuple[float, dict[str, Any]]) -> None:
    """Client side: hand a forwarded record to this process's logger of the same name."""
    _, attributes = event
    record = logging.makeLogRecord(attributes)
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)

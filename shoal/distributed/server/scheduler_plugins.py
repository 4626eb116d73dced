"""Scheduler plugins installed in a running scheduler (see :class:`~shoal.distributed.plugins.SchedulerPlugin`).

Transitions reach plugins through the scheduler state's transition log:
while at least one plugin is installed, the log is a deque that also calls
each plugin's ``transition`` hook on every entry appended. Without plugins
the log is a plain deque, so the hot path pays nothing for the feature.
"""

from __future__ import annotations

import inspect
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shoal.distributed.comm.serialization import unpickle_value

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["SchedulerPlugins"]

logger = logging.getLogger("shoal.distributed.scheduler")


class _NotifyingLog(deque):  # type: ignore[type-arg]
    """The transition log, calling ``notify(key, start, finish, stimulus_id)`` on each append."""

    def __init__(self, entries: Any, maxlen: int | None, notify: Callable[..., None]) -> None:
        super().__init__(entries, maxlen)
        self.notify = notify

    def append(self, entry: Any) -> None:
        super().append(entry)
        self.notify(*entry)


class SchedulerPlugins:
    """The plugins of one scheduler server, by name, and the calls to their hooks."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server
        #: Installed plugins by name.
        self.plugins: dict[str, Any] = {}

    def handlers(self) -> dict[str, Any]:
        return {"register_scheduler_plugin": self.rpc_register, "unregister_scheduler_plugin": self.rpc_unregister}

    async def add(self, plugin: Any, name: str) -> None:
        """Install ``plugin`` under ``name`` (closing a plugin already there) and call its ``start``."""
        if name in self.plugins:
            await self.remove(name)
        result = plugin.start(self.server) if hasattr(plugin, "start") else None
        if inspect.isawaitable(result):
            await result
        self.plugins[name] = plugin
        self._hook_log()

    async def remove(self, name: str) -> None:
        plugin = self.plugins.pop(name)
        self._hook_log()
        result = plugin.close() if hasattr(plugin, "close") else None
        if inspect.isawaitable(result):
            await result

    async def close(self) -> None:
        """The scheduler is closing: call every plugin's ``close``."""
        for name in list(self.plugins):
            try:
                await self.remove(name)
            except Exception:  # noqa: BLE001 - closing continues
                logger.exception("scheduler plugin %r failed to close", name)

    async def rpc_register(self, plugin: Any, name: str, idempotent: bool = False) -> None:
        """``plugin`` is pickled, or the object itself from an in-process client."""
        if idempotent and name in self.plugins:
            return
        await self.add(unpickle_value(plugin) if isinstance(plugin, bytes) else plugin, name)

    async def rpc_unregister(self, name: str) -> None:
        if name not in self.plugins:
            raise ValueError(f"No scheduler plugin named {name!r}; registered: {sorted(self.plugins)}.")
        await self.remove(name)

    # ------------------------------------------------------------------ hooks

    def _hook_log(self) -> None:
        state = self.server.state
        hooked = isinstance(state.log, _NotifyingLog)
        wanted = any(hasattr(p, "transition") for p in self.plugins.values())
        if wanted and not hooked:
            state.log = _NotifyingLog(state.log, state.log.maxlen, self._transition)
        elif hooked and not wanted:
            state.log = deque(state.log, state.log.maxlen)

    def _transition(self, key: Any, start: str, finish: str, stimulus_id: str, *rest: Any) -> None:
        for name, plugin in list(self.plugins.items()):
            hook = getattr(plugin, "transition", None)
            if hook is None:
                continue
            try:
                hook(key, start, finish, stimulus_id=stimulus_id)
            except Exception:  # noqa: BLE001 - a plugin must not break the state machine
                logger.exception("scheduler plugin %r failed in transition(%r, %r, %r)", name, key, start, finish)

    def call(self, hook: str, *args: Any, **kwargs: Any) -> None:
        """Call ``hook(scheduler, *args, **kwargs)`` on every plugin that has it; log failures."""
        if not self.plugins:
            return
        for name, plugin in list(self.plugins.items()):
            method = getattr(plugin, hook, None)
            if method is None:
                continue
            try:
                method(self.server, *args, **kwargs)
            except Exception:  # noqa: BLE001 - a plugin must not break the scheduler
                logger.exception("scheduler plugin %r failed in %s", name, hook)

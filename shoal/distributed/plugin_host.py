"""Holding plugins: what a nanny and a worker do alike to set one up, replace it and tear it down.

Both keep their plugins in ``self.plugins`` by name and answer the same two
requests. Setting up a plugin under a name already taken tears the old one
down first. A hook may be a plain function or a coroutine function; errors go
back to the caller as data (the exception pickled, with its traceback text),
so a broken plugin never takes its host down.
"""

from __future__ import annotations

import inspect
import traceback
from typing import Any

from shoal.distributed.comm.serialization import pickle_value

__all__ = ["PluginHostMixin", "call_hook", "plugin_failed", "plugin_ok"]


async def call_hook(plugin: Any, hook: str, host: Any) -> None:
    """Call ``plugin.<hook>(host)`` if the plugin has it, awaiting it when it is a coroutine."""
    method = getattr(plugin, hook, None)
    if method is None:
        return
    result = method(host)
    if inspect.isawaitable(result):
        await result


def plugin_ok() -> dict[str, Any]:
    return {"status": "OK", "ok": True, "result": pickle_value(None)}


def plugin_failed(exc: BaseException) -> dict[str, Any]:
    """The reply for a plugin hook that raised ``exc`` (call inside the ``except`` block: it reads the traceback)."""
    return {"status": "OK", "ok": False, "exception": pickle_value(exc), "text": traceback.format_exc()}


class PluginHostMixin:
    """``_setup_plugin`` and the ``plugin_remove`` request, for an object with ``plugins`` and ``address``."""

    plugins: dict[str, Any]

    async def _setup_plugin(self, plugin: Any, name: str) -> None:
        old = self.plugins.pop(name, None)
        if old is not None:
            await call_hook(old, "teardown", self)
        await call_hook(plugin, "setup", self)
        self.plugins[name] = plugin

    async def rpc_plugin_remove(self, name: str) -> dict[str, Any]:
        plugin = self.plugins.pop(name, None)
        try:
            if plugin is not None:
                await call_hook(plugin, "teardown", self)
        except Exception as exc:  # noqa: BLE001 - sent back as data
            return plugin_failed(exc)
        return plugin_ok()

"""The scheduler's registry of nannies and the nanny plugins it hands them.

A nanny (:class:`~shoal.distributed.nanny.Nanny`) that can reach the
scheduler registers with its own address (``register_nanny``) and is
answered with every nanny plugin registered so far, which it sets up before
starting a worker process. ``register_nanny_plugin`` remembers a plugin
(pickled) for nannies that register later and forwards it to each nanny
registered now; a nanny that cannot be reached any more is forgotten. A
nanny that closes says so (``unregister_nanny``).

Nannies are not workers: the state machine never hears of them, and a
worker process restarting under its nanny leaves this registry alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from shoal.distributed._exceptions import CommClosedError

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["SchedulerNannies"]

logger = logging.getLogger("shoal.distributed.scheduler")


class SchedulerNannies:
    """RPC handlers ``register_nanny``, ``unregister_nanny``, ``register_nanny_plugin``, ``unregister_nanny_plugin``."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server
        #: Registered nannies by address: ``{"name": worker name or None, "pid": the nanny's process id}``.
        self.nannies: dict[str, dict[str, Any]] = {}
        #: Nanny plugins by name (pickled), for nannies that register later.
        self.plugins: dict[str, bytes] = {}

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    def rpc_register_nanny(self, address: str, name: Any = None, pid: int | None = None) -> dict[str, bytes]:
        self.nannies[address] = {"name": name, "pid": pid}
        return dict(self.plugins)

    def rpc_unregister_nanny(self, address: str) -> None:
        self.nannies.pop(address, None)

    async def broadcast(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send ``msg`` to every registered nanny; ``{address: reply}`` of those that answered."""
        addresses = list(self.nannies)
        replies = await asyncio.gather(*(self.server.pool.call(a, msg) for a in addresses), return_exceptions=True)
        out: dict[str, Any] = {}
        for address, reply in zip(addresses, replies, strict=True):
            if isinstance(reply, (OSError, CommClosedError, TimeoutError)):
                # Gone without saying so (killed, or its host went away): forget it.
                logger.info("forgetting nanny %s: %s", address, reply)
                self.nannies.pop(address, None)
                self.server.pool.remove(address)
                continue
            out[address] = reply
        return out

    async def rpc_register_nanny_plugin(self, plugin: bytes, name: str, idempotent: bool = False) -> dict[str, Any]:
        """Remember ``plugin`` for nannies that register later and set it up in every registered nanny.

        With ``idempotent`` a plugin already registered under ``name`` stays and nothing is sent.
        """
        if idempotent and name in self.plugins:
            return {}
        self.plugins[name] = plugin
        return await self.broadcast({"op": "plugin_add", "plugin": plugin, "name": name})

    async def rpc_unregister_nanny_plugin(self, name: str) -> dict[str, Any]:
        if name not in self.plugins:
            raise ValueError(f"No nanny plugin named {name!r}; registered: {sorted(self.plugins)}.")
        del self.plugins[name]
        return await self.broadcast({"op": "plugin_remove", "name": name})

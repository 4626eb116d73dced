"""Request/response calls over reused comms.

:class:`ConnectionPool` keeps idle comms per address. :meth:`~ConnectionPool.call`
takes one (or opens one), writes a request, reads one reply, and returns the
comm to the pool; a comm that failed is dropped, never reused. One comm
serves one call at a time, so replies never need matching to requests.

A reply ``{"status": "error", "exception": ..., "text": ...}`` re-raises the
remote exception in the caller.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.core import Comm, connect

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Comms to many peers for one-off calls; see the module docstring."""

    def __init__(self, *, timeout: float = 10.0, limit_per_address: int = 8,
                 connection_args: dict[str, Any] | None = None) -> None:
        self.timeout = timeout
        #: Options for :func:`connect`, e.g. ``Security(...).get_connection_args(role)``.
        self.connection_args = dict(connection_args or {})
        self.limit_per_address = limit_per_address
        self._idle: dict[str, list[Comm]] = defaultdict(list)
        self._busy: set[Comm] = set()
        self._closed = False

    async def call(self, address: str, msg: dict[str, Any]) -> Any:
        """Send ``msg`` to ``address`` and return the reply."""
        if self._closed:
            raise CommClosedError("connection pool is closed", address)
        idle = self._idle[address]
        comm = None
        while idle:
            candidate = idle.pop()
            if not candidate.closed():
                comm = candidate
                break
        if comm is None:
            comm = await connect(address, timeout=self.timeout, **self.connection_args)
        self._busy.add(comm)
        ok = False
        try:
            await comm.write(msg)
            reply = await comm.read()
            ok = True
        finally:
            self._busy.discard(comm)
            if ok and not self._closed and len(idle) < self.limit_per_address:
                idle.append(comm)
            else:
                comm.abort()
        if isinstance(reply, dict) and reply.get("status") == "error":
            exc = reply.get("exception")
            if isinstance(exc, BaseException):
                raise exc
            raise RuntimeError(reply.get("text", "remote call failed"))
        return reply

    def remove(self, address: str) -> None:
        """Drop idle comms to ``address`` (the peer is gone)."""
        for comm in self._idle.pop(address, []):
            comm.abort()

    async def close(self) -> None:
        """Close every comm, idle or busy."""
        self._closed = True
        comms = [c for idle in self._idle.values() for c in idle] + list(self._busy)
        self._idle.clear()
        self._busy.clear()
        await asyncio.gather(*(c.close() for c in comms), return_exceptions=True)

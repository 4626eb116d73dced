"""Keys that scheduler-side objects hold on behalf of no client: futures stored in Variables and Queues.

A future stored in a :class:`~shoal.distributed.Variable` or put in a
:class:`~shoal.distributed.Queue` must keep its result in memory after the
client that made it drops it, as in Dask. The scheduler state keeps a key
while some client wants it, so each variable or queue is a pseudo-client
(``variable-<name>``, ``queue-<name>``) that wants the keys it stores, the
way published datasets and ``fire_and_forget`` do. A queue may hold the same
key in several items: :class:`HeldKeys` counts holds per key and releases
the key only when its last item leaves. A client that takes a value out gets
its own claim on the keys first, so they never pass through a moment where
nobody wants them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from shoal.distributed.state.events import ClientLeft, GraphSubmitted, KeysReleased

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["HeldKeys"]

#: Seconds to wait for the keys of a stored future to reach the scheduler: the graph that made them travels on
#: the client's stream, the ``variable_set`` / ``queue_put`` request on another comm.
_KEY_WAIT = 30.0


class HeldKeys:
    """Claims of pseudo-clients (``holder``) on keys, counted, applied to the scheduler state."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server
        #: holder -> key -> how many stored values of that holder refer to the key.
        self.counts: dict[str, Counter[Any]] = {}

    async def hold(self, holder: str, keys: list[Any]) -> None:
        """Make ``holder`` want ``keys`` (once more each); waits until the scheduler knows them."""
        if not keys:
            return
        tasks = self.server.state.tasks
        deadline = time.monotonic() + _KEY_WAIT
        while missing := [k for k in keys if k not in tasks]:
            if time.monotonic() > deadline:
                raise KeyError(f"Cannot store futures {missing[:5]} in {holder!r}: the scheduler does not know "
                               f"them (they were released or cancelled). Store a future that is still held.")
            await asyncio.sleep(0.005)
        self.counts.setdefault(holder, Counter()).update(keys)
        server = self.server
        server.handle(GraphSubmitted(holder, {}, {}, tuple(keys), {}, server._stimulus(f"{holder}-hold")))

    def release(self, holder: str, keys: list[Any]) -> None:
        """``holder`` stops wanting ``keys`` once each; a key goes when no stored value refers to it any more."""
        counts = self.counts.get(holder)
        if counts is None or not keys:
            return
        gone = []
        for key in keys:
            counts[key] -= 1
            if counts[key] <= 0:
                del counts[key]
                gone.append(key)
        if not counts:
            del self.counts[holder]
        if gone:
            server = self.server
            server.handle(KeysReleased(holder, tuple(gone), server._stimulus(f"{holder}-release")))

    def drop(self, holder: str) -> None:
        """``holder`` lets go of everything (a deleted variable)."""
        if self.counts.pop(holder, None) is not None:
            server = self.server
            server.handle(ClientLeft(holder, server._stimulus(f"{holder}-drop")))

    def give(self, client: str | None, keys: list[Any]) -> None:
        """``client`` (taking a stored value) wants ``keys`` from now on, before any holder lets them go."""
        server = self.server
        if keys and client is not None and client in server.client_streams:
            server.handle(GraphSubmitted(client, {}, {}, tuple(keys), {}, server._stimulus("stored-future-get")))

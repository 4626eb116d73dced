"""Named coordination primitives kept by the scheduler: locks, events, variables, queues, pub/sub.

Clients and tasks reach them by name through request/response calls; a call
that must wait (``lock_acquire``, ``event_wait``, ``queue_get``) holds its
comm open until it can answer or its timeout passes. Values are pickled by
the caller and stay opaque bytes here: the scheduler never imports user
classes.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from typing import Any

__all__ = ["Coordination"]


class Coordination:
    """The state of every named primitive, and the RPC handlers that use it."""

    def __init__(self) -> None:
        #: Lock name -> id of the holder.
        self.lock_holders: dict[str, str] = {}
        self.lock_waiters: dict[str, deque[tuple[str, asyncio.Future[None]]]] = defaultdict(deque)
        self.events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.variables: dict[str, bytes] = {}
        self.variable_changed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.queues: dict[str, asyncio.Queue[bytes]] = {}
        #: Topic name -> subscriber id -> that subscriber's undelivered messages.
        self.subscribers: dict[str, dict[str, asyncio.Queue[bytes]]] = defaultdict(dict)

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # ------------------------------------------------------------------ locks

    async def rpc_lock_acquire(self, name: str, id: str, timeout: float | None = None) -> bool:
        if name not in self.lock_holders:
            self.lock_holders[name] = id
            return True
        if timeout is not None and timeout <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (id, waiter)
        self.lock_waiters[name].append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except TimeoutError:
            if waiter.done():  # granted just as the timeout fired
                return True
            self.lock_waiters[name].remove(entry)
            return False

    def rpc_lock_release(self, name: str, id: str) -> bool:
        if self.lock_holders.get(name) != id:
            raise ValueError(f"Lock {name!r} is not held by this Lock object (held by "
                             f"{self.lock_holders.get(name)!r}); release it from the object that acquired it.")
        waiters = self.lock_waiters.get(name)
        while waiters:
            next_id, waiter = waiters.popleft()
            if not waiter.done():
                self.lock_holders[name] = next_id
                waiter.set_result(None)
                return True
        del self.lock_holders[name]
        return True

    def rpc_lock_locked(self, name: str) -> bool:
        return name in self.lock_holders

    # ------------------------------------------------------------------ events

    def rpc_event_set(self, name: str) -> None:
        self.events[name].set()

    def rpc_event_clear(self, name: str) -> None:
        self.events[name].clear()

    def rpc_event_is_set(self, name: str) -> bool:
        return self.events[name].is_set()

    async def rpc_event_wait(self, name: str, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self.events[name].wait(), timeout)
            return True
        except TimeoutError:
            return False

    # ------------------------------------------------------------------ variables

    def rpc_variable_set(self, name: str, value: bytes) -> None:
        self.variables[name] = value
        self.variable_changed[name].set()

    async def rpc_variable_get(self, name: str, timeout: float | None = None) -> bytes:
        if name not in self.variables:
            try:
                await asyncio.wait_for(self.variable_changed[name].wait(), timeout)
            except TimeoutError:
                raise TimeoutError(f"Variable {name!r} was not set within {timeout}s.") from None
        return self.variables[name]

    def rpc_variable_delete(self, name: str) -> None:
        self.variables.pop(name, None)
        self.variable_changed.pop(name, None)

    # ------------------------------------------------------------------ queues

    def _queue(self, name: str, maxsize: int = 0) -> asyncio.Queue[bytes]:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = asyncio.Queue(maxsize)
        return q

    def rpc_queue_create(self, name: str, maxsize: int = 0) -> None:
        self._queue(name, maxsize)

    async def rpc_queue_put(self, name: str, value: bytes, timeout: float | None = None) -> None:
        try:
            await asyncio.wait_for(self._queue(name).put(value), timeout)
        except TimeoutError:
            raise TimeoutError(f"Queue {name!r} stayed full for {timeout}s.") from None

    async def rpc_queue_get(self, name: str, timeout: float | None = None, batch: int | bool = False) -> Any:
        q = self._queue(name)
        if batch:
            count = q.qsize() if batch is True else int(batch)
            return [await asyncio.wait_for(q.get(), timeout) for _ in range(count)]
        try:
            return await asyncio.wait_for(q.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"Queue {name!r} stayed empty for {timeout}s.") from None

    def rpc_queue_qsize(self, name: str) -> int:
        return self._queue(name).qsize()

    # ------------------------------------------------------------------ publish / subscribe

    def rpc_pubsub_subscribe(self, name: str, id: str) -> None:
        self.subscribers[name].setdefault(id, asyncio.Queue())

    def rpc_pubsub_unsubscribe(self, name: str, id: str) -> None:
        subs = self.subscribers.get(name)
        if subs is not None:
            subs.pop(id, None)
            if not subs:
                del self.subscribers[name]

    def rpc_pubsub_put(self, name: str, value: bytes) -> int:
        """Deliver to every current subscriber; return how many got it (messages are not kept for later ones)."""
        subs = self.subscribers.get(name, {})
        for q in subs.values():
            q.put_nowait(value)
        return len(subs)

    def rpc_pubsub_count(self, name: str) -> int:
        return len(self.subscribers.get(name, {}))

    async def rpc_pubsub_get(self, name: str, id: str, timeout: float | None = None) -> bytes:
        q = self.subscribers.get(name, {}).get(id)
        if q is None:
            raise ValueError(f"Sub {id!r} is not subscribed to {name!r} (it was closed).")
        try:
            return await asyncio.wait_for(q.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"No message on {name!r} within {timeout}s.") from None

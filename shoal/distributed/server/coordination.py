"""Named coordination primitives kept by the scheduler: locks, events, variables, queues, pub/sub.

Clients and tasks reach them by name through request/response calls; a call
that must wait (``lock_acquire``, ``event_wait``, ``queue_get``) holds its
comm open until it can answer or its timeout passes. Values are pickled by
the caller and stay opaque bytes here: the scheduler never imports user
classes.

Locks and semaphore leases belong to the client that took them (``client=``
on the request): when that client disconnects, :meth:`Coordination.client_left`
releases what it held and drops its waiting requests, so a crashed client
or a killed worker never blocks the others for good.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from typing import Any

__all__ = ["Coordination"]


async def _wait_turn(queue: deque[tuple[str, str | None, asyncio.Future[None]]], holder: str, client: str | None,
                     timeout: float | None) -> bool:
    """Queue ``holder`` (of ``client``) for a lock or lease and wait until it is granted or ``timeout`` passes."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    entry = (holder, client, waiter)
    queue.append(entry)
    try:
        await asyncio.wait_for(asyncio.shield(waiter), timeout)
        return True
    except TimeoutError:
        if waiter.done():  # granted just as the timeout fired
            return True
        queue.remove(entry)
        return False


class Coordination:
    """The state of every named primitive, and the RPC handlers that use it."""

    def __init__(self) -> None:
        #: Lock name -> id of the holder.
        self.lock_holders: dict[str, str] = {}
        #: Lock name -> the client that holds it (None: a caller that did not say).
        self.lock_clients: dict[str, str | None] = {}
        #: Lock name -> (Lock id, client, future resolved when granted), first come first served.
        self.lock_waiters: dict[str, deque[tuple[str, str | None, asyncio.Future[None]]]] = defaultdict(deque)
        self.semaphores: dict[str, _Semaphore] = {}
        self.events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.variables: dict[str, bytes] = {}
        self.variable_changed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.queues: dict[str, asyncio.Queue[bytes]] = {}
        #: Topic name -> subscriber id -> that subscriber's undelivered messages.
        self.subscribers: dict[str, dict[str, asyncio.Queue[bytes]]] = defaultdict(dict)

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # ------------------------------------------------------------------ locks

    async def rpc_lock_acquire(self, name: str, id: str, timeout: float | None = None,
                               client: str | None = None) -> bool:
        if name not in self.lock_holders:
            self.lock_holders[name] = id
            self.lock_clients[name] = client
            return True
        if timeout is not None and timeout <= 0:
            return False
        return await _wait_turn(self.lock_waiters[name], id, client, timeout)

    def rpc_lock_release(self, name: str, id: str) -> bool:
        if self.lock_holders.get(name) != id:
            raise ValueError(f"Lock {name!r} is not held by this Lock object (held by "
                             f"{self.lock_holders.get(name)!r}); release it from the object that acquired it.")
        self._grant_lock(name)
        return True

    def _grant_lock(self, name: str) -> None:
        """The holder of ``name`` let go: hand the lock to the first live waiter, or free it."""
        waiters = self.lock_waiters.get(name)
        while waiters:
            next_id, client, waiter = waiters.popleft()
            if not waiter.done():
                self.lock_holders[name] = next_id
                self.lock_clients[name] = client
                waiter.set_result(None)
                return
        self.lock_holders.pop(name, None)
        self.lock_clients.pop(name, None)
        self.lock_waiters.pop(name, None)

    def rpc_lock_locked(self, name: str) -> bool:
        return name in self.lock_holders

    # ------------------------------------------------------------------ semaphores

    def rpc_semaphore_create(self, name: str, max_leases: int) -> None:
        sem = self.semaphores.get(name)
        if sem is None:
            self.semaphores[name] = _Semaphore(max_leases)
        elif sem.max_leases != max_leases:
            raise ValueError(f"Semaphore {name!r} exists with max_leases={sem.max_leases}, not {max_leases}; use "
                             f"the same max_leases everywhere, or another name.")

    def _semaphore(self, name: str) -> _Semaphore:
        sem = self.semaphores.get(name)
        if sem is None:
            raise ValueError(f"Semaphore {name!r} does not exist (it was closed); create Semaphore(name={name!r}) "
                             f"again.")
        return sem

    async def rpc_semaphore_acquire(self, name: str, lease: str, timeout: float | None = None,
                                    client: str | None = None) -> bool:
        sem = self._semaphore(name)
        if len(sem.leases) < sem.max_leases and not sem.waiters:
            sem.leases[lease] = client
            return True
        if timeout is not None and timeout <= 0:
            return False
        return await _wait_turn(sem.waiters, lease, client, timeout)

    def rpc_semaphore_release(self, name: str, lease: str) -> None:
        sem = self._semaphore(name)
        if lease not in sem.leases:
            raise RuntimeError(f"Semaphore {name!r}: lease {lease!r} is not held (released twice, or released "
                               f"after its client disconnected).")
        del sem.leases[lease]
        sem.grant()

    def rpc_semaphore_value(self, name: str) -> int:
        return len(self._semaphore(name).leases)

    def rpc_semaphore_close(self, name: str) -> None:
        sem = self.semaphores.pop(name, None)
        if sem is not None:
            for _, _, waiter in sem.waiters:
                if not waiter.done():
                    waiter.cancel()

    # ------------------------------------------------------------------ clients leaving

    def client_left(self, client: str) -> None:
        """Release the locks and semaphore leases ``client`` held, and drop its waiting requests."""
        for waiters in list(self.lock_waiters.values()):
            for entry in [e for e in waiters if e[1] == client]:
                waiters.remove(entry)
                entry[2].set_exception(_ClientGone(client))
        for name in [n for n, c in self.lock_clients.items() if c == client]:
            self._grant_lock(name)
        for sem in self.semaphores.values():
            for entry in [e for e in sem.waiters if e[1] == client]:
                sem.waiters.remove(entry)
                entry[2].set_exception(_ClientGone(client))
            gone = [lease for lease, c in sem.leases.items() if c == client]
            for lease in gone:
                del sem.leases[lease]
            if gone:
                sem.grant()

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


class _ClientGone(RuntimeError):
    """Ends a wait whose client disconnected (nobody reads the answer)."""


class _Semaphore:
    """One named semaphore: up to ``max_leases`` leases held at once, waiters served in order."""

    def __init__(self, max_leases: int) -> None:
        if max_leases < 1:
            raise ValueError(f"Semaphore needs max_leases >= 1, got {max_leases}.")
        self.max_leases = max_leases
        #: Lease id -> the client holding it.
        self.leases: dict[str, str | None] = {}
        #: (lease id, client, future resolved when granted).
        self.waiters: deque[tuple[str, str | None, asyncio.Future[None]]] = deque()

    def grant(self) -> None:
        while self.waiters and len(self.leases) < self.max_leases:
            lease, client, waiter = self.waiters.popleft()
            if not waiter.done():
                self.leases[lease] = client
                waiter.set_result(None)

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

Semaphore leases also expire, as in Dask: the :class:`~shoal.distributed.Semaphore`
object holding a lease refreshes it (``semaphore_refresh_leases``) every fifth of
``distributed.scheduler.locks.lease-validation-interval``, and every such interval
the scheduler releases the leases not refreshed for longer than
``distributed.scheduler.locks.lease-timeout`` (read when the semaphore is created),
logging a warning that names the semaphore and the holder. So a holder that hangs
(a task stuck holding the GIL, a SIGSTOPped worker process) or an object whose
refresher stopped no longer blocks the others forever while its client stays
connected. A lease that expired and is then released counts as released: the
release returns False instead of raising.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

from shoal import config
from shoal.utils import parse_timedelta

__all__ = ["Coordination"]

logger = logging.getLogger("shoal.distributed.scheduler")

#: Ids of expired leases remembered per semaphore, so that their late release is recognised, not refused.
_EXPIRED_KEPT = 10_000


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

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        #: Seconds for lease bookkeeping; tests pass a fake clock to :meth:`expire_leases`.
        self.clock = clock
        #: The task that expires stale semaphore leases; started with the first semaphore.
        self._lease_watch: asyncio.Task[None] | None = None
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

    def close(self) -> None:
        """Stop expiring leases (the scheduler is closing)."""
        if self._lease_watch is not None:
            self._lease_watch.cancel()
            self._lease_watch = None

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
            timeout = parse_timedelta(config.get("distributed.scheduler.locks.lease-timeout", "30s"))
            self.semaphores[name] = _Semaphore(max_leases, timeout or None)
            self._watch_leases()
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
                                    client: str | None = None, holder: str | None = None) -> bool:
        sem = self._semaphore(name)
        sem.holders[lease] = holder or f"client {client}"
        if len(sem.leases) < sem.max_leases and not sem.waiters:
            sem.take(lease, client, self.clock())
            return True
        granted = False
        try:
            if timeout is None or timeout > 0:
                granted = await _wait_turn(sem.waiters, lease, client, timeout)
            return granted
        finally:
            if not granted:
                sem.holders.pop(lease, None)

    def rpc_semaphore_release(self, name: str, lease: str) -> bool:
        """Give ``lease`` back; False (and no error) when it had expired before."""
        sem = self._semaphore(name)
        if lease not in sem.leases:
            if lease in sem.expired:
                del sem.expired[lease]
                return False
            raise RuntimeError(f"Semaphore {name!r}: lease {lease!r} is not held (released twice, or released "
                               f"after its client disconnected).")
        sem.drop(lease)
        sem.grant(self.clock())
        return True

    def rpc_semaphore_refresh_leases(self, name: str, leases: list[str]) -> list[str]:
        """Mark ``leases`` as alive now; return those the scheduler no longer holds (expired or released)."""
        sem = self.semaphores.get(name)
        if sem is None:
            return list(leases)
        now = self.clock()
        unknown = []
        for lease in leases:
            if lease in sem.leases:
                sem.last_seen[lease] = now
            else:
                unknown.append(lease)
        return unknown

    def rpc_semaphore_value(self, name: str) -> int:
        return len(self._semaphore(name).leases)

    def rpc_semaphore_close(self, name: str) -> None:
        sem = self.semaphores.pop(name, None)
        if sem is not None:
            for _, _, waiter in sem.waiters:
                if not waiter.done():
                    waiter.cancel()

    def expire_leases(self, now: float | None = None) -> list[tuple[str, str]]:
        """Release every lease not refreshed within its semaphore's lease timeout; ``[(semaphore, lease)]`` freed."""
        now = self.clock() if now is None else now
        freed = []
        for name, sem in self.semaphores.items():
            if sem.lease_timeout is None:
                continue
            stale = [lease for lease, seen in sem.last_seen.items() if now - seen > sem.lease_timeout]
            for lease in stale:
                logger.warning("Semaphore %r: releasing lease %s of %s: not refreshed for %.2fs, longer than "
                               "distributed.scheduler.locks.lease-timeout (%gs). The holder hung or stopped "
                               "refreshing; it no longer counts against max_leases=%d.", name, lease,
                               sem.holders.get(lease, "an unknown holder"), now - sem.last_seen[lease],
                               sem.lease_timeout, sem.max_leases)
                sem.drop(lease)
                sem.expired[lease] = None
                if len(sem.expired) > _EXPIRED_KEPT:
                    sem.expired.popitem(last=False)
                freed.append((name, lease))
            if stale:
                sem.grant(now)
        return freed

    def _watch_leases(self) -> None:
        """Start the periodic expiry of stale leases, once (it needs the running loop)."""
        if self._lease_watch is None:
            interval = parse_timedelta(config.get("distributed.scheduler.locks.lease-validation-interval", "10s"))
            self._lease_watch = asyncio.get_running_loop().create_task(self._expire_every(interval or 10.0))

    async def _expire_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.expire_leases()
            except Exception:  # noqa: BLE001 - the watch must outlive a bug in one pass
                logger.exception("expiring semaphore leases failed")

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
                sem.drop(lease)
            if gone:
                sem.grant(self.clock())

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

    def __init__(self, max_leases: int, lease_timeout: float | None = None) -> None:
        if max_leases < 1:
            raise ValueError(f"Semaphore needs max_leases >= 1, got {max_leases}.")
        self.max_leases = max_leases
        #: Seconds a lease lives without a refresh (None: forever).
        self.lease_timeout = lease_timeout
        #: Lease id -> the client holding it.
        self.leases: dict[str, str | None] = {}
        #: Lease id -> clock time of its grant or last refresh; same keys as ``leases``.
        self.last_seen: dict[str, float] = {}
        #: Lease id -> who asked for it, for log messages ("task 'x' on worker tcp://...", "client Client-...");
        #: kept from the request until the lease is given back.
        self.holders: dict[str, str] = {}
        #: Ids of leases released by expiry, oldest first (an ordered set, at most ``_EXPIRED_KEPT``).
        self.expired: OrderedDict[str, None] = OrderedDict()
        #: (lease id, client, future resolved when granted).
        self.waiters: deque[tuple[str, str | None, asyncio.Future[None]]] = deque()

    def take(self, lease: str, client: str | None, now: float) -> None:
        self.leases[lease] = client
        self.last_seen[lease] = now

    def drop(self, lease: str) -> None:
        del self.leases[lease]
        self.last_seen.pop(lease, None)
        self.holders.pop(lease, None)

    def grant(self, now: float) -> None:
        while self.waiters and len(self.leases) < self.max_leases:
            lease, client, waiter = self.waiters.popleft()
            if not waiter.done():
                self.take(lease, client, now)
                waiter.set_result(None)

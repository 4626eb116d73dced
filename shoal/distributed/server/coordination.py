"""Named coordination primitives kept by the scheduler: semaphores (and so locks), events, variables, queues,
pub/sub.

Clients and tasks reach them by name through request/response calls; a call
that must wait (``semaphore_acquire``, ``event_wait``, ``queue_get``) holds its
comm open until it can answer or its timeout passes. Values are pickled by
the caller and stay opaque bytes here: the scheduler never imports user
classes. The futures inside a variable's or a queue's value travel as their
keys, which the scheduler keeps in memory while stored (see :mod:`.held_keys`).
A :class:`~shoal.distributed.Lock` is a semaphore with one lease (created
with ``kind="lock"``, which only changes the log messages), as in Dask.

Semaphore leases belong to the client that took them (``client=`` on the
request): when that client disconnects, :meth:`Coordination.client_left`
releases what it held and drops its waiting requests, so a crashed client
or a killed worker never blocks the others for good.

Leases also expire, as in Dask: the object holding a lease refreshes it
(``semaphore_refresh_leases``) every fifth of the lease timeout (or of
``distributed.scheduler.locks.lease-validation-interval``, when shorter), and
every validation interval the scheduler releases the leases not refreshed for
longer than ``distributed.scheduler.locks.lease-timeout`` (read when the
semaphore is created, and returned to the creator so that its refresher keeps
pace), logging a warning that names the semaphore or lock and the holder. So a
holder whose connection outlives it (a lost host or network, a socket another
process still holds), that hangs (a task stuck holding the GIL, a SIGSTOPped
process) or whose refresher stopped no longer blocks the others forever. A
lease that expired and is then released counts as released: the release
returns False instead of raising. A timeout of 0, null or ``"inf"`` turns
expiry off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shoal import config
from shoal.utils import parse_timedelta

if TYPE_CHECKING:
    from shoal.distributed.server.held_keys import HeldKeys

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
        #: Semaphores (locks included) by name.
        self.semaphores: dict[str, _Semaphore] = {}
        self.events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        #: Variable name -> (pickled value, keys of the futures in it).
        self.variables: dict[str, tuple[bytes, list[Any]]] = {}
        self.variable_changed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        #: Queue name -> items (pickled value, keys of the futures in it).
        self.queues: dict[str, asyncio.Queue[tuple[bytes, list[Any]]]] = {}
        #: Notified after every put, for ``get(batch=n)`` waiting until ``n`` items are there at once.
        self.queue_filled: dict[str, asyncio.Condition] = {}
        #: Keeps the futures stored in variables and queues in memory; set by the scheduler (None in tests of
        #: this class alone, where values hold no futures).
        self.held: HeldKeys | None = None
        #: Topic name -> subscriber id -> that subscriber's undelivered messages.
        self.subscribers: dict[str, dict[str, asyncio.Queue[bytes]]] = defaultdict(dict)

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    def close(self) -> None:
        """Stop expiring leases (the scheduler is closing)."""
        if self._lease_watch is not None:
            self._lease_watch.cancel()
            self._lease_watch = None

    # ------------------------------------------------------------------ semaphores

    def rpc_semaphore_create(self, name: str, max_leases: int, kind: str = "semaphore") -> float | None:
        """Create the semaphore ``name`` unless it exists; return its lease timeout (None: leases never expire)."""
        sem = self.semaphores.get(name)
        if sem is None:
            sem = self.semaphores[name] = _Semaphore(max_leases, _lease_timeout(), kind=kind.capitalize())
            self._watch_leases()
        elif sem.max_leases != max_leases:
            raise ValueError(f"{sem.kind} {name!r} exists with max_leases={sem.max_leases}, not {max_leases}; use "
                             f"the same max_leases everywhere, or another name (a Lock is a Semaphore with "
                             f"max_leases=1 and shares their names).")
        return sem.lease_timeout

    def _semaphore(self, name: str) -> _Semaphore:
        sem = self.semaphores.get(name)
        if sem is None:
            raise ValueError(f"Semaphore or Lock {name!r} does not exist (it was closed); create it again "
                             f"(Semaphore(name={name!r}) or Lock({name!r})).")
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
            raise RuntimeError(f"{sem.kind} {name!r}: lease {lease!r} is not held (released twice, or released "
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
                logger.warning("%s %r: releasing lease %s of %s: not refreshed for %.2fs, longer than "
                               "distributed.scheduler.locks.lease-timeout (%gs). The holder died without "
                               "disconnecting, hung or stopped refreshing; it no longer counts against "
                               "max_leases=%d. Raise the timeout if holders can be busy that long.", sem.kind, name,
                               lease, sem.holders.get(lease, "an unknown holder"), now - sem.last_seen[lease],
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
        """Release the semaphore leases (and so locks) ``client`` held, and drop its waiting requests."""
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

    async def rpc_variable_set(self, name: str, value: bytes, keys: list[Any] | None = None) -> None:
        """Store ``value``; ``keys`` are the futures in it, held in memory while the variable holds them."""
        keys = list(keys or [])
        holder = f"variable-{name}"
        if self.held is not None:
            await self.held.hold(holder, keys)  # the new keys first: a key in both values is never let go
        old = self.variables.get(name)
        self.variables[name] = (value, keys)
        if old is not None and self.held is not None:
            self.held.release(holder, old[1])
        self.variable_changed[name].set()

    async def rpc_variable_get(self, name: str, timeout: float | None = None,
                               client: str | None = None) -> tuple[bytes, list[Any]]:
        if name not in self.variables:
            try:
                await asyncio.wait_for(self.variable_changed[name].wait(), timeout)
            except TimeoutError:
                raise TimeoutError(f"Variable {name!r} was not set within {timeout}s.") from None
        value, keys = self.variables[name]
        if self.held is not None:
            self.held.give(client, keys)
        return value, keys

    def rpc_variable_delete(self, name: str) -> None:
        self.variables.pop(name, None)
        self.variable_changed.pop(name, None)
        if self.held is not None:
            self.held.drop(f"variable-{name}")

    # ------------------------------------------------------------------ queues

    def _queue(self, name: str, maxsize: int = 0) -> asyncio.Queue[tuple[bytes, list[Any]]]:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = asyncio.Queue(maxsize)
        return q

    def rpc_queue_create(self, name: str, maxsize: int = 0) -> None:
        self._queue(name, maxsize)

    async def rpc_queue_put(self, name: str, value: bytes, timeout: float | None = None,
                            keys: list[Any] | None = None) -> None:
        """Append ``value``; ``keys`` are the futures in it, held in memory until a ``get`` takes it."""
        keys = list(keys or [])
        if self.held is not None:
            await self.held.hold(f"queue-{name}", keys)
        try:
            await asyncio.wait_for(self._queue(name).put((value, keys)), timeout)
        except TimeoutError:
            if self.held is not None:
                self.held.release(f"queue-{name}", keys)
            raise TimeoutError(f"Queue {name!r} stayed full for {timeout}s.") from None
        filled = self.queue_filled.get(name)
        if filled is not None:
            async with filled:
                filled.notify_all()

    def _taken(self, name: str, item: tuple[bytes, list[Any]], client: str | None) -> tuple[bytes, list[Any]]:
        """``client`` took ``item`` out of queue ``name``: its futures are the client's from now on."""
        if self.held is not None and item[1]:
            self.held.give(client, item[1])
            self.held.release(f"queue-{name}", item[1])
        return item

    async def rpc_queue_get(self, name: str, timeout: float | None = None, batch: int | bool = False,
                            client: str | None = None) -> Any:
        q = self._queue(name)
        if batch:
            count = q.qsize() if batch is True else int(batch)
            if q.qsize() < count:
                # Wait until all ``count`` items are there, then take them at once: taking them one by one
                # would lose those already taken if the timeout fired before the last one came.
                filled = self.queue_filled.setdefault(name, asyncio.Condition())
                try:
                    async with filled:
                        await asyncio.wait_for(filled.wait_for(lambda: q.qsize() >= count), timeout)
                except TimeoutError:
                    raise TimeoutError(f"Queue {name!r} did not hold {count} items within {timeout}s "
                                       f"(it holds {q.qsize()}); nothing was taken.") from None
            return [self._taken(name, q.get_nowait(), client) for _ in range(count)]
        try:
            return self._taken(name, await asyncio.wait_for(q.get(), timeout), client)
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


def _lease_timeout() -> float | None:
    """``distributed.scheduler.locks.lease-timeout`` in seconds; None when leases never expire (0, null, inf)."""
    value = config.get("distributed.scheduler.locks.lease-timeout", "30s")
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinity", "none", "null"):
        return None
    seconds = parse_timedelta(value)
    return seconds if seconds and seconds != float("inf") else None


class _ClientGone(RuntimeError):
    """Ends a wait whose client disconnected (nobody reads the answer)."""


class _Semaphore:
    """One named semaphore: up to ``max_leases`` leases held at once, waiters served in order."""

    def __init__(self, max_leases: int, lease_timeout: float | None = None, kind: str = "Semaphore") -> None:
        if max_leases < 1:
            raise ValueError(f"Semaphore needs max_leases >= 1, got {max_leases}.")
        self.max_leases = max_leases
        #: "Semaphore" or "Lock", for messages.
        self.kind = kind
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

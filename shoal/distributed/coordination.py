"""Lock, Semaphore, Event, Variable, Queue, Pub and Sub: named, shared through the scheduler.

Every client and task that names the same primitive shares it, as with
Dask's ``distributed.Lock`` and friends. Inside tasks they use the worker's
client (:func:`~shoal.distributed.get_client`); a Lock or Semaphore passed to
a task arrives there by name. Values put in a Variable or Queue must be
picklable; Futures in them (alone or inside lists, dicts, ...) are stored as
their keys, and the scheduler keeps those results in memory while the
variable or queue holds them, as Dask does; ``get`` returns futures of the
caller's client.

A :class:`Lock` is a :class:`Semaphore` with one lease, as in Dask. A lease
belongs to the client that took it: when that client disconnects (closed,
crashed, or its worker died), the scheduler releases it at once. A lease is
also released when the object holding it stops refreshing it for
``distributed.scheduler.locks.lease-timeout``: a holder that died without its
connection closing (a lost host or network, a socket another process still
holds open) or that hung (a stopped process) no longer blocks the others for
good; see :class:`Semaphore`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any

from shoal import config
from shoal.distributed._loop import run_sync
from shoal.distributed.client_datasets import _dumps, _loads
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.server.worker import current_key, current_worker
from shoal.utils import parse_timedelta

__all__ = ["Event", "Lock", "Pub", "Queue", "Semaphore", "Sub", "Variable"]

logger = logging.getLogger("shoal.distributed.semaphore")


class _Named:
    def __init__(self, name: str | None, client: Any, kind: str) -> None:
        if client is None:
            from shoal.distributed.worker_api import get_client

            client = get_client()
        self.client = client
        self.name = name or f"{kind}-{uuid.uuid4().hex}"

    def _call(self, op: str, **kwargs: Any) -> Any:
        coro = self.client._scheduler_call(op, name=self.name, **kwargs)
        return coro if self.client.asynchronous else run_sync(coro, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name}>"


class AcquireContext:
    """``with obj:`` and ``async with obj:`` for objects with ``acquire()`` and ``release()`` (which return
    awaitables on an asynchronous client)."""

    def __enter__(self) -> Any:
        self.acquire()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()  # type: ignore[attr-defined]

    async def __aenter__(self) -> Any:
        await self.acquire()  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()  # type: ignore[attr-defined]


class Semaphore(AcquireContext, _Named):
    """A cluster-wide semaphore: at most ``max_leases`` holders at once.

    Each :meth:`acquire` takes one lease; :meth:`release` gives back the
    oldest lease this object holds. Leases of a client that disconnects are
    released by the scheduler. Every Semaphore of the same ``name`` must
    use the same ``max_leases``.

    As in Dask, leases expire: while this object holds leases it refreshes
    them on its client's event loop every fifth of the scheduler's
    ``distributed.scheduler.locks.lease-timeout`` (30s by default; the
    scheduler tells the object its value) or of
    ``distributed.scheduler.locks.lease-validation-interval`` (10s), whichever
    is shorter, and the scheduler releases, with a warning naming the
    semaphore and the holder, any lease not refreshed for the lease timeout.
    A holder whose process dies without its connection closing, hangs or is
    stopped therefore loses its lease even though its connection stays open.
    Releasing a lease that expired returns False.
    A task that holds the GIL for longer than the timeout (a long call into
    a C extension that does not release it) starves the refresher of its
    process: raise the timeout for such work.

    Parameters
    ----------
    max_leases : int
        Leases that may be held at once.
    name : str, optional
        Shared name; a fresh unique one by default.

    Examples
    --------
    >>> from shoal.distributed import Client, Semaphore
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     sem = Semaphore(max_leases=2, name="database", client=client)
    ...     with sem:
    ...         sem.get_value()
    ...     sem.acquire(timeout=1), sem.acquire(timeout=1), sem.acquire(timeout=0.1)
    1
    (True, True, False)
    """

    #: Prefix of a generated name, and the kind named in the scheduler's log messages.
    _kind = "semaphore"

    def __init__(self, max_leases: int = 1, name: str | None = None, client: Any = None) -> None:
        if not isinstance(max_leases, int) or max_leases < 1:
            raise ValueError(f"Semaphore(max_leases={max_leases!r}): max_leases must be an int >= 1.")
        super().__init__(name, client, self._kind)
        self.max_leases = max_leases
        #: The scheduler's lease timeout in seconds (None: leases never expire), learnt on creation: the
        #: refresher runs well within it whatever this process's own config says.
        self._lease_timeout: float | None = None
        #: Leases this object holds, oldest first.
        self._leases: list[str] = []
        #: Of those, the ones the scheduler said it no longer holds (expired): not refreshed again.
        self._expired: set[str] = set()
        #: Guards ``_leases`` and ``_refreshing`` between user threads and the refresher on the client's loop.
        self._lock = threading.Lock()
        #: Whether a refresher task runs for this object; it ends once no lease is held.
        self._refreshing = False
        self._created = False
        if not self.client.asynchronous:  # asynchronous clients create it on the first acquire
            self._created_with(self._call("semaphore_create", max_leases=max_leases, kind=self._kind))

    def _created_with(self, lease_timeout: float | None) -> None:
        self._lease_timeout = lease_timeout
        self._created = True

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a lease, waiting up to ``timeout`` seconds (forever when None); return whether it was granted."""
        lease = uuid.uuid4().hex
        if self.client.asynchronous:
            return self._acquire_async(lease, timeout)  # type: ignore[return-value]
        got = self._call("semaphore_acquire", lease=lease, timeout=timeout, client=self.client.id,
                         holder=_holder(self.client))
        if got:
            self._hold(lease)
        return bool(got)

    async def _acquire_async(self, lease: str, timeout: float | None) -> bool:
        if not self._created:
            self._created_with(await self._call("semaphore_create", max_leases=self.max_leases, kind=self._kind))
        got = await self._call("semaphore_acquire", lease=lease, timeout=timeout, client=self.client.id,
                               holder=_holder(self.client))
        if got:
            self._hold(lease)
        return bool(got)

    def _hold(self, lease: str) -> None:
        """Record a granted lease and make sure a refresher keeps it alive."""
        with self._lock:
            self._leases.append(lease)
            if self._refreshing:
                return
            self._refreshing = True
        loop = self.client._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._refresher = loop.create_task(self._refresh_forever())
        else:
            self._refresher = asyncio.run_coroutine_threadsafe(self._refresh_forever(), loop)

    async def _refresh_forever(self) -> None:
        """Refresh this object's leases until it holds none (or its client closes)."""
        interval = parse_timedelta(config.get("distributed.scheduler.locks.lease-validation-interval", "10s")) / 5
        if self._lease_timeout:
            interval = min(interval, self._lease_timeout / 5)  # five chances to refresh before the timeout
        try:
            while True:
                await asyncio.sleep(interval)
                with self._lock:
                    if not self._leases or self.client.status != "running":
                        self._refreshing = False
                        return
                try:
                    await self._refresh_leases()
                except Exception as exc:  # noqa: BLE001 - a missed refresh is retried; the timeout is the limit
                    logger.warning("%s %r: could not refresh its leases: %s", type(self).__name__, self.name, exc)
        finally:
            self._refreshing = False

    async def _refresh_leases(self) -> None:
        with self._lock:
            leases = [lease for lease in self._leases if lease not in self._expired]
        if not leases:
            return
        lost = await self.client._scheduler_call("semaphore_refresh_leases", name=self.name, leases=leases)
        with self._lock:
            for lease in lost:
                if lease in self._leases and lease not in self._expired:
                    self._expired.add(lease)
                    logger.warning("%s %r: the scheduler released lease %s of this object after "
                                   "distributed.scheduler.locks.lease-timeout without a refresh; another holder may "
                                   "have it now.", type(self).__name__, self.name, lease)

    def release(self) -> Any:
        """Give back the oldest lease this object holds; True, or False when the scheduler had expired it."""
        with self._lock:
            if not self._leases:
                raise RuntimeError(f"Semaphore {self.name!r}: release() without a lease held by this object; "
                                   f"acquire() first.")
            lease = self._leases.pop(0)
            self._expired.discard(lease)
        return self._call("semaphore_release", lease=lease)

    def get_value(self) -> int:
        """How many leases are held now, by anyone."""
        return self._call("semaphore_value")  # type: ignore[no-any-return]

    def close(self) -> Any:
        """Remove the semaphore from the scheduler; waiting acquires fail."""
        return self._call("semaphore_close")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Semaphore, (self.max_leases, self.name))


class _NotHeldError(RuntimeError, ValueError):
    """Releasing a lock this object does not hold: a RuntimeError as in Dask, and a ValueError as shoal's
    earlier Lock raised."""


class Lock(Semaphore):
    """A cluster-wide lock: a :class:`Semaphore` with one lease, as Dask's ``distributed.Lock``.

    Every Lock of the same ``name`` shares one lock (and one name space with
    semaphores). It is not reentrant: acquiring it again, even through the
    same object, waits for the release. The lock belongs to the Lock object
    that acquired it; releasing it through another object is an error.

    The holder keeps its lease alive as a :class:`Semaphore` does, so a lock
    whose holder dies or hangs is released: at once when its client's
    connection closes (a killed process), otherwise after
    ``distributed.scheduler.locks.lease-timeout`` without a refresh (a lost
    host or network, a stopped process). Then another waiter acquires it, and
    the late holder's :meth:`release` returns False. As in Dask, a holder that
    is alive but cannot refresh within the timeout (its process holding the
    GIL for longer) loses the lock while it still works under it: raise the
    timeout for such work, or set it to 0 or ``"inf"`` for leases that never
    expire (a lock whose holder vanished without disconnecting then stays
    taken).

    Parameters
    ----------
    name : str, optional
        Shared name; a fresh unique one by default.
    client : Client, optional
        The client to use; inside a task, the worker's client.

    Examples
    --------
    >>> from shoal.distributed import Client, Lock
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     lock = Lock("resource", client=client)
    ...     with lock:
    ...         lock.locked(), Lock("resource", client=client).acquire(blocking=False)
    ...     lock.locked()
    (True, False)
    False
    """

    _kind = "lock"

    def __init__(self, name: str | None = None, client: Any = None) -> None:
        super().__init__(1, name, client)
        self.id = uuid.uuid4().hex

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> Any:  # type: ignore[override]
        """Take the lock; False when ``timeout`` seconds (forever when None or -1) pass first.

        With ``blocking=False``, return at once.

        Raises
        ------
        ValueError
            ``timeout`` given with ``blocking=False``, as ``threading.Lock`` and Dask raise.
        """
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify a timeout for a non-blocking call")
            timeout = 0
        elif timeout == -1:
            timeout = None
        return super().acquire(timeout=timeout)

    def release(self) -> Any:
        """Let go of the lock; True, or False when the scheduler had released it (lease timeout) meanwhile.

        Raises
        ------
        RuntimeError
            This object does not hold the lock (also a ValueError).
        """
        if not self._leases:
            raise _NotHeldError(f"Lock {self.name!r} is not held by this Lock object: release it from the object "
                                f"that acquired it, once per acquire().")
        return super().release()

    def locked(self) -> Any:
        """Whether anyone holds the lock now."""
        got = self.get_value()
        if self.client.asynchronous:
            return _is_one(got)
        return got == 1

    def __reduce__(self) -> tuple[Any, ...]:
        return (Lock, (self.name,))


async def _is_one(value: Any) -> bool:
    return await value == 1


def _holder(client: Any) -> str:
    """Who takes a lease, for the scheduler's log: the task and worker when inside a task, else the client."""
    worker = current_worker()
    if worker is not None and current_key() is not None:
        return f"task {current_key()!r} on worker {worker.address}"
    return f"client {client.id}"


class Event(_Named):
    """A cluster-wide event flag, as ``threading.Event``."""

    def __init__(self, name: str | None = None, client: Any = None) -> None:
        super().__init__(name, client, "event")

    def set(self) -> None:
        self._call("event_set")

    def clear(self) -> None:
        self._call("event_clear")

    def is_set(self) -> bool:
        return self._call("event_is_set")  # type: ignore[no-any-return]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set; return False if ``timeout`` passed first."""
        return self._call("event_wait", timeout=timeout)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Event, (self.name,))  # a task gets the same event, by name, through its worker's client


class Variable(_Named):
    """A cluster-wide variable holding one picklable value (Futures included: their results stay in memory)."""

    def __init__(self, name: str | None = None, client: Any = None) -> None:
        super().__init__(name, client, "variable")

    def set(self, value: Any, **kwargs: Any) -> Any:
        """Store ``value``; a Future in it keeps its result in memory until the variable changes or is deleted."""
        data, keys = _dumps(value)
        return self._call("variable_set", value=data, keys=keys)

    def get(self, timeout: float | None = None, **kwargs: Any) -> Any:
        """The value; waits for a first ``set`` (``TimeoutError`` after ``timeout``)."""
        client = self.client

        async def go() -> Any:
            data, keys = await client._scheduler_call("variable_get", name=self.name, timeout=timeout,
                                                      client=client.id)
            return _loads(data, client) if keys else unpickle_value(data)

        return go() if client.asynchronous else run_sync(go(), None)

    def delete(self) -> Any:
        """Forget the value (releasing the futures it held)."""
        return self._call("variable_delete")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Variable, (self.name,))


class Queue(_Named):
    """A cluster-wide FIFO queue of picklable values (Futures included: their results stay in memory)."""

    def __init__(self, name: str | None = None, client: Any = None, maxsize: int = 0) -> None:
        super().__init__(name, client, "queue")
        self.maxsize = maxsize
        self._call("queue_create", maxsize=maxsize)

    def put(self, value: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Append ``value``; a Future in it keeps its result in memory until a ``get`` takes it."""
        data, keys = _dumps(value)
        return self._call("queue_put", value=data, timeout=timeout, keys=keys)

    def get(self, timeout: float | None = None, batch: bool | int = False, **kwargs: Any) -> Any:
        """The next value (a list of them with ``batch=True`` or ``batch=n``)."""
        client = self.client

        def load(item: Any) -> Any:
            data, keys = item
            return _loads(data, client) if keys else unpickle_value(data)

        async def go() -> Any:
            got = await client._scheduler_call("queue_get", name=self.name, timeout=timeout, batch=batch,
                                               client=client.id)
            return [load(item) for item in got] if batch else load(got)

        return go() if client.asynchronous else run_sync(go(), None)

    def qsize(self) -> int:
        return self._call("queue_qsize")  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Queue, (self.name, None, self.maxsize))


class Pub(_Named):
    """Publish picklable messages to every :class:`Sub` of the same name, through the scheduler.

    Messages reach the subscribers that exist when they are published.

    >>> from shoal.distributed import Client, Pub, Sub
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     sub = Sub("news", client=client)
    ...     Pub("news", client=client).put({"x": 1})
    ...     sub.get(timeout=5)
    {'x': 1}
    """

    def __init__(self, name: str | None = None, client: Any = None) -> None:
        super().__init__(name, client, "pubsub")

    def put(self, msg: Any) -> None:
        self._call("pubsub_put", value=pickle_value(msg))

    @property
    def subscribers(self) -> int:
        """How many subscribers the topic has now."""
        return self._call("pubsub_count")  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Pub, (self.name,))


class Sub(_Named):
    """Receive the messages a :class:`Pub` of the same name publishes after this Sub was made.

    Iterate over it, or call :meth:`get`; :meth:`close` unsubscribes.
    """

    def __init__(self, name: str | None = None, client: Any = None) -> None:
        super().__init__(name, client, "pubsub")
        self.id = uuid.uuid4().hex
        self._closed = False
        self._call("pubsub_subscribe", id=self.id)

    def get(self, timeout: float | None = None) -> Any:
        """The next message; ``TimeoutError`` when none arrives within ``timeout`` seconds."""
        return unpickle_value(self._call("pubsub_get", id=self.id, timeout=timeout))

    def __iter__(self) -> Sub:
        return self

    def __next__(self) -> Any:
        return self.get()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._call("pubsub_unsubscribe", id=self.id)

    def __del__(self) -> None:
        if not getattr(self, "_closed", True) and getattr(self.client, "status", "closed") == "running":
            try:
                if not self.client.asynchronous:
                    from shoal.distributed._loop import in_loop_thread

                    if not in_loop_thread():
                        self.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

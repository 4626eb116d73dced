"""MultiLock: take several named locks at once, fairly, through the scheduler (Dask's ``distributed.MultiLock``).

A :class:`MultiLock` names some locks; :meth:`MultiLock.acquire` waits until
it holds all of them (or ``num_locks`` of them), without holding some while
others wait in a way that could deadlock: the scheduler queues the request on
every named lock at once and grants it when it heads enough queues (see
:mod:`shoal.distributed.server.multi_lock`). Requests on a lock are served in
the order they arrived. These lock names are their own name space: a
MultiLock named ``"x"`` and a :class:`~shoal.distributed.Lock` named ``"x"``
are different locks, as in Dask.
"""

from __future__ import annotations

import uuid
from typing import Any

from shoal.distributed._loop import run_sync
from shoal.distributed.coordination import AcquireContext
from shoal.distributed.worker_api import get_client
from shoal.utils import parse_timedelta

__all__ = ["MultiLock"]


class MultiLock(AcquireContext):
    """Several cluster-wide locks acquired together.

    Parameters
    ----------
    names : list of str
        The locks to take.
    client : Client, optional
        The client to use; inside a task, the worker's client.

    Examples
    --------
    >>> from shoal.distributed import Client, MultiLock
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     both = MultiLock(names=["x", "y"], client=client)
    ...     with both:
    ...         MultiLock(names=["y", "z"], client=client).acquire(blocking=False)
    ...     both.locked()
    False
    False
    """

    def __init__(self, names: list[str] | None = None, client: Any = None) -> None:
        self.names = list(names or [])
        if not all(isinstance(n, str) for n in self.names):
            raise TypeError(f"MultiLock(names=...) takes a list of lock names (strings), got {names!r}.")
        self.client = client if client is not None else get_client()
        #: This object's request id at the scheduler (reused after each release).
        self.id = uuid.uuid4().hex
        self._locked = False

    def acquire(self, blocking: bool = True, timeout: Any = None, num_locks: int | None = None) -> Any:
        """Take ``num_locks`` of the named locks (all by default); return whether they were granted.

        Parameters
        ----------
        blocking : bool
            With False, return at once.
        timeout : float or str, optional
            Give up after this long (seconds or a string such as ``"2s"``); None waits forever.
        num_locks : int, optional
            How many of the names are enough (any of them, first come first served).

        Raises
        ------
        ValueError
            ``timeout`` with ``blocking=False``; no names; ``num_locks`` out of range.
        RuntimeError
            This object already holds its locks.
        """
        if not self.names:
            raise ValueError("MultiLock has no lock names to acquire: pass names=[...] when creating it.")
        if self._locked:
            raise RuntimeError(f"MultiLock {self.names} is already acquired by this object; release() it first.")
        seconds = parse_timedelta(timeout) if timeout is not None else None
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify a timeout for a non-blocking call")
            seconds = 0
        coro = self._acquire(seconds, num_locks)
        return coro if self.client.asynchronous else run_sync(coro, None)

    async def _acquire(self, timeout: float | None, num_locks: int | None) -> bool:
        got = await self.client._scheduler_call("multi_lock_acquire", locks=self.names, id=self.id, timeout=timeout,
                                                num_locks=num_locks, client=self.client.id)
        self._locked = bool(got)
        return self._locked

    def release(self) -> Any:
        """Release the locks this object holds.

        Raises
        ------
        ValueError
            This object holds no locks (as Dask's "Lock is not yet acquired").
        """
        if not self._locked:
            raise ValueError(f"MultiLock {self.names} is not acquired by this object: acquire() before release().")
        self._locked = False
        coro = self.client._scheduler_call("multi_lock_release", id=self.id)
        return coro if self.client.asynchronous else run_sync(coro, None)

    def locked(self) -> bool:
        """Whether this object holds its locks."""
        return self._locked

    def __repr__(self) -> str:
        return f"<MultiLock: names={self.names}, locked={self._locked}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (MultiLock, (self.names,))  # a task gets the same names, through its worker's client

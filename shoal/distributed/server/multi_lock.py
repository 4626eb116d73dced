"""The scheduler's side of :class:`~shoal.distributed.MultiLock`: several named locks taken together, fairly.

Model: every lock name has a FIFO queue of request ids; a request *holds* a
lock while it is at the head of that lock's queue. A request for ``locks``
with ``num_locks=n`` joins the back of every one of its queues at once and is
*granted* as soon as it holds ``n`` of them; it then leaves the queues of the
other locks (and gives back any it held beyond the first ``n``, in the order
it named them), so it never blocks a lock it does not need. Queues move only
when a holder releases, a waiter times out or a client disconnects; the head
that moves up is granted if it now holds enough.

Invariants (checked by :meth:`MultiLocks.validate`):

- a granted request is at the head of exactly the queues it is in, and holds
  ``num_locks`` of them;
- a waiting request is in the queue of every lock it named and holds fewer
  than ``num_locks``;
- no queue is empty (an unused lock has no queue).

Fairness follows from the queues: a request never overtakes an earlier one
on a lock both want, as in Dask's ``MultiLock``. Requests belong to the
client that made them: when it disconnects, its requests are withdrawn and
its locks released (:meth:`MultiLocks.client_left`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MultiLocks"]


@dataclass(slots=True)
class _Request:
    id: str
    #: The lock names this request is still queued on, in the order the caller gave them.
    names: list[str]
    #: How many of them it needs.
    needed: int
    #: The client that made it (None: unknown), for :meth:`MultiLocks.client_left`.
    client: str | None
    #: Resolved when the request is granted after waiting.
    waiter: asyncio.Future[None] | None = None
    granted: bool = False
    held: list[str] = field(default_factory=list)


class _ClientGone(RuntimeError):
    """Ends a wait whose client disconnected (nobody reads the answer)."""


class MultiLocks:
    """Every MultiLock request and lock queue; see the module docstring."""

    def __init__(self) -> None:
        #: Lock name -> ids of the requests queued on it; the head holds the lock. Never empty.
        self.queues: dict[str, deque[str]] = {}
        #: Request id -> request, granted or waiting.
        self.requests: dict[str, _Request] = {}

    def handlers(self) -> dict[str, Any]:
        return {"multi_lock_acquire": self.rpc_multi_lock_acquire, "multi_lock_release": self.rpc_multi_lock_release}

    # ------------------------------------------------------------------ requests

    async def rpc_multi_lock_acquire(self, locks: list[str], id: str, timeout: float | None = None,
                                     num_locks: int | None = None, client: str | None = None) -> bool:
        """Queue request ``id`` for ``num_locks`` of ``locks`` (all by default); True once granted, False when
        ``timeout`` seconds (forever when None) pass first."""
        request = self._enqueue(locks, id, num_locks, client)
        if request.granted:
            return True
        if timeout is not None and timeout <= 0:
            self._withdraw(request)
            return False
        request.waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(request.waiter), timeout)
        except TimeoutError:
            if request.granted:  # granted just as the timeout fired
                return True
            self._withdraw(request)
            return False
        except asyncio.CancelledError:  # the caller's connection closed: nobody will learn of a grant
            if request.id in self.requests:
                self._withdraw(request)
            raise
        return True

    def rpc_multi_lock_release(self, id: str) -> bool:
        """Release the locks request ``id`` holds."""
        request = self.requests.get(id)
        if request is None or not request.granted:
            raise ValueError(f"MultiLock request {id!r} holds no locks (released twice, never granted, or released "
                             f"after its client disconnected); acquire() before release().")
        self._withdraw(request)
        return True

    def client_left(self, client: str) -> None:
        """Withdraw the waiting requests of ``client`` and release the locks it holds."""
        for request in [r for r in self.requests.values() if r.client == client]:
            if request.waiter is not None and not request.waiter.done():
                request.waiter.set_exception(_ClientGone(f"MultiLock request {request.id!r} for {request.names} was "
                                                         f"withdrawn: its client {client} disconnected."))
                request.waiter.exception()  # retrieved: nobody may await it any more
            self._withdraw(request)

    # ------------------------------------------------------------------ the queues

    def _enqueue(self, locks: list[str], id: str, num_locks: int | None, client: str | None) -> _Request:
        names = list(locks)
        if not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"MultiLock needs a non-empty list of lock names (strings), got {locks!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"MultiLock names {names!r} repeat a name; name each lock once.")
        needed = len(names) if num_locks is None else num_locks
        if not isinstance(needed, int) or not 1 <= needed <= len(names):
            raise ValueError(f"MultiLock num_locks={num_locks!r} must be between 1 and the number of names "
                             f"({len(names)}).")
        if id in self.requests:
            raise RuntimeError(f"MultiLock request {id!r} already holds or waits for locks; release() it first.")
        request = self.requests[id] = _Request(id, names, needed, client)
        for name in names:
            self.queues.setdefault(name, deque()).append(id)
        self._settle(names)
        return request

    def _withdraw(self, request: _Request) -> None:
        """Take ``request`` out of every queue it is in, and let the requests behind it move up."""
        self.requests.pop(request.id, None)
        moved = [name for name in request.names if self._leave(name, request.id)]
        request.names = []
        self._settle(moved)

    def _leave(self, name: str, id: str) -> bool:
        """Remove ``id`` from the queue of ``name``; whether it was the head (the lock changes hands)."""
        queue = self.queues[name]
        was_head = queue[0] == id
        queue.remove(id)
        if not queue:
            del self.queues[name]
            return False
        return was_head

    def _settle(self, names: Iterable[str]) -> None:
        """Grant the requests at the heads of these queues that now hold enough locks.

        Granting can free locks (those a request held beyond ``num_locks``), whose next heads are checked in turn.
        """
        pending = list(names)
        while pending:
            queue = self.queues.get(pending.pop())
            if not queue:
                continue
            request = self.requests[queue[0]]
            if request.granted:
                continue
            held = [n for n in request.names if self.queues[n][0] == request.id]
            if len(held) < request.needed:
                continue
            request.held = held[:request.needed]
            request.granted = True
            for name in request.names:
                if name not in request.held and self._leave(name, request.id):
                    pending.append(name)
            request.names = list(request.held)
            if request.waiter is not None and not request.waiter.done():
                request.waiter.set_result(None)

    def validate(self) -> None:
        """Check the invariants of the module docstring (for tests)."""
        for name, queue in self.queues.items():
            assert queue, name
            for id in queue:
                assert name in self.requests[id].names, (name, id)
        for id, request in self.requests.items():
            heads = [n for n in request.names if self.queues[n][0] == id]
            if request.granted:
                assert heads == request.names == request.held and len(heads) == request.needed, request
            else:
                assert len(heads) < request.needed, request
                assert all(id in self.queues[n] for n in request.names), request

"""In-process comms: two queues, objects handed over as they are.

Used by ``processes=False`` clusters and by the test fixtures. Nothing is
serialized: a message written on one end is the very object read on the
other, as in a thread pool. Each end belongs to the event loop that created
it; a write from another loop's thread is handed over with
``call_soon_threadsafe``.

Addresses look like ``inproc://<pid>/<n>``; a listener registers its address
in a process-wide table that :func:`~.core.connect` looks up.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import threading
from typing import Any

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.core import Comm, Handler, Listener, parse_address, register_backend

__all__ = ["InprocComm", "InprocListener", "new_inproc_address"]

_listeners: dict[str, InprocListener] = {}
_listeners_lock = threading.Lock()
_counter = itertools.count(1)


def new_inproc_address() -> str:
    """A fresh, unused ``inproc://`` address."""
    return f"inproc://{os.getpid()}/{next(_counter)}"


class _Closed:
    """Sentinel queued when the writing end closes."""


_CLOSED = _Closed()


class InprocComm(Comm):
    """One end of an in-process channel; :func:`_pair` makes two linked ends."""

    def __init__(self, local_address: str, peer_address: str) -> None:
        self.local_address = local_address
        self.peer_address = peer_address
        self.loop = asyncio.get_running_loop()
        self.peer: InprocComm | None = None
        self._queue: collections.deque[Any] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    def _deliver(self, msg: Any) -> None:
        # Runs on this end's loop.
        self._queue.append(msg)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _put(self, msg: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._deliver(msg)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._deliver, msg)

    async def read(self) -> Any:
        while not self._queue:
            if self._closed:
                raise CommClosedError("in-process comm closed", self.peer_address)
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        msg = self._queue.popleft()
        if msg is _CLOSED:
            self._closed = True
            self._queue.clear()
            raise CommClosedError("in-process comm closed by the peer", self.peer_address)
        return msg

    async def write(self, msg: Any) -> int:
        if self._closed or self.peer is None:
            raise CommClosedError("in-process comm closed", self.peer_address)
        self.peer._put(msg)
        return 0

    async def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.peer is not None:
            self.peer._put(_CLOSED)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def closed(self) -> bool:
        return self._closed


class InprocListener(Listener):
    """Registers an ``inproc://`` address and accepts comms on it."""

    def __init__(self, address: str, handler: Handler, options: dict[str, Any]) -> None:
        location = parse_address(address)[1]
        self.address = address if location else new_inproc_address()
        self._handler = handler
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        with _listeners_lock:
            if self.address in _listeners:
                raise OSError(f"inproc address {self.address} is already in use")
            _listeners[self.address] = self

    def accept(self, comm: InprocComm) -> None:
        task = asyncio.get_running_loop().create_task(self._handler(comm))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        with _listeners_lock:
            if _listeners.get(self.address) is self:
                del _listeners[self.address]


async def _open(address: str, options: dict[str, Any]) -> InprocComm:
    with _listeners_lock:
        listener = _listeners.get(address)
    if listener is None or listener.loop is None:
        raise ConnectionRefusedError(f"no in-process listener at {address}")
    client_end = InprocComm(new_inproc_address(), address)
    done: asyncio.Future[InprocComm] = asyncio.get_running_loop().create_future()
    caller_loop = asyncio.get_running_loop()

    def make_server_end() -> None:
        server_end = InprocComm(address, client_end.local_address)
        server_end.peer = client_end
        client_end.peer = server_end
        listener.accept(server_end)
        caller_loop.call_soon_threadsafe(lambda: done.done() or done.set_result(client_end))

    if listener.loop is caller_loop:
        make_server_end()
    else:
        listener.loop.call_soon_threadsafe(make_server_end)
    return await done


register_backend("inproc", InprocListener, _open)

"""Memory for the bodies of received messages, and a pool that recycles it on workers.

Receiving a large message is mostly the cost of its memory, not of the
copy out of the socket: a fresh buffer's pages are mapped one by one (and
zeroed by the kernel) as the receive copy first touches them. On this
project's benchmark machine a 500 MB body took 0.07 s of CPU into memory
already mapped, and 0.25-0.5 s into a fresh buffer.

:func:`allocate` returns a buffer for a body of ``nbytes``:

- small bodies get a ``bytearray``;
- large bodies get an anonymous mapping populated in one system call
  (``MAP_POPULATE``, where the platform has it), the cheapest way to fresh
  memory measured here;
- when a :class:`BufferPool` is installed (workers install one, see
  :func:`install_pool`), large bodies are carved out of memory that an
  earlier message used and its owner has since let go. A worker that moves
  many similar pieces (transfers between workers, shuffles) then receives
  into pages that are already mapped.

A pooled buffer goes back to the pool when the last object that uses it
(the message's frames, the NumPy arrays loaded from them) is garbage; the
pool holds at most ``max_bytes`` and forgets blocks idle for longer than
``max_idle`` seconds (:meth:`BufferPool.trim`, which the worker also calls
when its memory runs high).
"""

from __future__ import annotations

import mmap
import threading
import time
import weakref
from typing import Any

__all__ = ["BufferPool", "allocate", "install_pool", "pool"]

#: Bodies at least this large get mapped memory (and the pool, when there is one).
LARGE = 1 << 20
#: A free block serves a request of ``nbytes`` only if it is at most this much larger (bytes), so that a
#: small message never pins a big block.
_SLACK = 1 << 24
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


def _fresh(nbytes: int) -> Any:
    """Mapped memory of ``nbytes``, its pages populated up front where the platform allows."""
    if _POPULATE:
        try:
            return mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _POPULATE)
        except OSError:  # e.g. the kernel refuses to populate that much at once: fall back to lazy pages
            pass
    return bytearray(nbytes)


class BufferPool:
    """Blocks of receive memory handed out again once their users are gone; see the module docstring.

    Parameters
    ----------
    max_bytes : int
        Most bytes of free blocks kept.
    max_idle : float
        Seconds after which a free block is released by :meth:`trim`.

    Examples
    --------
    >>> p = BufferPool(max_bytes=64 * 2**20)
    >>> body = p.take(8 * 2**20)
    >>> len(body), p.free_bytes
    (8388608, 0)
    >>> del body                       # the last user is gone: the block is free again
    >>> p.free_bytes
    8388608
    >>> len(p.take(8 * 2**20)), p.reused
    (8388608, 1)
    """

    def __init__(self, max_bytes: int, max_idle: float = 10.0) -> None:
        self.max_bytes = int(max_bytes)
        self.max_idle = float(max_idle)
        self._free: list[tuple[Any, float]] = []  # (block, when it became free)
        self._lock = threading.Lock()
        #: Requests served from a free block, and requests that needed fresh memory.
        self.reused = 0
        self.fresh = 0

    @property
    def free_bytes(self) -> int:
        """Bytes held in free blocks."""
        with self._lock:
            return sum(len(block) for block, _ in self._free)

    def take(self, nbytes: int) -> Any:
        """A writable buffer of exactly ``nbytes``: part of a free block if one fits, else fresh memory."""
        import numpy as np

        block = None
        with self._lock:
            best = -1
            for i, (candidate, _) in enumerate(self._free):
                size = len(candidate)
                if nbytes <= size <= nbytes + _SLACK and (best < 0 or size < len(self._free[best][0])):
                    best = i
            if best >= 0:
                block = self._free.pop(best)[0]
                self.reused += 1
            else:
                self.fresh += 1
        if block is None:
            block = _fresh(nbytes)
        view = np.frombuffer(block, dtype=np.uint8, count=nbytes)
        # The frames and every array loaded from them keep ``view`` alive; when it dies, the block is free.
        done = weakref.finalize(view, self._give_back, block)
        done.atexit = False
        return view

    def _give_back(self, block: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            held = sum(len(b) for b, _ in self._free)
            if held + len(block) <= self.max_bytes:
                self._free.append((block, now))

    def _expire(self, now: float) -> None:
        self._free = [(b, t) for b, t in self._free if now - t <= self.max_idle]

    def trim(self, everything: bool = False) -> int:
        """Release idle blocks (all free blocks with ``everything=True``); return the bytes released."""
        with self._lock:
            before = sum(len(b) for b, _ in self._free)
            if everything:
                self._free = []
            else:
                self._expire(time.monotonic())
            return before - sum(len(b) for b, _ in self._free)


_pool: BufferPool | None = None


def install_pool(max_bytes: int, max_idle: float = 10.0) -> BufferPool | None:
    """Give this process a receive pool of at most ``max_bytes`` (0 removes it); return it."""
    global _pool
    _pool = BufferPool(max_bytes, max_idle) if max_bytes > 0 else None
    return _pool


def pool() -> BufferPool | None:
    """This process's receive pool, if one is installed."""
    return _pool


def allocate(nbytes: int) -> Any:
    """A writable buffer for a message body of ``nbytes``; see the module docstring.

    >>> len(allocate(10)), len(allocate(2 * LARGE))
    (10, 2097152)
    """
    if nbytes < LARGE:
        return bytearray(nbytes)
    current = _pool
    if current is not None:
        return current.take(nbytes)
    return _fresh(nbytes)

"""A mapping that keeps the most recently used values in memory and spills the rest to disk.

Workers hold results in a :class:`SpillBuffer`. While the values in memory
add up to more than ``target`` bytes (``distributed.worker.memory.target`` of
the memory limit), the least recently used ones are pickled to files in a
private directory; reading a spilled key loads it back (and may spill
others). A value that cannot be pickled stays in memory.

On disk a value is its pickle (protocol 5) with the large buffers (NumPy
arrays, pandas columns) kept out of band: the file holds the frame sizes,
the pickle, then each buffer written straight from the value's own memory,
so spilling never builds a second in-memory copy of what it is trying to
get rid of. Loading reads each buffer into its own writable memory.

Every move to or from disk is recorded in :attr:`SpillBuffer.events` as
``(action, key, nbytes, start, stop)`` with ``action`` ``"disk-write"`` or
``"disk-read"`` and wall-clock times; the worker drains these into the
scheduler's task stream. The deque is bounded: nobody draining it costs
nothing but the oldest records.
"""

from __future__ import annotations

import itertools
import os
import pickle
import struct
import shutil
import tempfile
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, MutableMapping
from typing import Any

from shoal.distributed._sizeof import sizeof
from shoal.distributed.comm.serialization import _raw as raw_buffer
from shoal.distributed.comm.serialization import pickle_value, unpickle_value

__all__ = ["SpillBuffer", "read_spilled", "write_spilled"]

_U64 = struct.Struct("<Q")


def write_spilled(path: str, value: Any) -> int:
    """Write ``value`` to a new file at ``path``; return the bytes written. Raises if it cannot be pickled.

    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "v")
    >>> write_spilled(path, {"a": np.arange(3)}) > 0
    True
    >>> read_spilled(path)["a"]
    array([0, 1, 2])
    """
    buffers: list[pickle.PickleBuffer] = []
    head = pickle_value(value, buffers)
    views = [memoryview(raw_buffer(b)).cast("B") for b in buffers]
    sizes = [len(head)] + [v.nbytes for v in views]
    with open(path, "wb") as f:
        f.write(struct.pack(f"<{len(sizes) + 1}Q", len(sizes), *sizes))
        f.write(head)
        for view in views:
            f.write(view)
    return 8 * (len(sizes) + 1) + sum(sizes)


def read_spilled(path: str) -> Any:
    """Load what :func:`write_spilled` wrote."""
    with open(path, "rb") as f:
        (count,) = _U64.unpack(f.read(8))
        sizes = struct.unpack(f"<{count}Q", f.read(8 * count))
        head = f.read(sizes[0])
        buffers = []
        for size in sizes[1:]:
            buf = bytearray(size)
            if f.readinto(buf) != size:
                raise OSError(f"spill file {path} is truncated")
            buffers.append(buf)
    return unpickle_value(head, buffers)


class SpillBuffer(MutableMapping[Any, Any]):
    """LRU memory up to ``target`` bytes, disk beyond; see the module docstring.

    >>> buf = SpillBuffer(target=100)
    >>> buf["a"] = b"x" * 80
    >>> buf["b"] = b"y" * 80          # over target: "a" goes to disk
    >>> sorted(buf.slow), buf["a"][:1]  # reading "a" brings it back (and spills "b")
    (['a'], b'x')
    >>> sorted(buf.slow)
    ['b']
    >>> buf.close()
    """

    def __init__(self, target: int, directory: str | None = None) -> None:
        self.target = target
        self._dir_arg = directory
        self._dir: str | None = None
        #: Values in memory, least recently used first, with their sizes.
        self.fast: OrderedDict[Any, Any] = OrderedDict()
        self.fast_sizes: dict[Any, int] = {}
        self.fast_bytes = 0
        #: Spilled keys: (file path, size in bytes).
        self.slow: dict[Any, tuple[str, int]] = {}
        self.spilled_bytes = 0
        #: Totals for metrics.
        self.spill_count = 0
        self.unspill_count = 0
        #: Recent moves to and from disk, oldest first: (action, key, nbytes, start, stop).
        self.events: deque[tuple[str, Any, int, float, float]] = deque(maxlen=10_000)
        self._names = itertools.count()

    def _directory(self) -> str:
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="shoal-spill-", dir=self._dir_arg)
        return self._dir

    def __setitem__(self, key: Any, value: Any) -> None:
        if key in self:
            del self[key]
        size = sizeof(value)
        self.fast[key] = value
        self.fast_sizes[key] = size
        self.fast_bytes += size
        self._evict(keep=key)

    def _evict(self, keep: Any) -> None:
        skipped: list[Any] = []
        while self.fast_bytes > self.target and len(self.fast) > 1 + len(skipped):
            key = next(k for k in self.fast if k != keep and k not in skipped)
            if not self.spill(key):
                skipped.append(key)

    def spill(self, key: Any) -> bool:
        """Move ``key``'s value to disk; False (and it stays in memory) when it cannot be pickled."""
        value = self.fast[key]
        start = time.time()
        path = os.path.join(self._directory(), f"{next(self._names)}.pkl")
        try:
            written = write_spilled(path, value)
        except Exception:  # noqa: BLE001 - unpicklable values stay in memory
            if os.path.exists(path):
                os.unlink(path)
            return False
        self.events.append(("disk-write", key, written, start, time.time()))
        size = self.fast_sizes.pop(key)
        del self.fast[key]
        self.fast_bytes -= size
        self.slow[key] = (path, size)
        self.spilled_bytes += size
        self.spill_count += 1
        return True

    def __getitem__(self, key: Any) -> Any:
        if key in self.fast:
            self.fast.move_to_end(key)
            return self.fast[key]
        path, size = self.slow[key]
        start = time.time()
        value = read_spilled(path)
        self.events.append(("disk-read", key, os.path.getsize(path), start, time.time()))
        del self.slow[key]
        self.spilled_bytes -= size
        os.unlink(path)
        self.unspill_count += 1
        self.fast[key] = value
        self.fast_sizes[key] = size
        self.fast_bytes += size
        self._evict(keep=key)
        return value

    def __delitem__(self, key: Any) -> None:
        if key in self.fast:
            del self.fast[key]
            self.fast_bytes -= self.fast_sizes.pop(key)
            return
        path, size = self.slow.pop(key)
        self.spilled_bytes -= size
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def __contains__(self, key: object) -> bool:
        return key in self.fast or key in self.slow

    def __iter__(self) -> Iterator[Any]:
        yield from list(self.fast)
        yield from list(self.slow)

    def __len__(self) -> int:
        return len(self.fast) + len(self.slow)

    def close(self) -> None:
        """Forget everything and remove the spill directory."""
        self.fast.clear()
        self.fast_sizes.clear()
        self.slow.clear()
        self.fast_bytes = self.spilled_bytes = 0
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

"""Messages to frames and back: a msgpack header plus out-of-band buffers.

A message is any structure of dicts, lists, tuples, strings, bytes, numbers,
``None`` and booleans; anything else inside it (NumPy arrays, pandas frames,
exceptions, functions) is pickled where it stands. :func:`dumps` returns a
list of frames:

- frame 0 is the msgpack header; tuples in it are kept as tuples (an ext
  type) because keys such as ``("x", 0, 1)`` must come back hashable;
- each pickled object is an ext type in the header holding ``(index, count)``:
  frame ``index`` is the pickle (protocol 5) and the ``count`` frames after it
  are its out-of-band buffers, so a 500 MB array is handed to the socket as
  the array's own memory rather than copied into a pickle;
- objects that plain pickle cannot handle by reference (lambdas, closures,
  functions and classes from ``__main__``) are pickled with cloudpickle.

:func:`loads` reverses this; when the frames are slices of one writable
``bytearray`` (as the TCP comm delivers them) arrays come back writable and
without a copy.

Opaque payloads that an intermediary must not unpickle (a task's function and
arguments pass through the scheduler, which never imports user code) are
pickled explicitly with :func:`pickle_value` into ``bytes`` and travel as
msgpack binary.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import threading
import types
from functools import partial
from typing import Any

import cloudpickle
import msgpack

from shoal._exceptions import SerializationError

__all__ = ["dumps", "loads", "pickle_value", "unpickle_value"]

_EXT_TUPLE = 1
_EXT_PICKLE = 2
_INDEX = struct.Struct("<II")

Frame = bytes | bytearray | memoryview


class _NeedsCloudpickle(Exception):
    """Raised inside the fast pickler when an object only cloudpickle can carry."""


class _ByReferencePickler(pickle.Pickler):
    """Plain pickle, refusing what a process without our ``__main__`` could not load."""

    def reducer_override(self, obj: Any) -> Any:
        typ = type(obj)
        if (typ is types.FunctionType or typ is type) and getattr(obj, "__module__", None) == "__main__":
            raise _NeedsCloudpickle
        return NotImplemented


class _Sink:
    """A minimal file object collecting pickle output (BytesIO without the seek machinery)."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)


def pickle_value(obj: Any, buffers: list[pickle.PickleBuffer] | None = None) -> bytes:
    """Pickle ``obj`` (protocol 5) with plain pickle, falling back to cloudpickle.

    With ``buffers``, large contiguous buffers are appended to it instead of
    being copied into the pickle (out-of-band).

    >>> unpickle_value(pickle_value([1, "a"]))
    [1, 'a']
    >>> unpickle_value(pickle_value(lambda x: x + 1))(1)
    2
    """
    callback = buffers.append if buffers is not None else None
    sink = _Sink()
    try:
        _ByReferencePickler(sink, protocol=5, buffer_callback=callback).dump(obj)
        return b"".join(sink.parts)
    except (_NeedsCloudpickle, pickle.PicklingError, AttributeError, TypeError):
        if buffers is not None:
            del buffers[:]
    try:
        return cloudpickle.dumps(obj, protocol=5, buffer_callback=callback)
    except Exception as exc:
        raise SerializationError(
            f"Could not serialize {type(obj).__name__} object {_short(obj)} to send it to another "
            f"process: {type(exc).__name__}: {exc}. Make the object picklable (define its class at "
            f"module level, drop open files/locks/sockets from it) or create it inside the task."
        ) from exc


#: Held while an unpickler imports a module it has not seen fully imported. Two threads importing a package
#: with circular imports (NumPy) at once can make Python hand one of them a partially initialized module
#: ("cannot import name ... from partially initialized module"), and a worker unpickles on its event loop
#: (messages) and in its task threads (functions) at the same time, so first imports take turns. Only the
#: imports: the objects' own reconstruction code runs outside the lock, because it may wait for another
#: thread that is itself unpickling (a Lock passed to a task asks the scheduler for its state through the
#: client's event loop, which must read the reply).
_IMPORTING = threading.RLock()


class _Unpickler(pickle.Unpickler):
    def find_class(self, module_name: str, global_name: str) -> Any:
        module = sys.modules.get(module_name)
        spec = getattr(module, "__spec__", None)
        if module is not None and not getattr(spec, "_initializing", False):
            return super().find_class(module_name, global_name)
        with _IMPORTING:
            return super().find_class(module_name, global_name)


def _load(data: Frame, buffers: Any) -> Any:
    return _Unpickler(io.BytesIO(data), buffers=buffers).load()


def unpickle_value(data: Frame, buffers: list[Frame] | None = None) -> Any:
    """Load what :func:`pickle_value` made."""
    return _load(data, buffers or ())


def _short(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001 - a broken repr must not hide the real error
        text = f"<{type(obj).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _raw(buffer: pickle.PickleBuffer) -> Frame:
    try:
        return buffer.raw()
    except BufferError:  # not contiguous: copy it, as pickle would have
        return bytes(memoryview(buffer).tobytes())


def _ext_default(frames: list[Frame], obj: Any) -> Any:
    if type(obj) is tuple:
        return msgpack.ExtType(_EXT_TUPLE, msgpack.packb(list(obj), default=partial(_ext_default, frames),
                                                         strict_types=True, use_bin_type=True))
    buffers: list[pickle.PickleBuffer] = []
    data = pickle_value(obj, buffers)
    index = len(frames)
    frames.append(data)
    frames.extend(_raw(b) for b in buffers)
    return msgpack.ExtType(_EXT_PICKLE, _INDEX.pack(index, len(buffers)))


def dumps(msg: Any) -> list[Frame]:
    """Serialize ``msg`` into frames; see the module docstring.

    >>> frames = dumps({"op": "x", "key": ("a", 1), "data": {1, 2}})
    >>> loads(frames)
    {'op': 'x', 'key': ('a', 1), 'data': {1, 2}}
    """
    frames: list[Frame] = [b""]
    # partial over a module-level function rather than a self-calling closure: see loads.
    default = partial(_ext_default, frames)
    try:
        frames[0] = msgpack.packb(msg, default=default, strict_types=True, use_bin_type=True)
    except SerializationError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise SerializationError(f"Could not encode a message for the wire: {exc}") from exc
    return frames


def _ext_hook(frames: list[Frame], code: int, data: bytes) -> Any:
    if code == _EXT_TUPLE:
        return tuple(msgpack.unpackb(data, ext_hook=partial(_ext_hook, frames), raw=False, strict_map_key=False))
    if code == _EXT_PICKLE:
        index, count = _INDEX.unpack(data)
        return _load(frames[index], frames[index + 1:index + 1 + count])
    raise ValueError(f"unknown msgpack extension type {code}")


def loads(frames: list[Frame]) -> Any:
    """Deserialize frames made by :func:`dumps`."""
    # A module-level hook bound with partial, not a closure that calls itself: such a closure is a reference
    # cycle, which kept every received message (and its buffers: hundreds of MB) alive until the cyclic
    # garbage collector happened to run.
    return msgpack.unpackb(frames[0], ext_hook=partial(_ext_hook, frames), raw=False, strict_map_key=False)

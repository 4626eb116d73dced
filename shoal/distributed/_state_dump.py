"""Plain-data pictures of the scheduler's and workers' state, for ``Client.dump_cluster_state``.

The records of the state machines point at each other (a task at its
workers, a worker at its tasks); a dump replaces each such reference by the
record's name (a task's key, a worker's address, a client's id), so the
result is a tree of dicts, lists, strings and numbers that msgpack and YAML
write as is. Keys that are not strings become their ``str``. Values of other
types become their ``repr``; bytes (pickled exceptions, tracebacks, run
specs) become a short ``"<N bytes>"`` note.
"""

from __future__ import annotations

import contextlib
import enum
import gzip
import os
import tempfile
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["load_state", "name_of", "plain", "record_to_dict", "write_state"]

#: Attributes every record type may name that hold references to other records.
_NAMES = {"SchedulerTaskRecord": "key", "WorkerTaskRecord": "key", "WorkerRecord": "address",
          "ClientRecord": "id"}


def _slots(obj: Any) -> list[str]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    if hasattr(obj, "__dict__"):
        names.extend(vars(obj))
    return [n for n in dict.fromkeys(names) if not n.startswith("_") and n != "__weakref__"]


def record_to_dict(obj: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every public attribute of a state record, as plain data; see the module docstring."""
    skip = set(exclude)
    return {name: plain(getattr(obj, name, None)) for name in _slots(obj) if name not in skip}


def plain(value: Any) -> Any:
    """``value`` as msgpack/YAML-ready data (references to records become their names)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, enum.Enum):
        return plain(value.value)
    name = _NAMES.get(type(value).__name__)
    if name is not None:
        return name_of(getattr(value, name))
    if isinstance(value, Mapping):
        return {name_of(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, (list, tuple, deque)):
        return [plain(v) for v in value]
    return repr(value)


def name_of(key: Any) -> Any:
    """How a key (or a record) is written where it names something: itself if a str or int, else its ``str``."""
    if isinstance(key, (str, int)) and not isinstance(key, bool):
        return key
    name = _NAMES.get(type(key).__name__)
    return name_of(getattr(key, name)) if name is not None else str(key)


def write_state(state: dict[str, Any], filename: str, format: str = "msgpack", **storage_options: Any) -> str:
    """Write a cluster dump; return the path written (``.msgpack.gz`` or ``.yaml`` appended when missing).

    A local file is written under a temporary name in the same directory and renamed into place, so a
    reader never sees half a dump and an earlier dump survives a failed write. A URL (``s3://...``) is
    written with fsspec, as it comes.
    """
    if format not in ("msgpack", "yaml"):
        raise ValueError(f"dump_cluster_state: unsupported format {format!r}; use 'msgpack' or 'yaml'.")
    suffix = ".msgpack.gz" if format == "msgpack" else ".yaml"
    path = str(filename)
    if not path.endswith(suffix):
        path += suffix
    if format == "msgpack":
        import msgpack

        payload = gzip.compress(msgpack.packb(state, use_bin_type=True))
    else:
        import yaml

        payload = yaml.safe_dump(state, default_flow_style=False).encode()
    if "://" in path and not path.startswith("file://"):
        import fsspec

        with fsspec.open(path, "wb", **storage_options) as f:
            f.write(payload)
        return path
    path = os.path.abspath(path.removeprefix("file://"))
    fd, partial = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    return path


def load_state(path: str) -> dict[str, Any]:
    """Read a dump written by :func:`write_state` (msgpack or YAML, by its suffix)."""
    with open(path, "rb") as f:
        payload = f.read()
    if path.endswith(".yaml"):
        import yaml

        return yaml.safe_load(payload)  # type: ignore[no-any-return]
    import msgpack

    return msgpack.unpackb(gzip.decompress(payload), raw=False, strict_map_key=False)  # type: ignore[no-any-return]

"""Small parsers and formatters for the human-friendly values in shoal's config.

Settings such as ``array.chunk-size: 128MiB`` or
``distributed.comm.timeouts.connect: 30s`` are written for people; code
needs numbers. :func:`parse_bytes` turns sizes into a number of bytes,
:func:`parse_timedelta` turns durations into seconds, and :func:`format_bytes`
goes back from bytes to a short readable string.

Units follow the usual conventions: decimal prefixes (``kB``, ``MB``, ...)
are powers of 1000 and binary ones (``KiB``, ``MiB``, ...) powers of 1024;
unit names are case-insensitive. Negative sizes and durations are refused:
no setting has a use for them, and a sign is more often a typo.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from datetime import timedelta
from typing import Any, overload

__all__ = ["SerializableLock", "format_bytes", "parse_bytes", "parse_timedelta"]

# Unit -> bytes, keyed by lowercase name. A bare prefix ("k", "mi") counts as
# the unit, as people write "64M" for a size.
_BYTE_UNITS: dict[str, int] = {"": 1, "b": 1}
for _i, _prefix in enumerate("kmgtp", start=1):
    _BYTE_UNITS[_prefix] = _BYTE_UNITS[_prefix + "b"] = 1000**_i
    _BYTE_UNITS[_prefix + "i"] = _BYTE_UNITS[_prefix + "ib"] = 1024**_i

# Unit -> seconds, keyed by lowercase name.
_TIME_UNITS: dict[str, float] = {}
for _names, _seconds in [
    (("ns", "nanosecond", "nanoseconds"), 1e-9),
    (("us", "µs", "microsecond", "microseconds"), 1e-6),
    (("ms", "millisecond", "milliseconds"), 1e-3),
    (("s", "sec", "secs", "second", "seconds"), 1.0),
    (("m", "min", "mins", "minute", "minutes"), 60.0),
    (("h", "hr", "hrs", "hour", "hours"), 3600.0),
    (("d", "day", "days"), 86400.0),
    (("w", "wk", "week", "weeks"), 604800.0),
]:
    for _name in _names:
        _TIME_UNITS[_name] = _seconds

# An unsigned decimal or scientific number, optional spaces, then letters.
_QUANTITY = re.compile(r"^\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)?\s*([^\d\s.]*)\s*$")


def _split_quantity(text: str) -> tuple[float, str] | None:
    """Split ``"1.5 MiB"`` into ``(1.5, "mib")``; a missing number means 1."""
    match = _QUANTITY.match(text)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    number = float(match.group(1)) if match.group(1) else 1.0
    return number, match.group(2).lower()


def parse_bytes(s: str | int | float) -> int:
    """Parse a size such as ``"128MiB"`` into a number of bytes.

    Parameters
    ----------
    s : str, int or float
        A number of bytes, or a number followed by a unit: ``B``, decimal
        ``kB MB GB TB PB`` (powers of 1000) or binary ``KiB MiB GiB TiB PiB``
        (powers of 1024). Case and spaces do not matter; a unit alone means
        one of it.

    Returns
    -------
    int
        The size in bytes, rounded down.

    Raises
    ------
    ValueError
        If ``s`` is negative, or is not a number with a known unit.

    See Also
    --------
    format_bytes : the inverse, for display.

    Examples
    --------
    >>> parse_bytes("128MiB")
    134217728
    >>> parse_bytes("5 kB")
    5000
    >>> parse_bytes("1.5 KiB")
    1536
    >>> parse_bytes("MB")
    1000000
    >>> parse_bytes(100)
    100
    """
    example = "Pass a number of bytes or a string such as '128MiB' or '2 GB'."
    if isinstance(s, bool) or not isinstance(s, (str, int, float)):
        raise ValueError(f"Could not parse {s!r} as a size in bytes. {example}")
    if isinstance(s, str):
        parts = _split_quantity(s)
        if parts is None or parts[1] not in _BYTE_UNITS:
            raise ValueError(
                f"Could not parse {s!r} as a size in bytes: expected a number "
                f"followed by one of B, kB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB. "
                f"{example}"
            )
        number, unit = parts
        value = number * _BYTE_UNITS[unit]
    else:
        value = s
    if not 0 <= value < math.inf:  # also refuses NaN, which compares False
        raise ValueError(f"Sizes must be finite and not negative; got {s!r}. {example}")
    return int(value)


@overload
def parse_timedelta(s: None, default: str = ...) -> None: ...
@overload
def parse_timedelta(s: str | float | timedelta, default: str = ...) -> float: ...


def parse_timedelta(
    s: str | float | timedelta | None, default: str = "seconds"
) -> float | None:
    """Parse a duration such as ``"30s"`` or ``"20ms"`` into seconds.

    Parameters
    ----------
    s : str, int, float, datetime.timedelta or None
        A number, a :class:`~datetime.timedelta`, or a number followed by a
        unit: ``ns``, ``us``, ``ms``, ``s``, ``m``/``min``, ``h``, ``d``,
        ``w`` or their spelled-out names (``"2 minutes"``). ``None`` passes
        through, since many timeout settings may be null.
    default : str
        The unit of a bare number, ``"seconds"`` unless given.

    Returns
    -------
    float or None
        The duration in seconds.

    Raises
    ------
    ValueError
        If ``s`` is negative or is not a number with a known unit, or
        ``default`` is not a known unit.

    Examples
    --------
    >>> parse_timedelta("30s")
    30.0
    >>> parse_timedelta("20ms")
    0.02
    >>> parse_timedelta("1.5 s")
    1.5
    >>> parse_timedelta("2 minutes")
    120.0
    >>> parse_timedelta("1h")
    3600.0
    >>> parse_timedelta(3, default="ms")
    0.003
    """
    example = "Pass a number of seconds or a string such as '30s', '20ms' or '2 minutes'."
    if s is None:
        return None
    default_unit = default.lower()
    if default_unit not in _TIME_UNITS:
        raise ValueError(
            f"Unknown default time unit {default!r}; use one of 'ns', 'us', 'ms', "
            f"'s', 'm', 'h', 'd', 'w' or their names, such as 'seconds'."
        )
    if isinstance(s, timedelta):
        seconds = s.total_seconds()
    elif isinstance(s, (int, float)) and not isinstance(s, bool):
        seconds = s * _TIME_UNITS[default_unit]
    elif isinstance(s, str):
        parts = _split_quantity(s)
        if parts is None or (parts[1] or default_unit) not in _TIME_UNITS:
            raise ValueError(f"Could not parse {s!r} as a duration. {example}")
        number, unit = parts
        seconds = number * _TIME_UNITS[unit or default_unit]
    else:
        raise ValueError(f"Could not parse {s!r} as a duration. {example}")
    if seconds < 0 or seconds != seconds:  # second test catches NaN
        raise ValueError(f"Durations cannot be negative or NaN; got {s!r}. {example}")
    return float(seconds)


def format_bytes(n: int | float) -> str:
    """Format a number of bytes for people, with a binary unit.

    Parameters
    ----------
    n : int or float
        A number of bytes.

    Returns
    -------
    str
        ``"<n> B"`` below 1 KiB, else two decimals and the largest binary
        unit that keeps the number at least 1.

    Notes
    -----
    Mirrors ``dask.utils.format_bytes`` in spelling (``kiB``, ``MiB``, ...);
    differs in switching units at exactly 1 KiB, 1 MiB, ..., so that
    ``format_bytes(1000)`` reads ``"1000 B"`` rather than ``"0.98 kiB"``.

    Examples
    --------
    >>> format_bytes(1024 ** 2)
    '1.00 MiB'
    >>> format_bytes(1500)
    '1.46 kiB'
    >>> format_bytes(12)
    '12 B'
    """
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        raise ValueError(f"format_bytes needs a number of bytes such as 1048576; got {n!r}.")
    for prefix, power in (("Pi", 5), ("Ti", 4), ("Gi", 3), ("Mi", 2), ("ki", 1)):
        if abs(n) >= 1024**power:
            return f"{n / 1024**power:.2f} {prefix}B"
    return f"{n:g} B" if isinstance(n, float) else f"{n} B"


class SerializableLock:
    """A lock that survives pickling: every copy with the same token shares one lock per process.

    ``threading.Lock`` cannot travel in a task graph sent to other processes;
    this one pickles as its token and, on the other side, finds (or makes)
    the process's lock for that token.

    >>> import pickle
    >>> lock = SerializableLock()
    >>> pickle.loads(pickle.dumps(lock)).lock is lock.lock
    True
    """

    _locks: dict[str, Any] = {}
    _registry_lock = threading.Lock()

    def __init__(self, token: str | None = None) -> None:
        self.token = token or uuid.uuid4().hex
        with SerializableLock._registry_lock:
            self.lock = SerializableLock._locks.setdefault(self.token, threading.RLock())

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self.lock.acquire(*args, **kwargs))

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> SerializableLock:
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def __reduce__(self) -> tuple[Any, ...]:
        return (SerializableLock, (self.token,))

    def __dask_tokenize__(self) -> str:
        return self.token

    def __repr__(self) -> str:
        return f"<SerializableLock {self.token}>"

"""Estimated memory size of a result, for placement and memory accounting."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["sizeof"]


def sizeof(obj: Any) -> int:
    """Bytes that ``obj`` holds, roughly.

    >>> sizeof(b"abc") >= 3
    True
    >>> sizeof([b"x" * 100] * 3) >= 300
    True
    """
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    typ = type(obj)
    if typ in (list, tuple, set, frozenset):
        if len(obj) > 100:
            sample = list(obj)[:: max(1, len(obj) // 20)]
            return sys.getsizeof(obj) + int(sum(sizeof(x) for x in sample) * len(obj) / max(len(sample), 1))
        return sys.getsizeof(obj) + sum(sizeof(x) for x in obj)
    if typ is dict:
        return sys.getsizeof(obj) + sum(sizeof(k) + sizeof(v) for k, v in list(obj.items())[:100]) * max(
            1, len(obj) // 100)
    usage = getattr(obj, "memory_usage", None)
    if callable(usage) and hasattr(obj, "index"):
        try:
            total = usage(deep=False, index=True)
            return int(total.sum() if hasattr(total, "sum") else total)
        except Exception:  # noqa: BLE001 - an estimate; fall back to the shallow size
            pass
    try:
        return sys.getsizeof(obj)
    except Exception:  # noqa: BLE001
        return 64

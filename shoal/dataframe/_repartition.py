"""New divisions for ``repartition``: more partitions by interpolation, or one partition per ``freq`` period.

With known divisions on a numeric or datetime index, ``repartition(npartitions=n)`` to *more* partitions keeps
the divisions known, as Dask does: each partition's range ``[lo, hi]`` is cut at evenly spaced values in
between. Rows then move by index range, so every row lands where the divisions say. Where the range has too
few distinct values for the cuts (a narrow integer range; Dask then makes fewer partitions), shoal keeps the
number of partitions asked for and falls back to row slices with unknown divisions.
``repartition(freq="2D")`` cuts a datetime index at the period boundaries of ``pd.date_range``, plus the
first and last index value. Other indexes get ``None`` here and the caller falls back to row slices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["freq_divisions", "interpolated_divisions"]


def _kind(value: Any) -> str:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return "M"
    if isinstance(value, bool | np.bool_):
        return ""
    if isinstance(value, int | np.integer):
        return "i"
    if isinstance(value, float | np.floating) and np.isfinite(value):
        return "f"
    return ""


def _cuts(lo: Any, hi: Any, k: int, kind: str) -> list[Any]:
    """``k + 1`` increasing values from ``lo`` to ``hi`` (fewer if integers run out)."""
    if kind == "M":
        lo_ts, hi_ts = pd.Timestamp(lo), pd.Timestamp(hi)
        steps = np.linspace(0, (hi_ts - lo_ts).value, k + 1).round().astype("i8")
        return list(dict.fromkeys(lo_ts + pd.Timedelta(int(s), "ns") for s in steps))
    points = np.linspace(float(lo), float(hi), k + 1)
    if kind == "i":
        return list(dict.fromkeys(int(round(p)) for p in points))
    return [float(p) for p in points[:-1]] + [hi]


def interpolated_divisions(old: tuple[Any, ...], npartitions: int) -> tuple[Any, ...] | None:
    """Divisions for ``npartitions`` (more than now) splitting each old range evenly; ``None`` if not possible.

    >>> interpolated_divisions((0, 4, 8), 4)
    (0, 2, 4, 6, 8)
    """
    nold = len(old) - 1
    if old[0] is None or npartitions <= nold:
        return None
    kinds = {_kind(v) for v in old}
    if kinds not in ({"i"}, {"f"}, {"i", "f"}, {"M"}):
        return None
    kind = "f" if kinds == {"i", "f"} else kinds.pop()
    out: list[Any] = [old[0]]
    for i in range(nold):
        # As plan_npartitions spreads the extra partitions: the first ones get one more.
        k = npartitions // nold + (1 if i < npartitions % nold else 0)
        lo, hi = old[i], old[i + 1]
        cuts = _cuts(lo, hi, k, kind) if lo < hi else [lo, hi]
        out.extend(cuts[1:])
    # Integers (or an empty range) may not offer enough distinct cuts: then row slices give the count asked for.
    return tuple(out) if len(out) == npartitions + 1 else None


def freq_divisions(old: tuple[Any, ...], freq: Any) -> tuple[Any, ...]:
    """Divisions at the ``freq`` boundaries between the first and last division of a datetime index."""
    if old[0] is None:
        raise ValueError("repartition(freq=...) needs known divisions; use set_index on the datetime column first")
    if not isinstance(old[0], pd.Timestamp):
        raise TypeError(f"repartition(freq=...) needs a datetime index, but the divisions are "
                        f"{type(old[0]).__name__} values ({old[0]!r}, ...)")
    first, last = old[0], old[-1]
    cuts = [t for t in pd.date_range(start=first, end=last, freq=freq) if first < t < last]
    return (first, *cuts, last) if last > first else (first, last)

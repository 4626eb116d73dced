"""Exact per-column order statistics (quantiles, medians) of a tall shoal array, without gathering it.

Model
    The data is a column of row blocks (:func:`shoal.ml._est_blocks.tree_reduce`). To find the
    ``r``-th smallest non-NaN value of every column exactly, shoal narrows an interval around it:

    1. **Sketch pass.** Every block sorts its columns and sends its non-NaN count and up to
       ``SKETCH`` evenly spaced values (its minimum and maximum among them); the tree merges
       and thins them. These values are only *candidate boundaries*: nothing relies on them
       being accurate.
    2. **Count passes.** Every block reports, for each boundary ``b``, how many of its values are
       ``< b`` and ``<= b`` (two ``searchsorted`` calls on its sorted columns); the tree sums them.
       A wanted rank ``r`` then either *is* a boundary (``#(< b) <= r < #(<= b)``, which also
       settles ties exactly) or lies strictly between two consecutive boundaries, at a known
       offset. While the open intervals still to search hold more than ``FETCH_LIMIT`` values,
       they are cut into more boundaries (evenly spaced values) and counted again.
    3. **Fetch pass.** Every block sends the values strictly inside the intervals left; the
       ``r``-th smallest is read off their sorted union at its offset.

    Typically three passes in all, each a tree reduction of small partials; the result is the
    same order statistic ``numpy.sort`` would give, so :func:`column_percentiles` equals
    ``numpy.nanpercentile`` (linear interpolation) up to the last bit of the interpolation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import shoal
import shoal.array as sa
from shoal.array import Array
from shoal.ml._est_blocks import tree_reduce
from shoal.ml._ml3_util import to_lazy_array

__all__ = ["column_counts", "column_medians", "column_percentiles", "lazy_columns", "order_statistics",
           "sketch_columns"]

#: Candidate boundaries kept per column by the sketch pass.
SKETCH = 1024
#: Most values per column the fetch pass may gather; above it, intervals are refined first.
FETCH_LIMIT = 1 << 17
#: Boundaries added per column by one refinement.
REFINE = 4096
#: Refinements before fetching whatever is left (float intervals halve at worst, so 64 suffice).
MAX_PASSES = 64


def lazy_columns(X: Any, who: str) -> Array:
    """``X`` (shoal array/dataframe, NumPy, pandas) as a 2-D float64 shoal array with one column block."""
    x = to_lazy_array(X, who)
    if isinstance(x, np.ndarray):
        if x.ndim == 2 and x.shape[0] == 0:
            raise ValueError(f"{who}: X has 0 samples; at least one is required.")
        x = sa.from_array(x, chunks=("auto", -1) if x.ndim == 2 else "auto")
    if x.ndim != 2:
        raise ValueError(f"{who} expects 2-d data of (samples, features), got {x.ndim} dimensions; reshape it, "
                         f"e.g. x.reshape(-1, 1).")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who} expects numbers, got dtype {x.dtype}. Encode text or categories first "
                        f"(OrdinalEncoder, OneHotEncoder).")
    if x.numblocks[1] != 1:
        x = x.rechunk({1: -1})
    return x.astype(np.float64)


def _sorted(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The block's columns sorted (NaN last) and their non-NaN counts."""
    s = np.sort(np.asarray(block, dtype=np.float64), axis=0)
    return s, (~np.isnan(s)).sum(axis=0)


def _thin(values: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` evenly spaced entries of sorted ``values``, first and last included."""
    if len(values) <= size:
        return values
    return values[np.unique(np.linspace(0, len(values) - 1, size).round().astype(np.intp))]


def _sketch_chunk(block: np.ndarray) -> dict[str, Any]:
    s, counts = _sorted(block)
    return {"count": counts.astype(np.int64), "rows": s.shape[0], "infinite": bool(np.isinf(s).any()),
            "samples": [_thin(s[:c, j], SKETCH) for j, c in enumerate(counts)]}


def _sketch_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    width = len(parts[0]["samples"])
    return {"count": sum(p["count"] for p in parts), "rows": sum(p["rows"] for p in parts),
            "infinite": any(p["infinite"] for p in parts),
            "samples": [_thin(np.unique(np.concatenate([p["samples"][j] for p in parts])), SKETCH)
                        for j in range(width)]}


def _count_chunk(block: np.ndarray, bounds: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    s, counts = _sorted(block)
    out = []
    for j, b in enumerate(bounds):
        col = s[:counts[j], j]
        out.append((np.searchsorted(col, b, "left"), np.searchsorted(col, b, "right")))
    return out


def _count_combine(parts: list[list[tuple[np.ndarray, np.ndarray]]]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(sum(p[j][0] for p in parts), sum(p[j][1] for p in parts)) for j in range(len(parts[0]))]


def _fetch_chunk(block: np.ndarray, intervals: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    s, counts = _sorted(block)
    out = []
    for j, (lo, hi) in enumerate(intervals):
        col = s[:counts[j], j]
        start, stop = np.searchsorted(col, lo, "right"), np.searchsorted(col, hi, "left")
        out.append(np.concatenate([col[a:b] for a, b in zip(start, stop, strict=True)] or [col[:0]]))
    return out


def _fetch_combine(parts: list[list[np.ndarray]]) -> list[np.ndarray]:
    return [np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))]


def _resolve(bounds: np.ndarray, lt: np.ndarray, le: np.ndarray, ranks: np.ndarray,
             values: np.ndarray, open_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Settle the ranks ``open_`` that hit a boundary; return the intervals ``(lo, hi, #(<=lo))`` of the rest.

    ``bounds`` must hold, for every open rank, an endpoint at or below it and one above it.
    """
    first = np.searchsorted(le, ranks[open_], side="right")  # first boundary with #(<= b) > r
    hit = lt[first] <= ranks[open_]
    values[open_[hit]] = bounds[first[hit]]
    rest = open_[~hit]
    below = first[~hit] - 1
    return rest, np.stack([bounds[below], bounds[below + 1]]), le[below]


def order_statistics(x: Array, ranks: list[np.ndarray], counts: np.ndarray | None = None,
                     sketch: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """The ``ranks[j]``-th smallest non-NaN values (0-based) of every column ``j`` of ``x``, exactly.

    ``counts`` and ``sketch`` come from :func:`column_counts`; ranks must be below the column's count.
    """
    if counts is None or sketch is None:
        counts, sketch = column_counts(x)
    width = len(ranks)
    values = [np.full(len(r), np.nan) for r in ranks]
    open_ = [np.arange(len(r)) for r in ranks]
    bounds = [np.asarray(s, dtype=np.float64) for s in sketch]
    intervals: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(np.empty(0), np.empty((2, 0)), np.empty(0))] * width
    for passes in range(MAX_PASSES + 1):
        if not any(len(o) for o in open_):
            return values
        (tallies,) = shoal.compute(tree_reduce(_count_chunk, _count_combine, [x], bounds, name="ml-rank-count"))
        for j in range(width):
            if len(open_[j]):
                lt, le = tallies[j]
                open_[j], spans, below = _resolve(bounds[j], lt, le, ranks[j], values[j], open_[j])
                intervals[j] = (open_[j], spans, below)
        pending = [np.unique(spans, axis=1) for _, spans, _ in intervals]
        # Values still to fetch: per column, the counts inside each distinct open interval.
        sizes = [_inside(bounds[j], tallies[j], p) for j, p in enumerate(pending)]
        if max(sizes, default=0) <= FETCH_LIMIT or passes == MAX_PASSES:
            break
        bounds = [_refine(p) for p in pending]
    spans_per_col = [(p[0], p[1]) for p in pending]
    (fetched,) = shoal.compute(tree_reduce(_fetch_chunk, _fetch_combine, [x], spans_per_col, name="ml-rank-fetch"))
    for j in range(width):
        rest, spans, below = intervals[j]
        if not len(rest):
            continue
        pool = np.sort(fetched[j])
        start = np.searchsorted(pool, spans[0], "right")
        values[j][rest] = pool[start + (ranks[j][rest] - below)]
    return values


def _inside(bounds: np.ndarray, tally: tuple[np.ndarray, np.ndarray], spans: np.ndarray) -> int:
    lt, le = tally
    lo = np.searchsorted(bounds, spans[0])
    hi = np.searchsorted(bounds, spans[1])
    return int((lt[hi] - le[lo]).sum()) if spans.shape[1] else 0


def _refine(spans: np.ndarray) -> np.ndarray:
    """The endpoints of the open intervals ``spans`` (2 x k) plus evenly spaced values inside them."""
    if not spans.shape[1]:
        return np.empty(0)
    per = max(2, REFINE // spans.shape[1])
    inner = [np.linspace(lo, hi, per + 2) for lo, hi in spans.T]
    return np.unique(np.concatenate(inner))


def column_counts(x: Array) -> tuple[np.ndarray, list[np.ndarray]]:
    """Non-NaN counts per column and the sketch's candidate boundaries (one pass); see :func:`sketch_columns`."""
    sketch = sketch_columns(x)
    return sketch["count"], sketch["samples"]


def sketch_columns(x: Array) -> dict[str, Any]:
    """The sketch pass: ``{"count": non-NaN per column, "rows": int, "samples": boundaries per column}``."""
    (sketch,) = shoal.compute(tree_reduce(_sketch_chunk, _sketch_combine, [x], name="ml-rank-sketch"))
    if sketch["infinite"]:
        raise ValueError("Input X contains infinity. Replace infinite values (e.g. with NaN, then impute) first.")
    return sketch  # type: ignore[no-any-return]


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """NumPy's quantile interpolation, rounded as ``numpy.percentile`` rounds it."""
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


def column_percentiles(x: Array, q: np.ndarray, *, counts: np.ndarray | None = None,
                       sketch: list[np.ndarray] | None = None) -> np.ndarray:
    """``numpy.nanpercentile(x, q, axis=0)`` (linear interpolation), exactly; shape ``(len(q), p)``.

    All-NaN columns give NaN.
    """
    if counts is None or sketch is None:
        counts, sketch = column_counts(x)
    fractions = np.true_divide(np.asarray(q, dtype=np.float64), 100)
    plans = []
    for m in counts:
        virtual = (int(m) - 1) * fractions
        below = np.floor(virtual)
        gamma = virtual - below
        below = np.clip(below, 0, max(int(m) - 1, 0)).astype(np.int64)
        above = np.clip(below + 1, 0, max(int(m) - 1, 0))
        plans.append((below, above, gamma))
    wanted = [np.unique(np.concatenate([lo, hi])) if m else np.empty(0, np.int64)
              for (lo, hi, _), m in zip(plans, counts, strict=True)]
    stats = order_statistics(x, wanted, counts, sketch)
    out = np.full((len(fractions), len(counts)), np.nan)
    for j, ((lo, hi, gamma), m) in enumerate(zip(plans, counts, strict=True)):
        if m:
            a = stats[j][np.searchsorted(wanted[j], lo)]
            b = stats[j][np.searchsorted(wanted[j], hi)]
            out[:, j] = _lerp(a, b, gamma)
    return out


def column_medians(x: Array, *, counts: np.ndarray | None = None,
                   sketch: list[np.ndarray] | None = None) -> np.ndarray:
    """``numpy.nanmedian(x, axis=0)``: the middle value, or the mean of the two middle values."""
    if counts is None or sketch is None:
        counts, sketch = column_counts(x)
    wanted = [np.unique([(int(m) - 1) // 2, int(m) // 2]) if m else np.empty(0, np.int64) for m in counts]
    stats = order_statistics(x, wanted, counts, sketch)
    return np.array([np.mean(s) if len(s) else np.nan for s in stats])

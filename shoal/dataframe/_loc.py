"""``df.loc[rows, columns]``: label-based selection, reading only the partitions that can hold the labels.

With known divisions, partition ``i`` holds the labels ``divisions[i] <= label < divisions[i + 1]`` (the last
partition includes its upper bound), so a label belongs to one partition and the others are never read. As in
pandas and Dask, a label that is not in the index is a ``KeyError``: at once when the divisions prove it
(outside them all), otherwise when the one partition that must hold it is computed. A label that repeated
divisions leave to several partitions is looked up leniently in each of them. With unknown divisions every
partition is searched and missing labels are simply absent (the partitions cannot tell which should have
held them).

The column part follows pandas on the metadata: a label, a list, a label slice ``"x":"s"``, a boolean mask.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import Blockwise, Expr, Filter, MapPartitions, Partitions, Projection
from shoal.graph.task import Key, Task

__all__ = ["LocIndexer", "LocLabels", "LocSlice"]


class LocIndexer:
    """``obj.loc[...]``; see the module docstring."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __getitem__(self, key: Any) -> Any:
        cols: Any = None
        has_cols = isinstance(key, tuple)
        if has_cols:
            key, cols = key
        obj = self.obj
        if isinstance(key, FrameBase) and isinstance(key._meta, pd.Series):
            out = new_collection(Filter(obj._expr, key._expr))
        elif isinstance(key, slice):
            if key.step is not None:
                raise ValueError("loc does not support slice steps with shoal; select rows, then compute")
            out = obj if key.start is None and key.stop is None else _loc_slice(obj, key.start, key.stop)
        elif isinstance(key, list | np.ndarray | pd.Index):
            out = _loc_labels(obj, list(key))
        elif isinstance(key, str) and isinstance(obj._meta.index, pd.DatetimeIndex | pd.PeriodIndex):
            # A date string is a period ("2021-01-05" is a whole day): pandas' partial string indexing, as
            # the slice from the string to itself, which is what Dask does too.
            out = _loc_slice(obj, key, key)
        else:
            out = _loc_labels(obj, [key])
        if has_cols:
            out = _select_columns(out, cols)
        return out


def _select_columns(obj: Any, cols: Any) -> Any:
    meta = obj._meta
    if not isinstance(meta, pd.DataFrame):
        raise pd.errors.IndexingError(f"loc[rows, columns] on a Series: too many indexers ({cols!r})")
    if isinstance(cols, slice) or (isinstance(cols, list | np.ndarray | pd.Index | pd.Series)
                                   and pd.api.types.is_bool_dtype(np.asarray(cols))):
        # Label slices ("x":"s", inclusive) and boolean masks: pandas decides on the metadata.
        names = list(meta.loc[:, cols].columns)
        return new_collection(Projection(obj._expr, names))
    return obj[cols]


def _partitions_for(divisions: tuple[Any, ...], start: Any, stop: Any) -> list[int]:
    """Indices of the partitions that can hold labels in ``[start, stop]`` (``None``: unbounded)."""
    n = len(divisions) - 1
    out = []
    for i in range(n):
        lo, hi = divisions[i], divisions[i + 1]
        last = i == n - 1
        if stop is not None and lo > stop:
            continue
        if start is not None and (hi < start or (hi == start and not last)):
            continue
        out.append(i)
    return out


def _label_bound(divisions: tuple[Any, ...], label: Any, end: bool) -> Any:
    """``label`` comparable with the divisions: a date string on a datetime index covers its whole period."""
    if not isinstance(label, str) or not isinstance(divisions[0], pd.Timestamp):
        return label
    try:
        period = pd.Period(label)
    except (ValueError, TypeError):
        return None  # unparseable here: let pandas judge it, partition by partition
    bound = period.end_time if end else period.start_time
    tz = divisions[0].tz
    return bound.tz_localize(tz) if tz is not None else bound


def _slice_loc(part: Any, start: Any, stop: Any) -> Any:
    return part.loc[start:stop]


def _loc_slice(obj: Any, start: Any, stop: Any) -> Any:
    expr = obj._expr
    if not obj.known_divisions:
        return new_collection(MapPartitions(expr, _slice_loc, (start, stop), None, None, "loc", True, True))
    lo, hi = _label_bound(obj.divisions, start, False), _label_bound(obj.divisions, stop, True)
    indices = _partitions_for(obj.divisions, lo, hi) or [0]
    if len(indices) < obj.npartitions:
        expr = Partitions(expr, indices)
    return new_collection(LocSlice(expr, start, stop, lo, hi))


class LocSlice(Blockwise):
    """``part.loc[start:stop]`` on every partition, with the outer divisions narrowed to the slice, as Dask's.

    ``lo``/``hi`` are the bounds comparable with the divisions (``None``: open). Every row left lies within
    them, so the first division becomes ``max(lo, first)`` and the last ``min(hi, last)``; a single
    partition gets ``(lo, hi)`` itself (Dask's ``df.loc[5:8].divisions == (5, 8)``). Worked out from the
    input's divisions, so the bounds stay right when partition pruning hands this node fewer partitions.
    """

    _parameters = ("frame", "start", "stop", "lo", "hi")
    _label = "loc"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        div = tuple(self.frame.divisions)
        lo, hi = self.lo, self.hi
        if div[0] is None or (lo is None and hi is None):
            return div
        try:
            if lo is not None and hi is not None and lo > hi:
                return div  # an empty slice: no bounds to narrow to
            if len(div) == 2:
                first = lo if lo is not None else min(div[0], hi)
                last = hi if hi is not None else max(div[-1], lo)
            else:
                first = div[0] if lo is None else max(lo, div[0])
                last = div[-1] if hi is None else min(hi, div[-1])
        except TypeError:  # bounds that do not compare with the index: pandas decides per partition
            return div
        return (first, *div[1:-1], last)

    def _args(self) -> list[Any]:
        return [self.frame]

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _slice_loc, ctx.input(self.frame, i), self.start, self.stop)

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]


def _take_labels(part: Any, strict: list[Any], lenient: list[Any]) -> Any:
    """The rows of ``strict`` labels (pandas' ``KeyError`` if one is missing) and of the ``lenient`` ones present."""
    if not strict and not lenient:
        return part.iloc[:0]
    present = [lab for lab in lenient if lab in part.index]
    if not strict:
        return part.loc[present]
    missing = [lab for lab in strict if lab not in part.index]
    if missing:
        shown = missing if len(missing) > 1 else missing[0]
        raise KeyError(f"the label [{shown}] is not in the index")
    return part.loc[strict + present] if present else part.loc[strict]


def _comparable(label: Any, divisions: tuple[Any, ...]) -> bool:
    try:
        bool(divisions[0] <= label)
    except TypeError:
        return False
    return True


def _check_in_range(obj: Any, labels: list[Any]) -> None:
    divisions = obj.divisions
    outside = [lab for lab in labels if _comparable(lab, divisions) and not divisions[0] <= lab <= divisions[-1]]
    if outside:
        shown = outside if len(outside) > 1 else outside[0]
        raise KeyError(f"the label [{shown}] is not in the index: the index runs from {divisions[0]!r} to "
                       f"{divisions[-1]!r} (the divisions)")


def _loc_labels(obj: Any, labels: list[Any]) -> Any:
    if not obj.known_divisions or not all(_comparable(lab, obj.divisions) for lab in labels):
        return new_collection(MapPartitions(obj._expr, _take_labels, ((), labels), None, None, "loc", True, True))
    _check_in_range(obj, labels)
    n = obj.npartitions
    strict: list[list[Any]] = [[] for _ in range(n)]
    lenient: list[list[Any]] = [[] for _ in range(n)]
    for lab in labels:
        candidates = _partitions_for(obj.divisions, lab, lab)
        if len(candidates) == 1:
            strict[candidates[0]].append(lab)
        else:
            for i in candidates:
                lenient[i].append(lab)
    used = [i for i in range(n) if strict[i] or lenient[i]] or [0]
    indices = list(range(used[0], used[-1] + 1))
    expr = Partitions(obj._expr, indices) if len(indices) < n else obj._expr
    per_part = tuple((tuple(strict[i]), tuple(lenient[i])) for i in indices)
    return new_collection(LocLabels(expr, per_part))


class LocLabels(Blockwise):
    """Partition ``i`` keeps the rows of ``labels[i] = (strict, lenient)``; see :func:`_take_labels`.

    The labels are assigned to partitions by number, so this node pins its input's partitions: partition
    pruning must not renumber them (see ``_pins_partitions`` in :mod:`shoal.dataframe._lower`).
    """

    _parameters = ("frame", "labels")
    _label = "loc"
    _pins_partitions = True

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        # The first partition keeps no label below its smallest, the last none above its largest (Dask's
        # df.loc[6].divisions == (6, 6)); bounds that would not increase strictly are left as they were.
        div = tuple(self.frame.divisions)
        first, last = (*self.labels[0][0], *self.labels[0][1]), (*self.labels[-1][0], *self.labels[-1][1])
        if div[0] is None or not first or not last:
            return div
        try:
            out = (max(min(first), div[0]), *div[1:-1], min(max(last), div[-1]))
            if len(out) == 2:
                out = (min(first), max(last))
            ok = all(a < b for a, b in zip(out[:-2], out[1:-1], strict=True)) and out[-2] <= out[-1]
        except TypeError:
            return div
        return out if ok else div

    def _args(self) -> list[Any]:
        return [self.frame]

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        strict, lenient = self.labels[i]
        return Task(key, _take_labels, ctx.input(self.frame, i), list(strict), list(lenient))

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]

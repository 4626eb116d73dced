"""``resample(rule)`` on a datetime index with known divisions.

Each output partition owns the bins whose labels fall in ``[L(d_i), L(d_{i+1}))``
(the last one also owns ``L(d_n)``), where ``L(t)`` is the label pandas gives
the bin holding ``t`` and ``d`` are the divisions. Rows of a bin that starts in
one partition and ends in the next are carried forward along a chain of small
tasks, so every bin is aggregated once, from all its rows. Bins with no rows
between partitions are filled with what pandas puts in an empty bin (``0`` for
``sum``, missing for ``mean``), found by asking pandas on a two-row probe. Bins are anchored at the first division
(pandas' default ``origin='start_day'``), so labels match pandas on the whole
frame.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Expr
from shoal.dataframe._meta import make_meta_nonempty
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["Resampler"]

def _anchored(rule: Any) -> bool:
    """Whether pandas lays the bins of ``rule`` out from the data's first timestamp, not on a fixed grid.

    Multiples of calendar offsets ("2W", "2ME", "5B") step from the first row's period; every partition
    must then bin as if it started where the whole frame does.
    """
    offset = to_offset(rule)
    return offset.n != 1 and not isinstance(offset, pd.offsets.Tick | pd.offsets.Day)


def _row_labels(index: pd.DatetimeIndex, rule: str, kwargs: dict[str, Any], anchor: Any = None) -> np.ndarray:
    """The bin label of every row of a sorted index (bins laid out from ``anchor`` when given)."""
    if not len(index):
        return np.array([], dtype=index.dtype)
    extra = anchor is not None and index[0] > anchor
    if extra:
        index = pd.DatetimeIndex([anchor]).append(index)
    sizes = pd.Series(0, index=index).resample(rule, **kwargs).size()
    labels = np.repeat(sizes.index.values, sizes.values)
    return labels[1:] if extra else labels


def _label(t: Any, rule: str, kwargs: dict[str, Any], anchor: Any = None) -> pd.Timestamp:
    return pd.Timestamp(_row_labels(pd.DatetimeIndex([t]), rule, kwargs, anchor)[0])


def _aggregate(joined: Any, row_labels: np.ndarray, rule: str, kwargs: dict[str, Any], method: str,
               args: tuple[Any, ...], anchor: Any) -> Any:
    if anchor is None:
        return getattr(joined.resample(rule, **kwargs), method)(*args)
    # pandas would lay the bins out from this partition's first row: group by the frame-wide labels instead.
    return getattr(joined.groupby(pd.DatetimeIndex(row_labels, name=joined.index.name)), method)(*args)


def _carry_forward(carry: tuple[Any, bool] | None, part: Any, start: Any, rule: str, kwargs: dict[str, Any],
                   anchor: Any = None) -> tuple[Any, bool]:
    """Rows of ``carry + part`` whose bins belong to the next partition (labels ``>= start``), and whether
    any row came before."""
    rows, seen = carry if carry is not None else (None, False)
    joined = part if rows is None or not len(rows) else pd.concat([rows, part])
    return joined[_row_labels(joined.index, rule, kwargs, anchor) >= start], seen or bool(len(joined))


def _has_rows(part: Any, later: bool) -> bool:
    return later or bool(len(part))


def _resample_part(carry: tuple[Any, bool] | None, part: Any, later: bool, lo: Any, hi: Any, last: bool, rule: str,
                   kwargs: dict[str, Any], method: str, args: tuple[Any, ...], meta: Any, anchor: Any = None) -> Any:
    rows, seen = carry if carry is not None else (None, False)
    joined = part if rows is None or not len(rows) else pd.concat([rows, part])
    row_labels = _row_labels(joined.index, rule, kwargs, anchor)
    if not last:
        later = later or bool((row_labels >= hi).any())
        joined, row_labels = joined[row_labels < hi], row_labels[row_labels < hi]
    # Like pandas, bins run from the first row's bin to the last row's: divisions may be looser than the data.
    start = lo if seen else (row_labels[0] if len(row_labels) else None)
    stop = hi if later else (row_labels[-1] if len(row_labels) else None)
    if start is None or stop is None:
        return meta
    edges = [start, stop] if anchor is None or anchor >= start else [anchor, start, stop]
    labels = pd.Series(0, index=pd.DatetimeIndex(edges)).resample(rule, **kwargs).size().index
    freq = labels.freq
    labels = labels[labels >= start]
    labels = labels[labels < hi] if later else labels
    if not len(labels):
        return meta
    out = _aggregate(joined, row_labels, rule, kwargs, method, args, anchor) if len(joined) else meta
    missing = labels.difference(out.index)
    if len(missing):
        sample = joined if len(joined) else make_meta_nonempty(joined)
        fill = _empty_bin(sample.iloc[:1], rule, kwargs, method, args)
        if isinstance(fill, pd.Series) and isinstance(out, pd.DataFrame):
            filler: Any = pd.DataFrame([fill.to_numpy()] * len(missing), index=missing, columns=out.columns)
        else:
            filler = pd.Series([fill] * len(missing), index=missing, name=out.name)
        out = pd.concat([out, filler]).sort_index() if len(out) else filler
    out = _cast(out[(out.index >= labels[0]) & (out.index <= labels[-1])], meta)
    return _with_freq(out, freq)


def _with_freq(out: Any, freq: Any) -> Any:
    """``out`` with pandas' ``freq`` on its index: the bins are consecutive, so ``pd.concat`` of the
    partitions keeps it, as pandas has it on the whole result."""
    if freq is None or not len(out):
        return out
    try:
        index = pd.DatetimeIndex(out.index, freq=freq)
    except ValueError:  # labels that don't follow freq (not expected): leave the index as it is
        return out
    out = out.copy(deep=False)
    out.index = index
    return out


def _empty_bin(row: Any, rule: str, kwargs: dict[str, Any], method: str, args: tuple[Any, ...]) -> Any:
    """What pandas puts in a bin with no rows for this aggregation, found by asking it on two rows two bins apart."""
    probe = pd.concat([row, row])
    start = pd.Timestamp(row.index[0])
    probe.index = pd.DatetimeIndex([start, start + 2 * to_offset(rule)])
    return getattr(probe.resample(rule, **kwargs), method)(*args).iloc[1]


def _cast(out: Any, meta: Any) -> Any:
    try:
        return out.astype(meta.dtypes.to_dict()) if isinstance(meta, pd.DataFrame) else out.astype(meta.dtype)
    except (TypeError, ValueError):  # missing bins turned an int result into floats, as pandas does
        return out


class Resample(Expr):
    """One output partition per input partition; see the module docstring."""

    _parameters = ("frame", "rule", "kwargs", "method", "args")
    _fuses_inputs = False

    @property
    def _label(self) -> str:  # type: ignore[override]
        return f"resample-{self.method}"

    @functools.cached_property
    def _meta(self) -> Any:
        sample = make_meta_nonempty(self.frame._meta)
        return getattr(sample.resample(self.rule, **self.kwargs), self.method)(*self.args).iloc[:0]

    @functools.cached_property
    def _anchor(self) -> Any:
        return pd.Timestamp(self.frame.divisions[0]) if _anchored(self.rule) else None

    @functools.cached_property
    def _bin_labels(self) -> tuple[Any, ...]:
        """``L(d)`` for every input division: input partition ``i`` makes the bins in ``[L(d_i), L(d_i+1))``."""
        return tuple(_label(d, self.rule, self.kwargs, self._anchor) for d in self.frame.divisions)

    @functools.cached_property
    def _kept(self) -> tuple[int, ...]:
        """The input partitions that make bins. One whose divisions share a bin (several partitions inside
        one month for "ME") makes none: its rows are carried to the next, and it gets no output partition,
        so that the divisions increase strictly (but for the last pair), as Dask requires."""
        labels, n = self._bin_labels, self.frame.npartitions
        return tuple(i for i in range(n) if i == n - 1 or labels[i] < labels[i + 1])

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        labels = self._bin_labels
        return (*(labels[i] for i in self._kept), labels[-1])

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n = self.frame.npartitions
        div, anchor = self._bin_labels, self._anchor
        carry, later = f"{self._name}-carry", f"{self._name}-later"
        graph: dict[Key, GraphNode] = {}
        parts = [ctx.input(self.frame, i) for i in range(n)]
        for i in range(n - 2, -1, -1):
            # Whether any rows come after partition i: the last bin is the last row's, not the last division's.
            after = Ref((later, i + 1)) if i < n - 2 else False
            graph[(later, i)] = Task((later, i), _has_rows, parts[i + 1], after)
        for i in range(n - 1):
            prev = Ref((carry, i)) if i > 0 else None
            graph[(carry, i + 1)] = Task((carry, i + 1), _carry_forward, prev, parts[i], div[i + 1], self.rule,
                                         self.kwargs, anchor)
        for j, i in enumerate(self._kept):
            prev = Ref((carry, i)) if i > 0 else None
            after_i = Ref((later, i)) if i < n - 1 else False
            graph[(self._name, j)] = Task((self._name, j), _resample_part, prev, parts[i], after_i, div[i],
                                          div[i + 1], i == n - 1, self.rule, self.kwargs, self.method,
                                          tuple(self.args), self._meta, anchor)
        return graph


class Resampler:
    """``obj.resample(rule, ...)``; aggregate with ``.sum()``, ``.mean()``, ``.agg(...)`` and so on.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = pd.Series(range(6), index=pd.date_range("2024-01-01", periods=6, freq="40min"))
    >>> sd.from_pandas(s, npartitions=3).resample("1h").sum().compute().tolist()
    [1, 2, 7, 5]
    """

    def __init__(self, obj: Any, rule: Any, closed: str | None = None, label: str | None = None,
                 origin: Any = "start_day", offset: Any = None) -> None:
        index = obj._meta.index
        if not isinstance(index, pd.DatetimeIndex):
            raise TypeError(f"resample needs a datetime index, but the index is {type(index).__name__} "
                            f"({index.dtype}); set one with set_index or pass a frame indexed by time.")
        if not obj.known_divisions:
            raise ValueError("resample needs known divisions (sorted index with partition bounds); call "
                             "set_index(...) or repartition(divisions=...) first.")
        start = pd.Timestamp(obj.divisions[0])
        if not isinstance(to_offset(rule), pd.offsets.Tick | pd.offsets.Day):
            # pandas anchors calendar rules (weeks, months) itself, and warns if given an origin. Days are no
            # longer a Tick in pandas 3 but still bin from the origin: '3D' needs the whole frame's anchor.
            origin = None
        elif isinstance(origin, str) and origin in ("start_day", "start"):
            # Anchor bins where pandas would on the whole frame, not at each partition's own start.
            origin = start.normalize() if origin == "start_day" else start
        kwargs = {"closed": closed, "label": label, "origin": origin, "offset": offset}
        self.obj, self.rule = obj, rule
        self.kwargs = {k: v for k, v in kwargs.items() if v is not None}
        pd.Series(0, index=pd.DatetimeIndex([start])).resample(rule, **self.kwargs)  # pandas' checks, now

    def _call(self, method: str, *args: Any) -> Any:
        return new_collection(Resample(self.obj._expr, self.rule, self.kwargs, method, tuple(args)))

    def agg(self, func: Any) -> Any:
        if isinstance(func, str) and hasattr(self, func) and not func.startswith("_"):
            return self._call(func)
        return self._call("agg", func)

    aggregate = agg

    def sum(self) -> Any:
        return self._call("sum")

    def mean(self) -> Any:
        return self._call("mean")

    def count(self) -> Any:
        return self._call("count")

    def size(self) -> Any:
        return self._call("size")

    def min(self) -> Any:
        return self._call("min")

    def max(self) -> Any:
        return self._call("max")

    def first(self) -> Any:
        return self._call("first")

    def last(self) -> Any:
        return self._call("last")

    def median(self) -> Any:
        return self._call("median")

    def std(self) -> Any:
        return self._call("std")

    def var(self) -> Any:
        return self._call("var")

    def prod(self) -> Any:
        return self._call("prod")

    def nunique(self) -> Any:
        return self._call("nunique")

    def ohlc(self) -> Any:
        """First, largest, smallest and last value of each bin as columns ``open high low close`` (mirrors
        ``pandas.core.resample.Resampler.ohlc``; a DataFrame gets them under each column)."""
        return self._call("ohlc")

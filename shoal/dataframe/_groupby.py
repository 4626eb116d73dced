"""``groupby(...).agg(...)`` as a tree reduction over per-partition partial aggregates.

Every requested aggregation is split into *primitives* that combine
associatively: ``sum``, ``count``, ``size``, ``min``, ``max``, ``first``,
``last``, plus ``m2`` (the within-group sum of squared deviations, which
combines with the counts and sums by Chan's parallel formula). A partition's
partial is a small frame indexed by group key with one column per primitive;
partials are concatenated and re-grouped ``split_every`` at a time, and the
last step turns primitives into results (``mean = sum / count``, ``var = m2 /
(count - ddof)``, ...). The output's structure (column names, MultiIndex
columns, index names, dtypes) is taken from pandas running the same call on
the metadata, so it matches pandas by construction.

Keys may be column names, aligned Series (``df.groupby(df.x % 3)``) or a mix
(``["k", series]``). A Series that is just a column of the grouped frame
counts as that column, as in pandas; other Series travel beside the rows as
temporary key columns (see :mod:`shoal.dataframe._groupby_shuffle`), and the
result's index takes their names from the metadata.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._arrow_partials import groupby_partial
from shoal.dataframe._expr import ARROW_CHUNKS, Expr, MapPartitions, Projection, TreeReduce, check_aligned
from shoal.dataframe._groupby_holistic import is_holistic_agg, shuffle_agg
from shoal.dataframe._groupby_more import GroupByMethods
from shoal.dataframe._groupby_observed import expanding, keeping_missing_keys, needs_unobserved, split_groups
from shoal.dataframe._groupby_simple import SimpleAggMethods
from shoal.dataframe._groupby_rolling import RollingGroupBy
from shoal.dataframe._groupby_shuffle import (
    Aggregation,
    GroupOp,
    groupby_custom_agg,
    groupby_nunique,
    groupby_shuffled,
    is_custom,
    keyed_frame,
)
from shoal.dataframe._meta import make_meta_nonempty, meta_from_output
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["Aggregation", "GroupBy", "SeriesGroupBy"]

_SUPPORTED = ("sum", "mean", "count", "min", "max", "std", "var", "size", "first", "last", "prod")
_ALIASES = {sum: "sum", min: "min", max: "max", len: "size", np.sum: "sum", np.mean: "mean", np.min: "min",
            np.max: "max", np.std: "std", np.var: "var"}
# Which primitives each aggregation needs, in terms of its column.
_PRIMITIVES = {
    "sum": ("sum",), "count": ("count",), "size": ("size",), "min": ("min",), "max": ("max",),
    "first": ("first",), "last": ("last",), "prod": ("prod",), "mean": ("sum", "count"),
    "var": ("sum", "count", "m2"), "std": ("sum", "count", "m2"),
}
# How partials of each primitive combine.
_COMBINE = {"sum": "sum", "count": "sum", "size": "sum", "min": "min", "max": "max", "first": "first",
            "last": "last", "prod": "prod"}


def _normalize_func(func: Any) -> str:
    name = _ALIASES.get(func, func) if not isinstance(func, str) else func
    if isinstance(name, str) and not hasattr(pd.core.groupby.DataFrameGroupBy, name):
        raise ValueError(f"unknown groupby aggregation {name!r}: pandas has no such method. Use one of "
                         f"{list(_SUPPORTED)}, or 'median', 'sem', 'any', 'all', 'nunique', 'idxmin', 'idxmax'.")
    if name not in _SUPPORTED:
        raise NotImplementedError(
            f"groupby aggregation {func!r} is not supported; use one of {list(_SUPPORTED)}, one of 'median', "
            f"'sem', 'any', 'all', 'nunique', 'idxmin', 'idxmax', a custom Aggregation, or groupby(...).apply."
        )
    return str(name)


def _chunk(part: Any, *by_parts: Any, keys: list[Any], prims: list[tuple[Any, str]], dropna: bool,
           sort: bool = True) -> pd.DataFrame:
    by = list(by_parts) if by_parts else keys
    grouped = part.groupby(by if len(by) > 1 else by[0], sort=False, dropna=dropna, observed=True)
    columns = []
    for col, prim in prims:
        if prim == "size":
            columns.append(grouped.size())
        elif prim == "m2":
            column = grouped[col]
            columns.append(column.var(ddof=0) * column.count())
        else:
            columns.append(getattr(grouped[col], prim)())
    out = pd.concat(columns, axis=1) if columns else grouped.size().to_frame()
    out.columns = range(len(columns))
    return out


def _combine(parts: list[pd.DataFrame], prims: list[tuple[Any, str]]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)] or parts[:1]
    joined = pd.concat(kept) if len(kept) > 1 else kept[0]
    levels = list(range(joined.index.nlevels))
    grouped = joined.groupby(level=levels, sort=False, dropna=False, observed=True)
    out = {}
    for j, (_col, prim) in enumerate(prims):
        if prim == "m2":
            continue
        out[j] = getattr(grouped[j], _COMBINE[prim])()
    for j, (col, prim) in enumerate(prims):
        if prim != "m2":
            continue
        n_j = prims.index((col, "count"))
        s_j = prims.index((col, "sum"))
        n_i, s_i = joined[n_j], joined[s_j]
        mean_i = s_i / n_i.where(n_i > 0)
        total_n = grouped[n_j].transform("sum")
        total_mean = grouped[s_j].transform("sum") / total_n.where(total_n > 0)
        contribution = (joined[j].fillna(0.0) + n_i * (mean_i - total_mean) ** 2).where(n_i > 0, 0.0)
        out[j] = contribution.groupby(level=levels, sort=False, dropna=False).sum()
    result = pd.DataFrame(out)
    return result[list(range(len(prims)))]


def _aggregate(parts: list[pd.DataFrame], prims: list[tuple[Any, str]], outputs: list[tuple[Any, str]],
               meta: Any, sort: bool, ddof: int) -> Any:
    combined = _combine(parts, prims)
    results = []
    for col, func in outputs:
        if func == "size":
            results.append(combined[prims.index((None, "size"))])
            continue
        if func in _COMBINE:
            results.append(combined[prims.index((col, func))])
            continue
        n = combined[prims.index((col, "count"))]
        s = combined[prims.index((col, "sum"))]
        if func == "mean":
            results.append(s / n.where(n > 0))
            continue
        m2 = combined[prims.index((col, "m2"))]
        denom = (n - ddof).where(n - ddof > 0)
        var = (m2 / denom).astype("f8")
        results.append(np.sqrt(var) if func == "std" else var)
    if isinstance(meta, pd.Series):
        out: Any = results[0].rename(meta.name)
    else:
        out = pd.concat(results, axis=1) if results else pd.DataFrame(index=combined.index)
        out.columns = meta.columns
    out.index.names = meta.index.names
    if sort:
        out = out.sort_index()
    return _cast_like(out, meta)


def _cast_like(out: Any, meta: Any) -> Any:
    try:
        if isinstance(meta, pd.Series):
            return out.astype(meta.dtype) if out.dtype != meta.dtype else out
        wrong = {c: t for c, t in meta.dtypes.items() if out.dtypes[c] != t}
        return out.astype(wrong) if wrong else out
    except (TypeError, ValueError):
        # e.g. an integer sum meta but NaN from min_count semantics; keep the wider dtype.
        return out


def _bucket(partial: pd.DataFrame, j: int, n: int) -> pd.DataFrame:
    """The rows of a partial whose group key hashes to bucket ``j`` of ``n``."""
    codes = pd.util.hash_pandas_object(partial.index, index=False).to_numpy() % n
    return partial[codes == j]


class GroupByReduce(TreeReduce):
    """A groupby tree reduction that reads only the key and aggregated columns.

    With ``split_out > 1`` each partial is split by a hash of the group key
    and every bucket is reduced by its own tree, giving ``split_out`` output
    partitions (for results with many groups, which one task could not hold).
    """

    _parameters = (*TreeReduce._parameters, "used_columns", "split_out")
    _defaults = {**TreeReduce._defaults, "split_out": 1}

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        super().divisions  # noqa: B018 - checks that the inputs are aligned
        return (None,) * ((self.split_out or 1) + 1)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n = self.split_out or 1
        if n == 1:
            return super()._layer(ctx)
        split_every = self.split_every or 8
        frames = list(self.frames)
        graph: dict[Key, GraphNode] = {}
        chunk_name, split_name = f"{self._name}-chunk", f"{self._name}-split"
        for i in range(frames[0].npartitions):
            graph[(chunk_name, i)] = self._chunk_task(ctx, frames, i, (chunk_name, i))
            for j in range(n):
                graph[(split_name, i, j)] = Task((split_name, i, j), _bucket, Ref((chunk_name, i)), j, n)
        for j in range(n):
            level: list[Key] = [(split_name, i, j) for i in range(frames[0].npartitions)]
            depth = 0
            while len(level) > split_every:
                depth += 1
                name = f"{self._name}-combine-{depth}"
                nxt: list[Key] = []
                for g in range(math.ceil(len(level) / split_every)):
                    key = (name, g, j)
                    graph[key] = Task(key, self.combine, [Ref(k) for k in level[g * split_every:(g + 1) * split_every]])
                    nxt.append(key)
                level = nxt
            graph[(self._name, j)] = Task((self._name, j), self.aggregate, [Ref(k) for k in level])
        return graph

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        frames = list(self.frames)
        out: list[tuple[Expr, set[Any] | None]] = [(frames[0], set(self.used_columns))]
        out.extend((f, None) for f in frames[1:])
        return out


class GroupBy(SimpleAggMethods, GroupByMethods):
    """The result of ``df.groupby(by)``; aggregations return lazy collections.

    More methods (median, quantile, idxmin/idxmax, value_counts, unique, any/all, sem, get_group,
    head/tail, shift/diff/ffill/bfill, cummin/cummax, cov/corr) come from
    :class:`~shoal.dataframe._groupby_more.GroupByMethods`.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"k": ["a", "b", "a", "b"], "x": [1, 2, 3, 4]})
    >>> sd.from_pandas(pdf, npartitions=2).groupby("k").x.sum().compute()
    k
    a    4
    b    6
    Name: x, dtype: int64
    """

    def __init__(self, obj: FrameBase, by: Any, *, sort: bool = True, dropna: bool = True, observed: bool = True,
                 group_keys: bool = True, selection: Any = None, **kwargs: Any) -> None:
        self.obj = obj
        self.sort = sort
        self.dropna = dropna
        self.group_keys = group_keys
        self.observed = observed
        by_list = list(by) if isinstance(by, list | tuple) else [by]
        #: The grouping in the user's order: column names and aligned Series (a Series that is just a
        #: column of ``obj`` becomes that column's name, as pandas then leaves it out of the values).
        self.by: list[Any] = [_index_level_key(obj, _as_column_name(obj, b)) for b in by_list]
        self.keys: list[Any] = [b for b in self.by if not isinstance(b, FrameBase)]
        self.by_series: list[FrameBase] = [b for b in self.by if isinstance(b, FrameBase)]
        if self.by_series:
            # Grouping Series are read partition by partition beside obj, so they must be split alike.
            check_aligned([obj._expr, *(b._expr for b in self.by_series)], "groupby by a Series")
        meta = obj._meta
        if self.keys:
            if not isinstance(meta, pd.DataFrame):
                raise KeyError(f"A Series can only be grouped by Series, got keys {self.keys}")
            missing = [k for k in self.keys if k not in meta.columns]
            if missing:
                raise KeyError(f"groupby: column(s) {missing} not found. Available columns: {list(meta.columns)}.")
        self.selection = selection
        if selection is not None and isinstance(meta, pd.DataFrame):
            cols = selection if isinstance(selection, list) else [selection]
            missing = [c for c in cols if c not in meta.columns]
            if missing:
                raise KeyError(f"groupby selection: column(s) {missing} not found. Available columns: "
                               f"{list(meta.columns)}.")

    def __getitem__(self, key: Any) -> GroupBy:
        cls = GroupBy if isinstance(key, list) else SeriesGroupBy
        return cls(self.obj, self.by, sort=self.sort, dropna=self.dropna, observed=self.observed,
                   group_keys=self.group_keys, selection=key)

    def __getattr__(self, name: str) -> GroupBy:
        if not name.startswith("_") and isinstance(self.obj._meta, pd.DataFrame) and name in self.obj._meta.columns:
            return self[name]
        raise AttributeError(f"'GroupBy' object has no attribute {name!r}")

    # -- pandas on metadata --------------------------------------------------------------------
    def _pandas_groupby(self) -> Any:
        frame = make_meta_nonempty(self.obj._meta)
        by: Any = [make_meta_nonempty(b._meta) if isinstance(b, FrameBase) else b for b in self.by]
        grouped = frame.groupby(by if len(by) > 1 else by[0], sort=self.sort, dropna=self.dropna, observed=True)
        return grouped[self.selection] if self.selection is not None else grouped

    def _value_columns(self) -> list[Any]:
        meta = self.obj._meta
        if not isinstance(meta, pd.DataFrame):
            return [_SERIES]
        if self.selection is not None:
            return list(self.selection) if isinstance(self.selection, list) else [self.selection]
        return [c for c in meta.columns if c not in self.keys]

    # -- aggregation -----------------------------------------------------------------------------
    def agg(self, arg: Any = None, *, split_every: int | None = None, split_out: int | None = None,
            ddof: int = 1, **named: Any) -> Any:
        """Aggregate with a name, a list of names, a ``{column: name(s)}`` dict, or named aggregations.

        Supported names: sum, mean, count, min, max, std, var, size, first, last, prod (tree reductions), and
        median, sem, any, all, nunique, idxmin, idxmax (the whole spec then runs on whole groups after a shuffle).
        """
        if split_out is not None and split_out < 1:
            raise ValueError(f"split_out must be at least 1, got {split_out}")
        series_gb = isinstance(self, SeriesGroupBy) or not isinstance(self.obj._meta, pd.DataFrame)
        if not is_custom(arg) and is_holistic_agg(arg, named):
            # e.g. "median": no exact partial to combine, so pandas aggregates whole groups after a shuffle.
            return shuffle_agg(self, arg, named, split_out)
        if is_custom(arg):
            return self._custom_agg(arg, series_gb, split_every)
        outputs: list[tuple[Any, str]] = []
        if arg is None and named:
            for spec in named.values():
                if series_gb:
                    outputs.append((self._value_columns()[0], _normalize_func(spec)))
                else:
                    col, func = spec
                    outputs.append((col, _normalize_func(func)))
            meta_call = functools.partial(_named_agg, named=named)
        elif isinstance(arg, dict):
            if series_gb:
                raise TypeError("A SeriesGroupBy takes a name or a list of names, not a dict")
            for col, funcs in arg.items():
                for f in funcs if isinstance(funcs, list) else [funcs]:
                    outputs.append((col, _normalize_func(f)))
            meta_call = functools.partial(_agg_call, arg=arg)
        elif isinstance(arg, list | tuple):
            for col in self._value_columns():
                for f in arg:
                    outputs.append((col, _normalize_func(f)))
            meta_call = functools.partial(_agg_call, arg=list(arg))
        elif arg is not None:
            name = _normalize_func(arg)
            if name == "size":
                outputs.append((None, "size"))
            else:
                outputs.extend((col, name) for col in self._value_columns())
            meta_call = functools.partial(_agg_call, arg=name)
        else:
            raise TypeError("agg needs a function name, a list, a dict or named aggregations")
        if not series_gb:
            missing = [c for c, _ in outputs if c is not None and c not in self.obj._meta.columns]
            if missing:
                raise KeyError(f"groupby.agg: column(s) {missing} not found. Available columns: "
                               f"{list(self.obj._meta.columns)}.")
        meta = meta_from_output(meta_call(self._pandas_groupby(), ddof=ddof))
        if isinstance(meta, pd.DataFrame) and len(meta.columns) != len(outputs):
            # pandas dropped or reordered columns (e.g. a non-numeric column); follow its columns.
            if arg is not None and isinstance(arg, str) and arg != "size":
                outputs = [(c, outputs[0][1]) for c in meta.columns]
        return self._build(outputs, meta, split_every, ddof, split_out or 1,
                           functools.partial(meta_call, ddof=ddof))

    aggregate = agg

    def _build(self, outputs: list[tuple[Any, str]], meta: Any, split_every: int | None, ddof: int,
               split_out: int = 1, op: Any = None) -> Any:
        if split_out > 1 and op is not None and needs_unobserved(self):
            # Which groups are absent is known only once all are in one place: aggregate, then split.
            return split_groups(self._build(outputs, meta, split_every, ddof, 1, op), split_out)
        if op is not None and keeping_missing_keys(self) is not self:
            return keeping_missing_keys(self)._build(outputs, meta, split_every, ddof, split_out, op)
        prims: list[tuple[Any, str]] = []
        for col, func in outputs:
            for prim in _PRIMITIVES[func]:
                entry = (None, "size") if prim == "size" else (col, prim)
                if entry not in prims:
                    prims.append(entry)
        series = not isinstance(self.obj._meta, pd.DataFrame)
        if series or not self.by_series:
            frames, keys = [self.obj._expr, *(s._expr for s in self.by_series)], self.keys
        else:
            # Grouping Series travel as temporary key columns; the result's index names come from the meta.
            frame, keys, _spec = keyed_frame(self)
            frames = [frame]
        used = {*keys, *(c for c, _ in prims if c is not None)}
        # ``sort`` only tells the Arrow kernel whether the partial's group order matters.
        chunk_kwargs = {"keys": keys, "prims": prims, "dropna": self.dropna, "sort": self.sort}
        final = functools.partial(_aggregate, prims=prims, outputs=outputs, meta=meta, sort=self.sort, ddof=ddof)
        expr = GroupByReduce(
            frames, _series_chunk if series else _chunk,
            functools.partial(_combine, prims=prims),
            expanding(final, self, op, "agg") if op is not None else final,
            meta, "groupby-agg", chunk_kwargs, split_every, sorted(used, key=str), split_out,
        )
        return new_collection(expr)

    def _custom_agg(self, arg: Any, series_gb: bool, split_every: int | None) -> Any:
        """``agg`` with :class:`~shoal.dataframe.Aggregation` objects (not mixed with built-in names)."""
        def check(f: Any) -> Aggregation:
            if not isinstance(f, Aggregation):
                raise NotImplementedError(f"groupby.agg cannot mix Aggregation objects with {f!r}; "
                                          f"aggregate them separately and concat the results")
            return f

        specs: list[tuple[Any, Aggregation]] = []
        names: list[Any] = []
        if isinstance(arg, dict):
            if series_gb:
                raise TypeError("A SeriesGroupBy takes a name or a list of names, not a dict")
            for col, funcs in arg.items():
                many = isinstance(funcs, list | tuple)
                for f in funcs if many else [funcs]:
                    specs.append((col, check(f)))
                    names.append((col, f.__name__) if many else col)
            if any(isinstance(n, tuple) for n in names):
                names = [n if isinstance(n, tuple) else (n, arg[n].__name__) for n in names]
            series_out = False
        elif isinstance(arg, list | tuple):
            for col in self._value_columns():
                for f in arg:
                    specs.append((col, check(f)))
                    names.append(f.__name__ if series_gb else (col, f.__name__))
            series_out = False
        else:
            specs = [(col, arg) for col in self._value_columns()]
            names = [self.selection if series_gb else c for c in self._value_columns()]
            series_out = series_gb
        missing = [c for c, _ in specs if not series_gb and c not in self.obj._meta.columns]
        if missing:
            raise KeyError(f"groupby.agg: column(s) {missing} not found. Available columns: "
                           f"{list(self.obj._meta.columns)}.")
        return groupby_custom_agg(self, specs, series_out, names, split_every)

    # -- whole groups after a shuffle on the keys ---------------------------------------------------
    def apply(self, func: Any, *args: Any, meta: Any = None, shuffle_npartitions: int | None = None,
              **kwargs: Any) -> Any:
        """``func`` on every group (pandas ``apply``), after hash-shuffling rows so each group is in one partition.

        Pass ``meta=`` to skip running ``func`` on a small sample to learn the output's structure.
        """
        return groupby_shuffled(self, "apply", func, args, kwargs, meta, shuffle_npartitions)

    def transform(self, func: Any, *args: Any, meta: Any = None, shuffle_npartitions: int | None = None,
                  **kwargs: Any) -> Any:
        """``func`` transforming every group (pandas ``transform``) after a shuffle on the keys.

        The result keeps the original index, but rows come back grouped by partition; ``sort_index`` to compare.
        """
        return groupby_shuffled(self, "transform", func, args, kwargs, meta, shuffle_npartitions)

    def cumsum(self, axis: Any = None) -> Any:
        """Running sum within each group (after a shuffle on the keys; rows come back grouped by partition)."""
        return groupby_shuffled(self, "cumsum")

    def cumprod(self, axis: Any = None) -> Any:
        """Running product within each group (after a shuffle on the keys)."""
        return groupby_shuffled(self, "cumprod")

    def cumcount(self, ascending: bool = True) -> Any:
        """Position of each row within its group (after a shuffle on the keys; in-partition order is kept)."""
        return groupby_shuffled(self, "cumcount", args=(ascending,))

    def rolling(self, window: Any, min_periods: int | None = None, center: bool = False, win_type: str | None = None,
                on: Any = None, closed: str | None = None) -> RollingGroupBy:
        """Moving windows within each group (``sum``, ``mean``, ``count``, ``min``, ``max``, ``std``, ``var``, ...).

        Rows are shuffled on the keys so each group is whole in one partition; see
        :mod:`shoal.dataframe._groupby_rolling`.
        """
        return RollingGroupBy(self, window, min_periods=min_periods, center=center, win_type=win_type, on=on,
                              closed=closed)

    def nunique(self, split_every: int | None = None, split_out: int | None = None) -> Any:
        """Distinct values per group of the selected column (``df.groupby(keys)[column].nunique()``)."""
        if split_out not in (None, 1):
            raise NotImplementedError("groupby nunique supports split_out=1 only")
        gb = keeping_missing_keys(self)
        return groupby_nunique(gb, split_every, lambda final: expanding(final, gb, GroupOp("nunique"), "nunique"))


def _as_column_name(obj: FrameBase, by: Any) -> Any:
    """``by`` itself, or the column name when ``by`` is ``obj[name]`` (same plan, so the same rows)."""
    if isinstance(by, FrameBase) and isinstance(obj._meta, pd.DataFrame) and isinstance(by._expr, Projection):
        frame, name = by._expr.frame, by._expr.columns_
        if frame._name == obj._expr._name and not isinstance(name, list) and name in obj._meta.columns:
            return name
    return by


def _index_series(part: Any) -> pd.Series:
    return part.index.to_series()


def _index_level_key(obj: FrameBase, by: Any) -> Any:
    """``by`` itself, or the index as a Series when ``by`` names the index (pandas groups by that level)."""
    meta = obj._meta
    if (isinstance(by, FrameBase) or not isinstance(meta, pd.DataFrame) or meta.index.name is None
            or by != meta.index.name or by in meta.columns):
        return by
    series_meta = meta.index.to_series()
    return new_collection(MapPartitions(obj._expr, _index_series, (), None, series_meta, "index-key", False, True))


class SeriesGroupBy(GroupBy):
    """``df.groupby(...)[column]`` or ``series.groupby(...)``."""


#: Placeholder column name for a grouped Series (its values live in the partition itself).
_SERIES = "__series__"


def _series_chunk(part: Any, *by_parts: Any, keys: list[Any], prims: list[tuple[Any, str]], dropna: bool,
                  sort: bool = True) -> pd.DataFrame:
    frame = part.to_frame(_SERIES)
    return _chunk(frame, *by_parts, keys=keys, prims=prims, dropna=dropna)


ARROW_CHUNKS[_chunk] = groupby_partial


def _agg_call(grouped: Any, arg: Any, ddof: int) -> Any:
    if arg in ("var", "std"):
        return getattr(grouped, arg)(ddof=ddof)
    return grouped.agg(arg)


def _named_agg(grouped: Any, named: dict[str, Any], ddof: int) -> Any:
    return grouped.agg(**named)

"""Group-wise operations that need whole groups in one partition: ``apply``, ``transform``, cumulative ops.

Rows are hash-shuffled on the group keys (:class:`~shoal.dataframe._shuffle.HashPartitioner`), so every
group lands complete in one output partition; pandas then runs the operation partition by partition.
Row order across partitions is not kept (as in Dask, compare after ``sort_index``); the output's
divisions are unknown.

Grouping Series (``df.groupby(df.x % 3)``, or a mix such as ``["k", series]``) travel with the rows as
temporary key columns (:func:`keyed_frame`), so the shuffle hashes them like any key column; inside a
partition :func:`regroup` turns them back into Series with their original names before pandas groups.

Also here: ``nunique`` per group (a tree reduction of distinct ``(key, value)`` pairs) and custom
:class:`Aggregation` objects (``chunk`` per partition, ``agg`` on combined partials, ``finalize`` last).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._enforce import CastToMeta
from shoal.dataframe._expr import Assign, Expr, MapPartitions, TreeReduce
from shoal.dataframe._meta import inference_error, make_meta, make_meta_nonempty, meta_from_output
from shoal.dataframe._shuffle import HashPartitioner, shuffle_expr

__all__ = ["Aggregation", "GroupOp", "groupby_custom_agg", "groupby_nunique", "groupby_shuffled", "keyed_frame",
           "regroup"]


class Aggregation:
    """A user-defined groupby aggregation for ``groupby(...).agg(...)``.

    ``chunk(grouped)`` runs on each partition's ``SeriesGroupBy`` and returns a
    Series indexed by group (or a tuple of them); ``agg(grouped)`` receives the
    concatenated partials grouped again by key (a tuple of ``SeriesGroupBy``
    when ``chunk`` returned a tuple) and must combine them associatively;
    ``finalize`` turns the combined partial(s) into the result.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> custom_sum = sd.Aggregation("custom_sum", lambda s: s.sum(), lambda s0: s0.sum())
    >>> pdf = pd.DataFrame({"k": ["a", "b", "a"], "x": [1, 2, 3]})
    >>> sd.from_pandas(pdf, npartitions=2).groupby("k").x.agg(custom_sum).compute()
    k
    a    4
    b    2
    Name: x, dtype: int64
    """

    def __init__(self, name: str, chunk: Callable[..., Any], agg: Callable[..., Any],
                 finalize: Callable[..., Any] | None = None) -> None:
        self.__name__ = name
        self.chunk, self.agg, self.finalize = chunk, agg, finalize

    def __repr__(self) -> str:
        return f"Aggregation({self.__name__!r})"

    def __dask_tokenize__(self) -> Any:
        return ("aggregation", self.__name__, id(self.chunk), id(self.agg), id(self.finalize))


# -- group keys as columns --------------------------------------------------------------------------

#: Column name template for a grouping Series carried along as a column of the grouped frame.
_BY = "__shoal_by_{}__"
#: Column holding a grouped Series' values while it travels as a frame.
_VALUES = "__shoal_values__"


def _to_values_frame(part: Any) -> pd.DataFrame:
    return part.to_frame(_VALUES)


def keyed_frame(gb: Any) -> tuple[Expr, list[Any], list[Any]]:
    """``gb.obj`` as a frame in which every group key is a column, for work that moves or regroups rows.

    Returns the frame's expression, the key column names in grouping order and the *spec* that
    :func:`regroup` uses to rebuild the original grouping inside a partition: one entry per key,
    a column name, or ``(temporary column, original Series name)`` for a grouping Series.
    """
    expr = gb.obj._expr
    if not isinstance(gb.obj._meta, pd.DataFrame):
        meta = gb.obj._meta.to_frame(_VALUES)
        expr = MapPartitions(expr, _to_values_frame, (), None, meta, "to-frame", False, True)
    names: list[Any] = []
    spec: list[Any] = []
    for j, by in enumerate(gb.by):
        if isinstance(by, FrameBase):
            column = _BY.format(j)
            expr = Assign(expr, column, by._expr)
            names.append(column)
            spec.append((column, by._meta.name))
        else:
            names.append(by)
            spec.append(by)
    return expr, names, spec


def regroup(part: pd.DataFrame, spec: list[Any], series_name: Any) -> tuple[Any, list[Any]]:
    """The grouped object and ``by`` list of the user's call, rebuilt from a :func:`keyed_frame` partition."""
    temporary = [s[0] for s in spec if isinstance(s, tuple)]
    by = [part[s[0]].rename(s[1]) if isinstance(s, tuple) else s for s in spec]
    data = part.drop(columns=temporary) if temporary else part
    if _VALUES in data.columns:
        data = data[_VALUES].rename(series_name)
    return data, by


# -- shuffle then per-partition ------------------------------------------------------------------

class GroupOp:
    """``grouped.<method>(*args, **kwargs)``, or ``grouped.<method>(func, ...)`` for apply/transform."""

    def __init__(self, method: str, func: Any = None, args: tuple[Any, ...] = (),
                 kwargs: dict[str, Any] | None = None) -> None:
        self.method, self.func, self.args, self.kwargs = method, func, tuple(args), dict(kwargs or {})

    def __call__(self, grouped: Any) -> Any:
        if self.method in ("apply", "transform"):
            return getattr(grouped, self.method)(self.func, *self.args, **self.kwargs)
        return getattr(grouped, self.method)(*self.args, **self.kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("group-op", self.method, self.func, self.args, self.kwargs)


def _per_partition(part: Any, spec: list[Any], series_name: Any, selection: Any, sort: bool, dropna: bool,
                   group_keys: bool, op: Any) -> Any:
    data, by = regroup(part, spec, series_name)
    grouped = data.groupby(by if len(by) > 1 else by[0], sort=sort, dropna=dropna, observed=True,
                           group_keys=group_keys)
    if selection is not None:
        grouped = grouped[selection]
    return op(grouped)


def groupby_shuffled(gb: Any, method: str, func: Any = None, args: tuple[Any, ...] = (),
                     kwargs: dict[str, Any] | None = None, meta: Any = None, shuffle_npartitions: int | None = None,
                     op: Any = None) -> Any:
    """``op(grouped)`` (default: ``grouped.<method>(func, ...)``) per partition after shuffling on the keys."""
    op = op if op is not None else GroupOp(method, func, args, kwargs)
    frame, names, spec = keyed_frame(gb)
    npartitions = shuffle_npartitions or gb.obj.npartitions
    shuffled = shuffle_expr(frame, HashPartitioner(list(names), npartitions), npartitions, "groupby-shuffle")
    call = functools.partial(_per_partition, spec=spec, series_name=gb.obj._meta.name if not isinstance(
        gb.obj._meta, pd.DataFrame) else None, selection=gb.selection, sort=gb.sort, dropna=gb.dropna,
        group_keys=gb.group_keys, op=op)
    if meta is not None:
        out_meta = make_meta(meta)
        if isinstance(out_meta, pd.Series):
            # As Dask: the output takes the name (and dtype) meta= announced, so compute() agrees with it.
            call = CastToMeta(call, out_meta)
    else:
        try:
            out_meta = meta_from_output(call(make_meta_nonempty(frame._meta)))
        except Exception as exc:
            raise inference_error(
                exc, f"shoal could not infer the output of groupby(...).{method} by running it on a small sample "
                f"({type(exc).__name__}: {exc}). Pass meta= with an empty pandas object shaped like the output."
            ) from exc
    expr = MapPartitions(shuffled, call, (), None, out_meta, f"groupby-{method}", False, False)
    return new_collection(expr)


# -- nunique ------------------------------------------------------------------------------------

def _pairs_chunk(part: Any, keys: list[Any], column: Any, dropna: bool) -> pd.DataFrame:
    frame = part[[*keys, column]]
    if dropna:
        frame = frame.dropna(subset=keys)
    return frame.drop_duplicates()


def _pairs_combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)] or parts[:1]
    return (pd.concat(kept) if len(kept) > 1 else kept[0]).drop_duplicates()


def _pairs_nunique(parts: list[pd.DataFrame], keys: list[Any], column: Any, sort: bool, meta: Any) -> Any:
    pairs = _pairs_combine(parts)
    out = pairs.groupby(keys if len(keys) > 1 else keys[0], sort=sort, dropna=False, observed=True)[column].nunique()
    out = out.rename(meta.name)
    out.index.names = meta.index.names
    return out.astype(meta.dtype)


def groupby_nunique(gb: Any, split_every: int | None = None,
                    wrap: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None) -> Any:
    """Distinct values of the selected column per group: a tree reduction of distinct ``(keys, value)`` rows.

    ``wrap`` may replace the last step (given the step, it returns the one to use).
    """
    series = not isinstance(gb.obj._meta, pd.DataFrame)
    if not series and (gb.selection is None or isinstance(gb.selection, list)):
        raise NotImplementedError("groupby nunique supports df.groupby(keys)[one column].nunique() and "
                                  "series.groupby(keys).nunique()")
    frame, keys, _spec = keyed_frame(gb)
    column = _VALUES if series else gb.selection
    meta = meta_from_output(gb._pandas_groupby().nunique())
    final = functools.partial(_pairs_nunique, keys=keys, column=column, sort=gb.sort, meta=meta)
    if wrap is not None:
        final = wrap(final)
    project = MapPartitions(frame, _select_columns, ([*keys, column],), None,
                            frame._meta[[*keys, column]], "groupby-nunique-select", True, True)
    expr = TreeReduce([project], _pairs_chunk, _pairs_combine,
                      final,
                      meta, "groupby-nunique", {"keys": keys, "column": column, "dropna": gb.dropna}, split_every)
    return new_collection(expr)


def _select_columns(part: Any, columns: list[Any]) -> Any:
    return part[columns]


# -- custom aggregations --------------------------------------------------------------------------

def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)


def _custom_chunk(part: Any, keys: list[Any], specs: list[tuple[Any, Aggregation]], dropna: bool,
                  series: bool) -> pd.DataFrame:
    frame = part.to_frame("__series__") if series else part
    grouped = frame.groupby(keys if len(keys) > 1 else keys[0], sort=False, dropna=dropna, observed=True)
    pieces: dict[Any, Any] = {}
    for j, (col, spec) in enumerate(specs):
        for m, s in enumerate(_as_tuple(spec.chunk(grouped[col]))):
            pieces[f"{j}:{m}"] = s
    return pd.DataFrame(pieces)


def _custom_reduce(parts: list[pd.DataFrame], specs: list[tuple[Any, Aggregation]]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)] or parts[:1]
    joined = pd.concat(kept) if len(kept) > 1 else kept[0]
    grouped = joined.groupby(level=list(range(joined.index.nlevels)), sort=False, dropna=False, observed=True)
    pieces: dict[Any, Any] = {}
    for j, (_col, spec) in enumerate(specs):
        cols = [c for c in joined.columns if c.split(":")[0] == str(j)]
        inputs = tuple(grouped[c] for c in cols)
        results = _as_tuple(spec.agg(*inputs) if len(inputs) > 1 else spec.agg(inputs[0]))
        for m, s in enumerate(results):
            pieces[f"{j}:{m}"] = s
    return pd.DataFrame(pieces)


def _custom_aggregate(parts: list[pd.DataFrame], specs: list[tuple[Any, Aggregation]], names: list[Any],
                      series_out: bool, sort: bool, index_names: list[Any] | None = None) -> Any:
    combined = _custom_reduce(parts, specs)
    results = []
    for j, (_col, spec) in enumerate(specs):
        cols = [combined[c] for c in combined.columns if c.split(":")[0] == str(j)]
        if spec.finalize is not None:
            results.append(spec.finalize(*cols))
        else:
            results.append(cols[0])
    if series_out:
        out: Any = results[0].rename(names[0])
    else:
        out = pd.concat(results, axis=1)
        out.columns = pd.MultiIndex.from_tuples(names) if names and isinstance(names[0], tuple) else names
    if index_names is not None:
        # Keys that travelled as temporary columns get back the names the user's Series had.
        out.index.names = index_names
    if sort:
        out = out.sort_index()
    return out


def groupby_custom_agg(gb: Any, specs: list[tuple[Any, Aggregation]], series_out: bool, names: list[Any],
                       split_every: int | None = None) -> Any:
    """``agg`` with only :class:`Aggregation` objects: ``specs`` pairs a value column with one of them."""
    series = not isinstance(gb.obj._meta, pd.DataFrame)
    frame, keys, _spec = keyed_frame(gb)
    if not getattr(gb, "observed", True) and any(isinstance(frame._meta[k].dtype, pd.CategoricalDtype) for k in keys):
        raise NotImplementedError("groupby(..., observed=False).agg with Aggregation objects is not supported; "
                                  "group with observed=True (the default) and reindex the result on the categories")
    if series:
        specs = [(_VALUES, spec) for _col, spec in specs]
    chunk_kwargs = {"keys": keys, "specs": specs, "dropna": gb.dropna, "series": False}
    # The output structure comes from running the whole aggregation on a small sample.
    sample = make_meta_nonempty(frame._meta)
    partial = _custom_chunk(sample, **chunk_kwargs)
    index_names = list(gb._pandas_groupby().size().index.names)
    final = functools.partial(_custom_aggregate, specs=specs, names=names, series_out=series_out, sort=gb.sort,
                              index_names=index_names)
    meta = meta_from_output(final([partial]))
    expr = TreeReduce([frame], _custom_chunk, functools.partial(_custom_reduce, specs=specs), final,
                      meta, "groupby-custom-agg", chunk_kwargs, split_every)
    return new_collection(expr)


def is_custom(arg: Any) -> bool:
    if isinstance(arg, Aggregation):
        return True
    if isinstance(arg, list | tuple):
        return any(isinstance(a, Aggregation) for a in arg)
    if isinstance(arg, dict):
        return any(is_custom(v) for v in arg.values())
    return False

"""Reductions as tree reductions: per-partition partials, combined ``split_every`` at a time.

Each reduction is a triple of pure functions ``(chunk, combine, aggregate)``
handed to :class:`~shoal.dataframe._expr.TreeReduce`. Partials are small (one
value per column, or per distinct value for ``value_counts``), so memory is
bounded by the width of the tree. Variance uses the parallel algorithm of
Chan, Golub and LeVeque (count, mean, sum of squared deviations per partial),
which stays accurate where ``sum(x**2) - n*mean**2`` would cancel.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._arrow_partials import value_counts_partial
from shoal.dataframe._expr import ARROW_CHUNKS, Expr, MapPartitions, TreeReduce
from shoal.dataframe._meta import make_meta_nonempty, meta_from_output
from shoal.graph.task import Key, Task

__all__ = ["ColumnReduce", "Length", "PartitionValues", "memory_usage", "memory_usage_per_partition", "moment",
           "nunique", "partition_values", "quantile", "reduction", "tree_reduce", "value_counts"]


class ColumnReduce(TreeReduce):
    """A tree reduction of a DataFrame along its index: one Series indexed by (some of) the column labels.

    Its one partition has known divisions, as Dask's: the smallest and largest column label of the
    reduced frame, which bound every label of the result (unknown when the labels do not sort).
    """

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        unknown = TreeReduce.divisions.func(self)  # type: ignore[attr-defined]  # the checks, and (None, None)
        frame, out = self.frames[0]._meta, self.meta
        if not isinstance(frame, pd.DataFrame) or not isinstance(out, pd.Series) or not len(frame.columns):
            return unknown
        try:
            labels = sorted(frame.columns)
        except TypeError:  # mixed label types (1 and "a") have no order
            return unknown
        return (labels[0], labels[-1])


def tree_reduce(frames: list[Expr], *args: Any) -> TreeReduce:
    """``TreeReduce(frames, *args)``, as a :class:`ColumnReduce` when it reduces a frame to a per-column Series."""
    meta = args[3]
    if isinstance(frames[0]._meta, pd.DataFrame) and isinstance(meta, pd.Series):
        return ColumnReduce(frames, *args)
    return TreeReduce(frames, *args)


def _stack(parts: list[Any]) -> Any:
    """Stack partials: Series (one per partition, indexed by column) become rows of a frame."""
    if isinstance(parts[0], pd.Series):
        return pd.DataFrame(parts)
    return pd.Series(parts)


def _apply_method(part: Any, method: str, kwargs: dict[str, Any]) -> Any:
    return getattr(part, method)(**kwargs)


def _stack_then(parts: list[Any], method: str, kwargs: dict[str, Any]) -> Any:
    stacked = _stack(parts)
    return getattr(stacked, method)(**kwargs)


def _finalize_like(value: Any, meta: Any) -> Any:
    # Partials may widen dtypes (an all-empty partition sums to float 0.0);
    # give the result the dtype pandas would.
    if isinstance(value, pd.Series) and isinstance(meta, pd.Series) and value.dtype != meta.dtype:
        try:
            return value.astype(meta.dtype)
        except (TypeError, ValueError):
            return value
    if isinstance(meta, np.generic) and not isinstance(value, pd.Series):
        try:
            return type(meta)(value) if not (isinstance(value, float) and np.isnan(value)) else value
        except (TypeError, ValueError):
            return value
    return value


def _aggregate_then(parts: list[Any], method: str, kwargs: dict[str, Any], meta: Any) -> Any:
    return _finalize_like(_stack_then(parts, method, kwargs), meta)


def _reduction_meta(meta: Any, method: str, kwargs: dict[str, Any]) -> Any:
    try:
        return getattr(make_meta_nonempty(meta), method)(**kwargs)
    except Exception:  # noqa: BLE001 - some dtypes don't reduce; the error surfaces at compute
        return getattr(meta, method)(**kwargs)


def reduction(expr: Expr, method: str, *, split_every: int | None = None, **kwargs: Any) -> TreeReduce:
    """``sum``, ``min``, ``max``, ``prod``, ``any``, ``all``, ``count`` by stacking partials.

    ``count`` partials are summed; the others reduce again with the same method.
    """
    meta = meta_from_output(_reduction_meta(expr._meta, method, kwargs))
    if method in ("sum", "prod") and kwargs.get("min_count", 0) > 0:
        return _min_count_reduction(expr, method, meta, split_every, kwargs)
    again = "sum" if method == "count" else method
    agg_kwargs = {k: v for k, v in kwargs.items() if k in ("skipna", "numeric_only") and method != "count"}
    if method in ("sum", "prod") and "min_count" in kwargs:
        agg_kwargs["min_count"] = kwargs["min_count"]
    chunk_kwargs = dict(kwargs)
    if method in ("sum", "prod"):
        # min_count applies to the whole column, not to each partition.
        chunk_kwargs.pop("min_count", None)
    return tree_reduce(
        [expr], _apply_method, functools.partial(_stack_then, method=again, kwargs=agg_kwargs),
        functools.partial(_aggregate_then, method=again, kwargs=agg_kwargs, meta=meta), meta, method,
        {"method": method, "kwargs": chunk_kwargs}, split_every,
    )


def _min_count_chunk(part: Any, method: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """The partition's sum (or product) and its count of non-missing values, per column for a frame."""
    value = getattr(part, method)(**kwargs)
    count = part.count()
    if isinstance(value, pd.Series):
        count = count.reindex(value.index)  # numeric_only may have dropped columns
    return value, count


def _min_count_combine(parts: list[tuple[Any, Any]], method: str) -> tuple[Any, Any]:
    value, count = parts[0]
    for v, c in parts[1:]:
        value = value + v if method == "sum" else value * v
        count = count + c
    return value, count


def _min_count_aggregate(parts: list[tuple[Any, Any]], method: str, min_count: int, meta: Any) -> Any:
    # min_count applies to the whole column, so it is checked on the total count, not per partition.
    value, count = _min_count_combine(parts, method)
    if isinstance(value, pd.Series):
        return _finalize_like(value.where(count >= min_count), meta)
    return np.float64(np.nan) if count < min_count else _finalize_like(value, meta)


def _min_count_reduction(expr: Expr, method: str, meta: Any, split_every: int | None,
                         kwargs: dict[str, Any]) -> TreeReduce:
    chunk_kwargs = {k: v for k, v in kwargs.items() if k != "min_count"}
    return tree_reduce(
        [expr], _min_count_chunk, functools.partial(_min_count_combine, method=method),
        functools.partial(_min_count_aggregate, method=method, min_count=kwargs["min_count"], meta=meta), meta,
        method, {"method": method, "kwargs": chunk_kwargs}, split_every,
    )


class Length(TreeReduce):
    """``len(frame)``: needs no columns at all."""

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(f, set()) for f in self.frames]


def _sum_all(parts: list[int]) -> int:
    return sum(parts)


def length(expr: Expr, split_every: int | None = None) -> Length:
    return Length([expr], len, _sum_all, _sum_all, 0, "len", None, split_every)


# -- moments ------------------------------------------------------------------------------------

def _moment_chunk(part: Any, skipna: bool = True, numeric_only: bool = False) -> tuple[Any, Any, Any]:
    data = part
    if numeric_only and isinstance(part, pd.DataFrame):
        # pandas' numeric_only keeps booleans (select_dtypes("number") would drop them).
        data = part[[c for c, dt in part.dtypes.items() if pd.api.types.is_numeric_dtype(dt)]]
    if isinstance(data, pd.DataFrame):
        bools = {c: "f8" for c, dt in data.dtypes.items() if isinstance(dt, np.dtype) and dt.kind == "b"}
        data = data.astype(bools) if bools else data
    data = data.astype("f8") if isinstance(data, pd.Series) and data.dtype == bool else data
    n = data.count()
    mean = data.mean(skipna=skipna)
    m2 = ((data - mean) ** 2).sum(skipna=skipna)
    return n, mean, m2


def _zero_if_empty(value: Any, n: Any) -> Any:
    if isinstance(value, pd.Series):
        return value.where(n > 0, 0.0)
    return value if n > 0 else 0.0


def _moment_combine(parts: list[tuple[Any, Any, Any]]) -> tuple[Any, Any, Any]:
    n, mean, m2 = parts[0]
    mean, m2 = _zero_if_empty(mean, n), _zero_if_empty(m2, n)
    for nb, mb, m2b in parts[1:]:
        mb, m2b = _zero_if_empty(mb, nb), _zero_if_empty(m2b, nb)
        total = n + nb
        safe = total.where(total > 0, 1) if isinstance(total, pd.Series) else max(total, 1)
        delta = mb - mean
        mean = mean + delta * nb / safe
        m2 = m2 + m2b + delta ** 2 * n * nb / safe
        n = total
    return n, mean, m2


def _moment_aggregate(parts: list[tuple[Any, Any, Any]], kind: str, ddof: int, meta: Any) -> Any:
    n, mean, m2 = _moment_combine(parts)
    if kind == "mean":
        out = mean.where(n > 0) if isinstance(n, pd.Series) else (mean if n > 0 else np.nan)
    else:
        denom = n - ddof
        if isinstance(denom, pd.Series):
            out = (m2 / denom.where(denom > 0)).astype("f8")
        else:
            out = m2 / denom if denom > 0 else np.nan
        if kind == "std":
            out = np.sqrt(out)
    if isinstance(out, pd.Series):
        return out.astype("f8")
    return np.float64(out)


def moment(expr: Expr, kind: str, *, ddof: int = 1, skipna: bool = True, numeric_only: bool = False,
           split_every: int | None = None) -> TreeReduce:
    """``mean``, ``var`` or ``std`` (``kind``)."""
    kwargs: dict[str, Any] = {"skipna": skipna}
    if isinstance(expr._meta, pd.DataFrame):
        kwargs["numeric_only"] = numeric_only
    if kind != "mean":
        kwargs["ddof"] = ddof
    meta = meta_from_output(_reduction_meta(expr._meta, kind, kwargs))
    if isinstance(meta, pd.Series):
        meta = meta.astype("f8")
    return tree_reduce(
        [expr], _moment_chunk, _moment_combine,
        functools.partial(_moment_aggregate, kind=kind, ddof=ddof, meta=meta), meta, kind,
        {"skipna": skipna, "numeric_only": numeric_only}, split_every,
    )


# -- distinct values ------------------------------------------------------------------------------

def _value_counts_chunk(part: Any, dropna: bool = True, sort: bool = True) -> Any:
    return part.value_counts(dropna=dropna, sort=False)


ARROW_CHUNKS[_value_counts_chunk] = value_counts_partial


def _value_counts_combine(parts: list[Any]) -> Any:
    parts = [p for p in parts if len(p)] or parts[:1]
    joined = pd.concat(parts) if len(parts) > 1 else parts[0]
    return joined.groupby(level=list(range(joined.index.nlevels)), dropna=False, sort=False).sum()


def _value_counts_aggregate(parts: list[Any], sort: bool, ascending: bool, normalize: bool, meta: Any) -> Any:
    out = _value_counts_combine(parts)
    out.index.names = meta.index.names
    out.name = meta.name
    if normalize:
        out = out / out.sum()
    if sort:
        out = out.sort_values(ascending=ascending, kind="stable")
    return out


def value_counts(expr: Expr, *, sort: bool = True, ascending: bool = False, dropna: bool = True,
                 normalize: bool = False, split_every: int | None = None) -> TreeReduce:
    meta = expr._meta.value_counts(dropna=dropna, normalize=normalize)
    return TreeReduce(
        [expr], _value_counts_chunk, _value_counts_combine,
        functools.partial(_value_counts_aggregate, sort=sort, ascending=ascending, normalize=normalize,
                          meta=meta),
        # ``sort`` only tells the Arrow kernel whether the partial's order matters.
        meta, "value-counts", {"dropna": dropna, "sort": sort}, split_every,
    )


def _unique_chunk(part: Any, dropna: bool = True) -> Any:
    return part.drop_duplicates() if not dropna else part.dropna().drop_duplicates()


def _unique_combine(parts: list[Any]) -> Any:
    parts = [p for p in parts if len(p)] or parts[:1]
    return (pd.concat(parts) if len(parts) > 1 else parts[0]).drop_duplicates()


def _nunique_aggregate(parts: list[Any]) -> Any:
    return np.int64(len(_unique_combine(parts)))


def nunique(expr: Expr, *, dropna: bool = True, split_every: int | None = None) -> TreeReduce:
    return TreeReduce([expr], _unique_chunk, _unique_combine, _nunique_aggregate, np.int64(0), "nunique",
                      {"dropna": dropna}, split_every)


def _unique_aggregate(parts: list[Any]) -> Any:
    out = _unique_combine(parts)
    return out.reset_index(drop=True)


def unique(expr: Expr, *, split_every: int | None = None) -> TreeReduce:
    meta = expr._meta.iloc[:0].reset_index(drop=True)
    return TreeReduce([expr], _unique_chunk, _unique_combine, _unique_aggregate, meta, "unique",
                      {"dropna": False}, split_every)


def _distinct_values(parts: list[Any]) -> np.ndarray:
    return _unique_combine(parts).to_numpy()


def isin_values(expr: Expr, split_every: int | None = None) -> TreeReduce:
    """The distinct values of a lazy Series as one array, broadcast to every partition of ``s.isin(values)``.

    The meta is an array (not a pandas object), so the plan treats the result as a single value.
    """
    return TreeReduce([expr], _unique_chunk, _unique_combine, _distinct_values, np.array([], dtype=object),
                      "isin-values", {"dropna": False}, split_every)


# -- quantiles (exact: the values are gathered; documented in Series.quantile) --------------------

def _values_chunk(part: Any) -> Any:
    return part.dropna()


def _values_combine(parts: list[Any]) -> Any:
    parts = [p for p in parts if len(p)] or parts[:1]
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _quantile_aggregate(parts: list[Any], q: Any) -> Any:
    return _values_combine(parts).quantile(q)


def quantile(expr: Expr, q: Any = 0.5, split_every: int | None = None) -> TreeReduce:
    meta = meta_from_output(make_meta_nonempty(expr._meta).quantile(q))
    return TreeReduce([expr], _values_chunk, _values_combine, functools.partial(_quantile_aggregate, q=q),
                      meta, "quantile", None, split_every)


def _whole(part: Any) -> Any:
    return part


def _frame_quantile_aggregate(parts: list[Any], q: Any, kwargs: dict[str, Any]) -> Any:
    return _values_combine(parts).quantile(q, **kwargs)


def frame_quantile(expr: Expr, q: Any = 0.5, split_every: int | None = None, **kwargs: Any) -> TreeReduce:
    """``DataFrame.quantile`` of every column, exact: the columns are gathered whole (pandas skips NaN per column)."""
    meta = meta_from_output(make_meta_nonempty(expr._meta).quantile(q, **kwargs))
    return tree_reduce([expr], _whole, _values_combine,
                      functools.partial(_frame_quantile_aggregate, q=q, kwargs=kwargs), meta, "quantile", None,
                      split_every)


def _monotonic_chunk(part: Any, increasing: bool) -> pd.DataFrame:
    """Whether the partition is monotonic, and its first and last values (nothing for an empty one)."""
    if not len(part):
        return pd.DataFrame({"ok": pd.Series([], dtype=bool), "first": part.iloc[:0].to_numpy(),
                             "last": part.iloc[:0].to_numpy()})
    ok = part.is_monotonic_increasing if increasing else part.is_monotonic_decreasing
    return pd.DataFrame({"ok": [bool(ok)], "first": part.iloc[:1].to_numpy(), "last": part.iloc[-1:].to_numpy()})


def _monotonic_aggregate(parts: list[Any], increasing: bool) -> bool:
    runs = _values_combine(parts)
    if not runs["ok"].all():
        return False
    # Each partition is monotonic; so is the whole when every boundary keeps the order.
    lasts, firsts = runs["last"].iloc[:-1].to_numpy(), runs["first"].iloc[1:].to_numpy()
    return bool((lasts <= firsts).all() if increasing else (lasts >= firsts).all())


def monotonic(expr: Expr, increasing: bool) -> TreeReduce:
    """``Series.is_monotonic_increasing`` (or decreasing) over the partitions in order."""
    return TreeReduce([expr], functools.partial(_monotonic_chunk, increasing=increasing), _values_combine,
                      functools.partial(_monotonic_aggregate, increasing=increasing), meta_from_output(True),
                      "is-monotonic", None, None)


# -- one value per partition ------------------------------------------------------------------------

def _one_row(value: Any, i: int, name: Any, dtype: Any) -> pd.Series:
    return pd.Series([value], index=[i], name=name, dtype=dtype)


class PartitionValues(MapPartitions):
    """``map_partitions`` whose function returns one value per partition (``len``, a sum, ...).

    As in Dask, the values form a Series with one row per partition, indexed by partition number
    (so ``df.map_partitions(len).compute()`` lists the partition lengths).
    """

    #: The index is the partition number, which pruning to fewer partitions must not change.
    _pins_partitions = True

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        n = self.frame.npartitions
        super().divisions  # noqa: B018 - checks that the inputs are aligned
        return (*range(n), n - 1)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _one_row, super()._task(i, ctx, None), i, self._meta.name, self._meta.dtype)


def _value_dtype(value: Any) -> Any:
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype | pd.api.extensions.ExtensionDtype):
        return dtype
    return np.asarray(value).dtype if isinstance(value, int | float | bool | complex) else np.dtype(object)


def partition_values(expr: MapPartitions) -> PartitionValues:
    """``expr`` (whose meta is a single value) as a Series of one value per partition."""
    sample = expr._meta
    if expr.meta is None:
        # The value on an empty partition can mislead (the max of nothing is NaN, a float, where real
        # partitions give integers): prefer the value on a small non-empty stand-in.
        args = [make_meta_nonempty(a._meta) if isinstance(a, Expr) else a for a in expr._args()]
        try:
            sample = expr.func(*args, **expr._kwargs())
        except Exception:  # noqa: BLE001 - keep the empty partition's answer
            pass
    meta = pd.Series([], dtype=_value_dtype(sample))
    return PartitionValues(expr.frame, expr.func, expr.args, expr.kwargs, meta, expr.label, False, False)


# -- memory usage ---------------------------------------------------------------------------------

def _memory_chunk(part: Any, index: bool, deep: bool) -> Any:
    return part.memory_usage(index=index, deep=deep)


def _memory_sum(parts: list[Any]) -> Any:
    if isinstance(parts[0], pd.Series):
        return pd.DataFrame(parts).sum()
    return int(sum(parts))


def memory_usage(expr: Expr, *, index: bool = True, deep: bool = False, split_every: int | None = None
                 ) -> TreeReduce:
    """Bytes per column (a Series for a frame, an int for a Series), summed over partitions.

    Each partition counts its own index, so a ``RangeIndex`` adds its small fixed size once per partition.
    """
    meta = expr._meta.memory_usage(index=index, deep=deep)
    return TreeReduce([expr], _memory_chunk, _memory_sum, _memory_sum, meta, "memory-usage",
                      {"index": index, "deep": deep}, split_every)


def _memory_total(part: Any, index: bool, deep: bool) -> int:
    usage = part.memory_usage(index=index, deep=deep)
    return int(usage.sum()) if isinstance(usage, pd.Series) else int(usage)


def memory_usage_per_partition(expr: Expr, *, index: bool = True, deep: bool = False) -> PartitionValues:
    meta = pd.Series([], dtype="int64")
    return PartitionValues(expr, _memory_total, (), {"index": index, "deep": deep}, meta, "memory-usage-per-partition",
                           False, False)

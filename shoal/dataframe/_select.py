"""Selections that look at a whole column: ``nlargest``, ``drop_duplicates``, ``mode``, ``idxmax``.

Each is a tree reduction (:class:`~shoal.dataframe._expr.TreeReduce`) whose
partials stay small: the ``n`` best rows of a partition, its distinct rows,
its value counts, or its best row per column. Partials are concatenated in
partition order, so "first occurrence" ties resolve as pandas resolves them
on the whole frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._expr import Expr, TreeReduce
from shoal.dataframe._meta import make_meta_nonempty, meta_from_output
from shoal.dataframe._reductions import tree_reduce

__all__ = ["PartMethod", "drop_duplicates", "idx", "mode", "nlargest"]


class PartMethod:
    """``part.<method>(*args, **kwargs)``, also on a list of partials concatenated first."""

    def __init__(self, method: str, concat: bool = False) -> None:
        self.method, self.concat = method, concat
        self.__name__ = method

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        if self.concat:
            part = _concat(part)
        return getattr(part, self.method)(*args, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("select-part-method", self.method, self.concat)


def _concat(parts: list[Any]) -> Any:
    kept = [p for p in parts if len(p)] or parts[:1]
    return kept[0] if len(kept) == 1 else pd.concat(kept)


class _Again:
    """Concatenate partials and apply the same selection again."""

    def __init__(self, method: str, kwargs: dict[str, Any]) -> None:
        self.method, self.kwargs = method, kwargs

    def __call__(self, parts: list[Any]) -> Any:
        return getattr(_concat(parts), self.method)(**self.kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("select-again", self.method, sorted(self.kwargs.items(), key=str))


class _Candidates:
    """The rows ``nlargest``/``nsmallest`` would pick, kept in their original order.

    Ties under ``keep='last'`` go to the row that comes last in the data, so
    partials must not be reordered by value before the final selection.
    """

    def __init__(self, method: str, kwargs: dict[str, Any], concat: bool) -> None:
        self.method, self.kwargs, self.concat = method, kwargs, concat

    def __call__(self, part: Any, **ignored: Any) -> Any:
        if self.concat:
            part = _concat(part)
        picked = getattr(part.set_axis(pd.RangeIndex(len(part))), self.method)(**self.kwargs)
        return part.iloc[sorted(picked.index)]

    def __dask_tokenize__(self) -> Any:
        return ("select-candidates", self.method, sorted(self.kwargs.items(), key=str), self.concat)


def nlargest(expr: Expr, method: str, n: int, columns: Any, keep: str, split_every: int | None) -> TreeReduce:
    meta = expr._meta
    kwargs: dict[str, Any] = {"n": n, "keep": keep}
    if isinstance(meta, pd.DataFrame):
        if columns is None:
            raise TypeError(f"DataFrame.{method} needs columns=, the column(s) to order by")
        kwargs["columns"] = columns
        getattr(meta, method)(**kwargs)  # pandas' checks (unknown column, bad keep), now
    elif columns is not None:
        raise TypeError(f"Series.{method} takes no columns argument")
    return TreeReduce([expr], _Candidates(method, kwargs, False), _Candidates(method, kwargs, True),
                      _Again(method, kwargs), meta, method, None, split_every)


def drop_duplicates(expr: Expr, subset: Any, keep: Any, ignore_index: bool, split_every: int | None) -> TreeReduce:
    meta = expr._meta
    kwargs: dict[str, Any] = {"keep": keep}
    if subset is not None:
        if not isinstance(meta, pd.DataFrame):
            raise TypeError("Series.drop_duplicates takes no subset argument")
        wanted = [subset] if not isinstance(subset, list | tuple | pd.Index) else list(subset)
        missing = [c for c in wanted if c not in meta.columns]
        if missing:
            raise KeyError(f"drop_duplicates: subset column(s) {missing} not found. Available columns: "
                           f"{list(meta.columns)}.")
        kwargs["subset"] = subset
    meta.drop_duplicates(**kwargs)  # pandas' checks (unknown subset column, bad keep), now
    final = _Again("drop_duplicates", {**kwargs, "ignore_index": ignore_index})
    if keep is False:
        # A row duplicated across partitions must vanish everywhere: partials can't drop anything early.
        chunk, combine = PartMethod("copy"), PartMethod("copy", concat=True)
        chunk_kwargs = None
    else:
        chunk, combine, chunk_kwargs = PartMethod("drop_duplicates"), _Again("drop_duplicates", kwargs), kwargs
    out_meta = meta.drop_duplicates(**kwargs, ignore_index=ignore_index)
    return TreeReduce([expr], chunk, combine, final, out_meta, "drop-duplicates", chunk_kwargs, split_every)


def drop_duplicates_split(df: Any, subset: Any, keep: Any, ignore_index: bool, split_out: Any) -> Any:
    """``df.drop_duplicates(..., split_out=n)``: a hash shuffle on ``subset``, then each partition drops its own."""
    n = df.npartitions if split_out is True else int(split_out)
    if isinstance(df._meta, pd.Series):
        name = df._meta.name
        frame = df.to_frame(name="__value__")
        out = drop_duplicates_split(frame, None, keep, ignore_index, n)["__value__"]
        return out.rename(name)
    on = list(df._meta.columns) if subset is None else (
        [subset] if not isinstance(subset, list | tuple | pd.Index) else list(subset))
    kwargs = {"subset": subset, "keep": keep, "ignore_index": ignore_index}
    return df.shuffle(on=on, npartitions=n).map_partitions(
        lambda part: part.drop_duplicates(**kwargs), meta=df._meta.drop_duplicates(**kwargs))


# -- mode ------------------------------------------------------------------------------------
def _counts(series: pd.Series, dropna: bool) -> pd.Series:
    return series.value_counts(dropna=dropna, sort=False)


def _mode_chunk(part: Any, dropna: bool) -> Any:
    if isinstance(part, pd.DataFrame):
        return {c: _counts(part[c], dropna) for c in part.columns}
    return _counts(part, dropna)


def _add_counts(parts: list[pd.Series]) -> pd.Series:
    kept = [p for p in parts if len(p)] or parts[:1]
    joined = kept[0] if len(kept) == 1 else pd.concat(kept)
    return joined.groupby(level=0, dropna=False, sort=False).sum()


def _mode_combine(parts: list[Any]) -> Any:
    if isinstance(parts[0], dict):
        return {c: _add_counts([p[c] for p in parts]) for c in parts[0]}
    return _add_counts(parts)


def _top(counts: pd.Series, name: Any, dtype: Any) -> pd.Series:
    values = counts.index[counts == counts.max()] if len(counts) else counts.index[:0]
    out = pd.Series(values, name=name, dtype=dtype) if len(values) else pd.Series([], name=name, dtype=dtype)
    try:
        return out.sort_values(ignore_index=True)
    except TypeError:
        return out


def _mode_aggregate(parts: list[Any], meta: Any) -> Any:
    combined = _mode_combine(parts)
    if isinstance(combined, dict):
        cols = {c: _top(combined[c], c, meta_dtype) for c, meta_dtype in zip(combined, meta.dtypes, strict=True)}
        return pd.concat(cols.values(), axis=1) if cols else meta
    return _top(combined, meta.name, meta.dtype)


def mode(expr: Expr, dropna: bool, split_every: int | None) -> TreeReduce:
    meta = expr._meta
    out_meta = meta_from_output(make_meta_nonempty(meta).mode(dropna=dropna))
    return TreeReduce([expr], _mode_chunk, _mode_combine, _ModeAggregate(meta), out_meta, "mode",
                      {"dropna": dropna}, split_every)


class _ModeAggregate:
    def __init__(self, meta: Any) -> None:
        self.meta = meta

    def __call__(self, parts: list[Any]) -> Any:
        return _mode_aggregate(parts, self.meta)

    def __dask_tokenize__(self) -> Any:
        return ("mode-aggregate", str(self.meta.dtypes if isinstance(self.meta, pd.DataFrame) else self.meta.dtype))


# -- idxmax / idxmin ---------------------------------------------------------------------------
def _best_row(series: pd.Series, method: str, skipna: bool) -> pd.Series:
    values = series.dropna() if skipna else series
    if not len(values):
        return values
    if not skipna and values.isna().any():
        return values[values.isna()].iloc[:1]
    pos = values.reset_index(drop=True)
    position = pos.idxmax() if method == "idxmax" else pos.idxmin()
    return values.iloc[[position]]


def _idx_chunk(part: Any, method: str, skipna: bool) -> Any:
    if isinstance(part, pd.DataFrame):
        return {c: _best_row(part[c], method, skipna) for c in part.columns}
    return _best_row(part, method, skipna)


class _IdxCombine:
    def __init__(self, method: str, skipna: bool, final: bool) -> None:
        self.method, self.skipna, self.final = method, skipna, final

    def _one(self, parts: list[pd.Series]) -> Any:
        best = _best_row(_concat(parts), self.method, self.skipna)
        if not self.final:
            return best
        if not len(best):
            raise ValueError(f"attempt to get {self.method.replace('idx', 'arg')} of an empty sequence")
        if best.isna().any():
            raise ValueError(f"Encountered an NA value with skipna=False in {self.method}")
        return best.index[0]

    def __call__(self, parts: list[Any]) -> Any:
        if isinstance(parts[0], dict):
            out = {c: self._one([p[c] for p in parts]) for c in parts[0]}
            return pd.Series(out) if self.final else out
        return self._one(parts)

    def __dask_tokenize__(self) -> Any:
        return ("idx-combine", self.method, self.skipna, self.final)


def idx(expr: Expr, method: str, skipna: bool, split_every: int | None) -> TreeReduce:
    meta = expr._meta
    sample = make_meta_nonempty(meta)
    out_meta = meta_from_output(getattr(sample, method)(skipna=skipna)) if isinstance(meta, pd.DataFrame) else (
        sample.index[0])
    return tree_reduce([expr], _idx_chunk, _IdxCombine(method, skipna, False), _IdxCombine(method, skipna, True),
                       out_meta, method, {"method": method, "skipna": skipna}, split_every)

"""``describe()`` of Series and DataFrames, as pandas gives it, for every kind of column.

Each described column becomes one tree reduction, chosen by what pandas
reports for its dtype:

- numbers, timedeltas and datetimes (count, mean, std, min, percentiles,
  max): the column's non-null values are gathered, in partition order, and
  described by pandas itself, so the percentiles are exact and the figures
  are pandas' own (the memory of one column's values, as for ``quantile``);
- everything else (strings, objects, booleans, categoricals: count, unique,
  top, freq): a ``value_counts`` reduction, small however long the column.
  Ties for ``top`` go to the value seen first, as in pandas.

Which columns are described, in which order, and the labels of the rows
(``"25%"`` ...) are taken from pandas' ``describe`` of a small sample with
the same dtypes, so ``include=``, ``exclude=`` and ``percentiles=`` mean what
they mean in pandas and bad values raise pandas' errors before anything runs.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe import _reductions as red
from shoal.dataframe._combine import Combine
from shoal.dataframe._expr import Expr, Projection, TreeReduce
from shoal.dataframe._meta import make_meta_nonempty

__all__ = ["describe"]

_GATHERED = "gathered"
_COUNTED = "counted"


def _kind(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return _COUNTED  # pandas describes booleans like categories
    if (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)):
        return _GATHERED
    return _COUNTED


def _gathered(parts: list[Any]) -> Any:
    return red._values_combine(parts)


def _gather(expr: Expr, split_every: int | None) -> TreeReduce:
    return TreeReduce([expr], red._values_chunk, red._values_combine, _gathered, expr._meta, "describe-values",
                      None, split_every)


def _from_counts(counts: pd.Series, name: Any) -> pd.Series:
    """count, unique, top and freq from the value counts (sorted, most frequent first) of a column."""
    observed = counts[counts != 0]  # a categorical's unused categories count 0
    if len(observed):
        top, freq, dtype = observed.index[0], observed.iloc[0], None
    else:
        top, freq, dtype = np.nan, np.nan, "object"
    return pd.Series([int(counts.sum()), len(observed), top, freq], index=["count", "unique", "top", "freq"],
                     name=name, dtype=dtype)


def _assemble(results: list[Any], kinds: list[str], names: list[Any], percentiles: Any, series: bool,
              columns: Any) -> Any:
    described = []
    for result, kind, name in zip(results, kinds, names, strict=True):
        if kind == _GATHERED:
            out = result.describe(percentiles=percentiles)
            out.name = name
        else:
            out = _from_counts(result, name)
        described.append(out)
    if series:
        return described[0]
    rows: list[Any] = []
    for out in sorted(described, key=len):  # pandas' row order: the shortest descriptions' labels first
        rows.extend(label for label in out.index if label not in rows)
    frame = pd.concat([out.reindex(rows) for out in described], axis=1, sort=False)
    frame.columns = columns
    return frame


def describe(obj: Any, percentiles: Any = None, include: Any = None, exclude: Any = None,
             split_every: int | None = None) -> Combine:
    """The expression of ``obj.describe(...)``; see the module docstring."""
    meta = obj._meta
    series = isinstance(meta, pd.Series)
    # pandas checks the arguments and picks the columns and row labels; an empty frame would tell too little.
    expected = make_meta_nonempty(meta).describe(percentiles=percentiles, include=include, exclude=exclude)
    if series:
        exprs, names, dtypes = [obj._expr], [meta.name], [meta.dtype]
        columns = None
    else:
        columns = expected.columns
        positions = [meta.columns.get_loc(c) for c in columns]
        exprs = [Projection(obj._expr, c) for c in columns]
        names = list(columns)
        dtypes = [meta.dtypes.iloc[i] for i in positions]
    kinds = [_kind(dtype) for dtype in dtypes]
    parts = [_gather(e, split_every) if kind == _GATHERED else red.value_counts(e, split_every=split_every)
             for e, kind in zip(exprs, kinds, strict=True)]
    func = functools.partial(_assemble, kinds=kinds, names=names, percentiles=percentiles, series=series,
                             columns=columns)
    return Combine(parts, func, expected.iloc[:0], "describe")

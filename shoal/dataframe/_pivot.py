"""``pivot_table``: one row per ``index`` value, one column per category of ``columns``.

The output's columns must be known when the plan is built, so ``columns`` has
to be a categorical column with known categories (as in Dask): call
``df.categorize(columns=[name])`` first. Every category becomes a column, even
one no row has, which is what pandas gives with ``observed=False,
dropna=False``: sums and counts of empty cells are 0, means, firsts and lasts
are missing.

The work is a tree reduction. Each partition is grouped by ``(index,
columns)`` into primitives (``sum``, ``count``, ``first``, ``last``) that
combine associatively; the last step derives the requested statistic (``mean
= sum / count``), unstacks the category level into columns and fills in the
categories and index labels no partition had.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._categorical import has_known_categories
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import TreeReduce

__all__ = ["pivot_table"]

_AGGFUNCS = ("mean", "sum", "count", "first", "last")
#: The primitives each statistic is made from.
_PRIMITIVES = {"mean": ("sum", "count"), "sum": ("sum",), "count": ("count",), "first": ("first",),
               "last": ("last",)}
#: How partial primitives combine.
_COMBINE = {"sum": "sum", "count": "sum", "first": "first", "last": "last"}


def _chunk(part: pd.DataFrame, index: Any, columns: Any, values: list[Any], prims: tuple[str, ...]) -> pd.DataFrame:
    grouped = part.groupby([index, columns], sort=False, observed=True)[values]
    return pd.concat({prim: getattr(grouped, prim)() for prim in prims}, axis=1)


def _combine(parts: list[pd.DataFrame], prims: tuple[str, ...]) -> pd.DataFrame:
    kept = [p for p in parts if len(p)] or parts[:1]
    joined = pd.concat(kept) if len(kept) > 1 else kept[0]
    return pd.concat({prim: getattr(joined[prim].groupby(level=[0, 1], sort=False, observed=True), _COMBINE[prim])()
                      for prim in prims}, axis=1)


def _aggregate(parts: list[pd.DataFrame], index: Any, columns: Any, values: Any, aggfunc: str,
               prims: tuple[str, ...], meta: pd.DataFrame) -> pd.DataFrame:
    combined = _combine(parts, prims)
    if aggfunc == "mean":
        counts = combined["count"]
        cells = combined["sum"] / counts.where(counts > 0)
    else:
        cells = combined[aggfunc]
    if not isinstance(values, list):
        cells = cells[values]
    table = cells.unstack(level=1)
    labels = table.index.dropna().unique().sort_values() if len(table) else meta.index
    table = table.reindex(index=labels, columns=meta.columns)
    if aggfunc in ("sum", "count"):
        # Sums and counts are never missing for a cell with rows, so a missing cell is an empty one: 0.
        table = table.fillna(0)
    table.index.name = index
    table.columns = meta.columns
    return table.astype(meta.dtypes.to_dict())


def _cell_dtype(dtype: Any, aggfunc: str) -> Any:
    """The dtype of every output column: what pandas gives when some cells are empty."""
    if aggfunc == "count":
        return np.dtype("int64")
    if aggfunc == "mean":
        return np.dtype("float64")
    if aggfunc == "sum":
        try:
            return pd.Series([0, 0], dtype=dtype).groupby([0, 1]).sum().dtype
        except (TypeError, ValueError):
            return dtype
    # first/last: an empty cell is missing, so integers and booleans widen to float.
    return np.dtype("float64") if getattr(dtype, "kind", "O") in "iub" else dtype


def _check_column(meta: pd.DataFrame, name: Any, role: str) -> None:
    if isinstance(name, list | tuple) or name is None or name not in meta.columns:
        raise ValueError(
            f"pivot_table: {role!r} must be the name of one existing column, got {name!r}. "
            f"Available columns: {list(meta.columns)}."
        )


def pivot_table(df: Any, index: Any = None, columns: Any = None, values: Any = None, aggfunc: str = "mean",
                split_every: int | None = None) -> Any:
    """Spreadsheet-style pivot table; mirrors ``pandas.pivot_table`` with ``observed=False, dropna=False``.

    Parameters
    ----------
    df : shoal DataFrame
    index : column name
        Its distinct values become the rows (sorted).
    columns : column name
        A categorical column with known categories (see ``categorize``); its categories become the columns.
    values : column name or list of column names, optional
        The columns to aggregate (default: all others). A list gives ``(value, category)`` column pairs.
    aggfunc : {'mean', 'sum', 'count', 'first', 'last'}

    Returns
    -------
    shoal DataFrame with one partition.

    Raises
    ------
    ValueError
        For a missing column, ``columns`` that is not categorical with known categories, or another aggfunc.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"day": [1, 1, 2], "kind": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]})
    >>> df = sd.from_pandas(pdf, npartitions=2).categorize(columns=["kind"])
    >>> table = sd.pivot_table(df, index="day", columns="kind", values="x", aggfunc="sum").compute()
    >>> table.columns.tolist(), table.index.tolist(), table.to_numpy().tolist()
    (['a', 'b'], [1, 2], [[1.0, 2.0], [3.0, 0.0]])
    """
    if not isinstance(df, FrameBase) or not isinstance(df._meta, pd.DataFrame):
        raise TypeError(f"pivot_table needs a shoal DataFrame, got {type(df).__name__}")
    meta = df._meta
    _check_column(meta, index, "index")
    _check_column(meta, columns, "columns")
    dtype = meta.dtypes[columns]
    if not isinstance(dtype, pd.CategoricalDtype):
        raise ValueError(
            f"pivot_table: 'columns' ({columns!r}) must be a categorical column with known categories so the "
            f"output columns are known before computing, but it has dtype {dtype}. Call "
            f"df = df.categorize(columns=[{columns!r}]) first."
        )
    if len(dtype.categories) == 0 or not has_known_categories(dtype):
        raise ValueError(
            f"pivot_table: the categories of 'columns' ({columns!r}) are unknown (none in the metadata). Call "
            f"df = df.categorize(columns=[{columns!r}]) first."
        )
    if aggfunc not in _AGGFUNCS:
        raise ValueError(f"pivot_table: aggfunc must be one of {list(_AGGFUNCS)}, got {aggfunc!r}")
    value_list = [c for c in meta.columns if c not in (index, columns)] if values is None else (
        list(values) if isinstance(values, list | tuple) else [values])
    missing = [v for v in value_list if v not in meta.columns]
    if missing or not value_list:
        raise ValueError(f"pivot_table: 'values' must name existing columns; {missing or 'none left'} "
                         f"(available columns: {list(meta.columns)})")
    many = values is None or isinstance(values, list | tuple)
    categories = pd.CategoricalIndex(dtype.categories, dtype=dtype, name=columns)
    if many:
        # pandas sorts the value level of the columns.
        try:
            value_list = sorted(value_list)
        except TypeError:
            pass
        out_columns: pd.Index = pd.MultiIndex.from_product([value_list, categories], names=[None, columns])
        dtypes = [_cell_dtype(meta.dtypes[v], aggfunc) for v in value_list for _ in categories]
    else:
        out_columns = categories
        dtypes = [_cell_dtype(meta.dtypes[value_list[0]], aggfunc)] * len(categories)
    out_index = meta[index].iloc[:0].drop_duplicates()
    out_meta = pd.DataFrame({i: pd.Series([], dtype=d) for i, d in enumerate(dtypes)},
                            index=pd.Index(out_index, name=index))
    out_meta.columns = out_columns
    prims = _PRIMITIVES[aggfunc]
    chunk_kwargs = {"index": index, "columns": columns, "values": value_list, "prims": prims}
    aggregate = functools.partial(_aggregate, index=index, columns=columns, values=value_list if many else values,
                                  aggfunc=aggfunc, prims=prims, meta=out_meta)
    expr = TreeReduce([df._expr], _chunk, functools.partial(_combine, prims=prims), aggregate, out_meta,
                      "pivot-table", chunk_kwargs, split_every)
    return new_collection(expr)

"""``DataFrame``, ``Series`` and ``Index``: pandas-like methods that build expressions.

Methods mirror pandas names and arguments (see each docstring for the
differences). Anything that can be checked from metadata (a missing column,
a dtype) is checked here, when the expression is built, not at compute time.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe import _reductions as red
from shoal.dataframe._accessors import AccessorMethods
from shoal.dataframe._conversions_more import MoreConvertMethods
from shoal.dataframe._align import aligned, is_partitioned
from shoal.dataframe._categorical import is_unknown_category_cast, with_unknown_categories
from shoal.dataframe._convert import ConvertMethods
from shoal.dataframe._core import FrameBase, _unwrap, new_collection, register_collection_class
from shoal.dataframe._expr import Assign, Filter, MapPartitions, Projection
from shoal.dataframe._index import Index
from shoal.dataframe._loc import LocIndexer
from shoal.dataframe._io.methods_more import MoreIOMethods, SeriesIOMethods
from shoal.dataframe._methods_elementwise import DataFrameElementwiseMethods, SeriesElementwiseMethods
from shoal.dataframe._methods_stats import FrameStatsMethods, SeriesStatsMethods, StatsMethods
from shoal.dataframe._ordering import OrderingMethods
from shoal.dataframe._frame_reductions import ReductionMethods, _MethodCaller, _method
from shoal.dataframe._repr import frame_html, frame_repr
from shoal.dataframe._sampling import SamplingMethods
from shoal.dataframe._window import WindowMethods

__all__ = ["DataFrame", "Index", "Series"]


def _describe(obj: FrameBase, split_every: int | None, percentiles: Any, percentiles_method: str, include: Any,
              exclude: Any) -> Any:
    from shoal.dataframe._describe import describe
    if percentiles_method not in ("default", "tdigest"):
        raise ValueError(f"describe(percentiles_method={percentiles_method!r}): use 'default' or 'tdigest' (both "
                         f"give exact percentiles in shoal).")
    return describe(obj, percentiles=percentiles, include=include, exclude=exclude, split_every=split_every)


class _Frame(ReductionMethods, OrderingMethods, WindowMethods, AccessorMethods, ConvertMethods, StatsMethods,
             SamplingMethods, MoreConvertMethods, FrameBase):
    """Methods shared by DataFrame and Series."""

    @property
    def dtypes(self) -> Any:
        return self._meta.dtypes

    @property
    def index(self) -> Index:
        return new_collection(MapPartitions(self._expr, _get_index, (), None, None, "index", False, True))

    @property
    def ndim(self) -> int:
        return int(self._meta.ndim)

    def __repr__(self) -> str:
        return frame_repr(self)

    def _repr_html_(self) -> str:
        return frame_html(self)

    # -- element-wise methods -------------------------------------------------------------
    def astype(self, dtype: Any) -> Any:
        """Cast to ``dtype`` (one dtype, or ``{column: dtype}``); unknown columns raise ``KeyError`` now."""
        if isinstance(dtype, dict) and isinstance(self._meta, pd.DataFrame):
            self._check_columns(list(dtype), "astype")
        unknown = ([c for c, d in dtype.items() if is_unknown_category_cast(d)] if isinstance(dtype, dict)
                   else None if is_unknown_category_cast(dtype) else [])
        if unknown == []:
            return _method(self, "astype", dtype=dtype, columnwise=not isinstance(dtype, dict))
        # Each partition makes categories of its own values: the meta says they are unknown, as in Dask, and
        # compute() gives every partition the union (see shoal.dataframe._categorical).
        meta = with_unknown_categories(self._meta.astype(dtype), unknown)
        return new_collection(MapPartitions(self._expr, _MethodCaller("astype"), (), {"dtype": dtype}, meta,
                                            "astype", not isinstance(dtype, dict), True))

    def fillna(self, value: Any = None, **kwargs: Any) -> Any:
        return _method(self, "fillna", _unwrap(value) if value is not None else None,
                       columnwise=not isinstance(value, dict), **kwargs)

    def dropna(self, **kwargs: Any) -> Any:
        return _method(self, "dropna", **kwargs)

    def isin(self, values: Any) -> Any:
        if isinstance(values, FrameBase):
            if not isinstance(values._meta, pd.Series | pd.Index) or isinstance(self._meta, pd.DataFrame):
                raise NotImplementedError(
                    "isin with a lazy collection takes a lazy Series of values on a Series (a DataFrame's isin "
                    "aligns on the index); compute it first, e.g. values.compute()")
            # Any partition's value may occur in any partition of ``values``: gather their distinct values once.
            return _method(self, "isin", new_collection(red.isin_values(values._expr)), columnwise=True)
        return _method(self, "isin", values=list(values) if isinstance(values, set) else values, columnwise=True)

    def where(self, cond: Any, other: Any = np.nan) -> Any:
        """Keep values where ``cond`` holds, else ``other``; collections are aligned on the index first."""
        obj, cond, other = _aligned_operands(self, "where", cond, other)
        return _method(obj, "where", _unwrap(cond), _unwrap(other))

    def mask(self, cond: Any, other: Any = np.nan) -> Any:
        """Replace values where ``cond`` holds with ``other``; collections are aligned on the index first."""
        obj, cond, other = _aligned_operands(self, "mask", cond, other)
        return _method(obj, "mask", _unwrap(cond), _unwrap(other))

    def isna(self) -> Any:
        return _method(self, "isna", columnwise=True)

    def notna(self) -> Any:
        return _method(self, "notna", columnwise=True)

    isnull, notnull = isna, notna

    def abs(self) -> Any:
        return _method(self, "abs", columnwise=True)

    def round(self, decimals: int = 0) -> Any:
        return _method(self, "round", decimals=decimals, columnwise=True)

    def clip(self, lower: Any = None, upper: Any = None) -> Any:
        return _method(self, "clip", lower=lower, upper=upper, columnwise=True)

    def replace(self, to_replace: Any = None, value: Any = None, **kwargs: Any) -> Any:
        # pandas refuses value=None beside a nested dict, so pass it only when given.
        if value is None:
            return _method(self, "replace", to_replace, **kwargs)
        return _method(self, "replace", to_replace, value, **kwargs)

    def copy(self, deep: bool = False) -> Any:
        return new_collection(self._expr)

    @property
    def loc(self) -> LocIndexer:
        """Label-based selection (``loc[rows]``, ``loc[rows, columns]``); see :mod:`shoal.dataframe._loc`."""
        return LocIndexer(self)

    def _check_columns(self, columns: list[Any], what: str) -> None:
        available = list(self._meta.columns)
        missing = [c for c in columns if c not in available]
        if missing:
            raise KeyError(
                f"{what}: column(s) {missing} not found. Available columns: {available}."
            )


def _aligned_operands(obj: FrameBase, what: str, *operands: Any) -> list[Any]:
    """``obj`` and the ``operands``, the partitioned ones split at the union of their divisions if they differ."""
    frames = [op for op in operands if is_partitioned(op)]
    if not frames or all(tuple(f.divisions) == tuple(obj.divisions) for f in frames):
        return [obj, *operands]
    parts = iter(aligned(what, obj, *frames))
    first = next(parts)
    return [first, *(next(parts) if is_partitioned(op) else op for op in operands)]


def _get_index(part: Any) -> Any:
    return part.index


class DataFrame(_Frame, DataFrameElementwiseMethods, FrameStatsMethods, MoreIOMethods):
    """A lazy, partitioned pandas DataFrame; see :mod:`shoal.dataframe`."""

    @property
    def columns(self) -> pd.Index:
        return self._meta.columns

    @columns.setter
    def columns(self, names: Any) -> None:
        renamed = self.rename(columns=dict(zip(self._meta.columns, names, strict=True)))
        self._expr, self._optimized = renamed._expr, None

    @property
    def shape(self) -> tuple[Any, int]:
        """``(rows, columns)``; rows is a lazy Scalar."""
        return (new_collection(red.length(self._expr)), len(self._meta.columns))

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(c for c in self._meta.columns if isinstance(c, str))})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        meta = self.__dict__.get("_expr")
        if meta is not None and name in meta._meta.columns:
            return self[name]
        raise AttributeError(f"'DataFrame' object has no attribute {name!r}")

    def __iter__(self) -> Iterator[Any]:
        """The column names, as pandas iterates a frame (nothing is computed)."""
        return iter(self._meta.columns)

    def __contains__(self, key: Any) -> bool:
        return key in self._meta.columns

    def __getitem__(self, key: Any) -> Any:
        if callable(key) and not isinstance(key, FrameBase):
            return self[key(self)]  # as pandas: the callable gets the frame and returns the indexer
        if isinstance(key, Series):
            return new_collection(Filter(self._expr, key._expr))
        if isinstance(key, FrameBase) and isinstance(key._meta, pd.DataFrame):
            return self.where(key)  # pandas: df[boolean frame] is df.where(boolean frame)
        if isinstance(key, FrameBase):
            raise TypeError(f"df[...] takes a column name, a list of names, a boolean Series or a boolean "
                            f"DataFrame, got {type(key).__name__}")
        if isinstance(key, list | pd.Index | np.ndarray):
            cols = list(key)
            self._check_columns(cols, "df[...]")
            return new_collection(Projection(self._expr, cols))
        if isinstance(key, slice):
            return self.loc[key]
        if isinstance(key, Hashable) and key in self._meta.columns:
            return new_collection(Projection(self._expr, key))
        self._check_columns([key], "df[...]")
        raise KeyError(key)  # pragma: no cover - _check_columns raised

    def __setitem__(self, key: Any, value: Any) -> None:
        out = self.assign(**{key: value}) if isinstance(key, str) else None
        if out is None:
            raise TypeError(f"df[key] = value takes a string column name, got {key!r}")
        self._expr, self._optimized = out._expr, None

    def assign(self, **kwargs: Any) -> DataFrame:
        """Add or replace columns (values: scalars, aligned Series, or callables of the frame)."""
        out: DataFrame = self
        for key, value in kwargs.items():
            if callable(value) and not isinstance(value, FrameBase):
                value = value(out)
            if isinstance(value, DataFrame):
                raise TypeError(f"assign({key}=...) takes a Series or a scalar, not a DataFrame")
            if is_partitioned(value) and tuple(value.divisions) != tuple(out.divisions):
                # Split both at the union of their divisions; pandas then aligns each piece on the index.
                out, value = aligned(f"assign({key}=...)", out, value)
            out = new_collection(Assign(out._expr, key, _unwrap(value)))
        return out

    def rename(self, index: Any = None, columns: Any = None) -> DataFrame:
        if index is not None:
            raise ValueError("DataFrame.rename(index=...) cannot rename index labels (as in Dask): the divisions "
                             "would no longer describe the partitions. Use df.map_partitions(lambda p: "
                             "p.rename(index=...)), then set_index or clear_divisions as needed.")
        return _method(self, "rename", columns=columns)

    def drop(self, labels: Any = None, axis: Any = 0, columns: Any = None, errors: str = "raise") -> DataFrame:
        if columns is None and axis in (1, "columns"):
            columns = labels
        if columns is None:
            raise NotImplementedError("drop supports columns only: df.drop(columns=[...])")
        cols = [columns] if not isinstance(columns, list | tuple | pd.Index) else list(columns)
        if errors == "raise":
            self._check_columns(cols, "drop")
        keep = [c for c in self._meta.columns if c not in set(cols)]
        return new_collection(Projection(self._expr, keep))

    def nunique(self, dropna: bool = True) -> Series:
        """Distinct values per column (one tree reduction per column)."""
        from shoal.dataframe._combine import concat_scalars
        parts = [red.nunique(Projection(self._expr, c), dropna=dropna) for c in self._meta.columns]
        return new_collection(concat_scalars(parts, list(self._meta.columns)))

    def describe(self, split_every: int | None = None, percentiles: Any = None, percentiles_method: str = "default",
                 include: Any = None, exclude: Any = None) -> DataFrame:
        """Summary statistics per column, as pandas' ``describe`` gives them.

        Parameters
        ----------
        split_every : int, optional
            Partials combined per task in the reductions.
        percentiles : list of float, optional
            Percentiles to report (0.5 is always added), as in pandas.
        percentiles_method : {"default", "tdigest"}
            Accepted for Dask's signature; percentiles are always exact here.
        include, exclude : optional
            Which columns to describe, as in pandas (``"all"``, dtypes, ...).

        Returns
        -------
        DataFrame
            One column per described column; numeric columns get count, mean, std, min, the percentiles and
            max, others count, unique, top and freq. See :mod:`shoal.dataframe._describe`.
        """
        return new_collection(_describe(self, split_every, percentiles, percentiles_method, include, exclude))

    def pivot_table(self, index: Any = None, columns: Any = None, values: Any = None, aggfunc: str = "mean"
                    ) -> DataFrame:
        """See :func:`shoal.dataframe.pivot_table` (``columns`` must be categorical with known categories)."""
        from shoal.dataframe._pivot import pivot_table
        return pivot_table(self, index=index, columns=columns, values=values, aggfunc=aggfunc)

    def groupby(self, by: Any, sort: bool = True, dropna: bool = True, **kwargs: Any) -> Any:
        """Group rows by columns or an aligned Series; see :mod:`shoal.dataframe._groupby`."""
        from shoal.dataframe._groupby import GroupBy
        return GroupBy(self, by, sort=sort, dropna=dropna, **kwargs)

    def to_csv(self, path: Any, **kwargs: Any) -> Any:
        from shoal.dataframe._io.csv import to_csv
        return to_csv(self, path, **kwargs)

    def quantile(self, q: Any = 0.5, axis: Any = 0, numeric_only: bool = False, interpolation: str = "linear",
                 method: str = "default") -> Any:
        """Exact quantiles of each column (a Series for one ``q``, a frame for a list), as pandas computes them.

        The columns are gathered whole in one task: mind memory on very large data. ``axis=1`` takes the
        quantiles of each row, partition by partition. ``method`` is accepted for Dask's signature; the
        result is always exact.
        """
        _check_quantile_method(method)
        kwargs = {"numeric_only": numeric_only, "interpolation": interpolation}
        if axis in (1, "columns"):
            return _method(self, "quantile", q, axis=1, **kwargs)
        if axis not in (0, "index", None):
            raise ValueError(f"quantile: axis must be 0/'index' or 1/'columns', got {axis!r}")
        return new_collection(red.frame_quantile(self._expr, q, **kwargs))

    def add_prefix(self, prefix: str) -> DataFrame:
        """Column names with ``prefix`` in front, as pandas."""
        return _method(self, "add_prefix", prefix)

    def add_suffix(self, suffix: str) -> DataFrame:
        """Column names with ``suffix`` after them, as pandas."""
        return _method(self, "add_suffix", suffix)

    def to_parquet(self, path: Any, **kwargs: Any) -> Any:
        from shoal.dataframe._io.parquet_write import to_parquet
        return to_parquet(self, path, **kwargs)


class Series(_Frame, SeriesElementwiseMethods, SeriesStatsMethods, SeriesIOMethods):
    """A lazy, partitioned pandas Series."""

    @property
    def name(self) -> Any:
        return self._meta.name

    @name.setter
    def name(self, value: Any) -> None:
        renamed = self.rename(value)
        self._expr, self._optimized = renamed._expr, None

    @property
    def dtype(self) -> Any:
        return self._meta.dtype

    @property
    def shape(self) -> tuple[Any]:
        return (new_collection(red.length(self._expr)),)

    def __iter__(self) -> Iterator[Any]:
        """The values, computing one partition at a time so that only one is held in memory."""
        for i in range(self.npartitions):
            yield from self.partitions[i].compute()

    def __getitem__(self, key: Any) -> Any:
        """``s[mask]`` filters by an aligned boolean Series, ``s[f]`` indexes with ``f(s)``; labels go to ``loc``."""
        if callable(key) and not isinstance(key, FrameBase):
            return self[key(self)]
        if isinstance(key, Series):
            return new_collection(Filter(self._expr, key._expr))
        if isinstance(key, FrameBase):
            raise TypeError(f"s[...] takes a label, a slice or a boolean Series, got {type(key).__name__}")
        return self.loc[key]

    def add_prefix(self, prefix: str) -> Series:
        """Index labels with ``prefix`` in front, as pandas' ``Series.add_prefix``.

        Known divisions of a string index stay known (a common prefix keeps the order); others are forgotten.
        """
        return _relabel(self, "add_prefix", prefix)

    def add_suffix(self, suffix: str) -> Series:
        """Index labels with ``suffix`` after them, as pandas' ``Series.add_suffix`` (divisions forgotten)."""
        return _relabel(self, "add_suffix", suffix)

    def rename(self, index: Any = None, sorted_index: bool = False) -> Series:
        """A new name (a scalar), or new index labels (a function or mapping), as pandas' ``Series.rename``.

        Relabelling forgets the divisions unless ``sorted_index=True`` promises the new labels still increase
        (then the divisions are relabelled too), as in Dask.
        """
        if not (callable(index) or isinstance(index, dict | pd.Series)):
            return _method(self, "rename", index, columnwise=True)
        expr = MapPartitions(self._expr, _MethodCaller("rename"), (index,), None, None, "rename", True, False)
        if sorted_index and self.known_divisions:
            mapper = index if callable(index) else (lambda v: index.get(v, v))
            from shoal.dataframe._shuffle import WithDivisions
            return new_collection(WithDivisions(expr, tuple(mapper(d) for d in self.divisions)))
        return new_collection(expr)

    def map(self, arg: Any, na_action: Any = None, meta: Any = None) -> Series:
        return self.map_partitions(_series_map, arg, na_action, meta=meta)

    def nunique(self, dropna: bool = True, split_every: int | None = None) -> Any:
        return new_collection(red.nunique(self._expr, dropna=dropna, split_every=split_every))

    def unique(self, split_every: int | None = None) -> Series:
        """The distinct values, as a Series (in order of first appearance)."""
        return new_collection(red.unique(self._expr, split_every=split_every))

    def value_counts(self, sort: bool = True, ascending: bool = False, dropna: bool = True, normalize: bool = False,
                     split_every: int | None = None) -> Series:
        return new_collection(red.value_counts(self._expr, sort=sort, ascending=ascending, dropna=dropna,
                                               normalize=normalize, split_every=split_every))

    def quantile(self, q: Any = 0.5, method: str = "default") -> Any:
        """Exact quantiles. The non-null values are gathered in one task: mind memory on very large data.

        ``method`` takes Dask's names (``"default"``, ``"dask"``, ``"tdigest"``); the result is exact for all.
        """
        _check_quantile_method(method)
        return new_collection(red.quantile(self._expr, q))

    def describe(self, split_every: int | None = None, percentiles: Any = None, percentiles_method: str = "default",
                 include: Any = None, exclude: Any = None) -> Series:
        """Summary statistics, as pandas' ``describe`` gives them; see :meth:`DataFrame.describe`."""
        return new_collection(_describe(self, split_every, percentiles, percentiles_method, include, exclude))

    def groupby(self, by: Any, sort: bool = True, dropna: bool = True, **kwargs: Any) -> Any:
        from shoal.dataframe._groupby import GroupBy
        return GroupBy(self, by, sort=sort, dropna=dropna, **kwargs)

    def to_frame(self, name: Any = None) -> DataFrame:
        return _method(self, "to_frame", *(() if name is None else (name,)))

    def to_csv(self, path: Any, **kwargs: Any) -> Any:
        """Write CSV files as :meth:`DataFrame.to_csv` does (the Series as one column, as pandas writes it)."""
        from shoal.dataframe._io.csv import to_csv
        return to_csv(self, path, **kwargs)

    @property
    def is_monotonic_increasing(self) -> Any:
        """Whether the values never decrease (lazy bool; False with missing values, as pandas)."""
        return new_collection(red.monotonic(self._expr, True))

    @property
    def is_monotonic_decreasing(self) -> Any:
        """Whether the values never increase (lazy bool; False with missing values, as pandas)."""
        return new_collection(red.monotonic(self._expr, False))

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        return _method(self, "between", left, right, inclusive=inclusive)


def _relabel(obj: Series, method: str, text: str) -> Series:
    expr = MapPartitions(obj._expr, _MethodCaller(method), (text,), None, None, method.replace("_", "-"), True, False)
    divisions = obj.divisions
    if method == "add_prefix" and all(isinstance(d, str) for d in divisions):
        from shoal.dataframe._shuffle import WithDivisions
        return new_collection(WithDivisions(expr, tuple(text + d for d in divisions)))  # type: ignore[no-any-return]
    return new_collection(expr)  # type: ignore[no-any-return]


def _series_map(part: Any, arg: Any, na_action: Any) -> Any:
    return part.map(arg, na_action=na_action)


register_collection_class(pd.DataFrame, DataFrame)
register_collection_class(pd.Series, Series)
register_collection_class(pd.Index, Index)


def _check_quantile_method(method: str) -> None:
    if method not in ("default", "dask", "tdigest"):
        raise ValueError(f"quantile: method must be 'default', 'dask' or 'tdigest' (Dask's names), got {method!r}; "
                         "for NumPy's interpolation rules pass interpolation= instead.")

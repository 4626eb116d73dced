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
from shoal.dataframe._convert import ConvertMethods
from shoal.dataframe._core import FrameBase, _unwrap, new_collection, register_collection_class
from shoal.dataframe._expr import Assign, Filter, MapPartitions, Partitions, Projection
from shoal.dataframe._index import Index
from shoal.dataframe._io.methods_more import MoreIOMethods, SeriesIOMethods
from shoal.dataframe._methods_elementwise import DataFrameElementwiseMethods, SeriesElementwiseMethods
from shoal.dataframe._methods_stats import FrameStatsMethods, SeriesStatsMethods, StatsMethods
from shoal.dataframe._ordering import OrderingMethods
from shoal.dataframe._repr import frame_html, frame_repr
from shoal.dataframe._sampling import SamplingMethods
from shoal.dataframe._window import WindowMethods

__all__ = ["DataFrame", "Index", "Series"]


class _MethodCaller:
    """``caller(obj, *args, **kwargs)`` runs ``obj.<method>(*args, **kwargs)``; picklable, with a stable token."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.__name__ = method

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(obj, self.method)(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_MethodCaller, (self.method,))

    def __dask_tokenize__(self) -> Any:
        return ("method-caller", self.method)


def _describe(obj: FrameBase, split_every: int | None, percentiles: Any, percentiles_method: str, include: Any,
              exclude: Any) -> Any:
    from shoal.dataframe._describe import describe
    if percentiles_method not in ("default", "tdigest"):
        raise ValueError(f"describe(percentiles_method={percentiles_method!r}): use 'default' or 'tdigest' (both "
                         f"give exact percentiles in shoal).")
    return describe(obj, percentiles=percentiles, include=include, exclude=exclude, split_every=split_every)


def _method(obj: FrameBase, method: str, *args: Any, columnwise: bool = False, keeps_index: bool = True,
            **kwargs: Any) -> Any:
    """Run ``partition.method(*args, **kwargs)`` on every partition."""
    exprs = tuple(_unwrap(a) for a in args)
    func = _MethodCaller(method)
    expr = MapPartitions(obj._expr, func, exprs, kwargs or None, None, method.replace("_", "-"), columnwise,
                         keeps_index)
    return new_collection(expr)


class _Frame(OrderingMethods, WindowMethods, AccessorMethods, ConvertMethods, StatsMethods, SamplingMethods,
             MoreConvertMethods, FrameBase):
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
        return _method(self, "astype", dtype=dtype, columnwise=not isinstance(dtype, dict))

    def fillna(self, value: Any = None, **kwargs: Any) -> Any:
        return _method(self, "fillna", _unwrap(value) if value is not None else None,
                       columnwise=not isinstance(value, dict), **kwargs)

    def dropna(self, **kwargs: Any) -> Any:
        return _method(self, "dropna", **kwargs)

    def isin(self, values: Any) -> Any:
        if isinstance(values, FrameBase):
            raise NotImplementedError("isin with a lazy collection: compute it first, e.g. values.compute()")
        return _method(self, "isin", values=list(values) if isinstance(values, set) else values, columnwise=True)

    def where(self, cond: Any, other: Any = np.nan) -> Any:
        return _method(self, "where", _unwrap(cond), _unwrap(other))

    def mask(self, cond: Any, other: Any = np.nan) -> Any:
        return _method(self, "mask", _unwrap(cond), _unwrap(other))

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

    # -- reductions ----------------------------------------------------------------------
    def _reduce(self, method: str, axis: Any = 0, split_every: int | None = None, **kwargs: Any) -> Any:
        if axis in (1, "columns"):
            return _method(self, method, axis=1, **kwargs)
        if axis not in (0, None, "index"):
            raise ValueError(f"No axis named {axis!r} for {type(self).__name__}; use 0/'index' or 1/'columns'")
        return new_collection(red.reduction(self._expr, method, split_every=split_every, **kwargs))

    def sum(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, min_count: int = 0,
            split_every: int | None = None) -> Any:
        return self._reduce("sum", axis, split_every, skipna=skipna, min_count=min_count,
                            **self._numeric_only(numeric_only))

    def prod(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, split_every: int | None = None
             ) -> Any:
        return self._reduce("prod", axis, split_every, skipna=skipna, **self._numeric_only(numeric_only))

    product = prod

    def min(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, split_every: int | None = None
            ) -> Any:
        return self._reduce("min", axis, split_every, skipna=skipna, **self._numeric_only(numeric_only))

    def max(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, split_every: int | None = None
            ) -> Any:
        return self._reduce("max", axis, split_every, skipna=skipna, **self._numeric_only(numeric_only))

    def any(self, axis: Any = 0, skipna: bool = True, split_every: int | None = None) -> Any:
        return self._reduce("any", axis, split_every, skipna=skipna)

    def all(self, axis: Any = 0, skipna: bool = True, split_every: int | None = None) -> Any:
        return self._reduce("all", axis, split_every, skipna=skipna)

    def count(self, axis: Any = 0, numeric_only: bool = False, split_every: int | None = None) -> Any:
        return self._reduce("count", axis, split_every, **self._numeric_only(numeric_only))

    def mean(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False,
             split_every: int | None = None) -> Any:
        if axis in (1, "columns"):
            return _method(self, "mean", axis=1, skipna=skipna)
        return new_collection(red.moment(self._expr, "mean", skipna=skipna, numeric_only=numeric_only,
                                         split_every=split_every))

    def var(self, axis: Any = 0, skipna: bool = True, ddof: int = 1, numeric_only: bool = False,
            split_every: int | None = None) -> Any:
        if axis in (1, "columns"):
            return _method(self, "var", axis=1, skipna=skipna, ddof=ddof)
        return new_collection(red.moment(self._expr, "var", ddof=ddof, skipna=skipna, numeric_only=numeric_only,
                                         split_every=split_every))

    def std(self, axis: Any = 0, skipna: bool = True, ddof: int = 1, numeric_only: bool = False,
            split_every: int | None = None) -> Any:
        if axis in (1, "columns"):
            return _method(self, "std", axis=1, skipna=skipna, ddof=ddof)
        return new_collection(red.moment(self._expr, "std", ddof=ddof, skipna=skipna, numeric_only=numeric_only,
                                         split_every=split_every))

    def memory_usage(self, index: bool = True, deep: bool = False) -> Any:
        """Bytes used, summed over partitions: per column for a DataFrame (a lazy Series), else a lazy Scalar.

        Every partition counts its own index (``index=True``), so the index total can exceed pandas' figure
        for the whole frame (a ``RangeIndex`` costs a fixed size per partition).
        """
        return new_collection(red.memory_usage(self._expr, index=index, deep=deep))

    def memory_usage_per_partition(self, index: bool = True, deep: bool = False) -> Series:
        """Total bytes of every partition, as a Series indexed by partition number."""
        return new_collection(red.memory_usage_per_partition(self._expr, index=index, deep=deep))

    def nunique_approx(self, split_every: int | None = None) -> Any:
        """Approximate number of distinct rows (HyperLogLog; relative error about 0.41 %), a lazy float.

        See :mod:`shoal.dataframe._approx` for the algorithm and its error bound.
        """
        from shoal.dataframe._approx import nunique_approx
        return new_collection(nunique_approx(self._expr, split_every=split_every))

    def _numeric_only(self, numeric_only: bool) -> dict[str, Any]:
        return {"numeric_only": numeric_only} if isinstance(self._meta, pd.DataFrame) else {}

    @property
    def size(self) -> Any:
        """Number of elements (rows times columns for a frame), lazy."""
        rows = new_collection(red.length(self._expr))
        return rows * len(self._meta.columns) if isinstance(self._meta, pd.DataFrame) else rows

    @property
    def loc(self) -> _LocIndexer:
        """Label-based selection of rows; with known divisions only the partitions holding them are read."""
        return _LocIndexer(self)

    def _check_columns(self, columns: list[Any], what: str) -> None:
        available = list(self._meta.columns)
        missing = [c for c in columns if c not in available]
        if missing:
            raise KeyError(
                f"{what}: column(s) {missing} not found. Available columns: {available}."
            )


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
        if isinstance(key, FrameBase):
            raise TypeError(f"df[...] takes a column name, a list of names or a boolean Series, got {type(key)}")
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
            out = new_collection(Assign(out._expr, key, _unwrap(value)))
        return out

    def rename(self, index: Any = None, columns: Any = None) -> DataFrame:
        if index is not None:
            raise NotImplementedError("rename(index=...) is not supported; use map_partitions")
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

    def rename(self, name: Any) -> Series:
        return _method(self, "rename", name, columnwise=True)

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

    def quantile(self, q: Any = 0.5) -> Any:
        """Exact quantiles. The non-null values are gathered in one task: mind memory on very large data."""
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


class _LocIndexer:
    def __init__(self, obj: _Frame) -> None:
        self.obj = obj

    def __getitem__(self, key: Any) -> Any:
        cols: Any = None
        if isinstance(key, tuple):
            key, cols = key
        obj = self.obj
        if isinstance(key, Series):
            out = obj[key] if isinstance(obj, DataFrame) else new_collection(Filter(obj._expr, key._expr))
        elif isinstance(key, slice):
            if key.step is not None:
                raise ValueError("loc does not support slice steps with shoal; select rows, then compute")
            out = _loc_slice(obj, key.start, key.stop)
        elif isinstance(key, list | np.ndarray | pd.Index):
            out = _loc_labels(obj, list(key))
        elif isinstance(key, str) and isinstance(obj._meta.index, pd.DatetimeIndex | pd.PeriodIndex):
            # A date string is a period ("2021-01-05" is a whole day): pandas' partial string indexing, as
            # the slice from the string to itself, which is what Dask does too.
            out = _loc_slice(obj, key, key)
        else:
            out = _loc_labels(obj, [key])
        if cols is not None:
            out = out[cols]
        return out


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


def _loc_slice(obj: _Frame, start: Any, stop: Any) -> Any:
    expr = obj._expr
    if obj.known_divisions:
        lo, hi = _label_bound(obj.divisions, start, False), _label_bound(obj.divisions, stop, True)
        indices = _partitions_for(obj.divisions, lo, hi) or [0]
        if len(indices) < obj.npartitions:
            expr = Partitions(expr, indices)
    out = MapPartitions(expr, _slice_loc, (start, stop), None, None, "loc", True, True)
    return new_collection(out)


def _take_labels(part: Any, labels: list[Any]) -> Any:
    present = [lab for lab in labels if lab in part.index]
    return part.loc[present]


def _loc_labels(obj: _Frame, labels: list[Any]) -> Any:
    expr = obj._expr
    if obj.known_divisions:
        indices = sorted({i for lab in labels for i in _partitions_for(obj.divisions, lab, lab)[:1]}) or [0]
        if indices == list(range(indices[0], indices[-1] + 1)) and len(indices) < obj.npartitions:
            expr = Partitions(expr, indices)
    return new_collection(MapPartitions(expr, _take_labels, (labels,), None, None, "loc", True, True))

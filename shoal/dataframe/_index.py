"""``Index``: the lazy, partitioned index of a DataFrame or Series (``df.index``).

Each partition is a pandas Index. What pandas gives as an Index (``map``,
``astype``, ``unique``, a datetime field such as ``year``) stays a shoal
Index; what pandas gives as a NumPy array (comparisons, ``isin``, ``isna``)
becomes a shoal array with one block per partition, as in Dask; reductions
(``min``, ``max``, ``nunique``, ``value_counts``, ...) go through
``to_series()`` and are the Series' own tree reductions. The index values are
what the divisions describe, so an operation that changes the values forgets
the divisions unless it is known to keep their order (``is_monotonic=True``
in ``map``, an order-keeping ``astype``, ``shift`` with a frequency), in which
case the divisions are mapped the same way.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions, TreeReduce
from shoal.dataframe._index_more import IndexMoreMethods

__all__ = ["Index"]

#: Fields of datetime, timedelta and period indexes, one value per row (an Index or a NumPy array).
_FIELDS = (
    "year", "month", "day", "hour", "minute", "second", "microsecond", "nanosecond", "dayofweek", "day_of_week",
    "weekday", "dayofyear", "day_of_year", "quarter", "days_in_month", "daysinmonth", "is_month_start",
    "is_month_end", "is_quarter_start", "is_quarter_end", "is_year_start", "is_year_end", "is_leap_year",
    "days", "seconds", "microseconds", "nanoseconds", "qyear", "start_time", "end_time",
)


class _IndexCall:
    """``caller(idx, *args, **kwargs)`` runs ``idx.<attribute>`` (called when ``call``); picklable and tokenizable."""

    def __init__(self, attribute: str, call: bool = True) -> None:
        self.attribute, self.call = attribute, call
        self.__name__ = attribute

    def __call__(self, idx: pd.Index, *args: Any, **kwargs: Any) -> Any:
        value = getattr(idx, self.attribute)
        return value(*args, **kwargs) if self.call else value

    def __dask_tokenize__(self) -> Any:
        return ("index-call", self.attribute, self.call)


def _to_series(idx: pd.Index, index: Any, name: Any) -> pd.Series:
    return idx.to_series(index=index, name=name)


def _to_frame(idx: pd.Index, index: bool, name: Any) -> pd.DataFrame:
    return idx.to_frame(index=index) if name is _NO_NAME else idx.to_frame(index=index, name=name)


def _values_to_index(part: pd.Series, name: Any) -> pd.Index:
    return pd.Index(part.array, name=name)


def _array_block(part: pd.Index, func: Callable[..., Any], args: tuple[Any, ...], expected: Any, i: int) -> Any:
    return np.asarray(func(part, *args))


def _binary_op(op: Callable[[Any, Any], Any], swap: bool) -> Callable[[pd.Index, Any], Any]:
    return _Swapped(op) if swap else op


class _Swapped:
    """``op(b, a)`` as a picklable callable (``1 - idx``)."""

    def __init__(self, op: Callable[[Any, Any], Any]) -> None:
        self.op = op

    def __call__(self, a: Any, b: Any) -> Any:
        return self.op(b, a)

    def __dask_tokenize__(self) -> Any:
        return ("swapped", self.op.__name__)


class _NoName:
    def __repr__(self) -> str:
        return "<no name>"


_NO_NAME = _NoName()


def _index_memory_usage(part: pd.Index, deep: bool) -> int:
    return int(part.memory_usage(deep=deep))


def _sum_ints(parts: list[int]) -> int:
    return int(sum(parts))


def _check_scalar(other: Any, op: str) -> None:
    if isinstance(other, FrameBase) or (np.ndim(other) and not isinstance(other, str)):
        raise TypeError(
            f"Index {op} needs a scalar on the other side, got {type(other).__name__}: each partition holds only "
            f"part of the index, so arrays and other collections can't be lined up with it. Use "
            f"idx.to_series() (which aligns on the index values) or compute the index first."
        )


def _compare(op: Callable[[Any, Any], Any], name: str) -> Callable[[Index, Any], Any]:
    def method(self: Index, other: Any) -> Any:
        _check_scalar(other, name)
        return self._to_array(op, other, label=name)

    method.__name__ = f"__{name}__"
    return method


def _arith(op: Callable[[Any, Any], Any], name: str, swap: bool = False) -> Callable[[Index, Any], Any]:
    def method(self: Index, other: Any) -> Any:
        _check_scalar(other, name)
        return self._map_values(_binary_op(op, swap), (other,), label=name)

    method.__name__ = f"__{'r' if swap else ''}{name}__"
    return method


def _field(name: str) -> property:
    def get(self: Index) -> Index:
        if not hasattr(self._meta, name):
            raise AttributeError(f"'Index' of dtype {self.dtype} has no attribute {name!r} (pandas' "
                                 f"{type(self._meta).__name__} has none either)")
        func = _IndexCall(name, call=False)
        if isinstance(func(self._meta), pd.Index):
            return self._map_values(func, (), label=name.replace("_", "-"))
        return self._to_array(func, label=name.replace("_", "-"))  # pandas gives these as NumPy arrays

    get.__name__ = name
    get.__doc__ = (f"``index.{name}`` of every partition: a shoal Index, or a shoal array where pandas gives a "
                   f"NumPy array (``is_month_start``, ...).")
    return property(get)


class Index(IndexMoreMethods, FrameBase):
    """A lazy, partitioned pandas Index (``df.index``).

    Dropping, rounding, replacing, ``where``, ``str``, ufuncs and whole-index
    answers (``is_monotonic_increasing``, ``all``, ``diff``) are in
    :mod:`shoal.dataframe._index_more`.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"x": range(6)}, index=pd.date_range("2000-01-01", periods=6, name="t"))
    >>> idx = sd.from_pandas(pdf, npartitions=2).index
    >>> idx.max().compute()
    Timestamp('2000-01-06 00:00:00')
    >>> idx.day.compute().tolist()
    [1, 2, 3, 4, 5, 6]
    >>> (idx > pd.Timestamp("2000-01-04")).compute()
    array([False, False, False, False,  True,  True])
    """

    @property
    def name(self) -> Any:
        return self._meta.name

    @property
    def names(self) -> list[Any]:
        return list(self._meta.names)

    @property
    def dtype(self) -> Any:
        return self._meta.dtype

    @property
    def ndim(self) -> int:
        return 1

    @property
    def shape(self) -> tuple[Any]:
        """``(rows,)``, the rows a lazy Scalar."""
        return (self.size,)

    @property
    def size(self) -> Any:
        """The number of values, as a lazy Scalar."""
        return self.to_series().size

    @property
    def nbytes(self) -> Any:
        """Bytes of the index values, as a lazy Scalar (``pd.Index.nbytes`` summed over partitions)."""
        return self._sum(_IndexCall("nbytes", call=False), "nbytes")

    def __repr__(self) -> str:
        return f"shoal.dataframe.Index<{self._expr._label}, npartitions={self.npartitions}, dtype={self.dtype}>"

    def __len__(self) -> int:
        return int(self.size.compute())

    # -- conversions ----------------------------------------------------------------------------------------
    def to_series(self, index: Any = None, name: Any = None) -> Any:
        """A Series of the index values, indexed by them (mirrors ``pd.Index.to_series``); divisions are kept."""
        if index is not None:
            raise ValueError("to_series(index=...) is not supported: the new index can't be lined up with the "
                             "partitions. Use idx.to_series().reset_index(drop=True) or set_index afterwards.")
        return new_collection(MapPartitions(self._expr, _to_series, (index, name), None, None, "to-series"))

    def to_frame(self, index: bool = True, name: Any = _NO_NAME) -> Any:
        """A one-column DataFrame of the index values (mirrors ``pd.Index.to_frame``).

        With ``index=False`` each partition's frame is indexed from 0, as pandas does for each partition, so
        the divisions are forgotten.
        """
        expr = MapPartitions(self._expr, _to_frame, (index, name), None, None, "to-frame", False, bool(index))
        return new_collection(expr)

    def to_dask_array(self, lengths: Any = None, meta: Any = None) -> Any:
        """The index values as a shoal array, one block per partition (see ``Series.to_dask_array``)."""
        return self.to_series().to_dask_array(lengths=lengths, meta=meta)

    @property
    def values(self) -> Any:
        """The index values as a shoal array with unknown chunk sizes."""
        return self.to_dask_array()

    def to_bag(self, index: bool = False, format: str = "tuple") -> Any:  # noqa: A002 - Dask's name
        """The index values as a shoal Bag."""
        return self.to_series().to_bag(index=index, format=format)

    # -- reductions (the Series' own) -----------------------------------------------------------------------
    def min(self, split_every: Any = None) -> Any:
        return self.to_series().min(split_every=split_every)

    def max(self, split_every: Any = None) -> Any:
        return self.to_series().max(split_every=split_every)

    def count(self, split_every: Any = None) -> Any:
        return self.to_series().count(split_every=split_every)

    def nunique(self, dropna: bool = True, split_every: Any = None) -> Any:
        return self.to_series().nunique(dropna=dropna, split_every=split_every)

    def nunique_approx(self, split_every: Any = None) -> Any:
        return self.to_series().nunique_approx(split_every=split_every)

    def value_counts(self, *args: Any, **kwargs: Any) -> Any:
        """Counts of each value, as a Series (mirrors ``pd.Index.value_counts``)."""
        return self.to_series().value_counts(*args, **kwargs)

    def quantile(self, q: Any = 0.5, **kwargs: Any) -> Any:
        return self.to_series().quantile(q, **kwargs)

    def memory_usage(self, deep: bool = False) -> Any:
        """Bytes used by the index values, summed over partitions (a lazy Scalar); mirrors pandas.

        Each partition's index counts on its own, so a ``RangeIndex`` adds its
        small fixed size once per partition and the total can differ from
        pandas' figure for the whole index; materialized indexes add up to it.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=[10, 20, 30, 40]), npartitions=2)
        >>> df.index.memory_usage().compute() == pd.Index([10, 20, 30, 40]).memory_usage()
        True
        """
        meta = int(self._meta.memory_usage(deep=deep))
        return new_collection(TreeReduce([self._expr], _index_memory_usage, _sum_ints, _sum_ints, meta,
                                         "memory-usage", {"deep": deep}))

    def _sum(self, func: Callable[[pd.Index], int], label: str) -> Any:
        return new_collection(TreeReduce([self._expr], func, _sum_ints, _sum_ints, int(func(self._meta)), label,
                                         None))

    # -- values in, Index out -------------------------------------------------------------------------------
    def unique(self, split_every: Any = None) -> Index:
        """The distinct values in order of first appearance, as an Index (mirrors ``pd.Index.unique``)."""
        values = self.to_series().drop_duplicates(split_every=split_every)
        return self._from_values(values, "unique")

    def drop_duplicates(self, keep: Any = "first", split_every: Any = None) -> Index:
        """The index without repeated values, as an Index (``keep`` as pandas; order of first appearance)."""
        values = self.to_series().drop_duplicates(keep=keep, split_every=split_every)
        return self._from_values(values, "drop-duplicates")

    def _from_values(self, values: Any, label: str) -> Index:
        expr = MapPartitions(values._expr, _values_to_index, (self.name,), None, None, label,
                             False, False)
        return new_collection(expr)  # type: ignore[no-any-return]

    def map(self, arg: Any, na_action: Any = None, meta: Any = None, is_monotonic: bool = False) -> Index:
        """``arg`` (a function, dict or Series) applied to every value (mirrors ``pd.Index.map``).

        The divisions are mapped too when ``is_monotonic=True`` says ``arg`` keeps the order (as in Dask),
        and forgotten otherwise.
        """
        if isinstance(arg, FrameBase):
            raise TypeError("Index.map(arg): arg must be a function, a dict or a pandas Series, not a shoal "
                            "collection; compute it first.")
        if meta is not None and not isinstance(meta, pd.Index):
            meta = pd.Index(np.array([], dtype=meta), name=self.name)  # a dtype, as Dask's meta= takes
        return self._map_values(_IndexCall("map"), (arg, na_action), label="map", meta=meta, keep=is_monotonic,
                                division_map=lambda d: d.map(arg, na_action=na_action))

    def astype(self, dtype: Any) -> Index:
        """The values cast to ``dtype``; divisions are cast along when the cast keeps the order of numbers,
        dates and times (other casts, such as to strings, forget them)."""
        target = pd.Index(self._meta).astype(dtype).dtype
        keep = self.dtype.kind in "iufmM" and getattr(target, "kind", "O") in "iufmM"
        return self._map_values(_IndexCall("astype"), (dtype,), label="astype", keep=keep,
                                division_map=lambda d: d.astype(dtype))

    def rename(self, name: Any) -> Index:
        """The same index with another name (divisions kept)."""
        return self._map_values(_IndexCall("rename"), (name,), label="rename", keep=True,
                                division_map=lambda d: d)

    def fillna(self, value: Any) -> Index:
        """Missing values replaced by ``value`` (mirrors ``pd.Index.fillna``)."""
        _check_scalar(value, "fillna")
        return self._map_values(_IndexCall("fillna"), (value,), label="fillna")

    def shift(self, periods: int = 1, freq: Any = None) -> Index:
        """Every value moved by ``periods`` steps of ``freq`` (the index's own frequency by default).

        Mirrors ``pd.DatetimeIndex.shift``; the divisions move the same way.
        """
        freq = freq if freq is not None else getattr(self._meta, "freq", None)
        if freq is None:
            raise ValueError("Index.shift needs a frequency: pass freq= (such as 'D' or '1h'); the index has none.")
        return self._map_values(_IndexCall("shift"), (periods, freq), label="shift", keep=True,
                                division_map=lambda d: d.shift(periods, freq))

    def _map_values(self, func: Callable[..., Any], args: tuple[Any, ...], label: str, meta: Any = None,
                    keep: bool = False, division_map: Callable[[pd.Index], pd.Index] | None = None) -> Any:
        """``func(partition, *args)`` on every partition; divisions mapped by ``division_map`` when ``keep``."""
        expr = MapPartitions(self._expr, func, args, None, meta, label, False, False)
        divisions = self.divisions
        if keep and division_map is not None and None not in divisions:
            from shoal.dataframe._shuffle import WithDivisions
            mapped = list(division_map(pd.Index(list(divisions), dtype=self.dtype)))
            if all(a <= b for a, b in zip(mapped, mapped[1:], strict=False)):
                return new_collection(WithDivisions(expr, tuple(mapped)))
        return new_collection(expr)

    # -- values in, NumPy-like out (shoal arrays, as pandas gives ndarrays) ----------------------------------
    def _to_array(self, func: Callable[..., Any], *args: Any, label: str) -> Any:
        from shoal.dataframe._convert import _to_array
        meta_values = np.asarray(func(self._meta, *args))
        return _to_array(self, None, _array_block, meta_values, f"index-{label}", func, args)

    def isin(self, values: Any) -> Any:
        """Whether each value is in ``values``, as a shoal bool array (pandas gives a NumPy array)."""
        if isinstance(values, FrameBase):
            raise TypeError("Index.isin(values): compute the shoal collection first, or use "
                            "idx.to_series().isin(values).")
        return self._to_array(_IndexCall("isin"), list(values), label="isin")

    def isna(self) -> Any:
        """Whether each value is missing, as a shoal bool array."""
        return self._to_array(_IndexCall("isna"), label="isna")

    def notna(self) -> Any:
        """Whether each value is present, as a shoal bool array."""
        return self._to_array(_IndexCall("notna"), label="notna")

    isnull = isna
    notnull = notna

    __lt__ = _compare(operator.lt, "lt")
    __le__ = _compare(operator.le, "le")
    __gt__ = _compare(operator.gt, "gt")
    __ge__ = _compare(operator.ge, "ge")
    __eq__ = _compare(operator.eq, "eq")  # type: ignore[assignment]
    __ne__ = _compare(operator.ne, "ne")  # type: ignore[assignment]
    __hash__ = object.__hash__
    __add__ = _arith(operator.add, "add")
    __radd__ = _arith(operator.add, "add", True)
    __sub__ = _arith(operator.sub, "sub")
    __rsub__ = _arith(operator.sub, "sub", True)
    __mul__ = _arith(operator.mul, "mul")
    __rmul__ = _arith(operator.mul, "mul", True)
    __truediv__ = _arith(operator.truediv, "truediv")
    __rtruediv__ = _arith(operator.truediv, "truediv", True)
    __floordiv__ = _arith(operator.floordiv, "floordiv")
    __rfloordiv__ = _arith(operator.floordiv, "floordiv", True)
    __mod__ = _arith(operator.mod, "mod")
    __rmod__ = _arith(operator.mod, "mod", True)
    __pow__ = _arith(operator.pow, "pow")
    __rpow__ = _arith(operator.pow, "pow", True)

    def __divmod__(self, other: Any) -> tuple[Index, Index]:
        return self // other, self % other

    def __rdivmod__(self, other: Any) -> tuple[Index, Index]:
        return other // self, other % self


for _name in _FIELDS:
    setattr(Index, _name, _field(_name))
del _name

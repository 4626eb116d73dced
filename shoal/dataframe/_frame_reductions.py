"""Shared building blocks of the collection methods, and the whole-column reductions of frames and Series.

:func:`_method` runs a pandas method on every partition (the usual way a method that works row by row is
built); :class:`ReductionMethods` holds ``sum``, ``prod``, ``min``, ``max``, ``any``, ``all``, ``count``,
``mean``, ``var``, ``std`` and friends: tree reductions from :mod:`shoal.dataframe._reductions` along the
index (``axis=0``), or partition-wise pandas calls across columns (``axis=1``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe import _reductions as red
from shoal.dataframe._core import FrameBase, _unwrap, new_collection
from shoal.dataframe._expr import MapPartitions

__all__ = ["ReductionMethods"]


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


def _method(obj: FrameBase, method: str, *args: Any, columnwise: bool = False, keeps_index: bool = True,
            **kwargs: Any) -> Any:
    """Run ``partition.method(*args, **kwargs)`` on every partition."""
    exprs = tuple(_unwrap(a) for a in args)
    func = _MethodCaller(method)
    expr = MapPartitions(obj._expr, func, exprs, kwargs or None, None, method.replace("_", "-"), columnwise,
                         keeps_index)
    return new_collection(expr)


class ReductionMethods:
    """Reductions of DataFrame and Series (mixed into ``_Frame``)."""

    _expr: Any
    _meta: Any

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

    def prod(self, axis: Any = 0, skipna: bool = True, numeric_only: bool = False, min_count: int = 0,
             split_every: int | None = None) -> Any:
        return self._reduce("prod", axis, split_every, skipna=skipna, min_count=min_count,
                            **self._numeric_only(numeric_only))

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

    def memory_usage_per_partition(self, index: bool = True, deep: bool = False) -> Any:
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

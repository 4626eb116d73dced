"""More of pandas' Index API on shoal's lazy Index: the methods pandas' and Dask's Index share.

Per-partition methods (``dropna``, ``round``, ``replace``, ``where``, ``str``,
ufuncs) run on each partition's pandas Index; ``dropna`` and a boolean
selection keep only some values, so the divisions still bound them, while the
others change values and forget the divisions. Whole-index answers
(``is_monotonic_increasing``, ``all``, ``any``, ``diff``) go through
``to_series()``, whose reductions and overlaps already cross partition edges.
Iterating and ``np.asarray`` compute, one partition at a time for iteration, as
in Dask; ``x in idx`` is refused, as in Dask, with the lazy call that answers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._accessors import Accessor
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions
from shoal.dataframe._meta import make_meta_nonempty

__all__ = ["IndexMoreMethods"]


class _PartCall:
    """``part.<method>(*args, **kwargs)`` on a partition's Index; picklable, with a stable token."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.__name__ = method

    def __call__(self, part: pd.Index, *args: Any, **kwargs: Any) -> Any:
        return getattr(part, self.method)(*args, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("index-part-call", self.method)


class _Ufunc:
    """``ufunc(part, *scalars, **kwargs)``, the partition in its place among the inputs."""

    def __init__(self, ufunc: np.ufunc, position: int) -> None:
        self.ufunc, self.position = ufunc, position
        self.__name__ = ufunc.__name__

    def __call__(self, part: pd.Index, others: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        inputs = (*others[:self.position], part, *others[self.position:])
        return self.ufunc(*inputs, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("index-ufunc", self.ufunc.__name__, self.position)


def _where(part: pd.Index, cond: Any, other: Any) -> pd.Index:
    return part.where(np.asarray(cond, dtype=bool), other)


def _select(part: pd.Index, mask: Any) -> pd.Index:
    return part[np.asarray(mask, dtype=bool)]


def _check_mask(obj: Any, what: str) -> None:
    meta = getattr(obj, "_meta", None)
    if not isinstance(obj, FrameBase) or not isinstance(meta, pd.Series | pd.Index):
        raise TypeError(
            f"Index.{what} takes a shoal Series (or Index) of booleans split like the index, e.g. "
            f"idx.to_series() > 3, got {type(obj).__name__}. Comparisons of the Index itself (idx > 3) give "
            f"shoal arrays, whose blocks aren't tied to the partitions; compare idx.to_series() instead."
        )
    if not (pd.api.types.is_bool_dtype(meta.dtype)):
        raise TypeError(f"Index.{what} needs booleans, but the condition has dtype {meta.dtype}")


class IndexMoreMethods:
    """Mixed into :class:`shoal.dataframe._index.Index`."""

    _expr: Any
    _meta: Any
    npartitions: int

    # ``to_series``, ``_map_values``, ``_to_array`` and ``_from_values`` come from Index itself.

    # -- values kept or changed in place ------------------------------------------------------
    def dropna(self, how: str = "any") -> Any:
        """The index without missing values (mirrors ``pd.Index.dropna``); divisions are kept."""
        if how not in ("any", "all"):
            raise ValueError(f"Index.dropna(how={how!r}): how must be 'any' or 'all'")
        return self._map_values(_PartCall("dropna"), (how,), label="dropna", keep=True, division_map=_same)

    def round(self, decimals: int = 0) -> Any:
        """Values rounded to ``decimals`` places (mirrors ``pd.Index.round``); divisions are forgotten."""
        return self._map_values(_PartCall("round"), (decimals,), label="round")

    def replace(self, to_replace: Any = None, value: Any = pd.api.extensions.no_default, regex: bool = False) -> Any:
        """Values replaced as ``pd.Index.replace`` does it, per partition; divisions are forgotten."""
        if any(isinstance(v, FrameBase) for v in (to_replace, value)):
            raise TypeError("Index.replace takes plain values, not shoal collections; compute them first.")
        args: tuple[Any, ...] = (to_replace,) if value is pd.api.extensions.no_default else (to_replace, value)
        meta = _PartCall("replace")(make_meta_nonempty(self._meta), *args, regex=regex)[:0]
        expr = MapPartitions(self._expr, _PartCall("replace"), args, {"regex": regex}, meta, "replace", False,
                             False)
        return new_collection(expr)

    def where(self, cond: Any, other: Any = None) -> Any:
        """Values where ``cond`` holds, ``other`` (missing by default) elsewhere; mirrors ``pd.Index.where``.

        ``cond`` is a shoal Series of booleans split like the index, such as
        ``idx.to_series() > 3``. Divisions are forgotten.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> idx = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=[1.0, 2, 3, 4]), npartitions=2).index
        >>> idx.where(idx.to_series() > 2).compute().tolist()
        [nan, nan, 3.0, 4.0]
        """
        _check_mask(cond, "where")
        if isinstance(other, FrameBase):
            raise TypeError("Index.where(cond, other): other must be a plain value, not a shoal collection.")
        fake = make_meta_nonempty(self._meta)
        # A False among the values, as pandas' dtype on the whole index is the one with a missing value
        # wherever any row is masked (an int index becomes float).
        mask = np.zeros(len(fake), dtype=bool)
        meta = fake.where(mask, other)[:0]
        return new_collection(MapPartitions(self._expr, _where, (cond._expr, other), None, meta, "where",
                                            False, False))

    def copy(self, deep: bool = False) -> Any:
        """The same lazy index (collections are immutable, so a copy is the collection itself)."""
        return new_collection(self._expr)

    def __getitem__(self, key: Any) -> Any:
        """``idx[mask]`` with a shoal Series of booleans split like the index (as Dask); divisions are kept."""
        if isinstance(key, slice | int | np.integer | list) or isinstance(key, np.ndarray):
            raise NotImplementedError(
                f"Index[{type(key).__name__}] is not supported: positions are not known without computing the "
                f"partition lengths. Select with a shoal Series of booleans (idx[idx.to_series() > 3]), or "
                f"compute the index first."
            )
        _check_mask(key, "__getitem__")
        return self._map_values(_select, (key._expr,), label="getitem", keep=True, division_map=_same)

    # -- answers about the whole index ---------------------------------------------------------
    @property
    def is_monotonic_increasing(self) -> Any:
        """Whether the values never decrease across all partitions, as a lazy Scalar."""
        return self.to_series().is_monotonic_increasing

    @property
    def is_monotonic_decreasing(self) -> Any:
        """Whether the values never increase across all partitions, as a lazy Scalar."""
        return self.to_series().is_monotonic_decreasing

    def all(self, split_every: Any = None) -> Any:
        """Whether every value is true, as a lazy Scalar (mirrors ``pd.Index.all``: a missing value is true)."""
        return self.to_series().all(skipna=False, split_every=split_every)  # type: ignore[attr-defined]

    def any(self, split_every: Any = None) -> Any:
        """Whether any value is true, as a lazy Scalar (mirrors ``pd.Index.any``: a missing value is true)."""
        return self.to_series().any(skipna=False, split_every=split_every)  # type: ignore[attr-defined]

    def diff(self, periods: int = 1) -> Any:
        """Each value minus the one ``periods`` before it, across partition edges (mirrors ``pd.Index.diff``)."""
        return self._from_values(self.to_series().diff(periods), "diff")

    # -- accessors and NumPy ------------------------------------------------------------------------
    @property
    def str(self) -> Any:
        """String methods of the index values (``pd.Index.str``), per partition."""
        return Accessor(self, "str")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.sqrt(idx)`` and friends stay lazy: the ufunc runs on each partition (divisions forgotten)."""
        mine = [j for j, x in enumerate(inputs) if x is self]
        if method != "__call__" or len(mine) != 1 or "out" in kwargs or any(
                isinstance(x, FrameBase | np.ndarray | pd.Index | pd.Series) for x in inputs if x is not self):
            return NotImplemented
        others = tuple(x for x in inputs if x is not self)
        func = _Ufunc(ufunc, mine[0])
        out_meta = func(self._meta, others, kwargs)
        if isinstance(out_meta, pd.Index):
            return self._map_values(func, (others, kwargs), label=ufunc.__name__, meta=out_meta)
        return self._to_array(func, others, kwargs, label=ufunc.__name__)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Computes the index (as Dask does), for NumPy functions that need the values."""
        return np.asarray(self.compute(), dtype=dtype)  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[Any]:
        """The values, computing one partition at a time (as Dask does)."""
        for i in range(self.npartitions):
            yield from self.partitions[i].compute()  # type: ignore[attr-defined]

    def __contains__(self, item: Any) -> bool:
        raise NotImplementedError(
            "'x in idx' is not supported on a lazy Index, as in Dask: it would compute the whole index. Use "
            "idx.isin([x]).any().compute(), which says the same."
        )


def _same(divisions: pd.Index) -> pd.Index:
    return divisions

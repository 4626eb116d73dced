"""Known and unknown categories (``.cat.known``, ``.as_known()``, ``.as_unknown()``) and the ``.str`` methods
that take a lazy argument or an index (``.str.cat(other)``, ``.str[...]``).

A categorical column's categories are *known* when the meta holds the real
ones, so every partition uses the same categories and codes mean the same
thing everywhere (``categorize()``, ``astype`` with a ``CategoricalDtype``).
They are *unknown* when each partition found its own (``astype("category")``
can't know the values without reading them). Following Dask, unknown
categories are marked in the meta by the single category
:data:`UNKNOWN_CATEGORIES`; the partitions keep their own. ``as_known()``
computes the values of the whole column and makes them the categories
(sorted, as pandas' ``astype("category")`` sorts them).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._align import aligned
from shoal.dataframe._categorical import UNKNOWN_CATEGORIES
from shoal.dataframe._categorical import has_known_categories as _known
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions

__all__ = ["UNKNOWN_CATEGORIES", "as_known", "as_unknown", "has_known_categories", "str_cat_lazy"]

def has_known_categories(meta: Any) -> bool:
    """Whether a categorical Series (or CategoricalIndex) meta holds its real categories."""
    dtype = meta.dtype
    if not isinstance(dtype, pd.CategoricalDtype):
        raise AttributeError(f"Can only use .cat with categorical values, but the Series has dtype {dtype}")
    return _known(dtype)


def unknown_refusal(attr: str) -> str:
    return (f".cat.{attr} with unknown categories is not supported: each partition has its own categories. "
            f"Call .cat.as_known() (or df.categorize()) first to compute them.")


class _SetCategories:
    """``part`` with the given categories (values outside them would become missing: there are none)."""

    __name__ = "as-known"

    def __init__(self, dtype: pd.CategoricalDtype) -> None:
        self.dtype = dtype

    def __call__(self, part: pd.Series) -> pd.Series:
        return part.cat.set_categories(self.dtype.categories, ordered=self.dtype.ordered)

    def __dask_tokenize__(self) -> Any:
        return ("as-known", list(self.dtype.categories), self.dtype.ordered)


def _same(part: Any) -> Any:
    return part


def as_known(series: Any) -> Any:
    """``series`` with the categories of its whole column in the meta and every partition (computes them)."""
    meta = series._meta
    if has_known_categories(meta):
        return series
    from shoal.base import compute

    (values,) = compute(series.dropna().unique())
    values = pd.Index(values.tolist() if hasattr(values, "tolist") else list(values))
    try:
        values = values.sort_values()
    except TypeError:  # mixed types that don't order: keep the order found
        pass
    dtype = pd.CategoricalDtype(values, ordered=meta.cat.ordered)
    func = _SetCategories(dtype)
    return new_collection(MapPartitions(series._expr, func, (), None, meta.astype(dtype), "as-known", False, True))


def as_unknown(series: Any) -> Any:
    """``series`` with its meta marked as holding unknown categories; the partitions are unchanged."""
    meta = series._meta
    if not has_known_categories(meta):
        return series
    dtype = pd.CategoricalDtype([UNKNOWN_CATEGORIES], ordered=meta.cat.ordered)
    out_meta = pd.Series(pd.Categorical([], dtype=dtype), index=meta.index, name=meta.name)
    return new_collection(MapPartitions(series._expr, _same, (), None, out_meta, "as-unknown", False, True))


class _StrCat:
    """``part.str.cat(others, ...)`` with the others' aligned partitions passed after the first."""

    __name__ = "str-cat"

    def __init__(self, is_list: bool, kwargs: dict[str, Any]) -> None:
        self.is_list, self.kwargs = is_list, kwargs

    def __call__(self, part: pd.Series, *others: Any) -> pd.Series:
        return part.str.cat(list(others) if self.is_list else others[0], **self.kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("str-cat", self.is_list, sorted(self.kwargs.items()))


def str_cat_lazy(series: Any, others: Any, kwargs: dict[str, Any]) -> Any:
    """``series.str.cat(others)`` where ``others`` is a lazy Series or a list holding some: aligned by divisions
    (as ``+`` aligns), then joined partition by partition."""
    is_list = isinstance(others, list | tuple)
    items = list(others) if is_list else [others]
    bad = [type(o).__name__ for o in items if isinstance(o, FrameBase) and not isinstance(o._meta, pd.Series)]
    if bad:
        raise TypeError(f".str.cat(others=...) takes Series (lazy or not) or a list of them, got {bad[0]}")
    parts = aligned("str.cat", series, *items)
    metas = [p._meta for p in parts[1:]]
    meta = series._meta.str.cat(metas if is_list else metas[0], **kwargs)
    func = _StrCat(is_list, kwargs)
    return new_collection(MapPartitions(parts[0]._expr, func, tuple(p._expr for p in parts[1:]), None, meta,
                                        "str-cat", False, True))

"""Categoricals whose categories are not known until the data is computed.

``s.astype("category")`` makes every partition categorical with the values *that partition* holds, so the
categories cannot be in the metadata. As in Dask, the meta then carries the single placeholder category
:data:`UNKNOWN_CATEGORIES`: ``.cat.known`` is ``False``, anything that needs the categories (``.cat.codes``,
``.cat.categories``) must refuse until ``.cat.as_known()`` (or ``categorize()``) computes them, and the
partitions are made to agree when they are joined: :func:`unify_categories` gives every partition the
union of the categories (sorted as pandas sorts them for ``astype("category")`` on the whole), so the
codes mean the same thing everywhere and ``pd.concat`` keeps the categorical dtype.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["UNKNOWN_CATEGORIES", "has_known_categories", "is_unknown_category_cast", "require_known_categories",
           "unify_categories", "with_unknown_categories"]

#: The placeholder category of a meta whose real categories are unknown (Dask's spelling, so tools agree).
UNKNOWN_CATEGORIES = "__UNKNOWN_CATEGORIES__"


def has_known_categories(x: Any) -> bool:
    """Whether the categorical ``x`` (a Series, an Index or a ``CategoricalDtype``) has real categories.

    >>> has_known_categories(pd.Series(["a"], dtype="category"))
    True
    >>> has_known_categories(pd.CategoricalDtype([UNKNOWN_CATEGORIES]))
    False
    """
    dtype = x if isinstance(x, pd.CategoricalDtype) else getattr(x, "dtype", None)
    if not isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(f"expected a categorical, got dtype {dtype}")
    return UNKNOWN_CATEGORIES not in dtype.categories


def is_unknown_category_cast(dtype: Any) -> bool:
    """Whether casting to ``dtype`` makes categories from the data (``"category"``, a dtype without categories)."""
    if isinstance(dtype, str):
        return dtype == "category"
    return isinstance(dtype, pd.CategoricalDtype) and dtype.categories is None


def _unknown(dtype: pd.CategoricalDtype) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([UNKNOWN_CATEGORIES], ordered=dtype.ordered)


def with_unknown_categories(meta: Any, columns: list[Any] | None = None) -> Any:
    """``meta`` with the placeholder category in the categorical ``columns`` (all of them when ``None``)."""
    if isinstance(meta, pd.Series):
        return meta.astype(_unknown(meta.dtype)) if isinstance(meta.dtype, pd.CategoricalDtype) else meta
    if isinstance(meta, pd.DataFrame):
        names = list(meta.columns) if columns is None else columns
        casts = {c: _unknown(meta.dtypes[c]) for c in names if isinstance(meta.dtypes[c], pd.CategoricalDtype)}
        return meta.astype(casts) if casts else meta
    return meta


def require_known_categories(meta: Any, what: str) -> None:
    """Raise a clear error when ``what`` (e.g. ``".cat.codes"``) needs categories that ``meta`` does not know."""
    if isinstance(getattr(meta, "dtype", None), pd.CategoricalDtype) and not has_known_categories(meta):
        raise NotImplementedError(
            f"{what} needs the categories, but this categorical's categories are unknown until computed (it "
            f"comes from astype('category') over several partitions). Call s.cat.as_known() first (it computes "
            f"them), or df.categorize(columns=[...]) on the frame."
        )


def _union(categories: list[pd.Index]) -> pd.Index:
    union = categories[0].append(list(categories[1:])).unique()
    if all(c.is_monotonic_increasing for c in categories):
        # pandas sorts the categories astype("category") makes; each partition's are, so the union is too.
        try:
            return union.sort_values()
        except TypeError:
            return union
    return union


def _categorical_columns(part: Any) -> list[Any]:
    if isinstance(part, pd.Series):
        return [None] if isinstance(part.dtype, pd.CategoricalDtype) else []
    return [c for c, dt in part.dtypes.items() if isinstance(dt, pd.CategoricalDtype)]


def unify_categories(parts: list[Any]) -> list[Any]:
    """``parts`` (Series or frames) with the same categories in every unordered categorical column.

    Partitions cast with ``astype("category")`` each hold only their own values as categories; ``pd.concat``
    would fall back to plain values. Each partition gets the union instead (values and codes stay right).
    """
    if len(parts) < 2 or not isinstance(parts[0], pd.Series | pd.DataFrame):
        return parts
    for col in _categorical_columns(parts[0]):
        columns = [p if col is None else p[col] for p in parts]
        if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
            continue
        dtypes = [c.dtype for c in columns]
        if all(d == dtypes[0] for d in dtypes[1:]) or any(d.ordered for d in dtypes):
            continue
        union = _union([d.categories for d in dtypes])
        fixed = [c.cat.set_categories(union) for c in columns]
        if col is None:
            parts = fixed
        else:
            parts = [_set_column(p, col, f) for p, f in zip(parts, fixed, strict=True)]
    return parts


def _set_column(part: pd.DataFrame, col: Any, values: pd.Series) -> pd.DataFrame:
    out = part.copy(deep=False)
    out[col] = values
    return out

"""Checking a partition against the ``meta`` the user promised (``map_partitions(..., meta=...)``).

The plan trusts ``meta``: column selection, projection pushdown and every later
operation's metadata are derived from it. A function that returns other
columns would make those silently wrong, so, as in Dask
(``enforce_metadata=True``), each output partition is checked: a frame must
have the promised columns in the promised order (else ``ValueError`` listing
the extra and missing columns), a Series gets the promised name, and a frame
where a Series was promised (or the reverse) is an error. A single value where a
Series was promised (``map_partitions(lambda p: p.x.sum(), meta=("x", "f8"))``)
becomes a one-row Series, as Dask makes it, so the partitions still join into
one Series of one value per partition.

:class:`CastToMeta` is the lighter promise of functions whose output dtype
depends on the data (``to_numeric`` of text, ``to_datetime`` with a format):
each partition is cast to the dtype the metadata announced, so all partitions,
and the metadata, agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.graph.tokenize import tokenize

__all__ = ["CastToMeta", "EnforceMeta"]


class EnforceMeta:
    """``func`` whose every output is checked against ``meta``; picklable, with a stable token."""

    def __init__(self, func: Callable[..., Any], meta: Any) -> None:
        self.func, self.meta = func, meta
        self.__name__ = getattr(func, "__name__", "map-partitions")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return check_partition(self.func(*args, **kwargs), self.meta, self.__name__)

    def __dask_tokenize__(self) -> Any:
        return ("enforce-meta", tokenize(self.func), tokenize(self.meta))


def check_partition(out: Any, meta: Any, name: str) -> Any:
    """``out`` if it has ``meta``'s structure (a Series renamed to ``meta``'s name); otherwise a clear error."""
    fix = (f"Pass meta= describing what {name!r} really returns, or make it return that structure for every "
           f"partition (enforce_metadata=False skips this check).")
    if isinstance(meta, pd.DataFrame):
        if not isinstance(out, pd.DataFrame):
            raise ValueError(f"{name!r} returned a {type(out).__name__} for a partition, but meta= says a DataFrame "
                             f"with columns {list(meta.columns)}. {fix}")
        if not out.columns.equals(meta.columns):
            extra = [c for c in out.columns if c not in meta.columns]
            missing = [c for c in meta.columns if c not in out.columns]
            detail = f"extra: {extra}, missing: {missing}" if extra or missing else "same columns, other order"
            raise ValueError(f"The columns {list(out.columns)} returned by {name!r} for a partition do not match "
                             f"the columns {list(meta.columns)} in meta= ({detail}). {fix}")
        return out
    if isinstance(meta, pd.Series):
        if isinstance(out, pd.DataFrame):
            raise ValueError(f"{name!r} returned a DataFrame with columns {list(out.columns)} for a partition, but "
                             f"meta= says a Series named {meta.name!r}. {fix}")
        if isinstance(out, pd.Series) and out.name != meta.name:
            return out.rename(meta.name)
        if not isinstance(out, pd.Series | pd.Index):
            # One value for the partition: a one-row Series (index 0, as Dask gives it).
            return pd.Series([out], name=meta.name, dtype=meta.dtype)
    return out


class CastToMeta:
    """``func`` whose Series output is cast to ``meta``'s dtype (and name); picklable, with a stable token.

    Only casts between dtypes of the same family (numbers, datetimes of another unit or zone, timedeltas), so
    that a function returning something else entirely still shows it rather than failing in the cast.
    """

    def __init__(self, func: Callable[..., Any], meta: Any) -> None:
        self.func, self.meta = func, meta
        self.__name__ = getattr(func, "__name__", "map-partitions")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return cast_like(self.func(*args, **kwargs), self.meta)

    def __dask_tokenize__(self) -> Any:
        return ("cast-to-meta", tokenize(self.func), tokenize(self.meta))


def _family(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf" and isinstance(dtype, np.dtype):
        return "number"
    return kind if kind in "mM" else ""


def cast_like(out: Any, meta: Any) -> Any:
    """``out`` with ``meta``'s dtype and name when both are Series of the same dtype family (else ``out``)."""
    if not isinstance(out, pd.Series) or not isinstance(meta, pd.Series):
        return out
    if out.name != meta.name:
        out = out.rename(meta.name)
    if out.dtype != meta.dtype and _family(out.dtype) and _family(out.dtype) == _family(meta.dtype):
        try:
            return out.astype(meta.dtype)
        except (TypeError, ValueError, OverflowError):
            return out  # e.g. missing values where meta says integers: keep pandas' answer
    return out

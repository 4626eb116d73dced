"""Checking a partition against the ``meta`` the user promised (``map_partitions(..., meta=...)``).

The plan trusts ``meta``: column selection, projection pushdown and every later
operation's metadata are derived from it. A function that returns other
columns would make those silently wrong, so, as in Dask
(``enforce_metadata=True``), each output partition is checked: a frame must
have the promised columns in the promised order (else ``ValueError`` listing
the extra and missing columns), a Series gets the promised name, and a frame
where a Series was promised (or the reverse) is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.graph.tokenize import tokenize

__all__ = ["EnforceMeta"]


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
    return out

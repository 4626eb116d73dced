"""Partition functions behind the ``.dt``/``.str`` accessor names that a plain per-partition call gets wrong.

``str.cat()`` without ``others`` joins the whole column into one string (a
tree of partials); ``dt.week`` is gone from pandas 3 (the ISO week stands in);
``dt.to_pytimedelta()`` returns a bare array in pandas 3, which a partitioned
result can't index. ``dt.to_period()`` without a frequency and ``str.get_dummies``
need the whole column before the output's dtype or columns are known; their
refusals say how to get there. ``cat.remove_unused_categories()`` computes the
categories in use first, as Dask does, so every partition keeps the same ones.
See :class:`shoal.dataframe._accessors.Accessor`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._meta import make_meta_nonempty

__all__ = ["CatChunk", "IsoWeek", "SplitExpand", "ToPyTimedelta", "get_dummies_refusal", "stand_in",
           "to_period_refusal", "used_categories"]


class CatChunk:
    """Partials of ``str.cat(sep=, na_rep=)`` over all rows: (number of values joined, their joined text).

    The count keeps a partition with nothing to join (empty, or only missing values without ``na_rep``)
    from adding a stray separator.
    """

    def __init__(self, sep: str, na_rep: str | None) -> None:
        self.sep, self.na_rep = sep, na_rep
        self.__name__ = "str-cat"

    def __call__(self, part: Any) -> tuple[int, str]:
        count = len(part) if self.na_rep is not None else int(part.notna().sum())
        return count, part.str.cat(sep=self.sep, na_rep=self.na_rep) if count else ""

    def combine(self, partials: list[tuple[int, str]]) -> tuple[int, str]:
        kept = [p for p in partials if p[0]]
        return sum(p[0] for p in kept), self.sep.join(p[1] for p in kept)

    def aggregate(self, partials: list[tuple[int, str]]) -> str:
        return self.combine(partials)[1]

    def __dask_tokenize__(self) -> Any:
        return ("str-cat-all", self.sep, self.na_rep)


class IsoWeek:
    """``part.dt.week`` as pandas < 2 gave it: the ISO week number (``isocalendar().week``, UInt32)."""

    __name__ = "dt-week"

    def __call__(self, part: Any) -> Any:
        return part.dt.isocalendar().week.rename(part.name)

    def __dask_tokenize__(self) -> Any:
        return ("dt-iso-week",)


class ToPyTimedelta:
    """``datetime.timedelta`` objects (``NaT`` where missing) in an object Series with the partition's index.

    pandas 3 returns a NumPy array here and warns that a Series will replace it; a partitioned result needs
    an index, so shoal gives that Series now, as Dask does (``.compute().to_numpy()`` is pandas' array).
    """

    __name__ = "dt-to-pytimedelta"

    def __call__(self, part: Any) -> Any:
        return pd.Series(part.array.to_pytimedelta(), index=part.index, name=part.name, dtype=object)

    def __dask_tokenize__(self) -> Any:
        return ("dt-to-pytimedelta",)


def to_period_refusal(obj: Any) -> str:
    """Why ``.dt.to_period()`` needs ``freq=`` on a lazy Series, and the call that supplies it."""
    name = f"{obj._meta.name!r}, " if obj._meta.name is not None else ""
    return (
        f".dt.to_period() needs freq= on a shoal Series (here {name}dtype {obj._meta.dtype}): pandas infers "
        f"the frequency from every value of the column, and the output's dtype (period[freq]) must be known "
        f"before anything is computed. Pass it, e.g. s.dt.to_period('D'), or infer it as pandas would, which "
        f"computes: s.dt.to_period(s.dt.freq.compute())."
    )


def get_dummies_refusal(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Why ``.str.get_dummies`` is refused (its columns are the column's distinct tokens), and the way round."""
    sep = kwargs.get("sep", args[0] if args else "|")
    return (
        f".str.get_dummies({sep!r}) is not supported on a shoal Series: its output columns are the distinct "
        f"tokens of the whole column, which can't be known without computing, so partitions would disagree. "
        f"Find the tokens first, then give every partition the same columns: "
        f"tokens = sorted(s.str.split({sep!r}).explode().dropna().unique().compute()); "
        f"s.map_partitions(lambda p: p.str.get_dummies({sep!r}).reindex(columns=tokens, fill_value=0))."
    )


class SplitExpand:
    """``part.str.<method>(..., expand=True)`` padded to ``columns`` columns, so every partition has the same ones.

    For ``split``/``rsplit`` with ``n``, ``columns`` is ``n + 1``; ``partition``/``rpartition`` always give three,
    except on a partition whose values are all missing, where pandas gives one.
    """

    def __init__(self, method: str, columns: int) -> None:
        self.method, self.columns = method, columns
        self.__name__ = f"str-{method}"

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        out = getattr(part.str, self.method)(*args, **kwargs)
        added = [c for c in range(self.columns) if c not in out.columns]
        out = out.reindex(columns=range(self.columns))
        if part.dtype != object:
            return out.astype(part.dtype)
        if added and len(part):
            # pandas pads a short split of an object column with None; a missing value gets its own marker
            # (None or NaN, as in the first column) in every column.
            pad = np.where(part.isna().to_numpy(), out.iloc[:, 0].to_numpy(dtype=object), None)
            for c in added:
                out[c] = pd.Series(pad, index=part.index, dtype=object)
        return out.astype(object)

    def __dask_tokenize__(self) -> Any:
        return ("str-split-expand", self.method, self.columns)


def stand_in(meta: Any) -> Any:
    """A two-row stand-in for ``meta`` whose text keeps ``meta``'s dtype (``object`` stays ``object``).

    pandas answers ``.str`` methods in the input's text dtype, so a stand-in of pandas 3 ``str`` values for an
    ``object`` column would give the meta the wrong dtype.
    """
    fake = make_meta_nonempty(meta)
    return fake.astype(object) if meta.dtype == object else fake


def used_categories(obj: Any) -> list[Any]:
    """The categories of ``obj`` that occur in it, in the dtype's order (computes, as Dask does)."""
    present = set(obj.dropna().unique().compute())
    return [c for c in obj._meta.cat.categories if c in present]

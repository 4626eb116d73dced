"""Partition functions behind the ``.dt``/``.str`` accessor names that a plain per-partition call gets wrong.

``str.cat()`` without ``others`` joins the whole column into one string (a
tree of partials); ``dt.week`` is gone from pandas 3 (the ISO week stands in);
``dt.to_pytimedelta()`` returns a bare array in pandas 3, which a partitioned
result can't index. See :class:`shoal.dataframe._accessors.Accessor`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["CatChunk", "IsoWeek", "ToPyTimedelta"]


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

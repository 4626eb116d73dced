"""Splitting collections at the same divisions, so that they combine partition by partition.

pandas aligns two objects on their index before it combines them. A
partitioned collection can do the same partition by partition when both sides
split the index at the same places: then every label lives in the same
partition number on both sides. :func:`aligned` makes that true (see
:mod:`shoal.dataframe._methods_elementwise` for the rules). It lives on its own
so that window methods (``rolling(...).cov(other)``) can align without
importing the operator mixins.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, ScalarCollection

__all__ = ["aligned", "as_collection", "is_partitioned"]


def as_collection(obj: Any) -> Any:
    """A pandas DataFrame/Series as a one-partition collection; collections pass through."""
    if isinstance(obj, pd.DataFrame | pd.Series):
        from shoal.dataframe._io.memory import from_pandas
        return from_pandas(obj, npartitions=1)
    return obj


def aligned(what: str, *objs: Any) -> list[Any]:
    """``objs`` (collections or pandas objects) split at the same divisions, so they combine partition-wise.

    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.Series(range(6)), npartitions=2)
    >>> b = sd.from_pandas(pd.Series(range(3, 9), index=range(3, 9)), npartitions=3)
    >>> [x.divisions for x in aligned("add", a, b)]
    [(0, 3, 5, 7, 8), (0, 3, 5, 7, 8)]
    """
    colls = [as_collection(o) for o in objs]
    divisions = [tuple(c.divisions) for c in colls]
    if all(d == divisions[0] for d in divisions):
        return colls
    if all(c.known_divisions for c in colls):
        union = tuple(sorted({v for d in divisions for v in d}))
        if len(union) == 1:
            union = (union[0], union[0])
        return [c if tuple(c.divisions) == union else c.repartition(divisions=union, force=True) for c in colls]
    counts = {c.npartitions for c in colls}
    if len(counts) == 1:
        # Unknown divisions, same number of partitions: trusted to be split alike, as Dask does.
        return colls
    raise ValueError(
        f"{what}: not all divisions are known, so the inputs can't be aligned (partitions: "
        f"{[c.npartitions for c in colls]}, divisions: {divisions}). Set a sorted index on both with "
        f"set_index(..., sorted=True), or give them the same partitions with repartition."
    )


def is_partitioned(obj: Any) -> bool:
    """Whether ``obj`` is a partitioned shoal collection (a DataFrame or Series, not a lazy scalar)."""
    return isinstance(obj, FrameBase) and not isinstance(obj, ScalarCollection)

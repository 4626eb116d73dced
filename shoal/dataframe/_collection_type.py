"""``get_collection_type``: which shoal collection class wraps data shaped like a given pandas object."""

from __future__ import annotations

from typing import Any

from shoal.dataframe._core import ScalarCollection, _collection_classes

__all__ = ["get_collection_type"]


def get_collection_type(meta: Any) -> type:
    """The shoal class for partitions like ``meta``: DataFrame, Series, Index, or Scalar for anything else.

    Mirrors ``dask.dataframe.get_collection_type`` (there a dispatch on the type of ``meta``); for scalars
    Dask returns a factory function, shoal the ``Scalar`` class.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> sd.get_collection_type(pd.DataFrame()) is sd.DataFrame
    True
    >>> sd.get_collection_type(pd.Series(dtype=int)) is sd.Series, sd.get_collection_type(1.5) is sd.Scalar
    (True, True)
    """
    for pandas_type, cls in _collection_classes.items():
        if isinstance(meta, pandas_type):
            return cls
    return ScalarCollection

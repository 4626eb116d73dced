"""``Bag.to_dataframe``: one pandas partition per bag partition, handed to ``shoal.dataframe``.

Imported only by ``Bag.to_dataframe``, after it has imported pandas and
``shoal.dataframe``; nothing here builds a distributed dataframe itself: the
partitions become pandas frames in tasks, and ``shoal.dataframe.from_delayed``
assembles them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from shoal.delayed import delayed

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["bag_to_dataframe", "make_meta", "partition_to_frame"]


def make_meta(meta: Any, columns: Any = None) -> pd.DataFrame:
    """An empty frame with the columns and dtypes described by ``meta``.

    >>> make_meta({"name": "object", "count": "int64"}).dtypes.astype(str).to_dict()
    {'name': 'object', 'count': 'int64'}
    """
    if isinstance(meta, pd.DataFrame):
        return meta.iloc[:0]
    if isinstance(meta, dict):
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in meta.items()})
    if isinstance(meta, list | tuple) and all(isinstance(pair, tuple) and len(pair) == 2 for pair in meta):
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in meta})
    raise TypeError(
        f"to_dataframe(meta=...) takes a pandas DataFrame, a dict of column -> dtype or a list of "
        f"(column, dtype) pairs, not {type(meta).__name__}."
    )


def partition_to_frame(part: list[Any], columns: list[Any], dtypes: dict[Any, Any]) -> pd.DataFrame:
    """A pandas frame of one partition: dicts give columns by key, tuples by position.

    >>> partition_to_frame([{"a": 1, "b": "x"}], ["a", "b"], {"a": "int64", "b": "object"})
       a  b
    0  1  x
    """
    frame = pd.DataFrame(list(part), columns=columns)
    return frame.astype(dtypes) if len(frame) else make_meta(dtypes)


def bag_to_dataframe(bag: Bag, dataframe: Any, pandas: Any, *, meta: Any, columns: Any,
                     optimize_graph: bool) -> Any:
    """Build a ``shoal.dataframe`` collection from ``bag``; see ``Bag.to_dataframe``."""
    if meta is None:
        head = bag.take(1, npartitions=-1, warn=False)
        if not head:
            raise ValueError("to_dataframe could not infer the columns of an empty bag; pass meta=.")
        meta = pd.DataFrame(list(head), columns=columns).iloc[:0]
    else:
        meta = make_meta(meta, columns)
    dtypes = meta.dtypes.to_dict()
    names = list(meta.columns)
    parts = [delayed(partition_to_frame, pure=True)(part, names, dtypes) for part in bag.to_delayed(optimize_graph)]
    return dataframe.from_delayed(parts, meta=meta)

"""Hive ``key=value`` directories: their keys read as pandas reads them, categoricals of the keys' type.

``pd.read_parquet`` (``pyarrow.parquet``) discovers hive keys as dictionaries, so a key column is a
categorical whose categories are every value found, in the order the directories were listed, of the
type Arrow infers for them (``int32`` for integers, strings otherwise). Dask gives categoricals too.
Arrow gives every fragment's key column the dictionary of the whole dataset, so the categories are known
when the collection is built and go into its meta.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["hive_partitioning", "partition_categories"]


def hive_partitioning() -> Any:
    """The partitioning ``pd.read_parquet`` uses: hive keys discovered as dictionaries."""
    import pyarrow.dataset as ds

    return ds.HivePartitioning.discover(infer_dictionary=True)


def partition_categories(meta: pd.DataFrame, dataset: Any) -> pd.DataFrame:
    """``meta`` with each hive key column a categorical of every value found, as each partition will be.

    Examples
    --------
    >>> import pandas as pd, pyarrow.dataset as ds, tempfile
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"k": [2, 10, 2], "x": [1, 2, 3]}).to_parquet(d, partition_cols=["k"])
    >>> dataset = ds.dataset(d, format="parquet", partitioning=hive_partitioning())
    >>> meta = dataset.schema.empty_table().to_pandas()
    >>> partition_categories(meta, dataset)["k"].cat.categories
    Index([10, 2], dtype='int32')
    """
    import pyarrow as pa

    partitioning = getattr(dataset, "partitioning", None)
    dictionaries = getattr(partitioning, "dictionaries", None)
    if not dictionaries:
        return meta
    changed = {}
    for field, values in zip(partitioning.schema, dictionaries, strict=True):
        if values is None or field.name not in meta.columns:
            continue
        empty = pa.DictionaryArray.from_arrays(pa.array([], type=pa.int32()), values)
        changed[field.name] = pd.Series(empty.to_pandas(), index=meta.index[:0], name=field.name)
    return meta.assign(**changed) if changed else meta

"""Parallel pandas: ``shoal.dataframe`` mirrors ``dask.dataframe``.

Model
    A DataFrame (or Series, Index, Scalar) is a handle on an *expression*: a
    small tree of operation nodes (:mod:`shoal.dataframe._expr`). Every node
    knows its ``_meta`` (an empty pandas object with the output's columns,
    dtypes and index), its ``npartitions`` and its ``divisions`` (the index
    values at partition boundaries, or ``None`` when unknown), so structure and
    bad input (a missing column, misaligned partitions) are known without
    computing anything.

Computing
    ``compute()`` optimizes the expression (:mod:`shoal.dataframe._lower`):
    partition selections (``head``, ``loc``, ``partitions[...]``) sink into the
    readers, and projection pushdown makes readers produce only the columns the
    plan uses. The optimized tree is lowered to a task graph in the
    :mod:`shoal.graph.task` spec; consecutive partition-wise steps are fused
    into one task per partition, and reductions run as trees of partial
    results. The result is a pandas object. The default scheduler is threads;
    collections implement Dask's collection protocol, so
    ``shoal.compute(df, array)`` shares one graph and one run.

Layout
    ``_expr`` nodes, ``_lower`` optimizer and graph builder, ``_core`` the
    protocol and shared methods, ``_frame`` the DataFrame/Series/Index methods,
    ``_reductions``, ``_groupby``, ``_combine``, ``_repr``, ``_io`` readers
    and writers.

Examples
--------
>>> import pandas as pd, shoal.dataframe as sd
>>> pdf = pd.DataFrame({"x": [1, 2, 3, 4], "y": [10.0, 20.0, 30.0, 40.0]})
>>> df = sd.from_pandas(pdf, npartitions=2)
>>> df[df.x > 1].y.sum().compute()
np.float64(90.0)
"""

from __future__ import annotations

from shoal.dataframe._core import Scalar
from shoal.dataframe._frame import DataFrame, Index, Series
from shoal.dataframe._from_graph import from_graph
from shoal.dataframe._groupby_shuffle import Aggregation
from shoal.dataframe._io.csv import read_csv, to_csv
from shoal.dataframe._io.memory import from_delayed, from_dict, from_pandas
from shoal.dataframe._io.parquet import read_parquet
from shoal.dataframe._io.parquet_write import to_parquet

__all__ = [
    "Aggregation",
    "DataFrame",
    "Index",
    "Scalar",
    "Series",
    "from_delayed",
    "from_dict",
    "from_graph",
    "from_pandas",
    "read_csv",
    "read_parquet",
    "to_csv",
    "to_parquet",
]

# The method families (ordering/joins, windows, accessors, conversions) export through their __all__.
from shoal.dataframe import _accessors, _convert, _functions, _ordering, _pivot, _window  # noqa: E402
from shoal.dataframe import _collection_type, _conversions_more, _map_overlap  # noqa: E402
from shoal.dataframe import demo as demo  # noqa: E402 - a submodule, as dask.dataframe.demo is

from shoal.dataframe._io import fwf as _fwf, hdf as _hdf, orc as _orc, sql as _sql  # noqa: E402

for _module in (_accessors, _collection_type, _conversions_more, _convert, _functions, _map_overlap, _ordering,
                _pivot, _window, _fwf, _hdf, _orc, _sql):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module
globals().pop("_name", None)
__all__.sort()

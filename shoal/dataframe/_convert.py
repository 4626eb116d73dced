"""Conversions between shoal DataFrames/Series and shoal arrays, NumPy, records and JSON.

To arrays
    Partition ``i`` becomes row-block ``i`` of the array (all columns in one
    block along axis 1). Partition lengths are not part of a dataframe's
    metadata, so the row chunks are ``nan`` (unknown) unless ``lengths=`` gives
    them, or ``lengths=True`` computes them first (one cheap pass that only
    counts rows), as in Dask.

From arrays
    :func:`from_array` takes a NumPy array (split by ``chunksize`` rows, with a
    ``RangeIndex`` and known divisions) or a shoal array (one partition per row
    block; its column blocks are joined into one frame per partition).

This module also re-exports the readers and writers of this family
(``read_json``, ``to_json``, ``read_table``) into ``shoal.dataframe``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Expr
from shoal.dataframe._io.csv import read_table
from shoal.dataframe._io.json import read_json, to_json
from shoal.dataframe._io.memory import from_pandas
from shoal.graph.task import GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["from_array", "read_json", "read_table", "to_json", "to_records"]


# -- dataframe -> array ---------------------------------------------------------------------------
def _values_block(part: Any, expected: int | None, i: int) -> np.ndarray:
    values = np.asarray(part) if isinstance(part, np.ndarray) else part.to_numpy()
    if expected is not None and len(values) != expected:
        raise ValueError(
            f"to_dask_array: partition {i} has {len(values)} rows, but lengths= says {expected}. "
            f"Pass lengths=True to compute the real lengths."
        )
    return values  # type: ignore[no-any-return]


def _records_block(part: Any, index: bool, expected: int | None, i: int) -> np.ndarray:
    return _values_block(np.asarray(part.to_records(index=index)), expected, i)


def _partition_lengths(frame: Any) -> list[int]:
    from shoal.base import compute
    from shoal.delayed import delayed

    return [int(n) for n in compute(*[delayed(len)(p) for p in frame.to_delayed()])]


def _to_array(frame: Any, lengths: Any, block: Any, meta_values: np.ndarray, label: str, *extra: Any) -> Any:
    from shoal.array._base import new_array

    n = frame.npartitions
    if lengths is True:
        lengths = _partition_lengths(frame)
    elif lengths is not None and lengths is not False:
        lengths = [int(v) for v in lengths]
        if len(lengths) != n:
            raise ValueError(f"{label}: lengths= has {len(lengths)} entries, but the collection has {n} partitions. "
                             f"Pass one length per partition, or lengths=True to compute them.")
    else:
        lengths = None
    row_chunks = tuple(lengths) if lengths is not None else (math.nan,) * n
    chunks = (row_chunks, *meta_values.shape[1:]) if meta_values.ndim > 1 else (row_chunks,)
    chunks = tuple(c if isinstance(c, tuple) else (c,) for c in chunks)
    opt = frame._opt()
    name = f"{label}-{tokenize(opt._name, lengths, *extra)}"
    layer: dict[Key, GraphNode] = {}
    for i in range(n):
        key = (name, i, *((0,) * (meta_values.ndim - 1)))
        layer[key] = Task(key, block, Ref((opt._name, i)), *extra,
                          None if lengths is None else lengths[i], i)
    return new_array(layer, name, chunks, meta_values.dtype, deps=(frame,), meta=meta_values)


def _check_lengths_arg(lengths: Any) -> None:
    if lengths is not None and not isinstance(lengths, bool | list | tuple | np.ndarray):
        raise TypeError(f"lengths must be None, True or a sequence of partition lengths, got {type(lengths).__name__}")


class ConvertMethods:
    """Methods of DataFrame and Series from this family."""

    def to_dask_array(self, lengths: Any = None, meta: Any = None) -> Any:
        """The data as a shoal array, one row block per partition.

        Parameters
        ----------
        lengths : bool or sequence of int, optional
            The rows of each partition. ``True`` computes them (one pass that
            counts rows); ``None`` leaves the row chunks unknown (``nan``).
        meta : numpy.ndarray, optional
            An empty array with the output's dtype, if not the frame's own.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3], "y": [4, 5, 6]}), npartitions=2)
        >>> arr = df.to_dask_array(lengths=True)
        >>> arr.chunks
        ((2, 1), (2,))
        >>> arr.sum(axis=0).compute()
        array([ 6, 15])
        """
        _check_lengths_arg(lengths)
        empty = self._meta.to_numpy()  # type: ignore[attr-defined]
        if meta is not None:
            empty = np.empty((0, *empty.shape[1:]), dtype=np.asarray(meta).dtype)
        return _to_array(self, lengths, _values_block, empty, "to-dask-array")

    @property
    def values(self) -> Any:
        """The data as a shoal array with unknown row chunks (``to_dask_array(lengths=True)`` knows them)."""
        return self.to_dask_array()

    def to_records(self, index: bool = True, lengths: Any = None) -> Any:
        """A 1-d shoal array of NumPy records, one block per partition (mirrors ``DataFrame.to_records``).

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2)
        >>> df.to_records(lengths=True).compute().dtype.names  # the index first, as pandas' default
        ('index', 'x')
        >>> df.to_records(lengths=True).compute()["x"]
        array([1, 2, 3])
        """
        _check_lengths_arg(lengths)
        if not isinstance(self._meta, pd.DataFrame):  # type: ignore[attr-defined]
            raise AttributeError("to_records is a DataFrame method; call series.to_frame().to_records()")
        empty = self._meta.to_records(index=index)  # type: ignore[attr-defined]
        return _to_array(self, lengths, _records_block, np.asarray(empty), "to-records", index)

    def to_json(self, url_path: Any, orient: str = "records", lines: bool | None = None, **kwargs: Any) -> Any:
        """Write one JSON file per partition; see :func:`shoal.dataframe.to_json`."""
        return to_json(self, url_path, orient=orient, lines=lines, **kwargs)


def to_records(df: Any) -> Any:
    """``df.to_records()``: a shoal array of NumPy records (mirrors ``dask.dataframe.to_records``)."""
    return df.to_records()


# -- array -> dataframe ---------------------------------------------------------------------------
def _columns_for(dtype: np.dtype[Any], ndim: int, width: int, columns: Any) -> Any:
    """The column labels (a list), or the Series name (a scalar) for a 1-d plain array."""
    if dtype.names is not None:
        names = list(dtype.names)
        if columns is not None and list(columns) != names:
            raise ValueError(f"from_array: columns={list(columns)} does not match the record fields {names}")
        return names
    if ndim == 1:
        if isinstance(columns, list | tuple | pd.Index):
            if len(columns) != 1:
                raise ValueError(f"from_array: a 1-d array makes one column, but got {len(columns)} names in columns=")
            return list(columns)
        return columns
    if columns is None:
        return list(range(width))
    columns = list(columns) if isinstance(columns, list | tuple | pd.Index) else [columns]
    if len(columns) != width:
        raise ValueError(f"from_array: the array has {width} columns, but columns= names {len(columns)}: {columns}. "
                         f"Give one name per column.")
    return columns


def _frame_from_block(*blocks: np.ndarray, start: int, columns: Any) -> Any:
    data = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    index = pd.RangeIndex(start, start + len(data))
    if isinstance(columns, list):
        if data.ndim == 1 and data.dtype.names is None:
            data = data.reshape(-1, 1)
        return pd.DataFrame(data, index=index, columns=columns)
    return pd.Series(data, index=index, name=columns)


class FromArray(Expr):
    """Partitions made from the row blocks of a shoal array; the array's graph is part of the plan."""

    _parameters = ("array", "columns_", "meta")
    _label = "from-array"

    @functools.cached_property
    def _name(self) -> str:
        return f"from-array-{tokenize(self.array.name, self.columns_)}"

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        rows = self.array.chunks[0]
        if any(math.isnan(r) for r in rows):
            return (None,) * (len(rows) + 1)
        starts = np.concatenate([[0], np.cumsum(rows)]).astype(int).tolist()
        if starts[-1] == 0:
            return (None, None)
        # The last division is the last row label; empty blocks would repeat a boundary, which is allowed.
        return (*starts[:-1], starts[-1] - 1)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        arr = self.array
        graph: dict[Key, GraphNode] = dict(arr.__dask_graph__())
        rows = arr.chunks[0]
        known = not any(math.isnan(r) for r in rows)
        start = 0
        for i, n_rows in enumerate(rows):
            refs = [Ref((arr.name, i, j)) for j in range(len(arr.chunks[1]))] if arr.ndim == 2 else [Ref((arr.name, i))]
            key = (self._name, i)
            # With unknown chunks the index restarts in every partition, as in Dask.
            graph[key] = Task(key, _frame_from_block, *refs, start=start if known else 0, columns=self.columns_)
            if known:
                start += int(n_rows)
        return graph


def from_array(x: Any, chunksize: int = 50_000, columns: Any = None, meta: Any = None) -> Any:
    """A DataFrame (2-d or record array) or Series (1-d array) from a NumPy or shoal array.

    Mirrors ``dask.dataframe.from_array``.

    Parameters
    ----------
    x : numpy.ndarray or shoal.array.Array
        1-d (a Series, or a frame when ``columns`` is a list), 2-d, or records.
    chunksize : int
        Rows per partition for NumPy input; a shoal array keeps its row blocks.
    columns : list or scalar, optional
        Column names (2-d or records), or the Series name (1-d).
    meta : pandas object, optional
        Accepted for Dask compatibility; the structure comes from the array's dtype.

    Examples
    --------
    >>> import numpy as np, shoal.dataframe as sd
    >>> df = sd.from_array(np.arange(6).reshape(3, 2), chunksize=2, columns=["a", "b"])
    >>> df.npartitions, df.divisions
    (2, (0, 2, 2))
    >>> df.b.sum().compute()
    np.int64(9)
    """
    from shoal.array._base import ArrayBase

    if isinstance(x, ArrayBase):
        return _from_shoal_array(x, columns)
    if isinstance(x, pd.DataFrame | pd.Series):
        raise TypeError("from_array takes an array; use shoal.dataframe.from_pandas for a pandas object")
    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"from_array needs a 1-d or 2-d array, got {x.ndim} dimensions (shape {x.shape})")
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}")
    names = _columns_for(x.dtype, x.ndim, x.shape[1] if x.ndim == 2 else 1, columns)
    pdf = _frame_from_block(x, start=0, columns=names)
    return from_pandas(pdf, chunksize=chunksize, sort=False if len(pdf) == 0 else True)


def _from_shoal_array(x: Any, columns: Any) -> Any:
    if x.ndim not in (1, 2):
        raise ValueError(f"from_array needs a 1-d or 2-d array, got {x.ndim} dimensions (shape {x.shape})")
    width = x.shape[1] if x.ndim == 2 else 1
    if x.ndim == 2 and math.isnan(width):
        raise ValueError("from_array: the number of columns is unknown; call x.compute_chunk_sizes() first")
    names = _columns_for(x.dtype, x.ndim, int(width), columns)
    empty = np.empty((0, int(width)) if x.ndim == 2 else (0,), dtype=x.dtype)
    meta = _frame_from_block(empty, start=0, columns=names)
    return new_collection(FromArray(x, names, meta))

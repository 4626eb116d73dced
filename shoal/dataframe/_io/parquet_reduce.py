"""Read a Parquet fragment and reduce it in the same task, on the Arrow table when a kernel can.

A tree reduction (groupby aggregation, ``value_counts``) whose input is a
Parquet read, possibly through a one-column projection, and whose chunk
function has an Arrow counterpart (registered in
:data:`shoal.dataframe._expr.ARROW_CHUNKS`) gets one task per fragment that
reads the table, keeps string columns dictionary-encoded, and hands it to the
Arrow kernel. If the kernel declines (returns ``None``), the table becomes
the pandas partition the plain plan would have read and the pandas chunk runs
on it: the result is the same either way.
"""

from __future__ import annotations

from typing import Any

from shoal.dataframe._expr import Expr, Projection
from shoal.dataframe._io.parquet import ReadParquet, plain_strings, read_arrow, to_partition
from shoal.graph.task import Key, Task

__all__ = ["reduce_task"]


def reduce_task(frame: Expr, ctx: Any, i: int, key: Key, arrow_chunk: Any, chunk: Any,
                kwargs: dict[str, Any]) -> Task | None:
    """A fused read-and-chunk task for partition ``i`` of ``frame``, or ``None`` when ``frame`` is not a plain read.

    The read must run inline in this task only (no other consumer needs the partition) and keep the file's
    row order and columns as they are: no index, no index columns from pandas metadata.
    """
    column = None
    reader = frame
    if isinstance(frame, Projection) and not isinstance(frame.columns_, list):
        column, reader = frame.columns_, frame.frame
        if frame._name not in ctx.inline:
            return None
    if not isinstance(reader, ReadParquet) or reader._name not in ctx.inline or not reader.fragments:
        return None
    if reader.index is not None or reader.index_columns or reader.schema is None:
        return None
    columns = reader.columns_ if column is None else [column]
    if columns is None or (column is not None and reader.columns_ is not None and column not in reader.columns_):
        return None
    groups = reader.ids[i][1] if reader.ids is not None else None
    return Task(key, _read_and_reduce, reader.fragments[i], list(columns), reader.filters, reader.schema, groups,
                frame._meta, reader._meta, reader._conversion, column, arrow_chunk, chunk, kwargs)


def _read_and_reduce(fragment: Any, columns: list[Any], filters: Any, schema: Any, groups: Any, meta: Any,
                     reader_meta: Any, conversion: Any, column: Any, arrow_chunk: Any, chunk: Any,
                     kwargs: dict[str, Any]) -> Any:
    table = read_arrow(fragment, columns, [], filters, None, schema, groups, keep_dictionaries=True)
    out = arrow_chunk(table, meta, **kwargs)
    if out is not None:
        return out
    table = plain_strings(table, schema)
    if column is not None:
        part = to_partition(table, columns, [], None, reader_meta[columns])[column]
    else:
        part = to_partition(table, columns, [], None, reader_meta, conversion)
    return chunk(part, **kwargs)

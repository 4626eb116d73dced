"""The meta of a columnar file read: the index column set, the requested columns checked."""

from __future__ import annotations

from typing import Any

__all__ = ["select_meta"]


def select_meta(schema: Any, index: Any, columns: Any, reader: str) -> tuple[Any, list[Any] | None]:
    """``(meta, columns as a list or None)`` for an Arrow ``schema`` read with ``index=`` and ``columns=``.

    Raises KeyError naming ``reader`` and the available columns when a column does not exist.

    >>> import pyarrow as pa
    >>> meta, cols = select_meta(pa.schema([("a", pa.int64()), ("b", pa.float64())]), "a", "b", "read_x")
    >>> meta.index.name, list(meta.columns), cols
    ('a', ['b'], ['b'])
    """
    meta = schema.empty_table().to_pandas()
    if index is not None:
        if index not in meta.columns:
            raise KeyError(f"{reader}: index column {index!r} not found. Available columns: {list(meta.columns)}")
        meta = meta.set_index(index)
    if columns is None:
        return meta, None
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in meta.columns]
    if missing:
        raise KeyError(f"{reader}: column(s) {missing} not found. Available columns: {list(meta.columns)}.")
    return meta, cols

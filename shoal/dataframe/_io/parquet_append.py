"""``to_parquet(append=True)`` and ``to_parquet(overwrite=True)``: the checks and the swap.

Appending adds part files to an existing dataset, numbered after the highest
``part.N`` already there. It is refused, before anything is written, when the
new columns or their types differ from the dataset's (the error names the
column), and, unless ``ignore_divisions=True``, when the new frame's known
divisions start at or before the end of the existing index (read from the
files' statistics), as Dask refuses it: the dataset would no longer read back
with sorted divisions.

Overwriting writes the new dataset under a hidden staging name first; only
once every partition is written is the old directory renamed aside, the new
one renamed into place, and the old one removed. A failed write leaves the old
dataset as it was, and a frame that reads from the very path it overwrites
reads the old files to the end.
"""

from __future__ import annotations

import os
import posixpath
import re
import uuid
from typing import Any

import pandas as pd

__all__ = ["append_offset", "check_append", "check_overwrite", "check_write_options", "swap_into_place"]

_PART_NUMBER = re.compile(r"^part\.(\d+)\.")


def check_write_options(kwargs: dict[str, Any], engine: Any, write_metadata_file: Any, schema: Any,
                        append: bool, overwrite: bool) -> None:
    """Refuse what PyArrow would reject deep inside a write task, before any task runs."""
    import inspect

    import pyarrow as pa
    import pyarrow.parquet as pq

    if engine not in (None, "pyarrow", "auto"):
        raise ValueError(f"to_parquet supports engine='pyarrow' only, got {engine!r}")
    if append and overwrite:
        raise ValueError("to_parquet: pass append=True or overwrite=True, not both: appending keeps the "
                         "existing files, overwriting removes them.")
    if write_metadata_file:
        raise NotImplementedError("to_parquet: shoal does not write a _metadata file (write_metadata_file=True); "
                                  "readers plan from the files' own footers.")
    if not (schema in ("infer", None) or isinstance(schema, pa.Schema)):
        raise TypeError(f"to_parquet: schema= takes 'infer', None or a pyarrow.Schema, got {type(schema).__name__}")
    known = set(inspect.signature(pq.write_table).parameters) | set(inspect.signature(pq.ParquetWriter).parameters)
    unknown = sorted(set(kwargs) - known - {"table", "where", "schema", "kwargs", "options"})
    if unknown:
        raise TypeError(f"to_parquet() got an unexpected keyword argument {unknown[0]!r}. Other keywords are "
                        f"passed to pyarrow.parquet.write_table, which has no such option.")


def _dataset(fs: Any, root: str) -> Any:
    """The existing dataset under ``root``, or ``None`` when there is no Parquet file there yet."""
    import pyarrow.dataset as ds
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    if not fs.isdir(root) or not [f for f in fs.find(root) if f.endswith((".parquet", ".parq", ".pq"))]:
        return None
    local = "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol)
    return ds.dataset(fs._strip_protocol(root), format="parquet", partitioning="hive",
                      filesystem=None if local else PyFileSystem(FSSpecHandler(fs)))


def _same_type(old: Any, new: Any) -> bool:
    import pyarrow as pa

    if old == new or pa.types.is_null(new) or pa.types.is_null(old):
        return True  # an all-missing column in the meta says nothing about the values' type
    strings = (pa.types.is_string(old) or pa.types.is_large_string(old),
               pa.types.is_string(new) or pa.types.is_large_string(new))
    return all(strings)


def check_append(df: Any, fs: Any, root: str, write_index: bool, partition_on: list[str] | None,
                 ignore_divisions: bool, schema: Any) -> bool:
    """Check that ``df`` can be appended to the dataset under ``root``; ``False`` when there is none yet."""
    import pyarrow as pa

    existing = _dataset(fs, root)
    if existing is None:
        return False
    new = schema if isinstance(schema, pa.Schema) else pa.Schema.from_pandas(df._meta, preserve_index=write_index)
    old = existing.schema
    index_names = [c for c in (new.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
    old_names, new_names = sorted(old.names), sorted(new.names)
    if old_names != new_names:
        raise ValueError(
            f"to_parquet(append=True): the columns differ from those of the dataset at {root!r}: "
            f"missing {sorted(set(old.names) - set(new.names))}, new {sorted(set(new.names) - set(old.names))} "
            f"(dataset: {old.names}; appended: {new.names}). Select or rename columns to match"
            + (", or write_index= as when the dataset was written" if index_names or write_index is False else "")
            + ".")
    for name in new.names:
        if not _same_type(old.field(name).type, new.field(name).type):
            raise ValueError(
                f"to_parquet(append=True): column {name!r} is {new.field(name).type} in the appended frame but "
                f"{old.field(name).type} in the dataset at {root!r}. Cast it first, e.g. "
                f".astype({{{name!r}: ...}}).")
    if ignore_divisions or not write_index or not df.known_divisions or len(index_names) != 1:
        return True
    end = _index_end(existing, index_names[0])
    if end is not None and _not_after(df.divisions[0], end):
        raise ValueError(
            f"to_parquet(append=True): the appended frame's index starts at {df.divisions[0]!r}, at or before the "
            f"end of the index already written to {root!r} ({end!r}), so the dataset would no longer read back "
            f"with sorted divisions. Pass ignore_divisions=True to append anyway.")
    return True


def _index_end(dataset: Any, column: str) -> Any:
    """The largest value of ``column`` in the dataset, from the files' statistics; ``None`` if unknown."""
    import pyarrow as pa

    if dataset.schema.get_field_index(column) < 0:
        return None
    end = None
    for fragment in dataset.get_fragments():
        metadata = fragment.metadata
        positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
        if column not in positions:
            return None
        for g in range(metadata.num_row_groups):
            stats = metadata.row_group(g).column(positions[column]).statistics
            if metadata.row_group(g).num_rows == 0:
                continue
            if stats is None or not stats.has_min_max:
                return None
            end = stats.max if end is None or stats.max > end else end
    if end is None:
        return None
    value_type = dataset.schema.field(column).type
    if pa.types.is_dictionary(value_type):
        value_type = value_type.value_type
    return pa.array([end], type=value_type).to_pandas().tolist()[0]


def _not_after(start: Any, end: Any) -> bool:
    try:
        return bool(pd.Timestamp(start) <= pd.Timestamp(end)) if isinstance(end, pd.Timestamp) else bool(start <= end)
    except (TypeError, ValueError):
        return False  # types that don't compare: nothing to check against


def append_offset(fs: Any, root: str) -> int:
    """The number after the highest ``part.N`` file under ``root`` (its file count if none is so named)."""
    names = [posixpath.basename(f) for f in fs.find(root)]
    numbers = [int(m.group(1)) for m in map(_PART_NUMBER.match, names) if m]
    return max(numbers) + 1 if numbers else len(names)


def check_overwrite(fs: Any, root: str) -> None:
    """Refuse to remove a directory holding the working directory (or the home or root directory)."""
    local = "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol)
    if not local:
        return
    target = os.path.realpath(fs._strip_protocol(root))
    cwd = os.path.realpath(os.getcwd())
    guarded = {os.path.realpath(os.path.expanduser("~")), os.path.realpath(os.sep)}
    if target in guarded or cwd == target or cwd.startswith(target.rstrip(os.sep) + os.sep):
        raise ValueError(f"to_parquet(overwrite=True) refuses to remove {root!r}: it is the working directory, "
                         f"one of its parents, or the home or root directory. Write to a directory of its own.")


def swap_into_place(staging: str, root: str, fs: Any) -> None:
    """Replace ``root`` by ``staging``: the old directory is renamed aside and removed only after the swap."""
    local = "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol)
    if not fs.exists(staging):
        fs.makedirs(staging, exist_ok=True)  # a frame with no partitions still overwrites with an empty dataset
    if not fs.exists(root):
        fs.mv(staging, root, recursive=True)
        return
    parent, name = posixpath.split(root.rstrip("/"))
    aside = f"{parent}/.{name}.old-{uuid.uuid4().hex}" if parent else f".{name}.old-{uuid.uuid4().hex}"
    if local:
        fs.mv(root, aside, recursive=True)
        fs.mv(staging, root, recursive=True)
        fs.rm(aside, recursive=True)
        return
    # Object stores have no directories to rename: remove the old keys, then move the new ones.
    fs.rm(root, recursive=True)
    prefix = fs._strip_protocol(staging).rstrip("/") + "/"
    for source in fs.find(staging):
        fs.mv(source, f"{root.rstrip('/')}/{source[len(prefix):]}")
    fs.rm(staging, recursive=True)

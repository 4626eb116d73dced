"""``to_parquet`` with PyArrow: one file ``part.{i}.parquet`` per partition.

Each partition is written into a staging directory under a temporary name,
and the files are moved into place only when every partition is written, so a
failed write leaves nothing that looks like a complete dataset.
``partition_on=`` writes a hive layout (``key=value`` directories);
``append=``/``overwrite=`` are in :mod:`.parquet_append`.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.base import compute as compute_collections
from shoal.dataframe._io.parquet_append import (
    append_offset,
    check_append,
    check_overwrite,
    check_write_options,
    swap_into_place,
)

__all__ = ["to_parquet"]

def _write_partition(part: pd.DataFrame, staging: str, name: Any, fs: Any, write_index: bool,
                     partition_on: list[str] | None, kwargs: dict[str, Any],
                     table_options: dict[str, Any] | None = None) -> str:
    """Write one partition as ``name`` (a partition number: ``part.{name}.parquet``) into the staging directory;
    :func:`_publish` moves it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table_options = table_options or {}
    table = pa.Table.from_pandas(part, preserve_index=write_index, schema=table_options.get("schema"))
    if table_options.get("custom_metadata"):
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **table_options["custom_metadata"]})
    fs.makedirs(staging, exist_ok=True)
    name = f"part.{name}.parquet" if isinstance(name, int) else str(name)
    if partition_on:
        from pyarrow.fs import FSSpecHandler, PyFileSystem
        stem = name[: -len(".parquet")] if name.endswith(".parquet") else name
        pq.write_to_dataset(table, staging, partition_cols=partition_on, filesystem=PyFileSystem(FSSpecHandler(fs)),
                            basename_template=f"{stem}.{{i}}.parquet", **kwargs)
        return staging
    path = f"{staging}/{name}"
    with fs.open(path, "wb") as f:
        pq.write_table(table, f, **kwargs)
    return path


def _publish(written: list[str], staging: str, root: str, fs: Any, paths: list[str]) -> list[str]:
    """Move every file of the staging directory to the same place under ``root``, then remove the staging one.

    Runs only once every partition was written, so ``root`` never holds part of a failed write. A new
    ``root`` is the staging directory renamed (atomic on a local disk); into an existing one, files are moved
    one by one (and always on object stores, which have no directories to rename), replacing those of the
    same name and keeping the rest, as writing in place did.
    """
    local = "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol)
    if local and not fs.exists(root):
        fs.mv(staging, root)
        return paths
    prefix = fs._strip_protocol(staging).rstrip("/") + "/"
    for source in fs.find(staging):
        target = f"{root.rstrip('/')}/{source[len(prefix):]}"
        fs.makedirs(posixpath.dirname(target), exist_ok=True)
        fs.mv(source, target)
    _remove(fs, staging)
    return paths


def _remove(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path, recursive=True)
    except FileNotFoundError:
        pass  # a write still running when another failed may remove files under us


def _staging_name(root: str) -> str:
    """A hidden sibling of ``root``: ``data/out`` -> ``data/.out.tmp-<hex>``; readers skip dot-names."""
    parent, name = posixpath.split(root.rstrip("/"))
    staging = f".{name}.tmp-{uuid.uuid4().hex}"
    return f"{parent}/{staging}" if parent else staging


def to_parquet(df: Any, path: Any, compression: Any = "snappy", write_index: bool = True, append: bool = False,
               overwrite: bool = False, ignore_divisions: bool = False, partition_on: Any = None,
               storage_options: dict[str, Any] | None = None, custom_metadata: dict[Any, Any] | None = None,
               write_metadata_file: Any = None, compute: bool = True, compute_kwargs: dict[str, Any] | None = None,
               schema: Any = "infer", name_function: Callable[[int], str] | None = None, filesystem: Any = None,
               engine: Any = None, **kwargs: Any) -> Any:
    """Write one Parquet file per partition under the directory ``path`` (mirrors ``dask.dataframe.to_parquet``).

    Parameters
    ----------
    append : bool
        Add files to an existing dataset, numbered after its last ``part.N``;
        the columns and their types must match (see :mod:`.parquet_append`).
    overwrite : bool
        Replace the dataset at ``path``: the new one is written aside and
        swapped in once complete.
    ignore_divisions : bool
        Append even when the new index does not start after the old one ends.
    partition_on : str or list
        Write a hive layout (``col=value/`` directories).
    name_function : callable
        ``i -> file name`` (default ``part.{i}.parquet``).
    custom_metadata : dict
        Key/value pairs added to every file's schema metadata.
    schema : "infer", None or pyarrow.Schema
        With a schema, every partition is converted to exactly it.
    **kwargs
        Passed to :func:`pyarrow.parquet.write_table` (``row_group_size=``, ...).

    Returns
    -------
    None, or with ``compute=False`` a ``Delayed`` that writes when computed.

    Notes
    -----
    The partitions are written into a hidden sibling directory and moved under
    ``path`` only once all of them succeeded, so a failed write leaves
    ``path`` as it was (with ``compute=True`` the staging directory is removed
    too). Without ``overwrite=``, files already under ``path`` are kept,
    except those replaced by a file of the same name.

    Examples
    --------
    >>> import os, pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = os.path.join(tempfile.mkdtemp(), "out")
    >>> sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2).to_parquet(d)
    >>> sorted(os.listdir(d)), sorted(os.listdir(os.path.dirname(d)))
    (['part.0.parquet', 'part.1.parquet'], ['out'])
    >>> sd.from_pandas(pd.DataFrame({"x": [4]}, index=[4]), npartitions=1).to_parquet(d, append=True)
    >>> sorted(os.listdir(d))
    ['part.0.parquet', 'part.1.parquet', 'part.2.parquet']
    """
    import fsspec

    from shoal.delayed import delayed

    check_write_options(kwargs, engine, write_metadata_file, schema, append, overwrite)
    if filesystem is not None and not isinstance(filesystem, str):
        fs = filesystem
    else:
        fs, _, _ = fsspec.get_fs_token_paths(str(path), storage_options=storage_options or {})
    root = str(path).rstrip("/") or str(path)
    if fs.isfile(root):
        raise NotADirectoryError(f"to_parquet: {root!r} is a file; to_parquet writes a directory of files. "
                                 f"Pass a directory path, or remove the file.")
    if partition_on is not None:
        partition_on = [partition_on] if isinstance(partition_on, str) else list(partition_on)
        missing = [c for c in partition_on if c not in df.columns]
        if missing:
            raise KeyError(f"to_parquet: partition_on column(s) {missing} not found. Available: {list(df.columns)}")
    if overwrite:
        check_overwrite(fs, root)
    offset = 0
    if append and check_append(df, fs, root, write_index, partition_on, ignore_divisions, schema):
        offset = append_offset(fs, root)
    options = {**kwargs, "compression": compression}
    table_options = {"schema": schema if schema not in ("infer", None) else None, "custom_metadata": custom_metadata}
    staging = _staging_name(root)
    parts = df.to_delayed()
    names = [name_function(i + offset) if name_function else f"part.{i + offset}.parquet" for i in range(len(parts))]
    if len(set(names)) != len(names):
        raise ValueError(f"to_parquet: name_function gave the same file name to several partitions: {names[:5]}")
    writes = [delayed(_write_partition, pure=False)(p, staging, name, fs, write_index, partition_on, options,
                                                    table_options)
              for p, name in zip(parts, names, strict=True)]
    if overwrite:
        published = delayed(_swap, pure=False)(writes, staging, root, fs)
    else:
        published = delayed(_publish, pure=False)(writes, staging, root, fs, [])
    done = delayed(_nothing, pure=False)(published)
    if not compute:
        return done
    try:
        compute_collections(done, **(compute_kwargs or {}))
    except BaseException:
        _remove(fs, staging)
        raise
    return None


def _swap(written: list[str], staging: str, root: str, fs: Any) -> None:
    swap_into_place(staging, root, fs)


def _nothing(_: Any) -> None:
    """The result of a write, as in Dask: ``None``."""
    return None

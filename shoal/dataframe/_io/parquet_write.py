"""``to_parquet`` with PyArrow: one file ``part.{i}.parquet`` per partition.

Each partition is written into a staging directory under a temporary name,
and the files are moved into place only when every partition is written, so a
failed write leaves nothing that looks like a complete dataset.
``partition_on=`` writes a hive layout (``key=value`` directories).
"""

from __future__ import annotations

import posixpath
import uuid
from typing import Any

import pandas as pd

from shoal.base import compute as compute_collections

__all__ = ["to_parquet"]

def _write_partition(part: pd.DataFrame, staging: str, i: int, fs: Any, write_index: bool,
                     partition_on: list[str] | None, kwargs: dict[str, Any]) -> str:
    """Write partition ``i`` into the staging directory; :func:`_publish` moves it into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(part, preserve_index=write_index)
    fs.makedirs(staging, exist_ok=True)
    if partition_on:
        from pyarrow.fs import FSSpecHandler, PyFileSystem
        pq.write_to_dataset(table, staging, partition_cols=partition_on, filesystem=PyFileSystem(FSSpecHandler(fs)),
                            basename_template=f"part.{i}.{{i}}.parquet", **kwargs)
        return staging
    path = f"{staging}/part.{i}.parquet"
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


def to_parquet(df: Any, path: Any, *, write_index: bool = True, partition_on: Any = None, compute: bool = True,
               storage_options: dict[str, Any] | None = None, engine: str = "pyarrow", **kwargs: Any) -> Any:
    """Write one Parquet file per partition under the directory ``path``.

    ``partition_on=`` writes a hive layout (``col=value/`` directories).
    Returns the written paths, or the ``Delayed`` writes with ``compute=False``.

    The partitions are written into a hidden sibling directory and moved under
    ``path`` only once all of them succeeded, so a failed write leaves
    ``path`` as it was (with ``compute=True`` the staging directory is removed
    too). Files already under ``path`` are kept, except those replaced by a
    file of the same name.

    Examples
    --------
    >>> import os, pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = os.path.join(tempfile.mkdtemp(), "out")
    >>> [os.path.basename(p) for p in sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2).to_parquet(d)]
    ['part.0.parquet', 'part.1.parquet']
    >>> sorted(os.listdir(os.path.dirname(d)))
    ['out']
    """
    import fsspec

    from shoal.delayed import delayed

    if engine not in ("pyarrow", "auto"):
        raise ValueError(f"to_parquet supports engine='pyarrow' only, got {engine!r}")
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
    staging = _staging_name(root)
    parts = df.to_delayed()
    writes = [delayed(_write_partition, pure=False)(p, staging, i, fs, write_index, partition_on, kwargs)
              for i, p in enumerate(parts)]
    paths = [root if partition_on else f"{root}/part.{i}.parquet" for i in range(len(parts))]
    published = delayed(_publish, pure=False)(writes, staging, root, fs, paths)
    if not compute:
        return [published[i] for i in range(len(paths))]
    try:
        (result,) = compute_collections(published)
    except BaseException:
        _remove(fs, staging)
        raise
    return list(result)

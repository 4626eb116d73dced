"""The keywords of Dask's ``read_parquet``: checked, normalized, and refused when unknown or unsupported.

Dask's reader takes many keywords and passes the rest through ``**kwargs``
to its engine, so a misspelt one is silently ignored. shoal accepts every
keyword of Dask's signature, honours those that change what is read, lets
those that only tune Dask's own planning pass (``metadata_task_size``,
``ignore_metadata_file``: shoal plans from the footers, never from a
``_metadata`` file), raises ``NotImplementedError`` naming an alternative for
values it can't honour, and raises ``TypeError`` for any other keyword.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_read_options", "directory_files", "parse_split_row_groups"]

#: Keywords of Dask's ``read_parquet`` that were renamed or removed, and what to use instead.
_RENAMED = {"gather_statistics": "calculate_divisions", "chunksize": "blocksize",
            "read_from_paths": "none (it is no longer needed)", "ignore_metadata": "ignore_metadata_file"}

#: ``**kwargs`` keys Dask's PyArrow engine understands: options of ``pyarrow.dataset.dataset``, of the read,
#: and of opening files.
_ENGINE_KEYS = ("dataset", "read", "open_file_options")


def parse_split_row_groups(value: Any) -> int:
    """Row groups per partition: ``0`` for one partition per file (``False``, ``"infer"``, ``"adaptive"``)."""
    if value is True:
        return 1
    if value is False or value is None or value in ("infer", "adaptive"):
        return 0
    if isinstance(value, int) and value >= 1:
        return value
    raise ValueError(f"read_parquet: split_row_groups must be True, False, 'infer', 'adaptive' or a positive "
                     f"number of row groups per partition, got {value!r}")


def check_read_options(*, categories: Any, dtype_backend: Any, blocksize: Any, aggregate_files: Any,
                       filesystem: Any, engine: Any, arrow_to_pandas: Any, kwargs: dict[str, Any]
                       ) -> dict[str, Any]:
    """Refuse what shoal can't honour; return the options for ``pyarrow.dataset.dataset`` (``dataset=``)."""
    unknown = [k for k in kwargs if k not in _ENGINE_KEYS]
    if unknown:
        name = unknown[0]
        hint = (f" Dask renamed it: use {_RENAMED[name]}= instead." if name in _RENAMED else
                " The keywords are those of dask.dataframe.read_parquet; options for PyArrow go in "
                "dataset={...}.")
        raise TypeError(f"read_parquet() got an unexpected keyword argument {name!r}.{hint}")
    if engine not in (None, "pyarrow", "auto"):
        raise ValueError(f"read_parquet supports engine='pyarrow' only, got {engine!r}")
    refusals = [
        (categories is not None, "categories=", "read the column, then call .categorize(columns=[...])"),
        (dtype_backend is not None, "dtype_backend=", f"call .convert_dtypes(dtype_backend={dtype_backend!r}) on "
                                                       f"the result"),
        (arrow_to_pandas is not None, "arrow_to_pandas=", "convert the columns with .astype(...) after reading"),
        (blocksize not in ("default", None), "blocksize=", "pass split_row_groups=<row groups per partition>"),
        (bool(aggregate_files), "aggregate_files=True", "call .repartition(npartitions=...) after reading"),
        (bool(kwargs.get("read")), "read={...}", "filter with filters= and select with columns="),
        (filesystem not in ("fsspec", "arrow", None), "a filesystem object", "pass storage_options= and a URL"),
    ]
    for refused, what, instead in refusals:
        if refused:
            raise NotImplementedError(f"read_parquet: shoal does not support {what}; instead, {instead}.")
    dataset = kwargs.get("dataset") or {}
    if not isinstance(dataset, dict):
        raise TypeError(f"read_parquet: dataset= takes a dict of pyarrow.dataset.dataset options, got "
                        f"{type(dataset).__name__}")
    fixed = {"source", "format", "filesystem"} & set(dataset)
    if fixed:
        raise ValueError(f"read_parquet: dataset={{...}} may not set {sorted(fixed)}: shoal chooses them from the "
                         f"path and storage_options=")
    return dataset


def directory_files(fs: Any, root: str, extensions: Any) -> Any:
    """The files under ``root`` ending in one of ``extensions``, or ``root`` itself when every file does.

    Arrow's discovery skips names starting with ``_`` or ``.`` (``_metadata``, staging directories); this
    also skips files such as ``_SUCCESS`` markers or ``.crc`` sidecars a directory may hold next to the data.
    """
    endings = (extensions,) if isinstance(extensions, str) else tuple(extensions)
    files = [f for f in fs.find(root) if not any(part.startswith(("_", ".")) for part in
                                                 f[len(root.rstrip("/")) + 1:].split("/"))]
    kept = [f for f in files if f.endswith(endings)]
    if len(kept) == len(files):
        return root  # a directory keeps hive partition discovery relative to it
    if not kept:
        raise FileNotFoundError(f"read_parquet: no file under {root!r} ends in {endings}; pass "
                                f"parquet_file_extension=None to read files of any name")
    return sorted(kept)

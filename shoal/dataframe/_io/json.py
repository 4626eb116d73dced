"""``read_json`` and ``to_json``.

Reading
    Paths (a glob, a list, any fsspec URL) are expanded at build time. With
    ``lines=True`` (JSON Lines, one record per line) a ``blocksize`` cuts each
    uncompressed file into byte ranges that own the lines starting inside
    them, as ``read_csv`` does; otherwise each file is one partition. The
    structure comes from parsing the first partition (or ``meta=``); a later
    partition with other columns fails with an error naming its file.

Writing
    One file per partition (``*`` in the path becomes the partition number,
    a directory gets ``0.part``, ``1.part``, ...), written under a temporary
    name and renamed when complete, so a failed write never leaves a file
    that looks finished.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._io.csv import _compression_of, _expand, _parse_blocksize, _read_block
from shoal.dataframe._io.csv_write import partition_paths, write_staged
from shoal.dataframe._io.text_blocks import ReadTextBlocks
from shoal.dataframe._meta import make_meta

__all__ = ["read_json", "to_json"]


def _parse(data: bytes, kwargs: dict[str, Any]) -> pd.DataFrame:
    if not data.strip():
        return pd.DataFrame()
    return pd.read_json(io.BytesIO(data), **kwargs)


def _parse_block(block: tuple[Any, ...], kwargs: dict[str, Any], meta: pd.DataFrame | None,
                 path_column: str | None, paths: list[str]) -> pd.DataFrame:
    fs, path, start, stop, compression = block
    part = _parse(_read_block(fs, path, start, stop, b"", True, compression), kwargs)
    if path_column is not None:
        part[path_column] = pd.Categorical([path] * len(part), categories=paths)
    if meta is None:
        return part
    if len(part) == 0:
        return meta.copy()
    if list(part.columns) != list(meta.columns):
        raise ValueError(
            f"read_json: a block of {path!r} has columns {list(part.columns)}, but the first partition has "
            f"{list(meta.columns)}. Every file must hold records with the same fields; pass meta= to say which."
        )
    wrong = {c: t for c, t in meta.dtypes.items() if part.dtypes[c] != t}
    if wrong:
        try:
            part = part.astype(wrong)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"read_json: a block of {path!r} does not match the dtypes of the first partition "
                f"({ {c: str(part.dtypes[c]) for c in wrong} } vs {({c: str(t) for c, t in wrong.items()})}): "
                f"{exc}. Pass dtype= (for pandas.read_json) or meta= with the dtypes you want."
            ) from exc
    return part


def read_json(url_path: Any, orient: str = "records", lines: bool | None = None, blocksize: Any = None, *,
              compression: Any = "infer", meta: Any = None, include_path_column: bool | str = False,
              storage_options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Read JSON files into a DataFrame: one partition per file, or per ``blocksize`` bytes of JSON Lines.

    Mirrors ``dask.dataframe.read_json``.

    Parameters
    ----------
    url_path : str or list
        A path, a glob or a list; local or any fsspec URL.
    orient : str
        As in :func:`pandas.read_json`; ``"records"`` by default.
    lines : bool, optional
        One record per line; defaults to ``orient == "records"``.
    blocksize : int or str, optional
        Bytes per partition for ``lines=True`` (``"64MB"``); ``None`` keeps one file per partition.
    meta : DataFrame or dict, optional
        The output's structure; without it the first partition is parsed at build time to find it.
    include_path_column : bool or str
        Add a categorical column (``"path"``, or this name) holding each row's file.
    **kwargs
        Passed to :func:`pandas.read_json` (``dtype=``, ``convert_dates=``, ...).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1, 2, 3]}).to_json(os.path.join(d, "a.json"), orient="records", lines=True)
    >>> sd.read_json(os.path.join(d, "*.json")).x.sum().compute()
    np.int64(6)
    """
    if lines is None:
        lines = orient == "records"
    if blocksize is not None and not (lines and orient == "records"):
        raise ValueError("read_json: blocksize= needs lines=True and orient='records' (only JSON Lines can be cut "
                         "between records); pass blocksize=None to read one file per partition.")
    for bad in ("chunksize", "nrows"):
        if kwargs.get(bad) is not None:
            raise ValueError(f"read_json does not support {bad}= on partitioned data; read, then use head()")
    fs, paths = _expand(url_path, storage_options)
    size = _parse_blocksize(blocksize)
    blocks = []
    for path in paths:
        comp = _compression_of(path, compression)
        total = fs.size(path)
        if comp is not None or size is None or total <= size:
            blocks.append((fs, path, 0, total, comp))
        else:
            blocks.extend((fs, path, start, min(start + size, total), None) for start in range(0, total, size))
    kwargs = {"orient": orient, "lines": lines, **kwargs}
    path_column = None
    if include_path_column:
        path_column = "path" if include_path_column is True else str(include_path_column)
    if meta is None:
        try:
            meta = _parse_block(blocks[0], kwargs, None, path_column, paths).iloc[:0]
        except ValueError as exc:
            raise ValueError(f"read_json: could not parse {paths[0]!r} with {kwargs}: {exc}") from exc
    else:
        meta = make_meta(meta)
    return new_collection(ReadJSON(blocks, kwargs, meta, path_column, tuple(paths)))


def _write_json(part: pd.DataFrame, f: Any, spec: dict[str, Any]) -> None:
    kwargs, compression = spec["options"], spec["compression"]
    text = part.to_json(None, **kwargs)
    if kwargs.get("lines") and text and not text.endswith("\n"):
        text += "\n"
    if compression is None:
        f.write(text.encode("utf-8"))
        return
    from fsspec.compression import compr

    with compr[compression](f, mode="wb") as out:
        out.write(text.encode("utf-8"))


def _write_compression(compression: Any, path: str) -> str | None:
    """The codec for ``path``: ``compression`` itself, or with ``"infer"`` the one its extension names."""
    from fsspec.compression import compr

    method = compression.get("method") if isinstance(compression, dict) else compression
    method = _compression_of(path, method)
    if method is not None and method not in compr:
        known = sorted(k for k in compr if k is not None)
        raise ValueError(f"to_json: unknown compression {compression!r}; use None, 'infer' or one of {known}")
    return method  # type: ignore[no-any-return]


def to_json(df: Any, url_path: Any, orient: str = "records", lines: bool | None = None, *, name_function: Any = None,
            compute: bool = True, storage_options: dict[str, Any] | None = None, compression: Any = "infer",
            **kwargs: Any) -> Any:
    """Write one JSON file per partition; mirrors ``dask.dataframe.to_json``.

    ``*`` in ``url_path`` becomes the partition number (through
    ``name_function``); a path without ``*`` is a directory that gets
    ``0.part``, ``1.part``, .... Returns the written paths, or the ``Delayed``
    writes with ``compute=False``. ``lines`` defaults to ``orient == "records"``.
    ``compression`` (``"gzip"``, ``"bz2"``, ``"xz"``, ..., or ``None``) compresses every file; ``"infer"``,
    the default as in pandas, takes it from the file name (``*.json.gz``). File names are not changed.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2)
    >>> [os.path.basename(p) for p in df.to_json(os.path.join(d, "*.json"))]
    ['0.json', '1.json']
    >>> sd.read_json(os.path.join(d, "*.json")).x.sum().compute()
    np.int64(6)
    """
    import fsspec


    if lines is None:
        lines = orient == "records"
    if lines and orient != "records":
        raise ValueError(f"to_json: lines=True needs orient='records', got orient={orient!r}")
    fs, _, _ = fsspec.get_fs_token_paths(str(url_path), storage_options=storage_options or {})
    parts = df.to_delayed()
    paths = partition_paths(fs, str(url_path), len(parts), name_function or str)
    if len(set(paths)) != len(paths):
        raise ValueError(f"to_json: name_function gives the same file name to two partitions: {paths}")
    options = {"orient": orient, "lines": lines, **kwargs}
    specs = [{"options": options, "compression": _write_compression(compression, path)} for path in paths]
    # Like to_csv: every part under a temporary name, renamed only once all succeeded.
    return write_staged(parts, paths, fs, specs, _write_json, compute)


class ReadJSON(ReadTextBlocks):
    """Blocks (byte ranges of line-delimited files, or whole files) parsed with :func:`pandas.read_json`."""

    _label = "read-json"
    parse_block = staticmethod(_parse_block)

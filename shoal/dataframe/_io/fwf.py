"""``read_fwf``: fixed-width text files, cut into blocks like ``read_csv``.

Blocks
    Paths are expanded and files cut into ``blocksize`` byte ranges by the
    CSV machinery (:mod:`shoal.dataframe._io.csv`): a block owns the lines
    that start inside its range, and blocks after a file's first get the
    file's header line put in front.

Column widths
    pandas infers the column boundaries (``colspecs="infer"``) from the first
    ``infer_nrows`` lines it sees. Inferred block by block they could differ
    between blocks, so they are inferred once, at build time, from the first
    ``infer_nrows`` lines of the first file (as pandas does on the whole
    file), and every block is parsed with those explicit boundaries.

Types
    The structure comes from parsing a sample of the first file. A block that
    parses to another dtype fails with an error naming the column, the file
    and the fix (``dtype=``); integers where the sample saw floats are cast.
"""

from __future__ import annotations

import functools
import io
import re
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._io.csv import _compression_of, _expand, _parse_blocksize, _read_block, _with_path_column
from shoal.dataframe._io.text_blocks import ReadTextBlocks
from shoal.graph.tokenize import tokenize

__all__ = ["read_fwf"]

#: pandas' default field delimiters for width inference (``read_fwf``'s ``delimiter=None``).
_DEFAULT_DELIMITERS = "\n\r\t "


def infer_colspecs(lines: list[str], delimiters: str = _DEFAULT_DELIMITERS, comment: str | None = None
                   ) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` character ranges covered by a non-delimiter in any of ``lines``.

    This is how :func:`pandas.read_fwf` infers column boundaries: a column is
    a maximal run of positions where some line has a non-blank character.

    Examples
    --------
    >>> infer_colspecs(["a    bb", "123  4"])
    [(0, 3), (5, 7)]
    """
    if not lines:
        raise pd.errors.EmptyDataError("read_fwf: no lines from which to infer column widths")
    if comment is not None:
        lines = [line.partition(comment)[0] for line in lines]
    width = max(map(len, lines))
    covered = np.zeros(width + 2, dtype=bool)
    field = re.compile(f"[^{re.escape(delimiters)}]+")
    for line in lines:
        for match in field.finditer(line):
            covered[match.start() + 1:match.end() + 1] = True  # shifted by one: index 0 is a sentinel gap
    change = np.flatnonzero(covered[1:] != covered[:-1])
    return [(int(a), int(b)) for a, b in zip(change[::2], change[1::2], strict=True)]


def _parse_block(block: tuple[Any, ...], kwargs: dict[str, Any], meta: pd.DataFrame, path_column: str | None,
                 paths: list[str]) -> pd.DataFrame:
    fs, path, start, stop, header, first, compression = block
    data = _read_block(fs, path, start, stop, header, first, compression)
    expected = meta.drop(columns=[path_column]) if path_column is not None else meta
    part = pd.read_fwf(io.BytesIO(data), **kwargs) if data.strip() and data != header else expected.iloc[:0]
    if len(part) == 0:
        part = expected.copy()  # a block holding no line start parses to untyped columns
    _conform(part, expected, path)
    if path_column is not None:
        part[path_column] = pd.Categorical([path] * len(part), categories=paths)
    return part


def _conform(part: pd.DataFrame, meta: pd.DataFrame, path: str) -> None:
    if list(part.columns) != list(meta.columns):
        raise ValueError(f"read_fwf: a block of {path!r} has columns {list(part.columns)}, but the first file has "
                         f"{list(meta.columns)}. Every file must have the same header and column widths.")
    bad = []
    for col in meta.columns:
        want, got = meta.dtypes[col], part.dtypes[col]
        if want == got:
            continue
        if want.kind == "f" and got.kind in "iu":
            part[col] = part[col].astype(want)
            continue
        bad.append(f"column {col!r}: expected {want}, found {got}")
    if bad:
        raise ValueError(f"read_fwf: a block of {path!r} does not match the dtypes inferred from the first rows of "
                         f"the first file ({'; '.join(bad)}). The sample did not show all values. Pass dtype= for "
                         f"these columns (e.g. dtype={{'name': 'float64'}}), or assume_missing=True for integers "
                         f"that may be missing.")


def read_fwf(urlpath: Any, blocksize: Any = "default", lineterminator: str | None = None,
             compression: Any = "infer", sample: int = 256_000, sample_rows: int = 10, enforce: bool = False,
             assume_missing: bool = False, storage_options: dict[str, Any] | None = None,
             include_path_column: bool | str = False, **kwargs: Any) -> Any:
    """Read fixed-width text files into a DataFrame; mirrors ``dask.dataframe.read_fwf``.

    Parameters
    ----------
    urlpath : str, path or list
        A path, a glob or a list; local or any fsspec URL.
    blocksize : int or str or None
        Bytes per partition (``"default"`` is 64 MB); ``None`` reads one file per partition.
    lineterminator : str, optional
        Only ``"\\n"`` (with or without ``"\\r"``) is supported.
    compression : str
        ``"infer"`` (from the extension) or a name; compressed files are one partition each.
    sample : int
        Bytes of the first file parsed for the column names, widths and dtypes.
    sample_rows, enforce
        Accepted for Dask compatibility; every block is always checked against the sample's dtypes.
    assume_missing : bool
        Make integer columns of the sample ``float64``, so that later blocks may hold missing values.
    include_path_column : bool or str
        Add a categorical column (``"path"``, or this name) holding each row's file.
    **kwargs
        Passed to :func:`pandas.read_fwf` (``colspecs=``, ``widths=``, ``names=``, ``dtype=``, ...).

    Notes
    -----
    With ``colspecs="infer"`` (the default) the boundaries are inferred once
    from the first ``infer_nrows`` lines of the first file, as pandas does on
    the whole file, and used for every block.

    Examples
    --------
    >>> import shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.txt"), "w") as f:
    ...     _ = f.write("name  x\\nab    1\\ncde   2\\n")
    >>> sd.read_fwf(os.path.join(d, "*.txt")).compute()
      name  x
    0   ab  1
    1  cde  2
    """
    for bad in ("index_col", "chunksize", "iterator", "nrows", "skipfooter", "skiprows"):
        value = kwargs.get(bad)
        if value is not None and value is not False and not (bad == "skiprows" and value == 0):
            raise ValueError(f"read_fwf does not support {bad}= on partitioned data; read, then use "
                             f"set_index/head/loc")
    if lineterminator not in (None, "\n", "\r\n"):
        raise ValueError(f"read_fwf: lineterminator={lineterminator!r} is not supported; files are cut at '\\n'")
    header_arg = kwargs.get("header", "infer")
    if header_arg not in ("infer", 0, None):
        raise ValueError("read_fwf supports header=0 (the default) or header=None only")
    no_header = header_arg is None or (header_arg == "infer" and kwargs.get("names") is not None)
    fs, paths = _expand(urlpath, storage_options)
    size = _parse_blocksize("64MB" if blocksize == "default" else blocksize)
    with fs.open(paths[0], "rb", compression=_compression_of(paths[0], compression)) as f:
        head = f.read(sample)
        if not head.endswith(b"\n"):
            head += f.readline()
    kwargs = dict(kwargs)
    if kwargs.get("colspecs", "infer") == "infer" and kwargs.get("widths") is None:
        encoding = kwargs.get("encoding") or "utf-8"
        lines = head.decode(encoding).splitlines(keepends=True)[: int(kwargs.pop("infer_nrows", 100))]
        delimiter = kwargs.get("delimiter")
        delimiters = "\r\n" + delimiter if delimiter else _DEFAULT_DELIMITERS
        kwargs["colspecs"] = infer_colspecs(lines, delimiters, kwargs.get("comment"))
    try:
        meta = pd.read_fwf(io.BytesIO(head), **kwargs).iloc[:0]
    except Exception as exc:
        raise ValueError(f"read_fwf: could not parse the first {sample} bytes of {paths[0]!r}: {exc}") from exc
    if assume_missing:
        ints = {c: "float64" for c, t in meta.dtypes.items() if t.kind in "iu"}
        meta = meta.astype(ints)
        dtype = kwargs.get("dtype")
        if dtype is None or isinstance(dtype, dict):
            kwargs["dtype"] = {**ints, **(dtype or {})}
    meta, path_column = _with_path_column(meta, include_path_column, paths)
    blocks = []
    for path in paths:
        comp = _compression_of(path, compression)
        header = b""
        if not no_header:
            with fs.open(path, "rb", compression=comp) as f:
                header = f.readline()
        total = fs.size(path)
        if comp is not None or size is None or total <= size:
            blocks.append((fs, path, 0, total, header, True, comp))
            continue
        blocks.extend((fs, path, start, min(start + size, total), header, start == 0, None)
                      for start in range(0, total, size))
    return new_collection(ReadFWF(blocks, kwargs, meta, path_column, tuple(paths)))


class ReadFWF(ReadTextBlocks):
    """Blocks of fixed-width files, parsed with explicit ``colspecs``."""

    _label = "read-fwf"
    parse_block = staticmethod(_parse_block)

    @functools.cached_property
    def _name(self) -> str:
        blocks = [block[1:] for block in self.blocks]  # the filesystem object hashes by identity
        return f"{self._label}-{tokenize(blocks, self.kwargs, self.meta, self.path_column, list(self.paths))}"

"""``read_fwf``: fixed-width text files, cut into blocks like ``read_csv``.

Blocks
    Paths are expanded and files cut into ``blocksize`` byte ranges by the
    CSV machinery (:mod:`shoal.dataframe._io.csv`): a block owns the lines
    that start inside its range, and blocks after a file's first get the
    file's header line put in front.

Skipped rows
    ``skiprows=`` counts lines from the top of every file, as in Dask. Only a
    file's first block is parsed with it, so that block is stretched at build
    time to reach past the last skipped line and the header (Dask instead
    assumes they fit in the first block). The header put in front of later
    blocks is the first line not skipped. Likewise ``skipfooter=`` applies to
    a file's last block only, which starts no later than the footer.

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
    fs, path, start, stop, header, first, compression, footer = block
    data = _read_block(fs, path, start, stop, header, first, compression)
    if not first:
        kwargs = {k: v for k, v in kwargs.items() if k != "skiprows"}  # a file's skipped lines are in its first block
    if footer:
        kwargs = {**kwargs, "skipfooter": footer}  # set on a file's last block only
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


def _skipped_rows(skiprows: Any) -> frozenset[int]:
    """The 0-based line numbers that ``skiprows=`` drops from the top of every file."""
    if skiprows is None or skiprows is False:
        return frozenset()
    if callable(skiprows):
        raise ValueError("read_fwf does not support a callable skiprows=: a block after a file's first can't know "
                         "its line numbers. Pass the line numbers as a list (skiprows=[0, 2]), or filter the rows "
                         "after reading.")
    rows = [skiprows] if isinstance(skiprows, int | np.integer) else list(skiprows)
    if not all(isinstance(r, int | np.integer) and not isinstance(r, bool) and r >= 0 for r in rows):
        raise ValueError(f"read_fwf: skiprows must be a number of lines or a list of line numbers >= 0, got "
                         f"{skiprows!r}")
    if isinstance(skiprows, int | np.integer):
        return frozenset(range(int(skiprows)))
    return frozenset(int(r) for r in rows)


def _scan_head(fs: Any, path: str, compression: str | None, skip: frozenset[int], want_header: bool
               ) -> tuple[bytes, int]:
    """A file's header line (the first line not skipped) and the bytes up to the end of it and of every
    skipped line: the first block must reach past them, since only it is parsed with ``skiprows``."""
    last = max(skip, default=-1)
    header, end, i = b"", 0, 0
    with fs.open(path, "rb", compression=compression) as f:
        while i <= last or (want_header and not header):
            line = f.readline()
            if not line:
                break
            if i not in skip and want_header and not header:
                header = line
            end += len(line)
            i += 1
    return header, end


def _footer_start(fs: Any, path: str, total: int, count: int) -> int:
    """Byte offset where the last ``count`` lines of an uncompressed file start (pandas' ``skipfooter``
    counts every line, blank and comment lines too)."""
    size = 1 << 16
    with fs.open(path, "rb") as f:
        while True:
            pos = max(total - size, 0)
            f.seek(pos)
            lines = re.findall(b"[^\n]*\n|[^\n]+$", f.read(total - pos))
            if pos > 0:
                lines = lines[1:]  # may have started mid-line
            if len(lines) > count or pos == 0:
                return total - sum(map(len, lines[-count:]))
            size *= 4


def _sample_meta(fs: Any, path: str, compression: str | None, sample: int, skip: frozenset[int], footer: int,
                 want_header: bool, kwargs: dict[str, Any]) -> pd.DataFrame:
    """Parse the sample of the first file for the structure; with ``colspecs="infer"``, first set
    ``kwargs["colspecs"]`` to the boundaries pandas would infer from the whole file."""
    infer = kwargs.get("colspecs", "infer") == "infer" and kwargs.get("widths") is None
    infer_nrows = int(kwargs.pop("infer_nrows", 100))
    _, prefix = _scan_head(fs, path, compression, skip, want_header)
    with fs.open(path, "rb", compression=compression) as f:
        head = f.read(prefix + sample)  # the sample starts after the skipped lines
        if not head.endswith(b"\n"):
            head += f.readline()
        # pandas infers the widths from the first infer_nrows lines not skipped (the footer's among them).
        while infer and head.count(b"\n") < infer_nrows + len(skip) and (line := f.readline()):
            head += line
        whole = not f.read(1)
    if infer:
        encoding = kwargs.get("encoding") or "utf-8"
        lines = [line for i, line in enumerate(head.decode(encoding).splitlines(keepends=True)) if i not in skip]
        delimiter = kwargs.get("delimiter")
        delimiters = "\r\n" + delimiter if delimiter else _DEFAULT_DELIMITERS
        kwargs["colspecs"] = infer_colspecs(lines[:infer_nrows], delimiters, kwargs.get("comment"))
    if footer and compression is None:
        # The footer may not look like the rows (a total, say): keep it out of the sample.
        head, whole = head[:_footer_start(fs, path, fs.size(path), footer)], False
    try:
        # A compressed file's footer is known only if the sample holds the whole file.
        return pd.read_fwf(io.BytesIO(head), **kwargs, skipfooter=footer if whole else 0).iloc[:0]
    except Exception as exc:
        raise ValueError(f"read_fwf: could not parse the first {sample} bytes of {path!r}: {exc}") from exc


def _refuse(kwargs: dict[str, Any]) -> None:
    """Dask's refusals, each with the call that gives the same result."""
    for name, fix in (("chunksize", "it reads the files in blocks already; set blocksize= instead"),
                      ("iterator", "iterate over df.partitions instead")):
        if kwargs.get(name) not in (None, False, 0):
            raise ValueError(f"read_fwf does not support {name}= on partitioned data: {fix}")
    if kwargs.get("nrows") is not None:
        raise ValueError(f"read_fwf does not support nrows=: blocks are parsed independently, so no block knows "
                         f"how many rows came before it. Use sd.read_fwf(...).head(n={kwargs['nrows']!r}, "
                         f"npartitions=-1) for the first rows.")


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
        Bytes of the first file (after its skipped rows) parsed for the column names, widths and dtypes.
    sample_rows, enforce
        Accepted for Dask compatibility; every block is always checked against the sample's dtypes.
    assume_missing : bool
        Make integer columns of the sample ``float64``, so that later blocks may hold missing values.
    include_path_column : bool or str
        Add a categorical column (``"path"``, or this name) holding each row's file.
    **kwargs
        Passed to :func:`pandas.read_fwf` (``colspecs=``, ``widths=``, ``names=``, ``dtype=``,
        ``skiprows=``, ``skipfooter=``, ``index_col=False``, ...).

    Raises
    ------
    ValueError
        For ``nrows=`` (use ``.head(n, npartitions=-1)``), ``index_col=`` other than ``False`` (use
        ``.set_index``), a callable ``skiprows=``, ``chunksize=`` and ``iterator=``, as Dask refuses them.

    Notes
    -----
    ``skiprows=`` (a number of lines, or a list of line numbers) applies to
    the top of every file, as in Dask; unlike Dask, the skipped lines may lie
    past the first block: the first block of each file is stretched to cover
    them. ``skipfooter=`` drops the last lines of every file; the last block
    of each file starts early enough to hold them. With ``colspecs="infer"``
    (the default) the boundaries are inferred once from the first
    ``infer_nrows`` lines (not skipped) of the first file, as pandas does on
    the whole file, and used for every block.

    Examples
    --------
    >>> import shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.txt"), "w") as f:
    ...     _ = f.write("# made by hand\\nname  x\\nab    1\\ncde   2\\n")
    >>> sd.read_fwf(os.path.join(d, "*.txt"), skiprows=1).compute()
      name  x
    0   ab  1
    1  cde  2
    """
    _refuse(kwargs)
    if lineterminator not in (None, "\n", "\r\n"):
        raise ValueError(f"read_fwf: lineterminator={lineterminator!r} is not supported; files are cut at '\\n'")
    header_arg = kwargs.get("header", "infer")
    if header_arg not in ("infer", 0, None):
        raise ValueError("read_fwf supports header=0 (the default) or header=None only")
    footer = int(kwargs.pop("skipfooter", 0) or 0)
    if footer < 0:
        raise ValueError(f"read_fwf: skipfooter must be a number of lines >= 0, got {footer}")
    no_header = header_arg is None or (header_arg == "infer" and kwargs.get("names") is not None)
    kwargs = dict(kwargs)
    index_col = kwargs.pop("index_col", None)
    skip = _skipped_rows(kwargs.pop("skiprows", None))
    if skip:
        kwargs["skiprows"] = sorted(skip)  # dropped again for every block but a file's first
    fs, paths = _expand(urlpath, storage_options)
    size = _parse_blocksize("64MB" if blocksize == "default" else blocksize)
    meta = _sample_meta(fs, paths[0], _compression_of(paths[0], compression), sample, skip, footer, not no_header,
                        kwargs)
    if index_col is not None and index_col is not False:
        named = meta.columns[index_col] if isinstance(index_col, int) and index_col < len(meta.columns) else index_col
        raise ValueError(f"read_fwf does not support index_col={index_col!r}: each block would get an index of its "
                         f"own rows only. Read the column, then make it the index: "
                         f"sd.read_fwf(...).set_index({named!r}). (index_col=False is accepted.)")
    if index_col is False:
        kwargs["index_col"] = False
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
        header, prefix = _scan_head(fs, path, comp, skip, not no_header)
        total = fs.size(path)
        if comp is not None or size is None or total <= size:
            blocks.append((fs, path, 0, total, header, True, comp, footer))
            continue
        # The first block runs past the skipped lines, the header and one more line, so that it holds a row;
        # the last starts no later than the footer, which only it skips.
        cut = _footer_start(fs, path, total, footer) if footer else total
        starts = [0, *(s for s in range(size, total, size) if prefix < s <= cut)]
        stops = [*starts[1:], total]
        blocks.extend((fs, path, start, stop, header, start == 0, None, footer if stop == total else 0)
                      for start, stop in zip(starts, stops, strict=True))
    return new_collection(ReadFWF(blocks, kwargs, meta, path_column, tuple(paths)))


class ReadFWF(ReadTextBlocks):
    """Blocks of fixed-width files, parsed with explicit ``colspecs``."""

    _label = "read-fwf"
    parse_block = staticmethod(_parse_block)

    @functools.cached_property
    def _name(self) -> str:
        blocks = [block[1:] for block in self.blocks]  # the filesystem object hashes by identity
        return f"{self._label}-{tokenize(blocks, self.kwargs, self.meta, self.path_column, list(self.paths))}"

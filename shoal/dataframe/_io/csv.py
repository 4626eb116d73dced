"""``read_csv`` and ``to_csv``.

Reading
    Paths (a glob, a list, any fsspec URL) are expanded at build time. Each
    uncompressed file is cut into ``blocksize`` byte ranges; a block owns the
    lines that *start* inside its range, so a line cut by a boundary is read
    whole by the block where it starts and skipped by the next one. Blocks
    after the first are parsed with the file's header line put in front, so
    every block parses with the same arguments. Compressed files (by
    extension) can't be cut and are one block each. As in Dask, a quoted field
    holding a newline can be cut in two by a block boundary: pass
    ``blocksize=None`` for such files.

Counting
    When no column is needed (``len``), a block's records are counted, not
    parsed: its bytes stream through a small per-thread buffer into bit-plane
    counters (``record_counter``, ``csv_count``), and only what they can't be
    sure of (rows of another width, blank lines, odd quoting) goes to pandas,
    so that the count, or the error, is always pandas' own.

Types
    The structure comes from parsing a sample of the first file. When a later
    block parses to a different dtype (an integer column that has a missing
    value further down, for instance) the block fails with an error naming
    the column, the file and the fix (``dtype=``), rather than returning
    partitions that disagree with the metadata.

Writing
    :mod:`.csv_write`. Keywords that change how blocks parse (``header=``,
    ``skiprows=``, ``assume_missing=``): :mod:`.csv_options`.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any

import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr
from shoal.dataframe._io.csv_count import count_rows as _count_rows
from shoal.dataframe._io.csv_count import count_rows_slowly
from shoal.dataframe._io.csv_options import (
    assume_missing as _assume_missing,
)
from shoal.dataframe._io.csv_options import (
    block_kwargs,
    check_keywords,
    header_row,
    read_header_line,
)
from shoal.dataframe._io.csv_write import to_csv
from shoal.dataframe._io.strings import convert_string_enabled, match_strings, to_arrow_strings
from shoal.dataframe._io.record_counter import PIECE, count_pieces, scratch
from shoal.graph.task import Key, Task

__all__ = ["read_csv", "read_table", "to_csv"]

_NEWLINE = 10
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zip": "zip"}


def _with_path_column(meta: pd.DataFrame, include_path_column: Any, paths: list[str]
                      ) -> tuple[pd.DataFrame, str | None]:
    """``meta`` with the ``include_path_column=`` column (categorical over ``paths``) added, and its name."""
    if not include_path_column:
        return meta, None
    name = "path" if include_path_column is True else str(include_path_column)
    return meta.assign(**{name: pd.Categorical([], categories=paths)}), name


def _parse_blocksize(blocksize: Any) -> int | None:
    if blocksize is None:
        return None
    if isinstance(blocksize, str):
        text = blocksize.strip().upper().replace("IB", "B")
        units = {"KB": 2**10, "MB": 2**20, "GB": 2**30, "B": 1}
        for unit, factor in units.items():
            if text.endswith(unit):
                return int(float(text[: -len(unit)]) * factor)
        return int(text)
    return int(blocksize)


def _compression_of(path: str, compression: Any) -> str | None:
    if compression != "infer":
        return compression  # type: ignore[no-any-return]
    for ext, name in _COMPRESSIONS.items():
        if path.endswith(ext):
            return name
    return None


def _expand(urlpath: Any, storage_options: dict[str, Any] | None) -> tuple[Any, list[str]]:
    import fsspec

    paths = urlpath if isinstance(urlpath, list | tuple) else [urlpath]
    fs, _, _ = fsspec.get_fs_token_paths(str(paths[0]), storage_options=storage_options or {})
    found: list[str] = []
    for p in paths:
        p = str(p)
        matches = sorted(fs.glob(p)) if any(ch in p for ch in "*?[") else [p]
        if not matches:
            raise FileNotFoundError(f"read_csv: no files match {p!r}")
        for m in matches:
            if not fs.exists(m):
                raise FileNotFoundError(f"read_csv: file {m!r} does not exist")
        found.extend(matches)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol not in ("file", "local"):
        found = [f if "://" in f else f"{protocol}://{f}" for f in found]
    return fs, found


def _read_block(fs: Any, path: str, start: int, stop: int, header: bytes, first: bool, compression: str | None
                ) -> bytes:
    """The bytes of the lines that start in ``[start, stop)`` (the whole file for compressed files)."""
    if compression is not None:
        with fs.open(path, "rb", compression=compression) as f:
            return f.read()  # type: ignore[no-any-return]
    with fs.open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            f.readline()  # the rest of a line that started in the previous block
        if f.tell() >= stop and start > 0:
            return header
        data = f.read(max(stop - f.tell(), 0))
        if data and not data.endswith(b"\n"):
            data += f.readline()
    return data if first else header + data


def _block_pieces(fs: Any, path: str, start: int, stop: int, header: bytes, first: bool, compression: str | None
                  ) -> Iterator[tuple[bytes | bytearray, int, int]]:
    """:func:`_read_block`'s bytes as ``(buffer, 0, n)`` pieces (``buffer[:n]``, valid until the next piece is
    asked for), read into one small buffer rather than into a block-sized string: counting then touches no
    fresh memory, whose page faults would cost more than the counting."""
    if compression is None and not first:
        yield header, 0, len(header)
    buffer = scratch()[0]
    view = memoryview(buffer)
    with fs.open(path, "rb", compression=compression) as f:
        remaining = -1  # a compressed file is read whole
        if compression is None:
            if start > 0:
                f.seek(start - 1)
                f.readline()  # the rest of a line that started in the previous block
                if f.tell() >= stop:
                    return
            remaining = max(stop - f.tell(), 0)
        last = _NEWLINE
        readinto = getattr(f, "readinto", None) or functools.partial(_read_into, f)
        while remaining:
            n = readinto(view[:PIECE if remaining < 0 else min(PIECE, remaining)])
            if not n:
                break
            remaining -= n if remaining > 0 else 0
            last = buffer[n - 1]
            yield buffer, 0, n
        if compression is None and last != _NEWLINE:
            rest = f.readline()
            if rest:
                yield rest, 0, len(rest)


def _read_into(f: Any, view: memoryview) -> int:
    data = f.read(len(view))
    view[:len(data)] = data
    return len(data)


def _count_streamed(block: tuple[Any, ...], sep: bytes) -> int | None:
    """:func:`count_rows` of the block's bytes, read piece by piece; ``None`` if the bit planes can't tell."""
    return count_pieces(lambda: _block_pieces(*block), sep)


class ReadCSV(Blockwise):
    """Blocks of CSV files; ``columns_`` (set by projection pushdown) becomes ``usecols``."""

    _parameters = ("blocks", "kwargs", "meta", "columns_", "path_column", "paths")
    _defaults = {"columns_": None, "path_column": None, "paths": ()}
    _label = "read-csv"

    @functools.cached_property
    def _meta(self) -> Any:
        meta = self.meta
        return meta if self.columns_ is None else meta[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * (len(self.blocks) + 1)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _parse_block, self.blocks[i], self.kwargs, self.meta, self.columns_, self.path_column,
                    list(self.paths))

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        keep = [c for c in self.meta.columns if c in set(columns)]
        return ReadCSV(self.blocks, self.kwargs, self.meta, keep, self.path_column, self.paths)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        return ReadCSV([self.blocks[i] for i in indices], self.kwargs, self.meta, self.columns_, self.path_column,
                       self.paths)


def _parse_block(block: tuple[Any, ...], kwargs: dict[str, Any], meta: pd.DataFrame, columns: list[Any] | None,
                 path_column: str | None, paths: list[str]) -> pd.DataFrame:
    fs, path, start, stop, header, first, compression = block
    data = None
    count_only = columns is not None and not [c for c in columns if c != path_column]
    kwargs = block_kwargs(kwargs, first)
    sep = _single_byte_sep(kwargs)
    if count_only and sep is not None and _countable(kwargs):
        # Nothing but the number of rows is needed (``len``): count records instead of parsing them.
        rows = _count_streamed(block, sep)
        if rows is None:
            data = _read_block(*block)
            rows = count_rows_slowly(data, sep)
        if rows is not None:
            part = pd.DataFrame(index=pd.RangeIndex(rows))
            if path_column is not None:
                part[path_column] = pd.Categorical([path] * rows, categories=paths)
            return part
    if data is None:
        data = _read_block(*block)
    kw = dict(block_kwargs(kwargs, first))
    file_columns = [c for c in meta.columns if c != path_column]
    wanted = None if columns is None else [c for c in columns if c != path_column]
    if wanted is not None and (count_only or (sep is not None and not _fields_fit(data, sep))):
        # pandas ignores surplus fields outside ``usecols``, where a full read raises: parse every column
        # so that a malformed row fails as it would without the projection (rows with more fields than
        # the header, for one). With a regex or multi-character ``sep`` rows can't be checked cheaply,
        # and ``usecols`` stays as Dask has it.
        part = _parse(data, kw, path)
        _check_row_widths(part, kw, path)
        if count_only:
            counted = pd.DataFrame(index=pd.RangeIndex(len(part)))
            if path_column is not None:
                counted[path_column] = pd.Categorical([path] * len(part), categories=paths)
            return counted
        return _finish(part[wanted], meta, wanted, columns, path_column, path, paths)
    if wanted is not None:
        kw["usecols"] = wanted
        parse_dates = kw.get("parse_dates")
        if isinstance(parse_dates, list):
            kw["parse_dates"] = [c for c in parse_dates if c in wanted]
        dtype = kw.get("dtype")
        if isinstance(dtype, dict):
            kw["dtype"] = {c: t for c, t in dtype.items() if c in wanted}
    part = _parse(data, kw, path)
    _check_row_widths(part, kw, path)
    return _finish(part, meta, wanted if wanted is not None else file_columns, columns, path_column, path, paths)


def _parse(data: bytes, kwargs: dict[str, Any], path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), **kwargs)
    except pd.errors.ParserError as exc:
        raise pd.errors.ParserError(f"read_csv: {path!r} has a malformed row: {str(exc).strip()}. Fix the file, "
                                    f"or pass on_bad_lines='skip' to drop such rows.") from exc


def _finish(part: pd.DataFrame, meta: pd.DataFrame, wanted: list[Any], columns: list[Any] | None,
            path_column: str | None, path: str, paths: list[str]) -> pd.DataFrame:
    """Check a parsed block's dtypes against the meta, add the path column and order the columns."""
    expected = meta[wanted]
    if len(part) == 0:
        # A block holding no line start (a line longer than the block) parses to untyped columns.
        part = expected.copy()
    part = match_strings(part, expected)
    _check_dtypes(part, expected, path)
    if path_column is not None:
        part[path_column] = pd.Categorical([path] * len(part), categories=paths)
    if columns is not None:
        part = part[columns]
    return part


#: read_csv options that change values but not which lines are records, nor whether parsing succeeds: with
#: only these, rows can be counted without parsing. ``dtype`` joins them when every dtype is a string type
#: (a numeric one fails on a value that isn't a number, and counting would hide that).
_COUNTABLE = frozenset({"usecols", "sep", "delimiter", "low_memory", "dtype_backend", "na_values",
                        "keep_default_na", "na_filter", "float_precision"})
_STRING_DTYPES = frozenset({"str", "string", "object", "O"})


def _countable(kwargs: dict[str, Any]) -> bool:
    dtype = kwargs.get("dtype")
    if dtype is not None:
        types = dtype.values() if isinstance(dtype, dict) else [dtype]
        if not all(t in (str, object) or (isinstance(t, str) and t in _STRING_DTYPES) for t in types):
            return False
    return set(kwargs) - {"dtype"} <= _COUNTABLE


def _single_byte_sep(kwargs: dict[str, Any]) -> bytes | None:
    """The field separator as one byte, or ``None`` when it is a regex, several characters or sniffed."""
    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    if sep is None and "delimiter" in kwargs:
        sep = kwargs["delimiter"]
    if not isinstance(sep, str) or len(sep) != 1 or not sep.isascii() or sep in "\r\n\"":
        return None
    return sep.encode()


def _fields_fit(data: bytes, sep: bytes) -> bool:
    """Whether no record has more fields than the header (so ``usecols`` hides no error); ``False`` if unsure."""
    return _count_rows(data, sep) is not None


def _check_row_widths(part: pd.DataFrame, kwargs: dict[str, Any], path: str) -> None:
    """Refuse rows with more fields than the header, which pandas silently turns into an index."""
    if kwargs.get("index_col") is None and type(part.index) is not pd.RangeIndex:
        raise pd.errors.ParserError(
            f"read_csv: {path!r} has a malformed row: more fields than the {len(part.columns)} columns of the "
            f"header {list(part.columns)}. Fix the file, or pass usecols= to read only the header's columns.")


def _check_dtypes(part: pd.DataFrame, meta: pd.DataFrame, path: str) -> None:
    bad = []
    for col in meta.columns:
        if col not in part.columns:
            raise ValueError(f"read_csv: column {col!r} is missing from a block of {path!r}; every file must "
                             f"have the same header (found {list(part.columns)}).")
        want, got = meta.dtypes[col], part.dtypes[col]
        if want == got:
            continue
        if want.kind == "f" and got.kind in "iu":
            part[col] = part[col].astype(want)
            continue
        bad.append((col, str(want), str(got)))
    if bad:
        details = "; ".join(f"column {c!r}: expected {w}, found {g}" for c, w, g in bad)
        fix = ", ".join(f"{c!r}: {'float64' if g.startswith('float') or w.startswith('int') else 'object'!r}"
                        for c, w, g in bad)
        raise ValueError(
            f"read_csv: a block of {path!r} does not match the dtypes inferred from the first rows of the "
            f"first file ({details}). The sample did not show all values. Pass dtype= for these columns, "
            f"e.g. read_csv(..., dtype={{{fix}}})."
        )


def read_csv(urlpath: Any, blocksize: Any = "64MB", lineterminator: str | None = None, compression: Any = "infer",
             sample: int = 256_000, sample_rows: int | None = None, enforce: bool = False, assume_missing: bool = False,
             storage_options: dict[str, Any] | None = None, include_path_column: bool | str = False, **kwargs: Any
             ) -> Any:
    """Read CSV files into a DataFrame, one partition per ``blocksize`` bytes of each file.

    Mirrors ``dask.dataframe.read_csv``.

    Parameters
    ----------
    urlpath : str, path or list
        A path, a glob (``"data/*.csv"``), or a list; local or any fsspec URL.
    blocksize : int or str or None
        Bytes per partition (``"64MB"``); ``None`` reads one file per partition.
    sample : int
        Bytes of the first file parsed to infer column dtypes.
    sample_rows : int, optional
        Infer the dtypes from only the first ``sample_rows`` rows of the
        sample, as Dask does (its default is 10). shoal's default, ``None``,
        uses every row of the sample: fewer blocks then disagree with it.
    assume_missing : bool
        Integer columns without a ``dtype=`` are read as ``float64``, so that
        a missing value in a later block is not an error.
    enforce : bool
        Accepted for Dask's sake: shoal always checks each block's dtypes.
    include_path_column : bool or str
        Add a categorical column (named ``"path"``, or this name) with each row's file.
    compression : str
        ``"infer"`` (from the extension) or a name; compressed files are not split.
    **kwargs
        Passed to :func:`pandas.read_csv` (``dtype=``, ``usecols=``, ``header=None``, ``names=``,
        ``skiprows=``, ...); see :mod:`.csv_options` for how later blocks parse.

    Raises
    ------
    TypeError
        For a keyword that neither this function nor ``pandas.read_csv`` takes.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1, 2, 3]}).to_csv(os.path.join(d, "a.csv"), index=False)
    >>> sd.read_csv(os.path.join(d, "*.csv")).x.sum().compute()
    np.int64(6)
    >>> sd.read_csv(os.path.join(d, "*.csv"), assume_missing=True).x.dtype
    dtype('float64')
    """
    check_keywords(kwargs)
    if lineterminator is not None:
        kwargs["lineterminator"] = lineterminator
    for bad in ("index_col", "chunksize", "iterator", "nrows", "skipfooter"):
        if kwargs.get(bad) not in (None, False):
            raise ValueError(f"read_csv does not support {bad}= on partitioned data; read, then use set_index/head")
    header_row(kwargs)  # refuses several header rows now
    fs, paths = _expand(urlpath, storage_options)
    size = _parse_blocksize(blocksize)
    with fs.open(paths[0], "rb", compression=_compression_of(paths[0], compression)) as f:
        head = f.read(sample)
        if not head.endswith(b"\n"):
            head += f.readline()
    try:
        sample_frame = pd.read_csv(io.BytesIO(head), **kwargs, **({"nrows": sample_rows} if sample_rows else {}))
    except Exception as exc:
        raise ValueError(f"read_csv: could not parse the first {sample} bytes of {paths[0]!r}: {exc}") from exc
    _check_row_widths(sample_frame, kwargs, paths[0])
    if assume_missing:
        sample_frame, kwargs = _assume_missing(sample_frame, kwargs)
    usecols = kwargs.get("usecols")
    meta = sample_frame.iloc[:0]
    if convert_string_enabled():
        meta = to_arrow_strings(meta)
    meta, path_column = _with_path_column(meta, include_path_column, paths)
    blocks = []
    for path in paths:
        comp = _compression_of(path, compression)
        with fs.open(path, "rb", compression=comp) as f:
            header = read_header_line(f, kwargs)
        total = fs.size(path)
        if comp is not None or size is None or total <= size:
            blocks.append((fs, path, 0, total, header, True, comp))
            continue
        for start in range(0, total, size):
            blocks.append((fs, path, start, min(start + size, total), header, start == 0, None))
    kwargs = dict(kwargs)
    if usecols is not None and not callable(usecols):
        kwargs.pop("usecols")
        kwargs["usecols"] = list(usecols)
    return new_collection(ReadCSV(blocks, kwargs, meta, None, path_column, tuple(paths)))


def read_table(urlpath: Any, blocksize: Any = "64MB", **kwargs: Any) -> Any:
    """Read tab-separated files: :func:`read_csv` with ``sep="\\t"`` (mirrors ``dask.dataframe.read_table``).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}).to_csv(os.path.join(d, "a.tsv"), sep="\\t", index=False)
    >>> sd.read_table(os.path.join(d, "a.tsv")).compute()
       x  y
    0  1  a
    1  2  b
    """
    kwargs.setdefault("sep", "\t")
    return read_csv(urlpath, blocksize, **kwargs)

"""``read_text``: lines of text files, local or on any fsspec filesystem.

Partitions
    Without ``blocksize`` each file is one partition, streamed line by line.
    With ``blocksize`` each file is cut, as Dask's ``read_bytes`` cuts it,
    into ``size // blocksize`` blocks (at least one) of equal length, so a
    block is never shorter than ``blocksize`` (a 544-byte file with
    ``blocksize=200`` gives two blocks of 272 bytes, not 200, 200 and 144);
    empty files give no block, unless every file is empty. A block owns the
    lines whose preceding delimiter starts in it, as in Dask: block
    ``[start, end)`` reads from just after the first delimiter at or after
    ``start`` (from byte 0 for the first block) to just after the first
    delimiter at or after ``end``. Delimiters are found on their bytes, so
    every line lands in exactly one block, whatever the block size. Compressed files
    cannot be cut (their bytes cannot be sought), so ``blocksize`` with a
    compressed file is an error; ``files_per_partition`` groups whole files
    instead.

Lines
    Lines keep their delimiter, as Python's file iteration does. The default
    ``linedelimiter=None`` means universal newlines: ``\\r\\n`` and ``\\r``
    end lines too and read as ``\\n``. ``"\\n"``, ``"\\r"`` and ``"\\r\\n"``
    end lines only there and are kept as they are; any other delimiter is
    split on literally.

Speed
    Local files are read with the builtin ``open`` (its C buffered reader and
    text decoder are about twice as fast as going through fsspec's file
    object); other filesystems through ``fs.open``. Lines are produced lazily,
    so ``take(2)`` reads a few kilobytes of the first file.

Errors raised while reading, or later in the same fused task (a line that
fails ``json.loads``), carry a note naming the partition, the file and the
byte range.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Iterator
from typing import Any

from shoal.bag._core import Bag
from shoal.bag._filesystem import expand_paths, import_fsspec
from shoal.bag._stages import Pipeline, Stage, run_partition
from shoal.bag._transform import parse_bytes
from shoal.graph.task import Key, Task
from shoal.graph.tokenize import tokenize

__all__ = ["FileBlock", "ReadLines", "read_text"]

#: Delimiters Python's text layer handles itself (``newline=`` of ``open``).
_NEWLINE_MODES = {None: None, "\n": "\n", "\r": "\r", "\r\n": "\r\n"}
_SCAN_CHUNK = 1 << 16
_TEXT_CHUNK = 1 << 22


class FileBlock:
    """A byte range of one file: ``end=None`` for the whole file."""

    __slots__ = ("fs", "path", "compression", "start", "end")

    def __init__(self, fs: Any, path: str, compression: str | None, start: int = 0, end: int | None = None) -> None:
        self.fs = fs
        self.path = path
        self.compression = compression
        self.start = start
        self.end = end

    def describe(self) -> str:
        if self.end is None:
            return repr(self.path)
        return f"{self.path!r} (bytes {self.start}-{self.end})"

    def __repr__(self) -> str:
        return f"FileBlock({self.describe()})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FileBlock, (self.fs, self.path, self.compression, self.start, self.end))

    def is_local(self) -> bool:
        return type(self.fs).__name__ == "LocalFileSystem" and self.compression is None

    def open_binary(self) -> Any:
        if self.is_local():
            return open(self.path, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
        fsspec = import_fsspec()
        return fsspec.core.OpenFile(self.fs, self.path, mode="rb", compression=self.compression).open()


class ReadLines(Stage):
    """The lines of one or more file blocks, in order (with their path if ``include_path``)."""

    __slots__ = ("encoding", "errors", "delimiter", "include_path")

    def __init__(self, encoding: str, errors: str, delimiter: str | None, include_path: bool) -> None:
        self.encoding = encoding
        self.errors = errors
        self.delimiter = delimiter
        self.include_path = include_path

    def __call__(self, *blocks: FileBlock) -> Iterator[Any]:
        if len(blocks) == 1:
            return self._block(blocks[0])
        return itertools.chain.from_iterable(map(self._block, blocks))

    def _block(self, block: FileBlock) -> Iterator[Any]:
        lines = _read_lines(block, self.encoding, self.errors, self.delimiter)
        if self.include_path:
            return zip(lines, itertools.repeat(block.path))
        return lines

    def describe(self, *blocks: FileBlock) -> str:
        return ", ".join(block.describe() for block in blocks)


def _read_lines(block: FileBlock, encoding: str, errors: str, delimiter: str | None) -> Iterator[str]:
    if block.end is None and block.is_local() and delimiter in _NEWLINE_MODES:
        # Fastest path: the builtin text file, streaming.
        with open(block.path, encoding=encoding, errors=errors, newline=_NEWLINE_MODES[delimiter]) as f:
            yield from f
        return
    with block.open_binary() as raw:
        if block.end is None:
            stream: Any = raw
        else:
            separator = (delimiter or "\n").encode(encoding)
            # Dask's boundaries: a block ends after the first separator *starting* at or after its end,
            # so a line that starts right at a boundary belongs to the block before it.
            begin = _next_line_start(raw, block.start + len(separator), separator) if block.start else 0
            stop = _next_line_start(raw, block.end + len(separator), separator)
            if begin is None or begin >= (stop if stop is not None else _size(raw)):
                return
            raw.seek(begin)
            stream = io.BufferedReader(_Window(raw, None if stop is None else stop - begin), 1 << 20)
        newline = _NEWLINE_MODES[delimiter] if delimiter in _NEWLINE_MODES else ""
        # Closed explicitly: a text wrapper left to the garbage collector warns (ResourceWarning).
        with io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline=newline) as text:
            if delimiter in _NEWLINE_MODES:
                yield from text
            else:
                yield from _split_on(text, delimiter)  # type: ignore[arg-type]


def _size(raw: Any) -> int:
    position = raw.tell()
    size = raw.seek(0, os.SEEK_END)
    raw.seek(position)
    return int(size)


def _next_line_start(raw: Any, position: int, separator: bytes) -> int | None:
    """The first line start at or after ``position``: right after a separator, or None past the end."""
    if position == 0:
        return 0
    back = len(separator)
    at = max(0, position - back)
    raw.seek(at)
    carry = b""
    while True:
        chunk = raw.read(_SCAN_CHUNK)
        if not chunk:
            return None
        data = carry + chunk
        found = data.find(separator)
        if found >= 0:
            return at - len(carry) + found + back
        carry = data[-(back - 1):] if back > 1 else b""
        at += len(chunk)


class _Window(io.RawIOBase):
    """At most ``remaining`` bytes of a binary file, from its current position (all if None)."""

    def __init__(self, raw: Any, remaining: int | None) -> None:
        self._raw = raw
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer) if self._remaining is None else min(len(buffer), self._remaining)
        if size <= 0:
            return 0
        view = memoryview(buffer)[:size]
        if hasattr(self._raw, "readinto"):
            got = self._raw.readinto(view) or 0
        else:
            data = self._raw.read(size)
            got = len(data)
            view[:got] = data
        if self._remaining is not None:
            self._remaining -= got
        return got


def _split_on(text: io.TextIOBase, delimiter: str) -> Iterator[str]:
    carry = ""
    while True:
        chunk = text.read(_TEXT_CHUNK)
        if not chunk:
            break
        parts = (carry + chunk).split(delimiter)
        carry = parts.pop()
        for part in parts:
            yield part + delimiter
    if carry:
        yield carry


def _is_ascii_compatible(encoding: str) -> bool:
    sample = "\n\r\t;|, "
    return sample.encode(encoding) == sample.encode("ascii")


def _block_starts(size: int, blocksize: int) -> list[int]:
    """Where the blocks of a ``size``-byte file start: ``size // blocksize`` equal blocks, at least one.

    Dask's ``read_bytes`` rule, kept so that the same call gives the same partitions: the spare bytes
    are spread over the blocks instead of making a short last block. An empty file has no block.

    >>> _block_starts(544, 200), _block_starts(1000, 300), _block_starts(100, 200), _block_starts(0, 10)
    ([0, 272], [0, 333, 666], [0], [])
    """
    if size == 0:
        return []
    count = max(1, size // blocksize)
    step = size / count
    # Accumulate the float step (not k * step) to land on the same bytes as Dask's loop.
    starts, place = [0], 0.0
    for _ in range(count - 1):
        place += step
        starts.append(int(place))
    return starts


def read_text(urlpath: str | os.PathLike[str] | list[Any], blocksize: int | str | None = None,
              compression: str | None = "infer", encoding: str = "utf-8", errors: str = "strict",
              linedelimiter: str | None = None, collection: bool = True,
              storage_options: dict[str, Any] | None = None, files_per_partition: int | None = None,
              include_path: bool = False) -> Any:
    """Read lines from text files: a bag with one element per line.

    Parameters
    ----------
    urlpath : str, path or list of them
        Paths or glob patterns (``"data/*.json"``); a protocol prefix such as
        ``s3://`` or ``memory://`` reads through fsspec. A list must use one
        protocol.
    blocksize : int or str, optional
        Cut files into blocks of about this many bytes (``"128MiB"``), one
        partition each: ``size // blocksize`` equal blocks per file, at least
        one, as Dask does; by default each file is one partition.
    compression : str or None
        ``"gzip"``, ``"bz2"``, ``"xz"``, ... or ``"infer"`` (the default) from
        the file name's extension.
    encoding, errors : str
        How to decode bytes, as for ``open``.
    linedelimiter : str, optional
        What ends a line; default: universal newlines (see the module docs).
    collection : bool
        Return a bag (default) or a list of :class:`~shoal.delayed.Delayed`,
        one list of lines per partition.
    storage_options : dict, optional
        Passed to the fsspec filesystem (credentials, endpoints, ...).
    files_per_partition : int, optional
        Put this many whole files in each partition (not with ``blocksize``).
    include_path : bool
        Make each element a ``(line, path)`` tuple.

    Returns
    -------
    Bag, or list of Delayed

    Raises
    ------
    FileNotFoundError
        If a pattern matches no file.
    ValueError
        For ``blocksize`` with compressed files or with ``files_per_partition``.

    Examples
    --------
    >>> import json, pathlib, tempfile, shoal.bag as db
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.json").write_text('{"n": 1}\\n{"n": 2}\\n')
    >>> b = db.read_text(str(folder / "*.json"))
    >>> b.compute()
    ['{"n": 1}\\n', '{"n": 2}\\n']
    >>> b.map(json.loads).pluck("n").sum().compute()
    3
    """
    fsspec = import_fsspec()
    if blocksize is not None and files_per_partition is not None:
        raise ValueError("read_text takes blocksize= or files_per_partition=, not both.")
    if linedelimiter == "":
        raise ValueError("read_text(linedelimiter='') cannot split lines; pass None for universal newlines.")
    fs, fs_token, paths = expand_paths(urlpath, storage_options, "read_text")
    compressions = [fsspec.utils.infer_compression(p) if compression == "infer" else compression for p in paths]

    groups: list[list[FileBlock]]
    if blocksize is None:
        size = files_per_partition or 1
        blocks = [FileBlock(fs, p, c) for p, c in zip(paths, compressions, strict=True)]
        groups = [blocks[i:i + size] for i in range(0, len(blocks), size)]
    else:
        step = parse_bytes(blocksize)
        if step < 1:
            raise ValueError(f"read_text needs blocksize >= 1 byte, got {blocksize!r}.")
        compressed = [p for p, c in zip(paths, compressions, strict=True) if c is not None]
        if compressed:
            raise ValueError(
                f"read_text cannot cut compressed files into blocks, and {compressed[0]!r} is compressed "
                f"({compressions[paths.index(compressed[0])]}). Pass blocksize=None to read one partition "
                f"per file, or decompress the files first."
            )
        if not _is_ascii_compatible(encoding):
            raise ValueError(
                f"read_text can only cut files into blocks for encodings that write newlines as single "
                f"bytes (utf-8, latin-1, ...), not {encoding!r}. Pass blocksize=None."
            )
        groups = []
        for p in paths:
            total = fs.size(p)
            starts = _block_starts(total, step)
            ends = [*starts[1:], total] if starts else []
            groups.extend([FileBlock(fs, p, None, s, e)] for s, e in zip(starts, ends, strict=True))
        if not groups:  # every file is empty: one empty partition (Dask refuses, saying no files were found)
            groups = [[FileBlock(fs, paths[0], None, 0, 0)]]

    token = tokenize(fs_token, paths, blocksize, compression, encoding, errors, linedelimiter,
                     files_per_partition, include_path)
    name = f"read-text-{token}"
    reader = ReadLines(encoding, errors, linedelimiter, include_path)
    pipelines: dict[int, Pipeline] = {}  # by the number of files a partition reads
    layer: dict[Key, Any] = {}
    for i, group in enumerate(groups):
        pipeline = pipelines.setdefault(len(group), Pipeline([reader], [len(group)], "read-text"))
        layer[(name, i)] = Task((name, i), run_partition, pipeline, i, *group)
    bag = Bag._from_layer(layer, name, len(groups))
    return bag if collection else bag.to_delayed(optimize_graph=False)

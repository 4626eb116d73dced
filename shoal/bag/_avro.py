"""``read_avro`` and ``to_avro``: bags of records in Avro object container files, through ``fastavro``.

The file format
    An Avro object container file is a header (the magic ``Obj\\x01``, a map
    of metadata holding the schema and codec, and a random 16-byte *sync
    marker*) followed by data blocks. Each block is ``count`` and ``size``
    (zig-zag varints), ``size`` bytes of (possibly compressed) records, and
    the sync marker again. The marker is what makes the files splittable.

Partitions when reading
    With ``blocksize=None`` each file is one partition, read by
    ``fastavro.reader`` from start to end (and may be compressed as a whole,
    ``compression="gzip"``). With a ``blocksize`` each file is cut into byte
    ranges of that size, one partition each, and a range ``[start, end)``
    owns the data blocks that *start* in it: it decodes from the first block
    start at or after ``start`` to the first block start at or after ``end``,
    after the file's header bytes, so every record lands in exactly one
    partition, in file order. Block starts are found by scanning for the
    sync marker; a candidate is accepted only if the block it opens ends in
    the marker too, so 16 record bytes that happen to equal the marker do
    not cut a block in two. A file smaller than ``blocksize`` is read whole.

Writing
    ``to_avro`` writes one file per partition. Each task writes to a
    temporary name next to the target (``<target>.shoal-tmp-<random>``) and
    renames it only once the file is complete and closed; a failing task
    removes its temporary file, so nothing named like a target is ever half
    written. The schema, codec and metadata are checked when the graph is
    built, by parsing the schema and writing a header to memory.

``fastavro`` is optional: ``import shoal.bag`` works without it, and these
functions raise an ``ImportError`` saying how to install it.
"""

from __future__ import annotations

import importlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from shoal.bag._core import Bag
from shoal.bag._filesystem import expand_paths, import_fsspec, output_paths, staged_file
from shoal.bag._stages import Pipeline, Stage, run_partition
from shoal.bag._text import FileBlock
from shoal.bag._transform import parse_bytes
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["AvroHeader", "ReadAvro", "WriteAvro", "read_avro", "to_avro"]

MAGIC = b"Obj\x01"
SYNC_SIZE = 16
_SCAN_CHUNK = 1 << 16
_READ_BUFFER = 1 << 20
#: Two varints of at most ten bytes each open every data block.
_MAX_BLOCK_PREFIX = 20


def import_fastavro() -> Any:
    """Return the ``fastavro`` module, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("fastavro")
    except ImportError as exc:
        raise ImportError(
            "Reading and writing Avro files with shoal.bag needs fastavro: pip install fastavro "
            "(or pip install 'shoal[avro]')."
        ) from exc


# --------------------------------------------------------------------------- the container format


def _read_varint(data: bytes, at: int) -> tuple[int, int] | None:
    """Decode the zig-zag varint at ``data[at:]``: ``(value, position after it)``, or None if cut short."""
    result = 0
    shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), at
        shift += 7
        if shift > 63:
            return None
    return None


class AvroHeader:
    """The header of an Avro container file: its bytes and its sync marker.

    >>> import io, fastavro
    >>> buffer = io.BytesIO()
    >>> fastavro.writer(buffer, {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}, [{"a": 1}])
    >>> header = AvroHeader.read(buffer, "memory")
    >>> header.data.startswith(b"Obj\\x01"), len(header.sync)
    (True, 16)
    """

    __slots__ = ("data", "sync")

    def __init__(self, data: bytes, sync: bytes) -> None:
        #: The header's bytes, sync marker included: a prefix that makes any run of whole blocks a valid file.
        self.data = data
        #: The 16 bytes that end the header and every data block.
        self.sync = sync

    @property
    def size(self) -> int:
        return len(self.data)

    @classmethod
    def read(cls, raw: Any, path: str) -> AvroHeader:
        """Parse the header at the start of the binary file ``raw`` (``path`` names it in errors)."""
        raw.seek(0)
        data = b""
        size = 4096
        while True:
            data = raw.read(size)
            end = cls._end(data, path, complete=len(data) < size)
            if end is not None:
                return cls(data[:end], data[end - SYNC_SIZE:end])
            size *= 4
            raw.seek(0)

    @staticmethod
    def _end(data: bytes, path: str, complete: bool) -> int | None:
        """Where the header in ``data`` ends, or None if ``data`` stops before the header does."""
        if not data.startswith(MAGIC):
            if len(data) >= len(MAGIC) or complete:
                raise ValueError(
                    f"{path!r} is not an Avro object container file: it starts with {data[:4]!r}, not {MAGIC!r}. "
                    f"Check the path or glob pattern passed to read_avro."
                )
            return None
        at = len(MAGIC)
        while True:
            decoded = _read_varint(data, at)
            if decoded is None:
                break
            count, at = decoded
            if count == 0:
                if at + SYNC_SIZE <= len(data):
                    return at + SYNC_SIZE
                break
            if count < 0:  # a negative count is followed by the block's size in bytes: skip it whole
                decoded = _read_varint(data, at)
                if decoded is None:
                    break
                size, at = decoded
                at += size
                continue
            for _ in range(2 * count):  # key and value, each a length and bytes
                decoded = _read_varint(data, at)
                if decoded is None:
                    break
                length, at = decoded
                at += length
            else:
                if at <= len(data):
                    continue
            break
        if complete:
            raise ValueError(f"{path!r} ends inside its Avro header: the file is truncated or not an Avro file.")
        return None


def _is_block_start(raw: Any, position: int, sync: bytes, file_size: int) -> bool:
    """Whether a data block (or the end of the file) starts at ``position``: its size leads to a sync marker."""
    if position == file_size:
        return True
    raw.seek(position)
    prefix = raw.read(_MAX_BLOCK_PREFIX)
    decoded = _read_varint(prefix, 0)
    if decoded is None or decoded[0] < 0:
        return False
    decoded = _read_varint(prefix, decoded[1])
    if decoded is None or decoded[0] < 0:
        return False
    size, after = decoded
    marker_at = position + after + size
    if marker_at + SYNC_SIZE > file_size:
        return False
    raw.seek(marker_at)
    return bool(raw.read(SYNC_SIZE) == sync)


def first_block_start(raw: Any, position: int, header: AvroHeader, file_size: int) -> int:
    """The first data block start at or after ``position`` (``file_size`` if none): right after a sync marker."""
    if position <= header.size:
        return header.size
    if position >= file_size:
        return file_size
    # A block starting at or after ``position`` follows a marker starting at or after position - SYNC_SIZE.
    at = position - SYNC_SIZE
    while at < file_size:
        raw.seek(at)
        data = raw.read(_SCAN_CHUNK + SYNC_SIZE - 1)
        if len(data) < SYNC_SIZE:
            break
        found = data.find(header.sync)
        while found >= 0:
            candidate = at + found + SYNC_SIZE
            if _is_block_start(raw, candidate, header.sync, file_size):
                return candidate
            found = data.find(header.sync, found + 1)
        at += len(data) - SYNC_SIZE + 1
    return file_size


class _Prefixed(io.RawIOBase):
    """``prefix`` then ``length`` bytes of ``raw`` from its current position: a header glued to whole blocks."""

    def __init__(self, prefix: bytes, raw: Any, length: int) -> None:
        self._prefix = memoryview(prefix)
        self._raw = raw
        self._remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._prefix:
            got = min(len(view), len(self._prefix))
            view[:got] = self._prefix[:got]
            self._prefix = self._prefix[got:]
            return got
        size = min(len(view), self._remaining)
        if size <= 0:
            return 0
        data = self._raw.read(size)
        view[:len(data)] = data
        self._remaining -= len(data)
        return len(data)


# --------------------------------------------------------------------------- reading


def _open(block: FileBlock) -> Any:
    if block.is_local():
        return open(block.path, "rb", buffering=_READ_BUFFER)  # noqa: SIM115 - the caller closes it
    fsspec = import_fsspec()
    return fsspec.core.OpenFile(block.fs, block.path, mode="rb", compression=block.compression).open()


def _read_records(block: FileBlock) -> Iterator[Any]:
    fastavro = import_fastavro()
    with _open(block) as f:
        if block.end is None:
            yield from fastavro.reader(f)
            return
        file_size = f.seek(0, os.SEEK_END)
        header = AvroHeader.read(f, block.path)
        begin = first_block_start(f, block.start, header, file_size)
        stop = first_block_start(f, block.end, header, file_size)
        if begin >= stop:
            return
        f.seek(begin)
        stream = io.BufferedReader(_Prefixed(header.data, f, stop - begin), _READ_BUFFER)
        yield from fastavro.reader(stream)


class ReadAvro(Stage):
    """The records of one Avro file, or of the data blocks that start in a byte range of it."""

    __slots__ = ()

    def __call__(self, block: FileBlock) -> Iterator[Any]:
        return _read_records(block)

    def describe(self, block: FileBlock) -> str:
        return block.describe()


def read_avro(urlpath: str | os.PathLike[str] | list[Any], blocksize: int | str | None = 100000000,
              storage_options: dict[str, Any] | None = None, compression: str | None = None) -> Bag:
    """Read Avro object container files into a bag of records (dicts, for record schemas).

    Mirrors ``dask.bag.read_avro``; records are decoded by ``fastavro``, so
    any schema it reads works, nested ones included.

    Parameters
    ----------
    urlpath : str, path or list of them
        Paths or glob patterns (``"data/*.avro"``); a protocol prefix such as
        ``s3://`` or ``memory://`` reads through fsspec.
    blocksize : int, str or None
        Cut files into byte ranges of this size (``"64MiB"``), one partition
        each, on the files' block boundaries; None reads each file as one
        partition. Files smaller than ``blocksize`` are one partition anyway.
    storage_options : dict, optional
        Passed to the fsspec filesystem (credentials, endpoints, ...).
    compression : str or None
        Compression of the whole files (``"gzip"``, ``"bz2"``, ..., or
        ``"infer"`` from the extension); only with ``blocksize=None``. Avro's
        own codecs (``deflate``, ``snappy``, ...) need nothing here.

    Returns
    -------
    Bag

    Raises
    ------
    FileNotFoundError
        If a pattern matches no file.
    ValueError
        For ``compression`` with a ``blocksize``; at compute time, for a file
        that is not Avro (naming the file).
    ImportError
        If fastavro is not installed.

    Examples
    --------
    >>> import os, tempfile, fastavro, shoal.bag as db
    >>> folder = tempfile.mkdtemp()
    >>> schema = {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}]}
    >>> for i in range(2):
    ...     with open(os.path.join(folder, f"{i}.avro"), "wb") as f:
    ...         fastavro.writer(f, schema, [{"x": 10 * i}, {"x": 10 * i + 1}])
    >>> b = db.read_avro(os.path.join(folder, "*.avro"))
    >>> b.npartitions
    2
    >>> b.pluck("x").compute()
    [0, 1, 10, 11]
    """
    import_fastavro()
    fsspec = import_fsspec()
    fs, fs_token, paths = expand_paths(urlpath, storage_options, "read_avro")
    compressions = [fsspec.utils.infer_compression(p) if compression == "infer" else compression for p in paths]
    blocks: list[FileBlock] = []
    if blocksize is None:
        blocks = [FileBlock(fs, p, c) for p, c in zip(paths, compressions, strict=True)]
    else:
        step = parse_bytes(blocksize)
        if step < 1:
            raise ValueError(f"read_avro needs blocksize >= 1 byte, got {blocksize!r}; or None for one per file.")
        compressed = [(p, c) for p, c in zip(paths, compressions, strict=True) if c is not None]
        if compressed:
            raise ValueError(
                f"read_avro cannot cut compressed files into blocks, and {compressed[0][0]!r} is compressed "
                f"({compressed[0][1]}). Pass blocksize=None to read one partition per file."
            )
        for p in paths:
            total = fs.size(p)
            if total <= step:
                blocks.append(FileBlock(fs, p, None))
            else:
                blocks.extend(FileBlock(fs, p, None, s, min(s + step, total)) for s in range(0, total, step))

    name = f"read-avro-{tokenize(fs_token, paths, blocksize, compressions)}"
    pipeline = Pipeline([ReadAvro()], [1], "read-avro")
    layer: dict[Key, Any] = {
        (name, i): Task((name, i), run_partition, pipeline, i, block) for i, block in enumerate(blocks)
    }
    return Bag._from_layer(layer, name, len(blocks))


# --------------------------------------------------------------------------- writing


def _check_schema(fastavro: Any, schema: Any) -> Any:
    if not isinstance(schema, dict | list | str):
        raise TypeError(
            f"to_avro needs an Avro schema as a dict (or a list or type name), got {type(schema).__name__}: "
            f"{schema!r:.80}. For records: {{'name': 'Rec', 'type': 'record', 'fields': [{{'name': 'a', "
            f"'type': 'int'}}]}}."
        )
    try:
        return fastavro.parse_schema(schema)
    except Exception as exc:  # noqa: BLE001 - fastavro raises several unrelated types for bad schemas
        raise ValueError(
            f"to_avro could not use the schema {schema!r:.200}: {type(exc).__name__}: {exc}. A record schema needs "
            f"'name', 'type': 'record' and 'fields', a list of {{'name': ..., 'type': ...}} with Avro types "
            f"(null, boolean, int, long, float, double, bytes, string, or complex/named types)."
        ) from exc


class _Counted:
    """The records of a partition, remembering the last one handed out (to name it if writing it fails)."""

    __slots__ = ("records", "index", "last")

    def __init__(self, records: Iterable[Any]) -> None:
        self.records = iter(records)
        self.index = -1
        self.last: Any = None

    def __iter__(self) -> Iterator[Any]:
        for record in self.records:
            self.last = record
            self.index += 1
            yield record


class WriteAvro(Stage):
    """Write a partition's records to the Avro file ``path``; returns ``[path]``."""

    __slots__ = ("fs", "schema", "codec", "sync_interval", "metadata")

    def __init__(self, fs: Any, schema: Any, codec: str, sync_interval: int, metadata: dict[str, str] | None) -> None:
        self.fs = fs
        self.schema = schema
        self.codec = codec
        self.sync_interval = sync_interval
        self.metadata = metadata

    def __call__(self, part: Iterable[Any], path: str) -> list[str]:
        fastavro = import_fastavro()
        records = _Counted(part)
        with staged_file(self.fs, path) as f:
            try:
                # fastavro adds its own keys to the metadata dict it is given: hand it a copy.
                fastavro.writer(f, self.schema, records, codec=self.codec, sync_interval=self.sync_interval,
                                metadata=dict(self.metadata or {}))
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                if records.index >= 0:
                    exc.add_note(
                        f"shoal.bag.to_avro: record {records.index} of the partition, {records.last!r:.200}, "
                        f"could not be written with the schema; fix the record or the schema."
                    )
                raise
        return [path]


def to_avro(b: Bag, filename: str | list[str], schema: Any, name_function: Callable[[int], str] | None = None,
            storage_options: dict[str, Any] | None = None, codec: str = "null", sync_interval: int = 16000,
            metadata: dict[str, str] | None = None, compute: bool = True, **kwargs: Any) -> Any:
    """Write a bag of records to Avro files, one file per partition.

    Mirrors ``dask.bag.Bag.to_avro``; differences: a bad schema raises
    ``TypeError``/``ValueError`` (Dask: ``AssertionError``), and any schema
    fastavro accepts is allowed, not only records.

    Parameters
    ----------
    b : Bag
    filename : str or list of str
        A pattern with one ``*`` (replaced by ``name_function(i)``, default
        ``str(i)``), a directory (files ``0.part``, ``1.part``, ..., as in
        Dask), or one path per partition.
    schema : dict
        The Avro schema, e.g. ``{"name": "Rec", "type": "record", "fields":
        [{"name": "a", "type": "int"}]}``; each record must match it.
    name_function : callable, optional
        Partition index to file name part; must keep the order of indices.
    storage_options : dict, optional
        Passed to the fsspec filesystem.
    codec : str
        Avro block compression: ``"null"`` (default), ``"deflate"``,
        ``"bzip2"``, ``"xz"``, ``"snappy"``, ``"zstandard"`` or ``"lz4"``
        (the last three through the ``avro`` extra's codec libraries).
    sync_interval : int
        Approximate bytes of records per data block.
    metadata : dict of str to str, optional
        Extra header metadata.
    compute : bool
        Write now and return the paths (default), or return one
        :class:`~shoal.delayed.Delayed` per file that writes it.
    **kwargs
        Passed to ``compute`` (``scheduler=``, ...).

    Returns
    -------
    list of str, or list of Delayed

    Raises
    ------
    TypeError, ValueError
        For a schema fastavro cannot parse, an unknown codec, non-string
        metadata, or a number of paths unlike the number of partitions (at
        build time); a record that does not match the schema fails its
        partition's task, leaving no file at the target path.

    Examples
    --------
    >>> import os, tempfile, shoal.bag as db
    >>> folder = tempfile.mkdtemp()
    >>> schema = {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}]}
    >>> b = db.from_sequence([{"x": 1}, {"x": 2}, {"x": 3}], npartitions=2)
    >>> paths = b.to_avro(os.path.join(folder, "part-*.avro"), schema, codec="deflate")
    >>> [os.path.basename(p) for p in paths]
    ['part-0.avro', 'part-1.avro']
    >>> db.read_avro(os.path.join(folder, "*.avro")).compute()
    [{'x': 1}, {'x': 2}, {'x': 3}]
    """
    fastavro = import_fastavro()
    parsed = _check_schema(fastavro, schema)
    if type(sync_interval) is not int or sync_interval < 1:
        raise ValueError(f"to_avro needs sync_interval, a number of bytes per block, >= 1; got {sync_interval!r}.")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"to_avro needs metadata as a dict of str to str, got {type(metadata).__name__}.")
        bad = {k: v for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))}
        if bad:
            raise TypeError(
                f"to_avro writes header metadata as strings, but these entries are not str to str: {bad!r:.200}. "
                f"Convert them, e.g. {{k: str(v) for k, v in metadata.items()}}."
            )
    try:  # a header written to memory checks the codec and metadata before any task runs
        fastavro.writer(io.BytesIO(), parsed, [], codec=codec, sync_interval=sync_interval,
                        metadata=dict(metadata or {}))
    except ValueError as exc:
        raise ValueError(
            f"to_avro cannot write with codec={codec!r}: {exc}. Use 'null', 'deflate', 'bzip2', 'xz', "
            f"'snappy', 'zstandard' or 'lz4' (the last three need `pip install shoal[avro]`)."
        ) from exc

    fs, paths = output_paths(filename, b.npartitions, name_function, storage_options, "to_avro")
    name = f"to-avro-{tokenize(b.name, paths, parsed, codec, sync_interval, metadata)}"
    pipeline = Pipeline([WriteAvro(fs, parsed, codec, sync_interval, metadata)], [2], "to-avro")
    layer: dict[Key, Any] = {
        (name, i): Task((name, i), run_partition, pipeline, i, Ref((b.name, i)), p) for i, p in enumerate(paths)
    }
    written = b._new_bag(layer, name, b.npartitions)
    if compute:
        return written.compute(**kwargs)
    return written.to_delayed()

"""``read_orc`` and ``to_orc`` with ``pyarrow.orc``.

Reading
    Paths (a file, a directory, a glob or a list; local or fsspec) are
    expanded at build time and each file's footer is read once for its
    schema and stripe count. ``split_stripes=n`` makes every ``n`` stripes of
    a file one partition (Dask's default, ``1``: a partition per stripe);
    ``split_stripes=False`` keeps one partition per file. With
    ``aggregate_files=True`` the stripes of all files are taken as one
    sequence, in file order, and every ``n`` of them make a partition, which
    may then span the end of one file and the start of the next (as in
    Dask). A partition is a tuple of pieces ``(path, first stripe, stop
    stripe)``, read and concatenated in order. Projection pushdown
    narrows the columns a partition reads. Divisions are unknown, as in Dask.

Writing
    One file ``part.{i}.orc`` per partition under a directory, written into a
    hidden staging directory that is moved into place only once every
    partition succeeded, so a failed write leaves no set of files that looks
    finished (the same protocol as ``to_parquet``, whose helpers it reuses).
"""

from __future__ import annotations

import functools
import posixpath
from typing import Any

import pandas as pd

from shoal.base import compute as compute_collections
from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr
from shoal.dataframe._io.columns import select_meta
from shoal.dataframe._io.parquet import _natural_key
from shoal.dataframe._io.parquet_write import _publish, _remove, _staging_name
from shoal.graph.task import Key, Task
from shoal.graph.tokenize import tokenize

__all__ = ["read_orc", "to_orc"]


class ReadORC(Blockwise):
    """Partitions of ORC files, each a tuple of pieces ``(path, first stripe, stop stripe)``; ``columns_`` is
    the projection."""

    _parameters = ("fs", "pieces", "meta", "columns_", "index")
    _defaults = {"columns_": None, "index": None}
    _label = "read-orc"

    @functools.cached_property
    def _name(self) -> str:
        # The filesystem object hashes by identity; the paths and stripes name the data.
        return f"{self._label}-{tokenize(list(self.pieces), self.columns_, self.index, list(self.meta.columns))}"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta if self.columns_ is None else self.meta[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * (len(self.pieces) + 1)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _read_pieces, self.fs, self.pieces[i], self.columns_, self.index, self._meta)

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        wanted = set(columns)
        keep = [c for c in (self.meta.columns if self.columns_ is None else self.columns_) if c in wanted]
        return ReadORC(self.fs, self.pieces, self.meta, keep, self.index)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        return ReadORC(self.fs, [self.pieces[i] for i in indices], self.meta, self.columns_, self.index)


def _read_table(fs: Any, piece: tuple[str, int, int], wanted: list[Any] | None) -> Any:
    import pyarrow as pa
    import pyarrow.orc as orc

    path, first, stop = piece
    with fs.open(path, "rb") as f:
        reader = orc.ORCFile(f)
        if first == 0 and stop >= reader.nstripes:
            return reader.read(columns=wanted)
        batches = [reader.read_stripe(s, columns=wanted) for s in range(first, stop)]
        table = pa.Table.from_batches(batches) if batches else reader.schema.empty_table()
        return table if wanted is None else table.select(wanted)


def _read_pieces(fs: Any, pieces: tuple[tuple[str, int, int], ...], columns: list[Any] | None, index: str | None,
                 meta: pd.DataFrame) -> pd.DataFrame:
    import pyarrow as pa

    wanted = None if columns is None else [*columns, *([index] if index is not None else [])]
    tables = [_read_table(fs, piece, wanted) for piece in pieces]
    # Build time checked that the files' schemas are equal, so their tables concatenate.
    part = (tables[0] if len(tables) == 1 else pa.concat_tables(tables)).to_pandas()
    if index is not None:
        part = part.set_index(index)
    if len(part) == 0:
        return meta.copy()
    return part if columns is None else part[columns]


def _expand_orc(path: Any, storage_options: dict[str, Any] | None) -> tuple[Any, list[str]]:
    import fsspec

    paths = [str(p) for p in (path if isinstance(path, list | tuple) else [path])]
    fs, _, _ = fsspec.get_fs_token_paths(paths[0], storage_options=storage_options or {})
    found: list[str] = []
    for p in paths:
        if any(ch in p for ch in "*?["):
            matches = sorted(fs.glob(p), key=_natural_key)
        elif fs.isdir(p):
            # Hidden and underscore names are staging directories and metadata, as for Parquet.
            matches = sorted((m for m in fs.find(p) if not posixpath.basename(m).startswith((".", "_"))),
                             key=_natural_key)
        elif fs.exists(p):
            matches = [p]
        else:
            raise FileNotFoundError(f"read_orc: {p!r} does not exist")
        if not matches:
            raise FileNotFoundError(f"read_orc: no ORC files match {p!r}")
        found.extend(matches)
    return fs, found


def read_orc(path: Any, engine: str = "pyarrow", columns: Any = None, index: str | None = None,
             split_stripes: int | bool = 1, aggregate_files: Any = None,
             storage_options: dict[str, Any] | None = None) -> Any:
    """Read ORC files into a DataFrame; mirrors ``dask.dataframe.read_orc``.

    Parameters
    ----------
    path : str or list
        A file, a directory of files, a glob or a list; local or any fsspec URL.
    engine : str
        ``"pyarrow"`` (the only engine).
    columns : list or str, optional
        Columns to read (the index column is read as well); a name gives a Series.
    index : str, optional
        Column to use as the index.
    split_stripes : int or bool
        Stripes per partition (default 1); ``False`` reads one file per partition.
    aggregate_files : bool, optional
        Let a partition take stripes of several files: the stripes of all files, in order, are cut into
        partitions of ``split_stripes`` stripes. Has no effect unless ``split_stripes`` is more than 1.

    Notes
    -----
    Divisions are unknown (as in Dask); call ``set_index`` to sort.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = sd.from_pandas(pd.DataFrame({"x": range(6)}), npartitions=2).to_orc(d, write_index=False)
    >>> sd.read_orc(d).x.sum().compute()
    np.int64(15)
    """
    import pyarrow.orc as orc

    if engine not in ("pyarrow", "auto"):
        raise ValueError(f"read_orc supports engine='pyarrow' only, got {engine!r}")
    if aggregate_files not in (None, False, True):
        raise ValueError(f"read_orc: aggregate_files must be True or False, got {aggregate_files!r}")
    if split_stripes is not False and (isinstance(split_stripes, bool) or int(split_stripes) < 1):
        raise ValueError(f"read_orc: split_stripes must be a positive number of stripes or False, "
                         f"got {split_stripes!r}")
    fs, paths = _expand_orc(path, storage_options)
    schema = None
    stripe_counts: list[tuple[str, int]] = []
    for p in paths:
        with fs.open(p, "rb") as f:
            reader = orc.ORCFile(f)
            stripes, file_schema = reader.nstripes, reader.schema
        if schema is None:
            schema = file_schema
        elif not file_schema.equals(schema):
            raise ValueError(f"read_orc: {p!r} has the schema {file_schema}, which differs from the first file's "
                             f"{schema}. Every file must have the same columns and types; read them separately.")
        stripe_counts.append((p, stripes))
    assert schema is not None
    if aggregate_files and split_stripes is not False and int(split_stripes) > 1:
        pieces = _aggregate(stripe_counts, int(split_stripes))
    else:
        pieces = []
        for p, n in stripe_counts:
            if split_stripes is False:
                pieces.append(((p, 0, n),))  # a partition per file, even one without stripes
            else:
                # As in Dask, a file without stripes gives no partition.
                pieces.extend(((p, s, min(s + int(split_stripes), n)),) for s in range(0, n, int(split_stripes)))
        pieces = pieces or [((paths[0], 0, 0),)]
    if index is not None and isinstance(columns, list | tuple) and index in columns:
        # As Dask: the index column may be listed among the columns; it becomes the index, not a column.
        columns = [c for c in columns if c != index]
    meta, cols = select_meta(schema, index, columns, "read_orc")
    out = new_collection(ReadORC(fs, pieces, meta, cols, index))
    return out[columns] if isinstance(columns, str) else out


def _aggregate(stripe_counts: list[tuple[str, int]], per_partition: int
               ) -> list[tuple[tuple[str, int, int], ...]]:
    """Cut the stripes of all files, taken in order as one sequence, into partitions of ``per_partition``.

    Examples
    --------
    >>> _aggregate([("a", 3), ("b", 0), ("c", 2)], 2)
    [(('a', 0, 2),), (('a', 2, 3), ('c', 0, 1)), (('c', 1, 2),)]
    """
    partitions: list[tuple[tuple[str, int, int], ...]] = []
    current: list[tuple[str, int, int]] = []
    taken = 0
    for path, n in stripe_counts:
        s = 0
        while s < n:
            stop = min(s + per_partition - taken, n)
            current.append((path, s, stop))
            taken += stop - s
            s = stop
            if taken == per_partition:
                partitions.append(tuple(current))
                current, taken = [], 0
    if current:
        partitions.append(tuple(current))
    # Files without stripes still give the frame its one (empty) partition.
    return partitions or [((stripe_counts[0][0], 0, 0),)]


def _write_orc(part: pd.DataFrame, staging: str, i: int, fs: Any, write_index: bool) -> str:
    import pyarrow as pa
    import pyarrow.orc as orc

    # As pyarrow (and so Dask) writes it: the index levels after the columns, named after the index or
    # ``__index_level_{k}__``; the caller passes write_index=False for a RangeIndex, which only numbers rows.
    table = pa.Table.from_pandas(part, preserve_index=write_index)
    fs.makedirs(staging, exist_ok=True)
    path = f"{staging}/part.{i}.orc"
    with fs.open(path, "wb") as f:
        orc.write_table(table, f)
    return path


def to_orc(df: Any, path: Any, engine: str = "pyarrow", write_index: bool = True,
           storage_options: dict[str, Any] | None = None, compute: bool = True,
           compute_kwargs: dict[str, Any] | None = None) -> Any:
    """Write one ORC file ``part.{i}.orc`` per partition under the directory ``path``.

    Mirrors ``dask.dataframe.to_orc``. ORC keeps no pandas metadata, so with
    ``write_index=True`` an index of labels becomes an ordinary column after the
    others (named after the index, or ``__index_level_0__``), as pyarrow and Dask
    write it; read it back with ``read_orc(path, index=...)``. An unnamed
    ``RangeIndex`` only numbers the rows and is not written, as in Dask (which
    also drops a *named* one; shoal keeps that, as a named index is data).
    Returns the written paths, or the ``Delayed`` writes with ``compute=False``.

    The files are written into a hidden staging directory and moved under
    ``path`` only once all partitions succeeded.

    Examples
    --------
    >>> import os, pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = os.path.join(tempfile.mkdtemp(), "out")
    >>> df = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=pd.Index([5, 6, 7, 8], name="i")), npartitions=2)
    >>> [os.path.basename(p) for p in df.to_orc(d)]
    ['part.0.orc', 'part.1.orc']
    >>> sd.read_orc(d, index="i").compute().x.to_dict()
    {5: 0, 6: 1, 7: 2, 8: 3}
    """
    import fsspec

    from shoal.delayed import delayed

    if engine not in ("pyarrow", "auto"):
        raise ValueError(f"to_orc supports engine='pyarrow' only, got {engine!r}")
    if not isinstance(df._meta, pd.DataFrame):
        raise TypeError("to_orc writes DataFrames; call series.to_frame() first")
    fs, _, _ = fsspec.get_fs_token_paths(str(path), storage_options=storage_options or {})
    root = str(path).rstrip("/") or str(path)
    if fs.isfile(root):
        raise NotADirectoryError(f"to_orc: {root!r} is a file; to_orc writes a directory of files. "
                                 f"Pass a directory path, or remove the file.")
    if isinstance(df._meta.index, pd.RangeIndex) and df._meta.index.name is None:
        write_index = False  # row numbers, which Dask (through pyarrow) does not write either
    if write_index:
        names = [n if n is not None else f"__index_level_{k}__" for k, n in enumerate(df._meta.index.names)]
        clash = [n for n in names if n in df._meta.columns]
        if clash:
            raise ValueError(f"to_orc: the index would be written as column(s) {clash}, which the frame already "
                             f"has. Pass write_index=False, or rename the index.")
    staging = _staging_name(root)
    parts = df.to_delayed()
    writes = [delayed(_write_orc, pure=False)(p, staging, i, fs, write_index) for i, p in enumerate(parts)]
    paths = [f"{root}/part.{i}.orc" for i in range(len(parts))]
    published = delayed(_publish, pure=False)(writes, staging, root, fs, paths)
    if not compute:
        return [published[i] for i in range(len(paths))]
    try:
        (result,) = compute_collections(published, **(compute_kwargs or {}))
    except BaseException:
        _remove(fs, staging)
        raise
    return list(result)

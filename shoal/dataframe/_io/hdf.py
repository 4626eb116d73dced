"""``read_hdf`` and ``to_hdf``: pandas' HDF5 stores (PyTables), local files only.

Reading
    ``pattern`` (a glob or a list of files) and ``key`` (a pattern such as
    ``"/data*"``) are matched at build time. Every matched key must hold a
    table-format store (``format="table"``), whose rows can be read by
    position: each is cut into partitions of ``chunksize`` rows. Fixed-format
    stores can't be read in parts, and are refused as Dask refuses them. With
    ``sorted_index=True`` the first index value of every partition is read at
    build time and the divisions are known.

Writing
    ``*`` in the path writes one file per partition; ``*`` in the key writes
    one key per partition into one file; otherwise every partition is appended
    to one key. HDF5 files are written into a temporary copy (of the existing
    file, for ``mode="a"``/``"r+"``) that replaces the file only once every
    partition is in, so a failed write leaves the file as it was. Partitions
    of one file are written one after another; the HDF5 library is not
    thread-safe, so reads and writes in one process take a lock (``lock=``).
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import os
import shutil
import threading
import uuid
from typing import Any

import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr
from shoal.graph.task import Key, Task

__all__ = ["read_hdf", "to_hdf"]

#: Serializes HDF5 calls of this process: the HDF5 library is not thread-safe.
_HDF5_LOCK = threading.RLock()


def _check_tables() -> None:
    try:
        import tables  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("read_hdf/to_hdf need PyTables: pip install 'tables>=3.9' (or shoal[hdf])") from exc


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _lock_for(lock: Any) -> Any:
    if lock is False:
        return _NoLock()
    if lock is None or lock is True:
        return _HDF5_LOCK
    return lock


class ReadHDF(Blockwise):
    """Row ranges ``(path, key, start, stop)`` of table-format HDF5 stores."""

    _parameters = ("pieces", "meta", "columns_", "divisions_", "lock", "mode")
    _label = "read-hdf"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta if self.columns_ is None else self.meta[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, _read_piece, self.pieces[i], self.columns_, self.lock, self.mode, self._meta)

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        if not isinstance(self.meta, pd.DataFrame):
            return None
        wanted = set(columns)
        keep = [c for c in (self.meta.columns if self.columns_ is None else self.columns_) if c in wanted]
        return ReadHDF(self.pieces, self.meta, keep, self.divisions_, self.lock, self.mode)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        if any(b != a + 1 for a, b in zip(indices, indices[1:], strict=False)):
            return None
        if self.divisions_[0] is None:
            divisions: tuple[Any, ...] = (None,) * (len(indices) + 1)
        else:
            divisions = tuple(self.divisions_[indices[0]:indices[-1] + 2])
        return ReadHDF([self.pieces[i] for i in indices], self.meta, self.columns_, divisions, self.lock, self.mode)


def _read_piece(piece: tuple[str, str, int, int], columns: list[Any] | None, lock: Any, mode: str, meta: Any) -> Any:
    path, key, start, stop = piece
    if start >= stop:
        return meta.copy()
    with _lock_for(lock):
        part = pd.read_hdf(path, key, mode=mode, start=start, stop=stop, columns=columns)
    if len(part) == 0:
        return meta.copy()
    return part if columns is None else part[columns]


def _expand_paths(pattern: Any) -> list[str]:
    patterns = [os.fspath(p) for p in (pattern if isinstance(pattern, list | tuple) else [pattern])]
    paths: list[str] = []
    for p in patterns:
        if not isinstance(p, str):
            raise TypeError(f"read_hdf: pattern must be a path, a glob or a list of paths, got {type(p).__name__}")
        matches = sorted(glob.glob(p)) if any(ch in p for ch in "*?[") else ([p] if os.path.exists(p) else [])
        if not matches:
            raise FileNotFoundError(f"read_hdf: no files match {p!r}")
        paths.extend(matches)
    return paths


_FIXED_FORMAT = ("read_hdf: {path!r} key {key!r} is stored in pandas' fixed format, which can only be read whole. "
                 "Write it with format='table' (df.to_hdf(path, key=key, format='table')) so it can be read in "
                 "parts, or read it with pandas.read_hdf and shoal.dataframe.from_pandas.")


def read_hdf(pattern: Any, key: str, start: int = 0, stop: int | None = None, columns: Any = None,
             chunksize: int = 1_000_000, sorted_index: bool = False, lock: bool = True, mode: str = "r") -> Any:
    """Read pandas HDF5 stores (one or many files and keys) into a DataFrame or Series.

    Mirrors ``dask.dataframe.read_hdf``.

    Parameters
    ----------
    pattern : str, path or list
        A file, a glob (``"data/*.h5"``) or a list of files.
    key : str
        The key in each file; may be a pattern (``"/data*"``).
    start, stop : int
        Rows to read (one file and one key only).
    columns : list, optional
        Columns to read.
    chunksize : int
        Rows per partition.
    sorted_index : bool
        The index is sorted across files and keys: read the partition boundaries to know the divisions.
    lock : bool
        Serialize HDF5 calls of this process (the HDF5 library is not thread-safe).
    mode : {"r", "r+", "a"}
        Mode to open the files with.

    Examples
    --------
    >>> import os, tempfile, pandas as pd, shoal.dataframe as sd
    >>> path = os.path.join(tempfile.mkdtemp(), "doc.h5")
    >>> pd.DataFrame({"x": range(5)}).to_hdf(path, key="data", format="table")
    >>> df = sd.read_hdf(path, "/data", chunksize=2, sorted_index=True)
    >>> df.npartitions, df.divisions, int(df.x.sum().compute())
    (3, (0, 2, 4, 4), 10)
    """
    _check_tables()
    if mode not in ("r", "r+", "a"):
        raise ValueError(f"read_hdf: mode must be 'r', 'r+' or 'a', got {mode!r}")
    if not isinstance(chunksize, int) or chunksize < 1:
        raise ValueError(f"read_hdf: chunksize must be a positive number of rows, got {chunksize!r}")
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"read_hdf: need 0 <= start <= stop, got start={start}, stop={stop}")
    key = key if key.startswith("/") else f"/{key}"
    paths = _expand_paths(pattern)
    targets: list[tuple[str, str, int]] = []
    with _HDF5_LOCK:
        for path in paths:
            with pd.HDFStore(path, mode="r") as store:
                keys = [k for k in store.keys() if fnmatch.fnmatchcase(k, key)]
                if not keys:
                    raise KeyError(f"read_hdf: no key of {path!r} matches {key!r}; the file holds {store.keys()}.")
                for k in keys:
                    storer = store.get_storer(k)
                    if not storer.is_table:
                        raise TypeError(_FIXED_FORMAT.format(path=path, key=k))
                    targets.append((path, k, int(storer.nrows)))
        if (start != 0 or stop is not None) and len(targets) > 1:
            raise NotImplementedError(f"read_hdf: start= and stop= need a single file and key, but {pattern!r} and "
                                      f"{key!r} match {len(targets)} stores. Read them, then use head/loc/partitions.")
        cols = None if columns is None else ([columns] if isinstance(columns, str) else list(columns))
        path0, key0, _ = targets[0]
        try:
            # One row, not none: pandas gives an empty read object columns where the data holds strings.
            meta = pd.read_hdf(path0, key0, mode="r", stop=1).iloc[:0]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"read_hdf: could not read {path0!r} key {key0!r}: {exc}") from exc
        if cols is not None:
            if not isinstance(meta, pd.DataFrame):
                raise ValueError(f"read_hdf: columns= selects DataFrame columns, but {key0!r} holds a Series")
            missing = [c for c in cols if c not in meta.columns]
            if missing:
                raise KeyError(f"read_hdf: column(s) {missing} not found. Available columns: {list(meta.columns)}")
        pieces: list[tuple[str, str, int, int]] = []
        for path, k, nrows in targets:
            end = nrows if stop is None else min(stop, nrows)
            pieces.extend((path, k, s, min(s + chunksize, end)) for s in range(start, end, chunksize))
        if not pieces:
            pieces = [(path0, key0, 0, 0)]
        divisions: tuple[Any, ...] = (None,) * (len(pieces) + 1)
        if sorted_index and pieces[0][2] < pieces[0][3]:
            divisions = _sorted_divisions(pieces)
    expr = ReadHDF(pieces, meta, cols, divisions, lock, mode)
    out = new_collection(expr)
    return out[columns] if isinstance(columns, str) else out


def _sorted_divisions(pieces: list[tuple[str, str, int, int]]) -> tuple[Any, ...]:
    firsts = []
    for path, key, s, _ in pieces:
        firsts.append(pd.read_hdf(path, key, mode="r", start=s, stop=s + 1).index[0])
    path, key, _, e = pieces[-1]
    last = pd.read_hdf(path, key, mode="r", start=e - 1, stop=e).index[0]
    divisions = (*firsts, last)
    if any(b < a for a, b in zip(divisions, divisions[1:], strict=False)):
        raise ValueError(f"read_hdf: sorted_index=True, but the index is not sorted across the partitions (their "
                         f"first values are {list(divisions)}). Pass sorted_index=False, then set_index.")
    return tuple(d.item() if hasattr(d, "item") else d for d in divisions)


# -- writing --------------------------------------------------------------------------------------
def _staging_path(path: str, token: str) -> str:
    """``dir/out.h5`` -> ``dir/.out.h5.<token>.tmp``: hidden, matching no ``*.h5`` glob."""
    parent, name = os.path.split(path)
    return os.path.join(parent, f".{name}.{token}.tmp")


def _write(part: Any, staging: str, path: str, key: str, mode: str, append: bool, lock: Any,
           kwargs: dict[str, Any], *after: Any) -> str:
    """Write ``part`` under ``key`` of the staging file (first copying ``path`` there when keeping its keys)."""
    with _lock_for(lock):
        if not after and not os.path.exists(staging):
            if mode in ("a", "r+") and os.path.exists(path):
                shutil.copyfile(path, staging)
            elif mode == "r+":
                raise FileNotFoundError(f"to_hdf: mode='r+' needs an existing file, and {path!r} does not exist")
        part.to_hdf(staging, key=key, mode="a", append=append, **kwargs)
    return staging


def _publish(staged: list[str], targets: list[str]) -> list[str]:
    for tmp, path in dict(zip(staged, targets, strict=True)).items():
        os.replace(tmp, path)
    return targets


def _remove_all(paths: list[str]) -> None:
    for p in paths:
        try:
            os.remove(p)
        except FileNotFoundError:
            pass


def to_hdf(df: Any, path: Any, key: str, mode: str = "a", append: bool = False, scheduler: Any = None,
           name_function: Any = None, compute: bool = True, lock: Any = None, dask_kwargs: dict[str, Any] | None = None,
           **kwargs: Any) -> Any:
    """Write to HDF5 files; mirrors ``dask.dataframe.to_hdf``.

    ``*`` in ``path`` writes one file per partition, ``*`` in ``key`` one key
    per partition in one file (``name_function(i)`` replaces it, ``str`` by
    default); otherwise all partitions go to one key of one file. Stores are
    written in table format unless ``format=`` says otherwise (fixed format
    can't hold more than one partition per key). Returns the file of every
    partition, or a ``Delayed`` with ``compute=False``.

    Parameters
    ----------
    mode : {"a", "w", "r+"}
        ``"a"`` keeps the file's other keys, ``"w"`` starts a new file.
    append : bool
        Add the rows to an existing table instead of replacing the key.
    lock : bool, optional
        Serialize HDF5 calls of this process (the default).
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_hdf` (``data_columns=``, ``min_itemsize=``, ``complevel=``, ...).

    Notes
    -----
    Each file is written as a temporary copy that replaces it once all its
    partitions are in: a failed write leaves the file as it was.

    Examples
    --------
    >>> import os, tempfile, pandas as pd, shoal.dataframe as sd
    >>> d = tempfile.mkdtemp()
    >>> df = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    >>> [os.path.basename(p) for p in df.to_hdf(os.path.join(d, "part-*.h5"), "/data")]
    ['part-0.h5', 'part-1.h5']
    >>> int(sd.read_hdf(os.path.join(d, "part-*.h5"), "/data").x.sum().compute())
    6
    """
    _check_tables()
    from shoal.base import compute as compute_collections
    from shoal.delayed import delayed

    if mode not in ("a", "w", "r+"):
        raise ValueError(f"to_hdf: mode must be 'a', 'w' or 'r+', got {mode!r}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError("to_hdf writes to local file paths; buffers and open stores are not supported")
    key = key if key.startswith("/") else f"/{key}"
    if path.count("*") + key.count("*") > 1:
        raise ValueError(f"to_hdf: one '*' at most, in the path or in the key; got path={path!r}, key={key!r}")
    kwargs.setdefault("format", "table")
    fixed = kwargs["format"] in ("fixed", "f")
    parts = df.to_delayed()
    name_function = name_function or str
    names = [name_function(i) for i in range(len(parts))]
    if len(set(names)) != len(names):
        raise ValueError(f"to_hdf: name_function gives the same name to two partitions: {names}")
    if "*" not in path and "*" not in key and fixed and (len(parts) > 1 or append):
        raise ValueError("to_hdf: format='fixed' can't append, so it can't hold several partitions in one key. "
                         "Use format='table', or put '*' in the path or the key.")
    token = uuid.uuid4().hex
    if "*" in path:
        targets = [path.replace("*", n) for n in names]
        parents = {os.path.dirname(t) or "." for t in targets}
    else:
        targets = [path] * len(parts)
        parents = {os.path.dirname(path) or "."}
    for parent in parents:
        os.makedirs(parent, exist_ok=True)
    if mode == "r+" and "*" not in path and not os.path.exists(path):
        raise FileNotFoundError(f"to_hdf: mode='r+' needs an existing file, and {path!r} does not exist")
    staged = [_staging_path(t, token) for t in targets]
    writes: list[Any] = []
    for i, part in enumerate(parts):
        part_key = key.replace("*", names[i])
        if "*" in path:
            writes.append(delayed(_write, pure=False)(part, staged[i], targets[i], part_key, mode, append, lock,
                                                      kwargs))
        else:
            # One file: partitions go in one after another, each after the previous write.
            part_append = append or ("*" not in key and i > 0)
            writes.append(delayed(_write, pure=False)(part, staged[i], targets[i], part_key, mode, part_append,
                                                      lock, kwargs, *writes[-1:]))
    published = delayed(_publish, pure=False)(writes, targets)
    if not compute:
        return published
    try:
        (result,) = compute_collections(published, scheduler=scheduler, **(dask_kwargs or {}))
    except BaseException:
        _remove_all(sorted(set(staged)))
        raise
    return list(result)

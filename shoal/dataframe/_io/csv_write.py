"""``to_csv``: one file per partition, each written under a hidden temporary name.

All parts are renamed once every partition is written, so a failed write
never leaves a file (or a set of files) that looks finished. Split from
:mod:`.csv`, which reads.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from shoal.base import compute as compute_collections

__all__ = ["to_csv"]


def _write_csv(part: pd.DataFrame, f: Any, kwargs: dict[str, Any]) -> None:
    part.to_csv(f, **kwargs)


def _write_partition(part: pd.DataFrame, path: str, fs: Any, kwargs: dict[str, Any], writer: Any = _write_csv
                     ) -> str:
    """``writer(part, file, kwargs)`` into a temporary file, renamed to ``path`` once complete."""
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open(tmp, "wb") as f:
            writer(part, f, kwargs)
        fs.mv(tmp, path)
    except BaseException:
        if fs.exists(tmp):
            fs.rm(tmp)
        raise
    return path


def to_csv(df: Any, filename: Any, *, name_function: Any = None, compute: bool = True,
           storage_options: dict[str, Any] | None = None, single_file: bool = False, **kwargs: Any) -> Any:
    """Write one CSV file per partition (``*`` in ``filename`` becomes the partition number).

    Returns the list of written paths (or the ``Delayed`` writes with ``compute=False``).

    Every part is written under a hidden temporary name and all are renamed
    only once every partition succeeded, so a failed write leaves no file
    that looks finished (with ``compute=True`` the temporary files are
    removed too).

    Examples
    --------
    >>> import os, pandas as pd, shoal.dataframe as sd, tempfile
    >>> d = tempfile.mkdtemp()
    >>> df = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    >>> [os.path.basename(p) for p in df.to_csv(os.path.join(d, "out-*.csv"), index=False)]
    ['out-0.csv', 'out-1.csv']
    >>> sorted(os.listdir(d))
    ['out-0.csv', 'out-1.csv']
    """
    import fsspec

    fs, _, _ = fsspec.get_fs_token_paths(str(filename), storage_options=storage_options or {})
    name_function = name_function or str
    from shoal.delayed import delayed

    if single_file:
        path = str(filename)
        write = delayed(_write_partition, pure=False)(delayed(_concat_all)(df.to_delayed()), path, fs, kwargs)
        return [write.compute()] if compute else [write]
    parts = df.to_delayed()
    paths = partition_paths(fs, str(filename), len(parts), name_function)
    return write_staged(parts, paths, fs, [kwargs] * len(parts), _write_csv, compute)


def partition_paths(fs: Any, pattern: str, n: int, name_function: Any) -> list[str]:
    """One path per partition: ``*`` in ``pattern`` becomes ``name_function(i)``; a pattern without ``*`` is a
    directory (made if missing) that gets ``0.part``, ``1.part``, ...."""
    if "*" not in pattern:
        fs.makedirs(pattern, exist_ok=True)
        pattern = pattern.rstrip("/") + "/*.part"
    else:
        fs.makedirs(pattern.rsplit("/", 1)[0] if "/" in pattern else ".", exist_ok=True)
    return [pattern.replace("*", name_function(i)) for i in range(n)]


def write_staged(parts: list[Any], paths: list[str], fs: Any, specs: list[Any], writer: Any, compute: bool) -> Any:
    """``writer(part, file, spec)`` for every partition under a hidden temporary name, all renamed to ``paths``
    only once every partition succeeded; with ``compute=True`` a failure removes the temporary files too.

    Returns the paths, or with ``compute=False`` one ``Delayed`` per path.
    """
    from shoal.delayed import delayed

    token = uuid.uuid4().hex
    staged = [_staging_path(path, token) for path in paths]
    writes = [delayed(_write_staged, pure=False)(p, tmp, fs, spec, writer)
              for p, tmp, spec in zip(parts, staged, specs, strict=True)]
    published = delayed(_publish, pure=False)(writes, paths, fs)
    if not compute:
        return [published[i] for i in range(len(paths))]
    try:
        (result,) = compute_collections(published)
    except BaseException:
        for tmp in staged:
            _remove(fs, tmp)
        raise
    return list(result)


def _staging_path(path: str, token: str) -> str:
    """``dir/0.part`` -> ``dir/.0.part.<token>.tmp``: hidden, and matching no ``*.csv``-style glob."""
    parent, name = path.rsplit("/", 1) if "/" in path else ("", path)
    staged = f".{name}.{token}.tmp"
    return f"{parent}/{staged}" if parent else staged


def _write_staged(part: pd.DataFrame, tmp: str, fs: Any, spec: Any, writer: Any = _write_csv) -> str:
    try:
        with fs.open(tmp, "wb") as f:
            writer(part, f, spec)
    except BaseException:
        _remove(fs, tmp)
        raise
    return tmp


def _publish(staged: list[str], paths: list[str], fs: Any) -> list[str]:
    """Rename every staged part to its name: runs only once all partitions were written."""
    for tmp, path in zip(staged, paths, strict=True):
        fs.mv(tmp, path)
    return paths


def _remove(fs: Any, path: str) -> None:
    try:
        if fs.exists(path):
            fs.rm(path)
    except FileNotFoundError:
        pass  # removed meanwhile by its own writer's clean-up


def _concat_all(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts)

"""Access to fsspec, the optional dependency behind reading and writing files."""

from __future__ import annotations

import contextlib
import importlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

__all__ = ["expand_paths", "import_fsspec", "output_paths", "staged_file"]


def import_fsspec() -> Any:
    """Return the ``fsspec`` module (with ``fsspec.core`` and ``fsspec.utils`` loaded).

    Imported on first use: ``import shoal.bag`` must work without it, and
    only reading and writing files needs it.
    """
    try:
        fsspec = importlib.import_module("fsspec")
        importlib.import_module("fsspec.core")
        importlib.import_module("fsspec.utils")
    except ImportError as exc:  # pragma: no cover - fsspec is installed with shoal's extras
        raise ImportError(
            "Reading and writing text files with shoal.bag needs fsspec: pip install fsspec "
            "(or pip install 'shoal[dataframe]')."
        ) from exc
    return fsspec


def expand_paths(urlpath: Any, storage_options: dict[str, Any] | None, reader: str) -> tuple[Any, str, list[str]]:
    """``(fs, fs_token, paths)`` for a path, glob or list of them; FileNotFoundError naming ``reader`` if empty."""
    fsspec = import_fsspec()
    if isinstance(urlpath, list | tuple):
        urlpath = [os.fspath(p) for p in urlpath]
    else:
        urlpath = os.fspath(urlpath)
    fs, fs_token, paths = fsspec.core.get_fs_token_paths(urlpath, mode="rb", storage_options=storage_options)
    if not paths:
        raise FileNotFoundError(
            f"{reader} found no files matching {urlpath!r} (working directory {os.getcwd()!r}). "
            f"Check the path and the glob pattern."
        )
    return fs, fs_token, paths


@contextlib.contextmanager
def staged_file(fs: Any, path: str, compression: str | None = None) -> Iterator[Any]:
    """An open binary file that becomes ``path`` only when the block finishes without an error.

    It is written under a temporary name beside ``path`` and renamed at the end; on an error the temporary
    file is removed, so nothing named ``path`` is ever half written.
    """
    fsspec = import_fsspec()
    temporary = f"{path}.shoal-tmp-{uuid.uuid4().hex[:12]}"
    parent = fs._parent(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    try:
        with fsspec.core.OpenFile(fs, temporary, mode="wb", compression=compression) as f:
            yield f
        fs.mv(temporary, path)
    except BaseException:
        try:
            fs.rm(temporary)
        except Exception:  # noqa: BLE001 - the original error matters, not the cleanup's
            pass
        raise


def output_paths(target: Any, npartitions: int, name_function: Any, storage_options: dict[str, Any] | None,
                 writer: str) -> tuple[Any, list[str]]:
    """``(fs, paths)``: one path per partition from a ``*`` pattern, a directory or a list of paths."""
    fsspec = import_fsspec()
    target = [os.fspath(p) for p in target] if isinstance(target, list | tuple) else os.fspath(target)
    fs, _, paths = fsspec.core.get_fs_token_paths(target, mode="wb", num=npartitions, name_function=name_function,
                                                  storage_options=storage_options)
    if len(paths) != npartitions:
        raise ValueError(
            f"{writer} was given {len(paths)} paths for a bag with {npartitions} partitions; "
            f"pass one path per partition, or a pattern with '*'."
        )
    return fs, paths

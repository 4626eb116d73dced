"""``to_textfiles``: one text file per partition, written so that no half-written file looks complete.

Each partition task writes its lines to a temporary name next to the target
(``<target>.shoal-tmp-<random>``) and renames it to the target only after the
last byte is written and the file is closed; a task that fails removes its
temporary file. Compression follows the target's extension (``.gz``,
``.bz2``, ``.xz``) unless ``compression=`` says otherwise. Elements must be
strings; they are joined with ``"\\n"`` (one line per element), with a final
newline only if ``last_endline=True``, as in Dask.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from shoal.bag._stages import Pipeline, Stage, run_partition
from shoal.bag._filesystem import import_fsspec, output_paths, staged_file
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["TextMethods", "WriteText", "to_textfiles"]

_LINES_PER_WRITE = 10_000


class WriteText(Stage):
    """Write a partition's strings to ``path``; returns ``[path]``."""

    __slots__ = ("fs", "encoding", "last_endline")

    def __init__(self, fs: Any, encoding: str, last_endline: bool) -> None:
        self.fs = fs
        self.encoding = encoding
        self.last_endline = last_endline

    def __call__(self, part: Iterable[Any], path: str, compression: str | None) -> list[str]:
        with staged_file(self.fs, path, compression) as f:
            self._write(f, iter(part))
        return [path]

    def _write(self, f: Any, elements: Iterable[Any]) -> None:
        wrote = False
        while True:
            batch = list(itertools.islice(elements, _LINES_PER_WRITE))
            if not batch:
                break
            try:
                text = "\n".join(batch)
            except TypeError:
                bad = next(x for x in batch if not isinstance(x, str))
                raise TypeError(
                    f"to_textfiles writes strings, one per line, but found a {type(bad).__name__}: "
                    f"{repr(bad)[:80]}. Convert the elements first, e.g. bag.map(json.dumps) or bag.map(str)."
                ) from None
            f.write((("\n" if wrote else "") + text).encode(self.encoding))
            wrote = True
        if wrote and self.last_endline:
            f.write("\n".encode(self.encoding))

    def describe(self, *inputs: Any) -> str | None:
        return None


def to_textfiles(b: Bag, path: str | list[str], name_function: Callable[[int], str] | None = None,
                 compression: str | None = "infer", encoding: str = "utf-8", compute: bool = True,
                 storage_options: dict[str, Any] | None = None, last_endline: bool = False,
                 **kwargs: Any) -> Any:
    """Write a bag of strings to text files, one file per partition, one line per element.

    Parameters
    ----------
    b : Bag
    path : str or list of str
        A pattern with one ``*`` (replaced by ``name_function(i)``, default
        ``str(i)``), a directory (files ``0.part``, ``1.part``, ...), or one
        path per partition.
    name_function : callable, optional
        Partition index to file name part; must keep the order of indices.
    compression : str or None
        ``"infer"`` (default: from the extension), ``"gzip"``, ``"bz2"``,
        ``"xz"`` or None.
    encoding : str
    compute : bool
        Write now and return the paths (default), or return one
        :class:`~shoal.delayed.Delayed` per file that writes it.
    storage_options : dict, optional
        Passed to the fsspec filesystem.
    last_endline : bool
        End each file with a newline.
    **kwargs
        Passed to ``compute`` (``scheduler=``, ...).

    Examples
    --------
    >>> import os, pathlib, tempfile, shoal.bag as db
    >>> folder = tempfile.mkdtemp()
    >>> paths = db.from_sequence(["a", "b", "c"], npartitions=2).to_textfiles(os.path.join(folder, "*.txt"))
    >>> [os.path.basename(p) for p in paths]
    ['0.txt', '1.txt']
    >>> pathlib.Path(paths[0]).read_text()
    'a\\nb'
    """
    fsspec = import_fsspec()
    fs, paths = output_paths(path, b.npartitions, name_function, storage_options, "to_textfiles")
    compressions = [fsspec.utils.infer_compression(p) if compression == "infer" else compression for p in paths]
    name = f"to-textfiles-{tokenize(b.name, paths, compressions, encoding, last_endline)}"
    pipeline = Pipeline([WriteText(fs, encoding, last_endline)], [3], "to-textfiles")
    layer: dict[Key, Any] = {
        (name, i): Task((name, i), run_partition, pipeline, i, Ref((b.name, i)), p, c)
        for i, (p, c) in enumerate(zip(paths, compressions, strict=True))
    }
    written = b._new_bag(layer, name, b.npartitions)
    if compute:
        return written.compute(**kwargs)
    return written.to_delayed()


class TextMethods:
    """``to_textfiles`` for :class:`shoal.bag.Bag`."""

    def to_textfiles(self: Bag, path: str | list[str], name_function: Callable[[int], str] | None = None,
                     compression: str | None = "infer", encoding: str = "utf-8", compute: bool = True,
                     storage_options: dict[str, Any] | None = None, last_endline: bool = False,
                     **kwargs: Any) -> Any:
        """Write this bag of strings to text files, one per partition; see :func:`shoal.bag.to_textfiles`."""
        return to_textfiles(self, path, name_function=name_function, compression=compression, encoding=encoding,
                            compute=compute, storage_options=storage_options, last_endline=last_endline, **kwargs)

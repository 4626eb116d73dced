"""The data of a shoal array and its collection protocol, without the operations.

An array is a grid of NumPy blocks. It knows, without computing anything:

- ``name``: the prefix of its keys; block ``(i, j)`` is key ``(name, i, j)``;
- ``chunks``: block lengths per dimension (see :mod:`shoal.array._chunks`);
  ``nan`` lengths mean "unknown until computed";
- ``_meta``: an empty NumPy array with the right dtype and number of
  dimensions (a zero-length stand-in that tells the block type and dtype);
- ``_layer``: the tasks that compute its own blocks, and ``_deps``: the
  collections those tasks read from. As with ``Delayed``, an array does not
  copy its inputs' graphs: ``__dask_graph__`` walks ``_deps`` once when a
  graph is needed, so building long expressions costs time linear in their
  length.

The operations live in family modules (``_elementwise``, ``_reductions``,
``_slicing``, ...) as mixin classes, and :mod:`shoal.array._core` composes
them into the public ``Array``. Modules below ``_core`` build new arrays with
:func:`new_array`, which looks up the composed class in a one-entry registry:
that keeps every import pointing downward.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterator, Mapping
from itertools import product
from numbers import Number
from typing import Any

import numpy as np

from shoal.array._chunks import Chunks, normalize_chunks
from shoal.array._concatenate import concatenate_chunks  # np.concatenate drops masks, refuses sparse
from shoal.base import compute, persist
from shoal.graph.fuse import fuse_linear
from shoal.delayed import Delayed
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task, key_split
from shoal.highlevelgraph import HighLevelGraph
from shoal.local.selection import get_scheduler
from shoal.local.threads import get_threads
from shoal.utils import format_bytes

__all__ = ["ArrayBase", "collect_graph", "concatenate_blocks", "meta_from_dtype", "new_array", "register_array_class"]

_array_class: list[type] = []


def register_array_class(cls: type) -> None:
    """Record the composed ``Array`` class; :func:`new_array` builds instances of it."""
    _array_class[:] = [cls]


def new_array(layer: Mapping[Key, Any], name: str, chunks: Any, dtype: Any = None, *, deps: tuple[Any, ...] = (),
              meta: Any = None, shape: tuple[int, ...] | None = None) -> Any:
    """Build an array from the tasks of its blocks.

    Parameters
    ----------
    layer : mapping
        Key ``(name, i, j, ...)`` -> task, for every block.
    name : str
        The key prefix.
    chunks : chunks
        Block lengths per dimension (normalized here; give ``shape`` for the
        shorter forms).
    dtype, meta : optional
        The block dtype, or an empty block (``meta``) that carries it.
    deps : tuple
        The collections whose keys the tasks reference.
    """
    chunks = normalize_chunks(chunks, shape, dtype=dtype)
    return _array_class[0]._from_parts(layer, name, chunks, _fit_meta(meta, dtype, len(chunks)), deps)


def _fit_meta(meta: Any, dtype: Any, ndim: int) -> Any:
    """An empty block with ``ndim`` dimensions and ``dtype``, like ``meta`` when one is given."""
    if meta is None:
        return meta_from_dtype(dtype if dtype is not None else "f8", ndim)
    if getattr(meta, "ndim", None) != ndim:
        return meta_from_dtype(meta.dtype if dtype is None else dtype, ndim, like=meta)
    if dtype is not None and meta.dtype != np.dtype(dtype):
        return meta.astype(dtype)
    return meta


def meta_from_dtype(dtype: Any, ndim: int, like: Any = None) -> np.ndarray:
    """An empty block of ``dtype`` with ``ndim`` dimensions."""
    if like is not None and not isinstance(like, np.ndarray):
        try:
            return like[(slice(0, 0),) * like.ndim].reshape((0,) * ndim).astype(dtype)
        except Exception:  # noqa: BLE001 - fall back to plain NumPy for exotic block types
            pass
    return np.empty((0,) * ndim, dtype=dtype)


def collect_graph(root: Any) -> dict[Key, GraphNode]:
    """Merge the layers of ``root`` and everything it depends on, each once."""
    graph: dict[Key, GraphNode] = {}
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        layer = getattr(obj, "_layer", None)
        if layer is not None and hasattr(obj, "_deps"):
            graph.update(layer)
            stack.extend(obj._deps)
        else:
            graph.update(obj.__dask_graph__())
    return graph


def concatenate_blocks(blocks: Any, ndim: int) -> np.ndarray:
    """Assemble a nested list of blocks (``ndim`` levels deep, axis 0 outermost) into one array.

    >>> a = np.zeros((2, 2))
    >>> concatenate_blocks([[a, a]], 2).shape
    (2, 4)
    """
    if ndim == 0:
        return blocks  # type: ignore[no-any-return]
    return _concat_nested(blocks, ndim, 0)


def _finalize(results: Any, ndim: int) -> Any:
    if ndim == 0:
        # The one block as it is, as Dask does: reductions end in NumPy scalars because their last chunk
        # function returns one (as NumPy's reductions do), while 0-d arrays built from 0-d blocks stay arrays.
        return results[0]
    # Blocks nest with axis 0 outermost; concatenate innermost axes first.
    return _concat_nested(results, ndim, 0)


def _concat_nested(blocks: Any, ndim: int, axis: int) -> np.ndarray:
    if axis == 0:
        whole = _assemble(blocks, ndim)
        if whole is not None:
            return whole
    if axis == ndim - 1:
        return blocks[0] if len(blocks) == 1 else concatenate_chunks(blocks, axis)
    parts = [_concat_nested(b, ndim, axis + 1) for b in blocks]
    return parts[0] if len(parts) == 1 else concatenate_chunks(parts, axis)


def _assemble(blocks: Any, ndim: int) -> np.ndarray | None:
    """The blocks copied once into one new array; None when they are not plain, same-dtype, aligned ndarrays.

    Nested ``np.concatenate`` copies every element once per axis and touches new memory each time; for a
    large result that costs more than the tasks did. The fallback (None) keeps NumPy's own rules and errors
    for subclasses, mixed dtypes and shapes that do not line up.
    """
    flat: list[tuple[tuple[int, ...], Any]] = []
    stack: list[tuple[tuple[int, ...], Any]] = [((), blocks)]
    while stack:
        index, item = stack.pop()
        if len(index) == ndim:
            flat.append((index, item))
        else:
            stack.extend(((*index, i), sub) for i, sub in enumerate(item))
    if len(flat) < 2:
        return None
    first = flat[0][1]
    if not all(type(b) is np.ndarray and b.ndim == ndim and b.dtype == first.dtype for _, b in flat):
        return None
    sizes: list[dict[int, int]] = [{} for _ in range(ndim)]
    for index, b in flat:
        for axis, (i, n) in enumerate(zip(index, b.shape, strict=True)):
            if sizes[axis].setdefault(i, n) != n:
                return None  # blocks that do not line up: let concatenate report it
    starts = []
    for axis in range(ndim):
        offsets = [0]
        for i in range(len(sizes[axis])):
            offsets.append(offsets[-1] + sizes[axis][i])
        starts.append(offsets)
    out = np.empty(tuple(o[-1] for o in starts), dtype=first.dtype)

    def place(item: tuple[tuple[int, ...], Any]) -> None:
        index, b = item
        out[tuple(slice(starts[a][i], starts[a][i + 1]) for a, i in enumerate(index))] = b

    threads = min(os.cpu_count() or 1, 4, len(flat))
    if out.nbytes >= _PARALLEL_ASSEMBLY and threads > 1:
        # NumPy copies without the GIL: several threads fault in and fill the new pages side by side.
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(place, flat))
    else:
        for item in flat:
            place(item)
    return out


#: Results at least this large are assembled by several threads.
_PARALLEL_ASSEMBLY = 64 * 2**20


def _rebuild(graph: Mapping[Key, Any], name: str, chunks: Chunks, meta: Any, rename: Any = None) -> Any:
    if rename:
        name = rename.get(name, name)
    return _array_class[0]._from_parts(dict(graph), name, chunks, meta, ())


def _nested_keys(name: str, numblocks: tuple[int, ...], prefix: tuple[int, ...]) -> list[Any]:
    """Block keys nested like the block grid: a list per axis."""
    # Module-level on purpose: a closure that calls itself is a reference cycle, and this one would hold the
    # array (and the data in its graph) until the cyclic garbage collector runs.
    depth = len(prefix)
    if depth == len(numblocks) - 1:
        return [(name, *prefix, i) for i in range(numblocks[depth])]
    return [_nested_keys(name, numblocks, (*prefix, i)) for i in range(numblocks[depth])]


class ArrayBase:
    """Data and protocol of a shoal array; see the module docstring."""

    __slots__ = ("name", "_chunks", "_meta", "_layer", "_deps", "__weakref__")

    def __init__(self, dask: Mapping[Key, Any], name: str, chunks: Any, dtype: Any = None, meta: Any = None,
                 shape: tuple[int, ...] | None = None) -> None:
        """Dask's constructor: an array from a graph holding the task (or value) of every block ``(name, i, ...)``.

        ``chunks`` may take any form :func:`shoal.array.normalize_chunks` accepts (with ``shape`` for the
        short ones); ``dtype`` or ``meta`` (an empty block) says what the blocks hold. The graph may be a
        plain dict of legacy Dask tuple tasks, or a :class:`~shoal.highlevelgraph.HighLevelGraph`: then its
        layer ``name`` becomes this array's tasks and the collections it was built from (or its other layers)
        this array's inputs, so nothing is flattened or copied.
        """
        chunks = normalize_chunks(chunks, shape, dtype=dtype)
        if isinstance(dask, HighLevelGraph):
            layer, deps = dask._layer_and_deps(name)
        else:
            layer, deps = dict(dask), ()
        self._set(layer, name, chunks, _fit_meta(meta, dtype, len(chunks)), deps)

    @classmethod
    def _from_parts(cls, layer: Mapping[Key, Any], name: str, chunks: Chunks, meta: Any,
                    deps: tuple[Any, ...]) -> Any:
        """The constructor used inside shoal: chunks normalized and meta made already, ``deps`` given."""
        self = cls.__new__(cls)
        self._set(layer, name, chunks, meta, deps)
        return self

    def _set(self, layer: Mapping[Key, Any], name: str, chunks: Chunks, meta: Any, deps: tuple[Any, ...]) -> None:
        self.name = name
        self._chunks = chunks
        self._meta = meta
        self._layer = layer
        self._deps = deps

    # -- metadata --------------------------------------------------------------------
    @property
    def chunks(self) -> Chunks:
        """Block lengths per dimension."""
        return self._chunks

    @property
    def shape(self) -> tuple[Any, ...]:
        """Array shape; ``nan`` along dimensions whose length is unknown."""
        return tuple(sum(c) if not any(_isnan(v) for v in c) else math.nan for c in self._chunks)

    @property
    def ndim(self) -> int:
        return len(self._chunks)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._meta.dtype  # type: ignore[no-any-return]

    @property
    def size(self) -> Any:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> Any:
        return self.size * self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return int(self.dtype.itemsize)

    @property
    def numblocks(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self._chunks)

    @property
    def npartitions(self) -> int:
        return math.prod(self.numblocks)

    @property
    def chunksize(self) -> tuple[Any, ...]:
        """The largest block length along each dimension."""
        return tuple(max(c) if c else 0 for c in self._chunks)

    @property
    def _key_array(self) -> np.ndarray:
        keys = np.empty(self.numblocks, dtype=object)
        for index in product(*(range(n) for n in self.numblocks)):
            keys[index] = (self.name, *index)
        return keys

    def __len__(self) -> int:
        if not self._chunks:
            raise TypeError("len() of a 0-d array")
        length = self.shape[0]
        if _isnan(length):
            raise ValueError(
                f"The length of {self.name!r} is not known (its chunks are nan after an operation whose "
                f"output size depends on the data). Call x.compute_chunk_sizes() first."
            )
        return int(length)

    # -- the collection protocol -----------------------------------------------------
    def __dask_graph__(self) -> dict[Key, GraphNode]:
        return collect_graph(self)

    def __dask_keys__(self) -> Any:
        if not self._chunks:
            return [(self.name,)]
        return _nested_keys(self.name, tuple(self.numblocks), ())

    def __dask_layers__(self) -> tuple[str, ...]:
        return (self.name,)

    def __dask_tokenize__(self) -> str:
        return self.name

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _finalize, (self.ndim,)

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _rebuild, (self.name, self._chunks, self._meta)

    __dask_scheduler__ = staticmethod(get_threads)

    @staticmethod
    def __dask_optimize__(graph: Mapping[Key, GraphNode], keys: list[Key], **kwargs: Any) -> Mapping[Key, GraphNode]:
        # Fuse per-block chains (x + 1) * 2 into one task per block: fewer
        # intermediate arrays alive at once, fewer hand-offs.
        fused, _ = fuse_linear(graph, keys)
        return fused

    # -- computing -------------------------------------------------------------------
    def compute(self, **kwargs: Any) -> np.ndarray:
        """Compute the array and return a NumPy array; options go to :func:`shoal.compute`."""
        (result,) = compute(self, traverse=False, **kwargs)
        return result  # type: ignore[no-any-return]

    def persist(self, **kwargs: Any) -> Any:
        """Compute the blocks and return an array holding them in memory."""
        (result,) = persist(self, traverse=False, **kwargs)
        return result

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # The protocol must hand NumPy a base ndarray: a 0-d reduction computes to a NumPy scalar and
        # a masked chunk type to a subclass, both of which NumPy rejects from __array__.
        out = self.compute()
        if copy is False and dtype is not None and np.dtype(dtype) != np.asarray(out).dtype:
            raise ValueError(
                f"np.asarray(x, dtype={np.dtype(dtype)}, copy=False) needs a copy to convert {self.dtype} "
                f"to {np.dtype(dtype)}; pass copy=None (the default) to allow it.")
        arr = np.asarray(out, dtype=dtype)
        # NumPy trusts copy=True and copies no further; computing already gives fresh memory, except
        # when the result is a view (one block of a from_array source, say), so copy only then.
        if copy and (arr.base is not None or not arr.flags.owndata):
            arr = arr.copy()
        return arr

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"The truth value of an array with {self.size} elements is ambiguous. Use .any() or .all()."
            )
        return bool(self.compute())

    def __int__(self) -> int:
        return int(self.compute())

    def __float__(self) -> float:
        return float(self.compute())

    def __complex__(self) -> complex:
        return complex(self.compute())

    def __index__(self) -> int:
        return int(self.compute())

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]  # type: ignore[index]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__dask_graph__(), self.name, self._chunks, self._meta))

    def to_delayed(self, optimize_graph: bool = True) -> np.ndarray:
        """Return a NumPy object array of Delayed values, one per block."""
        graph = self.__dask_graph__()
        if optimize_graph:
            graph = dict(self.__dask_optimize__(graph, [k for k in self._key_array.flat]))
        out = np.empty(self.numblocks, dtype=object)
        for index in product(*(range(n) for n in self.numblocks)):
            out[index] = Delayed((self.name, *index), None, (), layer=graph)
        return out

    def rechunk(self, chunks: Any = "auto", threshold: Any = None, block_size_limit: Any = None,
                balance: bool = False, method: str | None = None) -> Any:
        """The same array cut into new blocks; see :func:`shoal.array.rechunk`."""
        from shoal.array._rechunk import rechunk  # _rechunk builds on this module

        return rechunk(self, chunks, threshold, block_size_limit, balance, method)

    def compute_chunk_sizes(self) -> Any:
        """Compute the length of every block, so that ``nan`` chunks become known.

        Returns the array itself, updated in place (as Dask does), so that
        ``x[x > 0].compute_chunk_sizes().shape`` works.
        """
        name = f"shapes-{self.name}"
        layer = {(name, *index): Task((name, *index), np.shape, Ref((self.name, *index)))
                 for index in product(*(range(n) for n in self.numblocks))}
        shapes_array = _array_class[0]._from_parts(layer, name, tuple((1,) * n for n in self.numblocks),
                                                   np.empty((0,) * self.ndim, dtype=object), (self,))
        keys = [k for k in shapes_array._key_array.flat]
        run = get_scheduler(None, default=get_threads)
        graph = {**shapes_array.__dask_graph__()}
        shapes = dict(zip(keys, run(graph, keys), strict=True))
        chunks = []
        for axis in range(self.ndim):
            lengths = []
            for i in range(self.numblocks[axis]):
                index = tuple(i if a == axis else 0 for a in range(self.ndim))
                lengths.append(shapes[(name, *index)][axis])
            chunks.append(tuple(lengths))
        self._chunks = tuple(chunks)
        return self

    # -- display ---------------------------------------------------------------------
    def _task_count(self) -> int:
        return len(self.__dask_graph__())

    def __repr__(self) -> str:
        chunktype = f"{type(self._meta).__module__.split('.')[0]}.{type(self._meta).__name__}"
        return (
            f"shoal.array<{key_split(self.name)}, shape={_fmt_shape(self.shape)}, dtype={self.dtype}, "
            f"chunksize={_fmt_shape(self.chunksize)}, chunktype={chunktype}>"
        )

    def _repr_html_(self) -> str:
        size = "unknown" if _isnan(self.nbytes) else format_bytes(int(self.nbytes))
        block = "unknown" if any(_isnan(c) for c in self.chunksize) else format_bytes(
            int(math.prod(self.chunksize) * self.itemsize))
        rows = [
            ("Bytes", size, block),
            ("Shape", _fmt_shape(self.shape), _fmt_shape(self.chunksize)),
            ("Task graph", f"{self.npartitions} chunks in {self._task_count()} tasks", ""),
            ("Data type", f"{self.dtype} {type(self._meta).__module__.split('.')[0]}.{type(self._meta).__name__}", ""),
        ]
        body = "".join(f"<tr><th>{a}</th><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
        table = (f"<table><thead><tr><td></td><th>Array</th><th>Chunk</th></tr></thead>"
                 f"<tbody>{body}</tbody></table>")
        picture = _block_picture(self)
        if not picture:
            return table
        # As Dask's notebook view: the numbers, and beside them the grid of blocks.
        return f"<table><tr><td>{table}</td><td>{picture}</td></tr></table>"


def _block_picture(x: Any) -> str:
    """The SVG of ``x``'s blocks (see ``Array.to_svg``), or ``""`` where there is none (0-d, unknown sizes)."""
    to_svg = getattr(x, "to_svg", None)
    if to_svg is None or not x.ndim or any(_isnan(c) for c in x.shape):
        return ""
    try:
        return str(to_svg(size=120))
    except NotImplementedError:  # unknown block lengths inside a known shape
        return ""


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _fmt_shape(shape: tuple[Any, ...]) -> str:
    parts = ["nan" if _isnan(s) else str(int(s)) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def is_scalar(x: Any) -> bool:
    return isinstance(x, Number | np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0)


def literal_layer(name: str, value: Any) -> dict[Key, GraphNode]:
    """A one-block layer holding ``value``."""
    return {(name,): DataNode((name,), value)}

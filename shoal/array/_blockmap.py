"""Block-to-block building blocks shared by the shape and join families.

- :func:`map_each_block`: every output block is a function of exactly one
  input block (transpose, expand_dims, squeeze, reshape of aligned blocks,
  broadcast_to, flip, repeat by an int).
- :func:`gather`: along one axis, output position ``p`` holds input position
  ``index[p]``, for any integer map ``index``. Each output block reads only
  the input blocks its positions fall in, as plain slices where the positions
  run contiguously (forwards or backwards), so roll, pad's reflections and
  tile cost slicing, not fancy indexing.
- axis normalization and the unknown-chunks check, with NumPy's exceptions.

Lives below :mod:`._join` and :mod:`._shape` in the import order (it needs
only ``_base`` and ``_from_array``), so both can use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import accumulate, product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._from_array import asarray
from shoal.graph.task import GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "as_array",
    "atleast_nd",
    "gather",
    "insert_axes",
    "map_each_block",
    "normalize_axis_index",
    "normalize_axis_tuple",
    "prepend_axes",
    "require_known",
    "split_length",
]


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def require_known(x: ArrayBase, axes: Sequence[int], what: str) -> None:
    """Raise the unknown-chunks error if any of ``axes`` of ``x`` has ``nan`` block lengths."""
    for a in axes:
        if any(_isnan(c) for c in x.chunks[a]):
            raise ValueError(
                f"{what} needs the block lengths along axis {a} of {x.name!r}, but they are unknown (nan) after "
                f"an operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
            )


def normalize_axis_index(axis: Any, ndim: int, what: str) -> int:
    """``axis`` as a non-negative int, raising NumPy's ``AxisError`` when out of range."""
    if not isinstance(axis, Integral):
        raise TypeError(f"{what}: axis must be an integer, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim, msg_prefix=what)
    return int(axis) % ndim


def normalize_axis_tuple(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """A tuple of distinct non-negative axes (an int becomes a 1-tuple)."""
    if not isinstance(axis, Integral | tuple | list):
        raise TypeError(f"{what}: axis must be an int or a tuple of ints, got {axis!r}.")
    axes = (axis,) if isinstance(axis, Integral) else tuple(axis)
    out = tuple(normalize_axis_index(a, ndim, what) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis!r}.")
    return out


def as_array(a: Any) -> Any:
    return a if isinstance(a, ArrayBase) else asarray(a)


def map_each_block(x: ArrayBase, func: Callable[..., Any], out_chunks: Any, token: str, *,
                   source: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None,
                   block_args: Callable[[tuple[int, ...]], tuple[Any, ...]] | None = None,
                   dtype: Any = None, args: tuple[Any, ...] = (), layout: Any = None, **kwargs: Any) -> Any:
    """An array whose every block is ``func(input block, *args, **kwargs)`` of one input block.

    ``source(out_index)`` says which input block feeds output block
    ``out_index`` (default: the same index); ``block_args(out_index)`` adds
    per-block positional arguments after the block. ``layout`` is any value
    that, with the output chunks, determines both (it goes into the name);
    without it they are evaluated for every block to name the result.
    """
    out_chunks = tuple(tuple(c) for c in out_chunks)
    if layout is None:
        layout = _token_of(source, block_args, out_chunks)
    name = f"{token}-{tokenize(x.name, func, out_chunks, args, kwargs, dtype, layout)}"
    layer: dict[Key, GraphNode] = {}
    for out_index in product(*(range(len(c)) for c in out_chunks)):
        in_index = source(out_index) if source is not None else out_index
        extra = block_args(out_index) if block_args is not None else ()
        key = (name, *out_index)
        layer[key] = Task(key, func, Ref((x.name, *in_index)), *extra, *args, **kwargs)
    return new_array(layer, name, out_chunks, dtype if dtype is not None else x.dtype, deps=(x,), meta=x._meta)


def _token_of(source: Any, block_args: Any, out_chunks: Any) -> Any:
    # Closures do not tokenize by content; their effect is fully described by what they return for each block.
    if source is None and block_args is None:
        return None
    blocks = list(product(*(range(len(c)) for c in out_chunks)))
    return ([source(b) for b in blocks] if source else None, [block_args(b) for b in blocks] if block_args else None)


def insert_axes(x: ArrayBase, axes: Sequence[int]) -> Any:
    """Insert length-1 axes at positions ``axes`` of the result (sorted, distinct, non-negative)."""
    axes = tuple(sorted(axes))
    if not axes:
        return x
    out_ndim = x.ndim + len(axes)
    kept = [a for a in range(out_ndim) if a not in axes]
    chunks: list[Any] = [(1,)] * out_ndim
    for position, a in enumerate(kept):
        chunks[a] = x.chunks[position]
    return map_each_block(x, np.expand_dims, chunks, "expand_dims",
                          source=lambda index: tuple(index[a] for a in kept), layout=axes, axis=axes)


def atleast_nd(x: ArrayBase, ndim: int) -> Any:
    """NumPy's ``atleast_1d/2d/3d`` placement of new axes for ``ndim`` in 1, 2, 3."""
    if x.ndim >= ndim:
        return x
    where = {1: {0: (0,)}, 2: {0: (0, 1), 1: (0,)}, 3: {0: (0, 1, 2), 1: (0, 2), 2: (2,)}}
    return insert_axes(x, where[ndim][x.ndim])


def prepend_axes(x: ArrayBase, ndim: int) -> Any:
    """``x`` with leading length-1 axes up to ``ndim`` dimensions."""
    return insert_axes(x, range(ndim - x.ndim)) if x.ndim < ndim else x


def split_length(length: int, size: int) -> tuple[int, ...]:
    """``length`` cut in blocks of ``size`` (one empty block if ``length`` is 0)."""
    size = max(int(size), 1)
    if length == 0:
        return (0,)
    whole, rest = divmod(length, size)
    return (size,) * whole + ((rest,) if rest else ())


def _index_along(block: np.ndarray, axis: int, indexer: Any) -> np.ndarray:
    if isinstance(indexer, slice):
        return block[(slice(None),) * axis + (indexer,)]
    return np.take(block, indexer, axis=axis)


def _gather_block(blocks: list[np.ndarray], indexers: list[Any], axis: int) -> np.ndarray:
    parts = [_index_along(b, axis, ix) for b, ix in zip(blocks, indexers, strict=True)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def _indexer(local: np.ndarray) -> Any:
    """The cheapest way to pick ``local`` positions out of one block: a slice where they run contiguously."""
    first, last = int(local[0]), int(local[-1])
    if len(local) == 1:
        return slice(first, first + 1)
    steps = np.diff(local)
    if (steps == 1).all():
        return slice(first, last + 1)
    if (steps == -1).all():
        return slice(first, last - 1 if last > 0 else None, -1)
    return local


def gather(x: ArrayBase, axis: int, index: np.ndarray, out_chunks: Sequence[int], token: str) -> Any:
    """Along ``axis``, output position ``p`` holds input position ``index[p]``; cut into ``out_chunks``.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6), chunks=2)
    >>> gather(x, 0, np.array([5, 4, 0, 1]), (2, 2), "demo").compute()
    array([5, 4, 0, 1])
    """
    require_known(x, [axis], token)
    index = np.asarray(index, dtype=np.intp)
    bounds = np.array([0, *accumulate(int(c) for c in x.chunks[axis])])
    owner = np.searchsorted(bounds[1:], index, side="right")
    local = index - bounds[owner]
    # Per output block along the axis: the (input block, indexer) runs it is made of.
    plans: list[list[tuple[int, Any]]] = []
    for start, stop in zip([0, *accumulate(out_chunks)], accumulate(out_chunks), strict=False):
        if start == stop:
            plans.append([(0, slice(0, 0))])
            continue
        own, loc = owner[start:stop], local[start:stop]
        cuts = [0, *(np.flatnonzero(np.diff(own)) + 1).tolist(), stop - start]
        plans.append([(int(own[a]), _indexer(loc[a:b])) for a, b in zip(cuts, cuts[1:], strict=False)])
    chunks = list(x.chunks)
    chunks[axis] = tuple(int(c) for c in out_chunks)
    name = f"{token}-{tokenize(x.name, axis, index, chunks)}"
    layer: dict[Key, GraphNode] = {}
    for out_index in product(*(range(len(c)) for c in chunks)):
        plan = plans[out_index[axis]]
        refs = [Ref((x.name, *out_index[:axis], b, *out_index[axis + 1:])) for b, _ in plan]
        key = (name, *out_index)
        layer[key] = Task(key, _gather_block, refs, [ix for _, ix in plan], axis)
    return new_array(layer, name, tuple(chunks), x.dtype, deps=(x,), meta=x._meta)

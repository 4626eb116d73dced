"""Reading with lazy (shoal) integer indices whose values are unknown until computed.

:mod:`shoal.array._indexing` gathers with NumPy indices (positions known when
the graph is built) and with one lazy 1-d integer array. This module covers
what is left, all with one pointwise gather, :func:`pointwise_lazy`:

- ``x[idx]`` with ``idx`` a lazy integer array of 2 or more dimensions;
- a lazy integer array beside other integer arrays, NumPy or lazy
  (``x[lazy, [0, 1]]``): NumPy's rule, the arrays broadcast together and are
  read point by point;
- lazy arrays in ``x.vindex[...]``.

The model: the index arrays are broadcast to one shape and cut into the same
blocks. For index block ``k`` and each block ``J`` of ``x`` over the indexed
axes, piece ``(k, J)`` reads the index block, keeps the points that fall in
``J`` and returns their values; output block ``k`` reads the index block
again and scatters every piece into place. No task sees more than one index
block, and no positions are needed when the graph is built, so there is no
shuffle and no hidden compute. Bounds (and negative positions) are checked in
the tasks, with NumPy's ``IndexError``.

Also here: scalar booleans beside array indices (:func:`expand_scalar_bools`),
by NumPy's rule that a scalar boolean is a 0-d mask: an index array of shape
``(1,)`` (True) or ``(0,)`` (False) on a new length-1 axis.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets
from shoal.array._from_array import from_array
from shoal.array._indexing import has_unknown, index_broadcast_shape, normalize_positions, unknown_error
from shoal.array._rechunk import rechunk
from shoal.array._shape import broadcast_to
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["expand_scalar_bools", "is_scalar_bool", "lazy_bool_error", "one_element",
           "pointwise_lazy"]


def is_scalar_bool(item: Any) -> bool:
    """A Python/NumPy boolean scalar or a 0-d NumPy boolean array (not a lazy one)."""
    return isinstance(item, bool | np.bool_) or (isinstance(item, np.ndarray) and item.ndim == 0
                                                  and item.dtype.kind == "b")


def lazy_bool_error(what: str) -> NotImplementedError:
    """The refusal of a lazy boolean mask beside other array indices."""
    return NotImplementedError(
        f"{what}: a lazy (shoal) boolean mask beside other array indices is not supported, because NumPy pairs "
        f"the mask's true positions with the other arrays and their number is unknown until computed. Turn the "
        f"mask into positions first: x[mask.nonzero()[0].compute_chunk_sizes(), ...], or compute the mask."
    )


# -- the tasks ------------------------------------------------------------------------------
def _inside(indices: tuple[np.ndarray, ...], starts: tuple[int, ...], lengths: tuple[int, ...],
            totals: tuple[int, ...], axes: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Which points of an index block fall in the block starting at ``starts``, and all points, normalized."""
    positions = [normalize_positions(i, t, a) for i, t, a in zip(indices, totals, axes, strict=True)]
    inside = np.ones(np.broadcast_shapes(*(p.shape for p in positions)), dtype=bool)
    for p, s, n in zip(positions, starts, lengths, strict=True):
        inside &= (p >= s) & (p < s + n)
    return inside, positions


def _read_points(block: np.ndarray, indices: tuple[np.ndarray, ...], starts: tuple[int, ...],
                 lengths: tuple[int, ...], totals: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    inside, positions = _inside(indices, starts, lengths, totals, axes)
    local = tuple(np.broadcast_to(p, inside.shape)[inside] - s for p, s in zip(positions, starts, strict=True))
    return np.moveaxis(block, axes, tuple(range(len(axes))))[local]


def _scatter_points(indices: tuple[np.ndarray, ...], pieces: list[np.ndarray], starts: list[tuple[int, ...]],
                    lengths: list[tuple[int, ...]], totals: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    shape = np.broadcast_shapes(*(np.shape(i) for i in indices))
    out = np.empty((math.prod(shape), *pieces[0].shape[1:]), dtype=pieces[0].dtype)
    for piece, s, n in zip(pieces, starts, lengths, strict=True):
        inside, _ = _inside(indices, s, n, totals, axes)
        out[np.flatnonzero(inside.ravel())] = piece
    return out.reshape(shape + out.shape[1:])


# -- the gather ---------------------------------------------------------------------------
def _lined_up(x: ArrayBase, arrays: dict[int, Any]) -> tuple[tuple[Any, ...], list[ArrayBase]]:
    """The index arrays (axis order) broadcast to one shape and cut into the same blocks, all lazy."""
    axes = sorted(arrays)
    lazy = [arrays[a] for a in axes if isinstance(arrays[a], ArrayBase)]
    if len(axes) == 1:
        return tuple(lazy[0].shape), lazy
    for a in axes:
        if isinstance(arrays[a], ArrayBase) and any(isinstance(s, float) and math.isnan(s) for s in arrays[a].shape):
            raise ValueError(
                f"Cannot index with a lazy array of unknown shape {arrays[a].shape} (axis {a}) beside other "
                f"arrays: they must broadcast together. Call index.compute_chunk_sizes() first."
            )
    bshape = index_broadcast_shape([tuple(int(s) for s in np.shape(arrays[a])) for a in axes])
    chunks = broadcast_to(lazy[0], bshape).chunks
    out = []
    for a in axes:
        item = arrays[a]
        if isinstance(item, ArrayBase):
            item = broadcast_to(item, bshape)
            out.append(item if item.chunks == chunks else rechunk(item, chunks))
        else:
            out.append(from_array(np.broadcast_to(np.asarray(item, dtype=np.intp), bshape), chunks=chunks))
    return bshape, out


def pointwise_lazy(x: ArrayBase, arrays: dict[int, Any]) -> Any:
    """Read ``x`` at the points named by ``arrays`` (axis -> integer array, at least one of them lazy).

    The arrays broadcast together; the result has their broadcast shape first, then the axes of ``x`` not
    indexed, in order (as :func:`shoal.array._indexing.pointwise`). Positions may be negative; they are
    checked against the axis lengths when computed.
    """
    axes = tuple(sorted(arrays))
    for a in axes:
        if has_unknown(x.chunks[a]):
            raise unknown_error(x, a, "index with a lazy integer array")
    bshape, indices = _lined_up(x, arrays)
    index_grid = indices[0].numblocks
    starts = [[int(s) for s in chunk_offsets(x.chunks[a])] for a in axes]
    lengths = [[int(c) for c in x.chunks[a]] for a in axes]
    totals = tuple(int(x.shape[a]) for a in axes)
    grid = list(product(*(range(x.numblocks[a]) for a in axes)))
    others = list(product(*(range(n) for a, n in enumerate(x.numblocks) if a not in axes)))
    token = tokenize(x.name, [i.name for i in indices], axes)
    name, piece_name = f"vindex-lazy-{token}", f"vindex-lazy-piece-{token}"
    layer: dict[Any, Any] = {}
    block_starts = [tuple(starts[n][j] for n, j in enumerate(J)) for J in grid]
    block_lengths = [tuple(lengths[n][j] for n, j in enumerate(J)) for J in grid]
    for k in product(*(range(n) for n in index_grid)):
        index_refs = tuple(Ref((i.name, *k)) for i in indices)
        for o in others:
            refs = []
            for J, s, n in zip(grid, block_starts, block_lengths, strict=True):
                it, at = iter(o), dict(zip(axes, J, strict=True))
                full = [at[a] if a in at else next(it) for a in range(x.ndim)]
                pkey = (piece_name, *k, *J, *o)
                layer[pkey] = Task(pkey, _read_points, Ref((x.name, *full)), index_refs, s, n, totals, axes)
                refs.append(Ref(pkey))
            key = (name, *k, *o)
            layer[key] = Task(key, _scatter_points, index_refs, refs, block_starts, block_lengths, totals, axes)
    chunks = (*indices[0].chunks, *(c for a, c in enumerate(x.chunks) if a not in axes))
    return new_array(layer, name, chunks, x.dtype, deps=(x, *indices), meta=x._meta)


def one_element(scalar: ArrayBase) -> Any:
    """A lazy 0-d array as a 1-d array of length 1 (``x[x.argmax()]`` reads through it)."""
    name = f"atleast1d-{scalar.name}"
    layer = {(name, 0): Task((name, 0), np.reshape, Ref((scalar.name,)), (1,))}
    return new_array(layer, name, ((1,),), scalar.dtype, deps=(scalar,))


# -- scalar booleans beside arrays --------------------------------------------------------
def _consumed(item: Any) -> int:
    """How many axes of the array an (unconverted) index entry uses, Ellipsis aside."""
    if item is None or item is Ellipsis or is_scalar_bool(item):
        return 0
    if isinstance(item, ArrayBase):
        return item.ndim if item.dtype.kind == "b" else 1
    if isinstance(item, list | tuple | np.ndarray):
        arr = np.asarray(item)
        return arr.ndim if arr.dtype.kind == "b" else 1
    return 1


def expand_scalar_bools(x: ArrayBase, index: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """``(y, new_index)`` with ``y[new_index]`` equal to ``x[index]`` and no scalar booleans in ``new_index``.

    NumPy treats a scalar boolean as a 0-d mask: it uses no axis of ``x``, adds a length-1 axis, and is an
    advanced index of shape ``(1,)`` (True) or ``(0,)`` (False) on it. So ``y`` is ``x`` with that axis
    inserted where the boolean stands, and the boolean becomes ``[0]`` or ``[]`` on it; adjacency of the
    advanced entries, and so where their dimensions go, is unchanged.
    """
    used = sum(_consumed(i) for i in index)
    where: list[int] = []
    axis = 0
    for item in index:
        if is_scalar_bool(item):
            where.append(axis + len(where))
        else:
            axis += x.ndim - used if item is Ellipsis else _consumed(item)
    expand: list[Any] = [slice(None)] * x.ndim
    for w in where:
        expand.insert(w, None)
    y = x[tuple(expand)]
    new = tuple((np.zeros(1, dtype=np.intp) if bool(i) else np.zeros(0, dtype=np.intp)) if is_scalar_bool(i)
                else i for i in index)
    return y, new

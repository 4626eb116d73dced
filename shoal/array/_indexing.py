"""Gathers behind fancy indexing: integer arrays, boolean masks, pointwise (``vindex``) selection.

:mod:`shoal.array._slicing` reduces every index to basic slicing followed by
at most one of these gathers on the sliced array:

- :func:`take_numpy`: a NumPy integer array along one axis. The index is cut
  into runs; a run whose positions fall in one input block becomes one task.
  Otherwise the run is *sorted* by input block, each input block contributes
  one piece task (only the elements that run needs), and the output task
  concatenates the pieces and applies the inverse *permutation*. Output
  blocks are about as long as input blocks, and an input block can be
  released as soon as its pieces are cut, so memory stays bounded even for a
  random permutation.
- :func:`take_shoal`: a lazy (shoal) integer array along one axis. Output
  blocks follow the index's blocks; piece ``(k, j)`` takes from input block
  ``j`` the elements index block ``k`` asks for, and output block ``k``
  scatters its pieces into place.
- :func:`mask_shoal`: a lazy boolean array over ``k`` axes. Output lengths are
  unknown (``nan``) until computed. To return elements in NumPy's C order,
  the masked axes after the first are made single blocks first (the first
  axis is cut finer to keep blocks near their old size).
- :func:`pointwise`: several integer arrays broadcast together and read point
  by point, as ``x.vindex[...]`` does; the broadcast dimensions come first.
"""

from __future__ import annotations

import math
from itertools import accumulate, product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockwise import blockwise
from shoal.array._chunks import chunk_offsets
from shoal.array._rechunk import rechunk
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["has_unknown", "index_broadcast_shape", "mask_shoal", "move_axes", "normalize_positions", "pointwise",
           "take_numpy", "take_shoal", "unknown_error"]


def has_unknown(chunks_1d: Any) -> bool:
    return any(isinstance(c, float) and math.isnan(c) for c in chunks_1d)


def unknown_error(x: ArrayBase, axis: int, what: str) -> ValueError:
    """The error for an operation that needs the lengths of blocks nobody knows yet."""
    return ValueError(
        f"Cannot {what} along axis {axis} of {x.name!r}: its chunk sizes there are unknown (nan), "
        f"typically after boolean indexing. Call x.compute_chunk_sizes() first to learn them "
        f"(chunks are {x.chunks})."
    )


def _other_blocks(x: ArrayBase, skip: set[int]) -> list[tuple[int, ...]]:
    """Block indices along every axis not in ``skip``, in C order."""
    return list(product(*(range(n) for a, n in enumerate(x.numblocks) if a not in skip)))


def _insert(others: tuple[int, ...], at: dict[int, int], ndim: int) -> tuple[int, ...]:
    """A full block index from the blocks along free axes and fixed ``{axis: block}``."""
    it = iter(others)
    return tuple(at[a] if a in at else next(it) for a in range(ndim))


# -- a NumPy integer array along one axis ------------------------------------------------
def _take(block: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    return np.take(block, index, axis=axis)


def _gather(pieces: list[np.ndarray], inverse: np.ndarray, axis: int) -> np.ndarray:
    joined = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=axis)
    return np.take(joined, inverse, axis=axis)


def _runs(index: np.ndarray, block_of: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Cut ``index`` into runs of at most ``limit`` positions; sorted indices also cut at block edges."""
    n = len(index)
    if n == 0:
        return [(0, 0)]
    if n == 1 or bool(np.all(index[1:] >= index[:-1])):
        edges = [0, *(np.flatnonzero(block_of[1:] != block_of[:-1]) + 1).tolist(), n]
        out = []
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            out.extend((s, min(s + limit, stop)) for s in range(start, stop, limit))
        return out
    return [(s, min(s + limit, n)) for s in range(0, n, limit)]


def take_numpy(x: ArrayBase, index: np.ndarray, axis: int) -> Any:
    """``x`` indexed along ``axis`` by a 1-d array of non-negative, in-bounds integers."""
    chunks = x.chunks[axis]
    if has_unknown(chunks):
        raise unknown_error(x, axis, "index with an integer array")
    ends = np.fromiter(accumulate(int(c) for c in chunks), dtype=np.int64, count=len(chunks))
    offsets = ends - np.asarray(chunks, dtype=np.int64)
    block_of = np.searchsorted(ends, index, side="right")
    limit = max(int(max(chunks)), 1)
    token = tokenize(x.name, index, axis)
    name, piece_name = f"take-{token}", f"take-piece-{token}"
    layer: dict[Any, Any] = {}
    out_chunks_axis = []
    others = _other_blocks(x, {axis})
    for g, (start, stop) in enumerate(_runs(index, block_of, limit)):
        part, part_blocks = index[start:stop], block_of[start:stop]
        out_chunks_axis.append(stop - start)
        blocks_used = np.unique(part_blocks) if len(part) else np.array([0])
        if len(blocks_used) == 1:
            b = int(blocks_used[0])
            local = part - offsets[b]
            for o in others:
                source = (x.name, *_insert(o, {axis: b}, x.ndim))
                key = (name, *_insert(o, {axis: g}, x.ndim))
                layer[key] = Task(key, _take, Ref(source), local, axis)
            continue
        order = np.argsort(part_blocks, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        sorted_blocks = part_blocks[order]
        sorted_local = part[order] - offsets[sorted_blocks]
        cuts = np.flatnonzero(np.diff(sorted_blocks)) + 1
        groups = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(order)], strict=True))
        for o in others:
            refs = []
            for p, (lo, hi) in enumerate(groups):
                b = int(sorted_blocks[lo])
                pkey = (piece_name, g, p, *o)
                layer[pkey] = Task(pkey, _take, Ref((x.name, *_insert(o, {axis: b}, x.ndim))),
                                   sorted_local[lo:hi], axis)
                refs.append(Ref(pkey))
            key = (name, *_insert(o, {axis: g}, x.ndim))
            layer[key] = Task(key, _gather, refs, inverse, axis)
    chunks_out = tuple(tuple(out_chunks_axis) if a == axis else c for a, c in enumerate(x.chunks))
    return new_array(layer, name, chunks_out, x.dtype, deps=(x,), meta=x._meta)


# -- a shoal integer array along one axis ------------------------------------------------
def normalize_positions(index: np.ndarray, length: int, axis: int) -> np.ndarray:
    """``index`` made non-negative; ``IndexError`` (NumPy's message) for a position out of bounds."""
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise IndexError(f"arrays used as indices must be of integer (or boolean) type, got {index.dtype}")
    bad = (index < -length) | (index >= length)
    if bad.any():
        raise IndexError(f"index {index[bad][0]} is out of bounds for axis {axis} with size {length}")
    return np.where(index < 0, index + length, index)


def index_broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The shape index arrays broadcast to; ``IndexError`` with NumPy's message when they don't."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " ".join(str(s) for s in shapes)
        raise IndexError(f"shape mismatch: indexing arrays could not be broadcast together with shapes {shown}") \
            from None


def _take_in_range(block: np.ndarray, index: np.ndarray, start: int, length: int, total: int, axis: int) -> Any:
    index = normalize_positions(index, total, axis)
    local = index[(index >= start) & (index < start + length)] - start
    return np.take(block, local, axis=axis)


def _scatter(index: np.ndarray, pieces: list[np.ndarray], starts: list[int], lengths: list[int], total: int,
             axis: int) -> np.ndarray:
    index = normalize_positions(index, total, axis)
    shape = list(pieces[0].shape)
    shape[axis] = len(index)
    out = np.empty(shape, dtype=pieces[0].dtype)
    for piece, start, length in zip(pieces, starts, lengths, strict=True):
        where = (slice(None),) * axis + (np.flatnonzero((index >= start) & (index < start + length)),)
        out[where] = piece
    return out


def take_shoal(x: ArrayBase, index: ArrayBase, axis: int) -> Any:
    """``x`` indexed along ``axis`` by a lazy 1-d integer array (bounds checked when computed)."""
    chunks = x.chunks[axis]
    if has_unknown(chunks):
        raise unknown_error(x, axis, "index with an integer array")
    starts = [int(s) for s in chunk_offsets(chunks)]
    lengths = [int(c) for c in chunks]
    total = sum(lengths)
    token = tokenize(x.name, index.name, axis)
    name, piece_name = f"take-{token}", f"take-piece-{token}"
    layer: dict[Any, Any] = {}
    for k in range(index.numblocks[0]):
        for o in _other_blocks(x, {axis}):
            refs = []
            for j in range(len(chunks)):
                pkey = (piece_name, k, j, *o)
                layer[pkey] = Task(pkey, _take_in_range, Ref((x.name, *_insert(o, {axis: j}, x.ndim))),
                                   Ref((index.name, k)), starts[j], lengths[j], total, axis)
                refs.append(Ref(pkey))
            key = (name, *_insert(o, {axis: k}, x.ndim))
            layer[key] = Task(key, _scatter, Ref((index.name, k)), refs, starts, lengths, total, axis)
    chunks_out = tuple(index.chunks[0] if a == axis else c for a, c in enumerate(x.chunks))
    return new_array(layer, name, chunks_out, x.dtype, deps=(x, index), meta=x._meta)


# -- a shoal boolean mask over k axes -----------------------------------------------------
def _apply_mask(block: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    if mask.shape != block.shape[axis:axis + mask.ndim]:
        raise IndexError(
            f"boolean index block of shape {mask.shape} does not match the array block of shape {block.shape} "
            f"at axis {axis}; the mask's chunks must line up with the array's."
        )
    return block[(slice(None),) * axis + (mask,)]


def mask_shoal(x: ArrayBase, mask: ArrayBase, axis: int) -> Any:
    """Elements of ``x`` where the lazy boolean ``mask`` (covering axes ``axis:axis+k``) holds."""
    k = mask.ndim
    covered = range(axis, axis + k)
    if k > 1:
        # Whole blocks along the masked axes after the first, so that block order is C order.
        for a in covered[1:]:
            if x.numblocks[a] > 1 and has_unknown(x.chunks[a]):
                raise unknown_error(x, a, "mask with a multi-dimensional boolean array")
        if any(x.numblocks[a] > 1 or mask.numblocks[a - axis] > 1 for a in covered[1:]):
            if has_unknown(x.chunks[axis]):
                raise unknown_error(x, axis, "mask with a multi-dimensional boolean array")
            inner = math.prod(int(x.shape[a]) for a in covered[1:])
            block_items = int(max(x.chunks[axis])) * math.prod(int(max(x.chunks[a])) for a in covered[1:])
            first = max(1, block_items // max(inner, 1))
            x = rechunk(x, {axis: first, **{a: -1 for a in covered[1:]}})
            mask = rechunk(mask, {0: first, **{a - axis: -1 for a in covered[1:]}})
    if mask.chunks[0] != x.chunks[axis]:
        if has_unknown(mask.chunks[0]) or has_unknown(x.chunks[axis]):
            if mask.numblocks[0] != x.numblocks[axis]:
                raise unknown_error(x, axis, "line up a boolean mask with unknown chunk sizes")
        else:
            mask = rechunk(mask, {0: x.chunks[axis]})
    name = f"getitem-mask-{tokenize(x.name, mask.name, axis)}"
    layer: dict[Any, Any] = {}
    free = set(covered[1:])
    for o in _other_blocks(x, free):
        source = (x.name, *_insert(o, {a: 0 for a in free}, x.ndim))
        mask_key = (mask.name, o[axis], *(0,) * (k - 1))
        key = (name, *o)
        layer[key] = Task(key, _apply_mask, Ref(source), Ref(mask_key), axis)
    chunks_out = (*x.chunks[:axis], (math.nan,) * x.numblocks[axis], *x.chunks[axis + k:])
    return new_array(layer, name, chunks_out, x.dtype, deps=(x, mask), meta=x._meta)


# -- pointwise selection (vindex) ---------------------------------------------------------
def _point_piece(block: np.ndarray, local: tuple[np.ndarray, ...], axes: tuple[int, ...]) -> np.ndarray:
    moved = np.moveaxis(block, axes, tuple(range(len(axes))))
    return moved[local]


def _point_gather(pieces: list[np.ndarray], selections: list[np.ndarray], count: int,
                  shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty((count, *pieces[0].shape[1:]), dtype=pieces[0].dtype)
    for piece, sel in zip(pieces, selections, strict=True):
        out[sel] = piece
    return out.reshape(shape + out.shape[1:])


def pointwise(x: ArrayBase, arrays: dict[int, np.ndarray]) -> Any:
    """Read ``x`` at the points given by broadcasting ``arrays`` (axis -> non-negative ints).

    The result has the broadcast shape first, then the axes of ``x`` not indexed, in order.
    """
    axes = tuple(sorted(arrays))
    for a in axes:
        if has_unknown(x.chunks[a]):
            raise unknown_error(x, a, "index pointwise")
    bshape = index_broadcast_shape([arrays[a].shape for a in axes])
    flat = [np.broadcast_to(arrays[a], bshape).ravel() for a in axes]
    ends = [np.fromiter(accumulate(int(c) for c in x.chunks[a]), dtype=np.int64) for a in axes]
    block_of = [np.searchsorted(e, f, side="right") for e, f in zip(ends, flat, strict=True)]
    local = [f - (e - np.asarray(x.chunks[a], dtype=np.int64))[b]
             for a, e, f, b in zip(axes, ends, flat, block_of, strict=True)]
    grid = tuple(x.numblocks[a] for a in axes)
    linear = np.ravel_multi_index(tuple(block_of), grid) if flat[0].size else np.zeros(0, dtype=np.int64)
    row = math.prod(bshape[1:]) if bshape else 1
    rows = bshape[0] if bshape else 1
    limit = max(int(max(max(x.chunks[a]) for a in axes)), 1)
    per_group = max(1, limit // row) if row else max(rows, 1)
    groups = [(r, min(r + per_group, rows)) for r in range(0, rows, per_group)] or [(0, 0)]
    token = tokenize(x.name, [arrays[a] for a in axes], axes)
    name, piece_name = f"vindex-{token}", f"vindex-piece-{token}"
    layer: dict[Any, Any] = {}
    indexed = set(axes)
    for g, (r0, r1) in enumerate(groups):
        p0, p1 = r0 * row, r1 * row
        ids = linear[p0:p1]
        if ids.size:
            by_block = np.argsort(ids, kind="stable")
            cuts = (np.flatnonzero(np.diff(ids[by_block])) + 1).tolist()
            used = ids[by_block][[0, *cuts]]
            selections = np.split(by_block, cuts)
        else:
            used, selections = np.array([0]), [np.zeros(0, dtype=np.intp)]
        block_index = [np.unravel_index(int(u), grid) for u in used]
        shape = (r1 - r0, *bshape[1:]) if bshape else ()
        for o in _other_blocks(x, indexed):
            refs = []
            for p, (sel, bidx) in enumerate(zip(selections, block_index, strict=True)):
                pkey = (piece_name, g, p, *o)
                source = (x.name, *_insert(o, dict(zip(axes, (int(b) for b in bidx), strict=True)), x.ndim))
                points = tuple(loc[p0:p1][sel] for loc in local)
                layer[pkey] = Task(pkey, _point_piece, Ref(source), points, axes)
                refs.append(Ref(pkey))
            key = (name, *((g,) if bshape else ()), *(0,) * max(len(bshape) - 1, 0), *o)
            layer[key] = Task(key, _point_gather, refs, selections, p1 - p0, shape)
    chunks_out = ((*((tuple(r1 - r0 for r0, r1 in groups),) if bshape else ()), *((n,) for n in bshape[1:]),
                   *(c for a, c in enumerate(x.chunks) if a not in indexed)))
    return new_array(layer, name, chunks_out, x.dtype, deps=(x,), meta=x._meta)


def move_axes(x: ArrayBase, source: list[int], destination: int) -> Any:
    """Move the consecutive-in-result axes ``source`` of ``x`` to start at ``destination``."""
    rest = [a for a in range(x.ndim) if a not in source]
    perm = rest[:destination] + list(source) + rest[destination:]
    if perm == list(range(x.ndim)):
        return x
    return blockwise(np.transpose, tuple(perm), x, tuple(range(x.ndim)), axes=tuple(perm), dtype=x.dtype,
                     token="transpose", meta=x._meta)

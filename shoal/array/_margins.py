"""Margins: extending blocks with their neighbours' data (the mechanism behind :mod:`._overlap`).

The model
    ``overlap(x, depth, boundary)`` returns an array whose block ``j`` along
    an axis holds the original block plus ``depth`` elements from either
    side. Think of the axis as extended to ``[-left, L + right)``: positions
    inside ``[0, L)`` are real data, gathered from however many neighbouring
    blocks they span (so a depth larger than a chunk needs no rechunking), and
    positions outside are boundary padding:

    ============  ================================  ========================
    boundary      value at position ``-1 - i``      ``numpy.pad`` /
                  (left of the array)               ``scipy.ndimage`` mode
    ============  ================================  ========================
    "reflect"     ``x[i]`` (the edge repeats)       symmetric / reflect
    "periodic"    ``x[L - 1 - i]``                  wrap / wrap
    "nearest"     ``x[0]``                          edge / nearest
    a number      that number                       constant / constant
    "none"        no padding: edge blocks grow       -
                  only on their inner side
    ============  ================================  ========================

    Axes are extended one after the other, so corners are filled consistently
    (the second pass reads the margins the first pass added).

    ``map_overlap`` = ``overlap``, then ``map_blocks``, then ``trim``: it cuts
    from each output block exactly the margins its input block received.

Built on the same mechanism: ``sliding_window_view`` and ``diff`` (a right
margin of ``window - 1`` or ``n`` elements with boundary "none") and
``gradient`` (a margin of ``edge_order`` elements).
"""

from __future__ import annotations

from itertools import product
from numbers import Integral, Number
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets
from shoal.array._blockmap import require_known
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["Margins", "normalize_boundary", "normalize_depth", "overlap_with_margins", "trim_margins"]

_MODES = ("reflect", "periodic", "nearest", "none")
Margins = dict[int, tuple[int, int]]


# -- arguments -----------------------------------------------------------------------------------------------
def normalize_depth(depth: Any, ndim: int) -> Margins:
    """``{axis: (left, right)}`` for every axis with a non-zero margin."""
    if depth is None:
        depth = 0
    if isinstance(depth, Integral):
        spec: dict[int, Any] = dict.fromkeys(range(ndim), depth)
    elif isinstance(depth, dict):
        spec = {}
        for axis, value in depth.items():
            if not isinstance(axis, Integral) or not -ndim <= axis < ndim:
                raise ValueError(f"depth has an entry for axis {axis!r}, but the array has {ndim} dimensions.")
            spec[int(axis) % ndim] = value
    elif isinstance(depth, tuple | list):
        if len(depth) != ndim:
            raise ValueError(f"depth={depth!r} has {len(depth)} entries but the array has {ndim} dimensions; "
                             f"give one per axis or a dict {{axis: depth}}.")
        spec = dict(enumerate(depth))
    else:
        raise TypeError(f"depth must be an int, a tuple or a dict {{axis: depth}}, got {depth!r}.")
    out: Margins = {}
    for axis, value in spec.items():
        left, right = (value, value) if isinstance(value, Integral) else tuple(value)
        if not isinstance(left, Integral) or not isinstance(right, Integral) or left < 0 or right < 0:
            raise ValueError(f"depth along axis {axis} must be a non-negative int or a (left, right) pair of them, "
                             f"got {value!r}.")
        if left or right:
            out[axis] = (int(left), int(right))
    return out


def _check_mode(mode: Any) -> Any:
    if isinstance(mode, str):
        if mode not in _MODES:
            raise ValueError(f"boundary {mode!r} is not understood; use one of {list(_MODES)} or a number "
                             f"(a constant fill value).")
        return mode
    if isinstance(mode, Number | np.generic):
        return mode
    raise TypeError(f"boundary must be one of {list(_MODES)} or a number, got {mode!r}.")


def normalize_boundary(boundary: Any, ndim: int) -> dict[int, Any]:
    if boundary is None:
        boundary = "none"
    if isinstance(boundary, dict):
        return {a: _check_mode(boundary.get(a, boundary.get(a - ndim, "none"))) for a in range(ndim)}
    if isinstance(boundary, tuple | list):
        if len(boundary) != ndim:
            raise ValueError(f"boundary={boundary!r} has {len(boundary)} entries but the array has {ndim} "
                             f"dimensions.")
        return {a: _check_mode(b) for a, b in enumerate(boundary)}
    mode = _check_mode(boundary)
    return dict.fromkeys(range(ndim), mode)


# -- per-block functions -------------------------------------------------------------------------------------
def _slice_axis(block: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index = [slice(None)] * block.ndim
    index[axis] = slice(start, stop)
    return block[tuple(index)]


def _join_axis(parts: list[np.ndarray], axis: int, reverse: bool = False) -> np.ndarray:
    out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
    return np.flip(out, axis=axis) if reverse else out


def _repeat_axis(edge: np.ndarray, axis: int, count: int) -> np.ndarray:
    return np.repeat(edge, count, axis=axis)


def _constant_like(block: np.ndarray, axis: int, count: int, value: Any) -> np.ndarray:
    shape = list(block.shape)
    shape[axis] = count
    return np.full(shape, value, dtype=block.dtype)


def _trim_block(block: np.ndarray, margins: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    index = [slice(None)] * block.ndim
    for axis, left, right in margins:
        index[axis] = slice(left, block.shape[axis] - right)
    return block[tuple(index)]


# -- the mechanism -------------------------------------------------------------------------------------------
def _read_range(x: ArrayBase, axis: int, block_index: tuple[int, ...], start: int, stop: int,
                starts: list[int]) -> list[Any]:
    """Tasks reading real positions ``[start, stop)`` along ``axis`` from the row of blocks through ``block_index``."""
    parts = []
    chunks = x.chunks[axis]
    for j, (offset, length) in enumerate(zip(starts, chunks, strict=True)):
        lo, hi = max(start, offset), min(stop, offset + length)
        if lo >= hi:
            continue
        index = (*block_index[:axis], j, *block_index[axis + 1:])
        ref = Ref((x.name, *index))
        parts.append(ref if (lo, hi) == (offset, offset + length) else
                     Task(None, _slice_axis, ref, axis, lo - offset, hi - offset))
    return parts


def _extend_axis(x: ArrayBase, axis: int, left: int, right: int, mode: Any) -> tuple[Any, list[tuple[int, int]]]:
    """Extend the blocks of ``x`` along one axis; also return what each block gained on each side."""
    require_known(x, (axis,), "overlap")
    length = int(x.shape[axis])
    if mode in ("reflect", "periodic") and max(left, right) > length:
        raise ValueError(f"overlap depth ({left}, {right}) along axis {axis} is larger than the axis ({length}); "
                         f"boundary {mode!r} can only mirror or wrap once. Use a smaller depth.")
    if mode == "nearest" and length == 0 and (left or right):
        raise ValueError(f"boundary 'nearest' needs at least one element along axis {axis}, which is empty.")
    starts = [int(s) for s in chunk_offsets(x.chunks[axis])]
    name = f"overlap-{tokenize(x, axis, left, right, mode)}"
    gained: list[tuple[int, int]] = []
    new_chunks = []
    for j, c in enumerate(x.chunks[axis]):
        s, e = starts[j], starts[j] + int(c)
        lo, hi = (max(0, s - left), min(length, e + right)) if mode == "none" else (s - left, e + right)
        gained.append((s - lo, hi - e))
        new_chunks.append(hi - lo)
    layer = {}
    for index in product(*(range(n) for n in x.numblocks)):
        j = index[axis]
        s, e = starts[j], starts[j] + int(x.chunks[axis][j])
        lo, hi = s - gained[j][0], e + gained[j][1]
        own = Ref((x.name, *index))
        parts: list[Any] = []
        if lo < 0:
            parts.append(_padding(x, axis, index, own, lo, min(hi, 0), length, mode, starts, left_side=True))
        real = _read_range(x, axis, index, max(lo, 0), min(hi, length), starts)
        parts.extend(real)
        if hi > length:
            parts.append(_padding(x, axis, index, own, max(lo, length), hi, length, mode, starts, left_side=False))
        key = (name, *index)
        if not parts:  # an empty block with no margin
            parts = [own]
        layer[key] = Task(key, _join_axis, parts, axis)
    chunks = tuple(tuple(new_chunks) if a == axis else c for a, c in enumerate(x.chunks))
    return new_array(layer, name, chunks, x.dtype, deps=(x,), meta=x._meta), gained


def _padding(x: ArrayBase, axis: int, index: tuple[int, ...], own: Ref, a: int, b: int, length: int, mode: Any,
             starts: list[int], left_side: bool) -> Any:
    """A task for the boundary positions ``[a, b)`` (all left of 0 or all right of ``length``)."""
    count = b - a
    if mode == "reflect":
        lo, hi = (-b, -a) if left_side else (2 * length - b, 2 * length - a)
        return Task(None, _join_axis, _read_range(x, axis, index, lo, hi, starts), axis, True)
    if mode == "periodic":
        lo, hi = (a + length, b + length) if left_side else (a - length, b - length)
        return Task(None, _join_axis, _read_range(x, axis, index, lo, hi, starts), axis)
    if mode == "nearest":
        edge = 0 if left_side else length - 1
        return Task(None, _repeat_axis, Task(None, _join_axis, _read_range(x, axis, index, edge, edge + 1, starts),
                                             axis), axis, count)
    return Task(None, _constant_like, own, axis, count, mode)


def overlap_with_margins(x: ArrayBase, depth: Margins, boundary: dict[int, Any]) -> tuple[Any, dict[int, list]]:
    gained: dict[int, list[tuple[int, int]]] = {}
    for axis in sorted(depth):
        left, right = depth[axis]
        x, gained[axis] = _extend_axis(x, axis, left, right, boundary[axis])
    return x, gained


def trim_margins(x: ArrayBase, gained: dict[int, list[tuple[int, int]]], axis_map: dict[int, int] | None = None) -> Any:
    """Cut ``gained[axis][j]`` = (left, right) from block ``j`` along each axis of ``x``."""
    axis_map = axis_map or {a: a for a in gained}
    name = f"trim-{tokenize(x, gained, axis_map)}"
    layer = {}
    for index in product(*(range(n) for n in x.numblocks)):
        margins = tuple((out_axis, *gained[in_axis][index[out_axis]]) for in_axis, out_axis in axis_map.items())
        key = (name, *index)
        layer[key] = Task(key, _trim_block, Ref((x.name, *index)), margins)
    chunks = []
    for out_axis, c in enumerate(x.chunks):
        in_axes = [i for i, o in axis_map.items() if o == out_axis]
        if not in_axes:
            chunks.append(c)
            continue
        sides = gained[in_axes[0]]
        new = tuple(length - left - right for length, (left, right) in zip(c, sides, strict=True))
        if any(n < 0 for n in new):
            raise ValueError(f"Cannot trim margins {sides} from blocks of lengths {c} along axis {out_axis}: the "
                             f"function returned blocks smaller than the margins. Pass trim=False.")
        chunks.append(new)
    return new_array(layer, name, tuple(chunks), x.dtype, deps=(x,), meta=x._meta)

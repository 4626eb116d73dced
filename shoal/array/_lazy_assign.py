"""Assignment through a lazy (shoal) index: ``x[idx] = v`` with positions unknown until computed.

``idx`` is one lazy 1-d integer array or 1-d boolean mask, alone or inside an
index tuple beside integers and slices (``x[:, lazy] = v``), as Dask allows.

The model, with no shuffle: every output block is one task that reads its
input block, the whole lazy index (joined; an index is small next to the
array) and the part of the value the block could need (all of it along the
indexed axis, its own share along the sliced ones). The task finds the
positions that fall in its block, picks the matching values along the
indexed axis and writes them. A position named twice keeps the last value,
as NumPy does; bounds and negative positions are checked in the tasks with
NumPy's ``IndexError``. With a mask, the number of true values is known only
then, so the value's length along that axis is checked there too.

The small helpers every assignment uses (:func:`as_argument`, :func:`write`,
:func:`mismatch`) live here too, so that :mod:`shoal.array._assignment`
builds on this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets
from shoal.array._indexing import has_unknown, unknown_error
from shoal.array._indexing import normalize_positions
from shoal.array._shape import broadcast_to
from shoal.array._slicing import slice_pieces
from shoal.graph.task import Alias, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["as_argument", "assign_lazy", "fit_value", "mismatch", "planned_piece", "rewrite_blocks", "write"]


# -- helpers shared by every assignment -----------------------------------------------------
def _join_nested(nested: Any, ndim: int, axis: int = 0) -> np.ndarray:
    if axis == ndim - 1:
        return nested[0] if len(nested) == 1 else np.concatenate(nested, axis=axis)
    parts = [_join_nested(n, ndim, axis + 1) for n in nested]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def as_argument(piece: Any) -> Any:
    """A task argument holding all of ``piece``: a NumPy array, or the joined blocks of a shoal array."""
    if not isinstance(piece, ArrayBase):
        return np.array(piece)  # a copy: later changes to the caller's array must not leak in
    if piece.ndim == 0:
        return Ref((piece.name,))

    def refs(keys: Any) -> Any:
        return [refs(k) for k in keys] if isinstance(keys, list) else Ref(keys)

    return Task(None, _join_nested, refs(piece.__dask_keys__()), piece.ndim)


def write(block: np.ndarray, index: Any, value: Any) -> np.ndarray:
    """A copy of ``block`` with ``value`` written at ``index`` (tasks never change their inputs)."""
    out = block.copy()
    out[index] = value
    return out


def mismatch(value_shape: tuple[Any, ...], target: tuple[Any, ...]) -> ValueError:
    """NumPy's error for a value that does not broadcast to the selection."""
    return ValueError(
        f"shape mismatch: value array of shape {tuple(value_shape)} could not be broadcast to indexing result "
        f"of shape {target}"
    )


# -- the task ---------------------------------------------------------------------------------
def rewrite_blocks(x: ArrayBase, name: str, deps: list[Any],
                   write_for: Callable[[tuple[int, ...]], tuple[Callable[..., Any], tuple[Any, ...], Any] | None]
                   ) -> Any:
    """``x`` with some blocks rewritten: ``write_for(block)`` is ``None`` for a block kept as it is, else
    ``(func, args, piece)`` for the task ``func(old block, *args)``, where ``piece`` is the part of the value
    that block writes (a shoal array among them joins ``deps``)."""
    layer: dict[Any, Any] = {}
    for block in product(*(range(n) for n in x.numblocks)):
        out_key = (name, *block)
        call = write_for(block)
        if call is None:
            layer[out_key] = Alias(out_key, (x.name, *block))
            continue
        func, args, piece = call
        if isinstance(piece, ArrayBase):
            deps.append(piece)
        layer[out_key] = Task(out_key, func, Ref((x.name, *block)), *args)
    return new_array(layer, name, x.chunks, x.dtype, deps=tuple(deps), meta=x._meta)


def planned_piece(block: tuple[int, ...], plans: list[dict[int, Any]], shape: tuple[int, ...], lead: int,
                  value_axes: list[int], value: Any) -> tuple[tuple[Any, ...], Any] | None:
    """What output ``block`` writes: ``None`` where a plan leaves it untouched, else its local index and the
    piece of ``value`` (broadcast axes of length 1 whole, the others cut as the plans say)."""
    if any(b not in plan for b, plan in zip(block, plans, strict=True)):
        return None
    local = tuple(plan[b][0] for b, plan in zip(block, plans, strict=True))
    selection = tuple(slice(None) if shape[t - lead] == 1 else plans[a][block[a]][1]
                      for t, a in enumerate(value_axes) if t >= lead)
    return local, (value[selection] if selection else value)


def _write_found(block: np.ndarray, local: tuple[Any, ...], at: int, index: np.ndarray, is_mask: bool, start: int,
                 total: int, value: Any, value_axis: int | None) -> np.ndarray:
    """Write ``value`` where the lazy ``index`` (axis ``at`` of the block's index) falls in this block."""
    index = np.asarray(index)
    if is_mask:
        if index.shape != (total,):
            raise IndexError(f"boolean index did not match indexed array along axis {at}; size of axis is {total} "
                             f"but size of corresponding boolean axis is {index.shape[0]}")
        positions = np.flatnonzero(index)
    else:
        positions = normalize_positions(index.reshape(-1), total, at)
    if value_axis is not None and value.shape[value_axis] != len(positions):
        if is_mask:
            raise ValueError(f"NumPy boolean array indexing assignment cannot assign {value.shape[value_axis]} "
                             f"input values to the {len(positions)} output values where the mask is true")
        raise mismatch(value.shape, (len(positions),))
    hits = np.flatnonzero((positions >= start) & (positions < start + block.shape[at]))
    if not hits.size:
        return block
    if value_axis is not None:
        value = np.take(value, hits, axis=value_axis)
    return write(block, local[:at] + (positions[hits] - start,) + local[at + 1:], value)


# -- the graph ------------------------------------------------------------------------------
def _target(x: ArrayBase, index: tuple[Any, ...], at: int) -> tuple[list[int], tuple[Any, ...]]:
    """The axes of ``x`` that the selection keeps, in NumPy's order, and the selection's shape."""
    item = index[at]
    lengths: dict[int, Any] = {}
    for axis, entry in enumerate(index):
        if isinstance(entry, slice):
            lengths[axis] = len(range(*entry.indices(int(x.shape[axis]))))
        elif axis == at:
            lengths[axis] = math.nan if item.dtype.kind == "b" else item.shape[0]
    axes = sorted(lengths)
    advanced = [n for n, e in enumerate(index) if not isinstance(e, slice)]
    if advanced != list(range(advanced[0], advanced[-1] + 1)):
        axes = [at] + [a for a in axes if a != at]  # NumPy puts the array's dimension first
    return axes, tuple(lengths[a] for a in axes)


def fit_value(value: Any, target: tuple[Any, ...]) -> tuple[Any, tuple[int, ...]]:
    """``value`` without extra leading length-1 axes, and its shape, checked against ``target``."""
    shape = tuple(int(s) for s in value.shape)
    while len(shape) > len(target) and shape[0] == 1:
        shape = shape[1:]
    if len(shape) > len(target):
        raise mismatch(value.shape, target)
    for have, want in zip(shape[::-1], target[::-1], strict=False):
        if have != 1 and not (isinstance(want, float) and math.isnan(want)) and have != want:
            raise mismatch(value.shape, target)
    if len(shape) < value.ndim:
        value = value[(0,) * (value.ndim - len(shape))]  # drop leading length-1 axes, as NumPy does
    return value, shape


def _assign_raveled(x: ArrayBase, index: tuple[Any, ...], at: int, value: Any) -> Any:
    """``x[..., idx, ...] = value`` for a lazy integer ``idx`` of 2+ dimensions, as the same assignment through
    ``idx.ravel()``: the value is broadcast to NumPy's selection shape, whose ``idx`` axes are then merged into
    one, in C order, which is also the order NumPy writes repeated positions in."""
    item = index[at]
    if has_unknown(list(item.shape)):
        raise ValueError(f"Cannot assign through a lazy index of unknown shape {item.shape}; call "
                         f"index.compute_chunk_sizes() first.")
    flat = item.ravel()
    raveled = index[:at] + (flat,) + index[at + 1:]
    value_axes, target = _target(x, raveled, at)
    where = value_axes.index(at)
    full = target[:where] + tuple(int(n) for n in item.shape) + target[where + 1:]
    try:
        if isinstance(value, ArrayBase):
            value = broadcast_to(value, full).reshape(target)
        else:
            value = np.broadcast_to(np.asarray(value), full).reshape(target)
    except ValueError:
        raise mismatch(value.shape, full) from None
    return assign_lazy(x, raveled, value)


def assign_lazy(x: ArrayBase, index: tuple[Any, ...], value: Any) -> Any:
    """``x`` with ``value`` written at ``index``: a normalized tuple, one entry per axis, of integers, slices
    and exactly one lazy 1-d integer array or boolean mask. Returns the new array."""
    at_list = [n for n, i in enumerate(index) if isinstance(i, ArrayBase)]
    if len(at_list) != 1 or any(isinstance(i, np.ndarray) or i is None for i in index):
        raise NotImplementedError(
            "Assignment with a lazy (shoal) index supports one lazy array beside integers and slices only (as "
            "Dask); compute the other lazy indices first (np.asarray(index)) or assign one axis at a time."
        )
    (at,) = at_list
    item = index[at]
    if item.ndim == 0 and item.dtype.kind != "b":
        item = item.reshape(1)  # x[i] = v is x[[i]] = v: the value broadcasts the same way
        index = index[:at] + (item,) + index[at + 1:]
    if item.ndim > 1 and item.dtype.kind != "b":
        return _assign_raveled(x, index, at, value)
    if item.ndim != 1:
        raise NotImplementedError(
            f"Assignment with a {item.ndim}-d lazy mask beside other indices is not supported (Dask allows 1-d "
            f"only); compute the mask first (np.asarray(mask)), or use shoal.array.where(mask, value, x) for a "
            f"mask of the whole shape."
        )
    if has_unknown(item.chunks[0]) and item.dtype.kind != "b":
        raise ValueError(f"Cannot assign through a lazy index of unknown length {item.shape}; call "
                         f"index.compute_chunk_sizes() first.")
    for axis in range(x.ndim):
        if has_unknown(x.chunks[axis]):
            raise unknown_error(x, axis, "assign")
    if item.dtype.kind == "b" and not has_unknown(item.chunks[0]) and item.shape[0] != x.shape[at]:
        raise IndexError(f"boolean index did not match indexed array along axis {at}; size of axis is "
                         f"{x.shape[at]} but size of corresponding boolean axis is {item.shape[0]}")
    if not isinstance(value, ArrayBase):
        value = np.asarray(value)
    elif has_unknown([s for s in value.shape]):
        raise ValueError(f"Cannot assign a value of unknown shape {value.shape}; call value.compute_chunk_sizes() "
                         f"first.")
    value_axes, target = _target(x, index, at)
    value, shape = fit_value(value, target)
    lead = len(target) - len(shape)

    # Per axis: block -> (index within the block, selection of the value along this axis or None).
    plans: list[dict[int, tuple[Any, Any]]] = []
    for axis, entry in enumerate(index):
        chunks = x.chunks[axis]
        if axis == at:
            plans.append({b: (None, slice(None)) for b in range(len(chunks))})
        elif isinstance(entry, int):
            b = int(np.searchsorted(np.cumsum(chunks), entry, side="right"))
            plans.append({b: (entry - int(chunk_offsets(chunks)[b]), None)})
        else:
            plan, position = {}, 0
            for b, local, count in slice_pieces(chunks, entry):
                if count:
                    plan[b] = (local, slice(position, position + count))
                position += count
            plans.append(plan)
    t_at = value_axes.index(at)
    value_axis = t_at - lead if t_at >= lead and shape[t_at - lead] != 1 else None
    joined = as_argument(item)
    total = int(x.shape[at])
    starts = [int(s) for s in chunk_offsets(x.chunks[at])]
    name = f"setitem-lazy-{tokenize(x.name, index[:at], item.name, index[at + 1:], value)}"

    def write_for(block: tuple[int, ...]) -> Any:
        planned = planned_piece(block, plans, shape, lead, value_axes, value)
        if planned is None:
            return None
        local, piece = planned
        return _write_found, (local, at, joined, item.dtype.kind == "b", starts[block[at]], total,
                              as_argument(piece), value_axis), piece

    return rewrite_blocks(x, name, [x, item], write_for)

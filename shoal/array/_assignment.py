"""Assignment into shoal arrays: ``x[index] = value``, lazily and in place.

As in Dask, assignment does not compute anything: it builds a new graph in
which every block the index touches is copied and written to, and every
other block is an alias of the old one, and then the array object takes that
graph over (its name, chunks and layer change; other arrays built from it
earlier keep reading the old blocks).

For each block, the index is cut down to the part that falls inside it
(``slice_pieces`` for slices, a filter for integer arrays), and the value is
cut down to the matching part, so no task ever holds more than one block of
the array plus its share of the value.

Supported indexes: integers, slices with any step, one 1-d integer (or
boolean) NumPy array, a NumPy boolean mask of the array's shape, and a lazy
boolean array of the array's shape with a scalar value (``x[x > 0] = 0``).
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets, slices_from_chunks
from shoal.array._elementwise import elemwise
from shoal.array._indexing import has_unknown, unknown_error
from shoal.array._slicing import getitem, normalize_index, slice_pieces
from shoal.graph.task import Alias, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["setitem", "setitem_points"]


def setitem(x: ArrayBase, key: Any, value: Any) -> None:
    """Make ``x`` the array with ``value`` written at ``key``; see the module docstring."""
    # The old graph stays reachable under the old name through this frozen copy:
    # the new graph (and arrays built from x before) read its blocks.
    old = type(x)(x._layer, x.name, x._chunks, x._meta, x._deps)
    if isinstance(key, ArrayBase):
        new = _assign_lazy_mask(old, key, value)
    else:
        new = _assign(old, key, value)
    x.name, x._chunks, x._meta, x._layer, x._deps = new.name, new._chunks, new._meta, new._layer, new._deps


def _assign_lazy_mask(x: ArrayBase, mask: ArrayBase, value: Any) -> Any:
    if mask.dtype.kind != "b":
        raise NotImplementedError(
            "Assignment with a lazy integer index is not supported; compute the index (np.asarray(index)) first."
        )
    if mask.ndim > x.ndim or any(
        not (isinstance(m, float) or isinstance(s, float)) and m != s for m, s in zip(mask.shape, x.shape, strict=False)
    ):
        raise IndexError(
            f"x[mask] = value needs a boolean mask of the array's shape {x.shape} (or of its leading axes), "
            f"got shape {mask.shape}."
        )
    if mask.ndim < x.ndim:
        mask = getitem(mask, (Ellipsis,) + (None,) * (x.ndim - mask.ndim))  # masks whole trailing rows
    value_shape = tuple(value.shape) if isinstance(value, ArrayBase) else np.shape(value)
    if math.prod(value_shape) != 1:
        raise NotImplementedError(
            f"x[mask] = value with a lazy mask needs a scalar value (got shape {value_shape}): the number of "
            f"masked elements is unknown until computed. Use shoal.array.where(mask, value, x) for "
            f"element-wise values."
        )
    if not isinstance(value, ArrayBase):
        value = np.asarray(value).reshape(())
    elif value.ndim:
        value = value[(0,) * value.ndim]
    return elemwise(np.where, mask, value, x).astype(x.dtype)  # type: ignore[attr-defined]


def _join_nested(nested: Any, ndim: int, axis: int = 0) -> np.ndarray:
    if axis == ndim - 1:
        return nested[0] if len(nested) == 1 else np.concatenate(nested, axis=axis)
    parts = [_join_nested(n, ndim, axis + 1) for n in nested]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def _as_argument(piece: Any) -> Any:
    """A task argument holding all of ``piece``: a NumPy array, or the joined blocks of a shoal array."""
    if not isinstance(piece, ArrayBase):
        return np.array(piece)  # a copy: later changes to the caller's array must not leak in
    if piece.ndim == 0:
        return Ref((piece.name,))

    def refs(keys: Any) -> Any:
        return [refs(k) for k in keys] if isinstance(keys, list) else Ref(keys)

    return Task(None, _join_nested, refs(piece.__dask_keys__()), piece.ndim)


def _write(block: np.ndarray, index: Any, value: Any) -> np.ndarray:
    out = block.copy()
    out[index] = value
    return out


def _mismatch(value_shape: tuple[Any, ...], target: tuple[int, ...]) -> ValueError:
    return ValueError(
        f"shape mismatch: value array of shape {tuple(value_shape)} could not be broadcast to indexing result "
        f"of shape {target}"
    )


def _assign_without_newaxis(x: ArrayBase, index: tuple[Any, ...], value: Any) -> Any:
    """``x[index] = value`` with ``None`` in ``index``: the same as without the new length-1 axes.

    With only slices and integers beside them, dropping a ``None`` drops one length-1 axis of the selection and
    leaves the others in order, so the value is broadcast to the selection's shape and that axis removed.
    """
    if any(isinstance(i, np.ndarray | ArrayBase) for i in index):
        raise NotImplementedError(
            "Assignment with None (np.newaxis) beside array indices is not supported (NumPy may move the "
            "array axes); drop the None and shape the value to match."
        )
    kept = tuple(i for i in index if i is not None)
    with_new = x[index].shape
    without = x[kept].shape
    if isinstance(value, ArrayBase):
        from shoal.array._shape import broadcast_to
        value = broadcast_to(value, with_new).reshape(without)
    elif np.ndim(value):
        value = np.asarray(value)
        try:
            value = np.broadcast_to(value, with_new).reshape(without)
        except ValueError:
            raise _mismatch(value.shape, with_new) from None
    return _assign(x, kept, value)


def _assign(x: ArrayBase, key: Any, value: Any) -> Any:
    index = normalize_index(key, x.shape)
    if any(i is None for i in index):
        return _assign_without_newaxis(x, index, value)
    if any(isinstance(i, ArrayBase) for i in index):
        raise NotImplementedError(
            "Assignment with a lazy array inside an index tuple is not supported; a lazy boolean mask works "
            "on its own (x[mask] = scalar), other indices must be computed first."
        )
    for axis in range(x.ndim):
        if has_unknown(x.chunks[axis]):
            raise unknown_error(x, axis, "assign")
    if not isinstance(value, ArrayBase):
        value = np.asarray(value)
    elif any(isinstance(s, float) and math.isnan(s) for s in value.shape):
        raise ValueError(
            f"Cannot assign a value of unknown shape {value.shape}; call value.compute_chunk_sizes() first."
        )
    masks = [i for i in index if isinstance(i, np.ndarray) and i.dtype.kind == "b"]
    if masks:
        if len(index) == 1 and masks[0].ndim == x.ndim:
            return _assign_mask(x, masks[0], value)
        if any(m.ndim != 1 for m in masks):
            raise NotImplementedError(
                "Assignment with a multi-dimensional boolean mask is supported only for a mask of the "
                "array's whole shape (x[mask] = value)."
            )
        index = tuple(np.flatnonzero(i) if isinstance(i, np.ndarray) and i.dtype.kind == "b" else i
                      for i in index)
    arrays = [n for n, i in enumerate(index) if isinstance(i, np.ndarray)]
    if len(arrays) > 1 or any(index[n].ndim != 1 for n in arrays):
        raise NotImplementedError(
            "Assignment supports one 1-d integer array in the index; assign one axis at a time."
        )

    # For each axis: block -> (index within the block, selection of the value along this axis or None).
    plans: list[dict[int, tuple[Any, Any]]] = []
    lengths: dict[int, int] = {}
    for axis, item in enumerate(index):
        chunks = x.chunks[axis]
        offsets = [int(o) for o in chunk_offsets(chunks)]
        if isinstance(item, int):
            b = int(np.searchsorted(np.cumsum(chunks), item, side="right"))
            plans.append({b: (item - offsets[b], None)})
        elif isinstance(item, slice):
            plan, position = {}, 0
            for b, local, count in slice_pieces(chunks, item):
                if count:
                    plan[b] = (local, slice(position, position + count))
                position += count
            plans.append(plan)
            lengths[axis] = position
        else:
            ends = np.cumsum(chunks)
            block_of = np.searchsorted(ends, item, side="right")
            plan = {}
            for b in np.unique(block_of).tolist():
                where = np.flatnonzero(block_of == b)
                plan[b] = (item[where] - offsets[b], where)
            plans.append(plan)
            lengths[axis] = len(item)
    advanced = [n for n, i in enumerate(index) if not isinstance(i, slice)]
    value_axes = [a for a in range(x.ndim) if a in lengths]
    if arrays and advanced != list(range(advanced[0], advanced[-1] + 1)):
        value_axes = [arrays[0]] + [a for a in value_axes if a != arrays[0]]  # NumPy puts it first
    target = tuple(lengths[a] for a in value_axes)

    shape = tuple(int(s) for s in value.shape)
    while len(shape) > len(target) and shape[0] == 1:
        shape = shape[1:]
    if len(shape) > len(target):
        raise _mismatch(value.shape, target)
    try:
        if np.broadcast_shapes(shape, target) != target:
            raise _mismatch(value.shape, target)
    except ValueError:
        raise _mismatch(value.shape, target) from None
    if len(shape) < value.ndim:
        value = value[(0,) * (value.ndim - len(shape))]  # drop leading length-1 axes, as NumPy does
    lead = len(target) - len(shape)

    name = f"setitem-{tokenize(x.name, index, value)}"
    layer: dict[Any, Any] = {}
    deps: list[Any] = [x]
    for block in product(*(range(n) for n in x.numblocks)):
        out_key = (name, *block)
        if any(b not in plan for b, plan in zip(block, plans, strict=True)):
            layer[out_key] = Alias(out_key, (x.name, *block))
            continue
        local = tuple(plan[b][0] for b, plan in zip(block, plans, strict=True))
        selection = tuple(slice(None) if shape[t - lead] == 1 else plans[a][block[a]][1]
                          for t, a in enumerate(value_axes) if t >= lead)
        piece = value[selection] if selection else value
        if isinstance(piece, ArrayBase):
            deps.append(piece)
        layer[out_key] = Task(out_key, _write, Ref((x.name, *block)), local, _as_argument(piece))
    return new_array(layer, name, x.chunks, x.dtype, deps=tuple(deps), meta=x._meta)


def _assign_mask(x: ArrayBase, mask: np.ndarray, value: Any) -> Any:
    """``x[mask] = value`` for a NumPy mask of the whole shape: value is a scalar or one value per true."""
    count = int(mask.sum())
    shape = tuple(int(s) for s in value.shape)
    if shape not in ((), (1,), (count,)):
        raise ValueError(
            f"NumPy boolean array indexing assignment cannot assign {math.prod(shape)} input values to the "
            f"{count} output values where the mask is true"
        )
    per_true = shape == (count,) and count != 1
    order = np.cumsum(mask.ravel()).reshape(mask.shape) - 1 if per_true else None
    name = f"setitem-{tokenize(x.name, mask, value)}"
    layer: dict[Any, Any] = {}
    deps: list[Any] = [x]
    blocks = product(*(range(n) for n in x.numblocks))
    for block, slices in zip(blocks, slices_from_chunks(x.chunks), strict=True):
        out_key = (name, *block)
        local = mask[slices]
        if not local.any():
            layer[out_key] = Alias(out_key, (x.name, *block))
            continue
        if order is not None:
            positions = order[slices][local]
            piece = getitem(value, positions) if isinstance(value, ArrayBase) else value[positions]
        else:
            piece = value
        if isinstance(piece, ArrayBase):
            deps.append(piece)
        layer[out_key] = Task(out_key, _write, Ref((x.name, *block)), local, _as_argument(piece))
    return new_array(layer, name, x.chunks, x.dtype, deps=tuple(deps), meta=x._meta)


def setitem_points(x: ArrayBase, index: Any, value: Any) -> None:
    """``x.vindex[index] = value``: one integer array per axis names the points, as NumPy's ``x[i, j] = v``.

    The index arrays broadcast together to the points' shape, which ``value`` must broadcast to. Each
    block gets the points inside it (in order, so that a point named twice keeps the last value, as in
    NumPy) and the matching values.
    """
    index = index if isinstance(index, tuple) else (index,)
    if len(index) != x.ndim or any(isinstance(i, ArrayBase | slice) or i is None or i is Ellipsis
                                   for i in index):
        raise IndexError(f"x.vindex[...] = value takes one integer (NumPy) array or int per axis of the "
                         f"{x.ndim}-d array; got {index!r}. Use x[index] = value for slices.")
    if has_unknown(x):
        raise unknown_error(x, "vindex assignment")
    arrays = [np.asarray(i) for i in index]
    if any(a.dtype.kind not in "iu" for a in arrays):
        raise IndexError("x.vindex[...] = value needs integer index arrays (use x[mask] = value for masks).")
    points = np.broadcast_arrays(*arrays)
    coords = []
    for axis, (p, size) in enumerate(zip(points, x.shape, strict=True)):
        if p.size and (p.min() < -size or p.max() >= size):
            raise IndexError(f"index {int(p.max() if p.max() >= size else p.min())} is out of bounds for axis "
                             f"{axis} with size {size}")
        coords.append(np.where(p < 0, p + size, p).ravel())
    shape = points[0].shape if points else ()
    if not isinstance(value, ArrayBase):
        value = np.asarray(value)
    if value.shape != shape:
        from shoal.array._shape import broadcast_to

        try:
            value = broadcast_to(value, shape) if isinstance(value, ArrayBase) else np.broadcast_to(value, shape)
        except ValueError:
            raise _mismatch(value.shape, shape) from None
    flat = value.reshape(-1) if value.ndim != 1 else value
    old = type(x)(x._layer, x.name, x._chunks, x._meta, x._deps)
    name = f"vindex-setitem-{tokenize(x.name, index, value)}"
    layer: dict[Any, Any] = {}
    deps: list[Any] = [old]
    offsets = [chunk_offsets(c) for c in x.chunks]
    which = [np.searchsorted(o[1:], c, side="right") for o, c in zip(offsets, coords, strict=True)]
    for block in product(*(range(n) for n in x.numblocks)):
        out_key = (name, *block)
        inside = np.ones(len(coords[0]) if coords else 0, dtype=bool)
        for axis, b in enumerate(block):
            inside &= which[axis] == b
        positions = np.flatnonzero(inside)
        if not len(positions):
            layer[out_key] = Alias(out_key, (x.name, *block))
            continue
        local = tuple(c[positions] - o[b] for c, o, b in zip(coords, offsets, block, strict=True))
        piece = getitem(flat, positions) if isinstance(flat, ArrayBase) else flat[positions]
        if isinstance(piece, ArrayBase):
            deps.append(piece)
        layer[out_key] = Task(out_key, _write, Ref((x.name, *block)), local, _as_argument(piece))
    new = new_array(layer, name, x.chunks, x.dtype, deps=tuple(deps), meta=x._meta)
    x.name, x._chunks, x._meta, x._layer, x._deps = new.name, new._chunks, new._meta, new._layer, new._deps

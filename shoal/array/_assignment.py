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

Supported indexes: everything NumPy accepts. Integers, slices and one 1-d
integer array are planned per block as above. Several integer arrays (and
multi-dimensional masks, which are their ``nonzero()``) name points, as in
NumPy's ``a[[0, 1], [2, 3]] = v`` (:func:`_assign_points`). ``None`` and
scalar booleans change only the shape the value must broadcast to, so the
value is broadcast to NumPy's selection shape and laid out again for the same
index without them (:func:`_relayout`). Lazy indices: a boolean mask of the
array's shape with a scalar value is one ``where``; one lazy 1-d integer array
or mask beside integers and slices goes to :mod:`shoal.array._lazy_assign`.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._chunks import chunk_offsets, slices_from_chunks
from shoal.array._elementwise import elemwise
from shoal.array._indexing import has_unknown, index_broadcast_shape, unknown_error
from shoal.array._lazy_assign import as_argument as _as_argument
from shoal.array._lazy_assign import assign_lazy, fit_value, planned_piece, rewrite_blocks
from shoal.array._lazy_assign import mismatch as _mismatch
from shoal.array._lazy_assign import write as _write
from shoal.array._lazy_index import is_scalar_bool
from shoal.array._shape import broadcast_to
from shoal.array._slicing import getitem, normalize_index, slice_pieces
from shoal.graph.tokenize import tokenize

__all__ = ["setitem", "setitem_points"]


def setitem(x: ArrayBase, key: Any, value: Any) -> None:
    """Make ``x`` the array with ``value`` written at ``key``; see the module docstring."""
    # The old graph stays reachable under the old name through this frozen copy:
    # the new graph (and arrays built from x before) read its blocks.
    old = type(x)._from_parts(x._layer, x.name, x._chunks, x._meta, x._deps)
    if isinstance(key, ArrayBase):
        new = _assign_lazy_alone(old, key, value)
    else:
        new = _assign(old, key, value)
    x.name, x._chunks, x._meta, x._layer, x._deps = new.name, new._chunks, new._meta, new._layer, new._deps


def _assign_lazy_alone(x: ArrayBase, mask: ArrayBase, value: Any) -> Any:
    """``x[lazy] = value``: a mask of (the leading axes of) the shape with a scalar is one ``where``."""
    value_shape = tuple(value.shape) if isinstance(value, ArrayBase) else np.shape(value)
    if mask.dtype.kind != "b" or (mask.ndim == 1 and math.prod(value_shape) != 1):
        return _assign(x, (mask,), value)  # positions found in the tasks (shoal.array._lazy_assign)
    if mask.ndim > x.ndim or any(
        not (isinstance(m, float) or isinstance(s, float)) and m != s for m, s in zip(mask.shape, x.shape, strict=False)
    ):
        raise IndexError(
            f"x[mask] = value needs a boolean mask of the array's shape {x.shape} (or of its leading axes), "
            f"got shape {mask.shape}."
        )
    if mask.ndim < x.ndim:
        mask = getitem(mask, (Ellipsis,) + (None,) * (x.ndim - mask.ndim))  # masks whole trailing rows
    if math.prod(value_shape) != 1:
        raise NotImplementedError(
            f"x[mask] = value with a lazy {mask.ndim}-d mask needs a scalar value (got shape {value_shape}): "
            f"which value goes where depends on the count of true values before each block, unknown until "
            f"computed (Dask refuses this too). Use shoal.array.where(mask, value, x) for element-wise values, "
            f"or compute the mask first."
        )
    if not isinstance(value, ArrayBase):
        value = np.asarray(value).reshape(())
    elif value.ndim:
        value = value[(0,) * value.ndim]
    return elemwise(np.where, mask, value, x).astype(x.dtype)  # type: ignore[attr-defined]


# -- None and scalar booleans: the same assignment with the value laid out again ---------------
def _layout(index: tuple[Any, ...], shape: tuple[Any, ...], ids: list[int], zero_width: set[int] = frozenset()
            ) -> list[tuple[Any, Any]]:
    """``(label, length)`` of each axis of ``x[index]`` in NumPy's order (ints and arrays already in bounds).

    Labels name an axis independently of the index form: ``("s", id)`` for a slice, ``("n", id)`` for a None,
    ``("b", k)`` for the ``k``-th broadcast dimension counted from the right. Entries in ``zero_width`` are
    arrays that use no axis of ``x`` (scalar booleans).
    """
    arrays = [n for n, i in enumerate(index) if isinstance(i, np.ndarray)]
    advanced = [n for n, i in enumerate(index) if isinstance(i, np.ndarray | int)] if arrays else []
    bshape = index_broadcast_shape([index[n].shape for n in arrays])
    broadcast = [(("b", len(bshape) - k), length) for k, length in enumerate(bshape)]
    out: list[tuple[Any, Any]] = []
    placed = bool(advanced) and advanced != list(range(advanced[0], advanced[-1] + 1))
    if placed:
        out += broadcast  # not next to each other: NumPy puts the broadcast dimensions first
    axis = 0
    for n, item in enumerate(index):
        if item is None:
            out.append((("n", ids[n]), 1))
        elif isinstance(item, slice):
            out.append((("s", ids[n]), len(range(*item.indices(int(shape[axis]))))))
        elif n in advanced and not placed:
            out += broadcast
            placed = True
        axis += item is not None and n not in zero_width
    return out


def _relayout(value: Any, source: list[tuple[Any, Any]], target: list[tuple[Any, Any]]) -> Any:
    """``value`` broadcast to the ``source`` layout, its axes missing from ``target`` (length 1) dropped,
    the others put in ``target``'s order."""
    shape = tuple(n for _, n in source)
    if isinstance(value, ArrayBase):
        fit_value(value, shape)
        value = broadcast_to(value, shape) if tuple(value.shape) != shape else value
    else:
        fit_value(np.asarray(value), shape)
        value = np.broadcast_to(np.asarray(value), shape)
    labels = [label for label, _ in source]
    kept = {label for label, _ in target}
    value = value[tuple(slice(None) if label in kept else 0 for label in labels)]
    remaining = [label for label in labels if label in kept]
    order = [remaining.index(label) for label, _ in target]
    return value.transpose(order) if order != sorted(order) else value


def _assign_relaid(x: ArrayBase, key: Any, value: Any) -> Any:
    """``x[key] = value`` with ``None`` or scalar booleans in ``key`` (see the module docstring)."""
    items = key if isinstance(key, tuple) else (key,)
    flags = [is_scalar_bool(i) for i in items]
    # A scalar boolean uses no axis, as None does: normalize with None in its place, then tell them apart.
    index = normalize_index(tuple(None if f else i for i, f in zip(items, flags, strict=True)), x.shape)
    nones = [n for n, i in enumerate(index) if i is None]
    placeholders = [i for i in items if is_scalar_bool(i) or i is None]
    bools = {nones[k]: bool(p) for k, p in enumerate(placeholders) if is_scalar_bool(p)}
    if any(isinstance(i, ArrayBase) for i in index):
        raise NotImplementedError(
            "Assignment with None or a scalar boolean beside a lazy (shoal) index is not supported; drop the "
            "None and shape the value to match, or compute the index first."
        )
    index = tuple(np.zeros(int(bools[n]), dtype=np.intp) if n in bools else i
                  for n, i in enumerate(index))
    expanded = [j for n, i in enumerate(index) for j in ([n] * (i.ndim if _is_mask(i) else 1))]
    index = tuple(j for i in index for j in (np.nonzero(i) if _is_mask(i) else (i,)))
    source = _layout(index, x.shape, expanded, {n for n, e in enumerate(expanded) if e in bools})
    kept = [n for n, i in enumerate(index) if i is not None and expanded[n] not in bools]
    target = _layout(tuple(index[n] for n in kept), x.shape, [expanded[n] for n in kept])
    if not all(bools.values()):
        _relayout(value, source, source)  # the value must still fit the (empty) selection, as in NumPy
        return x
    return _assign(x, tuple(index[n] for n in kept), _relayout(value, source, target))


def _is_mask(item: Any) -> bool:
    return isinstance(item, np.ndarray) and item.dtype.kind == "b"


def _assign(x: ArrayBase, key: Any, value: Any) -> Any:
    items = key if isinstance(key, tuple) else (key,)
    if any(i is None or is_scalar_bool(i) for i in items):
        return _assign_relaid(x, items, value)
    index = normalize_index(key, x.shape)
    if any(i is None for i in index):
        return _assign_relaid(x, index, value)
    if any(isinstance(i, ArrayBase) for i in index):
        return assign_lazy(x, index, value)
    for axis in range(x.ndim):
        if has_unknown(x.chunks[axis]):
            raise unknown_error(x, axis, "assign")
    if not isinstance(value, ArrayBase):
        value = np.asarray(value)
    elif any(isinstance(s, float) and math.isnan(s) for s in value.shape):
        raise ValueError(
            f"Cannot assign a value of unknown shape {value.shape}; call value.compute_chunk_sizes() first."
        )
    masks = [i for i in index if _is_mask(i)]
    if masks and len(index) == 1 and masks[0].ndim == x.ndim:
        return _assign_mask(x, masks[0], value)
    # A mask is the integer arrays of its true positions (NumPy's rule), one per axis it covers.
    index = tuple(j for i in index for j in (np.nonzero(i) if _is_mask(i) else (i,)))
    arrays = [n for n, i in enumerate(index) if isinstance(i, np.ndarray)]
    if len(arrays) > 1 or any(index[n].ndim != 1 for n in arrays):
        return _assign_points(x, index, value)

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

    value, shape = fit_value(value, target)
    lead = len(target) - len(shape)

    name = f"setitem-{tokenize(x.name, index, value)}"

    def write_for(block: tuple[int, ...]) -> Any:
        planned = planned_piece(block, plans, shape, lead, value_axes, value)
        if planned is None:
            return None
        local, piece = planned
        return _write, (local, _as_argument(piece)), piece

    return rewrite_blocks(x, name, [x], write_for)


def _assign_points(x: ArrayBase, index: tuple[Any, ...], value: Any) -> Any:
    """``x[index] = value`` with several integer arrays, or one of 2+ dimensions: NumPy's points.

    The arrays (and the integers beside them) broadcast to the points' shape; the value is broadcast to NumPy's
    selection shape with those dimensions flattened into one. Each block writes the points inside it, in order
    (a point named twice keeps the last value, as in NumPy), crossed with its share of the slices.
    """
    arrays = [n for n, i in enumerate(index) if isinstance(i, np.ndarray)]
    advanced = [n for n, i in enumerate(index) if not isinstance(i, slice)]
    layout = _layout(index, x.shape, list(range(len(index))))
    shape = tuple(n for _, n in layout)
    fit_value(value, shape)
    bshape = np.broadcast_shapes(*(index[n].shape for n in arrays))
    points = [np.broadcast_to(np.asarray(index[n]), bshape).ravel() for n in advanced]
    count = math.prod(bshape)
    first = next(t for t, (label, _) in enumerate(layout) if label[0] == "b") if bshape else 0
    flat_shape = shape[:first] + (count,) + shape[first + len(bshape):]
    if math.prod(value.shape) == 1:
        value = value.reshape(())
    else:
        value = (broadcast_to(value, shape) if isinstance(value, ArrayBase) else np.broadcast_to(value, shape))
        value = value.reshape(flat_shape)
    slice_axes = [a for a, i in enumerate(index) if isinstance(i, slice)]
    plans = {a: {b: (local, slice(p, p + n)) for b, local, n, p in _with_positions(x.chunks[a], index[a]) if n}
             for a in slice_axes}
    offsets = {a: chunk_offsets(x.chunks[a]) for a in advanced}
    which = {a: np.searchsorted(offsets[a][1:], p, side="right") for a, p in zip(advanced, points, strict=True)}
    name = f"setitem-points-{tokenize(x.name, index, value)}"

    def write_for(block: tuple[int, ...]) -> Any:
        inside = np.ones(count, dtype=bool)
        for a in advanced:
            inside &= which[a] == block[a]
        positions = np.flatnonzero(inside)
        if not positions.size or any(block[a] not in plans[a] for a in slice_axes):
            return None
        local = tuple(plans[a][block[a]][0] if a in plans else points[advanced.index(a)][positions] - offsets[a][
            block[a]] for a in range(x.ndim))
        if value.ndim:
            rest = [plans[a][block[a]][1] for a in slice_axes]  # in index order, as in the layout
            piece = value[(*rest[:first], positions, *rest[first:])]
        else:
            piece = value
        return _write, (local, _as_argument(piece)), piece

    return rewrite_blocks(x, name, [x], write_for)


def _with_positions(chunks: Any, item: slice) -> list[tuple[int, Any, int, int]]:
    """``slice_pieces`` with each piece's start in the selection."""
    out, position = [], 0
    for b, local, n in slice_pieces(chunks, item):
        out.append((b, local, n, position))
        position += n
    return out


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
    blocks = product(*(range(n) for n in x.numblocks))
    block_slices = dict(zip(blocks, slices_from_chunks(x.chunks), strict=True))

    def write_for(block: tuple[int, ...]) -> Any:
        slices = block_slices[block]
        local = mask[slices]
        if not local.any():
            return None
        if order is not None:
            positions = order[slices][local]
            piece = getitem(value, positions) if isinstance(value, ArrayBase) else value[positions]
        else:
            piece = value
        return _write, (local, _as_argument(piece)), piece

    return rewrite_blocks(x, name, [x], write_for)


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
        try:
            value = broadcast_to(value, shape) if isinstance(value, ArrayBase) else np.broadcast_to(value, shape)
        except ValueError:
            raise _mismatch(value.shape, shape) from None
    flat = value.reshape(-1) if value.ndim != 1 else value
    old = type(x)._from_parts(x._layer, x.name, x._chunks, x._meta, x._deps)
    name = f"vindex-setitem-{tokenize(x.name, index, value)}"
    offsets = [chunk_offsets(c) for c in x.chunks]
    which = [np.searchsorted(o[1:], c, side="right") for o, c in zip(offsets, coords, strict=True)]

    def write_for(block: tuple[int, ...]) -> Any:
        inside = np.ones(len(coords[0]) if coords else 0, dtype=bool)
        for axis, b in enumerate(block):
            inside &= which[axis] == b
        positions = np.flatnonzero(inside)
        if not len(positions):
            return None
        local = tuple(c[positions] - o[b] for c, o, b in zip(coords, offsets, block, strict=True))
        piece = getitem(flat, positions) if isinstance(flat, ArrayBase) else flat[positions]
        return _write, (local, _as_argument(piece)), piece

    new = rewrite_blocks(old, name, [old], write_for)
    x.name, x._chunks, x._meta, x._layer, x._deps = new.name, new._chunks, new._meta, new._layer, new._deps

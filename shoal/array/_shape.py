"""Changing an array's shape or axis order: transpose and friends, reshape, squeeze, broadcasting.

Most of these map one input block to one output block (:func:`map_each_block`):
a transpose permutes the block grid as well as each block; ``expand_dims``,
``squeeze`` and ``atleast_*d`` add or drop length-1 axes of one block each;
``broadcast_to`` reads one input block for many output blocks.

Reshape is the hard one: a block of the output must be one block of the
input, reshaped. Input dimensions are split into *groups* whose lengths
multiply to the same product as a group of output dimensions
(``(4, 6, 5) -> (24, 5)`` has groups ``(4, 6) -> (24,)`` and ``(5,) -> (5,)``).

- *Merging* dimensions ``d1..dm`` into one: a block covers a contiguous run of
  the merged dimension only if, for some ``j``, the dimensions after ``dj``
  are whole (one block) and those before it have blocks of length 1. If the
  input is not cut like that it is rechunked, choosing ``j`` so that blocks
  keep about the size they had.
- *Splitting* one dimension into ``o1..ok``: the same rule, read from the
  output's side, says which cuts of the input dimension are allowed; the
  input is rechunked to the nearest allowed cuts.

A group that both merges and splits (``(4, 6) -> (3, 8)``) merges first and
splits second; each step is a rechunk (only if needed) plus one reshape per block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from numbers import Integral
from typing import Any

import numpy as np

from shoal import config
from shoal.array._base import ArrayBase
from shoal.array._chunks import normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._elementwise import broadcast_shapes
from shoal.array._blockmap import (
    as_array,
    atleast_nd,
    insert_axes,
    map_each_block,
    normalize_axis_index,
    normalize_axis_tuple,
    require_known,
)
from shoal.array._rechunk import common_chunks, rechunk
from shoal.utils import parse_bytes

__all__ = [
    "ShapeMethods",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_arrays",
    "broadcast_to",
    "expand_dims",
    "flatten",
    "moveaxis",
    "ravel",
    "reshape",
    "rollaxis",
    "squeeze",
    "swapaxes",
    "transpose",
]


# -- axis order ------------------------------------------------------------------------------------------------
@implements(np.transpose)
def transpose(a: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes; mirrors ``numpy.transpose``.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    >>> y = transpose(x)
    >>> y.chunks
    ((2, 1), (1, 1))
    >>> y.compute()
    array([[0, 3],
           [1, 4],
           [2, 5]])
    """
    x = as_array(a)
    if axes is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        if len(axes) != x.ndim:
            raise ValueError(f"transpose: axes don't match array: got axes={tuple(axes)} for an array with "
                             f"{x.ndim} dimensions (shape {x.shape}).")
        perm = tuple(normalize_axis_index(ax, x.ndim, "transpose") for ax in axes)
        if len(set(perm)) != len(perm):
            raise ValueError(f"transpose: repeated axis in transpose (axes={tuple(axes)}).")
    if perm == tuple(range(x.ndim)):
        return x
    chunks = [x.chunks[p] for p in perm]

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        out = [0] * len(perm)
        for position, p in enumerate(perm):
            out[p] = index[position]
        return tuple(out)

    return map_each_block(x, np.transpose, chunks, "transpose", source=source, layout=perm, axes=perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Move axes to new positions, keeping the others in order; mirrors ``numpy.moveaxis``.

    >>> import numpy as np, shoal.array as sa
    >>> moveaxis(sa.from_array(np.zeros((2, 3, 4)), chunks=2), 0, -1).shape
    (3, 4, 2)
    """
    x = as_array(a)
    src = normalize_axis_tuple(source, x.ndim, "moveaxis: source")
    dst = normalize_axis_tuple(destination, x.ndim, "moveaxis: destination")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: `source` {source!r} and `destination` {destination!r} arguments must have the "
                         f"same number of elements.")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, order)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes; mirrors ``numpy.swapaxes``.

    >>> import numpy as np, shoal.array as sa
    >>> swapaxes(sa.from_array(np.zeros((2, 3, 4)), chunks=2), 0, 2).shape
    (4, 3, 2)
    """
    x = as_array(a)
    i = normalize_axis_index(axis1, x.ndim, "swapaxes")
    j = normalize_axis_index(axis2, x.ndim, "swapaxes")
    order = list(range(x.ndim))
    order[i], order[j] = j, i
    return transpose(x, order)


@implements(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Roll ``axis`` backwards until it lies before ``start``; mirrors ``numpy.rollaxis``."""
    x = as_array(a)
    n = x.ndim
    axis = normalize_axis_index(axis, n, "rollaxis")
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"rollaxis: 'start' arg requires {-n} <= start < {n + 1}, but {start} was "
                                      f"passed in.")
    if axis < start:
        start -= 1
    if axis == start:
        return x
    order = list(range(n))
    order.remove(axis)
    order.insert(start, axis)
    return transpose(x, order)


# -- reshape ---------------------------------------------------------------------------------------------------
def _format_shape(shape: Sequence[Any]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _normalize_shape(shape: Any, x: ArrayBase) -> tuple[int, ...]:
    shape_t = (shape,) if isinstance(shape, Integral) else tuple(shape)
    for s in shape_t:
        if not isinstance(s, Integral):
            raise TypeError(f"reshape: the new shape must hold integers, got {shape!r}.")
    shape_t = tuple(int(s) for s in shape_t)
    unknown = [i for i, s in enumerate(shape_t) if s < 0]
    size = math.prod(x.shape)
    if len(unknown) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension (-1), got shape {shape!r}.")
    known = math.prod(s for s in shape_t if s >= 0)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(
                f"cannot reshape array of size {size} (shape {_format_shape(x.shape)}) into shape "
                f"{_format_shape(shape_t)}: no length for the -1 entry makes the sizes match."
            )
        shape_t = tuple(size // known if s < 0 else s for s in shape_t)
    elif known != size:
        raise ValueError(
            f"cannot reshape array of size {size} (shape {_format_shape(x.shape)}) into shape "
            f"{_format_shape(shape_t)} of size {known}; the new shape must hold the same number of elements."
        )
    return shape_t


def _groups(ins: Sequence[int], outs: Sequence[int]) -> list[tuple[list[int], list[int]]]:
    """Pair runs of input and output dimensions with equal products (all lengths > 0)."""
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(ins) and j < len(outs):
        gi, go = [i], [j]
        pi, po = ins[i], outs[j]
        i, j = i + 1, j + 1
        while pi != po:
            if pi < po:
                gi.append(i)
                pi *= ins[i]
                i += 1
            else:
                go.append(j)
                po *= outs[j]
                j += 1
        groups.append((gi, go))
    # What is left on either side is length-1 dimensions: attach them to the last group.
    if not groups:
        groups.append(([], []))
    groups[-1][0].extend(range(i, len(ins)))
    groups[-1][1].extend(range(j, len(outs)))
    return groups


def _merge_plan(chunks: list[tuple[int, ...]], lengths: list[int], target: int, merge_chunks: bool
                ) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """Input chunks for dimensions merged into one, and the merged dimension's chunks."""
    m = len(lengths)
    j = None
    for candidate in range(m):
        if all(len(chunks[d]) == 1 for d in range(candidate + 1, m)) and all(
                max(chunks[d]) == 1 for d in range(candidate)):
            j = candidate
            break
    new = list(chunks)
    if j is None:
        if merge_chunks:
            j = next(c for c in range(m) if math.prod(lengths[c + 1:]) <= target)
        else:
            j = m - 1
        step = max(1, min(lengths[j], target // math.prod(lengths[j + 1:])))
        for d in range(m):
            if d < j:
                new[d] = (1,) * lengths[d]
            elif d > j:
                new[d] = (lengths[d],)
        # Rechunking anyway: give dimension j blocks of the target length, not its old (maybe tiny) ones.
        new[j] = normalize_chunks(step, (lengths[j],))[0]
    inner = math.prod(lengths[j + 1:])
    merged = tuple(c * inner for c in new[j]) * math.prod(lengths[:j])
    return new, merged


def _split_plan(chunks: tuple[int, ...], lengths: list[int], target: int
                ) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """New chunks of one dimension split into ``lengths``, and the output dimensions' chunks."""
    inner = [math.prod(lengths[j + 1:]) for j in range(len(lengths))]
    j = next(c for c in range(len(lengths)) if inner[c] <= target)
    row = lengths[j] * inner[j]
    # Where the existing cuts fall within a row, in units of the whole dimensions after j.
    cuts = {(p % row) // inner[j] for p in accumulate(chunks[:-1])} - {0}
    step = max(1, min(lengths[j], target // inner[j]))
    if len(cuts) + 1 > 2 * math.ceil(lengths[j] / step):
        cuts = set(range(step, lengths[j], step))  # the existing cuts would make tiny blocks; cut regularly
    edges = [0, *sorted(cuts), lengths[j]]
    # Rounding cuts down to whole rows of the inner dimensions merged some blocks; cut those that grew too long.
    edges = sorted({*edges, *(e for a, b in zip(edges, edges[1:], strict=False) for e in range(a + step, b, step))})
    along = tuple(b - a for a, b in zip(edges, edges[1:], strict=False))
    out = [(1,) * lengths[d] if d < j else along if d == j else (lengths[d],) for d in range(len(lengths))]
    return tuple(c * inner[j] for c in along) * (math.prod(lengths) // row), out


def _reshape_by_groups(x: ArrayBase, out_chunks: list[tuple[int, ...]], groups: list[tuple[list[int], list[int]]]
                       ) -> Any:
    """Reshape every block; within each group, output and input blocks correspond in C order."""
    numblocks_in = x.numblocks
    numblocks_out = tuple(len(c) for c in out_chunks)

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        in_index = [0] * x.ndim
        for gi, go in groups:
            flat = 0
            for d in go:  # C-order position of the block within the group
                flat = flat * numblocks_out[d] + index[d]
            for d in reversed(gi):
                flat, in_index[d] = divmod(flat, numblocks_in[d])
        return tuple(in_index)

    def block_args(index: tuple[int, ...]) -> tuple[Any, ...]:
        return (tuple(int(c[i]) for c, i in zip(out_chunks, index, strict=True)),)

    return map_each_block(x, np.reshape, out_chunks, "reshape", source=source, block_args=block_args,
                          layout=groups)


def _as_tuple(shape: Any) -> Any:
    return tuple(shape) if isinstance(shape, tuple | list) else (shape,)


@implements(np.reshape)
def _np_reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Any:
    return reshape(a, shape if shape is not None else newshape, order=order)


def _check_order(order: str, what: str) -> str:
    # Lazy arrays have no memory layout of their own: "A" and "K" read them in C order, as NumPy does for
    # a C-contiguous array.
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"{what}: order must be one of 'C', 'F', 'A' or 'K', got {order!r}.")
    return "F" if order == "F" else "C"


def reshape(x: Any, shape: Any, merge_chunks: bool = True, limit: int | str | None = None, order: str = "C") -> Any:
    """Give an array a new shape without changing its data; mirrors ``numpy.reshape``.

    ``order="F"`` reads and writes elements with the first index changing
    fastest: it is the C-order reshape of the transposed array, transposed
    back, so it costs the same rechunking as a C-order reshape.

    Blocks are reshaped one by one; where the input's blocks do not line up
    with blocks of the new shape, the input is rechunked first (see the
    module docstring).

    Parameters
    ----------
    x : Array
    shape : int or tuple of ints
        The new shape; one entry may be -1 (inferred).
    merge_chunks : bool
        When dimensions are merged and the input must be rechunked, prefer
        whole trailing dimensions (True) or blocks of length 1 along the
        leading ones (False, never makes blocks bigger).
    limit : int or str, optional
        Largest block, in bytes, a rechunk may produce; default: the
        input's largest block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(24).reshape(4, 6), chunks=(2, 6))
    >>> y = reshape(x, (2, 12))
    >>> y.chunks
    ((1, 1), (12,))
    >>> bool((y.compute() == np.arange(24).reshape(2, 12)).all())
    True
    >>> reshape(x, (8, -1)).shape
    (8, 3)
    >>> bool((reshape(x, (3, 8), order="F").compute() == np.arange(24).reshape(4, 6).reshape((3, 8), order="F")).all())
    True
    """
    x = as_array(x)
    if _check_order(order, "reshape") == "F":
        require_known(x, range(x.ndim), "reshape(order='F')")
        shape = _normalize_shape(shape, x)
        out = reshape(transpose(x) if x.ndim > 1 else x, shape[::-1], merge_chunks=merge_chunks, limit=limit)
        return transpose(out) if out.ndim > 1 else out
    if x.ndim == 1 and _as_tuple(shape) in ((-1,), tuple(x.shape)):
        return x  # nothing to do, even when the length is unknown (nan)
    if any(isinstance(s, float) and math.isnan(s) for s in x.shape):
        require_known(x, range(x.ndim), "reshape")
    shape = _normalize_shape(shape, x)
    if shape == tuple(x.shape):
        return x
    if math.prod(shape) == 0 or x.npartitions == 1:
        single = rechunk(x, tuple((int(s),) for s in x.shape)) if x.npartitions > 1 else x
        return map_each_block(single, np.reshape, tuple((s,) for s in shape), "reshape", args=(shape,),
                              source=lambda index: (0,) * x.ndim, layout="single")
    groups = _groups(tuple(x.shape), shape)
    largest = [int(max(c)) for c in x.chunks]
    limit_items = None
    if limit is not None:
        limit_items = max(1, (parse_bytes(limit) if isinstance(limit, str) else int(limit)) // x.itemsize)

    def group_target(dims: list[int], grow: bool = True) -> int:
        # The length of the largest block's run through the group; with limit=, what the bytes allow.
        # Without limit=, blocks may grow up to the array.chunk-size setting, as in Dask: keeping them
        # as small as tiny input blocks would cut every row into thousands of slivers.
        target = math.prod(largest[d] for d in dims)
        others = max(1, math.prod(largest[d] for d in range(x.ndim) if d not in dims))
        if limit_items is not None:
            return min(target, max(1, limit_items // others))
        if not grow:
            return target
        setting = parse_bytes(config.get("array.chunk-size", "128MiB")) // max(x.itemsize, 1)
        return max(target, setting // others)

    # Step 1: merge each group's input dimensions into one.
    in_chunks: list[Any] = list(x.chunks)
    mid_chunks: list[tuple[int, ...]] = []
    for gi, _ in groups:
        if len(gi) == 1:
            mid_chunks.append(x.chunks[gi[0]])
            continue
        new, merged = _merge_plan([x.chunks[d] for d in gi], [int(x.shape[d]) for d in gi], group_target(gi),
                                    merge_chunks)
        for d, c in zip(gi, new, strict=True):
            in_chunks[d] = c
        mid_chunks.append(merged)
    mid = x
    if any(len(gi) != 1 for gi, _ in groups):
        mid = _reshape_by_groups(rechunk(x, tuple(in_chunks)), mid_chunks,
                                 [(gi, [g]) for g, (gi, _) in enumerate(groups)])

    # Step 2: split each merged dimension into the group's output dimensions.
    if all(len(go) == 1 for _, go in groups):
        return mid
    new_mid: list[tuple[int, ...]] = []
    out_chunks: list[tuple[int, ...]] = []
    for g, (gi, go) in enumerate(groups):
        if len(go) == 1:
            new_mid.append(mid.chunks[g])
            out_chunks.append(mid.chunks[g])
            continue
        flat, outs = _split_plan(mid.chunks[g], [shape[d] for d in go], group_target(gi, grow=False))
        new_mid.append(flat)
        out_chunks.extend(outs)
    return _reshape_by_groups(rechunk(mid, tuple(new_mid)), out_chunks,
                              [([g], go) for g, (_, go) in enumerate(groups)])


@implements(np.ravel)
def ravel(array_like: Any, order: str = "C") -> Any:
    """The array as one dimension; mirrors ``numpy.ravel``.

    >>> import numpy as np, shoal.array as sa
    >>> ravel(sa.from_array(np.arange(6).reshape(2, 3), chunks=1)).compute()
    array([0, 1, 2, 3, 4, 5])
    >>> ravel(sa.from_array(np.arange(6).reshape(2, 3), chunks=1), order="F").compute()
    array([0, 3, 1, 4, 2, 5])
    """
    x = as_array(array_like)
    if _check_order(order, "ravel") == "F":
        return ravel(transpose(x)) if x.ndim > 1 else x
    if x.ndim > 1 and _unknown_rows_only(x):
        # Rows of unknown count still flatten block by block once every other axis is one block.
        rows = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
        inner = math.prod(int(s) for s in x.shape[1:])
        return map_each_block(rows, np.reshape, (tuple(c * inner for c in rows.chunks[0]),), "ravel",
                              source=lambda index: (index[0], *(0,) * (x.ndim - 1)), args=(-1,), layout="rows")
    return reshape(x, (-1,))


def _unknown_rows_only(x: Any) -> bool:
    def unknown(dim: tuple[Any, ...]) -> bool:
        return any(isinstance(c, float) and math.isnan(c) for c in dim)

    return unknown(x.chunks[0]) and not any(unknown(d) for d in x.chunks[1:])


flatten = ravel


# -- adding and removing axes -----------------------------------------------------------------------------------
@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """Remove length-1 axes; mirrors ``numpy.squeeze``.

    >>> import numpy as np, shoal.array as sa
    >>> squeeze(sa.from_array(np.zeros((1, 3, 1)), chunks=2)).shape
    (3,)
    """
    x = as_array(a)
    if axis is None:
        axes = tuple(d for d, s in enumerate(x.shape) if s == 1)
    else:
        axes = normalize_axis_tuple(axis, x.ndim, "squeeze")
        require_known(x, axes, "squeeze")
        for d in axes:
            if x.shape[d] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which has size not equal to one "
                                 f"(axis {d} of shape {x.shape}).")
    if not axes:
        return x
    kept = [d for d in range(x.ndim) if d not in axes]
    chunks = [x.chunks[d] for d in kept]

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        full = [0] * x.ndim
        for d, i in zip(kept, index, strict=True):
            full[d] = i
        return tuple(full)

    return map_each_block(x, np.squeeze, chunks, "squeeze", source=source, layout=axes, axis=axes)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """Insert length-1 axes at the positions ``axis`` of the result; mirrors ``numpy.expand_dims``.

    >>> import numpy as np, shoal.array as sa
    >>> expand_dims(sa.from_array(np.zeros((2, 3)), chunks=2), (0, -1)).shape
    (1, 2, 3, 1)
    """
    x = as_array(a)
    n = 1 if isinstance(axis, Integral) else len(axis)
    return insert_axes(x, normalize_axis_tuple(axis, x.ndim + n, "expand_dims"))


def atleast_1d(*arys: Any) -> Any:
    """Arrays with at least one dimension; mirrors ``numpy.atleast_1d`` (a list for several inputs).

    >>> import shoal.array as sa
    >>> atleast_1d(sa.from_array(5, chunks=())).shape
    (1,)
    """
    out = [atleast_nd(as_array(a), 1) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Any:
    """Arrays with at least two dimensions (1-D becomes a row); mirrors ``numpy.atleast_2d``."""
    out = [atleast_nd(as_array(a), 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: Any) -> Any:
    """Arrays with at least three dimensions; mirrors ``numpy.atleast_3d`` ((N,) -> (1, N, 1))."""
    out = [atleast_nd(as_array(a), 3) for a in arys]
    return out[0] if len(out) == 1 else out


implements(np.atleast_1d)(atleast_1d)
implements(np.atleast_2d)(atleast_2d)
implements(np.atleast_3d)(atleast_3d)


# -- broadcasting ---------------------------------------------------------------------------------------------------
@implements(np.broadcast_to)
def broadcast_to(x: Any, shape: Any, chunks: Any = None, meta: Any = None, subok: bool = False) -> Any:
    """Broadcast an array to a new shape; mirrors ``numpy.broadcast_to``.

    New leading axes and broadcast length-1 axes get one block each unless
    ``chunks`` says otherwise; blocks are read-only views, as in NumPy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> y = broadcast_to(sa.from_array(np.arange(3), chunks=2), (2, 3))
    >>> y.chunks
    ((2,), (2, 1))
    >>> y.compute()
    array([[0, 1, 2],
           [0, 1, 2]])
    """
    x = as_array(x)
    shape_t = (shape,) if isinstance(shape, Integral) else tuple(shape)
    if any(not isinstance(s, Integral) for s in shape_t):
        raise TypeError(f"broadcast_to: the shape must hold integers, got {shape!r}.")
    shape_t = tuple(int(s) for s in shape_t)
    if any(s < 0 for s in shape_t):
        raise ValueError(f"broadcast_to: all elements of broadcast shape must be non-negative, got {shape_t}.")
    require_known(x, range(x.ndim), "broadcast_to")
    lead = len(shape_t) - x.ndim
    if lead < 0:
        raise ValueError(f"broadcast_to: cannot broadcast an array of shape {x.shape} to the shape {shape_t} with "
                         f"fewer dimensions.")
    broadcast = [d < lead or (x.shape[d - lead] == 1 and shape_t[d] != 1) for d in range(len(shape_t))]
    for d in range(lead, len(shape_t)):
        if x.shape[d - lead] not in (1, shape_t[d]):
            raise ValueError(f"operands could not be broadcast together: an array of shape {x.shape} cannot be "
                             f"broadcast to the requested shape {shape_t} (axis {d}).")
    if chunks is None:
        out_chunks = [(s,) if broadcast[d] else x.chunks[d - lead] for d, s in enumerate(shape_t)]
    else:
        previous = tuple((s,) if broadcast[d] else x.chunks[d - lead] for d, s in enumerate(shape_t))
        out_chunks = list(normalize_chunks(chunks, shape_t, dtype=x.dtype, previous_chunks=previous))
        kept = tuple(x.chunks[d - lead] if broadcast[d] else out_chunks[d] for d in range(lead, len(shape_t)))
        if kept != x.chunks:
            x = rechunk(x, kept)
    if tuple(shape_t) == tuple(x.shape) and tuple(out_chunks) == x.chunks:
        return x

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(0 if broadcast[d] else index[d] for d in range(lead, len(shape_t)))

    def block_args(index: tuple[int, ...]) -> tuple[Any, ...]:
        return (tuple(int(c[i]) for c, i in zip(out_chunks, index, strict=True)),)

    return map_each_block(x, np.broadcast_to, out_chunks, "broadcast_to", source=source, block_args=block_args,
                          layout=(lead, broadcast))


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> list[Any]:
    """Broadcast arrays against each other, with common chunks; mirrors ``numpy.broadcast_arrays``.

    >>> import numpy as np, shoal.array as sa
    >>> a, b = broadcast_arrays(sa.from_array(np.arange(3), chunks=2), np.ones((2, 1)))
    >>> a.shape, b.shape, a.chunks == b.chunks
    ((2, 3), (2, 3), True)
    """
    arrays = [as_array(a) for a in args]
    for a in arrays:
        require_known(a, range(a.ndim), "broadcast_arrays")
    shape = broadcast_shapes(*[a.shape for a in arrays])
    ndim = len(shape)
    chunks = []
    for d in range(ndim):
        options = [a.chunks[d - ndim + a.ndim] for a in arrays
                   if d - ndim + a.ndim >= 0 and a.shape[d - ndim + a.ndim] == shape[d]]
        chunks.append(common_chunks(options) if options else (shape[d],))
    return [broadcast_to(a, shape, chunks=tuple(chunks)) for a in arrays]


class ShapeMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        """The array with its axes reversed."""
        return transpose(self)

    @property
    def mT(self) -> Any:  # noqa: N802 - NumPy's name
        """The array with its last two axes swapped."""
        return swapaxes(self, -1, -2)

    def transpose(self, *axes: Any) -> Any:
        """Permute the axes: ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``; see :func:`shoal.array.transpose`."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], Integral)):
            axes = axes[0]
        return transpose(self, axes or None)

    def reshape(self, *shape: Any, merge_chunks: bool = True, limit: Any = None, order: str = "C") -> Any:
        """Reshape: ``x.reshape(3, 4)`` or ``x.reshape((3, 4))``; see :func:`shoal.array.reshape`."""
        if len(shape) == 1 and not isinstance(shape[0], Integral):
            shape = shape[0]
        return reshape(self, shape, merge_chunks=merge_chunks, limit=limit, order=order)

    def ravel(self, order: str = "C") -> Any:
        """The array as one dimension; see :func:`shoal.array.ravel`."""
        return ravel(self, order=order)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Any:
        """Remove length-1 axes; see :func:`shoal.array.squeeze`."""
        return squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        """Exchange two axes; see :func:`shoal.array.swapaxes`."""
        return swapaxes(self, axis1, axis2)

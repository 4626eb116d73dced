"""Joining and rearranging arrays along axes: concatenate, stack, block, roll, flip, repeat, tile.

Two mechanisms cover the family.

Joining (``concatenate``, ``stack``, ``block``, ``tile``)
    lays the inputs' block grids one after another along the joined axis.
    An output block *is* an input block (an ``Alias``, or a cast when the
    dtypes differ), so joining costs no copies until the result is used. The
    other axes are first rechunked to common boundaries.

Index maps (``roll``, ``repeat``, and ``pad``'s modes in :mod:`shoal.array._pad`)
    say, along one axis, which input position each output position holds:
    ``np.pad(np.arange(n), width, mode)`` is exactly the map ``pad`` needs, so
    NumPy's own rules (including reflections wider than the axis) are reused
    rather than re-derived. :func:`gather` turns a map into tasks: each output
    block reads only the input blocks its positions fall in, as plain slices
    where the positions run contiguously.

The block-level helpers live in :mod:`shoal.array._blockmap`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate, product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import (
    as_array,
    atleast_nd,
    gather,
    map_each_block,
    normalize_axis_index,
    normalize_axis_tuple,
    prepend_axes,
    require_known,
)
from shoal.array._dispatch import implements
from shoal.array._rechunk import common_chunks, rechunk
from shoal.graph.task import Alias, GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "JoinMethods",
    "block",
    "concatenate",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "repeat",
    "roll",
    "stack",
    "tile",
    "vstack",
]


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


# -- joining ---------------------------------------------------------------------------------------------------
def _result_dtype(arrays: Sequence[ArrayBase], dtype: Any, casting: str, what: str) -> np.dtype[Any]:
    if dtype is None:
        return np.result_type(*[a.dtype for a in arrays])
    dtype = np.dtype(dtype)
    for i, a in enumerate(arrays):
        if not np.can_cast(a.dtype, dtype, casting=casting):
            raise TypeError(
                f"{what}: cannot cast the array at index {i} from dtype {a.dtype} to {dtype} according to the "
                f"rule {casting!r}; pass casting='unsafe' to allow it."
            )
    return dtype


def _cast(block: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    return block.astype(dtype, copy=False)


def _align_except(arrays: list[ArrayBase], skip: int | None, allow_unknown: bool, what: str) -> list[ArrayBase]:
    """Rechunk ``arrays`` to common chunks on every axis but ``skip``."""
    ndim = arrays[0].ndim
    target: list[Any] = []
    for axis in range(ndim):
        if axis == skip:
            target.append(None)
            continue
        options = [a.chunks[axis] for a in arrays]
        if any(_isnan(c) for o in options for c in o):
            if not allow_unknown:
                raise ValueError(
                    f"{what}: the block lengths along axis {axis} are unknown (nan) for some inputs, so their "
                    f"blocks cannot be lined up. Call x.compute_chunk_sizes() on the inputs first, or pass "
                    f"allow_unknown_chunksizes=True if you know the lengths agree."
                )
            if len({len(o) for o in options}) != 1:
                raise ValueError(f"{what}: inputs have different numbers of blocks along axis {axis} of unknown "
                                 f"length; call x.compute_chunk_sizes() on them first.")
            target.append(options[0])
            continue
        target.append(common_chunks(options))
    out = []
    for a in arrays:
        wanted = tuple(a.chunks[axis] if t is None or any(_isnan(c) for c in a.chunks[axis]) else t
                       for axis, t in enumerate(target))
        out.append(a if wanted == a.chunks else rechunk(a, wanted))
    return out


def _check_same_ndim(arrays: Sequence[ArrayBase], what: str) -> None:
    for i, a in enumerate(arrays):
        if a.ndim != arrays[0].ndim:
            raise ValueError(
                f"{what}: all the input arrays must have the same number of dimensions, but the array at index 0 "
                f"has {arrays[0].ndim} dimension(s) (shape {arrays[0].shape}) and the array at index {i} has "
                f"{a.ndim} dimension(s) (shape {a.shape})."
            )


@implements(np.concatenate)
def concatenate(seq: Sequence[Any], axis: int | None = 0, allow_unknown_chunksizes: bool = False, *,
                out: Any = None, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Join arrays along an existing axis.

    Mirrors ``numpy.concatenate``; the output's blocks are the inputs'
    blocks, and the other axes are rechunked to common boundaries.

    Parameters
    ----------
    seq : sequence of arrays
    axis : int or None
        The axis to join along; ``None`` flattens the inputs first.
    allow_unknown_chunksizes : bool
        Join even if block lengths on the other axes are unknown (nan),
        trusting that they agree.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(4).reshape(2, 2), chunks=1)
    >>> y = concatenate([x, x * 10], axis=1)
    >>> y.chunks
    ((1, 1), (1, 1, 1, 1))
    >>> y.compute()
    array([[ 0,  1,  0, 10],
           [ 2,  3, 20, 30]])
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: z = concatenate([x, y]).")
    arrays = [as_array(a) for a in seq]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [a.ravel() for a in arrays]
        axis = 0
    _check_same_ndim(arrays, "concatenate")
    ndim = arrays[0].ndim
    if ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated; use stack() to join scalars.")
    axis = normalize_axis_index(axis, ndim, "concatenate")
    for i, a in enumerate(arrays):
        for d in range(ndim):
            if d == axis or _isnan(a.shape[d]) or _isnan(arrays[0].shape[d]):
                continue
            if a.shape[d] != arrays[0].shape[d]:
                raise ValueError(
                    f"concatenate: all the input array dimensions except for the concatenation axis must match "
                    f"exactly, but along dimension {d}, the array at index 0 has size {arrays[0].shape[d]} "
                    f"(shape {arrays[0].shape}) and the array at index {i} has size {a.shape[d]} (shape {a.shape})."
                )
    out_dtype = _result_dtype(arrays, dtype, casting, "concatenate")
    arrays = _align_except(arrays, axis, allow_unknown_chunksizes, "concatenate")
    if len(arrays) == 1 and arrays[0].dtype == out_dtype:
        return arrays[0]
    name = f"concatenate-{tokenize([a.name for a in arrays], axis, out_dtype)}"
    chunks = list(arrays[0].chunks)
    chunks[axis] = tuple(c for a in arrays for c in a.chunks[axis])
    layer: dict[Key, GraphNode] = {}
    offset = 0
    for a in arrays:
        for index in product(*(range(n) for n in a.numblocks)):
            out_index = (*index[:axis], index[axis] + offset, *index[axis + 1:])
            key = (name, *out_index)
            source = (a.name, *index)
            layer[key] = Alias(key, source) if a.dtype == out_dtype else Task(key, _cast, Ref(source), out_dtype)
        offset += a.numblocks[axis]
    return new_array(layer, name, tuple(chunks), out_dtype, deps=tuple(arrays), meta=arrays[0]._meta)


def _expand_cast(block: np.ndarray, axis: int, dtype: np.dtype[Any]) -> np.ndarray:
    return np.expand_dims(block, axis).astype(dtype, copy=False)


@implements(np.stack)
def stack(seq: Sequence[Any], axis: int = 0, allow_unknown_chunksizes: bool = False, *, out: Any = None,
          dtype: Any = None, casting: str = "same_kind") -> Any:
    """Join arrays of one shape along a new axis; mirrors ``numpy.stack``.

    The new axis has one block per input.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(3), chunks=2)
    >>> y = stack([x, x + 1], axis=1)
    >>> y.chunks
    ((2, 1), (1, 1))
    >>> y.compute()
    array([[0, 1],
           [1, 2],
           [2, 3]])
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: z = stack([x, y]).")
    arrays = [as_array(a) for a in seq]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {tuple(a.shape) for a in arrays if not any(_isnan(s) for s in a.shape)}
    if len(shapes) > 1 or any(a.ndim != arrays[0].ndim for a in arrays):
        raise ValueError(f"stack: all input arrays must have the same shape, got shapes {[a.shape for a in arrays]}.")
    ndim = arrays[0].ndim
    axis = normalize_axis_index(axis, ndim + 1, "stack")
    out_dtype = _result_dtype(arrays, dtype, casting, "stack")
    arrays = _align_except(arrays, None, allow_unknown_chunksizes, "stack")
    name = f"stack-{tokenize([a.name for a in arrays], axis, out_dtype)}"
    chunks = [*arrays[0].chunks[:axis], (1,) * len(arrays), *arrays[0].chunks[axis:]]
    layer: dict[Key, GraphNode] = {}
    for k, a in enumerate(arrays):
        for index in product(*(range(n) for n in a.numblocks)):
            key = (name, *index[:axis], k, *index[axis:])
            layer[key] = Task(key, _expand_cast, Ref((a.name, *index)), axis, out_dtype)
    return new_array(layer, name, tuple(chunks), out_dtype, deps=tuple(arrays), meta=arrays[0]._meta)


@implements(np.hstack)
def hstack(tup: Sequence[Any], allow_unknown_chunksizes: bool = False, *, dtype: Any = None,
           casting: str = "same_kind") -> Any:
    """Join along the second axis (the first for 1-D inputs); mirrors ``numpy.hstack``.

    >>> import numpy as np, shoal.array as sa
    >>> hstack([sa.from_array(np.arange(2), chunks=1), np.array([9])]).compute()
    array([0, 1, 9])
    """
    arrays = [atleast_nd(as_array(a), 1) for a in tup]
    axis = 0 if arrays and arrays[0].ndim == 1 else 1
    return concatenate(arrays, axis=axis, allow_unknown_chunksizes=allow_unknown_chunksizes, dtype=dtype,
                       casting=casting)


@implements(np.vstack)
def vstack(tup: Sequence[Any], allow_unknown_chunksizes: bool = False, *, dtype: Any = None,
           casting: str = "same_kind") -> Any:
    """Join along the first axis, 1-D inputs becoming rows; mirrors ``numpy.vstack``.

    >>> import numpy as np, shoal.array as sa
    >>> vstack([sa.from_array(np.arange(2), chunks=1), np.array([8, 9])]).compute()
    array([[0, 1],
           [8, 9]])
    """
    arrays = [atleast_nd(as_array(a), 2) for a in tup]
    return concatenate(arrays, axis=0, allow_unknown_chunksizes=allow_unknown_chunksizes, dtype=dtype,
                       casting=casting)


@implements(np.dstack)
def dstack(tup: Sequence[Any], allow_unknown_chunksizes: bool = False) -> Any:
    """Join along the third axis; mirrors ``numpy.dstack``.

    >>> import numpy as np, shoal.array as sa
    >>> dstack([sa.from_array(np.arange(2), chunks=1), np.array([8, 9])]).shape
    (1, 2, 2)
    """
    arrays = [atleast_nd(as_array(a), 3) for a in tup]
    return concatenate(arrays, axis=2, allow_unknown_chunksizes=allow_unknown_chunksizes)


def _block_depth(arrays: Any, where: tuple[int, ...] = ()) -> tuple[int, list[Any]]:
    """Nesting depth of the lists in ``arrays`` (checked to be the same everywhere) and the leaves."""
    if isinstance(arrays, tuple):
        raise TypeError(f"block: arrays{''.join(f'[{i}]' for i in where)} is a tuple. Only lists can be used to "
                        f"arrange blocks, and tuples are not allowed (as in numpy.block).")
    if not isinstance(arrays, list):
        return 0, [arrays]
    if not arrays:
        raise ValueError(f"block: list at arrays{''.join(f'[{i}]' for i in where)} cannot be empty.")
    depths, leaves = set(), []
    for i, item in enumerate(arrays):
        depth, items = _block_depth(item, (*where, i))
        depths.add(depth)
        leaves.extend(items)
    if len(depths) != 1:
        raise ValueError(f"block: list depths are mismatched inside arrays{''.join(f'[{i}]' for i in where)} "
                         f"(found depths {sorted(depths)}); every list at one level must nest equally deep.")
    return depths.pop() + 1, leaves


@implements(np.block)
def block(arrays: Any, allow_unknown_chunksizes: bool = False) -> Any:
    """Assemble an array from nested lists of blocks; mirrors ``numpy.block``.

    The innermost lists are joined along the last axis, the next level along
    the second-to-last, and so on.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = sa.from_array(np.ones((2, 2), dtype=int), chunks=1)
    >>> block([[a, np.zeros((2, 1), dtype=int)], [np.full((1, 3), 7)]]).compute()
    array([[1, 1, 0],
           [1, 1, 0],
           [7, 7, 7]])
    """
    depth, leaves = _block_depth(arrays)
    ndim = max([depth, *(np.ndim(leaf) if not isinstance(leaf, ArrayBase) else leaf.ndim for leaf in leaves)])

    def assemble(obj: Any, level: int) -> Any:
        if level == depth:
            return prepend_axes(as_array(obj), ndim)
        parts = [assemble(item, level + 1) for item in obj]
        return concatenate(parts, axis=-(depth - level), allow_unknown_chunksizes=allow_unknown_chunksizes)

    return assemble(arrays, 0)


# -- roll, flip, repeat, tile ------------------------------------------------------------------------------------
@implements(np.roll)
def roll(array: Any, shift: Any, axis: Any = None) -> Any:
    """Shift elements along axes, wrapping around; mirrors ``numpy.roll``.

    >>> import numpy as np, shoal.array as sa
    >>> roll(sa.from_array(np.arange(5), chunks=2), 2).compute()
    array([3, 4, 0, 1, 2])
    """
    x = as_array(array)
    if axis is None:
        if x.ndim == 1:
            return roll(x, shift, 0)
        return roll(x.ravel(), shift, 0).reshape(x.shape)
    try:
        pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    except ValueError:
        raise ValueError(f"roll: 'shift' {shift!r} and 'axis' {axis!r} should be scalars or sequences of the "
                         f"same length.") from None
    totals: dict[int, int] = {}
    for s, a in pairs:
        a = normalize_axis_index(int(a), x.ndim, "roll")
        totals[a] = totals.get(a, 0) + int(s)
    for a, s in totals.items():
        require_known(x, [a], "roll")
        n = int(x.shape[a])
        if n == 0 or s % n == 0:
            continue
        x = gather(x, a, (np.arange(n) - s) % n, x.chunks[a], "roll")
    return x


@implements(np.flip)
def flip(m: Any, axis: Any = None) -> Any:
    """Reverse the order of elements along axes; mirrors ``numpy.flip``.

    >>> import numpy as np, shoal.array as sa
    >>> flip(sa.from_array(np.arange(5), chunks=2)).compute()
    array([4, 3, 2, 1, 0])
    """
    x = as_array(m)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim, "flip")
    if not axes:
        return x
    chunks = [tuple(reversed(c)) if a in axes else c for a, c in enumerate(x.chunks)]
    numblocks = x.numblocks

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(numblocks[a] - 1 - i if a in axes else i for a, i in enumerate(index))

    return map_each_block(x, np.flip, chunks, "flip", source=source, layout=axes, axis=axes)


@implements(np.fliplr)
def fliplr(m: Any) -> Any:
    """Reverse the second axis; mirrors ``numpy.fliplr``."""
    x = as_array(m)
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {x.shape}.")
    return flip(x, 1)


@implements(np.flipud)
def flipud(m: Any) -> Any:
    """Reverse the first axis; mirrors ``numpy.flipud``."""
    x = as_array(m)
    if x.ndim < 1:
        raise ValueError("flipud: input must be >= 1-d, got a 0-d array.")
    return flip(x, 0)


@implements(np.repeat)
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Repeat each element; mirrors ``numpy.repeat``.

    ``repeats`` may be an int or, as in NumPy, one count per element along ``axis``; when it is a shoal
    array (counts unknown until computed), the output's lengths along ``axis`` are unknown (``nan``) too.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[1, 2], [3, 4]]), chunks=1)
    >>> repeat(x, 2, axis=1).compute()
    array([[1, 1, 2, 2],
           [3, 3, 4, 4]])
    >>> repeat(x, [1, 3], axis=0).compute()
    array([[1, 2],
           [3, 4],
           [3, 4],
           [3, 4]])
    """
    x = as_array(a)
    if axis is None:
        x = x.ravel() if x.ndim != 1 else x
        axis = 0
    axis = normalize_axis_index(axis, x.ndim, "repeat")
    if isinstance(repeats, ArrayBase):
        return _repeat_lazy(x, repeats, axis)
    counts = np.asarray(repeats)
    if counts.size == 0:
        counts = counts.astype(np.intp)  # np.asarray([]) is float, but means "no counts", as in NumPy
    if counts.dtype.kind not in "iub":
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}.")
    if (counts < 0).any():
        raise ValueError(f"repeat: negative dimensions are not allowed (repeats={repeats!r}).")
    if counts.ndim == 0 or counts.size == 1:
        r = int(counts.reshape(-1)[0])
        if r == 1:
            return x
        chunks = list(x.chunks)
        chunks[axis] = tuple(c * r for c in x.chunks[axis])
        return map_each_block(x, np.repeat, chunks, "repeat", args=(r,), axis=axis)
    require_known(x, [axis], "repeat")
    n = int(x.shape[axis])
    if counts.ndim != 1 or counts.size != n:
        raise ValueError(f"repeat: operands could not be broadcast together: repeats has shape {counts.shape} but "
                         f"the array has {n} elements along axis {axis} (shape {x.shape}).")
    index = np.repeat(np.arange(n), counts)
    bounds = [0, *accumulate(int(c) for c in x.chunks[axis])]
    out_chunks = [int(counts[a:b].sum()) for a, b in zip(bounds, bounds[1:], strict=False)]
    return gather(x, axis, index, out_chunks, "repeat")


def _repeat_block(block: np.ndarray, counts: np.ndarray, axis: int) -> np.ndarray:
    return np.repeat(block, counts, axis=axis)


def _repeat_lazy(x: ArrayBase, counts: ArrayBase, axis: int) -> Any:
    """``np.repeat`` with lazy counts: each block repeats with its own counts (or the one count), the lengths
    along ``axis`` known only when computed."""
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be integers, got a shoal array of {counts.dtype}.")
    if counts.ndim > 1:
        raise ValueError(f"repeat: repeats must be 0-d or 1-d, got shape {counts.shape}.")
    one = counts.ndim == 0 or (not math.isnan(counts.shape[0]) and counts.shape[0] == 1)
    if one:
        counts = counts.reshape(())
        ref_of = lambda index: Ref((counts.name,))  # noqa: E731 - one count for every block
    else:
        require_known(x, [axis], "repeat")
        require_known(counts, [0], "repeat (the repeats)")
        n = int(x.shape[axis])
        if counts.shape[0] != n:
            raise ValueError(f"repeat: operands could not be broadcast together: repeats has shape {counts.shape} "
                             f"but the array has {n} elements along axis {axis} (shape {x.shape}).")
        counts = rechunk(counts, (x.chunks[axis],))
        ref_of = lambda index: Ref((counts.name, index[axis]))  # noqa: E731 - the counts of this block's rows
    name = f"repeat-{tokenize(x.name, counts.name, axis)}"
    layer = {(name, *index): Task((name, *index), _repeat_block, Ref((x.name, *index)), ref_of(index), axis)
             for index in product(*(range(n) for n in x.numblocks))}
    chunks = list(x.chunks)
    chunks[axis] = (math.nan,) * x.numblocks[axis]
    return new_array(layer, name, tuple(chunks), x.dtype, deps=(x, counts), meta=x._meta)


@implements(np.tile)
def tile(A: Any, reps: Any) -> Any:  # noqa: N803 - NumPy's name
    """Repeat a whole array along each axis; mirrors ``numpy.tile``.

    >>> import numpy as np, shoal.array as sa
    >>> tile(sa.from_array(np.arange(3), chunks=2), (2, 2)).compute()
    array([[0, 1, 2, 0, 1, 2],
           [0, 1, 2, 0, 1, 2]])
    """
    x = as_array(A)
    try:
        reps_t = (reps,) if isinstance(reps, Integral) else tuple(reps)
    except TypeError:
        raise TypeError(f"tile: reps must be integers or a sequence of integers, got {reps!r}.") from None
    for r in reps_t:
        if not isinstance(r, Integral):
            raise TypeError(f"tile: reps must be integers, got {reps!r}.")
        if r < 0:
            raise ValueError(f"tile: negative dimensions are not allowed (reps={reps!r}).")
    if len(reps_t) > x.ndim:
        x = prepend_axes(x, len(reps_t))
    reps_t = (1,) * (x.ndim - len(reps_t)) + reps_t
    for axis, r in enumerate(reps_t):
        if r == 1:
            continue
        if r == 0:
            x = gather(x, axis, np.arange(0), (0,), "tile")
        else:
            x = concatenate([x] * r, axis=axis)
    return x


class JoinMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def repeat(self, repeats: Any, axis: int | None = None) -> Any:
        """Repeat each element; see :func:`shoal.array.repeat`."""
        return repeat(self, repeats, axis=axis)

"""Joining and rearranging arrays along axes: concatenate, stack, block, pad, roll, flip, repeat, tile.

Two mechanisms cover the family.

Joining (``concatenate``, ``stack``, ``block``, ``tile``)
    lays the inputs' block grids one after another along the joined axis.
    An output block *is* an input block (an ``Alias``, or a cast when the
    dtypes differ), so joining costs no copies until the result is used. The
    other axes are first rechunked to common boundaries.

Index maps (``pad``'s edge/reflect/symmetric/wrap modes, ``roll``, ``repeat``)
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
from collections.abc import Callable, Sequence
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
    split_length,
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
    "pad",
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


# -- pad -------------------------------------------------------------------------------------------------------
_PAD_OPTIONS = {
    "constant": {"constant_values"},
    "empty": set(),
    "edge": set(),
    "wrap": set(),
    "reflect": {"reflect_type"},
    "symmetric": {"reflect_type"},
    "linear_ramp": {"end_values"},
    "maximum": {"stat_length"},
    "minimum": {"stat_length"},
    "mean": {"stat_length"},
    "median": {"stat_length"},
}


def _as_pairs(value: Any, ndim: int, name: str, as_index: bool) -> list[tuple[Any, Any]]:
    """``value`` broadcast to one (before, after) pair per axis, as ``numpy.pad`` reads its options."""
    if value is None:
        return [(None, None)] * ndim
    arr = np.asarray(value)
    if as_index:
        if arr.dtype.kind not in "iub" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
            raise TypeError(f"pad: `{name}` must be of integral type, got {value!r}.")
        arr = arr.astype(np.intp)
        if (arr < 0).any():
            raise ValueError(f"pad: `{name}` can't contain negative values, got {value!r}.")
    try:
        pairs = np.broadcast_to(arr, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: `{name}`={value!r} (shape {arr.shape}) cannot be broadcast to one (before, after) pair for each "
            f"of the array's {ndim} axes (shape ({ndim}, 2)). Give an int, a pair, or one pair per axis."
        ) from None
    return [(p[0].item(), p[1].item()) for p in pairs]


def _constant_block(shape: tuple[int, ...], value: Any, dtype: np.dtype[Any]) -> np.ndarray:
    return np.full(shape, value, dtype=dtype)


def _constant_like(x: ArrayBase, axis: int, length: int, value: Any) -> Any:
    """An array shaped like ``x`` but ``length`` long along ``axis``, filled with ``value``."""
    chunks = list(x.chunks)
    chunks[axis] = split_length(length, max(x.chunks[axis], default=1) or 1)
    name = f"pad-constant-{tokenize(tuple(chunks), value, x.dtype)}"
    layer: dict[Key, GraphNode] = {}
    for index in product(*(range(len(c)) for c in chunks)):
        shape = tuple(int(c[i]) for c, i in zip(chunks, index, strict=True))
        key = (name, *index)
        layer[key] = Task(key, _constant_block, shape, value, x.dtype)
    return new_array(layer, name, tuple(chunks), x.dtype, meta=x._meta)


def _ramp(edge: np.ndarray, end: Any, width: int, axis: int, reverse: bool) -> np.ndarray:
    ramp = np.linspace(end, edge.squeeze(axis), num=width, endpoint=False, dtype=edge.dtype, axis=axis)
    return np.flip(ramp, axis) if reverse else ramp


_STATS: dict[str, Callable[..., Any]] = {"maximum": np.max, "minimum": np.min, "mean": np.mean, "median": np.median}


def _stat_fill(slab: np.ndarray, stat: str, axis: int, width: int) -> np.ndarray:
    value = _STATS[stat](slab, axis=axis, keepdims=True)
    if slab.dtype.kind in "iub" and np.asarray(value).dtype.kind in "fc":
        value = np.round(value)  # NumPy rounds statistics before storing them into integer arrays
    shape = list(slab.shape)
    shape[axis] = width
    return np.broadcast_to(value, shape).astype(slab.dtype)


def _pad_axis(x: Any, axis: int, before: int, after: int, mode: str, options: dict[str, Any]) -> Any:
    n = int(x.shape[axis])
    size = max(x.chunks[axis], default=1) or 1
    if mode in ("constant", "empty"):
        low, high = options["constant_values"] if mode == "constant" else (0, 0)
        parts = [_constant_like(x, axis, before, low)] if before else []
        parts.append(x)
        if after:
            parts.append(_constant_like(x, axis, after, high))
        return concatenate(parts, axis=axis)
    if n == 0:
        raise ValueError(f"pad: can't extend empty axis {axis} (shape {x.shape}) using modes other than 'constant' "
                         f"or 'empty'; there are no values to {mode!r} from.")
    if options.get("reflect_type") == "odd":
        parts = [_odd_reflection(x, axis, before, after, mode, "before")] if before else []
        parts.append(x)
        if after:
            parts.append(_odd_reflection(x, axis, before, after, mode, "after"))
        return concatenate(parts, axis=axis)
    if mode in ("edge", "wrap", "reflect", "symmetric"):
        index = np.pad(np.arange(n), (before, after), mode=mode)
        parts = [gather(x, axis, index[:before], split_length(before, size), "pad")] if before else []
        parts.append(x)
        if after:
            parts.append(gather(x, axis, index[n + before:], split_length(after, size), "pad"))
        return concatenate(parts, axis=axis)
    if mode == "linear_ramp":
        low, high = options["end_values"]
        parts = []
        if before:
            edge = gather(x, axis, np.array([0]), (1,), "pad-edge")
            parts.append(_ramp_array(edge, axis, before, low, reverse=False))
        parts.append(x)
        if after:
            edge = gather(x, axis, np.array([n - 1]), (1,), "pad-edge")
            parts.append(_ramp_array(edge, axis, after, high, reverse=True))
        return concatenate(parts, axis=axis)
    # maximum / minimum / mean / median over the first / last stat_length values
    sides: dict[str, Any] = {}
    for side, width, length in (("before", before, options["stat_length"][0]),
                                ("after", after, options["stat_length"][1])):
        if not width:
            continue
        length = n if length is None else min(int(length), n)
        if length == 0:
            raise ValueError(f"pad: stat_length of 0 yields no value for padding (axis {axis}, {side}).")
        index = np.arange(length) if side == "before" else np.arange(n - length, n)
        slab = gather(x, axis, index, (length,), "pad-stat")
        chunks = list(slab.chunks)
        chunks[axis] = (width,)
        sides[side] = map_each_block(slab, _stat_fill, chunks, "pad-" + mode, args=(mode, axis, width))
    parts = [p for p in (sides.get("before"), x, sides.get("after")) if p is not None]
    return concatenate(parts, axis=axis)


def _apply_weights(block: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(np.tensordot(block, weights, axes=([axis], [0])), -1, axis).astype(block.dtype, copy=False)


def _odd_reflection(x: Any, axis: int, before: int, after: int, mode: str, side: str) -> Any:
    """One side's padding for ``reflect_type="odd"``.

    Odd reflections (``2 * edge - mirrored value``, repeated when the pad is
    wider than the axis) are linear in the data, so NumPy padding an identity
    matrix yields the weights: padded region = input positions @ weights.
    When both pads are narrower than the axis, each side depends only on the
    ``width + 1`` values at its own end, so a small identity suffices.
    """
    n = int(x.shape[axis])
    width = before if side == "before" else after
    if max(before, after) < n:
        m = width + 1
        pads = ((0, 0), (width, 0)) if side == "before" else ((0, 0), (0, width))
        padded = np.pad(np.eye(m, dtype=x.dtype), pads, mode=mode, reflect_type="odd")
        weights = padded[:, :width] if side == "before" else padded[:, m:]
        sources = np.arange(m) if side == "before" else np.arange(n - m, n)
    else:
        padded = np.pad(np.eye(n, dtype=x.dtype), ((0, 0), (before, after)), mode=mode, reflect_type="odd")
        weights = padded[:, :before] if side == "before" else padded[:, n + before:]
        sources = np.arange(n)
    used = np.flatnonzero(weights.any(axis=1))
    slab = gather(x, axis, sources[used], (len(used),), "pad-odd")
    chunks = list(slab.chunks)
    chunks[axis] = (width,)
    return map_each_block(slab, _apply_weights, chunks, "pad-odd", args=(weights[used], axis))


def _ramp_array(edge: Any, axis: int, width: int, end: Any, reverse: bool) -> Any:
    chunks = list(edge.chunks)
    chunks[axis] = (width,)
    return map_each_block(edge, _ramp, chunks, "pad-ramp", args=(end, width, axis, reverse))


@implements(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """Pad an array; mirrors ``numpy.pad``.

    Supported modes: ``constant`` (``constant_values``), ``empty`` (zeros),
    ``edge``, ``wrap``, ``reflect`` and ``symmetric`` (``reflect_type``),
    ``linear_ramp`` (``end_values``), and ``maximum``, ``minimum``,
    ``mean``, ``median`` (``stat_length``). The padded regions get blocks of
    their own; the original blocks are reused as they are. As in NumPy,
    axes are padded one after another, so corners come from the last axis.

    A function as ``mode`` is called as NumPy calls it,
    ``mode(vector, iaxis_pad_width, iaxis, kwargs)`` on every 1-d slice
    along every axis in turn, and fills the pad regions of ``vector`` in
    place. Each axis is made one block long while its slices are processed
    (the function sees whole slices), so this mode needs whole rows along
    each axis in memory.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(5), chunks=2)
    >>> pad(x, (2, 3), mode="reflect").compute()
    array([2, 1, 0, 1, 2, 3, 4, 3, 2, 1])
    >>> pad(x, 1, constant_values=9).compute()
    array([9, 0, 1, 2, 3, 4, 9])
    """
    if callable(mode):
        x = as_array(array)
        return _pad_with_function(x, _as_pairs(pad_width, x.ndim, "pad_width", as_index=True), mode, kwargs)
    if mode not in _PAD_OPTIONS:
        raise ValueError(f"pad: mode {mode!r} is not supported; choose one of {sorted(_PAD_OPTIONS)}.")
    unsupported = set(kwargs) - _PAD_OPTIONS[mode]
    if unsupported:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {sorted(unsupported)}.")
    x = as_array(array)
    widths = _as_pairs(pad_width, x.ndim, "pad_width", as_index=True)
    if x.ndim == 0:
        return x
    options: dict[str, Any] = {}
    if mode in ("reflect", "symmetric"):
        if kwargs.get("reflect_type", "even") not in ("even", "odd"):
            raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {kwargs['reflect_type']!r}.")
        options["reflect_type"] = [kwargs.get("reflect_type", "even")] * x.ndim
    if mode == "constant":
        options["constant_values"] = _as_pairs(kwargs.get("constant_values", 0), x.ndim, "constant_values", False)
    elif mode == "linear_ramp":
        options["end_values"] = _as_pairs(kwargs.get("end_values", 0), x.ndim, "end_values", False)
    elif mode in _STATS:
        options["stat_length"] = _as_pairs(kwargs.get("stat_length"), x.ndim, "stat_length", as_index=True)
    padded = [a for a, (b, c) in enumerate(widths) if b or c]
    require_known(x, range(x.ndim) if padded else [], "pad")
    for axis in padded:
        per_axis = {k: v[axis] for k, v in options.items()}
        x = _pad_axis(x, axis, widths[axis][0], widths[axis][1], mode, per_axis)
    return x


def _apply_pad_function(block: np.ndarray, axis: int, width: tuple[int, int], function: Callable[..., Any],
                        kwargs: dict[str, Any]) -> np.ndarray:
    out = np.array(block, copy=True)  # the function writes in place: never into an input block
    view = np.moveaxis(out, axis, -1)
    for index in np.ndindex(view.shape[:-1]):
        function(view[index], width, axis, kwargs)
    return out


def _pad_with_function(x: Any, widths: Sequence[tuple[int, int]], function: Callable[..., Any],
                       kwargs: dict[str, Any]) -> Any:
    if x.ndim == 0:
        return x
    # numpy.pad makes room along every axis first, then runs the function axis by axis over the whole
    # enlarged array (pad regions of the other axes included): the same steps here give the same corners.
    x = pad(x, [tuple(w) for w in widths], mode="constant")
    for axis in range(x.ndim):
        x = rechunk(x, {axis: -1})
        x = map_each_block(x, _apply_pad_function, x.chunks, "pad-function",
                           args=(axis, tuple(widths[axis]), function, dict(kwargs)))
    return x


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

    ``repeats`` may be an int or, as in NumPy, one count per element along ``axis``.

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
    if isinstance(repeats, ArrayBase):
        raise NotImplementedError("repeat: repeats must be an int or a NumPy array/list, not a shoal array; "
                                  "compute it first.")
    if axis is None:
        x = x.ravel() if x.ndim != 1 else x
        axis = 0
    axis = normalize_axis_index(axis, x.ndim, "repeat")
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

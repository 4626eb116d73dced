"""``pad``: NumPy's ``np.pad`` on chunked arrays, every mode.

Edge, reflect, symmetric and wrap modes are index maps along one axis:
``np.pad(np.arange(n), width, mode)`` says which input position each output
position holds, and :func:`~shoal.array._blockmap.gather` turns that map into
tasks that read only the input blocks they need. Constant, ramp and
statistic modes add new blocks beside the array, and ``concatenate`` joins
them on (see :mod:`shoal.array._join`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import as_array, gather, map_each_block, require_known, split_length
from shoal.array._dispatch import implements
from shoal.array._join import concatenate
from shoal.array._rechunk import rechunk
from shoal.graph.task import GraphNode, Key, Task
from shoal.graph.tokenize import tokenize

__all__ = ["pad"]


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

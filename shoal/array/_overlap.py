"""Operations that need a margin of neighbouring data around each block.

``overlap`` extends every block with ``depth`` elements of its neighbours
(or boundary padding), ``map_overlap`` maps a function over the extended
blocks and trims the margins off again; :mod:`._margins` explains how the
margins are gathered and what each boundary mode means. ``sliding_window_view``,
``diff`` and ``gradient`` use the same margins.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._chunks import chunk_offsets
from shoal.array._dispatch import implements
from shoal.array._elementwise import map_blocks
from shoal.array._from_array import asarray, from_array
from shoal.array._join import concatenate
from shoal.array._margins import normalize_boundary, normalize_depth, overlap_with_margins, trim_margins
from shoal.array._rechunk import common_chunks, rechunk
from shoal.array._reductions import normalize_axis
from shoal.array._shape import ravel
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "OverlapMethods", "diff", "ediff1d", "gradient", "map_overlap", "overlap", "sliding_window_view",
    "trim_internal", "trim_overlap",
]


def overlap(x: Any, depth: Any, boundary: Any = None, *, allow_rechunk: bool = True) -> Any:
    """Extend every block with ``depth`` elements of its neighbours (or of the boundary).

    Parameters
    ----------
    x : Array
    depth : int, tuple or dict
        Margin per axis: one int for all axes, one entry per axis, or
        ``{axis: depth}``; an entry may be a ``(left, right)`` pair.
    boundary : str, number, tuple or dict, optional
        What lies beyond the array's edges: ``"reflect"``, ``"periodic"``,
        ``"nearest"``, ``"none"`` (no padding; the default) or a constant.
    allow_rechunk : bool
        Accepted for Dask compatibility; margins larger than a chunk never
        need rechunking here.

    Notes
    -----
    Mirrors ``dask.array.overlap.overlap``; differences: any depth works with
    any chunking, and asymmetric depths work with every boundary mode.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(8), chunks=4)
    >>> g = overlap(x, depth=1, boundary="reflect")
    >>> g.chunks
    ((6, 6),)
    >>> g.compute()
    array([0, 0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 7])
    """
    x = asarray(x)
    margins = normalize_depth(depth, x.ndim)
    modes = normalize_boundary(boundary, x.ndim)
    # trim_internal's rule for "none" (nothing added on the outer sides only) needs first and last
    # chunks at least as long as the margins; merge shorter edge chunks into their neighbours.
    wanted = tuple(_edge_safe(c, *margins[a]) if a in margins and modes[a] == "none" else c
                   for a, c in enumerate(x.chunks))
    if wanted != x.chunks:
        x = rechunk(x, wanted)
    return overlap_with_margins(x, margins, modes)[0]


def _edge_safe(chunks: tuple[Any, ...], left: int, right: int) -> tuple[Any, ...]:
    out = list(chunks)
    if any(isinstance(c, float) for c in out):
        return chunks
    while len(out) > 1 and out[0] < left:
        out[:2] = [out[0] + out[1]]
    while len(out) > 1 and out[-1] < right:
        out[-2:] = [out[-2] + out[-1]]
    return tuple(out)


def trim_internal(x: Any, axes: Any, boundary: Any = None) -> Any:
    """Cut the margins that :func:`overlap` added from every block.

    ``axes`` is a depth as :func:`overlap` takes it. With boundary ``"none"``
    the outer sides of the first and last blocks are left alone, since
    ``overlap`` added nothing there.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(8), chunks=4)
    >>> trim_internal(overlap(x, 2, "periodic"), {0: 2}, "periodic").compute()
    array([0, 1, 2, 3, 4, 5, 6, 7])
    """
    x = asarray(x)
    margins = normalize_depth(axes, x.ndim)
    modes = normalize_boundary(boundary, x.ndim)
    gained = {}
    for axis, (left, right) in margins.items():
        n = x.numblocks[axis]
        gained[axis] = [(0 if modes[axis] == "none" and j == 0 else left,
                         0 if modes[axis] == "none" and j == n - 1 else right) for j in range(n)]
    return trim_margins(x, gained)


def trim_overlap(x: Any, depth: Any, boundary: Any = None) -> Any:
    """Alias of :func:`trim_internal` (Dask's newer name)."""
    return trim_internal(x, depth, boundary)


def _per_argument(value: Any, count: int) -> list[Any]:
    if isinstance(value, list):
        if len(value) != count:
            raise ValueError(f"A list of depths or boundaries needs one entry per array ({count}), got {len(value)}.")
        return value
    return [value] * count


def _axis_mapping(ndim: int, drop_axis: Any, new_axis: Any) -> dict[int, int]:
    """Where each input axis lands in the output of ``map_blocks`` with ``drop_axis``/``new_axis``."""
    drop = {d % ndim for d in ([drop_axis] if isinstance(drop_axis, Integral) else list(drop_axis or []))}
    kept = [a for a in range(ndim) if a not in drop]
    adds = [new_axis] if isinstance(new_axis, Integral) else list(new_axis or [])
    out_ndim = len(kept) + len(adds)
    positions = list(range(out_ndim))
    for p in sorted(a % out_ndim for a in adds):
        positions.remove(p)
    return dict(zip(kept, positions, strict=True))


def map_overlap(func: Callable[..., Any], *args: Any, depth: Any = None, boundary: Any = None, trim: bool = True,
                align_arrays: bool = True, allow_rechunk: bool = True, **kwargs: Any) -> Any:
    """Apply ``func`` to every block extended by its neighbours' margins, then cut the margins off.

    Parameters
    ----------
    func : callable
        Called on each extended block (one per array argument, in order).
    *args : arrays and other arguments
    depth : int, tuple, dict or list, keyword only
        Margin per axis as in :func:`overlap`; a list gives one per array.
    boundary : str, number, tuple, dict or list, keyword only
        Boundary mode as in :func:`overlap` (default ``"none"``).
    trim : bool
        Cut the margins from the output blocks (default ``True``).
    align_arrays : bool
        Rechunk array arguments to common chunks first.
    **kwargs
        ``dtype``, ``chunks``, ``drop_axis``, ``new_axis``, ``meta`` go to
        :func:`map_blocks`; the rest to ``func``.

    Notes
    -----
    Mirrors ``dask.array.map_overlap``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([1, 1, 2, 3, 3, 3, 2, 1, 1]), chunks=5)
    >>> map_overlap(lambda b: np.convolve(b, [1, 1, 1], mode="same"), x, depth=1, boundary=0).compute()
    array([2, 4, 6, 8, 9, 8, 6, 4, 2])
    """
    if isinstance(func, ArrayBase) and args and callable(args[0]):
        raise TypeError("map_overlap takes the function first: map_overlap(func, x, depth=..., boundary=...).")
    positions = [i for i, a in enumerate(args) if isinstance(a, ArrayBase)]
    if not positions:
        raise TypeError("map_overlap needs at least one shoal array argument.")
    arrays = [args[i] for i in positions]
    if align_arrays and len(arrays) > 1:
        arrays = _align(arrays)
    depths = _per_argument(depth, len(arrays))
    modes = _per_argument(boundary, len(arrays))
    extended = []
    gains = []
    for a, d, b in zip(arrays, depths, modes, strict=True):
        ext, gained = overlap_with_margins(a, normalize_depth(d, a.ndim), normalize_boundary(b, a.ndim))
        extended.append(ext)
        gains.append((a.ndim, gained))
    new_args = list(args)
    for i, ext in zip(positions, extended, strict=True):
        new_args[i] = ext
    out = map_blocks(func, *new_args, **kwargs)
    if not trim:
        return out
    base_ndim = max(n for n, _ in gains)
    gained = next(g for n, g in gains if n == base_ndim)
    if not gained:
        return out
    mapping = _axis_mapping(base_ndim, kwargs.get("drop_axis"), kwargs.get("new_axis"))
    axis_map = {a: mapping[a] for a in gained if a in mapping}
    return trim_margins(out, {a: gained[a] for a in axis_map}, axis_map)


def _align(arrays: list[Any]) -> list[Any]:
    ndim = max(a.ndim for a in arrays)
    per_axis: dict[int, list[tuple[Any, ...]]] = {}
    for a in arrays:
        for axis, c in enumerate(a.chunks):
            if c != (1,) or len(arrays) == 1:
                per_axis.setdefault(axis + ndim - a.ndim, []).append(c)
    target = {axis: common_chunks(options) for axis, options in per_axis.items()}
    out = []
    for a in arrays:
        offset = ndim - a.ndim
        new = tuple(c if c == (1,) else target[axis + offset] for axis, c in enumerate(a.chunks))
        out.append(a if new == a.chunks else rechunk(a, new))
    return out


# -- routines built on margins -------------------------------------------------------------------------------
def _window_block(block: np.ndarray, window: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    if any(block.shape[a] < w for a, w in zip(axes, window, strict=True)):
        shape = list(block.shape)
        for a, w in zip(axes, window, strict=True):
            shape[a] = max(0, block.shape[a] - w + 1)
        return np.empty((*shape, *window), dtype=block.dtype)
    return np.lib.stride_tricks.sliding_window_view(block, window, axis=axes)


@implements(np.lib.stride_tricks.sliding_window_view)
def sliding_window_view(x: Any, window_shape: Any, axis: Any = None, *, subok: bool = False,
                        writeable: bool = False) -> Any:
    """Windows of ``window_shape`` sliding over ``x``, as new trailing dimensions.

    Mirrors ``numpy.lib.stride_tricks.sliding_window_view``; differences: the
    result is read-only data computed per block (``writeable`` is ignored) and
    an axis may appear only once in ``axis``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6), chunks=2)
    >>> sliding_window_view(x, 3).compute()
    array([[0, 1, 2],
           [1, 2, 3],
           [2, 3, 4],
           [3, 4, 5]])
    """
    x = asarray(x)
    window = (int(window_shape),) if isinstance(window_shape, Integral) else tuple(int(w) for w in window_shape)
    if axis is None:
        if len(window) != x.ndim:
            raise ValueError(f"Since axis is None, window_shape={window} must have one entry per dimension of the "
                             f"array (ndim={x.ndim}).")
        axes = tuple(range(x.ndim))
    else:
        raw = (axis,) if isinstance(axis, Integral) else tuple(axis)
        if len(raw) != len(window):
            raise ValueError(f"window_shape={window} and axis={axis!r} must have the same length.")
        axes = tuple(int(a) % x.ndim for a in raw)
        normalize_axis(raw, x.ndim, "sliding_window_view")
    if any(w < 0 for w in window):
        raise ValueError(f"window_shape cannot contain negative values, got {window}.")
    require_known(x, axes, "sliding_window_view")
    for a, w in zip(axes, window, strict=True):
        if w > x.shape[a]:
            raise ValueError(f"window shape cannot be larger than input array shape: window {w} along axis {a} of "
                             f"length {x.shape[a]}.")
    margins = {a: (0, max(w - 1, 0)) for a, w in zip(axes, window, strict=True) if w > 1}
    ext, _ = overlap_with_margins(x, margins, dict.fromkeys(range(x.ndim), "none"))
    name = f"sliding-window-{tokenize(ext, window, axes)}"
    layer = {(name, *i, *(0,) * len(window)): Task((name, *i, *(0,) * len(window)), _window_block,
                                                   Ref((ext.name, *i)), window, axes)
             for i in product(*(range(n) for n in ext.numblocks))}
    chunks = list(ext.chunks)
    for a, w in zip(axes, window, strict=True):
        chunks[a] = tuple(max(0, int(c) - w + 1) for c in ext.chunks[a])
    chunks.extend((w,) for w in window)
    return new_array(layer, name, tuple(chunks), x.dtype, deps=(ext,), meta=x._meta)


def _diff_block(block: np.ndarray, n: int, axis: int) -> np.ndarray:
    return np.diff(block, n=n, axis=axis)


def _as_edge(value: Any, like: ArrayBase, axis: int) -> Any:
    """``prepend``/``append`` as an array with the shape of ``like`` except along ``axis``."""
    if isinstance(value, ArrayBase):
        return value if value.ndim == like.ndim else _broadcast_edge(value.compute(), like, axis)
    return _broadcast_edge(value, like, axis)


def _broadcast_edge(value: Any, like: ArrayBase, axis: int) -> Any:
    value = np.asarray(value)
    if value.ndim == 0:
        shape = list(like.shape)
        shape[axis] = 1
        value = np.broadcast_to(value, shape)
    chunks = tuple(value.shape[a] if a == axis else c for a, c in enumerate(like.chunks))
    return from_array(np.ascontiguousarray(value), chunks=chunks)


@implements(np.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The ``n``-th discrete difference along ``axis``; mirrors ``numpy.diff``.

    Each block reads the first ``n`` elements after it (from as many
    following blocks as needed), so chunks stay as they are; the last
    blocks shrink by ``n`` in all.

    Parameters
    ----------
    a : Array
    n : int
        How many times to difference.
    axis : int
        The axis (default: the last).
    prepend, append : scalar or array-like, optional
        Values joined to ``a`` along ``axis`` first, as in NumPy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([1, 2, 4, 7, 0]), chunks=2)
    >>> diff(x).compute()
    array([ 1,  2,  3, -7])
    >>> diff(x, n=2, prepend=0).compute()
    array([  0,   1,   1, -10])
    """
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    if not isinstance(n, Integral):
        raise TypeError(f"diff: n must be an int, got {n!r}.")
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    (axis,) = normalize_axis(axis, a.ndim, "diff")
    pieces = [p for p in (prepend, a, append) if p is not None]
    if len(pieces) > 1:
        a = concatenate([p if p is a else _as_edge(p, a, axis) for p in pieces], axis)
    if n == 0:
        return a
    require_known(a, (axis,), "diff")
    ext, _ = overlap_with_margins(a, {axis: (0, n)}, dict.fromkeys(range(a.ndim), "none"))
    dtype = np.diff(np.zeros((2,) * a.ndim, dtype=a.dtype), axis=axis).dtype
    name = f"diff-{tokenize(ext, n, axis)}"
    layer = {(name, *i): Task((name, *i), _diff_block, Ref((ext.name, *i)), n, axis)
             for i in product(*(range(k) for k in ext.numblocks))}
    chunks = tuple(tuple(max(0, int(c) - n) for c in ext.chunks[d]) if d == axis else ext.chunks[d]
                   for d in range(a.ndim))
    return new_array(layer, name, chunks, dtype, deps=(ext,))


@implements(np.ediff1d)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differences between consecutive elements of the flattened array; mirrors ``numpy.ediff1d``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> ediff1d(sa.from_array(np.array([1, 2, 4, 7]), chunks=2), to_begin=-99).compute()
    array([-99,   1,   2,   3])
    """
    flat = ravel(asarray(ary))
    out = diff(flat) if flat.shape[0] else flat
    parts = []
    for value, is_data in ((to_begin, False), (out, True), (to_end, False)):
        if is_data:
            parts.append(out)
        elif value is not None:
            edge = np.asarray(value).ravel()
            if not np.can_cast(edge.dtype, out.dtype, casting="same_kind"):
                raise TypeError(f"dtype of to_begin/to_end ({edge.dtype}) must be compatible with input ary's "
                                f"dtype ({out.dtype}) under the 'same_kind' rule.")
            parts.append(from_array(edge.astype(out.dtype), chunks=-1))
    return concatenate(parts, 0) if len(parts) > 1 else out


def _gradient_block(block: np.ndarray, spacing: Any, axis: int, edge_order: int) -> np.ndarray:
    return np.gradient(block, spacing, axis=axis, edge_order=edge_order)


@implements(np.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """The gradient by central differences (one-sided at the edges); mirrors ``numpy.gradient``.

    ``varargs`` are spacings: none (1), one scalar for every axis, or one
    scalar or coordinate array per axis. Returns one array for one axis,
    else a tuple with one per axis.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([1.0, 2.0, 4.0, 7.0, 11.0]), chunks=2)
    >>> gradient(x).compute()
    array([1. , 1.5, 2.5, 3.5, 4. ])
    """
    f = asarray(f)
    if f.ndim == 0:
        raise ValueError("gradient needs an array with at least one dimension, got a 0-d array.")
    if axis is None:
        axes: tuple[int, ...] = tuple(range(f.ndim))
    else:
        normalize_axis(axis, f.ndim, "gradient")  # validates; NumPy keeps the caller's order
        axes = tuple(int(a) % f.ndim for a in ((axis,) if isinstance(axis, Integral) else axis))
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    if len(varargs) == 0:
        spacings: list[Any] = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError(f"gradient got {len(varargs)} spacings for {len(axes)} axes; give none, one scalar or one "
                        f"per axis.")
    require_known(f, axes, "gradient")
    dtype = np.gradient(np.zeros((edge_order + 2,) * f.ndim, dtype=f.dtype), axis=0).dtype
    results = []
    for a, spacing in zip(axes, spacings, strict=True):
        if f.shape[a] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at least (edge_order + 1) "
                             "elements are required.")
        spacing = np.asarray(spacing.compute() if isinstance(spacing, ArrayBase) else spacing)
        if spacing.ndim == 1 and len(spacing) != f.shape[a]:
            raise ValueError(f"when 1d, distances must match the length of the corresponding dimension "
                             f"({len(spacing)} != {f.shape[a]} along axis {a}).")
        ext, gained = overlap_with_margins(f, {a: (edge_order, edge_order)}, dict.fromkeys(range(f.ndim), "none"))
        starts = [int(s) for s in chunk_offsets(f.chunks[a])]
        name = f"gradient-{tokenize(ext, spacing, a, edge_order)}"
        layer = {}
        for index in product(*(range(n) for n in ext.numblocks)):
            j = index[a]
            lo = starts[j] - gained[a][j][0]
            local = spacing[lo:lo + int(ext.chunks[a][j])] if spacing.ndim == 1 else spacing[()]
            layer[(name, *index)] = Task((name, *index), _gradient_block, Ref((ext.name, *index)), local, a,
                                         edge_order)
        grad = new_array(layer, name, ext.chunks, dtype, deps=(ext,))
        results.append(trim_margins(grad, {a: gained[a]}))
    return results[0] if len(results) == 1 else tuple(results)


# Dask users also reach these through the ``dask.array.overlap`` module (``da.overlap.overlap(...)``,
# ``da.overlap.trim_internal(...)``); here ``shoal.array.overlap`` is the function, so it carries them as attributes.
for _function in (overlap, map_overlap, trim_internal, trim_overlap, sliding_window_view):
    setattr(overlap, _function.__name__, _function)
del _function


class OverlapMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def map_overlap(self, func: Callable[..., Any], depth: Any, boundary: Any = None, trim: bool = True,
                    **kwargs: Any) -> Any:
        """Apply ``func`` to blocks extended by their neighbours; see :func:`shoal.array.map_overlap`.

        Examples
        --------
        >>> import numpy as np, shoal.array as sa
        >>> x = sa.from_array(np.arange(6.0), chunks=2)
        >>> x.map_overlap(lambda b: b - np.roll(b, 1), depth=1, boundary="periodic").compute()
        array([-5.,  1.,  1.,  1.,  1.,  1.])
        """
        return map_overlap(func, self, depth=depth, boundary=boundary, trim=trim, **kwargs)

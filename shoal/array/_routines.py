"""Array routines: set membership, searching, index finding, per-block application, coarsening.

How each one cuts the work into blocks
    - ``searchsorted``: in a sorted array, the insertion point of ``v`` is
      the sum over blocks of its insertion point within each block, so every
      (block of ``a``, block of ``v``) pair is an independent task, summed.
    - ``argwhere``/``nonzero``/``flatnonzero``: per block, shifted by the
      block's offset; blocks are first made whole along all axes but the
      first, so that concatenating them keeps NumPy's C order.
    - ``coarsen``: blocks are rechunked to multiples of the coarsening
      factors, then each is reshaped to ``(n / f, f)`` pairs and reduced.

Top-k selection (:mod:`._topk`), unique values (:mod:`._unique`), histograms,
``bincount``, ``digitize`` and percentiles (:mod:`._histogram`) live in their
own modules and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._chunks import chunk_offsets
from shoal.array._dispatch import implements
from shoal.array._elementwise import elemwise, map_blocks
from shoal.array._from_array import asarray, from_array
from shoal.array._histogram import (
    bincount, digitize, histogram, histogram2d, histogramdd, nanpercentile, percentile, quantile,
)
from shoal.array._rechunk import rechunk
from shoal.array._reductions import normalize_axis
from shoal.array._reductions import sum as _sum
from shoal.array._shape import ravel
from shoal.array._topk import argtopk, topk
from shoal.array._unique import unique
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "RoutineMethods", "apply_along_axis", "apply_over_axes", "argtopk", "argwhere", "bincount", "choose",
    "coarsen", "digitize", "flatnonzero", "histogram", "histogram2d", "histogramdd", "isin", "nanpercentile",
    "nonzero", "percentile", "quantile", "searchsorted", "topk", "unique",
]


# -- membership and searching ----------------------------------------------------------------------------------
def _isin_block(block: np.ndarray, test: np.ndarray, assume_unique: bool, invert: bool, kind: Any) -> np.ndarray:
    return np.isin(block, test, assume_unique=assume_unique, invert=invert, kind=kind)


def _single_block_ref(values: Any) -> tuple[Any, tuple[Any, ...]]:
    """A task argument holding all of ``values`` (flattened when lazy), and the collections it reads."""
    if isinstance(values, ArrayBase):
        flat = ravel(values)
        if flat.numblocks[0] != 1:
            require_known(flat, (0,), "this operation")
            flat = rechunk(flat, -1)
        return Ref((flat.name, 0)), (flat,)
    return np.asarray(values), ()


@implements(np.isin)
def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False, *,
         kind: Any = None) -> Any:
    """Whether each element is in ``test_elements``; mirrors ``numpy.isin``.

    ``test_elements`` (a NumPy or shoal array) is read whole by every task.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> isin(sa.from_array(np.arange(5), chunks=2), [1, 4]).compute()
    array([False,  True, False, False,  True])
    """
    element = asarray(element)
    test, extra = _single_block_ref(test_elements)
    name = f"isin-{tokenize(element, test_elements, assume_unique, invert, kind)}"
    layer = {(name, *i): Task((name, *i), _isin_block, Ref((element.name, *i)), test, assume_unique, invert, kind)
             for i in product(*(range(n) for n in element.numblocks))}
    return new_array(layer, name, element.chunks, bool, deps=(element, *extra))


def _searchsorted_block(a: np.ndarray, v: np.ndarray, side: str) -> np.ndarray:
    return np.searchsorted(a, v, side=side)[None]


@implements(np.searchsorted)
def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Any:
    """Where ``v`` would be inserted into the sorted 1-d array ``a``; mirrors ``numpy.searchsorted``.

    Parameters
    ----------
    a : Array
        Sorted, 1-d; its chunks may be unknown.
    v : array-like or Array
        Values to insert; the result has its shape.
    side : {"left", "right"}
        Before or after equal elements.
    sorter : array-like or Array of ints, optional
        Indices that sort ``a``; ``a`` is then read in that order
        (``a[sorter]``, a gather across its blocks).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = sa.from_array(np.array([1, 2, 2, 5, 8]), chunks=2)
    >>> searchsorted(a, np.array([0, 2, 6]), side="right").compute()
    array([0, 3, 4])
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    a = asarray(a)
    if a.ndim != 1:
        raise ValueError(f"searchsorted needs a 1-d array to search in, got shape {a.shape}.")
    if sorter is not None:
        order = sorter if isinstance(sorter, ArrayBase) else np.asarray(sorter)
        if order.ndim != 1 or (not math.isnan(a.shape[0]) and not math.isnan(order.shape[0])
                               and order.shape[0] != a.shape[0]):
            raise ValueError(f"searchsorted: sorter must be 1-d with the length of a ({a.shape[0]}), got shape "
                             f"{order.shape}.")
        if not np.issubdtype(order.dtype, np.integer):
            raise TypeError(f"searchsorted: sorter must hold integers, got dtype {order.dtype}.")
        a = a[order]
    v = v if isinstance(v, ArrayBase) else from_array(np.asarray(v), chunks=-1 if np.ndim(v) else ())
    name = f"searchsorted-{tokenize(a, v, side)}"
    layer = {}
    for i in range(a.numblocks[0]):
        for j in product(*(range(n) for n in v.numblocks)):
            layer[(name, i, *j)] = Task((name, i, *j), _searchsorted_block, Ref((a.name, i)), Ref((v.name, *j)), side)
    counts = new_array(layer, name, ((1,) * a.numblocks[0], *v.chunks), np.intp, deps=(a, v))
    return _sum(counts, axis=0, dtype=np.intp)


# -- per-block application -------------------------------------------------------------------------------------
def _apply_along_axis_block(block: np.ndarray, func1d: Callable[..., Any], axis: int, out_shape: tuple[int, ...],
                            dtype: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.ndarray:
    if any(s == 0 for d, s in enumerate(block.shape) if d != axis):
        shape = (*block.shape[:axis], *out_shape, *block.shape[axis + 1:])
        return np.empty(shape, dtype=dtype)
    return np.asarray(np.apply_along_axis(func1d, axis, block, *args, **kwargs), dtype=dtype)


@implements(np.apply_along_axis)
def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: Any, *args: Any, dtype: Any = None,
                     shape: Any = None, **kwargs: Any) -> Any:
    """Apply ``func1d`` to 1-d slices along ``axis``; mirrors ``numpy.apply_along_axis``.

    ``axis`` is made one chunk. ``shape`` and ``dtype`` of what ``func1d``
    returns are found by calling it once on ones, unless given.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=1)
    >>> apply_along_axis(lambda r: r[::-1].cumsum(), 1, x).compute()
    array([[ 2,  3,  3],
           [ 5,  9, 12]])
    """
    arr = asarray(arr)
    (axis,) = normalize_axis(axis, arr.ndim, "apply_along_axis")
    require_known(arr, (axis,), "apply_along_axis")
    if shape is None or dtype is None:
        probe = np.asarray(func1d(np.ones(int(arr.shape[axis]), dtype=arr.dtype), *args, **kwargs))
        shape = probe.shape if shape is None else shape
        dtype = probe.dtype if dtype is None else dtype
    shape = tuple(shape)
    arr = rechunk(arr, {axis: -1}) if arr.numblocks[axis] != 1 else arr
    name = f"apply-along-axis-{tokenize(arr, func1d, axis, args, kwargs, shape, dtype)}"
    layer = {}
    for index in product(*(range(n) for n in arr.numblocks)):
        out_index = (*index[:axis], *(0,) * len(shape), *index[axis + 1:])
        layer[(name, *out_index)] = Task((name, *out_index), _apply_along_axis_block, Ref((arr.name, *index)), func1d,
                                         axis, shape, dtype, args, kwargs)
    chunks = (*arr.chunks[:axis], *((s,) for s in shape), *arr.chunks[axis + 1:])
    return new_array(layer, name, chunks, dtype, deps=(arr,))


@implements(np.apply_over_axes)
def apply_over_axes(func: Callable[..., Any], a: Any, axes: Any) -> Any:
    """Apply ``func(a, axis)`` over several axes in turn, keeping dimensions; mirrors ``numpy.apply_over_axes``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(24).reshape(2, 3, 4), chunks=2)
    >>> apply_over_axes(np.sum, x, [0, 2]).compute()
    array([[[ 60],
            [ 92],
            [124]]])
    """
    a = asarray(a)
    ndim = a.ndim
    for axis in ([axes] if isinstance(axes, Integral) else list(axes)):
        axis = int(axis) + ndim if axis < 0 else int(axis)
        result = asarray(func(a, axis))
        if result.ndim == a.ndim - 1:
            result = map_blocks(np.expand_dims, result, axis=axis, new_axis=axis, dtype=result.dtype)
        elif result.ndim != a.ndim:
            raise ValueError("function is not returning an array of the correct shape")
        a = result
    return a


def _choose(a: np.ndarray, *choices: Any) -> np.ndarray:
    return np.choose(a, choices)


@implements(np.choose)
def choose(a: Any, choices: Sequence[Any]) -> Any:
    """Build an array from ``choices`` picked by the index array ``a``; mirrors ``numpy.choose``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> idx = sa.from_array(np.array([0, 1, 1, 0]), chunks=2)
    >>> choose(idx, [np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40])]).compute()
    array([ 1, 20, 30,  4])
    """
    choices = list(choices)
    dtype = np.result_type(*[c.dtype if isinstance(c, ArrayBase) else np.asarray(c) for c in choices])
    return elemwise(_choose, a, *choices, dtype=dtype)


# -- finding non-zero elements ---------------------------------------------------------------------------------
def _argwhere_block(block: np.ndarray, offset: int) -> np.ndarray:
    found = np.argwhere(block)
    if block.ndim:
        found[:, 0] += offset
    return found


def _column(block: np.ndarray, i: int) -> np.ndarray:
    return block[:, i]


def _rows_in_c_order(x: ArrayBase) -> Any:
    """``x`` with one block along every axis but the first, so that its blocks follow C order."""
    require_known(x, range(1, x.ndim), "this operation")
    if all(len(c) == 1 for c in x.chunks[1:]):
        return x
    return rechunk(x, (x.chunks[0], *((-1,) * (x.ndim - 1))))


@implements(np.argwhere)
def argwhere(a: Any) -> Any:
    """Indices of the non-zero elements, one row each, in C order; mirrors ``numpy.argwhere``.

    The number of rows is unknown until computed (``nan`` chunks).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0, 3], [4, 0]]), chunks=1)
    >>> argwhere(x).compute()
    array([[0, 1],
           [1, 0]])
    """
    a = asarray(a)
    rows = _rows_in_c_order(a) if a.ndim else a
    require_known(rows, (0,) if a.ndim else (), "argwhere")
    name = f"argwhere-{tokenize(rows)}"
    layer = {}
    if a.ndim == 0:
        layer[(name, 0, 0)] = Task((name, 0, 0), _argwhere_block, Ref((rows.name,)), 0)
        return new_array(layer, name, ((math.nan,), (0,)), np.intp, deps=(rows,))
    starts = chunk_offsets(rows.chunks[0])
    for j in range(rows.numblocks[0]):
        index = (j, *(0,) * (a.ndim - 1))
        layer[(name, j, 0)] = Task((name, j, 0), _argwhere_block, Ref((rows.name, *index)), int(starts[j]))
    return new_array(layer, name, ((math.nan,) * rows.numblocks[0], (a.ndim,)), np.intp, deps=(rows,))


def _columns(found: Any, count: int) -> tuple[Any, ...]:
    out = []
    for i in range(count):
        name = f"nonzero-{i}-{tokenize(found, i)}"
        layer = {(name, j): Task((name, j), _column, Ref((found.name, j, 0)), i) for j in range(found.numblocks[0])}
        out.append(new_array(layer, name, (found.chunks[0],), np.intp, deps=(found,)))
    return tuple(out)


@implements(np.nonzero)
def nonzero(a: Any) -> tuple[Any, ...]:
    """Indices of the non-zero elements, one array per dimension; mirrors ``numpy.nonzero``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> rows, cols = nonzero(sa.from_array(np.array([[0, 3], [4, 0]]), chunks=1))
    >>> rows.compute(), cols.compute()
    (array([0, 1]), array([1, 0]))
    """
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.")
    return _columns(argwhere(a), a.ndim)


@implements(np.flatnonzero)
def flatnonzero(a: Any) -> Any:
    """Indices of the non-zero elements of the flattened array; mirrors ``numpy.flatnonzero``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> flatnonzero(sa.from_array(np.array([[0, 3], [4, 0]]), chunks=1)).compute()
    array([1, 2])
    """
    return _columns(argwhere(ravel(asarray(a))), 1)[0]


# -- coarsen -----------------------------------------------------------------------------------------------------
def _coarsen_block(block: np.ndarray, reduction: Callable[..., Any], factors: tuple[int, ...],
                   kwargs: dict[str, Any]) -> np.ndarray:
    keep = tuple(slice(0, (s // f) * f) for s, f in zip(block.shape, factors, strict=True))
    block = block[keep]
    shape = [n for s, f in zip(block.shape, factors, strict=True) for n in (s // f, f)]
    return np.asarray(reduction(block.reshape(shape), axis=tuple(range(1, 2 * block.ndim, 2)), **kwargs))


def _multiples(chunks: Sequence[int], factor: int, usable: int, total: int) -> tuple[int, ...]:
    """Chunks near ``chunks`` whose lengths are multiples of ``factor`` covering ``usable``, then any excess."""
    target = max(factor, round(max(chunks) / factor) * factor)
    whole, rest = divmod(usable, target)
    out = [target] * whole + ([rest] if rest else [])
    if total > usable:
        out.append(total - usable)
    return tuple(out) if out else (0,)


def coarsen(reduction: Callable[..., Any], x: Any, axes: dict[int, int], trim_excess: bool = False,
            **kwargs: Any) -> Any:
    """Reduce non-overlapping windows: ``axes={0: 2, 1: 3}`` reduces each 2 x 3 window to one value.

    Parameters
    ----------
    reduction : callable
        A NumPy reduction taking ``axis=`` (``np.sum``, ``np.mean``, ...).
    x : Array
    axes : dict
        ``{axis: factor}``.
    trim_excess : bool
        Drop the elements past the last whole window (else the factors
        must divide the lengths).
    **kwargs
        Passed to ``reduction``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12), chunks=5)
    >>> coarsen(np.sum, x, {0: 3}).compute()
    array([ 3, 12, 21, 30])
    >>> coarsen(np.max, x, {0: 5}, trim_excess=True).compute()
    array([4, 9])
    """
    x = asarray(x)
    if getattr(reduction, "__module__", "").startswith("shoal."):
        reduction = getattr(np, reduction.__name__)
    factors = [1] * x.ndim
    for axis, factor in axes.items():
        (a,) = normalize_axis(axis, x.ndim, "coarsen")
        if not isinstance(factor, Integral) or factor < 1:
            raise ValueError(f"coarsen factor for axis {axis} must be a positive int, got {factor!r}.")
        factors[a] = int(factor)
    require_known(x, [a for a, f in enumerate(factors) if f > 1], "coarsen")
    usable = []
    for a, f in enumerate(factors):
        length = int(x.shape[a]) if f > 1 else 0
        if f > 1 and length % f and not trim_excess:
            raise ValueError(f"Coarsening factor {f} does not divide the length {length} of axis {a}. Pass "
                             f"trim_excess=True to drop the last {length % f} elements.")
        usable.append(length - length % f if f > 1 else None)
    new_chunks = tuple(_multiples(x.chunks[a], f, usable[a], int(x.shape[a])) if f > 1 else x.chunks[a]
                       for a, f in enumerate(factors))
    x = rechunk(x, new_chunks) if new_chunks != x.chunks else x
    # Output blocks: all but a trailing excess block (kept alone only when no whole window exists).
    kept = [list(range(n)) for n in x.numblocks]
    for a, f in enumerate(factors):
        if f > 1 and usable[a] < x.shape[a] and usable[a] > 0:
            kept[a] = kept[a][:-1]
    sample = np.ones((1,) * (2 * x.ndim), dtype=x.dtype)
    dtype = np.asarray(reduction(sample, axis=tuple(range(1, 2 * x.ndim, 2)), **kwargs)).dtype
    name = f"coarsen-{tokenize(x, reduction, tuple(factors), kwargs)}"
    layer = {}
    for index in product(*kept):
        layer[(name, *index)] = Task((name, *index), _coarsen_block, Ref((x.name, *index)), reduction,
                                     tuple(factors), kwargs)
    chunks = tuple(tuple(int(x.chunks[a][i]) // factors[a] for i in kept[a]) for a in range(x.ndim))
    return new_array(layer, name, chunks, dtype, deps=(x,))


class RoutineMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def topk(self, k: int, axis: int = -1, split_every: Any = None) -> Any:
        """The top ``k`` elements along ``axis``; see :func:`shoal.array.topk`."""
        return topk(self, k, axis=axis, split_every=split_every)

    def argtopk(self, k: int, axis: int = -1, split_every: Any = None) -> Any:
        """Indices of the top ``k`` elements along ``axis``; see :func:`shoal.array.argtopk`."""
        return argtopk(self, k, axis=axis, split_every=split_every)

    def nonzero(self) -> tuple[Any, ...]:
        """Indices of the non-zero elements; see :func:`shoal.array.nonzero`."""
        return nonzero(self)

    def choose(self, choices: Sequence[Any]) -> Any:
        """Pick each element from ``choices[self]``; see :func:`shoal.array.choose`."""
        return choose(self, choices)

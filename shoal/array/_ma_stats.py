"""``count``, ``average``, ``nonzero`` and ``where`` of :mod:`shoal.array.ma`.

``count`` is a tree reduction of per-block counts of unmasked values.
``average`` follows ``np.ma.average`` step by step: per block, the weights
are broadcast to the block and masked where the data is; the weighted sum
and the sum of weights are then ordinary (mask-aware) shoal sums, and their
quotient is masked where the weights sum to zero, as in ``np.ma``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockwise import blockwise
from shoal.array._elementwise import elemwise
from shoal.array._ma_build import as_array, masked_meta
from shoal.array._map_blocks import map_blocks
from shoal.array._reduction_tree import normalize_axis, reduction

__all__ = ["average", "count", "nonzero", "where"]


# -- count -----------------------------------------------------------------------------------------------------
def _count_chunk(block: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.add.reduce(~np.ma.getmaskarray(block), axis=axis, keepdims=keepdims, dtype=np.intp)


def _count_combine(parts: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.add.reduce(parts, axis=axis, keepdims=keepdims, dtype=np.intp)


def count(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Any:
    """Number of unmasked elements along ``axis``; mirrors ``numpy.ma.count``.

    Differences: with ``axis=None`` the result is a 0-d array (a NumPy
    integer when computed), not a Python int.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.ma.masked_equal(sa.from_array(np.array([[1, 0], [0, 0]]), chunks=1), 1)
    >>> int(sa.ma.count(x)), sa.ma.count(x, axis=0).compute().tolist()
    (3, [1, 2])
    """
    a = as_array(a)
    return reduction(a, _count_chunk, _count_combine, axis=axis, keepdims=keepdims, dtype=np.intp,
                     split_every=split_every, combine=_count_combine, name="count")


# -- average ---------------------------------------------------------------------------------------------------
def _axes_in_order(axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a tuple of non-negative ints in the caller's order (weights follow that order)."""
    if axis is None:
        return None
    given = (axis,) if isinstance(axis, Integral) else tuple(axis)
    normalize_axis(given, ndim, "average")  # NumPy's errors for out-of-range and repeated axes
    return tuple(int(a) % ndim for a in given)


def _broadcast_weights(weights: Any, axes: tuple[int, ...] | None, shape: tuple[int, ...]) -> Any:
    # As np.ma.average: weights along ``axes`` (in that order; None: weights of the data's shape) get
    # length-1 axes elsewhere.
    if axes is not None:
        weights = np.transpose(weights, np.argsort(axes))
        weights = weights.reshape(tuple(s if a in axes else 1 for a, s in enumerate(shape)))
        weights = np.ma.asarray(weights)
        return np.ma.masked_array(np.broadcast_to(weights.data, shape), mask=np.broadcast_to(
            np.ma.getmaskarray(weights), shape))
    return np.ma.asarray(weights)


def _weights_block(block: Any, weights: Any, axes: tuple[int, ...] | None) -> Any:
    """The weights of one block, zero and masked where the data is masked (np.ma.average's ``wgt``)."""
    weights = _broadcast_weights(weights, axes, np.shape(block))
    hidden = np.ma.getmaskarray(block)
    wgt = weights * ~hidden
    return np.ma.masked_array(wgt, mask=np.ma.getmaskarray(wgt) | hidden)


def _weighted_block(block: Any, weights: Any, axes: tuple[int, ...] | None, out_dtype: Any) -> Any:
    return np.multiply(block, _weights_block(block, weights, axes), dtype=out_dtype)


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, keepdims: bool = False) -> Any:
    """Weighted average along ``axis``, leaving masked values out; mirrors ``numpy.ma.average``.

    Parameters
    ----------
    a : array-like
    axis : int or tuple of ints, optional
        Axes to average over (``None``: all).
    weights : array-like, optional
        Of ``a``'s shape, or of the shape of ``a`` along ``axis`` (in the
        order given). Masked weights count as masked values.
    returned : bool
        Also return the sum of the weights used.
    keepdims : bool
        Keep the averaged axes with length 1.

    Returns
    -------
    Array, or a tuple ``(average, sum_of_weights)`` if ``returned``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.ma.masked_equal(sa.from_array(np.array([1.0, 2.0, 3.0, 4.0]), chunks=2), 2.0)
    >>> float(sa.ma.average(x)), float(sa.ma.average(x, weights=np.array([1, 1, 1, 3])))
    (2.6666666666666665, 3.2)
    """
    a = as_array(a)
    axes = _axes_in_order(axis, a.ndim)
    if weights is None:
        avg = a.mean(axis=axes, keepdims=keepdims)  # type: ignore[attr-defined]
        total = count(a, axis=axes, keepdims=keepdims).astype(avg.dtype)
    else:
        w = as_array(weights)
        if a.dtype.kind in "biu":
            out_dtype = np.result_type(a.dtype, w.dtype, "f8")
        else:
            out_dtype = np.result_type(a.dtype, w.dtype)
        ind = tuple(range(a.ndim))
        w_axes = None
        if tuple(w.shape) == tuple(a.shape):
            w_ind: tuple[int, ...] = ind
        elif axes is None:
            raise TypeError(f"Axis must be specified when shapes of a and weights differ (a: {tuple(a.shape)}, "
                            f"weights: {tuple(w.shape)}); pass axis= for the axes the weights run along.")
        elif tuple(w.shape) != tuple(a.shape[ax] for ax in axes):
            raise ValueError(f"Shape of weights must be consistent with shape of a along specified axis: weights "
                             f"{tuple(w.shape)}, but a has {tuple(a.shape[ax] for ax in axes)} along axis {axes}.")
        else:
            w_ind = w_axes = axes
        wgt_dtype = np.result_type(w.dtype, bool)
        wgt = blockwise(_weights_block, ind, a, ind, w, w_ind, axes=w_axes, dtype=wgt_dtype,
                        meta=masked_meta(wgt_dtype, a.ndim), token="average-weights")
        weighted = blockwise(_weighted_block, ind, a, ind, w, w_ind, axes=w_axes, out_dtype=out_dtype,
                             dtype=out_dtype, meta=masked_meta(out_dtype, a.ndim), token="average-weighted")
        total = wgt.sum(axis=axes, dtype=out_dtype, keepdims=keepdims)
        avg = weighted.sum(axis=axes, keepdims=keepdims) / total
    if returned:
        return avg, total
    return avg


# -- nonzero and where -----------------------------------------------------------------------------------------
def nonzero(a: Any) -> tuple[Any, ...]:
    """Indices of the unmasked non-zero elements, one array per dimension; mirrors ``numpy.ma.nonzero``.

    >>> import numpy as np, shoal.array as sa
    >>> (i,) = sa.ma.nonzero(sa.ma.masked_equal(sa.from_array(np.array([0, 3, 4, 5]), chunks=2), 4))
    >>> i.compute()
    array([1, 3])
    """
    a = as_array(a)
    plain = map_blocks(np.ma.filled, a, fill_value=0, dtype=a.dtype, meta=np.empty((0,) * a.ndim, a.dtype))
    return plain.nonzero()  # type: ignore[no-any-return]


_NO_VALUE = object()


def _sample(value: Any) -> Any:
    return np.ones(1, value.dtype) if isinstance(value, ArrayBase) else value


def where(condition: Any, x: Any = _NO_VALUE, y: Any = _NO_VALUE) -> Any:
    """Elements of ``x`` where ``condition`` holds, else of ``y``, with their masks; mirrors ``numpy.ma.where``.

    Where ``condition`` is masked, the result is masked. With ``condition``
    alone, returns :func:`nonzero` of it.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.ma.masked_equal(sa.from_array(np.arange(4), chunks=3), 1)
    >>> sa.ma.where(x > 1, x, -x).compute().tolist()
    [0, None, 2, 3]
    """
    missing = (x is _NO_VALUE) + (y is _NO_VALUE)
    if missing == 2:
        return nonzero(condition)
    if missing == 1:
        raise ValueError("Must provide both 'x' and 'y' or neither: shoal.array.ma.where(condition, x, y).")
    # np.ma.masked stays a scalar: np.ma.where gives it the other branch's dtype.
    args = [as_array(v) if v is not np.ma.masked and (isinstance(v, ArrayBase) or np.ndim(v)) else v
            for v in (x, y)]
    args = [as_array(condition), *args]
    dtype = np.ma.where(np.ones(1, bool), *(_sample(v) for v in args[1:])).dtype
    out = elemwise(np.ma.where, *args, dtype=dtype)
    return new_array(out._layer, out.name, out.chunks, out.dtype, deps=out._deps,
                     meta=masked_meta(out.dtype, out.ndim))

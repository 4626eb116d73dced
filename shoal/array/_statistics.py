"""Order statistics along an axis and weighted/covariance statistics.

Medians and quantiles along an axis
    An exact median needs every value of the reduced axes in one place, so
    ``median``/``nanmedian`` (like Dask's) make each reduced axis a single
    chunk and let NumPy reduce every block; the other axes keep their chunks
    and stay parallel. ``axis=None`` is refused, as in Dask, because it would
    put the whole array into one task. ``nanquantile`` follows the exactness
    rules of :func:`shoal.array.percentile`.

Averages and covariances
    ``average`` is two tree reductions (weighted sum and sum of weights);
    ``cov`` centres the rows and multiplies ``X @ X.T`` blockwise, following
    NumPy's formulas for ``ddof``, ``bias``, ``fweights`` and ``aweights``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._blockmap import require_known
from shoal.array._dispatch import implements
from shoal.array._elementwise import clip, elemwise, map_blocks
from shoal.array._from_array import asarray
from shoal.array._percentile import _percentile
from shoal.array._join import concatenate
from shoal.array._linalg import dot
from shoal.array._matrices import diagonal
from shoal.array._moments import mean
from shoal.array._rechunk import rechunk
from shoal.array._reduction_tree import normalize_axis
from shoal.array._reductions import sum as _sum
from shoal.array._shape import atleast_2d, broadcast_to

__all__ = ["average", "corrcoef", "cov", "median", "nanmedian", "nanquantile"]


def _as_array(a: Any) -> Any:
    return a if isinstance(a, ArrayBase) else asarray(a)


def _median(a: Any, axis: Any, keepdims: bool, out: Any, func: Any) -> Any:
    what = func.__name__
    if out is not None:
        raise TypeError(f"{what}: shoal arrays do not support out=; assign the result instead.")
    a = _as_array(a)
    # Over the whole array (axis=None, as NumPy) the reduced axes become one block: every value in one task,
    # as any exact median needs. Dask refuses axis=None; a tuple of every axis was already the same work here.
    axes = tuple(range(a.ndim)) if axis is None else normalize_axis(axis, a.ndim, what)
    require_known(a, axes, what)
    if any(a.numblocks[ax] > 1 for ax in axes):
        a = rechunk(a, {ax: -1 for ax in axes})
    dtype = np.asarray(func(np.ones((1,) * max(a.ndim, 1), dtype=a.dtype))).dtype
    if keepdims:
        chunks = tuple((1,) if d in axes else c for d, c in enumerate(a.chunks))
        return map_blocks(_median_block, a, func, axes, True, chunks=chunks, dtype=dtype, token=what)
    return map_blocks(_median_block, a, func, axes, False, drop_axis=list(axes), dtype=dtype, token=what)


def _median_block(block: np.ndarray, func: Any, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    out = func(block, axis=axes, keepdims=keepdims)
    # A full median is a NumPy scalar, as np.median's is (and Dask's).
    return out if np.ndim(out) == 0 else np.asarray(out)


@implements(np.median)
def median(a: Any, axis: Any = None, keepdims: bool = False, out: Any = None) -> Any:
    """The median along ``axis`` (an int or tuple); mirrors ``dask.array.median``.

    The reduced axes are made single chunks, then ``numpy.median`` runs on
    every block. ``axis=None`` (NumPy's default; Dask refuses it) takes the
    median of every value, in one task.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[10, 7, 4], [3, 2, 1]]), chunks=1)
    >>> median(x, axis=0).compute()
    array([6.5, 4.5, 2.5])
    >>> median(x, axis=1, keepdims=True).compute()
    array([[7.],
           [2.]])
    """
    return _median(a, axis, keepdims, out, np.median)


@implements(np.nanmedian)
def nanmedian(a: Any, axis: Any = None, keepdims: bool = False, out: Any = None) -> Any:
    """The median along ``axis`` ignoring NaNs; mirrors ``dask.array.nanmedian`` (``axis=None``: every value).

    >>> import numpy as np, shoal.array as sa
    >>> nanmedian(sa.from_array(np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 9.0]]), chunks=2), axis=1).compute()
    array([2., 5.])
    """
    return _median(a, axis, keepdims, out, np.nanmedian)


@implements(np.nanquantile)
def nanquantile(a: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False, *,
                max_points: int = 10_000) -> Any:
    """The ``q``-th quantiles (0-1) ignoring NaNs; mirrors ``numpy.nanquantile``.

    Same exactness rules as :func:`shoal.array.quantile`: exact along an
    ``axis`` (made one chunk) or when every block holds at most
    ``max_points`` values.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 9.0]]), chunks=2)
    >>> nanquantile(x, [0.0, 0.5], axis=1).compute()
    array([[1., 4.],
           [2., 5.]])
    """
    q_arr = np.asarray(q.compute() if isinstance(q, ArrayBase) else q)
    if np.any((q_arr < 0) | (q_arr > 1)) or np.any(np.isnan(q_arr)):
        raise ValueError(f"Quantiles must be in the range [0, 1], got q={q_arr.tolist()!r}")
    return _percentile(a, q_arr * 100, method, axis, keepdims, max_points, nan=True)


@implements(np.average)
def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *, keepdims: bool = False) -> Any:
    """Weighted mean along ``axis``; mirrors ``numpy.average`` (and ``dask.array.average``).

    ``weights`` has ``a``'s shape, or (with ``axis``) the shape of the
    reduced axes. With ``returned=True`` the sum of weights comes too,
    broadcast to the result's shape. Weights that sum to zero give NaN/inf
    (NumPy raises ``ZeroDivisionError``; checking would need a compute).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6.0).reshape(2, 3), chunks=2)
    >>> average(x, axis=1, weights=[3, 0, 1]).compute()
    array([0.5, 3.5])
    """
    a = _as_array(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        scale = a.size / max(avg.size, 1)
        return avg, broadcast_to(asarray(np.asarray(scale, dtype=avg.dtype)), avg.shape)
    w = _as_array(weights)
    if a.dtype.kind in "biu":
        dtype = np.result_type(a.dtype, w.dtype, "f8")
    else:
        dtype = np.result_type(a.dtype, w.dtype)
    if tuple(w.shape) != tuple(a.shape):
        if axis is None:
            raise TypeError(f"Axis must be specified when shapes of a and weights differ (a: {a.shape}, weights: "
                            f"{w.shape}).")
        normalize_axis(axis, a.ndim, "average")  # validates
        axes = tuple(int(ax) % a.ndim for ax in (axis if isinstance(axis, tuple | list) else (axis,)))
        wanted = tuple(a.shape[ax] for ax in axes)
        if tuple(w.shape) != wanted:
            raise ValueError(f"Shape of weights must be consistent with shape of a along specified axis: weights "
                             f"have shape {w.shape}, but a has shape {a.shape} and axis={axis!r} needs {wanted}.")
        # Put the weights' axes where a's reduced axes are, with length-1 axes elsewhere, then broadcast.
        order = [int(i) for i in np.argsort(axes)]
        w = w.transpose(order) if order != list(range(len(axes))) else w
        shape = tuple(a.shape[d] if d in axes else 1 for d in range(a.ndim))
        w = broadcast_to(w.reshape(shape), a.shape)
    scale = _sum(w, axis=axis, dtype=dtype, keepdims=keepdims)
    avg = _sum(elemwise(np.multiply, a, w, dtype=dtype), axis=axis, keepdims=keepdims) / scale
    if returned:
        if tuple(scale.shape) != tuple(avg.shape):
            scale = broadcast_to(scale, avg.shape)
        return avg, scale
    return avg


def _check_weights(w: Any, n: Any, what: str, integer: bool) -> Any:
    w = _as_array(w)
    if w.ndim == 0:
        raise RuntimeError(f"cannot handle a scalar {what}; pass one weight per observation ({n}).")
    if w.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {what} (shape {w.shape}); pass a 1-d array.")
    if w.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {what}: {n} observations but {what} has length "
                           f"{w.shape[0]}.")
    if integer and w.dtype.kind not in "biu":
        raise TypeError(f"{what} must be integer, got dtype {w.dtype}")
    return w


@implements(np.cov)
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: int | None = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """Covariance matrix of the variables in ``m`` (and ``y``); mirrors ``numpy.cov``.

    Each row is a variable and each column an observation (``rowvar=False``
    swaps them).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]), chunks=2)
    >>> cov(x).compute()
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    m = _as_array(m)
    if m.ndim > 2:
        raise ValueError(f"m has more than 2 dimensions (shape {m.shape}); pass a 1-d or 2-d array.")
    if ddof is not None and ddof != int(ddof):
        raise ValueError(f"ddof must be integer, got {ddof!r}")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else np.result_type(m.dtype, _as_array(y).dtype,
                                                                                      np.float64)
    x = atleast_2d(m)
    if not rowvar and m.ndim != 1:  # NumPy 2's rule for m (y keeps the older shape[0] != 1 rule below)
        x = x.T
    if x.shape[0] == 0:
        return asarray(np.array([], dtype=dtype).reshape(0, 0))
    if y is not None:
        y = _as_array(y)
        if y.ndim > 2:
            raise ValueError(f"y has more than 2 dimensions (shape {y.shape}); pass a 1-d or 2-d array.")
        y2 = atleast_2d(y)
        if not rowvar and y2.shape[0] != 1:
            y2 = y2.T
        if y2.shape[1] != x.shape[1]:
            raise ValueError(f"cov: m and y must have the same number of observations, got {x.shape[1]} and "
                             f"{y2.shape[1]}.")
        x = concatenate([x, y2], axis=0)
    x = x.astype(dtype)
    require_known(x, (0, 1), "cov")
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = _check_weights(fweights, n, "fweights", integer=True)
    if aweights is not None:
        aw = _check_weights(aweights, n, "aweights", integer=False)
        w = aw if w is None else w * aw
    avg, w_sum = average(x, axis=1, weights=w, returned=True)
    if w is None:
        fact: Any = n - ddof
        if fact <= 0:
            warnings.warn(f"Degrees of freedom <= 0 for slice: {n} observations with ddof={ddof}.", RuntimeWarning,
                          stacklevel=2)
            fact = 0.0
    else:
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * _sum(w * aw) / w_sum
    centred = x - avg[:, None]
    weighted = (centred * w).T if w is not None else centred.T
    with np.errstate(divide="ignore"):
        factor = np.true_divide(1, fact) if not isinstance(fact, ArrayBase) else 1 / fact
    c = dot(centred, weighted.conj()) * factor
    return c.squeeze()


@implements(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Pearson correlation coefficients; mirrors ``numpy.corrcoef`` (values clipped to [-1, 1]).

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0.0, 1.0, 2.0], [4.0, 2.0, 0.0]]), chunks=2)
    >>> corrcoef(x).compute()
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = diagonal(c)
    std = elemwise(np.sqrt, d.real)
    c = c / std[:, None]
    c = c / std[None, :]
    if c.dtype.kind == "c":
        return elemwise(_clip_complex, c, dtype=c.dtype)
    return clip(c, -1, 1)


def _clip_complex(block: np.ndarray) -> np.ndarray:
    out = block.copy()
    np.clip(out.real, -1, 1, out=out.real)
    np.clip(out.imag, -1, 1, out=out.imag)
    return out


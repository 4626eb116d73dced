"""Reductions (``sum``, ``mean``, ``std``, ``argmin``, ...) and cumulative sums, as tree reductions.

The model
    A reduction over ``axis`` runs in three kinds of tasks:

    1. **chunk**: one task per block computes a small *partial result* with
       the reduced axes kept (length 1): a sum, or for ``mean`` a dict
       ``{"n": counts, "total": sums}``, for ``var`` counts, means and
       central moments, for ``argmin`` the best values and their global
       indices. It is a task of its own that reads one block, so graph fusion
       runs it inside the task that makes the block (``(x + 1).sum()`` never
       keeps ``x + 1`` alive).
    2. **combine**: groups of at most ``split_every`` neighbouring partial
       results (per reduced axis) are concatenated along the reduced axes and
       merged into one, level after level, until one partial per output block
       remains along every reduced axis.
    3. **aggregate**: the last merge, which turns the partial result into the
       answer (divides by the count, takes the square root, drops the
       reduced axes unless ``keepdims``).

    Every task reads a bounded number of blocks and the tree has depth
    ``log(blocks) / log(split_every)``; with the depth-first priorities of
    :func:`shoal.graph.order`, 10,000 blocks reduce with a few dozen results
    alive. ``split_every`` is an int (blocks per task, shared among the
    reduced axes) or ``{axis: n}``; it defaults to the ``split_every``
    setting, else 16.

Partial results of variance and moments
    Each block keeps ``n``, its mean and its central moment sums
    ``M_p = sum((x - mean) ** p)``. Groups merge with the exact formula of
    Chan, Golub & LeVeque (1979), generalized to higher moments by Pébay
    (2008): with ``d_i = mean_i - mean``,
    ``M_p = sum_i sum_k C(p, k) d_i ** k M_{p-k, i}`` (``M_0 = n``,
    ``M_1 = 0``), which never subtracts two large sums. Within a large block
    the two passes (mean, then deviations) run slab by slab over the first
    axis, so the second pass reads from cache rather than memory.

Cumulative sums and products
    The blocked prefix algorithm: block ``j`` along the axis is
    ``cumsum(x_j) + carry_j``, where ``carry_j = carry_{j-1} + sum(x_{j-1})``
    is a small chain of tasks over the block totals. The per-block work runs
    in parallel; only the carries (one slice per block) are sequential.

All of these are registered for ``__array_function__``, so ``np.sum(x)``
stays lazy. Result dtypes are NumPy's (found by running NumPy on a one-element
sample), and NumPy's warnings for empty or all-NaN slices are raised, at
compute time, where NumPy raises them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from shoal.array._dispatch import implements
from shoal.array._fastsum import add_reduce
from shoal.array._from_array import asarray
from shoal.array._ma_chunk import masked_ufunc_reduce
# The families of reductions live in their own modules; this one holds the ufunc-based ones
# (sum, prod, min, max, any, all, ...), re-exports the others and composes the Array methods.
from shoal.array._argreductions import argmax, argmin, nanargmax, nanargmin
from shoal.array._cumulative import cumprod, cumsum, nancumprod, nancumsum
from shoal.array._moments import mean, moment, nanmean, nanstd, nanvar, std, var
from shoal.array._reduction_tree import (
    _forbid_empty,
    _no_out,
    _numpy_dtype,
    _reduce,
    _simple,
    normalize_axis,
    reduction,
)

__all__ = [
    "ReductionMethods", "all", "any", "argmax", "argmin", "count_nonzero", "cumprod", "cumsum", "max", "mean",
    "min", "moment", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin",
    "nanprod", "nanstd", "nansum", "nanvar", "prod", "ptp", "reduction", "std", "sum", "var",
]

_builtin_any, _builtin_max, _builtin_min, _builtin_sum = any, max, min, sum


# -- per-block functions: ufunc reductions --------------------------------------------------------------------
def _ufunc_reduce(block: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc, dtype: Any = None) -> Any:
    if isinstance(block, np.ma.MaskedArray):  # ufunc.reduce would count the values under the mask
        return masked_ufunc_reduce(block, axis, keepdims, ufunc, dtype)
    if ufunc is np.add:
        return add_reduce(block, axis, keepdims, dtype)
    return ufunc.reduce(block, axis=axis, dtype=dtype, keepdims=keepdims)


def _nan_reduce(block: Any, axis: tuple[int, ...], keepdims: bool, np_func: Callable[..., Any], dtype: Any) -> Any:
    # Chunk step of nansum/nanprod; later steps use the plain ufunc, since a
    # partial result is NaN only from inf - inf, which must propagate.
    return np_func(block, axis=axis, dtype=dtype, keepdims=keepdims)


def _extreme_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc) -> Any:
    # A block empty along a reduced axis contributes nothing: hand on an empty
    # slice (no identity exists), which concatenation drops.
    if _builtin_any(block.shape[a] == 0 for a in axis):
        return block[tuple(slice(0, 0) if a in axis else slice(None) for a in range(block.ndim))]
    return _ufunc_reduce(block, axis, keepdims, ufunc)


def _extreme_aggregate(parts: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc, warn_nan: bool) -> Any:
    out = _ufunc_reduce(parts, axis, keepdims, ufunc)
    if warn_nan and np.isnan(out).any():
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
    return out


def _any_all(block: Any, axis: tuple[int, ...], keepdims: bool, np_func: Callable[..., Any]) -> Any:
    return np_func(block, axis=axis, keepdims=keepdims)


def _count_nonzero_chunk(block: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.asarray(np.count_nonzero(block, axis=axis, keepdims=keepdims), dtype=np.intp)


def _ptp_chunk(block: Any, axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return {"min": _extreme_chunk(block, axis, keepdims, np.minimum),
            "max": _extreme_chunk(block, axis, keepdims, np.maximum)}


def _ptp_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return {"min": _ufunc_reduce(parts["min"], axis, keepdims, np.minimum),
            "max": _ufunc_reduce(parts["max"], axis, keepdims, np.maximum)}


def _ptp_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, dtype: Any) -> Any:
    done = _ptp_combine(parts, axis, keepdims)
    return np.subtract(done["max"], done["min"], dtype=dtype)



# -- building the reductions ----------------------------------------------------------------------------------
@implements(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
        out: Any = None) -> Any:
    """Sum of the elements along ``axis``.

    Mirrors ``numpy.sum`` (small integers sum as the platform integer); adds
    ``split_every``, the fan-in of the tree reduction.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> sa.sum(x, axis=0).compute()
    array([12, 15, 18, 21])
    >>> int(x.sum())
    66
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.sum, a.dtype, dtype=dtype)
    step = partial(_ufunc_reduce, ufunc=np.add, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "sum", dtype, step, step)


@implements(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
         out: Any = None) -> Any:
    """Product of the elements along ``axis``; mirrors ``numpy.prod``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.prod(sa.from_array(np.arange(1, 6), chunks=2)).compute()
    np.int64(120)
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.prod, a.dtype, dtype=dtype)
    step = partial(_ufunc_reduce, ufunc=np.multiply, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "prod", dtype, step, step)


@implements(np.nansum)
def nansum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
           out: Any = None) -> Any:
    """Sum treating NaNs as zero; mirrors ``numpy.nansum``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.nansum(sa.from_array(np.array([1.0, np.nan, 2.0]), chunks=2)).compute()
    np.float64(3.0)
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.nansum, a.dtype, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "nansum", dtype,
                   partial(_nan_reduce, np_func=np.nansum, dtype=dtype), partial(_ufunc_reduce, ufunc=np.add))


@implements(np.nanprod)
def nanprod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
    """Product treating NaNs as one; mirrors ``numpy.nanprod``."""
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.nanprod, a.dtype, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "nanprod", dtype,
                   partial(_nan_reduce, np_func=np.nanprod, dtype=dtype), partial(_ufunc_reduce, ufunc=np.multiply))


def _extreme(a: Any, axis: Any, keepdims: bool, split_every: Any, out: Any, what: str, ufunc: np.ufunc,
             nan: bool) -> Any:
    a = asarray(a)
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, what)
    _numpy_dtype(ufunc.reduce, a.dtype)  # NumPy's TypeError for dtypes it cannot compare
    name = "minimum" if ufunc in (np.minimum, np.fmin) else "maximum"
    _forbid_empty(a, axes, f"zero-size array to reduction operation {name} which has no identity")
    chunk = partial(_extreme_chunk, ufunc=ufunc)
    warn = nan and a.dtype.kind in "fc"
    return _reduce(a, chunk, partial(_ufunc_reduce, ufunc=ufunc),
                   partial(_extreme_aggregate, ufunc=ufunc, warn_nan=warn), axes, keepdims, a.dtype, split_every,
                   what, None)


@implements(np.min, np.amin)
def min(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Smallest element along ``axis`` (NaN if any is NaN); mirrors ``numpy.min``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.min(sa.from_array(np.array([[3, 1], [2, 5]]), chunks=1), axis=1).compute()
    array([1, 2])
    """
    return _extreme(a, axis, keepdims, split_every, out, "min", np.minimum, False)


@implements(np.max, np.amax)
def max(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Largest element along ``axis`` (NaN if any is NaN); mirrors ``numpy.max``."""
    return _extreme(a, axis, keepdims, split_every, out, "max", np.maximum, False)


@implements(np.nanmin)
def nanmin(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Smallest element ignoring NaNs; mirrors ``numpy.nanmin`` (warns on all-NaN slices)."""
    return _extreme(a, axis, keepdims, split_every, out, "nanmin", np.fmin, True)


@implements(np.nanmax)
def nanmax(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Largest element ignoring NaNs; mirrors ``numpy.nanmax`` (warns on all-NaN slices)."""
    return _extreme(a, axis, keepdims, split_every, out, "nanmax", np.fmax, True)


@implements(np.any)
def any(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Whether any element along ``axis`` is true; mirrors ``numpy.any``."""
    a = asarray(a)
    _no_out(out)
    step = partial(_any_all, np_func=np.any)
    return _simple(a, axis, keepdims, split_every, "any", np.dtype(bool), step, step)


@implements(np.all)
def all(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Whether every element along ``axis`` is true; mirrors ``numpy.all``.

    >>> import numpy as np, shoal.array as sa
    >>> bool(sa.all(sa.from_array(np.array([1, 2, 0]), chunks=2)))
    False
    """
    a = asarray(a)
    _no_out(out)
    step = partial(_any_all, np_func=np.all)
    return _simple(a, axis, keepdims, split_every, "all", np.dtype(bool), step, step)


@implements(np.count_nonzero)
def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False, split_every: Any = None) -> Any:
    """Number of non-zero elements along ``axis``; mirrors ``numpy.count_nonzero``.

    Differences: with ``axis=None`` the result is a 0-d array, not a Python int.

    >>> import numpy as np, shoal.array as sa
    >>> sa.count_nonzero(sa.from_array(np.array([0, 1, 2, 0]), chunks=3)).compute()
    np.int64(2)
    """
    a = asarray(a)
    dtype = np.dtype(np.intp)
    return _simple(a, axis, keepdims, split_every, "count_nonzero", dtype, _count_nonzero_chunk,
                   partial(_ufunc_reduce, ufunc=np.add, dtype=dtype))


@implements(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, split_every: Any = None) -> Any:
    """Range (maximum minus minimum) along ``axis``; mirrors ``numpy.ptp``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ptp(sa.from_array(np.array([[4, 9], [1, 7]]), chunks=1), axis=0).compute()
    array([3, 2])
    """
    a = asarray(a)
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, "ptp")
    # NumPy checks for an empty axis before it looks at the dtype (an empty bool array: ValueError).
    _forbid_empty(a, axes, "zero-size array to reduction operation maximum which has no identity")
    dtype = _numpy_dtype(np.ptp, a.dtype)
    return _reduce(a, _ptp_chunk, _ptp_combine, partial(_ptp_aggregate, dtype=dtype), axes, keepdims, dtype,
                   split_every, "ptp", None)


class ReductionMethods:
    """Reduction methods of ``Array``; each calls the function of the same name."""

    __slots__ = ()

    def sum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
        """Sum along ``axis``; see :func:`shoal.array.sum`."""
        return sum(self, axis, dtype, keepdims, split_every, out)

    def prod(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
             out: Any = None) -> Any:
        """Product along ``axis``; see :func:`shoal.array.prod`."""
        return prod(self, axis, dtype, keepdims, split_every, out)

    def mean(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
             out: Any = None) -> Any:
        """Mean along ``axis``; see :func:`shoal.array.mean`."""
        return mean(self, axis, dtype, keepdims, split_every, out)

    def var(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
            split_every: Any = None, out: Any = None) -> Any:
        """Variance along ``axis``; see :func:`shoal.array.var`."""
        return var(self, axis, dtype, keepdims, ddof, split_every, out)

    def std(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
            split_every: Any = None, out: Any = None) -> Any:
        """Standard deviation along ``axis``; see :func:`shoal.array.std`."""
        return std(self, axis, dtype, keepdims, ddof, split_every, out)

    def moment(self, order: int, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
               split_every: Any = None, out: Any = None) -> Any:
        """Central moment of ``order``; see :func:`shoal.array.moment`."""
        return moment(self, order, axis, dtype, keepdims, ddof, split_every, out)

    def min(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Minimum along ``axis``; see :func:`shoal.array.min`."""
        return min(self, axis, keepdims, split_every, out)

    def max(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Maximum along ``axis``; see :func:`shoal.array.max`."""
        return max(self, axis, keepdims, split_every, out)

    def argmin(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Index of the minimum; see :func:`shoal.array.argmin`."""
        return argmin(self, axis, keepdims, split_every, out)

    def argmax(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Index of the maximum; see :func:`shoal.array.argmax`."""
        return argmax(self, axis, keepdims, split_every, out)

    def any(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Whether any element is true; see :func:`shoal.array.any`."""
        return any(self, axis, keepdims, split_every, out)

    def all(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Whether all elements are true; see :func:`shoal.array.all`."""
        return all(self, axis, keepdims, split_every, out)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
        """Cumulative sum; see :func:`shoal.array.cumsum`."""
        return cumsum(self, axis, dtype, out, method)

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
        """Cumulative product; see :func:`shoal.array.cumprod`."""
        return cumprod(self, axis, dtype, out, method)

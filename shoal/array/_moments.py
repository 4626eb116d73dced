"""Mean, variance, standard deviation and central moments as tree reductions.

Each block keeps ``n``, its mean and its central moment sums
``M_p = sum((x - mean) ** p)``. Groups merge with the exact formula of
Chan, Golub & LeVeque (1979), generalized to higher moments by Pébay
(2008): with ``d_i = mean_i - mean``,
``M_p = sum_i sum_k C(p, k) d_i ** k M_{p-k, i}`` (``M_0 = n``,
``M_1 = 0``), which never subtracts two large sums. Within a large block
the two passes (mean, then deviations) run slab by slab over the first
axis, so the second pass reads from cache rather than memory.
"""

from __future__ import annotations

import math
import warnings
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._dispatch import implements
from shoal.array._fastsum import add_reduce
from shoal.array._from_array import asarray
from shoal.array._ma_chunk import split_mask
from shoal.array._reduction_tree import (
    _concat_along,
    _kept_shape,
    _nan_mask,
    _no_out,
    _numpy_dtype,
    _reduce,
    _simple,
    normalize_axis,
)

__all__ = ["mean", "moment", "nanmean", "nanstd", "nanvar", "std", "var"]

#: Within a block larger than twice this, two-pass statistics run slab by slab
#: of about this many bytes, so the second pass reads from the core's L2 cache.
_SLAB_BYTES = 1 << 20


# -- per-block functions ---------------------------------------------------------------------------------------
def _count(block: Any, axis: tuple[int, ...], mask: Any) -> Any:
    if mask is None:
        return np.full(_kept_shape(block.shape, axis), math.prod(block.shape[a] for a in axis), dtype=np.intp)
    return np.add.reduce(~mask, axis=axis, keepdims=True, dtype=np.intp)


def _unmask(block: Any, nan: bool) -> tuple[Any, Any, bool]:
    """A block's plain data, the mask of the values to leave out (or None), and whether it was masked."""
    block, hidden = split_mask(block)
    mask = _nan_mask(block, nan)
    if hidden is not None and hidden.any():
        mask = hidden if mask is None else mask | hidden
    if mask is not None:
        block = np.where(mask, 0, block)
    return block, mask, hidden is not None


# Partial results of masked blocks carry their counts ``n`` as a masked array (with nothing masked): the
# mark survives concatenation with other partials, and tells the aggregate step to mask empty slices, as
# ``np.ma`` does, instead of warning and returning NaN.
def _mark(out: dict[str, Any], masked: bool) -> dict[str, Any]:
    if masked:
        out["n"] = np.ma.MaskedArray(out["n"])
    return out


def _unmark(n: Any) -> tuple[Any, bool]:
    return (np.ma.getdata(n), True) if isinstance(n, np.ma.MaskedArray) else (n, False)


def _mask_where(result: Any, hide: Any) -> Any:
    if np.ndim(result) == 0:
        return np.ma.masked if hide else result
    return np.ma.MaskedArray(result, mask=hide)


def _mean_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, acc: Any, nan: bool) -> dict[str, Any]:
    block, mask, masked = _unmask(block, nan)
    return _mark({"n": _count(block, axis, mask), "total": add_reduce(block, axis, True, acc)}, masked)


def _mean_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    n, masked = _unmark(parts["n"])
    return _mark({"n": np.add.reduce(n, axis=axis, keepdims=keepdims),
                  "total": np.add.reduce(parts["total"], axis=axis, keepdims=keepdims)}, masked)


def _mean_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, dtype: Any) -> Any:
    done = _mean_combine(parts, axis, keepdims)
    n, masked = _unmark(done["n"])
    if not masked and (n == 0).any():
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.true_divide(done["total"], n, dtype=done["total"].dtype).astype(dtype, copy=False)
    return _mask_where(result, n == 0) if masked else result


def _central_sums(block: Any, axis: tuple[int, ...], acc: Any, order: int, nan: bool,
                  absolute: bool) -> dict[str, Any]:
    """Count, mean and central moment sums ``m2..m{order}`` of one block (two passes)."""
    block, mask, masked = _unmask(block, nan)
    n = _count(block, axis, mask)
    total = add_reduce(block, axis, True, acc)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.true_divide(total, n, dtype=total.dtype)
    if mask is not None or not n.all():
        mean = np.where(n > 0, mean, 0).astype(total.dtype, copy=False)
    dev = np.asarray(np.subtract(block, mean, dtype=mean.dtype))
    if mask is not None:
        np.copyto(dev, 0, where=mask)
    out = {"n": n, "mean": mean}
    if absolute:  # complex variance: sums of |x - mean| ** 2, real
        power = dev.real * dev.real
        power += dev.imag * dev.imag
    else:
        power = dev * dev
    out["m2"] = add_reduce(power, axis, True)
    for p in range(3, order + 1):
        power *= dev
        out[f"m{p}"] = np.add.reduce(power, axis=axis, keepdims=True)
    return _mark(out, masked)


def _moment_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, acc: Any, order: int, nan: bool,
                  absolute: bool) -> dict[str, Any]:
    rows = block.shape[0] if block.ndim else 0
    if block.nbytes <= 2 * _SLAB_BYTES or rows < 2:
        return _central_sums(block, axis, acc, order, nan, absolute)
    # Slab by slab over axis 0, so that the deviations pass re-reads the slab
    # from cache; merge the slabs' statistics exactly (see the module docstring).
    step = max(1, _SLAB_BYTES // max(block.nbytes // rows, 1))
    parts = [_central_sums(block[i:i + step], axis, acc, order, nan, absolute) for i in range(0, rows, step)]
    joined = _concat_along(parts, 0)
    return _moment_merge(joined, (0,), order, absolute) if 0 in axis else joined


def _moment_merge(parts: dict[str, Any], axis: tuple[int, ...], order: int, absolute: bool) -> dict[str, Any]:
    """Merge groups of (n, mean, m2..m{order}) along ``axis``, keeping dimensions."""
    (n_i, masked), mean_i = _unmark(parts["n"]), parts["mean"]
    n = np.add.reduce(n_i, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.add.reduce(n_i * mean_i, axis=axis, keepdims=True) / n
    if not np.all(n):
        mean = np.where(n > 0, mean, 0)
    delta = mean_i - mean
    out = {"n": n, "mean": mean.astype(mean_i.dtype, copy=False)}
    for p in range(2, order + 1):
        total = np.add.reduce(parts[f"m{p}"], axis=axis, keepdims=True)
        if absolute:  # order is 2: |delta| ** 2
            total = total + np.add.reduce(n_i * (delta.real ** 2 + delta.imag ** 2), axis=axis, keepdims=True)
        else:
            for k in range(1, p - 1):
                total = total + math.comb(p, k) * np.add.reduce(parts[f"m{p - k}"] * delta ** k, axis=axis,
                                                                  keepdims=True)
            total = total + np.add.reduce(n_i * delta ** p, axis=axis, keepdims=True)
        out[f"m{p}"] = total.astype(parts[f"m{p}"].dtype, copy=False)
    return _mark(out, masked)


def _moment_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, order: int,
                    absolute: bool) -> dict[str, Any]:
    return _moment_merge(parts, axis, order, absolute)


def _moment_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, order: int, absolute: bool,
                      ddof: float, dtype: Any, nan: bool, root: bool) -> Any:
    done = _moment_merge(parts, axis, order, absolute)
    n, masked = _unmark(done["n"])
    dof = n - ddof
    if masked:
        return _masked_moment(done[f"m{order}"], n, dof, axis, keepdims, dtype, root)
    bad = dof <= 0
    if bad.any():
        warnings.warn("Degrees of freedom <= 0 for slice" + ("." if nan else ""), RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # NumPy's var divides by max(n - ddof, 0) (inf or nan); nanvar gives nan.
        result = done[f"m{order}"] / np.maximum(dof, 0)
        if nan and bad.any():
            result = np.where(bad, np.nan, result)
        if root:
            result = np.sqrt(result)
    if not keepdims:
        result = np.reshape(result, tuple(s for a, s in enumerate(np.shape(result)) if a not in axis))
    result = np.asarray(result).astype(dtype, copy=False)
    # A full reduction ends in a NumPy scalar, as np.var's does (and Dask's).
    return result[()] if result.ndim == 0 else result


def _masked_moment(total: Any, n: Any, dof: Any, axis: tuple[int, ...], keepdims: bool, dtype: Any,
                   root: bool) -> Any:
    """The aggregate step for masked input, masked where ``np.ma.var`` masks."""
    if not keepdims:
        shape = tuple(s for a, s in enumerate(np.shape(total)) if a not in axis)
        total, n, dof = np.reshape(total, shape), np.reshape(n, shape), np.reshape(dof, shape)
    # np.ma.var masks slices with no values or n - ddof <= 0; a 0-d result only where it divides by zero.
    hide = (n == 0) | (dof == 0) if np.ndim(total) == 0 else (n == 0) | (dof <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.asarray(total / np.where(hide, 1, dof)).astype(dtype, copy=False)
    if root:  # np.ma.sqrt masks negative values
        hide = hide | (result.real < 0)
        result = np.sqrt(np.where(hide, 0, result)).astype(dtype, copy=False)
    return _mask_where(result[()] if result.ndim == 0 else result, hide)


def _fill_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, value: Any, dtype: Any) -> Any:
    shape = _kept_shape(block.shape, axis)
    if not keepdims:
        shape = tuple(s for a, s in enumerate(shape) if a not in axis)
    return np.full(shape, value, dtype=dtype)



# -- building the reductions ----------------------------------------------------------------------------------
def _mean(a: Any, axis: Any, dtype: Any, keepdims: bool, split_every: Any, out: Any, nan: bool) -> Any:
    a = asarray(a)
    _no_out(out)
    what = "nanmean" if nan else "mean"
    result = _numpy_dtype(np.nanmean if nan else np.mean, a.dtype, dtype=dtype)
    # Accumulate as NumPy does: integers in float64, float16 in float32.
    if dtype is not None:
        acc = np.dtype(dtype)
    elif a.dtype.kind in "biu":
        acc = np.dtype(np.float64)
    elif a.dtype == np.float16:
        acc = np.dtype(np.float32)
    else:
        acc = result
    return _simple(a, axis, keepdims, split_every, what, result, partial(_mean_chunk, acc=acc, nan=nan),
                   _mean_combine, partial(_mean_aggregate, dtype=result))


@implements(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
         out: Any = None) -> Any:
    """Arithmetic mean along ``axis``; mirrors ``numpy.mean``.

    Each block contributes its count and sum, so blocks of unknown (nan)
    length are fine.

    >>> import numpy as np, shoal.array as sa
    >>> sa.mean(sa.from_array(np.arange(6).reshape(2, 3), chunks=2), axis=1).compute()
    array([1., 4.])
    """
    return _mean(a, axis, dtype, keepdims, split_every, out, False)


@implements(np.nanmean)
def nanmean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
    """Mean ignoring NaNs; mirrors ``numpy.nanmean`` (warns on all-NaN slices)."""
    return _mean(a, axis, dtype, keepdims, split_every, out, True)


def _moments(a: Any, axis: Any, dtype: Any, keepdims: bool, ddof: float, split_every: Any, out: Any, nan: bool,
             order: int, root: bool, what: str, result: np.dtype[Any]) -> Any:
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, what)
    absolute = a.dtype.kind == "c" and order == 2
    if dtype is not None:
        acc = np.dtype(dtype)
    elif a.dtype.kind in "biu":
        acc = np.dtype(np.float64)
    elif a.dtype == np.float16:
        acc = np.dtype(np.float32)
    else:
        acc = a.dtype
    chunk = partial(_moment_chunk, acc=acc, order=order, nan=nan, absolute=absolute)
    combine = partial(_moment_combine, order=order, absolute=absolute)
    aggregate = partial(_moment_aggregate, order=order, absolute=absolute, ddof=ddof, dtype=result, nan=nan,
                        root=root)
    return _reduce(a, chunk, combine, aggregate, axes, keepdims, result, split_every, what, None)


def _variance(a: Any, axis: Any, dtype: Any, keepdims: bool, ddof: float, split_every: Any, out: Any, nan: bool,
              root: bool) -> Any:
    a = asarray(a)
    what = ("nan" if nan else "") + ("std" if root else "var")
    np_func = {"var": np.var, "std": np.std, "nanvar": np.nanvar, "nanstd": np.nanstd}[what]
    result = _numpy_dtype(np_func, a.dtype, dtype=dtype)
    return _moments(a, axis, dtype, keepdims, ddof, split_every, out, nan, 2, root, what, result)


@implements(np.var)
def var(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
        split_every: Any = None, out: Any = None) -> Any:
    """Variance along ``axis``, divided by ``n - ddof``; mirrors ``numpy.var``.

    Blocks merge with Chan et al.'s stable formula, so the result is as
    accurate as NumPy's two-pass algorithm.

    >>> import numpy as np, shoal.array as sa
    >>> sa.var(sa.from_array(np.array([1.0, 2.0, 3.0, 4.0]), chunks=3)).compute()
    np.float64(1.25)
    """
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, False, False)


@implements(np.std)
def std(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
        split_every: Any = None, out: Any = None) -> Any:
    """Standard deviation along ``axis``; mirrors ``numpy.std``.

    >>> import numpy as np, shoal.array as sa
    >>> float(sa.std(sa.from_array(np.array([1.0, 3.0]), chunks=1), ddof=1)) ** 2
    2.0000000000000004
    """
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, False, True)


@implements(np.nanvar)
def nanvar(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """Variance ignoring NaNs; mirrors ``numpy.nanvar``."""
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, True, False)


@implements(np.nanstd)
def nanstd(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """Standard deviation ignoring NaNs; mirrors ``numpy.nanstd``."""
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, True, True)


def moment(a: Any, order: int, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """The ``order``-th central moment, ``sum((x - mean) ** order) / (n - ddof)``.

    Mirrors ``dask.array.moment`` (and ``scipy.stats.moment`` with
    ``ddof=0``); complex input gives complex moments.

    >>> import numpy as np, shoal.array as sa
    >>> round(float(moment(sa.from_array(np.array([1.0, 2.0, 4.0, 7.0]), chunks=3), 3).compute()), 9)
    6.0
    """
    a = asarray(a)
    if not isinstance(order, Integral) or order < 0:
        raise ValueError(f"moment: order must be a non-negative integer, got {order!r}.")
    order = int(order)
    if dtype is not None:
        result = np.dtype(dtype)
    elif a.dtype.kind == "c":
        result = _numpy_dtype(np.mean, a.dtype)
    else:
        result = _numpy_dtype(np.var, a.dtype)
    if order < 2:
        _no_out(out)
        # Central moments 0 and 1 are 1 and 0 wherever defined; no need to read the data.
        step = partial(_fill_chunk, value=1 - order, dtype=result)
        return _simple(a, axis, keepdims, split_every, "moment", result, step, step, params=order)
    return _moments(a, axis, dtype, keepdims, ddof, split_every, out, False, order, False, "moment", result)

"""Block-level helpers for masked (``numpy.ma.MaskedArray``) blocks.

A shoal array may hold masked blocks (see :mod:`shoal.array.ma`). Two NumPy
functions that the array machinery calls on blocks ignore masks:

- ``np.concatenate`` returns the data of masked inputs with no mask, so every
  place that joins blocks (assembling a result, joining partial results of a
  reduction) goes through :func:`~shoal.array._concatenate.concatenate_chunks`,
  which hands masked blocks to :func:`concatenate_masked`; that keeps masks and a
  common ``fill_value``;
- ``ufunc.reduce`` reduces the data under the mask too, so the per-block and
  combine steps of ``sum``, ``prod``, ``min`` and ``max`` go through
  :func:`masked_ufunc_reduce`, which reduces as ``np.ma`` does: masked values
  are replaced by the operation's neutral value, and a slice whose values are
  all masked gives a masked result. Such a masked partial result is then
  ignored by the next combine step, so an all-masked block never poisons a
  ``min`` or ``max``.

This module imports only NumPy, so that the lowest array modules can use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["concatenate_masked", "has_masked", "masked_ufunc_reduce", "split_mask"]


def has_masked(parts: Any) -> bool:
    """Whether any of ``parts`` is a masked array."""
    return any(isinstance(p, np.ma.MaskedArray) for p in parts)


def concatenate_masked(parts: list[Any], axis: int = 0) -> Any:
    """``np.concatenate(parts, axis)``, keeping masks when any part is a masked array.

    The result takes the parts' ``fill_value`` when all masked parts agree on
    it (as a masked array cut into blocks and joined again should), else the
    default for its dtype.

    >>> a = np.ma.masked_array([1.0, 2.0], mask=[False, True], fill_value=-1.0)
    >>> out = concatenate_masked([a, np.array([3.0])])
    >>> out.mask.tolist(), float(out.fill_value)
    ([False, True, False], -1.0)
    """
    if not has_masked(parts):
        return np.concatenate(parts, axis=axis)
    out = np.ma.concatenate(parts, axis=axis)
    fills = [p.fill_value for p in parts if isinstance(p, np.ma.MaskedArray)]
    # Setting the default would change its type (NumPy keeps float32's default as a float64 1e20).
    if all(_same_value(f, fills[0]) for f in fills[1:]) and not _same_value(fills[0], out.fill_value):
        out.fill_value = fills[0]
    return out


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # strings and other dtypes without NaN
        return bool(np.array_equal(a, b))


def _neutral(block: np.ma.MaskedArray, ufunc: np.ufunc) -> Any:
    """The value that hides a masked element from ``ufunc.reduce`` (NumPy's own choice in ``np.ma``)."""
    if ufunc in (np.minimum, np.fmin):
        return np.ma.minimum_fill_value(block)  # the largest value of the dtype
    if ufunc in (np.maximum, np.fmax):
        return np.ma.maximum_fill_value(block)
    if ufunc.identity is None:
        raise TypeError(f"shoal cannot reduce masked blocks with {ufunc.__name__}: it has no neutral value.")
    return ufunc.identity


def masked_ufunc_reduce(block: np.ma.MaskedArray, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc,
                        dtype: Any = None) -> Any:
    """``ufunc.reduce`` over ``axis`` as ``np.ma`` reduces: masked values left out.

    Returns a masked array whose slices with no unmasked value are masked; a
    0-d result is a NumPy scalar, or ``np.ma.masked`` when all was masked.

    >>> b = np.ma.masked_array([[1, 5], [7, 2]], mask=[[True, False], [True, False]])
    >>> masked_ufunc_reduce(b, (0,), False, np.maximum).tolist()
    [None, 5]
    """
    data = block.filled(_neutral(block, ufunc))
    out = ufunc.reduce(data, axis=axis, dtype=dtype, keepdims=keepdims)
    hidden = np.logical_and.reduce(np.ma.getmaskarray(block), axis=axis, keepdims=keepdims)
    if np.ndim(out) == 0 and np.ndim(hidden) == 0:
        return np.ma.masked if hidden else out
    return np.ma.MaskedArray(out, mask=hidden)


def split_mask(block: Any) -> tuple[Any, Any]:
    """A block's plain data and its boolean mask (``None`` when it is not a masked array).

    >>> data, mask = split_mask(np.ma.masked_array([1, 2], mask=[True, False]))
    >>> type(data).__name__, mask.tolist()
    ('ndarray', [True, False])
    >>> split_mask(np.arange(2))[1] is None
    True
    """
    if not isinstance(block, np.ma.MaskedArray):
        return block, None
    return np.ma.getdata(block), np.ma.getmaskarray(block)

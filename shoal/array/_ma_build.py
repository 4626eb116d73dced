"""Graph-building helpers shared by :mod:`shoal.array.ma` and its statistics.

A masked shoal array is an ordinary shoal array whose blocks are
``numpy.ma.MaskedArray``; its ``_meta`` is an empty masked array when
:mod:`shoal.array.ma` built it. Every function of ``ma`` runs the ``np.ma``
function of the same name block by block, so the helpers here only turn
inputs into shoal arrays without losing masks and check arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._from_array import asarray, from_array

__all__ = ["as_array", "check_fill_value", "check_scalar", "masked_meta"]


def masked_meta(dtype: Any, ndim: int) -> np.ma.MaskedArray:
    """An empty masked block of ``dtype`` with ``ndim`` dimensions (the ``_meta`` of masked arrays)."""
    return np.ma.masked_array(np.empty((0,) * ndim, dtype=dtype))


def as_array(x: Any) -> Any:
    """``x`` as a shoal array; NumPy masked arrays keep their mask and ``fill_value`` in every block."""
    if isinstance(x, ArrayBase):
        return x
    if isinstance(x, np.ma.MaskedArray):
        # from_array hands out slices of an ndarray subclass as they are: masked blocks.
        return from_array(x, meta=masked_meta(x.dtype, x.ndim))
    return asarray(x)


def check_scalar(value: Any, what: str, name: str = "value", hint: str = "") -> None:
    """Raise when ``value`` is not one concrete value (the ma functions apply it to every block)."""
    if isinstance(value, ArrayBase):
        raise TypeError(
            f"shoal.array.ma.{what} takes a concrete scalar {name}, got the shoal array {value.name!r}. Compute it "
            f"first ({name}={name}.compute()), or build the condition yourself and call masked_where(condition, x)."
        )
    if np.ndim(value):
        raise ValueError(
            f"shoal.array.ma.{what} takes a scalar {name}, got an array of shape {tuple(np.shape(value))}. "
            f"{hint or 'Pass one value, or build the condition yourself and call masked_where(condition, x).'}"
        )


def check_fill_value(fill_value: Any, dtype: Any, what: str) -> Any:
    """Validate ``fill_value`` for ``dtype`` as ``np.ma`` does; return it (None stays None)."""
    if fill_value is None:
        return None
    check_scalar(fill_value, what, "fill_value", "Pass one value of the array's dtype.")
    try:
        np.ma.masked_array(np.empty(0, dtype=dtype), fill_value=fill_value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(
            f"shoal.array.ma.{what}: fill_value {fill_value!r} cannot be used for an array of dtype {np.dtype(dtype)} "
            f"({exc}). Pass a value that converts to {np.dtype(dtype)}."
        ) from exc
    return fill_value

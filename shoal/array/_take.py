"""``take`` and ``compress``: selecting positions along one axis, with NumPy's rules for ``axis=None`` and ``mode``.

Both become an ordinary index along the axis (an integer array or a boolean
mask), so they share the general indexing path of :mod:`._slicing`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._dispatch import implements
from shoal.array._slicing import getitem

__all__ = ["TakeMethods", "compress", "take"]


def _normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def _flat(a: ArrayBase, func: str) -> Any:
    if a.ndim == 1:
        return a
    from shoal.array._shape import ravel  # a later family module: imported when first needed

    return ravel(a)


@implements(np.take)
def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> Any:
    """Take elements of ``a`` along ``axis``; mirrors ``numpy.take``.

    ``indices`` may be an int, a list or NumPy array of ints (any shape), or
    a 1-d shoal array of ints. ``axis=None`` reads from the flattened array.
    Only ``mode="raise"`` is supported.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> take(x, [3, 0, 3], axis=1).compute()
    array([[ 3,  0,  3],
           [ 7,  4,  7],
           [11,  8, 11]])
    """
    if out is not None:
        raise TypeError("take does not support out=; assign the result instead.")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take(mode={mode!r}): use 'raise', 'wrap' or 'clip'.")
    if not isinstance(a, ArrayBase):
        from shoal.array._from_array import asarray

        a = asarray(a)
    if axis is None:
        a, axis = _flat(a, "take"), 0
    axis = _normalize_axis(axis, a.ndim)
    if not isinstance(indices, ArrayBase):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu" and not (indices.size == 0 and indices.dtype.kind == "f"):
            raise IndexError(f"take needs integer indices, got dtype {indices.dtype}")
        indices = indices.astype(np.intp)
    elif indices.dtype.kind not in "iu":
        raise IndexError(f"take needs integer indices, got dtype {indices.dtype}")
    n = a.shape[axis]
    if mode != "raise" and n == 0:
        raise IndexError(f"take(mode={mode!r}) cannot take from an empty axis {axis}")
    if mode == "wrap":
        indices = indices % n  # Python's modulo, as NumPy's: -1 wraps to n - 1
    elif mode == "clip":
        indices = indices.clip(0, n - 1)  # as NumPy: negative indices clip to 0, they do not count from the end
    return getitem(a, (slice(None),) * axis + (indices,))


@implements(np.compress)
def compress(condition: Any, a: Any, axis: int | None = None, out: Any = None) -> Any:
    """Select slices of ``a`` along ``axis`` where ``condition`` is true; mirrors ``numpy.compress``.

    A NumPy/list ``condition`` shorter than the axis counts as false beyond
    its end (as in NumPy); a shoal ``condition`` gives unknown (``nan``) chunk
    lengths.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(3, 2), chunks=1)
    >>> compress([True, False, True], x, axis=0).compute()
    array([[0, 1],
           [4, 5]])
    """
    if out is not None:
        raise TypeError("compress does not support out=; assign the result instead.")
    if not isinstance(a, ArrayBase):
        from shoal.array._from_array import asarray

        a = asarray(a)
    if axis is None:
        a, axis = _flat(a, "compress"), 0
    axis = _normalize_axis(axis, a.ndim)
    if isinstance(condition, ArrayBase):
        if condition.ndim != 1:
            raise ValueError(f"condition must be a 1-d array, got shape {condition.shape}")
        return getitem(a, (slice(None),) * axis + (condition.astype(bool),))  # type: ignore[attr-defined]
    condition = np.asarray(condition)
    if condition.ndim != 1:
        raise ValueError(f"condition must be a 1-d array, got shape {condition.shape}")
    positions = np.flatnonzero(condition)
    return getitem(a, (slice(None),) * axis + (positions,))


# -- the Array methods ---------------------------------------------------------------------


class TakeMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def take(self, indices: Any, axis: int | None = None) -> Any:
        """Take elements along ``axis``; see :func:`shoal.array.take`."""
        return take(self, indices, axis=axis)

    def compress(self, condition: Any, axis: int | None = None) -> Any:
        """Keep the slices where ``condition`` holds; see :func:`shoal.array.compress`."""
        return compress(condition, self, axis=axis)

"""Top-k selection along an axis: a tree reduction keeping the best ``|k|`` of each group of blocks.

Each partial result is found with ``np.partition`` (linear time); only the
last step sorts. ``argtopk`` carries global indices alongside the values.
"""

from __future__ import annotations

from functools import partial
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._blockmap import require_known
from shoal.array._chunks import chunk_offsets
from shoal.array._from_array import asarray
from shoal.array._reductions import _reduce, normalize_axis

__all__ = ["argtopk", "topk"]


def _best(values: np.ndarray, axis: int, k: int) -> np.ndarray:
    """Positions along ``axis`` of the ``|k|`` largest (k > 0) or smallest (k < 0) values, unordered."""
    n = values.shape[axis]
    if abs(k) >= n:
        return np.broadcast_to(np.arange(n).reshape([-1 if a == axis else 1 for a in range(values.ndim)]),
                               values.shape)
    if k > 0:
        return np.take(np.argpartition(values, n - k, axis=axis), np.arange(n - k, n), axis=axis)
    return np.take(np.argpartition(values, -k - 1, axis=axis), np.arange(-k), axis=axis)


def _topk_chunk(block: np.ndarray, axis: tuple[int, ...], keepdims: bool, k: int) -> np.ndarray:
    (ax,) = axis
    if abs(k) >= block.shape[ax]:
        return block
    if k > 0:
        return np.take(np.partition(block, block.shape[ax] - k, axis=ax), np.arange(block.shape[ax] - k,
                                                                                  block.shape[ax]), axis=ax)
    return np.take(np.partition(block, -k - 1, axis=ax), np.arange(-k), axis=ax)


def _topk_aggregate(block: np.ndarray, axis: tuple[int, ...], keepdims: bool, k: int) -> np.ndarray:
    (ax,) = axis
    ordered = np.sort(_topk_chunk(block, axis, keepdims, k), axis=ax)
    return np.flip(ordered, axis=ax) if k > 0 else ordered


def _argtopk_chunk(block: np.ndarray, axis: tuple[int, ...], keepdims: bool, k: int,
                   offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    (ax,) = axis
    shape = [-1 if a == ax else 1 for a in range(block.ndim)]
    indices = np.broadcast_to(np.arange(offset, offset + block.shape[ax]).reshape(shape), block.shape)
    return _argtopk_combine((block, indices), axis, keepdims, k)


def _argtopk_combine(parts: tuple[np.ndarray, np.ndarray], axis: tuple[int, ...], keepdims: bool,
                     k: int) -> tuple[np.ndarray, np.ndarray]:
    (ax,) = axis
    values, indices = parts
    chosen = _best(values, ax, k)
    return np.take_along_axis(values, chosen, axis=ax), np.take_along_axis(indices, chosen, axis=ax)


def _argtopk_aggregate(parts: tuple[np.ndarray, np.ndarray], axis: tuple[int, ...], keepdims: bool,
                       k: int) -> np.ndarray:
    (ax,) = axis
    values, indices = _argtopk_combine(parts, axis, keepdims, k)
    order = np.argsort(values, axis=ax, kind="stable")
    if k > 0:
        order = np.flip(order, axis=ax)
    return np.take_along_axis(indices, order, axis=ax)


def _topk_setup(a: Any, k: Any, axis: Any, what: str) -> tuple[Any, int]:
    a = asarray(a)
    if not isinstance(k, Integral) or k == 0:
        raise ValueError(f"{what}: k must be a non-zero int (negative for the smallest), got {k!r}.")
    (ax,) = normalize_axis(axis, a.ndim, what)
    require_known(a, (ax,), what)
    if abs(k) > a.shape[ax]:
        raise ValueError(f"{what}: |k| = {abs(k)} is larger than the length {a.shape[ax]} of axis {ax}.")
    return a, ax


def topk(a: Any, k: int, axis: int = -1, split_every: Any = None) -> Any:
    """The ``k`` largest elements along ``axis``, largest first (``k < 0``: the ``-k`` smallest, smallest first).

    Cheaper than sorting when ``|k|`` is much smaller than the chunks; the
    result is one chunk along ``axis``.

    Parameters
    ----------
    a : Array
    k : int
        How many elements; negative for the smallest.
    axis : int
        The axis to select along (default: the last).
    split_every : int or dict, optional
        At most this many partial results merged per task (see
        :func:`shoal.array.reduction`); matters when ``|k|`` is close to
        the chunk length.

    Returns
    -------
    Array
        ``a``'s shape with ``|k|`` along ``axis``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([5, 1, 3, 6]), chunks=2)
    >>> topk(x, 2).compute()
    array([6, 5])
    >>> topk(x, -2).compute()
    array([1, 3])
    """
    a, ax = _topk_setup(a, k, axis, "topk")
    chunk = partial(_topk_chunk, k=k)
    return _reduce(a, chunk, chunk, partial(_topk_aggregate, k=k), (ax,), True, a.dtype, split_every, "topk",
                   k, output_size=abs(k), meta=a._meta)


def argtopk(a: Any, k: int, axis: int = -1, split_every: Any = None) -> Any:
    """Indices of the ``k`` largest elements along ``axis``, largest first (``k < 0``: smallest first).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([5, 1, 3, 6]), chunks=2)
    >>> argtopk(x, 2).compute()
    array([3, 0])
    >>> argtopk(x, -2).compute()
    array([1, 2])
    """
    a, ax = _topk_setup(a, k, axis, "argtopk")
    starts = chunk_offsets(a.chunks[ax])
    return _reduce(a, partial(_argtopk_chunk, k=k), partial(_argtopk_combine, k=k),
                   partial(_argtopk_aggregate, k=k), (ax,), True, np.dtype(np.intp), split_every, "argtopk", k,
                   output_size=abs(k), per_block=lambda index: {"offset": int(starts[index[ax]])})

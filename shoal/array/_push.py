"""``push``: forward-fill missing values along an axis, across block edges.

Mirrors ``bottleneck.push`` (and Dask's ``dask.array.push``, which calls it).
Each block is filled on its own with NumPy, then continues from a *carry*
handed over by the block before it along the axis: the last value seen so far
(``nan`` if none) and where it was, counted from the start of the next block
(so the limit ``n`` is measured in positions of the whole array, not of the
block). The carries form one short chain of tasks per row of blocks; the
fills themselves are done once, by the task that also emits the carry.

Blocks whose dtype cannot hold a missing value (integers, booleans) come back
unchanged, as ``bottleneck.push`` returns them.
"""

from __future__ import annotations

import operator
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import new_array
from shoal.array._blockmap import normalize_axis_index
from shoal.array._from_array import asarray
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["push"]

#: Stands for "no valid value seen yet"; far below any position, so that ``position - _NONE`` never passes a limit.
_NONE = -(2**62)


def _missing(block: np.ndarray) -> np.ndarray:
    if block.dtype.kind in "fc":
        return np.isnan(block)
    return np.isnat(block)  # datetime64 / timedelta64: NaT is their missing value


def _push_block(block: np.ndarray, carry: tuple[np.ndarray, np.ndarray] | None, axis: int,
                n: int | None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Fill ``block`` from its own values and ``carry``; return it with the carry for the next block.

    ``carry`` is ``(value, position)``: arrays shaped like ``block`` with length 1 along ``axis``, holding the
    latest valid value before this block and its position relative to this block's start (negative), or
    ``_NONE`` where nothing valid came before.
    """
    length = block.shape[axis]
    if length == 0:
        return block, carry
    missing = _missing(block)
    shape = [1] * block.ndim
    shape[axis] = length
    positions = np.arange(length, dtype=np.int64).reshape(shape)
    latest = np.where(missing, np.int64(_NONE), positions)
    if carry is None:
        values = block
        last = np.maximum.accumulate(latest, axis=axis)
        source = np.maximum(last, 0)  # where last is _NONE nothing is filled; any index will do
    else:
        carry_value, carry_position = carry
        values = np.concatenate([carry_value.astype(block.dtype, copy=False), block], axis=axis)
        last = np.maximum.accumulate(np.concatenate([carry_position, latest], axis=axis), axis=axis)
        last = last.take(np.arange(1, length + 1), axis=axis)
        # Position p of the block is index p + 1 of ``values``; the carry (any negative position) is index 0.
        source = np.where(last >= 0, last + 1, 0)
    reached = np.take_along_axis(values, source, axis=axis)
    fill = missing & (last != _NONE)
    if n is not None:
        fill &= positions - last <= n
    out = np.where(fill, reached, block)
    end = [slice(None)] * block.ndim
    end[axis] = slice(length - 1, length)
    end_index = tuple(end)
    last_end = last[end_index]
    seen = last_end != _NONE
    next_value = np.where(seen, reached[end_index], block[end_index])
    next_position = np.where(seen, last_end - length, np.int64(_NONE))
    return out, (next_value, next_position)


def push(array: Any, n: int | None, axis: int) -> Any:
    """Fill each missing value with the latest valid value before it along ``axis``.

    Parameters
    ----------
    array : array_like
        Values to fill; ``nan`` (``NaT`` for datetimes) marks a missing value.
    n : int or None
        Fill a missing value only if the latest valid value is at most ``n``
        positions before it; ``None`` fills without a limit.
    axis : int
        The axis to fill along. Fills run across block edges.

    Returns
    -------
    Array
        Same shape, dtype and chunks as ``array``.

    Raises
    ------
    ValueError
        If ``n`` is negative.

    Notes
    -----
    Mirrors ``bottleneck.push``
    (https://bottleneck.readthedocs.io/en/latest/reference.html#bottleneck.push), which ``dask.array.push``
    calls; ``bottleneck`` is not needed. Differences from Dask: ``n=0`` fills nothing (as in bottleneck;
    Dask treats it as no limit) and integer arrays keep their dtype.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([1.0, np.nan, np.nan, 4.0, np.nan]), chunks=2)
    >>> push(x, None, axis=0).compute()
    array([1., 1., 1., 4., 4.])
    >>> push(x, 1, axis=0).compute()
    array([ 1.,  1., nan,  4.,  4.])
    """
    x = asarray(array)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, Integral):
            raise TypeError(f"push: n must be an int or None (no limit), got {n!r} of type {type(n).__name__}.")
        if n < 0:
            raise ValueError(f"push: n must be 0 or more (how many positions a value may be pushed), got {n}.")
        n = int(n)
    axis = normalize_axis_index(axis, x.ndim, "push")
    if x.dtype.kind not in "fcmM" or n == 0:
        return x
    token = tokenize(x, n, axis)
    name, scan = f"push-{token}", f"push-scan-{token}"
    layer: dict[Any, Any] = {}
    numblocks = x.numblocks
    for index in product(*(range(b) for b in numblocks)):
        scan_key = (scan, *index)
        if index[axis] == 0:
            carry: Any = None
        else:
            before = (scan, *index[:axis], index[axis] - 1, *index[axis + 1:])
            carry = Task(None, operator.getitem, Ref(before), 1)
        layer[scan_key] = Task(scan_key, _push_block, Ref((x.name, *index)), carry, axis, n)
        key = (name, *index)
        layer[key] = Task(key, operator.getitem, Ref(scan_key), 0)
    return new_array(layer, name, x.chunks, x.dtype, deps=(x,), meta=x._meta)


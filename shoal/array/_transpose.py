"""Changing the order of an array's axes: transpose, moveaxis, swapaxes, rollaxis.

Each maps one input block to one output block (:func:`map_each_block`),
permuting the block grid as well as each block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shoal.array._blockmap import (
    as_array,
    map_each_block,
    normalize_axis_index,
    normalize_axis_tuple,
)
from shoal.array._dispatch import implements

__all__ = ["moveaxis", "rollaxis", "swapaxes", "transpose"]


@implements(np.transpose)
def transpose(a: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute the axes; mirrors ``numpy.transpose``.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    >>> y = transpose(x)
    >>> y.chunks
    ((2, 1), (1, 1))
    >>> y.compute()
    array([[0, 3],
           [1, 4],
           [2, 5]])
    """
    x = as_array(a)
    if axes is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        if len(axes) != x.ndim:
            raise ValueError(f"transpose: axes don't match array: got axes={tuple(axes)} for an array with "
                             f"{x.ndim} dimensions (shape {x.shape}).")
        perm = tuple(normalize_axis_index(ax, x.ndim, "transpose") for ax in axes)
        if len(set(perm)) != len(perm):
            raise ValueError(f"transpose: repeated axis in transpose (axes={tuple(axes)}).")
    if perm == tuple(range(x.ndim)):
        return x
    chunks = [x.chunks[p] for p in perm]

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        out = [0] * len(perm)
        for position, p in enumerate(perm):
            out[p] = index[position]
        return tuple(out)

    return map_each_block(x, np.transpose, chunks, "transpose", source=source, layout=perm, axes=perm)


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Move axes to new positions, keeping the others in order; mirrors ``numpy.moveaxis``.

    >>> import numpy as np, shoal.array as sa
    >>> moveaxis(sa.from_array(np.zeros((2, 3, 4)), chunks=2), 0, -1).shape
    (3, 4, 2)
    """
    x = as_array(a)
    src = normalize_axis_tuple(source, x.ndim, "moveaxis: source")
    dst = normalize_axis_tuple(destination, x.ndim, "moveaxis: destination")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: `source` {source!r} and `destination` {destination!r} arguments must have the "
                         f"same number of elements.")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, order)


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes; mirrors ``numpy.swapaxes``.

    >>> import numpy as np, shoal.array as sa
    >>> swapaxes(sa.from_array(np.zeros((2, 3, 4)), chunks=2), 0, 2).shape
    (4, 3, 2)
    """
    x = as_array(a)
    i = normalize_axis_index(axis1, x.ndim, "swapaxes")
    j = normalize_axis_index(axis2, x.ndim, "swapaxes")
    order = list(range(x.ndim))
    order[i], order[j] = j, i
    return transpose(x, order)


@implements(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Roll ``axis`` backwards until it lies before ``start``; mirrors ``numpy.rollaxis``."""
    x = as_array(a)
    n = x.ndim
    axis = normalize_axis_index(axis, n, "rollaxis")
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"rollaxis: 'start' arg requires {-n} <= start < {n + 1}, but {start} was "
                                      f"passed in.")
    if axis < start:
        start -= 1
    if axis == start:
        return x
    order = list(range(n))
    order.remove(axis)
    order.insert(start, axis)
    return transpose(x, order)

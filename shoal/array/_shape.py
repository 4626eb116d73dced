"""Changing an array's shape: squeeze, expand_dims, atleast_*d, broadcasting; the Array methods of the family.

``expand_dims``, ``squeeze`` and ``atleast_*d`` add or drop length-1 axes of
one block each (:func:`map_each_block`); ``broadcast_to`` reads one input block
for many output blocks. Axis order (:mod:`._transpose`) and reshape
(:mod:`._reshape`) live in their own modules and are re-exported here.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._chunks import normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._elementwise import broadcast_shapes
from shoal.array._blockmap import (
    as_array,
    atleast_nd,
    insert_axes,
    map_each_block,
    normalize_axis_tuple,
    require_known,
)
from shoal.array._rechunk import common_chunks, rechunk
from shoal.array._reshape import flatten, ravel, reshape
from shoal.array._transpose import moveaxis, rollaxis, swapaxes, transpose

__all__ = [
    "ShapeMethods",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_arrays",
    "broadcast_to",
    "expand_dims",
    "flatten",
    "moveaxis",
    "ravel",
    "reshape",
    "rollaxis",
    "squeeze",
    "swapaxes",
    "transpose",
]


# -- adding and removing axes -----------------------------------------------------------------------------------
@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Any:
    """Remove length-1 axes; mirrors ``numpy.squeeze``.

    >>> import numpy as np, shoal.array as sa
    >>> squeeze(sa.from_array(np.zeros((1, 3, 1)), chunks=2)).shape
    (3,)
    """
    x = as_array(a)
    if axis is None:
        axes = tuple(d for d, s in enumerate(x.shape) if s == 1)
    else:
        axes = normalize_axis_tuple(axis, x.ndim, "squeeze")
        require_known(x, axes, "squeeze")
        for d in axes:
            if x.shape[d] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which has size not equal to one "
                                 f"(axis {d} of shape {x.shape}).")
    if not axes:
        return x
    kept = [d for d in range(x.ndim) if d not in axes]
    chunks = [x.chunks[d] for d in kept]

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        full = [0] * x.ndim
        for d, i in zip(kept, index, strict=True):
            full[d] = i
        return tuple(full)

    return map_each_block(x, np.squeeze, chunks, "squeeze", source=source, layout=axes, axis=axes)


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Any:
    """Insert length-1 axes at the positions ``axis`` of the result; mirrors ``numpy.expand_dims``.

    >>> import numpy as np, shoal.array as sa
    >>> expand_dims(sa.from_array(np.zeros((2, 3)), chunks=2), (0, -1)).shape
    (1, 2, 3, 1)
    """
    x = as_array(a)
    n = 1 if isinstance(axis, Integral) else len(axis)
    return insert_axes(x, normalize_axis_tuple(axis, x.ndim + n, "expand_dims"))


def atleast_1d(*arys: Any) -> Any:
    """Arrays with at least one dimension; mirrors ``numpy.atleast_1d`` (a list for several inputs).

    >>> import shoal.array as sa
    >>> atleast_1d(sa.from_array(5, chunks=())).shape
    (1,)
    """
    out = [atleast_nd(as_array(a), 1) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Any:
    """Arrays with at least two dimensions (1-D becomes a row); mirrors ``numpy.atleast_2d``."""
    out = [atleast_nd(as_array(a), 2) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys: Any) -> Any:
    """Arrays with at least three dimensions; mirrors ``numpy.atleast_3d`` ((N,) -> (1, N, 1))."""
    out = [atleast_nd(as_array(a), 3) for a in arys]
    return out[0] if len(out) == 1 else out


implements(np.atleast_1d)(atleast_1d)
implements(np.atleast_2d)(atleast_2d)
implements(np.atleast_3d)(atleast_3d)


# -- broadcasting ---------------------------------------------------------------------------------------------------
@implements(np.broadcast_to)
def broadcast_to(x: Any, shape: Any, chunks: Any = None, meta: Any = None, subok: bool = False) -> Any:
    """Broadcast an array to a new shape; mirrors ``numpy.broadcast_to``.

    New leading axes and broadcast length-1 axes get one block each unless
    ``chunks`` says otherwise; blocks are read-only views, as in NumPy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> y = broadcast_to(sa.from_array(np.arange(3), chunks=2), (2, 3))
    >>> y.chunks
    ((2,), (2, 1))
    >>> y.compute()
    array([[0, 1, 2],
           [0, 1, 2]])
    """
    x = as_array(x)
    shape_t = (shape,) if isinstance(shape, Integral) else tuple(shape)
    if any(not isinstance(s, Integral) for s in shape_t):
        raise TypeError(f"broadcast_to: the shape must hold integers, got {shape!r}.")
    shape_t = tuple(int(s) for s in shape_t)
    if any(s < 0 for s in shape_t):
        raise ValueError(f"broadcast_to: all elements of broadcast shape must be non-negative, got {shape_t}.")
    require_known(x, range(x.ndim), "broadcast_to")
    lead = len(shape_t) - x.ndim
    if lead < 0:
        raise ValueError(f"broadcast_to: cannot broadcast an array of shape {x.shape} to the shape {shape_t} with "
                         f"fewer dimensions.")
    broadcast = [d < lead or (x.shape[d - lead] == 1 and shape_t[d] != 1) for d in range(len(shape_t))]
    for d in range(lead, len(shape_t)):
        if x.shape[d - lead] not in (1, shape_t[d]):
            raise ValueError(f"operands could not be broadcast together: an array of shape {x.shape} cannot be "
                             f"broadcast to the requested shape {shape_t} (axis {d}).")
    if chunks is None:
        out_chunks = [(s,) if broadcast[d] else x.chunks[d - lead] for d, s in enumerate(shape_t)]
    else:
        previous = tuple((s,) if broadcast[d] else x.chunks[d - lead] for d, s in enumerate(shape_t))
        out_chunks = list(normalize_chunks(chunks, shape_t, dtype=x.dtype, previous_chunks=previous))
        kept = tuple(x.chunks[d - lead] if broadcast[d] else out_chunks[d] for d in range(lead, len(shape_t)))
        if kept != x.chunks:
            x = rechunk(x, kept)
    if tuple(shape_t) == tuple(x.shape) and tuple(out_chunks) == x.chunks:
        return x

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(0 if broadcast[d] else index[d] for d in range(lead, len(shape_t)))

    def block_args(index: tuple[int, ...]) -> tuple[Any, ...]:
        return (tuple(int(c[i]) for c, i in zip(out_chunks, index, strict=True)),)

    return map_each_block(x, np.broadcast_to, out_chunks, "broadcast_to", source=source, block_args=block_args,
                          layout=(lead, broadcast))


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> list[Any]:
    """Broadcast arrays against each other, with common chunks; mirrors ``numpy.broadcast_arrays``.

    >>> import numpy as np, shoal.array as sa
    >>> a, b = broadcast_arrays(sa.from_array(np.arange(3), chunks=2), np.ones((2, 1)))
    >>> a.shape, b.shape, a.chunks == b.chunks
    ((2, 3), (2, 3), True)
    """
    arrays = [as_array(a) for a in args]
    for a in arrays:
        require_known(a, range(a.ndim), "broadcast_arrays")
    shape = broadcast_shapes(*[a.shape for a in arrays])
    ndim = len(shape)
    chunks = []
    for d in range(ndim):
        options = [a.chunks[d - ndim + a.ndim] for a in arrays
                   if d - ndim + a.ndim >= 0 and a.shape[d - ndim + a.ndim] == shape[d]]
        chunks.append(common_chunks(options) if options else (shape[d],))
    return [broadcast_to(a, shape, chunks=tuple(chunks)) for a in arrays]


class ShapeMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        """The array with its axes reversed."""
        return transpose(self)

    @property
    def mT(self) -> Any:  # noqa: N802 - NumPy's name
        """The array with its last two axes swapped."""
        return swapaxes(self, -1, -2)

    def transpose(self, *axes: Any) -> Any:
        """Permute the axes: ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``; see :func:`shoal.array.transpose`."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], Integral)):
            axes = axes[0]
        return transpose(self, axes or None)

    def reshape(self, *shape: Any, merge_chunks: bool = True, limit: Any = None, order: str = "C") -> Any:
        """Reshape: ``x.reshape(3, 4)`` or ``x.reshape((3, 4))``; see :func:`shoal.array.reshape`."""
        if len(shape) == 1 and not isinstance(shape[0], Integral):
            shape = shape[0]
        return reshape(self, shape, merge_chunks=merge_chunks, limit=limit, order=order)

    def ravel(self, order: str = "C") -> Any:
        """The array as one dimension; see :func:`shoal.array.ravel`."""
        return ravel(self, order=order)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Any:
        """Remove length-1 axes; see :func:`shoal.array.squeeze`."""
        return squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        """Exchange two axes; see :func:`shoal.array.swapaxes`."""
        return swapaxes(self, axis1, axis2)

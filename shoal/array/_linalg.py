"""Products of arrays: ``dot``, ``matmul``/``@``, ``tensordot``, ``inner``, ``vdot``, ``vecdot``, ``outer``,
``kron``, ``trace``, and the ``Array`` methods and operators for them.

Each is one contraction (:mod:`._contract`); ``einsum`` lives in :mod:`._einsum`.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._contract import (
    _as_arrays,
    _is_unknown,
    _normalize_axes,
    _require_known,
    _result_dtype,
    _shape_str,
    contract,
)
from shoal.array._dispatch import implements
from shoal.array._elementwise import broadcast_shapes, elemwise
from shoal.array._rechunk import rechunk
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "LinalgMethods",
    "dot",
    "inner",
    "kron",
    "matmul",
    "outer",
    "tensordot",
    "trace",
    "vdot",
    "vecdot",
]


# -- tensordot, dot and relatives ---------------------------------------------------------------------------------

@implements(np.tensordot)
def tensordot(lhs: Any, rhs: Any, axes: Any = 2, *, split_every: Any = None) -> Any:
    """Sum products over the given axes of two arrays; mirrors ``numpy.tensordot``.

    ``axes=N`` contracts the last ``N`` axes of ``lhs`` with the first ``N``
    of ``rhs``; ``axes=(a_axes, b_axes)`` names them. Blocks along the
    contracted axes are multiplied pairwise and summed (see the module
    docstring); the two sides are rechunked to common boundaries first.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(24.).reshape(2, 3, 4)
    >>> x = sa.from_array(a, chunks=(1, 2, 2))
    >>> np.allclose(tensordot(x, x, axes=([1, 2], [1, 2])).compute(), np.tensordot(a, a, axes=([1, 2], [1, 2])))
    True
    """
    a, b = _as_arrays(lhs, rhs)
    if isinstance(axes, Integral):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={axes} must be between 0 and the smaller number of dimensions of the operands "
                f"(shapes {a.shape} and {b.shape})")
        a_axes: tuple[int, ...] = tuple(range(a.ndim - axes, a.ndim))
        b_axes: tuple[int, ...] = tuple(range(axes))
    else:
        try:
            left, right = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: axes must be an int or a pair of axis sequences, got {axes!r}") from None
        a_axes, b_axes = _normalize_axes(left, a.ndim, "tensordot"), _normalize_axes(right, b.ndim, "tensordot")
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: shape-mismatch for sum: {len(a_axes)} axes of the first operand {a_axes} "
                         f"against {len(b_axes)} axes of the second {b_axes}")
    for ia, ib in zip(a_axes, b_axes, strict=True):
        if a.shape[ia] != b.shape[ib] and not (_is_unknown(a) or _is_unknown(b)):
            raise ValueError(
                f"tensordot: shape-mismatch for sum: axis {ia} of the first operand has length {a.shape[ia]} but "
                f"axis {ib} of the second has length {b.shape[ib]} (shapes {a.shape} and {b.shape})")
    a_ind = tuple(f"c{a_axes.index(i)}" if i in a_axes else f"a{i}" for i in range(a.ndim))
    b_ind = tuple(f"c{b_axes.index(i)}" if i in b_axes else f"b{i}" for i in range(b.ndim))
    out_ind = tuple(letter for letter in (*a_ind, *b_ind) if not letter.startswith("c"))
    kwargs = {"axes": (a_axes, b_axes)}
    dtype = _result_dtype(np.tensordot, [a, b], **kwargs)
    return contract(_tensordot_block, out_ind, [(a, a_ind), (b, b_ind)], dtype=dtype, token="tensordot",
                    split_every=split_every, kernel_kwargs=kwargs, panels=True)


def _tensordot_block(a: Any, b: Any, axes: Any) -> Any:
    out = np.tensordot(a, b, axes=axes)
    # np.tensordot gives a 0-d array for a full contraction; Dask's tensordot (and np.inner) give a scalar.
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


@implements(np.matmul, np.linalg.matmul)
def matmul(a: Any, b: Any, *, split_every: Any = None) -> Any:
    """Matrix product with NumPy's rules; mirrors ``numpy.matmul`` (the ``@`` operator).

    1-d operands are promoted to a row (left) or a column (right) vector and
    the added axis removed afterwards; dimensions before the last two are
    batch dimensions and broadcast.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(12.).reshape(3, 4)
    >>> x = sa.from_array(a, chunks=2)
    >>> bool(np.allclose((x @ a.T).compute(), a @ a.T))
    True
    >>> matmul(x, np.ones(4)).compute()
    array([ 6., 22., 38.])
    """
    a, b = _as_arrays(a, b)
    for position, arr in enumerate((a, b)):
        if arr.ndim == 0:
            raise ValueError(
                f"matmul: Input operand {position} does not have enough dimensions (has 0, gufunc core with "
                f"signature (n?,k),(k,m?)->(n?,m?) requires 1); use multiply (*) for scalars")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
            f"(n?,k),(k,m?)->(n?,m?) (size {kb} is different from {ka}); shapes {a.shape} and {b.shape}")
    a_batch, b_batch = a.shape[:-2], b.shape[:-2]
    try:
        broadcast_shapes(a_batch, b_batch)
    except ValueError:
        raise ValueError(
            f"matmul: the batch dimensions {a_batch} and {b_batch} of operands with shapes {a.shape} and "
            f"{b.shape} cannot be broadcast together") from None
    nbatch = max(len(a_batch), len(b_batch))
    batch = tuple(f"batch{i}" for i in range(nbatch))
    a_ind = batch[nbatch - len(a_batch):] + (("i", "k") if a.ndim > 1 else ("k",))
    b_ind = batch[nbatch - len(b_batch):] + (("k", "j") if b.ndim > 1 else ("k",))
    out_ind = batch + (("i",) if a.ndim > 1 else ()) + (("j",) if b.ndim > 1 else ())
    dtype = _result_dtype(np.matmul, [a, b])
    return contract(np.matmul, out_ind, [(a, a_ind), (b, b_ind)], dtype=dtype, token="matmul",
                    split_every=split_every, panels=True)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Dot product with NumPy's rules; mirrors ``numpy.dot``.

    Scalars multiply; 1-d and 2-d operands give the inner or matrix product;
    otherwise the last axis of ``a`` is contracted with the second-to-last
    of ``b`` (its only axis if 1-d).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(4.), chunks=2)
    >>> dot(x, x).compute()
    np.float64(14.0)
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: z = dot(x, y).")
    a, b = _as_arrays(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    b_axis = b.ndim - 2 if b.ndim > 1 else 0
    if a.shape[-1] != b.shape[b_axis] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} not aligned: {a.shape[-1]} "
                         f"(dim {a.ndim - 1}) != {b.shape[b_axis]} (dim {b_axis})")
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)  # the same product for these ranks, with a leaner kernel
    return tensordot(a, b, axes=((a.ndim - 1,), (b_axis,)))


@implements(np.inner)
def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes; mirrors ``numpy.inner``.

    >>> import numpy as np, shoal.array as sa
    >>> inner(sa.from_array(np.arange(3.)), np.ones(3)).compute()
    np.float64(3.0)
    """
    a, b = _as_arrays(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    if a.shape[-1] != b.shape[-1] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} not aligned: {a.shape[-1]} "
                         f"(dim {a.ndim - 1}) != {b.shape[-1]} (dim {b.ndim - 1})")
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def _vdot_blocks(a: np.ndarray, b: np.ndarray) -> Any:
    return np.asarray(np.vdot(a, b))


@implements(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    """Dot product of the flattened arrays, conjugating the first; mirrors ``numpy.vdot``.

    >>> import numpy as np, shoal.array as sa
    >>> vdot(sa.from_array(np.array([1j, 2]), chunks=1), np.array([1j, 1])).compute()
    np.complex128(3+0j)
    """
    a, b = _as_arrays(a, b)
    if a.shape != b.shape:
        if a.size != b.size:
            raise ValueError(f"vdot: vectors have different lengths: {a.size} (shape {a.shape}) and "
                             f"{b.size} (shape {b.shape})")
        a, b = a.ravel(), b.ravel()
    ind = tuple(range(a.ndim))
    dtype = _result_dtype(_vdot_blocks, [a, b])
    return contract(_vdot_blocks, (), [(a, ind), (b, ind)], dtype=dtype, token="vdot")


def _vecdot_blocks(a: np.ndarray, b: np.ndarray) -> Any:
    return np.vecdot(a, b)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Vector dot product along ``axis`` (conjugating ``x1``), broadcasting the others; mirrors ``numpy.vecdot``.

    >>> import numpy as np, shoal.array as sa
    >>> vecdot(sa.from_array(np.ones((2, 3)), chunks=1), np.arange(3.)).compute()
    array([3., 3.])
    """
    a, b = _as_arrays(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"vecdot: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    a, b = _moveaxis_last(a, axis), _moveaxis_last(b, axis)
    if a.shape[-1] != b.shape[-1] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"vecdot: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                         f"(n),(n)->() (size {b.shape[-1]} is different from {a.shape[-1]})")
    batch_shape = broadcast_shapes(a.shape[:-1], b.shape[:-1])
    batch = tuple(f"batch{i}" for i in range(len(batch_shape)))
    a_ind = batch[len(batch) - a.ndim + 1:] + ("k",)
    b_ind = batch[len(batch) - b.ndim + 1:] + ("k",)
    dtype = _result_dtype(_vecdot_blocks, [a, b])
    return contract(_vecdot_blocks, batch, [(a, a_ind), (b, b_ind)], dtype=dtype, token="vecdot")


def _moveaxis_last(x: Any, axis: int) -> Any:
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for an array of dimension {x.ndim}")
    axis %= x.ndim
    if axis == x.ndim - 1:
        return x
    order = [i for i in range(x.ndim) if i != axis] + [axis]
    return contract(np.transpose, tuple(order), [(x, tuple(range(x.ndim)))], dtype=x.dtype, token="transpose",
                    kernel_kwargs={"axes": order})


@implements(np.outer)
def outer(a: Any, b: Any) -> Any:
    """Outer product of the flattened arrays; mirrors ``numpy.outer``.

    >>> import numpy as np, shoal.array as sa
    >>> outer(sa.from_array(np.arange(3), chunks=2), np.arange(2)).compute()
    array([[0, 0],
           [0, 1],
           [0, 2]])
    """
    a, b = _as_arrays(a, b)
    a = a if a.ndim == 1 else a.ravel()
    b = b if b.ndim == 1 else b.ravel()
    dtype = _result_dtype(np.multiply.outer, [a, b])
    return contract(np.multiply.outer, ("i", "j"), [(a, ("i",)), (b, ("j",))], dtype=dtype, token="outer")


@implements(np.kron)
def kron(a: Any, b: Any) -> Any:
    """Kronecker product; mirrors ``numpy.kron``.

    Each block of ``a`` is multiplied by the whole of ``b`` (held as one
    block), so the output has ``a``'s block grid, with every block scaled up
    by ``b``'s shape: keep ``b`` small.

    >>> import numpy as np, shoal.array as sa
    >>> kron(sa.from_array(np.eye(2), chunks=1), np.ones((1, 2))).compute()
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]])
    """
    a, b = _as_arrays(a, b)
    _require_known(a, "kron")
    _require_known(b, "kron")
    ndim = max(a.ndim, b.ndim)
    if b.numblocks != (1,) * b.ndim:
        b = rechunk(b, tuple(-1 for _ in range(b.ndim)))
    b_shape = (1,) * (ndim - b.ndim) + tuple(int(s) for s in b.shape)
    a_chunks = ((1,),) * (ndim - a.ndim) + a.chunks
    chunks = tuple(tuple(int(c) * b_shape[d] for c in dim) for d, dim in enumerate(a_chunks))
    dtype = _result_dtype(np.kron, [a, b])
    name = f"kron-{tokenize(a, b)}"
    b_ref = Ref((b.name, *(0,) * b.ndim))
    layer = {}
    for index in product(*(range(len(c)) for c in chunks)):
        key = (name, *index)
        layer[key] = Task(key, np.kron, Ref((a.name, *index[ndim - a.ndim:])), b_ref)
    return new_array(layer, name, chunks, dtype, deps=(a, b), meta=meta_from_dtype(dtype, ndim))


def _trace_block(block: np.ndarray, offset: int, axis1: int, axis2: int, dtype: Any) -> Any:
    return np.trace(block, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)


@implements(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    """Sum along a diagonal; mirrors ``numpy.trace``.

    Only the blocks the diagonal passes through are read.

    >>> import numpy as np, shoal.array as sa
    >>> trace(sa.from_array(np.arange(16).reshape(4, 4), chunks=3), offset=1).compute()
    np.int64(18)
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    (a,) = _as_arrays(a)
    if a.ndim < 2:
        raise ValueError(f"diag requires an array of at least two dimensions, got shape {a.shape}")
    ax1, ax2 = (_normalize_axes(axis, a.ndim, "trace")[0] for axis in (axis1, axis2))
    if ax1 == ax2:
        raise ValueError(f"axis1 and axis2 cannot be the same (both {ax1})")
    _require_known(a, "trace")
    ind = tuple(f"d{i}" for i in range(a.ndim))
    out_ind = tuple(letter for i, letter in enumerate(ind) if i not in (ax1, ax2))
    starts = [np.cumsum((0, *c[:-1])) for c in a.chunks]
    l1, l2 = ind[ax1], ind[ax2]

    def item_kwargs(assign: dict[Any, int]) -> dict[str, Any] | None:
        i, j = assign[l1], assign[l2]
        local = int(offset + starts[ax1][i] - starts[ax2][j])
        rows, cols = a.chunks[ax1][i], a.chunks[ax2][j]
        if local >= cols or -local >= rows:
            return None  # the diagonal misses this block
        return {"offset": local}

    result_dtype = np.trace(np.ones((1, 1), dtype=a.dtype), dtype=dtype).dtype
    kwargs = {"axis1": ax1, "axis2": ax2, "dtype": result_dtype}
    return contract(_trace_block, out_ind, [(a, ind)], dtype=result_dtype, token="trace",
                    kernel_kwargs=kwargs, item_kwargs=item_kwargs, item_token=offset)


# -- Array methods -----------------------------------------------------------------------------------------------

_MATMUL_OPERANDS = (ArrayBase, np.ndarray, np.generic, list, tuple, int, float, complex)


class LinalgMethods:
    """Products as methods and operators of ``Array``."""

    __slots__ = ()

    def dot(self, b: Any) -> Any:
        """Dot product with ``b``; see :func:`shoal.array.dot`."""
        return dot(self, b)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Any:
        """Sum along a diagonal; see :func:`shoal.array.trace`."""
        return trace(self, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)

    def __matmul__(self, other: Any) -> Any:
        if not isinstance(other, _MATMUL_OPERANDS):
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        if not isinstance(other, _MATMUL_OPERANDS):
            return NotImplemented
        return matmul(other, self)

    def __array_ufunc__(self, numpy_ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # Generalized ufuncs (matmul, vecdot) contract axes: they are products, not element-wise maps,
        # so they are handled here before the element-wise implementation sees them.
        if numpy_ufunc.signature is not None:
            if method != "__call__" or kwargs.get("out") is not None:
                return NotImplemented
            kwargs.pop("out", None)
            handler = _GUFUNCS.get(numpy_ufunc)
            if handler is None:  # any other gufunc (np.matvec, ...): loop over blocks of the loop dimensions
                from shoal.array._gufunc import apply_gufunc
                return apply_gufunc(numpy_ufunc, numpy_ufunc.signature, *inputs, **kwargs)
            return handler(*inputs, **kwargs)
        return super().__array_ufunc__(numpy_ufunc, method, *inputs, **kwargs)  # type: ignore[misc]


_GUFUNCS: dict[Any, Callable[..., Any]] = {np.matmul: matmul, np.vecdot: vecdot}
implements(np.vecdot, np.linalg.vecdot)(vecdot)
implements(np.linalg.tensordot)(tensordot)
implements(np.linalg.outer)(outer)

"""Assorted NumPy routines on shoal arrays: editing along an axis, selection, index arithmetic.

- ``delete``, ``insert``, ``append``, ``rot90`` are built from slices, flips,
  transposes and ``concatenate`` of the input, so every output block is (a
  slice of) an input block: no data moves that does not have to.
- ``piecewise``, ``select``, ``sinc``, ``i0``, ``isneginf``, ``isposinf`` are
  element-wise: NumPy's own function runs on every block.
- ``ravel_multi_index``/``unravel_index`` convert index arrays block by block.
- ``tril_indices``/``triu_indices`` know their output length without reading
  anything (row ``i`` of a triangle holds a number of entries given by a
  formula), so unlike Dask's (built on ``nonzero``) their chunks are known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, is_scalar, new_array
from shoal.array._blockmap import normalize_axis_index, require_known
from shoal.array._chunk_types import register_chunk_type
from shoal.array._chunks import normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._elementwise import broadcast_shapes, elemwise, map_blocks
from shoal.array._from_array import asarray
from shoal.array._join import concatenate, flip, stack
from shoal.array._rechunk import rechunk
from shoal.array._unique import unique
from shoal.array._shape import broadcast_arrays, broadcast_to, moveaxis, ravel, reshape, transpose
from shoal.graph.task import Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "append", "delete", "i0", "insert", "isneginf", "isposinf", "piecewise", "ravel_multi_index",
    "register_chunk_type", "result_type", "rot90", "select", "shape", "sinc", "tril_indices", "tril_indices_from",
    "triu_indices", "triu_indices_from", "union1d", "unravel_index",
]


def _as_array(a: Any) -> Any:
    return a if isinstance(a, ArrayBase) else asarray(a)


def _axis_length(arr: Any, axis: int, what: str) -> int:
    require_known(arr, (axis,), what)
    return int(arr.shape[axis])


def _take_slice(arr: Any, axis: int, start: int, stop: int) -> Any:
    index = [slice(None)] * arr.ndim
    index[axis] = slice(start, stop)
    return arr[tuple(index)]


def _check_bounds(indices: np.ndarray, n: int, axis: int, upper: int) -> np.ndarray:
    bad = indices[(indices < -n) | (indices >= upper)]
    if bad.size:
        raise IndexError(f"index {int(bad[0])} is out of bounds for axis {axis} with size {n}")
    return np.where(indices < 0, indices + n, indices)


# -- editing along an axis ---------------------------------------------------------------------------------------
@implements(np.delete)
def delete(arr: Any, obj: Any, axis: int) -> Any:
    """Remove the entries ``obj`` (int, slice, int list or boolean mask) along ``axis``.

    Mirrors ``numpy.delete`` (and ``dask.array.delete``, which also requires
    ``axis``). The result is made of slices of ``arr``'s blocks.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(8), chunks=3)
    >>> delete(x, [1, 5, 6], axis=0).compute()
    array([0, 2, 3, 4, 7])
    """
    arr = _as_array(arr)
    axis = normalize_axis_index(axis, arr.ndim, "delete")
    n = _axis_length(arr, axis, "delete")
    keep = np.ones(n, dtype=bool)
    if isinstance(obj, slice):
        keep[obj] = False
    else:
        index = np.asarray(obj.compute() if isinstance(obj, ArrayBase) else obj)
        if index.dtype == bool:
            if index.shape != (n,):
                raise ValueError(f"delete: boolean mask of shape {index.shape} does not match axis {axis} of "
                                 f"length {n}; pass a mask of shape ({n},).")
            keep = ~index
        else:
            if index.size and index.dtype.kind not in "iu":
                raise IndexError(f"delete: indices must be integers, got dtype {index.dtype}.")
            keep[_check_bounds(index.astype(np.intp).ravel(), n, axis, n)] = False
    if keep.all():
        return arr
    # Contiguous runs of kept positions become one slice each.
    edges = np.flatnonzero(np.diff(np.concatenate([[False], keep, [False]]).astype(np.int8)))
    pieces = [_take_slice(arr, axis, int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    if not pieces:
        return _take_slice(arr, axis, 0, 0)
    return pieces[0] if len(pieces) == 1 else concatenate(pieces, axis=axis)


def _values_for_insert(values: Any, arr: Any) -> Any:
    if isinstance(values, ArrayBase):
        values = values.astype(arr.dtype)
    else:
        values = asarray(np.array(values, dtype=arr.dtype))
    if values.ndim < arr.ndim:
        values = reshape(values, (1,) * (arr.ndim - values.ndim) + tuple(values.shape))
    return values


@implements(np.insert)
def insert(arr: Any, obj: Any, values: Any, axis: int) -> Any:
    """Insert ``values`` before the positions ``obj`` along ``axis``.

    Mirrors ``numpy.insert`` (and ``dask.array.insert``, which also requires
    ``axis``); ``values`` are cast to ``arr.dtype`` and broadcast as NumPy
    does.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=2)
    >>> insert(x, 1, [7, 8], axis=1).compute()
    array([[0, 7, 1, 2],
           [3, 8, 4, 5]])
    >>> insert(x, [0, 3], 9, axis=1).compute()
    array([[9, 0, 1, 2, 9],
           [9, 3, 4, 5, 9]])
    """
    arr = _as_array(arr)
    axis = normalize_axis_index(axis, arr.ndim, "insert")
    n = _axis_length(arr, axis, "insert")
    if isinstance(obj, slice):
        indices = np.arange(*obj.indices(n))
    else:
        indices = np.asarray(obj.compute() if isinstance(obj, ArrayBase) else obj)
        if indices.dtype == bool:
            raise TypeError("insert: obj must be integer positions, not a boolean mask; use np.flatnonzero(mask).")
        if indices.ndim > 1:
            raise ValueError(f"insert: obj must be a scalar or one-dimensional, got shape {indices.shape}.")
        if indices.size and indices.dtype.kind not in "iu":
            raise IndexError(f"insert: positions must be integers, got dtype {indices.dtype}.")
    positions = _check_bounds(indices.astype(np.intp).ravel(), n, axis, n + 1)
    values = _values_for_insert(values, arr)
    target = list(arr.shape)
    if positions.size == 1:
        if indices.ndim == 0:
            # A scalar position inserts values as a[:, i] = ... would see them: their first axis goes to ``axis``.
            values = moveaxis(values, 0, axis)
        target[axis] = values.shape[axis]
        pieces = [(int(positions[0]), broadcast_to(values, tuple(target)))]
    else:
        target[axis] = positions.size
        values = broadcast_to(values, tuple(target))  # even for no positions: NumPy rejects values that don't fit
        if positions.size == 0:
            return arr
        order = np.argsort(positions, kind="stable")
        pieces = [(int(positions[j]), _take_slice(values, axis, int(j), int(j) + 1)) for j in order]
    parts, start = [], 0
    for position, piece in pieces:
        if position > start:
            parts.append(_take_slice(arr, axis, start, position))
        parts.append(piece)
        start = position
    if start < n:
        parts.append(_take_slice(arr, axis, start, n))
    return concatenate(parts, axis=axis)


@implements(np.append)
def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """Join ``values`` to the end of ``arr``; both are flattened when ``axis`` is None.

    Mirrors ``numpy.append``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> append(sa.arange(3, chunks=2), [[7, 8]]).compute()
    array([0, 1, 2, 7, 8])
    """
    arr, values = _as_array(arr), _as_array(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


@implements(np.rot90)
def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``; mirrors ``numpy.rot90``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> rot90(sa.from_array(np.array([[1, 2], [3, 4]]), chunks=1)).compute()
    array([[2, 4],
           [1, 3]])
    """
    m = _as_array(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: len(axes) must be 2, got axes={axes!r}.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == m.ndim:
        raise ValueError(f"rot90: Axes must be different, got axes={axes!r}.")
    if not (-m.ndim <= axes[0] < m.ndim and -m.ndim <= axes[1] < m.ndim):
        raise ValueError(f"Axes={axes} out of range for array of ndim={m.ndim}.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    order = list(range(m.ndim))
    a0, a1 = axes[0] % m.ndim, axes[1] % m.ndim
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return transpose(flip(m, axes[1]), order)
    return flip(transpose(m, order), axes[1])


# -- element-wise selection ---------------------------------------------------------------------------------------
class _Piecewise:
    """``numpy.piecewise`` on one block, the conditions broadcast to the block's shape (picklable)."""

    def __init__(self, funclist: Sequence[Any], args: tuple[Any, ...], kw: dict[str, Any]) -> None:
        self.funclist, self.args, self.kw = list(funclist), args, kw
        self.__name__ = "piecewise"

    def __call__(self, x: np.ndarray, *conds: np.ndarray) -> np.ndarray:
        full = [np.broadcast_to(c, x.shape) for c in conds]
        return np.piecewise(x, full, self.funclist, *self.args, **self.kw)

    def __dask_tokenize__(self) -> Any:
        return ("piecewise", tokenize(self.funclist, self.args, self.kw))


@implements(np.piecewise)
def piecewise(x: Any, condlist: Any, funclist: Sequence[Any], *args: Any, **kw: Any) -> Any:
    """Evaluate ``funclist[i]`` where ``condlist[i]`` holds; mirrors ``numpy.piecewise``.

    Each condition must broadcast to ``x``'s shape; a last extra function (or
    value) fills where no condition holds.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([-2.0, -1.0, 0.5, 3.0]), chunks=2)
    >>> piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v * 10]).compute()
    array([ 2.,  1.,  5., 30.])
    """
    x = _as_array(x)
    if isinstance(condlist, ArrayBase | np.ndarray) or is_scalar(condlist):
        condlist = [condlist]
    conds = [_as_array(c) for c in condlist]
    funclist = list(funclist) if isinstance(funclist, list | tuple) else [funclist]
    if len(funclist) not in (len(conds), len(conds) + 1):
        raise ValueError(f"with {len(conds)} condition(s), either {len(conds)} or {len(conds) + 1} functions are "
                         f"expected")
    for i, c in enumerate(conds):
        try:
            fits = broadcast_shapes(c.shape, x.shape) == tuple(x.shape)
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"piecewise: condition {i} has shape {c.shape}, which does not broadcast to x's shape "
                             f"{x.shape}.")
    return elemwise(_Piecewise(funclist, args, kw), x, *conds, dtype=x.dtype)


class _Select:
    def __init__(self, n: int) -> None:
        self.n = n
        self.__name__ = "select"

    def __call__(self, *blocks: Any) -> np.ndarray:
        return np.select(list(blocks[:self.n]), list(blocks[self.n:2 * self.n]), blocks[2 * self.n])

    def __dask_tokenize__(self) -> Any:
        return ("select", self.n)


@implements(np.select)
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """Take each element from the first choice whose condition holds; mirrors ``numpy.select``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.arange(6, chunks=4)
    >>> select([x < 2, x > 3], [x, x ** 2], default=-1).compute()
    array([ 0,  1, -1, -1, 16, 25])
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"list of cases must be same length as list of conditions (got {len(choicelist)} choices "
                         f"and {len(condlist)} conditions)")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    conds = [_as_array(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != bool:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray (got dtype {c.dtype})")
    choices = [_as_array(c) for c in choicelist]
    dtype = np.result_type(*(c.dtype for c in choices), default)
    return elemwise(_Select(len(conds)), *conds, *choices, default, dtype=dtype)


def _inexact_dtype(dtype: np.dtype[Any], func: Callable[..., Any]) -> np.dtype[Any]:
    return np.asarray(func(np.ones(1, dtype=dtype))).dtype


@implements(np.sinc)
def sinc(x: Any) -> Any:
    """``sin(pi x) / (pi x)`` element-wise (1 at 0); mirrors ``numpy.sinc``.

    >>> import numpy as np, shoal.array as sa
    >>> sinc(sa.from_array(np.array([0.0, 0.5, 1.0]), chunks=2)).compute().round(4)
    array([1.    , 0.6366, 0.    ])
    """
    x = _as_array(x)
    return elemwise(np.sinc, x, dtype=_inexact_dtype(x.dtype, np.sinc))


@implements(np.i0)
def i0(x: Any) -> Any:
    """The modified Bessel function of the first kind, order 0, element-wise; mirrors ``numpy.i0``."""
    x = _as_array(x)
    return elemwise(np.i0, x, dtype=_inexact_dtype(x.dtype, np.i0))


def _inf_test(func: Callable[..., Any], x: Any) -> Any:
    x = _as_array(x)
    if x.dtype.kind == "c":
        raise TypeError(f"{func.__name__}: This operation is not supported for complex values because it would be "
                        f"ambiguous; test x.real or x.imag instead.")
    return elemwise(func, x, dtype=bool)


@implements(np.isneginf)
def isneginf(x: Any) -> Any:
    """Element-wise test for negative infinity; mirrors ``numpy.isneginf``.

    >>> import numpy as np, shoal.array as sa
    >>> isneginf(sa.from_array(np.array([-np.inf, 0.0, np.inf]), chunks=2)).compute()
    array([ True, False, False])
    """
    return _inf_test(np.isneginf, x)


@implements(np.isposinf)
def isposinf(x: Any) -> Any:
    """Element-wise test for positive infinity; mirrors ``numpy.isposinf``."""
    return _inf_test(np.isposinf, x)


# -- metadata -----------------------------------------------------------------------------------------------------
@implements(np.result_type)
def result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    """The dtype NumPy's promotion rules give; shoal arrays count by their dtype.

    Mirrors ``numpy.result_type`` (nothing is computed).

    >>> import shoal.array as sa
    >>> result_type(sa.ones(3, dtype="i4", chunks=2), "f4")
    dtype('float64')
    """
    return np.result_type(*(a.dtype if isinstance(a, ArrayBase) else a for a in arrays_and_dtypes))


@implements(np.shape)
def shape(array: Any) -> tuple[Any, ...]:
    """The shape of ``array`` (nothing is computed); mirrors ``numpy.shape``.

    >>> import shoal.array as sa
    >>> shape(sa.ones((2, 5), chunks=2))
    (2, 5)
    """
    return tuple(array.shape) if isinstance(array, ArrayBase) else np.shape(array)


# -- index arithmetic ---------------------------------------------------------------------------------------------
def _ravel_block(stacked: np.ndarray, dims: tuple[int, ...], mode: Any, order: str) -> np.ndarray:
    return np.asarray(np.ravel_multi_index(tuple(stacked), dims, mode=mode, order=order))


@implements(np.ravel_multi_index)
def ravel_multi_index(multi_index: Any, dims: Any, mode: Any = "raise", order: str = "C") -> Any:
    """Flat indices from a tuple of coordinate arrays; mirrors ``numpy.ravel_multi_index``.

    ``multi_index`` is a sequence of index arrays (broadcast together) or one
    array whose first axis runs over them; ``dims`` must be concrete.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> rows = sa.from_array(np.array([3, 6, 6]), chunks=2)
    >>> ravel_multi_index((rows, [4, 5, 1]), (7, 6)).compute()
    array([22, 41, 37])
    """
    if isinstance(dims, ArrayBase) or any(isinstance(d, ArrayBase) for d in np.atleast_1d(np.asarray(dims,
                                                                                                    dtype=object))):
        raise NotImplementedError("ravel_multi_index: shoal arrays are not supported in `dims`; pass a tuple of ints.")
    dims = (int(dims),) if isinstance(dims, Integral) else tuple(int(d) for d in dims)
    if isinstance(multi_index, ArrayBase):
        stacked = multi_index
    else:
        stacked = stack(broadcast_arrays(*(_as_array(i) for i in multi_index)))
    if stacked.ndim == 0 or stacked.shape[0] != len(dims):
        got = stacked.shape[0] if stacked.ndim else "a scalar"
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)} (one index array per "
                         f"dimension of dims={dims}), got {got}.")
    if stacked.dtype.kind not in "iu":
        raise TypeError(f"ravel_multi_index: index arrays must be integers, got dtype {stacked.dtype}.")
    if stacked.numblocks[0] != 1:
        stacked = rechunk(stacked, {0: -1})
    return map_blocks(_ravel_block, stacked, dims, mode, order, drop_axis=0, dtype=np.intp,
                      chunks=stacked.chunks[1:])


def _unravel_block(block: np.ndarray, dims: tuple[int, ...], order: str) -> np.ndarray:
    return np.stack(np.unravel_index(block, dims, order=order)) if block.size else \
        np.empty((len(dims), *block.shape), dtype=np.intp)


@implements(np.unravel_index)
def unravel_index(indices: Any, shape: Any, order: str = "C") -> tuple[Any, ...]:
    """Coordinate arrays from flat indices; mirrors ``numpy.unravel_index``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> rows, cols = unravel_index(sa.from_array(np.array([22, 41, 37]), chunks=2), (7, 6))
    >>> rows.compute(), cols.compute()
    (array([3, 6, 6]), array([4, 5, 1]))
    """
    indices = _as_array(indices)
    dims = (int(shape),) if isinstance(shape, Integral) else tuple(int(d) for d in shape)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: indices must be integers, got dtype {indices.dtype}.")
    if order not in ("C", "F"):
        raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}.")
    stacked = map_blocks(_unravel_block, indices, dims, order, new_axis=0, dtype=np.intp,
                         chunks=((len(dims),), *indices.chunks))
    return tuple(stacked[i] for i in range(len(dims)))


@implements(np.union1d)
def union1d(ar1: Any, ar2: Any) -> Any:
    """The sorted unique values of both inputs (flattened); mirrors ``numpy.union1d``.

    >>> import numpy as np, shoal.array as sa
    >>> union1d(sa.from_array(np.array([-1, 0, 1]), chunks=2), [-2, 0, 2]).compute()
    array([-2, -1,  0,  1,  2])
    """
    return unique(concatenate([ravel(_as_array(ar1)), ravel(_as_array(ar2))], axis=0))


# -- triangle indices ---------------------------------------------------------------------------------------------
def _row_counts(n: int, m: int, k: int, lower: bool) -> np.ndarray:
    rows = np.arange(n)
    if lower:
        return np.clip(rows + k + 1, 0, m)
    return np.clip(m - np.maximum(rows + k, 0), 0, m)


def _tri_block(start: int, stop: int, n: int, m: int, k: int, lower: bool, which: int) -> np.ndarray:
    counts = _row_counts(n, m, k, lower)
    ends = np.cumsum(counts)
    position = np.arange(start, stop)
    rows = np.searchsorted(ends, position, side="right")
    if which == 0:
        return rows.astype(np.intp)
    first = 0 if lower else np.maximum(rows + k, 0)
    return (first + position - (ends[rows] - counts[rows])).astype(np.intp)


def _tri_indices(n: int, k: int, m: int | None, chunks: Any, lower: bool) -> tuple[Any, Any]:
    what = "tril_indices" if lower else "triu_indices"
    m = n if m is None else m
    if not all(isinstance(v, Integral) for v in (n, k, m)) or n < 0 or m < 0:
        raise ValueError(f"{what}: n and m must be non-negative integers and k an integer, got n={n!r}, m={m!r}, "
                         f"k={k!r}.")
    n, m, k = int(n), int(m), int(k)
    total = int(_row_counts(n, m, k, lower).sum())
    if isinstance(chunks, tuple | list) and len(chunks) == 2:
        # A chunking of the (n, m) matrix, as Dask takes: each output block holds about one matrix block.
        grid = normalize_chunks(chunks, (n, m), dtype=np.intp)
        chunks = max(1, max(grid[0], default=1) * max(grid[1], default=1))
    out_chunks = normalize_chunks(chunks, (total,), dtype=np.intp)
    edges = np.concatenate([[0], np.cumsum(out_chunks[0])]).astype(int)
    token = tokenize(n, m, k, lower, out_chunks)
    out = []
    for which in (0, 1):
        name = f"{what}-{which}-{token}"
        layer = {(name, i): Task((name, i), _tri_block, int(edges[i]), int(edges[i + 1]), n, m, k, lower, which)
                 for i in range(len(out_chunks[0]))}
        out.append(new_array(layer, name, out_chunks, np.intp))
    return out[0], out[1]


@implements(np.tril_indices)
def tril_indices(n: int, k: int = 0, m: int | None = None, chunks: Any = "auto") -> tuple[Any, Any]:
    """Row and column indices of the lower triangle of an ``(n, m)`` array; mirrors ``numpy.tril_indices``.

    Unlike Dask's, the result's length is known without computing.
    ``chunks`` is either a chunking of the 1-d result or, as Dask takes it,
    of the ``(n, m)`` matrix.

    Examples
    --------
    >>> rows, cols = tril_indices(3, chunks=2)
    >>> rows.compute(), cols.compute()
    (array([0, 1, 1, 2, 2, 2]), array([0, 0, 1, 0, 1, 2]))
    """
    return _tri_indices(n, k, m, chunks, lower=True)


@implements(np.triu_indices)
def triu_indices(n: int, k: int = 0, m: int | None = None, chunks: Any = "auto") -> tuple[Any, Any]:
    """Row and column indices of the upper triangle of an ``(n, m)`` array; mirrors ``numpy.triu_indices``.

    >>> rows, cols = triu_indices(3, k=1)
    >>> rows.compute(), cols.compute()
    (array([0, 0, 1]), array([1, 2, 2]))
    """
    return _tri_indices(n, k, m, chunks, lower=False)


def _from_2d(arr: Any, what: str) -> tuple[int, int, Any]:
    if getattr(arr, "ndim", None) != 2:
        raise ValueError(f"{what}: input array must be 2-d, got shape {np.shape(arr)}.")
    chunks = arr.chunks if isinstance(arr, ArrayBase) else "auto"
    return int(arr.shape[0]), int(arr.shape[1]), chunks


@implements(np.tril_indices_from)
def tril_indices_from(arr: Any, k: int = 0) -> tuple[Any, Any]:
    """The :func:`tril_indices` for ``arr``'s shape; mirrors ``numpy.tril_indices_from``."""
    n, m, chunks = _from_2d(arr, "tril_indices_from")
    return tril_indices(n, k=k, m=m, chunks=chunks)


@implements(np.triu_indices_from)
def triu_indices_from(arr: Any, k: int = 0) -> tuple[Any, Any]:
    """The :func:`triu_indices` for ``arr``'s shape; mirrors ``numpy.triu_indices_from``."""
    n, m, chunks = _from_2d(arr, "triu_indices_from")
    return triu_indices(n, k=k, m=m, chunks=chunks)

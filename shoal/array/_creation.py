"""Arrays made from nothing but a shape: ``ones``, ``arange``, ``eye``, ``meshgrid``, ...

Every function here builds one task per block and no task reads another: a
block is made from its own shape and its offset in the whole array (block
``(i, j)`` of ``eye`` knows where the diagonal crosses it from the offsets of
row block ``i`` and column block ``j``). So a 100 GB ``zeros`` costs a graph of
a few thousand small tasks and never more memory than the blocks alive at once.

Functions that take an array (``diag``, ``diagonal``, ``tril``, ``triu``, the
``*_like`` family) keep its chunks where they can. ``chunks=`` takes every form
:func:`shoal.array._chunks.normalize_chunks` knows: a tuple of block lengths,
an int, ``-1`` for a whole dimension, or ``"auto"`` (blocks near the
``array.chunk-size`` setting).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import product
from numbers import Number
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockgrid import _from_block_function, _grid, _normalize_shape, _require_known
from shoal.array._chunks import normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._matrices import diag, diagonal, eye, tri, tril, triu
from shoal.delayed import Delayed
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "CreationMethods",
    "arange",
    "diag",
    "diagonal",
    "empty",
    "empty_like",
    "eye",
    "from_delayed",
    "fromfunction",
    "full",
    "full_like",
    "indices",
    "linspace",
    "meshgrid",
    "ones",
    "ones_like",
    "tri",
    "tril",
    "triu",
    "zeros",
    "zeros_like",
]


# -- filled arrays ---------------------------------------------------------------------

def _filled(np_func: Callable[..., Any], prefix: str, shape: Any, dtype: Any, chunks: Any, name: str | None,
            order: str, extra: tuple[Any, ...] = ()) -> Any:
    shape = _normalize_shape(shape)
    dtype = np.dtype(float if dtype is None else dtype)
    if order not in ("C", "F", "K", "A"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}.")
    chunks = normalize_chunks(chunks, shape, dtype=dtype)
    return _from_block_function(prefix, chunks, dtype, (*extra, order),
                                lambda bshape, _: (np_func, bshape, *extra, dtype, order), name=name)


@implements(np.ones)
def ones(shape: Any, dtype: Any = None, order: str = "C", *, chunks: Any = "auto", name: str | None = None,
         like: Any = None, device: Any = None) -> Any:
    """An array of ones; mirrors ``numpy.ones`` with ``chunks=``.

    Examples
    --------
    >>> import shoal.array as sa
    >>> x = sa.ones((4, 3), chunks=2)
    >>> x.chunks
    ((2, 2), (2, 1))
    >>> x.sum().compute()
    np.float64(12.0)
    """
    return _filled(np.ones, "ones", shape, dtype, chunks, name, order)


@implements(np.zeros)
def zeros(shape: Any, dtype: Any = None, order: str = "C", *, chunks: Any = "auto", name: str | None = None,
          like: Any = None, device: Any = None) -> Any:
    """An array of zeros; mirrors ``numpy.zeros`` with ``chunks=``.

    >>> zeros(3, dtype=int, chunks=2).compute()
    array([0, 0, 0])
    """
    return _filled(np.zeros, "zeros", shape, dtype, chunks, name, order)


@implements(np.empty)
def empty(shape: Any, dtype: Any = None, order: str = "C", *, chunks: Any = "auto", name: str | None = None,
          like: Any = None, device: Any = None) -> Any:
    """An uninitialized array; mirrors ``numpy.empty`` with ``chunks=``.

    The blocks hold whatever memory they were given: write to them before use.

    >>> empty((2, 2), chunks=1).numblocks
    (2, 2)
    """
    return _filled(np.empty, "empty", shape, dtype, chunks, name, order)


@implements(np.full)
def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C", *, chunks: Any = "auto",
         name: str | None = None, like: Any = None, device: Any = None) -> Any:
    """An array filled with ``fill_value``; mirrors ``numpy.full`` with ``chunks=``.

    ``fill_value`` must be a scalar; the dtype defaults to its dtype.

    >>> full((2, 3), 7, chunks=2).compute()
    array([[7, 7, 7],
           [7, 7, 7]])
    """
    if isinstance(fill_value, ArrayBase) or np.ndim(fill_value) != 0:
        raise ValueError(
            f"full: fill_value must be a scalar, got {type(fill_value).__name__} of shape {np.shape(fill_value)}. "
            f"Use shoal.array.broadcast_to for array values."
        )
    if dtype is None:
        dtype = np.asarray(fill_value).dtype
    return _filled(np.full, "full", shape, dtype, chunks, name, order, extra=(fill_value,))


def _like(a: Any, fill: Callable[..., Any], dtype: Any, order: str, chunks: Any, name: str | None, shape: Any,
          extra: tuple[Any, ...] = ()) -> Any:
    if not isinstance(a, ArrayBase) and not (hasattr(a, "shape") and hasattr(a, "dtype")):
        a = np.asarray(a)
    if isinstance(a, ArrayBase):
        _require_known(a, f"{fill.__name__}_like")
    same_shape = shape is None or _normalize_shape(shape) == tuple(a.shape)
    shape = tuple(a.shape) if shape is None else shape
    dtype = a.dtype if dtype is None else dtype
    if chunks is None:
        chunks = a.chunks if isinstance(a, ArrayBase) and same_shape else "auto"
    return fill(shape, *extra, dtype=dtype, order="C" if order in ("K", "A") else order, chunks=chunks, name=name)


@implements(np.ones_like)
def ones_like(a: Any, dtype: Any = None, order: str = "C", chunks: Any = None, name: str | None = None,
              shape: Any = None, **kwargs: Any) -> Any:
    """Ones with the shape and dtype of ``a`` (and its chunks, if it is a shoal array).

    >>> import numpy as np, shoal.array as sa
    >>> ones_like(sa.from_array(np.arange(5), chunks=2)).compute()
    array([1, 1, 1, 1, 1])
    """
    return _like(a, ones, dtype, order, chunks, name, shape)


@implements(np.zeros_like)
def zeros_like(a: Any, dtype: Any = None, order: str = "C", chunks: Any = None, name: str | None = None,
               shape: Any = None, **kwargs: Any) -> Any:
    """Zeros with the shape and dtype of ``a`` (and its chunks, if it is a shoal array).

    >>> zeros_like([[1.5, 2.5]]).compute()
    array([[0., 0.]])
    """
    return _like(a, zeros, dtype, order, chunks, name, shape)


@implements(np.empty_like)
def empty_like(a: Any, dtype: Any = None, order: str = "C", chunks: Any = None, name: str | None = None,
               shape: Any = None, **kwargs: Any) -> Any:
    """An uninitialized array with the shape and dtype of ``a``.

    >>> empty_like([1, 2, 3], dtype="f4").dtype
    dtype('float32')
    """
    return _like(a, empty, dtype, order, chunks, name, shape)


@implements(np.full_like)
def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "C", chunks: Any = None,
              name: str | None = None, shape: Any = None, **kwargs: Any) -> Any:
    """``fill_value`` everywhere, with the shape and dtype of ``a``.

    >>> full_like([1, 2, 3], 9).compute()
    array([9, 9, 9])
    """
    if np.ndim(fill_value) != 0:
        raise ValueError(f"full_like: fill_value must be a scalar, got shape {np.shape(fill_value)}.")
    return _like(a, full, dtype, order, chunks, name, shape, extra=(fill_value,))


# -- ranges ----------------------------------------------------------------------------

def _arange_block(start: Any, delta: Any, first: int, last: int, dtype: np.dtype[Any]) -> np.ndarray:
    # NumPy fills arange as start + i * delta (delta = (start + step) - start, in
    # the output dtype); doing the same per block gives the same values.
    return (np.arange(first, last, dtype=np.int64 if dtype.kind in "iub" else np.float64) * delta + start).astype(
        dtype, copy=False)


@implements(np.arange)
def arange(start: Any = 0, stop: Any = None, step: Any = 1, *, chunks: Any = "auto", like: Any = None,
           dtype: Any = None, name: str | None = None, device: Any = None) -> Any:
    """Evenly spaced values in ``[start, stop)``; mirrors ``numpy.arange`` with ``chunks=``.

    ``arange(n)`` counts from 0. Each block computes its own values, so a long
    range never exists in one piece.

    Examples
    --------
    >>> arange(5, chunks=2).compute()
    array([0, 1, 2, 3, 4])
    >>> arange(1, 2, 0.25, chunks=3).compute()
    array([1.  , 1.25, 1.5 , 1.75])
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ZeroDivisionError(f"arange: step must not be zero (start={start}, stop={stop}).")
    sample = np.arange(start, start, step) if dtype is None else np.empty(0, dtype=dtype)
    dtype = np.dtype(sample.dtype if dtype is None else dtype)
    if all(isinstance(v, int | np.integer) for v in (start, stop, step)):
        length = len(range(int(start), int(stop), int(step)))
    else:
        length = max(0, math.ceil((stop - start) / step))
    chunks = normalize_chunks(chunks, (length,), dtype=dtype)
    work = np.dtype(np.result_type(np.asarray(start).dtype, np.asarray(step).dtype, dtype))
    first_value = work.type(start)
    delta = work.type(start + step) - first_value if work.kind != "b" else step
    return _from_block_function(
        "arange", chunks, dtype, (start, stop, step), name=name,
        make=lambda shape, starts: (_arange_block, first_value, delta, starts[0], starts[0] + shape[0], dtype))


def _linspace_block(start: float, stop: float, step: float, delta: float, div: int, first: int, last: int,
                    num: int, endpoint: bool, dtype: np.dtype[Any]) -> np.ndarray:
    y = np.arange(first, last, dtype=np.float64)
    # Same arithmetic as numpy.linspace: i * step + start, with stop set exactly at the end.
    y = y * step + start if div > 0 and step != 0 else (y / div * delta + start if div > 0 else y * delta + start)
    if endpoint and num > 1 and last == num:
        y[-1] = stop
    if dtype.kind in "iu":
        y = np.floor(y)
    return y.astype(dtype, copy=False)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             chunks: Any = "auto", dtype: Any = None, name: str | None = None) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``; mirrors ``numpy.linspace`` with ``chunks=``.

    Examples
    --------
    >>> linspace(0, 1, 5, chunks=2).compute()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> linspace(0, 1, 4, endpoint=False, retstep=True, chunks=2)[1]
    0.25
    """
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative.")
    if isinstance(start, ArrayBase) or isinstance(stop, ArrayBase) or np.ndim(start) or np.ndim(stop):
        return _linspace_arrays(start, stop, num, endpoint, retstep, chunks, dtype)
    dtype = np.dtype(np.result_type(start, stop, float) if dtype is None else dtype)
    div = num - 1 if endpoint else num
    delta = float(stop) - float(start)
    step = delta / div if div > 0 else math.nan
    chunks = normalize_chunks(chunks, (num,), dtype=dtype)
    out = _from_block_function(
        "linspace", chunks, dtype, (start, stop, num, endpoint), name=name,
        make=lambda shape, starts: (_linspace_block, float(start), float(stop), step, delta, div, starts[0],
                                    starts[0] + shape[0], num, endpoint, dtype))
    return (out, step) if retstep else out


def _linspace_arrays(start: Any, stop: Any, num: int, endpoint: bool, retstep: bool, chunks: Any,
                     dtype: Any) -> Any:
    """``linspace`` between arrays: shape ``(num, *broadcast shape)``, with numpy.linspace's arithmetic.

    NumPy computes ``i * step + start`` and sets the last row to ``stop``; when any step is zero it
    computes ``i / div * delta + start`` for all of them. With lazy (shoal) bounds that test is not known
    when the graph is built, so each element takes its own branch, which can differ from NumPy in the last
    bit where only some steps are zero.
    """
    lazy = isinstance(start, ArrayBase) or isinstance(stop, ArrayBase)
    start = start if isinstance(start, ArrayBase) else np.asarray(start)
    stop = stop if isinstance(stop, ArrayBase) else np.asarray(stop)
    work = np.result_type(start.dtype, stop.dtype, float)
    dtype = np.dtype(work if dtype is None else dtype)
    shape = (num, *np.broadcast_shapes(start.shape, stop.shape))
    chunks = normalize_chunks(chunks, shape, dtype=work)
    i = arange(num, chunks=(chunks[0],), dtype=work).reshape((num,) + (1,) * (len(shape) - 1))
    div = num - 1 if endpoint else num
    delta = stop - start
    if div > 0:
        step = delta / div
        if lazy:
            from shoal.array._elementwise import where
            y = where(step == 0, i / div * delta, i * step)
        else:
            y = i / div * delta if np.any(step == 0) else i * step
    else:
        step = math.nan
        y = i * delta
    y = y + start
    if endpoint and num > 1:
        from shoal.array._elementwise import where
        y = where(arange(num, chunks=(chunks[0],)).reshape(i.shape) == num - 1, stop, y)
    y = y.rechunk(chunks) if y.chunks != chunks else y
    if dtype.kind in "iu":
        y = np.floor(y)
    y = y.astype(dtype)
    return (y, step) if retstep else y


# -- grids -----------------------------------------------------------------------------

def _indices_block(axis: int, shape: tuple[int, ...], starts: tuple[int, ...], dtype: Any) -> np.ndarray:
    line = np.arange(starts[axis], starts[axis] + shape[axis], dtype=dtype)
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return np.broadcast_to(line.reshape(view), shape)[None].copy()


def indices(dimensions: Sequence[int], dtype: Any = int, chunks: Any = "auto") -> Any:
    """An array of coordinate grids, one per dimension; mirrors ``numpy.indices`` (not ``sparse=``).

    The first axis has one block per dimension.

    >>> indices((2, 3), chunks=2).compute()[1]
    array([[0, 1, 2],
           [0, 1, 2]])
    """
    dimensions = _normalize_shape(dimensions)
    dtype = np.dtype(dtype)
    inner = normalize_chunks(chunks, dimensions, dtype=dtype)
    n = len(dimensions)
    chunks_all = ((1,) * n if n else (0,), *inner)
    name = f"indices-{tokenize(dimensions, dtype.str, inner)}"
    layer = {}
    for index, shape, starts in _grid(inner):
        for axis in range(n):
            key = (name, axis, *index)
            layer[key] = Task(key, _indices_block, axis, shape, starts, dtype)
    if n == 0:
        layer[(name, 0)] = Task((name, 0), np.empty, (0,), dtype)
    return new_array(layer, name, chunks_all, dtype)


def _mesh_block(block: np.ndarray, axis: int, ndim: int, shape: tuple[int, ...]) -> np.ndarray:
    view = [1] * ndim
    view[axis] = block.shape[0]
    return np.broadcast_to(block.reshape(view), shape)


def meshgrid(*xi: Any, sparse: bool = False, indexing: str = "xy", **kwargs: Any) -> list[Any]:
    """Coordinate arrays from 1-d coordinate vectors; mirrors ``numpy.meshgrid``.

    Each output has the chunks of the vectors along their axes; its blocks are
    broadcast views of the vectors' blocks, so they cost no extra memory until used.

    >>> import numpy as np, shoal.array as sa
    >>> X, Y = meshgrid(sa.from_array(np.arange(3), chunks=2), np.arange(2))
    >>> X.compute()
    array([[0, 1, 2],
           [0, 1, 2]])
    >>> Y.compute()
    array([[0, 0, 0],
           [1, 1, 1]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    if kwargs:
        raise TypeError(f"meshgrid() got unexpected keyword arguments {sorted(kwargs)}.")
    if not xi:
        return []
    vectors = []
    for x in xi:
        x = asarray(x)
        if x.ndim != 1:
            x = x.ravel()
        _require_known(x, "meshgrid")
        vectors.append(x)
    swap = indexing == "xy" and len(vectors) > 1
    if swap:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    ndim = len(vectors)
    shape_all = tuple(int(v.shape[0]) for v in vectors)
    grids = []
    for axis, v in enumerate(vectors):
        chunks = tuple(vectors[d].chunks[0] if (d == axis or not sparse) else (1,) for d in range(ndim))
        name = f"meshgrid-{tokenize(v, axis, ndim, sparse, shape_all)}"
        layer = {}
        for index in product(*(range(len(c)) for c in chunks)):
            key = (name, *index)
            bshape = tuple(int(chunks[d][i]) for d, i in enumerate(index))
            layer[key] = Task(key, _mesh_block, Ref((v.name, index[axis])), axis, ndim, bshape)
        grids.append(new_array(layer, name, chunks, v.dtype, deps=(v,)))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return grids


implements(np.meshgrid)(meshgrid)


def _fromfunction_block(function: Callable[..., Any], shape: tuple[int, ...], starts: tuple[int, ...],
                        dtype: Any, kwargs: dict[str, Any]) -> np.ndarray:
    coords = [np.arange(s, s + n, dtype=dtype).reshape([n if d == axis else 1 for d in range(len(shape))])
              for axis, (s, n) in enumerate(zip(starts, shape, strict=True))]
    coords = [np.broadcast_to(c, shape) for c in coords]
    return np.broadcast_to(function(*coords, **kwargs), shape).copy()


@implements(np.fromfunction)
def fromfunction(function: Callable[..., Any], shape: Any, *, dtype: Any = float, chunks: Any = "auto",
                 **kwargs: Any) -> Any:
    """Build an array by calling ``function(*coordinates)``; mirrors ``numpy.fromfunction`` with ``chunks=``.

    ``function`` is called once per block with that block's coordinate arrays
    (of ``dtype``), so it must work element-wise, as NumPy requires too.

    >>> fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int, chunks=2).compute()
    array([[ 0, 10, 20],
           [ 1, 11, 21]])
    """
    shape = _normalize_shape(shape)
    dtype = np.dtype(dtype)
    tiny = [np.zeros((1,) * len(shape), dtype=dtype) for _ in shape]
    try:
        out_dtype = np.asarray(function(*tiny, **kwargs)).dtype
    except Exception as exc:
        raise ValueError(
            f"fromfunction could not call {getattr(function, '__name__', function)!r} on sample coordinates "
            f"to learn its output dtype: {type(exc).__name__}: {exc}"
        ) from exc
    chunks = normalize_chunks(chunks, shape, dtype=out_dtype)
    return _from_block_function("fromfunction", chunks, out_dtype, (function, dtype.str, kwargs),
                                make=lambda bshape, starts: (_fromfunction_block, function, bshape, starts, dtype,
                                                             kwargs))


# -- other sources ---------------------------------------------------------------------

def _check_delayed_block(value: Any, shape: tuple[Any, ...], key: Any) -> Any:
    got = np.shape(value)
    if len(got) != len(shape) or any(not (isinstance(s, float) and math.isnan(s)) and g != s
                                     for g, s in zip(got, shape, strict=False)):
        raise ValueError(
            f"from_delayed: the delayed value {key!r} computed to shape {got}, but the array was declared with "
            f"shape {shape}. Pass the real shape to from_delayed."
        )
    return value


def from_delayed(value: Any, shape: Any, dtype: Any = None, meta: Any = None, name: str | None = None) -> Any:
    """A one-block array from a :class:`shoal.delayed.Delayed` value of known shape.

    The value is checked against ``shape`` when it is computed. ``nan`` in
    ``shape`` marks a length that is not known in advance.

    >>> import numpy as np, shoal
    >>> value = shoal.delayed(np.ones)(3)
    >>> from_delayed(value, shape=(3,), dtype=float).compute()
    array([1., 1., 1.])
    """
    if not isinstance(value, Delayed):
        if hasattr(value, "key") and hasattr(value, "__dask_graph__"):
            pass  # another collection exposing a single key
        else:
            raise TypeError(f"from_delayed needs a Delayed value, got {type(value).__name__}. "
                            f"Use shoal.array.from_array for data already in memory.")
    if isinstance(shape, Number | np.integer):
        shape = (shape,)
    shape = tuple(shape)
    if dtype is None and meta is None:
        raise ValueError("from_delayed needs dtype= (or meta=) to know the array's dtype without computing it.")
    dtype = np.dtype(meta.dtype if dtype is None else dtype)
    name = name or f"from-value-{tokenize(value, shape, dtype.str)}"
    key = (name, *((0,) * len(shape)))
    layer = {key: Task(key, _check_delayed_block, Ref(value.key), shape, value.key)}
    chunks = tuple((s,) for s in shape)
    return new_array(layer, name, chunks, dtype, deps=(value,), meta=meta)


class CreationMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        """The diagonal ``offset`` of the ``axis1``/``axis2`` planes; see :func:`diagonal`."""
        return diagonal(self, offset, axis1, axis2)

"""Arrays from existing data: ``from_array``, ``asarray``, ``array``.

``from_array`` wraps anything with ``shape``, ``dtype`` and NumPy-style
slicing (a NumPy array, an h5py or zarr dataset, a memory map). The source is
stored once in the graph and every block task slices its part out of it, so
an on-disk dataset is read chunk by chunk, only when and where needed.
"""

from __future__ import annotations

import uuid
from types import EllipsisType
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import normalize_chunks, slices_from_chunks
from shoal.array._dispatch import implements
from shoal.graph.task import DataNode, Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.utils import SerializableLock

__all__ = ["array", "asanyarray", "asarray", "from_array"]


def _get_block(source: Any, index: tuple[slice, ...] | EllipsisType, lock: Any = None, asarray: bool = True) -> Any:
    if lock is not None:
        with lock:
            block = source[index]
    else:
        block = source[index]
    return np.asarray(block) if asarray else block


def from_array(x: Any, chunks: Any = "auto", name: str | bool | None = None, lock: Any = False,
               asarray: bool | None = None, fancy: bool = True, getitem: Any = None, meta: Any = None,
               inline_array: bool = False) -> Any:
    """Make a shoal array from anything with ``shape``, ``dtype`` and slicing.

    Parameters
    ----------
    x : array-like
        A NumPy array, an h5py/zarr dataset, or any object with ``shape``,
        ``dtype`` and ``__getitem__`` taking tuples of slices.
    chunks : int, tuple, dict or "auto"
        Block shape; ``"auto"`` aims at the ``array.chunk-size`` setting.
    name : str or False, optional
        Key prefix; by default a token of the data (``False``: a random one,
        for sources too large or too opaque to hash).
    lock : bool or Lock
        Serialize reads from ``x`` (for sources that are not thread-safe,
        such as HDF5 files): ``True`` makes a new lock.
    asarray : bool, optional
        Convert each block with ``np.asarray`` (default: yes, unless ``x``
        is already a NumPy array).
    inline_array : bool
        Put ``x`` in every block task instead of once in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> x = from_array(np.arange(10), chunks=4)
    >>> x.chunks
    ((4, 4, 2),)
    >>> x.sum().compute()
    np.int64(45)
    """
    if isinstance(x, ArrayBase):
        return x if chunks == "auto" else x.rechunk(chunks)  # type: ignore[attr-defined]
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    if isinstance(x, np.ndarray) and x.dtype == object and x.size and isinstance(x.flat[0], ArrayBase):
        raise TypeError("from_array was given a NumPy array of shoal arrays; use shoal.array.block or stack.")
    shape = tuple(int(s) for s in x.shape)
    dtype = np.dtype(x.dtype)
    # A chunked source (h5py/zarr: a chunk shape; another collection: block lengths) guides "auto", as in Dask.
    previous = getattr(x, "chunks", None)
    chunks = normalize_chunks(chunks, shape, dtype=dtype, previous_chunks=previous if isinstance(previous, tuple)
                              and all(isinstance(c, tuple | Integral) for c in previous) else None)
    if name is None or name is True:
        name = f"array-{tokenize(x, chunks)}"
    elif name is False:
        name = f"array-{uuid.uuid4().hex}"
    if lock is True:
        lock = SerializableLock()  # a plain Lock cannot travel to other processes
    lock = lock or None
    as_np = (not isinstance(x, np.ndarray)) if asarray is None else asarray
    original = f"array-original-{name.rsplit('-', 1)[-1]}"
    source: Any = x if inline_array else Ref(original)
    layer: dict[Any, Any] = {} if inline_array else {original: DataNode(original, x)}
    numblocks = tuple(len(c) for c in chunks)
    for index, slices in zip(product(*(range(n) for n in numblocks)), slices_from_chunks(chunks), strict=True):
        key = (name, *index)
        if shape == ():
            # x[...] keeps a 0-d array 0-d (x[()] would give a scalar); Dask computes these to 0-d arrays.
            layer[(name,)] = Task((name,), _get_block, source, Ellipsis, lock, as_np)
            break
        layer[key] = Task(key, _get_block, source, slices, lock, as_np)
    if meta is None:
        meta = np.empty((0,) * len(shape), dtype=dtype)
    return new_array(layer, name, chunks, dtype, meta=meta)


@implements(np.asarray)
def asarray(a: Any, dtype: Any = None, order: Any = None, *, like: Any = None, chunks: Any = "auto") -> Any:
    """Return ``a`` as a shoal array (unchanged if it already is one).

    A list holding shoal arrays is stacked lazily along a new first axis.

    >>> asarray([1, 2, 3]).compute()
    array([1, 2, 3])
    >>> x = asarray([1, 2, 3])
    >>> asarray([x, x]).shape
    (2, 3)
    """
    if isinstance(a, ArrayBase):
        return a if dtype is None or a.dtype == np.dtype(dtype) else a.astype(dtype)  # type: ignore[attr-defined]
    if isinstance(a, list | tuple) and any(isinstance(item, ArrayBase) for item in a):
        from shoal.array._join import stack  # _join builds on this module

        # As NumPy (and Dask) do for a list of arrays: stack them along a new first axis, lazily.
        out = stack([item if isinstance(item, ArrayBase) else asarray(item) for item in a])
        return out if dtype is None or out.dtype == np.dtype(dtype) else out.astype(dtype)
    data = np.asarray(a, dtype=dtype, order=order)
    return from_array(data, chunks=chunks if data.ndim else ())


@implements(np.asanyarray)
def asanyarray(a: Any, dtype: Any = None, order: Any = None, *, like: Any = None, chunks: Any = "auto") -> Any:
    """Like :func:`asarray`, but NumPy subclasses (masked arrays) keep their type and mask in every block.

    >>> import numpy as np
    >>> x = asanyarray(np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]), chunks=2)
    >>> x.compute().mask.tolist()
    [False, True, False]
    """
    if isinstance(a, ArrayBase) or (isinstance(a, list | tuple) and any(isinstance(i, ArrayBase) for i in a)):
        return asarray(a, dtype=dtype, order=order, chunks=chunks)
    data = np.asanyarray(a, dtype=dtype, order=order)
    if type(data) is np.ndarray:
        return from_array(data, chunks=chunks if data.ndim else ())
    meta = data[(slice(0, 0),) * data.ndim] if data.ndim else None
    return from_array(data, chunks=chunks if data.ndim else (), asarray=False, meta=meta)


array = asarray

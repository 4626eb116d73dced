"""Testing helpers for shoal arrays; mirrors ``dask.array.utils``."""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.local.sync import get_sync

__all__ = ["assert_eq"]


def _materialize(a: Any, check_chunks: bool, check_meta: bool, label: str) -> Any:
    if not isinstance(a, ArrayBase):
        return np.asarray(a) if not isinstance(a, np.ndarray | np.generic) else a
    result = a.compute(scheduler="sync")
    if check_meta and np.asarray(result).dtype != a.dtype:
        raise AssertionError(
            f"{label}: the lazy dtype says {a.dtype} but the computed result has dtype {np.asarray(result).dtype}"
        )
    shape = tuple(a.shape)
    if not any(isinstance(s, float) and math.isnan(s) for s in shape) and np.shape(result) != shape:
        raise AssertionError(
            f"{label}: the lazy shape says {shape} but the computed result has shape {np.shape(result)}")
    if check_chunks:
        _check_blocks(a, label)
    return result


def _check_blocks(a: ArrayBase, label: str) -> None:
    """Every computed block has the dimensions, dtype and shape its metadata promise.

    Shapes are checked only along axes whose chunks are known (not nan).
    """
    if a._meta.ndim != a.ndim:
        raise AssertionError(f"{label}: the meta has {a._meta.ndim} dimensions but the array has {a.ndim}")
    graph = a.__dask_graph__()
    keys = [(a.name, *index) if index else (a.name,) for index in product(*(range(n) for n in a.numblocks))]
    blocks = get_sync(graph, keys)
    for key, block in zip(keys, blocks, strict=True):
        expected = tuple(a.chunks[d][i] for d, i in enumerate(key[1:]))
        shape = np.shape(block)
        if len(shape) != len(expected) or any(
            not (isinstance(e, float) and math.isnan(e)) and s != e for s, e in zip(shape, expected, strict=True)
        ):
            raise AssertionError(f"{label}: block {key} has shape {shape} but its chunks say {expected}")
        block_dtype = getattr(block, "dtype", None)
        if block_dtype is not None and block_dtype != a.dtype:
            raise AssertionError(f"{label}: block {key} has dtype {block_dtype} but the array says {a.dtype}")


def assert_eq(a: Any, b: Any, check_shape: bool = True, check_graph: bool = True, check_meta: bool = True,
              check_chunks: bool = True, check_dtype: bool = True, equal_nan: bool = True, **kwargs: Any) -> bool:
    """Assert that two arrays (shoal, NumPy or scalars) hold the same values.

    Shoal arrays are computed on the sync scheduler; their lazy dtype and
    shape, and the shape, dimensions and dtype of each block (its chunk
    metadata), must match what computing gives.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = np.arange(6)
    >>> assert_eq(sa.from_array(x, chunks=4) + 1, x + 1)
    True
    """
    left = _materialize(a, check_chunks, check_meta, "left")
    right = _materialize(b, check_chunks, check_meta, "right")
    left_arr, right_arr = np.asarray(left), np.asarray(right)
    if check_shape and left_arr.shape != right_arr.shape:
        raise AssertionError(f"shapes differ: {left_arr.shape} != {right_arr.shape}")
    if check_dtype and left_arr.dtype != right_arr.dtype:
        raise AssertionError(f"dtypes differ: {left_arr.dtype} != {right_arr.dtype}")
    if left_arr.dtype.kind in "fc" or right_arr.dtype.kind in "fc":
        np.testing.assert_allclose(left_arr, right_arr, equal_nan=equal_nan, **kwargs)
    else:
        np.testing.assert_array_equal(left_arr, right_arr)
    return True

"""``norm``: vector and matrix norms of shoal arrays, for any number of dimensions.

Most orders are reductions (sums, maxima of absolute values). The matrix
orders ``2``, ``-2`` and ``"nuc"`` need the singular values of every matrix
(one per position of the other axes, as NumPy computes them). They come from
a batched TSQR-style reduction:

- the two matrix axes go last, the longer one first (a transpose keeps the
  singular values), and the shorter one is brought into one block;
- every block of a stack of ``b x n`` matrices is replaced by its ``R``
  factor (``numpy.linalg.qr(mode="r")`` works on stacks), the ``R`` factors
  of neighbouring row blocks are stacked and factored again, level after
  level, until one ``b x n x n`` stack is left per block of the other axes;
- the singular values of that last ``R`` are those of the matrices
  (``A = Q R`` with ``Q`` orthonormal), and ``numpy.linalg.norm`` of it is the
  norm of ``A``.

Why a reduction rather than rechunking both matrix axes into one block: only
``n x n`` factors travel between tasks, so a tall matrix axis keeps its
chunks and no block grows past ``(block of the other axes) x (row chunk) x n``;
when the matrices are small the tree has one level and costs nothing extra.
"""

from __future__ import annotations

import math
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._contract import _normalize_axes
from shoal.array._from_array import asarray
from shoal.array._rechunk import rechunk
from shoal.array._tsqr import require_known
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["norm"]

#: Elements of a stack of R factors that one combine task may hold; bounds the fan-in of the tree.
_STACK_ELEMENTS = 1 << 22


# -- the tasks --------------------------------------------------------------------------------------------------

def _r_factor(*blocks: np.ndarray) -> np.ndarray:
    """The ``R`` factors of the row-wise concatenation of ``blocks`` (stacks of matrices)."""
    stacked = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=-2)
    return np.linalg.qr(stacked, mode="r")


def _norm_of_stack(blocks: list[np.ndarray], ord: Any, kept: tuple[int, ...]) -> np.ndarray:  # noqa: A002
    """NumPy's norm of the stacked blocks (or R factors: they have the same singular values)."""
    stacked = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=-2)
    out = np.asarray(np.linalg.norm(stacked, ord=ord, axis=(-2, -1)))
    return np.expand_dims(out, kept) if kept else out


# -- singular-value norms ---------------------------------------------------------------------------------------

def _add(layer: dict[Any, Any], key: Any, func: Any, *args: Any) -> Ref:
    layer[key] = Task(key, func, *args)
    return Ref(key)


def _fan_in(batch_elements: int, n: int) -> int:
    return max(2, _STACK_ELEMENTS // max(1, batch_elements * n * n))


def _singular_value_norm(x: ArrayBase, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:  # noqa: A002
    """``norm`` with ``ord`` 2, -2 or "nuc" over the matrix ``axes``, for any number of dimensions."""
    row, col = axes
    for axis in axes:
        require_known(x, "norm", axis=axis)
    long_axis, short_axis = (row, col) if x.shape[row] >= x.shape[col] else (col, row)
    batch = [d for d in range(x.ndim) if d not in axes]
    if [*batch, long_axis, short_axis] != list(range(x.ndim)):
        x = x.transpose(*batch, long_axis, short_axis)
    if x.numblocks[-1] != 1:
        x = rechunk(x, {x.ndim - 1: -1})
    n = int(x.shape[-1])
    nbatch = len(batch)
    dtype = np.empty(0, dtype=x.dtype).real.dtype
    token = tokenize(x, ord, keepdims)
    up_name, name = f"norm-r-{token}", f"norm-{token}"

    out_ndim = x.ndim if keepdims else nbatch
    out_chunks: list[Any] = list(x.chunks[:nbatch])
    kept = tuple(sorted(axes)) if keepdims else ()
    for axis in kept:
        out_chunks.insert(axis, (1,))
    layer: dict[Any, Any] = {}
    for index in product(*(range(k) for k in x.numblocks[:nbatch])):
        block_batch = tuple(x.chunks[d][i] for d, i in enumerate(index))
        fan_in = _fan_in(math.prod(int(b) for b in block_batch if not math.isnan(b)), n)
        level: list[Any] = [Ref((x.name, *index, i, 0)) for i in range(x.numblocks[-2])]
        if len(level) > 1:
            # Every block is replaced by its R factors; then fan_in of them are stacked and factored per task
            # until the last task can stack what is left.
            level = [_add(layer, (up_name, 0, *index, i), _r_factor, ref) for i, ref in enumerate(level)]
            depth = 1
            while len(level) > fan_in:
                level = [_add(layer, (up_name, depth, *index, g // fan_in), _r_factor, *level[g:g + fan_in])
                         for g in range(0, len(level), fan_in)]
                depth += 1
        out_index = list(index)
        if keepdims:
            for axis in kept:
                out_index.insert(axis, 0)
        key = (name, *out_index)
        layer[key] = Task(key, _norm_of_stack, level, ord, kept)
    return new_array(layer, name, tuple(out_chunks), dtype, deps=(x,), meta=meta_from_dtype(dtype, out_ndim))


# -- the other orders -------------------------------------------------------------------------------------------

def _normalize_norm_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, Integral) else tuple(axis)
    if not all(isinstance(ax, Integral) for ax in axes):
        raise TypeError(f"'axis' must be None, an integer or a tuple of integers, got {axis!r}")
    return _normalize_axes(axes, ndim, "norm")


def _vector_norm(x: Any, ord: Any, axis: int, keepdims: bool) -> Any:  # noqa: A002 - NumPy's name
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order {ord!r} for vectors")
    if ord == math.inf:
        return abs(x).max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return abs(x).min(axis=axis, keepdims=keepdims)
    if ord == 0:
        return (x != 0).astype(x.real.dtype).sum(axis=axis, keepdims=keepdims)
    if ord == 1:
        return abs(x).sum(axis=axis, keepdims=keepdims)
    if ord is None or ord == 2:
        return np.sqrt((abs(x) ** 2).sum(axis=axis, keepdims=keepdims))
    try:
        power = float(ord)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid norm order {ord!r} for vectors") from None
    return (abs(x) ** power).sum(axis=axis, keepdims=keepdims) ** (1.0 / power)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Any:  # noqa: A002
    row, col = axes
    if row == col:
        raise ValueError(f"Duplicate axes given: {axes}")
    if ord in (2, -2, "nuc"):
        return _singular_value_norm(x, ord, axes, keepdims)
    if ord in ("fro", "f", None):
        return np.sqrt((abs(x) ** 2).sum(axis=axes, keepdims=keepdims))
    if ord in (1, -1, math.inf, -math.inf):
        sum_axis, pick_axis = (row, col) if ord in (1, -1) else (col, row)
        sums = abs(x).sum(axis=sum_axis, keepdims=True)
        out = sums.max(axis=pick_axis, keepdims=True) if ord in (1, math.inf) else sums.min(axis=pick_axis,
                                                                                           keepdims=True)
        if not keepdims:
            out = out.sum(axis=axes)  # drop the two length-1 axes (a sum over one element)
        return out
    raise ValueError(f"Invalid norm order {ord!r} for matrices; use None, 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002 - NumPy's name
    """Matrix or vector norm; mirrors ``numpy.linalg.norm``.

    ``axis=None`` takes the norm of a 1-d array as a vector and of a 2-d
    array as a matrix (``ord=None``: the 2-norm of the flattened array for
    any number of dimensions). An integer ``axis`` gives vector norms along
    it, a pair of axes matrix norms, one for every position along the other
    axes. The matrix orders ``2``, ``-2`` and ``"nuc"`` need singular values:
    they run a batched TSQR-style reduction (see the module docstring), with
    the shorter matrix axis brought into one block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(12.).reshape(3, 4) - 5
    >>> x = sa.from_array(a, chunks=2)
    >>> bool(np.isclose(norm(x).compute(), np.linalg.norm(a)))
    True
    >>> norm(x, ord=1, axis=0).compute()
    array([ 9.,  8.,  9., 10.])
    >>> b = np.arange(24.).reshape(2, 3, 4)
    >>> bool(np.allclose(norm(sa.from_array(b, chunks=2), ord=2, axis=(0, 2)).compute(),
    ...                  np.linalg.norm(b, ord=2, axis=(0, 2))))
    True
    """
    x = x if isinstance(x, ArrayBase) else asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype("f8")
    if axis is None:
        if ord is None:
            return np.sqrt((abs(x) ** 2).sum(keepdims=keepdims))
        if x.ndim == 1:
            return _vector_norm(x, ord, 0, keepdims)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError(f"Improper number of dimensions to norm: ord={ord!r} needs a 1-d or 2-d array (or axis=), "
                         f"got shape {x.shape}")
    axes = _normalize_norm_axis(axis, x.ndim)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, (axes[0], axes[1]), keepdims)
    raise ValueError(f"Improper number of dimensions to norm: axis={axis!r} names {len(axes)} axes; give 1 or 2")

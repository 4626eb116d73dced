"""Matrix-shaped creation and extraction: ``eye``, ``tri``, ``tril``/``triu``, ``diag``, ``diagonal``.

A block knows where a diagonal crosses it from its row and column offsets:
the global diagonal ``k`` is the local diagonal ``k + row offset - column
offset``, so ``eye``, ``tri`` and the triangles are one NumPy call per block.
``diagonal`` cuts the diagonal wherever it enters a new row or column block;
each piece comes from exactly one input block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import new_array
from shoal.array._blockgrid import _check_axis, _from_block_function, _normalize_shape, _require_known
from shoal.array._chunks import chunk_offsets, normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["diag", "diagonal", "eye", "tri", "tril", "triu"]


def _eye_block(shape: tuple[int, int], k: int, dtype: Any) -> np.ndarray:
    return np.eye(shape[0], shape[1], k=k, dtype=dtype)


@implements(np.eye)
def eye(N: int, chunks: Any = "auto", M: int | None = None, k: int = 0, dtype: Any = float, *,
        name: str | None = None, order: str = "C", like: Any = None, device: Any = None) -> Any:
    """A 2-d array with ones on diagonal ``k``; mirrors ``numpy.eye`` with ``chunks=``.

    >>> eye(3, chunks=2, k=1).compute()
    array([[0., 1., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    M = N if M is None else M
    shape = _normalize_shape((N, M))
    dtype = np.dtype(float if dtype is None else dtype)
    chunks = normalize_chunks(chunks, shape, dtype=dtype)
    # A block starting at row r0, column c0 holds global diagonal k at local offset k + r0 - c0.
    return _from_block_function("eye", chunks, dtype, (k,), name=name,
                                make=lambda bshape, starts: (_eye_block, bshape, k + starts[0] - starts[1], dtype))


def _tri_block(shape: tuple[int, int], k: int, dtype: Any) -> np.ndarray:
    return np.tri(shape[0], shape[1], k=k, dtype=dtype)


@implements(np.tri)
def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = float, chunks: Any = "auto", *,
        name: str | None = None, like: Any = None) -> Any:
    """Ones at and below diagonal ``k``, zeros above; mirrors ``numpy.tri`` with ``chunks=``.

    >>> tri(3, chunks=2, dtype=int).compute()
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    M = N if M is None else M
    shape = _normalize_shape((N, M))
    dtype = np.dtype(float if dtype is None else dtype)
    chunks = normalize_chunks(chunks, shape, dtype=dtype)
    return _from_block_function("tri", chunks, dtype, (k,), name=name,
                                make=lambda bshape, starts: (_tri_block, bshape, k + starts[0] - starts[1], dtype))


def _triangle(m: Any, k: int, np_func: Callable[..., Any], prefix: str) -> Any:
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError(f"{prefix} needs an array with at least 2 dimensions, got shape {m.shape}.")
    _require_known(m, prefix)
    name = f"{prefix}-{tokenize(m, k)}"
    offsets = [chunk_offsets(c) for c in m.chunks[-2:]]
    layer = {}
    for index in product(*(range(n) for n in m.numblocks)):
        key = (name, *index)
        local_k = k + int(offsets[0][index[-2]]) - int(offsets[1][index[-1]])
        layer[key] = Task(key, np_func, Ref((m.name, *index)), local_k)
    return new_array(layer, name, m.chunks, m.dtype, deps=(m,), meta=m._meta)


@implements(np.tril)
def tril(m: Any, k: int = 0) -> Any:
    """The lower triangle of ``m`` (at and below diagonal ``k``); mirrors ``numpy.tril``.

    >>> import numpy as np, shoal.array as sa
    >>> tril(sa.from_array(np.ones((3, 3), int), chunks=2)).compute()
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    return _triangle(m, k, np.tril, "tril")


@implements(np.triu)
def triu(m: Any, k: int = 0) -> Any:
    """The upper triangle of ``m`` (at and above diagonal ``k``); mirrors ``numpy.triu``.

    >>> import numpy as np, shoal.array as sa
    >>> triu(sa.from_array(np.ones((3, 3), int), chunks=2), k=1).compute()
    array([[0, 1, 1],
           [0, 0, 1],
           [0, 0, 0]])
    """
    return _triangle(m, k, np.triu, "triu")


def _diagonal_piece(block: np.ndarray, offset: int, axis1: int, axis2: int, first: int, last: int) -> np.ndarray:
    return np.diagonal(block, offset, axis1, axis2)[..., first:last].copy()


@implements(np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal ``offset`` of the ``axis1``/``axis2`` planes; mirrors ``numpy.diagonal``.

    The diagonal becomes the last axis. Its chunks follow the blocks it crosses:
    a new block starts wherever it enters a new row or column block.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(16).reshape(4, 4), chunks=3)
    >>> d = diagonal(x, 1)
    >>> d.compute(), d.chunks
    (array([ 1,  6, 11]), ((2, 1),))
    """
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal needs an array with at least 2 dimensions, got shape {a.shape}.")
    ax1, ax2 = (_check_axis(ax, a.ndim, "diagonal") for ax in (axis1, axis2))
    if ax1 == ax2:
        raise ValueError(f"diagonal: axis1 and axis2 cannot be the same (both {ax1}).")
    _require_known(a, "diagonal")
    offset = int(offset)
    rows, cols = int(a.shape[ax1]), int(a.shape[ax2])
    row_start, col_start = max(0, -offset), max(0, offset)
    length = max(0, min(rows - row_start, cols - col_start))
    row_edges = [int(v) for v in (*chunk_offsets(a.chunks[ax1]), rows)]
    col_edges = [int(v) for v in (*chunk_offsets(a.chunks[ax2]), cols)]
    # Cut the diagonal wherever it crosses a row or a column block boundary.
    cuts = {0, length}
    cuts.update(e - row_start for e in row_edges if 0 < e - row_start < length)
    cuts.update(e - col_start for e in col_edges if 0 < e - col_start < length)
    bounds = sorted(cuts)
    pieces = list(zip(bounds[:-1], bounds[1:], strict=True))
    others = [d for d in range(a.ndim) if d not in (ax1, ax2)]
    name = f"diagonal-{tokenize(a, offset, ax1, ax2)}"
    layer: dict[Any, Any] = {}
    if not pieces:
        # An empty diagonal: one empty block per block of the other axes.
        pieces_chunks: tuple[int, ...] = (0,)
        for other_index in product(*(range(a.numblocks[d]) for d in others)):
            source = [0] * a.ndim
            for d, i in zip(others, other_index, strict=True):
                source[d] = i
            key = (name, *other_index, 0)
            layer[key] = Task(key, _diagonal_piece, Ref((a.name, *source)), offset, ax1, ax2, 0, 0)
    else:
        pieces_chunks = tuple(last - first for first, last in pieces)
        for other_index in product(*(range(a.numblocks[d]) for d in others)):
            for p, (first, last) in enumerate(pieces):
                bi = _find_block(row_edges, first + row_start)
                bj = _find_block(col_edges, first + col_start)
                r0, c0 = row_edges[bi], col_edges[bj]
                local = offset + r0 - c0
                skip = (first + row_start - r0) - max(0, -local)
                source = [0] * a.ndim
                source[ax1], source[ax2] = bi, bj
                for d, i in zip(others, other_index, strict=True):
                    source[d] = i
                key = (name, *other_index, p)
                layer[key] = Task(key, _diagonal_piece, Ref((a.name, *source)), local, ax1, ax2, skip,
                                  skip + last - first)
    chunks = (*(a.chunks[d] for d in others), pieces_chunks)
    return new_array(layer, name, chunks, a.dtype, deps=(a,))


def _find_block(edges: Sequence[int], position: int) -> int:
    """Index of the block (given its edges ``[0, ..., n]``) holding ``position``."""
    for i in range(len(edges) - 1):
        if edges[i] <= position < edges[i + 1]:
            return i
    raise IndexError(position)  # pragma: no cover - callers pass positions inside the array


def _diag_block(block: np.ndarray) -> np.ndarray:
    return np.diag(block)


def _zeros_block(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


@implements(np.diag)
def diag(v: Any, k: int = 0) -> Any:
    """Extract diagonal ``k`` of a 2-d array, or build a 2-d array with ``v`` on it; mirrors ``numpy.diag``.

    >>> import numpy as np, shoal.array as sa
    >>> diag(sa.from_array(np.array([1, 2, 3]), chunks=2)).compute()
    array([[1, 0, 0],
           [0, 2, 0],
           [0, 0, 3]])
    """
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1- or 2-d, got shape {v.shape}.")
    _require_known(v, "diag")
    k = int(k)
    pad = ((abs(k),) if k else ())
    # The diagonal blocks of v sit on the block diagonal of a grid with one extra
    # row of blocks (k > 0) or column of blocks (k < 0) of length |k|.
    row_chunks = (*v.chunks[0], *pad) if k >= 0 else (*pad, *v.chunks[0])
    col_chunks = (*pad, *v.chunks[0]) if k >= 0 else (*v.chunks[0], *pad)
    shift_rows, shift_cols = (0, 1 if k else 0) if k >= 0 else (1, 0)
    name = f"diag-{tokenize(v, k)}"
    layer = {}
    for i, rows in enumerate(row_chunks):
        for j, cols in enumerate(col_chunks):
            key = (name, i, j)
            block = i - shift_rows
            if block == j - shift_cols and 0 <= block < v.numblocks[0]:
                layer[key] = Task(key, _diag_block, Ref((v.name, block)))
            else:
                layer[key] = Task(key, _zeros_block, (int(rows), int(cols)), v.dtype)
    return new_array(layer, name, (row_chunks, col_chunks), v.dtype, deps=(v,))

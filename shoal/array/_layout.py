"""Small layout helpers shared by the routines and overlap families.

These are private stand-ins for operations that belong to other families
(``ravel``, ``concatenate``) reduced to the cases the routines need, so that
the routines do not depend on modules written in parallel with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._rechunk import common_chunks, rechunk
from shoal.graph.task import Alias, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["concat_along_axis", "need_known_chunks", "ravel_c_order", "rows_in_c_order"]


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def need_known_chunks(x: ArrayBase, axes: Sequence[int], what: str) -> None:
    """Raise a ValueError naming ``x.compute_chunk_sizes()`` if ``x`` has unknown chunks along ``axes``."""
    for axis in axes:
        if any(_is_nan(c) for c in x.chunks[axis]):
            raise ValueError(
                f"{what} needs the chunk sizes along axis {axis} of {x.name!r}, but they are unknown (nan) after an "
                f"operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
            )


def rows_in_c_order(x: ArrayBase) -> Any:
    """``x`` rechunked to one block along every axis but the first, so that blocks follow C order."""
    need_known_chunks(x, range(1, x.ndim), "this operation")
    if all(len(c) == 1 for c in x.chunks[1:]):
        return x
    return rechunk(x, (x.chunks[0], *((-1,) * (x.ndim - 1))))


def _reshape_flat(block: np.ndarray) -> np.ndarray:
    return block.reshape(-1)


def ravel_c_order(x: ArrayBase) -> Any:
    """The 1-d C-order flattening of ``x`` (``x`` itself if it is 1-d)."""
    if x.ndim == 1:
        return x
    rows = rows_in_c_order(x) if x.ndim else x
    inner = math.prod(int(s) for s in x.shape[1:])
    name = f"ravel-{tokenize(rows)}"
    layer = {}
    for j in range(rows.numblocks[0] if x.ndim else 1):
        index = (j, *(0,) * (x.ndim - 1)) if x.ndim else ()
        layer[(name, j)] = Task((name, j), _reshape_flat, Ref((rows.name, *index)))
    chunks = (tuple(c * inner for c in rows.chunks[0]),) if x.ndim else ((1,),)
    return new_array(layer, name, chunks, x.dtype, deps=(rows,))


def concat_along_axis(arrays: Sequence[ArrayBase], axis: int) -> Any:
    """Concatenate arrays with equal shapes off ``axis`` (their dtypes promoted as NumPy does)."""
    ndim = arrays[0].ndim
    dtype = np.result_type(*[a.dtype for a in arrays])
    arrays = [a if a.dtype == dtype else a.astype(dtype) for a in arrays]  # type: ignore[attr-defined]
    for a in arrays:
        if a.ndim != ndim or any(a.shape[d] != arrays[0].shape[d] for d in range(ndim) if d != axis):
            raise ValueError(f"Cannot join arrays of shapes {[a.shape for a in arrays]} along axis {axis}: the "
                             f"other dimensions must match.")
    target = [common_chunks([a.chunks[d] for a in arrays]) if d != axis else None for d in range(ndim)]
    aligned = []
    for a in arrays:
        wanted = tuple(a.chunks[d] if d == axis else target[d] for d in range(ndim))
        aligned.append(a if wanted == a.chunks else rechunk(a, wanted))
    name = f"concatenate-{tokenize(*aligned, axis)}"
    layer: dict[Any, Any] = {}
    along: list[Any] = []
    offset = 0
    for a in aligned:
        for index in product(*(range(n) for n in a.numblocks)):
            out = (*index[:axis], index[axis] + offset, *index[axis + 1:])
            layer[(name, *out)] = Alias((name, *out), (a.name, *index))
        offset += a.numblocks[axis]
        along.extend(a.chunks[axis])
    chunks = tuple(tuple(along) if d == axis else aligned[0].chunks[d] for d in range(ndim))
    return new_array(layer, name, chunks, dtype, deps=tuple(aligned), meta=aligned[0]._meta)

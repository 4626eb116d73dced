"""Rechunking: the same array cut into different blocks.

Every output block is assembled from the pieces of the input blocks it
overlaps: each piece is a slice of one input block, and the pieces are
concatenated along every axis. Each output block therefore reads only the
input blocks it needs, and the tasks are ordered so that an input block is
released as soon as the output blocks that use it are built.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate, product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import Chunks, normalize_chunks
from shoal.array._concatenate import concatenate_chunks  # np.concatenate drops masks, refuses sparse
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["common_chunks", "rechunk"]


def common_chunks(options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The coarsest chunks whose boundaries include every option's boundaries.

    >>> common_chunks([(2, 2, 2), (3, 3)])
    (2, 1, 1, 2)
    """
    first = tuple(options[0])
    if all(tuple(o) == first for o in options):
        return first
    totals = {sum(o) for o in options}
    if len(totals) != 1:
        if any(_isnan(c) for o in options for c in o):
            raise ValueError(
                f"Arrays along one dimension have chunks {list(options)}, some of unknown (nan) length, so they "
                f"cannot be lined up block by block. Call x.compute_chunk_sizes() on the arrays first."
            )
        raise ValueError(
            f"Arrays along one dimension have different lengths {sorted(totals)} (chunks {list(options)}); "
            f"they cannot be combined block by block. Check the shapes."
        )
    cuts = sorted({c for o in options for c in accumulate(o)})
    return tuple(b - a for a, b in zip([0, *cuts[:-1]], cuts, strict=True))


def _pieces(old: Sequence[int], new: Sequence[int]) -> list[list[tuple[int, slice]]]:
    """For each new block along one axis: the (old block, slice within it) pieces it is made of."""
    old_starts = [0, *accumulate(old)]
    out = []
    start = 0
    for length in new:
        stop = start + length
        pieces = []
        i = max(0, bisect_right(old_starts, start) - 1)
        pos = start
        while pos < stop:
            while i < len(old) and old_starts[i + 1] <= pos:
                i += 1
            block_start, block_stop = old_starts[i], old_starts[i + 1]
            take = min(stop, block_stop)
            pieces.append((i, slice(pos - block_start, take - block_start)))
            pos = take
        if length == 0:
            pieces.append((min(i, len(old) - 1), slice(0, 0)))
        out.append(pieces)
        start = stop
    return out


def _assemble(nested: Any, ndim: int, axis: int = 0) -> np.ndarray:
    if axis == ndim - 1:
        return nested[0] if len(nested) == 1 else concatenate_chunks(nested, axis)
    parts = [_assemble(n, ndim, axis + 1) for n in nested]
    return parts[0] if len(parts) == 1 else concatenate_chunks(parts, axis)


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _normalize_with_unknown(x: ArrayBase, chunks: Any, unknown: list[int], limit: Any) -> Chunks:
    """New chunks for an array whose ``unknown`` axes have nan lengths: those axes must stay as they are."""
    ndim = x.ndim
    if isinstance(chunks, dict):
        spec = [chunks.get(axis) for axis in range(ndim)]
    elif isinstance(chunks, (tuple, list)) and len(chunks) == ndim:
        spec = list(chunks)
    else:
        spec = [chunks] * ndim
    for axis in unknown:
        wanted = spec[axis]
        if wanted is None or wanted == x.chunks[axis] or (wanted == "auto" and not isinstance(chunks, dict)):
            continue
        raise ValueError(
            f"Cannot rechunk axis {axis} of {x.name!r} to {wanted!r}: its chunk sizes are unknown (nan) after an "
            f"operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
        )
    known = [axis for axis in range(ndim) if axis not in unknown]
    sub = normalize_chunks(tuple(spec[a] if spec[a] is not None else x.chunks[a] for a in known),
                           tuple(x.shape[a] for a in known), limit=limit, dtype=x.dtype,
                           previous_chunks=tuple(x.chunks[a] for a in known)) if known else ()
    out = list(x.chunks)
    for axis, c in zip(known, sub, strict=True):
        out[axis] = c
    return tuple(out)


def _nest(flat: list[Any], counts: list[int]) -> Any:
    """Cut a C-ordered flat list into nested lists with ``counts`` entries per level."""
    if len(counts) == 1:
        return flat
    step = len(flat) // counts[0]
    return [_nest(flat[i * step:(i + 1) * step], counts[1:]) for i in range(counts[0])]


def _take(block: np.ndarray, index: tuple[slice, ...]) -> np.ndarray:
    return block[index]


def rechunk(x: ArrayBase, chunks: Any = "auto", threshold: Any = None, block_size_limit: Any = None,
            balance: bool = False, method: str | None = None) -> Any:
    """Return ``x`` cut into new blocks.

    Parameters
    ----------
    x : Array
    chunks : tuple, int, dict or "auto"
        The new chunks, in any form :func:`normalize_chunks` accepts;
        ``None`` or a missing dict entry keeps an axis as it is.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=(1, 4))
    >>> y = rechunk(x, (3, 2))
    >>> y.chunks
    ((3,), (2, 2))
    >>> bool((y.compute() == np.arange(12).reshape(3, 4)).all())
    True
    """
    if isinstance(chunks, dict):
        chunks = {(k + x.ndim if k < 0 else k): v for k, v in chunks.items()}
        for axis in chunks:
            if not 0 <= axis < x.ndim:
                raise ValueError(f"rechunk: axis {axis} is out of range for an array with {x.ndim} dimensions.")
    unknown = [axis for axis, dim in enumerate(x.chunks) if any(_isnan(c) for c in dim)]
    new: Chunks = _normalize_with_unknown(x, chunks, unknown, block_size_limit) if unknown else normalize_chunks(
        chunks, x.shape, limit=block_size_limit, dtype=x.dtype, previous_chunks=x.chunks)
    if new == x.chunks:
        return x
    name = f"rechunk-{tokenize(x, new)}"
    # Per axis and new block: (old block index, slice, whether the slice is the whole old block).
    per_axis = [[[(i, slice(None), True)] for i in range(len(old))] if old == n else
                [[(i, sl, sl.start == 0 and sl.stop == old[i]) for i, sl in pieces] for pieces in _pieces(old, n)]
                for old, n in zip(x.chunks, new, strict=True)]
    ndim, xname = x.ndim, x.name
    layer = {}
    for out_index in product(*(range(len(n)) for n in new)):
        choices = [per_axis[axis][i] for axis, i in enumerate(out_index)]
        flat = []
        for combo in product(*choices):
            ref = Ref((xname, *(c[0] for c in combo)))
            flat.append(ref if all(c[2] for c in combo) else Task(None, _take, ref, tuple(c[1] for c in combo)))
        key = (name, *out_index)
        layer[key] = Task(key, _assemble, _nest(flat, [len(c) for c in choices]), ndim)
    return new_array(layer, name, new, x.dtype, deps=(x,), meta=x._meta)

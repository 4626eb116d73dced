"""Chunk specifications: turning what users write into one canonical form.

An array's chunks are a tuple with one entry per dimension, each entry the
tuple of block lengths along that dimension: a (10, 7) array cut in blocks of
4 has chunks ``((4, 4, 2), (4, 3))``. A length is ``nan`` when it is not
known until computed (after boolean indexing, for example).

Users may write chunks as that tuple, as one int for every dimension, as one
int or ``-1`` (the whole dimension) or ``None`` (keep the previous chunks)
or ``"auto"`` or a byte size per dimension, as a dict ``{axis: spec}``, or as
``"auto"`` or a byte size. ``"auto"`` picks square-ish blocks of at most the
``array.chunk-size`` setting; a byte size (``"100MiB"``) is ``"auto"`` with
that limit for the whole block, not a length per dimension, as in Dask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from shoal import config
from shoal.utils import parse_bytes

__all__ = ["Chunks", "blockdims_from_blockshape", "normalize_chunks", "slices_from_chunks", "chunk_offsets"]

Chunks = tuple[tuple[float, ...], ...]


def blockdims_from_blockshape(shape: Sequence[int], blockshape: Sequence[int]) -> Chunks:
    """Cut each dimension of ``shape`` in blocks of ``blockshape``.

    >>> blockdims_from_blockshape((10, 7), (4, 4))
    ((4, 4, 2), (4, 3))
    """
    out = []
    for dim, block in zip(shape, blockshape, strict=True):
        if block <= 0:
            raise ValueError(f"Chunk sizes must be positive, got {tuple(blockshape)} for shape {tuple(shape)}.")
        if dim == 0:
            out.append((0,))
            continue
        whole, rest = divmod(dim, block)
        out.append((block,) * whole + ((rest,) if rest else ()))
    return tuple(out)


def _auto_blocks(shape: Sequence[int], itemsize: int, fixed: dict[int, int], limit: int) -> dict[int, int]:
    """Block lengths for the "auto" dimensions: as square as the shape allows, at most ``limit`` bytes.

    Dask's rule (its ``auto_chunks`` without previous chunks), so the same call gives the same blocks:
    every auto dimension gets the same length ``side = (limit / itemsize / others) ** (1 / n)``,
    rounded down (at least 1), where ``others`` is the product of the fixed block lengths and ``n``
    the number of auto dimensions; a dimension shorter than ``side`` is taken whole, and ``side`` is
    worked out again for the rest. A block thus holds at most ``limit`` bytes unless one element
    times the fixed lengths alone is bigger.
    """
    auto = [i for i in range(len(shape)) if i not in fixed]
    # Products stay integers and are divided into the limit once, as Dask does, so ``side`` rounds the same.
    others = math.prod(max(int(length), 1) for length in fixed.values())
    sizes: dict[int, int] = {}
    while auto:
        side = (limit / itemsize / others) ** (1 / len(auto))
        whole = [i for i in auto if shape[i] < side]
        if not whole:
            for i in auto:
                sizes[i] = max(1, int(side))
            break
        for i in whole:
            sizes[i] = shape[i]
            others *= max(shape[i], 1)  # a zero-length dimension costs nothing
            auto.remove(i)
    return sizes


def normalize_chunks(
    chunks: Any,
    shape: Sequence[int] | None = None,
    limit: int | str | None = None,
    dtype: Any = None,
    previous_chunks: Chunks | None = None,
) -> Chunks:
    """Return chunks in canonical form: a tuple of tuples of block lengths.

    Parameters
    ----------
    chunks : tuple, int, dict, str
        The user's specification (see the module docstring).
    shape : tuple of int, optional
        The array's shape; needed for every form but explicit tuples of tuples.
    limit : int or str, optional
        Bytes per block for ``"auto"``; defaults to the byte size written in ``chunks``, if
        any, else the ``array.chunk-size`` setting.
    dtype : dtype, optional
        Needed for ``"auto"``.
    previous_chunks : chunks, optional
        What ``None`` entries keep.

    Examples
    --------
    >>> normalize_chunks((2, 3), shape=(5, 6))
    ((2, 2, 1), (3, 3))
    >>> normalize_chunks(-1, shape=(5, 6))
    ((5,), (6,))
    >>> normalize_chunks({0: 2}, shape=(4, 3))
    ((2, 2), (3,))
    >>> normalize_chunks(((2, 3), (6,)))
    ((2, 3), (6,))
    >>> normalize_chunks("1MiB", shape=(1000, 1000), dtype="f8")  # 362 * 362 * 8 bytes <= 1 MiB
    ((362, 362, 276), (362, 362, 276))
    >>> normalize_chunks("auto", shape=(1000, 1000), dtype="f8", limit="80 kB")
    ((100, 100, 100, 100, 100, 100, 100, 100, 100, 100), (100, 100, 100, 100, 100, 100, 100, 100, 100, 100))
    """
    if shape is not None:
        shape = tuple(int(s) if not (isinstance(s, float) and math.isnan(s)) else s for s in shape)
    if isinstance(chunks, list):
        chunks = tuple(chunks)
    if chunks == () and not shape:
        return ()  # a 0-d array has no dimensions to cut
    # Already explicit: a tuple of tuples.
    if isinstance(chunks, tuple) and chunks and all(isinstance(c, tuple | list) for c in chunks):
        result = tuple(tuple(c) for c in chunks)
        if shape is not None:
            _check_sums(result, shape)
        return result
    if shape is None:
        raise ValueError(f"chunks={chunks!r} needs the array's shape to be resolved.")
    ndim = len(shape)
    if isinstance(chunks, dict):
        chunks = tuple(chunks.get(i, chunks.get(i - ndim, None if previous_chunks else -1)) for i in range(ndim))
    if isinstance(chunks, int | np.integer | str) or chunks is None:
        chunks = (chunks,) * ndim
    if not isinstance(chunks, tuple):
        raise ValueError(f"chunks={chunks!r} is not a chunk specification; use e.g. chunks=(1000, 1000) or 'auto'.")
    if len(chunks) != ndim:
        raise ValueError(
            f"chunks={chunks!r} has {len(chunks)} entries but the array has {ndim} dimensions (shape {shape}). "
            f"Give one entry per dimension."
        )
    limit = _byte_limit(chunks, limit)
    resolved: list[Any] = []
    fixed: dict[int, int] = {}
    for i, spec in enumerate(chunks):
        if spec is None:
            if previous_chunks is None:
                spec = -1
            else:
                resolved.append(tuple(previous_chunks[i]))
                fixed[i] = int(max(previous_chunks[i])) if previous_chunks[i] else 1
                continue
        if isinstance(spec, str):
            spec = "auto"  # a byte size is "auto" sized to that many bytes a block (the limit set above)
        if spec == -1:
            spec = shape[i]
        if isinstance(spec, tuple | list):
            resolved.append(tuple(spec))
            fixed[i] = int(max(spec)) if spec else 1
        elif spec == "auto":
            resolved.append("auto")
        else:
            spec = int(spec)
            if spec <= 0 and shape[i] > 0:
                raise ValueError(
                    f"Chunk length {spec} in chunks={chunks!r} must be positive (or -1 for a whole dimension).")
            resolved.append(spec)
            fixed[i] = spec
    if any(r == "auto" for r in resolved):
        if dtype is None:
            raise ValueError(f"chunks={chunks!r} sizes blocks in bytes, which needs the dtype; pass dtype=.")
        nbytes = limit if limit is not None else parse_bytes(config.get("array.chunk-size", "128MiB"))
        itemsize = np.dtype(dtype).itemsize if np.dtype(dtype).itemsize else 8
        sizes = _auto_blocks(shape, itemsize, fixed, max(1, nbytes))
        resolved = [sizes[i] if r == "auto" else r for i, r in enumerate(resolved)]
    out = []
    for i, spec in enumerate(resolved):
        if isinstance(spec, tuple):
            out.append(spec)
        else:
            out.append(blockdims_from_blockshape((shape[i],), (max(spec, 1),))[0])
    result = tuple(out)
    _check_sums(result, shape)
    return result


def _byte_limit(chunks: tuple[Any, ...], limit: int | str | None) -> int | None:
    """The block size in bytes: ``limit``, or the byte size written in ``chunks`` ("1MiB" or ("1MiB", -1))."""
    limit = parse_bytes(limit) if isinstance(limit, str) else limit
    for spec in chunks:
        if not isinstance(spec, str) or spec == "auto":
            continue
        try:
            size = parse_bytes(spec)
        except ValueError as exc:
            raise ValueError(
                f"chunks={chunks!r}: {spec!r} is neither 'auto' nor a byte size; write sizes as '100MiB' or "
                f"'1 GB', or give block lengths as integers.") from exc
        if limit is None:
            limit = size
        elif size != limit:
            raise ValueError(
                f"chunks={chunks!r} asks for blocks of {size} bytes, but the block size is already {limit} "
                f"bytes (from another entry or limit=); a block has one size in bytes, so give the same one "
                f"everywhere, or block lengths as integers.")
    return limit


def _check_sums(chunks: Chunks, shape: Sequence[Any]) -> None:
    if len(chunks) != len(shape):
        raise ValueError(
            f"Chunks {chunks} have {len(chunks)} dimensions but the shape {tuple(shape)} has {len(shape)}.")
    for axis, (c, s) in enumerate(zip(chunks, shape, strict=True)):
        if any(isinstance(v, float) and math.isnan(v) for v in c) or (isinstance(s, float) and math.isnan(s)):
            continue
        if sum(c) != s:
            raise ValueError(
                f"Chunks {c} along axis {axis} add up to {sum(c)}, but the array is {s} long there "
                f"(shape {tuple(shape)}). Give chunks that add up to the shape."
            )


def chunk_offsets(chunks_1d: Sequence[float]) -> list[float]:
    """Start offset of every block along one dimension.

    >>> chunk_offsets((3, 3, 2))
    [0, 3, 6]
    """
    return [0, *accumulate(chunks_1d)][:-1]


def slices_from_chunks(chunks: Chunks) -> list[tuple[slice, ...]]:
    """The slice of the whole array each block covers, in C order of blocks.

    >>> slices_from_chunks(((2, 2), (3,)))
    [(slice(0, 2, None), slice(0, 3, None)), (slice(2, 4, None), slice(0, 3, None))]
    """
    per_dim = [
        [slice(int(start), int(start + length)) for start, length in zip(chunk_offsets(c), c, strict=True)]
        for c in chunks
    ]
    out: list[tuple[slice, ...]] = [()]
    for dim in per_dim:
        out = [prefix + (s,) for prefix in out for s in dim]
    return out

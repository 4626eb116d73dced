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
that limit for the whole block, not a length per dimension, as in Dask. Given
the chunks the array had before (``rechunk``, or a zarr/h5py source),
``"auto"`` grows blocks by joining the old ones, as Dask does, so that old
boundaries stay boundaries (:func:`_auto_from_previous`).
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


def _round_to(length: float, ideal: int) -> int:
    """``length`` as a block length that fits ``ideal``: a multiple of it when bigger, else rounded down."""
    if length <= ideal:
        return max(1, int(length))
    return int(length // ideal * ideal)


def _merge_previous(previous: Sequence[int], target: float) -> tuple[int, ...]:
    """Join neighbouring previous blocks while the joined length stays at most ``target``."""
    out: list[int] = []
    run = 0
    for length in previous:
        if run + length <= target:
            run += length
            continue
        if run:
            out.append(run)
        run = length
    if run:
        out.append(run)
    return tuple(out)


def _auto_from_previous(shape: Sequence[int], itemsize: int, fixed: dict[int, int], limit: int,
                        previous: Chunks) -> dict[int, Any]:
    """Block lengths (or whole tuples of them) for the "auto" dimensions, inspired by the previous chunks.

    Dask's rule (its ``auto_chunks`` with previous chunks), so that ``rechunk("auto")`` gives the same
    blocks: start from the median previous block length of every auto dimension and scale all of them
    by the same factor, ``(limit / bytes of the current block) ** (1 / n)``. A dimension that would
    outgrow the array is taken whole; one whose previous blocks all fit in the scaled length (give or
    take the ``array.chunk-size-tolerance`` factor) joins neighbouring previous blocks, so that old
    boundaries stay boundaries; otherwise (and whenever blocks must shrink) it gets a uniform length,
    a multiple or a fraction of the most common previous length. When a dimension is settled the
    factor is worked out again for the rest. While shrinking, the lengths just chosen become the ones
    that are scaled next, until the factor stops changing.
    """
    tolerance = float(config.get("array.chunk-size-tolerance", 1.25))
    auto = sorted(i for i in range(len(shape)) if i not in fixed)
    current: dict[int, Any] = {i: float(np.median(previous[i])) for i in auto}
    others = math.prod(max(int(length), 1) for length in fixed.values())

    def factor() -> float:
        # Divided in this order, as Dask does, so the factor rounds the same and the loop stops alike.
        scale = math.prod(max(v) if isinstance(v, tuple) else v for v in current.values() if v)
        return limit / itemsize / others / scale

    ideal = {}
    for i in auto:
        counts: dict[int, int] = {}
        for length in previous[i]:
            counts[length] = counts.get(length, 0) + 1
        mode = max(counts.items(), key=lambda kv: kv[1]) if counts else (0, 0)
        ideal[i] = mode[0] if mode[0] > 1 and mode[1] >= len(previous[i]) / 2 else shape[i]
    multiplier = factor()
    shrinking = multiplier < 1
    # Shrinking rescales the lengths chosen so far, so those are the ones the factor is computed from.
    result: dict[int, Any] = current if shrinking else {}
    for _ in range(100):  # converges in a few rounds; the bound only guards against float ping-pong
        active = len(auto)
        again = False
        for i in list(auto):
            target = current[i] * multiplier ** (1 / active)
            if target > shape[i]:
                auto.remove(i)
                del current[i]
                others *= max(shape[i], 1)
                result[i] = (shape[i],)
                again = True
            elif shrinking or max(previous[i]) > target * tolerance ** (1 / active):
                result[i] = _round_to(target, ideal[i])
                if target < 1:
                    auto.remove(i)
                    again = True
            else:
                result[i] = _merge_previous(previous[i], target) or (shape[i],)  # () only for length 0
        if again or shrinking:
            last, multiplier = multiplier, factor()
            again = again or multiplier != last
        if not again:
            break
    return result


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
        The chunks the array had before (block lengths, or a zarr/h5py chunk shape): what ``None``
        entries keep, and what ``"auto"`` dimensions grow from (see :func:`_auto_from_previous`).

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
    >>> normalize_chunks("1MiB", shape=(1000, 1000), dtype="f8", previous_chunks=(100, 100))  # joins 100s
    ((300, 300, 300, 100), (300, 300, 300, 100))
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
        previous = _previous_lengths(previous_chunks, shape)
        if previous:
            sizes = _auto_from_previous(shape, itemsize, fixed, max(1, nbytes), previous)
        else:
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


def _previous_lengths(previous: Any, shape: Sequence[Any]) -> Chunks | None:
    """``previous_chunks`` as block lengths per dimension (a zarr/h5py chunk shape is cut out of ``shape``)."""
    if not previous or len(previous) != len(shape):
        return None
    out = []
    for dim, entry in zip(shape, previous, strict=True):
        if isinstance(entry, tuple | list):
            lengths = tuple(entry)
            if not lengths:
                return None
        elif isinstance(entry, int | np.integer) and entry > 0:
            lengths = blockdims_from_blockshape((dim,), (int(entry),))[0]
        else:
            return None
        if any(isinstance(n, float) and math.isnan(n) for n in (*lengths, dim)):
            raise ValueError(
                "chunks='auto' cannot be sized from previous chunks of unknown (nan) length; call "
                "x.compute_chunk_sizes() first, or give block lengths as integers.")
        out.append(tuple(int(n) for n in lengths))
    return tuple(out)


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

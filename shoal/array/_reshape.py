"""Reshape: a block of the output must be one block of the input, reshaped.

Input dimensions are split into *groups* whose lengths multiply to the same
product as a group of output dimensions (``(4, 6, 5) -> (24, 5)`` has groups
``(4, 6) -> (24,)`` and ``(5,) -> (5,)``).

- *Merging* dimensions ``d1..dm`` into one: a block covers a contiguous run of
  the merged dimension only if, for some ``j``, the dimensions after ``dj``
  are whole (one block) and those before it have blocks of length 1. If the
  input is not cut like that it is rechunked, choosing ``j`` so that blocks
  keep about the size they had.
- *Splitting* one dimension into ``o1..ok``: the same rule, read from the
  output's side, says which cuts of the input dimension are allowed; the
  input is rechunked to the nearest allowed cuts.

A group that both merges and splits (``(4, 6) -> (3, 8)``) merges first and
splits second; each step is a rechunk (only if needed) plus one reshape per block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from numbers import Integral
from typing import Any

import numpy as np

from shoal import config
from shoal.array._base import ArrayBase
from shoal.array._blockmap import (
    as_array,
    map_each_block,
    require_known,
)
from shoal.array._chunks import normalize_chunks
from shoal.array._dispatch import implements
from shoal.array._rechunk import rechunk
from shoal.array._transpose import transpose
from shoal.utils import parse_bytes

__all__ = ["flatten", "ravel", "reshape"]


def _format_shape(shape: Sequence[Any]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _normalize_shape(shape: Any, x: ArrayBase) -> tuple[int, ...]:
    shape_t = (shape,) if isinstance(shape, Integral) else tuple(shape)
    for s in shape_t:
        if not isinstance(s, Integral):
            raise TypeError(f"reshape: the new shape must hold integers, got {shape!r}.")
    shape_t = tuple(int(s) for s in shape_t)
    unknown = [i for i, s in enumerate(shape_t) if s < 0]
    size = math.prod(x.shape)
    if len(unknown) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension (-1), got shape {shape!r}.")
    known = math.prod(s for s in shape_t if s >= 0)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(
                f"cannot reshape array of size {size} (shape {_format_shape(x.shape)}) into shape "
                f"{_format_shape(shape_t)}: no length for the -1 entry makes the sizes match."
            )
        shape_t = tuple(size // known if s < 0 else s for s in shape_t)
    elif known != size:
        raise ValueError(
            f"cannot reshape array of size {size} (shape {_format_shape(x.shape)}) into shape "
            f"{_format_shape(shape_t)} of size {known}; the new shape must hold the same number of elements."
        )
    return shape_t


def _groups(ins: Sequence[int], outs: Sequence[int]) -> list[tuple[list[int], list[int]]]:
    """Pair runs of input and output dimensions with equal products (all lengths > 0)."""
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(ins) and j < len(outs):
        gi, go = [i], [j]
        pi, po = ins[i], outs[j]
        i, j = i + 1, j + 1
        while pi != po:
            if pi < po:
                gi.append(i)
                pi *= ins[i]
                i += 1
            else:
                go.append(j)
                po *= outs[j]
                j += 1
        groups.append((gi, go))
    # What is left on either side is length-1 dimensions: attach them to the last group.
    if not groups:
        groups.append(([], []))
    groups[-1][0].extend(range(i, len(ins)))
    groups[-1][1].extend(range(j, len(outs)))
    return groups


def _merge_plan(chunks: list[tuple[int, ...]], lengths: list[int], target: int, merge_chunks: bool
                ) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """Input chunks for dimensions merged into one, and the merged dimension's chunks."""
    m = len(lengths)
    j = None
    for candidate in range(m):
        if all(len(chunks[d]) == 1 for d in range(candidate + 1, m)) and all(
                max(chunks[d]) == 1 for d in range(candidate)):
            j = candidate
            break
    new = list(chunks)
    if j is None:
        if merge_chunks:
            j = next(c for c in range(m) if math.prod(lengths[c + 1:]) <= target)
        else:
            j = m - 1
        step = max(1, min(lengths[j], target // math.prod(lengths[j + 1:])))
        for d in range(m):
            if d < j:
                new[d] = (1,) * lengths[d]
            elif d > j:
                new[d] = (lengths[d],)
        # Rechunking anyway: give dimension j blocks of the target length, not its old (maybe tiny) ones.
        new[j] = normalize_chunks(step, (lengths[j],))[0]
    inner = math.prod(lengths[j + 1:])
    merged = tuple(c * inner for c in new[j]) * math.prod(lengths[:j])
    return new, merged


def _split_plan(chunks: tuple[int, ...], lengths: list[int], target: int
                ) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """New chunks of one dimension split into ``lengths``, and the output dimensions' chunks."""
    inner = [math.prod(lengths[j + 1:]) for j in range(len(lengths))]
    j = next(c for c in range(len(lengths)) if inner[c] <= target)
    row = lengths[j] * inner[j]
    # Where the existing cuts fall within a row, in units of the whole dimensions after j.
    cuts = {(p % row) // inner[j] for p in accumulate(chunks[:-1])} - {0}
    step = max(1, min(lengths[j], target // inner[j]))
    if len(cuts) + 1 > 2 * math.ceil(lengths[j] / step):
        cuts = set(range(step, lengths[j], step))  # the existing cuts would make tiny blocks; cut regularly
    edges = [0, *sorted(cuts), lengths[j]]
    # Rounding cuts down to whole rows of the inner dimensions merged some blocks; cut those that grew too long.
    edges = sorted({*edges, *(e for a, b in zip(edges, edges[1:], strict=False) for e in range(a + step, b, step))})
    along = tuple(b - a for a, b in zip(edges, edges[1:], strict=False))
    out = [(1,) * lengths[d] if d < j else along if d == j else (lengths[d],) for d in range(len(lengths))]
    return tuple(c * inner[j] for c in along) * (math.prod(lengths) // row), out


def _reshape_by_groups(x: ArrayBase, out_chunks: list[tuple[int, ...]], groups: list[tuple[list[int], list[int]]]
                       ) -> Any:
    """Reshape every block; within each group, output and input blocks correspond in C order."""
    numblocks_in = x.numblocks
    numblocks_out = tuple(len(c) for c in out_chunks)

    def source(index: tuple[int, ...]) -> tuple[int, ...]:
        in_index = [0] * x.ndim
        for gi, go in groups:
            flat = 0
            for d in go:  # C-order position of the block within the group
                flat = flat * numblocks_out[d] + index[d]
            for d in reversed(gi):
                flat, in_index[d] = divmod(flat, numblocks_in[d])
        return tuple(in_index)

    def block_args(index: tuple[int, ...]) -> tuple[Any, ...]:
        return (tuple(int(c[i]) for c, i in zip(out_chunks, index, strict=True)),)

    return map_each_block(x, np.reshape, out_chunks, "reshape", source=source, block_args=block_args,
                          layout=groups)


def _as_tuple(shape: Any) -> Any:
    return tuple(shape) if isinstance(shape, tuple | list) else (shape,)


@implements(np.reshape)
def _np_reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Any:
    return reshape(a, shape if shape is not None else newshape, order=order)


def _check_order(order: str, what: str) -> str:
    # Lazy arrays have no memory layout of their own: "A" and "K" read them in C order, as NumPy does for
    # a C-contiguous array.
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"{what}: order must be one of 'C', 'F', 'A' or 'K', got {order!r}.")
    return "F" if order == "F" else "C"


def reshape(x: Any, shape: Any, merge_chunks: bool = True, limit: int | str | None = None, order: str = "C") -> Any:
    """Give an array a new shape without changing its data; mirrors ``numpy.reshape``.

    ``order="F"`` reads and writes elements with the first index changing
    fastest: it is the C-order reshape of the transposed array, transposed
    back, so it costs the same rechunking as a C-order reshape.

    Blocks are reshaped one by one; where the input's blocks do not line up
    with blocks of the new shape, the input is rechunked first (see the
    module docstring).

    Parameters
    ----------
    x : Array
    shape : int or tuple of ints
        The new shape; one entry may be -1 (inferred).
    merge_chunks : bool
        When dimensions are merged and the input must be rechunked, prefer
        whole trailing dimensions (True) or blocks of length 1 along the
        leading ones (False, never makes blocks bigger).
    limit : int or str, optional
        Largest block, in bytes, a rechunk may produce; default: the
        input's largest block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(24).reshape(4, 6), chunks=(2, 6))
    >>> y = reshape(x, (2, 12))
    >>> y.chunks
    ((1, 1), (12,))
    >>> bool((y.compute() == np.arange(24).reshape(2, 12)).all())
    True
    >>> reshape(x, (8, -1)).shape
    (8, 3)
    >>> bool((reshape(x, (3, 8), order="F").compute() == np.arange(24).reshape(4, 6).reshape((3, 8), order="F")).all())
    True
    """
    x = as_array(x)
    if _check_order(order, "reshape") == "F":
        require_known(x, range(x.ndim), "reshape(order='F')")
        shape = _normalize_shape(shape, x)
        out = reshape(transpose(x) if x.ndim > 1 else x, shape[::-1], merge_chunks=merge_chunks, limit=limit)
        return transpose(out) if out.ndim > 1 else out
    if x.ndim == 1 and _as_tuple(shape) in ((-1,), tuple(x.shape)):
        return x  # nothing to do, even when the length is unknown (nan)
    if any(isinstance(s, float) and math.isnan(s) for s in x.shape):
        require_known(x, range(x.ndim), "reshape")
    shape = _normalize_shape(shape, x)
    if shape == tuple(x.shape):
        return x
    if math.prod(shape) == 0 or x.npartitions == 1:
        single = rechunk(x, tuple((int(s),) for s in x.shape)) if x.npartitions > 1 else x
        return map_each_block(single, np.reshape, tuple((s,) for s in shape), "reshape", args=(shape,),
                              source=lambda index: (0,) * x.ndim, layout="single")
    groups = _groups(tuple(x.shape), shape)
    largest = [int(max(c)) for c in x.chunks]
    limit_items = None
    if limit is not None:
        limit_items = max(1, (parse_bytes(limit) if isinstance(limit, str) else int(limit)) // x.itemsize)

    def group_target(dims: list[int], grow: bool = True) -> int:
        # The length of the largest block's run through the group; with limit=, what the bytes allow.
        # Without limit=, blocks may grow up to the array.chunk-size setting, as in Dask: keeping them
        # as small as tiny input blocks would cut every row into thousands of slivers.
        target = math.prod(largest[d] for d in dims)
        others = max(1, math.prod(largest[d] for d in range(x.ndim) if d not in dims))
        if limit_items is not None:
            return min(target, max(1, limit_items // others))
        if not grow:
            return target
        setting = parse_bytes(config.get("array.chunk-size", "128MiB")) // max(x.itemsize, 1)
        return max(target, setting // others)

    # Step 1: merge each group's input dimensions into one.
    in_chunks: list[Any] = list(x.chunks)
    mid_chunks: list[tuple[int, ...]] = []
    for gi, _ in groups:
        if len(gi) == 1:
            mid_chunks.append(x.chunks[gi[0]])
            continue
        new, merged = _merge_plan([x.chunks[d] for d in gi], [int(x.shape[d]) for d in gi], group_target(gi),
                                    merge_chunks)
        for d, c in zip(gi, new, strict=True):
            in_chunks[d] = c
        mid_chunks.append(merged)
    mid = x
    if any(len(gi) != 1 for gi, _ in groups):
        mid = _reshape_by_groups(rechunk(x, tuple(in_chunks)), mid_chunks,
                                 [(gi, [g]) for g, (gi, _) in enumerate(groups)])

    # Step 2: split each merged dimension into the group's output dimensions.
    if all(len(go) == 1 for _, go in groups):
        return mid
    new_mid: list[tuple[int, ...]] = []
    out_chunks: list[tuple[int, ...]] = []
    for g, (gi, go) in enumerate(groups):
        if len(go) == 1:
            new_mid.append(mid.chunks[g])
            out_chunks.append(mid.chunks[g])
            continue
        flat, outs = _split_plan(mid.chunks[g], [shape[d] for d in go], group_target(gi, grow=False))
        new_mid.append(flat)
        out_chunks.extend(outs)
    return _reshape_by_groups(rechunk(mid, tuple(new_mid)), out_chunks,
                              [([g], go) for g, (_, go) in enumerate(groups)])


@implements(np.ravel)
def ravel(array_like: Any, order: str = "C") -> Any:
    """The array as one dimension; mirrors ``numpy.ravel``.

    >>> import numpy as np, shoal.array as sa
    >>> ravel(sa.from_array(np.arange(6).reshape(2, 3), chunks=1)).compute()
    array([0, 1, 2, 3, 4, 5])
    >>> ravel(sa.from_array(np.arange(6).reshape(2, 3), chunks=1), order="F").compute()
    array([0, 3, 1, 4, 2, 5])
    """
    x = as_array(array_like)
    if _check_order(order, "ravel") == "F":
        return ravel(transpose(x)) if x.ndim > 1 else x
    if x.ndim > 1 and _unknown_rows_only(x):
        # Rows of unknown count still flatten block by block once every other axis is one block.
        rows = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
        inner = math.prod(int(s) for s in x.shape[1:])
        return map_each_block(rows, np.reshape, (tuple(c * inner for c in rows.chunks[0]),), "ravel",
                              source=lambda index: (index[0], *(0,) * (x.ndim - 1)), args=(-1,), layout="rows")
    return reshape(x, (-1,))


def _unknown_rows_only(x: Any) -> bool:
    def unknown(dim: tuple[Any, ...]) -> bool:
        return any(isinstance(c, float) and math.isnan(c) for c in dim)

    return unknown(x.chunks[0]) and not any(unknown(d) for d in x.chunks[1:])


flatten = ravel

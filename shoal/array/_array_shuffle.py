"""``shuffle``: reorder one axis by groups of positions, each group kept inside one block.

Mirrors ``dask.array.shuffle`` / ``Array.shuffle``. The result equals
``np.take(x, np.concatenate(indexer), axis)``; what the groups add is the
block layout along ``axis``:

- **Packing.** Groups are laid out in indexer order and packed greedily into
  blocks: a block takes the next group while its length stays within
  ``limit = mean input block length * tolerance`` (config
  ``array.chunk-size-tolerance``, default 1.25, as in Dask). A group is never
  cut; a group longer than ``limit`` gets a block of its own.
- **Splitting the other axes** (``chunks="auto"``). When such a long group
  makes a block more than ``limit`` long, the blocks would grow by
  ``factor = longest block / mean input block``. To keep their size, the
  other axes whose blocks can be cut are each cut ``s`` times finer, the
  smallest ``s`` with ``s ** (number of those axes) >= factor``. Blocks are
  only ever split, never merged with neighbours, so every output block reads
  a slice of the input blocks of one row.

Each output block is one task: it takes the positions it needs from each input
block it touches (one ``take`` per input block), joins them, and restores the
indexer order with one more ``take`` when the pieces came from several blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal import config
from shoal.array._base import new_array
from shoal.array._blockmap import normalize_axis_index, require_known
from shoal.array._from_array import asarray
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["ShuffleMethods", "shuffle"]


def _groups(indexer: Any, length: int, axis: int) -> list[np.ndarray]:
    """The groups as int arrays of non-negative positions, checked against ``length``."""
    if isinstance(indexer, np.ndarray | str) or not isinstance(indexer, Sequence):
        raise TypeError(
            f"shuffle: indexer must be a list of groups (lists of positions), e.g. [[2, 0], [1]], got "
            f"{type(indexer).__name__}."
        )
    out = []
    for number, group in enumerate(indexer):
        if isinstance(group, Integral | str) or not hasattr(group, "__len__"):
            raise TypeError(
                f"shuffle: group {number} of the indexer is {group!r}, not a list of positions. Wrap single "
                f"positions in a list: [[{group!r}], ...]."
            )
        positions = np.asarray(group)
        if positions.size == 0:
            out.append(np.empty(0, dtype=np.intp))
            continue
        if positions.ndim != 1 or positions.dtype.kind not in "iu":
            raise TypeError(f"shuffle: group {number} of the indexer must be a flat list of integer positions, "
                            f"got {group!r}.")
        bad = positions[(positions >= length) | (positions < -length)]
        if bad.size:
            raise IndexError(
                f"shuffle: group {number} of the indexer holds position {int(bad[0])}, but axis {axis} has only "
                f"{length} elements (valid positions are {-length} to {length - 1})."
            )
        out.append(positions.astype(np.intp) % length)
    return out


def _pack(lengths: list[int], limit: int) -> list[int]:
    """Group counts per block: pack consecutive group lengths greedily while a block stays within ``limit``."""
    blocks: list[int] = []
    current = count = 0
    for length in lengths:
        if count and current + length > limit:
            blocks.append(count)
            current = count = 0
        current += length
        count += 1
    if count:
        blocks.append(count)
    return blocks


def _split(length: int, pieces: int) -> tuple[int, ...]:
    base, extra = divmod(length, pieces)
    return (base + 1,) * extra + (base,) * (pieces - extra)


def _finer_chunks(chunks: tuple[tuple[Any, ...], ...], axis: int,
                  factor: float) -> tuple[list[tuple[Any, ...]], list[list[tuple[int, slice]]]]:
    """Cut the other axes' blocks so that a block ``factor`` times longer along ``axis`` keeps its size.

    Returns the new chunks and, per axis, each new block's origin: the old block it is cut from and the
    slice within it (``axis`` itself is left to the caller).
    """
    cuttable = [d for d, c in enumerate(chunks)
                if d != axis and c and not any(math.isnan(v) for v in c) and max(c) > 1] if factor > 1 else []
    times = 1
    while cuttable and times ** len(cuttable) < factor:
        times += 1
    out, origins = list(chunks), []
    for d, old in enumerate(chunks):
        if d not in cuttable:
            origins.append([(i, slice(None)) for i in range(len(old))])
            continue
        target = max(1, math.ceil(max(old) / times))
        new, where = [], []
        for i, c in enumerate(old):
            start = 0
            for piece in _split(c, max(1, math.ceil(c / target))):
                new.append(piece)
                where.append((i, slice(start, start + piece)))
                start += piece
        out[d] = tuple(new)
        origins.append(where)
    return out, origins


def _gather_block(blocks: list[Any], where: tuple[slice, ...], positions: list[np.ndarray], order: Any,
                  axis: int) -> Any:
    pieces = [np.take(block[where], p, axis=axis) for block, p in zip(blocks, positions, strict=True)]
    joined = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=axis)
    return joined if order is None else np.take(joined, order, axis=axis)


def shuffle(x: Any, indexer: list[list[int]], axis: int, chunks: str = "auto") -> Any:
    """Reorder ``axis`` of ``x`` by groups of positions; each group ends up inside one block.

    Parameters
    ----------
    x : Array or array_like
    indexer : list of lists of int
        Groups of positions along ``axis``. The result holds the groups one after another, in this order;
        a position may appear in several groups, or in none.
    axis : int
        The axis to reorder.
    chunks : "auto"
        How to keep blocks from growing when a group is longer than a block: ``"auto"`` (the only choice,
        as in Dask) cuts the blocks of the other axes finer; see the module docstring.

    Returns
    -------
    Array
        ``np.take(x, np.concatenate(indexer), axis)``, with blocks along ``axis`` made of whole groups.

    Raises
    ------
    IndexError
        If a position is out of range for the axis.

    Notes
    -----
    Mirrors ``dask.array.shuffle``
    (https://docs.dask.org/en/stable/generated/dask.array.shuffle.html). Differences: negative positions
    count from the end, as in ``np.take``; empty groups are allowed and take no room.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> arr = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]])
    >>> y = shuffle(sa.from_array(arr, chunks=(2, 4)), [[6, 5, 2], [4, 1], [3, 0, 7]], axis=1)
    >>> y.chunks
    ((2,), (5, 3))
    >>> y.compute()
    array([[ 7,  6,  3,  5,  2,  4,  1,  8],
           [15, 14, 11, 13, 10, 12,  9, 16]])
    """
    x = asarray(x)
    axis = normalize_axis_index(axis, x.ndim, "shuffle")
    if chunks != "auto":
        raise ValueError(f"shuffle: chunks must be 'auto' (the only rechunking strategy), got {chunks!r}.")
    require_known(x, [axis], "shuffle")
    length = int(sum(x.chunks[axis]))
    groups = _groups(indexer, length, axis)
    tolerance = float(config.get("array.chunk-size-tolerance", 1.25))
    mean = length / max(len(x.chunks[axis]), 1)
    limit = max(1, int(mean * tolerance))
    counts = _pack([len(g) for g in groups], limit)
    wanted: list[np.ndarray] = []
    start = 0
    for count in counts:
        wanted.append(np.concatenate(groups[start:start + count]))
        start += count
    wanted = [w for w in wanted if w.size] or [np.empty(0, dtype=np.intp)]
    axis_chunks = tuple(int(w.size) for w in wanted)
    # Blocks within the limit need no cut elsewhere; past it they would grow by this factor.
    factor = max(axis_chunks) / mean if max(axis_chunks) > limit else 1.0
    out_chunks, origins = _finer_chunks(x.chunks, axis, factor)
    out_chunks[axis] = axis_chunks

    bounds = np.cumsum([0, *x.chunks[axis]])
    name = f"shuffle-{tokenize(x, [g.tolist() for g in groups], axis, tolerance)}"
    layer: dict[Any, Any] = {}
    plans = [_plan(w, bounds) for w in wanted]
    for index in product(*(range(len(c)) for c in out_chunks)):
        sources, positions, order = plans[index[axis]]
        where = tuple(slice(None) if d == axis else origins[d][i][1] for d, i in enumerate(index))
        refs = [Ref((x.name, *(b if d == axis else origins[d][i][0] for d, i in enumerate(index))))
                for b in sources]
        key = (name, *index)
        layer[key] = Task(key, _gather_block, refs, where, positions, order, axis)
    return new_array(layer, name, tuple(out_chunks), x.dtype, deps=(x,), meta=x._meta)


def _plan(wanted: np.ndarray, bounds: np.ndarray) -> tuple[list[int], list[np.ndarray], np.ndarray | None]:
    """Which input blocks one output block reads, the local positions in each, and the order to restore."""
    if wanted.size == 0:
        return [0], [wanted], None
    block_of = np.searchsorted(bounds, wanted, side="right") - 1
    by_block = np.argsort(block_of, kind="stable")
    sources = [int(b) for b in np.unique(block_of)]
    positions = [wanted[block_of == b] - bounds[b] for b in sources]
    # The joined pieces hold the positions sorted by block; ``order`` puts them back in indexer order.
    order = None if len(sources) == 1 else np.argsort(by_block, kind="stable")
    return sources, positions, order


class ShuffleMethods:
    """``Array.shuffle``."""

    __slots__ = ()

    def shuffle(self, indexer: list[list[int]], axis: int, chunks: str = "auto") -> Any:
        """Reorder ``axis`` by groups of positions, each group inside one block; see :func:`shuffle`."""
        return shuffle(self, indexer, axis, chunks)

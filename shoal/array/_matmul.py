"""Panels: one BLAS call per output block of a matrix product instead of one per block pair.

Output block ``(i, j)`` of ``x @ y`` is ``sum_k x[i, k] @ y[k, j]``. Computed
pair by pair, every product after the first is a fresh output-sized
temporary and a full pass of ``out += part`` over memory, and each BLAS call
sees only one block of the contracted axis. Concatenating the blocks of a
row of ``x`` (``x[i, :]``) into one *panel*, and those of a column of ``y``
into another, turns the sum into a single ``panel_i @ panel_j``: BLAS
accumulates over the whole contracted length inside its kernel, with no
temporaries and no separate add pass.

A panel is its own task, shared by every output block that needs it (row
panel ``i`` feeds all blocks ``(i, *)``), so each input block is copied once
into a panel, not once per output block. Panels hold the same bytes as the
blocks they join, and at most ``split_every`` blocks each (wider
contractions keep the grouped, tree-summed path in ``contract``).

When the blocks of a row already lie side by side in one array (the blocks
of a persisted ``from_array`` are views into it), the panel is a strided
view of that memory instead of a copy (:func:`_joined_view`).

Measured on 6000 x 6000 float64 operands in 1500-blocks on 2 cores
(``SHOAL_BENCH_CASES=matmul benchmarks/bench_array.py``, 5 interleaved
rounds): 1.0-1.14x the time of one NumPy ``@`` (pair by pair: 1.2-1.3x).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shoal.graph.task import Ref, Task

__all__: list[str] = []


def concatenate_panel(blocks: Any, axes: tuple[int, ...]) -> np.ndarray:
    """Join a nested list of blocks (one nesting level per axis in ``axes``) into one array.

    >>> a = np.ones((2, 2))
    >>> concatenate_panel([[a, a], [a, a]], (0, 1)).shape
    (4, 4)
    """
    if len(axes) > 1:
        blocks = [concatenate_panel(sub, axes[1:]) for sub in blocks]
    joined = _joined_view(blocks, axes[0])
    return joined if joined is not None else np.concatenate(blocks, axis=axes[0])


def _root(a: np.ndarray) -> Any:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a.base if a.base is not None else a


def _joined_view(blocks: Sequence[Any], axis: int) -> np.ndarray | None:
    """A read-only view covering ``blocks`` when they already lie side by side in one array's memory, else None.

    Blocks of ``from_array(a)`` (persisted, or computed by the threads scheduler) are views into ``a``: a row
    of them is one strided region of ``a`` already, and BLAS reads strided rows as they are. Joining them with
    ``np.concatenate`` would only copy (and page in) the same bytes again.

    >>> a = np.arange(24.0).reshape(4, 6)
    >>> view = _joined_view([a[:2, :3], a[:2, 3:]], 1)
    >>> bool(np.shares_memory(view, a)), bool((view == a[:2]).all())
    (True, True)
    >>> _joined_view([a[:2, :3], a[2:, 3:]], 1) is None   # not side by side
    True
    """
    first = blocks[0]
    if type(first) is not np.ndarray or first.base is None or first.size == 0:
        return None
    root = _root(first)
    step = first.strides[axis]
    address = first.__array_interface__["data"][0]
    length = 0
    for b in blocks:
        if (type(b) is not np.ndarray or b.dtype != first.dtype or b.strides != first.strides or b.size == 0
                or any(n != m for d, (n, m) in enumerate(zip(b.shape, first.shape, strict=True)) if d != axis)
                or b.__array_interface__["data"][0] != address + length * step or _root(b) is not root):
            return None
        length += b.shape[axis]
    shape = list(first.shape)
    shape[axis] = length
    # Every byte the view covers belongs to one of the blocks (they tile it), so it stays inside their array.
    return np.lib.stride_tricks.as_strided(first, shape=tuple(shape), strides=first.strides, writeable=False)


def panels_apply(operands: Sequence[tuple[Any, tuple[Any, ...]]], contracted: Sequence[Any]) -> bool:
    """Whether the operands' blocks can be joined into panels: plain NumPy blocks, some contracted axis split."""
    if not contracted:
        return False
    split = False
    for arr, ind in operands:
        if type(arr._meta) is not np.ndarray:  # masked or sparse blocks concatenate differently
            return False
        split = split or any(letter in contracted and arr.numblocks[axis] > 1 for axis, letter in enumerate(ind))
    return split


def panel_refs(name: str, operands: Sequence[tuple[Any, tuple[Any, ...]]], contracted: Sequence[Any],
               numblocks: dict[Any, int], where: dict[Any, int], layer: dict[Any, Any]) -> list[Ref]:
    """One reference per operand to its panel for output block ``where``; panel tasks are added to ``layer``.

    An operand held in one block along every contracted axis needs no panel:
    its block is referenced directly.
    """
    refs = []
    for position, (arr, ind) in enumerate(operands):
        axes = tuple(axis for axis, letter in enumerate(ind) if letter in contracted and arr.numblocks[axis] > 1)
        fixed = {axis: (0 if arr.numblocks[axis] == 1 else where[letter])
                 for axis, letter in enumerate(ind) if axis not in axes}
        if not axes:
            refs.append(Ref((arr.name, *fixed.values())))
            continue
        key = (f"{name}-panel{position}", *fixed.values())
        if key not in layer:
            layer[key] = Task(key, concatenate_panel, _nested_refs(arr, ind, axes, fixed, numblocks, {}), axes)
        refs.append(Ref(key))
    return refs


def _nested_refs(arr: Any, ind: tuple[Any, ...], axes: tuple[int, ...], fixed: dict[int, int],
                 numblocks: dict[Any, int], chosen: dict[int, int]) -> list[Any]:
    axis = axes[len(chosen)]
    out = []
    for block in range(numblocks[ind[axis]]):
        here = {**chosen, axis: block}
        if len(here) == len(axes):
            index = {**fixed, **here}
            out.append(Ref((arr.name, *(index[a] for a in range(len(ind))))))
        else:
            out.append(_nested_refs(arr, ind, axes, fixed, numblocks, here))
    return out

"""The contraction engine behind every product of arrays (``dot``, ``matmul``, ``einsum``, ...).

Every product here is one *contraction*. Each operand carries an index
letter per dimension; letters in the output index are kept, the others are
summed over, as in ``einsum``. On the block grid, output block ``(i, j)`` of
``x @ y`` (indices ``ik, kj -> ij``) is the sum over the contracted block
index ``k`` of ``x[i, k] @ y[k, j]``; in general, the sum over every
combination of contracted block indices of ``kernel(blocks...)``, where the
kernel (``np.matmul``, ``np.tensordot``, ``np.einsum`` on blocks) already
sums within a block.

Memory
    The combinations for one output block are cut into groups of at most
    ``split_every``; one task computes a group's products one at a time and
    adds each into a single accumulator, so no task holds more than
    ``split_every`` blocks of each operand plus one output block. When there
    are more groups than one, their sums are added in a tree with fan-in
    ``split_every``. The usual case (a handful of blocks along the
    contracted axes) is one task per output block.

Panels
    ``matmul`` and ``tensordot``, whose kernels sum over whole operands,
    instead join the blocks along the contracted axes into panels (at most
    ``split_every`` blocks each, shared by every output block that reads
    them) and make one kernel call per output block; see ``_matmul``.

Alignment
    Operands that share a letter are rechunked to common block boundaries
    along it (``blockwise`` does the same); a dimension of length 1 held in
    a single block broadcasts against any length, as in NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._from_array import asarray
from shoal.array._matmul import panel_refs, panels_apply
from shoal.array._rechunk import common_chunks, rechunk
from shoal.delayed import funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["DEFAULT_SPLIT_EVERY", "contract"]

#: Default number of block products summed by one task (and fan-in of the tree above them).
DEFAULT_SPLIT_EVERY = 8

Operand = tuple[Any, tuple[Any, ...]]


# -- the contraction engine --------------------------------------------------------------------------------------

def _is_unknown(x: ArrayBase) -> bool:
    return any(isinstance(c, float) and math.isnan(c) for dim in x.chunks for c in dim)


def _require_known(x: ArrayBase, what: str) -> None:
    if _is_unknown(x):
        raise ValueError(
            f"{what} needs the chunk sizes of {x.name!r} (shape {x.shape}), which are unknown (nan) after an "
            f"operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
        )


def _align(operands: list[Operand]) -> tuple[list[Operand], dict[Any, tuple[Any, ...]]]:
    """Rechunk operands so that each shared letter has common boundaries; return them and chunks per letter."""
    options: dict[Any, list[tuple[Any, ...]]] = {}
    for arr, ind in operands:
        for letter, c in zip(ind, arr.chunks, strict=True):
            options.setdefault(letter, []).append(tuple(c))
    target: dict[Any, tuple[Any, ...]] = {}
    for letter, found in options.items():
        real = [c for c in found if c != (1,)] or found
        target[letter] = common_chunks(real)
    aligned = []
    for arr, ind in operands:
        new = tuple(c if c == (1,) else target[letter] for letter, c in zip(ind, arr.chunks, strict=True))
        if new != arr.chunks:
            arr = rechunk(arr, new)
        aligned.append((arr, ind))
    return aligned, target


def _accumulate(out: Any, part: Any, inputs: Sequence[Any]) -> Any:
    """Add ``part`` into ``out``, in place when ``out`` is an array this task owns."""
    if out is None:
        if isinstance(part, np.ndarray) and (not part.flags.writeable or any(
                isinstance(a, np.ndarray) and np.may_share_memory(part, a) for a in inputs)):
            return part.copy()  # a view of an input block: never modify it
        return part
    if isinstance(out, np.ndarray) and out.ndim:
        out += part
        return out
    return out + part


def _sum_products(kernel: Callable[..., Any], items: list[tuple[list[Any], dict[str, Any]]],
                  kwargs: dict[str, Any]) -> Any:
    """``sum(kernel(*blocks, **kwargs, **extra) for blocks, extra in items)``, one product alive at a time."""
    out = None
    for blocks, extra in items:
        out = _accumulate(out, kernel(*blocks, **kwargs, **extra), blocks)
    return out


def _sum_parts(parts: list[Any]) -> Any:
    # The parts are this contraction's private intermediates, so the first may be reused in place.
    out = parts[0]
    for part in parts[1:]:
        out = _accumulate(out, part, ())
    return out


def _zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def contract(
    kernel: Callable[..., Any],
    out_ind: Sequence[Any],
    operands: Sequence[Operand],
    *,
    dtype: Any,
    token: str,
    split_every: Any = None,
    kernel_kwargs: dict[str, Any] | None = None,
    item_kwargs: Callable[[dict[Any, int]], dict[str, Any] | None] | None = None,
    item_token: Any = None,
    panels: bool = False,
) -> Any:
    """Sum ``kernel(blocks...)`` over the contracted block indices; see the module docstring.

    Parameters
    ----------
    kernel : callable
        Called with one block per operand (in order) and ``kernel_kwargs``;
        returns the block of the output, already summed over the contracted
        letters within those blocks.
    out_ind : sequence
        Output index letters; letters of the operands not in it are contracted.
    operands : sequence of ``(array, index)``
    dtype : dtype
        Output dtype.
    token : str
        Key prefix of the output.
    split_every : int, optional
        Block products per task and fan-in of the tree that sums task results.
    item_kwargs : callable, optional
        ``item_kwargs(block index of every letter)`` -> extra keyword
        arguments for that product, or ``None`` to skip it (for products
        known to be zero); ``item_token`` is what it depends on, for the
        output's name.
    panels : bool
        ``kernel`` sums over the contracted axes of whole operands too (as
        ``np.matmul`` and ``np.tensordot`` do): join the blocks along them into
        panels and call it once per output block (see ``_matmul``), when they
        number at most ``split_every``.
    """
    out_ind = tuple(out_ind)
    kernel_kwargs = dict(kernel_kwargs or {})
    for arr, _ in operands:
        _require_known(arr, token)
    aligned, letter_chunks = _align(list(operands))
    numblocks = {letter: len(c) for letter, c in letter_chunks.items()}
    contracted: list[Any] = []
    for _, ind in aligned:
        for letter in ind:
            if letter not in out_ind and letter not in contracted:
                contracted.append(letter)
    group = _group_size(split_every, contracted)
    out_chunks = tuple(letter_chunks[letter] for letter in out_ind)
    inputs = [(a, i) for a, i in aligned]
    use_panels = (panels and item_kwargs is None and panels_apply(aligned, contracted)
                  and math.prod(numblocks[letter] for letter in contracted) <= group)
    digest = tokenize(funcname(kernel), kernel, out_ind, inputs, kernel_kwargs, dtype, group, item_token, use_panels)
    name = f"{token}-{digest}"

    def refs(assign: dict[Any, int]) -> list[Ref]:
        out = []
        for arr, ind in aligned:
            index = tuple(0 if arr.numblocks[axis] == 1 else assign[letter] for axis, letter in enumerate(ind))
            out.append(Ref((arr.name, *index)))
        return out

    layer: dict[Any, Any] = {}
    for out_index in product(*(range(numblocks[letter]) for letter in out_ind)):
        where = dict(zip(out_ind, out_index, strict=True))
        key = (name, *out_index)
        if use_panels:
            layer[key] = Task(key, kernel, *panel_refs(name, aligned, contracted, numblocks, where, layer),
                              **kernel_kwargs)
            continue
        items = []
        for combo in product(*(range(numblocks[letter]) for letter in contracted)):
            assign = {**where, **dict(zip(contracted, combo, strict=True))}
            extra = item_kwargs(assign) if item_kwargs is not None else {}
            if extra is not None:
                items.append((refs(assign), extra))
        if not items:
            shape = tuple(int(letter_chunks[letter][i]) for letter, i in where.items())
            layer[key] = Task(key, _zeros, shape, np.dtype(dtype))
        elif len(items) == 1 and not items[0][1]:
            layer[key] = Task(key, kernel, *items[0][0], **kernel_kwargs)
        elif len(items) <= group:
            layer[key] = Task(key, _sum_products, kernel, items, kernel_kwargs)
        else:
            level = []
            for g in range(0, len(items), group):
                part_key = (f"{name}-part", *out_index, g // group)
                layer[part_key] = Task(part_key, _sum_products, kernel, items[g:g + group], kernel_kwargs)
                level.append(Ref(part_key))
            depth = 0
            while len(level) > group:
                depth += 1
                next_level = []
                for g in range(0, len(level), group):
                    sum_key = (f"{name}-sum{depth}", *out_index, g // group)
                    layer[sum_key] = Task(sum_key, _sum_parts, level[g:g + group])
                    next_level.append(Ref(sum_key))
                level = next_level
            layer[key] = Task(key, _sum_parts, level)
    meta = meta_from_dtype(dtype, len(out_ind))
    return new_array(layer, name, out_chunks, dtype, deps=tuple(a for a, _ in aligned), meta=meta)


def _group_size(split_every: Any, contracted: Sequence[Any]) -> int:
    if split_every is None:
        return DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        # Dask's per-axis form: the products of one task span split_every[axis] blocks along each axis.
        size = math.prod(int(v) for v in split_every.values()) if split_every else DEFAULT_SPLIT_EVERY
    else:
        size = int(split_every)
    if size < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every!r}.")
    return size


def _result_dtype(func: Callable[..., Any], arrays: Sequence[Any], **kwargs: Any) -> np.dtype[Any]:
    """The dtype ``func`` gives on one-element stand-ins of ``arrays``."""
    tiny = [np.ones((1,) * a.ndim, dtype=a.dtype) for a in arrays]
    with np.errstate(all="ignore"):
        return np.asarray(func(*tiny, **kwargs)).dtype


def _as_arrays(*args: Any) -> list[Any]:
    return [a if isinstance(a, ArrayBase) else asarray(a) for a in args]


def _shape_str(shape: tuple[Any, ...]) -> str:
    return "(" + ",".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _normalize_axes(axes: Any, ndim: int, what: str) -> tuple[int, ...]:
    """``axes`` (an int or a sequence) as non-negative ints; NumPy's ``AxisError`` for one out of range."""
    axes = (axes,) if isinstance(axes, Integral) else tuple(axes)
    out = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(f"{what}: axis {axis} is out of bounds for array of dimension {ndim}")
        out.append(int(axis) % ndim)
    return tuple(out)

"""Shared helpers for arrays built block by block from each block's shape and offsets.

Used by :mod:`shoal.array._creation` and :mod:`shoal.array._matrices`: a block
task gets its own shape and where it starts in the whole array, and nothing
else, so blocks never depend on each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from numbers import Number
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import Chunks, chunk_offsets
from shoal.graph.task import Task
from shoal.graph.tokenize import tokenize

__all__: list[str] = []


def _normalize_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, Number | np.integer):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}.") from None
    for s in shape:
        if isinstance(s, float) and math.isnan(s):
            raise ValueError(
                f"Cannot create an array of shape {shape}: its length is unknown (nan). "
                f"Call x.compute_chunk_sizes() on the array the shape came from first."
            )
        if int(s) != s:
            raise TypeError(f"shape must hold integers, got {shape!r}.")
        if s < 0:
            raise ValueError(f"negative dimensions are not allowed (shape {shape}).")
    return tuple(int(s) for s in shape)


def _grid(chunks: Chunks) -> Any:
    """Yield ``(block index, block shape, block offsets)`` for every block, in C order."""
    offsets = [chunk_offsets(c) for c in chunks]
    for index in product(*(range(len(c)) for c in chunks)):
        shape = tuple(int(chunks[d][i]) for d, i in enumerate(index))
        starts = tuple(int(offsets[d][i]) for d, i in enumerate(index))
        yield index, shape, starts


def _from_block_function(prefix: str, chunks: Chunks, dtype: Any, token_args: tuple[Any, ...],
                         make: Callable[[tuple[int, ...], tuple[int, ...]], tuple[Any, ...]],
                         name: str | None = None, deps: tuple[Any, ...] = (), meta: Any = None) -> Any:
    """An array whose block at offsets ``starts`` is ``func(*args)`` for ``(func, *args) = make(shape, starts)``."""
    name = name or f"{prefix}-{tokenize(prefix, chunks, np.dtype(dtype).str, *token_args)}"
    layer = {}
    for index, shape, starts in _grid(chunks):
        key = (name, *index)
        func, *args = make(shape, starts)
        layer[key] = Task(key, func, *args)
    return new_array(layer, name, chunks, dtype, deps=deps, meta=meta)


def _require_known(a: ArrayBase, what: str) -> None:
    if any(isinstance(s, float) and math.isnan(s) for s in a.shape):
        raise ValueError(
            f"{what} needs the shape of {a.name!r}, which is not known (shape {a.shape}, after an operation "
            f"whose output size depends on the data). Call x.compute_chunk_sizes() first."
        )


def _check_axis(axis: int, ndim: int, what: str) -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{what}: axis {axis} is out of bounds for an array of dimension {ndim}.")
    return axis % ndim

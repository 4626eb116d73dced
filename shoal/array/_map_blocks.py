"""``map_blocks``: a function applied to every block of one or more arrays.

The array arguments are matched block by block through
:func:`~shoal.array._blockwise.blockwise`; ``chunks``, ``drop_axis`` and
``new_axis`` describe the output's blocks when they differ from the input's,
and functions that accept ``block_id`` / ``block_info`` receive where each
block sits.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._blockwise import apply_infer_dtype, blockwise
from shoal.array._chunks import chunk_offsets
from shoal.delayed import funcname
from shoal.graph.task import Task
from shoal.graph.tokenize import tokenize

__all__ = ["map_blocks", "right_aligned"]


def map_blocks(
    func: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    token: str | None = None,
    dtype: Any = None,
    chunks: Any = None,
    drop_axis: int | Sequence[int] | None = None,
    new_axis: int | Sequence[int] | None = None,
    enforce_ndim: bool = False,
    meta: Any = None,
    **kwargs: Any,
) -> Any:
    """Apply ``func`` to every block of the arrays in ``args``.

    Parameters
    ----------
    func : callable
        Called once per block with the corresponding blocks of the array
        arguments (non-array arguments passed as they are). If it takes
        ``block_id`` or ``block_info`` keyword arguments, it receives the
        block's index and ``{i: {"shape", "num-chunks", "chunk-location",
        "array-location"}, None: {... for the output}}``.
    dtype : dtype, optional
        Output dtype; inferred on a tiny block if omitted.
    chunks : tuple, optional
        Output block shape (if blocks change shape): a block shape applied
        to every block, or the full chunks tuple.
    drop_axis, new_axis : int or list, optional
        Axes the function removes or adds.
    enforce_ndim : bool
        Check at compute time that blocks have the expected number of dimensions.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6), chunks=3)
    >>> map_blocks(lambda b: b * 2, x).compute()
    array([ 0,  2,  4,  6,  8, 10])
    >>> map_blocks(lambda b, block_id=None: np.full(b.shape, block_id[0]), x).compute()
    array([0, 0, 0, 1, 1, 1])

    Without array arguments, ``chunks`` (every block's length on every axis) and ``dtype`` say what
    ``func`` makes; each call gets its ``block_id`` / ``block_info`` to know which block to make:

    >>> def make(block_info=None):
    ...     (start, stop), = block_info[None]["array-location"]
    ...     return np.arange(start, stop) * 10
    >>> map_blocks(make, chunks=((2, 3),), dtype=int).compute()
    array([ 0, 10, 20, 30, 40])
    """
    arrays = [a for a in args if isinstance(a, ArrayBase)]
    if not arrays:
        return _from_block_function(func, args, kwargs, name, token, dtype, chunks, meta)
    base = max(arrays, key=lambda a: a.ndim)
    ndim = base.ndim
    drops = [drop_axis] if isinstance(drop_axis, int) else list(drop_axis or [])
    if any(not -ndim <= d < ndim for d in drops):
        raise ValueError(f"map_blocks: drop_axis={drop_axis} is out of range for {ndim}-d input (shape {base.shape}).")
    drop = [d % ndim for d in drops]
    out_ind: list[Any] = [i for i in range(ndim) if i not in drop]
    adds = [new_axis] if isinstance(new_axis, int) else list(new_axis or [])
    new_axes: dict[Any, Any] = {}
    out_ndim = len(out_ind) + len(adds)
    if any(not -out_ndim <= a < out_ndim for a in adds):
        raise ValueError(f"map_blocks: new_axis={new_axis} is out of range for {out_ndim}-d output "
                         f"(input shape {base.shape}, drop_axis={drop_axis}).")
    for position in sorted(a % out_ndim for a in adds):
        letter = f"new{position}"
        out_ind.insert(position, letter)
        new_axes[letter] = 1
    pairs = right_aligned(args, ndim)

    params = _parameters(func)
    wants_id, wants_info = "block_id" in params, "block_info" in params
    if dtype is None and meta is None:
        probe_kwargs = dict(kwargs)
        if wants_id:
            probe_kwargs["block_id"] = (0,) * ndim
        if wants_info:
            probe_kwargs["block_info"] = None
        dtype = apply_infer_dtype(func, args, probe_kwargs, funcname(func))
    dtype = meta.dtype if dtype is None else dtype

    adjust: dict[Any, Any] = {}
    explicit_chunks = None
    if chunks is not None:
        if len(chunks) != out_ndim:
            raise ValueError(
                f"map_blocks: chunks={chunks!r} has {len(chunks)} entries but the output has {out_ndim} "
                f"dimensions (input {ndim}, drop_axis={drop_axis}, new_axis={new_axis})."
            )
        if all(isinstance(c, tuple) for c in chunks):
            explicit_chunks = chunks
        for letter, spec in zip(out_ind, chunks, strict=True):
            if isinstance(spec, tuple):
                if letter in new_axes:
                    new_axes[letter] = spec
                else:
                    adjust[letter] = spec
            elif letter in new_axes:
                new_axes[letter] = spec
            else:
                adjust[letter] = spec
    for letter in drop:
        if letter in out_ind:
            out_ind.remove(letter)

    block_kwargs = None
    if wants_id or wants_info:
        block_kwargs = _block_info_maker(args, ndim, out_ind, wants_id, wants_info, dtype, explicit_chunks, base)
    call = _checked(func, len(out_ind)) if enforce_ndim else func
    out = blockwise(call, tuple(out_ind), *pairs, name=name, token=token or funcname(func).strip("_"),
                    dtype=dtype, adjust_chunks=adjust or None, new_axes=new_axes or None,
                    concatenate=True, meta=meta if meta is not None else meta_from_dtype(dtype, len(out_ind)),
                    block_kwargs=block_kwargs, **kwargs)
    return out


def _from_block_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str | None,
                         token: str | None, dtype: Any, chunks: Any, meta: Any) -> Any:
    """``map_blocks`` without array arguments: one call of ``func`` per block of the given ``chunks``."""
    label = funcname(func)
    if chunks is None or not all(isinstance(c, tuple | list) and all(isinstance(n, int | np.integer) for n in c)
                                 for c in chunks):
        raise ValueError(f"map_blocks({label}, ...) has no array arguments, so chunks= must give every block's "
                         f"length on every axis, e.g. chunks=((100, 100, 50),), got chunks={chunks!r}.")
    if dtype is None and meta is None:
        raise ValueError(f"map_blocks({label}, ...) has no array arguments to infer the output from: pass dtype= "
                         f"(or meta=).")
    chunks = tuple(tuple(int(n) for n in c) for c in chunks)
    dtype = np.dtype(meta.dtype if dtype is None else dtype)
    params = _parameters(func)
    info = _block_info_maker((), len(chunks), list(range(len(chunks))), "block_id" in params,
                             "block_info" in params, dtype, chunks, None)
    out_name = name or f"{token or label.strip('_')}-{tokenize(func, args, kwargs, chunks, dtype)}"
    layer = {}
    for index in product(*(range(len(c)) for c in chunks)):
        key = (out_name, *index)
        layer[key] = Task(key, func, *args, **kwargs, **info(index))
    return new_array(layer, out_name, chunks, dtype,
                     meta=meta if meta is not None else meta_from_dtype(dtype, len(chunks)))


def _parameters(func: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return set()


class _checked:
    """Wraps a block function to check the dimensions of what it returns (enforce_ndim)."""

    def __init__(self, func: Callable[..., Any], ndim: int) -> None:
        self.func, self.ndim = func, ndim
        self.__name__ = funcname(func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.func(*args, **kwargs)
        if np.ndim(out) != self.ndim:
            raise ValueError(
                f"{self.__name__} returned a block with {np.ndim(out)} dimensions; map_blocks expected "
                f"{self.ndim}. Pass drop_axis=/new_axis= to describe the change."
            )
        return out


def _block_info_maker(args: Sequence[Any], ndim: int, out_ind: list[Any], wants_id: bool, wants_info: bool,
                      dtype: Any, explicit_chunks: Any, base: ArrayBase | None
                      ) -> Callable[[tuple[int, ...]], dict[str, Any]]:
    inputs = {i: a for i, a in enumerate(args) if isinstance(a, ArrayBase)}

    def make(out_index: tuple[int, ...]) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if wants_id:
            extra["block_id"] = out_index
        if wants_info:
            info: dict[Any, Any] = {}
            where = dict(zip(out_ind, out_index, strict=True))
            for i, a in inputs.items():
                offset = ndim - a.ndim
                location = tuple(0 if a.numblocks[d] == 1 else where.get(d + offset, 0) for d in range(a.ndim))
                starts = [chunk_offsets(c) for c in a.chunks]
                info[i] = {
                    "shape": a.shape,
                    "num-chunks": a.numblocks,
                    "chunk-location": location,
                    "array-location": [(starts[d][loc], starts[d][loc] + a.chunks[d][loc])
                                       for d, loc in enumerate(location)],
                }
            out_chunks = explicit_chunks or base.chunks  # type: ignore[union-attr]
            if len(out_chunks) == len(out_index):
                starts = [chunk_offsets(c) for c in out_chunks]
                info[None] = {
                    "shape": tuple(sum(c) for c in out_chunks),
                    "num-chunks": tuple(len(c) for c in out_chunks),
                    "chunk-location": out_index,
                    "array-location": [(starts[d][i], starts[d][i] + out_chunks[d][i])
                                       for d, i in enumerate(out_index)],
                    "chunk-shape": tuple(out_chunks[d][i] for d, i in enumerate(out_index)),
                    "dtype": np.dtype(dtype),
                }
            extra["block_info"] = info
        return extra

    return make


def right_aligned(args: Sequence[Any], ndim: int) -> list[Any]:
    """``blockwise``'s ``(argument, index)`` pairs with arrays aligned to the right, as NumPy broadcasts them."""
    pairs: list[Any] = []
    for a in args:
        if isinstance(a, ArrayBase):
            pairs.extend([a, tuple(range(ndim - a.ndim, ndim))])
        else:
            pairs.extend([a, None])
    return pairs

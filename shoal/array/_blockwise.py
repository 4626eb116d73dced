"""Blockwise: apply a function block by block, described by index letters.

``blockwise(f, "ij", x, "ij", y, "ji")`` makes block ``(i, j)`` of the
output from ``f(x[i, j], y[j, i])``. This one mechanism covers element-wise
arithmetic, ``map_blocks``, transposes and, with an index that appears in the
inputs but not in the output (a contraction), products such as ``dot``: the
blocks along a contracted index are passed as a list, or concatenated when
``concatenate=True``.

Alignment rules
    Inputs that share an index must agree on its chunks; if they do not,
    they are rechunked to common boundaries first (``align_arrays=True``).
    An input with a single block of length 1 along an index broadcasts: its
    block 0 is used for every output block, as NumPy broadcasting would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._rechunk import common_chunks, rechunk
from shoal.delayed import Delayed, funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["apply_infer_dtype", "blockwise"]


def _concatenate_axes(blocks: Any, axes: Sequence[int]) -> Any:
    """Concatenate a nested list of blocks along ``axes`` (one nesting level each)."""
    if not axes:
        return blocks
    axis, rest = axes[0], axes[1:]
    parts = [_concatenate_axes(b, rest) for b in blocks] if rest else blocks
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)


def apply_infer_dtype(func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], funcname_: str,
                      suggest_dtype: bool = True) -> np.dtype[Any]:
    """Find the output dtype of ``func`` by running it on tiny one-element stand-ins."""
    tiny = [np.ones((1,) * a.ndim, dtype=a.dtype) if isinstance(a, ArrayBase | np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            out = func(*tiny, **kwargs)
    except Exception as exc:
        hint = " Pass dtype= to say what it returns." if suggest_dtype else ""
        raise ValueError(
            f"shoal could not work out the dtype {funcname_} returns by calling it on small sample blocks: "
            f"{type(exc).__name__}: {exc}.{hint}"
        ) from exc
    return np.asarray(out).dtype if not hasattr(out, "dtype") else out.dtype


def blockwise(
    func: Callable[..., Any],
    out_ind: str | Sequence[Any],
    *args: Any,
    name: str | None = None,
    token: str | None = None,
    dtype: Any = None,
    adjust_chunks: dict[Any, Any] | None = None,
    new_axes: dict[Any, int | Sequence[int]] | None = None,
    align_arrays: bool = True,
    concatenate: bool | None = None,
    meta: Any = None,
    block_kwargs: Callable[[tuple[int, ...]], dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Any:
    """Apply ``func`` across blocks, following index letters.

    Parameters
    ----------
    func : callable
    out_ind : str or sequence
        Index of the output, one entry per output dimension.
    *args : pairs ``array, index``
        Each input and its index; non-array inputs take index ``None``.
    name, token : str, optional
        The output's key prefix, or the prefix of it before a token.
    dtype : dtype, optional
        Output dtype; inferred by calling ``func`` on tiny blocks if omitted.
    adjust_chunks : dict, optional
        ``{index: new chunks or function of the old length}`` for outputs
        whose blocks change length.
    new_axes : dict, optional
        ``{index: length}`` for output dimensions no input has.
    align_arrays : bool
        Rechunk inputs that disagree on a shared index.
    concatenate : bool, optional
        Concatenate the blocks along contracted indices instead of passing lists.
    block_kwargs : callable, optional
        ``block_kwargs(output block index) -> dict`` of extra keyword
        arguments for that block's call (``map_blocks`` passes ``block_id``
        and ``block_info`` this way).
    **kwargs
        Passed to ``func``; may hold Delayed values.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(6).reshape(2, 3), chunks=(1, 3))
    >>> blockwise(np.add, "ij", x, "ij", 10, None).compute()
    array([[10, 11, 12],
           [13, 14, 15]])
    """
    out_ind = tuple(out_ind)
    pairs = [(args[i], tuple(args[i + 1]) if args[i + 1] is not None else None) for i in range(0, len(args), 2)]
    new_axes = dict(new_axes or {})

    # Chunks per index letter, after aligning inputs that share a letter.
    if align_arrays:
        pairs = _align(pairs)
    index_chunks: dict[Any, tuple[Any, ...]] = {}
    for arg, ind in pairs:
        if ind is None or not isinstance(arg, ArrayBase):
            continue
        for letter, c in zip(ind, arg.chunks, strict=True):
            if letter not in index_chunks or (len(index_chunks[letter]) == 1 and len(c) > 1) or (
                index_chunks[letter] == (1,) and c != (1,)
            ):
                index_chunks[letter] = c
    for letter, length in new_axes.items():
        index_chunks[letter] = tuple(length) if isinstance(length, tuple | list) else (length,)
    missing = [letter for letter in out_ind if letter not in index_chunks]
    if missing:
        raise ValueError(f"Output index letters {missing} appear in no input and in no new_axes.")
    numblocks = {letter: len(c) for letter, c in index_chunks.items()}
    contracted = sorted({letter for _, ind in pairs if ind for letter in ind if letter not in out_ind},
                        key=str)

    deps: list[Any] = []
    prepared: list[tuple[Any, Any]] = []
    for arg, ind in pairs:
        if isinstance(arg, ArrayBase):
            deps.append(arg)
            prepared.append((arg, ind))
        elif ind is not None:
            raise TypeError(f"blockwise was given index {ind!r} for a non-array argument {type(arg).__name__}.")
        elif isinstance(arg, Delayed):
            deps.append(arg)
            prepared.append((Ref(arg.key), None))
        else:
            prepared.append((arg, None))
    task_kwargs = {}
    for k, v in kwargs.items():
        if isinstance(v, Delayed):
            deps.append(v)
            task_kwargs[k] = Ref(v.key)
        else:
            task_kwargs[k] = v

    if dtype is None and meta is None:
        dtype = apply_infer_dtype(func, [a for a, _ in pairs], kwargs, funcname(func))
    if name is None:
        prefix = token or funcname(func).strip("_")
        token_ = tokenize(func, out_ind, *[(a, i) for a, i in pairs], kwargs, dtype, adjust_chunks, new_axes)
        name = f"{prefix}-{token_}"

    out_chunks = [index_chunks[letter] for letter in out_ind]
    if adjust_chunks:
        for position, letter in enumerate(out_ind):
            if letter in adjust_chunks:
                spec = adjust_chunks[letter]
                if callable(spec):
                    out_chunks[position] = tuple(spec(c) for c in out_chunks[position])
                elif isinstance(spec, int):
                    out_chunks[position] = (spec,) * len(out_chunks[position])
                else:
                    out_chunks[position] = tuple(spec)

    layer = {}
    concat_axes_cache: dict[int, list[int]] = {}
    for out_index in product(*(range(numblocks[letter]) for letter in out_ind)):
        where = dict(zip(out_ind, out_index, strict=True))
        task_args = []
        for position, (arg, ind) in enumerate(prepared):
            if ind is None:
                task_args.append(arg)
                continue
            task_args.append(_block_argument(arg, ind, where, contracted, numblocks, concatenate,
                                             concat_axes_cache.setdefault(position, _contracted_axes(ind, out_ind))))
        key = (name, *out_index)
        extra = block_kwargs(out_index) if block_kwargs is not None else {}
        layer[key] = Task(key, func, *task_args, **task_kwargs, **extra)
    if meta is None:
        meta = meta_from_dtype(dtype, len(out_ind))
    return new_array(layer, name, tuple(out_chunks), dtype, deps=tuple(deps), meta=meta)


def _contracted_axes(ind: tuple[Any, ...], out_ind: tuple[Any, ...]) -> list[int]:
    return [axis for axis, letter in enumerate(ind) if letter not in out_ind]


def _block_argument(arr: ArrayBase, ind: tuple[Any, ...], where: dict[Any, int], contracted: list[Any],
                    numblocks: dict[Any, int], concatenate: bool | None, axes: list[int]) -> Any:
    """The task argument for ``arr``: one block reference, or nested lists along contracted letters."""
    own = arr.numblocks

    def block_index(assign: dict[Any, int]) -> tuple[int, ...]:
        # A single block along a letter broadcasts: always block 0.
        return tuple(0 if own[axis] == 1 else assign[letter] for axis, letter in enumerate(ind))

    local_contracted = [letter for letter in ind if letter in contracted]
    if not local_contracted:
        return Ref((arr.name, *block_index(where)))

    def nest(depth: int, assign: dict[Any, int]) -> Any:
        if depth == len(local_contracted):
            return Ref((arr.name, *block_index(assign)))
        letter = local_contracted[depth]
        count = own[ind.index(letter)]
        return [nest(depth + 1, {**assign, letter: i}) for i in range(count)]

    nested = nest(0, dict(where))
    if concatenate:
        return Task(None, _concatenate_axes, nested, axes)
    return nested


def _has_nan(chunks: tuple[Any, ...]) -> bool:
    return any(c != c for c in chunks)  # NaN is the only value not equal to itself


def _align(pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Rechunk array inputs so that every shared index letter has the same chunks."""
    wanted: dict[Any, list[tuple[Any, ...]]] = {}
    for arg, ind in pairs:
        if isinstance(arg, ArrayBase) and ind is not None:
            if len(ind) != arg.ndim:
                raise ValueError(
                    f"blockwise index {''.join(map(str, ind))!r} has {len(ind)} letters but the array "
                    f"{arg.name!r} has {arg.ndim} dimensions (shape {arg.shape})."
                )
            for letter, c in zip(ind, arg.chunks, strict=True):
                wanted.setdefault(letter, []).append(c)
    target: dict[Any, tuple[Any, ...]] = {}
    for letter, options in wanted.items():
        real = [c for c in options if c != (1,)] or options
        if len(set(real)) > 1 and any(_has_nan(c) for c in real):
            raise ValueError(
                f"Cannot line up the blocks of arrays whose chunks along one dimension differ and are partly "
                f"unknown (nan): {sorted(set(real), key=str)}. Their lengths are known only after computing; "
                f"call x.compute_chunk_sizes() on the arrays with nan chunks first."
            )
        target[letter] = common_chunks(real)
    out = []
    for arg, ind in pairs:
        if isinstance(arg, ArrayBase) and ind is not None:
            new = tuple(c if c == (1,) else target[letter] for letter, c in zip(ind, arg.chunks, strict=True))
            if new != arg.chunks:
                arg = rechunk(arg, new)
        out.append((arg, ind))
    return out

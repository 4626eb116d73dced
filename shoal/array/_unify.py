"""Block-level tools: ``unify_chunks``, ``reshape_blockwise``, ``extract`` and the ``atop`` alias.

``reshape_blockwise`` reshapes every block on its own. It pairs the axes of
the old and new shapes into groups (walking both shapes, multiplying lengths
until the products meet): a group either merges several old axes into one new
axis or splits one old axis into several. Within a group, blocks are
enumerated in C order on both sides, and so is the whole grid; so output
block number ``k`` (C order) is input block number ``k`` reshaped. Merged axes
get the cross product of the old block lengths; split axes need the caller's
``chunks``, checked to multiply back to the old block lengths.
"""

from __future__ import annotations

import math
import warnings
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal._exceptions import PerformanceWarning
from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._blockwise import blockwise
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._rechunk import common_chunks, rechunk
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["atop", "extract", "reshape_blockwise", "unify_chunks"]


# -- unify_chunks ------------------------------------------------------------------------------------------------
def unify_chunks(*args: Any, warn: bool = True) -> tuple[dict[Any, tuple[Any, ...]], list[Any]]:
    """Rechunk arrays so that dimensions sharing an index letter have the same blocks.

    Parameters
    ----------
    *args : pairs ``array, index``
        As for :func:`blockwise`: ``(x, "ij", y, "jk", 5, None)``. Array-likes are turned into shoal arrays;
        other values (index ``None``) pass through.
    warn : bool
        Warn (``PerformanceWarning``) when lining up the blocks multiplies their number by more than 10.

    Returns
    -------
    chunkss : dict
        ``{letter: chunks}`` for every index letter of the arrays.
    arrays : list
        The arguments (not the indices), arrays rechunked to ``chunkss``.

    Notes
    -----
    Mirrors ``dask.array.core.unify_chunks``. A dimension of length 1 broadcasts and keeps its one block.

    Examples
    --------
    >>> import shoal.array as sa
    >>> x = sa.ones(10, chunks=((5, 2, 3),))
    >>> y = sa.ones(10, chunks=((2, 3, 5),))
    >>> chunkss, arrays = unify_chunks(x, "i", y, "i")
    >>> chunkss
    {'i': (2, 3, 2, 3)}
    >>> unify_chunks(0, None)
    ({}, [0])
    """
    if len(args) % 2:
        raise TypeError(
            f"unify_chunks takes pairs (array, index), e.g. unify_chunks(x, 'ij', y, 'jk'); got {len(args)} "
            f"arguments. Give index None for a value that is not an array."
        )
    pairs: list[tuple[Any, Any]] = []
    for position in range(0, len(args), 2):
        arg, ind = args[position], args[position + 1]
        if ind is not None:
            arg = arg if isinstance(arg, ArrayBase) else asarray(arg)
            ind = tuple(ind)
            if len(ind) != arg.ndim:
                raise ValueError(
                    f"unify_chunks: index {''.join(map(str, ind))!r} (argument {position // 2}) has {len(ind)} "
                    f"letters but the array has {arg.ndim} dimensions (shape {arg.shape}). Give one letter per "
                    f"dimension."
                )
        pairs.append((arg, ind))
    options: dict[Any, list[tuple[Any, ...]]] = {}
    for arg, ind in pairs:
        if ind is not None:
            for letter, c in zip(ind, arg.chunks, strict=True):
                options.setdefault(letter, []).append(tuple(c))
    chunkss: dict[Any, tuple[Any, ...]] = {}
    for letter, found in options.items():
        real = [c for c in found if c != (1,)] or found
        try:
            chunkss[letter] = common_chunks(real)
        except ValueError as exc:
            raise ValueError(f"unify_chunks: the dimensions with index {letter!r} do not line up. {exc}") from None
    out: list[Any] = []
    before = after = 1
    for arg, ind in pairs:
        if ind is None:
            out.append(arg)
            continue
        new = tuple(c if c == (1,) else chunkss[letter] for letter, c in zip(ind, arg.chunks, strict=True))
        before = max(before, arg.npartitions)
        after = max(after, math.prod(len(c) for c in new))
        out.append(arg if new == arg.chunks else rechunk(arg, new))
    if warn and after > 10 * before:
        warnings.warn(
            f"unify_chunks: lining up the blocks raises their number from {before} to {after} per array (a factor "
            f"of {after // before}). Rechunk the inputs to matching chunks first to avoid many small tasks.",
            PerformanceWarning, stacklevel=2)
    return chunkss, out


# -- reshape_blockwise -------------------------------------------------------------------------------------------
def _axis_groups(old: tuple[int, ...], new: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Pair old and new axes: each group is (old axes, new axes) with equal products of lengths.

    A length-1 axis on one side only forms a group of its own with nothing on the other side.
    """
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(old) or j < len(new):
        if i < len(old) and old[i] == 1 and (j == len(new) or new[j] != 1):
            groups.append(([i], []))
            i += 1
            continue
        if j < len(new) and new[j] == 1 and (i == len(old) or old[i] != 1):
            groups.append(([], [j]))
            j += 1
            continue
        if i == len(old) or j == len(new):
            break
        ins, outs, left, right = [i], [j], old[i], new[j]
        i, j = i + 1, j + 1
        while left != right:
            if left < right and i < len(old):
                left, i = left * old[i], i + 1
                ins.append(i - 1)
            elif right < left and j < len(new):
                right, j = right * new[j], j + 1
                outs.append(j - 1)
            else:
                break
        if left != right:
            break
        groups.append((ins, outs))
    if i < len(old) or j < len(new):
        raise NotImplementedError(
            f"reshape_blockwise: cannot pair the axes of shape {old} with those of {new} (merging whole axes or "
            f"splitting one axis). Use reshape instead."
        )
    return groups


def _merged(chunks: list[tuple[int, ...]]) -> tuple[int, ...]:
    return tuple(math.prod(c) for c in product(*chunks))


def reshape_blockwise(x: Any, shape: int | tuple[int, ...], chunks: tuple[tuple[int, ...], ...] | None = None) -> Any:
    """Reshape every block on its own; the values come out in block order, not NumPy's order.

    Parameters
    ----------
    x : Array
    shape : int or tuple of ints
        The new shape; one length may be -1. Only merging whole axes, ``(2, 3, 4) -> (6, 4)``, or splitting
        one axis into several, ``(6, 4) -> (2, 3, 4)``, is possible.
    chunks : tuple of tuples, optional
        The blocks of the result, required when the number of dimensions grows (an axis is split), not
        allowed when it shrinks (the blocks follow from ``x``'s).

    Returns
    -------
    Array
        Output block ``k`` (blocks counted in C order) is input block ``k`` reshaped, so the result differs
        from ``np.reshape`` unless every block spans its merged or split axes. Reshaping back with
        ``chunks=x.chunks`` restores ``x``.

    Raises
    ------
    NotImplementedError
        If the new shape neither merges nor splits whole axes.
    ValueError
        If ``chunks`` is missing, not allowed, or does not multiply back to ``x``'s blocks.

    Notes
    -----
    Mirrors ``dask.array.reshape_blockwise``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(27).reshape(3, 3, 3), chunks=(3, 2, (2, 1)))
    >>> y = reshape_blockwise(x, (3, 9))
    >>> y.chunks
    ((3,), (4, 2, 2, 1))
    >>> y.compute()[0]
    array([0, 1, 3, 4, 2, 5, 6, 7, 8])
    >>> reshape_blockwise(y, (3, 3, 3), chunks=x.chunks).compute()[0, 1]
    array([3, 4, 5])
    """
    x = asarray(x)
    new_shape = _resolve_shape(shape, x)
    if new_shape == x.shape:
        return x
    if chunks is not None and len(new_shape) < x.ndim:
        raise ValueError(
            f"reshape_blockwise: chunks= is not allowed when the number of dimensions shrinks ({x.ndim} -> "
            f"{len(new_shape)}): the blocks follow from x's. Leave chunks out."
        )
    require_known(x, range(x.ndim), "reshape_blockwise")
    old_chunks = [tuple(int(v) for v in c) for c in x.chunks]
    given = None if chunks is None else [tuple(int(v) for v in c) for c in chunks]
    if given is not None and (len(given) != len(new_shape)
                              or any(sum(c) != n for c, n in zip(given, new_shape, strict=True))):
        raise ValueError(f"reshape_blockwise: chunks {chunks} do not fit the new shape {new_shape}; give one "
                         f"tuple of block lengths per new dimension, summing to its length.")
    out_chunks: list[tuple[int, ...]] = [()] * len(new_shape)
    for ins, outs in _axis_groups(tuple(int(s) for s in x.shape), new_shape):
        if len(ins) > 1 and len(outs) > 1:
            raise NotImplementedError(
                f"reshape_blockwise can only merge whole axes or split one axis, but {x.shape} -> {new_shape} "
                f"turns axes {ins} into {outs}. Reshape in two steps (merge, then split), or use reshape."
            )
        if not outs:
            continue
        if len(outs) == 1 and len(ins) <= 1:
            derived = old_chunks[ins[0]] if ins else (1,)
        elif len(outs) == 1:
            derived = _merged([old_chunks[d] for d in ins])
        else:
            if given is None:
                raise ValueError(
                    f"reshape_blockwise: splitting axis {ins[0]} of {x.shape} into {[new_shape[d] for d in outs]} "
                    f"needs chunks= for the new dimensions (their block lengths cannot be inferred); e.g. "
                    f"chunks=x.chunks to undo an earlier reshape_blockwise."
                )
            if _merged([given[d] for d in outs]) != old_chunks[ins[0]]:
                raise ValueError(
                    f"reshape_blockwise: chunks {[given[d] for d in outs]} for new axes {outs} give blocks of "
                    f"{list(_merged([given[d] for d in outs]))} elements along old axis {ins[0]}, whose blocks "
                    f"are {list(old_chunks[ins[0]])}. Each old block must become whole new blocks."
                )
            for d in outs:
                out_chunks[d] = given[d]
            continue
        if given is not None and given[outs[0]] != derived:
            raise ValueError(f"reshape_blockwise: chunks {given[outs[0]]} for new axis {outs[0]} must be "
                             f"{derived}, which follow from x's blocks.")
        out_chunks[outs[0]] = derived
    name = f"reshape-blockwise-{tokenize(x, new_shape, tuple(out_chunks))}"
    in_keys = product(*(range(n) for n in x.numblocks))
    layer = {}
    for out_index, in_index in zip(product(*(range(len(c)) for c in out_chunks)), in_keys, strict=True):
        key = (name, *out_index)
        block_shape = tuple(c[i] for c, i in zip(out_chunks, out_index, strict=True))
        layer[key] = Task(key, np.reshape, Ref((x.name, *in_index)), block_shape)
    return new_array(layer, name, tuple(out_chunks), x.dtype, deps=(x,), meta=x._meta)


def _resolve_shape(shape: Any, x: Any) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, Integral) else tuple(shape)
    if not all(isinstance(s, Integral) for s in shape):
        raise TypeError(f"reshape_blockwise: shape must hold integers, got {shape!r}.")
    if any(isinstance(s, float) and math.isnan(s) for s in x.shape):
        require_known(x, range(x.ndim), "reshape_blockwise")
    size = math.prod(int(s) for s in x.shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1 or any(s < -1 for s in shape):
        raise ValueError(f"reshape_blockwise: shape {shape} may hold at most one -1 and no other negative length.")
    if unknown:
        rest = math.prod(int(s) for s in shape if s != -1)
        if rest == 0 or size % rest:
            raise ValueError(f"reshape_blockwise: cannot reshape an array of size {size} into shape {shape}.")
        shape = tuple(size // rest if s == -1 else int(s) for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"reshape_blockwise: cannot reshape an array of size {size} (shape {x.shape}) into shape "
                         f"{shape}; the total size must stay the same.")
    return tuple(int(s) for s in shape)


# -- extract -----------------------------------------------------------------------------------------------------
def _select(condition: np.ndarray, values: np.ndarray) -> np.ndarray:
    return values[condition]


@implements(np.extract)
def extract(condition: Any, arr: Any) -> Any:
    """The elements of ``arr`` (flattened) where ``condition`` (flattened) is true; mirrors ``numpy.extract``.

    The result is lazy and its block lengths are unknown (``nan``) until computed. A condition with fewer
    elements than ``arr`` selects among the first ones only, as in NumPy.

    Raises
    ------
    ValueError
        If ``condition`` has more elements than ``arr`` (NumPy allows it when the extra ones are false).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> arr = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> extract(arr % 3 == 0, arr).compute()
    array([0, 3, 6, 9])
    """
    values = asarray(arr).ravel()
    condition = asarray(condition).astype(bool).ravel()
    require_known(values, [0], "extract")
    require_known(condition, [0], "extract")
    size, wanted = int(values.shape[0]), int(condition.shape[0])
    if wanted > size:
        raise ValueError(
            f"extract: the condition has {wanted} elements but arr only {size}. Give a condition of the same "
            f"size as arr (or slice it: condition.ravel()[:arr.size])."
        )
    if wanted < size:
        values = values[:wanted]
    _, (condition, values) = unify_chunks(condition, "i", values, "i", warn=False)
    name = f"extract-{tokenize(condition, values)}"
    layer = {(name, i): Task((name, i), _select, Ref((condition.name, i)), Ref((values.name, i)))
             for i in range(values.numblocks[0])}
    return new_array(layer, name, ((math.nan,) * values.numblocks[0],), values.dtype, deps=(condition, values),
                     meta=values._meta)


# -- atop ------------------------------------------------------------------------------------------------------
class AtopMovedWarning(UserWarning, FutureWarning):
    """``atop`` is the old name of ``blockwise``.

    A ``UserWarning``, as Dask raises, so filters written for Dask keep working; also a ``FutureWarning``,
    Python's category for deprecations aimed at end users.
    """


def atop(*args: Any, **kwargs: Any) -> Any:
    """The old name of :func:`blockwise`: warns, then calls it with the same arguments.

    Mirrors ``dask.array.atop``, which warns "The da.atop function has moved to da.blockwise".

    >>> import warnings, numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(4), chunks=2)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     atop(np.add, "i", x, "i", 1, None).compute()
    array([1, 2, 3, 4])
    """
    warnings.warn("shoal.array.atop has moved to shoal.array.blockwise (same arguments); call blockwise instead.",
                  AtopMovedWarning, stacklevel=2)
    return blockwise(*args, **kwargs)

"""The generic tree reduction behind every shoal.array reduction, and its argument checks.

A reduction over ``axis`` runs in three kinds of tasks: **chunk** (one per
block, a small partial result with the reduced axes kept), **combine** (groups
of at most ``split_every`` neighbouring partials merged, level after level)
and **aggregate** (the last merge, which makes the answer). See
:mod:`shoal.array._reductions` for the whole model; the families of partial
results live in :mod:`._moments` (mean, variance, moments),
:mod:`._argreductions` and :mod:`._cumulative`.
"""

from __future__ import annotations

import inspect
import math
import operator
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal import config
from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._from_array import asarray
from shoal.array._concatenate import concatenate_chunks
from shoal.array._ma_chunk import has_masked
from shoal.delayed import funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["normalize_axis", "reduction"]

_builtin_any, _builtin_max, _builtin_min = any, max, min

#: Blocks one combine task reads when neither the call nor the config says.
_DEFAULT_SPLIT_EVERY = 16

# -- arguments -----------------------------------------------------------------------------------------------
def normalize_axis(axis: Any, ndim: int, what: str = "reduction") -> tuple[int, ...]:
    """Reduced axes as a sorted tuple of non-negative ints (``None``: all axes).

    >>> normalize_axis(-1, 3), normalize_axis((0, 2), 3), normalize_axis(None, 2)
    ((2,), (0, 2), (0, 1))
    """
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, Integral | tuple | list):
        raise TypeError(f"{what}: axis must be an int, a tuple of ints or None, got {axis!r}.")
    axes = (axis,) if isinstance(axis, Integral) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, Integral):
            raise TypeError(f"{what}: axis must be an int, a tuple of ints or None, got {axis!r}.")
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim, msg_prefix=what)
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: duplicate value in 'axis' ({axis!r}).")
    return tuple(sorted(out))


def _split_every(split_every: Any, axes: tuple[int, ...], ndim: int) -> dict[int, int]:
    """Blocks each combine task reads along each reduced axis (at least 2, so the tree shrinks)."""
    if split_every is None:
        split_every = config.get("split_every", None) or _DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        given = {int(k) % ndim: v for k, v in split_every.items()} if ndim else {}
        return {a: _builtin_max(int(given.get(a, 2)), 2) for a in axes}
    if not isinstance(split_every, Integral) or split_every < 1:
        raise ValueError(f"split_every must be an int >= 2 or a dict {{axis: int}}, got {split_every!r}.")
    # Share the budget among the axes: 16 blocks per task is 4 x 4 for two axes.
    per_axis = _builtin_max(int(split_every ** (1 / _builtin_max(len(axes), 1)) + 1e-9), 2)
    return dict.fromkeys(axes, per_axis)


def _no_out(out: Any) -> None:
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: y = x.sum(axis=0).")


def _numpy_dtype(np_func: Callable[..., Any], input_dtype: Any, /, **kwargs: Any) -> np.dtype[Any]:
    """The dtype NumPy's ``np_func`` returns for input ``dtype`` (raises NumPy's error for bad dtypes)."""
    sample = np.zeros((1,), dtype=input_dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(np_func(sample, **kwargs)).dtype


def _need_known(x: ArrayBase, axes: Sequence[int], what: str) -> None:
    for a in axes:
        if _builtin_any(isinstance(c, float) and math.isnan(c) for c in x.chunks[a]):
            raise ValueError(
                f"{what} needs the block lengths along axis {a} of {x.name!r}, but they are unknown (nan) after "
                f"an operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
            )


def _forbid_empty(x: ArrayBase, axes: Sequence[int], message: str) -> None:
    """Raise NumPy's ValueError when a reduction without identity meets a known empty axis."""
    if _builtin_any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{message} (shape {tuple(x.shape)}, axis {tuple(axes)}).")


# -- the tree --------------------------------------------------------------------------------------------------
def _concat_along(parts: list[Any], axis: int) -> Any:
    """Concatenate partial results (arrays, or dicts or tuples of arrays) along ``axis``."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, dict):
        return {k: _concat_along([p[k] for p in parts], axis) for k in first}
    if isinstance(first, tuple):
        return tuple(_concat_along([p[i] for p in parts], axis) for i in range(len(first)))
    return concatenate_chunks(parts, axis)


def concatenate_partials(nested: Any, axes: Sequence[int]) -> Any:
    """Concatenate a nested list of partial results, one nesting level per axis in ``axes``."""
    if not axes:
        return nested
    parts = [concatenate_partials(p, axes[1:]) for p in nested] if len(axes) > 1 else list(nested)
    return _concat_along(parts, axes[0])


def _map_chunk(layer: dict[Any, Any], x: ArrayBase, chunk: Callable[..., Any], axes: tuple[int, ...],
               name: str, per_block: Callable[[tuple[int, ...]], dict[str, Any]] | None = None) -> None:
    """Add one chunk task per block of ``x`` to ``layer``; its blocks are ``(name, *index)``.

    When ``x``'s block is an element-wise call (``a + b``, ``np.exp(a)``), the
    chunk task makes the call itself, on the same arguments: it can then
    evaluate it tile by tile when an operand is a transposed view (see
    :func:`_elementwise_tiled`), and the block never exists as a separate result.
    """
    for index in product(*(range(n) for n in x.numblocks)):
        key = (name, *index)
        extra = per_block(index) if per_block is not None else {}
        producer = x._layer.get((x.name, *index))
        if isinstance(producer, Task) and _is_elementwise(producer.func):
            layer[key] = Task(key, _fused_chunk, chunk, producer.func, dict(producer.kwargs), *producer.args,
                              axis=axes, keepdims=True, **extra)
        else:
            layer[key] = Task(key, chunk, Ref((x.name, *index)), axis=axes, keepdims=True, **extra)


#: Python operators and the ufuncs they call on NumPy arrays.
_ELEMENTWISE_UFUNC: dict[Any, np.ufunc] = {
    operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply, operator.truediv: np.true_divide,
    operator.floordiv: np.floor_divide, operator.mod: np.remainder, operator.pow: np.power,
    operator.and_: np.bitwise_and, operator.or_: np.bitwise_or, operator.xor: np.bitwise_xor,
    operator.lshift: np.left_shift, operator.rshift: np.right_shift, operator.lt: np.less,
    operator.le: np.less_equal, operator.eq: np.equal, operator.ne: np.not_equal, operator.gt: np.greater,
    operator.ge: np.greater_equal, operator.neg: np.negative, operator.pos: np.positive,
    operator.abs: np.absolute, operator.invert: np.invert,
}
#: Tiles of this many elements per side keep a transposed operand's tile in L2 cache.
_TILE = 128


def _is_elementwise(func: Any) -> bool:
    if isinstance(func, np.ufunc):
        return func.nout == 1 and func.signature is None  # np.matmul is a ufunc too, but not element-wise
    try:
        return func in _ELEMENTWISE_UFUNC
    except TypeError:  # unhashable callables are not operators
        return False


def _fused_chunk(chunk: Callable[..., Any], func: Any, func_kwargs: dict[str, Any], *operands: Any,
                 axis: tuple[int, ...], keepdims: bool, **chunk_kwargs: Any) -> Any:
    return chunk(_elementwise_tiled(func, operands, func_kwargs), axis=axis, keepdims=keepdims, **chunk_kwargs)


def _elementwise_tiled(func: Any, operands: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``func(*operands)``, computed in square tiles when a 2-d operand is laid out transposed.

    ``x + x.T`` adds a row-major block to a column-major view; done in one
    call, every row of the result reads a column of the view, one cache line
    and one memory page per element. Tile by tile, the view's tile stays in
    cache and the call runs about twice as fast.
    """
    arrays = [o for o in operands if isinstance(o, np.ndarray)]
    if has_masked(arrays):  # the tiles are written into a plain array, which would drop the mask
        return func(*operands, **kwargs)
    if not arrays or _builtin_max(a.ndim for a in arrays) != 2 or not _builtin_any(
            a.ndim == 2 and a.shape[0] > 1 and a.shape[1] > 1 and abs(a.strides[0]) < abs(a.strides[1])
            for a in arrays):
        return func(*operands, **kwargs)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    if shape[0] * shape[1] < 4 * _TILE * _TILE:
        return func(*operands, **kwargs)
    ufunc = _ELEMENTWISE_UFUNC.get(func, func)
    views = [np.broadcast_to(o, shape) if isinstance(o, np.ndarray) else o for o in operands]
    out = None
    for i in range(0, shape[0], _TILE):
        for j in range(0, shape[1], _TILE):
            parts = [v[i:i + _TILE, j:j + _TILE] if isinstance(v, np.ndarray) else v for v in views]
            if out is None:
                first = ufunc(*parts, **kwargs)
                out = np.empty(shape, dtype=first.dtype)
                out[i:i + _TILE, j:j + _TILE] = first
            else:
                ufunc(*parts, out=out[i:i + _TILE, j:j + _TILE], **kwargs)
    return out


def _tree(layer: dict[Any, Any], source: str, numblocks: tuple[int, ...], axes: tuple[int, ...],
          split: dict[int, int], combine: Callable[..., Any], aggregate: Callable[..., Any], keepdims: bool,
          prefix: str, token: str, concatenate: bool) -> str:
    """Add the combine levels and the aggregate step to ``layer``; return the output's name."""
    level = 0
    current = list(numblocks)
    while True:
        final = not _builtin_any(current[a] > split[a] for a in axes)
        group = {a: current[a] if final else split[a] for a in axes}
        name = f"{prefix}-aggregate-{token}" if final else f"{prefix}-partial{level}-{token}"
        func = aggregate if final else combine
        out_counts = [math.ceil(n / group[a]) if a in group else n for a, n in enumerate(current)]
        for out_index in product(*(range(n) for n in out_counts)):
            spans = {a: range(out_index[a] * group[a], _builtin_min((out_index[a] + 1) * group[a], current[a]))
                     for a in axes}
            nested = _nest_refs(source, list(out_index), axes, spans, 0)
            argument = Task(None, concatenate_partials, nested, axes) if concatenate else nested
            key_index = out_index if (keepdims or not final) else tuple(
                i for a, i in enumerate(out_index) if a not in group)
            key = (name, *key_index)
            layer[key] = Task(key, func, argument, axis=axes, keepdims=keepdims if final else True)
        if final:
            return name
        source, current, level = name, out_counts, level + 1


def _nest_refs(source: str, index: list[int], axes: tuple[int, ...], spans: dict[int, range], depth: int) -> Any:
    if depth == len(axes):
        return Ref((source, *index))
    axis = axes[depth]
    out = []
    for i in spans[axis]:
        index[axis] = i
        out.append(_nest_refs(source, index, axes, spans, depth + 1))
    return out


def _reduce(x: ArrayBase, chunk: Callable[..., Any], combine: Callable[..., Any], aggregate: Callable[..., Any],
            axes: tuple[int, ...], keepdims: bool, dtype: Any, split_every: Any, prefix: str, params: Any,
            concatenate: bool = True, output_size: int = 1, per_block: Any = None, meta: Any = None) -> Any:
    """Build a tree reduction of ``x`` (see the module docstring); ``params`` go into the token."""
    token = tokenize(x, prefix, chunk, combine, aggregate, axes, keepdims, dtype, split_every, concatenate,
                     output_size, params)
    split = _split_every(split_every, axes, x.ndim)
    layer: dict[Any, Any] = {}
    chunk_name = f"{prefix}-chunk-{token}"
    _map_chunk(layer, x, chunk, axes, chunk_name, per_block)
    name = _tree(layer, chunk_name, x.numblocks, axes, split, combine, aggregate, keepdims, prefix, token,
                 concatenate)
    if keepdims:
        chunks = tuple((output_size,) if a in axes else c for a, c in enumerate(x.chunks))
    else:
        chunks = tuple(c for a, c in enumerate(x.chunks) if a not in axes)
    if meta is None:
        meta = meta_from_dtype(dtype, len(chunks))
    return new_array(layer, name, chunks, dtype, deps=(x,), meta=meta)


def _accepts_dtype(func: Callable[..., Any]) -> bool:
    try:
        return "dtype" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def reduction(x: Any, chunk: Callable[..., Any], aggregate: Callable[..., Any], axis: Any = None,
              keepdims: bool = False, dtype: Any = None, split_every: Any = None,
              combine: Callable[..., Any] | None = None, name: str | None = None, out: Any = None,
              concatenate: bool = True, output_size: int = 1, meta: Any = None) -> Any:
    """Reduce ``x`` along ``axis`` with a tree of ``chunk``, ``combine`` and ``aggregate`` tasks.

    Parameters
    ----------
    x : Array
    chunk : callable ``chunk(block, axis, keepdims)``
        Runs on every block; must keep the reduced axes (``keepdims=True``
        is passed) so that results concatenate. May return an array or a
        dict or tuple of arrays.
    aggregate : callable ``aggregate(partials, axis, keepdims)``
        Turns the concatenated partial results into the answer.
    axis : int, tuple of ints or None
        Axes to reduce (``None``: all).
    keepdims : bool
        Keep the reduced axes, with length ``output_size``.
    dtype : dtype, optional
        The output dtype; inferred by running the functions on a one-element
        sample if omitted. Passed to ``chunk`` and ``aggregate`` when they
        take a ``dtype`` argument.
    split_every : int or dict, optional
        At most this many partial results per combine task (an int shared
        among the reduced axes, or ``{axis: n}``); default: the
        ``split_every`` setting, else 16.
    combine : callable, optional
        Merges groups of partial results between the levels (default:
        ``aggregate``); must keep dimensions.
    name : str, optional
        Prefix of the output's keys.
    concatenate : bool
        Concatenate partial results along the reduced axes before
        ``combine``/``aggregate`` (else they get nested lists).
    output_size : int
        Length of each partial result along the reduced axes.

    Notes
    -----
    Mirrors ``dask.array.reduction``; differences: ``dtype`` may be omitted
    (it is inferred), partial results may be dicts or tuples of arrays, and
    ``weights=`` is not supported.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(10), chunks=3)
    >>> reduction(x, np.sum, np.sum, dtype=x.dtype).compute()
    np.int64(45)
    >>> reduction(x, np.max, np.max, split_every=2).compute()
    np.int64(9)
    """
    x = asarray(x)
    _no_out(out)
    axes = normalize_axis(axis, x.ndim, "reduction")
    if dtype is not None:
        if _accepts_dtype(chunk):
            chunk = partial(chunk, dtype=dtype)
        if _accepts_dtype(aggregate):
            aggregate = partial(aggregate, dtype=dtype)
    combine = combine or aggregate
    if dtype is None and meta is None:
        try:
            sample = np.ones((1,) * x.ndim, dtype=x.dtype)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                dtype = np.asarray(aggregate(chunk(sample, axis=axes, keepdims=True), axis=axes,
                                             keepdims=keepdims)).dtype
        except Exception as exc:
            raise ValueError(
                f"reduction could not infer the output dtype by running {funcname(chunk)} and "
                f"{funcname(aggregate)} on a one-element sample ({type(exc).__name__}: {exc}). Pass dtype=."
            ) from exc
    if dtype is None:
        dtype = meta.dtype
    prefix = name or funcname(chunk).strip("_") or "reduction"
    return _reduce(x, chunk, combine, aggregate, axes, keepdims, np.dtype(dtype), split_every, prefix, None,
                   concatenate=concatenate, output_size=output_size, meta=meta)



# -- helpers shared by the families of partial results ---------------------------------------------------------
def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if a in axis else n for a, n in enumerate(shape))


def _nan_mask(block: Any, nan: bool) -> Any:
    if nan and block.dtype.kind in "fc":
        mask = np.isnan(block)
        return mask if mask.any() else None
    return None


def _simple(x: Any, axis: Any, keepdims: bool, split_every: Any, what: str, dtype: Any,
            chunk: Callable[..., Any], combine: Callable[..., Any], aggregate: Callable[..., Any] | None = None,
            params: Any = None) -> Any:
    axes = normalize_axis(axis, x.ndim, what)
    return _reduce(x, chunk, combine, aggregate or combine, axes, keepdims, dtype, split_every, what, params)

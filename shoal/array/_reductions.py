"""Reductions (``sum``, ``mean``, ``std``, ``argmin``, ...) and cumulative sums, as tree reductions.

The model
    A reduction over ``axis`` runs in three kinds of tasks:

    1. **chunk**: one task per block computes a small *partial result* with
       the reduced axes kept (length 1): a sum, or for ``mean`` a dict
       ``{"n": counts, "total": sums}``, for ``var`` counts, means and
       central moments, for ``argmin`` the best values and their global
       indices. It is a task of its own that reads one block, so graph fusion
       runs it inside the task that makes the block (``(x + 1).sum()`` never
       keeps ``x + 1`` alive).
    2. **combine**: groups of at most ``split_every`` neighbouring partial
       results (per reduced axis) are concatenated along the reduced axes and
       merged into one, level after level, until one partial per output block
       remains along every reduced axis.
    3. **aggregate**: the last merge, which turns the partial result into the
       answer (divides by the count, takes the square root, drops the
       reduced axes unless ``keepdims``).

    Every task reads a bounded number of blocks and the tree has depth
    ``log(blocks) / log(split_every)``; with the depth-first priorities of
    :func:`shoal.graph.order`, 10,000 blocks reduce with a few dozen results
    alive. ``split_every`` is an int (blocks per task, shared among the
    reduced axes) or ``{axis: n}``; it defaults to the ``split_every``
    setting, else 16.

Partial results of variance and moments
    Each block keeps ``n``, its mean and its central moment sums
    ``M_p = sum((x - mean) ** p)``. Groups merge with the exact formula of
    Chan, Golub & LeVeque (1979), generalized to higher moments by Pébay
    (2008): with ``d_i = mean_i - mean``,
    ``M_p = sum_i sum_k C(p, k) d_i ** k M_{p-k, i}`` (``M_0 = n``,
    ``M_1 = 0``), which never subtracts two large sums. Within a large block
    the two passes (mean, then deviations) run slab by slab over the first
    axis, so the second pass reads from cache rather than memory.

Cumulative sums and products
    The blocked prefix algorithm: block ``j`` along the axis is
    ``cumsum(x_j) + carry_j``, where ``carry_j = carry_{j-1} + sum(x_{j-1})``
    is a small chain of tasks over the block totals. The per-block work runs
    in parallel; only the carries (one slice per block) are sequential.

All of these are registered for ``__array_function__``, so ``np.sum(x)``
stays lazy. Result dtypes are NumPy's (found by running NumPy on a one-element
sample), and NumPy's warnings for empty or all-NaN slices are raised, at
compute time, where NumPy raises them.
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
from shoal.array._chunks import chunk_offsets
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.delayed import funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "ReductionMethods", "all", "any", "argmax", "argmin", "count_nonzero", "cumprod", "cumsum", "max", "mean",
    "min", "moment", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmin",
    "nanprod", "nanstd", "nansum", "nanvar", "prod", "ptp", "reduction", "std", "sum", "var",
]

_builtin_any, _builtin_max, _builtin_min, _builtin_sum = any, max, min, sum

#: Blocks one combine task reads when neither the call nor the config says.
_DEFAULT_SPLIT_EVERY = 16
#: Within a block larger than twice this, two-pass statistics run slab by slab
#: of about this many bytes, so the second pass reads from the core's L2 cache.
_SLAB_BYTES = 1 << 20


# -- arguments -----------------------------------------------------------------------------------------------
def normalize_axis(axis: Any, ndim: int, what: str = "reduction") -> tuple[int, ...]:
    """Reduced axes as a sorted tuple of non-negative ints (``None``: all axes).

    >>> normalize_axis(-1, 3), normalize_axis((0, 2), 3), normalize_axis(None, 2)
    ((2,), (0, 2), (0, 1))
    """
    if axis is None:
        return tuple(range(ndim))
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
    return np.concatenate(parts, axis=axis)


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
        return func.nout == 1
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


# -- per-block functions: ufunc reductions --------------------------------------------------------------------
def _ufunc_reduce(block: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc, dtype: Any = None) -> Any:
    return ufunc.reduce(block, axis=axis, dtype=dtype, keepdims=keepdims)


def _nan_reduce(block: Any, axis: tuple[int, ...], keepdims: bool, np_func: Callable[..., Any], dtype: Any) -> Any:
    # Chunk step of nansum/nanprod; later steps use the plain ufunc, since a
    # partial result is NaN only from inf - inf, which must propagate.
    return np_func(block, axis=axis, dtype=dtype, keepdims=keepdims)


def _extreme_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc) -> Any:
    # A block empty along a reduced axis contributes nothing: hand on an empty
    # slice (no identity exists), which concatenation drops.
    if _builtin_any(block.shape[a] == 0 for a in axis):
        return block[tuple(slice(0, 0) if a in axis else slice(None) for a in range(block.ndim))]
    return ufunc.reduce(block, axis=axis, keepdims=keepdims)


def _extreme_aggregate(parts: Any, axis: tuple[int, ...], keepdims: bool, ufunc: np.ufunc, warn_nan: bool) -> Any:
    out = ufunc.reduce(parts, axis=axis, keepdims=keepdims)
    if warn_nan and np.isnan(out).any():
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
    return out


def _any_all(block: Any, axis: tuple[int, ...], keepdims: bool, np_func: Callable[..., Any]) -> Any:
    return np_func(block, axis=axis, keepdims=keepdims)


def _count_nonzero_chunk(block: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    return np.asarray(np.count_nonzero(block, axis=axis, keepdims=keepdims), dtype=np.intp)


def _ptp_chunk(block: Any, axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return {"min": _extreme_chunk(block, axis, keepdims, np.minimum),
            "max": _extreme_chunk(block, axis, keepdims, np.maximum)}


def _ptp_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return {"min": np.minimum.reduce(parts["min"], axis=axis, keepdims=keepdims),
            "max": np.maximum.reduce(parts["max"], axis=axis, keepdims=keepdims)}


def _ptp_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, dtype: Any) -> Any:
    done = _ptp_combine(parts, axis, keepdims)
    return np.subtract(done["max"], done["min"], dtype=dtype)


# -- per-block functions: mean, variance, moments -------------------------------------------------------------
def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if a in axis else n for a, n in enumerate(shape))


def _count(block: Any, axis: tuple[int, ...], mask: Any) -> Any:
    if mask is None:
        return np.full(_kept_shape(block.shape, axis), math.prod(block.shape[a] for a in axis), dtype=np.intp)
    return np.add.reduce(~mask, axis=axis, keepdims=True, dtype=np.intp)


def _nan_mask(block: Any, nan: bool) -> Any:
    if nan and block.dtype.kind in "fc":
        mask = np.isnan(block)
        return mask if mask.any() else None
    return None


def _mean_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, acc: Any, nan: bool) -> dict[str, Any]:
    mask = _nan_mask(block, nan)
    if mask is not None:
        block = np.where(mask, 0, block)
    return {"n": _count(block, axis, mask), "total": np.add.reduce(block, axis=axis, dtype=acc, keepdims=True)}


def _mean_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool) -> dict[str, Any]:
    return {"n": np.add.reduce(parts["n"], axis=axis, keepdims=keepdims),
            "total": np.add.reduce(parts["total"], axis=axis, keepdims=keepdims)}


def _mean_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, dtype: Any) -> Any:
    done = _mean_combine(parts, axis, keepdims)
    n = done["n"]
    if (n == 0).any():
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(done["total"], n, dtype=done["total"].dtype).astype(dtype, copy=False)


def _central_sums(block: Any, axis: tuple[int, ...], acc: Any, order: int, nan: bool,
                  absolute: bool) -> dict[str, Any]:
    """Count, mean and central moment sums ``m2..m{order}`` of one block (two passes)."""
    mask = _nan_mask(block, nan)
    if mask is not None:
        block = np.where(mask, 0, block)
    n = _count(block, axis, mask)
    total = np.add.reduce(block, axis=axis, dtype=acc, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.true_divide(total, n, dtype=total.dtype)
    if mask is not None or not n.all():
        mean = np.where(n > 0, mean, 0).astype(total.dtype, copy=False)
    dev = np.asarray(np.subtract(block, mean, dtype=mean.dtype))
    if mask is not None:
        np.copyto(dev, 0, where=mask)
    out = {"n": n, "mean": mean}
    if absolute:  # complex variance: sums of |x - mean| ** 2, real
        power = dev.real * dev.real
        power += dev.imag * dev.imag
    else:
        power = dev * dev
    out["m2"] = np.add.reduce(power, axis=axis, keepdims=True)
    for p in range(3, order + 1):
        power *= dev
        out[f"m{p}"] = np.add.reduce(power, axis=axis, keepdims=True)
    return out


def _moment_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, acc: Any, order: int, nan: bool,
                  absolute: bool) -> dict[str, Any]:
    rows = block.shape[0] if block.ndim else 0
    if block.nbytes <= 2 * _SLAB_BYTES or rows < 2:
        return _central_sums(block, axis, acc, order, nan, absolute)
    # Slab by slab over axis 0, so that the deviations pass re-reads the slab
    # from cache; merge the slabs' statistics exactly (see the module docstring).
    step = _builtin_max(1, _SLAB_BYTES // _builtin_max(block.nbytes // rows, 1))
    parts = [_central_sums(block[i:i + step], axis, acc, order, nan, absolute) for i in range(0, rows, step)]
    joined = _concat_along(parts, 0)
    return _moment_merge(joined, (0,), order, absolute) if 0 in axis else joined


def _moment_merge(parts: dict[str, Any], axis: tuple[int, ...], order: int, absolute: bool) -> dict[str, Any]:
    """Merge groups of (n, mean, m2..m{order}) along ``axis``, keeping dimensions."""
    n_i, mean_i = parts["n"], parts["mean"]
    n = np.add.reduce(n_i, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.add.reduce(n_i * mean_i, axis=axis, keepdims=True) / n
    if not np.all(n):
        mean = np.where(n > 0, mean, 0)
    delta = mean_i - mean
    out = {"n": n, "mean": mean.astype(mean_i.dtype, copy=False)}
    for p in range(2, order + 1):
        total = np.add.reduce(parts[f"m{p}"], axis=axis, keepdims=True)
        if absolute:  # order is 2: |delta| ** 2
            total = total + np.add.reduce(n_i * (delta.real ** 2 + delta.imag ** 2), axis=axis, keepdims=True)
        else:
            for k in range(1, p - 1):
                total = total + math.comb(p, k) * np.add.reduce(parts[f"m{p - k}"] * delta ** k, axis=axis,
                                                                  keepdims=True)
            total = total + np.add.reduce(n_i * delta ** p, axis=axis, keepdims=True)
        out[f"m{p}"] = total.astype(parts[f"m{p}"].dtype, copy=False)
    return out


def _moment_combine(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, order: int,
                    absolute: bool) -> dict[str, Any]:
    return _moment_merge(parts, axis, order, absolute)


def _moment_aggregate(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, order: int, absolute: bool,
                      ddof: float, dtype: Any, nan: bool, root: bool) -> Any:
    done = _moment_merge(parts, axis, order, absolute)
    dof = done["n"] - ddof
    bad = dof <= 0
    if bad.any():
        warnings.warn("Degrees of freedom <= 0 for slice" + ("." if nan else ""), RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # NumPy's var divides by max(n - ddof, 0) (inf or nan); nanvar gives nan.
        result = done[f"m{order}"] / np.maximum(dof, 0)
        if nan and bad.any():
            result = np.where(bad, np.nan, result)
        if root:
            result = np.sqrt(result)
    if not keepdims:
        result = np.reshape(result, tuple(s for a, s in enumerate(np.shape(result)) if a not in axis))
    return np.asarray(result).astype(dtype, copy=False)


def _fill_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, value: Any, dtype: Any) -> Any:
    shape = _kept_shape(block.shape, axis)
    if not keepdims:
        shape = tuple(s for a, s in enumerate(shape) if a not in axis)
    return np.full(shape, value, dtype=dtype)


# -- per-block functions: argmin / argmax ---------------------------------------------------------------------
def _arg_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, kind: str, nan: bool, offset: tuple[int, ...],
               shape: tuple[int, ...]) -> dict[str, Any]:
    """Best values of a block and their indices in the whole array (flat indices if several axes)."""
    if _builtin_any(block.shape[a] == 0 for a in axis):
        empty = tuple(0 if a in axis else n for a, n in enumerate(block.shape))
        return {"v": np.empty(empty, block.dtype), "i": np.empty(empty, np.intp)}
    flat = len(axis) != 1
    work = block.reshape(-1) if flat else block
    ax = 0 if flat else axis[0]
    argfunc = np.argmin if kind == "min" else np.argmax
    mask = _nan_mask(work, nan)
    if mask is None:
        local = argfunc(work, axis=ax, keepdims=True)
        values = np.take_along_axis(work, local, axis=ax)
    else:
        # Hide NaNs behind the worst value; an all-NaN slice reports NaN. Where the
        # best is that fill value itself, the first real occurrence must win over a NaN.
        fill = np.inf if kind == "min" else -np.inf
        filled = np.where(mask, fill, work)
        local = argfunc(filled, axis=ax, keepdims=True)
        values = np.take_along_axis(filled, local, axis=ax)
        all_nan = mask.all(axis=ax, keepdims=True)
        tie = (values == fill) & ~all_nan
        if tie.any():
            local = np.where(tie, np.argmax(work == fill, axis=ax, keepdims=True), local)
        values = np.where(all_nan, np.nan, values)
    if flat:
        if block.ndim == 0:
            index = np.zeros((), np.intp)
        else:
            where = np.unravel_index(int(local[0]), block.shape)
            index = np.asarray(np.ravel_multi_index(tuple(w + o for w, o in zip(where, offset, strict=True)),
                                                    shape), dtype=np.intp)
        kept = (1,) * block.ndim
        return {"v": values.reshape(kept), "i": index.reshape(kept)}
    return {"v": values, "i": (local + offset[ax]).astype(np.intp, copy=False)}


def _arg_merge(parts: dict[str, Any], axis: tuple[int, ...], keepdims: bool, kind: str, nan: bool,
               final: bool) -> Any:
    values, index = parts["v"], parts["i"]
    candidates = math.prod(values.shape[a] for a in axis)
    if candidates == 0:
        raise ValueError(f"attempt to get arg{kind} of an empty sequence")
    kept = _kept_shape(values.shape, axis)
    others = tuple(s for a, s in enumerate(values.shape) if a not in axis)
    target = tuple(range(values.ndim - len(axis), values.ndim))
    values = np.moveaxis(values, axis, target).reshape((*others, candidates))
    index = np.moveaxis(index, axis, target).reshape((*others, candidates))
    if kind == "min":
        best = (np.fmin if nan else np.minimum).reduce(values, axis=-1, keepdims=True)
    else:
        best = (np.fmax if nan else np.maximum).reduce(values, axis=-1, keepdims=True)
    winners = values == best
    if values.dtype.kind in "fc":
        winners |= np.isnan(values) & np.isnan(best)
    # Ties go to the smallest index, as NumPy returns the first occurrence.
    chosen = np.where(winners, index, np.iinfo(np.intp).max).min(axis=-1, keepdims=True)
    if not final:
        return {"v": best.reshape(kept), "i": chosen.reshape(kept)}
    if nan and values.dtype.kind in "fc" and np.isnan(best).any():
        raise ValueError("All-NaN slice encountered")
    return chosen.reshape(kept if keepdims else others)


# -- per-block functions: cumulative ---------------------------------------------------------------------------
def _cum_block(block: Any, axis: int, dtype: Any, func: Callable[..., Any]) -> Any:
    return func(block, axis=axis, dtype=dtype)


def _cum_block_with_carry(block: Any, carry: Any, axis: int, dtype: Any, func: Callable[..., Any],
                          ufunc: np.ufunc) -> Any:
    out = func(block, axis=axis, dtype=dtype)
    ufunc(out, carry, out=out)  # ``out`` is ours: adding the carry in place saves a copy
    return out


def _next_carry(previous: Any, block: Any, axis: int, dtype: Any, total: Callable[..., Any],
                ufunc: np.ufunc) -> Any:
    step = total(block, axis=axis, dtype=dtype, keepdims=True)
    return step if previous is None else ufunc(previous, step)


# -- building the reductions ----------------------------------------------------------------------------------
def _simple(x: Any, axis: Any, keepdims: bool, split_every: Any, what: str, dtype: Any,
            chunk: Callable[..., Any], combine: Callable[..., Any], aggregate: Callable[..., Any] | None = None,
            params: Any = None) -> Any:
    axes = normalize_axis(axis, x.ndim, what)
    return _reduce(x, chunk, combine, aggregate or combine, axes, keepdims, dtype, split_every, what, params)


@implements(np.sum)
def sum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
        out: Any = None) -> Any:
    """Sum of the elements along ``axis``.

    Mirrors ``numpy.sum`` (small integers sum as the platform integer); adds
    ``split_every``, the fan-in of the tree reduction.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> sa.sum(x, axis=0).compute()
    array([12, 15, 18, 21])
    >>> int(x.sum())
    66
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.sum, a.dtype, dtype=dtype)
    step = partial(_ufunc_reduce, ufunc=np.add, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "sum", dtype, step, step)


@implements(np.prod)
def prod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
         out: Any = None) -> Any:
    """Product of the elements along ``axis``; mirrors ``numpy.prod``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.prod(sa.from_array(np.arange(1, 6), chunks=2)).compute()
    np.int64(120)
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.prod, a.dtype, dtype=dtype)
    step = partial(_ufunc_reduce, ufunc=np.multiply, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "prod", dtype, step, step)


@implements(np.nansum)
def nansum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
           out: Any = None) -> Any:
    """Sum treating NaNs as zero; mirrors ``numpy.nansum``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.nansum(sa.from_array(np.array([1.0, np.nan, 2.0]), chunks=2)).compute()
    np.float64(3.0)
    """
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.nansum, a.dtype, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "nansum", dtype,
                   partial(_nan_reduce, np_func=np.nansum, dtype=dtype), partial(_ufunc_reduce, ufunc=np.add))


@implements(np.nanprod)
def nanprod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
    """Product treating NaNs as one; mirrors ``numpy.nanprod``."""
    a = asarray(a)
    _no_out(out)
    dtype = _numpy_dtype(np.nanprod, a.dtype, dtype=dtype)
    return _simple(a, axis, keepdims, split_every, "nanprod", dtype,
                   partial(_nan_reduce, np_func=np.nanprod, dtype=dtype), partial(_ufunc_reduce, ufunc=np.multiply))


def _extreme(a: Any, axis: Any, keepdims: bool, split_every: Any, out: Any, what: str, ufunc: np.ufunc,
             nan: bool) -> Any:
    a = asarray(a)
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, what)
    _numpy_dtype(ufunc.reduce, a.dtype)  # NumPy's TypeError for dtypes it cannot compare
    name = "minimum" if ufunc in (np.minimum, np.fmin) else "maximum"
    _forbid_empty(a, axes, f"zero-size array to reduction operation {name} which has no identity")
    chunk = partial(_extreme_chunk, ufunc=ufunc)
    warn = nan and a.dtype.kind in "fc"
    return _reduce(a, chunk, partial(_ufunc_reduce, ufunc=ufunc),
                   partial(_extreme_aggregate, ufunc=ufunc, warn_nan=warn), axes, keepdims, a.dtype, split_every,
                   what, None)


@implements(np.min, np.amin)
def min(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Smallest element along ``axis`` (NaN if any is NaN); mirrors ``numpy.min``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.min(sa.from_array(np.array([[3, 1], [2, 5]]), chunks=1), axis=1).compute()
    array([1, 2])
    """
    return _extreme(a, axis, keepdims, split_every, out, "min", np.minimum, False)


@implements(np.max, np.amax)
def max(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Largest element along ``axis`` (NaN if any is NaN); mirrors ``numpy.max``."""
    return _extreme(a, axis, keepdims, split_every, out, "max", np.maximum, False)


@implements(np.nanmin)
def nanmin(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Smallest element ignoring NaNs; mirrors ``numpy.nanmin`` (warns on all-NaN slices)."""
    return _extreme(a, axis, keepdims, split_every, out, "nanmin", np.fmin, True)


@implements(np.nanmax)
def nanmax(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Largest element ignoring NaNs; mirrors ``numpy.nanmax`` (warns on all-NaN slices)."""
    return _extreme(a, axis, keepdims, split_every, out, "nanmax", np.fmax, True)


@implements(np.any)
def any(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Whether any element along ``axis`` is true; mirrors ``numpy.any``."""
    a = asarray(a)
    _no_out(out)
    step = partial(_any_all, np_func=np.any)
    return _simple(a, axis, keepdims, split_every, "any", np.dtype(bool), step, step)


@implements(np.all)
def all(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Whether every element along ``axis`` is true; mirrors ``numpy.all``.

    >>> import numpy as np, shoal.array as sa
    >>> bool(sa.all(sa.from_array(np.array([1, 2, 0]), chunks=2)))
    False
    """
    a = asarray(a)
    _no_out(out)
    step = partial(_any_all, np_func=np.all)
    return _simple(a, axis, keepdims, split_every, "all", np.dtype(bool), step, step)


@implements(np.count_nonzero)
def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False, split_every: Any = None) -> Any:
    """Number of non-zero elements along ``axis``; mirrors ``numpy.count_nonzero``.

    Differences: with ``axis=None`` the result is a 0-d array, not a Python int.

    >>> import numpy as np, shoal.array as sa
    >>> sa.count_nonzero(sa.from_array(np.array([0, 1, 2, 0]), chunks=3)).compute()
    np.int64(2)
    """
    a = asarray(a)
    dtype = np.dtype(np.intp)
    return _simple(a, axis, keepdims, split_every, "count_nonzero", dtype, _count_nonzero_chunk,
                   partial(_ufunc_reduce, ufunc=np.add, dtype=dtype))


@implements(np.ptp)
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, split_every: Any = None) -> Any:
    """Range (maximum minus minimum) along ``axis``; mirrors ``numpy.ptp``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ptp(sa.from_array(np.array([[4, 9], [1, 7]]), chunks=1), axis=0).compute()
    array([3, 2])
    """
    a = asarray(a)
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, "ptp")
    dtype = _numpy_dtype(np.ptp, a.dtype)
    _forbid_empty(a, axes, "zero-size array to reduction operation maximum which has no identity")
    return _reduce(a, _ptp_chunk, _ptp_combine, partial(_ptp_aggregate, dtype=dtype), axes, keepdims, dtype,
                   split_every, "ptp", None)


def _mean(a: Any, axis: Any, dtype: Any, keepdims: bool, split_every: Any, out: Any, nan: bool) -> Any:
    a = asarray(a)
    _no_out(out)
    what = "nanmean" if nan else "mean"
    result = _numpy_dtype(np.nanmean if nan else np.mean, a.dtype, dtype=dtype)
    # Accumulate as NumPy does: integers in float64, float16 in float32.
    if dtype is not None:
        acc = np.dtype(dtype)
    elif a.dtype.kind in "biu":
        acc = np.dtype(np.float64)
    elif a.dtype == np.float16:
        acc = np.dtype(np.float32)
    else:
        acc = result
    return _simple(a, axis, keepdims, split_every, what, result, partial(_mean_chunk, acc=acc, nan=nan),
                   _mean_combine, partial(_mean_aggregate, dtype=result))


@implements(np.mean)
def mean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
         out: Any = None) -> Any:
    """Arithmetic mean along ``axis``; mirrors ``numpy.mean``.

    Each block contributes its count and sum, so blocks of unknown (nan)
    length are fine.

    >>> import numpy as np, shoal.array as sa
    >>> sa.mean(sa.from_array(np.arange(6).reshape(2, 3), chunks=2), axis=1).compute()
    array([1., 4.])
    """
    return _mean(a, axis, dtype, keepdims, split_every, out, False)


@implements(np.nanmean)
def nanmean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
    """Mean ignoring NaNs; mirrors ``numpy.nanmean`` (warns on all-NaN slices)."""
    return _mean(a, axis, dtype, keepdims, split_every, out, True)


def _moments(a: Any, axis: Any, dtype: Any, keepdims: bool, ddof: float, split_every: Any, out: Any, nan: bool,
             order: int, root: bool, what: str, result: np.dtype[Any]) -> Any:
    _no_out(out)
    axes = normalize_axis(axis, a.ndim, what)
    absolute = a.dtype.kind == "c" and order == 2
    if dtype is not None:
        acc = np.dtype(dtype)
    elif a.dtype.kind in "biu":
        acc = np.dtype(np.float64)
    elif a.dtype == np.float16:
        acc = np.dtype(np.float32)
    else:
        acc = a.dtype
    chunk = partial(_moment_chunk, acc=acc, order=order, nan=nan, absolute=absolute)
    combine = partial(_moment_combine, order=order, absolute=absolute)
    aggregate = partial(_moment_aggregate, order=order, absolute=absolute, ddof=ddof, dtype=result, nan=nan,
                        root=root)
    return _reduce(a, chunk, combine, aggregate, axes, keepdims, result, split_every, what, None)


def _variance(a: Any, axis: Any, dtype: Any, keepdims: bool, ddof: float, split_every: Any, out: Any, nan: bool,
              root: bool) -> Any:
    a = asarray(a)
    what = ("nan" if nan else "") + ("std" if root else "var")
    np_func = {"var": np.var, "std": np.std, "nanvar": np.nanvar, "nanstd": np.nanstd}[what]
    result = _numpy_dtype(np_func, a.dtype, dtype=dtype)
    return _moments(a, axis, dtype, keepdims, ddof, split_every, out, nan, 2, root, what, result)


@implements(np.var)
def var(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
        split_every: Any = None, out: Any = None) -> Any:
    """Variance along ``axis``, divided by ``n - ddof``; mirrors ``numpy.var``.

    Blocks merge with Chan et al.'s stable formula, so the result is as
    accurate as NumPy's two-pass algorithm.

    >>> import numpy as np, shoal.array as sa
    >>> sa.var(sa.from_array(np.array([1.0, 2.0, 3.0, 4.0]), chunks=3)).compute()
    np.float64(1.25)
    """
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, False, False)


@implements(np.std)
def std(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
        split_every: Any = None, out: Any = None) -> Any:
    """Standard deviation along ``axis``; mirrors ``numpy.std``.

    >>> import numpy as np, shoal.array as sa
    >>> float(sa.std(sa.from_array(np.array([1.0, 3.0]), chunks=1), ddof=1)) ** 2
    2.0000000000000004
    """
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, False, True)


@implements(np.nanvar)
def nanvar(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """Variance ignoring NaNs; mirrors ``numpy.nanvar``."""
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, True, False)


@implements(np.nanstd)
def nanstd(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """Standard deviation ignoring NaNs; mirrors ``numpy.nanstd``."""
    return _variance(a, axis, dtype, keepdims, ddof, split_every, out, True, True)


def moment(a: Any, order: int, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
           split_every: Any = None, out: Any = None) -> Any:
    """The ``order``-th central moment, ``sum((x - mean) ** order) / (n - ddof)``.

    Mirrors ``dask.array.moment`` (and ``scipy.stats.moment`` with
    ``ddof=0``); complex input gives complex moments.

    >>> import numpy as np, shoal.array as sa
    >>> round(float(moment(sa.from_array(np.array([1.0, 2.0, 4.0, 7.0]), chunks=3), 3).compute()), 9)
    6.0
    """
    a = asarray(a)
    if not isinstance(order, Integral) or order < 0:
        raise ValueError(f"moment: order must be a non-negative integer, got {order!r}.")
    order = int(order)
    if dtype is not None:
        result = np.dtype(dtype)
    elif a.dtype.kind == "c":
        result = _numpy_dtype(np.mean, a.dtype)
    else:
        result = _numpy_dtype(np.var, a.dtype)
    if order < 2:
        _no_out(out)
        # Central moments 0 and 1 are 1 and 0 wherever defined; no need to read the data.
        step = partial(_fill_chunk, value=1 - order, dtype=result)
        return _simple(a, axis, keepdims, split_every, "moment", result, step, step, params=order)
    return _moments(a, axis, dtype, keepdims, ddof, split_every, out, False, order, False, "moment", result)


def _arg(a: Any, axis: Any, keepdims: bool, split_every: Any, out: Any, kind: str, nan: bool) -> Any:
    a = asarray(a)
    _no_out(out)
    what = ("nan" if nan else "") + "arg" + kind
    if axis is not None and not isinstance(axis, Integral):
        raise TypeError(f"{what}: axis must be an int or None, got {axis!r}.")
    axes = normalize_axis(axis, a.ndim, what)
    _forbid_empty(a, axes, f"attempt to get arg{kind} of an empty sequence")
    flat = len(axes) != 1
    _need_known(a, range(a.ndim) if flat else axes, what)
    starts = [chunk_offsets(c) for c in a.chunks]
    shape = tuple(int(s) for s in a.shape) if flat else ()

    def per_block(index: tuple[int, ...]) -> dict[str, Any]:
        return {"offset": tuple(int(starts[d][i]) if d in axes or flat else 0 for d, i in enumerate(index)),
                "shape": shape}

    chunk = partial(_arg_chunk, kind=kind, nan=nan)
    combine = partial(_arg_merge, kind=kind, nan=nan, final=False)
    aggregate = partial(_arg_merge, kind=kind, nan=nan, final=True)
    return _reduce(a, chunk, combine, aggregate, axes, keepdims, np.dtype(np.intp), split_every, what, None,
                   per_block=per_block)


@implements(np.argmin)
def argmin(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Index of the smallest element (flat index if ``axis`` is None); mirrors ``numpy.argmin``.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[5, 1, 7], [0, 9, 3]]), chunks=1)
    >>> sa.argmin(x).compute(), sa.argmin(x, axis=1).compute()
    (np.int64(3), array([1, 0]))
    """
    return _arg(a, axis, keepdims, split_every, out, "min", False)


@implements(np.argmax)
def argmax(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Index of the largest element (flat index if ``axis`` is None); mirrors ``numpy.argmax``."""
    return _arg(a, axis, keepdims, split_every, out, "max", False)


@implements(np.nanargmin)
def nanargmin(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Index of the smallest element ignoring NaNs; mirrors ``numpy.nanargmin`` (all-NaN slices raise)."""
    return _arg(a, axis, keepdims, split_every, out, "min", True)


@implements(np.nanargmax)
def nanargmax(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
    """Index of the largest element ignoring NaNs; mirrors ``numpy.nanargmax`` (all-NaN slices raise)."""
    return _arg(a, axis, keepdims, split_every, out, "max", True)


# -- cumulative ----------------------------------------------------------------------------------------------
def _cumulative(x: Any, axis: Any, dtype: Any, method: str, what: str, func: Callable[..., Any],
                total: Callable[..., Any], ufunc: np.ufunc) -> Any:
    x = asarray(x)
    if method not in ("sequential", "blelloch"):
        raise ValueError(f"{what}: method must be 'sequential' or 'blelloch', got {method!r}.")
    out_dtype = _numpy_dtype(func, x.dtype, dtype=dtype)
    if axis is None:
        if x.ndim == 0:
            name = f"{what}-ravel-{tokenize(x)}"
            x = new_array({(name, 0): Task((name, 0), np.reshape, Ref((x.name,)), (1,))}, name, ((1,),),
                          x.dtype, deps=(x,))
        elif x.ndim > 1:
            x = x.ravel()
        axis = 0
    if not isinstance(axis, Integral):
        raise TypeError(f"{what}: axis must be an int or None, got {axis!r}.")
    (axis,) = normalize_axis(axis, x.ndim, what)
    token = tokenize(x, what, axis, out_dtype)
    name, carry = f"{what}-{token}", f"{what}-carry-{token}"
    layer: dict[Any, Any] = {}
    for index in product(*(range(n) for n in x.numblocks)):
        key, j = (name, *index), index[axis]
        if j == 0:
            layer[key] = Task(key, _cum_block, Ref((x.name, *index)), axis, out_dtype, func)
            continue
        before = list(index)
        before[axis] = j - 1
        carry_key = (carry, *index)
        previous = Ref((carry, *before)) if j > 1 else None
        layer[carry_key] = Task(carry_key, _next_carry, previous, Ref((x.name, *before)), axis, out_dtype, total,
                                ufunc)
        layer[key] = Task(key, _cum_block_with_carry, Ref((x.name, *index)), Ref(carry_key), axis, out_dtype,
                          func, ufunc)
    return new_array(layer, name, x.chunks, out_dtype, deps=(x,))


@implements(np.cumsum)
def cumsum(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
    """Cumulative sum along ``axis`` (of the flattened array if None); mirrors ``numpy.cumsum``.

    ``method`` is accepted for Dask compatibility; both values run the
    blocked prefix algorithm (per-block sums in parallel, a chain of small
    carries).

    >>> import numpy as np, shoal.array as sa
    >>> sa.cumsum(sa.from_array(np.arange(1, 6), chunks=2)).compute()
    array([ 1,  3,  6, 10, 15])
    """
    _no_out(out)
    return _cumulative(x, axis, dtype, method, "cumsum", np.cumsum, np.sum, np.add)


@implements(np.cumprod)
def cumprod(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
    """Cumulative product along ``axis``; mirrors ``numpy.cumprod``."""
    _no_out(out)
    return _cumulative(x, axis, dtype, method, "cumprod", np.cumprod, np.prod, np.multiply)


@implements(np.nancumsum)
def nancumsum(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
    """Cumulative sum treating NaNs as zero; mirrors ``numpy.nancumsum``."""
    _no_out(out)
    return _cumulative(x, axis, dtype, method, "nancumsum", np.nancumsum, np.nansum, np.add)


@implements(np.nancumprod)
def nancumprod(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
    """Cumulative product treating NaNs as one; mirrors ``numpy.nancumprod``."""
    _no_out(out)
    return _cumulative(x, axis, dtype, method, "nancumprod", np.nancumprod, np.nanprod, np.multiply)


class ReductionMethods:
    """Reduction methods of ``Array``; each calls the function of the same name."""

    __slots__ = ()

    def sum(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
            out: Any = None) -> Any:
        """Sum along ``axis``; see :func:`shoal.array.sum`."""
        return sum(self, axis, dtype, keepdims, split_every, out)

    def prod(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
             out: Any = None) -> Any:
        """Product along ``axis``; see :func:`shoal.array.prod`."""
        return prod(self, axis, dtype, keepdims, split_every, out)

    def mean(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None,
             out: Any = None) -> Any:
        """Mean along ``axis``; see :func:`shoal.array.mean`."""
        return mean(self, axis, dtype, keepdims, split_every, out)

    def var(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
            split_every: Any = None, out: Any = None) -> Any:
        """Variance along ``axis``; see :func:`shoal.array.var`."""
        return var(self, axis, dtype, keepdims, ddof, split_every, out)

    def std(self, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
            split_every: Any = None, out: Any = None) -> Any:
        """Standard deviation along ``axis``; see :func:`shoal.array.std`."""
        return std(self, axis, dtype, keepdims, ddof, split_every, out)

    def moment(self, order: int, axis: Any = None, dtype: Any = None, keepdims: bool = False, ddof: float = 0,
               split_every: Any = None, out: Any = None) -> Any:
        """Central moment of ``order``; see :func:`shoal.array.moment`."""
        return moment(self, order, axis, dtype, keepdims, ddof, split_every, out)

    def min(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Minimum along ``axis``; see :func:`shoal.array.min`."""
        return min(self, axis, keepdims, split_every, out)

    def max(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Maximum along ``axis``; see :func:`shoal.array.max`."""
        return max(self, axis, keepdims, split_every, out)

    def argmin(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Index of the minimum; see :func:`shoal.array.argmin`."""
        return argmin(self, axis, keepdims, split_every, out)

    def argmax(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Index of the maximum; see :func:`shoal.array.argmax`."""
        return argmax(self, axis, keepdims, split_every, out)

    def any(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Whether any element is true; see :func:`shoal.array.any`."""
        return any(self, axis, keepdims, split_every, out)

    def all(self, axis: Any = None, keepdims: bool = False, split_every: Any = None, out: Any = None) -> Any:
        """Whether all elements are true; see :func:`shoal.array.all`."""
        return all(self, axis, keepdims, split_every, out)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
        """Cumulative sum; see :func:`shoal.array.cumsum`."""
        return cumsum(self, axis, dtype, out, method)

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None, method: str = "sequential") -> Any:
        """Cumulative product; see :func:`shoal.array.cumprod`."""
        return cumprod(self, axis, dtype, out, method)

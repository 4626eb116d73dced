"""Cumulative sums and products (``cumsum``, ``cumprod`` and the NaN-skipping variants).

The blocked prefix algorithm: block ``j`` along the axis is
``cumsum(x_j) + carry_j``, where ``carry_j = carry_{j-1} + sum(x_{j-1})``
is a small chain of tasks over the block totals. The per-block work runs
in parallel; only the carries (one slice per block) are sequential.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import new_array
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.array._reduction_tree import (
    _no_out,
    _numpy_dtype,
    normalize_axis,
)

__all__ = ["cumprod", "cumsum", "nancumprod", "nancumsum"]


# -- per-block functions ---------------------------------------------------------------------------------------
def _cum_block(block: Any, axis: int, dtype: Any, func: Callable[..., Any]) -> Any:
    return func(block, axis=axis, dtype=dtype)


def _cum_block_with_carry(block: Any, carry: Any, axis: int, dtype: Any, func: Callable[..., Any],
                          ufunc: np.ufunc) -> Any:
    out = func(block, axis=axis, dtype=dtype)
    target = out.data if isinstance(out, np.ma.MaskedArray) else out  # keep the mask out of the ufunc
    ufunc(target, carry, out=target)  # ``out`` is ours: adding the carry in place saves a copy
    return out


def _next_carry(previous: Any, block: Any, axis: int, dtype: Any, total: Callable[..., Any],
                ufunc: np.ufunc) -> Any:
    step = total(block, axis=axis, dtype=dtype, keepdims=True)
    if isinstance(step, np.ma.MaskedArray):  # as np.ma: masked values (and all-masked blocks) add nothing
        step = step.filled(ufunc.identity)
    return step if previous is None else ufunc(previous, step)



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

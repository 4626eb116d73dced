"""``argmin``/``argmax`` (and their NaN-skipping variants) as tree reductions.

Each block's partial result is ``{"v": best values, "i": their indices in the
whole array}`` (flat indices when several axes are reduced); merges keep the
best value and, on ties, the smallest index, as NumPy returns the first
occurrence.
"""

from __future__ import annotations

import math
from functools import partial
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._chunks import chunk_offsets
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._reduction_tree import (
    _forbid_empty,
    _kept_shape,
    _nan_mask,
    _need_known,
    _no_out,
    _reduce,
    normalize_axis,
)

__all__ = ["argmax", "argmin", "nanargmax", "nanargmin"]


# -- per-block functions ---------------------------------------------------------------------------------------
def _arg_chunk(block: Any, axis: tuple[int, ...], keepdims: bool, kind: str, nan: bool, offset: tuple[int, ...],
               shape: tuple[int, ...]) -> dict[str, Any]:
    """Best values of a block and their indices in the whole array (flat indices if several axes)."""
    if any(block.shape[a] == 0 for a in axis):
        empty = tuple(0 if a in axis else n for a, n in enumerate(block.shape))
        return {"v": np.empty(empty, block.dtype), "i": np.empty(empty, np.intp)}
    if isinstance(block, np.ma.MaskedArray):
        # As np.ma's argmin/argmax: masked values become the worst value of the dtype.
        block = block.filled(np.ma.minimum_fill_value(block) if kind == "min" else np.ma.maximum_fill_value(block))
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
    out = chosen.reshape(kept if keepdims else others)
    # A full reduction ends in a NumPy scalar, as np.argmin's does (and Dask's).
    return out[()] if out.ndim == 0 else out



# -- building the reductions ----------------------------------------------------------------------------------
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

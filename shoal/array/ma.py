"""Masked arrays: shoal arrays whose blocks are ``numpy.ma.MaskedArray``; mirrors ``dask.array.ma``.

The model
    A masked shoal array is an ordinary shoal array whose blocks are masked
    arrays, and whose ``_meta`` is an empty masked array. Each function here
    runs the ``np.ma`` function of the same name on every block, so results
    match ``np.ma`` on the whole array: element-wise operations and ufuncs
    keep masks block by block, and ``compute()`` joins the blocks with their
    masks and their common ``fill_value`` into one ``np.ma.MaskedArray``.

    The reductions of :mod:`shoal.array` (``sum``, ``mean``, ``std``, ``var``,
    ``min``, ``max``, ``prod``, ``argmin``, ``argmax``, ``cumsum``) recognise
    masked blocks at run time and leave masked values out, as ``np.ma``
    does; a block whose values are all masked contributes nothing (see
    :mod:`shoal.array._ma_chunk`).

Differences from ``np.ma``
    Values such as ``masked_equal``'s ``value`` must be scalars (build the
    condition and call :func:`masked_where` for arrays of values), and
    ``set_fill_value`` changes the shoal array it is given, which then
    computes with the new fill value. ``mean``, ``var`` and ``std`` of
    float32 data give float32, as ``np.mean`` does (``np.ma`` gives float64
    when the array has a mask). Mask and fill value of arrays built by other
    shoal operations (``x + 1``) are right when computed, but their
    ``_meta`` is a plain empty array.

Examples
--------
>>> import numpy as np, shoal.array as sa
>>> x = sa.from_array(np.arange(6.0), chunks=4)
>>> y = sa.ma.masked_greater(x, 3.0)
>>> y.compute().tolist()
[0.0, 1.0, 2.0, 3.0, None, None]
>>> float(y.sum().compute()), float(y.mean().compute())
(6.0, 1.5)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._blockwise import blockwise
from shoal.array._from_array import asarray
from shoal.array._ma_build import as_array, check_fill_value, check_scalar, masked_meta
from shoal.array._ma_stats import average, count, nonzero, where
from shoal.array._map_blocks import map_blocks

__all__ = [
    "average", "count", "empty_like", "filled", "fix_invalid", "getdata", "getmaskarray", "masked_array",
    "masked_equal", "masked_greater", "masked_greater_equal", "masked_inside", "masked_invalid", "masked_less",
    "masked_less_equal", "masked_not_equal", "masked_outside", "masked_values", "masked_where", "nonzero",
    "ones_like", "set_fill_value", "where", "zeros_like",
]


def _per_block(func: Callable[..., Any], x: Any, what: str, **kwargs: Any) -> Any:
    """``func(block, **kwargs)`` on every block of ``x``, a masked result.

    ``func`` runs once on an empty masked block first: that raises NumPy's
    errors (a ``fill_value`` of the wrong type, say) when the expression is
    built rather than at compute time, and gives the result's ``_meta``,
    ``fill_value`` included.
    """
    x = as_array(x)
    base = x._meta if isinstance(x._meta, np.ma.MaskedArray) else masked_meta(x.dtype, x.ndim)
    try:
        with np.errstate(all="ignore"):
            meta = func(base, **kwargs)
    except Exception as exc:
        exc.add_note(f"shoal: raised by shoal.array.ma.{what} on {x.name!r} (dtype {x.dtype}), tried on an empty block")
        raise
    return map_blocks(_apply, x, np_func=func, np_kwargs=kwargs, dtype=meta.dtype, meta=meta, token=what)


def _plain_per_block(func: Callable[..., Any], x: Any, dtype: Any, **kwargs: Any) -> Any:
    x = as_array(x)
    return map_blocks(_apply, x, np_func=func, np_kwargs=kwargs, dtype=dtype,
                      meta=np.empty((0,) * x.ndim, dtype=dtype), token=func.__name__)


def _apply(block: Any, np_func: Callable[..., Any], np_kwargs: dict[str, Any]) -> Any:
    # The function's own keywords travel in a dict: ``dtype=`` belongs to it, not to map_blocks.
    return np_func(block, **np_kwargs)


# -- constructors ---------------------------------------------------------------------------------------------
_MASKED_ARRAY_OPTIONS = ("keep_mask", "hard_mask", "shrink")


def _new_masked(data: Any, mask: Any, *, fill_value: Any, out_dtype: Any, options: dict[str, Any]) -> Any:
    return np.ma.masked_array(data, mask=mask, fill_value=fill_value, dtype=out_dtype, **options)


def _bool_block(block: Any) -> np.ndarray:
    return np.asarray(np.ma.getdata(block), dtype=bool)


def masked_array(data: Any, mask: Any = np.ma.nomask, fill_value: Any = None, **kwargs: Any) -> Any:
    """A masked shoal array from ``data`` and a ``mask`` (True hides a value).

    Mirrors ``numpy.ma.masked_array``; ``data`` and ``mask`` may be shoal
    arrays, NumPy (masked) arrays or lists.

    Parameters
    ----------
    data : array-like
    mask : array-like or bool, optional
        The shape of ``data``, or a single value for every element. Masks
        already on ``data`` are kept too (``keep_mask=False`` drops them).
    fill_value : scalar, optional
        The value :func:`filled` puts in masked places.
    **kwargs
        ``dtype``, ``keep_mask``, ``hard_mask``, ``shrink`` as in NumPy;
        ``copy`` is accepted and ignored (every block is a new array).

    Examples
    --------
    >>> import shoal.array as sa
    >>> x = sa.ma.masked_array([1, 2, 3], mask=[False, True, False], fill_value=-1)
    >>> x.compute().tolist(), int(x.compute().fill_value)
    ([1, None, 3], -1)
    """
    kwargs.pop("copy", None)
    out_dtype = kwargs.pop("dtype", None)
    unknown = sorted(set(kwargs) - set(_MASKED_ARRAY_OPTIONS))
    if unknown:
        raise TypeError(f"shoal.array.ma.masked_array got unsupported arguments {unknown}; it takes data, mask, "
                        f"fill_value, dtype, {', '.join(_MASKED_ARRAY_OPTIONS)} (and ignores copy).")
    data = as_array(data)
    dtype = data.dtype if out_dtype is None else np.dtype(out_dtype)
    fill_value = check_fill_value(fill_value, dtype, "masked_array")
    ind = tuple(range(data.ndim))
    mask_args: tuple[Any, ...] = (np.ma.nomask, None)
    if mask is not np.ma.nomask:
        m = mask if isinstance(mask, ArrayBase) else asarray(np.asarray(mask, dtype=bool))
        if m.size == 1:
            m = m.reshape((1,) * data.ndim)  # one value masks or keeps everything, as in NumPy
        elif m.shape != data.shape:
            raise np.ma.MaskError(
                f"Mask and data not compatible: data shape is {data.shape}, and mask shape is {m.shape}. "
                f"Pass a mask of the data's shape (reshape it first) or a single bool."
            )
        m = map_blocks(_bool_block, m, dtype=bool)
        if m.shape == data.shape:
            m = m.rechunk(data.chunks)  # a plain bool array: rechunking it is safe
        mask_args = (m, ind)
    options = {k: kwargs[k] for k in _MASKED_ARRAY_OPTIONS if k in kwargs}
    meta = _new_masked(masked_meta(data.dtype, data.ndim), np.ma.nomask, fill_value=fill_value, out_dtype=dtype,
                       options=options)
    return blockwise(_new_masked, ind, data, ind, *mask_args, fill_value=fill_value, out_dtype=dtype,
                     options=options, dtype=dtype, meta=meta, token="masked_array")


def _like(func: Callable[..., Any], a: Any, what: str, kwargs: dict[str, Any]) -> Any:
    unknown = sorted(set(kwargs) - {"dtype", "order", "subok"})
    if unknown:
        raise TypeError(f"shoal.array.ma.{what} got unsupported arguments {unknown}; it takes dtype (and "
                        f"order/subok, which do not change a shoal array).")
    dtype = kwargs.get("dtype")
    return _per_block(func, a, what, dtype=dtype)


def empty_like(a: Any, **kwargs: Any) -> Any:
    """A masked array of ``a``'s shape and chunks with uninitialized values; mirrors ``numpy.ma.empty_like``.

    Masked values of ``a`` stay masked. Keyword ``dtype`` changes the dtype.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.empty_like(sa.ma.masked_equal(np.arange(3), 1)).compute().mask.tolist()
    [False, True, False]
    """
    return _like(np.ma.empty_like, a, "empty_like", kwargs)


def ones_like(a: Any, **kwargs: Any) -> Any:
    """A masked array of ones shaped like ``a``, its mask kept; mirrors ``numpy.ma.ones_like``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.ones_like(sa.ma.masked_equal(np.arange(3), 1)).compute().tolist()
    [1, None, 1]
    """
    return _like(np.ma.ones_like, a, "ones_like", kwargs)


def zeros_like(a: Any, **kwargs: Any) -> Any:
    """A masked array of zeros shaped like ``a``, its mask kept; mirrors ``numpy.ma.zeros_like``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.zeros_like(sa.ma.masked_equal(np.arange(3), 1), dtype=float).compute().tolist()
    [0.0, None, 0.0]
    """
    return _like(np.ma.zeros_like, a, "zeros_like", kwargs)


# -- maskers --------------------------------------------------------------------------------------------------
def _compare_masker(np_func: Callable[..., Any], what: str) -> Callable[..., Any]:
    def masker(x: Any, value: Any) -> Any:
        check_scalar(value, what)
        return _per_block(np_func, x, what, value=value)

    masker.__name__ = masker.__qualname__ = what
    masker.__doc__ = (
        f"Mask the elements of ``x`` where ``{np_func.__name__}`` says so, for a scalar ``value``.\n\n"
        f"Mirrors ``numpy.ma.{what}``; differences: ``value`` must be a scalar.\n"
    )
    return masker


masked_equal = _compare_masker(np.ma.masked_equal, "masked_equal")
masked_equal.__doc__ = """Mask the elements equal to ``value``, which becomes the ``fill_value``.

Mirrors ``numpy.ma.masked_equal``; differences: ``value`` must be a scalar.

>>> import numpy as np, shoal.array as sa
>>> y = sa.ma.masked_equal(sa.from_array(np.array([1, 2, 1, 3]), chunks=2), 1).compute()
>>> y.tolist(), int(y.fill_value)
([None, 2, None, 3], 1)
"""
masked_not_equal = _compare_masker(np.ma.masked_not_equal, "masked_not_equal")
masked_greater = _compare_masker(np.ma.masked_greater, "masked_greater")
masked_greater_equal = _compare_masker(np.ma.masked_greater_equal, "masked_greater_equal")
masked_less = _compare_masker(np.ma.masked_less, "masked_less")
masked_less_equal = _compare_masker(np.ma.masked_less_equal, "masked_less_equal")


def masked_inside(x: Any, v1: Any, v2: Any) -> Any:
    """Mask the elements between ``v1`` and ``v2`` (inclusive, either order); mirrors ``numpy.ma.masked_inside``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.masked_inside(sa.from_array(np.arange(5), chunks=2), 3, 1).compute().tolist()
    [0, None, None, None, 4]
    """
    check_scalar(v1, "masked_inside", "v1")
    check_scalar(v2, "masked_inside", "v2")
    return _per_block(np.ma.masked_inside, x, "masked_inside", v1=v1, v2=v2)


def masked_outside(x: Any, v1: Any, v2: Any) -> Any:
    """Mask the elements outside ``[v1, v2]`` (either order); mirrors ``numpy.ma.masked_outside``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.masked_outside(sa.from_array(np.arange(5), chunks=2), 1, 3).compute().tolist()
    [None, 1, 2, 3, None]
    """
    check_scalar(v1, "masked_outside", "v1")
    check_scalar(v2, "masked_outside", "v2")
    return _per_block(np.ma.masked_outside, x, "masked_outside", v1=v1, v2=v2)


def masked_invalid(a: Any) -> Any:
    """Mask NaNs and infinities; mirrors ``numpy.ma.masked_invalid``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.masked_invalid(sa.from_array(np.array([1.0, np.nan, np.inf]), chunks=2)).compute().tolist()
    [1.0, None, None]
    """
    return _per_block(np.ma.masked_invalid, a, "masked_invalid")


def masked_values(x: Any, value: Any, rtol: float = 1e-05, atol: float = 1e-08, shrink: bool = True) -> Any:
    """Mask the elements close to ``value`` (equal, for integers), which becomes the ``fill_value``.

    Mirrors ``numpy.ma.masked_values``; differences: ``value`` must be a scalar.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.masked_values(sa.from_array(np.array([1.0, 1.1, 1.0 + 1e-9]), chunks=2), 1.0).compute().tolist()
    [None, 1.1, None]
    """
    check_scalar(value, "masked_values")
    return _per_block(np.ma.masked_values, x, "masked_values", value=value, rtol=rtol, atol=atol, shrink=shrink)


def _masked_where_block(condition: Any, block: Any) -> Any:
    condition = np.ma.make_mask(condition, shrink=False)
    if np.shape(condition) != np.shape(block):  # a single condition for every element
        condition = np.broadcast_to(condition, np.shape(block))
    return np.ma.masked_where(condition, block)


def masked_where(condition: Any, a: Any) -> Any:
    """Mask the elements of ``a`` where ``condition`` is true; mirrors ``numpy.ma.masked_where``.

    ``condition`` (a shoal or NumPy array, or one bool) has ``a``'s shape;
    masked values of a masked ``condition`` count as true, as in NumPy.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(4), chunks=3)
    >>> sa.ma.masked_where(x % 2 == 1, x).compute().tolist()
    [0, None, 2, None]
    """
    a = as_array(a)
    shape = tuple(getattr(condition, "shape", np.shape(condition)))
    if shape and shape != tuple(a.shape):
        raise IndexError(f"Inconsistent shape between the condition and the input (got {shape} and "
                         f"{tuple(a.shape)}); shoal.array.ma.masked_where needs a condition of the input's shape.")
    cond = map_blocks(np.ma.make_mask, as_array(condition), shrink=False, dtype=bool)
    ind = tuple(range(a.ndim))
    if shape:
        cond, cond_ind = cond.rechunk(a.chunks), ind  # plain booleans now: rechunking them is safe
    else:
        cond, cond_ind = cond.reshape((1,) * a.ndim), ind
    meta = np.ma.masked_where(np.zeros(a._meta.shape, bool), a._meta)
    return blockwise(_masked_where_block, ind, cond, cond_ind, a, ind, dtype=a.dtype, meta=meta,
                     token="masked_where")


def fix_invalid(a: Any, fill_value: Any = None) -> Any:
    """Mask NaNs and infinities and replace their data by ``fill_value``; mirrors ``numpy.ma.fix_invalid``.

    ``fill_value`` defaults to the array's own (the dtype's default for plain blocks).

    >>> import numpy as np, shoal.array as sa
    >>> y = sa.ma.fix_invalid(sa.from_array(np.array([1.0, np.nan]), chunks=1), fill_value=0.0).compute()
    >>> y.tolist(), y.data.tolist()
    ([1.0, None], [1.0, 0.0])
    """
    a = as_array(a)
    fill_value = check_fill_value(fill_value, a.dtype, "fix_invalid")
    return _per_block(np.ma.fix_invalid, a, "fix_invalid", fill_value=fill_value)


# -- data, mask and fill value --------------------------------------------------------------------------------
def filled(a: Any, fill_value: Any = None) -> Any:
    """``a`` as a plain array with masked values replaced by ``fill_value``; mirrors ``numpy.ma.filled``.

    ``fill_value`` defaults to the array's own ``fill_value``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.filled(sa.ma.masked_equal(sa.from_array(np.arange(4), chunks=3), 2), -1).compute()
    array([ 0,  1, -1,  3])
    """
    a = as_array(a)
    fill_value = check_fill_value(fill_value, a.dtype, "filled")
    return _plain_per_block(np.ma.filled, a, a.dtype, fill_value=fill_value)


def getdata(a: Any) -> Any:
    """The data of ``a`` as a plain array, masked places included; mirrors ``numpy.ma.getdata``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.getdata(sa.ma.masked_equal(np.arange(3), 1)).compute()
    array([0, 1, 2])
    """
    a = as_array(a)
    return _plain_per_block(np.ma.getdata, a, a.dtype)


def getmaskarray(a: Any) -> Any:
    """The mask of ``a`` as a boolean array of its shape (all False if nothing is masked).

    Mirrors ``numpy.ma.getmaskarray``.

    >>> import numpy as np, shoal.array as sa
    >>> sa.ma.getmaskarray(sa.ma.masked_equal(np.arange(3), 1)).compute()
    array([False,  True, False])
    """
    return _plain_per_block(np.ma.getmaskarray, a, np.dtype(bool))


def _with_fill_value(block: Any, fill_value: Any) -> Any:
    if isinstance(block, np.ma.MaskedArray):
        block = block.view()  # a new array object sharing the data: the input block keeps its fill value
        block.fill_value = fill_value
    return block


def set_fill_value(a: Any, fill_value: Any) -> None:
    """Set the ``fill_value`` of ``a`` in place; mirrors ``numpy.ma.set_fill_value``.

    A shoal array ``a`` is changed to compute with the new fill value (its
    name changes too); plain blocks are left as they are, as NumPy leaves
    plain arrays. Returns None.

    >>> import numpy as np, shoal.array as sa
    >>> x = sa.ma.masked_equal(np.arange(3), 1)
    >>> sa.ma.set_fill_value(x, 7)
    >>> int(x.compute().fill_value)
    7
    """
    if not isinstance(a, ArrayBase):
        np.ma.set_fill_value(a, fill_value)
        return
    fill_value = check_fill_value(fill_value, a.dtype, "set_fill_value")
    if fill_value is None:
        fill_value = np.ma.default_fill_value(np.empty(0, dtype=a.dtype))  # as np.ma: None means the default
    # A snapshot of ``a`` as it is now, so that the new graph reads the old blocks and not itself.
    before = type(a)._from_parts(a._layer, a.name, a._chunks, a._meta, a._deps)
    meta = _with_fill_value(a._meta, fill_value)
    after = map_blocks(_with_fill_value, before, fill_value=fill_value, dtype=a.dtype, meta=meta)
    a.name, a._layer, a._deps, a._meta = after.name, after._layer, after._deps, after._meta

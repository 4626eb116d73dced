"""Percentiles and quantiles, exact when blocks are small, approximate (with a bounded rank error) otherwise.

Percentiles of a 1-d array (or of a flattened one)
    Every block is summarised by a *weighted sample*: its sorted values, each
    with weight 1, when the block has at most ``max_points`` (default 10,000)
    elements; otherwise ``max_points`` evenly spaced order statistics, the
    weight of each being the number of ranks it stands for. One task merges
    the samples: sorted together, their cumulative weights give every value a
    global rank, and the value at NumPy's virtual index for the method (for
    ``linear``, ``(N - 1) q / 100``) is read off. When every block fits in
    ``max_points`` this is exact and equals ``numpy.percentile``; otherwise
    it is an approximation whose rank error is at most about
    ``N / max_points`` (Dask's percentile is approximate in the same way).
    With ``axis=`` given, the axis is made one chunk and NumPy computes each
    block exactly.

Methods
    All thirteen of NumPy's: the five Dask offers (``linear``, ``lower``,
    ``higher``, ``midpoint``, ``nearest``), the continuous Hyndman-Fan
    ones (``interpolated_inverted_cdf``, ``hazen``, ``weibull``,
    ``median_unbiased``, ``normal_unbiased``) and the discontinuous ones
    (``inverted_cdf``, ``averaged_inverted_cdf``, ``closest_observation``).
    Each is a rule for a virtual index into the sorted data and a weight
    between its two neighbours, computed as NumPy computes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._dispatch import implements
from shoal.array._elementwise import map_blocks
from shoal.array._from_array import asarray
from shoal.array._rechunk import rechunk
from shoal.array._reductions import normalize_axis
from shoal.array._shape import ravel
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["nanpercentile", "percentile", "quantile"]

#: NumPy's continuous methods and their Hyndman-Fan ``(alpha, beta)``.
_CONTINUOUS = {"linear": (1.0, 1.0), "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
               "weibull": (0.0, 0.0), "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8)}
_METHODS = (*_CONTINUOUS, "lower", "higher", "midpoint", "nearest", "inverted_cdf", "averaged_inverted_cdf",
            "closest_observation")


def _percentile_summary(block: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray, int]:
    values = block.ravel()
    nans = int(np.isnan(values).sum()) if values.dtype.kind in "fc" else 0
    if nans:
        values = values[~np.isnan(values)]
    ordered = np.sort(values)
    n = len(ordered)
    if n <= max_points:
        return ordered, np.ones(n, dtype=np.int64), nans
    ranks = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))
    # Each kept value stands for the ranks since the previous kept one, so that
    # cumulative weights equal the true number of elements <= the value.
    return ordered[ranks], np.diff(ranks, prepend=-1), nans


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    # NumPy's own formula (numpy/lib/_function_base_impl.py `_lerp`), for bit-equal results.
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def _percentile_merge(summaries: list[tuple[np.ndarray, np.ndarray, int]], q: np.ndarray, method: str,
                      ignore_nan: bool, dtype: Any) -> np.ndarray:
    values = np.concatenate([s[0] for s in summaries])
    weights = np.concatenate([s[1] for s in summaries])
    has_nan = any(s[2] for s in summaries)
    if (has_nan and not ignore_nan) or len(values) == 0:
        return _scalar_if_0d(np.full(q.shape, np.nan, dtype=dtype))
    order = np.argsort(values, kind="stable")
    values, cum = values[order], np.cumsum(weights[order])
    total = int(cum[-1])
    exact = bool(np.all(weights == 1))

    def at(rank: np.ndarray) -> np.ndarray:
        rank = np.clip(rank, 0, total - 1)
        if exact or method not in _CONTINUOUS:
            # The sample value whose cumulative weight first reaches the rank: an element of the data,
            # as "lower"/"higher"/"nearest" and the inverted-cdf methods promise even when approximate.
            return values[np.searchsorted(cum, rank + 1)]
        return np.interp(rank + 1.0, cum, values.astype(float))

    lo, t = _virtual_index(total, q / 100.0, method)
    if t is None:
        return _scalar_if_0d(np.asarray(at(lo), dtype=dtype))
    a, b = at(lo), at(lo + 1)
    out = _lerp(a.astype(dtype), b.astype(dtype), t.astype(dtype) if dtype.kind == "f" else t)
    return _scalar_if_0d(np.asarray(out, dtype=dtype))


def _scalar_if_0d(out: np.ndarray) -> Any:
    # One percentile of everything is a NumPy scalar, as np.percentile's (and Dask's quantile's) is.
    return out[()] if out.ndim == 0 else out


def _virtual_index(n: int, q: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Where NumPy reads quantile ``q`` (0-1) of ``n`` sorted values: ``(rank, None)`` for one element,
    ``(rank, t)`` for ``(1 - t) * value[rank] + t * value[rank + 1]``.

    The same arithmetic as NumPy's, step by step, so that exact results are bit-equal; ranks outside
    ``0..n-1`` are clipped by the caller, which is also what NumPy does at the ends.
    """
    if method in _CONTINUOUS:
        alpha, beta = _CONTINUOUS[method]
        # NumPy writes linear as (n - 1) q, which rounds differently from the general formula.
        h = (n - 1) * q if method == "linear" else n * q + (alpha + q * (1 - alpha - beta)) - 1
        lo = np.floor(h)
        return lo.astype(np.int64), h - lo
    if method == "lower":
        return np.floor((n - 1) * q).astype(np.int64), None
    if method == "higher":
        return np.ceil((n - 1) * q).astype(np.int64), None
    if method == "nearest":
        return np.around((n - 1) * q).astype(np.int64), None
    if method == "midpoint":  # halfway between the neighbours, or the element itself where (n - 1) q is whole
        h = (n - 1) * q
        return np.floor(h).astype(np.int64), np.where(np.floor(h) == np.ceil(h), 0.0, 0.5)
    h = n * q - (1.5 if method == "closest_observation" else 1)
    lo = np.floor(h)
    if method == "averaged_inverted_cdf":  # the mean of two neighbours where n q is whole, else the upper one
        return lo.astype(np.int64), np.where(h == lo, 0.5, 1.0)
    # inverted_cdf takes the element below where n q is whole; closest_observation only when that
    # element's 1-based order is even (ties go to the even order statistic).
    stay = (h == lo) if method == "inverted_cdf" else (h == lo) & (lo % 2 == 1)
    return np.maximum(np.where(stay, lo, lo + 1), 0).astype(np.int64), None


def _percentile_along(block: np.ndarray, q: Any, axis: int, method: str, keepdims: bool, nan: bool) -> np.ndarray:
    func = np.nanpercentile if nan else np.percentile
    return _scalar_if_0d(np.asarray(func(block, q, axis=axis, method=method, keepdims=keepdims)))


def _percentile(a: Any, q: Any, method: str, axis: Any, keepdims: bool, max_points: int, nan: bool) -> Any:
    a = asarray(a)
    if method not in _METHODS:
        raise ValueError(f"percentile method {method!r} is not supported on shoal arrays; use one of "
                         f"{list(_METHODS)}.")
    q_arr = np.true_divide(q, 1) if not isinstance(q, ArrayBase) else q.compute()
    q_arr = np.asarray(q_arr)
    if np.any((q_arr < 0) | (q_arr > 100)) or np.any(np.isnan(q_arr)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    np_func = np.nanpercentile if nan else np.percentile
    dtype = np.asarray(np_func(np.zeros(2, dtype=a.dtype), q, method=method)).dtype
    if axis is not None:
        (ax,) = normalize_axis(axis, a.ndim, "percentile")
        require_known(a, (ax,), "percentile")
        whole = rechunk(a, {ax: -1}) if a.numblocks[ax] != 1 else a
        q_dims = q_arr.ndim
        kept = tuple((1,) if d == ax else c for d, c in enumerate(whole.chunks) if keepdims or d != ax)
        chunks = (*((s,) for s in q_arr.shape), *kept)
        new_axis = list(range(q_dims))
        return map_blocks(_percentile_along, whole, q, ax, method, keepdims, nan, chunks=chunks, dtype=dtype,
                          drop_axis=[] if keepdims else [ax], new_axis=new_axis or None)
    flat = ravel(a)
    require_known(flat, (0,), "percentile")
    if flat.shape[0] == 0:
        raise ValueError("percentile of an empty array is undefined (NumPy raises IndexError on it).")
    token = tokenize(flat, q_arr, method, max_points, nan)
    summary_name, name = f"percentile-summary-{token}", f"percentile-{token}"
    layer: dict[Any, Any] = {(summary_name, j): Task((summary_name, j), _percentile_summary, Ref((flat.name, j)),
                                                     max_points) for j in range(flat.numblocks[0])}
    out_key = (name, *(0,) * q_arr.ndim)
    layer[out_key] = Task(out_key, _percentile_merge, [Ref((summary_name, j)) for j in range(flat.numblocks[0])],
                          q_arr.astype(float), method, nan, dtype)
    result = new_array(layer, name, tuple((s,) for s in q_arr.shape), dtype, deps=(flat,))
    if keepdims:
        shape_ones = (1,) * a.ndim
        result = map_blocks(np.reshape, result, (*q_arr.shape, *shape_ones),
                            chunks=(*((s,) for s in q_arr.shape), *((1,),) * a.ndim),
                            new_axis=list(range(q_arr.ndim, q_arr.ndim + a.ndim)), dtype=dtype)
    return result


def percentile(a: Any, q: Any, method: str = "linear", internal_method: str = "default", *, axis: Any = None,
               keepdims: bool = False, max_points: int = 10_000, **kwargs: Any) -> Any:
    """The ``q``-th percentiles (0-100) of ``a``; mirrors ``dask.array.percentile``.

    Parameters
    ----------
    a : Array
        Flattened unless ``axis`` is given.
    q : float or array-like
        Percentiles in ``[0, 100]``; a scalar gives a 0-d result, as in NumPy.
    method : str
        Any of NumPy's thirteen methods: ``"linear"`` (the default),
        ``"lower"``, ``"higher"``, ``"midpoint"``, ``"nearest"``,
        ``"inverted_cdf"``, ``"averaged_inverted_cdf"``,
        ``"closest_observation"``, ``"interpolated_inverted_cdf"``,
        ``"hazen"``, ``"weibull"``, ``"median_unbiased"``,
        ``"normal_unbiased"``. Dask offers the first five.
    internal_method : {"default", "dask", "tdigest"}
        Accepted for Dask compatibility; one algorithm serves all three, so
        ``"tdigest"`` needs no ``crick``.
    axis : int, optional
        Compute along this axis (made one chunk); exact.
    keepdims : bool
        Keep reduced dimensions with length 1.
    max_points : int
        The largest per-block sample; blocks with more elements are
        summarised approximately (see the module notes).

    Notes
    -----
    Exact (equal to ``numpy.percentile``) when every block holds at most
    ``max_points`` elements or when ``axis`` is given, approximate
    otherwise, as ``dask.array.percentile`` is.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([7.0, 1.0, 4.0, 3.0, 9.0]), chunks=2)
    >>> percentile(x, [0, 25, 50, 100]).compute()
    array([1., 3., 4., 9.])
    """
    if "interpolation" in kwargs:
        method = kwargs.pop("interpolation")
    if kwargs:
        raise TypeError(f"percentile got unexpected keyword arguments {sorted(kwargs)}.")
    if internal_method not in ("default", "dask", "tdigest"):
        raise ValueError(f"internal_method must be 'default', 'dask' or 'tdigest', got {internal_method!r}.")
    return _percentile(a, q, method, axis, keepdims, max_points, nan=False)


def nanpercentile(a: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False, *,
                  max_points: int = 10_000) -> Any:
    """Percentiles ignoring NaNs; mirrors ``numpy.nanpercentile`` (same exactness rules as :func:`percentile`)."""
    return _percentile(a, q, method, axis, keepdims, max_points, nan=True)


def quantile(a: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False, *,
             max_points: int = 10_000) -> Any:
    """The ``q``-th quantiles (0-1) of ``a``; mirrors ``numpy.quantile``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> quantile(sa.from_array(np.arange(11.0), chunks=3), 0.5).compute()
    np.float64(5.0)
    """
    q_arr = np.asarray(q.compute() if isinstance(q, ArrayBase) else q)
    if np.any((q_arr < 0) | (q_arr > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    return _percentile(a, q_arr * 100, method, axis, keepdims, max_points, nan=False)


@implements(np.percentile)
def _np_percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                   method: str = "linear", keepdims: bool = False, **kwargs: Any) -> Any:
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    return percentile(a, q, method=method, axis=axis, keepdims=keepdims, **kwargs)


@implements(np.nanpercentile)
def _np_nanpercentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                      method: str = "linear", keepdims: bool = False) -> Any:
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    return nanpercentile(a, q, axis=axis, method=method, keepdims=keepdims)


@implements(np.quantile)
def _np_quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                 method: str = "linear", keepdims: bool = False) -> Any:
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    return quantile(a, q, axis=axis, method=method, keepdims=keepdims)

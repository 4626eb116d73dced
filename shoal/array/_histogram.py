"""Counting and order statistics: histograms, ``bincount``, ``digitize``, percentiles.

Histograms
    The bin edges are fixed before any data is read (``bins`` as edges, or an
    int with ``range=``, as Dask requires), so every block counts into the
    same bins on its own; the per-block counts form an array with one row per
    block, which :func:`~shoal.array._reductions.sum` adds up as a tree.
    Each block calls NumPy's own histogram function with the caller's
    ``bins``/``range``, so counts at bin edges agree with NumPy exactly.

Percentiles of a 1-d array (or of a flattened one)
    Every block is summarised by a *weighted sample*: its sorted values, each
    with weight 1, when the block has at most ``max_points`` (default 10,000)
    elements; otherwise ``max_points`` evenly spaced order statistics, the
    weight of each being the number of ranks it stands for. One task merges
    the samples: sorted together, their cumulative weights give every value a
    global rank, and the value at NumPy's virtual index ``(N - 1) q / 100`` is
    read off (interpolated for ``method="linear"``). When every block fits
    in ``max_points`` this is exact and equals ``numpy.percentile``;
    otherwise it is an approximation whose rank error is at most about
    ``N / max_points`` (Dask's percentile is approximate in the same way).
    With ``axis=`` given, the axis is made one chunk and NumPy computes each
    block exactly.
"""

from __future__ import annotations

import math
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._dispatch import implements
from shoal.array._elementwise import map_blocks
from shoal.array._from_array import asarray
from shoal.array._blockmap import require_known
from shoal.array._rechunk import common_chunks, rechunk
from shoal.array._shape import ravel
from shoal.array._reductions import normalize_axis
from shoal.array._reductions import sum as _sum
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["bincount", "digitize", "histogram", "histogram2d", "histogramdd", "nanpercentile", "percentile",
           "quantile"]

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


# -- histograms --------------------------------------------------------------------------------------------------
def _histogram_block(block: np.ndarray, bins: Any, range_: Any, weights: Any) -> np.ndarray:
    counts, _ = np.histogram(block, bins=bins, range=range_, weights=weights)
    return counts[None]


def _lazy_or_value(value: Any) -> tuple[Any, tuple[Any, ...]]:
    """A task argument for ``value``: a reference to one block if it is a shoal array."""
    if isinstance(value, ArrayBase):
        if value.npartitions != 1:
            require_known(value, range(value.ndim), "histogram")
            value = rechunk(value, -1)
        return Ref((value.name, *(0,) * value.ndim)), (value,)
    return value, ()


@implements(np.histogram)
def histogram(a: Any, bins: Any = None, range: Any = None, normed: Any = False, weights: Any = None,  # noqa: A002
              density: Any = None) -> tuple[Any, Any]:
    """Counts of ``a`` in bins; mirrors ``numpy.histogram`` (and ``dask.array.histogram``).

    ``bins`` is either the bin edges (a sequence, NumPy or shoal array) or an
    int together with ``range=(low, high)``: the edges must be known without
    reading the data. Returns ``(hist, bin_edges)``; ``hist`` is lazy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([1, 2, 2, 3, 9]), chunks=2)
    >>> hist, edges = histogram(x, bins=4, range=(0, 8))
    >>> hist.compute(), edges
    (array([1, 3, 0, 0]), array([0., 2., 4., 6., 8.]))
    """
    if normed:
        raise TypeError("histogram(normed=...) was removed from NumPy; use density=True.")
    a = asarray(a)
    if bins is None or isinstance(bins, Integral):
        if range is None:
            raise ValueError(
                "histogram needs range=(low, high) when bins is an int (or omitted): the bin edges must be known "
                "without reading the data. Pass range=, or pass the bin edges as bins=."
            )
        bins = 10 if bins is None else int(bins)
        edges: Any = np.histogram_bin_edges(np.empty(0, dtype=a.dtype if a.dtype.kind in "iufb" else float),
                                            bins=bins, range=range)
        nbins = bins
    elif isinstance(bins, ArrayBase):
        if bins.ndim != 1:
            raise ValueError(f"bins must be 1-d, got shape {bins.shape}.")
        require_known(bins, (0,), "histogram")
        edges, nbins = bins, int(bins.shape[0]) - 1
    else:
        edges = np.asarray(bins)
        if edges.ndim != 1:
            raise ValueError(f"bins must be an int or a 1-d sequence of edges, got shape {edges.shape}.")
        if np.any(np.diff(edges) < 0):
            raise ValueError("bins must increase monotonically, when an array")
        nbins = len(edges) - 1
    bins_arg, deps = _lazy_or_value(bins if isinstance(bins, int) else edges)
    if weights is not None:
        weights = asarray(weights)
        if weights.shape != a.shape:
            raise ValueError(f"weights should have the same shape as a: {weights.shape} != {a.shape}.")
        if weights.chunks != a.chunks:
            weights = rechunk(weights, a.chunks)
        dtype = np.histogram(np.zeros(1, dtype=a.dtype), bins=2, range=(0, 1),
                             weights=np.zeros(1, dtype=weights.dtype))[0].dtype
    else:
        dtype = np.dtype(np.intp)
    name = f"histogram-{tokenize(a, bins, range, weights)}"
    layer = {}
    blocks = list(np.ndindex(*a.numblocks))
    for flat, index in enumerate(blocks):
        w = Ref((weights.name, *index)) if weights is not None else None
        layer[(name, flat, 0)] = Task((name, flat, 0), _histogram_block, Ref((a.name, *index)), bins_arg, range, w)
    per_block = new_array(layer, name, ((1,) * len(blocks), (nbins,)), dtype,
                          deps=(a, *deps, *((weights,) if weights is not None else ())))
    hist = _sum(per_block, axis=0, dtype=dtype)
    if density:
        widths = (np.diff(edges).astype(float) if not isinstance(edges, ArrayBase) else
                  map_blocks(np.diff, rechunk(edges, -1), chunks=((nbins,),), dtype=edges.dtype).astype(float))
        hist = hist / widths / hist.sum()
    return hist, edges


def _histogramdd_block(columns: list[np.ndarray], bins: Any, range_: Any, weights: Any) -> np.ndarray:
    sample = np.stack([c.ravel() for c in columns], axis=-1) if columns else np.empty((0, 0))
    counts, _ = np.histogramdd(sample, bins=bins, range=range_, weights=None if weights is None else weights.ravel())
    return counts[None]


def _split_sample(sample: Any) -> list[Any]:
    """The sample as a list of D aligned 1-d (or same-shape) shoal arrays."""
    if isinstance(sample, ArrayBase):
        if sample.ndim != 2:
            raise ValueError(f"histogramdd needs a 2-d (N, D) sample array or a sequence of D arrays, got shape "
                             f"{sample.shape}.")
        whole = rechunk(sample, {1: -1}) if sample.numblocks[1] != 1 else sample
        columns = []
        for i in range(int(sample.shape[1])):
            name = f"histogramdd-column-{i}-{tokenize(whole, i)}"
            layer = {(name, j): Task((name, j), _take_column, Ref((whole.name, j, 0)), i)
                     for j in range(whole.numblocks[0])}
            columns.append(new_array(layer, name, (whole.chunks[0],), whole.dtype, deps=(whole,)))
        return columns
    columns = [asarray(c) for c in sample]
    shapes = {c.shape for c in columns}
    if len(shapes) != 1:
        raise ValueError(f"histogramdd: the sample arrays must have the same shape, got {sorted(map(str, shapes))}.")
    for d in range(columns[0].ndim):
        common = common_chunks([c.chunks[d] for c in columns])
        columns = [c if c.chunks[d] == common else rechunk(c, {d: common}) for c in columns]
    return columns


def _take_column(block: np.ndarray, i: int) -> np.ndarray:
    return block[:, i]


@implements(np.histogramdd)
def histogramdd(sample: Any, bins: Any = 10, range: Any = None, normed: Any = None,  # noqa: A002
                weights: Any = None, density: Any = None) -> tuple[Any, list[np.ndarray]]:
    """A D-dimensional histogram; mirrors ``numpy.histogramdd``.

    ``sample`` is an (N, D) shoal array or a sequence of D arrays of one
    shape; ``bins`` is edges per dimension, or ints with ``range=``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([0.5, 1.5, 1.5]), chunks=2)
    >>> y = sa.from_array(np.array([0.5, 0.5, 1.5]), chunks=2)
    >>> hist, edges = histogramdd([x, y], bins=2, range=[(0, 2), (0, 2)])
    >>> hist.compute()
    array([[1., 0.],
           [1., 1.]])
    """
    if normed:
        raise TypeError("histogramdd(normed=...) was removed from NumPy; use density=True.")
    columns = _split_sample(sample)
    ndim = len(columns)
    # As in NumPy: an int applies to every dimension, any sequence has one entry per dimension.
    per_dim = [bins] * ndim if isinstance(bins, Integral) else list(bins)
    if len(per_dim) != ndim:
        raise ValueError(f"The dimension of bins ({len(per_dim)}) must be equal to the dimension of the sample "
                         f"({ndim}).")
    ranges = list(range) if range is not None else [None] * ndim
    edges = []
    for d, b in enumerate(per_dim):
        if isinstance(b, Integral):
            if ranges[d] is None:
                raise ValueError(f"histogramdd needs range= for dimension {d} whose bins is an int: the edges must "
                                 f"be known without reading the data.")
            edges.append(np.linspace(ranges[d][0], ranges[d][1], int(b) + 1))
        else:
            edges.append(np.asarray(b.compute() if isinstance(b, ArrayBase) else b, dtype=float))
    if weights is not None:
        weights = asarray(weights)
        if weights.shape != columns[0].shape:
            raise ValueError(f"weights should have the same shape as the sample arrays: {weights.shape} != "
                             f"{columns[0].shape}.")
        if weights.chunks != columns[0].chunks:
            weights = rechunk(weights, columns[0].chunks)
    name = f"histogramdd-{tokenize(*columns, edges, weights)}"
    layer = {}
    blocks = list(np.ndindex(*columns[0].numblocks))
    nbins = tuple(len(e) - 1 for e in edges)
    for flat, index in enumerate(blocks):
        refs = [Ref((c.name, *index)) for c in columns]
        w = Ref((weights.name, *index)) if weights is not None else None
        key = (name, flat, *(0,) * ndim)
        layer[key] = Task(key, _histogramdd_block, refs, edges, None, w)
    deps = (*columns, *((weights,) if weights is not None else ()))
    per_block = new_array(layer, name, ((1,) * len(blocks), *((n,) for n in nbins)), float, deps=deps)
    hist = _sum(per_block, axis=0)
    if density:
        total = hist.sum()
        for d in np.arange(ndim):
            shape = [1] * ndim
            shape[d] = nbins[d]
            hist = hist / np.diff(edges[d]).reshape(shape)
        hist = hist / total
    return hist, edges


@implements(np.histogram2d)
def histogram2d(x: Any, y: Any, bins: Any = 10, range: Any = None, normed: Any = None,  # noqa: A002
                weights: Any = None, density: Any = None) -> tuple[Any, np.ndarray, np.ndarray]:
    """A 2-d histogram of ``x`` against ``y``; mirrors ``numpy.histogram2d``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([0.5, 1.5, 1.5]), chunks=2)
    >>> hist, xe, ye = histogram2d(x, x, bins=2, range=[(0, 2), (0, 2)])
    >>> hist.compute()
    array([[1., 0.],
           [0., 2.]])
    """
    if isinstance(bins, Integral) or (not isinstance(bins, list | tuple) and np.ndim(bins) == 1):
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins=list(bins), range=range, normed=normed, weights=weights,
                              density=density)
    return hist, edges[0], edges[1]


# -- bincount, digitize --------------------------------------------------------------------------------------------
def _bincount_block(block: np.ndarray, weights: Any, minlength: int) -> np.ndarray:
    return np.bincount(block, weights=weights, minlength=minlength)


def _bincount_merge(parts: list[np.ndarray], minlength: int, dtype: Any) -> np.ndarray:
    out = np.zeros(max([minlength, *(len(p) for p in parts)]), dtype=dtype)
    for p in parts:
        out[:len(p)] += p
    return out


@implements(np.bincount)
def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """Occurrences of each non-negative int in ``x``; mirrors ``numpy.bincount``.

    The result has ``minlength`` as its chunk length when given (as Dask
    does; larger values in ``x`` still lengthen the computed result), else
    an unknown (``nan``) length.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> bincount(sa.from_array(np.array([0, 1, 1, 3]), chunks=2), minlength=5).compute()
    array([1, 2, 0, 1, 0])
    """
    x = asarray(x)
    if x.ndim != 1:
        raise ValueError(f"bincount needs a 1-d array of non-negative ints, got shape {x.shape}.")
    if minlength < 0:
        raise ValueError("'minlength' must not be negative")
    if weights is not None:
        weights = asarray(weights)
        if weights.shape != x.shape:
            raise ValueError(f"The weights and list don't have the same length: {weights.shape} != {x.shape}.")
        weights = weights if weights.chunks == x.chunks else rechunk(weights, x.chunks)
    dtype = np.bincount(np.zeros(1, dtype=x.dtype),
                        weights=None if weights is None else np.zeros(1, dtype=weights.dtype)).dtype
    token = tokenize(x, weights, minlength)
    chunk_name, name = f"bincount-chunk-{token}", f"bincount-{token}"
    layer: dict[Any, Any] = {}
    for j in range(x.numblocks[0]):
        w = Ref((weights.name, j)) if weights is not None else None
        layer[(chunk_name, j)] = Task((chunk_name, j), _bincount_block, Ref((x.name, j)), w, minlength)
    layer[(name, 0)] = Task((name, 0), _bincount_merge, [Ref((chunk_name, j)) for j in range(x.numblocks[0])],
                            minlength, dtype)
    chunks = ((minlength,),) if minlength > 0 else ((math.nan,),)
    return new_array(layer, name, chunks, dtype, deps=(x, *((weights,) if weights is not None else ())))


@implements(np.digitize)
def digitize(a: Any, bins: Any, right: bool = False) -> Any:
    """Index of the bin each value falls in; mirrors ``numpy.digitize``.

    ``bins`` may be a NumPy array or a 1-d shoal array: then it is joined into one block that every block
    of ``a`` reads (bins are small next to the data).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> digitize(sa.from_array(np.array([0.5, 1.5, 3.0]), chunks=2), np.array([0, 1, 2])).compute()
    array([1, 2, 3])
    """
    if isinstance(bins, ArrayBase):
        return _digitize_lazy_bins(asarray(a), bins, right)
    bins = np.asarray(bins)
    if bins.ndim != 1:
        raise ValueError("object too deep for desired array") if bins.ndim > 1 else ValueError(
            "object of too small depth for desired array")
    dtype = np.digitize(np.zeros(1, dtype=asarray(a).dtype), bins).dtype
    return map_blocks(np.digitize, asarray(a), bins=bins, right=right, dtype=dtype)


def _digitize_block(block: np.ndarray, bins: np.ndarray, right: bool) -> np.ndarray:
    return np.digitize(block, bins, right=right)


def _digitize_lazy_bins(a: Any, bins: Any, right: bool) -> Any:
    if bins.ndim != 1:
        raise ValueError("object too deep for desired array") if bins.ndim > 1 else ValueError(
            "object of too small depth for desired array")
    whole = bins.rechunk(-1) if bins.numblocks[0] != 1 else bins
    dtype = np.digitize(np.zeros(1, dtype=a.dtype), np.zeros(1, dtype=bins.dtype)).dtype
    name = f"digitize-{tokenize(a.name, whole.name, right)}"
    layer = {(name, *index): Task((name, *index), _digitize_block, Ref((a.name, *index)), Ref((whole.name, 0)),
                                  right)
             for index in product(*(range(n) for n in a.numblocks))}
    return new_array(layer, name, a.chunks, dtype, deps=(a, whole))


# -- percentiles -------------------------------------------------------------------------------------------------
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
        return np.full(q.shape, np.nan, dtype=dtype)
    order = np.argsort(values, kind="stable")
    values, cum = values[order], np.cumsum(weights[order])
    total = int(cum[-1])
    exact = bool(np.all(weights == 1))

    def at(rank: np.ndarray) -> np.ndarray:
        rank = np.clip(rank, 0, total - 1)
        if exact or method != "linear":
            # The sample value whose cumulative weight first reaches the rank: an element of the data,
            # as "lower"/"higher"/"nearest" promise even when approximate.
            return values[np.searchsorted(cum, rank + 1)]
        return np.interp(rank + 1.0, cum, values.astype(float))

    h = (total - 1) * (q / 100.0)
    lo = np.floor(h).astype(np.int64)
    if method == "lower":
        out = at(lo)
    elif method == "higher":
        out = at(np.ceil(h).astype(np.int64))
    elif method == "nearest":
        out = at(np.around(h).astype(np.int64))
    elif method == "midpoint":
        # NumPy: halfway between the neighbours, or the element itself where (n - 1) q is whole.
        a, b = at(lo), at(lo + 1)
        t = np.where(np.floor(h) == np.ceil(h), 0.0, 0.5)
        out = _lerp(a.astype(dtype), b.astype(dtype), t.astype(dtype) if dtype.kind == "f" else t)
    else:
        a, b = at(lo), at(lo + 1)
        t = h - lo
        out = _lerp(a.astype(dtype), b.astype(dtype), t.astype(dtype) if dtype.kind == "f" else t)
    return np.asarray(out, dtype=dtype)


def _percentile_along(block: np.ndarray, q: Any, axis: int, method: str, keepdims: bool, nan: bool) -> np.ndarray:
    func = np.nanpercentile if nan else np.percentile
    return np.asarray(func(block, q, axis=axis, method=method, keepdims=keepdims))


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
    method : {"linear", "lower", "higher", "midpoint", "nearest"}
        NumPy's interpolation between neighbouring data points.
    internal_method : str
        Accepted for Dask compatibility; one algorithm serves all values.
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

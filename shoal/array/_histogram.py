"""Counting: histograms, ``bincount``, ``digitize``.

Histograms
    The bin edges are fixed before any data is read (``bins`` as edges, or an
    int with ``range=``, as Dask requires), so every block counts into the
    same bins on its own; the per-block counts form an array with one row per
    block, which :func:`~shoal.array._reductions.sum` adds up as a tree.
    Each block calls NumPy's own histogram function with the caller's
    ``bins``/``range``, so counts at bin edges agree with NumPy exactly.

Percentiles live in :mod:`._percentile` and are re-exported here.
"""

from __future__ import annotations

import math
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._dispatch import implements
from shoal.array._elementwise import map_blocks
from shoal.array._from_array import asarray
from shoal.array._percentile import nanpercentile, percentile, quantile
from shoal.array._rechunk import common_chunks, rechunk
from shoal.array._reductions import sum as _sum
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["bincount", "digitize", "histogram", "histogram2d", "histogramdd", "nanpercentile", "percentile",
           "quantile"]

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



"""Tests for the routines family: topk, unique, histograms, percentiles, searching, nonzero, coarsen, ..."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array._base import ArrayBase
from shoal.array.utils import assert_eq


@st.composite
def chunked_arrays(draw, max_dims=3, min_side=1, max_side=9, kind="float", low=-20, high=20):
    shape = tuple(draw(st.lists(st.integers(min_side, max_side), min_size=1, max_size=max_dims)))
    chunks = []
    for length in shape:
        cuts = sorted(draw(st.sets(st.integers(1, max(length - 1, 1)), max_size=3))) if length > 1 else []
        bounds = [0, *[c for c in cuts if c < length], length]
        chunks.append(tuple(b - a for a, b in zip(bounds, bounds[1:], strict=False)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "float":
        data = rng.standard_normal(shape)
    elif kind == "perm":
        data = rng.permutation(math.prod(shape)).reshape(shape).astype(float)
    else:
        data = rng.integers(low, high, shape)
    return data, tuple(chunks)


# -- topk ------------------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(kind="perm"), data=st.data())
@settings(max_examples=40, deadline=None)
def test_topk_and_argtopk_match_sorting(case, data):
    x, chunks = case
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    k = data.draw(st.integers(1, n)) * data.draw(st.sampled_from([1, -1]))
    split_every = data.draw(st.sampled_from([None, 2, 3]))
    d = sa.from_array(x, chunks=chunks)
    order = np.argsort(x, axis=axis)
    if k > 0:
        expected_idx = np.flip(np.take(order, np.arange(n - k, n), axis=axis), axis=axis)
    else:
        expected_idx = np.take(order, np.arange(-k), axis=axis)
    assert_eq(sa.topk(d, k, axis=axis, split_every=split_every), np.take_along_axis(x, expected_idx, axis=axis))
    assert_eq(d.argtopk(k, axis=axis, split_every=split_every), expected_idx)


def test_topk_method_and_errors():
    d = sa.from_array(np.array([5, 1, 3, 6, 2, 9, 0]), chunks=2)
    assert_eq(d.topk(3), np.array([9, 6, 5]))
    assert_eq(d.topk(-3, split_every=2), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="larger than the length"):
        d.topk(8)
    with pytest.raises(ValueError, match="non-zero"):
        sa.topk(d, 0)


# -- unique ----------------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(kind="int", low=0, high=6), flags=st.tuples(st.booleans(), st.booleans(), st.booleans()))
@settings(max_examples=40, deadline=None)
def test_unique_matches_numpy(case, flags):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    index, inverse, counts = flags
    got = sa.unique(d, return_index=index, return_inverse=inverse, return_counts=counts)
    expected = np.unique(x, return_index=index, return_inverse=inverse, return_counts=counts)
    if not any(flags):
        got, expected = (got,), (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert_eq(g, e)


def test_unique_unknown_chunks_and_nan():
    x = np.array([2.0, np.nan, 1.0, 2.0, np.nan])
    u = np.unique(sa.from_array(x, chunks=2))
    assert isinstance(u, ArrayBase) and math.isnan(u.shape[0])
    assert_eq(u, np.unique(x))


# -- histograms ------------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(), bins=st.integers(1, 7), density=st.booleans(), weighted=st.booleans())
@settings(max_examples=40, deadline=None)
def test_histogram_int_bins_matches_numpy(case, bins, density, weighted):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    w = np.abs(x) + 0.5 if weighted else None
    kwargs = {"weights": sa.from_array(w, chunks=2) if weighted else None, "density": density}
    hist, edges = sa.histogram(d, bins=bins, range=(-1.5, 2.0), **kwargs)
    with np.errstate(invalid="ignore"):  # density of an empty histogram is 0/0 in NumPy too
        e_hist, e_edges = np.histogram(x, bins=bins, range=(-1.5, 2.0), weights=w, density=density)
        assert_eq(hist, e_hist)
    np.testing.assert_array_equal(edges, e_edges)


def test_histogram_edges_lazy_bins_and_errors():
    x = np.random.default_rng(1).integers(0, 10, 50)
    d = sa.from_array(x, chunks=7)
    edges = np.array([0, 1, 2.5, 5, 9, 10])
    hist, got_edges = np.histogram(d, bins=edges)
    assert_eq(hist, np.histogram(x, bins=edges)[0])
    lazy_edges = sa.from_array(edges, chunks=2)
    hist, got_edges = sa.histogram(d, bins=lazy_edges, density=True)
    assert_eq(hist, np.histogram(x, bins=edges, density=True)[0])
    assert got_edges is lazy_edges
    with pytest.raises(ValueError, match="range="):
        sa.histogram(d, bins=5)


def test_histogram2d_and_histogramdd():
    rng = np.random.default_rng(2)
    x, y, z = rng.standard_normal((3, 40))
    dx, dy, dz = (sa.from_array(v, chunks=9) for v in (x, y, z))
    hist, xe, ye = sa.histogram2d(dx, dy, bins=4, range=[(-2, 2), (-3, 3)])
    e_hist, e_xe, e_ye = np.histogram2d(x, y, bins=4, range=[(-2, 2), (-3, 3)])
    assert_eq(hist, e_hist)
    np.testing.assert_array_equal(xe, e_xe)
    np.testing.assert_array_equal(ye, e_ye)
    edges = [np.array([-2, 0, 2.0]), np.array([-1, 0, 0.5, 1]), np.array([-3, 3.0])]
    sample = sa.from_array(np.stack([x, y, z], axis=1), chunks=(11, 2))
    weights = sa.from_array(np.abs(z), chunks=5)
    for density in (False, True):
        hist, _ = sa.histogramdd(sample, bins=edges, weights=weights, density=density)
        assert_eq(hist, np.histogramdd(np.stack([x, y, z], axis=1), bins=edges, weights=np.abs(z),
                                       density=density)[0])
    hist, _ = np.histogramdd([dx, dy, dz], bins=3, range=[(-1, 1)] * 3)
    assert_eq(hist, np.histogramdd([x, y, z], bins=3, range=[(-1, 1)] * 3)[0])


@given(case=chunked_arrays(max_dims=1, max_side=30, kind="int", low=0, high=12), minlength=st.integers(0, 15),
       weighted=st.booleans())
@settings(max_examples=30, deadline=None)
def test_bincount_matches_numpy(case, minlength, weighted):
    x, chunks = case
    w = np.linspace(0, 1, len(x)) if weighted else None
    got = sa.bincount(sa.from_array(x, chunks=chunks), weights=None if w is None else sa.from_array(w, chunks=4),
                      minlength=minlength)
    expected = np.bincount(x, weights=w, minlength=minlength)
    if minlength and len(expected) > minlength:  # as in Dask, the chunks promise only minlength
        np.testing.assert_allclose(got.compute(), expected)
    else:
        assert_eq(got, expected)


def test_digitize():
    x = np.random.default_rng(3).uniform(-1, 6, (5, 4))
    d = sa.from_array(x, chunks=2)
    bins = np.array([0, 1, 2.5, 4])
    assert_eq(np.digitize(d, bins), np.digitize(x, bins))
    assert_eq(sa.digitize(d, bins[::-1], right=True), np.digitize(x, bins[::-1], right=True))


@pytest.mark.parametrize("right", [False, True])
def test_digitize_with_lazy_bins(right: bool) -> None:
    a = np.random.default_rng(0).random((7, 5))
    bins = np.array([0.1, 0.3, 0.5, 0.9])
    x = sa.from_array(a, chunks=3)
    lazy_bins = sa.from_array(bins, chunks=2)
    assert_eq(sa.digitize(x, lazy_bins, right=right), np.digitize(a, bins, right=right))
    assert_eq(np.digitize(x, lazy_bins[::-1], right=right), np.digitize(a, bins[::-1], right=right))
    with pytest.raises(ValueError, match="too deep"):
        sa.digitize(x, sa.ones((2, 2), chunks=1))


# -- percentiles -----------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(max_side=12, kind="int", low=-5, high=5),
       method=st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]),
       q=st.one_of(st.floats(0, 100), st.lists(st.floats(0, 100), min_size=1, max_size=5)))
@settings(max_examples=50, deadline=None)
def test_percentile_is_exact_with_small_blocks(case, method, q):
    x, chunks = case
    x = x.astype(float)
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.percentile(d, q, method=method), np.percentile(x, q, method=method))


def test_percentile_dispatch_axis_nan_and_quantile():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 7))
    d = sa.from_array(x, chunks=(4, 3))
    assert_eq(np.percentile(d, [10, 50]), np.percentile(x, [10, 50]))
    assert_eq(np.percentile(d, [10, 50], axis=1), np.percentile(x, [10, 50], axis=1))
    assert_eq(np.percentile(d, 30, axis=0, keepdims=True), np.percentile(x, 30, axis=0, keepdims=True))
    assert_eq(np.quantile(d, 0.3), np.quantile(x, 0.3))
    assert_eq(sa.quantile(d, [0.0, 1.0], axis=0), np.quantile(x, [0.0, 1.0], axis=0))
    ints = np.arange(20)
    assert_eq(sa.percentile(sa.from_array(ints, chunks=6), [5, 95], method="lower"),
              np.percentile(ints, [5, 95], method="lower"))
    with_nan = x.ravel().copy()
    with_nan[3] = np.nan
    dn = sa.from_array(with_nan, chunks=10)
    assert_eq(sa.percentile(dn, [20, 80]), np.percentile(with_nan, [20, 80]))
    assert_eq(np.nanpercentile(dn, [20, 80]), np.nanpercentile(with_nan, [20, 80]))
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        sa.percentile(d, 101)


def test_percentile_approximate_with_large_blocks():
    x = np.random.default_rng(5).standard_normal(20_000)
    d = sa.from_array(x, chunks=5_000)
    q = [0, 1, 25, 50, 75, 99, 100]
    approx = sa.percentile(d, q, max_points=500).compute()
    exact = np.percentile(x, q)
    assert approx[0] == exact[0] and approx[-1] == exact[-1]
    # Rank error at most about N / max_points.
    ranks = np.searchsorted(np.sort(x), approx)
    assert np.all(np.abs(ranks - np.array(q) / 100 * (len(x) - 1)) <= 2 * len(x) / 500)
    lower = sa.percentile(d, q, method="lower", max_points=500).compute()
    assert np.isin(lower, x).all()  # "lower" picks data values even when approximate


# -- membership and search -------------------------------------------------------------------------------------------
def test_isin():
    x = np.random.default_rng(6).integers(0, 10, (6, 5))
    d = sa.from_array(x, chunks=(4, 2))
    tests = np.array([1, 3, 7])
    assert_eq(np.isin(d, tests), np.isin(x, tests))
    assert_eq(sa.isin(d, sa.from_array(np.array([[2, 4], [9, 9]]), chunks=1), invert=True),
              np.isin(x, [[2, 4], [9, 9]], invert=True))


@given(case=chunked_arrays(max_dims=1, max_side=20, kind="int", low=0, high=8), side=st.sampled_from(["left", "right"]))
@settings(max_examples=40, deadline=None)
def test_searchsorted_matches_numpy(case, side):
    x, chunks = case
    a = np.sort(x)
    v = np.arange(-1, 10).reshape(11, 1) + np.array([0, 0.5])
    d = sa.from_array(a, chunks=chunks)
    assert_eq(sa.searchsorted(d, sa.from_array(v, chunks=(4, 1)), side=side), np.searchsorted(a, v, side=side))
    assert_eq(np.searchsorted(d, 3, side=side), np.asarray(np.searchsorted(a, 3, side=side)))


# -- per-block application -------------------------------------------------------------------------------------------
def test_apply_along_axis():
    x = np.arange(24.0).reshape(2, 3, 4)
    d = sa.from_array(x, chunks=(1, 2, 3))
    assert_eq(sa.apply_along_axis(np.cumsum, 1, d), np.apply_along_axis(np.cumsum, 1, x))
    assert_eq(np.apply_along_axis(lambda r: r[:2] * 2, -1, d), np.apply_along_axis(lambda r: r[:2] * 2, -1, x))
    assert_eq(sa.apply_along_axis(np.sum, 0, d), np.apply_along_axis(np.sum, 0, x))
    outer = sa.apply_along_axis(lambda r: np.outer(r, r), 2, d, shape=(4, 4), dtype=float)
    assert_eq(outer, np.apply_along_axis(lambda r: np.outer(r, r), 2, x))


def test_apply_over_axes_and_choose():
    x = np.arange(24).reshape(2, 3, 4)
    d = sa.from_array(x, chunks=2)
    assert_eq(np.apply_over_axes(np.sum, d, [0, 2]), np.apply_over_axes(np.sum, x, [0, 2]))
    assert_eq(sa.apply_over_axes(sa.max, d, 1), np.apply_over_axes(np.max, x, 1))
    idx = np.array([[0, 1, 2, 1], [2, 0, 0, 1], [1, 1, 2, 0]])
    choices = [np.arange(4), np.full((3, 4), 10), sa.from_array(np.arange(12).reshape(3, 4) * -1.0, chunks=2)]
    assert_eq(np.choose(sa.from_array(idx, chunks=(2, 3)), choices),
              np.choose(idx, [np.arange(4), np.full((3, 4), 10), np.arange(12).reshape(3, 4) * -1.0]))


# -- non-zero ----------------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(kind="int", low=-1, high=2))
@settings(max_examples=40, deadline=None)
def test_nonzero_argwhere_flatnonzero_match_numpy(case):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.argwhere(d), np.argwhere(x))
    for got, expected in zip(d.nonzero(), np.nonzero(x), strict=True):
        assert_eq(got, expected)
    assert_eq(np.flatnonzero(d), np.flatnonzero(x))


def test_nonzero_unknown_chunks_and_errors():
    x = np.array([0, 3, 0, 5, 6])
    found = sa.flatnonzero(sa.from_array(x, chunks=2))
    assert math.isnan(found.shape[0])
    assert found.compute_chunk_sizes().chunks == ((1, 1, 1),)
    assert_eq(sa.argwhere(sa.from_array(np.array(3), chunks=())), np.argwhere(np.array(3)))
    with pytest.raises(ValueError, match="0d arrays"):
        sa.nonzero(sa.from_array(np.array(3), chunks=()))
    found = sa.flatnonzero(sa.from_array(x, chunks=2))  # compute_chunk_sizes updated the first one in place
    assert_eq(sa.searchsorted(found, 2), np.asarray(np.searchsorted([1, 3, 4], 2)))
    assert_eq(sa.unique(found), np.array([1, 3, 4]))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.unique(found, return_index=True)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.topk(found, 1)


# -- coarsen ---------------------------------------------------------------------------------------------------------
@given(case=chunked_arrays(max_dims=2, max_side=12), data=st.data())
@settings(max_examples=40, deadline=None)
def test_coarsen_matches_reshape(case, data):
    x, chunks = case
    factors = {a: data.draw(st.integers(1, max(1, x.shape[a]))) for a in range(x.ndim)}
    d = sa.from_array(x, chunks=chunks)
    trimmed = x[tuple(slice(0, (s // factors[a]) * factors[a]) for a, s in enumerate(x.shape))]
    shape = [n for a, s in enumerate(trimmed.shape) for n in (s // factors[a], factors[a])]
    expected = trimmed.reshape(shape).mean(axis=tuple(range(1, 2 * x.ndim, 2)))
    assert_eq(sa.coarsen(np.mean, d, factors, trim_excess=True), expected)


def test_coarsen_errors_and_shoal_reduction():
    x = np.arange(24).reshape(4, 6)
    d = sa.from_array(x, chunks=(3, 4))
    assert_eq(sa.coarsen(sa.sum, d, {0: 2, 1: 3}), x.reshape(2, 2, 2, 3).sum(axis=(1, 3)))
    with pytest.raises(ValueError, match="does not divide"):
        sa.coarsen(np.sum, d, {1: 4})

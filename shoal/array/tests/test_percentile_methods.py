"""Every NumPy percentile method, exact with small blocks and within the rank bound with large ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq

ALL_METHODS = ["linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf", "averaged_inverted_cdf",
               "closest_observation", "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
               "normal_unbiased"]
NEW_METHODS = ALL_METHODS[5:]


@st.composite
def small_int_arrays(draw):
    shape = tuple(draw(st.lists(st.integers(1, 12), min_size=1, max_size=3)))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).integers(-5, 5, shape)
    return x, draw(chunks_for(shape))


@given(case=small_int_arrays(), method=st.sampled_from(ALL_METHODS), as_float=st.booleans(),
       q=st.one_of(st.floats(0, 100), st.lists(st.floats(0, 100), min_size=1, max_size=5)))
@settings(max_examples=150, deadline=None)
def test_every_method_is_exact_with_small_blocks(case, method, as_float, q):
    x, chunks = case
    x = x.astype(float) if as_float else x
    d = sa.from_array(x, chunks=chunks)
    expected = np.percentile(x, q, method=method)
    got = sa.percentile(d, q, method=method)
    assert got.dtype == expected.dtype
    assert_eq(got, expected)
    np.testing.assert_array_equal(np.asarray(got.compute()), expected)  # bit-equal, not just close


@pytest.mark.parametrize("method", NEW_METHODS)
def test_new_methods_through_quantile_nanpercentile_and_axis(method):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((9, 8))
    d = sa.from_array(x, chunks=(4, 3))
    assert_eq(sa.quantile(d, [0.1, 0.5, 0.9], method=method), np.quantile(x, [0.1, 0.5, 0.9], method=method))
    assert_eq(sa.percentile(d, [10, 90], axis=1, method=method), np.percentile(x, [10, 90], axis=1, method=method))
    with_nan = x.ravel().copy()
    with_nan[[2, 17]] = np.nan
    dn = sa.from_array(with_nan, chunks=10)
    assert_eq(sa.nanpercentile(dn, [5, 50, 95], method=method), np.nanpercentile(with_nan, [5, 50, 95], method=method))


@pytest.mark.parametrize("method", NEW_METHODS)
def test_new_methods_approximate_with_large_blocks(method):
    x = np.random.default_rng(5).standard_normal(20_000)
    d = sa.from_array(x, chunks=5_000)
    q = np.array([0, 1, 25, 50, 75, 99, 100])
    approx = sa.percentile(d, q, method=method, max_points=500).compute()
    exact = np.percentile(x, q, method=method)
    assert approx[0] == exact[0] and approx[-1] == exact[-1]
    # Rank error at most about N / max_points, measured against NumPy's answer with the same method.
    ordered = np.sort(x)
    assert np.all(np.abs(np.searchsorted(ordered, approx) - np.searchsorted(ordered, exact)) <= 2 * len(x) / 500)
    if method in ("inverted_cdf", "closest_observation"):
        assert np.isin(approx, x).all()  # these pick data values, even when approximate


def test_tdigest_internal_method_needs_no_crick():
    x = np.random.default_rng(2).random(1000)
    d = sa.from_array(x, chunks=100)
    assert_eq(sa.percentile(d, [10, 50, 90], internal_method="tdigest"), np.percentile(x, [10, 50, 90]))
    with pytest.raises(ValueError, match="not supported on shoal arrays"):
        sa.percentile(d, 50, method="tdigest")

"""Tests for median/nanmedian/nanquantile, average, cov and corrcoef against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


@st.composite
def float_arrays(draw, min_dims=1, max_dims=3, max_side=6, nans=False):
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))
    chunks = draw(chunks_for(shape))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal(shape)
    if nans:
        x[rng.random(shape) < 0.2] = np.nan
    return x, chunks


@st.composite
def axes_for(draw, ndim):
    if draw(st.booleans()):
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)))


@given(case=float_arrays(), data=st.data(), keepdims=st.booleans())
@settings(max_examples=50, deadline=None)
def test_median_matches_numpy(case, data, keepdims):
    x, chunks = case
    axis = data.draw(axes_for(x.ndim))
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.median(d, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims))
    assert_eq(np.median(d, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims))


@given(case=float_arrays(nans=True), data=st.data(), keepdims=st.booleans())
@settings(max_examples=40, deadline=None)
def test_nanmedian_matches_numpy(case, data, keepdims):
    x, chunks = case
    x[(0,) * x.ndim] = 1.0  # at least one value, so NumPy's all-NaN warning path stays out of the comparison
    axis = data.draw(axes_for(x.ndim))
    expected_nan_slice = np.isnan(x).all(axis=axis).any()
    if expected_nan_slice:
        return
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.nanmedian(d, axis=axis, keepdims=keepdims), np.nanmedian(x, axis=axis, keepdims=keepdims))


def test_median_integer_input_and_errors():
    x = np.arange(24).reshape(4, 6)
    d = sa.from_array(x, chunks=(3, 4))
    assert_eq(sa.median(d, axis=1), np.median(x, axis=1))
    assert_eq(sa.median(d), np.median(x))  # axis=None: every value, as NumPy (Dask refuses it)
    with pytest.raises(np.exceptions.AxisError):
        sa.nanmedian(d, axis=2)
    with pytest.raises(TypeError, match="out="):
        sa.median(d, axis=0, out=np.empty(6))


@given(case=float_arrays(nans=True, max_dims=2), data=st.data())
@settings(max_examples=30, deadline=None)
def test_nanquantile_along_axis_matches_numpy(case, data):
    x, chunks = case
    x[(0,) * x.ndim] = 0.5
    axis = data.draw(st.integers(0, x.ndim - 1))
    if np.isnan(x).all(axis=axis).any():
        return
    q = data.draw(st.sampled_from([0.3, [0.0, 0.5, 1.0]]))
    got = sa.nanquantile(sa.from_array(x, chunks=chunks), q, axis=axis)
    assert_eq(got, np.nanquantile(x, q, axis=axis))


def test_nanquantile_flat_and_errors():
    x = np.array([3.0, np.nan, 1.0, 7.0, np.nan, 2.0])
    d = sa.from_array(x, chunks=2)
    assert_eq(sa.nanquantile(d, [0.25, 0.75]), np.nanquantile(x, [0.25, 0.75]))
    assert_eq(np.nanquantile(d, 0.5), np.nanquantile(x, 0.5))
    with pytest.raises(ValueError, match="range \\[0, 1\\]"):
        sa.nanquantile(d, 1.5)


@given(case=float_arrays(), data=st.data(), returned=st.booleans(), keepdims=st.booleans())
@settings(max_examples=50, deadline=None)
def test_average_matches_numpy(case, data, returned, keepdims):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    kind = data.draw(st.sampled_from(["none", "full", "axis"]))
    axis = None if kind == "full" and data.draw(st.booleans()) else data.draw(axes_for(x.ndim))
    rng = np.random.default_rng(0)
    if kind == "none":
        weights = None
    elif kind == "full":
        weights = rng.random(x.shape) + 0.1
    else:
        axes = (axis,) if isinstance(axis, int) else axis
        weights = rng.random(tuple(x.shape[a] for a in axes)) + 0.1
    expected = np.average(x, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    got = sa.average(d, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    if returned:
        assert_eq(got[0], expected[0])
        assert_eq(got[1], expected[1])
    else:
        assert_eq(got, expected)


def test_average_integer_data_lazy_weights_and_errors():
    x = np.arange(12).reshape(3, 4)
    w = np.array([1, 2, 3, 4])
    d = sa.from_array(x, chunks=2)
    assert_eq(sa.average(d, axis=1, weights=sa.from_array(w, chunks=3)), np.average(x, axis=1, weights=w))
    assert_eq(np.average(d, axis=1, weights=w), np.average(x, axis=1, weights=w))
    with pytest.raises(TypeError, match="Axis must be specified"):
        sa.average(d, weights=w)
    with pytest.raises(ValueError, match="Shape of weights must be consistent"):
        sa.average(d, axis=0, weights=w)


@given(case=float_arrays(min_dims=1, max_dims=2), rowvar=st.booleans(), bias=st.booleans(),
       ddof=st.sampled_from([None, 0, 2]), with_y=st.booleans())
@settings(max_examples=50, deadline=None)
def test_cov_and_corrcoef_match_numpy(case, rowvar, bias, ddof, with_y):
    x, chunks = case
    obs = x.shape[-1] if rowvar or x.ndim == 1 else x.shape[0]
    if with_y and not rowvar and x.ndim == 2 and x.shape[0] == 1:
        obs = min(obs, x.shape[1])
    if obs - (ddof if ddof is not None else (0 if bias else 1)) <= 0:
        return  # NumPy warns and divides by zero; covered separately
    y = np.random.default_rng(1).standard_normal(x.shape) if with_y else None
    d = sa.from_array(x, chunks=chunks)
    dy = sa.from_array(y, chunks=chunks) if with_y else None
    try:
        expected = np.cov(x, y, rowvar=rowvar, bias=bias, ddof=ddof)
    except ValueError:  # m and y disagree on the number of observations
        with pytest.raises(ValueError, match="same number of observations"):
            sa.cov(d, dy, rowvar=rowvar, bias=bias, ddof=ddof)
        return
    assert_eq(sa.cov(d, dy, rowvar=rowvar, bias=bias, ddof=ddof), expected)
    if obs > 1:
        assert_eq(sa.corrcoef(d, dy, rowvar=rowvar), np.corrcoef(x, y, rowvar=rowvar))


def test_cov_weights_match_numpy():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8))
    fw = rng.integers(1, 4, 8)
    aw = rng.random(8) + 0.2
    d = sa.from_array(x, chunks=(2, 3))
    for kwargs in ({"fweights": fw}, {"aweights": aw}, {"fweights": fw, "aweights": aw},
                   {"fweights": fw, "aweights": aw, "ddof": 0}):
        assert_eq(sa.cov(d, **kwargs), np.cov(x, **kwargs))
    assert_eq(sa.cov(d, aweights=sa.from_array(aw, chunks=5)), np.cov(x, aweights=aw))
    assert_eq(np.cov(d), np.cov(x))


def test_cov_complex_and_errors():
    x = np.array([[1 + 2j, 3 - 1j, 0.5j], [2 - 1j, 1j, 4.0]])
    d = sa.from_array(x, chunks=1)
    assert_eq(sa.cov(d), np.cov(x))
    assert_eq(sa.corrcoef(d), np.corrcoef(x))
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        sa.cov(sa.ones((2, 2, 2), chunks=1))
    with pytest.raises(TypeError, match="fweights must be integer"):
        sa.cov(d, fweights=[1.5, 1, 1])
    with pytest.raises(RuntimeError, match="incompatible numbers of samples"):
        sa.cov(d, aweights=[1.0, 1.0])
    with pytest.raises(ValueError, match="same number of observations"):
        sa.cov(d, sa.ones((1, 4), chunks=2))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        sa.cov(sa.ones((2, 1), chunks=1))

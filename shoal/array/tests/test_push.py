"""push: forward fill of missing values along an axis, compared with a plain-NumPy loop (bottleneck's rules)."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


def push_reference(a: np.ndarray, n: int | None, axis: int) -> np.ndarray:
    """bottleneck.push by hand: each missing value takes the latest valid one at most ``n`` positions back."""
    moved = np.moveaxis(np.array(a, copy=True), axis, -1)
    out = moved.copy()
    missing = np.isnat(moved) if moved.dtype.kind in "mM" else np.isnan(moved)
    for row in np.ndindex(moved.shape[:-1]):
        last = None
        for p in range(moved.shape[-1]):
            if not missing[(*row, p)]:
                last = p
            elif last is not None and (n is None or p - last <= n):
                out[(*row, p)] = moved[(*row, last)]
    return np.moveaxis(out, -1, axis)


@st.composite
def arrays_with_gaps(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7))
    dtype = draw(st.sampled_from(["f8", "f4", "c16"]))
    values = draw(hnp.arrays(dtype, shape, elements=st.integers(-5, 5).map(float)))
    holes = draw(hnp.arrays(bool, shape))
    values[holes] = np.nan
    return values, draw(chunks_for(shape))


@given(case=arrays_with_gaps(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_push_matches_reference(case, data):
    values, chunks = case
    axis = data.draw(st.integers(-values.ndim, values.ndim - 1))
    n = data.draw(st.one_of(st.none(), st.integers(0, 8)))
    x = sa.from_array(values, chunks=chunks)
    assert_eq(sa.push(x, n, axis), push_reference(values, n, axis))


def test_push_crosses_many_blocks_and_counts_the_limit_globally():
    values = np.array([1.0] + [np.nan] * 9 + [5.0, np.nan, np.nan])
    x = sa.from_array(values, chunks=1)
    assert_eq(sa.push(x, None, 0), push_reference(values, None, 0))
    assert_eq(sa.push(x, 3, 0), np.array([1, 1, 1, 1] + [np.nan] * 6 + [5, 5, 5], dtype=float))
    assert_eq(sa.push(x, 0, 0), values)  # as bottleneck: n=0 fills nothing


def test_push_leading_gap_stays_missing():
    values = np.array([[np.nan, np.nan, 2.0], [np.nan, 3.0, np.nan]])
    assert_eq(sa.push(sa.from_array(values, chunks=1), None, 1), np.array([[np.nan, np.nan, 2], [np.nan, 3, 3]]))


def test_push_datetimes_fill_nat():
    values = np.array(["2020-01-01", "NaT", "NaT", "2020-01-04", "NaT"], dtype="M8[D]")
    out = sa.push(sa.from_array(values, chunks=2), 1, 0).compute()
    np.testing.assert_array_equal(out, push_reference(values, 1, 0))


def test_push_integers_unchanged_and_numpy_input():
    values = np.arange(6).reshape(2, 3)
    assert_eq(sa.push(values, None, 1), values)
    assert_eq(sa.push(np.array([1.0, np.nan]), None, 0), np.array([1.0, 1.0]))


def test_push_unknown_chunks_along_axis():
    values = np.array([1.0, np.nan, -1.0, np.nan, np.nan, 4.0, np.nan])
    x = sa.from_array(values, chunks=2)
    kept = x[sa.from_array(values != -1.0, chunks=2)]
    assert np.isnan(kept.chunks[0][0])
    np.testing.assert_array_equal(sa.push(kept, 2, 0).compute(), push_reference(values[values != -1.0], 2, 0))


def test_push_bad_arguments():
    x = sa.from_array(np.ones((2, 2)), chunks=1)
    with pytest.raises(ValueError, match="n must be 0 or more"):
        sa.push(x, -1, 0)
    with pytest.raises(TypeError, match="n must be an int or None"):
        sa.push(x, 1.5, 0)
    with pytest.raises(np.exceptions.AxisError):
        sa.push(x, None, 2)

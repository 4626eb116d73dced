"""NaN-aware routines against NumPy for any chunking: ``unique(equal_nan=False)`` (every NaN its own value)
and ``median``/``nanmedian`` over the whole array."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shoal.array as sa


@st.composite
def arrays_and_chunks(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...]]:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    values = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0, 2.5, np.nan])))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    return values, chunks


@settings(max_examples=80, deadline=None)
@given(case=arrays_and_chunks(), equal_nan=st.booleans())
def test_unique_matches_numpy_with_and_without_equal_nan(case: tuple[np.ndarray, tuple[int, ...]],
                                                          equal_nan: bool) -> None:
    a, chunks = case
    x = sa.from_array(a, chunks=chunks)
    got = sa.unique(x, return_index=True, return_inverse=True, return_counts=True, equal_nan=equal_nan)
    expected = np.unique(a, return_index=True, return_inverse=True, return_counts=True, equal_nan=equal_nan)
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ours.compute(), theirs)
    np.testing.assert_array_equal(sa.unique(x, equal_nan=equal_nan).compute(), np.unique(a, equal_nan=equal_nan))


def test_unknown_sizes_are_refused_with_the_fix() -> None:
    x = sa.from_array(np.array([np.nan, 1.0, np.nan, 2.0]), chunks=2)
    masked = x[x != 1.0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.unique(masked, equal_nan=False)
    np.testing.assert_array_equal(sa.unique(masked.compute_chunk_sizes(), equal_nan=False).compute(),
                                  np.unique(np.array([np.nan, np.nan, 2.0]), equal_nan=False))


@settings(max_examples=40, deadline=None)
@given(case=arrays_and_chunks(), keepdims=st.booleans())
def test_median_over_the_whole_array_matches_numpy(case: tuple[np.ndarray, tuple[int, ...]], keepdims: bool) -> None:
    a, chunks = case
    x = sa.from_array(a, chunks=chunks)
    np.testing.assert_array_equal(sa.median(x, keepdims=keepdims).compute(), np.median(a, keepdims=keepdims))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN input warns, in NumPy as in each task
        np.testing.assert_array_equal(np.nanmedian(x, keepdims=keepdims).compute(),
                                      np.nanmedian(a, keepdims=keepdims))

"""shuffle: values equal np.take by the concatenated groups; each group inside one block; Dask's block layout."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal import config
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


def _boundaries(chunks):
    return set(np.cumsum([0, *chunks]).tolist())


def _check_layout(x, y, groups, axis):
    """Each non-empty group within one output block; other axes' blocks only split x's, never merged."""
    edges = np.cumsum([0, *y.chunks[axis]])
    start = 0
    for group in groups:
        if len(group):
            first = np.searchsorted(edges, start, side="right")
            last = np.searchsorted(edges, start + len(group) - 1, side="right")
            assert first == last, (groups, y.chunks)
        start += len(group)
    for d in range(x.ndim):
        if d != axis:
            assert _boundaries(x.chunks[d]) <= _boundaries(y.chunks[d])


@st.composite
def shuffle_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7))
    axis = draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    groups = draw(st.lists(st.lists(st.integers(-n, n - 1), max_size=2 * n + 2), max_size=6))
    return np.arange(math.prod(shape)).reshape(shape), draw(chunks_for(shape)), groups, axis


@given(case=shuffle_cases())
@settings(max_examples=80, deadline=None)
def test_shuffle_matches_take(case):
    values, chunks, groups, axis = case
    x = sa.from_array(values, chunks=chunks)
    y = x.shuffle(groups, axis)
    flat = np.concatenate([np.asarray(g, dtype=int) for g in groups]) if groups else np.empty(0, dtype=int)
    assert_eq(y, np.take(values, flat, axis=axis))
    _check_layout(x, y, groups, axis)


def test_docstring_example():
    arr = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]])
    y = sa.shuffle(sa.from_array(arr, chunks=(2, 4)), [[6, 5, 2], [4, 1], [3, 0, 7]], axis=1)
    assert y.chunks == ((2,), (5, 3))
    assert_eq(y, arr[:, [6, 5, 2, 4, 1, 3, 0, 7]])


# Block layouts Dask 2026.8 gives for the same calls (shape, chunks, group lengths, axis -> chunks).
DASK_LAYOUTS = [
    ((8,), ((2, 6),), [1] * 8, 0, ((5, 3),)),
    ((8,), ((3, 3, 2),), [1] * 8, 0, ((3, 3, 2),)),
    ((8,), ((1,) * 8,), [3, 2, 2, 2], 0, ((3, 2, 2, 2),)),
    ((20,), ((4,) * 5,), [12, 2, 5, 1], 0, ((12, 2, 5, 1),)),
    ((6, 20), ((2, 2, 2), (4,) * 5), [12, 2, 5, 1], 1, ((1,) * 6, (12, 2, 5, 1))),
    ((12, 20), ((12,), (4,) * 5), [9, 2, 5, 1], 1, ((4, 4, 4), (9, 2, 5, 1))),
    ((12, 20), ((12,), (4,) * 5), [7, 2, 5, 1], 1, ((6, 6), (7, 2, 5, 1))),
    ((12, 20), ((12,), (4,) * 5), [5, 2, 5, 1], 1, ((12,), (5, 2, 5, 1))),
    ((12, 20, 6), ((12,), (4,) * 5, (3, 3)), [8, 1], 1, ((6, 6), (8, 1), (2, 1, 2, 1))),
    ((12, 20, 6), ((12,), (4,) * 5, (3, 3)), [20], 1, ((4, 4, 4), (20,), (1,) * 6)),
    ((10, 20, 9, 7), ((10,), (4,) * 5, (9,), (7,)), [20], 1, ((5, 5), (20,), (5, 4), (4, 3))),
    ((1, 20, 9), ((1,), (4,) * 5, (9,)), [17], 1, ((1,), (17,), (2, 2, 2, 2, 1))),
    ((9, 20), ((2, 5, 2), (4,) * 5), [10], 1, ((2, 2, 2, 1, 2), (10,))),
    ((9, 20), ((2, 5, 2), (6, 6, 6, 2)), [3, 3, 2, 4], 1, ((2, 5, 2), (6, 6))),
]


@pytest.mark.parametrize(("shape", "chunks", "lengths", "axis", "expected"), DASK_LAYOUTS)
def test_block_layout_as_dask(shape, chunks, lengths, axis, expected):
    values = np.arange(math.prod(shape)).reshape(shape)
    rng = np.random.default_rng(len(lengths))
    groups = [rng.integers(0, shape[axis], size=k).tolist() for k in lengths]
    y = sa.from_array(values, chunks=chunks).shuffle(groups, axis)
    assert y.chunks == expected
    assert_eq(y, np.take(values, np.concatenate(groups), axis=axis))


def test_tolerance_comes_from_config():
    x = sa.from_array(np.arange(8), chunks=4)
    with config.set({"array.chunk-size-tolerance": 1.0}):
        assert x.shuffle([[i] for i in range(8)], 0).chunks == ((4, 4),)
    with config.set({"array.chunk-size-tolerance": 2.0}):
        assert x.shuffle([[i] for i in range(8)], 0).chunks == ((8,),)


def test_empty_result_and_numpy_input():
    y = sa.shuffle(np.arange(6).reshape(2, 3), [[], []], axis=1)
    assert y.shape == (2, 0)
    assert_eq(y, np.empty((2, 0), dtype=int))


def test_bad_indexers():
    x = sa.from_array(np.arange(10), chunks=3)
    with pytest.raises(IndexError, match="position 10.*only 10 elements"):
        x.shuffle([[1], [10]], 0)
    with pytest.raises(TypeError, match="group 1 of the indexer is 3"):
        x.shuffle([[1], 3], 0)
    with pytest.raises(TypeError, match="list of groups"):
        x.shuffle(np.array([1, 2]), 0)
    with pytest.raises(ValueError, match="chunks must be 'auto'"):
        x.shuffle([[1]], 0, chunks=(2,))
    with pytest.raises(np.exceptions.AxisError):
        x.shuffle([[1]], 1)
    unknown = x[x > 2]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        unknown.shuffle([[0]], 0)

"""Generator.choice of slices along any axis of n-d arrays, with NumPy's shapes, and the split random modules."""

from __future__ import annotations

import math
import pickle

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import _random_generator, _random_sampler, _random_state, random


@st.composite
def choice_cases(draw):
    """An n-d population (NumPy or chunked shoal), an axis, a sample size and the sampling options."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    size = draw(st.one_of(st.none(), st.integers(0, 4), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    replace = draw(st.booleans())
    length = shape[axis]
    total = 1 if size is None else math.prod(size) if isinstance(size, tuple) else size
    if not replace and total > length:
        replace = True
    weighted = draw(st.booleans())
    as_shoal = draw(st.booleans())
    chunk = draw(st.integers(1, 3))
    return shape, axis, size, replace, weighted, as_shoal, chunk


def _positions(out: np.ndarray, a: np.ndarray, axis: int, sampled_ndim: int) -> np.ndarray:
    """The position along ``axis`` that each sample of ``out`` was taken from (``a`` is an arange)."""
    stride = math.prod(a.shape[axis + 1:])
    corner = (0,) * axis + (slice(None),) * sampled_ndim + (0,) * (a.ndim - axis - 1)
    return out[corner] // stride


@given(case=choice_cases(), seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_choice_along_axis(case, seed):
    shape, axis, size, replace, weighted, as_shoal, chunk = case
    a = np.arange(math.prod(shape)).reshape(shape)
    length = shape[axis]
    p = None
    if weighted:
        p = np.random.default_rng(seed).random(length)
        p[0] = 0.0 if length > 1 and replace else p[0]  # a zero weight is never drawn (with replacement)
        p /= p.sum()
    population = sa.from_array(a, chunks=chunk) if as_shoal else a
    x = sa.random.default_rng(seed).choice(population, size=size, replace=replace, p=p, axis=axis, chunks=chunk)
    expected_shape = np.random.default_rng(seed).choice(a, size=size, replace=replace, p=p, axis=axis).shape
    out = x.compute()
    assert x.shape == out.shape == expected_shape
    assert x.dtype == out.dtype == a.dtype
    sampled = 0 if size is None else len(size) if isinstance(size, tuple) else 1
    positions = _positions(out, a, axis % a.ndim, sampled)
    assert ((0 <= positions) & (positions < length)).all()
    # Every sample is a whole slice of a along axis.
    np.testing.assert_array_equal(out, np.take(a, positions, axis=axis))
    if not replace:
        assert len(set(np.ravel(positions).tolist())) == np.size(positions)
    if p is not None and p[0] == 0:
        assert not (positions == 0).any()
    again = sa.random.default_rng(seed).choice(population, size=size, replace=replace, p=p, axis=axis,
                                               chunks=chunk).compute()
    np.testing.assert_array_equal(out, again)


def test_choice_keeps_other_chunks_and_one_dimensional_draws():
    a = np.arange(60).reshape(3, 4, 5)
    x = sa.from_array(a, chunks=(2, 3, 2))
    sample = sa.random.default_rng(1).choice(x, size=(2, 3), axis=1, chunks=(1, 2))
    assert sample.chunks == ((2, 1), (1, 1), (2, 1), (2, 2, 1))
    assert sample.compute().shape == (3, 2, 3, 5)
    # A 1-d population along axis -1 is the plain 1-d sample.
    v = np.arange(10) * 3
    one = sa.random.default_rng(2).choice(v, size=6, axis=-1, chunks=4).compute()
    two = sa.random.default_rng(2).choice(v, size=6, chunks=4).compute()
    np.testing.assert_array_equal(one, two)
    unshuffled = sa.random.default_rng(3).choice(a, size=3, axis=2, replace=False, shuffle=False).compute()
    assert unshuffled.shape == (3, 4, 3)


def test_choice_errors():
    rng = sa.random.default_rng(0)
    a = np.ones((3, 4))
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        rng.choice(a, size=2, axis=2)
    with pytest.raises(np.exceptions.AxisError, match="pass axis=0"):
        rng.choice(5, size=2, axis=1)
    with pytest.raises(ValueError, match="larger sample"):
        rng.choice(a, size=5, axis=1, replace=False)
    with pytest.raises(ValueError, match="must match"):
        rng.choice(a, size=2, axis=1, p=[0.5, 0.5])
    with pytest.raises(ValueError, match="at least one dimension"):
        rng.choice(np.ones(()), size=2)
    unknown = sa.from_array(np.ones((6, 2)), chunks=2)
    unknown = unknown[unknown[:, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        rng.choice(unknown, size=2, axis=0)
    with pytest.raises(ValueError, match="1-dimensional"):  # RandomState.choice is 1-d only, as NumPy's
        sa.random.RandomState(0).choice(a, size=2)


def test_split_modules_keep_public_names():
    assert random.Generator is _random_generator.Generator
    assert random.default_rng is _random_generator.default_rng
    assert random.RandomState is _random_state.RandomState
    assert random.seed is _random_state.seed
    for name in random.__all__:
        assert callable(getattr(random, name)), name
    assert {"integers", "choice", "normal", "zipf"} <= set(dir(random.Generator))
    assert {"randint", "random_sample", "normal", "zipf"} <= set(dir(random.RandomState))
    assert random.Generator.normal.__module__ == "shoal.array._random_table"
    x = sa.random.default_rng(0).choice(np.arange(12).reshape(3, 4), size=2, axis=1)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(x)).compute(), x.compute())
    assert _random_sampler.Sampler in random.Generator.__mro__ and _random_sampler.Sampler in random.RandomState.__mro__

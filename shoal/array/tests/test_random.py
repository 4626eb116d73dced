"""shoal.array.random: reproducible block-wise sampling with RandomState, Generator and module functions."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array.random import _DISTRIBUTIONS
from shoal.array.utils import assert_eq

#: Valid parameters for the distributions that need some.
PARAMS = {
    "beta": (2, 3), "binomial": (10, 0.3), "chisquare": (3,), "f": (3, 4), "gamma": (2,), "geometric": (0.3,),
    "hypergeometric": (5, 6, 4), "logseries": (0.5,), "negative_binomial": (3, 0.4),
    "noncentral_chisquare": (3, 1), "noncentral_f": (3, 4, 1), "pareto": (2,), "power": (2,),
    "standard_gamma": (2,), "standard_t": (3,), "triangular": (0, 1, 2), "vonmises": (0, 1), "wald": (1, 1),
    "weibull": (2,), "zipf": (2,),
}


def states():
    return [sa.random.RandomState(5), sa.random.default_rng(5)]


@pytest.mark.parametrize("method", sorted(_DISTRIBUTIONS))
def test_every_distribution_has_right_metadata(method):
    for state in states():
        x = getattr(state, method)(*PARAMS.get(method, ()), size=(5, 3), chunks=2)
        assert x.chunks == ((2, 2, 1), (2, 1))
        result = x.compute(scheduler="sync")
        assert_eq(x, result)  # lazy dtype and shape, and each block's shape, match what is computed


def test_same_seed_same_values_and_successive_calls_differ():
    a = sa.random.RandomState(42).normal(size=(20, 10), chunks=(7, 4)).compute()
    b = sa.random.RandomState(42).normal(size=(20, 10), chunks=(7, 4)).compute()
    np.testing.assert_array_equal(a, b)
    state = sa.random.RandomState(42)
    first, second = state.normal(size=10, chunks=5), state.normal(size=10, chunks=5)
    assert first.name != second.name
    assert not np.array_equal(first.compute(), second.compute())
    c = sa.random.RandomState(43).normal(size=(20, 10), chunks=(7, 4)).compute()
    assert not np.array_equal(a, c)
    g1 = sa.random.default_rng(3).random((6, 6), chunks=3).compute()
    g2 = sa.random.default_rng(3).random((6, 6), chunks=3).compute()
    np.testing.assert_array_equal(g1, g2)


def test_blocks_are_distinct():
    x = sa.random.default_rng(0).random((4, 4), chunks=2).compute()
    blocks = [x[i:i + 2, j:j + 2] for i in (0, 2) for j in (0, 2)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(blocks[i], blocks[j])


@pytest.mark.parametrize("scheduler", ["sync", "threads", "processes"])
def test_results_do_not_depend_on_scheduler(scheduler):
    expected = sa.random.RandomState(9).uniform(-1, 1, size=(30, 8), chunks=(7, 3)).compute(scheduler="sync")
    x = sa.random.RandomState(9).uniform(-1, 1, size=(30, 8), chunks=(7, 3))
    np.testing.assert_array_equal(x.compute(scheduler=scheduler), expected)


def test_a_block_depends_only_on_its_index():
    # Computing a block alone (or within a bigger expression) gives the same values.
    x = sa.random.RandomState(11).random_sample((10, 10), chunks=5)
    whole = x.compute()
    np.testing.assert_array_equal((x + 0).compute(), whole)
    np.testing.assert_array_equal(x.to_delayed()[1, 0].compute(), whole[5:, :5])


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), chunk=st.integers(1, 10))
@settings(max_examples=30, deadline=None)
def test_integers_within_bounds(seed, n, chunk):
    rng = sa.random.default_rng(seed)
    x = rng.integers(-3, 4, size=n, chunks=chunk).compute()
    assert ((-3 <= x) & (x < 4)).all() and x.shape == (n,)
    y = rng.integers(5, size=n, chunks=chunk, endpoint=True, dtype="i2")
    assert y.dtype == np.int16
    v = y.compute()
    assert ((0 <= v) & (v <= 5)).all() and v.dtype == np.int16
    r = sa.random.RandomState(seed).randint(2, 9, size=(n, 2), chunks=chunk).compute()
    assert ((2 <= r) & (r < 9)).all()
    ri = sa.random.RandomState(seed).random_integers(3, size=n, chunks=chunk).compute()
    assert ((1 <= ri) & (ri <= 3)).all()


def test_statistics_match_the_distribution():
    rng = sa.random.default_rng(1)
    n = 200_000
    normal = rng.normal(3.0, 2.0, size=n, chunks=50_000).compute()
    assert abs(normal.mean() - 3.0) < 0.05 and abs(normal.std() - 2.0) < 0.05
    uniform = sa.random.RandomState(2).uniform(-2, 2, size=n, chunks=30_000).compute()
    assert uniform.min() >= -2 and uniform.max() < 2 and abs(uniform.mean()) < 0.03
    poisson = sa.random.RandomState(3).poisson(4.0, size=n, chunks=40_000).compute()
    assert abs(poisson.mean() - 4.0) < 0.05 and abs(poisson.var() - 4.0) < 0.1
    binomial = rng.binomial(10, 0.3, size=n, chunks=40_000).compute()
    assert abs(binomial.mean() - 3.0) < 0.05
    exponential = sa.random.exponential(2.0, size=n, chunks=40_000).compute()
    assert abs(exponential.mean() - 2.0) < 0.05
    sample = sa.random.random((500, 400), chunks=(100, 100)).compute()
    assert 0 <= sample.min() and sample.max() < 1 and abs(sample.mean() - 0.5) < 0.01


def test_array_parameters_broadcast():
    loc = np.arange(4)[:, None] * 100.0
    x = sa.random.RandomState(0).normal(loc, 0.1, size=(4, 6), chunks=(3, 4)).compute()
    np.testing.assert_allclose(x.mean(axis=1), loc[:, 0], atol=1)
    d = sa.from_array(loc, chunks=(1, 1))
    y = sa.random.default_rng(0).normal(d, 0.1, size=(4, 6), chunks=(3, 4))
    assert y.chunks == ((3, 1), (4, 2))
    np.testing.assert_allclose(y.compute().mean(axis=1), loc[:, 0], atol=1)
    same = sa.random.default_rng(0).uniform(sa.from_array(np.zeros((4, 6)), chunks=2), 1.0, chunks=3)
    assert same.shape == (4, 6)
    low = sa.random.default_rng(0).uniform(low=np.arange(5.0), high=np.arange(5.0) + 0.5, chunks=2).compute()
    assert low.shape == (5,) and ((np.arange(5) <= low) & (low < np.arange(5) + 0.5)).all()
    with pytest.raises(ValueError, match="broadcast"):
        sa.random.normal(np.zeros(3), 1, size=(4,))


def test_size_none_and_scalars():
    x = sa.random.random()
    assert x.shape == () and 0 <= float(x.compute()) < 1
    assert sa.random.normal(size=5).chunks == ((5,),)


def test_argument_errors():
    with pytest.raises(TypeError, match="missing required argument 'lam'|missing required argument 'a'"):
        sa.random.RandomState(0).pareto(size=3)
    with pytest.raises(TypeError, match="multiple values"):
        sa.random.RandomState(0).normal(0, loc=1)
    with pytest.raises(ValueError, match="negative"):
        sa.random.random((-1, 2))
    with pytest.raises(TypeError, match="positional"):
        sa.random.RandomState(0).normal(0, 1, 3, "auto", 5)


def test_chunks_forms():
    assert sa.random.random((10, 10), chunks=-1).chunks == ((10,), (10,))
    assert sa.random.random((10, 10), chunks=(5, 2)).numblocks == (2, 5)
    assert sa.random.random((20000, 20000)).chunksize == (4096, 4096)


@given(n=st.integers(1, 30), size=st.integers(0, 30), chunk=st.integers(1, 8), replace=st.booleans(),
       weighted=st.booleans())
@settings(max_examples=40, deadline=None)
def test_choice(n, size, chunk, replace, weighted):
    population = np.arange(n) * 10
    p = np.random.default_rng(0).random(n) if weighted else None
    if p is not None:
        p /= p.sum()
    for state in states():
        if not replace and size > n:
            with pytest.raises(ValueError, match="larger sample"):
                state.choice(population, size=size, replace=replace, p=p, chunks=chunk)
            continue
        x = state.choice(population, size=size, replace=replace, p=p, chunks=chunk)
        out = x.compute()
        assert out.shape == (size,) and out.dtype == population.dtype
        assert set(out.tolist()) <= set(population.tolist())
        if not replace:
            assert len(set(out.tolist())) == size


def test_choice_forms_and_errors():
    x = sa.random.choice(5, size=(3, 4), chunks=2)
    assert x.dtype == np.int64 and x.shape == (3, 4) and x.compute().max() < 5
    a = sa.from_array(np.array([1.5, 2.5, 3.5]), chunks=1)
    p = sa.from_array(np.array([0.0, 1.0, 0.0]), chunks=2)
    np.testing.assert_array_equal(sa.random.default_rng(0).choice(a, size=4, p=p, chunks=2).compute(), [2.5] * 4)
    with pytest.raises(ValueError, match="sum to 1"):
        sa.random.choice(3, size=2, p=[0.5, 0.1, 0.1])
    with pytest.raises(ValueError, match="must match"):
        sa.random.choice(3, size=2, p=[0.5, 0.5])
    with pytest.raises(ValueError, match="1-dimensional"):
        sa.random.choice(np.ones((2, 2)), size=2)
    with pytest.raises(ValueError, match="empty"):
        sa.random.choice([], size=2)


@given(rows=st.integers(1, 20), chunk=st.integers(1, 7), seed=st.integers(0, 100))
@settings(max_examples=30, deadline=None)
def test_permutation(rows, chunk, seed):
    x = np.arange(rows * 3).reshape(rows, 3)
    d = sa.from_array(x, chunks=(chunk, 2))
    out = sa.random.RandomState(seed).permutation(d)
    assert out.chunks == d.chunks
    result = out.compute()
    np.testing.assert_array_equal(np.sort(result[:, 0]), x[:, 0])
    np.testing.assert_array_equal(result[:, 1], result[:, 0] + 1)  # rows move whole
    again = sa.random.RandomState(seed).permutation(d).compute()
    np.testing.assert_array_equal(result, again)
    perm = sa.random.default_rng(seed).permutation(rows).compute()
    np.testing.assert_array_equal(np.sort(perm), np.arange(rows))


def test_permutation_of_numpy_array_and_errors():
    out = sa.random.permutation(np.arange(10)).compute()
    np.testing.assert_array_equal(np.sort(out), np.arange(10))
    with pytest.raises(ValueError, match="at least one dimension"):
        sa.random.permutation(np.ones(()))
    with pytest.raises(ValueError, match="at least one dimension"):
        sa.random.permutation(3.5)


def test_multinomial():
    for state in states():
        x = state.multinomial(20, [0.2, 0.3, 0.5], size=(6, 2), chunks=(4, 1))
        assert x.shape == (6, 2, 3) and x.chunks == ((4, 2), (1, 1), (3,))
        result = x.compute()
        assert (result.sum(axis=-1) == 20).all()
        assert_eq(x, result)


def test_generator_from_numpy_objects():
    bits = np.random.MT19937(4)
    g = sa.random.default_rng(bits)
    a = g.random(5, chunks=2).compute()
    b = sa.random.default_rng(np.random.MT19937(4)).random(5, chunks=2).compute()
    np.testing.assert_array_equal(a, b)
    assert sa.random.default_rng(g) is g
    c = sa.random.default_rng(np.random.default_rng(np.random.PCG64(8))).random(4).compute()
    d = sa.random.default_rng(np.random.SeedSequence(8)).random(4).compute()
    np.testing.assert_array_equal(c, d)
    assert isinstance(sa.random.Generator(1).standard_exponential(3, dtype="f4").compute().dtype, np.dtype)
    assert sa.random.default_rng(1).standard_normal(3, dtype=np.float32).compute().dtype == np.float32
    assert sa.random.default_rng(1).random(3, dtype=np.float32).dtype == np.float32


def test_custom_random_state_constructor():
    state = sa.random.RandomState(3, RandomState=np.random.RandomState)
    x = state.uniform(size=6, chunks=2).compute()
    y = sa.random.RandomState(3, RandomState=np.random.RandomState).uniform(size=6, chunks=2).compute()
    np.testing.assert_array_equal(x, y)


def test_module_level_seed_and_functions():
    sa.random.seed(123)
    a = sa.random.random_sample((4, 4), chunks=2).compute()
    b = sa.random.standard_normal(4).compute()
    sa.random.seed(123)
    np.testing.assert_array_equal(sa.random.random_sample((4, 4), chunks=2).compute(), a)
    np.testing.assert_array_equal(sa.random.standard_normal(4).compute(), b)
    for name in ["random", "random_sample", "normal", "uniform", "randint", "standard_normal", "choice",
                 "permutation", "poisson", "binomial", "exponential", "seed", "RandomState", "default_rng"]:
        assert name in sa.random.__all__ and callable(getattr(sa.random, name))
    assert "integers" in dir(sa.random.Generator)


def test_rng_state_pickles_through_processes():
    # The graph holds only ints and module-level functions.
    import pickle

    x = sa.random.default_rng(0).normal(size=(4, 4), chunks=2)
    y = pickle.loads(pickle.dumps(x))
    np.testing.assert_array_equal(x.compute(), y.compute())

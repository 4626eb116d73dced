"""Tests for apply_gufunc, gufunc, as_gufunc and frompyfunc against NumPy on the same input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


def _stats(v):
    return v.mean(-1), v.std(-1)


@given(loop=st.lists(st.integers(1, 5), min_size=0, max_size=2), core=st.integers(1, 5), data=st.data())
@settings(max_examples=40, deadline=None)
def test_reduction_gufunc_over_loop_chunks(loop, core, data):
    shape = (*loop, core)
    chunks = data.draw(chunks_for(shape))
    chunks = (*chunks[:-1], (core,))
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    mean, std = sa.apply_gufunc(_stats, "(i)->(),()", sa.from_array(x, chunks=chunks))
    assert_eq(mean, x.mean(-1))
    assert_eq(std, x.std(-1))


def test_matmul_signature_with_broadcast_loop_dims():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 1, 3, 2))
    b = rng.standard_normal((5, 2, 6))
    da = sa.from_array(a, chunks=(2, 1, 3, 2))
    db = sa.from_array(b, chunks=(2, 2, 6))
    got = sa.apply_gufunc(np.matmul, "(m,n),(n,p)->(m,p)", da, db, output_dtypes=float)
    assert_eq(got, np.matmul(a, b))


def test_new_output_dimension_needs_output_sizes():
    x = np.arange(6.0).reshape(3, 2)
    d = sa.from_array(x, chunks=(1, 2))

    def triple(v):
        return np.stack([v.sum(-1)] * 3, axis=-1)

    got = sa.apply_gufunc(triple, "(i)->(k)", d, output_sizes={"k": 3}, output_dtypes=float)
    assert_eq(got, triple(x))
    with pytest.raises(ValueError, match="output_sizes"):
        sa.apply_gufunc(triple, "(i)->(k)", d, output_dtypes=float)


def test_vectorize_and_dtype_inference():
    x = np.arange(12).reshape(4, 3)
    d = sa.from_array(x, chunks=(3, 3))
    got = sa.apply_gufunc(lambda v: v.max() - v.min(), "(i)->()", d, vectorize=True)
    assert got.dtype == np.dtype(int)
    assert_eq(got, np.ptp(x, axis=-1))
    got = sa.apply_gufunc(lambda v, w: float(v @ w), "(i),(i)->()", d, np.ones(3), vectorize=True,
                          output_dtypes="f8")
    assert_eq(got, x.sum(-1).astype(float))


@pytest.mark.parametrize("axis", [0, 1, -2])
@pytest.mark.parametrize("keepdims", [False, True])
def test_axis_and_keepdims(axis, keepdims):
    x = np.random.default_rng(1).standard_normal((4, 5, 3))
    d = sa.from_array(x, chunks=(2, 5, 3) if axis in (1, -2) else (4, 2, 3))
    got = sa.apply_gufunc(lambda v: v.mean(-1), "(i)->()", d, axis=axis, keepdims=keepdims, output_dtypes=float)
    assert_eq(got, x.mean(axis=axis, keepdims=keepdims))


def test_axes_for_inputs_and_outputs():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4, 2))  # core (m, n) at axes (0, 2)
    b = rng.standard_normal((2, 4, 5))  # core (n, p) at axes (0, 2)
    got = sa.apply_gufunc(np.matmul, "(m,n),(n,p)->(m,p)", sa.from_array(a, chunks=(3, 2, 2)),
                          sa.from_array(b, chunks=(2, 2, 5)), axes=[(0, 2), (0, 2), (0, 2)], output_dtypes=float)
    expected = np.matmul(a, b, axes=[(0, 2), (0, 2), (0, 2)])
    assert_eq(got, expected)


def test_chunked_core_dimension_errors_or_rechunks():
    x = np.arange(12.0).reshape(3, 4)
    d = sa.from_array(x, chunks=2)
    with pytest.raises(ValueError, match="Core dimension 'i' of argument 0 consists of multiple chunks"):
        sa.apply_gufunc(lambda v: v.sum(-1), "(i)->()", d, output_dtypes=float)
    got = sa.apply_gufunc(lambda v: v.sum(-1), "(i)->()", d, output_dtypes=float, allow_rechunk=True)
    assert_eq(got, x.sum(-1))


def test_signature_and_argument_errors():
    d = sa.ones((2, 3), chunks=(1, 3))
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        sa.apply_gufunc(np.sum, "(i->)", d)
    with pytest.raises(TypeError, match="takes 2 array argument"):
        sa.apply_gufunc(np.add, "(),()->()", d)
    with pytest.raises(ValueError, match="different lengths"):
        sa.apply_gufunc(lambda a, b: (a * b).sum(-1), "(i),(i)->()", d, np.ones(4), output_dtypes=float)
    with pytest.raises(ValueError, match="Only one of `axis` or `axes`"):
        sa.apply_gufunc(np.sum, "(i)->()", d, axis=0, axes=[(0,)])
    with pytest.raises(ValueError, match="could not be broadcast"):
        sa.apply_gufunc(lambda a, b: a + b, "(),()->()", d, np.ones(5), output_dtypes=float)
    with pytest.raises(ValueError, match="tuple of 2 dtypes"):
        sa.apply_gufunc(_stats, "(i)->(),()", d, output_dtypes=float)
    with pytest.raises(ValueError, match="at least 1 core dimension"):
        sa.apply_gufunc(np.sum, "(i)->()", sa.from_array(np.float64(1.0)))
    with pytest.raises(ValueError, match="output_dtypes"):
        sa.apply_gufunc(lambda v: v.no_such_method(), "(i)->()", d)


def test_gufunc_class_and_decorator():
    x = np.random.default_rng(3).standard_normal((6, 4))
    d = sa.from_array(x, chunks=(2, 4))
    norm = sa.gufunc(lambda v: np.sqrt((v ** 2).sum(-1)), signature="(i)->()", output_dtypes=float)
    assert_eq(norm(d), np.linalg.norm(x, axis=-1))

    @sa.as_gufunc(signature="(i)->()", output_dtypes=float, vectorize=True)
    def spread(v):
        return v.max() - v.min()

    assert_eq(spread(d), np.ptp(x, axis=-1))
    assert spread.__name__ == "spread"
    chunked = sa.from_array(x, chunks=2)
    assert_eq(spread(chunked, allow_rechunk=True), np.ptp(x, axis=-1))
    with pytest.raises(TypeError, match="Unsupported keyword"):
        sa.as_gufunc("(i)->()", bogus=1)
    with pytest.raises(ValueError, match="signature"):
        sa.gufunc(np.sum)


def test_frompyfunc_matches_numpy():
    x = np.arange(6).reshape(2, 3)
    d = sa.from_array(x, chunks=(1, 2))
    f = sa.frompyfunc(lambda a, b: a * 10 + b, 2, 1)
    assert_eq(f(d, 1), np.frompyfunc(lambda a, b: a * 10 + b, 2, 1)(x, 1))
    assert_eq(f(d, d), np.frompyfunc(lambda a, b: a * 10 + b, 2, 1)(x, x))
    g = sa.frompyfunc(divmod, 2, 2)
    q, r = g(d, 4)
    eq, er = np.frompyfunc(divmod, 2, 2)(x, 4)
    assert_eq(q, eq)
    assert_eq(r, er)
    assert f(2, 3) == 23
    with pytest.raises(TypeError, match="takes 2 argument"):
        f(d)
    with pytest.raises(ValueError, match="nout"):
        sa.frompyfunc(divmod, 2, 0)


def test_graph_pickles_for_process_schedulers():
    d = sa.from_array(np.arange(6.0).reshape(2, 3), chunks=(1, 3))
    mean, std = sa.apply_gufunc(_stats, "(i)->(),()", d)
    restored = pickle.loads(pickle.dumps(mean.__dask_graph__()))
    assert set(restored) == set(mean.__dask_graph__())
    assert_eq(sa.frompyfunc(divmod, 2, 2)(d, 2)[0], np.frompyfunc(divmod, 2, 2)(np.arange(6.0).reshape(2, 3), 2)[0])


@pytest.mark.skipif(not hasattr(np, "matvec"), reason="np.matvec needs NumPy 2.2")
def test_numpy_gufuncs_without_a_shoal_implementation_go_through_apply_gufunc():
    rng = np.random.default_rng(11)
    a, v, b = rng.random((6, 4, 3)), rng.random(3), rng.random(4)
    x = sa.from_array(a, chunks=(2, 4, 3))
    np.testing.assert_allclose(np.matvec(x, v).compute(), np.matvec(a, v))
    np.testing.assert_allclose(np.vecmat(b, x).compute(), np.vecmat(b, a))
    with pytest.raises(ValueError, match="Core dimension 'm'"):
        np.matvec(sa.from_array(a, chunks=(2, 2, 3)), v)


@settings(max_examples=30, deadline=None)
@given(a_shape=st.lists(st.integers(1, 5), min_size=1, max_size=2), b_shape=st.lists(st.integers(1, 5), max_size=2),
       chunk=st.integers(1, 3), nout=st.sampled_from([1, 2]))
def test_frompyfunc_outer_matches_numpy(a_shape, b_shape, chunk, nout) -> None:
    func = (lambda a, b: f"{a}:{b}") if nout == 1 else divmod
    a = np.arange(int(np.prod(a_shape))).reshape(a_shape)
    b = np.arange(1, int(np.prod(b_shape)) + 1).reshape(b_shape)
    expected = np.frompyfunc(func, 2, nout).outer(a, b)
    got = sa.frompyfunc(func, 2, nout).outer(sa.from_array(a, chunks=chunk), b)
    for e, g in zip(expected if nout > 1 else [expected], got if nout > 1 else [got], strict=True):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g.compute(), e)


def test_frompyfunc_outer_needs_two_inputs() -> None:
    with pytest.raises(ValueError, match="nin=2"):
        sa.frompyfunc(lambda a: a, 1, 1).outer(sa.ones(3, chunks=2), sa.ones(3, chunks=2))

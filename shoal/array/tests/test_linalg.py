"""shoal.array.linalg against NumPy and SciPy: factorizations reconstruct, solvers solve, norms agree."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings

import shoal
import shoal.array as sa
from shoal.array import linalg
from shoal.array._base import new_array
from shoal.array.tests.strategies import chunking
from shoal.array.utils import assert_eq
from shoal.graph.task import Alias

SETTINGS = settings(max_examples=30, deadline=None)


def _random(shape, seed, dtype="f8"):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _well_conditioned(n, seed, dtype="f8"):
    return _random((n, n), seed, dtype) + n * np.eye(n, dtype=dtype)


def _spd(n, seed, dtype="f8"):
    a = _random((n, n), seed, dtype)
    return (a @ a.conj().T + n * np.eye(n)).astype(dtype)


def _orthonormal_columns(q):
    q = np.asarray(q)
    np.testing.assert_allclose(q.conj().T @ q, np.eye(q.shape[1]), atol=1e-10)


# -- QR ---------------------------------------------------------------------------------------------------------

@given(data=st.data(), m=st.integers(1, 40), n=st.integers(1, 6), seed=st.integers(0, 2**16),
       split_every=st.sampled_from([None, 2, 3]))
@SETTINGS
def test_tsqr_reconstructs_with_row_chunks(data, m, n, seed, split_every):
    a = _random((m, n), seed)
    rows = data.draw(chunking(m, max_blocks=8))
    x = sa.from_array(a, chunks=(rows, n))
    q, r = linalg.tsqr(x, split_every=split_every)
    k = min(m, n)
    assert q.chunks == (rows, (k,)) and r.chunks == ((k,), (n,))
    qv, rv = q.compute(), r.compute()
    assert_eq(q, qv)
    np.testing.assert_allclose(qv @ rv, a, atol=1e-10)
    _orthonormal_columns(qv)
    np.testing.assert_allclose(np.triu(rv), rv, atol=1e-12)
    # Householder R is unique up to the sign of each row.
    np.testing.assert_allclose(np.abs(rv), np.abs(np.linalg.qr(a)[1]), atol=1e-9)


@given(data=st.data(), m=st.integers(1, 6), extra=st.integers(0, 30), seed=st.integers(0, 2**16))
@SETTINGS
def test_qr_short_and_fat(data, m, extra, seed):
    n = m + extra
    a = _random((m, n), seed)
    cols = data.draw(chunking(n, max_blocks=6))
    q, r = linalg.qr(sa.from_array(a, chunks=(m, cols)))
    assert q.shape == (m, m) and r.chunks == ((m,), cols)
    qv, rv = q.compute(), r.compute()
    np.testing.assert_allclose(qv @ rv, a, atol=1e-10)
    _orthonormal_columns(qv)
    np.testing.assert_allclose(np.abs(rv), np.abs(np.linalg.qr(a)[1]), atol=1e-9)
    assert_eq(r, rv)


@pytest.mark.parametrize("dtype", ["f4", "c16", "i8"])
def test_qr_dtypes(dtype):
    a = _random((30, 4), 1, dtype) if dtype != "i8" else np.arange(120).reshape(30, 4) % 7
    q, r = linalg.qr(sa.from_array(a, chunks=(7, 4)))
    expected = np.linalg.qr(a)[0].dtype
    assert q.dtype == r.dtype == expected
    assert_eq(q @ r, a.astype(expected), rtol=1e-4 if dtype == "f4" else 1e-7, atol=1e-4)


def test_qr_unknown_row_chunks():
    a = _random((20, 3), 2)
    x = sa.from_array(a, chunks=(5, 3))
    name = "unknown-rows"
    layer = {(name, i, 0): Alias((name, i, 0), (x.name, i, 0)) for i in range(4)}
    y = new_array(layer, name, ((math.nan,) * 4, (3,)), x.dtype, deps=(x,))
    q, r = linalg.qr(y)
    assert math.isnan(q.shape[0]) and r.shape == (3, 3)
    np.testing.assert_allclose(q.compute() @ r.compute(), a, atol=1e-10)
    for call in (lambda: linalg.solve(sa.from_array(np.eye(20)), y), lambda: linalg.svd_compressed(y, 2),
                 lambda: linalg.lstsq(y, np.ones(20)), lambda: linalg.cholesky(y)):
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            call()


def test_qr_bad_input():
    x = sa.from_array(np.ones((6, 6)), chunks=3)
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\).*rechunk\(\{0: -1\}\)"):
        linalg.qr(x)
    with pytest.raises(ValueError, match="svd_compressed"):
        linalg.svd(x)
    with pytest.raises(np.linalg.LinAlgError, match="2-dimensional"):
        linalg.qr(sa.from_array(np.ones(4)))
    with pytest.raises(ValueError, match="one block of columns"):
        linalg.tsqr(x)
    with pytest.raises(ValueError, match="one block of rows"):
        linalg.sfqr(x)


# -- SVD --------------------------------------------------------------------------------------------------------

def _check_svd(u, s, v, a, u_chunks=None):
    k = min(a.shape)
    assert u.shape == (a.shape[0], k) and s.shape == (k,) and v.shape == (k, a.shape[1])
    if u_chunks is not None:
        assert u.chunks[0] == u_chunks
    uv, sv, vv = u.compute(), s.compute(), v.compute()
    np.testing.assert_allclose(sv, np.linalg.svd(a, compute_uv=False), atol=1e-9)
    np.testing.assert_allclose((uv * sv) @ vv, a, atol=1e-9)
    _orthonormal_columns(uv)
    _orthonormal_columns(vv.conj().T)
    assert_eq(s, sv)


@given(data=st.data(), m=st.integers(1, 50), n=st.integers(1, 6), seed=st.integers(0, 2**16),
       tall=st.booleans())
@SETTINGS
def test_svd_reconstructs(data, m, n, seed, tall):
    shape = (m, n) if tall else (n, m)
    a = _random(shape, seed)
    if tall:
        rows = data.draw(chunking(m, max_blocks=6))
        x = sa.from_array(a, chunks=(rows, n))
    else:
        cols = data.draw(chunking(m, max_blocks=6))
        x = sa.from_array(a, chunks=(n, cols))
    u, s, v = linalg.svd(x)
    _check_svd(u, s, v, a, u_chunks=rows if tall else None)
    if not tall:
        assert v.chunks[1] == cols


def test_svd_complex_and_signs_independent_of_chunks():
    a = _random((40, 5), 3, "c16")
    _check_svd(*linalg.svd(sa.from_array(a, chunks=(9, 5))), a)
    b = _random((40, 5), 4)
    u1, _, v1 = linalg.svd(sa.from_array(b, chunks=(10, 5)))
    u2, _, v2 = linalg.svd(sa.from_array(b, chunks=(7, 5)))
    np.testing.assert_allclose(v1.compute(), v2.compute(), atol=1e-10)
    np.testing.assert_allclose(u1.compute(), u2.compute(), atol=1e-10)


@pytest.mark.parametrize("iterator", ["power", "QR"])
@pytest.mark.parametrize("chunks", [(10, 10), (25, 7), (60, 40)])
def test_svd_compressed_recovers_low_rank(iterator, chunks):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((60, 4)) @ rng.standard_normal((4, 40))
    u, s, v = linalg.svd_compressed(sa.from_array(a, chunks=chunks), k=4, iterator=iterator, n_power_iter=1,
                                    seed=7)
    assert u.shape == (60, 4) and s.shape == (4,) and v.shape == (4, 40)
    assert u.chunks[0] == sa.from_array(a, chunks=chunks).chunks[0]
    np.testing.assert_allclose(s.compute(), np.linalg.svd(a, compute_uv=False)[:4], rtol=1e-8)
    np.testing.assert_allclose((u.compute() * s.compute()) @ v.compute(), a, atol=1e-8)


def test_svd_compressed_seed_and_compute():
    a = _random((50, 30), 8)
    x = sa.from_array(a, chunks=(20, 15))
    s1 = linalg.svd_compressed(x, 5, seed=3, n_power_iter=2)[1].compute()
    s2 = linalg.svd_compressed(x, 5, seed=np.random.default_rng(3), n_power_iter=2, compute=True)[1].compute()
    s3 = linalg.svd_compressed(x, 5, seed=3, n_power_iter=2, compute=True)[1].compute()
    np.testing.assert_allclose(s1, s3)
    exact = np.linalg.svd(a, compute_uv=False)[:5]
    # A randomized rank-5 SVD of a full-rank matrix: singular values within a modest factor, never above exact.
    for s in (s1, s2):
        assert np.all(s <= exact * (1 + 1e-9)) and np.all(s >= 0.5 * exact)
    with pytest.raises(ValueError, match="k must be"):
        linalg.svd_compressed(x, 0)
    with pytest.raises(ValueError, match="iterator"):
        linalg.svd_compressed(x, 3, iterator="lanczos")


# -- triangular solves, LU, Cholesky, solve, inv ----------------------------------------------------------------

@given(data=st.data(), n=st.integers(1, 24), k=st.integers(0, 4), lower=st.booleans(), seed=st.integers(0, 999))
@SETTINGS
def test_solve_triangular(data, n, k, lower, seed):
    full = _well_conditioned(n, seed)
    t = np.tril(full) if lower else np.triu(full)
    chunks = data.draw(chunking(n))
    b = _random((n, k) if k else (n,), seed + 1)
    b_chunks = data.draw(chunking(n))
    x = linalg.solve_triangular(sa.from_array(full, chunks=(chunks, chunks)),
                                sa.from_array(b, chunks=(b_chunks, 2) if k else (b_chunks,)), lower=lower)
    assert_eq(x, scipy.linalg.solve_triangular(t, b, lower=lower), atol=1e-10)


@given(data=st.data(), n=st.integers(1, 24), seed=st.integers(0, 999))
@SETTINGS
def test_lu(data, n, seed):
    a = _well_conditioned(n, seed)
    chunks = data.draw(chunking(n))
    p, lo, up = linalg.lu(sa.from_array(a, chunks=(chunks, chunks)))
    pv, lv, uv = shoal.compute(p, lo, up, scheduler="sync")
    assert p.chunks == lo.chunks == up.chunks == (chunks, chunks)
    np.testing.assert_allclose(pv @ lv @ uv, a, atol=1e-9)
    np.testing.assert_allclose(np.tril(lv), lv)
    np.testing.assert_allclose(np.diag(lv), 1)
    np.testing.assert_allclose(np.triu(uv), uv)
    assert sorted(pv.sum(axis=0)) == [1] * n and set(np.unique(pv)) <= {0, 1}


@given(data=st.data(), n=st.integers(1, 24), k=st.integers(0, 3), seed=st.integers(0, 999),
       assume_a=st.sampled_from(["gen", "pos"]))
@SETTINGS
def test_solve(data, n, k, seed, assume_a):
    a = _well_conditioned(n, seed) if assume_a == "gen" else _spd(n, seed)
    b = _random((n, k) if k else (n,), seed + 1)
    chunks = data.draw(chunking(n))
    x = linalg.solve(sa.from_array(a, chunks=(chunks, chunks)), b, assume_a=assume_a)
    assert_eq(x, np.linalg.solve(a, b), atol=1e-9)


@given(data=st.data(), n=st.integers(1, 20), seed=st.integers(0, 999), lower=st.booleans())
@SETTINGS
def test_cholesky(data, n, seed, lower):
    a = _spd(n, seed)
    chunks = data.draw(chunking(n))
    c = linalg.cholesky(sa.from_array(a, chunks=(chunks, chunks)), lower=lower)
    expected = np.linalg.cholesky(a)
    assert_eq(c, expected if lower else expected.T, atol=1e-10)


def test_inv_and_uneven_square_chunks():
    a = _well_conditioned(13, 4)
    x = sa.from_array(a, chunks=((5, 8), (3, 10)))  # rechunked to common boundaries along both axes
    assert_eq(linalg.inv(x), np.linalg.inv(a), atol=1e-10)
    assert_eq(linalg.solve(x, np.ones(13)), np.linalg.solve(a, np.ones(13)), atol=1e-10)


def test_complex_cholesky_and_solve():
    a = _spd(9, 2, "c16")
    x = sa.from_array(a, chunks=4)
    assert_eq(linalg.cholesky(x, lower=True), np.linalg.cholesky(a), atol=1e-10)
    b = _random((9,), 3, "c16")
    assert_eq(linalg.solve(x, b, assume_a="pos"), np.linalg.solve(a, b), atol=1e-10)
    assert_eq(linalg.solve(x, b), np.linalg.solve(a, b), atol=1e-10)


def test_cholesky_not_positive_definite_raises_at_compute():
    c = linalg.cholesky(sa.from_array(-np.eye(4), chunks=2))
    with pytest.raises(np.linalg.LinAlgError):
        c.compute()


def test_square_solvers_bad_input():
    x = sa.from_array(np.ones((4, 6)), chunks=2)
    for func in (linalg.inv, linalg.cholesky, linalg.lu):
        with pytest.raises(np.linalg.LinAlgError, match=r"square.*\(4, 6\)"):
            func(x)
    with pytest.raises(np.linalg.LinAlgError, match="lstsq"):
        linalg.solve(x, np.ones(4))
    sq = sa.from_array(np.eye(4), chunks=2)
    with pytest.raises(ValueError, match=r"b has shape \(5,\)"):
        linalg.solve(sq, np.ones(5))
    with pytest.raises(ValueError, match="assume_a"):
        linalg.solve(sq, np.ones(4), assume_a="sym")


# -- least squares ----------------------------------------------------------------------------------------------

@given(data=st.data(), m=st.integers(1, 40), n=st.integers(1, 5), k=st.integers(0, 3), seed=st.integers(0, 999))
@SETTINGS
def test_lstsq(data, m, n, k, seed):
    m = max(m, n)
    a = _random((m, n), seed)
    b = _random((m, k) if k else (m,), seed + 1)
    x = sa.from_array(a, chunks=(data.draw(chunking(m)), data.draw(chunking(n, max_blocks=2))))
    got = linalg.lstsq(x, b)
    expected = np.linalg.lstsq(a, b, rcond=None)
    assert_eq(got[0], expected[0], atol=1e-8)
    assert int(got[2].compute()) == expected[2]
    assert_eq(got[3], expected[3], atol=1e-9)
    if m > n:  # NumPy gives residuals only for overdetermined full-rank systems
        assert_eq(got[1], expected[1], atol=1e-8)


def test_lstsq_bad_input():
    with pytest.raises(np.linalg.LinAlgError, match="incompatible"):
        linalg.lstsq(sa.from_array(np.ones((5, 2))), np.ones(4))


# -- norms ------------------------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 1, 2, 3, 0.5, 0, math.inf, -math.inf, -1]
MATRIX_ORDS = [None, "fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms(ord, keepdims):
    a = _random((7, 5, 3), 1)
    # An exact zero checks ord=0; NumPy warns (divide by zero) on a zero with a negative order, and so do we.
    a[0, 0, 0] = 1 if ord is not None and ord < 0 else 0
    x = sa.from_array(a, chunks=(3, 2, 2))
    for axis in (0, 1, -1):
        assert_eq(linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims),
                  np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims))
    assert_eq(linalg.norm(sa.from_array(a[0, 0], chunks=2), ord=ord, keepdims=keepdims),
              np.linalg.norm(a[0, 0], ord=ord, keepdims=keepdims))


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, (0, 1), (1, 0)])
def test_matrix_norms(ord, keepdims, axis):
    a = _random((9, 6), 2)
    x = sa.from_array(a, chunks=(4, 4))  # chunked both ways: singular-value norms rechunk internally
    assert_eq(linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims),
              np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("ord", [None, "fro", math.inf, -math.inf, 1, -1])
@pytest.mark.parametrize("axis", [(0, 2), (2, 1)])
def test_matrix_norms_of_stacks(ord, axis):
    a = _random((4, 3, 5), 3)
    x = sa.from_array(a, chunks=2)
    assert_eq(linalg.norm(x, ord=ord, axis=axis), np.linalg.norm(a, ord=ord, axis=axis))
    assert_eq(linalg.norm(x, ord=ord, axis=axis, keepdims=True), np.linalg.norm(a, ord=ord, axis=axis,
                                                                                keepdims=True))


@pytest.mark.parametrize("dtype", ["f4", "c16", "i4"])
def test_norm_dtypes(dtype):
    a = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    x = sa.from_array(a, chunks=2)
    assert_eq(linalg.norm(x), np.linalg.norm(a), rtol=1e-6)
    assert_eq(linalg.norm(x, axis=1), np.linalg.norm(a, axis=1), rtol=1e-6)
    assert_eq(linalg.norm(x, ord=1), np.linalg.norm(a, ord=1), rtol=1e-6)


def test_norm_bad_input():
    x = sa.from_array(np.ones((3, 3, 3)), chunks=2)
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        linalg.norm(x, ord=1)
    with pytest.raises(ValueError, match="Duplicate axes"):
        linalg.norm(x, axis=(1, 1))
    with pytest.raises(ValueError, match="Invalid norm order 'fro' for vectors"):
        linalg.norm(x, ord="fro", axis=0)
    with pytest.raises(ValueError, match="Invalid norm order"):
        linalg.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(np.exceptions.AxisError):
        linalg.norm(x, axis=3)


# -- NumPy dispatch and the namespace ---------------------------------------------------------------------------

def test_numpy_functions_stay_lazy():
    a = _well_conditioned(6, 9)
    x = sa.from_array(a, chunks=(3, 6))
    tall = sa.from_array(a[:, :3], chunks=(2, 3))
    q, r = np.linalg.qr(tall)
    assert isinstance(q, sa.Array)
    np.testing.assert_allclose(q.compute() @ r.compute(), a[:, :3], atol=1e-10)
    assert isinstance(np.linalg.qr(tall, mode="r"), sa.Array)
    u, s, v = np.linalg.svd(tall, full_matrices=False)
    assert isinstance(u, sa.Array)
    assert_eq(np.linalg.svd(tall, compute_uv=False), np.linalg.svd(a[:, :3], compute_uv=False))
    assert np.linalg.svd(tall).U.shape == (6, 6)  # full_matrices=True: see test_linalg_householder.py
    for result, expected in [
        (np.linalg.norm(x), np.linalg.norm(a)),
        (np.linalg.inv(x), np.linalg.inv(a)),
        (np.linalg.solve(x, np.ones(6)), np.linalg.solve(a, np.ones(6))),
        (np.linalg.cholesky(sa.from_array(_spd(6, 1), chunks=4)), np.linalg.cholesky(_spd(6, 1))),
        (np.linalg.cholesky(sa.from_array(_spd(6, 1), chunks=4), upper=True), np.linalg.cholesky(_spd(6, 1)).T),
    ]:
        assert isinstance(result, sa.Array)
        assert_eq(result, expected, atol=1e-10)
    assert isinstance(np.linalg.lstsq(tall, np.ones(6))[0], sa.Array)


def test_namespace():
    expected = {"cholesky", "compression_level", "compression_matrix", "inv", "lstsq", "lu", "norm", "qr", "sfqr",
                "solve", "solve_triangular", "svd", "svd_compressed", "tsqr"}
    assert set(linalg.__all__) == expected
    assert sa.linalg is linalg
    for name in expected:
        assert callable(getattr(linalg, name))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 40), chunk=st.integers(5, 20), axis=st.sampled_from([None, 0, 1]),
       reduction=st.sampled_from(["sum", "mean", "max"]))
def test_reductions_of_products_match_numpy(m: int, k: int, chunk: int, axis: int | None, reduction: str) -> None:
    # A reduction fuses an element-wise producer into its chunks; a product (np.matmul is a ufunc too) must
    # not be mistaken for one.
    a = np.random.default_rng(m * 41 + k).random((m, k))
    x = sa.from_array(a, chunks=chunk)
    for lazy, eager in ((x @ x.T, a @ a.T), (x.T @ x, a.T @ a), (np.matmul(x, x.T), np.matmul(a, a.T))):
        np.testing.assert_allclose(getattr(lazy, reduction)(axis=axis).compute(), getattr(eager, reduction)(axis=axis),
                                   rtol=1e-10)


def test_gufunc_wrappers_dispatch_to_apply_gufunc() -> None:
    a, v = np.random.default_rng(0).random((3, 6, 4)), np.arange(4.0)
    x = sa.from_array(a, chunks=(1, 6, 4))  # blocks along the loop dimension only, as apply_gufunc wants
    np.testing.assert_allclose(sa.matvec(x, v).compute(), np.matvec(a, v))
    np.testing.assert_allclose(sa.vecmat(v, x.transpose(0, 2, 1)).compute(), np.vecmat(v, a.transpose(0, 2, 1)))
    with pytest.raises(ValueError, match="Core dimension"):
        sa.matvec(x.rechunk((1, 3, 4)), v)

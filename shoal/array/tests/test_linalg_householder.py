"""qr(mode="complete" | "raw") and svd(full_matrices=True) against NumPy on the same input."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import linalg
from shoal.array.tests.strategies import chunking
from shoal.array.utils import assert_eq

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def matrices(draw, max_rows=30, max_cols=30):
    """A random matrix (real or complex) and a chunking along one axis, the way qr and svd take it."""
    m, n = draw(st.integers(1, max_rows)), draw(st.integers(1, max_cols))
    dtype = draw(st.sampled_from(["f8", "c16"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = rng.standard_normal((m, n))
    if dtype == "c16":
        a = a + 1j * rng.standard_normal((m, n))
    along_rows = draw(st.booleans())
    chunks = (draw(chunking(m)), (n,)) if along_rows else ((m,), draw(chunking(n)))
    return a, sa.from_array(a, chunks=chunks)


def _tolerance(a: np.ndarray) -> float:
    # NumPy's and TSQR's factors are both backward stable; they differ by about eps * cond(a).
    return 1e-12 * max(1.0, float(np.linalg.cond(a))) if a.size else 1e-12


def _unitary(u: np.ndarray) -> None:
    np.testing.assert_allclose(u.conj().T @ u, np.eye(u.shape[1]), atol=1e-10)


@given(case=matrices(max_cols=8))
@SETTINGS
def test_complete_qr_is_numpys(case):
    a, x = case
    q, r = linalg.qr(x, mode="complete")
    expected_q, expected_r = np.linalg.qr(a, mode="complete")
    tol = _tolerance(a)
    assert_eq(q, expected_q, atol=tol)
    assert_eq(r, expected_r, atol=tol * max(1.0, float(np.abs(a).max())))
    if a.shape[0] > a.shape[1]:
        assert q.chunks == (x.chunks[0], x.chunks[0]) or x.numblocks[0] == 1
    np.testing.assert_allclose(q.compute() @ r.compute(), a, atol=1e-10)


@given(case=matrices(max_cols=8))
@SETTINGS
def test_raw_qr_is_numpys(case):
    a, x = case
    h, tau = linalg.qr(x, mode="raw")
    expected_h, expected_tau = np.linalg.qr(a, mode="raw")
    tol = _tolerance(a)
    assert_eq(h, expected_h, atol=tol * max(1.0, float(np.abs(a).max())))
    assert_eq(tau, expected_tau, atol=tol)


@given(case=matrices())
@SETTINGS
def test_full_svd(case):
    a, x = case
    m, n = a.shape
    u, s, v = linalg.svd(x, full_matrices=True)
    expected_u, expected_s, expected_v = np.linalg.svd(a, full_matrices=True)
    assert (u.shape, s.shape, v.shape) == (expected_u.shape, expected_s.shape, expected_v.shape)
    uc, sc, vc = u.compute(), s.compute(), v.compute()
    assert (uc.shape, sc.shape, vc.shape) == (expected_u.shape, expected_s.shape, expected_v.shape)
    assert (uc.dtype, sc.dtype, vc.dtype) == (expected_u.dtype, expected_s.dtype, expected_v.dtype)
    np.testing.assert_allclose(sc, expected_s, atol=1e-10)
    _unitary(uc)
    _unitary(vc)
    k = min(m, n)
    np.testing.assert_allclose((uc[:, :k] * sc) @ vc[:k], a, atol=1e-10)
    sigma = np.zeros((m, n))
    sigma[:k, :k] = np.diag(sc)
    np.testing.assert_allclose(uc @ sigma @ vc, a, atol=1e-10)
    if m >= n and x.numblocks[1] == 1:
        # Both go through TSQR of x itself, so the leading singular vectors are the reduced SVD's, signs included.
        ur, _, vr = linalg.svd(x)
        np.testing.assert_allclose(uc[:, :k], ur.compute(), atol=1e-10)
        np.testing.assert_allclose(vc[:k], vr.compute(), atol=1e-10)


@pytest.mark.parametrize("dtype", ["f4", "c8", "i8"])
def test_dtypes(dtype):
    a = (np.random.default_rng(3).standard_normal((12, 4)) * 10).astype(dtype)
    x = sa.from_array(a, chunks=(5, 4))
    tol = 1e-4 if dtype in ("f4", "c8") else 1e-10
    for mode in ("complete", "raw"):
        for got, expected in zip(linalg.qr(x, mode=mode), np.linalg.qr(a, mode=mode), strict=True):
            assert_eq(got, expected, atol=tol * 10)
    u, s, v = linalg.svd(x, full_matrices=True)
    expected = np.linalg.svd(a)
    for got, want in zip((u, s, v), expected, strict=True):
        assert got.dtype == want.dtype and got.compute().dtype == want.dtype
    np.testing.assert_allclose(s.compute(), expected.S, rtol=tol)


def test_rank_deficient_still_factors():
    # LAPACK may skip a reflector where a column is already zero below the diagonal, so h may differ from
    # NumPy's there; the factorization itself holds.
    a = np.random.default_rng(0).standard_normal((10, 2)) @ np.ones((2, 4))
    x = sa.from_array(a, chunks=(3, 4))
    q, r = linalg.qr(x, mode="complete")
    qc = q.compute()
    _unitary(qc)
    np.testing.assert_allclose(qc @ r.compute(), a, atol=1e-10)
    assert np.all(np.isfinite(linalg.qr(x, mode="raw")[0].compute()))


def test_edge_shapes():
    rng = np.random.default_rng(4)
    for shape, chunks in [((5, 0), (2, 0)), ((0, 3), (0, 3)), ((1, 1), 1), ((7, 4), ((1, 1, 1, 1, 3), 4)),
                          ((4, 9), (4, 2)), ((4, 9), (1, 9)), ((6, 6), (2, 6))]:
        a = rng.standard_normal(shape)
        x = sa.from_array(a, chunks=chunks)
        for mode in ("complete", "raw"):
            for got, expected in zip(linalg.qr(x, mode=mode), np.linalg.qr(a, mode=mode), strict=True):
                assert_eq(got, expected, atol=1e-10)
        u, s, v = linalg.svd(x, full_matrices=True)
        expected = np.linalg.svd(a)
        assert (u.shape, s.shape, v.shape) == (expected.U.shape, expected.S.shape, expected.Vh.shape)
        assert_eq(s, expected.S, atol=1e-10)


def test_numpy_functions_dispatch():
    a = np.random.default_rng(5).standard_normal((9, 3))
    x = sa.from_array(a, chunks=(4, 3))
    result = np.linalg.qr(x, mode="complete")
    assert isinstance(result.Q, sa.Array) and result.Q.shape == (9, 9)
    assert_eq(result.R, np.linalg.qr(a, mode="complete").R, atol=1e-10)
    h, tau = np.linalg.qr(x, mode="raw")
    assert isinstance(h, sa.Array)
    assert_eq(tau, np.linalg.qr(a, mode="raw")[1], atol=1e-10)
    full = np.linalg.svd(x)  # NumPy's default: full_matrices=True
    assert isinstance(full.U, sa.Array) and full.U.shape == (9, 9) and full.Vh.shape == (3, 3)
    wide = np.linalg.svd(x.T)
    assert wide.U.shape == (3, 3) and wide.Vh.shape == (9, 9)
    assert_eq(np.linalg.svd(x, compute_uv=False), np.linalg.svd(a, compute_uv=False))


def test_bad_input():
    x = sa.from_array(np.ones((8, 6)), chunks=(4, 3))
    with pytest.raises(ValueError, match="unrecognized mode 'economic'"):
        linalg.qr(x, mode="economic")
    for mode in ("complete", "raw"):
        with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
            linalg.qr(x, mode=mode)
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        linalg.svd(x, full_matrices=True)
    with pytest.raises(np.linalg.LinAlgError, match="2-dimensional"):
        linalg.qr(sa.ones((2, 2, 2)), mode="complete")
    unknown = sa.from_array(np.ones((8, 2)), chunks=(4, 2))
    unknown = unknown[unknown[:, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        linalg.qr(unknown, mode="complete")

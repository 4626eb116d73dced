"""shoal.ml.decomposition against scikit-learn's PCA (svd_solver='full') and TruncatedSVD (arpack)."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from sklearn.decomposition import PCA as SkPCA
from sklearn.decomposition import TruncatedSVD as SkTruncatedSVD
from sklearn.exceptions import NotFittedError

import shoal
import shoal.array as sa
from shoal.array import Array
from shoal.ml.decomposition import PCA, TruncatedSVD


@pytest.fixture(autouse=True)
def _sync() -> object:
    with shoal.config.set(scheduler="sync"):
        yield


@st.composite
def row_chunks(draw: st.DrawFn, n: int, min_rows: int) -> tuple[int, ...]:
    """A cut of ``n`` rows into blocks of at least ``min_rows`` rows."""
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=6))) if n > 1 else []
    edges = [0]
    for c in cuts:
        if c - edges[-1] >= min_rows and n - c >= min_rows:
            edges.append(c)
    edges.append(n)
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


def _data(seed: int, n: int, p: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Distinct, well separated variances, so every component is well defined (up to its sign).
    scales = np.geomspace(10.0, 0.5, p)
    return rng.normal(size=(n, p)) * scales @ np.linalg.qr(rng.normal(size=(p, p)))[0] + rng.normal(0, 50, p)


PCA_ATTRS = ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_",
             "noise_variance_", "n_components_")


def _assert_same(ours: object, ref: object, attrs: tuple[str, ...], rtol: float = 1e-8) -> None:
    for attr in attrs:
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=rtol, atol=rtol, err_msg=attr)


@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(12, 80), p=st.integers(1, 6),
       k=st.sampled_from([None, 1, 2, 0.8, "mle"]), whiten=st.booleans(), solver=st.sampled_from(["full", "tsqr"]))
@settings(max_examples=40, deadline=None)
def test_pca_matches_sklearn_for_any_row_chunking(data: st.DataObject, seed: int, n: int, p: int, k: object,
                                                  whiten: bool, solver: str) -> None:
    if isinstance(k, int) and k > p:
        k = p
    X = _data(seed, n, p)
    chunks = data.draw(row_chunks(n, p))
    ours = PCA(n_components=k, whiten=whiten, svd_solver=solver).fit(sa.from_array(X, chunks=(chunks, p)))
    ref = SkPCA(n_components=k, whiten=whiten, svd_solver="full").fit(X)
    _assert_same(ours, ref, PCA_ATTRS)
    assert ours.n_samples_ == n and ours.n_features_in_ == p
    if ref.n_components_ == 0:  # "mle" may keep nothing; scikit-learn cannot transform then
        return
    Z = ours.transform(sa.from_array(X, chunks=(chunks, p)))
    assert isinstance(Z, Array) and Z.chunks == (chunks, (ref.n_components_,))
    np.testing.assert_allclose(Z.compute(), ref.transform(X), rtol=1e-8, atol=1e-8)
    back = ours.inverse_transform(Z)
    assert isinstance(back, Array)
    np.testing.assert_allclose(back.compute(), ref.inverse_transform(ref.transform(X)), rtol=1e-8, atol=1e-7)


def test_pca_numpy_in_numpy_out_and_fit_transform() -> None:
    X = _data(0, 60, 4)
    ours, ref = PCA(n_components=3), SkPCA(n_components=3, svd_solver="full")
    Z = ours.fit_transform(X)
    assert isinstance(Z, np.ndarray)
    np.testing.assert_allclose(Z, ref.fit_transform(X), rtol=1e-8, atol=1e-8)
    lazy = PCA(n_components=3).fit_transform(sa.from_array(X, chunks=(20, 4)))
    assert isinstance(lazy, Array)
    np.testing.assert_allclose(lazy.compute(), Z, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.inverse_transform(Z), ref.inverse_transform(Z), rtol=1e-8, atol=1e-8)


def test_pca_column_blocks_are_joined() -> None:
    X = _data(1, 50, 6)
    ours = PCA(n_components=2).fit(sa.from_array(X, chunks=(10, 2)))
    _assert_same(ours, SkPCA(n_components=2, svd_solver="full").fit(X), PCA_ATTRS)


def test_pca_randomized_on_low_rank_data_equals_full() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3)) * [9.0, 4.0, 2.0] @ rng.normal(size=(3, 30)) + 7.0
    lazy = sa.from_array(X, chunks=(100, 30))
    ours = PCA(n_components=3, svd_solver="randomized", iterated_power=2, random_state=0).fit(lazy)
    ref = SkPCA(n_components=3, svd_solver="full").fit(X)
    _assert_same(ours, ref, ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
                             "mean_"), rtol=1e-7)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, abs=1e-8)
    again = PCA(n_components=3, svd_solver="randomized", iterated_power=2, random_state=0).fit(lazy)
    np.testing.assert_array_equal(again.components_, ours.components_)


def test_pca_auto_solver_picks_randomized_for_few_components_of_big_data() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 2)) @ rng.normal(size=(2, 10))
    pca = PCA(n_components=2, random_state=0, iterated_power=1).fit(sa.from_array(X, chunks=(200, 10)))
    assert pca._solver(600, 10) == "randomized"
    _assert_same(pca, SkPCA(n_components=2, svd_solver="full").fit(X), ("components_", "singular_values_"), rtol=1e-7)


def test_pca_errors() -> None:
    X = sa.from_array(_data(0, 20, 3), chunks=(10, 3))
    with pytest.raises(ValueError, match="svd_solver"):
        PCA(svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=5).fit(X)
    with pytest.raises(ValueError, match="every singular value"):
        PCA(n_components=0.5, svd_solver="randomized").fit(X)
    with pytest.raises(NotFittedError):
        PCA().transform(X)
    fitted = PCA(2).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(np.ones((3, 4)))


SVD_ATTRS = ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_")


@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(12, 80), p=st.integers(2, 6))
@settings(max_examples=30, deadline=None)
def test_truncated_svd_matches_sklearn_arpack(data: st.DataObject, seed: int, n: int, p: int) -> None:
    X = _data(seed, n, p)
    k = data.draw(st.integers(1, p - 1))  # arpack needs k < n_features
    chunks = data.draw(row_chunks(n, p))
    ours = TruncatedSVD(n_components=k).fit(sa.from_array(X, chunks=(chunks, p)))
    ref = SkTruncatedSVD(n_components=k, algorithm="arpack", random_state=0).fit(X)
    _assert_same(ours, ref, SVD_ATTRS)
    Z = ours.transform(sa.from_array(X, chunks=(chunks, p)))
    assert isinstance(Z, Array)
    np.testing.assert_allclose(Z.compute(), ref.transform(X), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.inverse_transform(Z).compute(), ref.inverse_transform(ref.transform(X)),
                               rtol=1e-8, atol=1e-7)


def test_truncated_svd_randomized_and_fit_transform() -> None:
    rng = np.random.default_rng(5)
    X = rng.random((300, 2)) @ rng.random((2, 25))
    lazy = sa.from_array(X, chunks=(75, 25))
    ours = TruncatedSVD(n_components=2, algorithm="randomized", n_iter=3, random_state=1)
    Z = ours.fit_transform(lazy)
    ref = SkTruncatedSVD(n_components=2, algorithm="arpack", random_state=0)
    np.testing.assert_allclose(Z.compute(), ref.fit_transform(X), rtol=1e-7, atol=1e-7)
    _assert_same(ours, ref, SVD_ATTRS, rtol=1e-7)
    with pytest.raises(ValueError, match="algorithm"):
        TruncatedSVD(algorithm="arpack").fit(lazy)
    with pytest.raises(ValueError, match="n_components"):
        TruncatedSVD(n_components=30).fit(lazy)

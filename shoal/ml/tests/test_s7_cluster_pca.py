"""KMeans(sample_weight=) and PCA.score / score_samples against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.cluster as skc
import sklearn.decomposition as skd
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.ml.cluster import KMeans
from shoal.ml.decomposition import PCA
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


@given(data=st.data(), seed=st.integers(0, 100), k=st.integers(1, 4))
@settings(max_examples=15, deadline=None)
@on_sync
def test_kmeans_sample_weight_matches_sklearn(data, seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2)) + rng.integers(0, 3, (40, 1)) * 4
    w = rng.random(40) * 3
    init = X[rng.choice(40, k, replace=False)]
    chunks = data.draw(row_chunks(40))
    ours = KMeans(n_clusters=k, init=init).fit(sa.from_array(X, chunks=(chunks, 2)),
                                                sample_weight=sa.from_array(w, chunks=(chunks,)))
    theirs = skc.KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd").fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.inertia_, theirs.inertia_, rtol=1e-9)
    np.testing.assert_array_equal(ours.labels_.compute(), theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_


def test_kmeans_sample_weight_numpy_and_errors(sync_scheduler):
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    w = np.array([1.0, 3.0, 1.0, 1.0])
    km = KMeans(n_clusters=2, init=np.array([[0.0], [10.0]])).fit(X, sample_weight=w)
    np.testing.assert_allclose(km.cluster_centers_.ravel(), [0.75, 10.5])
    with pytest.raises(ValueError, match="samples"):
        KMeans(n_clusters=2, init=np.array([[0.0], [10.0]])).fit(X, sample_weight=np.ones(3))


@given(data=st.data(), seed=st.integers(0, 100), n_components=st.integers(0, 4), whiten=st.booleans())
@settings(max_examples=20, deadline=None)
@on_sync
def test_pca_score_matches_sklearn(data, seed, n_components, whiten):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 4)) * [3.0, 2.0, 1.0, 0.5] + rng.normal(size=4)
    chunks = data.draw(row_chunks(50))
    x = sa.from_array(X, chunks=(chunks, 4))
    ours = PCA(n_components=n_components, whiten=whiten, svd_solver="full").fit(x)
    theirs = skd.PCA(n_components=n_components, whiten=whiten, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.get_covariance(), theirs.get_covariance(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.get_precision(), theirs.get_precision(), rtol=1e-7, atol=1e-9)
    samples = ours.score_samples(x)
    assert isinstance(samples, sa.Array)
    np.testing.assert_allclose(samples.compute(), theirs.score_samples(X), rtol=1e-8)
    np.testing.assert_allclose(ours.score(x), theirs.score(X), rtol=1e-8)
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-8)

"""shoal.ml.cluster.KMeans against scikit-learn's KMeans on the same data."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.cluster import KMeans
from shoal.ml.tests.strategies import row_chunks


pytestmark = pytest.mark.usefixtures("sync_scheduler")


def _assert_same_as_sklearn(ours: KMeans, ref: SkKMeans) -> None:
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-8)
    assert ours.n_iter_ == ref.n_iter_


@given(data=st.data(), seed=st.integers(0, 2**16), k=st.integers(1, 5), tol=st.sampled_from([0.0, 1e-4, 1e-2]))
@settings(max_examples=25, deadline=None)
def test_given_init_matches_sklearn_for_any_row_chunking(data: st.DataObject, seed: int, k: int, tol: float) -> None:
    X, _ = make_blobs(n_samples=120, centers=4, n_features=3, random_state=seed, cluster_std=2.0)
    init = X[np.random.default_rng(seed).choice(len(X), k, replace=False)]
    chunks = data.draw(row_chunks(len(X)))
    ours = KMeans(k, init=init, tol=tol).fit(sa.from_array(X, chunks=(chunks, 3)))
    ref = SkKMeans(k, init=init, n_init=1, algorithm="lloyd", tol=tol).fit(X)
    _assert_same_as_sklearn(ours, ref)


def test_empty_cluster_is_reseeded_like_sklearn() -> None:
    X, _ = make_blobs(n_samples=300, centers=3, n_features=2, random_state=1)
    init = np.vstack([X[:2], [[1e3, 1e3]]])  # the far center gets no rows in the first iteration
    ours = KMeans(3, init=init).fit(sa.from_array(X, chunks=(40, 2)))
    ref = SkKMeans(3, init=init, n_init=1, algorithm="lloyd").fit(X)
    _assert_same_as_sklearn(ours, ref)


def test_max_iter_stops_early_like_sklearn() -> None:
    X, _ = make_blobs(n_samples=400, centers=5, n_features=2, random_state=2, cluster_std=3.0)
    init = X[:5]
    ours = KMeans(5, init=init, max_iter=2).fit(sa.from_array(X, chunks=(64, 2)))
    ref = SkKMeans(5, init=init, n_init=1, algorithm="lloyd", max_iter=2).fit(X)
    _assert_same_as_sklearn(ours, ref)


@pytest.mark.parametrize("init", ["k-means||", "k-means++"])
def test_scalable_init_finds_the_blobs(init: str) -> None:
    X, _ = make_blobs(n_samples=3000, centers=6, n_features=3, random_state=3, cluster_std=0.6)
    ref = SkKMeans(6, n_init=10, random_state=0).fit(X)
    ours = KMeans(6, init=init, random_state=0).fit(sa.from_array(X, chunks=(400, 3)))
    assert adjusted_rand_score(ours.labels_.compute(), ref.labels_) == 1.0
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=0.01)
    again = KMeans(6, init=init, random_state=0).fit(sa.from_array(X, chunks=(400, 3)))
    np.testing.assert_array_equal(again.cluster_centers_, ours.cluster_centers_)  # random_state is honoured


def test_random_init_draws_distinct_rows() -> None:
    X, _ = make_blobs(n_samples=500, centers=4, n_features=2, random_state=4)
    ours = KMeans(4, init="random", random_state=1, max_iter=1, tol=0).fit(sa.from_array(X, chunks=(50, 2)))
    assert ours.cluster_centers_.shape == (4, 2)
    assert np.isfinite(ours.inertia_) and ours.n_iter_ == 1
    start = KMeans(4, init="random", random_state=1)._initial_centers(
        sa.from_array(X, chunks=(50, 2)), np.random.RandomState(5))
    rows = {tuple(r) for r in X}
    assert len({tuple(c) for c in start}) == 4 and all(tuple(c) in rows for c in start)


def test_predict_transform_score_and_inputs() -> None:
    X, _ = make_blobs(n_samples=600, centers=3, n_features=4, random_state=5)
    init = X[[0, 1, 2]]
    ref = SkKMeans(3, init=init, n_init=1, algorithm="lloyd").fit(X)
    ours = KMeans(3, init=init).fit(pd.DataFrame(X))
    _assert_same_as_sklearn(ours, ref)
    ddf = sd.from_pandas(pd.DataFrame(X), npartitions=4)
    _assert_same_as_sklearn(KMeans(3, init=init).fit(ddf), ref)
    Xd = sa.from_array(X, chunks=(100, 2))
    assert isinstance(ours.labels_, sa.Array)
    lazy = ours.predict(Xd)
    assert isinstance(lazy, sa.Array)
    np.testing.assert_array_equal(lazy.compute(), ref.predict(X))
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.transform(Xd).compute(), ref.transform(X), rtol=1e-8)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-8)
    assert ours.score(Xd) == pytest.approx(ref.score(X), rel=1e-8)
    assert ours.score(X) == pytest.approx(ref.score(X), rel=1e-8)
    np.testing.assert_array_equal(np.asarray(KMeans(3, init=init).fit_predict(Xd)), ref.labels_)


def test_sklearn_protocol() -> None:
    est = KMeans(4, oversampling_factor=3, random_state=0)
    params = est.get_params()
    assert params["n_clusters"] == 4 and params["init"] == "k-means||" and params["oversampling_factor"] == 3
    assert clone(est).get_params() == params
    X, _ = make_blobs(n_samples=100, centers=2, random_state=0)
    assert est.set_params(n_clusters=2).fit(X) is est


def test_bad_input_is_explained() -> None:
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match="n_samples=5 should be >= n_clusters=6"):
        KMeans(6).fit(X)
    with pytest.raises(ValueError, match=r"must have shape \(2, 2\)"):
        KMeans(2, init=np.zeros((3, 2))).fit(X)
    with pytest.raises(ValueError, match="init must be"):
        KMeans(2, init="kmeans").fit(X)
    with pytest.raises(AttributeError, match="not fitted"):
        KMeans(2).predict(X)
    bad = X.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KMeans(2).fit(bad)

"""shoal.ml.wrappers: ParallelPostFit and Incremental against the wrapped scikit-learn estimators."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import PCA as SkPCA
from sklearn.exceptions import NotFittedError
from sklearn.metrics import explained_variance_score, log_loss
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.svm import SVC
from sklearn.utils import check_random_state

import shoal.array as sa
import shoal.dataframe as sd
from shoal.array import Array
from shoal.ml.wrappers import Incremental, ParallelPostFit
from shoal.ml.tests.strategies import row_chunks


pytestmark = pytest.mark.usefixtures("sync_scheduler")


def _classification(seed: int, n: int = 120, p: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] - X[:, 1] + rng.normal(0, 0.5, n) > 0).astype(np.int64)
    return X, y


def _blocks(a: np.ndarray, chunks: tuple[int, ...]) -> list[np.ndarray]:
    edges = np.cumsum((0,) + chunks)
    return [a[s:e] for s, e in zip(edges[:-1], edges[1:], strict=True)]


# -- Incremental --------------------------------------------------------------------------------------------
@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(4, 80))
@settings(max_examples=30, deadline=None)
def test_incremental_equals_partial_fit_on_the_same_blocks(data: st.DataObject, seed: int, n: int) -> None:
    X, y = _classification(seed, n)
    chunks = data.draw(row_chunks(n, max_cuts=6))
    est = SGDClassifier(random_state=0, tol=None)
    inc = Incremental(est, shuffle_blocks=False).fit(sa.from_array(X, chunks=(chunks, 3)),
                                                    sa.from_array(y, chunks=(chunks,)), classes=[0, 1])
    ref = clone(est)
    for xb, yb in zip(_blocks(X, chunks), _blocks(y, chunks), strict=True):
        ref.partial_fit(xb, yb, classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, ref.coef_)
    np.testing.assert_array_equal(inc.estimator_.intercept_, ref.intercept_)
    assert inc.estimator is est and not hasattr(est, "coef_")  # fit trains a clone
    pred = inc.predict(sa.from_array(X, chunks=(chunks, 3)))
    assert isinstance(pred, Array)
    np.testing.assert_array_equal(pred.compute(), ref.predict(X))


def test_incremental_shuffles_blocks_reproducibly() -> None:
    X, y = _classification(1, 100)
    chunks = (20,) * 5
    lazy_X, lazy_y = sa.from_array(X, chunks=(20, 3)), sa.from_array(y, chunks=20)
    a = Incremental(SGDClassifier(random_state=0), random_state=3).fit(lazy_X, lazy_y, classes=[0, 1])
    b = Incremental(SGDClassifier(random_state=0), random_state=3).fit(lazy_X, lazy_y, classes=[0, 1])
    np.testing.assert_array_equal(a.coef_, b.coef_)
    ref = SGDClassifier(random_state=0)
    xs, ys = _blocks(X, chunks), _blocks(y, chunks)
    for i in check_random_state(3).permutation(5):
        ref.partial_fit(xs[i], ys[i], classes=[0, 1])
    np.testing.assert_array_equal(a.coef_, ref.coef_)


def test_incremental_partial_fit_is_one_more_pass() -> None:
    X, y = _classification(2, 60)
    lazy_X, lazy_y = sa.from_array(X, chunks=(25, 3)), sa.from_array(y, chunks=25)
    inc = Incremental(SGDRegressor(random_state=0), shuffle_blocks=False)
    inc.partial_fit(lazy_X, lazy_y.astype(float))
    first = inc.estimator_.coef_.copy()
    inc.partial_fit(lazy_X, lazy_y.astype(float))
    ref = SGDRegressor(random_state=0)
    for _ in range(2):
        for s in (0, 25, 50):
            ref.partial_fit(X[s:s + 25], y[s:s + 25].astype(float))
    np.testing.assert_array_equal(inc.coef_, ref.coef_)
    assert not np.array_equal(first, inc.coef_)


def test_incremental_on_dataframes_numpy_and_unsupervised() -> None:
    X, y = _classification(3, 90)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    inc = Incremental(SGDClassifier(random_state=0), shuffle_blocks=False)
    inc.fit(sd.from_pandas(frame, npartitions=3), sd.from_pandas(pd.Series(y), npartitions=3), classes=[0, 1])
    ref = SGDClassifier(random_state=0)
    for s in (0, 30, 60):
        ref.partial_fit(frame.iloc[s:s + 30], y[s:s + 30], classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, ref.coef_)
    # NumPy: one partial_fit call on all of it.
    inc = Incremental(SGDClassifier(random_state=0)).fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, SGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1]).coef_)
    # No y (clustering).
    km = Incremental(MiniBatchKMeans(n_clusters=2, random_state=0, n_init=1), shuffle_blocks=False)
    km.fit(sa.from_array(X, chunks=(45, 3)))
    ref_km = MiniBatchKMeans(n_clusters=2, random_state=0, n_init=1)
    ref_km.partial_fit(X[:45]).partial_fit(X[45:])
    np.testing.assert_allclose(km.cluster_centers_, ref_km.cluster_centers_)


def test_incremental_aligns_or_checks_y() -> None:
    X, y = _classification(4, 60)
    inc = Incremental(SGDClassifier(random_state=0), shuffle_blocks=False)
    inc.fit(sa.from_array(X, chunks=(20, 3)), sa.from_array(y, chunks=30), classes=[0, 1])  # y rechunked like X
    ref = SGDClassifier(random_state=0)
    for s in (0, 20, 40):
        ref.partial_fit(X[s:s + 20], y[s:s + 20], classes=[0, 1])
    np.testing.assert_array_equal(inc.coef_, ref.coef_)
    frame_X = sd.from_pandas(pd.DataFrame(X), npartitions=3)
    frame_y = sd.from_pandas(pd.Series(y), npartitions=2)
    with pytest.raises(ValueError, match="row blocks"):
        inc.fit(frame_X, frame_y, classes=[0, 1])
    bad_y = sd.from_pandas(pd.Series(y[:57]), npartitions=3)
    checking = Incremental(SGDClassifier(), shuffle_blocks=False, assume_equal_chunks=False)
    with pytest.raises(ValueError, match="row block"):
        checking.fit(frame_X, bad_y, classes=[0, 1])


def test_incremental_needs_partial_fit_and_fitting() -> None:
    with pytest.raises(ValueError, match="partial_fit"):
        Incremental(SVC()).fit(np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(NotFittedError):
        Incremental(SGDClassifier()).predict(np.ones((2, 3)))


# -- ParallelPostFit ------------------------------------------------------------------------------------------
@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(10, 80))
@settings(max_examples=20, deadline=None)
def test_parallel_post_fit_matches_the_estimator(data: st.DataObject, seed: int, n: int) -> None:
    X, y = _classification(seed, n)
    if len(np.unique(y)) < 2:
        y[:2] = [0, 1]
    chunks = data.draw(row_chunks(n, max_cuts=6))
    lazy_X, lazy_y = sa.from_array(X, chunks=(chunks, 3)), sa.from_array(y, chunks=(chunks,))
    clf = ParallelPostFit(LogisticRegression()).fit(lazy_X, lazy_y)
    ref = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(clf.coef_, ref.coef_)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        out = getattr(clf, method)(lazy_X)
        assert isinstance(out, Array) and out.chunks[0] == chunks
        np.testing.assert_allclose(out.compute(), getattr(ref, method)(X), rtol=1e-12)
        assert isinstance(getattr(clf, method)(X), np.ndarray)
    assert clf.score(lazy_X, lazy_y) == pytest.approx(ref.score(X, y), rel=1e-12)
    assert ParallelPostFit(ref, scoring="neg_log_loss").score(lazy_X, y) == pytest.approx(
        -log_loss(y, ref.predict_proba(X)), rel=1e-10)


def test_parallel_post_fit_regression_transform_and_scorers() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(0, 0.1, 50)
    lazy_X = sa.from_array(X, chunks=(15, 4))
    reg = ParallelPostFit(LinearRegression()).fit(X, y)
    ref = LinearRegression().fit(X, y)
    assert reg.score(lazy_X, y) == pytest.approx(ref.score(X, y), rel=1e-12)
    neg_mse = ParallelPostFit(ref, scoring="neg_mean_squared_error").score(lazy_X, y)
    assert neg_mse == pytest.approx(-np.mean((ref.predict(X) - y) ** 2), rel=1e-10)
    # A scorer without a one-pass shoal metric sees computed data.
    assert ParallelPostFit(ref, scoring="explained_variance").score(lazy_X, y) == pytest.approx(
        explained_variance_score(y, ref.predict(X)))
    pca = ParallelPostFit(SkPCA(n_components=2)).fit(lazy_X)
    Z = pca.transform(lazy_X)
    assert isinstance(Z, Array) and Z.chunks == ((15, 15, 15, 5), (2,))
    np.testing.assert_allclose(Z.compute(), SkPCA(n_components=2).fit(X).transform(X), rtol=1e-10, atol=1e-12)


def test_parallel_post_fit_on_dataframes_keeps_pandas_blocks() -> None:
    X, y = _classification(5, 60)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    lazy = sd.from_pandas(frame, npartitions=4)
    clf = ParallelPostFit(LogisticRegression()).fit(lazy, sd.from_pandas(pd.Series(y), npartitions=4))
    ref = LogisticRegression().fit(frame, y)
    pred = clf.predict(lazy)  # fitted with feature names: blocks stay DataFrames, so no warning
    assert isinstance(pred, Array) and pred.numblocks == (4,)
    np.testing.assert_array_equal(pred.compute(), ref.predict(frame))
    np.testing.assert_allclose(clf.predict_proba(lazy).compute(), ref.predict_proba(frame), rtol=1e-12)
    assert clf.score(lazy, sd.from_pandas(pd.Series(y), npartitions=4)) == pytest.approx(ref.score(frame, y))


def test_parallel_post_fit_meta_and_errors() -> None:
    X, y = _classification(6, 30)
    labels = np.where(y == 1, "yes", "no")
    clf = ParallelPostFit(LogisticRegression(), predict_meta=np.empty((0,), dtype=object)).fit(X, labels)
    pred = clf.predict(sa.from_array(X, chunks=(10, 3)))
    assert pred.dtype == object
    np.testing.assert_array_equal(pred.compute(), LogisticRegression().fit(X, labels).predict(X))
    reg = ParallelPostFit(LinearRegression()).fit(X, y)
    assert not hasattr(reg, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba"):
        reg._method("predict_proba", X, None)
    with pytest.raises(ValueError, match="predict_meta"):
        ParallelPostFit(_Picky()).predict(sa.from_array(X, chunks=(10, 3)))


class _Picky:
    """An estimator whose predict refuses rows of zeros, so the output type cannot be probed."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not np.asarray(X).any():
            raise ValueError("all zeros")
        return np.asarray(X)[:, 0]

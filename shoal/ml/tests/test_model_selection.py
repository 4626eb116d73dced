"""shoal.ml.model_selection against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import model_selection as skms
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import shoal.array as sa
import shoal.dataframe as sd
from shoal.distributed import Client
from shoal.ml.model_selection import GridSearchCV, KFold, RandomizedSearchCV, train_test_split

# ---------------------------------------------------------------------- train_test_split


def _rows(x):
    return np.asarray(x.compute() if hasattr(x, "compute") else x)


@given(n=st.integers(4, 60), chunk=st.integers(1, 20), test=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
@settings(max_examples=30, deadline=None)
def test_array_split_partitions_rows_exactly(n, chunk, test, seed):
    X = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n) * 10
    dX, dy = sa.from_array(X, chunks=(chunk, 2)), sa.from_array(y, chunks=chunk)
    X_train, X_test, y_train, y_test = train_test_split(dX, dy, test_size=test, random_state=seed)
    assert all(isinstance(p, sa.Array) for p in (X_train, X_test, y_train, y_test))
    xtr, xte, ytr, yte = map(_rows, (X_train, X_test, y_train, y_test))
    assert xtr.shape == X_train.shape and xte.shape == X_test.shape  # lazy shapes are right
    # every row lands in exactly one part, and X and y stay paired
    assert sorted(xtr[:, 0].tolist() + xte[:, 0].tolist()) == X[:, 0].tolist()
    np.testing.assert_array_equal(ytr, xtr[:, 0] // 2 * 10)
    np.testing.assert_array_equal(yte, xte[:, 0] // 2 * 10)
    # per block, ShuffleSplit's rounding
    expected_test = sum(int(np.ceil(test * c)) for c in dX.chunks[0])
    assert len(xte) == expected_test


def test_array_split_is_reproducible_and_blockwise():
    X = sa.from_array(np.arange(100), chunks=25)
    a = train_test_split(X, random_state=3)
    b = train_test_split(X, random_state=3)
    c = train_test_split(X, random_state=4)
    np.testing.assert_array_equal(_rows(a[1]), _rows(b[1]))
    assert _rows(a[1]).tolist() != _rows(c[1]).tolist()
    # rows never leave their block
    for part in a:
        assert part.chunks[0] == tuple(part.blocks[i].shape[0] for i in range(part.numblocks[0]))
        for i in range(part.numblocks[0]):
            block = _rows(part.blocks[i])
            assert (block // 25 == i).all()


def test_array_train_size_leaves_rest_out():
    X = sa.from_array(np.arange(40), chunks=10)
    train, test = train_test_split(X, train_size=0.5, test_size=0.2, random_state=0)
    assert train.shape == (20,) and test.shape == (8,)
    assert not set(_rows(train)) & set(_rows(test))


@pytest.mark.parametrize("test_size,train_size", [(0.3, None), (7, None), (None, 0.6), (5, 20)])
def test_unshuffled_matches_sklearn(test_size, train_size):
    X = np.arange(60).reshape(30, 2)
    y = np.arange(30)
    expected = skms.train_test_split(X, y, test_size=test_size, train_size=train_size, shuffle=False)
    got = train_test_split(sa.from_array(X, chunks=(7, 2)), sa.from_array(y, chunks=7), test_size=test_size,
                           train_size=train_size, shuffle=False)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(_rows(g), e)
    pdf = pd.DataFrame(X, columns=["a", "b"])
    expected = skms.train_test_split(pdf, test_size=test_size, train_size=train_size, shuffle=False)
    got = train_test_split(sd.from_pandas(pdf, npartitions=4), test_size=test_size, train_size=train_size,
                           shuffle=False)
    for g, e in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(g.compute(), e)


def test_dataframe_split_partitions_rows_and_keeps_pairs():
    pdf = pd.DataFrame({"x": np.arange(50), "s": [f"v{i}" for i in range(50)]})
    ddf = sd.from_pandas(pdf, npartitions=4)
    y = ddf.x * 3
    X_train, X_test, y_train, y_test = train_test_split(ddf, y, test_size=0.3, random_state=1)
    assert isinstance(X_train, sd.DataFrame) and isinstance(y_test, sd.Series)
    xtr, xte, ytr, yte = (p.compute() for p in (X_train, X_test, y_train, y_test))
    pd.testing.assert_frame_equal(pd.concat([xtr, xte]).sort_index(), pdf)
    pd.testing.assert_series_equal(ytr, xtr.x * 3, check_names=False)
    pd.testing.assert_series_equal(yte, xte.x * 3, check_names=False)
    assert xtr.index.is_monotonic_increasing
    lengths = [len(ddf.partitions[i].compute()) for i in range(4)]
    assert len(xte) == sum(int(np.ceil(0.3 * n)) for n in lengths)


def test_in_memory_inputs_defer_to_sklearn():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    got = train_test_split(X, y, test_size=0.25, random_state=0)
    expected = skms.train_test_split(X, y, test_size=0.25, random_state=0)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    assert isinstance(train_test_split(pd.Series(range(8)), random_state=0)[0], pd.Series)


def test_split_errors():
    X = sa.from_array(np.arange(20), chunks=5)
    with pytest.raises(TypeError, match="fractions"):
        train_test_split(X, test_size=3)
    with pytest.raises(ValueError, match="different row blocks"):
        train_test_split(X, sa.from_array(np.arange(20), chunks=10))
    with pytest.raises(TypeError, match="mix"):
        train_test_split(X, np.arange(20))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        train_test_split(X, test_size=1.5)
    with pytest.raises(ValueError, match="add up to more than 1"):
        train_test_split(X, test_size=0.6, train_size=0.6)


def test_kfold_on_shoal_collections():
    X = np.arange(30).reshape(15, 2)
    for data in (sa.from_array(X, chunks=4), sd.from_pandas(pd.DataFrame(X), npartitions=3)):
        got = [(tr.tolist(), te.tolist()) for tr, te in KFold(4).split(data)]
        assert got == [(tr.tolist(), te.tolist()) for tr, te in skms.KFold(4).split(X)]


# ---------------------------------------------------------------------- searches


@pytest.fixture(scope="module")
def classification():
    return make_classification(n_samples=90, n_features=5, n_informative=3, random_state=0)


def _assert_same_results(ours, theirs):
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        if "time" in key:
            assert ours.cv_results_[key].shape == value.shape
        elif key == "params":
            assert ours.cv_results_[key] == value
        elif key.startswith("param_"):
            assert ours.cv_results_[key].dtype == value.dtype, key
            assert ours.cv_results_[key].tolist() == value.tolist(), key
        else:
            np.testing.assert_array_equal(ours.cv_results_[key], value, err_msg=key)
    for attr in ("best_index_", "best_params_", "best_score_", "n_splits_", "multimetric_"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_grid_search_matches_sklearn(classification, scheduler):
    X, y = classification
    grid = [{"C": [0.1, 1.0, 10.0], "fit_intercept": [True, False]}, {"C": [0.5], "tol": [1e-2]}]
    ours = GridSearchCV(LogisticRegression(), grid, cv=3, return_train_score=True, scheduler=scheduler).fit(X, y)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=3, return_train_score=True).fit(X, y)
    _assert_same_results(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    np.testing.assert_array_equal(ours.decision_function(X), theirs.decision_function(X))
    assert ours.score(X, y) == theirs.score(X, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.scorer_(ours.best_estimator_, X, y) == theirs.scorer_(theirs.best_estimator_, X, y)


def test_grid_search_on_shoal_data_and_predict_blockwise(classification):
    X, y = classification
    dX, dy = sa.from_array(X, chunks=(30, 5)), sa.from_array(y, chunks=30)
    grid = {"max_depth": [1, 2, 3]}
    ours = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3).fit(dX, dy)
    theirs = skms.GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3).fit(X, y)
    _assert_same_results(ours, theirs)
    pred = ours.predict(dX)
    assert isinstance(pred, sa.Array) and pred.shape == (90,)
    np.testing.assert_array_equal(pred.compute(), theirs.predict(X))
    proba = ours.predict_proba(dX)
    assert proba.shape == (90, 2)
    np.testing.assert_array_equal(proba.compute(), theirs.predict_proba(X))
    assert ours.score(dX, dy) == theirs.score(X, y)


def test_grid_search_regression_multimetric_and_transform():
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    scoring = {"r2": "r2", "neg_mse": "neg_mean_squared_error"}
    grid = {"alpha": [0.01, 1.0, 100.0]}
    cv = skms.KFold(4, shuffle=True, random_state=0)
    ours = GridSearchCV(Ridge(), grid, scoring=scoring, refit="neg_mse", cv=cv, scheduler="sync").fit(X, y)
    theirs = skms.GridSearchCV(Ridge(), grid, scoring=scoring, refit="neg_mse", cv=cv).fit(X, y)
    _assert_same_results(ours, theirs)
    assert ours.multimetric_ is True
    assert ours.score(X, y) == theirs.score(X, y)
    pca = {"n_components": [1, 2]}
    ours = GridSearchCV(PCA(), pca, cv=3, scheduler="sync").fit(X)
    theirs = skms.GridSearchCV(PCA(), pca, cv=3).fit(X)
    _assert_same_results(ours, theirs)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X))
    np.testing.assert_allclose(ours.transform(sa.from_array(X, chunks=(20, 2))).compute(), theirs.transform(X))
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        GridSearchCV(Ridge(), grid, scoring=scoring, cv=3).fit(X, y)


def test_randomized_search_matches_sklearn(classification):
    X, y = classification
    dist = {"C": scipy.stats.loguniform(1e-2, 1e2), "kernel": ["linear", "rbf"]}
    ours = RandomizedSearchCV(SVC(), dist, n_iter=5, random_state=0, cv=3, scheduler="threads").fit(X, y)
    theirs = skms.RandomizedSearchCV(SVC(), dist, n_iter=5, random_state=0, cv=3).fit(X, y)
    _assert_same_results(ours, theirs)


def test_search_runs_on_the_default_client(classification):
    X, y = classification
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        ours = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
        keys = {str(t["key"]) for t in client.get_task_stream() if t["status"] == "OK"}
    theirs = skms.GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    _assert_same_results(ours, theirs)
    assert sum(k.startswith("_fit_and_score-") for k in keys) == 6  # 2 candidates x 3 splits
    assert sum(k.startswith("_take-") for k in keys) == 12  # X and y, train and test, per split; shared


class _FailsOn(ClassifierMixin, BaseEstimator):
    """Fails to fit when ``bad`` is true: for error_score tests."""

    def __init__(self, bad=False):
        self.bad = bad

    def fit(self, X, y):
        if self.bad:
            raise ArithmeticError("this candidate always fails")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_error_score(classification):
    X, y = classification
    grid = {"bad": [False, True]}
    with pytest.raises(ArithmeticError, match="always fails"):
        GridSearchCV(_FailsOn(), grid, cv=3, error_score="raise", scheduler="sync").fit(X, y)
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        ours = GridSearchCV(_FailsOn(), grid, cv=3, error_score=-1.0, scheduler="sync").fit(X, y)
    with pytest.warns(FitFailedWarning):
        theirs = skms.GridSearchCV(_FailsOn(), grid, cv=3, error_score=-1.0).fit(X, y)
    _assert_same_results(ours, theirs)
    with pytest.warns(UserWarning, match="non-finite"), pytest.warns(FitFailedWarning):
        ours = GridSearchCV(_FailsOn(), grid, cv=3, scheduler="sync").fit(X, y)
    assert ours.cv_results_["rank_test_score"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="All the 3 fits failed"):
        GridSearchCV(_FailsOn(), {"bad": [True]}, cv=3, scheduler="sync").fit(X, y)
    with pytest.raises(ValueError, match="error_score must be"):
        GridSearchCV(_FailsOn(), grid, error_score="ignore").fit(X, y)


def test_refit_false_and_not_fitted(classification):
    X, y = classification
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, refit=False, scheduler="sync").fit(X, y)
    assert not hasattr(search, "best_estimator_") and search.best_params_ in search.cv_results_["params"]
    with pytest.raises(Exception, match="call fit"):
        search.predict(X)
    assert "param_grid" in search.get_params()


def test_grid_search_on_shoal_dataframe_keeps_feature_names(classification):
    X, y = classification
    pdf = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    ddf, dy = sd.from_pandas(pdf, npartitions=3), sd.from_pandas(pd.Series(y), npartitions=3)
    grid = {"C": [0.1, 1.0]}
    ours = GridSearchCV(LogisticRegression(), grid, cv=3, scheduler="sync").fit(ddf, dy)
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=3).fit(pdf, y)
    _assert_same_results(ours, theirs)
    assert list(ours.feature_names_in_) == list(pdf.columns)
    pred = ours.predict(ddf)  # no "feature names" warning: partitions go to predict as DataFrames
    assert isinstance(pred, sa.Array) and pred.shape == (90,)
    np.testing.assert_array_equal(pred.compute(), theirs.predict(pdf))
    np.testing.assert_array_equal(ours.predict_proba(ddf).compute(), theirs.predict_proba(pdf))

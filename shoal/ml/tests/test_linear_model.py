"""shoal.ml.linear_model against scikit-learn's linear models on the same data."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import shoal.array as sa
import shoal.dataframe as sd
from shoal.local.callbacks import Callback
from shoal.ml.linear_model import LinearRegression, LogisticRegression, PoissonRegression
from shoal.ml.tests.strategies import row_chunks


pytestmark = pytest.mark.usefixtures("sync_scheduler")


def _regression(seed: int, n: int = 200, p: int = 4, targets: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * 3 + 10
    shape = (p,) if not targets else (p, targets)
    y = X @ rng.normal(size=shape) + 5 + rng.normal(size=(n,) + shape[1:])
    return X, y


def _classification(seed: int, n: int = 400, p: int = 4, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    scores = X @ rng.normal(size=(p, k)) + rng.normal(size=(n, k)) * 1.5
    return X, np.argmax(scores, axis=1)


# -- LinearRegression ------------------------------------------------------------------------------------
@given(data=st.data(), seed=st.integers(0, 2**16), p=st.integers(1, 5), targets=st.sampled_from([0, 1, 3]),
       fit_intercept=st.booleans())
@settings(max_examples=25, deadline=None)
def test_linear_regression_matches_sklearn_for_any_row_chunking(data: st.DataObject, seed: int, p: int,
                                                                 targets: int, fit_intercept: bool) -> None:
    n = data.draw(st.integers(p + 2, 60))
    X, y = _regression(seed, n, p, targets)
    chunks = data.draw(row_chunks(n))
    Xd = sa.from_array(X, chunks=(chunks, p))
    ours = LinearRegression(fit_intercept=fit_intercept).fit(Xd, y)
    ref = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-8)
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    assert ours.rank_ == ref.rank_
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-8)
    np.testing.assert_allclose(ours.predict(Xd).compute(), ref.predict(X), rtol=1e-8, atol=1e-8)


def test_linear_regression_weights_rank_deficiency_and_score() -> None:
    X, y = _regression(1, n=300)
    w = np.random.default_rng(2).uniform(0.1, 3, 300)
    Xd = sa.from_array(X, chunks=(70, 2))
    ref = sk.LinearRegression().fit(X, y, sample_weight=w)
    ours = LinearRegression().fit(Xd, sa.from_array(y, chunks=100), sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert ours.score(Xd, y) == pytest.approx(ref.score(X, y), abs=1e-10)
    assert ours.score(Xd, y, sample_weight=w) == pytest.approx(ref.score(X, y, sample_weight=w), abs=1e-10)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-10)
    # A repeated column: both give the minimum-norm solution of the centred problem.
    Xr = np.hstack([X, X[:, :1]])
    ref = sk.LinearRegression().fit(Xr, y)
    ours = LinearRegression().fit(sa.from_array(Xr, chunks=(64, 5)), y)
    assert ours.rank_ == ref.rank_ == 4
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)


def test_passes_never_hold_more_than_a_block() -> None:
    # Data made block by block, so no task ever holds all of X; the passes must not gather it either.
    X = sa.random.default_rng(3).normal(size=(2000, 3), chunks=(250, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    biggest = []

    def record(key: object, result: object, *args: object) -> None:
        parts = result.values() if isinstance(result, dict) else [result]
        biggest.append(sum(getattr(v, "nbytes", 0) for v in parts))

    with Callback(posttask=record):
        LogisticRegression().fit(X, y)
        LinearRegression().fit(X, y.astype(float))
    assert biggest and max(biggest) <= 250 * 3 * 8


# -- LogisticRegression ----------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gradient_descent"])
@pytest.mark.parametrize("C", [1.0, 0.05])
def test_logistic_binary_matches_sklearn(solver: str, C: float) -> None:
    X, y = _classification(4)
    ref = sk.LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    ours = LogisticRegression(C=C, tol=1e-8, solver=solver, max_iter=1000).fit(sa.from_array(X, chunks=(90, 3)),
                                                                                 sa.from_array(y, chunks=77))
    assert ours.coef_.shape == ref.coef_.shape == (1, 4) and ours.intercept_.shape == (1,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


def test_logistic_multinomial_matches_sklearn_and_predicts_lazily() -> None:
    X, y = _classification(5, k=3)
    labels = np.array(["a", "b", "c"])[y]
    ref = sk.LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(X, labels)
    Xd = sa.from_array(X, chunks=(64, 4))
    for solver in ("lbfgs", "newton"):
        ours = LogisticRegression(C=0.5, tol=1e-8, solver=solver).fit(Xd, labels)
        np.testing.assert_array_equal(ours.classes_, ref.classes_)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    for method in ("predict_proba", "decision_function", "predict_log_proba"):
        lazy = getattr(ours, method)(Xd)
        assert isinstance(lazy, sa.Array), method
        np.testing.assert_allclose(lazy.compute(), getattr(ref, method)(X), atol=1e-5)
        np.testing.assert_allclose(getattr(ours, method)(X), getattr(ref, method)(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(Xd).compute(), ref.predict(X))
    assert ours.score(Xd, labels) == pytest.approx(ref.score(X, labels))


def test_logistic_binary_predictions_no_penalty_no_intercept_and_weights() -> None:
    X, y = _classification(6)
    Xd = sa.from_array(X, chunks=(100, 4))
    ref = sk.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    ours = LogisticRegression(penalty="none", tol=1e-8).fit(Xd, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    for method in ("predict_proba", "decision_function", "predict"):
        np.testing.assert_allclose(getattr(ours, method)(Xd).compute(), getattr(ref, method)(X), atol=1e-5)
    assert ours.score(Xd, y) == pytest.approx(ref.score(X, y))

    ref = sk.LogisticRegression(fit_intercept=False, tol=1e-10).fit(X, y)
    ours = LogisticRegression(fit_intercept=False, tol=1e-8).fit(Xd, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_array_equal(ours.intercept_, [0.0])

    w = np.random.default_rng(7).uniform(0, 2, len(y))
    ref = sk.LogisticRegression(C=0.3, tol=1e-10).fit(X, y, sample_weight=w)
    ours = LogisticRegression(C=0.3, tol=1e-8).fit(Xd, y, sample_weight=sa.from_array(w, chunks=150))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


def test_logistic_l1_with_proximal_gradient() -> None:
    X, y = _classification(8, p=6)
    ref = sk.LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.005, fit_intercept=False, tol=1e-10,
                                max_iter=10_000).fit(X, y)
    ours = LogisticRegression(penalty="l1", solver="proximal_grad", C=0.005, fit_intercept=False, tol=1e-9,
                              max_iter=5000).fit(sa.from_array(X, chunks=(128, 6)), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert (ours.coef_ == 0).sum() == (ref.coef_ == 0).sum() > 0


def test_dataframe_inputs() -> None:
    X, y = _classification(9)
    frame = pd.DataFrame(X, columns=list("abcd"))
    ref = sk.LogisticRegression(tol=1e-10).fit(X, y)
    ours = LogisticRegression(tol=1e-8).fit(sd.from_pandas(frame, npartitions=3),
                                            sd.from_pandas(pd.Series(y), npartitions=2))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(LogisticRegression(tol=1e-8).fit(frame, pd.Series(y)).coef_, ref.coef_, atol=1e-4)


def test_poisson_regression_matches_sklearn() -> None:
    rng = np.random.default_rng(10)
    X = rng.normal(size=(500, 3))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1] + 1.0))
    ref = sk.PoissonRegressor(alpha=1 / (2.0 * 500), tol=1e-12, max_iter=1000).fit(X, y)
    ours = PoissonRegression(C=2.0, tol=1e-9).fit(sa.from_array(X, chunks=(120, 3)), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    np.testing.assert_allclose(ours.predict(sa.from_array(X, chunks=(50, 3))).compute(), ref.predict(X), rtol=1e-5)
    with pytest.raises(ValueError, match="non-negative"):
        PoissonRegression().fit(X, y - 5)


def test_sklearn_protocol() -> None:
    est = LogisticRegression(C=0.1, solver="newton")
    params = est.get_params()
    assert params["C"] == 0.1 and params["solver"] == "newton" and params["penalty"] == "l2"
    assert clone(est).get_params() == params
    assert est.set_params(max_iter=5).max_iter == 5
    X, y = _classification(11)
    assert est.fit(X, y) is est and est.n_iter_.shape == (1,)


def test_bad_input_is_explained() -> None:
    X, y = _classification(12, n=50)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="continuous values"):
        LogisticRegression().fit(sa.from_array(X, chunks=(10, 4)), X[:, 0])
    with pytest.raises(ValueError, match="proximal_grad"):
        LogisticRegression(penalty="l1").fit(X, y)
    with pytest.raises(ValueError, match="C must be > 0"):
        LogisticRegression(C=0).fit(X, y)
    with pytest.raises(ValueError, match="different numbers of samples"):
        LinearRegression().fit(X, y[:10])
    with pytest.raises(AttributeError, match="not fitted"):
        LogisticRegression().predict(X)
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        LinearRegression().fit(bad, y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        LogisticRegression().fit(bad, y)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        LogisticRegression(max_iter=1, tol=1e-12).fit(X, y)

"""solver="admm" (consensus ADMM over row blocks) against scikit-learn's linear models on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import shoal.array as sa
from shoal.local.callbacks import Callback
from shoal.ml.linear_model import LogisticRegression, PoissonRegression

pytestmark = pytest.mark.usefixtures("sync_scheduler")

#: Tolerances tight enough that the consensus is scikit-learn's optimum (dask-glm's defaults stop near 1e-3).
TIGHT = {"abstol": 1e-7, "reltol": 1e-7}


def _classification(seed: int, n: int = 300, p: int = 4, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    scores = X @ rng.normal(size=(p, k)) + rng.normal(size=(n, k)) * 1.5
    return X, np.argmax(scores, axis=1)


@pytest.mark.parametrize(("chunks", "fit_intercept", "C"), [(100, True, 1.0), (60, False, 0.3), (300, True, 10.0)])
def test_binary_logistic_matches_sklearn(chunks: int, fit_intercept: bool, C: float) -> None:
    X, y = _classification(1)
    ref = sk.LogisticRegression(C=C, fit_intercept=fit_intercept, tol=1e-12, max_iter=1000).fit(X, y)
    ours = LogisticRegression(solver="admm", C=C, fit_intercept=fit_intercept, max_iter=500,
                              solver_kwargs=TIGHT).fit(sa.from_array(X, chunks=(chunks, 4)), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_multinomial_and_weights_match_sklearn() -> None:
    X, y = _classification(2, n=240, p=3, k=3)
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    ref = sk.LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y, sample_weight=w)
    # rho of the order of a block's curvature converges in far fewer passes than dask-glm's rho=1.
    ours = LogisticRegression(solver="admm", max_iter=500, solver_kwargs={"rho": 5.0, **TIGHT}).fit(
        sa.from_array(X, chunks=(80, 3)), y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


def test_poisson_matches_sklearn() -> None:
    rng = np.random.default_rng(10)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(X @ [0.3, -0.2, 0.1] + 1.0))
    ref = sk.PoissonRegressor(alpha=1 / (2.0 * 400), tol=1e-12, max_iter=1000).fit(X, y)
    ours = PoissonRegression(solver="admm", C=2.0, max_iter=500, solver_kwargs={"rho": 200.0, **TIGHT}).fit(
        sa.from_array(X, chunks=(100, 3)), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-5)


def test_l1_penalty_matches_liblinear_and_is_sparse() -> None:
    X, y = _classification(8, p=6)
    ref = sk.LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.01, fit_intercept=False, tol=1e-10,
                                max_iter=10_000).fit(X, y)
    ours = LogisticRegression(penalty="l1", solver="admm", C=0.01, fit_intercept=False, max_iter=1000,
                              solver_kwargs=TIGHT).fit(sa.from_array(X, chunks=(100, 6)), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    assert (ours.coef_ == 0).sum() == (ref.coef_ == 0).sum() > 0


def test_one_pass_per_iteration_one_task_per_block() -> None:
    """Every iteration runs one local-solve task per row block: n_iter passes, n_iter * n_blocks solves."""
    X, y = _classification(4)
    solves: list[str] = []

    class Count(Callback):
        def _posttask(self, key, result, graph, state, worker_id):  # type: ignore[no-untyped-def]
            name = key[0] if isinstance(key, tuple) else key
            if str(name).startswith("glm-admm-chunk"):
                solves.append(name)

    with Count():
        ours = LogisticRegression(solver="admm", max_iter=300).fit(sa.from_array(X, chunks=(75, 4)), y)
    assert len(solves) == 4 * int(ours.n_iter_[0])
    assert len(set(solves)) == int(ours.n_iter_[0])  # one graph (token) per iteration


def test_default_tolerances_are_dask_glms_and_loose() -> None:
    """dask-glm's abstol=1e-4, reltol=1e-2 stop early: close to, but not at, scikit-learn's optimum."""
    X, y = _classification(5)
    ref = sk.LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y)
    ours = LogisticRegression(solver="admm").fit(sa.from_array(X, chunks=(100, 4)), y)
    assert np.abs(ours.coef_ - ref.coef_).max() < 1e-2
    assert LogisticRegression().solver == "lbfgs"  # the default stays the solver that reaches the optimum


def test_non_convergence_warns_and_bad_options_are_explained() -> None:
    X, y = _classification(6)
    with pytest.warns(ConvergenceWarning, match="solver='admm'"):
        LogisticRegression(solver="admm", max_iter=2, solver_kwargs=TIGHT).fit(X, y)
    with pytest.raises(ValueError, match="does not take \\['tol'\\]"):
        LogisticRegression(solver="admm", solver_kwargs={"tol": 1}).fit(X, y)
    with pytest.raises(ValueError, match="rho must be > 0"):
        LogisticRegression(solver="admm", solver_kwargs={"rho": 0}).fit(X, y)
    with pytest.raises(ValueError, match="over_relax"):
        LogisticRegression(solver="admm", solver_kwargs={"over_relax": 2.5}).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = LogisticRegression(solver="admm", solver_kwargs={"over_relax": 1.5, **TIGHT}, max_iter=500).fit(X, y)
    ref = sk.LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)

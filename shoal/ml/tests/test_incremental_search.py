"""Incremental searches: dask-ml's schedules, held-out scoring and reproducibility, with SGDClassifier."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier
from sklearn.utils import check_random_state

import shoal
from shoal.ml.datasets import make_classification
from shoal.ml.model_selection import (
    HyperbandSearchCV,
    IncrementalSearchCV,
    InverseDecaySearchCV,
    SuccessiveHalvingSearchCV,
)
from shoal.ml.model_selection_split import train_test_split

pytestmark = pytest.mark.usefixtures("sync_scheduler")

PARAMS = {"alpha": np.logspace(-5, 1, 30), "average": [True, False]}


@pytest.fixture(scope="module")
def data() -> tuple[object, object]:
    X, y = make_classification(n_samples=600, n_features=6, n_informative=3, chunks=100, random_state=0)
    return shoal.persist(X, y, scheduler="sync")


def _sgd() -> SGDClassifier:
    return SGDClassifier(tol=None, random_state=0)


def _held_out(X: object, y: object, random_state: int, test_size: float) -> tuple[np.ndarray, np.ndarray]:
    """The validation split fit() makes: the first draw of random_state seeds train_test_split."""
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    _, X_test, _, y_test = train_test_split(X, y, test_size=test_size, random_state=seed)
    return shoal.compute(X_test, y_test)


# -- schedules --------------------------------------------------------------------------------------------
def test_hyperband_metadata_is_dask_mls() -> None:
    """max_iter=81, aggressiveness=3: dask-ml's 5 brackets, 143 models, 1581 partial_fit calls."""
    meta = HyperbandSearchCV(_sgd(), PARAMS, max_iter=81).metadata
    assert (meta["n_models"], meta["partial_fit_calls"]) == (143, 1581)
    got = [(b["bracket"], b["n_models"], b["partial_fit_calls"], b["decisions"]) for b in meta["brackets"]]
    assert got == [(0, 5, 405, [81]), (1, 8, 324, [27, 81]), (2, 15, 279, [9, 27, 81]),
                   (3, 34, 276, [3, 9, 27, 81]), (4, 81, 297, [1, 3, 9, 27, 81])]
    sha = meta["brackets"][3]["SuccessiveHalvingSearchCV params"]
    assert (sha["n_initial_parameters"], sha["n_initial_iter"], sha["max_iter"]) == (34, 3, 81)
    # floor(log(243, 3)) is 4 in floating point, so dask-ml (and we) run 5 brackets for max_iter=243.
    assert len(HyperbandSearchCV(_sgd(), PARAMS, max_iter=243).metadata["brackets"]) == 5


def test_hyperband_runs_its_plan(data: tuple[object, object]) -> None:
    X, y = data
    search = HyperbandSearchCV(_sgd(), PARAMS, max_iter=9, random_state=0)
    search.fit(X, y, classes=[0, 1])
    assert search.metadata_ == search.metadata  # totals and, per bracket, models, calls and decisions
    assert len(search.cv_results_["model_id"]) == search.metadata["n_models"] == 17
    assert sum(search.cv_results_["partial_fit_calls"]) == search.metadata["partial_fit_calls"] == 69
    assert set(search.cv_results_["bracket"]) == {0, 1, 2}
    assert all(str(m).startswith(f"bracket={b}-")
               for m, b in zip(search.cv_results_["model_id"], search.cv_results_["bracket"], strict=True))
    for ident, records in search.model_history_.items():
        assert [r["partial_fit_calls"] for r in records] == sorted(r["partial_fit_calls"] for r in records)
        assert all(r["model_id"] == ident for r in records)
    assert len(search.history_) == sum(len(h) for h in search.model_history_.values())


def test_successive_halving_schedule(data: tuple[object, object]) -> None:
    X, y = data
    search = SuccessiveHalvingSearchCV(_sgd(), PARAMS, n_initial_parameters=9, n_initial_iter=2, max_iter=20,
                                       random_state=1)
    # 9 models to 2 calls, the best 3 to 6, the best 1 to 18: 6*2 + 2*6 + 18.
    assert search.metadata == {"n_models": 9, "partial_fit_calls": 42, "max_iter": 18}
    search.fit(X, y, classes=[0, 1])
    assert search.metadata_ == search.metadata
    assert sorted(search.cv_results_["partial_fit_calls"]) == [2] * 6 + [6] * 2 + [18]
    assert search.cv_results_["partial_fit_calls"][search.best_index_] == 18


def test_inverse_decay_keeps_fewer_models_over_time(data: tuple[object, object]) -> None:
    X, y = data
    search = InverseDecaySearchCV(_sgd(), PARAMS, n_initial_parameters=30, max_iter=30, random_state=2)
    search.fit(X, y, classes=[0, 1])
    calls = search.cv_results_["partial_fit_calls"]
    # Keep int(30 / (1 + t)) models: 10 -> 7 at t=3 ... until the target falls to 1 (worked by hand).
    assert sorted(calls) == [1] * 23 + [2, 3, 4, 5, 6, 9, 9]
    finalists = np.flatnonzero(calls == 9)
    assert search.best_index_ in finalists
    assert search.best_score_ == search.cv_results_["test_score"][finalists].max()


# -- held-out scoring and the best model -----------------------------------------------------------------
def test_best_model_is_best_on_the_held_out_set(data: tuple[object, object]) -> None:
    X, y = data
    search = IncrementalSearchCV(_sgd(), PARAMS, n_initial_parameters=6, decay_rate=None, max_iter=5,
                                 random_state=3, test_size=0.25)
    search.fit(X, y, classes=[0, 1])
    results = search.cv_results_
    assert list(results["partial_fit_calls"]) == [5] * 6  # every model trained to max_iter
    assert search.best_score_ == results["test_score"].max() == results["test_score"][search.best_index_]
    assert results["rank_test_score"][search.best_index_] == 1
    X_test, y_test = _held_out(X, y, 3, 0.25)
    assert search.best_estimator_.score(X_test, y_test) == pytest.approx(search.best_score_)
    assert search.score(X_test, y_test) == pytest.approx(search.best_score_)
    assert search.best_params_ == results["params"][search.best_index_]
    assert search.best_estimator_.get_params()["alpha"] == search.best_params_["alpha"]
    np.testing.assert_array_equal(search.predict(X_test), search.best_estimator_.predict(X_test))
    # Each model's last recorded score is that model's accuracy on the held-out rows.
    best_last = search.model_history_[results["model_id"][search.best_index_]][-1]
    assert best_last["score"] == search.best_score_ and best_last["partial_fit_calls"] == 5


def test_training_uses_every_block_and_matches_manual_partial_fit(data: tuple[object, object]) -> None:
    """A grid search of one candidate equals partial_fit by hand on the training blocks in the same order."""
    X, y = data
    search = IncrementalSearchCV(_sgd(), {"alpha": [1e-3]}, n_initial_parameters="grid", decay_rate=None,
                                 max_iter=5, random_state=4)
    search.fit(X, y, classes=[0, 1])
    rng = check_random_state(4)
    seed = int(rng.randint(2**31 - 1))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=1 / 6, random_state=seed)
    order = rng.permutation(X_train.numblocks[0])
    manual = clone(_sgd()).set_params(alpha=1e-3)
    for k in range(5):
        block = int(order[k % len(order)])
        manual.partial_fit(X_train.blocks[block].compute(), y_train.blocks[block].compute(), classes=[0, 1])
    np.testing.assert_allclose(search.best_estimator_.coef_, manual.coef_)
    assert search.best_score_ == pytest.approx(manual.score(*shoal.compute(X_test, y_test)))


def test_patience_stops_flat_models(data: tuple[object, object]) -> None:
    X, y = data
    search = IncrementalSearchCV(_sgd(), {"alpha": [10.0]}, n_initial_parameters="grid", decay_rate=None,
                                 max_iter=50, patience=3, tol=1.0, random_state=5)
    search.fit(X, y, classes=[0, 1])
    # tol=1 on accuracy: no model can improve by more, so training stops as soon as patience allows.
    assert search.cv_results_["partial_fit_calls"][0] == 3


# -- reproducibility and errors ------------------------------------------------------------------------------
def test_random_state_reproduces_results(data: tuple[object, object]) -> None:
    X, y = data

    def run(seed: int) -> HyperbandSearchCV:
        return HyperbandSearchCV(_sgd(), PARAMS, max_iter=9, random_state=seed).fit(X, y, classes=[0, 1])

    a, b, c = run(7), run(7), run(8)
    assert a.best_params_ == b.best_params_ and a.best_score_ == b.best_score_
    np.testing.assert_array_equal(a.cv_results_["test_score"], b.cv_results_["test_score"])
    assert a.cv_results_["params"] == b.cv_results_["params"]
    assert a.cv_results_["params"] != c.cv_results_["params"]


def test_bad_input_is_explained(data: tuple[object, object]) -> None:
    X, y = data
    from sklearn.svm import SVC

    with pytest.raises(ValueError, match="no partial_fit"):
        IncrementalSearchCV(SVC(), {"C": [1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="n_initial_iter must be an int"):
        SuccessiveHalvingSearchCV(_sgd(), PARAMS).fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="n_initial_parameters"):
        IncrementalSearchCV(_sgd(), PARAMS, n_initial_parameters=0).fit(X, y, classes=[0, 1])
    with pytest.warns(UserWarning, match="patience=True"):
        HyperbandSearchCV(_sgd(), PARAMS, max_iter=9, patience=1).fit(X, y, classes=[0, 1])

"""Incremental hyper-parameter searches: models trained with ``partial_fit`` on the row blocks of shoal arrays.

Mirrors ``dask_ml.model_selection`` (``IncrementalSearchCV``, ``InverseDecaySearchCV``,
``SuccessiveHalvingSearchCV``, ``HyperbandSearchCV``; see
https://ml.dask.org/hyper-parameter-search.html). ``fit`` holds out ``test_size`` of every row
block (default: one block's worth, at most 20%) as the validation set, computed into memory once;
the training blocks are persisted. Candidates are sampled from ``parameters``
(:class:`sklearn.model_selection.ParameterSampler`, or every point of the grid with
``n_initial_parameters="grid"``), each trained by ``partial_fit`` calls, one row block per call,
and scored on the validation set; a policy decides after each score which models to train further
and which to drop. The loop, one shoal graph per round, is in :mod:`shoal.ml._incremental_engine`.

Policies:

- :class:`IncrementalSearchCV` trains every model up to ``max_iter`` calls (``decay_rate=None``),
  or, with ``decay_rate`` set (the default 1.0, as in dask-ml before 1.4), keeps the best
  ``n_initial_parameters / (1 + calls) ** decay_rate`` models: :class:`InverseDecaySearchCV`.
- :class:`SuccessiveHalvingSearchCV` trains ``n_initial_parameters`` models to ``n_initial_iter``
  calls, then keeps the best ``1 / aggressiveness`` of them and trains those ``aggressiveness``
  times longer, until one is left or ``max_iter`` is reached.
- :class:`~shoal.ml.model_selection_hyperband.HyperbandSearchCV` runs successive halving brackets
  from Hyperband's Algorithm 1 (Li et al. 2016) side by side, on one shared validation set, so their
  best scores are comparable.

Differences from dask-ml: the brackets of Hyperband share one train/validation split (dask-ml
splits again in every bracket); random draws follow ``random_state`` but not dask-ml's streams.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if

import shoal
from shoal.ml._est_blocks import as_design, as_target
from shoal.ml._incremental_engine import Info, Run, run_rounds
from shoal.ml.model_selection_search import _param_arrays
from shoal.ml.model_selection_split import train_test_split

__all__ = ["IncrementalSearchCV", "InverseDecaySearchCV", "SuccessiveHalvingSearchCV"]


def _top(info: Info, n: int) -> list[Any]:
    """The ``n`` best models by their latest score (ties: the lower id first)."""
    ranked = sorted(info, key=lambda k: (-info[k][-1]["score"], str(k)))
    return ranked[:max(n, 0)]


def _best_has(method: str) -> Any:
    def check(self: Any) -> bool:
        return hasattr(self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, method)
    return check


class _IncrementalBase(MetaEstimatorMixin, BaseEstimator):
    """Validation, the split, the candidates and the results shared by every incremental search."""

    # -- set by subclasses ------------------------------------------------------------------------------
    def _runs(self, rng: np.random.RandomState) -> list[Run]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check(self) -> None:
        name = type(self).__name__
        if not hasattr(self.estimator, "partial_fit"):
            raise ValueError(f"{name}: {type(self.estimator).__name__} has no partial_fit method; incremental "
                             f"searches train with partial_fit. Use GridSearchCV or RandomizedSearchCV instead.")
        if self.max_iter is not None and not (isinstance(self.max_iter, int | np.integer) and self.max_iter >= 1):
            raise ValueError(f"{name}: max_iter must be an int >= 1, got {self.max_iter!r}.")
        if not isinstance(self.patience, bool) and not (isinstance(self.patience, int) and self.patience >= 1):
            raise ValueError(f"{name}: patience must be False, True or an int >= 1, got {self.patience!r}.")
        # The halving searches' eta: each round keeps 1/aggressiveness of the models.
        if hasattr(self, "aggressiveness") and not self.aggressiveness > 1:
            raise ValueError(f"{name}: aggressiveness must be > 1, got {self.aggressiveness!r}.")

    def _candidates(self, n: Any, seed: int) -> list[dict[str, Any]]:
        if isinstance(n, str) and n == "grid":
            return list(ParameterGrid(self.parameters))
        if not (isinstance(n, int | np.integer) and n >= 1):
            raise ValueError(f"{type(self).__name__}: n_initial_parameters must be an int >= 1 or 'grid', got {n!r}.")
        return list(ParameterSampler(self.parameters, int(n), random_state=seed))

    def _new_run(self, adapt: Any, candidates: list[dict[str, Any]], patience: Any) -> Run:
        models = {i: clone(self.estimator).set_params(**p) for i, p in enumerate(candidates)}
        return Run(adapt=adapt, models=models, params=dict(enumerate(candidates)), max_iter=self.max_iter,
                   patience=patience, tol=self.tol)

    # -- fit --------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, **fit_params: Any) -> Any:
        """Search: split off the validation set, train and score the candidates, keep the best.

        ``fit_params`` (e.g. ``classes=``, which classifiers' ``partial_fit`` needs) reach every
        ``partial_fit`` call.
        """
        self._check()
        start = time.perf_counter()
        x = as_design(X)
        t = as_target(y, x)
        rng = check_random_state(self.random_state)
        split_seed = int(rng.randint(2**31 - 1))
        test_size = self.test_size if self.test_size is not None else min(0.2, 1 / x.numblocks[0])
        x_train, x_test, y_train, y_test = train_test_split(x, t, test_size=test_size, random_state=split_seed)
        x_train, y_train, x_test, y_test = shoal.persist(x_train, y_train, x_test, y_test)
        x_test, y_test = shoal.compute(x_test, y_test)
        if len(y_test) == 0 or any(n == 0 for n in x_train.chunks[0]):
            raise ValueError(f"{type(self).__name__}: test_size={test_size} leaves an empty validation set or an "
                             f"empty training block (blocks of {x.chunks[0]} rows); use larger blocks or another "
                             f"test_size.")
        order = rng.permutation(x_train.numblocks[0])
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        runs = self._runs(rng)
        run_rounds(runs, x_train, y_train, x_test, y_test, scorer, fit_params, order, start=start)
        self.scorer_ = scorer
        self.n_splits_ = 1
        self.multimetric_ = False
        self._finish(runs)
        return self

    def _ids(self, runs: list[Run]) -> list[list[Any]]:
        return [list(run.params) for run in runs]

    def _finish(self, runs: list[Run]) -> None:
        ids = self._ids(runs)
        rows, model_history, history, survivors = [], {}, [], {}
        for run, names in zip(runs, ids, strict=True):
            rename = dict(zip(run.params, names, strict=True))
            for old, new in rename.items():
                records = [{**r, "model_id": new, **self._record_extra(run)} for r in run.model_history[old]]
                model_history[new] = records
                history.extend(records)
                rows.append((new, run.params[old], records))
            survivors.update({rename[k]: m for k, m in run.models.items()})
        history.sort(key=lambda r: r["elapsed_wall_time"])
        fit_times = [np.array([r["partial_fit_time"] for r in recs]) for _, _, recs in rows]
        score_times = [np.array([r["score_time"] for r in recs]) for _, _, recs in rows]
        scores = np.array([recs[-1]["score"] for _, _, recs in rows])
        results: dict[str, Any] = {
            "mean_partial_fit_time": np.array([f.mean() for f in fit_times]),
            "std_partial_fit_time": np.array([f.std() for f in fit_times]),
            "mean_score_time": np.array([s.mean() for s in score_times]),
            "std_score_time": np.array([s.std() for s in score_times]),
            "test_score": scores,
            "rank_test_score": rankdata(-scores, method="min").astype(np.int32),
            "model_id": np.array([r[0] for r in rows]),
            "partial_fit_calls": np.array([recs[-1]["partial_fit_calls"] for _, _, recs in rows]),
            "params": [r[1] for r in rows],
        }
        results.update(_param_arrays([r[1] for r in rows]))
        results.update(self._extra_columns(runs))
        # The best model is the best of those the policy kept to the end, as in dask-ml.
        live = [i for i, r in enumerate(rows) if r[0] in survivors]
        best = max(live, key=lambda i: (scores[i], -i))
        self.cv_results_ = results
        self.model_history_ = model_history
        self.history_ = history
        self.best_index_ = int(best)
        self.best_score_ = float(scores[best])
        self.best_params_ = rows[best][1]
        self.best_estimator_ = survivors[rows[best][0]]

    def _record_extra(self, run: Run) -> dict[str, Any]:
        return {}

    def _extra_columns(self, runs: list[Run]) -> dict[str, Any]:
        return {}

    # -- delegation to the best model --------------------------------------------------------------------
    def score(self, X: Any, y: Any) -> float:
        """``scorer_`` of ``best_estimator_`` on ``X``, ``y`` (shoal inputs are computed first)."""
        X, y = (v.compute() if hasattr(v, "compute") else v for v in (X, y))
        return float(self.scorer_(self.best_estimator_, X, y))

    @available_if(_best_has("predict"))
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict``."""
        return self.best_estimator_.predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba``."""
        return self.best_estimator_.predict_proba(X)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function``."""
        return self.best_estimator_.decision_function(X)

    @available_if(_best_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform``."""
        return self.best_estimator_.transform(X)


# -- IncrementalSearchCV / InverseDecaySearchCV ----------------------------------------------------------
def _inverse_decay(start: int, decay_rate: float, patience: Any, fits_per_score: int) -> Any:
    """Keep the best ``start / (1 + calls) ** decay_rate`` models (dask-ml's "inverse decay")."""
    def target(t: int) -> int:
        return int(start / (1 + t) ** decay_rate)

    def adapt(info: Info) -> dict[Any, int]:
        now = next(iter(info.values()))[-1]["partial_fit_calls"] + 1
        later = now if target(now) else 1
        # Train until the target number of models changes (or fits_per_score calls, with patience).
        while target(now) == target(later) and ((decay_rate and not patience) or later - now < fits_per_score):
            later += 1
        best = _top(info, max(1, target(later)))
        if len(best) == 1:
            return {best[0]: 0}
        return {k: later - now for k in best}
    return adapt


class IncrementalSearchCV(_IncrementalBase):
    """Random (or grid) search whose candidates train with ``partial_fit`` on row blocks.

    Mirrors ``dask_ml.model_selection.IncrementalSearchCV``.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
    parameters : dict
        Lists or ``scipy.stats`` distributions to sample candidates from.
    n_initial_parameters : int or "grid"
        Candidates to sample, or every grid point.
    decay_rate : float or None
        ``None``: train every model to ``max_iter`` calls (or until ``patience``
        stops it). A number: after each score keep only the best
        ``n_initial_parameters / (1 + calls) ** decay_rate`` models.
    test_size : float, optional
        Fraction of every row block held out for validation.
    patience : int or False
        Stop a model whose score has not risen by more than ``tol`` over its last
        ``patience`` calls.
    tol : float
    fits_per_score : int
        ``partial_fit`` calls between scores when every model trains to the end.
    max_iter : int
        ``partial_fit`` calls per model at most.
    random_state : int, RandomState or None
        Seeds the split, the block order and the candidates.
    scoring : str or callable, optional
        Default: the estimator's ``score``.
    verbose, prefix
        Accepted for dask-ml compatibility; nothing is logged.

    Attributes
    ----------
    cv_results_, best_estimator_, best_params_, best_score_, best_index_, history_, model_history_, scorer_
        As in dask-ml: ``cv_results_`` has one row per model (its last score, calls and
        times); ``history_`` one record per score; ``best_estimator_`` is the trained model
        with the highest last score among those trained to the end.
    """

    def __init__(self, estimator: Any, parameters: Any, n_initial_parameters: Any = 10, decay_rate: float | None = 1.0,
                 test_size: float | None = None, patience: Any = False, tol: float = 0.001, fits_per_score: int = 1,
                 max_iter: int = 100, random_state: Any = None, scoring: Any = None, verbose: Any = False,
                 prefix: str = "") -> None:
        self.estimator = estimator
        self.parameters = parameters
        self.n_initial_parameters = n_initial_parameters
        self.decay_rate = decay_rate
        self.test_size = test_size
        self.patience = patience
        self.tol = tol
        self.fits_per_score = fits_per_score
        self.max_iter = max_iter
        self.random_state = random_state
        self.scoring = scoring
        self.verbose = verbose
        self.prefix = prefix

    def _runs(self, rng: np.random.RandomState) -> list[Run]:
        candidates = self._candidates(self.n_initial_parameters, int(rng.randint(2**31 - 1)))
        if not (isinstance(self.fits_per_score, int) and self.fits_per_score >= 1):
            raise ValueError(f"{type(self).__name__}: fits_per_score must be an int >= 1, got {self.fits_per_score!r}.")
        if self.decay_rate:
            adapt = _inverse_decay(len(candidates), float(self.decay_rate), self.patience, self.fits_per_score)
        else:
            def adapt(info: Info) -> dict[Any, int]:
                return dict.fromkeys(info, self.fits_per_score)
        return [self._new_run(adapt, candidates, self.patience)]


class InverseDecaySearchCV(IncrementalSearchCV):
    """:class:`IncrementalSearchCV` that keeps the best ``n / (1 + calls) ** decay_rate`` models.

    Mirrors ``dask_ml.model_selection.InverseDecaySearchCV``; same parameters.
    """


# -- SuccessiveHalvingSearchCV ----------------------------------------------------------------------------
def _halving(n: int, r: int, eta: float) -> Any:
    """Decision k keeps the best ``floor(n / eta**k)`` models and trains them to ``round(r * eta**k)`` calls."""
    step = 0

    def adapt(info: Info) -> dict[Any, int]:
        nonlocal step
        while True:
            keep, calls = int(math.floor(n * eta ** -step)), int(np.round(r * eta ** step))
            step += 1
            if not (step == 1 and calls == 1):  # round 0 already made the first call of every model
                break
        best = _top(info, keep)
        if not best:
            return dict.fromkeys(info, 0)
        return {k: calls - info[k][-1]["partial_fit_calls"] for k in best}
    return adapt


def simulate_halving(n: int, r: int, eta: float, max_iter: int | None) -> dict[str, int]:
    """The calls successive halving makes (no patience): ``{"partial_fit_calls", "max_iter"}``."""
    calls = [1] * n
    for k in range(10_000):
        keep, target = int(math.floor(n * eta ** -k)), int(np.round(r * eta ** k))
        if max_iter is not None:
            target = min(target, max_iter)
        for i in range(min(keep, n)):
            calls[i] = max(calls[i], target)
        if keep <= 1 or (max_iter is not None and target >= max_iter):
            break
    return {"partial_fit_calls": sum(calls), "max_iter": max(calls)}


class SuccessiveHalvingSearchCV(_IncrementalBase):
    """Successive halving: train many models briefly, keep the best fraction, train those longer.

    Mirrors ``dask_ml.model_selection.SuccessiveHalvingSearchCV``. Parameters as
    :class:`IncrementalSearchCV`, plus ``n_initial_iter`` (calls before the first decision;
    required) and ``aggressiveness`` (keep ``1 / aggressiveness`` of the models at each decision,
    and train them ``aggressiveness`` times longer). ``max_iter=None`` runs until one model is left.

    Attributes
    ----------
    metadata, metadata_ : dict
        ``n_models``, ``partial_fit_calls`` (all models together) and ``max_iter`` (the most
        calls of any model), predicted before ``fit`` and counted after it.
    """

    def __init__(self, estimator: Any, parameters: Any, n_initial_parameters: Any = 10,
                 n_initial_iter: int | None = None, max_iter: int | None = None, aggressiveness: float = 3,
                 test_size: float | None = None, patience: Any = False, tol: float = 1e-3, random_state: Any = None,
                 scoring: Any = None, verbose: Any = False, prefix: str = "") -> None:
        self.estimator = estimator
        self.parameters = parameters
        self.n_initial_parameters = n_initial_parameters
        self.n_initial_iter = n_initial_iter
        self.max_iter = max_iter
        self.aggressiveness = aggressiveness
        self.test_size = test_size
        self.patience = patience
        self.tol = tol
        self.random_state = random_state
        self.scoring = scoring
        self.verbose = verbose
        self.prefix = prefix

    def _check(self) -> None:
        super()._check()
        if not (isinstance(self.n_initial_iter, int | np.integer) and self.n_initial_iter >= 1):
            raise ValueError(f"SuccessiveHalvingSearchCV: n_initial_iter must be an int >= 1 (the partial_fit calls "
                             f"before the first decision), got {self.n_initial_iter!r}.")

    def _runs(self, rng: np.random.RandomState) -> list[Run]:
        candidates = self._candidates(self.n_initial_parameters, int(rng.randint(2**31 - 1)))
        adapt = _halving(len(candidates), int(self.n_initial_iter), self.aggressiveness)  # type: ignore[arg-type]
        return [self._new_run(adapt, candidates, self.patience)]

    def _n_models(self) -> int:
        n = self.n_initial_parameters
        return len(ParameterGrid(self.parameters)) if isinstance(n, str) and n == "grid" else int(n)

    @property
    def metadata(self) -> dict[str, int]:
        """The computation ``fit`` will do (exact without ``patience``)."""
        self._check()
        n = self._n_models()
        sim = simulate_halving(n, int(self.n_initial_iter), self.aggressiveness, self.max_iter)  # type: ignore
        return {"n_models": n, "partial_fit_calls": sim["partial_fit_calls"], "max_iter": sim["max_iter"]}

    @property
    def metadata_(self) -> dict[str, int]:
        """The computation ``fit`` did."""
        if not hasattr(self, "model_history_"):
            raise AttributeError("metadata_ is set by fit; call fit(X, y) first (metadata predicts it).")
        calls = [h[-1]["partial_fit_calls"] for h in self.model_history_.values()]
        return {"n_models": len(calls), "partial_fit_calls": sum(calls), "max_iter": max(calls)}

"""Hyper-parameter searches that run as one shoal task graph: :class:`GridSearchCV`, :class:`RandomizedSearchCV`.

The graph (built with :func:`shoal.delayed`): the data ``X``, ``y`` is one node each; each CV split
adds tasks that cut its train and test parts out of them, shared by every candidate; each
(candidate, split) pair adds one fit-and-score task that clones the estimator, sets the candidate's
parameters, fits on the split's train part and scores on its test part (and train part with
``return_train_score=True``). ``shoal.compute`` runs all of them on the current scheduler: threads
by default, the default :class:`~shoal.distributed.Client` when one is running, or ``scheduler=``.
The best candidate is then refit on all the data in the caller.

Results follow scikit-learn's ``GridSearchCV`` key for key: for the same estimator, data and
splits, the scores in ``cv_results_`` are scikit-learn's.
Mirrors ``dask_ml.model_selection.GridSearchCV``; see
https://ml.dask.org/modules/generated/dask_ml.model_selection.GridSearchCV.html.
"""

from __future__ import annotations

import numbers
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.utils.metaestimators import available_if

from shoal.array import concatenate as sa_concatenate
from shoal.array import from_delayed as sa_from_delayed
from shoal.base import compute, is_dask_collection
from shoal.delayed import delayed

__all__ = ["GridSearchCV", "RandomizedSearchCV"]


# ---------------------------------------------------------------------- tasks


def _take(data: Any, index: np.ndarray) -> Any:
    """Rows ``index`` of an array, sparse matrix, pandas object or list."""
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[index]
    if hasattr(data, "shape"):
        return data[index]
    return [data[i] for i in index]


def _split_fit_params(fit_params: Mapping[str, Any], n_samples: int, index: np.ndarray) -> dict[str, Any]:
    """Per-sample fit parameters (``sample_weight``, ...) cut to the rows of ``index``; others as they are."""
    out = {}
    for name, value in fit_params.items():
        has_rows = hasattr(value, "__len__") and not isinstance(value, str | bytes | Mapping)
        out[name] = _take(np.asarray(value) if isinstance(value, list) else value, index) \
            if has_rows and len(value) == n_samples else value
    return out


def _score(scorers: Any, estimator: Any, X: Any, y: Any) -> Any:
    if isinstance(scorers, dict):
        return {name: float(scorer(estimator, X, y)) for name, scorer in scorers.items()}
    return float(scorers(estimator, X, y))


def _fit_and_score(estimator: Any, params: dict[str, Any], X_train: Any, y_train: Any, X_test: Any, y_test: Any,
                   scorers: Any, fit_params: dict[str, Any], return_train_score: bool,
                   error_score: Any) -> dict[str, Any]:
    """One task: fit a clone with ``params`` on the train part and score it; failures become ``error_score``."""
    est = clone(estimator).set_params(**clone(params, safe=False))
    start = time.perf_counter()
    out: dict[str, Any] = {"fit_error": None}
    try:
        est.fit(X_train, **fit_params) if y_train is None else est.fit(X_train, y_train, **fit_params)
        out["fit_time"] = time.perf_counter() - start
        start = time.perf_counter()
        out["test_scores"] = _score(scorers, est, X_test, y_test)
        out["score_time"] = time.perf_counter() - start
        if return_train_score:
            out["train_scores"] = _score(scorers, est, X_train, y_train)
    except Exception:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        failed = error_score if not isinstance(scorers, dict) else dict.fromkeys(scorers, error_score)
        out.update(fit_time=time.perf_counter() - start, score_time=0.0, test_scores=failed,
                   fit_error=traceback.format_exc())
        if return_train_score:
            out["train_scores"] = failed
    return out


# ---------------------------------------------------------------------- results


def _param_arrays(candidates: list[dict[str, Any]]) -> dict[str, np.ma.MaskedArray]:
    """``param_<name>`` columns: masked where a candidate lacks the parameter, as scikit-learn builds them."""
    by_name: dict[str, dict[int, Any]] = defaultdict(dict)
    for i, params in enumerate(candidates):
        for name, value in params.items():
            by_name[f"param_{name}"][i] = value
    out = {}
    for key, values in by_name.items():
        try:
            arr = np.array(list(values.values()))
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else np.dtype(object)
        except ValueError:  # ragged sequences
            dtype = np.dtype(object)
        column = np.ma.MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
        for i, value in values.items():
            column[i] = value
        out[key] = column
    return out


def _store(results: dict[str, Any], name: str, values: list[float], n_candidates: int, n_splits: int, *,
           splits: bool = False, rank: bool = False) -> None:
    array = np.array(values, dtype=np.float64).reshape(n_candidates, n_splits)
    if splits:
        for i in range(n_splits):
            results[f"split{i}_{name}"] = array[:, i]
    means = array.mean(axis=1)
    results[f"mean_{name}"] = means
    if name.startswith(("train_", "test_")) and not np.isfinite(means).all():
        warnings.warn(f"One or more of the {name.split('_')[0]} scores are non-finite: {means}", UserWarning,
                      stacklevel=4)
    results[f"std_{name}"] = np.sqrt(((array - means[:, None]) ** 2).mean(axis=1))
    if rank:
        if np.isnan(means).all():
            ranks = np.ones_like(means, dtype=np.int32)
        else:  # failed candidates tie with the worst
            filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
            ranks = rankdata(-filled, method="min").astype(np.int32)
        results[f"rank_{name}"] = ranks


def _check_failures(outs: list[dict[str, Any]], error_score: Any) -> None:
    errors = [o["fit_error"] for o in outs if o["fit_error"] is not None]
    if not errors:
        return
    rule = "-" * 80 + "\n"
    summary = "\n".join(f"{rule}{n} fits failed with the following error:\n{e}" for e, n in Counter(errors).items())
    if len(errors) == len(outs):
        raise ValueError(f"\nAll the {len(outs)} fits failed.\nIt is very likely that your model is misconfigured.\n"
                         f"You can try to debug the error by setting error_score='raise'.\n\n"
                         f"Below are more details about the failures:\n{summary}")
    warnings.warn(f"\n{len(errors)} fits failed out of a total of {len(outs)}.\nThe score on these train-test "
                  f"partitions for these parameters will be set to {error_score}.\nIf these failures are not "
                  f"expected, you can try to debug them by setting error_score='raise'.\n\n"
                  f"Below are more details about the failures:\n{summary}", FitFailedWarning, stacklevel=3)


# ---------------------------------------------------------------------- estimators


def _estimator_has(attr: str) -> Callable[[Any], bool]:
    def check(self: Any) -> bool:
        est = getattr(self, "best_estimator_", self.estimator)
        return hasattr(est, attr)

    return check


def _materialize(value: Any, scheduler: Any) -> Any:
    return compute(value, scheduler=scheduler)[0] if is_dask_collection(value) else value


def _blockwise(method: Callable[..., Any], X: Any) -> Any:
    """Apply a fitted estimator's method to each row block of a shoal array or partition of a dataframe.

    The result is a lazy shoal array; one row of the input is run through ``method`` now to learn
    the output's width and dtype.
    """
    if not hasattr(X, "chunks"):  # dataframes keep their columns, so feature names still match
        lengths = [int(n) for n in compute(X.map_partitions(len))[0]]
        sample = np.asarray(method(X.head(1, npartitions=-1)))
        apply = delayed(method, pure=True)
        pieces = [sa_from_delayed(apply(part), shape=(n, *sample.shape[1:]), dtype=sample.dtype)
                  for part, n in zip(X.to_delayed(), lengths, strict=True)]
        return sa_concatenate(pieces, axis=0)
    if X.ndim == 2 and X.numblocks[1] != 1:
        X = X.rechunk({1: X.shape[1]})
    sample = np.asarray(method(np.asarray(X[:1].compute())))
    if sample.ndim == 1:
        return X.map_blocks(method, drop_axis=1 if X.ndim == 2 else None, dtype=sample.dtype,
                            meta=np.empty((0,), sample.dtype))
    return X.map_blocks(method, chunks=(X.chunks[0], *[(n,) for n in sample.shape[1:]]), dtype=sample.dtype,
                        meta=np.empty((0,) * sample.ndim, sample.dtype))


class _SearchCV(MetaEstimatorMixin, BaseEstimator):
    """What both searches share; subclasses say which candidates to try (:meth:`_candidates`)."""

    def __init__(self, estimator: Any, *, scoring: Any = None, refit: Any = True, cv: Any = None,
                 error_score: Any = np.nan, return_train_score: bool = False, scheduler: Any = None,
                 n_jobs: int | None = None) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.scheduler = scheduler
        self.n_jobs = n_jobs

    def _candidates(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _scorers(self) -> tuple[Any, bool]:
        scoring = self.scoring
        if scoring is None or isinstance(scoring, str) or callable(scoring):
            return check_scoring(self.estimator, scoring=scoring), False
        if isinstance(scoring, list | tuple | set):
            scorers = {name: get_scorer(name) for name in scoring}
        elif isinstance(scoring, dict):
            scorers = {name: get_scorer(s) if isinstance(s, str) else s for name, s in scoring.items()}
        else:
            raise ValueError(f"scoring={scoring!r} is not understood: pass None, a scorer name such as "
                             f"'accuracy', a callable scorer(estimator, X, y), or a list/dict of them.")
        refit = self.refit
        if refit is not False and not callable(refit) and not (isinstance(refit, str) and refit in scorers):
            raise ValueError(f"For multi-metric scoring, the parameter refit must be set to a scorer key or a "
                             f"callable to refit an estimator with the best parameter setting on the whole "
                             f"data and make the best_* attributes available for that metric. If this is not "
                             f"needed, refit should be set to False explicitly. {refit!r} was passed.")
        return scorers, True

    def _check_error_score(self) -> None:
        if not (isinstance(self.error_score, numbers.Number) or self.error_score == "raise"):
            raise ValueError(f"error_score must be the string 'raise' or a numeric value, got "
                             f"{self.error_score!r}. (Hint: np.nan keeps failed fits out of the ranking.)")

    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> _SearchCV:
        """Fit every candidate on every CV split as one task graph, then refit the best on all of ``X``.

        Parameters
        ----------
        X : array-like, pandas or shoal collection of shape (n_samples, n_features)
            Shoal collections are computed first: each fit needs its rows in memory.
        y : array-like, optional
        groups : array-like, optional
            Group labels for group-aware splitters such as ``GroupKFold``.
        **fit_params
            Passed to the estimator's ``fit``; per-sample ones are cut to each split's rows.

        Returns
        -------
        self
        """
        self._check_error_score()
        X, y, groups = (_materialize(v, self.scheduler) for v in (X, y, groups))
        scorers, multimetric = self._scorers()
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        candidates = self._candidates()
        if not candidates:
            raise ValueError(f"{type(self).__name__} has no candidate parameters to try: the parameter "
                             f"grid or distributions are empty.")
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)

        X_node, y_node = delayed(X, traverse=False), delayed(y, traverse=False)
        take = delayed(_take, pure=True)
        fit_and_score = delayed(_fit_and_score, pure=False)
        parts = [(take(X_node, train), take(y_node, train), take(X_node, test), take(y_node, test),
                  _split_fit_params(fit_params, n_samples, train)) for train, test in splits]
        tasks = [fit_and_score(self.estimator, params, *part[:4], scorers, part[4], self.return_train_score,
                               self.error_score)
                 for params in candidates for part in parts]
        outs = list(compute(*tasks, scheduler=self.scheduler))
        _check_failures(outs, self.error_score)

        n_candidates, n_splits = len(candidates), len(splits)
        results: dict[str, Any] = {}
        _store(results, "fit_time", [o["fit_time"] for o in outs], n_candidates, n_splits)
        _store(results, "score_time", [o["score_time"] for o in outs], n_candidates, n_splits)
        results.update(_param_arrays(candidates))
        results["params"] = candidates
        names = list(scorers) if multimetric else ["score"]
        for name in names:
            pick = (lambda s, name=name: s[name]) if multimetric else (lambda s: s)
            _store(results, f"test_{name}", [pick(o["test_scores"]) for o in outs], n_candidates, n_splits,
                   splits=True, rank=True)
            if self.return_train_score:
                _store(results, f"train_{name}", [pick(o["train_scores"]) for o in outs], n_candidates,
                       n_splits, splits=True)

        self.cv_results_ = results
        self.multimetric_ = multimetric
        self.scorer_ = scorers
        self.n_splits_ = n_splits
        refit_metric = self.refit if multimetric else "score"
        if self.refit or not multimetric:
            if callable(self.refit):
                self.best_index_ = int(self.refit(results))
                if not 0 <= self.best_index_ < n_candidates:
                    raise IndexError(f"The refit callable returned best_index_={self.best_index_}, outside "
                                     f"the {n_candidates} candidates of cv_results_.")
            else:
                self.best_index_ = int(results[f"rank_test_{refit_metric}"].argmin())
                self.best_score_ = float(results[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = candidates[self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
            start = time.perf_counter()
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    # -------------------------------------------------------------- delegation to best_estimator_

    def _fitted(self, method: str) -> Any:
        if not hasattr(self, "best_estimator_"):
            raise NotFittedError(f"This {type(self).__name__} has no best_estimator_ to call {method}() on: "
                                 f"call fit(X, y) first, with refit=True (or a metric name).")
        return getattr(self.best_estimator_, method)

    def _apply(self, method: str, X: Any) -> Any:
        fn = self._fitted(method)
        if is_dask_collection(X) and (hasattr(X, "chunks") or hasattr(X, "to_dask_array")):
            return _blockwise(fn, X)
        return fn(X)

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict``; block by block (lazily) on a shoal array or dataframe."""
        return self._apply("predict", X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba``; block by block on shoal collections."""
        return self._apply("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba``; block by block on shoal collections."""
        return self._apply("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function``; block by block on shoal collections."""
        return self._apply("decision_function", X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform``; block by block on shoal collections."""
        return self._apply("transform", X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform``; block by block on shoal collections."""
        return self._apply("inverse_transform", X)

    def score(self, X: Any, y: Any = None) -> float:
        """The refit metric of ``best_estimator_`` on ``X``, ``y`` (computed first when shoal collections)."""
        self._fitted("fit")
        X, y = _materialize(X, self.scheduler), _materialize(y, self.scheduler)
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return float(scorer(self.best_estimator_, X, y))

    @property
    def classes_(self) -> Any:
        return self._fitted("classes_")

    @property
    def n_features_in_(self) -> int:
        return self._fitted("n_features_in_")  # type: ignore[no-any-return]


class GridSearchCV(_SearchCV):
    """Exhaustive search over a parameter grid, all fits as one shoal task graph.

    Parameters
    ----------
    estimator : scikit-learn estimator
    param_grid : dict or list of dicts
        As for :class:`sklearn.model_selection.GridSearchCV`.
    scoring : str, callable, list or dict, optional
        One metric (name or ``scorer(estimator, X, y)``) or several (then ``refit`` names the one that
        picks the best candidate).
    refit : bool, str or callable
        Refit the best candidate on all the data (``best_estimator_``).
    cv : int, splitter or iterable, optional
        As for scikit-learn (default 5-fold; stratified for classifiers).
    error_score : 'raise' or float
        ``'raise'`` re-raises a failing fit; a number becomes that split's score (with a
        ``FitFailedWarning``).
    return_train_score : bool
        Also score each fit on its train part.
    scheduler : str, Client or executor, optional
        Where the graph runs; default: the running default Client, else threads.
    n_jobs : int, optional
        Accepted for compatibility; the scheduler decides the parallelism.

    Attributes
    ----------
    cv_results_, best_params_, best_score_, best_index_, best_estimator_, scorer_, n_splits_,
    multimetric_, refit_time_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``dask_ml.model_selection.GridSearchCV``; differences: the CV splits are not cached
    across pipeline stages, and the refit runs in the caller.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3, scheduler="sync").fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
    """

    def __init__(self, estimator: Any, param_grid: Any, *, scoring: Any = None, refit: Any = True, cv: Any = None,
                 error_score: Any = np.nan, return_train_score: bool = False, scheduler: Any = None,
                 n_jobs: int | None = None) -> None:
        super().__init__(estimator, scoring=scoring, refit=refit, cv=cv, error_score=error_score,
                         return_train_score=return_train_score, scheduler=scheduler, n_jobs=n_jobs)
        self.param_grid = param_grid

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterGrid(self.param_grid))


class RandomizedSearchCV(_SearchCV):
    """Search over ``n_iter`` parameter settings sampled from distributions, as one shoal task graph.

    Parameters are those of :class:`GridSearchCV`, with ``param_distributions`` (dict or list of
    dicts of lists or ``scipy.stats`` distributions), ``n_iter`` and ``random_state`` instead of
    ``param_grid``; the same ``random_state`` samples the same candidates as scikit-learn's
    ``RandomizedSearchCV``.

    Notes
    -----
    Mirrors ``dask_ml.model_selection.RandomizedSearchCV``.
    """

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10, random_state: Any = None,
                 scoring: Any = None, refit: Any = True, cv: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False, scheduler: Any = None, n_jobs: int | None = None) -> None:
        super().__init__(estimator, scoring=scoring, refit=refit, cv=cv, error_score=error_score,
                         return_train_score=return_train_score, scheduler=scheduler, n_jobs=n_jobs)
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state

    def _candidates(self) -> list[dict[str, Any]]:
        return list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))


"""Ensembles of one estimator per row block; mirrors ``dask_ml.ensemble``.

``fit`` clones the estimator once per row block of ``X`` and fits every clone on its own block,
in parallel, one task each (no data moves between blocks). Predictions combine the sub-estimators
row block by row block, lazily: the mean for :class:`BlockwiseVotingRegressor`, a majority vote
(``voting="hard"``) or the argmax of the mean probabilities (``voting="soft"``) for
:class:`BlockwiseVotingClassifier`, exactly as ``sklearn.ensemble.VotingClassifier`` combines
fitted estimators.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone

import shoal
from shoal.delayed import delayed
from shoal.ml._est_blocks import as_design, as_rows, as_target, map_rows
from shoal.ml._prep_encoders import block_uniques

__all__ = ["BlockwiseVotingClassifier", "BlockwiseVotingRegressor"]


def _fit_one(estimator: Any, x: np.ndarray, y: np.ndarray, kwargs: dict[str, Any]) -> Any:
    return clone(estimator).fit(x, y, **kwargs)


def _fit_blocks(estimator: Any, X: Any, y: Any, kwargs: dict[str, Any]) -> tuple[list[Any], Any, Any]:
    x = as_design(X)
    t = as_target(y, x)
    fits = [delayed(_fit_one)(estimator, xb, yb, kwargs)
            for xb, yb in zip(x.to_delayed().ravel(), t.to_delayed().ravel(), strict=True)]
    return list(shoal.compute(*fits)), x, t


def _mean_prediction(block: np.ndarray, estimators: list[Any]) -> np.ndarray:
    return np.mean([est.predict(block) for est in estimators], axis=0)


def _hard_vote(block: np.ndarray, estimators: list[Any], classes: np.ndarray) -> np.ndarray:
    votes = np.stack([np.searchsorted(classes, est.predict(block)) for est in estimators], axis=1)
    winner = np.apply_along_axis(lambda v: np.argmax(np.bincount(v, minlength=len(classes))), 1, votes)
    return classes[winner] if len(block) else classes[:0]


def _soft_proba(block: np.ndarray, estimators: list[Any], classes: np.ndarray) -> np.ndarray:
    total = np.zeros((len(block), len(classes)))
    for est in estimators:
        # A block may not have seen every class: put its columns where they belong in ``classes``.
        total[:, np.searchsorted(classes, est.classes_)] += est.predict_proba(block)
    return total / len(estimators)


def _soft_vote(block: np.ndarray, estimators: list[Any], classes: np.ndarray) -> np.ndarray:
    return classes[np.argmax(_soft_proba(block, estimators, classes), axis=1)]


class BlockwiseVotingRegressor(RegressorMixin, BaseEstimator):
    """A regressor fitted once per row block; predicts the mean of the sub-estimators' predictions.

    Parameters
    ----------
    estimator : scikit-learn regressor
        Cloned and fitted on every row block of ``X``.

    Attributes
    ----------
    estimators_ : list
        The fitted clones, one per row block.
    n_features_in_ : int

    Notes
    -----
    Mirrors ``dask_ml.ensemble.BlockwiseVotingRegressor``. The row blocks are ``X``'s own chunks
    (rechunk ``X`` first to choose them); ``y`` is cut at the same rows.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> from sklearn.linear_model import LinearRegression
    >>> X = sa.from_array(np.arange(8.0).reshape(-1, 1), chunks=4)
    >>> y = sa.from_array(2 * np.arange(8.0), chunks=4)
    >>> reg = BlockwiseVotingRegressor(LinearRegression()).fit(X, y)
    >>> len(reg.estimators_), [round(float(v), 6) for v in reg.predict(X).compute()[:3]]
    (2, [0.0, 2.0, 4.0])
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, **kwargs: Any) -> BlockwiseVotingRegressor:
        """Fit a clone of ``estimator`` on every row block (``kwargs`` go to each ``fit``)."""
        self.estimators_, x, _ = _fit_blocks(self.estimator, X, y, kwargs)
        self.n_features_in_ = int(x.shape[1])
        return self

    def predict(self, X: Any) -> Any:
        """The mean of the sub-estimators' predictions (lazy for shoal input)."""
        if not hasattr(self, "estimators_"):
            raise AttributeError("This BlockwiseVotingRegressor is not fitted yet; call fit(X, y) first.")
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        return map_rows(_mean_prediction, x, lazy, self.estimators_)


class BlockwiseVotingClassifier(ClassifierMixin, BaseEstimator):
    """A classifier fitted once per row block; predicts by majority vote or mean probability.

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned and fitted on every row block of ``X``.
    voting : {"hard", "soft"}
        Majority of the predicted labels (ties go to the first class), or the class with the
        largest mean ``predict_proba``.
    classes : array-like, optional
        Every class label; by default the distinct values of ``y`` (one more pass over ``y``).

    Attributes
    ----------
    estimators_ : list
        The fitted clones, one per row block.
    classes_ : numpy.ndarray
    n_features_in_ : int

    Notes
    -----
    Mirrors ``dask_ml.ensemble.BlockwiseVotingClassifier``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = sa.from_array(np.array([[0.0], [1.0], [9.0], [10.0]] * 2), chunks=4)
    >>> y = sa.from_array(np.array([0, 0, 1, 1] * 2), chunks=4)
    >>> clf = BlockwiseVotingClassifier(LogisticRegression(), classes=[0, 1]).fit(X, y)
    >>> clf.predict(X).compute().tolist()
    [0, 0, 1, 1, 0, 0, 1, 1]
    """

    def __init__(self, estimator: Any, voting: str = "hard", classes: Any = None) -> None:
        self.estimator = estimator
        self.voting = voting
        self.classes = classes

    def fit(self, X: Any, y: Any, **kwargs: Any) -> BlockwiseVotingClassifier:
        """Fit a clone of ``estimator`` on every row block (``kwargs`` go to each ``fit``)."""
        if self.voting not in ("hard", "soft"):
            raise ValueError(f"BlockwiseVotingClassifier: voting must be 'hard' or 'soft', got {self.voting!r}.")
        self.estimators_, x, t = _fit_blocks(self.estimator, X, y, kwargs)
        self.classes_ = np.unique(np.asarray(self.classes)) if self.classes is not None else block_uniques(t)[0]
        seen = np.unique(np.concatenate([est.classes_ for est in self.estimators_]))
        unknown = np.setdiff1d(seen, self.classes_)
        if len(unknown):
            raise ValueError(f"BlockwiseVotingClassifier: y has labels {unknown.tolist()} that are not in classes="
                             f"{self.classes_.tolist()}; add them to classes.")
        self.n_features_in_ = int(x.shape[1])
        return self

    def _rows(self, X: Any) -> tuple[Any, bool]:
        if not hasattr(self, "estimators_"):
            raise AttributeError("This BlockwiseVotingClassifier is not fitted yet; call fit(X, y) first.")
        return as_rows(X, n_features=self.n_features_in_)  # type: ignore[no-any-return]

    def predict(self, X: Any) -> Any:
        """The voted class of every row (lazy for shoal input)."""
        x, lazy = self._rows(X)
        func = _hard_vote if self.voting == "hard" else _soft_vote
        return map_rows(func, x, lazy, self.estimators_, self.classes_, dtype=self.classes_.dtype)

    def predict_proba(self, X: Any) -> Any:
        """Mean class probabilities of the sub-estimators (``voting="soft"`` only)."""
        if self.voting != "soft":
            raise AttributeError("predict_proba is not available when voting='hard'; use voting='soft'.")
        x, lazy = self._rows(X)
        return map_rows(_soft_proba, x, lazy, self.estimators_, self.classes_, n_columns=len(self.classes_))

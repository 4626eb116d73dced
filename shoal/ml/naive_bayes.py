"""Gaussian naive Bayes fitted in one pass over the row blocks.

Mirrors ``dask_ml.naive_bayes.GaussianNB`` (and scikit-learn's ``GaussianNB``,
whose attributes and predictions it reproduces). Each row block contributes,
per class present in it, the count, the mean and the sum of squared deviations
of every feature (plus the same for all rows, for ``epsilon_``); partials merge
with Chan, Golub and LeVeque's pairwise update, which is as accurate as a
two-pass variance over the whole data, so results do not depend on how the
rows are cut into blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

import shoal
from shoal.ml._est_blocks import (
    accuracy,
    as_design,
    as_rows,
    as_target,
    map_rows,
    merge_moments,
    moments,
    tree_reduce,
)

__all__ = ["GaussianNB"]


# -- the one pass ----------------------------------------------------------------------------------------
def _nb_chunk(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    classes, codes = np.unique(y, return_inverse=True)
    stats = [moments(x[codes == c]) for c in range(len(classes))]
    return {
        "classes": classes,
        "n": np.array([s[0] for s in stats]),
        "mean": np.array([s[1] for s in stats]).reshape(len(classes), x.shape[1]),
        "m2": np.array([s[2] for s in stats]).reshape(len(classes), x.shape[1]),
        "all": moments(x),
        "finite": bool(np.isfinite(x).all()),
    }


def _nb_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    classes = np.unique(np.concatenate([p["classes"] for p in parts]))
    n_features = parts[0]["mean"].shape[1]
    acc = (np.zeros(len(classes)), np.zeros((len(classes), n_features)), np.zeros((len(classes), n_features)))
    total = parts[0]["all"]
    for j, p in enumerate(parts):
        n = np.zeros(len(classes))
        mean = np.zeros((len(classes), n_features))
        m2 = np.zeros((len(classes), n_features))
        where = np.searchsorted(classes, p["classes"])
        n[where], mean[where], m2[where] = p["n"], p["mean"], p["m2"]
        acc = merge_moments(acc, (n, mean, m2))
        if j:
            total = merge_moments(total, p["all"])
    return {"classes": classes, "n": acc[0], "mean": acc[1], "m2": acc[2], "all": total,
            "finite": all(p["finite"] for p in parts)}


# -- prediction ------------------------------------------------------------------------------------------
def _joint_log_likelihood(x: np.ndarray, theta: np.ndarray, var: np.ndarray, prior: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.empty((x.shape[0], len(prior)))
    for i in range(len(prior)):
        out[:, i] = (np.log(prior[i]) - 0.5 * np.sum(np.log(2.0 * np.pi * var[i]))
                     - 0.5 * np.sum((x - theta[i]) ** 2 / var[i], axis=1))
    return out


def _log_proba(x: np.ndarray, theta: np.ndarray, var: np.ndarray, prior: np.ndarray) -> np.ndarray:
    jll = _joint_log_likelihood(x, theta, var, prior)
    top = jll.max(axis=1, keepdims=True)
    return jll - (top + np.log(np.exp(jll - top).sum(axis=1, keepdims=True)))


def _proba(x: np.ndarray, theta: np.ndarray, var: np.ndarray, prior: np.ndarray) -> np.ndarray:
    return np.exp(_log_proba(x, theta, var, prior))


def _predict(x: np.ndarray, theta: np.ndarray, var: np.ndarray, prior: np.ndarray, classes: np.ndarray) -> Any:
    return classes[np.argmax(_joint_log_likelihood(x, theta, var, prior), axis=1)]


class GaussianNB(ClassifierMixin, BaseEstimator):
    """Gaussian naive Bayes for data larger than memory.

    Mirrors ``dask_ml.naive_bayes.GaussianNB`` with scikit-learn's parameters;
    fitted attributes equal ``sklearn.naive_bayes.GaussianNB``'s on the same data.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), optional
        Prior probabilities of the classes (sorted by label); by default the
        class frequencies in ``y``.
    var_smoothing : float
        Fraction of the largest feature variance added to every variance, for
        stability.

    Attributes
    ----------
    classes_, class_count_, class_prior_ : ndarray of shape (n_classes,)
    theta_, var_ : ndarray of shape (n_classes, n_features)
        Per-class feature means and variances (``var_`` includes ``epsilon_``).
    epsilon_ : float
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.array([[0.0], [0.2], [3.0], [3.4]]), chunks=(2, 1))
    >>> y = sa.from_array(np.array([0, 0, 1, 1]), chunks=2)
    >>> nb = GaussianNB().fit(X, y)
    >>> nb.theta_.ravel().tolist(), nb.predict(np.array([[0.1], [3.1]])).tolist()
    ([0.1, 3.2], [0, 1])
    """

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9) -> None:
        self.priors = priors
        self.var_smoothing = var_smoothing

    def fit(self, X: Any, y: Any) -> GaussianNB:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` in one pass over the row blocks."""
        if not (isinstance(self.var_smoothing, int | float) and self.var_smoothing >= 0):
            raise ValueError(f"GaussianNB: var_smoothing must be a number >= 0, got {self.var_smoothing!r}.")
        x = as_design(X)
        t = as_target(y, x)
        (stats,) = shoal.compute(tree_reduce(_nb_chunk, _nb_combine, [x, t], name="gaussian-nb"))
        if not stats["finite"]:
            raise ValueError("GaussianNB.fit: X contains NaN or infinity. Drop or impute those rows first.")
        n_all, _, m2_all = stats["all"]
        self.epsilon_ = float(self.var_smoothing * np.max(m2_all / n_all))
        self.classes_ = stats["classes"]
        self.class_count_ = stats["n"]
        self.theta_ = stats["mean"]
        self.var_ = stats["m2"] / stats["n"][:, None] + self.epsilon_
        self.class_prior_ = self._checked_priors(len(self.classes_))
        self.n_features_in_ = x.shape[1]
        return self

    def _checked_priors(self, n_classes: int) -> np.ndarray:
        if self.priors is None:
            return self.class_count_ / self.class_count_.sum()
        priors = np.asarray(self.priors, dtype=np.float64)
        if priors.shape != (n_classes,):
            raise ValueError(f"GaussianNB: priors has shape {priors.shape}, but y has {n_classes} classes "
                             f"{self.classes_.tolist()}; pass one prior per class, in sorted label order.")
        if not np.isclose(priors.sum(), 1.0):
            raise ValueError(f"GaussianNB: priors must sum to 1, they sum to {priors.sum()}.")
        if (priors < 0).any():
            raise ValueError(f"GaussianNB: priors must be non-negative, got {priors.tolist()}.")
        return priors

    def _fitted(self, X: Any) -> tuple[Any, bool, tuple[np.ndarray, ...]]:
        if not hasattr(self, "theta_"):
            raise AttributeError(f"This {type(self).__name__} is not fitted yet; call fit(X, y) first.")
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        return x, lazy, (self.theta_, self.var_, self.class_prior_)

    def predict(self, X: Any) -> Any:
        """Most likely class of each row (lazy for shoal input)."""
        x, lazy, params = self._fitted(X)
        return map_rows(_predict, x, lazy, *params, self.classes_, dtype=self.classes_.dtype)

    def predict_log_proba(self, X: Any) -> Any:
        """Log-probability of each class, shape (n_samples, n_classes)."""
        x, lazy, params = self._fitted(X)
        return map_rows(_log_proba, x, lazy, *params, n_columns=len(self.classes_))

    def predict_proba(self, X: Any) -> Any:
        """Probability of each class, shape (n_samples, n_classes)."""
        x, lazy, params = self._fitted(X)
        return map_rows(_proba, x, lazy, *params, n_columns=len(self.classes_))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``."""
        return accuracy(self, X, y, sample_weight)

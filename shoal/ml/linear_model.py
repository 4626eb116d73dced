"""Linear models fitted on shoal arrays, block by block.

Mirrors ``dask_ml.linear_model`` (``LinearRegression``, ``LogisticRegression``,
``PoissonRegression``) but minimises exactly scikit-learn's objectives, so
``coef_`` and ``intercept_`` agree with ``sklearn.linear_model`` on the same
data. Every pass over the data is one tree reduction over the row blocks
(:mod:`shoal.ml._est_blocks`); only coefficients live on the client.

- ``LinearRegression`` needs one pass: a tall-and-skinny QR of ``[1, X, y]``
  whose R factors merge up the tree. Because the column of ones comes first,
  the rest of R is the R factor of the *centred* data, so the least-squares
  solution (and ``rank_``, ``singular_``) is the one scikit-learn computes on
  centred ``X``, without a separate pass for the means.
- ``LogisticRegression`` and ``PoissonRegression`` run an iterative solver
  (:mod:`shoal.ml._est_solvers`) on :class:`shoal.ml._est_glm.Objective`;
  each loss-and-gradient evaluation is one pass.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import linalg
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

import shoal
from shoal.ml import _est_solvers as solvers
from shoal.ml._est_admm import check_admm_options
from shoal.ml._est_blocks import accuracy, as_design, as_rows, as_target, map_rows, tree_reduce
from shoal.ml._est_glm import Objective

__all__ = ["LinearRegression", "LogisticRegression", "PoissonRegression"]

_SOLVERS = ("lbfgs", "admm", "newton", "gradient_descent", "proximal_grad")


# -- shared steps ----------------------------------------------------------------------------------------
def _inputs(X: Any, y: Any, sample_weight: Any, *, allow_2d: bool = False) -> tuple[Any, Any, Any]:
    x = as_design(X)
    t = as_target(y, x, allow_2d=allow_2d)
    w = None if sample_weight is None else as_target(sample_weight, x, what="sample_weight")
    return x, t, w


def _linear(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) @ coef.T + intercept


def _linear_1d(x: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) @ coef + intercept


def _r2(estimator: Any, X: Any, y: Any, sample_weight: Any) -> float:
    """Coefficient of determination, averaged over outputs (scikit-learn's ``r2_score`` default)."""
    x, lazy = as_rows(X, n_features=estimator.n_features_in_)
    pred = estimator.predict(x)
    if lazy:
        t = as_target(y, x, allow_2d=True)
        w = None if sample_weight is None else as_target(sample_weight, x, what="sample_weight")
    else:
        t = np.asarray(y, dtype=np.float64)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if t.ndim == 1:
        t, pred = t.reshape(-1, 1), pred.reshape(-1, 1)
    if w is None:
        w = t[:, 0] * 0 + 1.0
    ww = w.reshape(-1, 1)
    mean = (t * ww).sum(axis=0) / w.sum()
    ss_res, ss_tot = ((t - pred) ** 2 * ww).sum(axis=0), ((t - mean) ** 2 * ww).sum(axis=0)
    if lazy:
        ss_res, ss_tot = shoal.compute(ss_res, ss_tot)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                          np.where(ss_res > 0, 0.0, 1.0))
    return float(np.mean(scores))


def _not_fitted(estimator: Any) -> None:
    if not hasattr(estimator, "coef_"):
        raise AttributeError(f"This {type(estimator).__name__} is not fitted yet; call fit(X, y) first.")


# -- LinearRegression ------------------------------------------------------------------------------------
def _qr_chunk(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, fit_intercept: bool) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    cols = [np.ones((x.shape[0], 1))] if fit_intercept else []
    a = np.hstack(cols + [x, np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1)])
    if w is not None:
        a *= np.sqrt(np.asarray(w, dtype=np.float64))[:, None]
    return {"r": np.linalg.qr(a, mode="r"), "finite": bool(np.isfinite(a).all())}


def _qr_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    stacked = np.vstack([p["r"] for p in parts])
    return {"r": np.linalg.qr(stacked, mode="r"), "finite": all(p["finite"] for p in parts)}


class LinearRegression(RegressorMixin, BaseEstimator):
    """Ordinary least squares in one pass over the row blocks (a tall-and-skinny QR).

    Mirrors ``dask_ml.linear_model.LinearRegression`` without a penalty, i.e.
    ``sklearn.linear_model.LinearRegression``, whose ``coef_``, ``intercept_``,
    ``rank_`` and ``singular_`` it reproduces.

    Parameters
    ----------
    fit_intercept : bool
        Fit an intercept (``X`` is centred implicitly) or force it to 0.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
        ``0.0`` when ``fit_intercept=False``.
    rank_ : int
    singular_ : ndarray of shape (n_features,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.array([[0.0], [1.0], [2.0], [3.0]]), chunks=(2, 1))
    >>> lr = LinearRegression().fit(X, 1.0 + 2.0 * X[:, 0])
    >>> round(lr.intercept_, 10), lr.coef_.round(10).tolist()
    (1.0, [2.0])
    """

    def __init__(self, *, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples[, n_targets]) in one pass."""
        x, t, w = _inputs(X, y, sample_weight, allow_2d=True)
        extra = () if w is not None else (None,)
        arrays = [x, t] if w is None else [x, t, w]
        (part,) = shoal.compute(tree_reduce(_qr_chunk, _qr_combine, arrays, *extra, bool(self.fit_intercept),
                                            name="lstsq-qr"))
        if not part["finite"]:
            raise ValueError("LinearRegression.fit: X or y contains NaN or infinity. Drop or impute those rows.")
        lead, p = int(bool(self.fit_intercept)), x.shape[1]
        q = lead + p + (t.shape[1] if t.ndim == 2 else 1)
        r = np.zeros((q, q))
        r[: part["r"].shape[0]] = part["r"]
        # Rows below the ones column hold the R factor of the centred [X, y] (Gram-Schmidt against 1).
        r_x, r_y = r[lead:lead + p, lead:lead + p], r[lead:lead + p, lead + p:]
        # The rank cutoff scipy would use on the n-row centred X, so that rank_ and the solution agree.
        cutoff = np.finfo(np.float64).eps * max(x.shape[0], p)
        coef, _, self.rank_, self.singular_ = linalg.lstsq(r_x, r_y, cond=cutoff)
        coef = coef.T  # (n_targets, n_features)
        if self.fit_intercept:
            means = r[0, 1:] / r[0, 0]  # weighted column means of [X, y]
            intercept = means[p:] - coef @ means[:p]
        else:
            intercept = np.zeros(coef.shape[0])
        self.coef_ = coef[0] if t.ndim == 1 else coef
        # scikit-learn reports a plain 0.0 whenever the intercept is not fitted.
        self.intercept_ = (float(intercept[0]) if t.ndim == 1 else intercept) if self.fit_intercept else 0.0
        self.n_features_in_ = p
        return self

    def predict(self, X: Any) -> Any:
        """``X @ coef_.T + intercept_`` (lazy for shoal input)."""
        _not_fitted(self)
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        if self.coef_.ndim == 1:
            return map_rows(_linear_1d, x, lazy, self.coef_, self.intercept_)
        return map_rows(_linear, x, lazy, self.coef_, self.intercept_, n_columns=self.coef_.shape[0])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the predictions (averaged over targets)."""
        _not_fitted(self)
        return _r2(self, X, y, sample_weight)


# -- GLMs fitted by iterative solvers --------------------------------------------------------------------
def _scan_chunk(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, labels: bool) -> dict[str, Any]:
    y = np.asarray(y)
    if labels and y.dtype.kind == "f" and not np.array_equal(y, np.round(y)):
        raise ValueError("LogisticRegression.fit: y holds continuous values (e.g. 0.5); it must hold class "
                         "labels. Use LinearRegression or PoissonRegression for a numeric target.")
    return {"classes": np.unique(y) if labels else np.empty(0),
            "weight": float(len(y) if w is None else np.sum(w)),
            "finite": bool(np.isfinite(np.asarray(x, dtype=np.float64)).all()),
            "y_min": float(np.min(y)) if y.dtype.kind in "biuf" and len(y) else np.inf}


def _scan_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"classes": np.unique(np.concatenate([p["classes"] for p in parts])),
            "weight": sum(p["weight"] for p in parts), "finite": all(p["finite"] for p in parts),
            "y_min": min(p["y_min"] for p in parts)}


class _GLM(BaseEstimator):
    """Parameters, checks and the solver loop shared by the iterative linear models."""

    _family = "binomial"

    def __init__(self, *, penalty: str | None = "l2", C: float = 1.0, fit_intercept: bool = True,
                 max_iter: int = 100, tol: float = 1e-4, solver: str = "lbfgs",
                 solver_kwargs: dict[str, Any] | None = None) -> None:
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.solver_kwargs = solver_kwargs

    def _check_params(self) -> tuple[str, str]:
        name = type(self).__name__
        penalty = "none" if self.penalty is None else self.penalty
        if penalty not in ("l1", "l2", "none"):
            raise ValueError(f"{name}: penalty must be 'l2', 'l1' or 'none', got {self.penalty!r}.")
        if self.solver not in _SOLVERS:
            raise ValueError(f"{name}: solver must be one of {_SOLVERS}, got {self.solver!r}.")
        if penalty == "l1" and self.solver not in ("proximal_grad", "admm"):
            raise ValueError(f"{name}: penalty='l1' is not smooth; use solver='proximal_grad' or 'admm' "
                             f"(got solver={self.solver!r}).")
        if not self.C > 0:
            raise ValueError(f"{name}: C must be > 0 (it is the inverse of the penalty strength), got {self.C!r}.")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ValueError(f"{name}: max_iter must be an int >= 1, got {self.max_iter!r}.")
        if not self.tol >= 0:
            raise ValueError(f"{name}: tol must be >= 0, got {self.tol!r}.")
        return penalty, self.solver

    def _solve(self, objective: Objective, penalty: str) -> solvers.Result:
        kwargs = dict(self.solver_kwargs or {})
        w0 = objective.initial()
        if self.solver == "admm":
            # ADMM works on the summed loss, where scikit-learn's penalty is ||coef||^2 / (2 C).
            strength = 1.0 / self.C
            return solvers.admm(objective, l2=strength if penalty == "l2" else 0.0,
                                l1=strength if penalty == "l1" else 0.0, max_iter=self.max_iter,
                                **check_admm_options(kwargs))
        if self.solver == "lbfgs":
            return solvers.lbfgs(objective.fun_grad, w0, tol=self.tol, max_iter=self.max_iter, **kwargs)
        if self.solver == "gradient_descent":
            return solvers.gradient_descent(objective.fun_grad, w0, tol=self.tol, max_iter=self.max_iter)
        if self.solver == "newton":
            return solvers.newton(objective.fun_grad_hess, objective.fun_grad, w0, tol=self.tol,
                                  max_iter=self.max_iter)
        l1 = objective.coef_mask() / (self.C * objective.total_weight) if penalty == "l1" else w0 * 0
        return solvers.proximal_grad(objective.fun_grad, w0, l1=l1, tol=self.tol, max_iter=self.max_iter)

    def _fit_glm(self, X: Any, y: Any, sample_weight: Any) -> tuple[Objective, np.ndarray, dict[str, Any]]:
        penalty, _ = self._check_params()
        x, t, w = _inputs(X, y, sample_weight)
        extra = () if w is not None else (None,)
        arrays = [x, t] if w is None else [x, t, w]
        labels = self._family == "binomial"
        (info,) = shoal.compute(tree_reduce(_scan_chunk, _scan_combine, arrays, *extra, labels, name="glm-scan"))
        if not info["finite"]:
            raise ValueError(f"{type(self).__name__}.fit: X contains NaN or infinity. Drop or impute those rows.")
        family = self._family
        classes = None
        if family == "binomial":
            classes = info["classes"]
            if len(classes) < 2:
                raise ValueError(f"{type(self).__name__}.fit needs samples of at least 2 classes, but y holds "
                                 f"only {classes.tolist()}.")
            if len(classes) > 2:
                family = "multinomial"
        elif info["y_min"] < 0:
            raise ValueError(f"{type(self).__name__}.fit: y must be non-negative counts, its minimum is "
                             f"{info['y_min']}.")
        l2 = 1.0 / self.C if penalty == "l2" else 0.0
        objective = Objective(x, t, w, family=family, classes=classes, fit_intercept=bool(self.fit_intercept),
                              l2=l2, total_weight=info["weight"])
        result = self._solve(objective, penalty)
        if not result.converged:
            warnings.warn(f"{type(self).__name__} (solver={self.solver!r}) did not converge in "
                          f"max_iter={self.max_iter} iterations; increase max_iter or scale the data.",
                          ConvergenceWarning, stacklevel=3)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.n_features_in_ = x.shape[1]
        return objective, result.x, info

    def _rows(self, X: Any) -> tuple[Any, bool]:
        _not_fitted(self)
        return as_rows(X, n_features=self.n_features_in_)


def _binary_proba(x: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    p = expit(_linear_1d(x, coef, intercept))
    return np.column_stack([1.0 - p, p])


def _multi_proba(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return softmax(_linear(x, coef, intercept), axis=1)


def _binary_label(x: np.ndarray, coef: np.ndarray, intercept: float, classes: np.ndarray) -> np.ndarray:
    return classes[(_linear_1d(x, coef, intercept) > 0).astype(np.intp)]


def _multi_label(x: np.ndarray, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[np.argmax(_linear(x, coef, intercept), axis=1)]


class LogisticRegression(ClassifierMixin, _GLM):
    """Logistic regression (binary, or multinomial for 3+ classes) for data larger than memory.

    Mirrors ``dask_ml.linear_model.LogisticRegression``; the objective is
    scikit-learn's, so ``coef_`` agrees with ``sklearn.linear_model.LogisticRegression``.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'none'} or None
        ``'l1'`` needs ``solver='proximal_grad'`` or ``'admm'``.
    C : float
        Inverse penalty strength: the objective is ``C * sum(loss) + penalty(coef)``.
    fit_intercept : bool
    max_iter : int
        Iterations of the solver (each costs at least one pass over the data).
    tol : float
        Stop when the largest gradient component of the mean objective is below ``tol``.
    solver : {'lbfgs', 'admm', 'newton', 'gradient_descent', 'proximal_grad'}
        ``'admm'`` is dask-ml's default, consensus ADMM with one local SciPy
        solve per row block and iteration (:mod:`shoal.ml._est_admm`); with
        dask-glm's tolerances it stops about 1e-3 from the optimum, so the
        default here stays ``'lbfgs'``, which reaches scikit-learn's
        coefficients. ``tol`` does not apply to ADMM.
    solver_kwargs : dict, optional
        Extra options for SciPy's L-BFGS-B, or for ADMM ``rho`` (1.0),
        ``over_relax`` (1.0), ``abstol`` (1e-4) and ``reltol`` (1e-2).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,)

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.array([[-2.0], [-1.0], [1.0], [2.0]]), chunks=(2, 1))
    >>> y = sa.from_array(np.array([0, 0, 1, 1]), chunks=2)
    >>> clf = LogisticRegression().fit(X, y)
    >>> clf.predict(X).compute().tolist()
    [0, 0, 1, 1]
    """

    _family = "binomial"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit on ``X`` (n_samples, n_features) and labels ``y``; each solver step is a pass."""
        objective, beta, info = self._fit_glm(X, y, sample_weight)
        self.classes_ = info["classes"]
        coef, intercept = objective.split(beta)
        if objective.family == "multinomial" and self.fit_intercept:
            intercept -= intercept.mean()  # the softmax is blind to a common shift; report the centred one
        self.coef_, self.intercept_ = coef, intercept
        return self

    def decision_function(self, X: Any) -> Any:
        """Linear scores: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        x, lazy = self._rows(X)
        if len(self.classes_) == 2:
            return map_rows(_linear_1d, x, lazy, self.coef_[0], float(self.intercept_[0]))
        return map_rows(_linear, x, lazy, self.coef_, self.intercept_, n_columns=len(self.classes_))

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes)."""
        x, lazy = self._rows(X)
        if len(self.classes_) == 2:
            return map_rows(_binary_proba, x, lazy, self.coef_[0], float(self.intercept_[0]), n_columns=2)
        return map_rows(_multi_proba, x, lazy, self.coef_, self.intercept_, n_columns=len(self.classes_))

    def predict_log_proba(self, X: Any) -> Any:
        """Logarithm of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        return np.log(proba)

    def predict(self, X: Any) -> Any:
        """Most likely class of each row (lazy for shoal input)."""
        x, lazy = self._rows(X)
        if len(self.classes_) == 2:
            return map_rows(_binary_label, x, lazy, self.coef_[0], float(self.intercept_[0]), self.classes_,
                            dtype=self.classes_.dtype)
        return map_rows(_multi_label, x, lazy, self.coef_, self.intercept_, self.classes_,
                        dtype=self.classes_.dtype)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of :meth:`predict`."""
        _not_fitted(self)
        return accuracy(self, X, y, sample_weight)


def _poisson_mean(x: np.ndarray, coef: np.ndarray, intercept: float) -> np.ndarray:
    return np.exp(_linear_1d(x, coef, intercept))


class PoissonRegression(RegressorMixin, _GLM):
    """Poisson regression (log link) for counts; same parameters as :class:`LogisticRegression`.

    Minimises ``mean(exp(z) - y z) + ||coef||^2 / (2 C n)``: the same model as
    ``sklearn.linear_model.PoissonRegressor(alpha=1 / (C * n_samples))``.
    """

    _family = "poisson"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PoissonRegression:
        """Fit on ``X`` (n_samples, n_features) and non-negative counts ``y``."""
        objective, beta, _ = self._fit_glm(X, y, sample_weight)
        coef, intercept = objective.split(beta)
        self.coef_, self.intercept_ = coef[0], float(intercept[0])
        return self

    def predict(self, X: Any) -> Any:
        """Expected counts ``exp(X @ coef_ + intercept_)``."""
        x, lazy = self._rows(X)
        return map_rows(_poisson_mean, x, lazy, self.coef_, self.intercept_)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the predicted means (scikit-learn's ``RegressorMixin.score``)."""
        _not_fitted(self)
        return _r2(self, X, y, sample_weight)

"""Per-block losses of the generalised linear models, and the objective that sums them.

The parameters ``beta`` are one flat vector. For a single linear predictor
(binary logistic, Poisson) it is ``[coef_0 .. coef_{p-1}, intercept]``; for the
softmax it is the C-order ravel of a ``(n_classes, p + 1)`` matrix whose rows
are ``[coef_k, intercept_k]`` (no intercept column when ``fit_intercept`` is
false). Every block returns the *sums* over its rows of the (weighted) loss,
its gradient and, for Newton, its Hessian; :class:`Objective` divides by the
total weight and adds the penalty, giving exactly scikit-learn's objective::

    mean_w(loss) + 1 / (2 C sum(w)) * ||coef||^2        (penalty="l2")

whose minimiser is that of ``C * sum(w * loss) + ||coef||^2 / 2``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import expit, logsumexp

import shoal
from shoal.array import Array
from shoal.ml._est_blocks import tree_reduce

__all__ = ["Objective", "sum_parts"]

Family = Literal["binomial", "multinomial", "poisson"]


def sum_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine step of every GLM pass: the partials are sums, so add them key by key."""
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def _augmented(x: np.ndarray, fit_intercept: bool) -> np.ndarray:
    return np.hstack([x, np.ones((x.shape[0], 1))]) if fit_intercept else x


def _hessian(xa: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    return xa.T @ (xa * curvature[:, None])


def _glm_chunk(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, family: Family, classes: np.ndarray | None,
               beta: np.ndarray, fit_intercept: bool, hessian: bool) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    n, p = x.shape
    weights = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    xa = _augmented(x, fit_intercept)
    out: dict[str, Any] = {"weight": weights.sum()}
    if family == "multinomial":
        assert classes is not None
        k = len(classes)
        coefs = beta.reshape(k, -1)
        z = xa @ coefs.T
        codes = np.searchsorted(classes, y)
        lse = logsumexp(z, axis=1)
        rows = np.arange(n)
        out["loss"] = weights @ (lse - z[rows, codes])
        prob = np.exp(z - lse[:, None])
        resid = prob.copy()
        resid[rows, codes] -= 1.0
        out["grad"] = ((resid * weights[:, None]).T @ xa).ravel()
        if hessian:
            q = xa.shape[1]
            h = np.zeros((k, q, k, q))
            for a in range(k):
                for b in range(a, k):
                    c = -prob[:, a] * prob[:, b] + (prob[:, a] if a == b else 0.0)
                    h[a, :, b, :] = _hessian(xa, c * weights)
                    h[b, :, a, :] = h[a, :, b, :].T
            out["hess"] = h.reshape(k * q, k * q)
        return out
    z = xa @ beta
    if family == "binomial":
        assert classes is not None
        t = (np.asarray(y) == classes[1]).astype(np.float64)
        out["loss"] = weights @ (np.logaddexp(0.0, z) - t * z)
        mu = expit(z)
        curvature = mu * (1.0 - mu)
    else:  # poisson, log link: loss exp(z) - y z (the deviance up to terms without beta)
        t = np.asarray(y, dtype=np.float64)
        mu = np.exp(z)
        out["loss"] = weights @ (mu - t * z)
        curvature = mu
    out["grad"] = xa.T @ ((mu - t) * weights)
    if hessian:
        out["hess"] = _hessian(xa, curvature * weights)
    return out


class Objective:
    """The penalised mean loss of a GLM over shoal row blocks; each call is one pass.

    Parameters
    ----------
    x, y, w : shoal arrays
        Samples, targets and optional sample weights, cut at the same rows.
    family : {"binomial", "multinomial", "poisson"}
    classes : ndarray, optional
        Sorted labels (classification only).
    l2 : float
        ``1 / C``, or 0 for no penalty.
    """

    def __init__(self, x: Array, y: Array, w: Array | None, *, family: Family, classes: np.ndarray | None,
                 fit_intercept: bool, l2: float, total_weight: float) -> None:
        self.arrays = [x, y] if w is None else [x, y, w]
        self.has_weights = w is not None
        self.family: Family = family
        self.classes = classes
        self.fit_intercept = fit_intercept
        self.n_features = x.shape[1]
        self.n_outputs = len(classes) if family == "multinomial" and classes is not None else 1
        self.total_weight = total_weight
        #: Per-parameter L2 strength on the mean-loss scale; 0 on intercepts, which are not penalised.
        self.penalty = (l2 / total_weight) * self.coef_mask()
        self.passes = 0  #: data passes run so far (a diagnostic)

    def coef_mask(self) -> np.ndarray:
        """1.0 where ``beta`` holds a coefficient, 0.0 where it holds an intercept."""
        row = np.r_[np.ones(self.n_features), np.zeros(int(self.fit_intercept))]
        return np.tile(row, self.n_outputs)

    def initial(self) -> np.ndarray:
        return np.zeros(self.n_outputs * (self.n_features + int(self.fit_intercept)))

    def _pass(self, beta: np.ndarray, hessian: bool) -> dict[str, Any]:
        extra = () if self.has_weights else (None,)
        delayed = tree_reduce(_glm_chunk, sum_parts, self.arrays, *extra, self.family, self.classes,
                              np.asarray(beta, dtype=np.float64), self.fit_intercept, hessian, name="glm-pass")
        self.passes += 1
        (part,) = shoal.compute(delayed)
        return part  # type: ignore[no-any-return]

    def fun_grad(self, beta: np.ndarray) -> tuple[float, np.ndarray]:
        part = self._pass(beta, hessian=False)
        f = part["loss"] / self.total_weight + 0.5 * float(beta @ (self.penalty * beta))
        return float(f), part["grad"] / self.total_weight + self.penalty * beta

    def fun_grad_hess(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        part = self._pass(beta, hessian=True)
        f = part["loss"] / self.total_weight + 0.5 * float(beta @ (self.penalty * beta))
        g = part["grad"] / self.total_weight + self.penalty * beta
        return float(f), g, part["hess"] / self.total_weight + np.diag(self.penalty)

    def split(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(coef, intercept)`` of shapes ``(n_outputs, p)`` and ``(n_outputs,)``."""
        rows = beta.reshape(self.n_outputs, -1)
        coef = rows[:, : self.n_features].copy()
        intercept = rows[:, self.n_features].copy() if self.fit_intercept else np.zeros(self.n_outputs)
        return coef, intercept

"""Smooth convex minimisers whose every evaluation is one pass over the data.

Each solver receives ``fun_grad(w) -> (f, g)`` (and Newton ``fun_grad_hess``),
where one call runs one tree reduction over the row blocks
(:func:`shoal.ml._est_blocks.tree_reduce`); the parameters ``w`` are a small
NumPy vector kept on the client. The solvers therefore count **passes**, not
iterations, as their cost, and all stop on the same criterion as SciPy's
L-BFGS-B as scikit-learn uses it: the largest absolute gradient component at
most ``tol`` (the objective is the mean loss, so ``tol`` does not grow with the
number of rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from shoal.ml._est_admm import consensus_admm

__all__ = ["Result", "admm", "gradient_descent", "lbfgs", "newton", "proximal_grad"]

FunGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True, slots=True)
class Result:
    """What a solver found."""

    x: np.ndarray  #: the parameters at the end
    n_iter: int  #: iterations (not passes) run
    converged: bool  #: whether the stopping criterion was met within max_iter


def lbfgs(fun_grad: FunGrad, w0: np.ndarray, *, tol: float, max_iter: int, **options: Any) -> Result:
    """SciPy's L-BFGS-B with scikit-learn's settings (``gtol=tol``, ``ftol=64 eps``)."""
    opts = {"maxiter": max_iter, "gtol": tol, "ftol": 64 * np.finfo(float).eps, **options}
    res = minimize(fun_grad, w0, method="L-BFGS-B", jac=True, options=opts)
    return Result(res.x, int(res.nit), bool(res.success))


def admm(objective: Any, **options: Any) -> Result:
    """Consensus ADMM over the row blocks (one pass per iteration); see :mod:`shoal.ml._est_admm`.

    Unlike the solvers above it needs the per-block losses, not only their sum,
    so it takes the :class:`~shoal.ml._est_glm.Objective` itself.
    """
    x, n_iter, converged = consensus_admm(objective, **options)
    return Result(x, n_iter, converged)


def _armijo(fun_grad: FunGrad, w: np.ndarray, f: float, g: np.ndarray, direction: np.ndarray,
            step: float) -> tuple[np.ndarray, float, np.ndarray, float]:
    """Backtrack from ``step`` along ``direction`` until the objective falls enough (Armijo, c=1e-4)."""
    slope = float(g @ direction)
    for _ in range(60):
        w_new = w + step * direction
        f_new, g_new = fun_grad(w_new)
        if np.isfinite(f_new) and f_new <= f + 1e-4 * step * slope:
            return w_new, f_new, g_new, step
        step /= 2
    return w, f, g, 0.0


def gradient_descent(fun_grad: FunGrad, w0: np.ndarray, *, tol: float, max_iter: int) -> Result:
    """Gradient descent with Barzilai-Borwein step lengths, safeguarded by an Armijo line search."""
    w = np.asarray(w0, dtype=np.float64)
    f, g = fun_grad(w)
    step = 1.0
    for it in range(max_iter):
        if np.max(np.abs(g)) <= tol:
            return Result(w, it, True)
        w_new, f_new, g_new, taken = _armijo(fun_grad, w, f, g, -g, step)
        if taken == 0.0:  # no decrease possible: we are at the optimum to machine precision
            return Result(w, it, np.max(np.abs(g)) <= tol)
        s, yv = w_new - w, g_new - g
        sy = float(s @ yv)
        step = float(s @ s) / sy if sy > 0 else taken * 2
        w, f, g = w_new, f_new, g_new
    return Result(w, max_iter, bool(np.max(np.abs(g)) <= tol))


def newton(fun_grad_hess: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]], fun_grad: FunGrad,
           w0: np.ndarray, *, tol: float, max_iter: int) -> Result:
    """Damped Newton: one pass for loss, gradient and Hessian, more only when the full step is cut."""
    w = np.asarray(w0, dtype=np.float64)
    for it in range(max_iter):
        f, g, h = fun_grad_hess(w)
        if np.max(np.abs(g)) <= tol:
            return Result(w, it, True)
        # lstsq, not solve: an unpenalised intercept of a softmax makes the Hessian singular.
        direction = -np.linalg.lstsq(h, g, rcond=None)[0]
        w_new, _, _, taken = _armijo(fun_grad, w, f, g, direction, 1.0)
        if taken == 0.0:
            return Result(w, it, False)
        w = w_new
    _, g = fun_grad(w)
    return Result(w, max_iter, bool(np.max(np.abs(g)) <= tol))


def _soft_threshold(v: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def proximal_grad(fun_grad: FunGrad, w0: np.ndarray, *, l1: np.ndarray, tol: float, max_iter: int) -> Result:
    """FISTA for ``smooth(w) + sum(l1 * |w|)`` with backtracking on the step length.

    Stops when the proximal-gradient step (the composite gradient mapping) has
    largest component at most ``tol``.
    """
    w = np.asarray(w0, dtype=np.float64)
    z, momentum, step = w.copy(), 1.0, 1.0
    f_z, g_z = fun_grad(z)
    for it in range(max_iter):
        while True:
            w_new = _soft_threshold(z - step * g_z, step * l1)
            d = w_new - z
            f_new, g_new = fun_grad(w_new)
            if f_new <= f_z + g_z @ d + (d @ d) / (2 * step) + 1e-12 * abs(f_z) or step < 1e-12:
                break
            step /= 2
        mapping = np.max(np.abs(w_new - _soft_threshold(w_new - g_new, l1)))
        if mapping <= tol:
            return Result(w_new, it + 1, True)
        next_momentum = (1 + np.sqrt(1 + 4 * momentum ** 2)) / 2
        z = w_new + ((momentum - 1) / next_momentum) * (w_new - w)
        w, momentum = w_new, next_momentum
        f_z, g_z = fun_grad(z)
        step *= 1.5  # let the step grow back after a cautious stretch
    return Result(w, max_iter, False)

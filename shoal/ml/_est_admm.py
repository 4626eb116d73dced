"""Consensus ADMM over row blocks: dask-glm's ``admm`` solver, the default of ``dask_ml.linear_model``.

Model
    The objective of a GLM splits over the ``N`` row blocks of the data,
    ``sum_i f_i(beta) + g(beta)``, with ``f_i`` the (weighted) loss summed over
    block ``i`` and ``g`` the penalty (``||coef||^2 / (2C)`` or ``||coef||_1 / C``;
    intercepts are never penalised). Consensus ADMM (Boyd et al., "Distributed
    optimization and statistical learning via the alternating direction method
    of multipliers", 2011, section 7.1) gives every block its own copy
    ``beta_i`` and asks the copies to agree with a consensus ``z``::

        beta_i <- argmin_b f_i(b) + rho/2 ||b - z + u_i||^2      (one task per block, SciPy L-BFGS-B)
        z      <- prox_{g / (N rho)}(mean_i(a beta_i + (1 - a) z + u_i))     (on the client)
        u_i    <- u_i + a beta_i + (1 - a) z_old - z

    where ``a`` is ``over_relax``. One iteration is one pass over the data: the
    local solves run as the chunk tasks of one tree reduction
    (:func:`shoal.ml._est_blocks.tree_reduce`), each receiving its block's
    ``beta_i`` (the warm start) and ``u_i`` and returning the new ``beta_i``;
    the small ``(N, n_params)`` matrices of copies and scaled duals live on the
    client. The loop stops on Boyd's primal and dual residual criterion
    (eq. 3.12 with ``abstol`` and ``reltol``), as dask-glm does.

Scale: ``f_i`` are sums, not means, so ``rho`` has dask-glm's meaning (the
weight of disagreement relative to one row's loss).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.optimize

import shoal
from shoal.ml._est_blocks import tree_reduce
from shoal.ml._est_glm import Objective, _glm_chunk

__all__ = ["check_admm_options", "consensus_admm"]


def _local_solve(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, family: str, classes: np.ndarray | None,
                 fit_intercept: bool, betas: np.ndarray, target: np.ndarray, rho: float,
                 block_id: int) -> dict[int, np.ndarray]:
    """``argmin_b f_i(b) + rho/2 ||b - target_i||^2`` on this block, warm-started at ``betas[block_id]``."""
    v = target[block_id]

    def fun_grad(b: np.ndarray) -> tuple[float, np.ndarray]:
        part = _glm_chunk(x, y, w, family, classes, b, fit_intercept, False)  # type: ignore[arg-type]
        d = b - v
        return float(part["loss"]) + 0.5 * rho * float(d @ d), part["grad"] + rho * d

    # Tight inner tolerance: inexact local solves would stall the outer iteration short of the optimum.
    res = scipy.optimize.minimize(fun_grad, betas[block_id], jac=True, method="L-BFGS-B",
                                  options={"maxiter": 500, "gtol": 1e-10, "ftol": 1e-14})
    return {block_id: np.asarray(res.x, dtype=np.float64)}


def _merge(parts: list[dict[int, np.ndarray]]) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for part in parts:
        out.update(part)
    return out


def _prox(v: np.ndarray, l2: np.ndarray, l1: np.ndarray, scale: float) -> np.ndarray:
    """``argmin_z sum(l2 z^2 / 2 + l1 |z|) + scale/2 ||z - v||^2`` (elementwise, closed form)."""
    shrunk = np.sign(v) * np.maximum(np.abs(v) - l1 / scale, 0.0)
    return shrunk * scale / (scale + l2)


def consensus_admm(objective: Objective, *, l2: float = 0.0, l1: float = 0.0, rho: float = 1.0, over_relax: float = 1.0,
         abstol: float = 1e-4, reltol: float = 1e-2, max_iter: int = 250) -> tuple[np.ndarray, int, bool]:
    """Minimise ``sum(loss) + l2/2 ||coef||^2 + l1 ||coef||_1`` by consensus ADMM, one pass per iteration.

    Parameters
    ----------
    objective : Objective
        The data (its row blocks), family, classes and intercept layout.
    l2, l1 : float
        Penalty strengths on the summed-loss scale (``1 / C``); intercepts are
        not penalised.
    rho : float
        Augmented-Lagrangian parameter (dask-glm's ``rho``).
    over_relax : float
        Over-relaxation ``a`` in ``[1, 2)``; 1 is plain ADMM.
    abstol, reltol : float
        Absolute and relative tolerances of the residual test.
    max_iter : int
        Iterations (passes over the data).

    Returns
    -------
    (z, n_iter, converged)
        The consensus parameters, the iterations run and whether the residual test passed.
    """
    if not rho > 0:
        raise ValueError(f"solver='admm': rho must be > 0, got {rho!r}; pass solver_kwargs={{'rho': 1.0}}.")
    if not 0 < over_relax < 2:
        raise ValueError(f"solver='admm': over_relax must be in (0, 2), got {over_relax!r}.")
    arrays = objective.arrays
    n_blocks = arrays[0].numblocks[0]
    mask = objective.coef_mask()
    l2_vec, l1_vec = l2 * mask, l1 * mask
    z = objective.initial()
    n_params = z.size
    betas = np.zeros((n_blocks, n_params))
    duals = np.zeros((n_blocks, n_params))
    extra = () if objective.has_weights else (None,)
    scale = n_blocks * rho
    sqrt_np = np.sqrt(n_blocks * n_params)
    for it in range(1, max_iter + 1):
        target = z - duals  # each block is pulled towards z - u_i
        delayed = tree_reduce(_local_solve, _merge, arrays, *extra, objective.family, objective.classes,
                              objective.fit_intercept, betas, target, float(rho), name="glm-admm",
                              with_block_id=True)
        objective.passes += 1
        (solved,) = shoal.compute(delayed)
        betas = np.stack([solved[i] for i in range(n_blocks)])
        relaxed = over_relax * betas + (1.0 - over_relax) * z
        z_old = z
        z = _prox((relaxed + duals).mean(axis=0), l2_vec, l1_vec, scale)
        duals = duals + relaxed - z
        primal = float(np.linalg.norm(betas - z))
        dual = float(rho * np.sqrt(n_blocks) * np.linalg.norm(z - z_old))
        eps_primal = sqrt_np * abstol + reltol * max(float(np.linalg.norm(betas)),
                                                     float(np.sqrt(n_blocks) * np.linalg.norm(z)))
        eps_dual = sqrt_np * abstol + reltol * float(rho * np.linalg.norm(duals))
        if primal <= eps_primal and dual <= eps_dual:
            return z, it, True
    return z, max_iter, False


def check_admm_options(options: dict[str, Any]) -> dict[str, Any]:
    """The ``solver_kwargs`` ADMM understands, or a ValueError naming the unknown ones."""
    known = {"rho", "over_relax", "abstol", "reltol"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"solver='admm' does not take {unknown} in solver_kwargs; it takes {sorted(known)} "
                         f"(max_iter is the estimator's own parameter).")
    return options

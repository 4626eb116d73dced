"""``HyperbandSearchCV``: successive halving brackets run side by side (Li et al. 2016, Algorithm 1).

Mirrors ``dask_ml.model_selection.HyperbandSearchCV``; the training loop and the shared validation set
are :mod:`shoal.ml.model_selection_incremental`'s.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from sklearn.model_selection import ParameterSampler

from shoal.ml._incremental_engine import Run
from shoal.ml.model_selection_incremental import _halving, _IncrementalBase

__all__ = ["HyperbandSearchCV", "hyperband_brackets"]


def hyperband_brackets(max_iter: int, eta: float) -> dict[int, tuple[int, int]]:
    """Hyperband's brackets ``{s: (n_models, n_initial_iter)}`` for ``R = max_iter`` (Li et al., Algorithm 1).

    ``s_max = floor(log_eta R)``, budget ``B = (s_max + 1) R``; bracket ``s`` starts
    ``ceil(B / R * eta**s / (s + 1))`` models at ``floor(R / eta**s)`` calls.
    """
    # Plain floating point, as dask-ml computes it: log(243, 3) is 4.999..., so max_iter=243 gets the
    # same 5 brackets as dask-ml (not the 6 exact arithmetic would give).
    s_max = int(math.floor(math.log(max_iter, eta)))
    budget = (s_max + 1) * max_iter
    return {s: (int(math.ceil(budget / max_iter * eta ** s / (s + 1))), int(max_iter * eta ** -s))
            for s in range(s_max, -1, -1)}


def _paper_schedule(n: int, r: int, s: int, eta: float) -> tuple[int, list[int]]:
    """Total calls and the decision points of bracket ``s`` (rounds i = 0..s of Algorithm 1)."""
    calls = [0] * n
    alive = n
    decisions = []
    for i in range(s + 1):
        target = int(np.round(r * eta ** i))
        decisions.append(target)
        for j in range(alive):
            calls[j] = target
        alive = int(math.floor(math.floor(n * eta ** -i) / eta))
    return sum(calls), sorted(set(decisions))


class HyperbandSearchCV(_IncrementalBase):
    """Hyperband: successive halving brackets from "train many briefly" to "train few long", side by side.

    Mirrors ``dask_ml.model_selection.HyperbandSearchCV``. ``max_iter`` is the most
    ``partial_fit`` calls any model gets; ``aggressiveness`` (Hyperband's ``eta``) how hard
    each bracket culls. ``patience=True`` means ``max_iter // aggressiveness``. Other
    parameters as :class:`IncrementalSearchCV`.

    Attributes
    ----------
    metadata, metadata_ : dict
        ``n_models``, ``partial_fit_calls`` and ``brackets``, a list (by bracket id) of
        ``{"bracket", "n_models", "partial_fit_calls", "decisions",
        "SuccessiveHalvingSearchCV params"}``; ``decisions`` are the call counts at which
        models are compared. ``metadata`` is the plan, ``metadata_`` what ``fit`` did (equal
        without ``patience``).
    cv_results_ : dict
        As :class:`IncrementalSearchCV`, plus ``bracket``; ``model_id`` is ``"bracket=s-i"``.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> search = HyperbandSearchCV(SGDClassifier(), {"alpha": [1e-4, 1e-3]}, max_iter=81)
    >>> search.metadata["n_models"], search.metadata["partial_fit_calls"]
    (143, 1581)
    """

    def __init__(self, estimator: Any, parameters: Any, max_iter: int = 81, aggressiveness: float = 3,
                 patience: Any = False, tol: float = 1e-3, test_size: float | None = None, random_state: Any = None,
                 scoring: Any = None, verbose: Any = False, prefix: str = "") -> None:
        self.estimator = estimator
        self.parameters = parameters
        self.max_iter = max_iter
        self.aggressiveness = aggressiveness
        self.patience = patience
        self.tol = tol
        self.test_size = test_size
        self.random_state = random_state
        self.scoring = scoring
        self.verbose = verbose
        self.prefix = prefix

    def _check(self) -> None:
        super()._check()
        if self.max_iter is None:
            raise ValueError("HyperbandSearchCV: max_iter must be an int >= 1 (the most partial_fit calls of any "
                             "model), got None.")

    def _patience(self) -> Any:
        floor = max(self.max_iter // self.aggressiveness, 1)
        if isinstance(self.patience, bool):
            return int(floor) if self.patience else False
        if self.patience < floor:
            warnings.warn(f"HyperbandSearchCV: patience={self.patience} stops models before Hyperband itself would "
                          f"judge them; use patience=True or patience >= {int(floor)}.", UserWarning, stacklevel=3)
        return int(self.patience)

    def _bracket_params(self, seed: int) -> dict[int, dict[str, Any]]:
        return {s: {"n_initial_parameters": n, "n_initial_iter": r, "max_iter": self.max_iter,
                    "aggressiveness": self.aggressiveness, "patience": self._patience(), "tol": self.tol,
                    "test_size": self.test_size, "random_state": seed + s, "scoring": self.scoring,
                    "verbose": self.verbose, "prefix": f"{self.prefix}bracket={s}"}
                for s, (n, r) in hyperband_brackets(self.max_iter, self.aggressiveness).items()}

    def _runs(self, rng: np.random.RandomState) -> list[Run]:
        self._brackets = self._bracket_params(int(rng.randint(2**31 - 1 - 64)))
        runs = []
        for s, p in self._brackets.items():  # most adaptive bracket first
            candidates = list(ParameterSampler(self.parameters, p["n_initial_parameters"],
                                               random_state=p["random_state"]))
            run = self._new_run(_halving(len(candidates), p["n_initial_iter"], self.aggressiveness), candidates,
                                p["patience"])
            run.bracket = s
            runs.append(run)
        return runs

    def _ids(self, runs: list[Run]) -> list[list[Any]]:
        return [[f"bracket={run.bracket}-{i}" for i in run.params] for run in runs]

    def _record_extra(self, run: Run) -> dict[str, Any]:
        return {"bracket": run.bracket}

    def _extra_columns(self, runs: list[Run]) -> dict[str, Any]:
        return {"bracket": np.concatenate([np.full(len(r.params), r.bracket, dtype=int) for r in runs])}

    @property
    def metadata(self) -> dict[str, Any]:
        """The brackets, models and ``partial_fit`` calls ``fit`` will run (Hyperband's Algorithm 1)."""
        self._check()
        params = self._bracket_params(seed=0)
        brackets = []
        for s, (n, r) in sorted(hyperband_brackets(self.max_iter, self.aggressiveness).items()):
            calls, decisions = _paper_schedule(n, r, s, self.aggressiveness)
            sha = {k: v for k, v in params[s].items() if k != "random_state"}
            brackets.append({"bracket": s, "n_models": n, "partial_fit_calls": calls, "decisions": decisions,
                             "SuccessiveHalvingSearchCV params": sha})
        return {"n_models": sum(b["n_models"] for b in brackets),
                "partial_fit_calls": sum(b["partial_fit_calls"] for b in brackets), "brackets": brackets}

    def _finish(self, runs: list[Run]) -> None:
        super()._finish(runs)
        top = max(run.bracket for run in runs)
        brackets = []
        for run in sorted(runs, key=lambda r: r.bracket):
            decisions = {rec["partial_fit_calls"] for rec in run.history}
            if run.bracket != top:
                decisions.discard(1)  # round 0's score, not a decision, except where r = 1
            sha = {k: v for k, v in self._brackets[run.bracket].items() if k != "random_state"}
            brackets.append({"bracket": run.bracket, "n_models": len(run.params),
                             "partial_fit_calls": sum(run.calls(k) for k in run.params),
                             "decisions": sorted(decisions), "SuccessiveHalvingSearchCV params": sha})
        self.metadata_ = {"n_models": sum(b["n_models"] for b in brackets),
                          "partial_fit_calls": sum(b["partial_fit_calls"] for b in brackets), "brackets": brackets}

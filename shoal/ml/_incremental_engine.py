"""The training loop shared by the incremental searches of :mod:`shoal.ml.model_selection_incremental`.

Model
    A **run** is one population of models (one search, or one Hyperband
    bracket) with a policy, ``adapt(info) -> {model_id: more_calls}``. The
    loop works in **rounds**. In round 0 every model gets one ``partial_fit``
    call and a score on the held-out set. In every later round each run's
    policy sees ``info`` (the score records of its live models) and answers
    how many more ``partial_fit`` calls each model gets before it is scored
    again; a model left out of the answer is dropped (killed), a model given 0
    calls stays but is not trained. ``max_iter`` caps the calls of every model
    and ``patience`` stops a model whose score has not risen by more than
    ``tol`` over its last ``patience`` calls. A run ends when no live model
    gets a call; the loop ends when every run has.

    One round of all runs is **one shoal graph**: for each model a chain of
    ``partial_fit`` tasks, the k-th call on row block ``order[k % n_blocks]``
    of the training data (so a model sweeps the blocks in one fixed shuffled
    order and its calls are sequential), ending in one scoring task; chains of
    different models are independent and run in parallel on the current
    scheduler. Models travel as task results; the client keeps the latest
    copy of every live model and every score record.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import shoal
from shoal.array import Array
from shoal.delayed import Delayed
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["Run", "run_rounds"]

Info = dict[Any, list[dict[str, Any]]]
Adapt = Callable[[Info], dict[Any, int]]


@dataclass
class Run:
    """One population of models trained together under one policy."""

    adapt: Adapt  #: the policy: score records of live models -> more calls per kept model
    models: dict[Any, Any]  #: model id -> latest trained copy (live models only)
    params: dict[Any, dict[str, Any]]  #: model id -> its hyper-parameters (every model ever made)
    max_iter: int | None
    patience: int | bool = False
    tol: float | None = 1e-3
    model_history: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)  #: id -> records, oldest first
    history: list[dict[str, Any]] = field(default_factory=list)  #: every record, in the order scored
    goals: dict[Any, int] = field(default_factory=dict)  #: with patience: the calls the policy last asked for
    done: bool = False
    bracket: int = 0  #: Hyperband's bracket id (0 elsewhere)

    def calls(self, ident: Any) -> int:
        records = self.model_history.get(ident)
        return records[-1]["partial_fit_calls"] if records else 0

    def _plateaued(self, ident: Any) -> bool:
        patience = int(self.patience)
        current = self.calls(ident)
        if not patience or current < patience or self.tol is None:
            return False
        window = [r["score"] for r in self.model_history[ident] if current - r["partial_fit_calls"] <= patience]
        return len(window) > 1 and max(window[1:]) - window[0] <= self.tol

    def next_calls(self) -> dict[Any, int]:
        """How many calls each live model gets this round (after round 0); drops killed models."""
        info = {k: self.model_history[k] for k in self.models}
        pending = {k: self.goals.get(k, 0) - self.calls(k) for k in self.models}
        if self.patience and any(v > 0 for v in pending.values()):
            wanted = {k: max(v, 0) for k, v in pending.items()}  # finish the policy's last answer first
        else:
            wanted = self.adapt(info)
            for ident in set(self.models) - set(wanted):
                del self.models[ident]  # killed: its records stay, its model goes
            if self.patience:
                self.goals = {k: self.calls(k) + v for k, v in wanted.items()}
        out = {}
        for ident, more in wanted.items():
            current = self.calls(ident)
            if self.max_iter is not None:
                more = min(more, self.max_iter - current)
            if more > 0 and self._plateaued(ident):
                more = 0
                self.goals.pop(ident, None)
            if self.patience:
                more = min(more, int(self.patience))  # score at least every `patience` calls
            out[ident] = max(int(more), 0)
        return out


# -- tasks ------------------------------------------------------------------------------------------------
def _fit_block(state: tuple[Any, float], x: Any, y: Any, fit_params: dict[str, Any], first: bool) -> tuple[Any, float]:
    model, elapsed = state
    if first:
        model = copy.deepcopy(model)  # the client's copy stays as it was
    start = time.perf_counter()
    model.partial_fit(x, y, **fit_params)
    return model, elapsed + time.perf_counter() - start


def _score(state: tuple[Any, float], x_test: Any, y_test: Any, scorer: Any) -> dict[str, Any]:
    model, fit_time = state
    start = time.perf_counter()
    score = float(scorer(model, x_test, y_test))
    return {"model": model, "score": score, "partial_fit_time": fit_time, "score_time": time.perf_counter() - start}


def _gather(*results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results)


def _block_key(a: Array, i: int) -> tuple[Any, ...]:
    return (a.name, i) + (0,) * (a.ndim - 1)


def _round_graph(work: list[tuple[int, Any, Any, int, int]], x_train: Array, y_train: Array, order: np.ndarray,
                 x_test: Any, y_test: Any, scorer: Any, fit_params: dict[str, Any]) -> Delayed:
    """One graph: per ``(run, id, model, calls_so_far, more)`` a chain of fits ending in a score."""
    token = tokenize([(r, i, c, m) for r, i, _, c, m in work], x_train.name, y_train.name, time.perf_counter_ns())
    layer: dict[Any, Any] = {}
    ends = []
    n_blocks = len(order)
    for j, (_, _, model, done, more) in enumerate(work):
        state: Any = (model, 0.0)
        for step in range(more):
            block = int(order[(done + step) % n_blocks])
            key = (f"isearch-fit-{token}", j, step)
            layer[key] = Task(key, _fit_block, state, Ref(_block_key(x_train, block)),
                              Ref(_block_key(y_train, block)), fit_params, step == 0)
            state = Ref(key)
        key = (f"isearch-score-{token}", j)
        layer[key] = Task(key, _score, state, x_test, y_test, scorer)
        ends.append(Ref(key))
    out = f"isearch-round-{token}"
    layer[out] = Task(out, _gather, *ends)
    return Delayed(out, None, deps=(x_train, y_train), layer=layer)


def run_rounds(runs: list[Run], x_train: Array, y_train: Array, x_test: Any, y_test: Any, scorer: Any,
               fit_params: dict[str, Any], order: np.ndarray, *, start: float) -> None:
    """Train every run to its end (see the module docstring); fills each run's histories in place."""
    first = True
    while True:
        work: list[tuple[int, Any, Any, int, int]] = []
        for r, run in enumerate(runs):
            if run.done:
                continue
            plan = {k: 1 for k in run.models} if first else run.next_calls()
            todo = [(r, k, run.models[k], run.calls(k), n) for k, n in plan.items() if n > 0]
            if not todo:
                run.done = True
            work.extend(todo)
        first = False
        if not work:
            return
        (results,) = shoal.compute(_round_graph(work, x_train, y_train, order, x_test, y_test, scorer, fit_params))
        now = time.perf_counter() - start
        for (r, ident, _, done, more), res in zip(work, results, strict=True):
            run = runs[r]
            run.models[ident] = res["model"]
            record = {"model_id": ident, "params": run.params[ident], "partial_fit_calls": done + more,
                      "partial_fit_time": res["partial_fit_time"], "score": res["score"],
                      "score_time": res["score_time"], "elapsed_wall_time": now}
            run.model_history.setdefault(ident, []).append(record)
            run.history.append(record)

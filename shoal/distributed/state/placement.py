"""Placement in the scheduler's state machine (no I/O): which worker should run a task.

Mixed into :class:`~.scheduler.SchedulerState`. :meth:`PlacementMixin.decide_worker`
picks, among the workers the task's restrictions and resources allow (paused
workers excluded), the one that minimises the estimated start time: the work
already queued on it (tasks per thread times the average duration of tasks of
the same prefix) plus the time to fetch the dependencies it lacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord

__all__ = ["PlacementMixin"]

#: Assumed bandwidth between workers (bytes/s) when weighing transfers against queueing.
_BANDWIDTH = 100e6
#: Assumed duration of a task whose prefix has not finished once yet (seconds).
_DEFAULT_DURATION = 0.0005


class PlacementMixin:
    """``decide_worker`` and the restriction filter of :class:`~.scheduler.SchedulerState`."""

    def _valid_workers(self, ts: SchedulerTaskRecord) -> list[WorkerRecord] | None:
        """Workers allowed to run ``ts``; None when none is (all when unrestricted)."""
        workers: Iterable[WorkerRecord] = self.workers.values()
        if self.paused:
            workers = [ws for ws in workers if ws not in self.paused]
        if ts.workers is not None:
            wanted = {self.aliases.get(w, w) for w in ts.workers}
            restricted = [ws for ws in workers if ws.address in wanted or _host(ws.address) in wanted]
            if restricted or not ts.allow_other_workers:
                workers = restricted
        if ts.resources:
            need = ts.resources
            workers = [ws for ws in workers if all(ws.resources.get(r, 0) >= n for r, n in need.items())]
        listed = list(workers)
        return listed or None

    def decide_worker(self, ts: SchedulerTaskRecord, *, avoid: WorkerRecord | None = None) -> WorkerRecord | None:
        """The worker that can start ``ts`` soonest (see :mod:`.placement`), or None.

        ``avoid`` is chosen only when no other worker may run ``ts`` (a task rescheduled off it).
        """
        pool: Iterable[WorkerRecord]
        if avoid is not None:
            valid = self._valid_workers(ts)
            if valid is None:
                return None
            pool = [ws for ws in valid if ws is not avoid] or valid
        elif ts.workers is None and not ts.resources and not self.paused:
            pool = self.workers.values()
            if not self.workers:
                return None
        else:
            valid = self._valid_workers(ts)
            if valid is None:
                return None
            pool = valid
        duration = self.durations.get(ts.prefix, _DEFAULT_DURATION)
        deps = ts.dependencies
        if not deps:
            # Root task: the least loaded worker (ties to the one holding least data).
            return min(pool, key=lambda ws: (len(ws.processing) / ws.nthreads, ws.nbytes))
        best = None
        best_cost = float("inf")
        for ws in pool:
            missing = 0
            for dts in deps:
                if ws not in dts.who_has:
                    missing += max(dts.nbytes, 0)
            cost = len(ws.processing) / ws.nthreads * duration + missing / _BANDWIDTH
            if cost < best_cost:
                best, best_cost = ws, cost
        return best


def _host(address: str) -> str:
    location = address.partition("://")[2] or address
    return location.rpartition(":")[0]

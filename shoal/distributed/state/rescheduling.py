"""Rescheduled tasks in the scheduler's state machine (no I/O).

A task that raises :class:`~shoal.distributed.Reschedule` gives up its run:
its worker drops it without an error and reports ``reschedule``, which the
server turns into a :class:`~.events.TaskRescheduled`. The machine then
moves the task ``processing -> processing`` to another worker, as it does
for a steal the victim accepted:

- only a task still processing on the worker that reports it moves; a stale
  report (the task finished, was released, stolen or lost meanwhile) is
  ignored, as Dask's ``Scheduler._reschedule`` ignores it;
- the new worker is the one :meth:`~.placement.PlacementMixin.decide_worker`
  picks among the workers allowed to run the task *other than* the one that
  gave it up, which is chosen again only when it is the only one allowed
  (Dask may hand the task straight back; a task that reschedules itself off
  a worker usually wants to run elsewhere);
- a steal request still out for the task is dropped: the task no longer
  waits on that worker, and the late steal answer finds it elsewhere;
- with no worker allowed at all (the others left, the last one paused) the
  task waits in ``no-worker`` until one is;
- nothing counts these moves: a task that always raises ``Reschedule`` is
  moved for ever, as in Dask.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from shoal.distributed.state.events import TaskRescheduled

if TYPE_CHECKING:
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord
    from shoal.graph.task import Key

__all__ = ["ReschedulingMixin"]


class ReschedulingMixin:
    """The handler of :class:`~.events.TaskRescheduled`; mixed into :class:`~.scheduler.SchedulerState`."""

    tasks: dict[Key, SchedulerTaskRecord]
    workers: dict[str, WorkerRecord]
    unrunnable: set[SchedulerTaskRecord]
    stealing: dict[Key, str]
    log: deque[tuple[Any, ...]]
    _stimulus: str

    if TYPE_CHECKING:  # provided by PlacementMixin and TransitionsMixin
        def decide_worker(self, ts: SchedulerTaskRecord, *,
                          avoid: WorkerRecord | None = None) -> WorkerRecord | None: ...

        def _send_compute(self, ts: SchedulerTaskRecord, ws: WorkerRecord) -> None: ...

    def _on_task_rescheduled(self, ev: TaskRescheduled) -> dict[Key, str]:
        ts = self.tasks.get(ev.key)
        ws = self.workers.get(ev.worker)
        if ts is None or ws is None or ts.status != "processing" or ts.processing_on is not ws:
            return {}
        if ts.steal_to is not None:
            ts.steal_to = None
            self.stealing.pop(ts.key, None)
        ws.processing.discard(ts)
        ts.processing_on = None
        target = self.decide_worker(ts, avoid=ws)
        if target is None:
            ts.status = "no-worker"
            self.unrunnable.add(ts)
            self.log.append((ts.key, "processing", "no-worker", self._stimulus))
            return {}
        self.log.append((ts.key, "processing", "processing", self._stimulus))
        self._send_compute(ts, target)
        return {}

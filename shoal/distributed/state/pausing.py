"""Paused workers in the scheduler's state machine (no I/O).

A worker whose process memory passes the ``pause`` fraction of its limit
(see :mod:`shoal.distributed.memory`) stops starting tasks and reports
``status="paused"``; below it again it reports ``"running"``. While a worker
is paused the scheduler:

- assigns it no task (``decide_worker`` and the root-task queue skip it); a
  task that only paused workers may run waits in ``no-worker``;
- lets idle workers steal the tasks it holds but has not started;
- keeps its data: peers still fetch results from it.

When it resumes, tasks waiting for a worker are placed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord

__all__ = ["PausingMixin", "WorkerStatusChanged"]

WorkerStatus = Literal["running", "paused"]


@dataclass(frozen=True, slots=True)
class WorkerStatusChanged:
    """A worker paused (memory above its pause fraction) or resumed."""

    worker: str
    status: WorkerStatus
    stimulus_id: str


class PausingMixin:
    """The set of paused workers; mixed into :class:`~.scheduler.SchedulerState`."""

    workers: dict[str, WorkerRecord]
    unrunnable: set[SchedulerTaskRecord]
    # From PlacementMixin, declared (not defined) here so the composed class finds the real one.
    _valid_workers: Callable[[SchedulerTaskRecord], list[WorkerRecord] | None]

    def _init_pausing(self) -> None:
        #: Workers that reported ``paused``; always a subset of ``workers.values()``.
        self.paused: set[WorkerRecord] = set()

    def _on_worker_status(self, ev: WorkerStatusChanged) -> dict[Any, str]:
        ws = self.workers.get(ev.worker)
        if ws is None:
            return {}
        if ev.status == "paused":
            self.paused.add(ws)
            return {}
        if ev.status != "running":
            raise ValueError(f"Worker {ev.worker} reported unknown status {ev.status!r}; expected 'paused' or "
                             f"'running'.")
        if ws not in self.paused:
            return {}
        self.paused.discard(ws)
        # Tasks that found no running worker while this one was paused may go now.
        return {ts.key: "processing" for ts in self.unrunnable if self._valid_workers(ts) is not None}

    def _worker_left_pausing(self, ws: WorkerRecord) -> None:
        self.paused.discard(ws)

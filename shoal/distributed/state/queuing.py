"""Root-task queuing for the scheduler's state machine (no I/O).

A graph with many dependency-free tasks (a ``map``, the reads at the bottom
of an array or dataframe graph) would otherwise be sent to the workers all at
once: they would load far more input than they can process and fill their
memory before the reductions above could free any. Instead such *root* tasks
wait on the scheduler in status ``queued``, ordered by priority, and a
worker receives a new one whenever it has fewer than
``ceil(nthreads * worker-saturation)`` tasks.

A worker is given at least enough root tasks to cover about one scheduler
round trip of work (``_KEEP_BUSY`` seconds at the prefix's average
duration), so tiny tasks do not leave threads idle while the next one
travels; tasks that take longer than that (the ones whose inputs are worth
limiting), and tasks of a prefix that has not finished once yet, get
exactly the saturation limit.
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord

__all__ = ["QueuingMixin"]

#: Seconds of work a worker should hold so that it is not idle while the next root task travels.
_KEEP_BUSY = 0.02
#: Upper bound on root tasks per thread, however short they are.
_MAX_PER_THREAD = 256


class QueuingMixin:
    """The queue of root tasks; mixed into :class:`~.scheduler.SchedulerState`."""

    workers: dict[str, WorkerRecord]
    durations: dict[str, float]
    paused: set[WorkerRecord]
    log: Any
    _stimulus: str

    def _init_queuing(self, worker_saturation: float) -> None:
        if not worker_saturation > 0:
            raise ValueError(f"worker-saturation must be > 0 (or inf to turn queuing off), got {worker_saturation}.")
        self.worker_saturation = float(worker_saturation)
        #: Tasks in status ``queued``.
        self.queued: set[SchedulerTaskRecord] = set()
        self._queue_heap: list[tuple[Any, int, SchedulerTaskRecord]] = []
        self._queue_counter = itertools.count()
        #: Workers being filled by the current ``_fill_from_queue``: filled to the brim, not just a quarter.
        self._topping_up: set[WorkerRecord] = set()

    @property
    def queuing(self) -> bool:
        return math.isfinite(self.worker_saturation)

    def _mark_roots(self, new: list[SchedulerTaskRecord]) -> None:
        """Mark the dependency-free, unrestricted tasks of a submission as root tasks when there are many."""
        if not self.queuing:
            return
        roots = [ts for ts in new if not ts.dependencies and ts.workers is None and not ts.resources]
        threads = sum(ws.nthreads for ws in self.workers.values())
        if len(roots) > 2 * threads:
            for ts in roots:
                ts.root = True

    def _slots(self, ws: WorkerRecord, ts: SchedulerTaskRecord) -> int:
        limit = max(1, math.ceil(ws.nthreads * self.worker_saturation))
        duration = self.durations.get(ts.prefix)
        if duration is None:  # nothing known yet: assume the tasks are the large ones queuing is for
            return limit
        busy = math.ceil(ws.nthreads * _KEEP_BUSY / max(duration, 1e-6))
        return max(limit, min(busy, ws.nthreads * _MAX_PER_THREAD))

    def _free_worker(self, ts: SchedulerTaskRecord) -> WorkerRecord | None:
        """The least loaded worker with room for root task ``ts``, if any."""
        best = None
        best_load = math.inf
        paused = self.paused
        for ws in self.workers.values():
            if ws in paused:
                continue
            n = len(ws.processing)
            slots = self._slots(ws, ts)
            # Top up in batches once a quarter of a large window is free: fewer, larger messages.
            if n < slots and (n == 0 or slots - n >= max(1, slots // 4) or ws in self._topping_up):
                load = n / ws.nthreads
                if load < best_load:
                    best, best_load = ws, load
        return best

    def _enqueue(self, ts: SchedulerTaskRecord) -> None:
        ts.status = "queued"
        ts.queued_order = next(self._queue_counter)
        self.queued.add(ts)
        heapq.heappush(self._queue_heap, (ts.priority, ts.queued_order, ts))

    def _queued_released(self, ts: SchedulerTaskRecord) -> dict[Any, str]:
        self.queued.discard(ts)
        ts.queued_order = -1  # its heap entry is now stale, skipped when popped
        ts.status = "released"
        return self._drop_waiting(ts)  # type: ignore[attr-defined,no-any-return]

    def _queued_processing(self, ts: SchedulerTaskRecord) -> dict[Any, str]:
        ws = self._free_worker(ts)
        if ws is not None:
            self._dequeue(ts)
            self._send_compute(ts, ws)  # type: ignore[attr-defined]
        return {}

    def _dequeue(self, ts: SchedulerTaskRecord) -> None:
        self.queued.discard(ts)
        ts.queued_order = -1

    def _fill_from_queue(self) -> None:
        """Give queued root tasks, best priority first, to workers with free slots."""
        heap = self._queue_heap
        while heap:
            _, order, ts = heap[0]
            if ts.status != "queued" or ts.queued_order != order:
                heapq.heappop(heap)
                continue
            ws = self._free_worker(ts)
            if ws is None:
                break
            self._topping_up.add(ws)
            heapq.heappop(heap)
            self._dequeue(ts)
            self.log.append((ts.key, "queued", "processing", self._stimulus))
            self._send_compute(ts, ws)  # type: ignore[attr-defined]
        self._topping_up.clear()
        if len(heap) > 64 and len(heap) > 4 * len(self.queued):
            # Mostly stale entries of released tasks: rebuild.
            self._queue_heap = [e for e in heap if e[2].status == "queued" and e[2].queued_order == e[1]]
            heapq.heapify(self._queue_heap)

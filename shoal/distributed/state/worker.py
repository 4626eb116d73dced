"""The worker's state machine: which tasks to run, which inputs to fetch. No I/O.

:meth:`WorkerStateMachine.handle` takes events (:mod:`.events`) and returns
actions: :class:`~.actions.Execute` (run a task in the thread pool),
:class:`~.actions.Fetch` (get inputs from a peer) and
:class:`~.actions.SendToScheduler`. The server
(:mod:`shoal.distributed.server.worker`) performs them.

Model
-----
A task the scheduler assigns (``compute_task``) waits until every input is in
``data``: inputs held elsewhere become records in ``fetch`` status, are
grouped by peer and fetched, at most ``connections`` peers at once (the
peer with the most wanted bytes first). Tasks whose inputs are all present
are ``ready``; they run in priority order, at most ``nthreads`` at once, and
only when the worker's abstract resources (``{"GPU": 1}``) allow.

A batch from one peer that cannot travel (``FetchErred``: a value that
cannot be pickled there or loaded here, or a message over the size limit)
does not say which key was at fault: its keys are fetched again one per
batch, so the others land and only the culprit's dependents fail (after its
other holders, if any, were tried).

Results computed here stay in ``data`` until the scheduler frees them.
Inputs fetched from peers are dropped as soon as no task here still needs
them (the scheduler does not count them as replicas).

A task freed while it runs becomes ``cancelled``: the thread cannot be
interrupted, so its result is dropped when it finishes, unless the scheduler
asks for the task again in the meantime.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, MutableMapping
from typing import Any

from shoal.distributed.state.actions import Execute, Fetch, SendToScheduler
from shoal.distributed.state.events import (
    ComputeRequested,
    ExecuteFailed,
    ExecuteSucceeded,
    FetchErred,
    FetchFailed,
    FetchSucceeded,
    FreeKeysRequested,
    StealRequested,
    TaskRejoined,
    TaskSeceded,
)
from shoal.distributed.state.tasks import WorkerTaskRecord
from shoal.graph.task import Key

# FetchErred is re-exported: it lived here before it joined the other events.
__all__ = ["FetchErred", "WorkerStateMachine"]


Action = Execute | Fetch | SendToScheduler

#: Tasks shorter than this (seconds) count as short; see ``recent_duration``.
SHORT_TASK = 0.005
SHORT_TASK_DEPTH = 4


class WorkerStateMachine:
    """The decisions of one worker; see the module docstring.

    Parameters
    ----------
    address : str
        This worker's address (never fetch from ourselves).
    nthreads : int
        Tasks that may execute at once.
    resources : dict, optional
        Abstract resources this worker offers.
    connections : int
        Peers fetched from at once.
    data : MutableMapping, optional
        Where results live (a spilling mapping, or a dict).
    """

    def __init__(self, address: str, nthreads: int, *, resources: dict[str, float] | None = None,
                 connections: int = 4, data: MutableMapping[Key, Any] | None = None) -> None:
        self.address = address
        self.nthreads = nthreads
        #: Results held here, computed or fetched.
        self.data: MutableMapping[Key, Any] = {} if data is None else data
        #: Every key this worker has a record for.
        self.tasks: dict[Key, WorkerTaskRecord] = {}
        #: Heap of (priority, tie, key) of tasks whose inputs are all here.
        self.ready: list[tuple[Any, int, Key]] = []
        #: Tasks ready but waiting for resources.
        self.constrained: list[tuple[Any, int, Key]] = []
        self.executing: set[Key] = set()
        #: Running tasks that seceded: they still run but no longer occupy a thread slot.
        self.long_running: set[Key] = set()
        #: Keys being fetched, by peer.
        self.in_flight: dict[str, set[Key]] = {}
        self.to_fetch: set[Key] = set()
        #: Keys to fetch in a batch of their own: they were in a batch that could not travel.
        self.fetch_alone: set[Key] = set()
        self.connections = connections
        self.total_resources = dict(resources or {})
        self.available_resources = dict(resources or {})
        #: Whether new tasks may start (False while paused for memory).
        self.running = True
        #: Recent task duration (seconds, exponentially weighted). While tasks are this short, up to
        #: ``SHORT_TASK_DEPTH`` tasks per thread are handed to the pool at once, so that a thread never idles
        #: waiting for the event loop between two tiny tasks.
        self.recent_duration = 1.0
        self._tie = itertools.count()
        self._stimulus = ""
        self._actions: list[Action] = []
        self.log: list[tuple[Any, ...]] = []

    # ------------------------------------------------------------------ entry point

    def handle(self, *events: Any) -> list[Action]:
        """Apply ``events``; return what to do."""
        self._actions = actions = []
        for event in events:
            self._stimulus = event.stimulus_id
            _HANDLERS[type(event)](self, event)
        self._start_fetches()
        self._start_executions()
        self._actions = []
        return actions

    def _send(self, msg: dict[str, Any]) -> None:
        self._actions.append(SendToScheduler(msg))

    def _set(self, ts: WorkerTaskRecord, status: Any) -> None:
        if len(self.log) > 10_000:
            del self.log[:5_000]
        self.log.append((ts.key, ts.status, status, self._stimulus))
        ts.status = status

    # ------------------------------------------------------------------ events

    def _on_compute(self, ev: ComputeRequested) -> None:
        ts = self.tasks.get(ev.key)
        if ts is None:
            ts = self.tasks[ev.key] = WorkerTaskRecord(ev.key)
        elif ts.status == "memory":
            self._send(self._finished_msg(ts, None))
            return
        elif ts.status == "cancelled":
            ts.next_status = "executing"
            ts.inline_result = ev.inline_result
            return
        elif ts.status in ("executing", "ready", "waiting", "constrained"):
            return
        ts.run_spec = ev.run_spec
        ts.priority = ev.priority
        ts.inline_result = ev.inline_result
        ts.resources = ev.resources
        ts.computed_here = True
        ts.waiting_for_data.clear()
        for dep, holders in ev.who_has.items():
            dts = self.tasks.get(dep)
            if dts is None:
                dts = self.tasks[dep] = WorkerTaskRecord(dep)
            ts.dependencies.add(dts)
            dts.dependents.add(ts)
            if dep in self.data:
                if dts.status != "memory":
                    self._set(dts, "memory")
                continue
            ts.waiting_for_data.add(dts)
            dts.who_has.update(h for h in holders if h != self.address)
            dts.nbytes = ev.nbytes.get(dep, dts.nbytes)
            if dts.status in ("released", "missing"):
                if dts.who_has:
                    self._set(dts, "fetch")
                    self.to_fetch.add(dep)
                else:
                    self._set(dts, "missing")
                    self._send({"op": "missing_data", "key": dep, "holders": [], "dependent": ts.key})
        if ts.waiting_for_data:
            self._set(ts, "waiting")
        else:
            self._make_ready(ts)

    def _make_ready(self, ts: WorkerTaskRecord) -> None:
        self._set(ts, "ready")
        heapq.heappush(self.ready, (ts.priority, next(self._tie), ts.key))

    def _on_execute_succeeded(self, ev: ExecuteSucceeded) -> None:
        ts = self.tasks.get(ev.key)
        if ts is None or ts.status not in ("executing", "cancelled"):
            return
        self._end_execution(ts)
        if ts.status == "cancelled" and ts.next_status is None:
            self._forget(ts)
            return
        ts.next_status = None
        self.recent_duration = 0.8 * self.recent_duration + 0.2 * (ev.stop - ev.start)
        ts.nbytes = ev.nbytes
        ts.type_name = ev.type_name
        ts.start, ts.stop = ev.start, ev.stop
        self.data[ts.key] = ev.value
        self._set(ts, "memory")
        self._send(self._finished_msg(ts, ev.inline, ev.thread))
        self._inputs_used(ts)
        self._wake_dependents(ts)

    def _finished_msg(self, ts: WorkerTaskRecord, inline: bytes | None, thread: int = 0) -> dict[str, Any]:
        msg = {"op": "task_finished", "key": ts.key, "nbytes": ts.nbytes, "type": ts.type_name,
               "start": ts.start, "stop": ts.stop, "thread": thread, "stimulus_id": self._stimulus}
        if inline is not None:
            msg["inline"] = inline
        if ts.metadata:
            msg["metadata"] = ts.metadata
        return msg

    def _on_execute_failed(self, ev: ExecuteFailed) -> None:
        ts = self.tasks.get(ev.key)
        if ts is None or ts.status not in ("executing", "cancelled"):
            return
        self._end_execution(ts)
        if ts.status == "cancelled" and ts.next_status is None:
            self._forget(ts)
            return
        ts.next_status = None
        self._set(ts, "error")
        self._send({"op": "task_erred", "key": ts.key, "exception": ev.exception, "traceback": ev.traceback,
                    "text": ev.text, "start": ev.start, "stop": ev.stop, "thread": ev.thread,
                    "stimulus_id": self._stimulus})
        self._inputs_used(ts)

    def _end_execution(self, ts: WorkerTaskRecord) -> None:
        self.executing.discard(ts.key)
        self.long_running.discard(ts.key)
        if ts.resources:
            for name, amount in ts.resources.items():
                self.available_resources[name] = self.available_resources.get(name, 0) + amount

    def _on_fetch_succeeded(self, ev: FetchSucceeded) -> None:
        keys = self.in_flight.pop(ev.peer, set())
        missing = []
        for key in keys:
            ts = self.tasks.get(key)
            if key not in ev.data:
                missing.append(key)
                continue
            if ts is None or ts.status != "flight":
                continue
            self.data[key] = ev.data[key]
            ts.coming_from = None
            self.fetch_alone.discard(key)
            if not ts.dependents:
                self._forget(ts)
                continue
            self._set(ts, "memory")
            self._wake_dependents(ts)
        if missing:
            self.in_flight[ev.peer] = set(missing)
            self._on_fetch_failed(FetchFailed(ev.peer, tuple(missing), ev.stimulus_id))

    def _landed(self, peer: str, keys: tuple[Any, ...]) -> tuple[list[WorkerTaskRecord], set[Any]]:
        """End the fetch batch from ``peer``: the tasks among ``keys`` still in flight from it, and the batch."""
        batch = self.in_flight.pop(peer, set())
        landed = []
        for key in keys:
            ts = self.tasks.get(key)
            if ts is not None and key in batch and ts.status == "flight":
                ts.coming_from = None
                landed.append(ts)
        return landed, batch

    def _fetch_again(self, keys: set[Any]) -> None:
        """The rest of a failed batch: fetch those keys again (from any holder)."""
        for key in keys:
            ts = self.tasks.get(key)
            if ts is not None and ts.status == "flight":
                self._set(ts, "fetch")
                self.to_fetch.add(key)

    def _on_fetch_failed(self, ev: FetchFailed) -> None:
        landed, keys = self._landed(ev.peer, ev.keys)
        for ts in landed:
            key = ts.key
            ts.who_has.discard(ev.peer)
            self._send({"op": "missing_data", "key": key, "holders": [ev.peer],
                        "dependent": next(iter(ts.dependents)).key if ts.dependents else None})
            if not ts.dependents:
                self._forget(ts)
            elif ts.who_has:
                self._set(ts, "fetch")
                self.to_fetch.add(key)
            else:
                # The scheduler will recompute it and send our dependents again; drop them meanwhile.
                self._set(ts, "missing")
        self._fetch_again(keys - set(ev.keys))

    def _on_fetch_erred(self, ev: FetchErred) -> None:
        landed, keys = self._landed(ev.peer, ev.keys)
        if len(ev.keys) > 1:
            # Which key spoiled the batch is unknown: fetch each on its own, so only the culprit fails.
            self.fetch_alone.update(ts.key for ts in landed)
            self._fetch_again(keys)
            return
        for ts in landed:
            ts.who_has.discard(ev.peer)
            if ts.who_has and ts.dependents:
                # Another holder may send a copy that travels (e.g. one under the size limit after spilling).
                self.fetch_alone.add(ts.key)
                self._set(ts, "fetch")
                self.to_fetch.add(ts.key)
                continue
            self.fetch_alone.discard(ts.key)
            for dts in list(ts.dependents):
                if dts.status != "waiting":
                    continue
                self._set(dts, "error")
                self._send({"op": "task_erred", "key": dts.key, "exception": ev.exception, "traceback": None,
                            "text": ev.text, "start": ev.start, "stop": ev.stop, "thread": 0,
                            "stimulus_id": self._stimulus})
                dts.waiting_for_data.clear()
                self._inputs_used(dts)
            if ts.key in self.tasks and not ts.dependents:
                self._forget(ts)
        self._fetch_again(keys - set(ev.keys))

    def _on_seceded(self, ev: TaskSeceded) -> None:
        if ev.key in self.executing:
            self.executing.discard(ev.key)
            self.long_running.add(ev.key)

    def _on_rejoined(self, ev: TaskRejoined) -> None:
        # The thread is busy again; it may briefly push the count above nthreads.
        if ev.key in self.long_running:
            self.long_running.discard(ev.key)
            self.executing.add(ev.key)

    def _on_steal_requested(self, ev: StealRequested) -> None:
        ts = self.tasks.get(ev.key)
        ok = ts is not None and ts.status in ("ready", "waiting", "constrained") and ts.computed_here
        if ok:
            assert ts is not None
            self._forget(ts)
        self._send({"op": "steal_response", "key": ev.key, "ok": ok, "stimulus_id": self._stimulus})

    def _on_free_keys(self, ev: FreeKeysRequested) -> None:
        for key in ev.keys:
            ts = self.tasks.get(key)
            if ts is None:
                self.data.pop(key, None)
                continue
            if ts.status == "executing":
                self._set(ts, "cancelled")
                ts.next_status = None
                continue
            if ts.status == "cancelled":
                ts.next_status = None
                continue
            if ts.dependents and any(d.status not in ("memory", "error") for d in ts.dependents):
                # Still an input of a task here; now just data, no longer ours to report.
                ts.computed_here = False
                continue
            self._forget(ts)

    # ------------------------------------------------------------------ helpers

    def _wake_dependents(self, ts: WorkerTaskRecord) -> None:
        for dts in ts.dependents:
            if dts.status == "waiting":
                dts.waiting_for_data.discard(ts)
                if not dts.waiting_for_data:
                    self._make_ready(dts)

    def _inputs_used(self, ts: WorkerTaskRecord) -> None:
        """``ts`` ran: inputs that were only fetched for tasks here can go."""
        for dts in list(ts.dependencies):
            dts.dependents.discard(ts)
            if not dts.dependents and not dts.computed_here and dts.status in ("memory", "missing", "fetch"):
                self._forget(dts)
        ts.dependencies.clear()
        ts.run_spec = None

    def _forget(self, ts: WorkerTaskRecord) -> None:
        self.tasks.pop(ts.key, None)
        self.data.pop(ts.key, None)
        self.to_fetch.discard(ts.key)
        self.fetch_alone.discard(ts.key)
        for dts in ts.dependencies:
            dts.dependents.discard(ts)
            if not dts.dependents and not dts.computed_here and dts.key in self.tasks and dts.status != "flight":
                self._forget(dts)
        for dts in ts.dependents:
            dts.dependencies.discard(ts)
        self._set(ts, "released")

    def _start_fetches(self) -> None:
        if not self.to_fetch or len(self.in_flight) >= self.connections:
            return
        by_peer: dict[str, list[WorkerTaskRecord]] = defaultdict(list)
        alone: list[tuple[WorkerTaskRecord, list[str]]] = []
        for key in self.to_fetch:
            ts = self.tasks.get(key)
            if ts is None or ts.status != "fetch":
                continue
            free = [p for p in ts.who_has if p not in self.in_flight]
            if not free:
                continue
            if key in self.fetch_alone:
                alone.append((ts, free))
                continue
            # Spread load: the peer that already has the most wanted keys gets this one too.
            peer = max(free, key=lambda p: len(by_peer.get(p, ())))
            by_peer[peer].append(ts)
        for ts, free in alone:
            peer = next((p for p in free if p not in self.in_flight), None)
            if peer is not None and len(self.in_flight) < self.connections:
                self._fetch_from(peer, [ts])
        # Peers offering the most bytes first; a peer taken by a lone key above waits for the next round.
        for peer, group in sorted(by_peer.items(), key=lambda kv: -sum(max(t.nbytes, 0) for t in kv[1])):
            if len(self.in_flight) >= self.connections:
                break
            if peer not in self.in_flight:
                self._fetch_from(peer, group)

    def _fetch_from(self, peer: str, group: list[WorkerTaskRecord]) -> None:
        keys = tuple(ts.key for ts in group)
        for ts in group:
            self._set(ts, "flight")
            ts.coming_from = peer
            self.to_fetch.discard(ts.key)
        self.in_flight[peer] = set(keys)
        self._actions.append(Fetch(peer, keys, self._stimulus))

    def _start_executions(self) -> None:
        if not self.running:
            return
        slots = self.nthreads * (SHORT_TASK_DEPTH if self.recent_duration < SHORT_TASK else 1)
        while len(self.executing) < slots and (self.ready or self.constrained):
            if self.constrained and self._resources_free(self.tasks.get(self.constrained[0][2])):
                _, _, key = heapq.heappop(self.constrained)
            elif self.ready:
                _, _, key = heapq.heappop(self.ready)
            else:
                break
            ts = self.tasks.get(key)
            if ts is None or ts.status not in ("ready", "constrained"):
                continue
            if ts.resources:
                if not self._resources_free(ts):
                    self._set(ts, "constrained")
                    heapq.heappush(self.constrained, (ts.priority, next(self._tie), key))
                    if not self.ready:
                        break
                    continue
                for name, amount in ts.resources.items():
                    self.available_resources[name] = self.available_resources.get(name, 0) - amount
            self._set(ts, "executing")
            self.executing.add(key)
            self._actions.append(Execute(key, self._stimulus))

    def _resources_free(self, ts: WorkerTaskRecord | None) -> bool:
        if ts is None or not ts.resources:
            return True
        return all(self.available_resources.get(n, 0) >= a for n, a in ts.resources.items())

    def validate_state(self) -> None:
        """Check invariants; raise AssertionError on the first broken one."""
        for key, ts in self.tasks.items():
            assert ts.key == key
            if ts.status == "memory":
                assert key in self.data, ts
            if ts.status == "waiting":
                assert ts.waiting_for_data, ts
                for dts in ts.waiting_for_data:
                    assert dts.status in ("fetch", "flight", "missing"), (ts, dts)
            if ts.status == "executing":
                assert key in self.executing or key in self.long_running, ts
            for dts in ts.dependents:
                assert ts in dts.dependencies, (ts, dts)
        assert len(self.executing) <= self.nthreads * SHORT_TASK_DEPTH + len(self.long_running) + 1
        for key in self.fetch_alone:
            assert key in self.tasks, key
        for peer, keys in self.in_flight.items():
            for key in keys:
                ts = self.tasks.get(key)
                assert ts is None or ts.status != "flight" or ts.coming_from == peer


_HANDLERS: dict[type, Callable[[WorkerStateMachine, Any], None]] = {
    ComputeRequested: WorkerStateMachine._on_compute,
    ExecuteSucceeded: WorkerStateMachine._on_execute_succeeded,
    ExecuteFailed: WorkerStateMachine._on_execute_failed,
    FetchSucceeded: WorkerStateMachine._on_fetch_succeeded,
    FetchFailed: WorkerStateMachine._on_fetch_failed,
    FetchErred: WorkerStateMachine._on_fetch_erred,
    FreeKeysRequested: WorkerStateMachine._on_free_keys,
    TaskSeceded: WorkerStateMachine._on_seceded,
    StealRequested: WorkerStateMachine._on_steal_requested,
    TaskRejoined: WorkerStateMachine._on_rejoined,
}

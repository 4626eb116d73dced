"""The scheduler's state machine: task records, worker records, placement. No I/O.

:meth:`SchedulerState.handle` takes events (:mod:`.events`) and returns
actions (:mod:`.actions`): messages for workers and clients. The asyncio
server around it (:mod:`shoal.distributed.server.scheduler`) only decodes
messages into events and sends the actions' messages.

Model
-----
Every key the cluster knows has a :class:`~.tasks.SchedulerTaskRecord` with a
status (see :mod:`.tasks`). A task is *needed* while a client holds a future
for it (``who_wants``) or a dependent still has to read it (``waiters``).
Needed tasks move ``released -> waiting -> processing -> memory``; tasks no
longer needed move to ``released`` (their data is freed on the workers) and
are forgotten once nothing refers to them.

Transitions are small methods looked up by ``(start, finish)`` in a table.
Each returns *recommendations* (``{key: finish}``) that the loop in
:meth:`_transition_all` drains; an illegal move raises
:class:`InvalidTransition` carrying the task's story. Every transition is
logged with the ``stimulus_id`` of the event that caused it, so
:meth:`story` explains where a task is and why.

The transitions themselves live in :mod:`.transitions`; placement
(:meth:`decide_worker`) in :mod:`.placement`, queries and
``validate_state`` in :mod:`.inspection`, the root-task queue in
:mod:`.queuing`, paused workers in :mod:`.pausing` and tasks that raised
``Reschedule`` in :mod:`.rescheduling`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from shoal.distributed._exceptions import KilledWorker
from shoal.distributed.comm.serialization import pickle_value
from shoal.distributed.state.actions import SendToClient, SendToWorker
from shoal.distributed.state.events import (
    BalanceRequested,
    ClientJoined,
    ClientLeft,
    DataScattered,
    GraphSubmitted,
    KeysCancelled,
    TasksRetried,
    KeysReleased,
    StealResponded,
    TaskErred,
    TaskFinished,
    TaskMissing,
    TaskRescheduled,
    WorkerJoined,
    WorkerLeft,
)
from shoal.distributed.state.inspection import InspectionMixin
from shoal.distributed.state.pausing import PausingMixin, WorkerStatusChanged
from shoal.distributed.state.placement import PlacementMixin
from shoal.distributed.state.queuing import QueuingMixin
from shoal.distributed.state.rescheduling import ReschedulingMixin
from shoal.distributed.state.tasks import ClientRecord, SchedulerTaskRecord, WorkerRecord
from shoal.distributed.state.transitions import FIRE_AND_FORGET, Recs, TransitionsMixin
from shoal.graph.task import Key, key_split

__all__ = ["FIRE_AND_FORGET", "InvalidTransition", "SchedulerState"]

Action = SendToClient | SendToWorker

#: Tasks whose inputs add up to more than this are not stolen: moving the data would cost more.
_STEAL_MAX_INPUT = 1 << 20


class InvalidTransition(RuntimeError):
    """A task was asked to move between two statuses that have no transition."""

    def __init__(self, key: Key, start: str, finish: str, story: list[tuple[Any, ...]]) -> None:
        super().__init__(key, start, finish, story)
        self.key, self.start, self.finish, self.story = key, start, finish, story

    def __str__(self) -> str:
        lines = "\n".join(f"  {entry}" for entry in self.story[-10:])
        return f"Task {self.key!r} cannot go from {self.start!r} to {self.finish!r}. Its last transitions:\n{lines}"


class SchedulerState(TransitionsMixin, QueuingMixin, PausingMixin, PlacementMixin, ReschedulingMixin,
                     InspectionMixin):
    """All the scheduler knows; see the module docstring.

    Parameters
    ----------
    allowed_failures : int
        Workers a task may see die under it before it errs with KilledWorker.
    log_length : int
        Entries kept in the transition log and in the task stream.
    """

    def __init__(self, *, allowed_failures: int = 3, log_length: int = 100_000, work_stealing: bool = True,
                 worker_saturation: float = float("inf")) -> None:
        self._init_queuing(worker_saturation)
        self._init_pausing()
        #: Every key not forgotten.
        self.tasks: dict[Key, SchedulerTaskRecord] = {}
        #: Connected workers by address.
        self.workers: dict[str, WorkerRecord] = {}
        self.clients: dict[str, ClientRecord] = {}
        #: Tasks ready to run that no current worker can take (restrictions, or no workers at all).
        self.unrunnable: set[SchedulerTaskRecord] = set()
        self.allowed_failures = allowed_failures
        #: (key, start, finish, stimulus_id) for the last transitions.
        self.log: deque[tuple[Any, ...]] = deque(maxlen=log_length)
        #: Finished or failed executions, newest last (the task stream).
        self.task_stream: deque[dict[str, Any]] = deque(maxlen=log_length)
        #: Bytes each worker moved, as its activity records report: ``{address: {"transfer": received from
        #: peers, "served": sent to peers, "disk-write": spilled, "disk-read": loaded back}}``.
        self.activity_bytes: dict[str, dict[str, int]] = {}
        #: Average duration of tasks by prefix (exponentially weighted).
        self.durations: dict[str, float] = {}
        #: Names of workers, for restrictions given by name.
        self.aliases: dict[str, str] = {}
        self.work_stealing = work_stealing
        #: Keys with a steal request out, and the worker each would move to.
        self.stealing: dict[Key, str] = {}
        self._generation = itertools.count()
        self._stimulus = ""
        self._actions: list[Action] = []
        self._table: dict[tuple[str, str], Callable[[SchedulerTaskRecord], Recs]] = {
            ("released", "waiting"): self._released_waiting,
            ("released", "forgotten"): self._released_forgotten,
            ("released", "erred"): self._any_erred,
            ("waiting", "processing"): self._waiting_processing,
            ("waiting", "released"): self._waiting_released,
            ("waiting", "erred"): self._any_erred,
            ("waiting", "no-worker"): self._waiting_no_worker,
            ("no-worker", "processing"): self._no_worker_processing,
            ("no-worker", "released"): self._no_worker_released,
            ("no-worker", "erred"): self._any_erred,
            ("queued", "processing"): self._queued_processing,
            ("queued", "released"): self._queued_released,
            ("processing", "released"): self._processing_released,
            ("processing", "erred"): self._any_erred,
            ("memory", "released"): self._memory_released,
            ("erred", "released"): self._erred_released,
            ("erred", "forgotten"): self._released_forgotten,
        }

    # ------------------------------------------------------------------ entry point

    def handle(self, *events: Any) -> list[Action]:
        """Apply ``events`` in order; return the messages to send."""
        self._actions = actions = []
        for event in events:
            self._stimulus = event.stimulus_id
            handler = _HANDLERS[type(event)]
            recs = handler(self, event)
            if recs:
                self._transition_all(recs)
        if self.queued:
            self._fill_from_queue()
        self._actions = []
        return actions

    def _transition_all(self, recs: Recs) -> None:
        table = self._table
        tasks = self.tasks
        log = self.log
        stim = self._stimulus
        while recs:
            key, finish = recs.popitem()
            ts = tasks.get(key)
            if ts is None:
                continue
            start = ts.status
            if start == finish:
                continue
            method = table.get((start, finish))
            if method is None:
                # Two-step moves through "released" keep the table small.
                if finish not in ("released", "forgotten") and start != "released" and (start, "released") in table:
                    more = table[(start, "released")](ts)
                    log.append((key, start, "released", stim))
                    more[key] = finish
                    recs.update(more)
                    continue
                raise InvalidTransition(key, start, finish, self.story(key))
            more = method(ts)
            log.append((key, start, ts.status, stim))
            if more:
                recs.update(more)

    # ------------------------------------------------------------------ events

    def _on_graph_submitted(self, ev: GraphSubmitted) -> Recs:
        client = self._client(ev.client)
        generation = next(self._generation)
        tasks = self.tasks
        recs: Recs = {}
        new: list[SchedulerTaskRecord] = []
        for key, run_spec in ev.tasks.items():
            ts = tasks.get(key)
            if ts is not None:
                if ts.run_spec is None and ts.status == "released":
                    ts.run_spec = run_spec  # a lost scattered key re-submitted as a task
                continue
            note = ev.annotations.get(key)
            priority = ev.user_priority if note is None else note.get("priority", ev.user_priority)
            ts = SchedulerTaskRecord(key, run_spec, (-priority, generation, ev.order.get(key, 0)))
            ts.prefix = key_split(key)
            ts.retries = ev.retries if note is None else note.get("retries", ev.retries)
            ts.workers = ev.workers if note is None or "workers" not in note else frozenset(note["workers"])
            ts.allow_other_workers = ev.allow_other_workers
            ts.resources = ev.resources if note is None else note.get("resources", ev.resources)
            tasks[key] = ts
            new.append(ts)
        for ts in new:
            for dep in ev.dependencies.get(ts.key, ()):
                dts = tasks.get(dep)
                if dts is None:
                    # The client refers to a key nobody has: the graph is broken, or a future was lost.
                    exc = KeyError(f"Task {ts.key!r} depends on {dep!r}, which the scheduler does not know: the "
                                   f"future it came from was released or cancelled. Submit that work again.")
                    self._set_error(ts, pickle_value(exc), None, str(exc), ts)
                    ts.status = "erred"
                    continue
                ts.dependencies.add(dts)
                dts.dependents.add(ts)
        self._mark_roots(new)
        for key in ev.wanted:
            ts = tasks.get(key)
            if ts is None:
                continue
            ts.who_wants.add(client)
            client.wants_what.add(ts)
            if ts.status == "memory":
                self._report_memory(ts, None, clients=(client,))
            elif ts.status == "erred":
                self._report_erred(ts, clients=(client,))
            elif ts.status == "released":
                recs[key] = "waiting"
        return recs

    def _on_task_finished(self, ev: TaskFinished) -> Recs:
        ts = self.tasks.get(ev.key)
        ws = self.workers.get(ev.worker)
        if ws is None:
            return {}
        self.task_stream.append({"key": ev.key, "worker": ev.worker, "thread": ev.thread, "start": ev.start,
                                 "stop": ev.stop, "status": "OK", "nbytes": ev.nbytes, "typename": ev.type_name,
                                 "metadata": dict(ev.metadata or {}), "stimulus_id": ev.stimulus_id})
        if ts is None or ts.processing_on is not ws:
            if ts is not None and ts.status == "memory":
                self._add_replica(ts, ws)
            else:
                self._actions.append(SendToWorker(ev.worker, {"op": "free_keys", "keys": [ev.key],
                                                              "stimulus_id": self._stimulus}))
            return {}
        if ts.steal_to is not None:
            ts.steal_to = None
            self.stealing.pop(ts.key, None)
        if ev.stop > ev.start:
            old = self.durations.get(ts.prefix)
            took = ev.stop - ev.start
            self.durations[ts.prefix] = took if old is None else 0.5 * old + 0.5 * took
        if ev.metadata:  # before the log entry: plugins hearing of "memory" read it (get_task_metadata)
            if ts.metadata is None:
                ts.metadata = {}
            ts.metadata.update(ev.metadata)
        self.log.append((ts.key, "processing", "memory", self._stimulus))
        ws.processing.discard(ts)
        ts.processing_on = None
        ts.status = "memory"
        ts.nbytes = ev.nbytes
        ts.type_name = ev.type_name
        self._add_replica(ts, ws)
        recs: Recs = {}
        for dts in ts.dependencies:
            dts.waiters.discard(ts)
            if not dts.waiters and not dts.who_wants and dts.status == "memory":
                recs[dts.key] = "released"
        for dts in ts.dependents:
            if dts.status == "waiting":
                dts.waiting_on.discard(ts)
                if not dts.waiting_on:
                    recs[dts.key] = "processing"
        if ts.who_wants:
            self._report_memory(ts, ev.inline)
            self._drop_fire_and_forget(ts, recs)
        elif not ts.waiters:
            recs[ts.key] = "released"
        return recs

    def _drop_fire_and_forget(self, ts: SchedulerTaskRecord, recs: Recs) -> None:
        """A fire-and-forget key is done: that pseudo-client stops wanting it."""
        faf = self.clients.get(FIRE_AND_FORGET)
        if faf is not None and faf in ts.who_wants:
            recs.update(self._release_wanted(faf, [ts.key]))

    def _on_task_erred(self, ev: TaskErred) -> Recs:
        ts = self.tasks.get(ev.key)
        ws = self.workers.get(ev.worker)
        self.task_stream.append({"key": ev.key, "worker": ev.worker, "thread": ev.thread, "start": ev.start,
                                 "stop": ev.stop, "status": "error", "nbytes": 0, "exception_text": ev.text,
                                 "stimulus_id": ev.stimulus_id})
        if ts is None or ws is None or ts.processing_on is not ws:
            return {}
        if ts.retries > 0:
            ts.retries -= 1
            self.log.append((ts.key, "processing", "released", self._stimulus))
            recs = self._processing_released(ts)
            recs[ts.key] = "waiting"
            return recs
        self._set_error(ts, ev.exception, ev.traceback, ev.text, ts)
        ts.erred_on = ev.worker
        return {ts.key: "erred"}

    def _on_task_missing(self, ev: TaskMissing) -> Recs:
        """A worker found ``holder`` without ``key``: forget that replica; recompute if it was the last."""
        ts = self.tasks.get(ev.key)
        ws = self.workers.get(ev.holder)
        if ts is None or ws is None or ws not in ts.who_has:
            return {}
        self._remove_replica(ts, ws)
        return self._lost_if_no_replica(ts)

    def _on_worker_joined(self, ev: WorkerJoined) -> Recs:
        ws = WorkerRecord(ev.address, ev.name, ev.nthreads, ev.memory_limit, ev.resources, ev.now)
        self.workers[ev.address] = ws
        if ev.name:
            self.aliases[str(ev.name)] = ev.address
        for key, nbytes in ev.holding.items():
            ts = self.tasks.get(key)
            if ts is not None and ts.status == "memory":
                ts.nbytes = nbytes
                self._add_replica(ts, ws)
            else:
                self._actions.append(SendToWorker(ev.address, {"op": "free_keys", "keys": [key],
                                                               "stimulus_id": self._stimulus}))
        recs: Recs = {}
        for ts in list(self.unrunnable):
            if self._valid_workers(ts) is not None:
                recs[ts.key] = "processing"
        return recs

    def _on_worker_left(self, ev: WorkerLeft) -> Recs:
        ws = self.workers.pop(ev.address, None)
        if ws is None:
            return {}
        self.activity_bytes.pop(ev.address, None)
        self.paused.discard(ws)
        if self.aliases.get(str(ws.name)) == ev.address:
            del self.aliases[str(ws.name)]
        recs: Recs = {}
        for ts in list(ws.processing):
            ws.processing.discard(ts)
            ts.processing_on = None
            if ts.steal_to is not None:
                ts.steal_to = None
                self.stealing.pop(ts.key, None)
            ts.status = "released"  # processing -> released without a message: the worker is gone
            self.log.append((ts.key, "processing", "released", self._stimulus))
            if ev.died:
                ts.suspicious += 1
                if ts.suspicious > self.allowed_failures:
                    exc = KilledWorker(ts.key, ev.address, self.allowed_failures)
                    self._set_error(ts, pickle_value(exc), None, str(exc), ts)
                    recs[ts.key] = "erred"
                    continue
            recs[ts.key] = "waiting"
        for ts in list(ws.has_what):
            self._remove_replica(ts, ws)
            recs.update(self._lost_if_no_replica(ts))
        # Waiting tasks may have only the departed worker left that satisfies their restrictions.
        return recs

    def _on_balance(self, ev: BalanceRequested) -> Recs:
        """Work stealing: ask saturated workers to give queued tasks to idle ones.

        A task is only requested, not moved: the victim may already be running
        it. It moves when the victim confirms (:meth:`_on_steal_responded`).
        Restricted tasks and tasks with large inputs stay where they are.
        """
        if not self.work_stealing or len(self.workers) < 2:
            return {}
        pending: dict[str, int] = defaultdict(int)
        for thief in self.stealing.values():
            pending[thief] += 1
        paused = self.paused
        idle = [ws for ws in self.workers.values()
                if len(ws.processing) + pending[ws.address] < ws.nthreads and ws not in paused]
        if not idle:
            return {}
        # A paused worker starts nothing: everything it holds is fair game, not just the surplus.
        busy = sorted((ws for ws in self.workers.values() if len(ws.processing) > 2 * ws.nthreads
                       or (ws in paused and ws.processing)),
                      key=lambda ws: -len(ws.processing) / ws.nthreads)
        for thief in idle:
            room = thief.nthreads - len(thief.processing) - pending[thief.address]
            for victim in busy:
                if room <= 0:
                    break
                spare = len(victim.processing) - (0 if victim in paused else 2 * victim.nthreads)
                candidates = [ts for ts in victim.processing if ts.steal_to is None
                              and (ts.workers is None or ts.allow_other_workers) and not ts.resources
                              and sum(max(d.nbytes, 0) for d in ts.dependencies) <= _STEAL_MAX_INPUT]
                # The tasks the victim would run last.
                for ts in sorted(candidates, reverse=True)[:min(room, spare)]:
                    ts.steal_to = thief.address
                    self.stealing[ts.key] = thief.address
                    self._actions.append(SendToWorker(victim.address, {"op": "steal_request", "key": ts.key,
                                                                       "stimulus_id": self._stimulus}))
                    room -= 1
        return {}

    def _on_steal_responded(self, ev: StealResponded) -> Recs:
        thief_address = self.stealing.pop(ev.key, None)
        ts = self.tasks.get(ev.key)
        if ts is None:
            return {}
        ts.steal_to = None
        victim = self.workers.get(ev.worker)
        if not ev.ok or ts.status != "processing" or victim is None or ts.processing_on is not victim:
            return {}
        victim.processing.discard(ts)
        ts.processing_on = None
        thief = self.workers.get(thief_address) if thief_address is not None else None
        if thief is None:
            thief = self.decide_worker(ts)
        if thief is None:
            ts.status = "no-worker"
            self.unrunnable.add(ts)
            return {}
        self.log.append((ts.key, "processing", "processing", self._stimulus))
        self._send_compute(ts, thief)
        return {}

    def _on_client_joined(self, ev: ClientJoined) -> Recs:
        self._client(ev.client)
        return {}

    def _on_client_left(self, ev: ClientLeft) -> Recs:
        client = self.clients.pop(ev.client, None)
        if client is None:
            return {}
        return self._release_wanted(client, [ts.key for ts in client.wants_what])

    def _on_keys_released(self, ev: KeysReleased) -> Recs:
        client = self.clients.get(ev.client)
        if client is None:
            return {}
        return self._release_wanted(client, ev.keys)

    def _on_keys_cancelled(self, ev: KeysCancelled) -> Recs:
        client = self.clients.get(ev.client)
        if client is None:
            return {}
        recs = self._release_wanted(client, ev.keys)
        self._actions.append(SendToClient(ev.client, {"op": "cancelled_keys", "keys": list(ev.keys)}))
        return recs

    def _on_tasks_retried(self, ev: TasksRetried) -> Recs:
        roots = [self.tasks[k] for k in ev.keys if k in self.tasks and self.tasks[k].status == "erred"]
        # Everything erred upstream of the keys failed with them: the task that raised and what it took along.
        erred: set[SchedulerTaskRecord] = set()
        stack = list(roots)
        while stack:
            ts = stack.pop()
            if ts not in erred:
                erred.add(ts)
                stack.extend(d for d in ts.dependencies if d.status == "erred")
        self._transition_all({ts.key: "released" for ts in erred if ts.run_spec is not None})
        return {ts.key: "waiting" for ts in roots if ts.status == "released"}

    def _on_data_scattered(self, ev: DataScattered) -> Recs:
        client = self._client(ev.client)
        generation = next(self._generation)
        for key, (addresses, nbytes, type_name) in ev.placed.items():
            ts = self.tasks.get(key)
            if ts is None:
                ts = SchedulerTaskRecord(key, None, (0, generation, 0))
                ts.prefix = key_split(key)
                self.tasks[key] = ts
            elif ts.status != "memory":
                continue  # a task already computing this key wins; the copies get freed when reported
            ts.status = "memory"
            ts.nbytes = nbytes
            ts.type_name = type_name
            for address in addresses:
                ws = self.workers.get(address)
                if ws is not None:
                    self._add_replica(ts, ws)
            ts.who_wants.add(client)
            client.wants_what.add(ts)
            self.log.append((key, "released", "memory", self._stimulus))
            if not ts.who_has:
                ts.status = "released"
                exc = KeyError(f"Scattered data {key!r} did not reach any worker; scatter it again.")
                self._set_error(ts, pickle_value(exc), None, str(exc), ts)
                ts.status = "erred"
                self._report_erred(ts)
        return {}


_HANDLERS: dict[type, Callable[[SchedulerState, Any], Recs]] = {
    GraphSubmitted: SchedulerState._on_graph_submitted,
    TaskFinished: SchedulerState._on_task_finished,
    TaskErred: SchedulerState._on_task_erred,
    TaskMissing: SchedulerState._on_task_missing,
    WorkerJoined: SchedulerState._on_worker_joined,
    WorkerLeft: SchedulerState._on_worker_left,
    ClientJoined: SchedulerState._on_client_joined,
    ClientLeft: SchedulerState._on_client_left,
    KeysReleased: SchedulerState._on_keys_released,
    KeysCancelled: SchedulerState._on_keys_cancelled,
    TasksRetried: SchedulerState._on_tasks_retried,
    DataScattered: SchedulerState._on_data_scattered,
    BalanceRequested: SchedulerState._on_balance,
    StealResponded: SchedulerState._on_steal_responded,
    TaskRescheduled: SchedulerState._on_task_rescheduled,
    WorkerStatusChanged: SchedulerState._on_worker_status,
}

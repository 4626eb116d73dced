"""The scheduler's task transitions (``released -> waiting``, ``processing -> released``, ...) and helpers.

Mixed into :class:`~.scheduler.SchedulerState`, whose ``_table`` maps each
``(start, finish)`` pair to one of these methods. Each sets the task's new
status, updates the records it touches (workers' ``processing``/``has_what``,
clients' ``wants_what``, dependents' ``waiting_on``) and returns follow-up
recommendations ``{key: finish}`` for the transition loop.
"""

from __future__ import annotations

from collections.abc import Iterable

from shoal.distributed.comm.serialization import pickle_value
from shoal.distributed.state.actions import SendToClient, SendToWorker
from shoal.distributed.state.tasks import ClientRecord, SchedulerTaskRecord, TaskStatus, WorkerRecord
from shoal.graph.task import Key

__all__ = ["FIRE_AND_FORGET", "Recs", "TransitionsMixin"]

#: The pseudo-client that wants keys passed to ``fire_and_forget`` until they finish.
FIRE_AND_FORGET = "fire-and-forget"

Recs = dict[Key, TaskStatus]


class TransitionsMixin:
    """Task transitions and the bookkeeping they share; see :mod:`.scheduler` for the state they act on."""

    # ------------------------------------------------------------------ transitions

    def _released_waiting(self, ts: SchedulerTaskRecord) -> Recs:
        if ts.run_spec is None:
            exc = KeyError(f"The data of {ts.key!r} was lost (its worker left) and cannot be recomputed because it "
                           f"was scattered, not computed. Scatter it again.")
            self._set_error(ts, pickle_value(exc), None, str(exc), ts)
            return {ts.key: "erred"}
        ts.status = "waiting"
        recs: Recs = {}
        waiting_on = ts.waiting_on
        waiting_on.clear()
        for dts in ts.dependencies:
            status = dts.status
            if status == "memory":
                dts.waiters.add(ts)
                continue
            if status == "erred":
                self._set_error(ts, dts.exception, dts.traceback, dts.exception_text, dts.exception_blame or dts)
                recs.clear()
                recs[ts.key] = "erred"
                return recs
            waiting_on.add(dts)
            dts.waiters.add(ts)
            if status == "released":
                recs[dts.key] = "waiting"
        if not waiting_on:
            recs[ts.key] = "processing"
        return recs

    def _waiting_processing(self, ts: SchedulerTaskRecord) -> Recs:
        if ts.root and self.queuing:
            self._enqueue(ts)  # sent by priority from the queue once this event's transitions are done
            return {}
        ws = self.decide_worker(ts)
        if ws is None:
            return {ts.key: "no-worker"}
        self._send_compute(ts, ws)
        return {}

    def _no_worker_processing(self, ts: SchedulerTaskRecord) -> Recs:
        ws = self.decide_worker(ts)
        if ws is None:
            return {}
        self.unrunnable.discard(ts)
        self._send_compute(ts, ws)
        return {}

    def _waiting_no_worker(self, ts: SchedulerTaskRecord) -> Recs:
        ts.status = "no-worker"
        self.unrunnable.add(ts)
        return {}

    def _send_compute(self, ts: SchedulerTaskRecord, ws: WorkerRecord) -> None:
        ts.status = "processing"
        ts.processing_on = ws
        ws.processing.add(ts)
        who_has = {}
        nbytes = {}
        for dts in ts.dependencies:
            who_has[dts.key] = [w.address for w in dts.who_has]
            nbytes[dts.key] = dts.nbytes
        msg = {"op": "compute_task", "key": ts.key, "run_spec": ts.run_spec, "priority": ts.priority,
               "who_has": who_has, "nbytes": nbytes, "inline": bool(ts.who_wants),
               "stimulus_id": self._stimulus}
        if ts.resources:
            msg["resources"] = ts.resources
        self._actions.append(SendToWorker(ws.address, msg))

    def _waiting_released(self, ts: SchedulerTaskRecord) -> Recs:
        ts.status = "released"
        recs = self._drop_waiting(ts)
        return recs

    def _no_worker_released(self, ts: SchedulerTaskRecord) -> Recs:
        self.unrunnable.discard(ts)
        return self._waiting_released(ts)

    def _processing_released(self, ts: SchedulerTaskRecord) -> Recs:
        ws = ts.processing_on
        if ws is not None:
            ws.processing.discard(ts)
            self._actions.append(SendToWorker(ws.address, {"op": "free_keys", "keys": [ts.key],
                                                           "stimulus_id": self._stimulus}))
        ts.processing_on = None
        ts.status = "released"
        return self._drop_waiting(ts)

    def _memory_released(self, ts: SchedulerTaskRecord) -> Recs:
        for ws in ts.who_has:
            ws.has_what.discard(ts)
            ws.nbytes -= max(ts.nbytes, 0)
            self._actions.append(SendToWorker(ws.address, {"op": "free_keys", "keys": [ts.key],
                                                           "stimulus_id": self._stimulus}))
        ts.who_has.clear()
        ts.status = "released"
        recs: Recs = {}
        if ts.who_wants or ts.waiters:
            # Lost while still needed: compute it again.
            for dts in ts.dependents:
                if dts.status == "waiting":
                    dts.waiting_on.add(ts)
            recs[ts.key] = "waiting"
        elif self._is_forgettable(ts):
            recs[ts.key] = "forgotten"
        return recs

    def _erred_released(self, ts: SchedulerTaskRecord) -> Recs:
        ts.status = "released"
        ts.exception = ts.traceback = None
        ts.exception_text = ""
        ts.exception_blame = None
        recs: Recs = {}
        for dts in ts.dependents:
            if dts.status == "erred":
                recs[dts.key] = "released"
        if self._is_forgettable(ts):
            recs[ts.key] = "forgotten"
        return recs

    def _any_erred(self, ts: SchedulerTaskRecord) -> Recs:
        ws = ts.processing_on
        if ws is not None:
            ws.processing.discard(ts)
            ts.processing_on = None
        self.unrunnable.discard(ts)
        ts.waiting_on.clear()
        recs = self._release_deps(ts)
        ts.status = "erred"
        blame = ts.exception_blame or ts
        for dts in ts.dependents:
            if dts.status in ("waiting", "no-worker"):
                self._set_error(dts, ts.exception, ts.traceback, ts.exception_text, blame)
                recs[dts.key] = "erred"
        if ts.who_wants:
            self._report_erred(ts)
            self._drop_fire_and_forget(ts, recs)
        return recs

    def _released_forgotten(self, ts: SchedulerTaskRecord) -> Recs:
        ts.status = "forgotten"
        del self.tasks[ts.key]
        recs: Recs = {}
        for dts in ts.dependencies:
            dts.dependents.discard(ts)
            dts.waiters.discard(ts)
            if dts.status in ("released", "erred") and self._is_forgettable(dts):
                recs[dts.key] = "forgotten"
            elif dts.status == "memory" and not dts.waiters and not dts.who_wants:
                recs[dts.key] = "released"
        for dts in ts.dependents:
            dts.dependencies.discard(ts)
        return recs

    # ------------------------------------------------------------------ helpers

    def _drop_waiting(self, ts: SchedulerTaskRecord) -> Recs:
        """``ts`` left waiting/processing: run it again if still needed, else let its inputs go."""
        ts.waiting_on.clear()
        if ts.who_wants or ts.waiters:
            return {ts.key: "waiting"}  # keeps its claim on its dependencies
        recs = self._release_deps(ts)
        if self._is_forgettable(ts):
            recs[ts.key] = "forgotten"
        return recs

    def _release_deps(self, ts: SchedulerTaskRecord) -> Recs:
        """``ts`` will not read its dependencies any more; release those nobody else needs."""
        recs: Recs = {}
        for dts in ts.dependencies:
            dts.waiters.discard(ts)
            if not dts.waiters and not dts.who_wants and dts.status not in ("released", "erred"):
                recs[dts.key] = "released"
        return recs

    @staticmethod
    def _is_forgettable(ts: SchedulerTaskRecord) -> bool:
        # Dependents keep the record alive: they may need it recomputed if their results are lost.
        return not ts.who_wants and not ts.waiters and not ts.dependents

    def _release_wanted(self, client: ClientRecord, keys: Iterable[Key]) -> Recs:
        recs: Recs = {}
        for key in keys:
            ts = self.tasks.get(key)
            if ts is None or client not in ts.who_wants:
                continue
            ts.who_wants.discard(client)
            client.wants_what.discard(ts)
            if ts.who_wants or ts.waiters:
                continue
            if ts.status == "released":
                if self._is_forgettable(ts):
                    recs[key] = "forgotten"
            elif ts.status == "erred":
                if self._is_forgettable(ts):
                    recs[key] = "forgotten"
            else:
                recs[key] = "released"
        return recs

    def _lost_if_no_replica(self, ts: SchedulerTaskRecord) -> Recs:
        if ts.who_has or ts.status != "memory":
            return {}
        ts.status = "released"
        self.log.append((ts.key, "memory", "released", self._stimulus))
        for client in ts.who_wants:
            self._actions.append(SendToClient(client.id, {"op": "lost_key", "key": ts.key}))
        recs: Recs = {}
        # Dependents already assigned elsewhere cannot fetch it any more: start them again.
        for dts in ts.dependents:
            if dts.status == "processing":
                self.log.append((dts.key, "processing", "released", self._stimulus))
                recs.update(self._processing_released(dts))
            elif dts.status == "waiting":
                dts.waiting_on.add(ts)
        if ts.who_wants or ts.waiters or any(d.status in ("waiting", "processing") for d in ts.dependents):
            recs[ts.key] = "waiting"
        elif self._is_forgettable(ts):
            recs[ts.key] = "forgotten"
        return recs

    def _add_replica(self, ts: SchedulerTaskRecord, ws: WorkerRecord) -> None:
        if ws not in ts.who_has:
            ts.who_has.add(ws)
            ws.has_what.add(ts)
            ws.nbytes += max(ts.nbytes, 0)

    def _remove_replica(self, ts: SchedulerTaskRecord, ws: WorkerRecord) -> None:
        if ws in ts.who_has:
            ts.who_has.discard(ws)
            ws.has_what.discard(ts)
            ws.nbytes -= max(ts.nbytes, 0)

    def _set_error(self, ts: SchedulerTaskRecord, exception: bytes | None, traceback: bytes | None, text: str,
                   blame: SchedulerTaskRecord) -> None:
        ts.exception = exception
        ts.traceback = traceback
        ts.exception_text = text
        ts.exception_blame = blame

    def _client(self, client_id: str) -> ClientRecord:
        client = self.clients.get(client_id)
        if client is None:
            client = self.clients[client_id] = ClientRecord(client_id)
        return client

    def _report_memory(self, ts: SchedulerTaskRecord, inline: bytes | None,
                       clients: Iterable[ClientRecord] | None = None) -> None:
        msg = {"op": "key_in_memory", "key": ts.key, "type": ts.type_name}
        if inline is not None:
            msg["inline"] = inline
        for client in clients if clients is not None else ts.who_wants:
            self._actions.append(SendToClient(client.id, msg))

    def _report_erred(self, ts: SchedulerTaskRecord, clients: Iterable[ClientRecord] | None = None) -> None:
        blame = ts.exception_blame or ts
        msg = {"op": "task_erred", "key": ts.key, "exception": ts.exception, "traceback": ts.traceback,
               "text": ts.exception_text, "blame": blame.key}
        for client in clients if clients is not None else ts.who_wants:
            self._actions.append(SendToClient(client.id, msg))

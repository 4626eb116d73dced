"""Read-only views of the scheduler's state machine, and its invariant check (no I/O, no transitions).

Mixed into :class:`~.scheduler.SchedulerState`: worker heartbeats and activity
records, ``story``, ``who_has``/``has_what``, per-prefix counts, and
``validate_state``, which tests run after every event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from shoal.graph.task import Key

__all__ = ["InspectionMixin"]


class InspectionMixin:
    """Queries and validation of :class:`~.scheduler.SchedulerState`."""

    def heartbeat(self, address: str, metrics: dict[str, Any], now: float) -> None:
        """Record a worker's latest measurements (no transitions)."""
        ws = self.workers.get(address)
        if ws is not None:
            ws.metrics = metrics
            ws.last_seen = now

    def record_activity(self, address: str, records: list[list[Any]]) -> None:
        """Add a worker's transfers and spills to the task stream (no transitions).

        Each record is ``[action, keys, peer, start, stop, nbytes]`` with ``action`` one of ``"transfer"``
        (``address`` fetched ``keys`` from ``peer``), ``"disk-write"`` or ``"disk-read"`` (``peer`` None).
        The entry's ``worker`` is the worker that did the work (the receiver of a transfer), ``source`` the
        sender; ``key`` is the first key and ``keys`` all of them.
        """
        stream = self.task_stream
        totals = self.activity_bytes
        for action, keys, peer, start, stop, nbytes in records:
            entry = {"action": action, "key": keys[0] if keys else None, "keys": keys, "worker": address,
                     "thread": None, "start": start, "stop": stop, "status": "OK", "nbytes": nbytes}
            if address in self.workers:
                own = totals.setdefault(address, {})
                own[action] = own.get(action, 0) + nbytes
            if action == "transfer":
                entry["source"] = peer
                if peer in self.workers:
                    theirs = totals.setdefault(peer, {})
                    theirs["served"] = theirs.get("served", 0) + nbytes
            stream.append(entry)

    def story(self, *keys: Key) -> list[tuple[Any, ...]]:
        """The logged transitions of ``keys``, oldest first: (key, start, finish, stimulus_id)."""
        wanted = set(keys)
        return [entry for entry in self.log if entry[0] in wanted]

    def who_has(self, keys: Iterable[Key] | None = None) -> dict[Key, list[str]]:
        tasks = self.tasks
        chosen = tasks.keys() if keys is None else keys
        return {k: sorted(ws.address for ws in tasks[k].who_has) if k in tasks else [] for k in chosen}

    def has_what(self, workers: Iterable[str] | None = None) -> dict[str, list[Key]]:
        chosen = self.workers.keys() if workers is None else workers
        return {w: [ts.key for ts in self.workers[w].has_what] if w in self.workers else [] for w in chosen}

    def prefix_counts(self) -> dict[str, dict[str, int]]:
        """``{prefix: {status: count}}`` over every known task."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for ts in self.tasks.values():
            counts[ts.prefix][ts.status] += 1
        return {p: dict(c) for p, c in counts.items()}

    # ------------------------------------------------------------------ validation

    def validate_state(self) -> None:
        """Check the cross-record invariants of :mod:`.tasks`; raise AssertionError on the first broken one."""
        for key, ts in self.tasks.items():
            assert ts.key == key
            assert ts.status != "forgotten", ts
            assert bool(ts.who_has) == (ts.status == "memory"), (ts, ts.who_has)
            assert (ts.processing_on is not None) == (ts.status == "processing"), ts
            if ts.processing_on is not None:
                assert ts in ts.processing_on.processing, ts
                assert ts.processing_on.address in self.workers, ts
            if ts.status == "waiting":
                for dts in ts.waiting_on:
                    assert dts.status != "memory", (ts, dts)
                    assert ts in dts.waiters, (ts, dts)
            if ts.status in ("processing",):
                for dts in ts.dependencies:
                    assert dts.status == "memory", (ts, dts)
            for dts in ts.dependencies:
                assert ts in dts.dependents, (ts, dts)
                assert dts.key in self.tasks, (ts, dts)
            for ws in ts.who_has:
                assert ts in ws.has_what, (ts, ws)
            for client in ts.who_wants:
                assert ts in client.wants_what
            assert (ts in self.unrunnable) == (ts.status == "no-worker"), ts
            assert (ts in self.queued) == (ts.status == "queued"), ts
        for ws in self.paused:
            assert self.workers.get(ws.address) is ws, ws
        for ws in self.workers.values():
            for ts in ws.processing:
                assert ts.processing_on is ws, (ts, ws)
            for ts in ws.has_what:
                assert ws in ts.who_has, (ts, ws)
        for client in self.clients.values():
            for ts in client.wants_what:
                assert client in ts.who_wants

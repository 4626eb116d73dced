"""What the dashboard shows, read from the scheduler's state: plain dicts for the JSON API and Prometheus text.

Everything here runs on the scheduler's event loop between two events, so it
reads the state machine directly and must stay cheap: one pass over workers,
one over tasks, and a slice of the task stream.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shoal.graph.task import key_split

if TYPE_CHECKING:
    from shoal.distributed.state.scheduler import SchedulerState

__all__ = ["TASK_STATES", "map_activity", "prometheus_text", "stream_entries", "task_counts", "task_stream",
           "workers_table"]

#: Statuses a task can hold on the scheduler, in the order pages draw them.
TASK_STATES = ("released", "waiting", "no-worker", "queued", "processing", "memory", "erred")
#: Most task-stream entries one JSON answer carries; a page polling twice a second never needs more.
_STREAM_LIMIT = 5000
#: Entries arrive roughly, not exactly, in order of their stop time (workers report in batches), so the backward
#: scan for ``since`` goes this many seconds further before it stops.
_ORDER_SLACK = 2.0


def workers_table(state: SchedulerState) -> list[dict[str, Any]]:
    """One dict per worker with the workers page's columns, ordered by name."""
    rows = []
    for ws in state.workers.values():
        m = ws.metrics
        memory = int(m.get("memory", 0) or 0)
        rows.append({
            "address": ws.address, "name": ws.name, "nthreads": ws.nthreads,
            "cpu": float(m.get("cpu", 0.0) or 0.0), "memory": memory, "memory_limit": ws.memory_limit,
            "memory_percent": 100.0 * memory / ws.memory_limit if ws.memory_limit else None,
            "stored": ws.nbytes, "managed": int(m.get("managed_bytes", 0) or 0),
            "spilled": int(m.get("spilled_bytes", 0) or 0), "num_fds": int(m.get("num_fds", 0) or 0),
            "processing": len(ws.processing), "keys": len(ws.has_what), "executing": int(m.get("executing", 0) or 0),
            "ready": int(m.get("ready", 0) or 0),
            "in_flight": int(m.get("in_flight", 0) or 0), "last_seen": ws.last_seen,
        })
    rows.sort(key=lambda r: (len(r["name"]), r["name"]))
    return rows


def task_counts(state: SchedulerState) -> dict[str, Any]:
    """``{"total", "by_state": {state: n}, "by_prefix": {prefix: {state: n}}}`` over known tasks."""
    by_prefix = state.prefix_counts()
    by_state = dict.fromkeys(TASK_STATES, 0)
    for counts in by_prefix.values():
        for status, n in counts.items():
            by_state[status] = by_state.get(status, 0) + n
    return {"total": len(state.tasks), "by_state": by_state, "by_prefix": by_prefix}


def task_stream(state: SchedulerState, since: float | None = None, limit: int = _STREAM_LIMIT) -> list[dict[str, Any]]:
    """Task-stream entries that stopped after ``since`` (all kept ones if None), newest ``limit`` of them.

    Keys become strings and each entry gains its ``prefix``, which pages colour by.
    """
    stream = state.task_stream
    picked: list[dict[str, Any]] = []
    # Newest last: walk backwards and stop once entries are clearly too old, so a poll costs what it returns.
    for entry in reversed(stream):
        if since is not None and entry["stop"] <= since:
            if entry["stop"] <= since - _ORDER_SLACK:
                break
            continue
        picked.append(entry)
        if len(picked) >= limit:
            break
    picked.reverse()
    return stream_entries(state, picked)


def stream_entries(state: SchedulerState, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Task-stream records as the pages read them (string keys, with their prefix)."""
    tasks = state.tasks
    return [_stream_entry(e, tasks) for e in entries]


def _stream_entry(e: dict[str, Any], tasks: dict[Any, Any]) -> dict[str, Any]:
    """One task-stream record for the pages: computations, and transfers and spilling when recorded."""
    key = e.get("key")
    ts = tasks.get(key) if isinstance(key, (str, tuple)) else None
    # The task's record already knows its prefix; splitting the key is the slower fallback for forgotten ones.
    prefix = ts.prefix if ts is not None and ts.prefix else ("" if key is None else key_split(key))
    out = {"key": "" if key is None else str(key), "prefix": prefix,
           "worker": e["worker"], "thread": e.get("thread"),
           "start": e["start"], "stop": e["stop"], "status": e.get("status", "OK"), "nbytes": e.get("nbytes", 0),
           "action": e.get("action", "compute")}
    if out["action"] == "transfer":
        out["source"] = e.get("source")
    return out


def map_activity(state: SchedulerState, since: float | None, limit: int = 200) -> dict[str, Any]:
    """What the cluster map animates: tasks each worker ran that finished after ``since``, and the latest transfers.

    Without ``since``, only the last two seconds count (a page's first poll).
    """
    horizon = (now() - 2.0) if since is None else since
    started: dict[str, int] = {}
    transfers: list[dict[str, Any]] = []
    for entry in reversed(state.task_stream):
        if entry["stop"] <= horizon - _ORDER_SLACK:
            break
        action = entry.get("action", "compute")
        if action == "compute":
            if entry["stop"] > horizon:
                started[entry["worker"]] = started.get(entry["worker"], 0) + 1
        elif action == "transfer" and entry["stop"] > horizon and len(transfers) < limit:
            transfers.append({"source": entry.get("source"), "target": entry["worker"], "key": str(entry.get("key")),
                              "nbytes": entry.get("nbytes", 0), "stop": entry["stop"]})
    transfers.reverse()
    return {"started": started, "transfers": transfers}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(state: SchedulerState, loop_delay: float, clients: int,
                    transferred: dict[str, dict[str, int]] | None = None) -> str:
    """The scheduler's and workers' gauges in Prometheus text exposition format (version 0.0.4).

    ``transferred`` is ``{worker: {"transfer" | "served" | "disk-write" | "disk-read": bytes}}`` (the scheduler
    state's ``activity_bytes``); every connected worker gets a sample, zero when nothing was recorded.
    """
    lines: list[str] = []

    def family(name: str, help_text: str, samples: list[tuple[str, float]], kind: str = "gauge") -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lines.append(f"{name}{labels} {value:g}" if isinstance(value, float) else f"{name}{labels} {value}")

    counts = task_counts(state)["by_state"]
    family("shoal_scheduler_tasks", "Tasks known to the scheduler, by state.",
           [(f'{{state="{_label(s)}"}}', n) for s, n in counts.items()])
    family("shoal_scheduler_workers", "Workers connected to the scheduler.", [("", len(state.workers))])
    family("shoal_scheduler_clients", "Clients connected to the scheduler.", [("", clients)])
    family("shoal_scheduler_event_loop_delay_seconds", "Latest lateness of a timer on the scheduler's event loop.",
           [("", float(loop_delay))])
    rows = workers_table(state)
    per_worker = [
        ("shoal_worker_threads", "Threads of each worker.", "nthreads"),
        ("shoal_worker_memory_bytes", "Process memory (RSS) of each worker, from its last heartbeat.", "memory"),
        ("shoal_worker_memory_limit_bytes", "Memory limit of each worker (0: none).", "memory_limit"),
        ("shoal_worker_stored_bytes", "Bytes of task results each worker holds, as the scheduler counts them.",
         "stored"),
        ("shoal_worker_spilled_bytes", "Bytes each worker has spilled to disk.", "spilled"),
        ("shoal_worker_cpu_percent", "CPU use of each worker process, percent of one core.", "cpu"),
        ("shoal_worker_open_fds", "Open file descriptors of each worker process.", "num_fds"),
        ("shoal_worker_processing_tasks", "Tasks assigned to each worker and not finished.", "processing"),
        ("shoal_worker_executing_tasks", "Tasks running on each worker's threads, from its last heartbeat.",
         "executing"),
        ("shoal_worker_ready_tasks", "Tasks ready to run on each worker, from its last heartbeat.", "ready"),
    ]
    for name, help_text, column in per_worker:
        family(name, help_text, [(f'{{worker="{_label(r["address"])}",name="{_label(r["name"])}"}}', r[column])
                                 for r in rows])
    moved = transferred or {}
    counters = [("shoal_worker_transferred_bytes_total", "Bytes each worker received from peers.", "transfer"),
                ("shoal_worker_served_bytes_total", "Bytes each worker sent to peers.", "served"),
                ("shoal_worker_disk_write_bytes_total", "Bytes each worker spilled to disk.", "disk-write"),
                ("shoal_worker_disk_read_bytes_total", "Bytes each worker read back from disk.", "disk-read")]
    for name, help_text, action in counters:
        family(name, help_text, [(f'{{worker="{_label(r["address"])}",name="{_label(r["name"])}"}}',
                                  moved.get(r["address"], {}).get(action, 0)) for r in rows], kind="counter")
    family("shoal_scheduler_transferred_bytes_total", "Bytes moved between workers, all workers together.",
           [("", sum(v.get("transfer", 0) for v in moved.values()))], kind="counter")
    return "\n".join(lines) + "\n"


def now() -> float:
    """Wall-clock time, the clock task-stream entries use."""
    return time.time()

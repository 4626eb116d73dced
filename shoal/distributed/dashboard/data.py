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

__all__ = ["TASK_STATES", "prometheus_text", "task_counts", "task_stream", "workers_table"]

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
    return [{"key": str(e["key"]), "prefix": key_split(e["key"]), "worker": e["worker"], "thread": e["thread"],
             "start": e["start"], "stop": e["stop"], "status": e["status"], "nbytes": e.get("nbytes", 0)}
            for e in picked]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(state: SchedulerState, loop_delay: float, clients: int) -> str:
    """The scheduler's and workers' gauges in Prometheus text exposition format (version 0.0.4)."""
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
    ]
    for name, help_text, column in per_worker:
        family(name, help_text, [(f'{{worker="{_label(r["address"])}",name="{_label(r["name"])}"}}', r[column])
                                 for r in rows])
    return "\n".join(lines) + "\n"


def now() -> float:
    """Wall-clock time, the clock task-stream entries use."""
    return time.time()

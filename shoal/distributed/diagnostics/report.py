"""Summaries of work done on the cluster: ``Client.profile``, ``Client.get_worker_logs``, ``performance_report``.

``profile`` is not a sampling profiler of Python frames: it aggregates the
scheduler's task stream (each task's start and stop on its worker thread) by
task prefix, which answers "where did the compute time go" at task granularity.
"""

from __future__ import annotations

import html
import time
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any

from shoal.graph.task import key_split

__all__ = ["get_worker_logs", "performance_report", "prefix_summary", "profile"]


def prefix_summary(stream: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Group task-stream records by key prefix: count, erred, total/mean/max seconds, bytes produced.

    Examples
    --------
    >>> stream = [{"key": ("inc", 0), "start": 1.0, "stop": 1.5, "status": "OK", "nbytes": 8},
    ...           {"key": ("inc", 1), "start": 1.0, "stop": 2.0, "status": "OK", "nbytes": 8}]
    >>> prefix_summary(stream)["inc"]
    {'count': 2, 'erred': 0, 'total': 1.5, 'mean': 0.75, 'max': 1.0, 'nbytes': 16}
    """
    out: dict[str, dict[str, Any]] = {}
    for rec in _tasks_only(stream):
        row = out.setdefault(key_split(rec["key"]),
                             {"count": 0, "erred": 0, "total": 0.0, "mean": 0.0, "max": 0.0, "nbytes": 0})
        duration = max(0.0, rec["stop"] - rec["start"])
        row["count"] += 1
        row["erred"] += rec.get("status") != "OK"
        row["total"] += duration
        row["max"] = max(row["max"], duration)
        row["nbytes"] += rec.get("nbytes") or 0
    for row in out.values():
        row["mean"] = row["total"] / row["count"]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["total"]))


def _tasks_only(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Transfer and spill records share the stream; they are not task time.
    return [r for r in stream if "action" not in r]


def _bandwidth(activity: list[dict[str, Any]]) -> str:
    rows = []
    for action, label in (("transfer", "transfers between workers"), ("disk-write", "spill to disk"),
                          ("disk-read", "load from disk")):
        recs = [r for r in activity if r.get("action") == action]
        if not recs:
            continue
        nbytes = sum(r.get("nbytes") or 0 for r in recs)
        seconds = sum(max(0.0, r["stop"] - r["start"]) for r in recs)
        rate = f"{nbytes / seconds / 1e6:.1f}" if seconds > 0 else "n/a"
        rows.append(f"<tr><td>{label}</td><td>{len(recs)}</td><td>{nbytes / 1e6:.2f}</td>"
                    f"<td>{seconds:.4f}</td><td>{rate}</td></tr>")
    if not rows:
        return "<p>No transfers between workers and no spilling inside the block.</p>"
    return ("<table><tr><th>activity</th><th>count</th><th>MB</th><th>seconds</th><th>MB/s</th></tr>"
            + "".join(rows) + "</table>")


def _window(stream: list[dict[str, Any]], start: float | None, stop: float | None) -> list[dict[str, Any]]:
    return [r for r in stream if (start is None or r["start"] >= start) and (stop is None or r["stop"] <= stop)]


def profile(client: Any, start: float | None = None, stop: float | None = None, key: Any = None,
            workers: Any = None) -> dict[str, dict[str, float]]:
    """Task time by prefix from the scheduler's (bounded) task stream; see :func:`prefix_summary`.

    ``start``/``stop`` are ``time.time()`` values bounding the tasks counted;
    ``key`` keeps one prefix; ``workers`` keeps tasks run on those addresses.
    """
    stream = _window(client.get_task_stream(start=start), start, stop)
    if workers is not None:
        chosen = {workers} if isinstance(workers, str) else set(workers)
        stream = [r for r in stream if r["worker"] in chosen]
    summary = prefix_summary(stream)
    if key is not None:
        prefix = key if isinstance(key, str) and key in summary else key_split(key)
        summary = {k: v for k, v in summary.items() if k == prefix}
    return summary


def get_worker_logs(client: Any, n: int | None = None, workers: Any = None) -> dict[str, list[tuple[str, str]]]:
    """``{worker address: [(level, message), ...]}``, the last ``n`` records each worker kept."""

    def logs(dask_worker: Any, n: int | None = n) -> list[tuple[str, str]]:
        handler = getattr(dask_worker, "log_handler", None)
        return handler.logs(n) if handler is not None else []

    return client.run(logs, workers=workers)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- HTML report

def _colour(prefix: str) -> str:
    hue = zlib.crc32(prefix.encode()) % 360  # stable across runs, unlike hash()
    return f"hsl({hue}, 65%, 55%)"


def _task_stream_svg(stream: list[dict[str, Any]], width: int = 1000, lane: int = 18) -> str:
    if not stream:
        return "<p>No tasks ran inside the block.</p>"
    lanes = sorted({(r["worker"], str(r["thread"])) for r in stream})
    row = {ln: i for i, ln in enumerate(lanes)}
    t0 = min(r["start"] for r in stream)
    span = max(max(r["stop"] for r in stream) - t0, 1e-9)
    label_w = 260
    scale = (width - label_w) / span
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{lane * len(lanes) + 24}" '
             f'class="stream">']
    for (worker, thread), i in row.items():
        parts.append(f'<text x="0" y="{i * lane + 13}" font-size="11">{html.escape(f"{worker} #{thread}")}</text>')
    for r in stream:
        prefix = key_split(r["key"])
        x = label_w + (r["start"] - t0) * scale
        w = max((r["stop"] - r["start"]) * scale, 1.0)
        fill = "#222" if r.get("status") != "OK" else _colour(prefix)
        tip = html.escape(f"{r['key']}: {r['stop'] - r['start']:.4f}s on {r['worker']}")
        parts.append(f'<rect x="{x:.2f}" y="{row[(r["worker"], str(r["thread"]))] * lane + 2}" width="{w:.2f}" '
                     f'height="{lane - 4}" fill="{fill}"><title>{tip}</title></rect>')
    parts.append(f'<text x="{label_w}" y="{lane * len(lanes) + 18}" font-size="11">0 s</text>'
                 f'<text x="{width - 60}" y="{lane * len(lanes) + 18}" font-size="11">{span:.3f} s</text></svg>')
    return "".join(parts)


def _summary_table(summary: dict[str, dict[str, float]]) -> str:
    rows = "".join(
        f'<tr><td><span class="swatch" style="background:{_colour(p)}"></span>{html.escape(p)}</td>'
        f"<td>{int(s['count'])}</td><td>{int(s['erred'])}</td><td>{s['total']:.4f}</td><td>{s['mean']:.4f}</td>"
        f"<td>{s['max']:.4f}</td><td>{int(s['nbytes'])}</td></tr>"
        for p, s in summary.items())
    return ("<table><tr><th>prefix</th><th>tasks</th><th>erred</th><th>total s</th><th>mean s</th><th>max s</th>"
            f"<th>bytes out</th></tr>{rows}</table>")


def render_report(stream: list[dict[str, Any]], *, start: float, stop: float, info: dict[str, Any]) -> str:
    """The self-contained HTML page (inline CSS and SVG, no scripts) for ``performance_report``."""
    activity = [r for r in stream if "action" in r]
    stream = _tasks_only(stream)
    summary = prefix_summary(stream)
    workers = info.get("workers", {})
    per_worker: dict[str, float] = {}
    for r in stream:
        per_worker[r["worker"]] = per_worker.get(r["worker"], 0.0) + r["stop"] - r["start"]
    worker_rows = "".join(
        f"<tr><td>{html.escape(w)}</td><td>{meta.get('nthreads', '')}</td><td>{per_worker.get(w, 0.0):.4f}</td></tr>"
        for w, meta in workers.items())
    wall = stop - start
    busy = sum(per_worker.values())
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>shoal performance report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }} td:first-child {{ text-align: left; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 6px; }}
</style></head><body>
<h1>shoal performance report</h1>
<p>Duration: {wall:.3f} s &middot; tasks: {len(stream)} &middot; task time: {busy:.3f} s
&middot; workers: {len(workers)} &middot; scheduler: {html.escape(str(info.get("address", "")))}</p>
<h2>Task stream</h2>
{_task_stream_svg(stream)}
<h2>Time by task prefix</h2>
{_summary_table(summary)}
<h2>Workers</h2>
<table><tr><th>worker</th><th>threads</th><th>task s</th></tr>{worker_rows}</table>
<h2>Bandwidth</h2>
{_bandwidth(activity)}
</body></html>
"""


class performance_report:  # noqa: N801 - named like Dask's context manager
    """Write an HTML report of the work done on the cluster inside a ``with`` block.

    The file is self-contained (inline CSS and SVG, no scripts, nothing
    fetched from the network). It shows the task stream (a bar per task per
    worker thread, coloured by prefix), task counts and durations per prefix,
    per-worker task time, and bandwidth figures when the cluster records them.
    Tasks are taken from the scheduler's bounded task-stream log, so very long
    blocks may lose their earliest tasks.

    Parameters
    ----------
    filename : str or Path
        Where to write the report.
    client : Client, optional
        The client whose cluster to report on (the default client otherwise).

    Examples
    --------
    >>> import os, tempfile
    >>> from shoal.distributed import Client, performance_report
    >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     with performance_report(path, client=client):
    ...         client.gather(client.map(abs, [-1, -2]))
    [1, 2]
    >>> from pathlib import Path
    >>> "Task stream" in Path(path).read_text()
    True
    """

    def __init__(self, filename: str | Path = "dask-report.html", client: Any = None) -> None:
        self.filename = Path(filename)
        self.client = client
        self.start = 0.0

    def __enter__(self) -> performance_report:
        if self.client is None:
            from shoal.distributed.client import default_client

            self.client = default_client()
        self.start = time.time()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stop = time.time()
        stream = _window(self.client.get_task_stream(start=self.start), self.start, None)
        page = render_report(stream, start=self.start, stop=stop, info=self.client.scheduler_info())
        self.filename.write_text(page, encoding="utf-8")

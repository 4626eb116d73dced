"""The dashboard's HTTP service: pages, the JSON API and metrics, served on the scheduler's event loop.

Routes
------
``/`` redirects to ``/status``; ``/status``, ``/workers``, ``/graph``,
``/map``, ``/info`` and ``/info/worker/<address>`` are static pages
(``static/``, no external scripts) that poll the JSON API. ``/health`` answers
``ok``. ``/metrics`` is Prometheus text. The JSON API:

- ``/json/identity``, ``/json/workers``, ``/json/tasks`` (counts by state and prefix),
  ``/json/task-stream?since=<unix time>``, ``/json/status?since=...`` (those three in one request);
- ``/json/workers-history``: CPU % and memory of each worker over the last minutes;
- ``/json/graph?token=<n>``: the task graph's layout and states (see :mod:`.graph`);
- ``/json/map?since=...``: workers and recent activity for the cluster map;
- ``/json/worker-info?address=<worker>``: a worker's logs and the call stacks of its running tasks.

Answers that walk every task (counts by prefix, the graph layout) are cached
and recomputed no more often than a multiple of their own cost, so a page
left open on a 50,000-task computation costs the scheduler little.
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

from shoal import config
from shoal.distributed.dashboard import data
from shoal.distributed.dashboard.graph import GraphView
from shoal.distributed.dashboard.history import StreamCursor, WorkerHistory
from shoal.distributed.dashboard.http import HTTPServer, Response, parse_address

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["DashboardServer"]

_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
#: How often the event-loop delay and the workers' history are sampled (seconds).
_TICK = 0.5
#: Samples of worker history kept: five minutes at one per tick.
_HISTORY = 600
#: Seconds to wait for a worker's logs and call stacks before the info page reports it unreachable.
_WORKER_TIMEOUT = 5.0
#: Most task-stream entries one cursor poll returns: the newest ones win when work runs faster than pages can
#: draw (thousands of tasks a second); encoding them costs the scheduler's loop about 5 us each.
_POLL_STREAM_LIMIT = 1000
_PAGES = ("/status", "/workers", "/graph", "/map", "/info")
_JSON_NAMES = "identity, workers, workers-history, tasks, task-stream, status, graph, map, worker-info"


class _Cached:
    """``fn(state)`` recomputed only when ``factor`` times its last cost has passed since then.

    Cheap answers (small clusters, tests) are therefore always fresh; an answer that walks 50,000 tasks
    and takes 10 ms is reused for 0.2 s, keeping it near 5% of the event loop however often pages poll.
    """

    def __init__(self, fn: Any, factor: float = 20.0) -> None:
        self.fn = fn
        self.factor = factor
        self.value: Any = None
        self.at = -float("inf")
        self.cost = 0.0

    def __call__(self, state: Any) -> Any:
        now = time.perf_counter()
        if now - self.at >= self.factor * self.cost:
            self.value = self.fn(state)
            self.cost = time.perf_counter() - now
            self.at = now
        return self.value


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, default=str).encode(), content_type="application/json")


def _cursor(query: dict[str, str]) -> int | None:
    raw = query.get("cursor")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"cursor={raw!r} is not a whole number; pass the cursor of the last answer") from None


def _since(query: dict[str, str]) -> float | None:
    raw = query.get("since")
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"since={raw!r} is not a number; pass a unix timestamp in seconds") from None


class DashboardServer:
    """Serves the dashboard for one scheduler.

    Parameters
    ----------
    scheduler : SchedulerServer
        Whose state to show; only read, on its own event loop.
    address : str or int
        ``"127.0.0.1:8787"``, ``":0"`` (a free port) or a port number.
    """

    def __init__(self, scheduler: SchedulerServer, address: str | int = "127.0.0.1:8787") -> None:
        self.scheduler = scheduler
        self.host, self.requested_port = parse_address(address)
        self.loop_delay = 0.0
        self._ticker: asyncio.Task[None] | None = None
        #: CPU and memory of each worker over time, for the workers page's charts.
        self.history = WorkerHistory(_HISTORY)
        #: Bytes moved and spilled per worker, from the task stream's transfer and disk records.
        #: Numbers task-stream entries so that polling pages get each one exactly once (``?cursor=``).
        self.cursor = StreamCursor()
        self.graph = GraphView()
        self._task_counts = _Cached(data.task_counts, factor=40.0)
        routes: dict[str, Any] = {"/": self._redirect, "/health": self._health, "/metrics": self._metrics}
        routes.update(dict.fromkeys(_PAGES, self._page))
        self.http = HTTPServer(routes, {"/json/": self._api, "/statics/": self._static,
                                        "/info/worker/": self._worker_page})

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def link(self) -> str:
        """The status page's URL."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        template = str(config.get("distributed.dashboard.link", "{scheme}://{host}:{port}/status"))
        try:
            return template.format(scheme="http", host=host, port=self.port)
        except (KeyError, IndexError, ValueError):
            return f"http://{host}:{self.port}/status"

    async def start(self) -> DashboardServer:
        await self.http.start(self.host, self.requested_port)
        self._ticker = asyncio.get_running_loop().create_task(self._measure_loop())
        return self

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        await self.http.close()

    async def _measure_loop(self) -> None:
        """Sample how late a timer fires (the event-loop delay the metrics report) and the workers' history."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(_TICK)
            self.loop_delay = max(0.0, time.monotonic() - before - _TICK)
            self.sample()

    def sample(self) -> None:
        """Take one sample of the workers' history (also called by tests)."""
        self.history.sample(self.scheduler.state, time.time())

    # ------------------------------------------------------------------ handlers

    def _redirect(self, path: str, query: dict[str, str]) -> Response:
        return Response(b"", 302, headers={"Location": "/status"})

    def _health(self, path: str, query: dict[str, str]) -> Response:
        return Response(b"ok")

    def _metrics(self, path: str, query: dict[str, str]) -> Response:
        state = self.scheduler.state
        text = data.prometheus_text(state, self.loop_delay, len(self.scheduler.client_streams), state.activity_bytes)
        return Response(text.encode(), content_type="text/plain; version=0.0.4; charset=utf-8")

    def _page(self, path: str, query: dict[str, str]) -> Response:
        return self._static(f"/statics{path}.html", query)

    def _worker_page(self, path: str, query: dict[str, str]) -> Response:
        # The address is read from the URL by the page's script, which reports unknown workers itself.
        return self._static("/statics/worker.html", query)

    def _static(self, path: str, query: dict[str, str]) -> Response:
        name = path[len("/statics/"):]
        suffix = name[name.rfind("."):] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
            return Response(f"no static file {name!r}\n".encode(), 404)
        resource = resources.files("shoal.distributed.dashboard").joinpath("static", name)
        if not resource.is_file():
            return Response(f"no static file {name!r}\n".encode(), 404)
        return Response(resource.read_bytes(), content_type=_STATIC_TYPES[suffix])

    def _api(self, path: str, query: dict[str, str]) -> Response | Any:
        state = self.scheduler.state
        name = path[len("/json/"):].removesuffix(".json").strip("/")
        try:
            since = _since(query)
            cursor = _cursor(query)
        except ValueError as exc:
            return Response(f"{exc}\n".encode(), 400)
        if name == "identity":
            return _json({"type": "Scheduler", "id": self.scheduler.id, "address": self.scheduler.address,
                          "started": self.scheduler.start_time, "workers": len(state.workers),
                          "dashboard": self.link})
        if name == "workers":
            return _json({"now": time.time(), "workers": data.workers_table(state)})
        if name == "workers-history":
            return _json({"now": time.time(), "interval": _TICK, **self.history.payload()})
        if name == "tasks":
            return _json(self._task_counts(state))
        if name == "task-stream":
            entries, position = self._stream(state, since, cursor)
            return _json({"now": time.time(), "cursor": position, "tasks": entries})
        if name == "status":
            entries, position = self._stream(state, since, cursor)
            return _json({"now": time.time(), "workers": data.workers_table(state), "tasks": self._task_counts(state),
                          "cursor": position, "stream": entries})
        if name == "graph":
            raw = query.get("token", "")
            if raw and not raw.isdigit():
                return Response(f"token={raw!r} is not a number; pass the token of the last answer, or none\n"
                                .encode(), 400)
            return _json(self.graph.payload(state, int(raw) if raw else None))
        if name == "map":
            workers = [{k: w[k] for k in ("address", "name", "nthreads", "processing", "executing", "memory", "stored")}
                       for w in data.workers_table(state)]
            return _json({"now": time.time(), "scheduler": self.scheduler.address, "workers": workers,
                          **data.map_activity(state, since)})
        if name == "worker-info":
            return self._worker_info(query.get("address", ""))
        return Response(f"no JSON endpoint {name!r}; try {_JSON_NAMES}\n".encode(), 404)

    def _stream(self, state: Any, since: float | None, cursor: int | None) -> tuple[list[dict[str, Any]], int]:
        """Task-stream entries after ``cursor`` (at most ``_POLL_STREAM_LIMIT``), else those stopped after
        ``since``; and the cursor that asks for what comes next."""
        stream = state.task_stream
        if cursor is not None:
            return data.stream_entries(state, self.cursor.after(stream, cursor, _POLL_STREAM_LIMIT)), self.cursor.count
        position = self.cursor.update(stream)
        return data.task_stream(state, since), position

    def _worker_info(self, address: str) -> Response | Any:
        state = self.scheduler.state
        address = state.aliases.get(address, address)
        if address not in state.workers:
            known = ", ".join(sorted(state.workers)) or "none"
            return Response(f"no worker {address!r} is connected; known workers: {known}. Pass "
                            f"?address=<worker address> as listed at /json/workers\n".encode(), 404)
        ws = state.workers[address]
        pool = self.scheduler.pool

        async def ask() -> Response:
            try:
                logs, stacks = await asyncio.wait_for(asyncio.gather(
                    pool.call(address, {"op": "get_logs"}), pool.call(address, {"op": "call_stack"})),
                    _WORKER_TIMEOUT)
            except TimeoutError:
                return Response(f"worker {address} did not answer within {_WORKER_TIMEOUT:g} s\n".encode(), 504)
            except Exception as exc:  # noqa: BLE001 - any failure to reach the worker is the page's answer
                return Response(f"could not reach worker {address}: {type(exc).__name__}: {exc}\n".encode(), 502)
            processing = sorted(str(ts.key) for ts in ws.processing)
            return _json({"now": time.time(), "address": address, "name": ws.name, "nthreads": ws.nthreads,
                          "metrics": ws.metrics, "processing": processing[:200], "n_processing": len(processing),
                          "logs": logs.get("logs", []),
                          "stacks": [{**st, "key": str(st["key"])} for st in stacks.get("stacks", [])]})

        return ask()

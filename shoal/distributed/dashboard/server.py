"""The dashboard's HTTP service: pages, the JSON API and metrics, served on the scheduler's event loop.

Routes
------
``/`` redirects to ``/status``; ``/status`` and ``/workers`` are static pages
(``static/``, no external scripts) that poll the JSON API. ``/health`` answers
``ok``. ``/metrics`` is Prometheus text. ``/json/identity``,
``/json/workers``, ``/json/tasks``, ``/json/task-stream?since=<unix time>``
and ``/json/status?since=...`` (the three together, one request per poll).
"""

from __future__ import annotations

import asyncio
import json
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

from shoal import config
from shoal.distributed.dashboard import data
from shoal.distributed.dashboard.http import HTTPServer, Response, parse_address

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["DashboardServer"]

_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
#: How often the event-loop delay is sampled (seconds).
_TICK = 0.5


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload, default=str).encode(), content_type="application/json")


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
        routes = {"/": self._redirect, "/status": self._page, "/workers": self._page, "/health": self._health,
                  "/metrics": self._metrics}
        self.http = HTTPServer(routes, {"/json/": self._api, "/statics/": self._static})

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
        """Sample how late a timer fires: the event-loop delay the metrics report."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(_TICK)
            self.loop_delay = max(0.0, time.monotonic() - before - _TICK)

    # ------------------------------------------------------------------ handlers

    def _redirect(self, path: str, query: dict[str, str]) -> Response:
        return Response(b"", 302, headers={"Location": "/status"})

    def _health(self, path: str, query: dict[str, str]) -> Response:
        return Response(b"ok")

    def _metrics(self, path: str, query: dict[str, str]) -> Response:
        text = data.prometheus_text(self.scheduler.state, self.loop_delay, len(self.scheduler.client_streams))
        return Response(text.encode(), content_type="text/plain; version=0.0.4; charset=utf-8")

    def _page(self, path: str, query: dict[str, str]) -> Response:
        return self._static(f"/statics{path}.html", query)

    def _static(self, path: str, query: dict[str, str]) -> Response:
        name = path[len("/statics/"):]
        suffix = name[name.rfind("."):] if "." in name else ""
        if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
            return Response(f"no static file {name!r}\n".encode(), 404)
        resource = resources.files("shoal.distributed.dashboard").joinpath("static", name)
        if not resource.is_file():
            return Response(f"no static file {name!r}\n".encode(), 404)
        return Response(resource.read_bytes(), content_type=_STATIC_TYPES[suffix])

    def _api(self, path: str, query: dict[str, str]) -> Response:
        state = self.scheduler.state
        name = path[len("/json/"):].removesuffix(".json").strip("/")
        try:
            since = _since(query)
        except ValueError as exc:
            return Response(f"{exc}\n".encode(), 400)
        if name == "identity":
            return _json({"type": "Scheduler", "id": self.scheduler.id, "address": self.scheduler.address,
                          "started": self.scheduler.start_time, "workers": len(state.workers),
                          "dashboard": self.link})
        if name == "workers":
            return _json({"now": time.time(), "workers": data.workers_table(state)})
        if name == "tasks":
            return _json(data.task_counts(state))
        if name == "task-stream":
            return _json({"now": time.time(), "tasks": data.task_stream(state, since)})
        if name == "status":
            return _json({"now": time.time(), "workers": data.workers_table(state), "tasks": data.task_counts(state),
                          "stream": data.task_stream(state, since)})
        return Response(f"no JSON endpoint {name!r}; try identity, workers, tasks, task-stream, status\n".encode(),
                        404)

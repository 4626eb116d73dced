"""The dashboard's HTTP endpoints against a real in-process cluster that ran work."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from importlib import resources

import pytest

from shoal.distributed import Client, LocalCluster
from shoal.distributed.dashboard.http import HTTPServer, Response, parse_address


def _base(client: Client) -> str:
    link = client.dashboard_link
    assert link is not None and link.endswith("/status")
    return link[: -len("/status")]


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def _metrics(text: str) -> dict[str, float]:
    """``{'name{labels}': value}`` from Prometheus text, checking every family has HELP and TYPE."""
    samples: dict[str, float] = {}
    described = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            described.add(line.split()[2])
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            assert name.split("{")[0] in described, line
            samples[name] = float(value)
    return samples


def test_health(busy_client):
    assert _get(_base(busy_client) + "/health") == (200, "text/plain; charset=utf-8", "ok")


def test_root_redirects_to_status(busy_client):
    with urllib.request.urlopen(_base(busy_client) + "/", timeout=10) as response:
        assert response.url.endswith("/status")
        assert "<canvas id=\"task-stream\">" in response.read().decode()


def test_metrics_match_the_scheduler(busy_client):
    status, ctype, text = _get(_base(busy_client) + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    samples = _metrics(text)
    info = busy_client.scheduler_info()
    assert samples["shoal_scheduler_workers"] == 2
    assert samples['shoal_scheduler_tasks{state="memory"}'] == 40
    assert samples['shoal_scheduler_tasks{state="erred"}'] == 0
    assert samples["shoal_scheduler_clients"] >= 1
    assert samples["shoal_scheduler_event_loop_delay_seconds"] >= 0
    for address, ws in info["workers"].items():
        labels = f'{{worker="{address}",name="{ws["name"]}"}}'
        assert samples[f"shoal_worker_threads{labels}"] == 2
        assert samples[f"shoal_worker_stored_bytes{labels}"] == ws["nbytes"]
        assert samples[f"shoal_worker_memory_bytes{labels}"] > 0
    stored = sum(v for k, v in samples.items() if k.startswith("shoal_worker_stored_bytes"))
    assert stored == sum(ws["nbytes"] for ws in info["workers"].values()) > 0


def test_json_workers(busy_client):
    _, ctype, text = _get(_base(busy_client) + "/json/workers")
    assert ctype == "application/json"
    rows = json.loads(text)["workers"]
    info = busy_client.scheduler_info()["workers"]
    assert sorted(r["address"] for r in rows) == sorted(info)
    for row in rows:
        assert row["nthreads"] == 2
        assert row["memory"] > 0 and row["memory_limit"] > 0
        assert row["memory_percent"] == pytest.approx(100 * row["memory"] / row["memory_limit"])
        assert row["stored"] == info[row["address"]]["nbytes"]
        assert row["keys"] == info[row["address"]]["keys"]
    assert sum(r["keys"] for r in rows) == 40


def test_json_tasks_by_prefix(busy_client):
    counts = json.loads(_get(_base(busy_client) + "/json/tasks")[2])
    assert counts["total"] == 40
    assert counts["by_state"]["memory"] == 40
    assert counts["by_prefix"] == {"_inc": {"memory": 20}, "_double": {"memory": 20}}


def test_json_task_stream_since(busy_client):
    base = _base(busy_client)
    everything = json.loads(_get(base + "/json/task-stream")[2])["tasks"]
    assert len(everything) >= 40
    assert {t["prefix"] for t in everything} >= {"_inc", "_double"}
    assert all(t["stop"] >= t["start"] and t["status"] == "OK" for t in everything)
    assert {t["worker"] for t in everything} <= set(busy_client.scheduler_info()["workers"])
    later = json.loads(_get(f"{base}/json/task-stream?since={time.time() + 60}")[2])["tasks"]
    assert later == []
    middle = sorted(t["stop"] for t in everything)[len(everything) // 2]
    newer = json.loads(_get(f"{base}/json/task-stream?since={middle}")[2])["tasks"]
    assert sorted(t["stop"] for t in newer) == sorted(t["stop"] for t in everything if t["stop"] > middle)


def test_json_status_bundles_everything(busy_client):
    status = json.loads(_get(_base(busy_client) + "/json/status")[2])
    assert len(status["workers"]) == 2 and status["tasks"]["total"] == 40 and len(status["stream"]) >= 40


def test_bad_requests_get_clear_errors(busy_client):
    base = _base(busy_client)
    for path, code, words in [("/nope", 404, "/status"), ("/json/nope", 404, "task-stream"),
                              ("/json/task-stream?since=yesterday", 400, "unix timestamp"),
                              ("/statics/../server.py", 404, "static")]:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + path, timeout=10)
        assert info.value.code == code
        assert words in info.value.read().decode()
        info.value.close()


def test_static_files_are_served_and_offline(busy_client):
    base = _base(busy_client)
    static = resources.files("shoal.distributed.dashboard").joinpath("static")
    names = sorted(p.name for p in static.iterdir() if p.name.endswith((".html", ".js", ".css")))
    assert {"status.html", "workers.html", "common.js", "status.js", "workers.js", "style.css"} <= set(names)
    for name in names:
        text = static.joinpath(name).read_text()
        # Nothing may load from outside: the only absolute URL allowed is the SVG namespace name.
        assert "https://" not in text and text.count("http://") == text.count("http://www.w3.org/2000/svg"), name
        assert _get(f"{base}/statics/{name}")[2] == text


def test_workers_page(busy_client):
    status, ctype, text = _get(_base(busy_client) + "/workers")
    assert status == 200 and ctype.startswith("text/html")
    assert "<table id=\"workers\">" in text and "/statics/workers.js" in text


def test_client_by_address_finds_the_dashboard(busy_client):
    with Client(busy_client.cluster.scheduler_address) as other:
        assert other.dashboard_link == busy_client.dashboard_link


def test_no_dashboard_when_address_is_none():
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        assert cluster.dashboard_link is None
        assert cluster.scheduler.dashboard is None


def test_busy_port_falls_back_to_a_free_one(caplog):
    async def run() -> int:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            server = HTTPServer({"/health": lambda path, query: Response(b"ok")})
            port = await server.start("127.0.0.1", busy)
            await server.close()
            assert port != busy
            return busy

    with caplog.at_level(logging.WARNING, logger="shoal.distributed.dashboard"):
        busy = asyncio.run(run())
    assert f"Port {busy} is already in use" in caplog.text


def test_dispatch_refuses_other_methods():
    server = HTTPServer({"/health": lambda path, query: Response(b"ok")})
    response = server.dispatch("POST", "/health")
    assert response.status == 405 and response.headers["Allow"] == "GET, HEAD"
    assert server.dispatch("GET", "/health?x=1").body == b"ok"


def test_parse_address_rejects_nonsense():
    with pytest.raises(ValueError, match="no valid port"):
        parse_address("localhost:http")

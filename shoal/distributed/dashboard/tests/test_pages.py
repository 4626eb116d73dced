"""The graph, map, info and workers-history pages and their JSON, against a real in-process cluster."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shoal.distributed import Client, LocalCluster, wait

#: Holds ``_blocked`` tasks running until a test releases them (in-process workers share this module).
_GATE = threading.Event()


def _inc(x: int) -> int:
    return x + 1


def _blocked(x: int) -> int:
    _GATE.wait(30)
    return x


def _base(client: Client) -> str:
    return client.dashboard_link[: -len("/status")]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _json(client: Client, path: str) -> Any:
    return json.loads(_get(_base(client) + path))


def _until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        yield client


@pytest.fixture
def blocked(client: Client) -> Iterator[list[Any]]:
    """``[done, gate, chain]``: ten finished ``_inc`` tasks, one ``_blocked`` task running, three waiting on it."""
    _GATE.clear()
    done = client.map(_inc, range(10))
    wait(done, timeout=10)
    gate = client.submit(_blocked, 1)
    chain = [client.submit(_inc, gate)]
    for _ in range(2):
        chain.append(client.submit(_inc, chain[-1]))
    _until(lambda: client.scheduler_info()["prefixes"].get("_blocked", {}).get("processing"))
    # A list emptied at teardown: pytest keeps the fixture's value until then, and the futures must go.
    held = [done, gate, chain]
    try:
        yield held
    finally:
        _GATE.set()
        wait([gate, *chain], timeout=10)
        del done, gate, chain
        held.clear()
        assert _until(lambda: client.scheduler_info()["tasks"] == 0), "the fixture's tasks were not released"


PAGES = ["/status", "/workers", "/graph", "/map", "/info"]


@pytest.mark.parametrize("page", [*PAGES, "/info/worker/tcp%3A%2F%2F127.0.0.1%3A1"])
def test_every_page_links_every_page(client, page):
    text = _get(_base(client) + page)
    assert text.startswith("<!DOCTYPE html>")
    for target in [*PAGES, "/metrics"]:
        assert f'<a href="{target}"' in text, (page, target)


def test_graph_matches_the_submitted_tasks(client, blocked):
    done, gate, chain = blocked
    graph = _json(client, "/json/graph")
    futures = [*done, gate, *chain]
    assert graph["total"] == graph["shown"] == len(futures) == client.scheduler_info()["tasks"]
    assert not graph["truncated"]
    index = {node[0]: i for i, node in enumerate(graph["nodes"])}
    assert set(index) == {str(f.key) for f in futures}
    states = {f.key: graph["states"][index[str(f.key)]] for f in futures}
    assert all(f.status == "finished" and states[f.key] == "m" for f in done)
    assert gate.status == "pending" and states[gate.key] == "p"
    assert all(f.status == "pending" and states[f.key] == "w" for f in chain)
    # Edges run from a dependency to its dependent, and layers follow them.
    chain_ids = [index[str(f.key)] for f in [gate, *chain]]
    assert sorted(graph["edges"]) == sorted([a, b] for a, b in zip(chain_ids, chain_ids[1:], strict=False))
    assert [graph["nodes"][i][2] for i in chain_ids] == [0, 1, 2, 3]
    assert graph["depth"] == 4
    # With the layout's token, later answers carry the states only, and they follow the futures.
    _GATE.set()
    wait(chain, timeout=10)
    again = _json(client, f"/json/graph?token={graph['token']}")
    assert "nodes" not in again and again["states"] == "m" * len(futures)


def test_graph_rejects_a_bad_token(client):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(_base(client) + "/json/graph?token=abc", timeout=10)
    assert info.value.code == 400 and "token" in info.value.read().decode()
    info.value.close()


def test_worker_info_shows_logs_and_the_running_task_stack(client, blocked):
    _, gate, _ = blocked
    client.run(lambda: logging.getLogger("shoal.dashboard-test").warning("a note for the info page"))
    workers = client.scheduler_info()["workers"]
    found = []
    for address in workers:
        info = _json(client, "/json/worker-info?address=" + urllib.parse.quote(address, safe=""))
        assert info["address"] == address and info["nthreads"] == 2
        assert ["WARNING", "a note for the info page"] in info["logs"]
        for stack in info["stacks"]:
            found.append((address, stack["key"], "".join(stack["frames"])))
    assert [key for _, key, _ in found] == [str(gate.key)]
    assert "_blocked" in found[0][2] and "_GATE.wait" in found[0][2]
    # The worker page for that address is served, and its address reaches the script through the URL.
    page = _get(_base(client) + "/info/worker/" + urllib.parse.quote(found[0][0], safe=""))
    assert "/statics/worker.js" in page


def test_worker_info_for_an_unknown_worker_is_404(client):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(_base(client) + "/json/worker-info?address=tcp://10.0.0.1:1", timeout=10)
    text = info.value.read().decode()
    info.value.close()
    assert info.value.code == 404 and "tcp://10.0.0.1:1" in text
    assert all(address in text for address in client.scheduler_info()["workers"])


def test_map_counts_the_tasks_each_worker_ran(client):
    futures = client.map(_inc, range(100, 130))
    wait(futures, timeout=10)
    answer = _json(client, "/json/map?since=0")
    workers = client.scheduler_info()["workers"]
    assert sorted(w["address"] for w in answer["workers"]) == sorted(workers)
    assert answer["scheduler"] == client.scheduler_info()["address"]
    ran = _json(client, "/json/task-stream")["tasks"]
    expected: dict[str, int] = {}
    for entry in ran:
        if entry["action"] == "compute":
            expected[entry["worker"]] = expected.get(entry["worker"], 0) + 1
    assert answer["started"] == expected and sum(expected.values()) >= 30
    assert _json(client, f"/json/map?since={time.time() + 60}")["started"] == {}


def test_workers_history_samples_every_worker(client):
    def sampled() -> Any:
        answer = _json(client, "/json/workers-history")
        return answer if len(answer["times"]) >= 2 else None

    history = _until(sampled)
    assert history, "the dashboard took no samples"
    workers = client.scheduler_info()["workers"]
    assert sorted(history["workers"]) == sorted(workers)
    for series in history["workers"].values():
        assert 0 < len(series["cpu"]) == len(series["memory"]) <= len(history["times"])
        assert series["memory"][-1] > 0
    assert history["times"] == sorted(history["times"]) and history["interval"] == 0.5


def test_metrics_cover_every_worker(client):
    text = _get(_base(client) + "/metrics")
    rows = {r["address"]: r for r in _json(client, "/json/workers")["workers"]}
    for address, row in rows.items():
        labels = f'{{worker="{address}",name="{row["name"]}"}}'
        for family in ("shoal_worker_executing_tasks", "shoal_worker_ready_tasks", "shoal_worker_cpu_percent",
                       "shoal_worker_spilled_bytes", "shoal_worker_transferred_bytes_total",
                       "shoal_worker_disk_write_bytes_total"):
            assert f"{family}{labels} " in text, family
    assert "# TYPE shoal_worker_transferred_bytes_total counter" in text
    assert "shoal_scheduler_transferred_bytes_total " in text


def test_transfer_and_spill_records_are_drawn_and_counted():
    """Task-stream records of transfers and spilling (when the scheduler keeps them) reach every consumer."""
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        a, b = sorted(client.scheduler_info()["workers"])
        now = time.time()
        state = cluster.scheduler.state
        state.record_activity(b, [["transfer", ["x-1"], a, now - 0.2, now, 1000]])
        state.record_activity(a, [["disk-write", ["x-2"], None, now - 0.1, now, 300]])
        entries = _json(client, "/json/task-stream")["tasks"]
        assert [(e["action"], e["worker"], e.get("source")) for e in entries] == [("transfer", b, a),
                                                                                   ("disk-write", a, None)]
        moved = _json(client, "/json/map?since=0")
        assert moved["transfers"] == [{"source": a, "target": b, "key": "x-1", "nbytes": 1000, "stop": now}]
        assert moved["started"] == {}
        text = _get(_base(client) + "/metrics")
        name_of = {r["address"]: r["name"] for r in _json(client, "/json/workers")["workers"]}
        assert f'shoal_worker_transferred_bytes_total{{worker="{b}",name="{name_of[b]}"}} 1000' in text
        assert f'shoal_worker_transferred_bytes_total{{worker="{a}",name="{name_of[a]}"}} 0' in text
        assert f'shoal_worker_served_bytes_total{{worker="{a}",name="{name_of[a]}"}} 1000' in text
        assert f'shoal_worker_disk_write_bytes_total{{worker="{a}",name="{name_of[a]}"}} 300' in text
        assert "shoal_scheduler_transferred_bytes_total 1000" in text


def test_task_stream_cursor_returns_each_entry_once(client):
    first = _json(client, "/json/task-stream")
    cursor = first["cursor"]
    assert _json(client, f"/json/task-stream?cursor={cursor}")["tasks"] == []
    futures = client.map(_inc, range(200, 225))
    wait(futures, timeout=10)
    newer = _json(client, f"/json/task-stream?cursor={cursor}")
    assert sorted(e["key"] for e in newer["tasks"] if e["action"] == "compute") == sorted(str(f.key) for f in futures)
    assert newer["cursor"] == cursor + len(newer["tasks"])
    status = _json(client, f"/json/status?cursor={newer['cursor']}")
    assert status["stream"] == [] and status["cursor"] == newer["cursor"]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(_base(client) + "/json/status?cursor=soon", timeout=10)
    assert info.value.code == 400 and "cursor" in info.value.read().decode()
    info.value.close()

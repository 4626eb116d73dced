"""The pages in headless Chromium: their scripts run, poll the JSON API and draw real data.

Uses Debian's ``chromium`` binary directly (``--dump-dom`` and ``--screenshot``), no Playwright or Selenium.
Skipped when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless browser tests need Debian's `chromium` package "
                                "(apt-get install chromium); none is on PATH")


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    # --no-sandbox: test machines often run as root, where Chromium's sandbox refuses to start.
    # The virtual-time budget lets the page's timers and fetches run (several 500 ms polls) before the DOM is dumped.
    cmd = [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2500", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]


def _base(client) -> str:
    return client.dashboard_link[: -len("/status")]


def test_workers_page_lists_both_workers(busy_client):
    result = _chromium("--dump-dom", _base(busy_client) + "/workers")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    rows = re.findall(r'<tr class="worker" data-address="([^"]+)" data-memory="(\d+)"', dom)
    assert sorted(a for a, _ in rows) == sorted(busy_client.scheduler_info()["workers"])
    assert all(int(memory) > 0 for _, memory in rows)
    assert '<tr class="total"><td>Total (2)</td>' in dom
    assert 'class="error"' not in dom
    assert _console_errors(result.stderr) == []


def test_status_page_draws_the_task_stream(busy_client, tmp_path: Path):
    base = _base(busy_client)
    result = _chromium("--dump-dom", base + "/status")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    bars = re.search(r'<span id="stream-bars">(\d+)</span>', dom)
    assert bars is not None and int(bars.group(1)) >= 40
    assert 'data-name="_inc"' in dom and 'data-name="_double"' in dom
    assert dom.count('class="bar-row"') == 2 + 2  # two prefixes, two workers
    assert _console_errors(result.stderr) == []
    # A screenshot as a test artifact (kept when SHOAL_ARTIFACTS names a directory).
    target = Path(os.environ.get("SHOAL_ARTIFACTS", tmp_path)) / "dashboard-status.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shot = _chromium("--window-size=1200,700", f"--screenshot={target}", base + "/status")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _load(url: str, tmp_path: Path, name: str) -> str:
    """The page's DOM after its scripts ran a few polls; fails on console errors; saves a screenshot artifact."""
    result = _chromium("--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_errors(result.stderr) == []
    assert "scheduler unreachable" not in result.stdout
    target = Path(os.environ.get("SHOAL_ARTIFACTS", tmp_path)) / f"dashboard-{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shot = _chromium("--window-size=1200,800", "--hide-scrollbars", f"--screenshot={target}", url)
    assert shot.returncode == 0 and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot.stderr[-2000:]
    return result.stdout


def _number(dom: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}"[^>]*>(\d+)<', dom)
    assert found is not None, f"no #{element_id} with a number in the page"
    return int(found.group(1))


def test_graph_page_draws_every_task(busy_client, tmp_path: Path):
    dom = _load(_base(busy_client) + "/graph", tmp_path, "graph")
    assert _number(dom, "graph-nodes") == _number(dom, "graph-total") == 40
    assert _number(dom, "graph-edges") == 20  # each _double reads one _inc
    counts = dict(re.findall(r'data-state="([\w-]+)">(\d+)<', dom))
    assert counts["memory"] == "40" and counts["erred"] == "0" and counts["processing"] == "0"


@contextlib.contextmanager
def _working(client) -> Iterator[None]:
    """Keep the cluster busy with short tasks (in a thread) while the block runs; wait for them after."""
    stop = threading.Event()

    def load() -> None:
        batch = 0
        while not stop.is_set():
            batch += 1
            client.gather(client.map(_sleepy, range(20), [batch] * 20, pure=False))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def _sleepy(x: int, batch: int) -> int:
    time.sleep(0.005)
    return x + batch


def test_map_page_animates_tasks_sent_to_workers(busy_client, tmp_path: Path):
    with _working(busy_client):
        dom = _load(_base(busy_client) + "/map", tmp_path, "map")
    assert _number(dom, "map-workers") == 2
    assert _number(dom, "map-sent") > 0


def test_workers_page_charts_cpu_and_memory(busy_client, tmp_path: Path):
    dom = _load(_base(busy_client) + "/workers", tmp_path, "workers")
    assert '<canvas id="cpu-chart" data-lines="2"' in dom and '<canvas id="memory-chart" data-lines="2"' in dom
    assert _number(dom, "history-samples") >= 1


def test_info_pages_list_prefixes_workers_and_logs(busy_client, tmp_path: Path):
    base = _base(busy_client)
    deadline = time.monotonic() + 10  # tasks of earlier tests may still be on their way out
    while busy_client.scheduler_info()["tasks"] != 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    dom = _load(base + "/info", tmp_path, "info")
    assert sorted(re.findall(r'<tr class="prefix" data-prefix="([^"]+)"', dom)) == ["_double", "_inc"]
    assert _number(dom, "info-total") == 40
    links = re.findall(r'<a href="(/info/worker/[^"]+)" class="worker-link"', dom)
    assert len(links) == 2
    busy_client.run(lambda: logging.getLogger("shoal.browser-test").warning("visible on the worker page"))
    worker = _load(base + links[0], tmp_path, "info-worker")
    assert "visible on the worker page" in worker and _number(worker, "log-count") >= 1
    assert _number(worker, "stack-count") == 0

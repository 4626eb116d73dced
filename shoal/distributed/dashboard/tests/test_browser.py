"""The pages in headless Chromium: their scripts run, poll the JSON API and draw real data.

Uses Debian's ``chromium`` binary directly (``--dump-dom`` and ``--screenshot``), no Playwright or Selenium.
Skipped when no Chromium is installed (``apt-get install chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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

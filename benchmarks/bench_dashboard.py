"""What an open dashboard costs a computation (issue 7: at most 10% slower).

A 50,000-task graph (25,000 ``inc`` and a binary tree of ``add``, as in
``bench_distributed``) runs through ``client.compute`` on a LocalCluster of 2
worker processes x 1 thread, alternately with no browser on the dashboard and
with ``/status`` and ``/graph`` open in headless Chromium (each a
``chromium --headless --remote-debugging-port=0 URL`` subprocess, killed
after the run). Best of 3 interleaved runs each; the ratio is with / without.
Skipped (with a message) when no ``chromium`` is installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from operator import add
from typing import Any

from common import report

N_LEAVES = 25_000
REPEAT = 3
PAGES = ("/status", "/graph")
#: Seconds for the browsers to load their pages and start polling before a timed run.
SETTLE = 3.0


def inc(x: int) -> int:
    return x + 1


def tree(delayed: Any) -> Any:
    level = [delayed(inc)(i) for i in range(N_LEAVES)]
    while len(level) > 1:
        level = [delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def run_once(client: Any, delayed: Any) -> tuple[float, int]:
    total = tree(delayed)
    ntasks = len(dict(total.__dask_graph__()))
    start = time.perf_counter()
    result = client.compute(total).result()
    took = time.perf_counter() - start
    assert result == sum(range(1, N_LEAVES + 1))
    del total
    time.sleep(0.5)  # let the releases drain before the next run
    return took, ntasks


class Browsers:
    """Headless Chromium processes showing ``urls`` until the block ends."""

    def __init__(self, binary: str, urls: list[str]) -> None:
        self.binary = binary
        self.urls = urls
        self.procs: list[subprocess.Popen[bytes]] = []
        self.dirs: list[tempfile.TemporaryDirectory[str]] = []

    def __enter__(self) -> Browsers:
        for url in self.urls:
            profile = tempfile.TemporaryDirectory(prefix="shoal-bench-chromium-", ignore_cleanup_errors=True)
            self.dirs.append(profile)
            self.procs.append(subprocess.Popen(
                [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={profile.name}",
                 "--window-size=1280,900", url],
                # Its own process group, so that killing it takes its renderer and GPU processes too.
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        time.sleep(SETTLE)
        dead = [url for url, p in zip(self.urls, self.procs, strict=True) if p.poll() is not None]
        if dead:
            raise RuntimeError(f"chromium exited early on {dead}; run it by hand to see why")
        return self

    def cpu_seconds(self) -> float:
        """CPU time the browsers (with their renderer and GPU child processes) used so far."""
        import psutil

        total = 0.0
        for proc in self.procs:
            try:
                root = psutil.Process(proc.pid)
                family = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                try:
                    times = member.cpu_times()
                    total += times.user + times.system + times.children_user + times.children_system
                except psutil.Error:
                    pass
        return total

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this object started, and nothing else
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait(30)
        for profile in self.dirs:
            profile.cleanup()


def main() -> None:
    import shoal
    from shoal.distributed import Client, LocalCluster

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        print("\ndashboard: skipped (needs Debian's `chromium` package for a headless browser)")
        return
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.submit(inc, 0).result()  # warm up: workers import and connect
        base = client.dashboard_link[: -len("/status")]
        http = cluster.scheduler.dashboard.http
        plain: list[float] = []
        watched: list[float] = []
        requests: list[int] = []
        serving: list[float] = []
        browsing: list[float] = []
        ntasks = 0
        for _ in range(REPEAT):
            took, ntasks = run_once(client, shoal.delayed)
            plain.append(took)
            with Browsers(binary, [base + page for page in PAGES]) as browsers:
                before, busy, cpu = http.requests, http.busy_seconds, browsers.cpu_seconds()
                took, ntasks = run_once(client, shoal.delayed)
                requests.append(http.requests - before)
                serving.append((http.busy_seconds - busy) / took)
                browsing.append((browsers.cpu_seconds() - cpu) / took)
            watched.append(took)
    best_plain, best_watched = min(plain), min(watched)
    report(f"dashboard: {ntasks:,}-task graph via client.compute, LocalCluster 2 processes x 1 thread", [
        ("no browser on the dashboard", ntasks / best_plain, None, "tasks/s"),
        (f"{' and '.join(PAGES)} open in headless chromium", ntasks / best_watched, None, "tasks/s"),
    ])
    print(f"  runs without: {', '.join(f'{t:.2f}' for t in plain)} s; with: {', '.join(f'{t:.2f}' for t in watched)} s")
    print(f"  per watched run: {requests} dashboard requests, answering them took "
          f"{', '.join(f'{f:.1%}' for f in serving)} of the scheduler's event loop; the browsers used "
          f"{', '.join(f'{f:.0%}' for f in browsing)} of one core")
    print(f"  slowdown with the dashboard open: {best_watched / best_plain:.3f}x (target: <= 1.10)")


if __name__ == "__main__":
    main()

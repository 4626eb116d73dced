"""Screenshots of the dashboard's pages while a cluster works, for the README.

Starts a LocalCluster (two worker processes, two threads each), keeps it busy
with a mix of work (a task graph of slow steps, array reductions, a stream of
short tasks), and saves ``dashboard-<page>.png`` next to this script for the
status, workers, graph, map and info pages, using Debian's headless
``chromium``. Run from the repository root::

    .venv/bin/python docs/images/make_screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGES = ["status", "workers", "graph", "map", "info"]
#: Screenshots above this size are reduced to a 128-colour palette (when Pillow is installed).
BUDGET = 250 * 1024


def slow_inc(x: int, delay: float = 0.02) -> int:
    time.sleep(delay)
    return x + 1


def slow_add(a: int, b: int) -> int:
    time.sleep(0.03)
    return a + b


def _tree(delayed, leaves: int, salt: int):
    """A reduction tree of ``leaves`` slow steps (2 * leaves tasks), unique per ``salt``."""
    level = [delayed(slow_inc, pure=False)(i + salt) for i in range(leaves)]
    while len(level) > 1:
        level = [delayed(slow_add, pure=False)(*level[i:i + 2]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def _keep_busy(client, stop: threading.Event) -> None:
    import shoal
    import shoal.array as sa

    round_ = 0
    while not stop.is_set():
        round_ += 1
        tree = client.compute(_tree(shoal.delayed, 150, round_ * 1000))
        x = sa.random.random((4000, 4000), chunks=(500, 500))
        stats = client.compute([(x + x.T).mean(axis=0).sum(), x.std()])
        quick = client.map(slow_inc, range(400), [0.005] * 400, pure=False)
        client.gather([tree, *stats, *quick])


def _chromium(url: str, target: Path, binary: str) -> None:
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--hide-scrollbars", "--window-size=1280,820", "--virtual-time-budget=3000",
                    f"--screenshot={target}", url], check=True, capture_output=True, timeout=120)
    if target.stat().st_size > BUDGET:
        _shrink(target)


def _shrink(target: Path) -> None:
    """Anti-aliased graph edges make large PNGs; a palette image of the same page is a fraction of the size."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(target) as image:
        # Fast octree keeps small patches of strong colour (node states) that
        # median cut merges into the dominant greys of the edges.
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)
    small.save(target, optimize=True)


def main() -> int:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        print("needs Debian's `chromium` package (apt-get install chromium)", file=sys.stderr)
        return 1
    from shoal.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        base = client.dashboard_link[: -len("/status")]
        stop = threading.Event()
        worker = threading.Thread(target=_keep_busy, args=(client, stop), daemon=True)
        worker.start()
        time.sleep(8)  # let the charts gather some history first
        try:
            for page in PAGES:
                target = HERE / f"dashboard-{page}.png"
                _chromium(f"{base}/{page}", target, binary)
                print(f"{target.name}: {target.stat().st_size // 1024} KiB")
            address = sorted(client.scheduler_info()["workers"])[0]
            target = HERE / "dashboard-info-worker.png"
            _chromium(f"{base}/info/worker/{urllib.parse.quote(address, safe='')}", target, binary)
            print(f"{target.name}: {target.stat().st_size // 1024} KiB")
        finally:
            stop.set()
            worker.join(120)
    return 0


if __name__ == "__main__":
    sys.exit(main())

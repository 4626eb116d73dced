"""Client API beyond the core against worker processes on 127.0.0.1: datasets across clients over TCP,
restart_workers through nannies, scheduler files (also on the command line) and shutdown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from shoal.distributed import Client, LocalCluster
from shoal.distributed.tests._procs import get_marker, set_marker
from shoal.distributed.tests._procs import stop as _stop


def inc(x: int) -> int:
    return x + 1


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


def test_dataset_between_clients_over_tcp(cluster):
    x = np.arange(12.0)
    with Client(cluster, set_as_default=False) as a:
        assert a.scheduler_address.startswith("tcp://127.0.0.1:")
        a.publish_dataset(arr=a.scatter(x), total=a.submit(np.sum, x))
    with Client(cluster.scheduler_address, set_as_default=False) as b:
        np.testing.assert_array_equal(b.get_dataset("arr").result(timeout=30), x)
        assert b.get_dataset("total").result(timeout=30) == x.sum()
        b.unpublish_dataset("arr")
        b.unpublish_dataset("total")
        assert b.list_datasets() == ()


def test_versions_across_processes(cluster):
    with Client(cluster, set_as_default=False) as c:
        info = c.get_versions(check=True)
        assert len(info["workers"]) == 2
        assert {v["packages"]["shoal"] for v in info["workers"].values()} == {info["client"]["packages"]["shoal"]}


def test_restart_workers_gives_a_fresh_process(cluster):
    with Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=60)
        markers = c.run(set_marker)
        target, other = sorted(markers)
        kept = c.submit(inc, 1, workers=[other])
        assert kept.result(timeout=30) == 2
        assert c.restart_workers([target], timeout=60) == {target: "OK"}
        after = c.run(get_marker)
        assert len(after) == 2 and target not in after  # the restarted worker has a new address
        assert after[other] == markers[other]
        assert [v for a, v in after.items() if a != other] == [None]
        assert kept.result(timeout=30) == 2 and c.who_has([kept])[kept.key] == [other]
        assert c.submit(inc, 10, pure=False).result(timeout=30) == 11
        with pytest.raises(ValueError, match="no worker"):
            c.restart_workers(["tcp://127.0.0.1:1"])
        failed = c.restart_workers(["tcp://127.0.0.1:1"], raise_for_error=False)
        assert "no worker" in failed["tcp://127.0.0.1:1"]


def test_restart_workers_needs_a_nanny():
    with Client(processes=False, n_workers=1, set_as_default=False) as c:
        [address] = c.nthreads()
        with pytest.raises(ValueError, match="without a nanny"):
            c.restart_workers([address], timeout=5)


# ---------------------------------------------------------------------- scheduler files and shutdown

def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_cli_scheduler_file_and_shutdown(tmp_path):
    path = tmp_path / "scheduler.json"
    cmd = [sys.executable, "-m", "shoal.cli"]
    # The worker starts first and waits for the file to appear.
    worker = subprocess.Popen([*cmd, "worker", "--scheduler-file", str(path), "--nthreads", "1", "--memory-limit",
                               "0", "--log-level", "error", "--death-timeout", "60"], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen([*cmd, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(path)],
                                 env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Client(scheduler_file=str(path), set_as_default=False, timeout=30) as c:
            info = json.loads(path.read_text())
            assert c.scheduler_address == info["address"] and info["address"].startswith("tcp://127.0.0.1:")
            assert not [p for p in os.listdir(tmp_path) if p != "scheduler.json"]  # no temporary file left
            c.wait_for_workers(1, timeout=60)
            assert c.submit(inc, 1).result(timeout=30) == 2
            with pytest.raises(ValueError, match="already"):  # as in Dask: one scheduler file per client
                c.write_scheduler_file(str(tmp_path / "copy.json"))
            with Client(c.scheduler_address, set_as_default=False, timeout=30) as by_address:
                by_address.write_scheduler_file(str(tmp_path / "copy.json"))
            with Client(scheduler_file=str(tmp_path / "copy.json"), set_as_default=False, timeout=30) as d:
                assert d.submit(inc, 2).result(timeout=30) == 3
            c.shutdown()
            assert c.status == "closed"
        assert scheduler.wait(30) == 0
        assert worker.wait(30) == 0
    finally:
        _stop(worker)
        _stop(scheduler)


def test_scheduler_file_that_never_appears(tmp_path):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="did not appear within 0.5s"):
        Client(scheduler_file=str(tmp_path / "missing.json"), timeout=0.5, set_as_default=False)
    assert time.monotonic() - start < 10


def test_worker_needs_an_address_or_file():
    proc = subprocess.run([sys.executable, "-m", "shoal.cli", "worker"], env=_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "--scheduler-file" in proc.stderr


def test_retire_worker_process_keeps_results():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=60)
        first, second = sorted(c.nthreads())
        [scattered] = c.scatter([np.arange(5)], workers=[first])
        made = c.map(inc, range(6), workers=[first])
        assert c.gather(made) == list(range(1, 7))
        retired = c.retire_workers([first])
        assert list(retired) == [first] and retired[first]["nthreads"] == 1
        assert list(c.nthreads()) == [second]
        assert all(holders == [second] for holders in c.who_has(made + [scattered]).values())
        np.testing.assert_array_equal(scattered.result(timeout=30), np.arange(5))
        assert c.gather(made) == list(range(1, 7))
        # The retired worker's process ended for good: its nanny did not start another.
        deadline = time.monotonic() + 30
        while sum(n.poll() is None for n in cluster.workers.values()) != 1:
            assert time.monotonic() < deadline, "the retired worker process did not exit"
            time.sleep(0.05)

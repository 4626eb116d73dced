"""retire_workers(close_workers=False): the worker leaves the scheduler for good but its process keeps running."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from shoal import config
from shoal.distributed import Client, LocalCluster
from shoal.distributed._loop import run_sync
from shoal.distributed.tests._procs import stop


def inc(x: int) -> int:
    return x + 1


def _identity(client: Client, address: str) -> dict:
    return run_sync(client._pool.call(address, {"op": "identity"}), 30)


def _stays_away(client: Client, address: str, seconds: float) -> bool:
    """Whether ``address`` stays unregistered for ``seconds`` (a reconnecting worker would be back sooner)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if address in client.nthreads():
            return False
        time.sleep(0.02)
    return True


def test_retired_in_process_worker_stays_up_but_away():
    with config.set({"distributed.worker.heartbeat-interval": "0.05s"}), \
            Client(processes=False, n_workers=2, threads_per_worker=1, set_as_default=False) as client:
        cluster = client.cluster
        first, second = sorted(client.nthreads())
        [x] = client.scatter([np.arange(4)], workers=[first])
        made = client.map(inc, range(4), workers=[first])
        assert client.gather(made) == [1, 2, 3, 4]
        retired = client.retire_workers([first], close_workers=False)
        assert list(retired) == [first]
        assert list(client.nthreads()) == [second]
        assert all(holders == [second] for holders in client.who_has([x, *made]).values())
        np.testing.assert_array_equal(x.result(timeout=30), np.arange(4))
        worker = next(w for w in cluster.workers.values() if w.address == first)
        assert worker.status == "retired"
        assert _stays_away(client, first, 0.5)  # ten heartbeat intervals, no reconnection
        assert _identity(client, first)["address"] == first  # still serving
        assert client.gather(client.map(inc, range(4))) == [1, 2, 3, 4]
    assert worker.status == "closed"  # closing the cluster ends it


def test_retire_closes_workers_by_default():
    with Client(processes=False, n_workers=2, threads_per_worker=1, set_as_default=False) as client:
        first, _ = sorted(client.nthreads())
        client.retire_workers([first])
        worker = next(w for w in client.cluster.workers.values() if w.address == first)
        deadline = time.monotonic() + 30
        while worker.status != "closed":
            assert time.monotonic() < deadline, "the retired worker did not close"
            time.sleep(0.01)


def test_retired_worker_process_keeps_running():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)
        first, second = sorted(pids)
        made = client.map(inc, range(4), workers=[first])
        assert client.gather(made) == [1, 2, 3, 4]
        assert list(client.retire_workers([first], close_workers=False)) == [first]
        assert list(client.nthreads()) == [second]
        assert client.gather(made) == [1, 2, 3, 4]
        assert _stays_away(client, first, 0.5)
        assert _identity(client, first)["pid"] == pids[first]  # the same process, up and answering
        nanny = next(n for n in cluster.workers.values() if n.pid == pids[first])
        assert nanny.poll() is None and nanny.restarts == 0
    assert nanny.process.poll() is not None  # cluster.close() finished it off


def test_retired_cli_worker_does_not_reconnect_and_ends_on_sigterm():
    # A `shoal worker` reconnects to its scheduler by default: retired, it must stay away until stopped.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
           "SHOAL_DISTRIBUTED__WORKER__RECONNECT_BACKOFF": "0.05s"}
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(1, timeout=60)
        [kept] = client.nthreads()
        proc = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", cluster.scheduler_address, "--nthreads",
                                 "1", "--memory-limit", "0", "--name", "external", "--log-level", "error"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(2, timeout=60)
            [external] = [w for w in client.nthreads() if w != kept]
            [x] = client.scatter([41], workers=[external])
            assert list(client.retire_workers(["external"], close_workers=False)) == [external]
            assert client.who_has([x]) == {x.key: [kept]}
            assert _stays_away(client, external, 1.0)
            assert proc.poll() is None  # still running, for the external system to end
            assert _identity(client, external)["name"] == "external"
        finally:
            assert stop(proc) == 0  # SIGTERM: a clean exit, as any worker
        assert x.result(timeout=30) == 41

"""The nanny: restarts worker processes that die or pass the terminate memory fraction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import shoal
from shoal.distributed import Client, KilledWorker, LocalCluster
from shoal.distributed.tests._procs import wait_until as _wait


def inc(x):
    return x + 1


def hog(nbytes):
    import numpy as np

    block = np.ones(nbytes // 8)  # touched pages: they count in the RSS
    deadline = time.monotonic() + 30  # bounded: the nanny kills us long before
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return block.sum()


def _pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie (not yet reaped by its parent) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_memory_hog_is_killed_then_errs_killed_worker():
    with shoal.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, memory_limit="200MB", dashboard_address=None)
    with cluster, Client(cluster, set_as_default=False) as client:
        fut = client.submit(hog, 400_000_000)
        with pytest.raises(KilledWorker, match="hog"):
            fut.result(timeout=60)
        [nanny] = cluster.workers.values()
        assert nanny.memory_kills == 2
        _wait(lambda: nanny.restarts == 2)
        client.wait_for_workers(1, timeout=30)
        assert client.submit(inc, 1).result(timeout=30) == 2


def test_dead_worker_process_is_restarted():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        [old] = client.nthreads()
        [pid] = client.run(os.getpid).values()
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: set(client.nthreads()) - {old})
        [nanny] = cluster.workers.values()
        assert nanny.restarts == 1 and nanny.pid != pid
        assert client.submit(inc, 1).result(timeout=30) == 2
    assert nanny.poll() is not None and _pid_gone(nanny.pid)


def test_cli_worker_runs_under_a_nanny():
    with LocalCluster(n_workers=0, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        proc = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", cluster.scheduler_address,
                                 "--nthreads", "1", "--log-level", "error"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client.wait_for_workers(1, timeout=30)
            [(old, pid)] = client.run(os.getpid).items()
            assert pid != proc.pid  # the worker is the nanny's child
            os.kill(pid, signal.SIGKILL)
            _wait(lambda: set(client.nthreads()) - {old})
            _wait(lambda: old not in client.nthreads())
            [new_pid] = client.run(os.getpid).values()
            assert new_pid != pid
            proc.send_signal(signal.SIGTERM)  # forwarded: the worker closes cleanly, then the nanny exits
            assert proc.wait(20) == 0
            _wait(lambda: _pid_gone(new_pid), timeout=10)
            _wait(lambda: not client.nthreads(), timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_cli_nanny_gives_up_when_the_worker_cannot_start():
    proc = subprocess.run([sys.executable, "-m", "shoal.cli", "worker", "tcp://127.0.0.1:9", "--death-timeout", "0.5",
                           "--log-level", "critical"], capture_output=True, timeout=60)
    assert proc.returncode == 3

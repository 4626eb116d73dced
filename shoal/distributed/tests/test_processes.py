"""Real multi-process clusters on 127.0.0.1: LocalCluster, the command line, and a SIGKILLed worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from shoal.distributed import Client, KilledWorker, LocalCluster
from shoal.distributed.tests._procs import read_line as _read_line
from shoal.distributed.tests._procs import stop as _stop


def inc(x):
    return x + 1


def slow_inc(x, delay=0.2):
    time.sleep(delay)
    return x + 1


def crash(x):
    os._exit(1)


def pid():
    return os.getpid()


@pytest.fixture
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as c:
        yield c
    for proc in c.workers.values():
        assert proc.poll() is not None


def test_local_cluster_processes(cluster):
    with Client(cluster) as client:
        assert len(client.nthreads()) == 2
        pids = set(client.run(pid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        assert client.gather(client.map(inc, range(200))) == list(range(1, 201))
        x = np.random.default_rng(0).random(500_000)
        [fx] = client.scatter([x])
        np.testing.assert_allclose(client.submit(np.sort, fx).result(timeout=30), np.sort(x))
        with pytest.raises(ZeroDivisionError):
            client.submit(lambda: 1 / 0, pure=False).result(timeout=30)
        # garbage on the wire closes that connection only
        host, port = cluster.scheduler_address[len("tcp://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"\xff" * 64)
        assert client.submit(inc, 41).result(timeout=30) == 42
        # a dependency computed on one worker is fetched by the other
        a = client.submit(np.ones, 1000, workers=[sorted(client.nthreads())[0]])
        b = client.submit(np.sum, a, workers=[sorted(client.nthreads())[1]])
        assert b.result(timeout=30) == 1000


def test_scale(cluster):
    with Client(cluster) as client:
        cluster.scale(3)
        assert len(client.nthreads()) == 3
        cluster.scale(1)
        assert len(client.nthreads()) == 1
        assert client.submit(inc, 1).result(timeout=30) == 2


def test_killed_worker_is_recovered(cluster):
    with Client(cluster) as client:
        workers = sorted(client.nthreads())
        # results on the first worker, then kill it while the second is busy
        held = client.map(inc, range(10), workers=[workers[0]], allow_other_workers=True)
        client.gather(held)
        victim_pid = client.run(pid, workers=[workers[0]])[workers[0]]
        slow = client.map(slow_inc, range(4), workers=[workers[0]], allow_other_workers=True)
        total = client.submit(sum, held)
        os.kill(victim_pid, signal.SIGKILL)
        assert total.result(timeout=60) == sum(range(1, 11))
        assert client.gather(slow) == [1, 2, 3, 4]


def test_task_that_kills_workers_errs(cluster):
    with Client(cluster) as client:
        cluster.scale(4)
        fut = client.submit(crash, 1)
        with pytest.raises(KilledWorker, match="crash"):
            fut.result(timeout=120)


def test_cli_scheduler_and_worker():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sched = subprocess.Popen([sys.executable, "-m", "shoal.cli", "scheduler", "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env)
    worker = None
    try:
        address = _read_line(sched, "Scheduler at:")
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", address, "--nthreads", "2",
                                   "--name", "cli-worker"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, env=env)
        assert _read_line(worker, "Worker at:").startswith("tcp://")
        with Client(address) as client:
            client.wait_for_workers(1, timeout=30)
            assert list(client.nthreads().values()) == [2]
            assert client.submit(inc, 1, workers="cli-worker").result(timeout=30) == 2
        assert _stop(worker) == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
            worker.stdout.close()
        assert _stop(sched) == 0


def test_worker_reconnects_when_scheduler_restarts():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "shoal.cli", "scheduler", "--port", str(port)]
    sched = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    worker = None
    try:
        address = _read_line(sched, "Scheduler at:")
        worker = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", address, "--nthreads", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        _read_line(worker, "Worker at:")
        assert _stop(sched) == 0
        sched = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert _read_line(sched, "Scheduler at:") == address
        with Client(address) as client:
            client.wait_for_workers(1, timeout=30)
            assert client.submit(inc, 1).result(timeout=30) == 2
        assert worker.poll() is None
    finally:
        if worker is not None:
            _stop(worker)
        _stop(sched)


def test_busy_worker_reports_cpu_use() -> None:
    # A worker spinning on a task must report CPU use with its heartbeats (it once always said 0.0).
    import time as _time

    from shoal.distributed import Client

    def spin(seconds: float) -> float:
        end = _time.perf_counter() + seconds
        while _time.perf_counter() < end:
            pass
        return seconds

    with Client(n_workers=1, threads_per_worker=1, set_as_default=False, dashboard_address=None) as client:
        future = client.submit(spin, 4.0)
        deadline = _time.monotonic() + 30
        seen = 0.0
        while _time.monotonic() < deadline and not future.done():
            seen = max(seen, *(w["metrics"]["cpu"] for w in client.scheduler_info()["workers"].values()))
            if seen > 20:
                break
            _time.sleep(0.2)
        assert seen > 20, f"a worker spinning on a task reported at most {seen}% CPU"
        future.result(timeout=30)

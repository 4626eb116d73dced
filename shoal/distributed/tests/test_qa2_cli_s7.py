"""QA round 2 fixes to ``shoal scheduler`` / ``shoal worker``, run as real processes on 127.0.0.1.

Each behaviour is Dask's (``dask scheduler`` / ``dask worker`` of distributed
2026.x): ``--memory-limit 0.5`` is half the machine, ``--nworkers 2 --name qw``
makes ``qw-0`` and ``qw-1``, a second worker with a taken name fails to start
("name taken"), and the options ``--worker-port``, ``--local-directory``,
``--lifetime``, ``--pid-file``, ``--dashboard-address``/``--no-dashboard``
and the scheduler's ``--idle-timeout``/``--pid-file`` work.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from shoal.distributed import Client
from shoal.distributed.memory import system_memory
from shoal.distributed.nanny import EXIT_START_FAILED
from shoal.distributed.tests._procs import read_line, stop

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
CLI = [sys.executable, "-m", "shoal.cli"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)


def finish(proc: subprocess.Popen) -> None:
    """Stop ``proc`` if still running (used in ``finally``: never leaves a process behind)."""
    if proc.poll() is None:
        try:
            stop(proc)
        except subprocess.TimeoutExpired:
            pass
    elif proc.stdout is not None and not proc.stdout.closed:
        proc.stdout.close()


def wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scheduler(tmp_path):
    """A ``shoal scheduler`` writing a scheduler file and a pid file; yields (process, address, paths)."""
    sched_file, pid_file = tmp_path / "scheduler.json", tmp_path / "scheduler.pid"
    proc = start("scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file),
                 "--pid-file", str(pid_file))
    try:
        address = read_line(proc, "Scheduler at:")
        yield proc, address, sched_file, pid_file
    finally:
        finish(proc)


def test_nworkers_names_memory_fraction_and_a_taken_name(scheduler):
    proc, address, sched_file, pid_file = scheduler
    assert int(pid_file.read_text()) == proc.pid
    info = json.loads(sched_file.read_text())
    # As Dask's scheduler file: its identity, the same keys as scheduler_info().
    assert info["address"] == address and info["type"] == "Scheduler"
    assert {"id", "n_workers", "total_threads", "total_memory", "workers"} <= set(info)
    workers = start("worker", address, "--nworkers", "2", "--nthreads", "1", "--name", "qw", "--memory-limit", "0.5",
                    "--no-nanny")
    dup = None
    try:
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            ws = client.scheduler_info()["workers"]
            assert sorted(w["name"] for w in ws.values()) == ["qw-0", "qw-1"]
            assert [w["memory_limit"] for w in ws.values()] == [system_memory() // 2] * 2
            # A worker whose name is taken is refused and does not start, as in Dask ("name taken, qw-0").
            dup = start("worker", address, "--nthreads", "1", "--name", "qw-0", "--no-nanny")
            out, _ = dup.communicate(timeout=60)
            assert dup.returncode == EXIT_START_FAILED
            assert "name taken, qw-0" in out
            assert len(client.scheduler_info()["workers"]) == 2
        assert stop(workers) == 0
    finally:
        finish(workers)
        if dup is not None:
            finish(dup)
    assert stop(proc) == 0
    assert not pid_file.exists()  # removed at exit, as Dask's


def test_worker_port_local_directory_pid_file_and_lifetime(scheduler, tmp_path):
    _, address, _, _ = scheduler
    port, local, pid_file = free_port(), tmp_path / "scratch", tmp_path / "worker.pid"
    # Retiring moves results off the worker: a second worker with no lifetime keeps them.
    keeper = start("worker", address, "--nthreads", "1", "--name", "keeper", "--no-nanny")
    worker = start("worker", address, "--nthreads", "1", "--name", "aging", "--worker-port", str(port),
                   "--local-directory", str(local), "--lifetime", "4s", "--pid-file", str(pid_file),
                   "--dashboard-address", ":0", "--no-dashboard", "--no-nanny")
    try:
        assert read_line(worker, "Worker at:") == f"tcp://127.0.0.1:{port}"
        assert int(pid_file.read_text()) == worker.pid
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            ws = client.scheduler_info()["workers"]
            aging = ws[f"tcp://127.0.0.1:{port}"]
            assert aging["name"] == "aging"
            assert os.path.dirname(aging["local_directory"]) == str(local)
            held = client.submit(sum, [1, 2], workers="aging")
            assert held.result(timeout=30) == 3
            worker.wait(timeout=60)  # the lifetime ends it
            assert worker.returncode == 0
            assert [w["name"] for w in client.scheduler_info()["workers"].values()] == ["keeper"]
            assert held.result(timeout=30) == 3 and list(client.who_has([held]).values()) != [[]]
        assert not pid_file.exists()
    finally:
        finish(worker)
        finish(keeper)


def test_scheduler_idle_timeout(tmp_path):
    proc = start("scheduler", "--port", "0", "--no-dashboard", "--idle-timeout", "1")
    try:
        read_line(proc, "Scheduler at:")
        proc.wait(timeout=30)  # nothing to do: it exits on its own, as Dask's after idle-timeout
        assert proc.returncode == 0
    finally:
        finish(proc)


@pytest.mark.parametrize(("option", "message"), [(["--memory-limit", "bogus"], "--memory-limit"),
                                                 (["--lifetime", "soon"], "--lifetime")])
def test_bad_worker_options_say_what_is_wrong(option, message):
    proc = subprocess.run([*CLI, "worker", "tcp://127.0.0.1:1", "--no-nanny", "--death-timeout", "1", *option],
                          capture_output=True, text=True, timeout=60, env=ENV)
    assert proc.returncode != 0 and message in proc.stderr

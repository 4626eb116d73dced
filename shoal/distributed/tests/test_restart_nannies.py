"""client.restart against a command-line scheduler whose workers run under nannies (and one without)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from shoal.distributed import Client
from shoal.distributed.tests._procs import read_line as _read_line
from shoal.distributed.tests._procs import get_marker, set_marker
from shoal.distributed.tests._procs import stop as _stop


def parent_pid() -> int:
    return os.getppid()


def held_keys(dask_worker) -> list:
    return list(dask_worker.state.data)


def inc(x: int) -> int:
    return x + 1


@pytest.fixture
def cli_cluster() -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """A ``shoal scheduler``, ``shoal worker --nanny --nworkers 2``, a named nanny worker and a bare worker."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    cmd = [sys.executable, "-m", "shoal.cli"]
    procs: dict[str, subprocess.Popen] = {}
    try:
        procs["scheduler"] = subprocess.Popen([*cmd, "scheduler", "--port", "0", "--no-dashboard"],
                                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        address = _read_line(procs["scheduler"], "Scheduler at:")
        common = ["--nthreads", "1", "--memory-limit", "0", "--log-level", "error"]
        for label, extra in [("pair", ["--nanny", "--nworkers", "2"]), ("solo", ["--nanny", "--name", "solo"]),
                             ("bare", ["--no-nanny", "--name", "bare"])]:
            procs[label] = subprocess.Popen([*cmd, "worker", address, *common, *extra], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, env=env)
        yield address, procs
    finally:
        for label in ("pair", "solo", "bare", "scheduler"):
            if label in procs:
                _stop(procs[label])


def test_restart_gives_nanny_workers_fresh_processes(cli_cluster):
    address, _ = cli_cluster
    with Client(address, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(4, timeout=60)
        by_name = {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}
        bare = by_name["bare"]
        pids = client.run(os.getpid)
        client.run(set_marker)
        held = client.submit(inc, 1, workers=[bare])
        assert held.result(timeout=30) == 2

        client.restart(timeout=60)

        assert held.status == "cancelled"
        assert len(client.nthreads()) == 4
        new_pids = client.run(os.getpid)
        markers = client.run(get_marker)
        # The three workers under a nanny are new processes (new addresses too); globals start afresh.
        fresh = [a for a in new_pids if a != bare]
        assert len(fresh) == 3 and not {new_pids[a] for a in fresh} & set(pids.values())
        assert all(markers[a] is None for a in fresh)
        # The worker without a nanny kept its process: only its tasks and results were cleared.
        assert new_pids[bare] == pids[bare] and markers[bare] == pids[bare]
        assert client.run(held_keys, workers=[bare])[bare] == []
        assert client.gather(client.map(inc, range(20))) == list(range(1, 21))
        assert "solo" in {info["name"] for info in client.scheduler_info()["workers"].values()}


def test_restart_timeout_names_the_missing_worker(cli_cluster):
    address, _ = cli_cluster
    with Client(address, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(4, timeout=60)
        by_name = {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}
        solo = by_name["solo"]
        # A stopped nanny cannot start the replacement: the restart must time out and say which worker.
        nanny_pid = client.run(parent_pid, workers=[solo])[solo]
        os.kill(nanny_pid, signal.SIGSTOP)
        try:
            with pytest.raises(TimeoutError, match="solo") as info:
                client.restart(timeout=10)  # the others are back well before this, even on a loaded machine
            message = str(info.value)
            assert "3 of 4 workers" in message and solo in message
            assert all(a not in message for n, a in by_name.items() if n != "solo")
        finally:
            os.kill(nanny_pid, signal.SIGCONT)
        client.wait_for_workers(4, timeout=60)
        assert client.submit(inc, 1, workers=["solo"]).result(timeout=30) == 2

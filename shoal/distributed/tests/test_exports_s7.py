"""Dask's top-level names that shoal has under other names: Scheduler, Worker, Nanny, Status, TimeoutError,
Adaptive, SubprocessCluster and CompatibleExecutor."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import os

import pytest

import shoal.distributed as sd
from shoal.distributed import (
    Adaptive,
    Client,
    CompatibleExecutor,
    LocalCluster,
    Nanny,
    Scheduler,
    Status,
    SubprocessCluster,
    Worker,
)


def test_new_names_are_exported():
    for name in ("Adaptive", "CompatibleExecutor", "InstallPlugin", "NannyPlugin", "Reschedule", "Scheduler",
                 "Status", "SubprocessCluster", "TimeoutError", "Worker"):
        assert name in sd.__all__ and hasattr(sd, name)
    assert sd.TimeoutError is builtins.TimeoutError
    assert Status.running == "running" and Status("closed") is Status.closed


def test_scheduler_worker_and_nanny_as_async_context_managers():
    async def main():
        async with Scheduler() as s:
            assert s.address.startswith("tcp://127.0.0.1:") and s.status == Status.running
            async with Worker(s.address, nthreads=2, name="w") as w:
                assert w.status == Status.running and w.nthreads == 2
                async with Client(s.address, asynchronous=True, set_as_default=False) as client:
                    assert await client.submit(pow, 2, 5) == 32
                    assert list((await client.scheduler_info())["workers"].values())[0]["name"] == "w"
            async with Nanny(s.address, ["--nthreads", "1"]) as n:
                async with Client(s.address, asynchronous=True, set_as_default=False) as client:
                    await client.wait_for_workers(1, timeout=30)
                    pid = await client.submit(os.getpid, pure=False)
                    assert pid == n.pid != os.getpid()
        async with Scheduler(protocol="inproc") as s, Worker(s.address, memory_limit=0) as w:
            assert w.address.startswith("inproc://")

    asyncio.run(asyncio.wait_for(main(), 60))


def test_server_constructors_refuse_unknown_keywords():
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['colour'\\]"):
        Scheduler(colour="red")
    with pytest.raises(TypeError, match="scheduler's address"):
        Worker()


def test_adaptive_is_what_adapt_returns():
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        adaptive = cluster.adapt(minimum=0, maximum=1)
        assert isinstance(adaptive, Adaptive)
        adaptive.stop()


def test_compatible_executor_over_the_current_client():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        with client.as_current(), CompatibleExecutor() as ex:
            assert isinstance(ex, concurrent.futures.Executor)
            assert list(ex.map(abs, [-1, 2, -3])) == [1, 2, 3]
        with CompatibleExecutor(client, pure=True) as ex:
            assert ex.submit(sum, [1, 2]).result(timeout=30) == 3


def test_subprocess_cluster_runs_the_scheduler_in_its_own_process():
    with SubprocessCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        scheduler_pid = cluster.scheduler_process.pid
        assert scheduler_pid != os.getpid()
        with Client(cluster, set_as_default=False) as client:
            assert client.submit(os.getpid, pure=False).result(timeout=30) not in (os.getpid(), scheduler_pid)
            cluster.scale(2)
            assert len(client.nthreads()) == 2 and len(cluster.scheduler_info["workers"]) == 2
            x = client.submit(sum, [20, 22], workers=[_address(cluster, "1")])
            assert x.result(timeout=30) == 42
            cluster.scale(1)  # retires worker 1: its result moves first
            assert len(client.nthreads()) == 1 and x.result(timeout=30) == 42
        processes = [cluster.scheduler_process, *cluster.workers.values()]
    assert all(p.poll() is not None for p in processes)


def _address(cluster, name):
    return next(a for a, w in cluster.scheduler_info["workers"].items() if w["name"] == name)

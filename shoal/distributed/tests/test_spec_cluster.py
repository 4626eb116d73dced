"""SpecCluster: clusters built from worker specs, scaled from a template, adapting to the work queued."""

from __future__ import annotations

import asyncio
import os
import threading

import numpy as np
import pytest

from shoal.distributed import Client, Nanny, SpecCluster, WorkerStartError
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer
from shoal.distributed.tests._procs import wait_until as _wait

INPROC = {"cls": SchedulerServer, "options": {"protocol": "inproc"}}
THREAD_WORKER = {"cls": WorkerServer, "options": {"nthreads": 2}}


def _getenv(name):
    return os.environ.get(name)  # a bound os.environ.get would pickle this process's environment with it


def _names(client):
    return sorted(str(w["name"]) for w in client.scheduler_info()["workers"].values())


def test_workers_from_spec_compute_and_scale():
    workers = {"a": THREAD_WORKER, "b": {"cls": WorkerServer, "options": {"nthreads": 1}}}
    with SpecCluster(workers=workers, scheduler=INPROC, worker=THREAD_WORKER) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert sorted(cluster.workers) == sorted(cluster.worker_spec) == ["a", "b"]
        assert {w["name"]: w["nthreads"] for w in client.scheduler_info()["workers"].values()} == {"a": 2, "b": 1}
        data = np.arange(40.0)
        futures = client.map(np.square, np.split(data, 8))
        assert np.array_equal(np.concatenate(client.gather(futures)), data ** 2)

        cluster.scale(4)  # two copies of the template, named in order of creation
        assert sorted(cluster.worker_spec) == ["0", "1", "a", "b"]
        assert _names(client) == ["0", "1", "a", "b"]
        assert cluster.threads_per_worker == 2

        cluster.scale(1)  # the newest go first; results they held move to the survivor
        assert list(cluster.worker_spec) == ["a"] and _names(client) == ["a"]
        assert np.array_equal(np.concatenate(client.gather(futures)), data ** 2)

        cluster.scale_up(2)
        assert _names(client) == ["2", "a"]
        cluster.scale_down(["a"])
        assert _names(client) == ["2"] and list(cluster.workers) == ["2"]
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
    assert cluster.status == "closed" and cluster.workers == {}


def test_nanny_workers_run_in_processes_with_env():
    spec = {"cls": Nanny, "options": {"nthreads": 2, "memory_limit": "1GiB", "env": {"SHOAL_SPEC_TEST": "yes"}}}
    with SpecCluster(workers={"p": spec}, worker=spec) as cluster, Client(cluster, set_as_default=False) as client:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        (info,) = client.scheduler_info()["workers"].values()
        assert (info["name"], info["nthreads"], info["memory_limit"]) == ("p", 2, 1 << 30)
        pids = client.run(os.getpid)
        assert os.getpid() not in pids.values()
        env = client.run(_getenv, "SHOAL_SPEC_TEST")
        assert list(env.values()) == ["yes"]
        x = np.random.default_rng(0).random((20, 5))
        assert np.allclose(client.submit(np.linalg.norm, x, axis=0).result(timeout=30), np.linalg.norm(x, axis=0))
        nanny = cluster.workers["p"]
        cluster.scale(2)
        assert _names(client) == ["0", "p"]
    assert nanny.poll() is not None and nanny.process.poll() is not None


def _blocked(event, i):
    assert event.wait(30)
    return i * 2


def test_adapt_grows_with_queued_work_and_shrinks_when_idle():
    template = {"cls": WorkerServer, "options": {"nthreads": 1}}
    with SpecCluster(scheduler=INPROC, worker=template) as cluster, Client(cluster, set_as_default=False) as client:
        assert cluster.workers == {}
        cluster.adapt(minimum=0, maximum=3, interval="20ms", wait_count=2)
        gate = threading.Event()
        futures = client.map(_blocked, [gate] * 5, range(5), pure=False)
        _wait(lambda: len(cluster._live_names()) == 3)  # five tasks, one thread each, capped at three
        gate.set()
        assert client.gather(futures) == [0, 2, 4, 6, 8]
        del futures
        _wait(lambda: len(cluster._live_names()) == 0)
        cluster.scale(1)  # scaling by hand stops adapting
        assert cluster._adaptive is None and len(_names(client)) == 1


def test_bad_specs_are_refused_clearly():
    with pytest.raises(TypeError, match=r"workers\['a'\] must be a dict like"):
        SpecCluster(workers={"a": WorkerServer}, scheduler=INPROC)
    with pytest.raises(TypeError, match="'options' of worker= must be a dict"):
        SpecCluster(scheduler=INPROC, worker={"cls": WorkerServer, "options": [1]})
    with SpecCluster(scheduler=INPROC) as cluster:
        with pytest.raises(ValueError, match="needs a template for new workers"):
            cluster.scale(1)
        with pytest.raises(ValueError, match="needs a template"):
            cluster.adapt(maximum=2)
        with pytest.raises(ValueError, match="needs a template"):
            cluster.scale(memory="4GiB")
    bad = {"cls": Nanny, "options": {"threads": 2}}
    with pytest.raises(TypeError, match=r"Nanny worker '0' got options \['threads'\]"):
        SpecCluster(workers={0: bad})


def test_worker_that_cannot_start_is_reported():
    class Broken(WorkerServer):
        async def start(self):
            self.status = "closed"
            return self

    with pytest.raises(WorkerStartError, match=r"workers \['x'\] stopped before registering"):
        SpecCluster(workers={"x": {"cls": Broken, "options": {}}}, scheduler=INPROC)


def test_asynchronous_cluster():
    asyncio.run(_asynchronous_cluster())


async def _asynchronous_cluster():
    async with SpecCluster(workers={"w": THREAD_WORKER}, scheduler=INPROC, worker=THREAD_WORKER,
                           asynchronous=True) as cluster:
        async with Client(cluster, asynchronous=True, set_as_default=False) as client:
            assert await client.submit(pow, 3, 4) == 81
            await cluster.scale(2)
            assert sorted(cluster.workers) == ["0", "w"]
    assert cluster.status == "closed"

"""SpecCluster.scale(memory=, cores=), adapt bounds in cores and memory, and group specs (one entry, several
workers named ``name + suffix``), as Dask's SpecCluster."""

from __future__ import annotations

import os

import numpy as np
import pytest

from shoal.distributed import Client, Nanny, SpecCluster
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer

INPROC = {"cls": SchedulerServer, "options": {"protocol": "inproc"}}
TEMPLATE = {"cls": WorkerServer, "options": {"nthreads": 2, "memory_limit": "1 GiB"}}
PAIR = {"cls": WorkerServer, "options": {"nthreads": 1, "memory_limit": "1 GiB"}, "group": ["-0", "-1"]}


def _names(client):
    return sorted(str(w["name"]) for w in client.scheduler_info()["workers"].values())


def test_scale_by_memory_and_cores():
    with SpecCluster(scheduler=INPROC, worker=TEMPLATE) as cluster, Client(cluster, set_as_default=False) as client:
        cluster.scale(memory="3 GiB")  # ceil(3 GiB / 1 GiB)
        assert _names(client) == ["0", "1", "2"]
        cluster.scale(cores=7)  # ceil(7 / 2)
        assert _names(client) == ["0", "1", "2", "3"]
        assert sum(client.nthreads().values()) == 8
        cluster.scale(1, memory="1.5 GiB", cores=1)  # the largest of the three: 2
        assert _names(client) == ["0", "1"]  # the newest went
        cluster.scale(memory=2 * 2**30 + 1)  # bytes as a number
        assert _names(client) == ["0", "1", "4"]
        cluster.scale(0)
        assert _names(client) == [] and cluster.plan == set()


def test_scale_by_resources_needs_a_template_that_says_how_much():
    with SpecCluster(scheduler=INPROC) as cluster:
        with pytest.raises(ValueError, match="needs a template"):
            cluster.scale(memory="4 GiB")
    no_memory = {"cls": WorkerServer, "options": {"nthreads": 1}}
    with SpecCluster(scheduler=INPROC, worker=no_memory) as cluster:
        with pytest.raises(ValueError, match="'memory_limit'"):
            cluster.scale(memory="4 GiB")
        cluster.scale(cores=2)  # WorkerServer's default is one thread: two workers
        assert sorted(cluster.workers) == ["0", "1"]


def test_adapt_bounds_in_cores_and_memory():
    with SpecCluster(scheduler=INPROC, worker=TEMPLATE) as cluster:
        adaptive = cluster.adapt(minimum_cores=3, maximum_memory="5 GiB", interval="1s")
        assert (adaptive.minimum, adaptive.maximum) == (2, 5)
        adaptive = cluster.adapt(minimum=1, maximum=10, maximum_cores=6, minimum_memory="512 MiB", interval="1s")
        assert (adaptive.minimum, adaptive.maximum) == (1, 3)
        cluster.scale(0)


def test_group_entries_start_one_worker_per_suffix():
    with SpecCluster(workers={"g": PAIR}, scheduler=INPROC, worker=PAIR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert _names(client) == ["g-0", "g-1"]
        assert cluster.plan == cluster.requested == cluster.observed == {"g-0", "g-1"}
        assert list(cluster.workers) == ["g"] and cluster.threads_per_worker == 2
        data = np.arange(30.0)
        futures = client.map(np.sqrt, np.split(data, 6))
        assert np.allclose(np.concatenate(client.gather(futures)), np.sqrt(data))

        cluster.scale(3)  # entries, not workers: two more pairs
        assert _names(client) == ["0-0", "0-1", "1-0", "1-1", "g-0", "g-1"]
        cluster.scale(cores=7)  # two threads an entry: four entries
        assert len(cluster.worker_spec) == 4 and len(client.nthreads()) == 8
        cluster.scale(memory="3 GiB")  # two GiB an entry: two entries, the newest go
        assert sorted(cluster.worker_spec) == ["0", "g"]
        assert _names(client) == ["0-0", "0-1", "g-0", "g-1"]

        # One worker of a group, by name or by address, takes its whole entry; results move first.
        address = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "g-1")
        cluster.scale_down([address])
        assert _names(client) == ["0-0", "0-1"] and list(cluster.workers) == ["0"]
        assert np.allclose(np.concatenate(client.gather(futures)), np.sqrt(data))
        cluster.scale_down(["0-0"])
        assert _names(client) == [] and cluster.workers == {} and cluster.plan == set()


def _pid():
    return os.getpid()


def test_group_of_nannies_runs_one_process_per_suffix():
    spec = {"cls": Nanny, "options": {"nthreads": 1}, "group": ["-a", "-b"]}
    with SpecCluster(workers={"n": spec}) as cluster, Client(cluster, set_as_default=False) as client:
        assert _names(client) == ["n-a", "n-b"]
        pids = set(client.run(_pid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
        group = cluster.workers["n"]
    assert all(m.poll() is not None for m in group.members.values())


class _Pair:
    """A worker class of its own that starts the suffixed workers itself (Dask's contract for groups)."""

    def __init__(self, scheduler_address, name, nthreads=1):
        self.workers = [WorkerServer(scheduler_address, nthreads=nthreads, name=f"{name}{suffix}",
                                     listen_address="inproc://", reconnect=False) for suffix in ("-x", "-y")]
        self.status = "created"

    async def start(self):
        for w in self.workers:
            await w.start()
        self.status = "running"
        return self

    async def close(self):
        for w in self.workers:
            await w.close()
        self.status = "closed"


def test_a_class_of_its_own_starts_the_group():
    spec = {"cls": _Pair, "options": {"nthreads": 1}, "group": ["-x", "-y"]}
    with SpecCluster(workers={"p": spec}, scheduler=INPROC, worker=spec) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert _names(client) == ["p-x", "p-y"]
        cluster.scale(2)
        assert _names(client) == ["0-x", "0-y", "p-x", "p-y"]
        cluster.scale_down(["0-y"])
        assert _names(client) == ["p-x", "p-y"]


def test_bad_groups_are_refused_clearly():
    with pytest.raises(TypeError, match=r"'group' of workers\['a'\] must be a non-empty list"):
        SpecCluster(workers={"a": {**PAIR, "group": "-0"}}, scheduler=INPROC)
    with pytest.raises(ValueError, match="repeats a suffix"):
        SpecCluster(workers={"a": {**PAIR, "group": ["-0", "-0"]}}, scheduler=INPROC)

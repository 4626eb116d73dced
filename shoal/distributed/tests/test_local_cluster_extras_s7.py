"""LocalCluster's name, get_logs, get_client, scale_up, scale_down, plan, requested and observed."""

from __future__ import annotations

import logging

import pytest

from shoal.distributed import Client, LocalCluster
from shoal.distributed.cluster_extras import Log, Logs


def _warn(message):
    logging.getLogger("shoal.distributed.worker").error(message)  # LocalCluster workers log errors only


def test_scaling_by_name_and_address_and_the_worker_sets():
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None, name="s7") as cluster:
        assert cluster.name == "s7"
        assert cluster.plan == cluster.requested == cluster.observed == {"0", "1"}
        cluster.scale_up(3)
        assert cluster.plan == cluster.observed == {"0", "1", "2"}
        with Client(cluster, set_as_default=False) as client:
            [x] = client.scatter([41], workers=[_address(cluster, "1")])
            cluster.scale_down(["1"])  # its result moves to a worker that stays
            assert cluster.plan == cluster.requested == cluster.observed == {"0", "2"}
            assert client.submit(lambda v: v + 1, x).result(timeout=30) == 42
            cluster.scale_down([_address(cluster, "2")])
            assert cluster.observed == {"0"}
            with pytest.raises(ValueError, match="not workers of this cluster"):
                cluster.scale_down(["nope"])
    assert LocalCluster(n_workers=0, processes=False, dashboard_address=None).name  # random by default


def _address(cluster, name):
    return next(a for a, w in cluster.scheduler_info["workers"].items() if w["name"] == name)


def test_get_client_reuses_the_current_client():
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        client = cluster.get_client()
        try:
            assert client.cluster is cluster and client.submit(sum, [1, 2]).result(timeout=30) == 3
            with client.as_current():
                assert cluster.get_client() is client
            with Client(processes=False, n_workers=1, set_as_default=False) as other, other.as_current():
                fresh = cluster.get_client()  # the current client belongs to another cluster
                assert fresh is not other and fresh.cluster is cluster
                fresh.close()
        finally:
            client.close()


def test_get_logs_of_cluster_scheduler_and_workers():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.run(_warn, "s7 marker from the worker")
        logs = cluster.get_logs()
        assert isinstance(logs, Logs) and all(isinstance(v, Log) for v in logs.values())
        (address,) = client.nthreads()
        assert set(logs) == {"Cluster", "Scheduler", address}
        assert "Starting worker 0" in logs["Cluster"]
        assert "s7 marker from the worker" in logs[address]
        assert set(cluster.get_logs(cluster=False, scheduler=False, workers=[address])) == {address}

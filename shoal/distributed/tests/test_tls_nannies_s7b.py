"""Nannies against a TLS scheduler: `shoal worker` nannies and SpecCluster Nanny workers register (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shoal.distributed import Client, Nanny, NannyPlugin, Security, SpecCluster
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.tests._procs import read_line, stop
from shoal.distributed.tests._procs import wait_until as _wait

pytest.importorskip("cryptography")

TLS_SCHEDULER = {"cls": SchedulerServer, "options": {"protocol": "tls"}}


def _nannies(dask_scheduler):
    return {address: info["name"] for address, info in dask_scheduler.nannies.nannies.items()}


class _WritePid(NannyPlugin):
    name = "write-pid"

    def __init__(self, path):
        self.path = path

    def setup(self, nanny):
        with open(self.path, "w") as f:
            f.write(str(os.getpid()))


def _inc(x):
    return x + 1


def test_shoal_worker_nanny_registers_with_a_tls_scheduler(tmp_path):
    sec = Security.temporary()
    tls = ["--tls-ca-file", sec.tls_ca_file, "--tls-cert", sec.tls_worker_cert, "--tls-key", sec.tls_worker_key]
    scheduler = subprocess.Popen([sys.executable, "-m", "shoal.cli", "scheduler", "--port", "0", "--no-dashboard",
                                  *tls, "--log-level", "error"], stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        address = read_line(scheduler, "Scheduler at:")
        assert address.startswith("tls://")
        worker = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", address, "--nthreads", "1",
                                   "--name", "w", "--no-reconnect", "--log-level", "error", *tls],
                                  stdout=subprocess.PIPE, text=True)
        read_line(worker, "Worker at:")
        with Client(address, security=sec, set_as_default=False, timeout=20) as client:
            client.wait_for_workers(1, timeout=30)
            _wait(lambda: client.run_on_scheduler(_nannies) != {})
            [(nanny, name)] = client.run_on_scheduler(_nannies).items()
            assert nanny.startswith("tls://") and name == "w"
            # The scheduler reaches the nanny over TLS: a nanny plugin runs in the `shoal worker` process.
            marker = tmp_path / "pid"
            assert list(client.register_plugin(_WritePid(str(marker))).values()) == [None]
            assert marker.read_text() == str(worker.pid)
            assert client.submit(_inc, 41).result(timeout=30) == 42
    finally:
        if worker is not None:
            assert stop(worker) == 0
        stop(scheduler)


def test_spec_cluster_nanny_workers_over_tls():
    sec = Security.temporary()
    spec = {"cls": Nanny, "options": {"nthreads": 1}}
    with SpecCluster(workers={"a": spec}, scheduler=TLS_SCHEDULER, worker=spec, security=sec) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert cluster.scheduler_address.startswith("tls://")
        assert all(w.startswith("tls://") for w in client.nthreads())
        assert client.gather(client.map(_inc, range(10))) == list(range(1, 11))
        _wait(lambda: len(cluster.scheduler.nannies.nannies) == 1)
        assert all(a.startswith("tls://") for a in cluster.scheduler.nannies.nannies)
        assert cluster.workers["a"].address in cluster.scheduler.nannies.nannies
        cluster.scale(2)
        assert sorted(str(w["name"]) for w in client.scheduler_info()["workers"].values()) == ["0", "a"]
        _wait(lambda: len(cluster.scheduler.nannies.nannies) == 2)
        # A restart goes through the nannies: fresh worker processes, still over TLS.
        before = set(client.run(os.getpid).values())
        client.restart()
        _wait(lambda: len(client.nthreads()) == 2 and not before & set(client.run(os.getpid).values()))
        assert client.submit(_inc, 1).result(timeout=30) == 2


def test_spec_cluster_nanny_needs_worker_certificates():
    sec = Security.temporary()
    partial = Security(tls_ca_file=sec.tls_ca_file, tls_scheduler_cert=sec.tls_scheduler_cert,
                       tls_scheduler_key=sec.tls_scheduler_key, tls_client_cert=sec.tls_client_cert,
                       tls_client_key=sec.tls_client_key)
    spec = {"cls": Nanny, "options": {"nthreads": 1}}
    with pytest.raises(ValueError, match="tls_worker_cert"):
        SpecCluster(workers={"a": spec}, scheduler=TLS_SCHEDULER, security=partial)

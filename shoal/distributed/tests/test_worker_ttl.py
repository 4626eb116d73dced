"""distributed.scheduler.worker-ttl: a worker that stops heartbeating is removed."""

from __future__ import annotations

import time

import shoal
from shoal.distributed import Client


def inc(x):
    return x + 1


def test_silent_worker_is_removed_after_ttl():
    settings = {"distributed.scheduler.worker-ttl": "300ms", "distributed.worker.heartbeat-interval": "50ms"}
    with shoal.config.set(settings), Client(processes=False, n_workers=2, set_as_default=False) as client:
        silent, talking = list(client.cluster.workers.values())
        silent.heartbeat_interval = 3600  # its next heartbeat never comes
        deadline = time.monotonic() + 15
        while silent.address in client.nthreads():
            assert time.monotonic() < deadline, "the silent worker was not removed"
            time.sleep(0.05)
        assert list(client.nthreads()) == [talking.address]
        assert client.submit(inc, 1).result(timeout=10) == 2


def test_heartbeating_workers_stay():
    settings = {"distributed.scheduler.worker-ttl": "300ms", "distributed.worker.heartbeat-interval": "50ms"}
    with shoal.config.set(settings), Client(processes=False, n_workers=2, set_as_default=False) as client:
        time.sleep(0.8)  # bounded: several ttl periods
        assert len(client.nthreads()) == 2

"""A semaphore lease held by a task whose worker process is SIGKILLed is freed for the others."""

from __future__ import annotations

import os
import signal
import time

from shoal.distributed import Client, Event, LocalCluster, Semaphore, Variable


def hold_lease(name: str) -> int:
    # The scheduler reschedules this task after its worker dies: the second run must not take the lease again.
    if Event("victim-killed").is_set():
        return 0
    sem = Semaphore(max_leases=1, name=name)
    assert sem.acquire(timeout=30)
    Variable("holder-pid").set(os.getpid())
    Event("lease-held").set()
    deadline = time.monotonic() + 60  # bounded: the test kills this process long before
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return 1


def test_lease_of_a_killed_worker_is_released():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        sem = Semaphore(max_leases=1, name="db", client=client)
        fut = client.submit(hold_lease, "db", pure=False)
        assert Event("lease-held", client=client).wait(timeout=30)
        assert sem.get_value() == 1
        assert not sem.acquire(timeout=0.2)
        pid = Variable("holder-pid", client=client).get(timeout=10)
        assert pid in client.run(os.getpid).values()
        Event("victim-killed", client=client).set()
        os.kill(pid, signal.SIGKILL)
        # The worker's own client (through which the task took the lease) died with it.
        assert sem.acquire(timeout=30)
        assert sem.get_value() == 1
        sem.release()
        assert fut.result(timeout=60) == 0
        assert sem.get_value() == 0

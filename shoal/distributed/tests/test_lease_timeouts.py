"""Semaphore leases expire when their holder stops refreshing them (distributed.scheduler.locks.lease-timeout)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from shoal import config
from shoal.distributed import Client, Event, LocalCluster, Semaphore, Variable
from shoal.distributed.server.coordination import Coordination

#: Short enough for fast tests, long enough that a refresher ticking every fifth of the interval never misses it.
FAST_LEASES = {"distributed.scheduler.locks.lease-timeout": "0.5s",
               "distributed.scheduler.locks.lease-validation-interval": "0.1s"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_scheduler_expires_only_stale_leases(caplog):
    async def main() -> None:
        clock = FakeClock()
        coord = Coordination(clock=clock)
        try:
            coord.rpc_semaphore_create("db", 1)
            assert await coord.rpc_semaphore_acquire("db", "a", client="c1", holder="task 'x' on worker w1")
            waiting = asyncio.get_running_loop().create_task(
                coord.rpc_semaphore_acquire("db", "b", client="c2", timeout=None))
            await asyncio.sleep(0)
            clock.now = 0.4
            assert coord.rpc_semaphore_refresh_leases("db", ["a"]) == []
            clock.now = 0.8  # 0.4s since the refresh: still alive
            assert coord.expire_leases() == [] and not waiting.done()
            clock.now = 1.0
            with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
                assert coord.expire_leases() == [("db", "a")]
            assert await asyncio.wait_for(waiting, 5) is True  # the waiter got the freed lease
            assert "'db'" in caplog.text and "task 'x' on worker w1" in caplog.text and "lease-timeout" in caplog.text
            assert coord.rpc_semaphore_value("db") == 1
            assert coord.rpc_semaphore_refresh_leases("db", ["a", "b"]) == ["a"]
            assert coord.rpc_semaphore_release("db", "a") is False  # expired: counted as released, no error
            assert coord.rpc_semaphore_release("db", "b") is True
            with pytest.raises(RuntimeError, match="is not held"):
                coord.rpc_semaphore_release("db", "b")
            assert coord.rpc_semaphore_refresh_leases("gone", ["z"]) == ["z"]
        finally:
            coord.close()

    with config.set(FAST_LEASES):
        asyncio.run(main())


def test_lease_timeout_zero_means_never():
    async def main() -> None:
        clock = FakeClock()
        coord = Coordination(clock=clock)
        try:
            coord.rpc_semaphore_create("forever", 1)
            assert await coord.rpc_semaphore_acquire("forever", "a", client="c1")
            clock.now = 1e6
            assert coord.expire_leases() == []
        finally:
            coord.close()

    with config.set({"distributed.scheduler.locks.lease-timeout": 0}):
        asyncio.run(main())


async def _no_refresh() -> None:
    """Stands in for Semaphore._refresh_leases: the holder looks hung to the scheduler."""


def test_holder_that_stops_refreshing_loses_its_lease(caplog):
    with config.set(FAST_LEASES), Client(processes=False, n_workers=1, set_as_default=False) as client, \
            Client(client.scheduler_address, set_as_default=False) as other_client:
        holder = Semaphore(max_leases=1, name="db", client=client)
        other = Semaphore(max_leases=1, name="db", client=other_client)
        assert holder.acquire(timeout=5)
        holder._refresh_leases = _no_refresh  # its client stays connected, only the refresh stops
        with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
            assert other.acquire(timeout=30)
        assert "Semaphore 'db'" in caplog.text and f"client {client.id}" in caplog.text
        assert other.get_value() == 1
        assert holder.release() is False  # its lease had expired
        assert other.get_value() == 1
        assert other.release() is True
        assert other.get_value() == 0


def test_holder_that_keeps_refreshing_keeps_its_lease():
    with config.set(FAST_LEASES), Client(processes=False, n_workers=1, set_as_default=False) as client:
        holder = Semaphore(max_leases=1, name="kept", client=client)
        other = Semaphore(max_leases=1, name="kept", client=client)
        assert holder.acquire(timeout=5)
        assert not other.acquire(timeout=1.5)  # three lease timeouts
        assert holder.get_value() == 1
        assert holder.release() is True
        assert other.acquire(timeout=5)
        assert other.release() is True


def test_task_holding_a_lease_keeps_it_while_it_runs():
    def hold(sem):
        assert sem.acquire(timeout=10)
        Event("kept-held").set()
        Event("kept-done").wait(timeout=30)
        return sem.release()

    with config.set(FAST_LEASES), Client(processes=False, n_workers=1, set_as_default=False) as client:
        sem = Semaphore(max_leases=1, name="task-kept", client=client)
        fut = client.submit(hold, sem, pure=False)
        assert Event("kept-held", client=client).wait(timeout=30)
        assert not sem.acquire(timeout=1.5)
        Event("kept-done", client=client).set()
        assert fut.result(timeout=30) is True
        assert sem.acquire(timeout=5) and sem.release()


def hold_until_told(name: str) -> bool:
    sem = Semaphore(max_leases=1, name=name)
    assert sem.acquire(timeout=30)
    Variable("lease-holder-pid").set(os.getpid())
    Event("lease-taken").set()
    Event("lease-may-go").wait(timeout=60)
    return sem.release()


def test_stopped_worker_process_loses_its_lease(monkeypatch, caplog):
    # Worker processes read the refresh interval from their environment; the scheduler runs in this process.
    monkeypatch.setenv("SHOAL_DISTRIBUTED__SCHEDULER__LOCKS__LEASE_VALIDATION_INTERVAL", "0.1s")
    pid = None
    with config.set(FAST_LEASES), \
            LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        try:
            sem = Semaphore(max_leases=1, name="gpu", client=client)
            fut = client.submit(hold_until_told, "gpu", pure=False)
            assert Event("lease-taken", client=client).wait(timeout=30)
            assert not sem.acquire(timeout=1.5)  # the running holder refreshes its lease
            pid = Variable("lease-holder-pid", client=client).get(timeout=10)
            os.kill(pid, signal.SIGSTOP)  # hung, but its connections stay open
            with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
                assert sem.acquire(timeout=30)
            assert "Semaphore 'gpu'" in caplog.text and "hold_until_told" in caplog.text
            os.kill(pid, signal.SIGCONT)
            pid = None
            Event("lease-may-go", client=client).set()
            assert fut.result(timeout=30) is False  # the woken holder's release finds its lease expired
            assert sem.get_value() == 1
            assert sem.release() is True
        finally:
            if pid is not None:
                os.kill(pid, signal.SIGCONT)

"""Lock is a Semaphore with one lease, as in Dask: a holder that dies or hangs loses it after the lease timeout.

Dask's ``distributed.Lock`` subclasses its Semaphore (``max_leases=1``); the
holder refreshes its lease and the scheduler releases leases not refreshed
for ``distributed.scheduler.locks.lease-timeout``. These tests check what a
Dask user relies on: a lock held by a client process that is killed is
released so another client acquires it, while a live holder keeps it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from shoal import config
from shoal.distributed import Client, LocalCluster, Lock, Semaphore
from shoal.distributed.server.coordination import Coordination
from shoal.distributed.tests.test_lease_timeouts import FakeClock

#: Short enough for fast tests; holders refresh every fifth of the timeout, so a live one never misses it.
FAST_LEASES = {"distributed.scheduler.locks.lease-timeout": "1s",
               "distributed.scheduler.locks.lease-validation-interval": "0.1s"}

#: A client process that takes the lock, optionally hands its sockets to a child that outlives it (so that
#: killing it leaves its connections open, as a lost host or network would), then waits to be killed.
HOLDER = textwrap.dedent("""
    import os, stat, subprocess, sys, time
    from shoal.distributed import Client, Lock

    address, name, keep_sockets = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    client = Client(address, set_as_default=False, timeout=30)
    lock = Lock(name, client=client)
    assert lock.acquire(timeout=30)
    keeper = 0
    def is_socket(fd):
        try:
            return stat.S_ISSOCK(os.fstat(fd).st_mode)
        except OSError:  # the descriptor listdir itself used, closed by now
            return False

    if keep_sockets:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2 and is_socket(int(fd))]
        keeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], pass_fds=fds).pid
    print(f"held {keeper}", flush=True)
    time.sleep(120)  # bounded: the test kills this process long before
""")


# ---------------------------------------------------------------------- the scheduler's side, no sockets

def test_lock_lease_expires_like_a_semaphore_lease(caplog):
    async def main() -> None:
        clock = FakeClock()
        coord = Coordination(clock=clock)
        try:
            assert coord.rpc_semaphore_create("db", 1, kind="lock") == 1.0  # the creator learns the timeout
            assert await coord.rpc_semaphore_acquire("db", "a", client="c1", holder="client c1")
            assert not await coord.rpc_semaphore_acquire("db", "b", client="c2", timeout=0)
            clock.now = 0.9
            assert coord.expire_leases() == []
            clock.now = 1.1
            with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
                assert coord.expire_leases() == [("db", "a")]
            assert "Lock 'db'" in caplog.text and "client c1" in caplog.text and "lease-timeout" in caplog.text
            assert await coord.rpc_semaphore_acquire("db", "b", client="c2", timeout=0)
            assert coord.rpc_semaphore_release("db", "a") is False  # the late holder: expired, no error
            assert coord.rpc_semaphore_release("db", "b") is True
            with pytest.raises(ValueError, match="Lock 'db' exists with max_leases=1"):
                coord.rpc_semaphore_create("db", 2)
        finally:
            coord.close()

    with config.set(FAST_LEASES):
        asyncio.run(main())


@pytest.mark.parametrize("setting", [0, None, "inf", float("inf")])
def test_lease_timeout_off(setting):
    # Dask documents "inf"; shoal also accepts 0 and null.
    async def main() -> None:
        clock = FakeClock()
        coord = Coordination(clock=clock)
        try:
            assert coord.rpc_semaphore_create("forever", 1, kind="lock") is None
            assert await coord.rpc_semaphore_acquire("forever", "a", client="c1")
            clock.now = 1e9
            assert coord.expire_leases() == []
        finally:
            coord.close()

    with config.set({"distributed.scheduler.locks.lease-timeout": setting}):
        asyncio.run(main())


# ---------------------------------------------------------------------- the Lock API, as Dask's

def test_lock_api_matches_dask():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        lock = Lock("api", client=client)
        assert isinstance(lock, Semaphore) and lock.max_leases == 1
        assert Lock(client=client).name.startswith("lock-")
        assert not lock.locked()
        assert lock.acquire() is True
        assert lock.locked()
        other = Lock("api", client=client)
        assert other.acquire(blocking=False) is False
        assert other.acquire(timeout=0.05) is False
        with pytest.raises(ValueError, match="non-blocking"):
            other.acquire(blocking=False, timeout=1)
        with pytest.raises(RuntimeError, match="not held by this Lock"):  # Dask raises RuntimeError here
            other.release()
        assert lock.release() is True
        assert not lock.locked()
        with pytest.raises(RuntimeError):
            lock.release()
        with Lock("api", client=client) as held:
            assert held.locked() and Lock("api", client=client).acquire(timeout=0) is False
        assert not lock.locked()


def test_lock_async():
    async def main() -> None:
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as client:
            lock = Lock("async", client=client)
            async with lock:
                assert await lock.locked()
                assert not await Lock("async", client=client).acquire(timeout=0.05)
            assert not await lock.locked()

    asyncio.run(main())


async def _no_refresh() -> None:
    """Stands in for the refresher: the holder looks dead to the scheduler, its client stays connected."""


def test_holder_that_stops_refreshing_loses_the_lock(caplog):
    with config.set(FAST_LEASES), Client(processes=False, n_workers=1, set_as_default=False) as client, \
            Client(client.scheduler_address, set_as_default=False) as other_client:
        holder = Lock("stale", client=client)
        assert holder.acquire(timeout=5)
        holder._refresh_leases = _no_refresh
        other = Lock("stale", client=other_client)
        with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
            assert other.acquire(timeout=30)
        assert "Lock 'stale'" in caplog.text and f"client {client.id}" in caplog.text
        assert holder.release() is False  # the scheduler had taken it back
        assert other.locked()
        assert other.release() is True and not other.locked()


def test_live_holder_keeps_the_lock_past_many_timeouts():
    with config.set(FAST_LEASES), Client(processes=False, n_workers=1, set_as_default=False) as client:
        holder = Lock("kept", client=client)
        assert holder.acquire(timeout=5)
        assert not Lock("kept", client=client).acquire(timeout=2.5)  # two and a half lease timeouts
        assert holder.release() is True


# ---------------------------------------------------------------------- a holder process that dies

def _start_holder(address: str, name: str, keep_sockets: bool) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, address, name, "1" if keep_sockets else "0"],
                            env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # bounded by the holder's own 30s acquire timeout and 120s sleep
    if not line.startswith("held"):
        proc.kill()
        proc.wait(30)
        proc.stdout.close()
        raise AssertionError(f"the holder process did not take the lock (printed {line!r})")
    return proc, int(line.split()[1])


def _end(proc: subprocess.Popen | None, pid: int = 0) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stdout.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the holder's sockets in /proc")
@pytest.mark.parametrize("death", ["sigkill-connection-left-open", "sigstop"])
def test_lock_of_a_dead_or_hung_client_process_is_released_after_the_timeout(death, caplog):
    # The holder process runs with the default config: it refreshes at the pace of the scheduler's timeout.
    with config.set(FAST_LEASES), \
            LocalCluster(n_workers=0, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        proc, keeper = _start_holder(cluster.scheduler_address, "shared", keep_sockets=death != "sigstop")
        try:
            lock = Lock("shared", client=client)
            assert lock.locked()
            assert not lock.acquire(timeout=2.5)  # alive, it keeps the lock past two lease timeouts
            os.kill(proc.pid, signal.SIGKILL if death != "sigstop" else signal.SIGSTOP)
            with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
                assert lock.acquire(timeout=30)
            assert "Lock 'shared'" in caplog.text and "lease-timeout" in caplog.text  # expired, not disconnected
            assert lock.locked()
            assert lock.release() is True
            assert not lock.locked()
        finally:
            _end(proc, keeper)


def test_lock_of_a_killed_client_process_is_released():
    # A plain SIGKILL closes the holder's connection: the scheduler frees the lock without waiting for expiry.
    with LocalCluster(n_workers=0, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        proc, _ = _start_holder(cluster.scheduler_address, "killed", keep_sockets=False)
        try:
            lock = Lock("killed", client=client)
            assert not lock.acquire(timeout=0.2)
            proc.kill()
            assert lock.acquire(timeout=30)
            assert lock.release() is True
        finally:
            _end(proc)

"""Semaphore, and locks/leases released when the client that held them disconnects."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time

import pytest

from shoal.distributed import Client, Lock, Semaphore, Variable


def test_semaphore_limits_concurrency(client):
    def guarded(i):
        sem = Semaphore(max_leases=2, name="pool")
        with sem:
            running = Variable(f"in-{i}")
            running.set(sem.get_value())
            time.sleep(0.02)
        return i

    Semaphore(max_leases=2, name="pool", client=client)
    assert client.gather(client.map(guarded, range(8))) == list(range(8))
    seen = [Variable(f"in-{i}", client=client).get(timeout=5) for i in range(8)]
    assert all(1 <= n <= 2 for n in seen)
    assert Semaphore(2, "pool", client=client).get_value() == 0


def test_semaphore_acquire_release_and_errors(client):
    sem = Semaphore(max_leases=2, name="s", client=client)
    assert sem.acquire(timeout=1) and sem.acquire(timeout=1)
    assert not sem.acquire(timeout=0.05)
    assert sem.get_value() == 2
    other = Semaphore(max_leases=2, name="s", client=client)
    got = []
    waiter = threading.Thread(target=lambda: got.append(other.acquire(timeout=10)))
    waiter.start()
    time.sleep(0.05)
    sem.release()  # hands the lease to the waiting acquire
    waiter.join(10)
    assert got == [True] and sem.get_value() == 2
    sem.release()
    other.release()
    assert sem.get_value() == 0
    with pytest.raises(RuntimeError, match="without a lease"):
        sem.release()
    with pytest.raises(ValueError, match="max_leases=2"):
        Semaphore(max_leases=3, name="s", client=client)
    with pytest.raises(ValueError, match="max_leases"):
        Semaphore(max_leases=0, client=client)


def test_semaphore_pickles_by_name(client):
    sem = Semaphore(max_leases=3, name="named", client=client)

    def use(s):
        return s.name, s.max_leases, s.acquire(timeout=5), s.get_value()

    assert client.submit(use, sem).result(timeout=10) == ("named", 3, True, 1)
    # the task's client is still connected, so its lease stays until that client goes
    assert type(pickle.loads(pickle.dumps(Lock("x", client=client)))) is Lock


def test_leases_and_locks_of_a_disconnected_client_are_released(client):
    address = client.scheduler_address
    other = Client(address, set_as_default=False)
    try:
        assert Semaphore(max_leases=1, name="one", client=other).acquire(timeout=5)
        assert Lock("held", client=other).acquire(timeout=5)
        # a waiting request of the departing client must not be granted later
        waiting = Semaphore(max_leases=1, name="one", client=other)
        pending = threading.Thread(target=lambda: _ignore(waiting.acquire, 10))
        pending.start()
        time.sleep(0.05)
    finally:
        other.close()
    pending.join(10)
    sem = Semaphore(max_leases=1, name="one", client=client)
    assert sem.acquire(timeout=10)
    assert sem.get_value() == 1
    assert Lock("held", client=client).acquire(timeout=10)


def _ignore(fn, *args):
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the client closed under it
        pass


def test_semaphore_async():
    async def main():
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as c:
            sem = Semaphore(max_leases=1, name="a", client=c)
            async with sem:
                assert await sem.get_value() == 1
                assert not await sem.acquire(timeout=0.05)
            assert await sem.get_value() == 0

    asyncio.run(main())

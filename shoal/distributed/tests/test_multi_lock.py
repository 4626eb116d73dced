"""MultiLock: several locks taken together, first come first served, between clients and tasks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.distributed import Client, LocalCluster, MultiLock, Variable
from shoal.distributed.server.multi_lock import MultiLocks


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=1, threads_per_worker=4, processes=False, dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture
def clients(cluster: LocalCluster) -> Iterator[tuple[Client, Client]]:
    with Client(cluster, set_as_default=False) as c1, Client(cluster, set_as_default=False) as c2:
        yield c1, c2
    assert cluster.scheduler is not None
    cluster.scheduler.multi_locks.validate()


def _state(cluster: LocalCluster) -> MultiLocks:
    assert cluster.scheduler is not None
    return cluster.scheduler.multi_locks


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _in_thread(fn: Any) -> tuple[threading.Thread, list[Any]]:
    """Run ``fn`` in a thread; its result, or the exception it raised, lands in the returned list."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_contention_between_two_clients(cluster: LocalCluster, clients: tuple[Client, Client]) -> None:
    c1, c2 = clients
    ab = MultiLock(names=["a", "b"], client=c1)
    assert ab.acquire(timeout=5) and ab.locked()
    assert MultiLock(names=["b", "c"], client=c2).acquire(timeout=0.1) is False  # b is taken
    assert MultiLock(names=["a"], client=c2).acquire(blocking=False) is False
    c_only = MultiLock(names=["c"], client=c2)
    assert c_only.acquire(blocking=False) is True  # c was never taken
    waiter = MultiLock(names=["b", "c"], client=c2)
    thread, got = _in_thread(lambda: waiter.acquire(timeout=20))
    _wait_for(lambda: "b" in _state(cluster).queues and len(_state(cluster).queues["b"]) == 2)
    ab.release()
    assert not ab.locked()
    time.sleep(0.05)
    assert got == []  # still waits for c
    c_only.release()
    thread.join(20)
    assert got == [True] and waiter.locked()
    waiter.release()
    assert _state(cluster).queues == {} and _state(cluster).requests == {}


def test_waiters_are_served_in_arrival_order(cluster: LocalCluster, clients: tuple[Client, Client]) -> None:
    c1, c2 = clients
    holder = MultiLock(names=["x"], client=c1)
    assert holder.acquire()
    order: list[str] = []
    threads = []
    # Alternate clients; each waiter queues only after the previous one, so arrival order is known.
    for i, (c, names) in enumerate([(c2, ["x", "y"]), (c1, ["x"]), (c2, ["y", "x"]), (c1, ["x", "z"])]):
        lock = MultiLock(names=names, client=c)

        def take(lock: MultiLock = lock, tag: str = f"w{i}") -> bool:
            ok = lock.acquire(timeout=20)
            order.append(tag)
            lock.release()
            return ok

        thread, _ = _in_thread(take)
        threads.append(thread)
        _wait_for(lambda n=i + 2: len(_state(cluster).queues.get("x", ())) == n)
    # A later request for a free lock that an earlier waiter is queued on waits too (no overtaking on "y").
    assert MultiLock(names=["y"], client=c1).acquire(blocking=False) is False
    holder.release()
    for thread in threads:
        thread.join(20)
    assert order == ["w0", "w1", "w2", "w3"]


def test_num_locks_takes_any_free_subset(cluster: LocalCluster, clients: tuple[Client, Client]) -> None:
    c1, c2 = clients
    a = MultiLock(names=["a"], client=c1)
    assert a.acquire()
    two_of_three = MultiLock(names=["a", "b", "c"], client=c2)
    assert two_of_three.acquire(timeout=5, num_locks=2)
    state = _state(cluster)
    assert state.requests[two_of_three.id].held == ["b", "c"]
    # It holds exactly two: "a" stays with its holder, and nothing else is blocked.
    assert MultiLock(names=["d"], client=c1).acquire(blocking=False)
    one_of_two = MultiLock(names=["b", "d"], client=c1)
    assert one_of_two.acquire(timeout=0.1, num_locks=1) is False  # b is held, d by the lock above
    two_of_three.release()
    assert one_of_two.acquire(timeout=5, num_locks=1)
    assert state.requests[one_of_two.id].held == ["b"]
    state.validate()


def test_disconnecting_client_releases_and_withdraws(cluster: LocalCluster) -> None:
    with Client(cluster, set_as_default=False) as c1:
        c2 = Client(cluster, set_as_default=False)
        held = MultiLock(names=["p", "q"], client=c2)
        assert held.acquire()
        # c2 also waits on "r" behind c1: its request must vanish with it.
        r = MultiLock(names=["r"], client=c1)
        assert r.acquire()
        thread, got = _in_thread(lambda: MultiLock(names=["r"], client=c2).acquire(timeout=20))
        _wait_for(lambda: len(_state(cluster).queues.get("r", ())) == 2)
        c2.close()
        thread.join(20)
        assert len(got) == 1 and got[0] is not True, got  # the wait ended with its client, without the lock
        assert MultiLock(names=["q", "p"], client=c1).acquire(timeout=10)
        _wait_for(lambda: len(_state(cluster).queues.get("r", ())) == 1)
        r.release()
        _state(cluster).validate()


def _guarded_add(names: list[str], counter: str, i: int) -> int:
    with MultiLock(names=names):
        var = Variable(counter)
        value = var.get(timeout=30)
        time.sleep(0.001)  # read-modify-write: an overlap would lose an update
        var.set(value + i)
    return i


def test_tasks_exclude_each_other(cluster: LocalCluster, clients: tuple[Client, Client]) -> None:
    c1, _ = clients
    Variable("total", client=c1).set(0)
    names = [["m", "n"], ["n", "m"], ["n"], ["m", "n", "o"]]
    futures = c1.map(_guarded_add, [names[i % 4] for i in range(16)], ["total"] * 16, range(16), pure=False)
    assert c1.gather(futures) == list(range(16))
    assert Variable("total", client=c1).get(timeout=10) == sum(range(16))


def test_bad_use_is_refused(clients: tuple[Client, Client]) -> None:
    c1, _ = clients
    lock = MultiLock(names=["e", "f"], client=c1)
    with pytest.raises(ValueError, match="not acquired"):
        lock.release()
    with pytest.raises(ValueError, match="non-blocking"):
        lock.acquire(blocking=False, timeout=1)
    with pytest.raises(ValueError, match="num_locks=3"):
        lock.acquire(num_locks=3)
    with pytest.raises(ValueError, match="no lock names"):
        MultiLock(client=c1).acquire()
    with pytest.raises(TypeError, match="lock names"):
        MultiLock(names=[1, 2], client=c1)  # type: ignore[list-item]
    assert lock.acquire(timeout="1s")
    with pytest.raises(RuntimeError, match="already acquired"):
        lock.acquire()
    lock.release()
    assert not lock.locked()


def test_asynchronous_client() -> None:
    async def main() -> None:
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as c:
            lock = MultiLock(names=["s", "t"], client=c)
            async with lock:
                assert lock.locked()
                assert await MultiLock(names=["t"], client=c).acquire(timeout=0.05) is False
            assert await MultiLock(names=["t"], client=c).acquire(blocking=False) is True

    asyncio.run(asyncio.wait_for(main(), 60))


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True),
                              st.integers(1, 4), st.integers(0, 30)), max_size=40))
def test_queues_keep_their_invariants(ops: list[tuple[bool, list[str], int, int]]) -> None:
    """Random requests and withdrawals, no event loop: granted requests never share a lock, and a waiting
    request is granted as soon as it heads enough queues."""
    state = MultiLocks()
    ids: list[str] = []
    for n, (add, names, num, pick) in enumerate(ops):
        if add or not ids:
            ids.append(str(n))
            state._enqueue(names, str(n), min(num, len(names)), None)
        else:
            state._withdraw(state.requests[ids.pop(pick % len(ids))])
        state.validate()
        held = [name for r in state.requests.values() if r.granted for name in r.held]
        assert len(held) == len(set(held))
        for r in state.requests.values():
            if not r.granted:
                assert sum(state.queues[name][0] == r.id for name in r.names) < r.needed

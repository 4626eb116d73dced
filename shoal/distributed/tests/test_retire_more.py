"""retire_workers(n=..., names=..., target=..., key=...) as in Dask, and LocalCluster forgetting retired workers.

Dask's ``Scheduler.retire_workers`` retires the workers named by ``workers``
(addresses) or ``names``, or else those ``Scheduler.workers_to_close`` picks:
idle workers before busy ones, those holding the least data first, the newest
first among equals, never one running a seceded task, whole groups when ``key``
groups them, and (without ``n``) only idle ones while twice the bytes held
still fit in the memory limit of the workers left. Its scheduler forgets a
retired worker at once, even when ``close_workers=False`` leaves the process up.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from shoal.distributed import Client, Event, LocalCluster
from shoal.distributed._loop import run_sync
from shoal.distributed.state.retiring import workers_to_close
from shoal.distributed.state.tasks import WorkerRecord


def _until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        time.sleep(0.02)


def _record(i: int, *, nbytes: int = 0, busy: bool = False, long_running: bool = False, memory_limit: int = 1000,
            host: str = "10.0.0.1") -> WorkerRecord:
    ws = WorkerRecord(f"tcp://{host}:{1000 + i}", str(i), 1, memory_limit, None, 0.0)
    ws.nbytes = nbytes
    if busy:
        ws.processing.add(f"task-{i}")  # only whether anything is processing matters here
    if long_running:
        ws.long_running.add(f"seceded-{i}")
    return ws


def _names(chosen: list[WorkerRecord]) -> list[str]:
    return [ws.name for ws in chosen]


# ---------------------------------------------------------------------- the policy, no I/O

@pytest.fixture
def five() -> list[WorkerRecord]:
    """Joined in this order: 0 idle 500B, 1 busy 0B, 2 idle 100B, 3 idle 100B, 4 busy 50B."""
    return [_record(0, nbytes=500), _record(1, busy=True), _record(2, nbytes=100), _record(3, nbytes=100),
            _record(4, nbytes=50, busy=True)]


def test_n_takes_idle_workers_first_then_least_data_then_newest(five):
    assert _names(workers_to_close(five, n=1)) == ["3"]  # 2 and 3 tie: the newer goes first
    assert _names(workers_to_close(five, n=2)) == ["3", "2"]
    assert _names(workers_to_close(five, n=4)) == ["3", "2", "0", "1"]  # busy ones only after every idle one
    assert _names(workers_to_close(five, n=5)) == ["3", "2", "0", "1", "4"]
    assert _names(workers_to_close(five, n=50)) == ["3", "2", "0", "1", "4"]
    assert workers_to_close(five, n=0) == [] and workers_to_close(five, n=-1) == []


def test_target_and_minimum(five):
    assert _names(workers_to_close(five, target=3)) == ["3", "2"]  # n = 5 - target
    assert _names(workers_to_close(five, n=3, minimum=4)) == ["3"]
    assert workers_to_close(five, n=3, minimum=5) == []


def test_without_n_only_idle_workers_go_while_memory_suffices(five):
    # 5 x 1000 bytes of limit, 750 bytes held: memory_ratio=2 needs 1500 left, so every idle worker may go.
    assert _names(workers_to_close(five)) == ["3", "2", "0"]
    assert _names(workers_to_close(five, memory_ratio=4)) == ["3", "2"]  # 3000 must stay
    assert workers_to_close(five, memory_ratio=10) == []


def test_all_busy(five):
    busy = [_record(i, nbytes=10 * (3 - i), busy=True) for i in range(3)]
    assert workers_to_close(busy) == []
    assert _names(workers_to_close(busy, n=1)) == ["2"]  # an explicit n takes busy workers, least data first


def test_workers_running_seceded_tasks_are_never_chosen(five):
    five[3].long_running.add("seceded")
    assert _names(workers_to_close(five, n=2)) == ["2", "0"]
    assert "3" not in _names(workers_to_close(five, n=5))


def test_key_retires_whole_groups():
    workers = [_record(0, host="a"), _record(1, host="a"), _record(2, nbytes=10, host="b"),
               _record(3, busy=True, host="b")]
    assert workers[0].host == "a"
    assert _names(workers_to_close(workers, n=2, key=lambda ws: ws.host)) == ["0", "1"]
    assert workers_to_close(workers, n=1, key=lambda ws: ws.host) == []  # a group of two does not fit in one
    assert _names(workers_to_close(workers, n=4, key=lambda ws: ws.host)) == ["0", "1", "2", "3"]


# ---------------------------------------------------------------------- through the client

def block(name: str) -> int:
    Event(name).wait(timeout=30)
    return 1


@pytest.fixture
def four():
    with Client(processes=False, n_workers=4, threads_per_worker=1, validate=True, set_as_default=False) as client:
        client.wait_for_workers(4, timeout=30)
        yield client, {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}


def test_retire_n_picks_as_workers_to_close_and_keeps_data(four):
    client, by_name = four
    [big] = client.scatter([np.zeros(10_000)], workers=[by_name["0"]])
    [small] = client.scatter([np.arange(10)], workers=[by_name["1"]])
    running = client.submit(block, "retire-n-go", workers=[by_name["2"]], pure=False)
    _until(lambda: client.processing(by_name["2"])[by_name["2"]])
    picked = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.workers_to_close(n=2))
    assert picked == [by_name["3"], by_name["1"]]  # idle and empty, then idle and small; busy "2" stays
    assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.workers_to_close(n=2, attribute="name")) \
        == ["3", "1"]
    retired = client.retire_workers(n=2)
    assert sorted(retired) == sorted(picked)
    assert {info["name"] for info in retired.values()} == {"1", "3"}
    assert sorted(client.nthreads()) == sorted([by_name["0"], by_name["2"]])
    assert set(client.who_has([small])[small.key]) <= {by_name["0"], by_name["2"]}
    np.testing.assert_array_equal(small.result(timeout=30), np.arange(10))
    np.testing.assert_array_equal(big.result(timeout=30), np.zeros(10_000))
    Event("retire-n-go", client=client).set()
    assert running.result(timeout=30) == 1


def test_retire_target_minimum_and_key(four):
    client, by_name = four
    assert len(client.retire_workers(target=3)) == 1 and len(client.nthreads()) == 3
    assert client.retire_workers(n=1, key=lambda ws: ws.host) == {}  # in-process workers share one host
    assert len(client.retire_workers(n=3, minimum=2)) == 1 and len(client.nthreads()) == 2


def test_retire_by_names(four):
    client, by_name = four
    [x] = client.scatter([np.arange(5)], workers=[by_name["1"]])
    retired = client.retire_workers(names=[1, "3", "absent"], close_workers=False)  # names compare as strings
    assert sorted(retired) == sorted([by_name["1"], by_name["3"]])
    assert sorted(client.scheduler_info()["workers"]) == sorted([by_name["0"], by_name["2"]])
    assert set(client.who_has([x])[x.key]) <= {by_name["0"], by_name["2"]}
    np.testing.assert_array_equal(x.result(timeout=30), np.arange(5))
    assert client.retire_workers(names=["absent", "3"]) == {}  # not connected (any more): skipped, as in Dask
    assert len(client.nthreads()) == 2


def test_retire_argument_errors(four):
    client, by_name = four
    with pytest.raises(TypeError, match="not both"):
        client.retire_workers([by_name["0"]], names=["0"])
    with pytest.raises(TypeError, match="cannot be combined"):
        client.retire_workers(names=["0"], n=1)
    with pytest.raises(TypeError, match="cannot be combined"):
        client.retire_workers([by_name["0"]], target=2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.retire_workers(n=1, nn=2)
    assert client.retire_workers(n=0, remove=True, stimulus_id="test") == {}  # Dask's bookkeeping options pass
    assert len(client.nthreads()) == 4


def test_retire_n_on_worker_processes():
    with LocalCluster(n_workers=3, threads_per_worker=1, dashboard_address=None, memory_limit=0,
                      worker_timeout=30) as cluster, Client(cluster, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(3, timeout=60)
        by_name = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
        [x] = client.scatter([np.arange(100)], workers=[by_name["0"]])
        # "1" and "2" are idle and empty: the one that registered last goes (the info lists them in join order).
        newest = [a for a in client.scheduler_info()["workers"] if a != by_name["0"]][-1]
        retired = client.retire_workers(n=1)
        assert list(retired) == [newest]
        assert sorted(client.nthreads()) == sorted(a for a in by_name.values() if a != newest)
        np.testing.assert_array_equal(x.result(timeout=30), np.arange(100))
        nanny = cluster.workers[retired[newest]["name"]]
        _until(lambda: nanny.poll() is not None)  # closed for good, not restarted
        assert nanny.restarts == 0


# ---------------------------------------------------------------------- LocalCluster after retire_workers

def _identity(client: Client, address: str) -> dict:
    return run_sync(client._pool.call(address, {"op": "identity"}), 30)


def _registered(client: Client) -> list[str]:
    return sorted(client.scheduler_info()["workers"])


def test_cluster_stops_counting_a_worker_retired_without_closing():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, memory_limit=0,
                      worker_timeout=30) as cluster, Client(cluster, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        first, second = _registered(client)
        assert list(client.retire_workers([first], close_workers=False)) == [first]
        nanny = next(n for n in cluster.workers.values() if _identity(client, first)["pid"] == n.pid)
        assert nanny.poll() is None  # the process is up, still ours to end at close
        assert sorted(cluster.scheduler_info["workers"]) == _registered(client) == [second]
        assert "workers=1," in repr(cluster)
        # Adaptive scaling and scale() see one worker and start another, as the scheduler has one.
        cluster.adapt(minimum=2, maximum=2, interval="50ms")
        _until(lambda: len(_registered(client)) == 2, timeout=60)
        cluster.wait_for_workers(2, timeout=30)
        assert first not in _registered(client) and "workers=2," in repr(cluster)
        third = next(a for a in _registered(client) if a != second)
        assert list(client.retire_workers(names=[client.scheduler_info()["workers"][third]["name"]],
                                          close_workers=False)) == [third]
        cluster.scale(2)  # stops adapting; must replace the retired worker, not count it
        client.wait_for_workers(2, timeout=60)
        assert len(_registered(client)) == 2 and {first, third}.isdisjoint(_registered(client))
        assert "workers=2," in repr(cluster)
        assert nanny.poll() is None
    assert nanny.process.poll() is not None  # cluster.close() ended the retired process too


def test_in_process_cluster_stops_counting_a_retired_worker():
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        first, second = _registered(client)
        client.retire_workers([first], close_workers=False)
        assert list(cluster.scheduler_info["workers"]) == [second]
        assert "workers=1," in repr(cluster)
        cluster.scale(2)
        assert len(_registered(client)) == 2 and first not in _registered(client)
        client.restart()  # replaces the two live workers; the retired one is left as it is
        assert len(_registered(client)) == 2
        retired = next(w for w in cluster.workers.values() if w.address == first)
        assert retired.status == "retired"
    assert retired.status == "closed"

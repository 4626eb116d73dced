"""Client, futures and collections on an in-process cluster."""

from __future__ import annotations

import threading
import time
import traceback
from operator import add

import numpy as np
import pytest

import shoal
from shoal.distributed import (
    CancelledError,
    Client,
    Future,
    as_completed,
    fire_and_forget,
    get_worker,
    wait,
)


def inc(x):
    return x + 1


def slow_inc(x, delay=0.05):
    time.sleep(delay)
    return x + 1


def fail(x):
    raise ValueError(f"bad input {x}")


def test_submit_result_and_repr(client):
    fut = client.submit(inc, 1)
    assert fut.result(timeout=10) == 2
    assert fut.status == "finished" and fut.done()
    assert repr(fut) == f"<Future: status: finished, type: int, key: {fut.key}>"
    assert fut.key.startswith("inc-")
    assert client.submit(inc, 1).key == fut.key  # pure: same call, same key
    assert client.submit(inc, 1, pure=False).key != fut.key
    assert client.submit(inc, 1, key="mine").key == "mine"


def test_pending_repr_and_timeout(client):
    ev = threading.Event()
    fut = client.submit(ev.wait, 10, pure=False)
    assert repr(fut).startswith("<Future: status: pending, key: wait-")
    with pytest.raises(TimeoutError):
        fut.result(timeout=0.05)
    ev.set()
    assert fut.result(timeout=10) is True


def test_map_and_gather(client):
    futures = client.map(inc, range(100))
    assert client.gather(futures) == list(range(1, 101))
    assert client.gather({"a": futures[0], "b": [futures[1], (futures[2],)]}) == {"a": 1, "b": [2, (3,)]}
    assert client.gather(client.map(add, [1, 2], [10, 20])) == [11, 22]
    with pytest.raises(ValueError, match="different lengths"):
        client.map(add, [1, 2], [1])


def test_futures_as_arguments_nested(client):
    a = client.submit(inc, 1)
    b = client.submit(inc, 2)
    total = client.submit(sum, [a, b])
    assert total.result(timeout=10) == 5
    assert client.submit(lambda d: d["x"] * 10, {"x": a}).result(timeout=10) == 20
    assert client.submit(add, a, y := b).result(timeout=10) == 5 and y is b


def test_large_results_are_fetched_from_workers(client):
    fut = client.submit(np.arange, 100_000)
    np.testing.assert_array_equal(fut.result(timeout=10), np.arange(100_000))
    total = client.submit(np.sum, fut)
    assert total.result(timeout=10) == np.arange(100_000).sum()


def test_errors_reraise_with_remote_traceback(client):
    fut = client.submit(fail, 3)
    with pytest.raises(ValueError, match="bad input 3"):
        fut.result(timeout=10)
    assert fut.status == "error"
    assert isinstance(fut.exception(), ValueError)
    frames = traceback.extract_tb(fut.traceback())
    assert any(f.name == "fail" for f in frames)
    # dependents inherit the error; other work goes on
    dep = client.submit(inc, fut)
    with pytest.raises(ValueError):
        dep.result(timeout=10)
    assert client.submit(inc, 10).result(timeout=10) == 11


def test_gather_errors_skip(client):
    good = client.submit(inc, 1)
    bad = client.submit(fail, 1)
    assert client.gather([good, bad], errors="skip") == [2]
    with pytest.raises(ValueError):
        client.gather([good, bad])
    with pytest.raises(ValueError, match="errors="):
        client.gather([good], errors="ignore")


def test_retries(client, tmp_path):
    marker = tmp_path / "count"

    def flaky():
        n = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(n + 1))
        if n < 2:
            raise RuntimeError("not yet")
        return n

    assert client.submit(flaky, retries=2, pure=False).result(timeout=10) == 2


def test_cancel(client):
    ev = threading.Event()
    fut = client.submit(ev.wait, 10, pure=False)
    fut.cancel()
    assert fut.cancelled() and fut.status == "cancelled"
    with pytest.raises(CancelledError):
        fut.result(timeout=10)
    ev.set()


def test_done_callback_runs_in_other_thread(client):
    seen = []
    done = threading.Event()

    def cb(f):
        seen.append((f.result(), threading.current_thread().name))
        done.set()

    client.submit(inc, 41).add_done_callback(cb)
    assert done.wait(10)
    assert seen[0][0] == 42


def test_wait_and_as_completed(client):
    futures = client.map(slow_inc, range(6), delay=0.01)
    done, not_done = wait(futures, timeout=10)
    assert len(done) == 6 and not not_done
    ev = threading.Event()
    blocked = client.submit(ev.wait, 10, pure=False)
    done, not_done = wait([blocked, futures[0]], return_when="FIRST_COMPLETED", timeout=10)
    assert futures[0] in done and blocked in not_done
    with pytest.raises(TimeoutError):
        wait([blocked], timeout=0.05)
    ev.set()
    results = sorted(r for _, r in as_completed(client.map(inc, range(5)), with_results=True))
    assert results == [1, 2, 3, 4, 5]
    ac = as_completed([client.submit(inc, 100)])
    ac.add(client.submit(inc, 200))
    assert sorted(f.result() for f in ac) == [101, 201]
    batches = list(as_completed(client.map(inc, range(4))).batches())
    assert sum(len(b) for b in batches) == 4


def test_scatter(client):
    [x] = client.scatter([np.ones(10)])
    assert client.submit(np.sum, x).result(timeout=10) == 10
    d = client.scatter({"a": 1, "b": 2})
    assert client.submit(add, d["a"], d["b"]).result(timeout=10) == 3
    one = client.scatter(5)
    assert isinstance(one, Future) and one.result(timeout=10) == 5
    everywhere = client.scatter([7], broadcast=True)[0]
    assert len(client.who_has([everywhere])[everywhere.key]) == 2


def test_release_on_garbage_collection(client):
    fut = client.submit(inc, 1)
    fut.result(timeout=10)
    key = fut.key
    del fut
    deadline = time.monotonic() + 10
    while key in client.who_has() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert key not in client.who_has()


def test_fire_and_forget(client, tmp_path):
    out = tmp_path / "out"

    def write():
        out.write_text("done")

    fire_and_forget(client.submit(write, pure=False))
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert out.read_text() == "done"


def test_workers_restriction_and_resources():
    with Client(processes=False, n_workers=2, threads_per_worker=1, validate=True) as client:
        workers = sorted(client.nthreads())
        fut = client.submit(lambda: get_worker().address, workers=[workers[1]], pure=False)
        assert fut.result(timeout=10) == workers[1]
        by_name = client.submit(lambda: get_worker().name, workers="0", pure=False)
        assert by_name.result(timeout=10) == "0"


def test_run_and_run_on_scheduler(client):
    pids = client.run(lambda: 1)
    assert sorted(pids) == sorted(client.nthreads()) and set(pids.values()) == {1}
    assert client.run(lambda dask_worker: dask_worker.address) == {w: w for w in client.nthreads()}
    assert client.run_on_scheduler(lambda: 3) == 3
    with pytest.raises(ZeroDivisionError):
        client.run(lambda: 1 / 0)


def test_introspection(client):
    fut = client.submit(inc, 1)
    fut.result(timeout=10)
    info = client.scheduler_info()
    assert info["type"] == "Scheduler" and len(info["workers"]) == 2
    assert all(w["nthreads"] == 2 for w in info["workers"].values())
    assert set(client.nthreads().values()) == {2}
    holders = client.who_has([fut])[fut.key]
    assert len(holders) == 1
    assert fut.key in client.has_what()[holders[0]]
    stream = client.get_task_stream()
    assert any(t["key"] == fut.key and t["status"] == "OK" for t in stream)
    assert ("processing", "memory") in [(s, f) for _, s, f, _ in client.story(fut)]


def test_compute_persist_and_default_client(client):
    x = shoal.delayed(inc)(1)
    y = shoal.delayed(add)(x, 10)
    fut = client.compute(y)
    assert isinstance(fut, Future) and fut.result(timeout=10) == 12
    assert client.compute([x, y], sync=True) == [2, 12]
    # the client is the default scheduler for compute()
    assert y.compute() == 12
    assert shoal.compute(x, y) == (2, 12)
    (p,) = shoal.persist(y)
    assert p.compute() == 12
    z = client.persist(x)
    assert (z + 1).compute() == 3


def test_array_on_cluster(client):
    import shoal.array as sa

    data = np.arange(1000.0).reshape(20, 50)
    arr = sa.from_array(data, chunks=(5, 10))
    np.testing.assert_allclose((arr + 1).sum(axis=0).compute(), (data + 1).sum(axis=0))
    np.testing.assert_allclose(client.compute(arr.mean()).result(timeout=30), data.mean())


def test_get_legacy_graph(client):
    graph = {"a": 1, "b": (inc, "a"), "c": (add, "a", "b")}
    assert client.get(graph, "c") == 3
    assert client.get(graph, ["a", ["b", "c"]]) == [1, [2, 3]]


def test_async_client():
    import asyncio

    async def main():
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as client:
            fut = client.submit(inc, 1)
            assert await fut == 2
            assert await client.gather(client.map(inc, [1, 2])) == [2, 3]
            [x] = await client.scatter([3])
            assert await client.submit(inc, x) == 4

    asyncio.run(asyncio.wait_for(main(), 30))


def test_bad_arguments(client):
    with pytest.raises(TypeError, match="callable"):
        client.submit(1, 2)
    with pytest.raises(TypeError, match="address"):
        Client(3.5)


def test_task_error_does_not_crash_scheduler(client):
    class Unpicklable:
        def __reduce__(self):
            raise TypeError("no pickling")

    fut = client.submit(lambda: Unpicklable(), pure=False)
    assert type(fut.result(timeout=10)).__name__ == "Unpicklable"  # in-process: no pickling needed
    assert client.submit(inc, 1).result(timeout=10) == 2


def test_tasks_launch_tasks_with_secede():
    from shoal.distributed import get_client, secede, worker_client

    def outer(x):
        client = get_client()
        secede()
        return client.submit(inc, x).result(timeout=10) + 1

    def fib(n):
        if n < 2:
            return n
        with worker_client() as c:
            a, b = c.submit(fib, n - 1), c.submit(fib, n - 2)
            return a.result(timeout=20) + b.result(timeout=20)

    with Client(processes=False, n_workers=1, threads_per_worker=1, validate=True, set_as_default=False) as client:
        assert client.submit(outer, 1).result(timeout=20) == 3
        assert client.submit(fib, 6).result(timeout=30) == 8


def test_get_worker_outside_task():
    with pytest.raises(ValueError, match="outside a task"):
        get_worker()


def test_results_spill_to_disk_and_come_back():
    with Client(processes=False, n_workers=1, threads_per_worker=1, memory_limit="4MB", validate=True,
                set_as_default=False) as client:
        arrays = client.map(lambda i: np.full(100_000, i, dtype="f8"), range(10))  # 800 kB each
        totals = client.gather(client.map(np.sum, arrays))
        assert totals == [100_000.0 * i for i in range(10)]
        metrics = next(iter(client.run(lambda dask_worker: dask_worker.metrics()).values()))
        assert metrics["spilled_bytes"] > 0
        assert metrics["managed_bytes"] <= 0.6 * 4_000_000
        np.testing.assert_array_equal(arrays[0].result(timeout=10), np.zeros(100_000))


def test_new_worker_steals_queued_tasks():
    def where(i):
        time.sleep(0.05)
        return get_worker().name

    with Client(processes=False, n_workers=1, threads_per_worker=1, validate=True, set_as_default=False) as client:
        futures = client.map(where, range(16))
        client.cluster.scale(2)
        names = client.gather(futures)
        assert set(names) == {"0", "1"}


def test_wait_on_persisted_collections(client):
    import pandas as pd

    import shoal.array as sa
    import shoal.dataframe as sd

    pdf = pd.DataFrame({"x": np.arange(100.0)})
    df = client.persist(sd.from_pandas(pdf, npartitions=4) * 2)
    arr = client.persist(sa.arange(100, chunks=10) + 1)
    done, not_done = wait([df, arr], timeout=30)
    assert len(done) == 4 + 10 and not not_done
    done, _ = wait(df, timeout=30)
    assert len(done) == 4
    np.testing.assert_array_equal(df.compute().x.to_numpy(), pdf.x.to_numpy() * 2)
    np.testing.assert_array_equal(arr.compute(), np.arange(100) + 1)

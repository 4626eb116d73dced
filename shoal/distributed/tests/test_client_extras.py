"""Client API beyond the core, on in-process clusters: datasets, introspection, metadata, retries, versions,
events and logs, retiring workers, the executor and shutdown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time

import numpy as np
import pytest

import shoal.array as da
from shoal.distributed import Client, LocalCluster, futures_of, wait
from shoal.distributed.client_extras import _versions_result


def _until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def inc(x: int) -> int:
    return x + 1


@pytest.fixture
def cluster():
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=2, validate=True) as c:
        yield c


# ---------------------------------------------------------------------- datasets

def test_dataset_outlives_publishing_client(cluster):
    with Client(cluster, set_as_default=False) as a:
        x = a.submit(inc, 41)
        a.publish_dataset(x, name="answer")
        a.publish_dataset(pair=[x, a.submit(inc, 1)])
    with Client(cluster, set_as_default=False) as b:
        assert b.list_datasets() == ("answer", "pair")
        assert b.get_dataset("answer").result() == 42
        assert b.gather(b.get_dataset("pair")) == [42, 2]
        assert "answer" in b.datasets and len(b.datasets) == 2


def test_published_collection_is_persisted(cluster):
    x = np.arange(40.0).reshape(8, 5)
    with Client(cluster, set_as_default=False) as a:
        arr = da.from_array(x, chunks=(3, 2)) * 2
        a.publish_dataset(arr=arr)
        assert futures_of(a.get_dataset("arr"))  # stored persisted: it holds futures, not a graph to rerun
    with Client(cluster, set_as_default=False) as b:
        got = b.get_dataset("arr")
        assert got.chunks == ((3, 3, 2), (2, 2, 1))
        np.testing.assert_array_equal(b.compute(got).result(), x * 2)


def test_dataset_errors_and_override(cluster):
    with Client(cluster, set_as_default=False) as c:
        c.publish_dataset(d=c.submit(inc, 1))
        with pytest.raises(KeyError, match="'d' already exists") as info:
            c.publish_dataset(d=c.submit(inc, 2))
        assert isinstance(info.value, ValueError)
        c.publish_dataset(d=c.submit(inc, 2), override=True)
        assert c.get_dataset("d").result() == 3
        with pytest.raises(KeyError, match="'nope' not found"):
            c.get_dataset("nope")
        assert c.get_dataset("nope", default=None) is None
        with pytest.raises(ValueError, match="name="):
            c.publish_dataset(c.submit(inc, 3))
        with pytest.raises(ValueError, match="object to publish"):
            c.publish_dataset(name="x")


def test_unpublish_releases_data(cluster):
    with Client(cluster, set_as_default=False) as c:
        c.datasets["big"] = c.submit(np.ones, 1000, pure=False)
        big = c.get_dataset("big")
        assert big.result(timeout=10).sum() == 1000
        key = big.key
        del big
        assert c.who_has()[key]
        del c.datasets["big"]
        assert c.list_datasets() == ()
        _until(lambda: not c.who_has().get(key))  # nobody wants it any more: the worker dropped it
        with pytest.raises(KeyError, match="'big' not found"):
            del c.datasets["big"]


def test_dataset_after_restart_is_reported_lost(cluster):
    with Client(cluster, set_as_default=False) as c:
        c.publish_dataset(x=c.submit(inc, 1))
        c.restart(timeout=30)
        with pytest.raises(KeyError, match="'x' lost its data"):
            c.get_dataset("x")
        assert c.list_datasets() == ()


def test_async_client():
    async def main():
        async with Client(processes=False, n_workers=2, asynchronous=True, set_as_default=False) as c:
            fut = c.submit(inc, 1)
            await c.publish_dataset(y=fut)
            assert await c.list_datasets() == ("y",)
            got = await c.get_dataset("y")
            assert await got == 2
            await c.set_metadata(["k"], 5)
            assert await c.get_metadata("k") == 5
            await c.log_event("t", 1)
            assert [m for _, m in await c.get_events("t")] == [1]
            assert set(await c.processing()) == set(await c.nthreads())
            assert (await c.nbytes(keys=[fut]))[fut.key] > 0
            assert await c.call_stack() == {}
            info = await c.get_versions(check=True)
            assert len(info["workers"]) == 2
            await c.unpublish_dataset("y")

    # In its own thread: a worker's run() leaves its worker in the thread-local state of the event-loop thread
    # (server/worker.py rpc_run), which would make later get_client() calls in this thread find a closed cluster.
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            asyncio.run(asyncio.wait_for(main(), 30))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert outcome, "the asynchronous client did not finish within 60s"
    if outcome[0] is not None:
        raise outcome[0]


# ---------------------------------------------------------------------- introspection

_gate = threading.Event()


def blocked(x: int) -> int:
    _gate.wait(20)
    return x


def test_processing_and_call_stack(cluster):
    _gate.clear()
    with Client(cluster, set_as_default=False) as c:
        fut = c.submit(blocked, 1)
        try:
            _until(lambda: any(fut.key in keys for keys in c.processing().values()))
            where = [w for w, keys in c.processing().items() if fut.key in keys]
            assert c.processing(workers=where) == {where[0]: [fut.key]}
            _until(lambda: fut.key in c.call_stack().get(where[0], {}))
            frames = c.call_stack([fut])[where[0]][fut.key]
            where_blocked = [i for i, line in enumerate(frames) if "in blocked" in line]
            assert where_blocked and "_gate.wait" in frames[where_blocked[0]]  # innermost frames last
            assert c.call_stack(keys=["other-key"]) == {}
        finally:
            _gate.set()
        assert fut.result(timeout=10) == 1
        assert c.call_stack() == {}


def test_nbytes(cluster):
    with Client(cluster, set_as_default=False) as c:
        a = c.submit(np.zeros, 1000, key="zeros-1")
        b = c.submit(np.zeros, 500, key="zeros-2")
        wait([a, b], timeout=10)
        sizes = c.nbytes(keys=[a.key, b.key])
        assert sizes[a.key] >= 8000 and sizes[b.key] >= 4000 and sizes[a.key] > sizes[b.key]
        assert c.nbytes(summary=True)["zeros"] == sizes[a.key] + sizes[b.key]
        assert set(c.nbytes()) >= {a.key, b.key}


def test_metadata(cluster):
    with Client(cluster, set_as_default=False) as c:
        c.set_metadata("x", 1)
        c.set_metadata(["a", "b", "c"], [1, 2])
        c.set_metadata(["a", "d"], "e")
        assert c.get_metadata("x") == 1
        assert c.get_metadata(["a", "b"]) == {"c": [1, 2]}
        assert c.get_metadata("a") == {"b": {"c": [1, 2]}, "d": "e"}
        assert c.get_metadata(["a", "missing"], default=0) == 0
        with pytest.raises(KeyError, match="'a', 'missing'"):
            c.get_metadata(["a", "missing"])


def test_futures_of(cluster):
    with Client(cluster, set_as_default=False) as c:
        fs = c.map(inc, [1, 2])
        assert c.futures_of({"x": fs, "y": 3}) == futures_of(fs)


_attempts: dict[str, int] = {}


def flaky(name: str) -> str:
    _attempts[name] = _attempts.get(name, 0) + 1
    if _attempts[name] == 1:
        raise ValueError(f"first try of {name} fails")
    return name


def test_retry_reruns_failed_tasks(cluster):
    _attempts.clear()
    with Client(cluster, set_as_default=False) as c:
        bad = c.submit(flaky, "x", pure=False)
        downstream = c.submit(inc, c.submit(len, bad))  # fails with it
        wait([bad, downstream], timeout=10)
        assert bad.status == "error" and downstream.status == "error"
        c.retry([downstream])  # reruns the failed dependency too
        assert downstream.result(timeout=10) == 2
        assert bad.result(timeout=10) == "x"
        assert _attempts["x"] == 2
        c.retry([bad])  # nothing failed any more: no-op
        assert bad.result() == "x"


def test_get_versions(cluster):
    with Client(cluster, set_as_default=False) as c:
        info = c.get_versions(check=True)
        assert set(info) == {"client", "scheduler", "workers"}
        assert len(info["workers"]) == 2
        assert info["scheduler"]["packages"]["numpy"] == np.__version__
        assert info["client"]["packages"]["shoal"] == info["scheduler"]["packages"]["shoal"]


def test_versions_mismatch_is_reported():
    def fake(shoal_version: str) -> dict:
        return {"host": {}, "packages": {"python": "3.11.0", "shoal": shoal_version}}

    ok = _versions_result(fake("1.0"), fake("1.0"), {"w": fake("1.0")}, True, None)
    assert ok["workers"] == {"w": fake("1.0")}
    with pytest.raises(ValueError, match=r"shoal: client=1.0, scheduler=1.0, worker w=0.9"):
        _versions_result(fake("1.0"), fake("1.0"), {"w": fake("0.9")}, True, None)


# ---------------------------------------------------------------------- events and logs

def test_events_and_subscriptions(cluster):
    with Client(cluster, set_as_default=False) as a, Client(cluster, set_as_default=False) as b:
        seen = []
        b.subscribe_topic("jobs", seen.append)
        a.log_event("jobs", {"n": 1})
        a.log_event(["jobs", "other"], "two")
        _until(lambda: len(seen) == 2)
        assert [msg for _, msg in seen] == [{"n": 1}, "two"]
        assert all(isinstance(t, float) for t, _ in seen)
        assert [m for _, m in a.get_events("jobs")] == [{"n": 1}, "two"]
        assert [m for _, m in a.get_events()["other"]] == ["two"]
        assert a.get_events("none") == ()
        b.unsubscribe_topic("jobs")
        a.log_event("jobs", 3)
        assert [m for _, m in b.get_events("jobs")] == [{"n": 1}, "two", 3]
        assert len(seen) == 2
        with pytest.raises(ValueError, match="not subscribed to topic 'jobs'"):
            b.unsubscribe_topic("jobs")
        with pytest.raises(TypeError, match="topic"):
            a.log_event(5, "x")


def test_scheduler_logs(cluster):
    with Client(cluster, set_as_default=False) as c:
        logging.getLogger("shoal.distributed.scheduler").warning("marker-%s", "for-the-test")
        logs = c.get_scheduler_logs()
        assert ("WARNING", "marker-for-the-test") in logs
        assert c.get_scheduler_logs(n=1) == logs[-1:]


# ---------------------------------------------------------------------- workers

def test_retire_workers_keeps_data(cluster):
    with Client(cluster, set_as_default=False) as c:
        workers = sorted(c.nthreads())
        first, second = workers
        [x] = c.scatter([np.arange(10)], workers=[first])
        y = c.submit(inc, 1, workers=[first])
        wait([y], timeout=10)
        name = c.scheduler_info()["workers"][first]["name"]
        retired = c.retire_workers([name])
        assert list(retired) == [first]
        assert sorted(c.nthreads()) == [second]
        assert c.who_has([x, y]) == {x.key: [second], y.key: [second]}
        np.testing.assert_array_equal(x.result(), np.arange(10))
        assert y.result() == 2
        with pytest.raises(ValueError, match="no worker"):
            c.retire_workers(["tcp://nowhere:1"])
        with pytest.raises(ValueError, match="every worker"):
            c.retire_workers([second])


def test_retire_idle_workers_by_default(cluster):
    with Client(cluster, set_as_default=False) as c:
        x = c.submit(inc, 1)
        assert x.result() == 2
        retired = c.retire_workers()
        assert len(retired) == 1 and len(c.nthreads()) == 1
        assert x.result() == 2


# ---------------------------------------------------------------------- executor and shutdown

def test_executor(cluster):
    with Client(cluster, set_as_default=False) as c:
        with c.get_executor() as ex:
            fut = ex.submit(inc, 1)
            assert isinstance(fut, concurrent.futures.Future)
            assert fut.result(timeout=10) == 2
            assert list(ex.map(inc, range(5), timeout=10)) == [1, 2, 3, 4, 5]
            bad = ex.submit(flaky, "executor-fails-once-" + str(time.time()))
            with pytest.raises(ValueError, match="first try"):
                bad.result(timeout=10)
            done, _ = concurrent.futures.wait([ex.submit(inc, i) for i in range(4)], timeout=10)
            assert sorted(f.result() for f in done) == [1, 2, 3, 4]
        with pytest.raises(RuntimeError, match="shutdown"):
            ex.submit(inc, 1)


def test_executor_shutdown_cancels(cluster):
    _gate.clear()
    with Client(cluster, set_as_default=False) as c:
        ex = c.get_executor()
        try:
            slow = ex.submit(blocked, 1)
            ex.shutdown(wait=True, cancel_futures=True)
            with pytest.raises(Exception, match="cancel|Cancel"):
                slow.result(timeout=10)
        finally:
            _gate.set()


def test_shutdown_closes_own_cluster():
    c = Client(processes=False, n_workers=1, set_as_default=False)
    cluster = c.cluster
    c.shutdown()
    assert c.status == "closed"
    assert cluster.status == "closed"


def test_shutdown_closes_a_cluster_it_was_given():
    cluster = LocalCluster(processes=False, n_workers=1)
    with Client(cluster, set_as_default=False) as c:
        assert c.submit(inc, 1).result(timeout=10) == 2
        c.shutdown()
        assert c.status == "closed"
    assert cluster.status == "closed"

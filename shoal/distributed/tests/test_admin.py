"""replicate, rebalance, restart, upload_file, worker plugins, recreate_error_locally, Pub/Sub, adapt."""

from __future__ import annotations

import importlib
import sys
import time
import uuid

import numpy as np
import pytest

from shoal.distributed import Client, LocalCluster, Pub, Sub, WorkerPlugin
from shoal.distributed.server.worker import current_worker


def _until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)


def test_replicate_to_all_and_to_n():
    with Client(processes=False, n_workers=3, threads_per_worker=1, validate=True, set_as_default=False) as c:
        x = c.submit(np.arange, 10, workers=[list(c.nthreads())[0]])
        y = c.submit(lambda v: v * 2, 5)
        c.replicate([x, y])
        who = c.who_has([x, y])
        assert len(who[x.key]) == 3 and len(who[y.key]) == 3
        has = c.has_what()
        assert all(x.key in keys for keys in has.values())
        c.replicate([x], n=1)
        _until(lambda: len(c.who_has([x])[x.key]) == 1)
        c.replicate(x, n=2)
        assert len(c.who_has([x])[x.key]) == 2
        # Every copy is usable: tasks pinned to each holder read it locally.
        for address in c.who_has([x])[x.key]:
            assert c.submit(np.sum, x, workers=[address], pure=False).result() == 45
        np.testing.assert_array_equal(x.result(), np.arange(10))
        with pytest.raises(ValueError, match="n >= 1"):
            c.replicate([x], n=0)


def test_rebalance_evens_out_bytes(client):
    a, b = sorted(client.nthreads())
    futures = client.map(lambda i: np.full(10_000, i, dtype="f8"), range(8), workers=[a])
    client.gather(futures)
    assert set(client.who_has(futures)[futures[0].key]) == {a}
    client.rebalance(futures)
    has = client.has_what()
    held_a = sum(f.key in has[a] for f in futures)
    held_b = sum(f.key in has[b] for f in futures)
    assert held_a + held_b == 8 and abs(held_a - held_b) <= 2
    assert [float(v[0]) for v in client.gather(futures)] == [float(i) for i in range(8)]
    assert client.submit(lambda *xs: sum(float(x.sum()) for x in xs), *futures).result() == sum(
        10_000.0 * i for i in range(8))


def test_restart_cancels_futures_and_clears_workers():
    with Client(processes=False, n_workers=2, threads_per_worker=1, set_as_default=False) as c:
        x = c.submit(lambda: 1)
        assert x.result() == 1
        old = set(c.nthreads())
        c.restart()
        _until(lambda: x.status == "cancelled")
        assert len(c.nthreads()) == 2 and set(c.nthreads()) != old
        assert all(not keys for keys in c.has_what().values())
        assert c.submit(lambda v: v + 1, 41).result() == 42


class Recorder(WorkerPlugin):
    events: list = []

    def __init__(self, tag):
        self.tag = tag

    def setup(self, worker):
        Recorder.events.append(("setup", self.tag, worker.address))
        worker.greeting = f"hello from {self.tag}"

    def teardown(self, worker):
        Recorder.events.append(("teardown", self.tag, worker.address))


def test_register_plugin_setup_teardown_and_late_workers():
    Recorder.events = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False)
    try:
        with Client(cluster, set_as_default=False) as c:
            out = c.register_plugin(Recorder("a"), name="rec")
            assert set(out) == set(c.nthreads())
            greet = c.run(lambda dask_worker: dask_worker.greeting)
            assert set(greet.values()) == {"hello from a"}
            c.register_plugin(Recorder("b"), name="rec")  # replaces: the old one is torn down first
            assert sum(e[:2] == ("teardown", "a") for e in Recorder.events) == 2
            cluster.scale(3)
            _until(lambda: len(c.nthreads()) == 3)
            assert set(c.run(lambda dask_worker: dask_worker.greeting).values()) == {"hello from b"}
            c.unregister_worker_plugin("rec")
            assert sum(e[:2] == ("teardown", "b") for e in Recorder.events) == 3
            with pytest.raises(ValueError, match="No worker plugin"):
                c.unregister_worker_plugin("rec")
            with pytest.raises(TypeError, match="setup"):
                c.register_plugin(object())
    finally:
        cluster.close()


class Broken(WorkerPlugin):
    def setup(self, worker):
        raise RuntimeError("plugin could not start")


def test_plugin_setup_error_reaches_client(client):
    with pytest.raises(RuntimeError, match="plugin could not start"):
        client.register_plugin(Broken(), name="broken")
    assert client.submit(sum, [1, 2]).result() == 3


def test_upload_file_is_importable_and_reloads(client, tmp_path):
    name = f"shoal_uploaded_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text("def f(x):\n    return x + 1\n")
    try:
        client.upload_file(str(path))
        assert client.submit(lambda v: importlib.import_module(name).f(v), 1).result() == 2
        path.write_text("def f(x):\n    return x + 100\n")
        client.upload_file(str(path))
        assert client.submit(lambda v: importlib.import_module(name).f(v), 1, pure=False).result() == 101
        with pytest.raises(FileNotFoundError, match="no file"):
            client.upload_file(str(tmp_path / "missing.py"))
        (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(ValueError, match=r"\.py"):
            client.upload_file(str(tmp_path / "notes.txt"))
    finally:
        sys.modules.pop(name, None)


def _divide(a, b):
    return a / b


def test_recreate_error_locally(client):
    x = client.submit(lambda: 0)
    y = client.submit(_divide, 1, x)
    z = client.submit(lambda v: v + 1, y)
    with pytest.raises(ZeroDivisionError):
        z.result()
    with pytest.raises(ZeroDivisionError) as info:
        client.recreate_error_locally(z)
    assert any(frame.name == "_divide" for frame in info.traceback)
    ok = client.submit(lambda: 1)
    ok.result()
    with pytest.raises(ValueError, match="did not fail"):
        client.recreate_error_locally(ok)


def test_recreate_error_locally_recomputes_released_inputs(client):
    y = client.submit(_divide, client.submit(lambda: 3), client.submit(lambda: 0))
    with pytest.raises(ZeroDivisionError):
        y.result()
    with pytest.raises(ZeroDivisionError):
        client.recreate_error_locally(y)


def test_pub_sub_between_tasks_and_client(client):
    sub = Sub("topic", client=client)
    early = Pub("topic", client=client)
    assert early.subscribers == 1

    def publish(n):
        pub = Pub("topic")
        for i in range(n):
            pub.put({"i": i, "worker": current_worker().address})
        return n

    assert client.submit(publish, 5).result() == 5
    got = [sub.get(timeout=10) for _ in range(5)]
    assert [m["i"] for m in got] == list(range(5))
    with pytest.raises(TimeoutError, match="topic"):
        sub.get(timeout=0.05)

    def consume(n):
        s = Sub("jobs")
        Pub("ready").put(True)
        return [next(iter(s)) for _ in range(n)]

    ready = Sub("ready", client=client)
    fut = client.submit(consume, 3)
    assert ready.get(timeout=10) is True
    pub = Pub("jobs", client=client)
    for v in ("a", "b", "c"):
        pub.put(v)
    assert fut.result(timeout=10) == ["a", "b", "c"]
    sub.close()
    assert early.subscribers == 0


def test_adapt_scales_up_on_queued_work_and_back_down():
    with LocalCluster(n_workers=0, threads_per_worker=1, processes=False) as cluster, \
            Client(cluster, set_as_default=False) as c:
        adaptive = cluster.adapt(minimum=1, maximum=3, interval="20ms", wait_count=2)
        _until(lambda: len(c.nthreads()) == 1)
        futures = c.map(lambda i: time.sleep(0.3) or i, range(12))
        _until(lambda: len(c.nthreads()) == 3)
        assert c.gather(futures) == list(range(12))
        del futures
        _until(lambda: len(c.nthreads()) == 1)
        assert max(t for _, t in adaptive.log) == 3
        with pytest.raises(ValueError, match="minimum"):
            cluster.adapt(minimum=3, maximum=1)
        cluster.scale(2)  # scaling by hand stops adapting
        time.sleep(0.1)
        assert len(c.nthreads()) == 2


def test_scaling_down_keeps_results_only_the_retired_worker_held():
    with LocalCluster(n_workers=3, threads_per_worker=1, processes=False) as cluster, \
            Client(cluster, set_as_default=False) as c:
        workers = c.scheduler_info()["workers"]
        last = next(a for a, w in workers.items() if w["name"] == "2")  # scale(1) retires the newest workers
        # Scattered data cannot be recomputed: it survives only if it is copied off before the worker leaves.
        [x] = c.scatter([np.arange(5)], workers=[last])
        futures = c.map(lambda i: i * 10, range(6), workers=[last])
        c.gather(futures)
        cluster.scale(1)
        assert len(c.nthreads()) == 1
        np.testing.assert_array_equal(x.result(), np.arange(5))
        assert c.gather(futures) == [i * 10 for i in range(6)]
        assert c.submit(np.sum, x).result() == 10


def test_root_tasks_queue_on_the_scheduler():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster, \
            Client(cluster, set_as_default=False) as c:
        state = cluster.scheduler.state
        seen = {"queued": 0, "most": 0}

        def watch():
            seen["queued"] = max(seen["queued"], len(state.queued))
            seen["most"] = max([seen["most"]] + [len(ws.processing) for ws in state.workers.values()])
            return all(f.done() for f in futures)

        futures = c.map(lambda i: time.sleep(0.02) or i * i, range(30))
        _until(watch)
        assert c.gather(futures) == [i * i for i in range(30)]
        assert seen["queued"] > 0
        assert seen["most"] <= 2  # ceil(1 thread * saturation 1.1): the rest waited on the scheduler

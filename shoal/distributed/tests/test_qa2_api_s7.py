"""QA round 2 fixes, checked against what Dask's distributed does, on worker processes over TCP on 127.0.0.1.

Memory limits as fractions and ``"auto"``, futures stored in Variables and
Queues, Dask's record shapes (task stream, ``scheduler_info``,
``as_completed(raise_errors=False)``), ``cancel(reason=)``,
``shoal.base.tokenize`` and the validation of ``annotate``.
"""

from __future__ import annotations

import gc
import time

import pytest

import shoal
from shoal.distributed import Client, Future, LocalCluster, Queue, Variable, as_completed, get_task_stream, wait
from shoal.distributed.memory import parse_memory_limit, system_memory


def inc(x):
    return x + 1


def boom(x):
    raise ZeroDivisionError(f"boom {x}")


def where():
    from shoal.distributed import get_worker

    return get_worker().address


def slow(x):
    time.sleep(5)
    return x


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def client(cluster):
    with Client(cluster, set_as_default=False) as c:
        yield c


# ---------------------------------------------------------------------- 1. memory limits


@pytest.mark.parametrize(("given", "expected"), [
    (0.5, lambda total: int(total * 0.5)), ("0.25", lambda total: int(total * 0.25)), (1, lambda total: total),
    ("2GiB", lambda total: min(2 << 30, total)), (0, lambda total: 0), (None, lambda total: 0),
    ("0", lambda total: 0), (3 * 2**30, lambda total: min(3 * 2**30, total)),
])
def test_parse_memory_limit_reads_like_dask(given, expected):
    # Dask's parse_memory_limit: a float <= 1 is a fraction of the machine, else bytes; 0 is no limit.
    assert parse_memory_limit(given) == expected(system_memory())


def test_parse_memory_limit_auto_is_the_threads_share():
    total = system_memory()
    assert parse_memory_limit("auto", nthreads=1, total_cores=4) == total // 4
    assert parse_memory_limit("auto", nthreads=8, total_cores=4) == total  # capped at the machine


@pytest.mark.parametrize("bad", ["bogus", -1, "-2GB"])
def test_parse_memory_limit_rejects_nonsense(bad):
    with pytest.raises(ValueError, match="memory_limit"):
        parse_memory_limit(bad)


def test_local_cluster_memory_limit_fraction_and_auto(cluster, client):
    with LocalCluster(n_workers=1, processes=False, memory_limit=0.5, dashboard_address=None) as local, \
            Client(local, set_as_default=False) as c:
        assert [w["memory_limit"] for w in c.scheduler_info()["workers"].values()] == [system_memory() // 2]
    # The module's cluster: "auto" splits the machine evenly between its two worker processes.
    limits = [w["memory_limit"] for w in client.scheduler_info()["workers"].values()]
    assert limits == [system_memory() // 2] * 2


# ---------------------------------------------------------------------- 3. futures in Variables and Queues


def test_variable_holds_a_future_after_the_client_drops_it(cluster, client):
    v = Variable("qa2-var", client=client)
    f = client.submit(inc, 41)
    key = f.key
    v.set(f)
    del f
    gc.collect()
    with Client(cluster, set_as_default=False) as other:
        got = Variable("qa2-var", client=other).get(timeout=10)
        assert isinstance(got, Future) and got.key == key and got.client is other
        assert got.result(timeout=20) == 42
    # Replacing the value lets the old key go (nobody else wants it); the new one stays.
    g = client.submit(inc, 1)
    v.set([g, {"again": g}])
    del g
    gc.collect()
    wait_until(lambda: key not in cluster.scheduler.state.tasks)
    value = v.get(timeout=10)
    assert value[0].result(timeout=20) == 2 and value[1]["again"].key == value[0].key
    held = value[0].key
    del value
    gc.collect()
    v.delete()
    wait_until(lambda: held not in cluster.scheduler.state.tasks)


def test_queue_passes_futures_and_keeps_them_until_taken(cluster, client):
    q = Queue("qa2-queue", client=client)
    futures = client.map(inc, range(3))
    keys = [f.key for f in futures]
    for f in futures:
        q.put(f)
    q.put(futures[0])  # the same key in two items: taking the first must not release it
    del futures, f
    gc.collect()
    with Client(cluster, set_as_default=False) as other:
        theirs = Queue("qa2-queue", client=other)
        first = theirs.get(timeout=10)
        assert [first.key] + [x.key for x in theirs.get(batch=2, timeout=10)] == keys
        assert first.result(timeout=20) == 1
    gc.collect()
    assert keys[0] in cluster.scheduler.state.tasks  # still in the queue once
    last = q.get(timeout=10)
    assert last.key == keys[0] and last.result(timeout=20) == 1


# ---------------------------------------------------------------------- 4. result shapes


def test_task_stream_records_have_dask_keys(client):
    with get_task_stream(client=client) as ts:
        good = client.submit(inc, 1)
        bad = client.submit(boom, 2)
        wait([good, bad], timeout=30)
    by_key = {r["key"]: r for r in ts.data}
    ok, err = by_key[good.key], by_key[bad.key]
    for record in (ok, err):
        assert {"key", "startstops", "status", "thread", "worker", "stimulus_id", "start", "stop"} <= set(record)
        assert record["startstops"] == [{"action": "compute", "start": record["start"], "stop": record["stop"]}]
    assert ok["status"] == "OK" and err["status"] == "error"
    assert ok["typename"] == ok["type"] == "int" and ok["nbytes"] > 0 and ok["metadata"] == {}
    assert ok["worker"] in client.scheduler_info()["workers"]


def test_scheduler_info_has_dask_keys(client):
    info = client.scheduler_info()
    workers = info["workers"]
    assert info["n_workers"] == len(workers) == 2
    assert info["total_threads"] == sum(w["nthreads"] for w in workers.values()) == 2
    assert info["total_memory"] == sum(w["memory_limit"] for w in workers.values())
    for address, w in workers.items():
        assert w["type"] == "Worker" and w["id"] == w["name"] and w["host"] == "127.0.0.1"
        assert address.startswith(f"tcp://{w['host']}:")
        assert w["local_directory"] and w["local_directory"] == client.run(
            lambda dask_worker: dask_worker.local_directory, workers=[address])[address]
        assert w["nanny"] is None or w["nanny"].startswith("tcp://")


def test_as_completed_without_raising_gives_exc_info(client):
    futures = [client.submit(inc, 1), client.submit(boom, 3)]
    results = dict((f.key, r) for f, r in as_completed(futures, with_results=True, raise_errors=False))
    assert results[futures[0].key] == 2
    typ, exc, tb = results[futures[1].key]
    assert typ is ZeroDivisionError and isinstance(exc, ZeroDivisionError) and str(exc) == "boom 3"
    assert tb is exc.__traceback__


def test_cancel_with_a_reason(client):
    f = client.submit(slow, 1, pure=False)
    client.cancel(f, reason="no longer needed")
    with pytest.raises(shoal.distributed.CancelledError, match="no longer needed"):
        f.result(timeout=10)
    assert f.cancelled()


def test_tokenize_from_shoal_base():
    from shoal.base import tokenize

    assert tokenize is shoal.tokenize
    assert tokenize([1, 2], "a") == shoal.tokenize([1, 2], "a")


# ---------------------------------------------------------------------- 6. annotate validation


@pytest.mark.parametrize("bad", [dict(workers=5), dict(workers=["a", 3]), dict(priority="high"),
                                 dict(retries="2"), dict(resources=3), dict(allow_other_workers="yes")])
def test_annotate_rejects_wrong_types_as_dask(bad):
    name = next(iter(bad))
    with pytest.raises(TypeError, match=f"annotate\\({name}="):
        with shoal.annotate(**bad):
            pass


def test_annotate_one_worker_name_pins_the_task(client):
    address, other = sorted(client.scheduler_info()["workers"])
    name = client.scheduler_info()["workers"][other]["name"]
    with shoal.annotate(workers=name):  # one name, not a list: Dask turns it into [name]
        x = shoal.delayed(where)(dask_key_name="qa2-where")
    assert x.annotations == {"workers": [name]}
    assert client.compute(x).result(timeout=30) == other

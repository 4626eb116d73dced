"""get_worker().log_event inside tasks: recorded by the scheduler, seen by get_events and subscribe_topic."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from shoal.distributed import Client, LocalCluster, get_worker


def log_progress(i: int) -> int:
    get_worker().log_event("progress", {"i": i})
    return i


def log_to_many(i: int) -> int:
    get_worker().log_event(["a", "b"], ("both", i))
    return i


def bad_topic(_: int) -> None:
    get_worker().log_event(3, "x")


def _refuse_to_load() -> None:
    raise RuntimeError("this message cannot be loaded on the scheduler")


class LoadsNowhere:
    """Pickles fine on the worker; unpickling it raises (as a class missing on the scheduler would)."""

    def __reduce__(self):
        return (_refuse_to_load, ())


def log_unloadable(_: int) -> int:
    get_worker().log_event("odd", LoadsNowhere())
    get_worker().log_event("odd", "fine")
    return 1


def _wait_for(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _subscribe(client: Client, topic: str) -> list:
    got: list = []
    lock = threading.Lock()

    def handler(event):
        with lock:
            got.append(event)

    client.subscribe_topic(topic, handler)
    return got


def _check_events(client: Client) -> None:
    got = _subscribe(client, "progress")
    assert client.gather(client.map(log_progress, range(5))) == list(range(5))
    events = client.get_events("progress")
    assert sorted(msg["i"] for _, msg in events) == list(range(5))
    assert all(isinstance(t, float) and t > 0 for t, _ in events)
    # the same (time, msg) shape as an event the client logs itself
    client.log_event("progress", {"i": "client"})
    events = client.get_events("progress")
    assert [type(e) for e in events] == [tuple] * 6 and all(len(e) == 2 for e in events)
    _wait_for(lambda: len(got) == 6)
    assert sorted(str(msg["i"]) for _, msg in got) == sorted(map(str, [*range(5), "client"]))
    client.unsubscribe_topic("progress")

    assert client.submit(log_to_many, 7).result(timeout=30) == 7
    assert [msg for _, msg in client.get_events("a")] == [("both", 7)]
    assert [msg for _, msg in client.get_events("b")] == [("both", 7)]
    with pytest.raises(TypeError, match="topic"):
        client.submit(bad_topic, 1).result(timeout=30)


def test_worker_events_in_process():
    with Client(processes=False, n_workers=2, threads_per_worker=2, set_as_default=False) as client:
        _check_events(client)


def test_worker_log_event_from_the_event_loop():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        client.run(lambda dask_worker: dask_worker.log_event("from-run", "hello"))
        _wait_for(lambda: len(client.get_events("from-run")) == 1)
        assert client.get_events("from-run")[0][1] == "hello"


def test_unloadable_event_is_dropped_and_the_worker_stays(caplog):
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        with caplog.at_level(logging.WARNING, logger="shoal.distributed.scheduler"):
            assert client.submit(log_unloadable, 1).result(timeout=30) == 1
        assert [msg for _, msg in client.get_events("odd")] == ["fine"]
        assert "cannot unpickle" in caplog.text and "'odd'" in caplog.text
        assert len(client.nthreads()) == 1
        assert client.submit(log_progress, 9).result(timeout=30) == 9


def test_unpicklable_message_fails_the_task():
    def unpicklable(_):
        get_worker().log_event("t", threading.Lock())

    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        with pytest.raises(Exception, match="(?i)pickle"):
            client.submit(unpicklable, 1).result(timeout=30)
        assert client.get_events("t") == ()


def test_worker_events_in_worker_processes():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        _check_events(client)

"""Reschedule: a task that raises it runs again, on another worker when there is one, and never errs."""

from __future__ import annotations

import pickle

from shoal._exceptions import ShoalError
from shoal.distributed import Client, LocalCluster, Reschedule, get_worker


def _not_on_zero(i):
    worker = get_worker()
    worker.log_event("s7-attempts", [i, str(worker.name)])
    if str(worker.name) == "0":
        raise Reschedule()
    return i * 10, str(worker.name)


def _inc(x):
    return x + 1


def _add_not_on_zero(x, y):
    if str(get_worker().name) == "0":
        raise Reschedule()
    return x + y


def test_rescheduled_tasks_run_elsewhere_and_never_err(client):
    futures = client.map(_not_on_zero, range(12), pure=False)
    assert client.gather(futures) == [(i * 10, "1") for i in range(12)]
    assert {f.status for f in futures} == {"finished"}
    attempts = sorted(tuple(msg) for _, msg in client.get_events("s7-attempts"))
    on_zero = [i for i, name in attempts if name == "0"]
    assert on_zero, "some tasks should have been placed on worker 0 first"
    assert sorted(i for i, name in attempts if name == "1") == list(range(12))
    # The scheduler's log shows each rescheduled task moving off worker 0, not erring.
    moves = client.run_on_scheduler(lambda dask_scheduler: [e for e in dask_scheduler.state.log
                                                             if str(e[3]).startswith("reschedule")
                                                             and e[1:3] == ("processing", "processing")])
    assert len(moves) == len(on_zero)
    log = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.state.log))
    assert not any(entry[2] == "erred" for entry in log)
    # Worker 0 forgot the tasks it gave up; worker 1 holds every result.
    held = client.run(lambda dask_worker: sorted(str(k) for k in dask_worker.state.tasks
                                                 if str(k).startswith("_not_on_zero")))
    by_name = {str(info["name"]): held[address] for address, info in client.scheduler_info()["workers"].items()}
    assert by_name["0"] == [] and len(by_name["1"]) == 12


def test_rescheduled_task_inside_a_graph(client):
    # Both inputs on worker 0 draw the sum there first; it moves to worker 1 and fetches them.
    x = client.submit(_inc, 1, workers=["0"])
    y = client.submit(_inc, 10, workers=["0"])
    total = client.submit(_add_not_on_zero, x, y, pure=False)
    after = client.submit(_inc, total)
    assert after.result(timeout=30) == 2 + 11 + 1
    assert total.result() == 13
    assert client.who_has([total])[total.key] == [a for a, w in client.scheduler_info()["workers"].items()
                                                  if str(w["name"]) == "1"]


def test_reschedule_across_processes():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        results = client.gather(client.map(_not_on_zero, range(6), pure=False))
        assert results == [(i * 10, "1") for i in range(6)]


def test_reschedule_is_a_picklable_shoal_error():
    exc = pickle.loads(pickle.dumps(Reschedule()))
    assert isinstance(exc, Reschedule) and isinstance(exc, ShoalError)

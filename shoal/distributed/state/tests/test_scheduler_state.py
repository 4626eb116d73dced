"""The scheduler's state machine without sockets: events in, messages out."""

from __future__ import annotations

from operator import add
from typing import Any

import pytest

from shoal.distributed._exceptions import KilledWorker
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.state.actions import SendToClient, SendToWorker
from shoal.distributed.state.events import (
    ClientLeft,
    DataScattered,
    GraphSubmitted,
    KeysCancelled,
    KeysReleased,
    TaskErred,
    TaskFinished,
    TaskMissing,
    WorkerJoined,
    WorkerLeft,
)
from shoal.distributed.state.scheduler import SchedulerState
from shoal.graph.task import Ref, Task


@pytest.fixture
def sched():
    state = SchedulerState(allowed_failures=1)
    yield state
    state.validate_state()


def join(state: SchedulerState, address: str, nthreads: int = 1, **kw: Any) -> list[Any]:
    return state.handle(WorkerJoined(address, address, nthreads, 0, 0.0, f"join-{address}", **kw))


def submit(state: SchedulerState, graph: dict[str, Task], wanted: list[str], client: str = "c", **kw: Any):
    tasks = {k: pickle_value(v) for k, v in graph.items()}
    deps = {k: tuple(v.dependencies) for k, v in graph.items() if v.dependencies}
    return state.handle(GraphSubmitted(client, tasks, deps, tuple(wanted), {}, "submit", **kw))


def computes(actions: list[Any]) -> dict[str, str]:
    return {a.msg["key"]: a.worker for a in actions if type(a) is SendToWorker and a.msg["op"] == "compute_task"}


def finished(key: str, worker: str, nbytes: int = 8, inline: Any = None) -> TaskFinished:
    return TaskFinished(key, worker, nbytes, "int", f"done-{key}", inline=None if inline is None else
                        pickle_value(inline))


def client_msgs(actions: list[Any], op: str) -> list[dict[str, Any]]:
    return [a.msg for a in actions if type(a) is SendToClient and a.msg["op"] == op]


def test_chain_runs_and_releases_intermediate(sched):
    join(sched, "w1")
    graph = {"a": Task("a", abs, -1), "b": Task("b", add, Ref("a"), 1)}
    assert computes(submit(sched, graph, ["b"])) == {"a": "w1"}
    actions = sched.handle(finished("a", "w1"))
    assert computes(actions) == {"b": "w1"}
    sched.validate_state()
    actions = sched.handle(finished("b", "w1", inline=2))
    report = client_msgs(actions, "key_in_memory")
    assert report and report[0]["key"] == "b" and unpickle_value(report[0]["inline"]) == 2
    # "a" is no longer needed: freed on the worker
    frees = [a.msg["keys"] for a in actions if type(a) is SendToWorker and a.msg["op"] == "free_keys"]
    assert ["a"] in frees
    assert sched.tasks["a"].status == "released"
    assert sched.tasks["b"].status == "memory"


def test_release_forgets_everything(sched):
    join(sched, "w1")
    graph = {"a": Task("a", abs, -1), "b": Task("b", add, Ref("a"), 1)}
    submit(sched, graph, ["b"])
    sched.handle(finished("a", "w1"))
    sched.handle(finished("b", "w1"))
    actions = sched.handle(KeysReleased("c", ("b",), "release"))
    assert sched.tasks == {}
    assert any(a.msg == {"op": "free_keys", "keys": ["b"], "stimulus_id": "release"} for a in actions)


def test_locality_prefers_worker_with_data(sched):
    join(sched, "w1")
    join(sched, "w2")
    sched.handle(DataScattered("c", {"x": (("w2",), 10**8, "ndarray")}, "scatter"))
    graph = {"y": Task("y", len, Ref("x"))}
    assert computes(submit(sched, graph, ["y"])) == {"y": "w2"}


def test_root_tasks_spread_over_workers(sched):
    join(sched, "w1")
    join(sched, "w2", nthreads=3)
    graph = {f"t{i}": Task(f"t{i}", abs, i) for i in range(8)}
    placed = computes(submit(sched, graph, list(graph)))
    counts = {w: list(placed.values()).count(w) for w in ("w1", "w2")}
    assert counts == {"w1": 2, "w2": 6}


def test_error_propagates_to_dependents_and_client(sched):
    join(sched, "w1")
    graph = {"a": Task("a", abs, -1), "b": Task("b", add, Ref("a"), 1)}
    submit(sched, graph, ["b"])
    exc = pickle_value(ValueError("boom"))
    actions = sched.handle(TaskErred("a", "w1", exc, None, "ValueError: boom", "err"))
    [msg] = client_msgs(actions, "task_erred")
    assert msg["key"] == "b" and msg["blame"] == "a"
    assert isinstance(unpickle_value(msg["exception"]), ValueError)
    assert sched.tasks["b"].status == "erred"


def test_retries_run_again(sched):
    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], retries=1)
    actions = sched.handle(TaskErred("a", "w1", pickle_value(ValueError()), None, "ValueError", "err"))
    assert computes(actions) == {"a": "w1"}
    actions = sched.handle(TaskErred("a", "w1", pickle_value(ValueError()), None, "ValueError", "err2"))
    assert client_msgs(actions, "task_erred")


def test_no_worker_then_worker_joins(sched):
    assert computes(submit(sched, {"a": Task("a", abs, -1)}, ["a"])) == {}
    assert sched.tasks["a"].status == "no-worker"
    assert computes(join(sched, "w1")) == {"a": "w1"}


def test_restrictions_and_resources(sched):
    join(sched, "w1")
    join(sched, "w2", resources={"GPU": 1})
    assert computes(submit(sched, {"a": Task("a", abs, -1)}, ["a"], workers=frozenset({"w1"}))) == {"a": "w1"}
    assert computes(submit(sched, {"b": Task("b", abs, -2)}, ["b"], resources={"GPU": 1})) == {"b": "w2"}
    assert computes(submit(sched, {"c": Task("c", abs, -3)}, ["c"], resources={"TPU": 1})) == {}
    assert sched.tasks["c"].status == "no-worker"


def test_worker_death_reschedules_and_recomputes(sched):
    join(sched, "w1")
    join(sched, "w2")
    graph = {"a": Task("a", abs, -1), "b": Task("b", add, Ref("a"), 1)}
    placed = computes(submit(sched, graph, ["b"], client="c"))
    first = placed["a"]
    other = "w2" if first == "w1" else "w1"
    sched.handle(finished("a", first))
    assert sched.tasks["b"].processing_on.address == first
    # the worker holding "a" and running "b" dies: both go to the other worker
    actions = sched.handle(WorkerLeft(first, "died"))
    assert computes(actions) == {"a": other}
    assert sched.tasks["a"].suspicious == 0 and sched.tasks["b"].suspicious == 1
    assert computes(sched.handle(finished("a", other))) == {"b": other}


def test_killed_worker_after_allowed_failures(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    w = sched.tasks["a"].processing_on.address
    sched.handle(WorkerLeft(w, "died-1"))
    w = sched.tasks["a"].processing_on.address
    actions = sched.handle(WorkerLeft(w, "died-2"))
    [msg] = client_msgs(actions, "task_erred")
    exc = unpickle_value(msg["exception"])
    assert isinstance(exc, KilledWorker) and "allowed-failures" in str(exc)


def test_missing_data_recomputes(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], workers=frozenset({"w1"}))
    sched.handle(finished("a", "w1"))
    graph = {"b": Task("b", add, Ref("a"), 1)}
    assert computes(submit(sched, graph, ["b"], workers=frozenset({"w2"}))) == {"b": "w2"}
    actions = sched.handle(TaskMissing("a", "w1", "missing"))
    assert computes(actions) == {"a": "w1"}
    assert sched.tasks["b"].status == "waiting"
    assert client_msgs(actions, "lost_key")


def test_cancel_and_client_leaving(sched):
    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    actions = sched.handle(KeysCancelled("c", ("a",), "cancel"))
    assert client_msgs(actions, "cancelled_keys")
    assert "a" not in sched.tasks
    submit(sched, {"b": Task("b", abs, -1)}, ["b"])
    sched.handle(ClientLeft("c", "bye"))
    assert sched.tasks == {}


def test_shared_key_between_clients(sched):
    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], client="c1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], client="c2")
    actions = sched.handle(finished("a", "w1"))
    assert len(client_msgs(actions, "key_in_memory")) == 2
    sched.handle(KeysReleased("c1", ("a",), "r1"))
    assert sched.tasks["a"].status == "memory"
    sched.handle(KeysReleased("c2", ("a",), "r2"))
    assert "a" not in sched.tasks


def test_story_names_stimuli(sched):
    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    sched.handle(finished("a", "w1"))
    story = sched.story("a")
    assert [(s, f) for _, s, f, _ in story] == [("released", "waiting"), ("waiting", "processing"),
                                                ("processing", "memory")]
    assert story[-1][3] == "done-a"


def test_work_stealing_moves_queued_task_to_idle_worker(sched):
    from shoal.distributed.state.events import BalanceRequested, StealResponded

    join(sched, "w1")
    graph = {f"t{i}": Task(f"t{i}", abs, i) for i in range(6)}
    assert set(computes(submit(sched, graph, list(graph))).values()) == {"w1"}
    join(sched, "w2")
    actions = sched.handle(BalanceRequested("tick"))
    requests = [a.msg["key"] for a in actions if type(a) is SendToWorker and a.msg["op"] == "steal_request"]
    assert len(requests) == 1 and all(type(a) is SendToWorker and a.worker == "w1" for a in actions)
    assert not sched.handle(BalanceRequested("tick-2"))  # no second request while one is out
    assert computes(sched.handle(StealResponded(requests[0], "w1", True, "stolen"))) == {requests[0]: "w2"}
    sched.validate_state()
    # a refused steal (the task already started) leaves it where it is
    sched.handle(finished(requests[0], "w2"))
    [request] = [a.msg["key"] for a in sched.handle(BalanceRequested("tick-3")) if a.msg["op"] == "steal_request"]
    assert sched.handle(StealResponded(request, "w1", False, "refused")) == []
    assert sched.tasks[request].processing_on.address == "w1"

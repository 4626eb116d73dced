"""Tasks that raised Reschedule, in the scheduler's state machine without sockets (see ``state/rescheduling.py``)."""

from __future__ import annotations

from operator import add

import pytest

from shoal.distributed.state.events import BalanceRequested, KeysReleased, StealResponded, TaskRescheduled
from shoal.distributed.state.pausing import WorkerStatusChanged
from shoal.distributed.state.scheduler import SchedulerState
from shoal.distributed.state.tests.test_queuing import roots
from shoal.distributed.state.tests.test_queuing import submit as submit_ordered
from shoal.distributed.state.tests.test_scheduler_state import client_msgs, computes, finished, join, submit
from shoal.graph.task import Ref, Task


@pytest.fixture
def sched():
    state = SchedulerState(allowed_failures=1)
    yield state
    state.validate_state()


def rescheduled(key: str, worker: str, stimulus_id: str = "reschedule-1") -> TaskRescheduled:
    return TaskRescheduled(key, worker, stimulus_id)


def test_moves_to_another_worker_even_a_busier_one(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    submit(sched, {f"b{i}": Task(f"b{i}", abs, -i) for i in range(3)}, [f"b{i}" for i in range(3)])
    first = sched.tasks["a"].processing_on.address
    other = "w2" if first == "w1" else "w1"
    actions = sched.handle(rescheduled("a", first))
    # One message: the compute on the other worker. No error for the client, no free_keys (the worker dropped it).
    assert computes(actions) == {"a": other} and len(actions) == 1
    assert sched.tasks["a"].status == "processing" and sched.tasks["a"].processing_on.address == other
    assert sched.story("a")[-1] == ("a", "processing", "processing", "reschedule-1")
    assert sched.tasks["a"] not in sched.workers[first].processing
    sched.handle(finished("a", other, inline=1))
    assert sched.tasks["a"].status == "memory" and sched.who_has(["a"]) == {"a": [other]}


def test_leaves_the_workers_holding_its_inputs(sched):
    join(sched, "w1")
    graph = {"x": Task("x", abs, -1), "y": Task("y", abs, -2), "z": Task("z", add, Ref("x"), Ref("y"))}
    submit(sched, graph, ["z"])
    join(sched, "w2")
    sched.handle(finished("x", "w1", nbytes=10**8), finished("y", "w1", nbytes=10**8))
    assert sched.tasks["z"].processing_on.address == "w1"  # where its inputs are
    actions = sched.handle(rescheduled("z", "w1"))
    [compute] = [a.msg for a in actions if a.msg["op"] == "compute_task"]
    assert compute["key"] == "z" and actions[0].worker == "w2"
    assert compute["who_has"] == {"x": ["w1"], "y": ["w1"]}  # the new worker fetches them
    assert {ts.key for ts in sched.tasks["x"].waiters} == {"z"}  # the inputs stay claimed


def test_goes_back_when_it_is_the_only_allowed_worker(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], workers=frozenset({"w1"}))
    actions = sched.handle(rescheduled("a", "w1"))
    assert computes(actions) == {"a": "w1"}
    # A paused other worker is not allowed either.
    submit(sched, {"b": Task("b", abs, -2)}, ["b"], workers=frozenset({"w1"}), allow_other_workers=True)
    sched.handle(WorkerStatusChanged("w2", "paused", "pause"))
    assert computes(sched.handle(rescheduled("b", "w1"))) == {"b": "w1"}


def test_waits_for_a_worker_when_none_is_allowed(sched):
    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    sched.handle(WorkerStatusChanged("w1", "paused", "pause"))
    assert sched.handle(rescheduled("a", "w1")) == []
    assert sched.tasks["a"].status == "no-worker" and sched.tasks["a"] in sched.unrunnable
    assert sched.story("a")[-1] == ("a", "processing", "no-worker", "reschedule-1")
    sched.validate_state()
    assert computes(sched.handle(WorkerStatusChanged("w1", "running", "resume"))) == {"a": "w1"}


def test_stale_reports_are_ignored(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"], workers=frozenset({"w1"}))
    assert sched.handle(rescheduled("a", "w2")) == []  # not processing there
    assert sched.handle(rescheduled("nope", "w1")) == []  # unknown key
    assert sched.handle(rescheduled("a", "gone")) == []  # unknown worker
    sched.handle(finished("a", "w1"))
    assert sched.handle(rescheduled("a", "w1")) == []  # finished already
    assert sched.tasks["a"].status == "memory"
    sched.handle(KeysReleased("c", ("a",), "release"))
    assert sched.handle(rescheduled("a", "w1")) == [] and "a" not in sched.tasks


def test_never_errs_however_often(sched):
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    for i in range(10):  # allowed_failures=1: a count of any kind would have erred it long ago
        holder = sched.tasks["a"].processing_on.address
        actions = sched.handle(rescheduled("a", holder, f"reschedule-{i}"))
        assert computes(actions) == {"a": "w2" if holder == "w1" else "w1"}
        assert not client_msgs(actions, "task_erred")
    assert sched.tasks["a"].suspicious == 0
    assert [entry[1:3] for entry in sched.story("a")].count(("processing", "processing")) == 10


def test_drops_a_steal_request_that_is_out(sched):
    join(sched, "w1")
    graph = {f"t{i}": Task(f"t{i}", abs, i) for i in range(6)}
    submit(sched, graph, list(graph))
    join(sched, "w2")
    join(sched, "w3")
    [request] = [a.msg["key"] for a in sched.handle(BalanceRequested("tick"))
                 if a.msg["op"] == "steal_request"][:1]
    ts = sched.tasks[request]
    assert ts.steal_to is not None and request in sched.stealing
    # The victim had already started it, and the task rescheduled itself before the steal answer arrived.
    actions = sched.handle(rescheduled(request, "w1"))
    assert ts.steal_to is None and request not in sched.stealing
    [target] = computes(actions).values()
    assert target in ("w2", "w3") and ts.processing_on.address == target
    # The late answer (whatever it says) leaves the task where it now is.
    assert sched.handle(StealResponded(request, "w1", True, "late")) == []
    assert ts.processing_on.address == target


def test_with_queuing_the_freed_thread_takes_the_next_root_task():
    state = SchedulerState(worker_saturation=1.0)
    join(state, "w1")
    join(state, "w2")
    sent = computes(submit_ordered(state, roots(6), [f"r-{i}" for i in range(6)]))
    assert len(sent) == 2 and len(state.queued) == 4
    on_w1 = next(k for k, w in sent.items() if w == "w1")
    actions = state.handle(rescheduled(on_w1, "w1"))
    moved = computes(actions)
    assert moved.pop(on_w1) == "w2"
    assert list(moved.values()) == ["w1"] and len(state.queued) == 3  # w1's free thread runs the next root
    state.validate_state()

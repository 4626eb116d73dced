"""Root-task queuing in the scheduler's state machine: at most threads * saturation root tasks per worker."""

from __future__ import annotations


import pytest

from shoal.distributed.comm.serialization import pickle_value
from shoal.distributed.state.events import GraphSubmitted, KeysCancelled, TaskFinished, WorkerJoined, WorkerLeft
from shoal.distributed.state.scheduler import SchedulerState
from shoal.distributed.state.tests.test_scheduler_state import computes, finished, join
from shoal.graph.task import Ref, Task


@pytest.fixture
def queuing():
    state = SchedulerState(worker_saturation=1.0)
    yield state
    state.validate_state()


def submit(state: SchedulerState, graph: dict[str, Task], wanted: list[str]) -> list:
    """Submit with the graph's order as priority (as the client does): earlier keys first."""
    tasks = {k: pickle_value(v) for k, v in graph.items()}
    deps = {k: tuple(v.dependencies) for k, v in graph.items() if v.dependencies}
    order = {k: i for i, k in enumerate(graph)}
    return state.handle(GraphSubmitted("c", tasks, deps, tuple(wanted), order, "submit"))


def roots(n: int) -> dict[str, Task]:
    return {f"r-{i}": Task(f"r-{i}", abs, -i) for i in range(n)}


def test_root_tasks_wait_on_the_scheduler(queuing):
    join(queuing, "w1", nthreads=2)
    join(queuing, "w2", nthreads=1)
    sent = computes(submit(queuing, roots(10), [f"r-{i}" for i in range(10)]))
    assert sorted(sent.values()) == ["w1", "w1", "w2"]
    # Highest priority first: the earliest tasks of the graph go out first.
    assert set(sent) == {"r-0", "r-1", "r-2"}
    assert len(queuing.queued) == 7
    queuing.validate_state()
    done = 0
    while queuing.queued or any(ws.processing for ws in queuing.workers.values()):
        key, worker = next((ts.key, ts.processing_on.address) for ws in queuing.workers.values()
                           for ts in ws.processing)
        more = computes(queuing.handle(finished(key, worker)))
        done += 1
        assert all(len(ws.processing) <= ws.nthreads for ws in queuing.workers.values())
        assert set(more.values()) <= {worker}
        queuing.validate_state()
    assert done == 10
    assert all(queuing.tasks[f"r-{i}"].status == "memory" for i in range(10))


def test_few_roots_and_dependents_are_not_queued(queuing):
    join(queuing, "w1")
    sent = computes(submit(queuing, {"a": Task("a", abs, -1), "b": Task("b", abs, -2)}, ["a", "b"]))
    assert set(sent) == {"a", "b"} and not queuing.queued
    graph = roots(6)
    graph["total"] = Task("total", sum, [Ref(k) for k in list(graph)])
    submit(queuing, graph, ["total"])
    assert len(queuing.queued) == 6 and queuing.tasks["total"].status == "waiting"


def test_queued_tasks_cancel_and_go_to_new_workers(queuing):
    sent = submit(queuing, roots(5), [f"r-{i}" for i in range(5)])
    assert not computes(sent) and len(queuing.queued) == 5  # no workers yet: all wait in the queue
    assert computes(join(queuing, "w1")) == {"r-0": "w1"}
    queuing.handle(KeysCancelled("c", ("r-3", "r-4"), "cancel"))
    assert "r-3" not in queuing.tasks and len(queuing.queued) == 2
    queuing.validate_state()
    # The worker leaves: its task goes back through the queue to the next worker.
    queuing.handle(WorkerLeft("w1", "gone"))
    assert len(queuing.queued) == 3
    assert computes(queuing.handle(WorkerJoined("w2", "w2", 2, 0, 0.0, "join-w2"))) == {"r-0": "w2", "r-1": "w2"}


def test_short_tasks_get_enough_to_stay_busy(queuing):
    join(queuing, "w1")
    submit(queuing, roots(200), [f"r-{i}" for i in range(200)])
    [(key, worker)] = [(ts.key, "w1") for ts in queuing.workers["w1"].processing]
    more = computes(queuing.handle(TaskFinished(key, worker, 8, "int", "done", None, 1.0, 1.0001, 0)))
    assert len(more) > 10  # 0.1 ms tasks: one at a time would leave the thread idle between round trips


def test_saturation_inf_sends_everything():
    state = SchedulerState()
    join(state, "w1")
    assert len(computes(submit(state, roots(10), [f"r-{i}" for i in range(10)]))) == 10
    with pytest.raises(ValueError, match="worker-saturation"):
        SchedulerState(worker_saturation=0)



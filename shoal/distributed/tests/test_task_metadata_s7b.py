"""Per-task user metadata (Dask's ``TaskState.metadata``): filled on workers, merged on the scheduler, collected by
``get_task_metadata``; from the state machines up to real worker processes."""

from __future__ import annotations

import pytest

import shoal
from shoal.distributed import Client, LocalCluster, SchedulerPlugin, get_task_metadata, get_worker
from shoal.distributed.state.events import ExecuteSucceeded, TaskFinished
from shoal.distributed.state.scheduler import SchedulerState
from shoal.distributed.state.tests.test_scheduler_state import join, submit
from shoal.distributed.state.tests.test_worker_state import compute, sent
from shoal.distributed.state.worker import WorkerStateMachine
from shoal.graph.task import Task


def _tag(value, **metadata):
    """A task that writes ``metadata`` into its own record on the worker, then returns ``value``."""
    worker = get_worker()
    worker.state.tasks[worker.get_current_task()].metadata.update(metadata)
    return value


def _fail(x):
    worker = get_worker()
    worker.state.tasks[worker.get_current_task()].metadata["tried"] = True
    raise ValueError(f"bad {x}")


# ---------------------------------------------------------------------- state machines


def test_worker_sends_metadata_with_the_result_only_when_there_is_some():
    ws = WorkerStateMachine("w1", nthreads=1)
    ws.handle(compute("a"), compute("b"))
    ws.tasks["a"].metadata["rows"] = 3
    [msg] = sent(ws.handle(ExecuteSucceeded("a", 1, 8, "int", 0.0, 1.0, "ok-a")), "task_finished")
    assert msg["metadata"] == {"rows": 3}
    [msg] = sent(ws.handle(ExecuteSucceeded("b", 1, 8, "int", 0.0, 1.0, "ok-b")), "task_finished")
    assert "metadata" not in msg
    ws.validate_state()


def test_scheduler_merges_metadata_when_the_task_reaches_memory():
    sched = SchedulerState()
    join(sched, "w1")
    join(sched, "w2")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    assert sched.tasks["a"].metadata is None  # nothing allocated for tasks without metadata
    sched.tasks["a"].metadata = {"set-by": "plugin", "rows": 0}  # a scheduler plugin wrote first
    holder = sched.tasks["a"].processing_on.address
    sched.handle(TaskFinished("a", holder, 8, "int", "done", metadata={"rows": 3}))
    assert sched.tasks["a"].metadata == {"set-by": "plugin", "rows": 3}
    # A copy reported later (a replica) does not change it, as in Dask.
    other = "w2" if holder == "w1" else "w1"
    sched.handle(TaskFinished("a", other, 8, "int", "replica", metadata={"rows": 99}))
    assert sched.tasks["a"].metadata["rows"] == 3
    sched.validate_state()


def test_metadata_reaches_plugins_hearing_of_memory():
    # The log entry for processing -> memory is what plugins hear: the metadata must be there by then.
    sched = SchedulerState()
    seen = []

    class Log(list):
        def append(self, entry):
            super().append(entry)
            if entry[2] == "memory":
                seen.append(sched.tasks[entry[0]].metadata)

    join(sched, "w1")
    submit(sched, {"a": Task("a", abs, -1)}, ["a"])
    sched.log = Log()
    sched.handle(TaskFinished("a", "w1", 8, "int", "done", metadata={"k": "v"}))
    assert seen == [{"k": "v"}]


# ---------------------------------------------------------------------- end to end


def test_get_task_metadata_collects_what_tasks_wrote(client):
    with get_task_metadata(client) as tm:
        parts = [shoal.delayed(_tag)(i, part=i, name=f"p{i}", dask_key_name=f"part-{i}") for i in range(3)]
        total = shoal.delayed(sum)(parts, dask_key_name="total")
        assert total.compute(scheduler=client) == 3
        plain = client.submit(abs, -1, key="plain")
        bad = client.submit(_fail, 1, key="bad")
        assert plain.result(timeout=30) == 1
        with pytest.raises(ValueError, match="bad 1"):
            bad.result(timeout=30)
    assert tm.state == {"part-0": "memory", "part-1": "memory", "part-2": "memory", "total": "memory",
                        "plain": "memory", "bad": "erred"}
    # Inner tasks too (Dask records the requested keys only).
    assert {k: tm.metadata[k] for k in ("part-0", "part-1", "part-2")} == {
        f"part-{i}": {"part": i, "name": f"p{i}"} for i in range(3)}
    # Nothing written: an empty dict; an erred task: what the scheduler had (the worker sends results only).
    assert tm.metadata["total"] == tm.metadata["plain"] == tm.metadata["bad"] == {}
    # The scheduler's record keeps it while the key is alive.
    assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.state.tasks["plain"].metadata) is None


def test_scheduler_plugins_write_metadata_too(client):
    class Stamp(SchedulerPlugin):
        def start(self, scheduler):
            self.scheduler = scheduler

        def transition(self, key, start, finish, *args, stimulus_id=None, **kwargs):
            if finish == "processing":
                ts = self.scheduler.state.tasks[key]
                if ts.metadata is None:
                    ts.metadata = {}
                ts.metadata["placed"] = True

    client.register_plugin(Stamp(), name="stamp")
    with get_task_metadata(client) as tm:
        assert client.submit(_tag, 5, rows=5, key="t").result(timeout=30) == 5
    assert tm.metadata == {"t": {"placed": True, "rows": 5}}


def test_metadata_crosses_processes():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        with get_task_metadata(client) as tm:
            future = client.submit(_tag, "x", rows=7, labels=["a", "b"], nested={"k": (1, 2)}, key="remote")
            assert future.result(timeout=30) == "x"
        assert tm.state == {"remote": "memory"}
        assert tm.metadata == {"remote": {"rows": 7, "labels": ["a", "b"], "nested": {"k": (1, 2)}}}
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.state.tasks["remote"].metadata) == \
            {"rows": 7, "labels": ["a", "b"], "nested": {"k": (1, 2)}}


def test_get_current_task_outside_a_task_is_a_clear_error(client):
    with pytest.raises(RuntimeError, match="outside a task"):
        client.run(lambda dask_worker: dask_worker.get_current_task())


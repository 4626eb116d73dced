"""Memory thresholds: a worker above the pause fraction takes no new tasks and resumes below it."""

from __future__ import annotations

import time

import pytest

from shoal.distributed import Client, wait
from shoal.distributed.memory import MemoryLimits, spill_until
from shoal.distributed.spill import SpillBuffer

LIMIT = 1 << 30


def inc(x):
    return x + 1


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def _status(client, address):
    return client.scheduler_info()["workers"][address]["status"]


@pytest.fixture
def paused_setup():
    with Client(processes=False, n_workers=2, threads_per_worker=1, memory_limit=LIMIT, validate=True,
                set_as_default=False) as client:
        workers = {w.address: w for w in client.cluster.workers.values()}
        yield client, workers


def test_limits_from_config():
    limits = MemoryLimits.from_config(1000)
    assert (limits.target, limits.spill, limits.pause, limits.terminate) == (600, 700, 800, 950)
    assert [limits.classify(n) for n in (0, 650, 750, 900, 1000)] == ["ok", "ok", "spill", "paused", "terminate"]


def test_limits_off_and_bad_config():
    import shoal

    with shoal.config.set({"distributed.worker.memory.pause": False}):
        assert MemoryLimits.from_config(1000).classify(900) == "spill"
    with shoal.config.set({"distributed.worker.memory.pause": 5}), pytest.raises(ValueError, match="pause"):
        MemoryLimits.from_config(1000)


def test_spill_until_measure_drops():
    buf = SpillBuffer(target=10**9)
    for i in range(5):
        buf[i] = b"x" * 100
    spilled = spill_until(buf, 250, lambda: 100 * len(buf.fast))
    assert spilled == 3 and sorted(buf.slow) == [0, 1, 2] and buf[0] == b"x" * 100
    buf.close()


def test_paused_worker_takes_no_new_tasks(paused_setup):
    client, workers = paused_setup
    a, b = sorted(workers)
    workers[a].get_process_memory = lambda: int(0.9 * LIMIT)
    _wait(lambda: _status(client, a) == "paused")
    assert workers[a].paused
    futures = client.map(inc, range(40))
    wait(futures, timeout=20)
    assert client.gather(futures) == list(range(1, 41))
    held = client.has_what()
    assert not held[a] and len(held[b]) == 40
    # below the pause fraction again: work placed on it runs
    workers[a].get_process_memory = lambda: 0
    _wait(lambda: _status(client, a) == "running")
    assert client.submit(inc, 100, workers=[a]).result(timeout=10) == 101


def test_all_paused_waits_then_resumes(paused_setup):
    client, workers = paused_setup
    for w in workers.values():
        w.get_process_memory = lambda: int(0.85 * LIMIT)
    _wait(lambda: all(_status(client, a) == "paused" for a in workers))
    futures = client.map(inc, range(10))
    time.sleep(0.2)  # bounded: gives a wrongly unpaused worker the chance to run something
    assert not any(f.done() for f in futures)
    for w in workers.values():
        w.get_process_memory = lambda: 0
    wait(futures, timeout=20)
    assert client.gather(futures) == list(range(1, 11))


def test_paused_worker_gives_queued_tasks_away(paused_setup):
    client, workers = paused_setup
    a, b = sorted(workers)
    gate = client.submit(time.sleep, 0.5, workers=[a], pure=False)
    queued = [client.submit(inc, i, workers=[a], allow_other_workers=True, pure=False) for i in range(6)]
    _wait(lambda: any(ts.status == "executing" for ts in workers[a].state.tasks.values()))
    workers[a].get_process_memory = lambda: int(0.9 * LIMIT)
    wait(queued, timeout=20)
    assert client.gather(queued) == list(range(1, 7))
    assert all(v == [b] for v in client.who_has(queued).values())
    gate.result(timeout=10)


# ------------------------------------------------------------------ the state machine alone, no sockets


def _state_submit(state, keys):
    from operator import neg

    from shoal.distributed.comm.serialization import pickle_value
    from shoal.distributed.state.events import GraphSubmitted
    from shoal.graph.task import Task

    tasks = {k: pickle_value(Task(k, neg, 1)) for k in keys}
    return state.handle(GraphSubmitted("c", tasks, {}, tuple(keys), {}, "submit"))


def _computes(actions):
    from shoal.distributed.state.actions import SendToWorker

    return {a.msg["key"]: a.worker for a in actions if type(a) is SendToWorker and a.msg["op"] == "compute_task"}


@pytest.mark.parametrize("saturation", [1.1, float("inf")])
def test_state_machine_skips_paused_workers(saturation):
    from shoal.distributed.state.events import WorkerJoined
    from shoal.distributed.state.pausing import WorkerStatusChanged
    from shoal.distributed.state.scheduler import SchedulerState

    state = SchedulerState(worker_saturation=saturation)
    for w in ("w1", "w2"):
        state.handle(WorkerJoined(w, w, 1, 0, 0.0, f"join-{w}"))
    state.handle(WorkerStatusChanged("w1", "paused", "pause"))
    placed = _computes(_state_submit(state, [f"x-{i}" for i in range(3)]))
    assert placed and set(placed.values()) == {"w2"}
    state.handle(WorkerStatusChanged("w2", "paused", "pause"))
    assert _computes(_state_submit(state, ["y"])) == {}
    assert state.tasks["y"].status in ("no-worker", "queued")
    state.validate_state()
    resumed = _computes(state.handle(WorkerStatusChanged("w1", "running", "resume")))
    assert resumed.get("y") == "w1"
    state.validate_state()
    with pytest.raises(ValueError, match="unknown status"):
        state.handle(WorkerStatusChanged("w1", "sleepy", "bad"))

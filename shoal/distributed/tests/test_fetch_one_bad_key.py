"""One bad key in a batched fetch affects only that key: state machine, then a real two-process cluster."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shoal.distributed import Client, LocalCluster, wait
from shoal.distributed.state.actions import Execute, Fetch, SendToScheduler
from shoal.distributed.state.events import ComputeRequested, FetchErred, FetchSucceeded
from shoal.distributed.state.worker import FetchErred as FetchErredFromWorker
from shoal.distributed.state.worker import WorkerStateMachine


def test_fetch_erred_lives_with_the_events():
    assert FetchErredFromWorker is FetchErred


@pytest.fixture
def ws():
    state = WorkerStateMachine("w1", nthreads=4)
    yield state
    state.validate_state()


def compute(key: str, who_has: dict[str, tuple[str, ...]]) -> ComputeRequested:
    return ComputeRequested(key, b"spec", (0,), who_has, {k: 8 for k in who_has}, f"compute-{key}")


def erred(peer: str, keys: tuple[Any, ...]) -> FetchErred:
    return FetchErred(peer, keys, b"exc", f"could not move {keys}", 0.0, 1.0, "erred")


def fetches(actions: list[Any]) -> list[tuple[str, tuple[Any, ...]]]:
    return [(a.peer, a.keys) for a in actions if type(a) is Fetch]


def executes(actions: list[Any]) -> list[Any]:
    return [a.key for a in actions if type(a) is Execute]


def erred_keys(actions: list[Any]) -> list[Any]:
    return [a.msg["key"] for a in actions if type(a) is SendToScheduler and a.msg["op"] == "task_erred"]


def test_erred_batch_is_fetched_again_one_key_at_a_time(ws):
    [(peer, batch)] = fetches(ws.handle(compute("ya", {"a": ("w2",)}), compute("yb", {"b": ("w2",)}),
                                        compute("yc", {"c": ("w2",)})))
    assert peer == "w2" and sorted(batch) == ["a", "b", "c"]
    actions = ws.handle(erred("w2", batch))
    assert not erred_keys(actions)
    seen = []
    # One lone key in flight from w2 at a time; "b" is the culprit.
    while len(seen) < 3:
        [(p, keys)] = fetches(actions)
        assert p == "w2" and len(keys) == 1
        seen.append(keys[0])
        if keys == ("b",):
            actions = ws.handle(erred("w2", keys))
            assert erred_keys(actions) == ["yb"]
        else:
            actions = ws.handle(FetchSucceeded("w2", {keys[0]: 1}, "got"))
            assert executes(actions) == ["y" + keys[0]]
    assert sorted(seen) == ["a", "b", "c"]
    assert not ws.fetch_alone and ws.tasks["yb"].status == "error"


def test_lone_erred_key_tries_its_other_holders_first(ws):
    ws.handle(compute("y", {"x": ("w2", "w3")}))
    [(first, _)] = [(p, ks) for p, ks in ws.in_flight.items()]
    actions = ws.handle(erred(first, ("x",)))
    other = ({"w2", "w3"} - {first}).pop()
    assert fetches(actions) == [(other, ("x",))] and not erred_keys(actions)
    assert erred_keys(ws.handle(erred(other, ("x",)))) == ["y"]


def test_key_missing_on_the_peer_does_not_hold_back_the_others(ws):
    [(_, batch)] = fetches(ws.handle(compute("ya", {"a": ("w2", "w3")}), compute("yb", {"b": ("w2", "w3")})))
    peer = next(iter(ws.in_flight))
    present = batch[0]
    actions = ws.handle(FetchSucceeded(peer, {present: 1}, "got"))
    assert executes(actions) == ["y" + present]
    missing = batch[1]
    reported = [a.msg for a in actions if type(a) is SendToScheduler and a.msg["op"] == "missing_data"]
    assert [m["key"] for m in reported] == [missing]
    assert fetches(actions) == [(({"w2", "w3"} - {peer}).pop(), (missing,))]


# ---------------------------------------------------------------- a real cluster


class OnlyInItsProcess:
    """Pickles anywhere, but loads only in the process that made it (as a handle to local state would)."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid

    def __reduce__(self) -> tuple[Any, ...]:
        return (_load_only_in, (self.pid,))


def _load_only_in(pid: int) -> OnlyInItsProcess:
    if os.getpid() != pid:
        raise RuntimeError(f"this value belongs to process {pid}")
    return OnlyInItsProcess(pid)


def make_local() -> OnlyInItsProcess:
    return OnlyInItsProcess()


def make_list(n: int) -> list[int]:
    return list(range(n))


def describe(x: Any) -> str:
    return type(x).__name__


def _fetch_story(key: Any, dask_worker: Any) -> list[str]:
    return [stimulus for k, _, _, stimulus in dask_worker.state.log if k == key]


def test_unloadable_value_fails_only_its_dependents_in_a_real_cluster():
    with LocalCluster(n_workers=2, threads_per_worker=2, dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False, timeout=30) as client:
        w1, w2 = sorted(client.nthreads())
        good = client.submit(make_list, 5, workers=[w1], key="good-input")
        bad = client.submit(make_local, workers=[w1], key="bad-input")
        wait([good, bad], timeout=30)
        # Both dependents reach w2 in one message batch (one map, one update): w2 asks w1 for both at once.
        uses_good, uses_bad = client.map(describe, [good, bad], workers=[w2])
        assert uses_good.result(timeout=30) == "list"
        with pytest.raises(Exception, match="bad-input") as info:
            uses_bad.result(timeout=30)
        assert "good-input" not in str(info.value)
        # The good input did travel in the batch that failed, and landed on its second try.
        story = client.run(_fetch_story, "good-input", workers=[w2])[w2]
        assert any(stimulus.startswith("fetch-erred") for stimulus in story), story
        # The cluster carries on, and the bad value is still usable where it lives.
        assert client.submit(describe, bad, workers=[w1]).result(timeout=30) == "OnlyInItsProcess"
        assert client.submit(sum, good, workers=[w2]).result(timeout=30) == 10
        assert client.submit(len, good, workers=[w2]).result(timeout=30) == 5

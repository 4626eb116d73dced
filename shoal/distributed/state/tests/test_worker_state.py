"""The worker's state machine without sockets or threads."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.distributed.state.actions import Execute, Fetch, SendToScheduler
from shoal.distributed.state.events import (
    ComputeRequested,
    ExecuteFailed,
    ExecuteSucceeded,
    FetchFailed,
    FetchSucceeded,
    FreeKeysRequested,
)
from shoal.distributed.state.worker import WorkerStateMachine


@pytest.fixture
def ws():
    state = WorkerStateMachine("w1", nthreads=2, resources={"GPU": 1})
    yield state
    state.validate_state()


def compute(key: str, who_has: dict[str, tuple[str, ...]] | None = None, priority: tuple[Any, ...] = (0,),
            **kw: Any) -> ComputeRequested:
    who_has = who_has or {}
    return ComputeRequested(key, b"spec", priority, who_has, {k: 8 for k in who_has}, f"compute-{key}", **kw)


def ok(key: str, value: Any = 1) -> ExecuteSucceeded:
    return ExecuteSucceeded(key, value, 8, "int", 0.0, 1.0, f"ok-{key}")


def sent(actions: list[Any], op: str) -> list[dict[str, Any]]:
    return [a.msg for a in actions if type(a) is SendToScheduler and a.msg["op"] == op]


def test_executes_in_priority_order_up_to_nthreads(ws):
    actions = ws.handle(compute("c", priority=(3,)), compute("a", priority=(1,)), compute("b", priority=(2,)))
    assert [a.key for a in actions if type(a) is Execute] == ["a", "b"]
    actions = ws.handle(ok("a"))
    assert [a.key for a in actions if type(a) is Execute] == ["c"]
    assert sent(actions, "task_finished")[0]["key"] == "a"
    assert ws.data["a"] == 1


def test_fetches_dependencies_then_runs(ws):
    actions = ws.handle(compute("y", {"x": ("w2",)}))
    fetches = [a for a in actions if type(a) is Fetch]
    assert [(f.peer, f.keys) for f in fetches] == [("w2", ("x",))]
    actions = ws.handle(FetchSucceeded("w2", {"x": 5}, "got"))
    assert [a.key for a in actions if type(a) is Execute] == ["y"]
    ws.handle(ok("y"))
    assert "x" not in ws.data  # fetched inputs go once used


def test_fetch_failure_tries_other_holder_and_reports(ws):
    ws.handle(compute("y", {"x": ("w2", "w3")}))
    peer = next(iter(ws.in_flight))
    actions = ws.handle(FetchFailed(peer, ("x",), "fail", peer_gone=True))
    assert sent(actions, "missing_data")[0]["holders"] == [peer]
    assert [a.peer for a in actions if type(a) is Fetch] == [{"w2", "w3"}.difference({peer}).pop()]


def test_error_is_reported(ws):
    ws.handle(compute("a"))
    actions = ws.handle(ExecuteFailed("a", b"exc", None, "ValueError", 0.0, 1.0, "failed"))
    assert sent(actions, "task_erred")[0]["key"] == "a"


def test_free_while_executing_drops_result(ws):
    ws.handle(compute("a"))
    ws.handle(FreeKeysRequested(("a",), "free"))
    assert ws.tasks["a"].status == "cancelled"
    actions = ws.handle(ok("a"))
    assert not sent(actions, "task_finished")
    assert "a" not in ws.data and "a" not in ws.tasks


def test_resources_limit_concurrency(ws):
    actions = ws.handle(compute("a", resources={"GPU": 1}), compute("b", resources={"GPU": 1}))
    assert [a.key for a in actions if type(a) is Execute] == ["a"]
    actions = ws.handle(ok("a"))
    assert [a.key for a in actions if type(a) is Execute] == ["b"]


def test_already_in_memory_reports_at_once(ws):
    ws.handle(compute("a"))
    ws.handle(ok("a"))
    actions = ws.handle(compute("a"))
    assert sent(actions, "task_finished")

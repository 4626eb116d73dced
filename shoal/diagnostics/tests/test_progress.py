"""Tests for shoal.diagnostics.ProgressBar on real computations."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shoal.diagnostics import Callback, ProgressBar
from shoal.diagnostics.progress import format_time
from shoal.local import get_sync, get_threads

FULL_BAR = "[" + "#" * 40 + "] | 100% Completed |"


def inc(x: int) -> int:
    return x + 1


def fail(x: int) -> int:
    raise ZeroDivisionError(f"cannot use {x}")


def wide_graph(n: int = 20) -> dict[Any, Any]:
    graph: dict[Any, Any] = {("x", i): (inc, i) for i in range(n)}
    graph["total"] = (sum, [("x", i) for i in range(n)])
    return graph


def last_line(text: str) -> str:
    # Each redraw starts with a carriage return; the terminal shows the last.
    return text.rstrip("\n").rsplit("\r", 1)[-1]


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    active_before = set(Callback.active)
    yield
    leftovers = [t for t in threading.enumerate() if t.name == "shoal-progressbar"]
    for thread in leftovers:
        thread.join(timeout=5)
    assert not [t for t in leftovers if t.is_alive()]
    assert Callback.active == active_before


@pytest.mark.parametrize("get", [get_sync, get_threads])
def test_bar_ends_at_100_percent(get: Any) -> None:
    out = io.StringIO()
    with ProgressBar(out=out) as pbar:
        assert get(wide_graph(), "total") == sum(range(1, 21))
    text = out.getvalue()
    assert text.startswith("\r[")
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert last_line(text).startswith(FULL_BAR)
    assert last_line(text).endswith(" s")
    assert pbar.last_duration >= 0


def test_bar_is_redrawn_while_running() -> None:
    out = io.StringIO()
    seen: list[str] = []

    def wait_for_a_draw(x: int) -> int:
        # Block this task until the drawing thread has written a line, so the
        # test sees a redraw without depending on how long anything takes.
        deadline = time.monotonic() + 10
        while "Completed" not in out.getvalue():
            assert time.monotonic() < deadline, "the progress bar never drew"
            time.sleep(0.005)
        seen.append(out.getvalue())
        return x

    graph = wide_graph(4)
    graph["wait"] = (wait_for_a_draw, "total")
    with ProgressBar(dt=0.01, out=out):
        assert get_threads(graph, "wait", num_workers=2) == 10
    # The line drawn while "wait" ran shows 5 of 6 tasks done.
    assert "100%" not in last_line(seen[0])
    assert "#" in last_line(seen[0])
    assert last_line(out.getvalue()).startswith(FULL_BAR)


def test_minimum_hides_fast_computations() -> None:
    out = io.StringIO()
    with ProgressBar(minimum=10, out=out) as pbar:
        get_threads(wide_graph(), "total")
    assert out.getvalue() == ""
    assert 0 <= pbar.last_duration < 10


def test_error_leaves_bar_where_it_stopped() -> None:
    graph = wide_graph()
    graph["bad"] = (fail, "total")
    graph["after"] = (inc, "bad")
    out = io.StringIO()
    with pytest.raises(ZeroDivisionError, match="cannot use"), ProgressBar(out=out):
        get_sync(graph, "after")
    text = out.getvalue()
    assert text.endswith("\n")
    line = last_line(text)
    assert "Completed" in line
    # 21 of 23 tasks finished: 91%.
    assert "100%" not in line
    assert " 91% Completed" in line


def test_register_and_unregister() -> None:
    out = io.StringIO()
    pbar = ProgressBar(out=out)
    pbar.register()
    try:
        assert pbar._callback in Callback.active
        get_sync(wide_graph(), "total")
    finally:
        pbar.unregister()
    assert last_line(out.getvalue()).startswith(FULL_BAR)
    before = out.getvalue()
    get_sync(wide_graph(), "total")
    assert out.getvalue() == before


def test_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBar():
        get_sync(wide_graph(), "total")
    captured = capsys.readouterr()
    assert last_line(captured.out).startswith(FULL_BAR)
    assert captured.err == ""


def test_custom_width() -> None:
    out = io.StringIO()
    with ProgressBar(width=10, out=out):
        get_sync(wide_graph(), "total")
    assert last_line(out.getvalue()).startswith("[##########] | 100% Completed |")


def test_reusable_across_computations() -> None:
    out = io.StringIO()
    pbar = ProgressBar(out=out)
    with pbar:
        get_sync(wide_graph(), "total")
    with pbar:
        get_threads(wide_graph(), "total")
    assert out.getvalue().count("\n") == 2
    assert out.getvalue().count("100% Completed") == 2


def test_format_time() -> None:
    assert format_time(0.5) == "0.50 s"
    assert format_time(59.994) == "59.99 s"
    assert format_time(61) == "1min 1.0s"
    assert format_time(3600) == "1hr 0min"

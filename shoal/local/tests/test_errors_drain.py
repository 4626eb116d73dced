"""A failing task: the threads scheduler lets tasks already running finish before the error propagates."""

from __future__ import annotations

import os
import threading
import time

import pytest

from shoal.graph import Task
from shoal.local import get_threads

finished: list[str] = []
started = threading.Event()


def slow_write(path: str) -> str:
    started.set()
    time.sleep(0.4)  # still running when the other task fails
    with open(path, "w") as f:
        f.write("done")
    finished.append(path)
    return path


def fail_after_start() -> None:
    started.wait(5)
    raise ValueError("bad partition")


def test_running_tasks_finish_before_the_error_is_raised(tmp_path):
    finished.clear()
    started.clear()
    path = str(tmp_path / "out")
    graph = {"write": Task("write", slow_write, path), "fail": Task("fail", fail_after_start)}
    with pytest.raises(ValueError, match="bad partition"):
        get_threads(graph, ["write", "fail"], num_workers=2)
    # When the error reaches the caller, nothing of the graph is still running: cleanup code that runs now
    # (a writer removing its staging directory) cannot race with a task that is still writing.
    assert finished == [path] and os.path.exists(path)

"""One conformance suite, run against every local scheduler."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from operator import add

import pytest

import shoal
from shoal import config
from shoal._exceptions import CycleError, MissingDependencyError, SerializationError, UnknownSchedulerError
from shoal.graph import Ref, Task
from shoal.local import Callback, get_processes, get_scheduler, get_sync, get_threads


def inc(x):
    return x + 1


def boom(x):
    raise ZeroDivisionError(f"cannot handle {x}")


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("this exception refuses to be pickled")


def raise_unpicklable(x):
    raise Unpicklable("odd")


def identity(x):
    return x


SCHEDULERS = {
    "sync": get_sync,
    "threads": get_threads,
    "processes": lambda graph, keys, **kw: get_processes(graph, keys, num_workers=2, **kw),
}


@pytest.fixture(params=sorted(SCHEDULERS))
def get(request):
    return SCHEDULERS[request.param]


def tree_sum_graph(n: int, fan_in: int = 2):
    graph = {("leaf", i): (inc, i) for i in range(n)}
    level, depth = [("leaf", i) for i in range(n)], 0
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level), fan_in):
            key = ("sum", depth, j // fan_in)
            graph[key] = (sum, level[j:j + fan_in])
            nxt.append(key)
        level, depth = nxt, depth + 1
    return graph, level[0]


class TestConformance:
    def test_simple_graph(self, get):
        assert get({"x": 1, "y": (inc, "x"), "z": (add, "y", 10)}, "z") == 12

    def test_nested_keys_keep_their_shape(self, get):
        graph = {"x": 1, "y": (inc, "x"), ("a", 0): (inc, "y")}
        assert get(graph, [["x", "y"], [("a", 0)]]) == [[1, 2], [3]]

    def test_nested_arguments(self, get):
        graph = {"x": 1, "y": (sum, ["x", (inc, "x"), [2, 3]][:2]), "z": (identity, {"k": "y"})}
        # dict values are not references in Dask's legacy form; lists are.
        assert get(graph, "y") == 3

    def test_new_style_tasks(self, get):
        graph = {"a": Task("a", inc, 1), "b": Task("b", add, Ref("a"), Task(None, inc, Ref("a")))}
        assert get(graph, "b") == 5

    def test_tree_reduction_matches_python(self, get):
        graph, root = tree_sum_graph(500, fan_in=3)
        assert get(graph, root) == sum(i + 1 for i in range(500))

    def test_error_keeps_type_message_and_names_key(self, get):
        graph = {"x": 1, "y": (boom, "x"), "z": (inc, "y")}
        with pytest.raises(ZeroDivisionError, match="cannot handle 1") as info:
            get(graph, "z")
        notes = "\n".join(getattr(info.value, "__notes__", []))
        assert "'y'" in notes
        assert any(frame.name == "boom" for frame in info.traceback) or "boom" in notes

    def test_missing_dependency_and_cycles_are_refused(self, get):
        with pytest.raises(MissingDependencyError):
            get({"y": Task("y", inc, Ref("nope"))}, "y")
        with pytest.raises(CycleError):
            get({"a": (inc, "b"), "b": (inc, "a")}, "a")

    def test_callbacks_see_every_task_in_order(self, get):
        events = []
        cb = Callback(
            start=lambda graph: events.append(("start", len(graph))),
            pretask=lambda key, graph, state: events.append(("pre", key)),
            posttask=lambda key, result, graph, state, worker: events.append(("post", key, result)),
            finish=lambda graph, state, errored: events.append(("finish", errored)),
        )
        with cb:
            assert get({"x": 1, "y": (inc, "x")}, "y") == 2
        assert events[0] == ("start", 2)
        assert events[-1] == ("finish", False)
        assert events.index(("pre", "y")) < events.index(("post", "y", 2))
        assert ("post", "x", 1) in events

    def test_finish_callback_reports_errors(self, get):
        seen = []
        with Callback(finish=lambda graph, state, errored: seen.append(errored)):
            with pytest.raises(ZeroDivisionError):
                get({"x": (boom, 1)}, "x")
        assert seen == [True]

    def test_results_are_released_when_no_longer_needed(self, get):
        released = []

        def check(key, result, graph, state, worker_id):
            released.append(set(state.released))

        graph = {"a": 1, "b": (inc, "a"), "c": (inc, "b"), "d": (inc, "c")}
        with Callback(posttask=check):
            assert get(graph, "d") == 4
        assert "a" in released[-1] and "b" in released[-1]


def test_processes_runs_in_other_processes():
    import os

    pids = get_processes({("pid", i): (os.getpid,) for i in range(4)}, [("pid", i) for i in range(4)], num_workers=2)
    assert os.getpid() not in pids


def test_processes_lambda_and_closure():
    offset = 5
    graph = {"x": 1, "y": (lambda v: v + offset, "x")}
    assert get_processes(graph, "y", num_workers=2) == 6


def test_processes_unpicklable_function_suggests_threads():
    lock = threading.Lock()

    def uses_lock(x):
        with lock:
            return x

    with pytest.raises(SerializationError, match="scheduler='threads'") as info:
        get_processes({"x": 1, "y": (uses_lock, "x")}, "y", num_workers=2)
    assert "'y'" in str(info.value)


def test_processes_remote_traceback_attached():
    with pytest.raises(ZeroDivisionError) as info:
        get_processes({"x": (boom, 3)}, "x", num_workers=2)
    notes = "\n".join(info.value.__notes__)
    assert "traceback in the worker process" in notes and "boom" in notes


def test_processes_unpicklable_exception_still_reported():
    with pytest.raises(Exception, match="odd") as info:
        get_processes({"x": (raise_unpicklable, 3)}, "x", num_workers=2)
    assert "Unpicklable" in str(info.value)


def test_threads_actually_run_in_parallel():
    barrier = threading.Barrier(2, timeout=10)

    def wait(_):
        barrier.wait()  # deadlocks (then times out) unless two tasks run at once
        return 1

    assert get_threads({"a": (wait, 1), "b": (wait, 2), "c": (add, "a", "b")}, "c", num_workers=2) == 2


def test_nested_compute_inside_a_task_does_not_deadlock():
    def inner(x):
        return get_threads({"y": (inc, x)}, "y", num_workers=1)

    graph = {("o", i): (inner, i) for i in range(4)}
    assert get_threads(graph, [("o", i) for i in range(4)], num_workers=1) == [1, 2, 3, 4]


def test_tree_reduction_of_10000_chunks_stays_in_bounded_memory():
    graph, root = tree_sum_graph(10_000, fan_in=2)
    peak = [0]

    def count_live(key, result, graph, state, worker_id):
        peak[0] = max(peak[0], len(state.cache))

    with Callback(posttask=count_live):
        assert get_threads(graph, root, num_workers=2) == sum(i + 1 for i in range(10_000))
    # The exact peak depends on how the two threads interleave (49 was seen on a loaded machine); the point is
    # a few dozen results alive at once, not thousands.
    assert peak[0] <= 64, f"{peak[0]} results were alive at once"


def test_scheduler_selection_by_name_config_and_executor():
    assert get_scheduler("sync") is get_sync
    assert get_scheduler("single-threaded") is get_sync
    assert get_scheduler("threading") is get_threads
    with config.set(scheduler="sync"):
        assert get_scheduler() is get_sync
    with ThreadPoolExecutor(2) as pool:
        run = get_scheduler(pool)
        assert run({"x": 1, "y": (inc, "x")}, "y") == 2
    custom = lambda graph, keys, **kw: "custom"  # noqa: E731
    assert get_scheduler(custom) is custom


def test_unknown_scheduler_name_lists_the_known_ones():
    with pytest.raises(UnknownSchedulerError, match="threads") as info:
        get_scheduler("thread")
    assert "'thread'" in str(info.value)
    with config.set(scheduler="bogus"):
        with pytest.raises(UnknownSchedulerError, match="setting"):
            shoal.delayed(inc)(1).compute()


def test_process_pool_executor_as_scheduler():
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert shoal.delayed(inc)(1).compute(scheduler=pool) == 2


def test_annotated_priority_runs_first():
    order_seen = []

    def record(key, graph, state):
        order_seen.append(key)

    with shoal.annotate(priority=10):
        urgent = shoal.delayed(inc, pure=True)(100, dask_key_name="urgent")
    others = [shoal.delayed(inc, pure=True)(i, dask_key_name=f"other-{i}") for i in range(5)]
    with Callback(pretask=record):
        shoal.compute(others, urgent, scheduler="sync")
    assert order_seen[0] == "urgent"

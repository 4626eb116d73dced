"""Tests for the profilers and their plots, on real computations."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import shoal.diagnostics
from shoal.diagnostics import (
    CacheProfiler,
    Callback,
    Profiler,
    ResourceProfiler,
    visualize,
)
from shoal.diagnostics.profile import CacheData, ResourceData, TaskData
from shoal.diagnostics.profile_visualize import key_prefix
from shoal.local import get_sync, get_threads

N = 20


def inc(x: int) -> int:
    return x + 1


def slow_inc(x: int) -> int:
    time.sleep(0.02)
    return x + 1


def fail(x: int) -> int:
    raise ZeroDivisionError(f"cannot use {x}")


def wide_graph(n: int = N, name: str = "x", func: Any = inc) -> dict[Any, Any]:
    graph: dict[Any, Any] = {(name, i): (func, i) for i in range(n)}
    graph["total"] = (sum, [(name, i) for i in range(n)])
    return graph


def chain_graph() -> dict[Any, Any]:
    return {"a": (inc, 0), "b": (inc, "a"), "c": (inc, "b"), "d": (inc, "c")}


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    active_before = set(Callback.active)
    yield
    leftovers = [t for t in threading.enumerate() if t.name == "shoal-resource-tracker"]
    for thread in leftovers:
        thread.join(timeout=5)
    assert not [t for t in leftovers if t.is_alive()]
    assert Callback.active == active_before


# -- Profiler -----------------------------------------------------------------


@pytest.mark.parametrize("get", [get_sync, get_threads])
def test_profiler_records_every_task(get: Any) -> None:
    graph = wide_graph()
    with Profiler() as prof:
        assert get(graph, "total") == sum(range(1, N + 1))
    assert len(prof.results) == len(graph)
    assert {r.key for r in prof.results} == set(graph)
    for r in prof.results:
        assert isinstance(r, TaskData)
        assert r.start_time <= r.end_time
        assert isinstance(r.worker_id, int)
        assert r.task is not None
    assert prof.start_time is not None and prof.end_time is not None
    assert prof.start_time <= min(r.start_time for r in prof.results)
    assert prof.end_time >= max(r.end_time for r in prof.results)


def test_profiler_sync_runs_in_worker_zero() -> None:
    with Profiler() as prof:
        get_sync(wide_graph(), "total")
    assert {r.worker_id for r in prof.results} == {0}


def test_profiler_order_respects_dependencies() -> None:
    with Profiler() as prof:
        get_threads(chain_graph(), "d")
    by_key = {r.key: r for r in prof.results}
    assert by_key["a"].end_time <= by_key["b"].start_time
    assert by_key["c"].end_time <= by_key["d"].start_time


def test_profiler_accumulates_until_cleared() -> None:
    prof = Profiler()
    prof.register()
    try:
        get_sync(chain_graph(), "d")
        get_sync(chain_graph(), "d")
    finally:
        prof.unregister()
    assert len(prof.results) == 8
    prof.clear()
    assert prof.results == []
    # Entering the profiler starts a fresh record.
    prof.results.append(TaskData("old", None, 0.0, 0.0, 0))
    with prof:
        get_sync(chain_graph(), "b")
    assert sorted(r.key for r in prof.results) == ["a", "b"]


def test_profiler_skips_the_task_that_raised() -> None:
    graph = chain_graph()
    graph["bad"] = (fail, "b")
    with pytest.raises(ZeroDivisionError), Profiler() as prof:
        get_sync(graph, ["d", "bad"])
    keys = {r.key for r in prof.results}
    assert "bad" not in keys
    assert {"a", "b"} <= keys
    assert prof.end_time is not None


# -- ResourceProfiler -----------------------------------------------------------


def test_resource_profiler_samples_during_computation() -> None:
    # 25 tasks of 20 ms on 2 threads: about a quarter of a second or more.
    graph = wide_graph(25, func=slow_inc)
    with ResourceProfiler(dt=0.01) as rprof:
        get_threads(graph, "total", num_workers=2)
    assert rprof._tracker is None
    assert len(rprof.results) >= 1
    for r in rprof.results:
        assert isinstance(r, ResourceData)
        assert r.mem > 0
        assert r.cpu >= 0
    times = [r.time for r in rprof.results]
    assert times == sorted(times)


def test_resource_profiler_registered_stops_after_each_computation() -> None:
    rprof = ResourceProfiler(dt=0.01)
    rprof.register()
    try:
        get_sync(wide_graph(5, func=slow_inc), "total")
        assert rprof._tracker is None
        first = len(rprof.results)
        assert first >= 1
        get_sync(wide_graph(5, func=slow_inc), "total")
    finally:
        rprof.unregister()
    assert rprof._tracker is None
    assert len(rprof.results) > first


def test_resource_profiler_context_spans_computations() -> None:
    with ResourceProfiler(dt=0.01) as rprof:
        get_sync(chain_graph(), "d")
        # Still sampling between computations, until the block ends.
        assert rprof._tracker is not None
        get_threads(chain_graph(), "d")
    assert rprof._tracker is None
    assert rprof.results
    rprof.close()  # closing twice is harmless
    rprof.clear()
    assert rprof.results == []


def test_resource_profiler_close_stops_sampler() -> None:
    rprof = ResourceProfiler(dt=0.01)
    rprof._start_collecting()
    assert rprof._tracker is not None
    rprof.close()
    assert rprof._tracker is None
    count = len(rprof.results)
    assert count >= 1
    assert len(rprof.results) == count


# -- CacheProfiler ---------------------------------------------------------------


def test_cache_profiler_frees_intermediates() -> None:
    with CacheProfiler() as cprof:
        assert get_sync(chain_graph(), "d") == 4
    by_key = {r.key: r for r in cprof.results}
    assert set(by_key) == {"a", "b", "c", "d"}
    for r in cprof.results:
        assert isinstance(r, CacheData)
        assert r.cache_time <= r.free_time
        assert r.metric == 1
    # "a" leaves the cache once "b" has used it, before the end; the requested
    # "d" stays until the computation finishes.
    assert by_key["a"].free_time <= by_key["c"].cache_time
    assert by_key["b"].free_time <= by_key["d"].cache_time
    assert by_key["d"].free_time >= max(r.free_time for r in cprof.results)


@pytest.mark.parametrize("get", [get_sync, get_threads])
def test_cache_profiler_counts_every_result(get: Any) -> None:
    graph = wide_graph()
    with CacheProfiler() as cprof:
        get(graph, "total")
    assert sum(r.metric for r in cprof.results) == len(graph)
    assert {r.key for r in cprof.results} == set(graph)
    assert cprof.metric_name == "count"


def test_cache_profiler_custom_metric() -> None:
    graph = {("r", i): (list, (range, i)) for i in range(5)}
    graph["all"] = (sum, [("r", i) for i in range(5)], [])
    with CacheProfiler(metric=len) as cprof:
        assert len(get_sync(graph, "all")) == 10
    metrics = {r.key: r.metric for r in cprof.results}
    assert metrics == {**{("r", i): i for i in range(5)}, "all": 10}
    assert cprof.metric_name == "len"
    assert CacheProfiler(metric=len, metric_name="items").metric_name == "items"


def test_cache_profiler_after_error_frees_everything() -> None:
    graph = chain_graph()
    graph["bad"] = (fail, "b")
    with pytest.raises(ZeroDivisionError), CacheProfiler() as cprof:
        get_sync(graph, ["d", "bad"])
    assert {"a", "b"} <= {r.key for r in cprof.results}
    assert cprof._live == {}


# -- visualize ---------------------------------------------------------------------


def test_key_prefix() -> None:
    assert key_prefix("inc-abc123") == "inc"
    assert key_prefix(("inc-abc123", 4)) == "inc"
    assert key_prefix(("x", 1)) == "x"
    assert key_prefix("sum-aggregate-0f3e9a") == "sum-aggregate"
    assert key_prefix("add-deadbeefcafe") == "add"
    assert key_prefix("read-parquet") == "read-parquet"
    assert key_prefix(7) == "7"


def test_visualize_writes_self_contained_html(tmp_path: Path) -> None:
    graph = wide_graph(name="inc-9a8b7c", func=slow_inc)
    graph["total-1f2e3d"] = graph.pop("total")
    with Profiler() as prof, ResourceProfiler(dt=0.01) as rprof, CacheProfiler() as cprof:
        get_threads(graph, "total-1f2e3d", num_workers=2)
    filename = tmp_path / "profile.html"
    layout = visualize([prof, rprof, cprof], filename=filename)
    html = filename.read_text()
    assert "bokeh" in html.lower()
    assert '"inc"' in html and '"total"' in html
    # Bokeh's JavaScript is inlined, not fetched from a CDN.
    assert "cdn.bokeh.org" not in html
    plots = layout.children
    assert len(plots) == 3
    assert plots[1].x_range is plots[0].x_range
    assert plots[2].x_range is plots[0].x_range


def test_each_profiler_visualizes_itself(tmp_path: Path) -> None:
    with Profiler() as prof, CacheProfiler() as cprof, ResourceProfiler(dt=0.01) as rprof:
        get_sync(wide_graph(name="inc-abc123"), "total")
    for name, profiler in [("p", prof), ("c", cprof), ("r", rprof)]:
        filename = tmp_path / f"{name}.html"
        layout = profiler.visualize(filename=filename, width=400, height=200)
        assert filename.exists()
        assert len(layout.children) == 1
        assert layout.children[0].width == 400


def test_visualize_empty_profilers_and_no_save(tmp_path: Path) -> None:
    filename = tmp_path / "none.html"
    empty = [Profiler(), ResourceProfiler(), CacheProfiler()]
    layout = visualize(empty, filename=filename, save=False)
    assert len(layout.children) == 3
    assert not filename.exists()


def test_visualize_rejects_other_objects(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Profiler, ResourceProfiler or CacheProfiler"):
        visualize([object()], filename=tmp_path / "x.html")


def test_visualize_without_bokeh_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes ``import bokeh`` raise ImportError.
    monkeypatch.setitem(sys.modules, "bokeh", None)
    with pytest.raises(ImportError, match=r"pip install shoal\[diagnostics\]"):
        visualize(Profiler(), filename=tmp_path / "x.html")


# -- the namespace -------------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    assert shoal.diagnostics.__all__ == sorted(shoal.diagnostics.__all__)
    assert set(shoal.diagnostics.__all__) == {
        "CacheProfiler",
        "Callback",
        "ProgressBar",
        "Profiler",
        "ResourceProfiler",
        "visualize",
    }
    for name in shoal.diagnostics.__all__:
        assert getattr(shoal.diagnostics, name) is not None


def test_import_pulls_in_neither_bokeh_nor_psutil() -> None:
    code = (
        "import sys, shoal.diagnostics; "
        "print(sorted(m for m in ('bokeh', 'psutil') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"

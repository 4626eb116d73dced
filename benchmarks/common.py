"""Helpers shared by the benchmarks: timing, Dask detection, and the report table."""

from __future__ import annotations

import gc
import importlib
import statistics
import time
from collections.abc import Callable
from typing import Any


def timings(fn: Callable[[], Any], repeat: int = 5) -> list[float]:
    """Seconds taken by each of ``repeat`` runs of ``fn``, after a garbage collection each."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by noise)."""
    return min(timings(fn, repeat))


def median_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The median of ``repeat`` runs, in seconds."""
    return statistics.median(timings(fn, repeat))


def optional(module: str) -> Any:
    """Import ``module`` if the benchmark environment has it, else None."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def report(title: str, rows: list[tuple[str, float, float | None, str]]) -> None:
    """Print rows of (name, shoal figure, dask figure or None, unit) with the ratio."""
    print(f"\n{title}")
    print(f"  {'case':<44} {'shoal':>12} {'dask':>12} {'shoal/dask':>11}")
    for name, ours, theirs, unit in rows:
        dask_text = f"{theirs:>9.1f} {unit}" if theirs is not None else f"{'n/a':>12}"
        ratio = f"{ours / theirs:>10.2f}x" if theirs else f"{'':>11}"
        print(f"  {name:<44} {ours:>9.1f} {unit} {dask_text} {ratio}")

"""Dataframe queries over Parquet (issue 5): shoal against Dask, Polars and DuckDB on the same files.

Data: 20M rows (times ``SHOAL_BENCH_SCALE``) with ``id`` int64 (~1,000
distinct), ``name`` string (100 distinct), ``x`` and ``y`` float64, written
once to 40 Parquet files in a cache folder. Cases: ``groupby('name').x.mean()``,
``groupby('id').agg({'x': 'sum', 'y': 'max'})``, a filtered two-column read
(``filters=`` plus a projection) and ``name.value_counts()``. Figures are the
best of ``ROUNDS`` wall-clock runs in milliseconds on the threaded scheduler;
shoal and Dask runs alternate, so that noise from other work on a shared
machine hits both alike. Polars and DuckDB are shown when installed, as the
reference the issue aims for.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from typing import Any

from common import best_of, optional, report, timings

N_FILES = 40
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
ROWS = int(20_000_000 * float(os.environ.get("SHOAL_BENCH_SCALE", "1")))


def make_data() -> pathlib.Path:
    """Write the dataset once per size into a cache folder and return it."""
    import numpy as np
    import pandas as pd

    root = pathlib.Path(tempfile.gettempdir()) / f"shoal-bench-dataframe-{ROWS}"
    done = root / "_complete"
    if done.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    names = np.array([f"name-{i:03d}" for i in range(100)])
    per_file = max(1, ROWS // N_FILES)
    for i in range(N_FILES):
        frame = pd.DataFrame({
            "id": rng.integers(0, 1000, per_file),
            "name": names[rng.integers(0, 100, per_file)],
            "x": rng.normal(size=per_file),
            "y": rng.random(per_file),
        })
        frame.to_parquet(root / f"part.{i:02d}.parquet", index=False, row_group_size=max(1, per_file // 4))
    done.touch()
    return root


def cases(dd: Any, path: str) -> dict[str, Any]:
    """The queries, written the same way for shoal.dataframe and dask.dataframe."""
    return {
        "groupby('name').x.mean()": lambda: dd.read_parquet(path).groupby("name").x.mean().compute(),
        "groupby('id').agg({x: sum, y: max})": lambda: dd.read_parquet(path).groupby("id").agg(
            {"x": "sum", "y": "max"}).compute(),
        "filtered read (x > 2, columns id, y)": lambda: dd.read_parquet(
            path, columns=["id", "y"], filters=[("x", ">", 2.0)]).compute(),
        "name.value_counts()": lambda: dd.read_parquet(path).name.value_counts().compute(),
    }


def polars_cases(pl: Any, path: str) -> dict[str, Any]:
    glob = f"{path}/*.parquet"
    return {
        "groupby('name').x.mean()": lambda: pl.scan_parquet(glob).group_by("name").agg(pl.col("x").mean()).collect(),
        "groupby('id').agg({x: sum, y: max})": lambda: pl.scan_parquet(glob).group_by("id").agg(
            pl.col("x").sum(), pl.col("y").max()).collect(),
        "filtered read (x > 2, columns id, y)": lambda: pl.scan_parquet(glob).filter(pl.col("x") > 2.0).select(
            ["id", "y"]).collect(),
        "name.value_counts()": lambda: pl.scan_parquet(glob).group_by("name").len().collect(),
    }


def duckdb_cases(duckdb: Any, path: str) -> dict[str, Any]:
    src = f"read_parquet('{path}/*.parquet')"
    return {
        "groupby('name').x.mean()": lambda: duckdb.sql(f"select name, avg(x) from {src} group by name").df(),
        "groupby('id').agg({x: sum, y: max})": lambda: duckdb.sql(
            f"select id, sum(x), max(y) from {src} group by id").df(),
        "filtered read (x > 2, columns id, y)": lambda: duckdb.sql(f"select id, y from {src} where x > 2").df(),
        "name.value_counts()": lambda: duckdb.sql(f"select name, count(*) from {src} group by name").df(),
    }


def measure(queries: dict[str, Any]) -> dict[str, float]:
    return {name: best_of(fn, 3) for name, fn in queries.items()}


def measure_interleaved(ours: dict[str, Any], theirs: dict[str, Any] | None) -> tuple[dict[str, float],
                                                                                       dict[str, float]]:
    """Best time of each query for both libraries, alternating one shoal run and one Dask run."""
    best_ours: dict[str, float] = {}
    best_theirs: dict[str, float] = {}
    for name, fn in ours.items():
        fn()  # warm caches (file system, imports) before timing either side
        if theirs is not None:
            theirs[name]()
        for _ in range(ROUNDS):
            best_ours[name] = min(best_ours.get(name, float("inf")), timings(fn, 1)[0])
            if theirs is not None:
                best_theirs[name] = min(best_theirs.get(name, float("inf")), timings(theirs[name], 1)[0])
    return best_ours, best_theirs


def main() -> None:
    import shoal.dataframe as sd

    path = str(make_data())
    dask_dd = optional("dask.dataframe")
    ours, theirs = measure_interleaved(cases(sd, path), cases(dask_dd, path) if dask_dd is not None else None)
    rows = [(name, ours[name] * 1000, theirs[name] * 1000 if name in theirs else None, "ms") for name in ours]
    version = " (dask installed)" if dask_dd is not None else " (dask not installed)"
    report(f"DataFrame queries over {ROWS:,} rows in {N_FILES} Parquet files" + version, rows)
    for label, module, build in (("polars", "polars", polars_cases), ("duckdb", "duckdb", duckdb_cases)):
        lib = optional(module)
        if lib is None:
            continue
        ref = measure(build(lib, path))
        print(f"  vs {label}: " + ", ".join(f"{name}: {ours[name] / ref[name]:.1f}x" for name in ours))


if __name__ == "__main__":
    main()

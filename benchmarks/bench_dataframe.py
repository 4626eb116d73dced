"""Dataframe queries (issue 5): shoal against Dask, Polars and DuckDB on the same files.

Data, written once per size into cache folders under the system's temporary
directory (``SHOAL_BENCH_SCALE`` scales every row count):

- 20M rows with ``id`` int64 (~1,000 distinct), ``name`` string (100
  distinct), ``x`` and ``y`` float64, in 40 Parquet files (4 row groups
  each), plus a CSV copy of the same rows (one CSV per Parquet file);
- two 5M-row frames in 10 Parquet files each, ``key`` a permutation of
  ``0..N-1`` on both sides (every key matches once) and one float column;
- a 1,000-row pandas frame ``id -> z`` for the broadcast merge.

Cases: ``groupby('name').x.mean()``, ``groupby('id').agg({'x': 'sum', 'y':
'max'})``, a filtered two-column read (``filters=`` plus a projection),
``name.value_counts()``, a merge with the 1,000-row frame, a merge of the two
5M-row frames, ``set_index('x')`` (an unsorted float column) and
``len(read_csv(...))``. Figures are the best of ``SHOAL_BENCH_ROUNDS`` (5)
wall-clock runs in milliseconds on the threaded scheduler; shoal and Dask runs
alternate, so that noise from other work on a shared machine hits both alike.
Polars and DuckDB, when installed, run the same queries (best of 3).

The memory case runs ``read_csv(...).groupby('name').x.mean()`` over 1.5 GB of
CSV (scaled; the CSV copy listed as many times as it takes) in a fresh
subprocess per library and reports the subprocess's peak resident memory
(``VmHWM``, Linux); the issue's target is under 1 GB at full scale.
``SHOAL_BENCH_MEMORY_BYTES=1.5e9`` runs it at full size whatever the scale
(with ``SHOAL_BENCH_CASES=memory``, the memory case alone).

For the filtered read, the optimized plan's reader is compared with the
Parquet metadata: how many row groups and compressed bytes it reads out of
the dataset's total.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

from common import best_of, optional, timings

N_FILES = 40
MERGE_FILES = 10
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
SCALE = float(os.environ.get("SHOAL_BENCH_SCALE", "1"))
ROWS = int(20_000_000 * SCALE)
MERGE_ROWS = int(5_000_000 * SCALE)
# The memory case's size follows the scale unless given: ``SHOAL_BENCH_MEMORY_BYTES=1.5e9`` runs it at full
# size on the CSV of a smaller scale (its files listed as many times as it takes).
MEMORY_CSV_BYTES = int(float(os.environ.get("SHOAL_BENCH_MEMORY_BYTES", 1.5e9 * SCALE)))
FILTER = [("x", ">", 2.0)]


def make_data() -> pathlib.Path:
    """Write the main dataset (Parquet and a CSV copy) once per size into a cache folder and return it."""
    import numpy as np
    import pandas as pd

    root = pathlib.Path(tempfile.gettempdir()) / f"shoal-bench-dataframe-{ROWS}"
    done = root / "_complete"
    if not done.exists():
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
    csv = csv_folder(root)
    if not (csv / "_complete").exists():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        csv.mkdir(exist_ok=True)
        for path in sorted(root.glob("*.parquet")):
            pacsv.write_csv(pq.read_table(path), csv / f"{path.stem}.csv")
        (csv / "_complete").touch()
    return root


def csv_folder(root: pathlib.Path | str) -> pathlib.Path:
    """The CSV copy sits beside the Parquet folder: inside, readers of the directory would take it for Parquet."""
    return pathlib.Path(f"{root}-csv")


def make_merge_data() -> tuple[pathlib.Path, pathlib.Path]:
    """Two frames of ``MERGE_ROWS`` rows whose ``key`` columns hold the same values in different orders."""
    import numpy as np
    import pandas as pd

    root = pathlib.Path(tempfile.gettempdir()) / f"shoal-bench-dataframe-merge-{MERGE_ROWS}"
    left, right = root / "left", root / "right"
    if (root / "_complete").exists():
        return left, right
    rng = np.random.default_rng(7)
    per_file = max(1, MERGE_ROWS // MERGE_FILES)
    n = per_file * MERGE_FILES
    for side, column in ((left, "a"), (right, "b")):
        side.mkdir(parents=True, exist_ok=True)
        keys = rng.permutation(n)
        for i in range(MERGE_FILES):
            frame = pd.DataFrame({"key": keys[i * per_file:(i + 1) * per_file], column: rng.random(per_file)})
            frame.to_parquet(side / f"part.{i:02d}.parquet", index=False)
    (root / "_complete").touch()
    return left, right


def small_frame() -> Any:
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"id": np.arange(1000), "z": np.random.default_rng(3).random(1000)})


def cases(dd: Any, path: str, left: str, right: str, small: Any) -> dict[str, Any]:
    """The queries, written the same way for shoal.dataframe and dask.dataframe."""
    csv = f"{csv_folder(path)}/*.csv"
    return {
        "groupby('name').x.mean()": lambda: dd.read_parquet(path).groupby("name").x.mean().compute(),
        "groupby('id').agg({x: sum, y: max})": lambda: dd.read_parquet(path).groupby("id").agg(
            {"x": "sum", "y": "max"}).compute(),
        "filtered read (x > 2, columns id, y)": lambda: dd.read_parquet(
            path, columns=["id", "y"], filters=FILTER).compute(),
        "name.value_counts()": lambda: dd.read_parquet(path).name.value_counts().compute(),
        "merge with a 1,000-row frame": lambda: dd.read_parquet(path).merge(small, on="id").compute(),
        "merge of two 5M-row frames": lambda: dd.read_parquet(left).merge(dd.read_parquet(right), on="key").compute(),
        "set_index('x') (unsorted)": lambda: dd.read_parquet(path).set_index("x").compute(),
        "len(read_csv(...))": lambda: len(dd.read_csv(csv)),
    }


def polars_cases(pl: Any, path: str, left: str, right: str, small: Any) -> dict[str, Any]:
    glob = f"{path}/*.parquet"
    lazy_small = pl.from_pandas(small).lazy()
    return {
        "groupby('name').x.mean()": lambda: pl.scan_parquet(glob).group_by("name").agg(pl.col("x").mean()).collect(),
        "groupby('id').agg({x: sum, y: max})": lambda: pl.scan_parquet(glob).group_by("id").agg(
            pl.col("x").sum(), pl.col("y").max()).collect(),
        "filtered read (x > 2, columns id, y)": lambda: pl.scan_parquet(glob).filter(pl.col("x") > 2.0).select(
            ["id", "y"]).collect(),
        "name.value_counts()": lambda: pl.scan_parquet(glob).group_by("name").len().collect(),
        "merge with a 1,000-row frame": lambda: pl.scan_parquet(glob).join(lazy_small, on="id").collect(),
        "merge of two 5M-row frames": lambda: pl.scan_parquet(f"{left}/*.parquet").join(
            pl.scan_parquet(f"{right}/*.parquet"), on="key").collect(),
        "set_index('x') (unsorted)": lambda: pl.scan_parquet(glob).sort("x").collect(),
        "len(read_csv(...))": lambda: pl.scan_csv(f"{csv_folder(path)}/*.csv").select(pl.len()).collect(),
    }


def duckdb_cases(duckdb: Any, path: str, left: str, right: str, small: Any) -> dict[str, Any]:
    con = duckdb.connect()
    con.register("small", small)
    src = f"read_parquet('{path}/*.parquet')"
    return {
        "groupby('name').x.mean()": lambda: con.sql(f"select name, avg(x) from {src} group by name").df(),
        "groupby('id').agg({x: sum, y: max})": lambda: con.sql(
            f"select id, sum(x), max(y) from {src} group by id").df(),
        "filtered read (x > 2, columns id, y)": lambda: con.sql(f"select id, y from {src} where x > 2").df(),
        "name.value_counts()": lambda: con.sql(f"select name, count(*) from {src} group by name").df(),
        "merge with a 1,000-row frame": lambda: con.sql(f"select * from {src} join small using (id)").df(),
        "merge of two 5M-row frames": lambda: con.sql(
            f"select * from read_parquet('{left}/*.parquet') l "
            f"join read_parquet('{right}/*.parquet') r using (key)").df(),
        "set_index('x') (unsorted)": lambda: con.sql(f"select * from {src} order by x").df(),
        "len(read_csv(...))": lambda: con.sql(f"select count(*) from read_csv('{csv_folder(path)}/*.csv')").fetchall(),
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


def filtered_read_plan(sd: Any, path: str, filters: list[Any]) -> str:
    """Row groups and compressed bytes the optimized filtered read touches, against the whole dataset."""
    import pyarrow.parquet as pq

    from shoal.dataframe._io.parquet import ReadParquet
    from shoal.dataframe._lower import optimize, walk

    expr = optimize(sd.read_parquet(path, columns=["id", "y"], filters=filters)._expr)
    (reader,) = [e for e in walk(expr) if isinstance(e, ReadParquet)]
    columns = list(reader.columns_) + [c for c, _, _ in filters if c not in reader.columns_]
    read_groups = read_bytes = total_groups = total_bytes = 0
    chosen = {file: groups for file, groups in reader.ids}
    for file in sorted(pathlib.Path(path).glob("*.parquet")):
        meta = pq.ParquetFile(file).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            sizes = {group.column(c).path_in_schema: group.column(c).total_compressed_size
                     for c in range(group.num_columns)}
            total_groups += 1
            total_bytes += sum(sizes.values())
            wanted = chosen.get(str(file), ())
            if wanted is None or g in wanted:
                read_groups += 1
                read_bytes += sum(sizes[c] for c in columns)
    return (f"filters={filters}, columns=['id', 'y']: reads columns {columns} of {group.num_columns}, "
            f"{read_groups} of {total_groups} row groups, {read_bytes / 1e6:.1f} of {total_bytes / 1e6:.1f} MB "
            f"(compressed, from the Parquet footers)")


# VmHWM (the process's own high-water mark, reset by exec) in kB; ru_maxrss of a forked child would start at the
# parent's size, which is the whole benchmark's.
_MEMORY_SCRIPT = """
import re, sys, time
def peak():
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\\s+(\\d+)", f.read()).group(1))
lib, paths = sys.argv[1], sys.argv[2:]
dd = __import__(lib, fromlist=["read_csv"])
before = peak()
start = time.perf_counter()
dd.read_csv(paths).groupby("name").x.mean().compute()
elapsed = time.perf_counter() - start
print(before, peak(), elapsed)
"""


def memory_case(path: str, libraries: list[str]) -> list[str]:
    """Peak RSS of a CSV groupby over ``MEMORY_CSV_BYTES`` bytes, one fresh subprocess per library."""
    files = sorted(str(p) for p in csv_folder(path).glob("*.csv"))
    listed: list[str] = []
    total = 0
    while total < MEMORY_CSV_BYTES:
        for f in files:
            listed.append(f)
            total += os.path.getsize(f)
            if total >= MEMORY_CSV_BYTES:
                break
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pathlib.Path(__file__).resolve().parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    lines = [f"groupby('name').x.mean() over {total / 1e9:.2f} GB of CSV ({len(listed)} files), peak RSS of a "
             f"fresh process (target < 1 GB at full scale):"]
    for lib in libraries:
        out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, lib, *listed], capture_output=True, text=True,
                             env=env, timeout=1800, check=False)
        if out.returncode != 0:
            lines.append(f"  {lib:<16} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        before, peak, elapsed = out.stdout.split()
        lines.append(f"  {lib:<16} peak {int(peak) / 1024:>7.0f} MB (after imports {int(before) / 1024:.0f} MB), "
                     f"{float(elapsed):.1f} s")
    return lines


def print_table(title: str, ours: dict[str, float], refs: dict[str, dict[str, float]]) -> None:
    """One row per case: shoal's time, each reference's time, and shoal's time over each reference's."""
    names = list(refs)
    print(f"\n{title}")
    print(f"  {'case':<38} {'shoal':>9}" + "".join(f" {n:>9}" for n in names)
          + "".join(f" {'/' + n:>8}" for n in names) + "   (ms; ratio = shoal / other)")
    for case, mine in ours.items():
        times = [refs[n].get(case) for n in names]
        cells = "".join(f" {t * 1000:>9.1f}" if t else f" {'n/a':>9}" for t in times)
        ratios = "".join(f" {mine / t:>7.2f}x" if t else f" {'':>8}" for t in times)
        print(f"  {case:<38} {mine * 1000:>9.1f}{cells}{ratios}")


def main() -> None:
    import shoal.dataframe as sd

    path = str(make_data())
    left, right = (str(p) for p in make_merge_data())
    small = small_frame()
    dask_dd = optional("dask.dataframe")
    only = os.environ.get("SHOAL_BENCH_CASES")
    ours_cases = cases(sd, path, left, right, small)
    if only:
        ours_cases = {k: v for k, v in ours_cases.items() if any(s in k for s in only.split(","))}
    theirs_cases = None
    if dask_dd is not None:
        theirs_cases = {k: v for k, v in cases(dask_dd, path, left, right, small).items() if k in ours_cases}
    ours, theirs = measure_interleaved(ours_cases, theirs_cases)
    refs: dict[str, dict[str, float]] = {"dask": theirs}
    for label, module, build in (("polars", "polars", polars_cases), ("duckdb", "duckdb", duckdb_cases)):
        lib = optional(module)
        if lib is not None:
            refs[label] = measure({k: v for k, v in build(lib, path, left, right, small).items() if k in ours})
    version = " (dask installed)" if dask_dd is not None else " (dask not installed)"
    print_table(f"DataFrame queries over {ROWS:,} rows in {N_FILES} Parquet files; merges of two "
                f"{MERGE_ROWS:,}-row frames; scale {SCALE}{version}", ours, refs)
    print("\n" + filtered_read_plan(sd, path, FILTER))
    print(filtered_read_plan(sd, path, [("x", ">", 4.0)]))
    if not only or "memory" in only or "SHOAL_BENCH_MEMORY_BYTES" in os.environ:
        libraries = ["shoal.dataframe"] + (["dask.dataframe"] if dask_dd is not None else [])
        print("\n" + "\n".join(memory_case(path, libraries)))


if __name__ == "__main__":
    main()

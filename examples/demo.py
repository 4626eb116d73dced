"""A short tour of shoal: what `make demo` runs.

It grows with the project: each capability adds its part here.
"""

from __future__ import annotations

import time

import shoal
from shoal.diagnostics import Profiler, ProgressBar


def inc(x: int) -> int:
    time.sleep(0.05)  # stand-in for real work, so the parallelism shows
    return x + 1


def double(x: int) -> int:
    time.sleep(0.05)
    return x * 2


def add(x: int, y: int) -> int:
    return x + y


def f(x: int, y: int) -> int:
    return x * y


def g(x: int, y: int) -> int:
    return x - y


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 60 - len(title)))


def main() -> None:
    section("delayed: (x + 1) + (x * 2) over a list, then the sum")
    data = [1, 2, 3, 4, 5]
    output = []
    for x in data:
        a = shoal.delayed(inc)(x)
        b = shoal.delayed(double)(x)
        output.append(shoal.delayed(add)(a, b))
    total = shoal.delayed(sum)(output)
    print(f"graph: {len(total.dask)} tasks, result key {total.key!r}")
    with ProgressBar():
        print("total =", total.compute())
    start = time.perf_counter()
    total.compute(scheduler="sync")
    serial = time.perf_counter() - start
    start = time.perf_counter()
    total.compute(scheduler="threads")
    threaded = time.perf_counter() - start
    print(f"sync scheduler {serial:.2f} s, threads {threaded:.2f} s")

    section("delayed: the nested loop with a branch")
    A, B = [1, 5, 9], [2, 6, 10]
    results = []
    for x in A:
        for y in B:
            z = shoal.delayed(f)(x, y) if x < y else shoal.delayed(g)(x, y)
            results.append(z)
    print("results =", list(shoal.compute(*results)))

    section("decorator form: add(inc(1), inc(2))")

    @shoal.delayed
    def inc_(x: int) -> int:
        return x + 1

    @shoal.delayed
    def add_(x: int, y: int) -> int:
        return x + y

    c = add_(inc_(1), inc_(2))
    print(c, "->", c.compute())

    section("processes scheduler and a profiler")
    with Profiler() as prof:
        squares = [shoal.delayed(pow)(i, 2) for i in range(8)]
        print("sum of squares =", shoal.delayed(sum)(squares).compute(scheduler="processes"))
    print(f"profiled {len(prof.results)} tasks")

    section("arrays: NumPy on a grid of chunks")
    import numpy as np

    import shoal.array as sa

    x = sa.random.default_rng(42).random((4000, 4000), chunks=(1000, 1000))
    print(x)
    y = (x + x.T).mean(axis=0)
    print("(x + x.T).mean(axis=0)[:3] =", y[:3].compute())
    print("x.std() =", round(float(x.std().compute()), 6), " np.sum(x) stays lazy:", type(np.sum(x)).__name__)
    u, s, v = sa.linalg.svd(sa.random.default_rng(0).random((20000, 10), chunks=(5000, 10)))
    print("tall-skinny SVD, largest singular values:", np.round(s[:3].compute(), 3))
    big = x[x > 0.99]
    print("x[x > 0.99] has unknown chunk sizes:", big.chunks[0][:2], "-> computed:",
          big.compute_chunk_sizes().shape)

    section("bags: parallel lists of Python objects")
    import json
    import tempfile
    from pathlib import Path

    import shoal.bag as db

    with tempfile.TemporaryDirectory() as tmp:
        for part in range(3):
            lines = [json.dumps({"name": f"user{(part * 7 + i) % 5}", "count": i}) for i in range(20)]
            Path(tmp, f"part-{part}.json").write_text("\n".join(lines) + "\n")
        b = db.read_text(f"{tmp}/*.json").map(json.loads)
        print(b)
        print("take(2):", b.take(2))
        print("count > 15:", b.filter(lambda r: r["count"] > 15).count().compute())
        print("frequencies:", b.pluck("name").frequencies(sort=True).compute(scheduler="threads"))

    section("dataframes: partitioned pandas")
    import pandas as pd

    import shoal.dataframe as sd

    pdf = pd.DataFrame({"name": [f"n{i % 4}" for i in range(1000)], "x": np.arange(1000.0),
                        "y": np.arange(1000) % 7})
    df = sd.from_pandas(pdf, npartitions=4)
    print(df[df.x > 100].groupby("name").x.mean().compute())

    section("futures on a local cluster (2 worker processes)")
    from shoal.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        print("scheduler:", cluster.scheduler_address, " dashboard:", client.dashboard_link)
        futures = client.map(pow, range(10), [2] * 10)
        print("squares:", client.gather(futures))
        total = client.submit(sum, futures)
        print(total, "->", total.result())
        print("array sum on the cluster:", float(x.sum().compute()))


if __name__ == "__main__":
    main()

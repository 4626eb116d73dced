"""Bags over JSON lines: shoal vs Dask vs a plain single-process Python loop.

Data (issue 4): 1 GB of JSON lines in 20 files, generated once and cached in
a temporary directory named in the output; ``SHOAL_BENCH_SCALE=0.05`` scales
it down for a quick run. Cases, each on the collection's default scheduler
(processes for both shoal and Dask):

- top users: ``read_text -> map(json.loads) -> filter -> pluck -> frequencies -> topk(10)``;
- word count: ``read_text -> map(json.loads) -> pluck -> str.split -> flatten -> frequencies -> topk(10)``.

Every case runs the same code against ``shoal.bag`` and ``dask.bag``, and the
same work as a plain loop over the files; the results are checked equal.
Figures are wall-clock seconds (best of ``SHOAL_BENCH_REPEAT`` runs, default
3, or 1 at full scale), after one warm-up run that also starts the worker
pools and fills the page cache; the three contenders take turns, round by
round, so that load from elsewhere on the machine does not favour one.
"""

from __future__ import annotations

import heapq
import json
import multiprocessing
import os
import pathlib
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from common import best_of, optional, report

NFILES = 20
TOTAL_BYTES = 1_000_000_000
THRESHOLD = 50
WORDS = [f"w{i}" for i in range(5000)]
USERS = [f"user{i:05d}" for i in range(20_000)]


# --------------------------------------------------------------------------- data


def _write_file(args: tuple[str, int, int]) -> None:
    path, size, seed = args
    rng = random.Random(seed)
    # A Zipf-like vocabulary: a few words are common, most are rare.
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    cumulative = list(_accumulate(weights))
    user_weights = list(_accumulate([1 / (rank + 1) ** 0.8 for rank in range(len(USERS))]))
    written = 0
    ident = seed * 10_000_000
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        while written < size:
            lines = []
            for _ in range(1000):
                words = rng.choices(WORDS, cum_weights=cumulative, k=rng.randint(8, 24))
                record = {
                    "id": ident,
                    "user": rng.choices(USERS, cum_weights=user_weights)[0],
                    "count": rng.randint(0, 100),
                    "score": round(rng.random() * 1000, 3),
                    "text": " ".join(words),
                    "tags": rng.sample(["a", "b", "c", "d", "e", "f"], rng.randint(0, 3)),
                }
                ident += 1
                lines.append(json.dumps(record))
            block = "\n".join(lines) + "\n"
            f.write(block)
            written += len(block)
    os.replace(path + ".tmp", path)


def _accumulate(values: list[float]) -> list[float]:
    total = 0.0
    out = []
    for v in values:
        total += v
        out.append(total)
    return out


def dataset(scale: float) -> list[str]:
    """Paths of the benchmark files, generating them on first use."""
    folder = pathlib.Path(tempfile.gettempdir()) / f"shoal-bench-bag-{scale:g}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(folder / f"part-{i:02d}.json") for i in range(NFILES)]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        per_file = int(TOTAL_BYTES * scale / NFILES)
        print(f"generating {len(missing)} files of {per_file / 1e6:.0f} MB in {folder} ...", flush=True)
        started = time.perf_counter()
        jobs = [(p, per_file, paths.index(p)) for p in missing]
        with multiprocessing.get_context("spawn").Pool() as pool:
            pool.map(_write_file, jobs)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return paths


# --------------------------------------------------------------------------- the cases


def is_frequent(record: dict[str, Any]) -> bool:
    return record["count"] > THRESHOLD


def second(pair: tuple[Any, int]) -> int:
    return pair[1]


def top_users(bag_module: Any, paths: list[str]) -> list[tuple[str, int]]:
    b = bag_module.read_text(paths).map(json.loads)
    return b.filter(is_frequent).pluck("user").frequencies().topk(10, key=second).compute()


def word_count(bag_module: Any, paths: list[str]) -> list[tuple[str, int]]:
    b = bag_module.read_text(paths).map(json.loads)
    return b.pluck("text").str.split().flatten().frequencies().topk(10, key=second).compute()


def plain_top_users(paths: list[str]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if record["count"] > THRESHOLD:
                    counts[record["user"]] += 1
    return heapq.nlargest(10, counts.items(), key=second)


def plain_word_count(paths: list[str]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                counts.update(json.loads(line)["text"].split())
    return heapq.nlargest(10, counts.items(), key=second)


def _interleaved(runners: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best-of-``repeat`` seconds and the result of each runner, timed in turns.

    Each runner runs once untimed first (worker pools, imports, page cache);
    then the rounds alternate between runners, so a burst of load from
    elsewhere on the machine hits them alike instead of one of them.
    """
    results = {name: fn() for name, fn in runners.items()}
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(repeat):
        for name, fn in runners.items():
            best[name] = min(best[name], best_of(fn, 1))
    return best, results


def main() -> None:
    scale = float(os.environ.get("SHOAL_BENCH_SCALE", "1"))
    repeat = int(os.environ.get("SHOAL_BENCH_REPEAT", "1" if scale >= 0.5 else "3"))
    paths = dataset(scale)
    size = sum(os.path.getsize(p) for p in paths)
    import shoal.bag

    dask_bag = optional("dask.bag")
    dask = optional("dask")
    cases = [("top users", top_users, plain_top_users), ("word count", word_count, plain_word_count)]
    rows = []
    plain_rows = []
    for title, case, plain in cases:
        runners: dict[str, Callable[[], Any]] = {
            "shoal": lambda c=case: c(shoal.bag, paths),
            "loop": lambda p=plain: p(paths),
        }
        if dask_bag is not None:
            runners["dask"] = lambda c=case: c(dask_bag, paths)
        seconds, results = _interleaved(runners, repeat)
        for name, got in results.items():
            assert sorted(got) == sorted(results["loop"]), (title, name, got, results["loop"])
        ours, loop, theirs = seconds["shoal"], seconds["loop"], seconds.get("dask")
        # Seconds at full scale; milliseconds for the small quick runs, where 0.1 s steps are too coarse.
        unit, factor = ("s", 1.0) if scale >= 0.5 else ("ms", 1e3)
        rows.append((f"{title}, {size / 1e9:.2f} GB", ours * factor, theirs * factor if theirs else None, unit))
        plain_rows.append((title, ours, loop, theirs))
    version = f"dask {dask.__version__}" if dask is not None else "dask not installed"
    report(f"Bags over {NFILES} files of JSON lines in {os.path.dirname(paths[0])} ({version}, "
           f"{os.cpu_count()} cores, best of {repeat})", rows)
    print(f"\n  {'vs a single-process plain-Python loop':<44} {'shoal':>12} {'loop':>12} {'shoal/loop':>11}"
          f" {'dask/loop':>10}")
    for title, ours, loop, theirs in plain_rows:
        dask_ratio = f"{theirs / loop:>9.2f}x" if theirs else f"{'n/a':>10}"
        print(f"  {title:<44} {ours:>10.2f} s {loop:>10.2f} s {ours / loop:>10.2f}x {dask_ratio}")


if __name__ == "__main__":
    main()

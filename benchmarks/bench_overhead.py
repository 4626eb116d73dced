"""Per-task overhead of the local schedulers, and graph construction cost.

Cases (issue 2): 20,000 trivial independent tasks summed by a binary tree of
``add`` tasks; a 5,000-task chain; each with the sync and threads schedulers,
in microseconds per task. And building 20,000 delayed calls, in microseconds
per call. Dask runs the same code in the same process when installed.
"""

from __future__ import annotations

from operator import add
from typing import Any

from common import best_of, optional, report

N_TREE = 20_000
N_CHAIN = 5_000


def inc(x: int) -> int:
    return x + 1


def build_tree(delayed: Any) -> Any:
    level = [delayed(inc)(i) for i in range(N_TREE)]
    while len(level) > 1:
        level = [delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


def build_chain(delayed: Any) -> Any:
    x = delayed(inc)(0)
    for _ in range(N_CHAIN - 1):
        x = delayed(inc)(x)
    return x


def build_calls(delayed: Any) -> list[Any]:
    return [delayed(inc)(i) for i in range(N_TREE)]


def measure(lib: Any) -> dict[str, float]:
    tree = build_tree(lib.delayed)
    chain = build_chain(lib.delayed)
    n_tree_tasks = len(dict(tree.__dask_graph__()))
    expected = sum(range(1, N_TREE + 1))
    assert tree.compute(scheduler="sync") == expected
    assert chain.compute(scheduler="sync") == N_CHAIN
    out = {}
    for scheduler in ("sync", "threads"):
        out[f"tree/{scheduler}"] = best_of(lambda s=scheduler: tree.compute(scheduler=s), 3) / n_tree_tasks * 1e6
        out[f"chain/{scheduler}"] = best_of(lambda s=scheduler: chain.compute(scheduler=s), 3) / N_CHAIN * 1e6
    out["construct"] = best_of(lambda: build_calls(lib.delayed), 3) / N_TREE * 1e6
    return out


def main() -> None:
    import shoal

    ours = measure(shoal)
    dask = optional("dask")
    theirs = measure(dask) if dask is not None else {}
    rows = [
        (f"tree of {N_TREE:,} tasks, {name.split('/')[1]}", ours[name], theirs.get(name), "µs/task")
        for name in ("tree/sync", "tree/threads")
    ] + [
        (f"chain of {N_CHAIN:,} tasks, {name.split('/')[1]}", ours[name], theirs.get(name), "µs/task")
        for name in ("chain/sync", "chain/threads")
    ] + [("build 20,000 delayed calls", ours["construct"], theirs.get("construct"), "µs/call")]
    version = f" (dask {dask.__version__})" if dask is not None else " (dask not installed)"
    report("Scheduler overhead and graph construction" + version, rows)


if __name__ == "__main__":
    main()

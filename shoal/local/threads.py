"""The threaded scheduler: tasks run on a pool of threads in this process.

The default for arrays, dataframes and delayed: NumPy and pandas release the
GIL in their heavy loops, and threads share results without copying.

Pools are kept per size and reused across computations, since starting
threads for every ``compute`` costs more than small graphs take. A
computation started from inside one of shoal's own worker threads (a task
that calls ``compute``) gets a fresh pool of its own, so it cannot wait on
threads that are all busy waiting for it.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from shoal import config
from shoal.graph.task import Key
from shoal.local.blas import limit_blas
from shoal.local.loop import Batch, BatchResult, execute, run_batch

__all__ = ["default_num_workers", "get_threads", "submitter"]

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_in_worker = threading.local()


def default_num_workers() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has affinity masks
        return os.cpu_count() or 1


def _mark_worker() -> None:
    _in_worker.active = True


def _shared_pool(num_workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(num_workers)
        if pool is None:
            pool = _pools[num_workers] = ThreadPoolExecutor(
                num_workers, thread_name_prefix="shoal-worker", initializer=_mark_worker
            )
        return pool


@atexit.register
def _shutdown_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


def get_threads(
    graph: Mapping[Key, Any],
    keys: Any,
    *,
    num_workers: int | None = None,
    pool: Executor | None = None,
    callbacks: Any = None,
    **kwargs: Any,
) -> Any:
    """Compute ``keys`` from ``graph`` on a pool of threads.

    Parameters
    ----------
    graph : mapping
        Keys to tasks (shoal nodes or Dask-style tuples).
    keys : key or nested list of keys
        What to compute; the result has the same nesting.
    num_workers : int, optional
        Number of threads; defaults to the config value ``num_workers``, then
        to the number of cores.
    pool : concurrent.futures.Executor, optional
        Run on this executor instead of shoal's own pool.
    callbacks : Callback or list, optional
        Callbacks for this run, on top of the registered ones.

    Examples
    --------
    >>> from operator import add
    >>> get_threads({"x": 1, "y": (add, "x", 10)}, "y", num_workers=2)
    11
    """
    cache = kwargs.get("cache")
    pool = pool if pool is not None else config.get("pool", None)
    num_workers = num_workers or config.get("num_workers", None)
    if pool is not None:
        workers = num_workers or getattr(pool, "_max_workers", None) or default_num_workers()
        return execute(graph, keys, submit=submitter(pool), num_workers=workers, callbacks=callbacks, cache=cache)
    workers = num_workers or default_num_workers()
    with limit_blas(workers):
        return _run(graph, keys, workers, callbacks, cache)


def _run(graph: Mapping[Key, Any], keys: Any, workers: int, callbacks: Any, cache: Any) -> Any:
    if getattr(_in_worker, "active", False):
        with ThreadPoolExecutor(workers, thread_name_prefix="shoal-nested", initializer=_mark_worker) as own:
            return execute(graph, keys, submit=submitter(own), num_workers=workers, callbacks=callbacks, cache=cache)
    return execute(graph, keys, submit=submitter(_shared_pool(workers)), num_workers=workers,
                   callbacks=callbacks, cache=cache)


def submitter(executor: Executor) -> Callable[[Batch], Future[BatchResult]]:
    """Return a function that runs batches on ``executor`` in this process's memory."""

    def submit(batch: Batch) -> Future[BatchResult]:
        return executor.submit(run_batch, batch)

    return submit

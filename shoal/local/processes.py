"""The processes scheduler: tasks run in a pool of worker processes.

The default for bags, whose Python objects hold the GIL. Each batch of tasks
travels to a worker as one cloudpickle payload (so lambdas and functions
defined in ``__main__`` work) together with the results it needs, and comes
back as one pickle. A task that raises in a worker comes back as its original
exception, with the worker's traceback attached as a note.

Worker processes start with the ``multiprocessing.context`` setting
(``spawn`` by default: safe with threads in the parent) and are reused
across computations.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import cloudpickle

from shoal import config
from shoal._exceptions import SerializationError, ShoalError
from shoal.graph.task import Key
from shoal.local.loop import Batch, BatchResult, Outcome, execute, run_batch
from shoal.local.threads import default_num_workers

__all__ = ["RemoteTaskError", "get_processes", "process_submitter"]

_pools: dict[tuple[int, str], ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(num_workers: int, context: str) -> ProcessPoolExecutor:
    with _pools_lock:
        pool = _pools.get((num_workers, context))
        if pool is None or getattr(pool, "_broken", False):
            pool = ProcessPoolExecutor(num_workers, mp_context=multiprocessing.get_context(context))
            _pools[(num_workers, context)] = pool
        return pool


@atexit.register
def _shutdown_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        _pools.clear()


class RemoteTaskError(ShoalError, RuntimeError):
    """A task failed in a worker with an exception that could not be pickled back."""


def _pickle_batch(batch: Batch) -> bytes:
    try:
        return cloudpickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        # Find the task that cannot travel, to name it.
        for key, node, values in batch:
            try:
                cloudpickle.dumps(node, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                what = f"the task for {key!r} ({node!r})"
                break
            try:
                cloudpickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                what = f"the inputs of {key!r}"
                break
        else:
            what = "a batch of tasks"
        raise SerializationError(
            f"Could not serialize {what} to send it to a worker process: "
            f"{type(exc).__name__}: {exc}. The processes scheduler must pickle every "
            f"function and value. Use scheduler='threads' (or 'sync'), or make the object "
            f"picklable (e.g. define the function at module level, not inside another)."
        ) from exc


def _run_pickled(payload: bytes) -> bytes:
    """Worker side: unpickle a batch, run it, pickle the outcomes."""
    batch = pickle.loads(payload)
    outcomes, _, seconds = run_batch(batch)
    packed: list[Outcome] = []
    for key, ok, value, _tb in outcomes:
        if ok:
            packed.append((key, ok, value, None))
        else:
            text = "".join(traceback.format_exception(value))
            try:
                pickle.dumps(value)
                packed.append((key, False, value, text))
            except Exception:
                packed.append((key, False, RemoteTaskError(f"{type(value).__name__}: {value}"), text))
    try:
        return cloudpickle.dumps((packed, os.getpid(), seconds), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        failed = [key for key, ok, value, _ in packed if ok and not _picklable(value)]
        error = SerializationError(
            f"The result of {failed[0] if failed else 'a task'!r} could not be pickled to send "
            f"it back from the worker process ({type(exc).__name__}: {exc}). Return a picklable "
            f"value, or use scheduler='threads'."
        )
        key = failed[0] if failed else packed[0][0]
        return pickle.dumps(([(key, False, error, None)], os.getpid(), seconds))


def _picklable(value: Any) -> bool:
    try:
        cloudpickle.dumps(value)
    except Exception:
        return False
    return True


def process_submitter(pool: Executor) -> Callable[[Batch], Future[BatchResult]]:
    """Return a function that pickles batches, runs them on ``pool`` and unpickles the replies."""

    def submit(batch: Batch) -> Future[BatchResult]:
        payload = _pickle_batch(batch)
        reply: Future[BatchResult] = Future()

        def relay(inner: Future[bytes]) -> None:
            try:
                reply.set_result(pickle.loads(inner.result()))
            except BaseException as exc:  # noqa: BLE001 - a broken pool is reported to the loop
                reply.set_exception(exc)

        pool.submit(_run_pickled, payload).add_done_callback(relay)
        return reply

    return submit


def get_processes(
    graph: Mapping[Key, Any],
    keys: Any,
    *,
    num_workers: int | None = None,
    context: str | None = None,
    callbacks: Any = None,
    **kwargs: Any,
) -> Any:
    """Compute ``keys`` from ``graph`` on a pool of worker processes.

    Parameters
    ----------
    graph : mapping
        Keys to tasks (shoal nodes or Dask-style tuples).
    keys : key or nested list of keys
        What to compute; the result has the same nesting.
    num_workers : int, optional
        Number of processes; defaults to ``num_workers`` in the config, then
        to the number of cores.
    context : str, optional
        ``"spawn"``, ``"forkserver"`` or ``"fork"``; defaults to the
        ``multiprocessing.context`` setting.
    callbacks : Callback or list, optional
        Callbacks for this run, on top of the registered ones.
    """
    workers = num_workers or config.get("num_workers", None) or default_num_workers()
    method = context or config.get("multiprocessing.context", "spawn")
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"multiprocessing.context is {method!r}, which this platform does not offer. "
            f"Use one of {multiprocessing.get_all_start_methods()}."
        )
    return execute(graph, keys, submit=process_submitter(_pool(workers, method)), num_workers=workers,
                   inline_single=False, callbacks=callbacks, cache=kwargs.get("cache"))

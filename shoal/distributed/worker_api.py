"""Functions for code running inside a task: which worker am I on, and a client to submit more work."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from shoal.distributed.server.worker import current_key, current_worker
from shoal.distributed.state.events import TaskRejoined, TaskSeceded

__all__ = ["get_client", "get_worker", "rejoin", "secede", "worker_client"]


def get_worker() -> Any:
    """The worker running the current task.

    Its ``address``, ``name``, ``nthreads`` and ``log_event(topic, msg)`` (recorded in the scheduler's
    event log, as ``Client.log_event``) are what tasks usually need.

    Raises
    ------
    ValueError
        When called outside a task.
    """
    worker = current_worker()
    if worker is None:
        raise ValueError("get_worker() was called outside a task: there is no worker in this thread.")
    return worker


_worker_clients: dict[str, Any] = {}


def get_client(address: str | None = None, timeout: float = 30.0) -> Any:
    """A client connected to the current task's scheduler (or the default client outside tasks)."""
    from shoal.distributed.client import Client, _default

    worker = current_worker()
    if worker is None:
        client = _default()
        if client is None:
            if address is None:
                raise ValueError("get_client() found no running Client; create one or pass an address.")
            return Client(address, timeout=timeout)
        return client
    target = address or worker.scheduler_address
    client = _worker_clients.get(target)
    if client is None or client.status != "running":
        client = _worker_clients[target] = Client(target, set_as_default=False, timeout=timeout)
    return client


def secede() -> None:
    """Leave the worker's thread pool count: the rest of this task runs without holding a thread slot.

    Call it before a task waits on other tasks (``get_client().gather(...)``), so that the tasks it waits
    for can run on this worker.
    """
    worker = current_worker()
    if worker is None:
        raise ValueError("secede() was called outside a task.")
    worker.executor.secede()
    worker.post(TaskSeceded(current_key(), f"secede-{time.time()}"))


def rejoin() -> None:
    """Count this (seceded) task against the thread pool again, once a thread slot is free.

    As in Dask, it blocks until one of the worker's threads finishes its current task; that thread then
    leaves the pool and this one takes its place, so the worker never runs more tasks than it has threads.
    """
    worker = current_worker()
    if worker is None:
        raise ValueError("rejoin() was called outside a task.")
    worker.executor.rejoin(lambda: worker.status == "running")
    worker.post(TaskRejoined(current_key(), f"rejoin-{time.time()}"))


@contextlib.contextmanager
def worker_client(timeout: float = 30.0) -> Iterator[Any]:
    """A client for use inside a task, seceding for the duration of the block.

    >>> from shoal.distributed import Client, worker_client
    >>> def fib(n):
    ...     if n < 2:
    ...         return n
    ...     with worker_client() as c:
    ...         a, b = c.submit(fib, n - 1), c.submit(fib, n - 2)
    ...         return a.result() + b.result()
    >>> with Client(processes=False, n_workers=1, threads_per_worker=1, set_as_default=False) as client:
    ...     client.submit(fib, 5).result()
    5
    """
    client = get_client(timeout=timeout)
    secede()
    try:
        yield client
    finally:
        rejoin()

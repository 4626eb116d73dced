"""Choosing the scheduler that runs a computation.

The first of these that is set wins:

1. the ``scheduler=`` argument of ``compute``/``persist``;
2. the ``scheduler`` setting (``shoal.config.set(scheduler="processes")`` or
   ``SHOAL_SCHEDULER``);
3. a distributed client that registered itself as the default (see
   :func:`register_default_client`): ``shoal.distributed`` does this, so that
   ``Client()`` takes over every ``compute()`` without this layer importing it;
4. the collection's own default (``__dask_scheduler__``).

A scheduler is a name, a ``concurrent.futures.Executor`` (threads, or worker
processes for a ``ProcessPoolExecutor``), a ``get(graph, keys, **kwargs)``
function, or an object with a ``get`` method (a client).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import Any

from shoal import config
from shoal._exceptions import UnknownSchedulerError
from shoal.local.loop import execute
from shoal.local.sync import get_sync
from shoal.local.threads import get_threads, submitter

__all__ = ["SCHEDULER_NAMES", "get_scheduler", "register_default_client"]

GetFunction = Callable[..., Any]


def _get_processes(*args: Any, **kwargs: Any) -> Any:
    # Imported on use: the processes scheduler pulls in multiprocessing machinery.
    from shoal.local.processes import get_processes

    return get_processes(*args, **kwargs)


SCHEDULER_NAMES: dict[str, GetFunction] = {
    "sync": get_sync,
    "synchronous": get_sync,
    "single-threaded": get_sync,
    "threads": get_threads,
    "threading": get_threads,
    "processes": _get_processes,
    "multiprocessing": _get_processes,
}

_default_client: list[Callable[[], Any]] = []


def register_default_client(finder: Callable[[], Any]) -> None:
    """Let a higher layer offer its current client as the default scheduler.

    ``finder()`` returns an object with a ``get(graph, keys, **kwargs)``
    method, or ``None`` when it has no client right now.
    """
    if finder not in _default_client:
        _default_client.append(finder)


def _active_client() -> Any:
    for finder in reversed(_default_client):
        client = finder()
        if client is not None:
            return client
    return None


def _from_executor(executor: Executor) -> GetFunction:
    workers = getattr(executor, "_max_workers", None)
    if isinstance(executor, ProcessPoolExecutor):
        from shoal.local.processes import process_submitter

        return partial(_run_on, process_submitter(executor), workers, False)
    return partial(_run_on, submitter(executor), workers, True)


def _run_on(submit: Any, workers: int | None, inline_single: bool, graph: Any, keys: Any, *,
            num_workers: int | None = None, callbacks: Any = None, **kwargs: Any) -> Any:
    return execute(graph, keys, submit=submit, num_workers=num_workers or workers or 1,
                   inline_single=inline_single, callbacks=callbacks, cache=kwargs.get("cache"))


def _resolve(scheduler: Any, origin: str) -> GetFunction:
    if isinstance(scheduler, str):
        name = scheduler.lower()
        if name in SCHEDULER_NAMES:
            return SCHEDULER_NAMES[name]
        if name in ("distributed", "dask.distributed", "shoal.distributed"):
            client = _active_client()
            if client is None:
                raise UnknownSchedulerError(
                    f"{origin} is {scheduler!r}, but no distributed Client is running. "
                    f"Create one first: `from shoal.distributed import Client; client = Client()`."
                )
            return client.get  # type: ignore[no-any-return]
        raise UnknownSchedulerError(
            f"{origin} is {scheduler!r}, which is not a scheduler shoal knows. Use one of "
            f"{sorted(set(SCHEDULER_NAMES))} or 'distributed', a concurrent.futures.Executor, "
            f"or a get(graph, keys) function."
        )
    if isinstance(scheduler, Executor):
        return _from_executor(scheduler)
    get = getattr(scheduler, "get", None)
    if callable(get) and not isinstance(scheduler, dict):
        return get  # type: ignore[no-any-return]
    if callable(scheduler):
        return scheduler  # type: ignore[no-any-return]
    raise UnknownSchedulerError(
        f"{origin} is {scheduler!r} of type {type(scheduler).__name__}, which cannot run a graph. "
        f"Pass a name such as 'threads', a concurrent.futures.Executor, or a get function."
    )


def get_scheduler(scheduler: Any = None, default: GetFunction | None = None) -> GetFunction:
    """Return the ``get`` function that should run a computation.

    Parameters
    ----------
    scheduler : str, Executor, callable or client, optional
        What the caller asked for with ``scheduler=``.
    default : callable, optional
        The collection's own default scheduler; threads if omitted.

    Examples
    --------
    >>> get_scheduler("sync") is get_sync
    True
    >>> with config.set(scheduler="threads"):
    ...     get_scheduler() is get_threads
    True
    """
    if scheduler is not None:
        return _resolve(scheduler, "scheduler=")
    configured = config.get("scheduler", None)
    if configured is not None:
        return _resolve(configured, "The 'scheduler' setting")
    client = _active_client()
    if client is not None:
        return client.get  # type: ignore[no-any-return]
    return default or get_threads

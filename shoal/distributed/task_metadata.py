"""``get_task_metadata``: the user metadata and final state of the tasks submitted inside a ``with`` block.

Tasks carry user metadata as in Dask (``TaskState.metadata``): a task, or a
worker plugin, writes plain data (msgpack types) into its record on the
worker, ``worker.state.tasks[key].metadata``; the worker sends it with the
result and the scheduler merges it into its own record of the task
(``scheduler.state.tasks[key].metadata``, which scheduler plugins may write
too). Inside a task::

    worker = get_worker()
    worker.state.tasks[worker.get_current_task()].metadata["rows"] = len(df)

Entering the block installs a :class:`TaskMetadataPlugin` in the scheduler.
It watches the transitions: a task that leaves ``released`` for the first
time while it is installed was submitted inside the block; when such a task
reaches ``memory`` or ``erred``, its final state and the scheduler's
metadata dict for it are recorded. Leaving the block reads the records back
(``client.run_on_scheduler``) and removes the plugin.

Differences from Dask: every task of the submitted graphs is recorded, not
only the requested keys (the metadata of a computation's inner tasks is
usually what one is after); a task without metadata maps to ``{}``, where
Dask gives None. An erred task keeps only what the scheduler had before
(a worker sends metadata with results only, as in Dask).
"""

from __future__ import annotations

import uuid
from typing import Any

from shoal.distributed.client import default_client
from shoal.distributed.plugins import SchedulerPlugin

__all__ = ["TaskMetadataPlugin", "get_task_metadata"]


class TaskMetadataPlugin(SchedulerPlugin):
    """Record the final state of tasks first seen while installed; see the module docstring."""

    def __init__(self) -> None:
        #: The scheduler server, once started.
        self.scheduler: Any = None
        #: Keys seen leaving ``released`` and not finished yet.
        self.keys: set[Any] = set()
        #: ``{key: metadata}`` of the finished tasks.
        self.metadata: dict[Any, dict[str, Any]] = {}
        #: ``{key: "memory" or "erred"}`` of the finished tasks.
        self.state: dict[Any, str] = {}

    def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def transition(self, key: Any, start: str, finish: str, *args: Any, stimulus_id: str | None = None,
                   **kwargs: Any) -> None:
        if start == "released" and finish not in ("released", "forgotten"):
            self.keys.add(key)
        if finish in ("memory", "erred") and key in self.keys:
            self.keys.discard(key)
            ts = self.scheduler.state.tasks.get(key) if self.scheduler is not None else None
            # The record's own dict, as Dask: what plugins write into it later shows here too.
            self.metadata[key] = ts.metadata if ts is not None and ts.metadata is not None else {}
            self.state[key] = finish


def _collect(name: str, dask_scheduler: Any = None) -> dict[str, Any]:
    plugin = dask_scheduler.plugins[name]
    return {"metadata": plugin.metadata, "state": plugin.state}


class get_task_metadata:  # noqa: N801 - Dask's name, used as a context manager
    """Collect the user metadata and final state of the tasks submitted and finished inside a ``with`` block.

    Parameters
    ----------
    client : Client, optional
        The client whose scheduler to watch (default: the default client).

    Attributes
    ----------
    state : dict
        ``{key: "memory" or "erred"}``, set when the block exits.
    metadata : dict
        ``{key: dict}``: the user metadata of the same keys (see the module docstring).

    Examples
    --------
    >>> from shoal.distributed import Client, get_worker
    >>> def count_rows(n):
    ...     worker = get_worker()
    ...     worker.state.tasks[worker.get_current_task()].metadata["rows"] = n
    ...     return list(range(n))
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     with get_task_metadata(client) as tm:
    ...         client.submit(count_rows, 3, key="a").result()
    ...     tm.state, tm.metadata
    [0, 1, 2]
    ({'a': 'memory'}, {'a': {'rows': 3}})
    """

    def __init__(self, client: Any = None) -> None:
        self.name = f"task-metadata-{uuid.uuid4().hex}"
        self.client = client
        self.metadata: dict[Any, dict[str, Any]] | None = None
        self.state: dict[Any, str] | None = None

    def _client(self) -> Any:
        if self.client is None:
            self.client = default_client()
        return self.client

    def _store(self, records: dict[str, Any]) -> None:
        self.metadata, self.state = records["metadata"], records["state"]

    def __enter__(self) -> get_task_metadata:
        self._client().register_scheduler_plugin(TaskMetadataPlugin(), name=self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        client = self._client()
        try:
            self._store(client.run_on_scheduler(_collect, self.name))
        finally:
            client.unregister_scheduler_plugin(self.name)

    async def __aenter__(self) -> get_task_metadata:
        await self._client().register_scheduler_plugin(TaskMetadataPlugin(), name=self.name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        client = self._client()
        try:
            self._store(await client.run_on_scheduler(_collect, self.name))
        finally:
            await client.unregister_scheduler_plugin(self.name)

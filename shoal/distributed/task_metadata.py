"""``get_task_metadata``: what happened to the tasks submitted inside a ``with`` block.

Entering the block installs a :class:`TaskMetadataPlugin` in the scheduler
(a scheduler plugin, so the scheduler itself needs no change). It watches
the transitions: a task that leaves ``released`` for the first time while it
is installed was submitted inside the block; when such a task reaches
``memory`` or ``erred`` its final state is recorded. Leaving the block reads
the records back (``client.run_on_scheduler``) and removes the plugin.

Differences from Dask: every task of the submitted graphs is recorded, not
only the requested keys; ``metadata`` maps each key to an empty dict, since
shoal's task records carry no user metadata (adding a field to the
scheduler's and worker's task state and to the task-finished message is
left for when a feature needs it).
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
        #: Keys seen leaving ``released`` and not finished yet.
        self.keys: set[Any] = set()
        #: ``{key: metadata}`` of the finished tasks.
        self.metadata: dict[Any, dict[str, Any]] = {}
        #: ``{key: "memory" or "erred"}`` of the finished tasks.
        self.state: dict[Any, str] = {}

    def transition(self, key: Any, start: str, finish: str, *args: Any, stimulus_id: str | None = None,
                   **kwargs: Any) -> None:
        if start == "released" and finish not in ("released", "forgotten"):
            self.keys.add(key)
        if finish in ("memory", "erred") and key in self.keys:
            self.keys.discard(key)
            self.metadata[key] = {}
            self.state[key] = finish


def _collect(name: str, dask_scheduler: Any = None) -> dict[str, Any]:
    plugin = dask_scheduler.plugins[name]
    return {"metadata": plugin.metadata, "state": plugin.state}


class get_task_metadata:  # noqa: N801 - Dask's name, used as a context manager
    """Collect the final state of the tasks submitted and finished inside a ``with`` block.

    Parameters
    ----------
    client : Client, optional
        The client whose scheduler to watch (default: the default client).

    Attributes
    ----------
    state : dict
        ``{key: "memory" or "erred"}``, set when the block exits.
    metadata : dict
        ``{key: {}}`` for the same keys (see the module docstring).

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     with get_task_metadata(client) as tm:
    ...         client.submit(abs, -1, key="a").result()
    ...     tm.state
    1
    {'a': 'memory'}
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

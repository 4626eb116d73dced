"""``get_task_stream``: the tasks that ran while a block of code ran, as Dask's context manager."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["get_task_stream"]


class get_task_stream:  # noqa: N801 - Dask's name
    """Collect the task stream (one record per task run) while the ``with`` block runs.

    Each record is a dict with the task's key, worker, thread, start, stop
    and status, as :meth:`Client.get_task_stream` returns them.

    Parameters
    ----------
    client : Client, optional
        The client whose scheduler to ask; the default client otherwise.
    plot : bool
        Not supported: the dashboard's ``/status`` page draws the task stream
        live, and :func:`~shoal.distributed.performance_report` saves it to HTML.
    filename : str
        Accepted for Dask's signature (used only with ``plot``).

    Examples
    --------
    >>> from shoal.distributed import Client, get_task_stream
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     with get_task_stream(client=client) as ts:
    ...         _ = client.gather(client.map(abs, [-1, -2]))
    ...     len(ts.data)
    2
    """

    def __init__(self, client: Any = None, plot: bool | str = False, filename: str = "task-stream.html") -> None:
        if plot:
            raise NotImplementedError(
                "get_task_stream(plot=...) is not supported: open the dashboard's /status page for a live task "
                "stream, or wrap the work in performance_report(filename=...) to save one to HTML.")
        self.client = client
        self.filename = filename
        self.data: list[dict[str, Any]] = []
        self.start = 0.0

    def _enter(self) -> None:
        if self.client is None:
            from shoal.distributed.client import default_client

            self.client = default_client()
        self.start = time.time()

    def __enter__(self) -> get_task_stream:
        self._enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.data.extend(self.client.get_task_stream(start=self.start))

    async def __aenter__(self) -> get_task_stream:
        self._enter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.data.extend(await self.client.get_task_stream(start=self.start))

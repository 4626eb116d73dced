"""Client methods about the cluster as a whole: forwarding logs, dumping its state, benchmarking its hardware.

Mixed into :class:`~shoal.distributed.Client` (through
:class:`~shoal.distributed.client_extras.ClientExtrasMixin`). Signatures
follow ``distributed.Client``; the scheduler's side is
:mod:`shoal.distributed.server.scheduler_tools`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Literal

from shoal.distributed._loop import run_sync
from shoal.distributed._state_dump import write_state
from shoal.distributed.client_base import ClientCore
from shoal.distributed.forward_logging import (
    ForwardLoggingPlugin,
    handle_forwarded_record,
    plugin_name_of,
    topic_of,
)

__all__ = ["ClientClusterMixin"]


class ClientClusterMixin(ClientCore):
    """``forward_logging``, ``unforward_logging``, ``dump_cluster_state``, ``benchmark_hardware``."""

    if TYPE_CHECKING:
        def subscribe_topic(self, topic: str, handler: Any) -> Any: ...

        def unsubscribe_topic(self, topic: str) -> Any: ...

        def register_plugin(self, plugin: Any, name: str | None = None, idempotent: bool | None = None) -> Any: ...

        def unregister_worker_plugin(self, name: str, nanny: bool | None = None) -> Any: ...

    def forward_logging(self, logger_name: str | None = None, level: int | str = logging.NOTSET) -> Any:
        """Re-emit here the log records that tasks on the workers emit through ``logger_name`` (and its children).

        Parameters
        ----------
        logger_name : str, optional
            The logger to forward; None forwards the root logger, hence every logger.
        level : int or str
            Forward only records of this level or above, even if the worker-side logger lets lower ones through.

        Notes
        -----
        Mirrors ``distributed.Client.forward_logging``: a record is forwarded only if the logger lets it
        through on the worker (its level there), and re-emitted only if the logger of the same name lets it
        through here. Each forwarded record has a ``worker`` attribute (the worker's address). Forwarding the
        same logger again replaces the earlier forwarding. See :mod:`shoal.distributed.forward_logging`.

        Returns
        -------
        dict
            ``{worker address: None}`` for the workers now forwarding (workers that join later do too).
        """
        topic = topic_of(logger_name)
        plugin = ForwardLoggingPlugin(logger_name, level, topic)
        if self.asynchronous:
            async def go() -> Any:
                await self.subscribe_topic(topic, handle_forwarded_record)
                return await self.register_plugin(plugin, plugin.name)

            return go()
        self.subscribe_topic(topic, handle_forwarded_record)
        return self.register_plugin(plugin, plugin.name)

    def unforward_logging(self, logger_name: str | None = None) -> Any:
        """Stop forwarding ``logger_name`` (the root logger when None) from the workers' tasks."""
        topic = topic_of(logger_name)
        name = plugin_name_of(logger_name)
        if self.asynchronous:
            async def go() -> Any:
                await self.unsubscribe_topic(topic)
                return await self.unregister_worker_plugin(name)

            return go()
        self.unsubscribe_topic(topic)
        return self.unregister_worker_plugin(name)

    def dump_cluster_state(self, filename: str = "shoal-cluster-dump", write_from_scheduler: bool | None = None,
                           exclude: Collection[str] = ("run_spec",), format: Literal["msgpack", "yaml"] = "msgpack",
                           **storage_options: Any) -> Any:
        """Write the state of the scheduler and of every worker to a file, for debugging.

        The dump is ``{"scheduler": {...}, "workers": {address: {...}}, "versions": {"scheduler": {...},
        "workers": {address: {...}}}}``: every task, worker and client record (references between records
        written as keys and addresses), the transition log, the task stream, and each worker's tasks, data
        keys and log. A worker that cannot answer is written as the ``repr`` of its error.

        Parameters
        ----------
        filename : str
            Path or URL; ``.msgpack.gz`` (gzip-compressed msgpack) or ``.yaml`` is appended when missing.
        write_from_scheduler : bool, optional
            Write from the scheduler (to its filesystem, or a URL) instead of sending the dump here. By
            default, True when ``filename`` is a URL (contains ``://``).
        exclude : collection of str
            Attributes to leave out (the pickled ``run_spec`` of tasks by default).
        format : "msgpack" or "yaml"
        **storage_options
            Passed to ``fsspec.open`` for URLs.

        Notes
        -----
        A local file is written under a temporary name and renamed into place, so it is either the whole
        new dump or not there (an older dump stays). Mirrors ``distributed.Client.dump_cluster_state``.
        """
        if format not in ("msgpack", "yaml"):
            raise ValueError(f"dump_cluster_state: unsupported format {format!r}; use 'msgpack' or 'yaml'.")
        filename = str(filename)
        if write_from_scheduler is None:
            write_from_scheduler = "://" in filename
        skip = list(exclude)

        async def go() -> None:
            if write_from_scheduler:
                await self._scheduler_call("dump_cluster_state", filename=filename, format=format, exclude=skip)
                return
            state = await self._scheduler_call("cluster_state", exclude=skip)
            await asyncio.get_running_loop().run_in_executor(None, lambda: write_state(state, filename, format,
                                                                                       **storage_options))

        coro = go()
        return coro if self.asynchronous else run_sync(coro, self.timeout + 300)

    def benchmark_hardware(self, *, duration: float | None = None) -> Any:
        """Measure the workers' disk, memory and network bandwidths (bytes per second).

        Returns ``{"disk": {size: bandwidth}, "memory": {...}, "network": {...}}``: each size (``"1 MiB"``,
        ...) averaged over the workers, as Dask's ``Client.benchmark_hardware``. Disk: files written and
        fsync'ed in a temporary directory; memory: blocks copied; network: messages sent to another worker
        and back, between pairs of workers (empty with a single worker).

        Parameters
        ----------
        duration : float, optional
            Seconds spent on each size; by default Dask's (1 s disk, 0.2 s memory, 1 s network). A
            shoal addition, for quick checks.
        """
        coro = self._scheduler_call("benchmark_hardware", duration=duration)
        return coro if self.asynchronous else run_sync(coro, self.timeout + 600)

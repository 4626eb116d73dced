"""What Dask's ``Cluster`` offers beyond scaling: a name, logs, a client, and the planned/observed workers.

Mixed into :class:`~shoal.distributed.LocalCluster`. ``plan`` is the set of
worker names the cluster means to run, ``requested`` those it has started
(both its live workers: shoal starts a worker as soon as it is planned), and
``observed`` the names the scheduler has registered, as in Dask.
``get_logs`` returns Dask's :class:`Logs`: ``{"Cluster": ..., "Scheduler":
..., worker address: ...}``, each a :class:`Log` string of lines.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import TYPE_CHECKING, Any

from shoal.distributed._loop import run_sync
from shoal.distributed.client import Client

__all__ = ["ClusterExtrasMixin", "Log", "Logs"]


class Log(str):
    """Newline-separated log lines (Dask's ``distributed.utils.Log``)."""


class Logs(dict):  # type: ignore[type-arg]
    """Log texts by source: ``"Cluster"``, ``"Scheduler"`` and worker addresses (Dask's ``Logs``)."""


class ClusterExtrasMixin:
    """``name``, ``get_logs``, ``get_client``, ``scale_up``, ``scale_down``, ``plan``, ``requested``, ``observed``."""

    scheduler: Any
    status: str
    asynchronous: bool
    workers: dict[str, Any]
    worker_timeout: float
    _cluster_name: str
    _cluster_logs: list[tuple[datetime.datetime, str]]

    if TYPE_CHECKING:  # provided by LocalCluster
        def _live_names(self) -> list[str]: ...

        async def _stop_worker(self, name: str) -> None: ...

        def scale(self, n: int) -> Any: ...

    @property
    def name(self) -> str:
        """The cluster's name (random unless given)."""
        return self._cluster_name

    @name.setter
    def name(self, name: str) -> None:
        self._cluster_name = name

    def _log(self, message: str) -> None:
        """Record what the cluster manager did, for ``get_logs()["Cluster"]``."""
        self._cluster_logs.append((datetime.datetime.now(), message))

    @property
    def plan(self) -> set[str]:
        """Names of the workers the cluster means to run."""
        return set(self._live_names())

    @property
    def requested(self) -> set[str]:
        """Names of the workers the cluster started and still runs."""
        return set(self._live_names())

    @property
    def observed(self) -> set[str]:
        """Names of the workers registered with the scheduler."""
        if self.scheduler is None:
            return set()
        return {str(ws.name) for ws in list(self.scheduler.state.workers.values())}

    def scale_up(self, n: int, memory: Any = None, cores: Any = None) -> Any:
        """Run ``n`` workers (an alias of :meth:`scale`, as in Dask)."""
        if memory is not None or cores is not None:
            raise TypeError("LocalCluster.scale_up takes a number of workers; memory= and cores= are not supported.")
        return self.scale(n)

    def scale_down(self, workers: Any) -> Any:
        """Retire and stop the given workers (names or addresses): their results move to the others first.

        Raises
        ------
        ValueError
            A name or address that is not one of this cluster's workers.
        """
        chosen = [workers] if isinstance(workers, str) else list(workers)
        coro = self._scale_down_named(chosen)
        return coro if self.asynchronous else run_sync(coro, self.worker_timeout + 30)

    async def _scale_down_named(self, workers: list[Any]) -> None:
        records = list(self.scheduler.state.workers.values()) if self.scheduler is not None else []
        by_address = {ws.address: str(ws.name) for ws in records}
        names = [by_address.get(str(w), str(w)) for w in workers]
        unknown = [w for w, n in zip(workers, names, strict=True) if n not in self.workers]
        if unknown:
            raise ValueError(f"scale_down: {unknown} are not workers of this cluster; its workers are "
                             f"{sorted(self.workers)} (names) at {sorted(by_address)}.")
        addresses = [ws.address for ws in records if str(ws.name) in names]
        if addresses:
            await self.scheduler.rpc_retire_workers(addresses)
        for name in names:
            self._log(f"Stopping worker {name}")
            await self._stop_worker(name)

    def get_client(self) -> Any:
        """The current client if it is connected to this cluster, else a new :class:`Client` of it."""
        try:
            current = Client.current()
        except ValueError:
            current = None
        if current is not None and current.cluster is self:
            return current
        return Client(self, asynchronous=self.asynchronous)

    def get_logs(self, cluster: bool = True, scheduler: bool = True, workers: Any = True) -> Any:
        """Logs of the cluster manager, the scheduler and the workers (all of them, or a list of addresses).

        Returns
        -------
        Logs
            ``{"Cluster": Log, "Scheduler": Log, address: Log, ...}`` for what was asked for.
        """
        coro = self._get_logs(cluster, scheduler, workers)
        return coro if self.asynchronous else run_sync(coro, 60)

    async def _get_logs(self, cluster: bool, scheduler: bool, workers: Any) -> Logs:
        logs = Logs()
        if cluster:
            logs["Cluster"] = Log("\n".join(message for _, message in self._cluster_logs))
        server = self.scheduler
        if server is None:
            return logs
        if scheduler:
            logs["Scheduler"] = Log("\n".join(line for _, line in server.extras.rpc_get_logs()))
        if workers:
            addresses = list(server.state.workers) if workers is True else list(workers)
            replies = await asyncio.gather(*(server.pool.call(a, {"op": "get_logs"}) for a in addresses),
                                           return_exceptions=True)
            for address, reply in zip(addresses, replies, strict=True):
                lines = [f"could not get the logs: {reply!r}"] if isinstance(reply, BaseException) else \
                    [line for _, line in reply["logs"]]
                logs[address] = Log("\n".join(lines))
        return logs

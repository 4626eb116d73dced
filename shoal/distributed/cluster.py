"""LocalCluster: a scheduler and workers on this machine.

The scheduler runs in this process (on the background event loop). Workers
run either as separate processes started with ``python -m shoal.cli worker``
(``processes=True``, the default), talking TCP on 127.0.0.1 and each
supervised by a :class:`~shoal.distributed.nanny.Nanny` that restarts it when
it dies or passes the ``terminate`` memory fraction, or as
:class:`~shoal.distributed.server.worker.WorkerServer` objects on the same
event loop (``processes=False``), talking through in-process comms. Worker
processes watch this process and exit when it goes away, so a crashed
parent leaves no orphans.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from shoal import config
from shoal.distributed._exceptions import WorkerStartError
from shoal.distributed._loop import run_sync
from shoal.distributed.adaptive import Adaptive
from shoal.distributed.cluster_base import ClusterBase
from shoal.distributed.cluster_extras import ClusterExtrasMixin
from shoal.distributed.dashboard import DEFAULT_ADDRESS as DEFAULT_DASHBOARD
from shoal.distributed.memory import parse_memory_limit
from shoal.distributed.nanny import Nanny
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer
from shoal.utils import format_bytes

__all__ = ["LocalCluster"]


def _default_layout(processes: bool) -> tuple[int, int]:
    cores = os.cpu_count() or 1
    if not processes:
        return 1, cores
    if cores <= 4:
        return cores, 1
    workers = max(1, int(math.sqrt(cores)))
    while cores % workers:
        workers -= 1
    return workers, cores // workers


class LocalCluster(ClusterExtrasMixin, ClusterBase):
    """A scheduler and ``n_workers`` workers on this machine.

    Parameters
    ----------
    n_workers : int, optional
        Workers to start; chosen from the number of cores by default.
    threads_per_worker : int, optional
        Threads per worker.
    processes : bool
        Workers as separate processes (True) or as threads in this process.
    memory_limit : str, float, int or None
        Per worker: ``"auto"`` (the machine's memory split evenly between the workers), bytes, ``"4GiB"``, a
        float up to 1 (that fraction of the machine's memory), or 0/None for no limit (see
        :func:`~shoal.distributed.memory.parse_memory_limit`).
    scheduler_port : int
        TCP port of the scheduler; 0 picks a free one (with ``processes=True``).
    dashboard_address : str, int or None
        Where the scheduler serves the dashboard: ``"127.0.0.1:8787"``, ``":0"`` (a free port), or None for no
        dashboard. ``"auto"`` reads config ``distributed.dashboard.address`` (``127.0.0.1:8787``); a busy port
        falls back to a free one.
    host : str
        Interface to listen on.
    resources : dict, optional
        Abstract resources of every worker.
    security : Security, optional
        TLS certificates (:class:`~shoal.distributed.Security`, e.g. ``Security.temporary()``): the
        scheduler and worker processes then talk ``tls://`` and refuse peers without a certificate from
        the same CA. In-process workers (``processes=False``) never leave the process and ignore it.
    name : str, optional
        The cluster's name (``cluster.name``); random by default.

    Notes
    -----
    Also offers Dask's ``get_logs``, ``get_client``, ``scale_up``, ``scale_down``, ``plan``, ``requested``
    and ``observed`` (see :mod:`shoal.distributed.cluster_extras`).
    """

    def __init__(self, n_workers: int | None = None, threads_per_worker: int | None = None, processes: bool = True,
                 memory_limit: str | int | float | None = "auto", scheduler_port: int = 0,
                 dashboard_address: str | int | None = "auto", host: str = "127.0.0.1", asynchronous: bool = False,
                 resources: dict[str, float] | None = None, worker_timeout: float = 60.0, validate: bool = False,
                 silence_logs: Any = None, security: Any = None, name: str | None = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"LocalCluster got unexpected keyword arguments {sorted(kwargs)}.")
        default_workers, default_threads = _default_layout(processes)
        if n_workers is None:
            n_workers = default_workers if threads_per_worker is None else max(
                1, (os.cpu_count() or 1) // threads_per_worker)
        if threads_per_worker is None:
            threads_per_worker = max(1, (os.cpu_count() or 1) // max(n_workers, 1)) if n_workers else default_threads
        if n_workers < 0 or threads_per_worker < 1:
            raise ValueError(f"LocalCluster needs n_workers >= 0 and threads_per_worker >= 1, got n_workers="
                             f"{n_workers}, threads_per_worker={threads_per_worker}.")
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        if memory_limit == "auto" and n_workers:  # as Dask: the machine's memory split evenly between the workers
            self.memory_limit = parse_memory_limit("auto", 1, n_workers)
        else:
            self.memory_limit = parse_memory_limit(memory_limit, threads_per_worker)
        self.host = host
        self.scheduler_port = scheduler_port
        self.dashboard_address = dashboard_address
        self.resources = resources
        #: TLS settings of the scheduler and worker processes, or None.
        self.security = security
        if self._tls and not security.tls_worker_cert:
            raise ValueError("LocalCluster(security=...) with tls_ca_file also needs tls_worker_cert (and "
                             "tls_worker_key) for the worker processes, or use Security.temporary().")
        self.worker_timeout = worker_timeout
        self.validate = validate
        self.asynchronous = asynchronous
        self._cluster_name = name if name is not None else uuid.uuid4().hex[:8]
        self._cluster_logs: list[Any] = []
        self.scheduler: SchedulerServer | None = None
        #: Workers we started, by name: a Nanny for processes, a WorkerServer for threads. A worker retired with
        #: ``close_workers=False`` stays here (its process is ours to end at close) but no longer counts:
        #: :meth:`_live_names` leaves out the names in ``scheduler.retired``, as the scheduler left it out.
        self.workers: dict[str, Any] = {}
        self._next_name = 0
        self.status = "created"
        if not asynchronous:
            run_sync(self._start(), worker_timeout + 30)

    @property
    def _tls(self) -> bool:
        return self.processes and self.security is not None and self.security.tls_ca_file is not None

    @property
    def scheduler_address(self) -> str:
        return self.scheduler.address if self.scheduler is not None else ""

    @property
    def dashboard_link(self) -> str | None:
        dashboard = self.scheduler.dashboard if self.scheduler is not None else None
        return dashboard.link if dashboard is not None else None

    def __await__(self) -> Any:
        return self._start().__await__()

    async def _start(self) -> LocalCluster:
        if self.status == "running":
            return self
        scheme = "tls" if self._tls else "tcp"
        address = f"{scheme}://{self.host}:{self.scheduler_port}" if self.processes else "inproc://"
        dashboard = self.dashboard_address
        if dashboard == "auto":
            dashboard = config.get("distributed.dashboard.address", None) or DEFAULT_DASHBOARD
        self.scheduler = await SchedulerServer(address, validate=self.validate, dashboard_address=dashboard,
                                               security=self.security if self._tls else None).start()
        self.status = "running"
        self._log(f"Scheduler at {self.scheduler.address}")
        await self._scale(self.n_workers)
        return self

    # ------------------------------------------------------------------ workers

    async def _start_worker(self) -> None:
        name = str(self._next_name)
        self._next_name += 1
        assert self.scheduler is not None
        self._log(f"Starting worker {name}")
        if self.processes:
            args = ["--nthreads", str(self.threads_per_worker), "--name", name, "--memory-limit",
                    str(self.memory_limit), "--death-timeout", "10", "--no-reconnect", "--log-level", "error"]
            for res, amount in (self.resources or {}).items():
                args += ["--resources", f"{res}={amount}"]
            if self._tls:
                sec = self.security
                args += ["--tls-ca-file", sec.tls_ca_file, "--tls-cert", sec.tls_worker_cert]
                if sec.tls_worker_key:
                    args += ["--tls-key", sec.tls_worker_key]
            # Workers import what this process can (as multiprocessing's spawn does): functions from modules on
            # our sys.path then unpickle by reference in the workers too.
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            # The nanny lives on our event loop: it restarts a worker process that dies or outgrows its memory.
            nanny = Nanny(self.scheduler.address, args, memory_limit=self.memory_limit, env=env,
                          stdout=subprocess.DEVNULL, security=self.security if self._tls else None)
            self.workers[name] = nanny
            await nanny.start()
        else:
            worker = WorkerServer(self.scheduler.address, nthreads=self.threads_per_worker, listen_address="inproc://",
                                  name=name, memory_limit=self.memory_limit, resources=self.resources,
                                  reconnect=False, validate=self.validate)
            self.workers[name] = worker
            await worker.start()

    def _retired_names(self) -> set[str]:
        """Names of our workers the scheduler retired: gone from its state even if their process stays up."""
        retired = self.scheduler.retired if self.scheduler is not None else {}
        return {name for name in self.workers if name in retired}

    def _is_up(self, worker: Any) -> bool:
        return worker.poll() is None if self.processes else worker.status == "running"

    def _live_names(self) -> list[str]:
        """Our workers that count: up (or starting) and not retired, as the scheduler sees them."""
        retired = self._retired_names()
        return [n for n, w in self.workers.items() if n not in retired and self._is_up(w)]

    async def _scale(self, n: int) -> None:
        assert self.scheduler is not None
        names = self._live_names()
        if n > len(names):
            for _ in range(n - len(names)):
                await self._start_worker()
        elif n < len(names):
            doomed = names[n:]
            by_name = {ws.name: ws.address for ws in self.scheduler.state.workers.values()}
            addresses = [by_name[d] for d in doomed if d in by_name]
            await self.scheduler.rpc_retire_workers(addresses)
            for name in doomed:
                await self._stop_worker(name)
        await self._wait_for_workers(n)

    async def _wait_for_workers(self, n: int, timeout: float | None = None) -> None:
        assert self.scheduler is not None
        timeout = self.worker_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while len(self.scheduler.state.workers) < n:
            if self.processes:
                retired = self._retired_names()
                dead = [name for name, p in self.workers.items() if p.poll() is not None and name not in retired]
                if dead and len(self._live_names()) < n:
                    codes = {name: self.workers[name].returncode for name in dead}
                    raise WorkerStartError(f"Worker processes {codes} exited before registering with the scheduler "
                                           f"at {self.scheduler.address}. Run `python -m shoal.cli worker "
                                           f"{self.scheduler.address}` by hand to see why.")
            if time.monotonic() > deadline:
                raise WorkerStartError(f"Only {len(self.scheduler.state.workers)} of {n} workers registered with "
                                       f"the scheduler within {timeout}s. Raise worker_timeout= or "
                                       f"start fewer workers.")
            await asyncio.sleep(0.02)

    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> Any:
        """Wait until the scheduler has at least ``n_workers`` workers (retired ones do not count).

        Raises
        ------
        WorkerStartError
            Worker processes exited before registering, or ``timeout`` (default: ``worker_timeout``) passed.
        """
        if self.asynchronous:
            return self._wait_for_workers(n_workers, timeout)
        run_sync(self._wait_for_workers(n_workers, timeout), (timeout or self.worker_timeout) + 30)
        return None

    async def _stop_worker(self, name: str) -> None:
        worker = self.workers.pop(name, None)
        if worker is None:
            return
        if self.processes:
            await worker.close()
        else:
            await worker.close()

    async def _scale_down_to(self, n: int) -> None:
        """Retire workers until ``n`` run, those holding the fewest bytes and running the fewest tasks first."""
        assert self.scheduler is not None
        names = self._live_names()
        if n >= len(names):
            return
        doomed = self._least_busy(names, len(names) - n)
        records = {ws.name: ws for ws in self.scheduler.state.workers.values()}
        addresses = [records[d].address for d in doomed if d in records]
        await self.scheduler.rpc_retire_workers(addresses)
        for name in doomed:
            await self._stop_worker(name)

    async def _restart(self, wait: bool = True) -> None:
        """Replace every in-process worker by a new one (``client.restart``).

        Worker processes need nothing here: the scheduler asked each one to restart, and its nanny started
        a new process.
        """
        if self.processes:
            return
        n = len(self._live_names())
        # A worker retired with close_workers=False is no longer the scheduler's to restart: it stays as it is.
        kept = {name for name in self._retired_names() if self.workers[name].status == "retired"}
        await asyncio.gather(*(self._stop_worker(name) for name in list(self.workers) if name not in kept),
                             return_exceptions=True)
        for _ in range(n):
            await self._start_worker()
        if wait:
            await self._wait_for_workers(n)

    def adapt(self, minimum: int = 0, maximum: float = math.inf, interval: str | float = "250ms",
              wait_count: int = 3, **kwargs: Any) -> Adaptive:
        """Scale between ``minimum`` and ``maximum`` workers with the work queued on the scheduler.

        Replaces an earlier ``adapt``; a call to :meth:`scale` stops adapting.
        Returns the :class:`~shoal.distributed.adaptive.Adaptive` object.
        """
        return self._begin_adapting(minimum, maximum, interval, wait_count, kwargs)

    def scale(self, n: int) -> Any:
        """Run ``n`` workers: start new ones or retire the most recent ones."""
        self._stop_adapting()
        if self.asynchronous:
            return self._scale(n)
        run_sync(self._scale(n), self.worker_timeout + 30)
        return None

    async def _close(self) -> None:
        if self.status == "closed":
            return
        self.status = "closed"
        adaptive = getattr(self, "_adaptive", None)
        if adaptive is not None:
            adaptive.stop()
        if self.scheduler is not None:
            await self.scheduler.close(close_workers=True)
        await asyncio.gather(*(self._stop_worker(name) for name in list(self.workers)), return_exceptions=True)

    def __repr__(self) -> str:
        kind = "processes" if self.processes else "threads"
        live = len(self._live_names())
        return (f"LocalCluster({self.scheduler_address!r}, workers={live}, threads="
                f"{live * self.threads_per_worker}, {kind}, memory={format_bytes(self.memory_limit)} per worker)")

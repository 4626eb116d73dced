"""SpecCluster: a cluster described by specifications, as Dask's ``SpecCluster``.

A specification is a dict ``{"cls": cls, "options": {...}}``. The cluster
holds three kinds:

- ``scheduler``: the scheduler's spec, started first in this process
  (:class:`~shoal.distributed.server.scheduler.SchedulerServer`);
- ``worker_spec``: the desired workers, ``{name: spec}``. The cluster's job
  is to make the running workers (``workers``, ``{name: object}``) match it:
  a name in the spec and not running is started, a running name gone from
  the spec is retired (its results move to other workers) and closed;
- ``new_spec`` (the ``worker=`` argument): the template :meth:`scale` copies
  for each new worker, named ``0, 1, 2, ...`` in order of creation.

Worker classes:

- :class:`~shoal.distributed.server.worker.WorkerServer` runs in this
  process on the background event loop; options are its keyword arguments
  (``nthreads``, ``memory_limit``, ``resources``, ...);
- :class:`~shoal.distributed.nanny.Nanny` starts a worker process and keeps
  one running; options are Dask's worker options (``nthreads``,
  ``memory_limit``, ``resources``, ``death_timeout``, ``env``), turned into
  ``shoal worker`` command-line flags;
- any other class is called as ``cls(scheduler_address, **options)`` and must
  offer ``async start()`` and ``async close()``.

:class:`~shoal.distributed.LocalCluster` is kept as its own class (it grew
restart, retirement and TLS behaviour its tests rely on); both drive the
same :class:`~shoal.distributed.adaptive.Adaptive` loop.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import subprocess
import sys
import time
from typing import Any

from shoal.distributed._exceptions import WorkerStartError
from shoal.distributed._loop import run_sync
from shoal.distributed.adaptive import Adaptive
from shoal.distributed.cluster_base import ClusterBase
from shoal.distributed.nanny import Nanny
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer
from shoal.utils import parse_bytes

__all__ = ["SpecCluster"]

#: Seconds a worker may take to register with the scheduler after it starts.
_WORKER_TIMEOUT = 60.0


def _check_spec(where: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or "cls" not in spec or not callable(spec["cls"]):
        raise TypeError(f"SpecCluster: {where} must be a dict like {{'cls': WorkerServer, 'options': {{...}}}}, "
                        f"got {spec!r}.")
    options = spec.get("options", {})
    if not isinstance(options, dict):
        raise TypeError(f"SpecCluster: 'options' of {where} must be a dict, got {type(options).__name__}.")
    return {"cls": spec["cls"], "options": dict(options)}


def _nanny_args(name: str, options: dict[str, Any]) -> tuple[list[str], int, dict[str, str]]:
    """``shoal worker`` flags, memory limit and environment for a Nanny spec's Dask-style ``options``."""
    known = {"nthreads", "memory_limit", "resources", "death_timeout", "env", "name"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"SpecCluster: Nanny worker {name!r} got options {unknown} it does not understand; "
                        f"it takes {sorted(known)}.")
    memory = options.get("memory_limit") or 0
    memory = parse_bytes(memory) if isinstance(memory, str) else int(memory)
    args = ["--nthreads", str(options.get("nthreads", 1)), "--name", str(options.get("name", name)),
            "--memory-limit", str(memory), "--death-timeout", str(options.get("death_timeout", 10)),
            "--no-reconnect", "--log-level", "error"]
    for res, amount in (options.get("resources") or {}).items():
        args += ["--resources", f"{res}={amount}"]
    # As LocalCluster: worker processes import what this process can, so functions defined in modules on our
    # sys.path unpickle there too.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.update({str(k): str(v) for k, v in (options.get("env") or {}).items()})
    return args, memory, env


class SpecCluster(ClusterBase):
    """A scheduler and workers built from specifications; see the module docstring.

    Parameters
    ----------
    workers : dict, optional
        ``{name: {"cls": ..., "options": {...}}}``: the workers to start.
    scheduler : dict, optional
        ``{"cls": SchedulerServer, "options": {...}}``; options are ``host``, ``port``, ``protocol``
        (``"tcp"`` or ``"inproc"``), ``dashboard_address`` and ``validate``. Default: TCP on a free port of
        127.0.0.1, no dashboard.
    worker : dict, optional
        The template of the workers :meth:`scale` adds.
    asynchronous : bool
        Start with ``await cluster`` (or ``async with``) instead of in the constructor.
    loop : optional
        Accepted for Dask compatibility; shoal runs every cluster on its one background loop.
    security : Security, optional
        Passed to the scheduler and to ``WorkerServer`` workers.
    silence_logs : optional
        Accepted for Dask compatibility.
    name : str, optional
        A name shown in the repr.
    shutdown_on_close : bool
        Close the cluster when this object is garbage collected while still running.
    scheduler_sync_interval : float
        Accepted for Dask compatibility: the scheduler runs in this process, so its state is always current.

    Examples
    --------
    >>> spec = {"cls": WorkerServer, "options": {"nthreads": 1}}
    >>> with SpecCluster(scheduler={"cls": SchedulerServer, "options": {"protocol": "inproc"}},
    ...                  workers={"a": spec}, worker=spec) as cluster:
    ...     cluster.scale(2)
    ...     sorted(cluster.workers)
    ['0', 'a']
    """

    def __init__(self, workers: dict[Any, dict[str, Any]] | None = None, scheduler: dict[str, Any] | None = None,
                 worker: dict[str, Any] | None = None, asynchronous: bool = False, loop: Any = None,
                 security: Any = None, silence_logs: Any = False, name: str | None = None,
                 shutdown_on_close: bool = True, scheduler_sync_interval: float = 1) -> None:
        self.scheduler_spec = _check_spec("scheduler=", scheduler or {"cls": SchedulerServer, "options": {}})
        #: The desired workers, by name; :meth:`_correct_state` makes ``workers`` match it.
        self.worker_spec: dict[str, dict[str, Any]] = {
            str(n): _check_spec(f"workers[{n!r}]", s) for n, s in (workers or {}).items()}
        #: The template :meth:`new_worker_spec` copies, or None (then :meth:`scale` cannot add workers).
        self.new_spec = _check_spec("worker=", worker) if worker is not None else None
        #: Running worker objects by name (a WorkerServer, a Nanny, or the spec's own class).
        self.workers: dict[str, Any] = {}
        self.scheduler: Any = None
        self.security = security
        self.asynchronous = asynchronous
        self.name = name
        self.shutdown_on_close = shutdown_on_close
        self.scheduler_sync_interval = scheduler_sync_interval
        self.status = "created"
        self._i = 0
        self._adaptive: Adaptive | None = None
        self._lock: asyncio.Lock | None = None
        if not asynchronous:
            run_sync(self._start(), _WORKER_TIMEOUT + 30)

    # ------------------------------------------------------------------ properties

    @property
    def scheduler_address(self) -> str:
        return self.scheduler.address if self.scheduler is not None else ""

    @property
    def dashboard_link(self) -> str | None:
        dashboard = getattr(self.scheduler, "dashboard", None)
        return dashboard.link if dashboard is not None else None

    @property
    def threads_per_worker(self) -> int:
        """Threads of a worker made from the template (what :class:`Adaptive` counts per new worker)."""
        spec = self.new_spec or next(iter(self.worker_spec.values()), None)
        return int(spec["options"].get("nthreads", 1)) if spec else 1

    def new_worker_spec(self) -> dict[str, dict[str, Any]]:
        """``{name: spec}`` for one more worker: a copy of the template under the next free name."""
        if self.new_spec is None:
            raise ValueError("SpecCluster.scale needs a template for new workers: pass worker={'cls': ..., "
                             "'options': {...}} to SpecCluster.")
        while str(self._i) in self.worker_spec:
            self._i += 1
        name = str(self._i)
        self._i += 1
        return {name: copy.deepcopy(self.new_spec)}

    # ------------------------------------------------------------------ life cycle

    def __await__(self) -> Any:
        return self._start().__await__()

    async def _start(self) -> SpecCluster:
        if self.status == "running":
            return self
        if self.status == "closed":
            raise RuntimeError("SpecCluster: this cluster is closed; create a new one.")
        self._lock = asyncio.Lock()
        self.scheduler = await self._make_scheduler().start()
        self.status = "running"
        try:
            await self._correct_state()
        except BaseException:
            await self._close()  # leave no scheduler or worker behind a failed start
            raise
        return self

    def _make_scheduler(self) -> Any:
        cls, options = self.scheduler_spec["cls"], dict(self.scheduler_spec["options"])
        if not (isinstance(cls, type) and issubclass(cls, SchedulerServer)):
            return cls(**options)
        protocol = options.pop("protocol", "tcp").rstrip(":/")
        host, port = options.pop("host", "127.0.0.1"), options.pop("port", 0)
        address = options.pop("address", None) or ("inproc://" if protocol == "inproc" else
                                                   f"{protocol}://{host}:{port}")
        options.setdefault("dashboard_address", None)
        if self.security is not None and address.startswith("tls://"):
            options.setdefault("security", self.security)
        return cls(address, **options)

    def _make_worker(self, name: str, spec: dict[str, Any]) -> Any:
        cls, options = spec["cls"], dict(spec["options"])
        address = self.scheduler_address
        if isinstance(cls, type) and issubclass(cls, Nanny):
            args, memory, env = _nanny_args(name, options)
            return cls(address, args, memory_limit=memory, env=env, stdout=subprocess.DEVNULL)
        if isinstance(cls, type) and issubclass(cls, WorkerServer):
            options.setdefault("name", name)
            options.setdefault("reconnect", False)
            host = options.pop("host", "127.0.0.1")
            options.setdefault("listen_address", "inproc://" if address.startswith("inproc://") else
                               f"{address.split('://')[0]}://{host}:0")
            if self.security is not None and address.startswith("tls://"):
                options.setdefault("security", self.security)
            return cls(address, **options)
        return cls(address, **options)

    def _is_up(self, worker: Any) -> bool:
        if isinstance(worker, Nanny):
            return worker.poll() is None
        return getattr(worker, "status", "running") in ("created", "running")

    def _live_names(self) -> list[str]:
        """Workers that run (or are starting) and are still wanted, in spec order."""
        return [n for n in self.worker_spec if n in self.workers and self._is_up(self.workers[n])]

    async def _correct_state(self) -> None:
        """Start the workers of the spec that do not run; retire and close those no longer in it."""
        assert self._lock is not None
        async with self._lock:
            doomed = [n for n in self.workers if n not in self.worker_spec]
            if doomed:
                by_name = {str(ws.name): ws.address for ws in self.scheduler.state.workers.values()}
                addresses = [by_name[n] for n in doomed if n in by_name]
                if addresses:
                    await self.scheduler.rpc_retire_workers(addresses)
                await asyncio.gather(*(self._stop_worker(n) for n in doomed), return_exceptions=True)
            for name, spec in self.worker_spec.items():
                worker = self.workers.get(name)
                if worker is not None and self._is_up(worker):
                    continue
                worker = self._make_worker(name, spec)
                self.workers[name] = worker
                await worker.start()
            await self._wait_for_names(list(self.worker_spec), _WORKER_TIMEOUT)

    async def _wait_for_names(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            registered = {str(ws.name) for ws in self.scheduler.state.workers.values()}
            missing = [n for n in names if n not in registered]
            if not missing:
                return
            dead = [n for n in missing if n in self.workers and not self._is_up(self.workers[n])]
            if dead:
                raise WorkerStartError(f"SpecCluster: workers {dead} stopped before registering with the "
                                       f"scheduler at {self.scheduler_address}. Check their spec's options.")
            if time.monotonic() > deadline:
                raise WorkerStartError(f"SpecCluster: workers {missing} did not register with the scheduler "
                                       f"at {self.scheduler_address} within {timeout}s.")
            await asyncio.sleep(0.02)

    async def _stop_worker(self, name: str) -> None:
        worker = self.workers.pop(name, None)
        if worker is not None:
            await worker.close()

    # ------------------------------------------------------------------ scaling

    def _sync(self, coro: Any, timeout: float = _WORKER_TIMEOUT + 30) -> Any:
        if self.asynchronous:
            return coro
        return run_sync(coro, timeout)

    async def _scale(self, n: int) -> None:
        """Make the spec hold ``n`` workers (new ones from the template; the newest go first) and apply it."""
        if n < 0:
            raise ValueError(f"SpecCluster.scale needs n >= 0, got {n}.")
        while len(self.worker_spec) > n:
            self.worker_spec.popitem()
        while len(self.worker_spec) < n:
            self.worker_spec.update(self.new_worker_spec())
        await self._correct_state()

    def scale(self, n: int = 0, memory: Any = None, cores: Any = None) -> Any:
        """Run ``n`` workers: add copies of the template, or remove the most recently added workers.

        ``memory=``/``cores=`` (Dask's way of scaling by resources) are not supported.
        """
        if memory is not None or cores is not None:
            raise NotImplementedError("SpecCluster.scale(memory=..., cores=...) is not supported; pass the "
                                      "number of workers: scale(n).")
        self._stop_adapting()
        return self._sync(self._scale(int(n)))

    def scale_up(self, n: int, memory: Any = None, cores: Any = None) -> Any:
        """Run ``n`` workers (as :meth:`scale`; the adaptive loop calls it)."""
        return self.scale(n, memory=memory, cores=cores)

    def scale_down(self, workers: list[Any]) -> Any:
        """Retire and close the given workers, named as in ``worker_spec`` or by scheduler address."""
        return self._sync(self._scale_down(list(workers)))

    async def _scale_down(self, workers: list[Any]) -> None:
        # On the loop: the scheduler's state only changes there.
        by_address = {ws.address: str(ws.name) for ws in self.scheduler.state.workers.values()}
        for worker in workers:
            self.worker_spec.pop(by_address.get(worker, str(worker)), None)
        await self._correct_state()

    async def _scale_down_to(self, n: int) -> None:
        """Retire workers until ``n`` remain, those holding the fewest bytes and running the fewest tasks first."""
        names = self._live_names()
        if n >= len(names):
            return
        for name in self._least_busy(names, len(names) - n):
            self.worker_spec.pop(name, None)
        await self._correct_state()

    def adapt(self, minimum: int = 0, maximum: float = math.inf, interval: str | float = "250ms",
              wait_count: int = 3, **kwargs: Any) -> Adaptive:
        """Scale between ``minimum`` and ``maximum`` workers with the scheduler's queued work.

        Replaces an earlier ``adapt``; :meth:`scale` stops adapting. Needs the ``worker=`` template.
        """
        if kwargs:
            raise TypeError(f"adapt got unexpected keyword arguments {sorted(kwargs)}.")
        if self.new_spec is None:
            raise ValueError("SpecCluster.adapt needs a template for new workers: pass worker={'cls': ..., "
                             "'options': {...}} to SpecCluster.")
        return self._begin_adapting(minimum, maximum, interval, wait_count, {})

    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> Any:
        """Wait until the scheduler has at least ``n_workers`` workers."""
        async def wait() -> None:
            try:
                await self.scheduler.wait_for_workers(n_workers, timeout=timeout or _WORKER_TIMEOUT)
            except TimeoutError as exc:
                raise WorkerStartError(f"SpecCluster: {exc}; expected {n_workers}.") from None

        return self._sync(wait(), (timeout or _WORKER_TIMEOUT) + 30)

    # ------------------------------------------------------------------ closing

    async def _close(self) -> None:
        if self.status == "closed":
            return
        self.status = "closed"
        if self._adaptive is not None:
            self._adaptive.stop()
            self._adaptive = None
        if self.scheduler is not None:
            await self.scheduler.close(close_workers=True)
        await asyncio.gather(*(self._stop_worker(n) for n in list(self.workers)), return_exceptions=True)

    def _closes_when_dropped(self) -> bool:
        return bool(getattr(self, "shutdown_on_close", False))

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return (f"SpecCluster({label}{self.scheduler_address!r}, workers={len(self._live_names())}, "
                f"status={self.status})")

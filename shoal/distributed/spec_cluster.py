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

An entry is one worker unless its spec has ``"group": [suffix, ...]``: then
it is one worker per suffix, named ``name + suffix``, started, counted and
retired together (see :mod:`._worker_specs`). :meth:`scale` counts entries;
``scale(memory=..., cores=...)`` asks for enough entries of the template to
give that much memory and that many threads, as Dask's.

Worker classes:

- :class:`~shoal.distributed.server.worker.WorkerServer` runs in this
  process on the background event loop; options are its keyword arguments
  (``nthreads``, ``memory_limit``, ``resources``, ...);
- :class:`~shoal.distributed.nanny.Nanny` starts a worker process and keeps
  one running; options are Dask's worker options (``nthreads``,
  ``memory_limit``, ``resources``, ``death_timeout``, ``env``,
  ``security``), turned into ``shoal worker`` command-line flags;
- any other class is called as ``cls(scheduler_address, name=name, **options)``
  and must offer ``async start()`` and ``async close()``.

:class:`~shoal.distributed.LocalCluster` is kept as its own class (it grew
restart, retirement and TLS behaviour its tests rely on); both drive the
same :class:`~shoal.distributed.adaptive.Adaptive` loop.
"""

from __future__ import annotations

import asyncio
import copy
import math
import subprocess
import time
from typing import Any

from shoal.distributed._exceptions import WorkerStartError
from shoal.distributed._loop import run_sync
from shoal.distributed._worker_specs import (
    WorkerGroup,
    check_spec,
    entry_capacity,
    is_builtin,
    member_names,
    nanny_args,
    tls_args,
)
from shoal.distributed.adaptive import Adaptive
from shoal.distributed.cluster_base import ClusterBase
from shoal.distributed.nanny import Nanny
from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer  # noqa: F401 - the class docstring example uses it
from shoal.utils import parse_bytes

__all__ = ["SpecCluster"]

#: Seconds a worker may take to register with the scheduler after it starts.
_WORKER_TIMEOUT = 60.0


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
        Used by a ``tls://`` scheduler, its ``WorkerServer`` workers, and its ``Nanny`` workers (the nanny and
        the worker process it starts get the worker certificates); a spec's own ``security`` option wins.
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
        self.scheduler_spec = check_spec("scheduler=", scheduler or {"cls": SchedulerServer, "options": {}})
        #: The desired workers, by name; :meth:`_correct_state` makes ``workers`` match it.
        self.worker_spec: dict[str, dict[str, Any]] = {
            str(n): check_spec(f"workers[{n!r}]", s) for n, s in (workers or {}).items()}
        #: The template :meth:`new_worker_spec` copies, or None (then :meth:`scale` cannot add workers).
        self.new_spec = check_spec("worker=", worker) if worker is not None else None
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
        #: Names the workers of each started entry register with (one, or one per suffix of its group).
        self._members: dict[str, list[str]] = {}
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
        """Threads one more entry of the template brings (what :class:`Adaptive` counts per entry it adds).

        A group entry of ``WorkerServer``/``Nanny`` brings its size times the template's ``nthreads``.
        """
        spec = self.new_spec or next(iter(self.worker_spec.values()), None)
        if spec is None:
            return 1
        try:
            return max(int(entry_capacity(spec, "cores", is_builtin(spec["cls"]))), 1)
        except ValueError:
            return 1

    @property
    def plan(self) -> set[str]:
        """Names of the workers the spec asks for (a group entry gives one name per suffix), as Dask's."""
        return {m for name, spec in self.worker_spec.items() for m in member_names(name, spec)}

    @property
    def requested(self) -> set[str]:
        """Names of the planned workers whose entry has been started (they may not have registered yet)."""
        return {m for name, spec in self.worker_spec.items() if name in self.workers
                for m in member_names(name, spec)}

    @property
    def observed(self) -> set[str]:
        """Names of the workers registered with the scheduler."""
        if self.scheduler is None:
            return set()
        return {str(ws.name) for ws in list(self.scheduler.state.workers.values())}

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
        if not is_builtin(cls):
            # As Dask: the entry's name; a class given a group starts the suffixed workers itself.
            options.setdefault("name", name)
            return cls(self.scheduler_address, **options)
        if "group" in spec:  # one built-in worker per suffix, held as one object
            members = {m: self._make_one(m, cls, options) for m in member_names(name, spec)}
            return WorkerGroup(members, self._is_up)
        return self._make_one(name, cls, options)

    def _make_one(self, name: str, cls: Any, options: dict[str, Any]) -> Any:
        """One WorkerServer or Nanny named ``name`` (the cluster waits for that name, so it wins over options')."""
        options = dict(options)
        options.pop("name", None)
        address = self.scheduler_address
        if issubclass(cls, Nanny):
            security = options.pop("security", None) or self.security
            args, memory, env = nanny_args(name, options)
            if security is None or not address.startswith("tls://"):
                security = None
            else:  # the worker process gets the files, the nanny (its port, its calls) the object
                args += tls_args(name, security)
            return cls(address, args, memory_limit=memory, env=env, stdout=subprocess.DEVNULL, security=security)
        options["name"] = name
        options.setdefault("reconnect", False)
        host = options.pop("host", "127.0.0.1")
        options.setdefault("listen_address", "inproc://" if address.startswith("inproc://") else
                           f"{address.split('://')[0]}://{host}:0")
        if self.security is not None and address.startswith("tls://"):
            options.setdefault("security", self.security)
        return cls(address, **options)

    def _is_up(self, worker: Any) -> bool:
        if isinstance(worker, Nanny):
            return worker.poll() is None
        return getattr(worker, "status", "running") in ("created", "running")

    def _live_names(self) -> list[str]:
        """Entries that run (or are starting) and are still wanted, in spec order."""
        return [n for n in self.worker_spec if n in self.workers and self._is_up(self.workers[n])]

    async def _correct_state(self) -> None:
        """Start the entries of the spec that do not run; retire and close those no longer in it.

        Shielded: a caller cancelled midway (an adaptive loop stopped or replaced) must not leave a worker half
        started, registered but never reading its stream; the work finishes under the lock, where the next
        caller (or :meth:`_close`) waits for it.
        """
        await asyncio.shield(self._apply_spec())

    async def _apply_spec(self) -> None:
        assert self._lock is not None
        async with self._lock:
            doomed = [n for n in self.workers if n not in self.worker_spec]
            if doomed:
                by_name = {str(ws.name): ws.address for ws in self.scheduler.state.workers.values()}
                addresses = [by_name[m] for n in doomed for m in self._members.get(n, [n]) if m in by_name]
                if addresses:
                    await self.scheduler.rpc_retire_workers(addresses)
                await asyncio.gather(*(self._stop_worker(n) for n in doomed), return_exceptions=True)
            # A snapshot: scale() may change the spec meanwhile; the next call (waiting on the lock) applies that.
            for name, spec in list(self.worker_spec.items()):
                worker = self.workers.get(name)
                if worker is not None and self._is_up(worker):
                    continue
                if worker is not None:  # a group with a member gone: stop the rest before starting it again
                    await self._stop_worker(name)
                worker = self._make_worker(name, spec)
                self.workers[name] = worker
                self._members[name] = member_names(name, spec)
                await worker.start()
            await self._wait_for_entries(list(self.worker_spec), _WORKER_TIMEOUT)

    async def _wait_for_entries(self, names: list[str], timeout: float) -> None:
        """Wait until every worker of the entries ``names`` registered; fail early if an entry stopped."""
        deadline = time.monotonic() + timeout
        while True:
            registered = {str(ws.name) for ws in self.scheduler.state.workers.values()}
            names = [n for n in names if n in self.worker_spec]  # an entry scaled away meanwhile is not awaited
            waiting = {n: [m for m in self._members.get(n, [n]) if m not in registered] for n in names}
            missing = [m for n in names for m in waiting[n]]
            if not missing:
                return
            dead = [m for n in names if waiting[n] and n in self.workers and not self._is_up(self.workers[n])
                    for m in waiting[n]]
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
        if name not in self.worker_spec:
            self._members.pop(name, None)

    # ------------------------------------------------------------------ scaling

    def _sync(self, coro: Any, timeout: float = _WORKER_TIMEOUT + 30) -> Any:
        if self.asynchronous:
            return coro
        return run_sync(coro, timeout)

    def _entries_for(self, n: int, memory: Any, cores: Any) -> int:
        """Entries needed for ``n`` entries and at least ``memory`` bytes and ``cores`` threads (Dask's rule)."""
        builtin = self.new_spec is not None and is_builtin(self.new_spec["cls"])
        if memory is not None:
            need = parse_bytes(memory) if isinstance(memory, str) else float(memory)
            n = max(n, math.ceil(need / entry_capacity(self.new_spec, "memory", builtin)))
        if cores is not None:
            n = max(n, math.ceil(float(cores) / entry_capacity(self.new_spec, "cores", builtin)))
        return n

    async def _scale(self, n: int) -> None:
        """Make the spec hold ``n`` entries and apply it.

        New entries copy the template. Going down, entries none of whose workers registered go first,
        then the newest, as in Dask.
        """
        if n < 0:
            raise ValueError(f"SpecCluster.scale needs n >= 0, got {n}.")
        if len(self.worker_spec) > n:
            registered = self.observed
            unlaunched = [name for name, spec in self.worker_spec.items()
                          if not registered.intersection(self._members.get(name) or member_names(name, spec))]
            while len(self.worker_spec) > n and unlaunched:
                del self.worker_spec[unlaunched.pop()]
        while len(self.worker_spec) > n:
            self.worker_spec.popitem()
        while len(self.worker_spec) < n:
            self.worker_spec.update(self.new_worker_spec())
        await self._correct_state()

    def scale(self, n: int = 0, memory: Any = None, cores: Any = None) -> Any:
        """Run ``n`` entries of the spec, or enough for ``memory`` bytes and ``cores`` threads, as Dask's.

        Parameters
        ----------
        n : int
            Entries to run: copies of the template are added, or entries removed (those that never
            registered first, then the most recently added). An entry is one worker unless its spec has a
            ``"group"``.
        memory : str or int, optional
            Total memory wanted, e.g. ``"8 GiB"``: at least ``ceil(memory / memory per entry)`` entries, the
            template giving the memory per worker as ``memory_limit``.
        cores : int, optional
            Total threads wanted: at least ``ceil(cores / threads per entry)`` entries (``nthreads``).

        Raises
        ------
        ValueError
            ``memory``/``cores`` without a template, or a template that does not say its memory.
        """
        target = self._entries_for(int(n), memory, cores)
        self._stop_adapting()
        return self._sync(self._scale(target))

    def scale_up(self, n: int, memory: Any = None, cores: Any = None) -> Any:
        """Run ``n`` entries (as :meth:`scale`)."""
        return self.scale(n, memory=memory, cores=cores)

    def scale_down(self, workers: list[Any]) -> Any:
        """Retire and close the given workers, by entry name, worker name or scheduler address.

        A worker of a group takes its whole entry with it, as in Dask.
        """
        return self._sync(self._scale_down(list(workers)))

    def _entry_of(self) -> dict[str, str]:
        """Entry name of every planned or started worker name."""
        out = {m: name for name, members in self._members.items() for m in members}
        out.update({m: name for name, spec in self.worker_spec.items() for m in member_names(name, spec)})
        return out

    async def _scale_down(self, workers: list[Any]) -> None:
        # On the loop: the scheduler's state only changes there.
        by_address = {ws.address: str(ws.name) for ws in self.scheduler.state.workers.values()}
        entry_of = self._entry_of()
        for worker in workers:
            name = by_address.get(worker, str(worker))
            self.worker_spec.pop(name if name in self.worker_spec else entry_of.get(name, name), None)
        await self._correct_state()

    async def _scale_down_to(self, n: int) -> None:
        """Retire entries until ``n`` remain, those holding the fewest bytes and running the fewest tasks first."""
        names = self._live_names()
        if n >= len(names):
            return
        for name in self._least_busy(names, len(names) - n):
            self.worker_spec.pop(name, None)
        await self._correct_state()

    def _least_busy(self, names: list[str], count: int) -> list[str]:
        """The ``count`` entries of ``names`` whose workers run the fewest tasks and hold the fewest bytes."""
        records = {str(ws.name): ws for ws in self.scheduler.state.workers.values()}

        def busy(name: str) -> tuple[int, int]:
            found = [records[m] for m in self._members.get(name, [name]) if m in records]
            return sum(len(ws.processing) for ws in found), sum(ws.nbytes for ws in found)

        return sorted(names, key=busy)[:max(count, 0)]

    def adapt(self, minimum: int = 0, maximum: float = math.inf, interval: str | float = "250ms",
              wait_count: int = 3, *, minimum_cores: int | None = None, maximum_cores: int | None = None,
              minimum_memory: str | int | None = None, maximum_memory: str | int | None = None,
              **kwargs: Any) -> Adaptive:
        """Scale between ``minimum`` and ``maximum`` entries with the scheduler's queued work.

        ``minimum_cores``/``maximum_cores`` and ``minimum_memory``/``maximum_memory`` bound the threads and
        memory kept, in entries of the template, as Dask's. Replaces an earlier ``adapt``; :meth:`scale`
        stops adapting. Needs the ``worker=`` template.
        """
        if kwargs:
            raise TypeError(f"adapt got unexpected keyword arguments {sorted(kwargs)}.")
        if self.new_spec is None:
            raise ValueError("SpecCluster.adapt needs a template for new workers: pass worker={'cls': ..., "
                             "'options': {...}} to SpecCluster.")
        builtin = is_builtin(self.new_spec["cls"])
        if minimum_cores is not None:
            minimum = max(minimum, math.ceil(minimum_cores / entry_capacity(self.new_spec, "cores", builtin)))
        if minimum_memory is not None:
            minimum = max(minimum, self._entries_for(0, minimum_memory, None))
        if maximum_cores is not None:
            maximum = min(maximum, math.floor(maximum_cores / entry_capacity(self.new_spec, "cores", builtin)))
        if maximum_memory is not None:
            per_entry = entry_capacity(self.new_spec, "memory", builtin)
            need = parse_bytes(maximum_memory) if isinstance(maximum_memory, str) else float(maximum_memory)
            maximum = min(maximum, math.floor(need / per_entry))
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
        if self._lock is not None:
            async with self._lock:  # a change of workers still under way ends first (see _correct_state)
                pass
        if self.scheduler is not None:
            await self.scheduler.close(close_workers=True)
        await asyncio.gather(*(self._stop_worker(n) for n in list(self.workers)), return_exceptions=True)

    def _closes_when_dropped(self) -> bool:
        return bool(getattr(self, "shutdown_on_close", False))

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return (f"SpecCluster({label}{self.scheduler_address!r}, workers={len(self._live_names())}, "
                f"status={self.status})")

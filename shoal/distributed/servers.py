"""``Scheduler``, ``Worker`` and ``Status``: Dask's names for the servers, with Dask's constructor keywords.

:class:`Scheduler` is a :class:`~shoal.distributed.server.scheduler.SchedulerServer`
and :class:`Worker` a :class:`~shoal.distributed.server.worker.WorkerServer`,
built from the keywords Dask's ``distributed.Scheduler`` and
``distributed.Worker`` take (``host``, ``port``, ``protocol``, ``nthreads``,
...). Both are async context managers::

    async with Scheduler() as s:
        async with Worker(s.address) as w:
            async with Client(s.address, asynchronous=True) as client:
                ...

Unlike Dask, a scheduler listens on 127.0.0.1 unless given ``host``, and
serves no dashboard unless given ``dashboard_address`` (or
``dashboard=True``, port 8787). :class:`Status` lists Dask's statuses; it
is a string enum, so ``worker.status == Status.running`` holds for shoal's
plain-string statuses.
"""

from __future__ import annotations

import enum
import os
from typing import Any

from shoal.distributed.server.scheduler import SchedulerServer
from shoal.distributed.server.worker import WorkerServer
from shoal.distributed.memory import parse_memory_limit

__all__ = ["Scheduler", "Status", "Worker"]

#: Dask keywords accepted and ignored: they select machinery shoal does not have (or not this way).
_IGNORED = {"loop", "services", "service_kwargs", "extensions", "http_prefix", "preload", "preload_argv",
            "plugins", "contact_address", "transition_counter_max", "jupyter", "silence_logs", "executor",
            "heartbeat_interval", "metrics", "startup_information", "low_level_profiler", "profile_cycle_interval",
            "lifetime", "lifetime_stagger", "lifetime_restart", "interface", "local_directory", "nanny",
            "memory_target_fraction", "memory_spill_fraction", "memory_pause_fraction", "data",
            "scheduler_file", "worker_ttl", "idle_timeout", "allowed_failures"}


class Status(enum.StrEnum):
    """The statuses of clusters, schedulers, workers and nannies (Dask's ``distributed.Status``)."""

    undefined = "undefined"
    created = "created"
    init = "init"
    starting = "starting"
    running = "running"
    paused = "paused"
    stopping = "stopping"
    stopped = "stopped"
    closing = "closing"
    closing_gracefully = "closing_gracefully"
    closed = "closed"
    failed = "failed"
    dont_reply = "dont_reply"


def _check(kind: str, kwargs: dict[str, Any]) -> None:
    unknown = sorted(set(kwargs) - _IGNORED)
    if unknown:
        raise TypeError(f"{kind}() got unexpected keyword arguments {unknown}. shoal's {kind} takes host, port, "
                        f"protocol, security, validate"
                        + (", nthreads, name, memory_limit, resources, death_timeout, reconnect"
                           if kind == "Worker" else ", dashboard_address, dashboard") + ".")


class Scheduler(SchedulerServer):
    """A scheduler built from Dask's keywords; ``async with Scheduler() as s`` starts it (``s.address``).

    Parameters
    ----------
    host : str, optional
        Interface to listen on (127.0.0.1 by default).
    port : int
        TCP port; 0 picks a free one.
    protocol : str, optional
        ``"tcp"`` (default), ``"tls"`` (with ``security``) or ``"inproc"`` (this process only).
    dashboard_address : str, optional
        Where to serve the dashboard (``":8787"``, ``"127.0.0.1:0"``); none by default.
    dashboard : bool, optional
        Serve the dashboard (on 8787 unless ``dashboard_address`` says otherwise).
    security : Security, optional
    validate : bool, optional
        Check the state machine's invariants after every event (slow; for tests).
    **kwargs
        Other keywords of ``distributed.Scheduler`` that select machinery shoal does without are accepted
        and ignored; any other keyword is a TypeError.
    """

    def __init__(self, *, host: str | None = None, port: int = 0, protocol: str | None = None,
                 dashboard_address: str | None = None, dashboard: bool | None = None, security: Any = None,
                 validate: bool | None = None, **kwargs: Any) -> None:
        _check("Scheduler", kwargs)
        scheme = (protocol or ("tls" if security is not None and security.tls_ca_file else "tcp")).rstrip(":/")
        address = "inproc://" if scheme == "inproc" else f"{scheme}://{host or '127.0.0.1'}:{port}"
        if dashboard_address is not None and dashboard_address.startswith(":"):
            dashboard_address = f"{host or '127.0.0.1'}{dashboard_address}"
        if dashboard and dashboard_address is None:
            dashboard_address = f"{host or '127.0.0.1'}:8787"
        if dashboard is False:
            dashboard_address = None
        super().__init__(address, validate=bool(validate), dashboard_address=dashboard_address,
                         security=security if scheme == "tls" else None)


class Worker(WorkerServer):
    """A worker built from Dask's keywords; ``async with Worker(scheduler_address) as w`` starts it.

    Parameters
    ----------
    scheduler_ip : str
        The scheduler's address (``"tcp://127.0.0.1:8786"``), or its host with ``scheduler_port``.
    scheduler_port : int, optional
    nthreads : int, optional
        Threads that run tasks (the number of cores by default).
    name : str, optional
    memory_limit : str, int or float
        ``"auto"`` (this machine's memory times ``nthreads`` / cores), bytes, ``"4GiB"``, a float up to 1 (a
        fraction of the machine's memory), or 0 for no limit.
    resources : dict, optional
    death_timeout : float, optional
        Give up after this many seconds without reaching the scheduler.
    reconnect : bool, optional
        Reconnect when the scheduler goes away (True by default).
    host, port, protocol : optional
        Where to listen (127.0.0.1 and a free port by default; in-process for an ``inproc://`` scheduler).
    security : Security, optional
    validate : bool, optional
    **kwargs
        Other keywords of ``distributed.Worker`` that select machinery shoal does without are accepted and
        ignored; any other keyword is a TypeError.
    """

    def __init__(self, scheduler_ip: str | None = None, scheduler_port: int | None = None, *,
                 nthreads: int | None = None, name: Any = None, memory_limit: str | int | float = "auto",
                 resources: dict[str, float] | None = None, death_timeout: float | None = None,
                 reconnect: bool | None = None, host: str | None = None, port: int | None = None,
                 protocol: str | None = None, security: Any = None, validate: bool | None = None,
                 **kwargs: Any) -> None:
        _check("Worker", kwargs)
        if scheduler_ip is None:
            raise TypeError("Worker() needs the scheduler's address: Worker('tcp://127.0.0.1:8786').")
        address = scheduler_ip if scheduler_port is None else f"{scheduler_ip}:{scheduler_port}"
        if "://" not in address:
            address = f"tcp://{address}"
        scheme = (protocol or address.split("://")[0]).rstrip(":/")
        listen = "inproc://" if scheme == "inproc" else f"{scheme}://{host or '127.0.0.1'}:{port or 0}"
        if nthreads is None:
            nthreads = os.cpu_count() or 1
        limit = parse_memory_limit(memory_limit, nthreads)
        super().__init__(address, nthreads=nthreads, listen_address=listen,
                         name=None if name is None else str(name), memory_limit=limit, resources=resources,
                         death_timeout=60.0 if death_timeout is None else death_timeout,
                         reconnect=True if reconnect is None else reconnect, validate=bool(validate),
                         security=security)

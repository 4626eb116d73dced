"""The nanny: supervises one worker process and restarts it when it dies.

A :class:`Nanny` starts ``python -m shoal.cli worker ADDRESS --no-nanny ...``
and watches it every ``distributed.worker.memory.monitor-interval``:

- the worker exits with status 0 (it was told to close, or lost its
  scheduler without ``--reconnect``): the nanny is done too;
- it exits with :data:`EXIT_START_FAILED` (it never registered: a wrong
  address, a refused certificate): the nanny is done and keeps that code,
  since starting it again would fail the same way;
- it dies any other way (a crash, ``SIGKILL``, ``os._exit`` in a task): a
  new worker process takes its place. The scheduler sees the old worker
  leave, reschedules its tasks and counts the death against them
  (``distributed.scheduler.allowed-failures``);
- it exits with :data:`EXIT_RESTART`: the scheduler asked for a fresh
  process (``client.restart``); a new one starts at once, without a warning;
- its resident memory passes the ``terminate`` fraction of
  ``memory_limit``: the nanny kills it (``SIGKILL``: a process that is
  allocating past its limit cannot be trusted to shut down) and starts a new one.

``client.restart`` reaches the nanny through its worker: the scheduler runs
:func:`request_restart` in every worker process; one that a nanny started
(:func:`under_nanny`) closes cleanly and exits with :data:`EXIT_RESTART`,
so its nanny starts a new process: module globals are reset and memory goes
back to the system. No extra port or connection is needed for it.

Nanny plugins (:class:`~shoal.distributed.NannyPlugin`) run in the nanny.
A nanny that can reach its scheduler listens on a port of its own and
registers there (``register_nanny``): it is handed the nanny plugins
registered so far and sets them up before it starts a worker process, and
the scheduler forwards later ``register_plugin`` calls to it
(``plugin_add``). A plugin with ``restart = True`` makes the nanny restart
its worker process (SIGTERM: it closes cleanly; the nanny starts a new one
and waits until the new worker reports in). The worker process learns the
nanny's address from ``SHOAL_NANNY_ADDRESS`` and reports its own address
once registered (:func:`accept_restarts`). A nanny that cannot reach the
scheduler (not up yet, or TLS without certificates) keeps trying for a
minute in the background and otherwise works as before, without plugins.

:meth:`Nanny.close` stops supervising and ends the worker with ``SIGTERM``
(it closes cleanly and tells the scheduler), then ``SIGKILL`` after a grace
period. ``shoal worker`` runs a nanny by default (``--no-nanny`` runs the
worker in its own process) and forwards SIGINT/SIGTERM to it;
:class:`~shoal.distributed.LocalCluster` keeps one nanny per worker process
on its event loop, so supervision costs no extra process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from shoal.distributed.memory import MemoryLimits, monitor_interval, process_memory
from shoal.distributed.nanny_service import NANNY_ADDRESS_ENV, NannyServiceMixin, _option, report_to_nanny

__all__ = ["EXIT_RESTART", "EXIT_START_FAILED", "Nanny", "accept_restarts", "nanny_of", "request_restart",
           "under_nanny"]

logger = logging.getLogger("shoal.distributed.nanny")

#: Exit status of a worker process that could not start or register: the nanny does not restart it.
EXIT_START_FAILED = 3
#: Exit status of a worker process that closed because the scheduler asked for a restart: replaced at once.
EXIT_RESTART = 4
#: Set in a worker process's environment to its nanny's pid: a worker started some other way has no nanny,
#: even if it inherited the variable.
_NANNY_ENV = "SHOAL_NANNY_PID"
#: Set in a worker process's environment to a file where worker plugins (``Environ``) leave variables for the
#: nanny to set in every worker process it starts from then on (see :mod:`..install_plugins`).
NANNY_ENV_FILE = "SHOAL_NANNY_ENV_FILE"
#: A worker that dies sooner than this after starting is restarted after a pause, not at once.
_FAST_DEATH = 1.0


class Nanny(NannyServiceMixin):
    """Start a worker process and keep one running; see the module docstring.

    Parameters
    ----------
    scheduler_address : str
        The scheduler the worker registers with.
    worker_args : sequence of str
        Further ``shoal worker`` options (``--nthreads 2``, ``--name a``, TLS files, ...).
    memory_limit : int
        Bytes; with the ``terminate`` fraction it sets when the worker is killed (0: never).
    env : dict, optional
        Environment of the worker process.
    stdout : optional
        Where the worker's output goes (as for :class:`subprocess.Popen`; inherited by default).
    security : Security, optional
        Certificates for a ``tls://`` scheduler: the nanny's own port and its calls to the scheduler use the
        worker's.
    """

    def __init__(self, scheduler_address: str, worker_args: Sequence[str] = (), *, memory_limit: int = 0,
                 env: dict[str, str] | None = None, stdout: Any = None, security: Any = None) -> None:
        self.scheduler_address = scheduler_address
        self.worker_args = list(worker_args)
        self.memory_limit = memory_limit
        #: Environment of the worker processes started from now on: on top of this process's environment when
        #: none was given (nanny plugins add to it), or all of it.
        self.env: dict[str, str] = dict(env) if env is not None else {}
        self._inherit_env = env is None
        self.stdout = stdout
        self.security = security
        #: ``--name`` of the worker, if given.
        self.name: str | None = _option(self.worker_args, "--name")
        #: Where the scheduler reaches this nanny ("" until started, or when it has no port of its own).
        self.address = ""
        #: The address of the current worker process, once it reported in.
        self.worker_address: str | None = None
        #: Nanny plugins set up here, by name.
        self.plugins: dict[str, Any] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._listener: Any = None
        self._pool: Any = None
        self._registered = False
        self._restarting = False
        self._worker_up: asyncio.Event | None = None
        self._service_tasks: set[asyncio.Task[Any]] = set()
        self._local_directory: str | None = None
        #: The current worker process.
        self.process: subprocess.Popen[bytes] | None = None
        #: Worker processes started after the first (deaths, memory kills and requested restarts).
        self.restarts = 0
        #: Of those, how many the nanny killed for passing the terminate fraction.
        self.memory_kills = 0
        #: "created", "running" (supervising), "closing" or "closed".
        self.status = "created"
        #: The exit status the nanny ends with, once closed.
        self.returncode: int | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._started_at = 0.0
        self._limits = MemoryLimits.from_config(memory_limit)
        self._closed: asyncio.Event | None = None
        #: JSON ``{name: value}`` written by worker plugins; read at every start of a worker process.
        self.env_file = os.path.join(tempfile.gettempdir(), f"shoal-nanny-env-{os.getpid()}-{id(self):x}.json")

    @property
    def pid(self) -> int | None:
        """The current worker process's id."""
        return self.process.pid if self.process is not None else None

    def poll(self) -> int | None:
        """None while supervising; the exit status once the nanny is done (as ``Popen.poll``)."""
        return self.returncode if self.status == "closed" else None

    def _command(self) -> list[str]:
        # --parent-pid last: the worker exits when this process goes away, whatever the caller passed.
        return [sys.executable, "-m", "shoal.cli", "worker", self.scheduler_address, *self.worker_args,
                "--no-nanny", "--parent-pid", str(os.getpid())]

    def _spawn(self) -> None:
        env = {**(os.environ if self._inherit_env else {}), **self.env, **_read_env_file(self.env_file),
               _NANNY_ENV: str(os.getpid()), NANNY_ENV_FILE: self.env_file}
        if self.address:
            env[NANNY_ADDRESS_ENV] = self.address
        self.worker_address = None
        if self._worker_up is not None:
            self._worker_up.clear()
        self.process = subprocess.Popen(self._command(), stdin=subprocess.DEVNULL, stdout=self.stdout, env=env)
        self._started_at = time.monotonic()

    async def start(self) -> Nanny:
        """Register with the scheduler (setting up its nanny plugins), start the worker process, supervise it."""
        if self.status != "created":
            return self
        self.loop = asyncio.get_running_loop()
        self._closed = asyncio.Event()
        self._worker_up = asyncio.Event()
        await self._start_service()
        self._spawn()
        self.status = "running"
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        if self._listener is not None and not self._registered:
            self._background(self._keep_registering())
        return self

    async def _watch(self) -> None:
        interval = monitor_interval()
        while self.status == "running":
            await asyncio.sleep(interval)
            if self.status != "running":
                return
            proc = self.process
            assert proc is not None
            code = proc.poll()
            if code is None:
                self._check_memory(proc)
                continue
            if self._restarting:  # asked for by restart(): whatever the exit status, a new process
                self._restarting = False
                self.restarts += 1
                self._spawn()
                continue
            if code in (0, EXIT_START_FAILED):
                if code:
                    logger.error("nanny: the worker for %s could not start (exit status %d); not restarting",
                                 self.scheduler_address, code)
                self._finish(code)
                return
            if code == EXIT_RESTART:
                logger.info("nanny: worker process %d closed for a restart; starting a new one", proc.pid)
                self.restarts += 1
                self._spawn()
                continue
            lived = time.monotonic() - self._started_at
            logger.warning("nanny: worker process %d died (exit status %s) after %.1fs; restarting", proc.pid,
                           code, lived)
            if lived < _FAST_DEATH:
                await asyncio.sleep(0.5)
                if self.status != "running":
                    return
            self.restarts += 1
            self._spawn()

    def _check_memory(self, proc: subprocess.Popen[bytes]) -> None:
        limit = self._limits.terminate
        if limit is None:
            return
        rss = process_memory(proc.pid)
        if rss > limit:
            logger.warning("nanny: worker process %d uses %d bytes, more than %.0f%% of its memory limit %d; "
                           "killing and restarting it", proc.pid, rss, 100 * limit / self.memory_limit,
                           self.memory_limit)
            self.memory_kills += 1
            _signal(proc, signal.SIGKILL)

    def _finish(self, code: int) -> None:
        with contextlib.suppress(OSError):
            os.remove(self.env_file)
        self.status = "closed"
        self.returncode = code
        if self._closed is not None:
            self._closed.set()

    async def finished(self) -> int:
        """Wait until the nanny is done; return its exit status."""
        assert self._closed is not None, "start the nanny first"
        await self._closed.wait()
        return self.returncode if self.returncode is not None else 0

    async def kill(self) -> None:
        """Kill the worker process at once (it is restarted, as after a crash)."""
        if self.process is not None:
            _signal(self.process, signal.SIGKILL)

    async def close(self, timeout: float = 5.0) -> int:
        """Stop supervising; end the worker (SIGTERM, SIGKILL after ``timeout``); return its exit status."""
        await self._stop_service()
        if self.status == "closed":
            return self.returncode or 0
        if self.status == "closing":
            return await self.finished()
        self.status = "closing"
        if self._watcher is not None and self._watcher is not asyncio.current_task():
            self._watcher.cancel()
        proc = self.process
        code = 0
        if proc is not None:
            if proc.poll() is None:
                _signal(proc, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
                await asyncio.get_running_loop().run_in_executor(None, proc.wait)
            code = proc.returncode
        self._finish(code)
        return code

    async def __aenter__(self) -> Nanny:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<Nanny {self.scheduler_address} pid={self.pid} status={self.status} restarts={self.restarts}>"


# ---------------------------------------------------------------------- the worker process's side of a restart

#: The worker served by this process when a nanny started it, and the event its restart request sets.
_supervised: tuple[Any, asyncio.Event] | None = None


def under_nanny() -> bool:
    """Whether this process is a worker process that a :class:`Nanny` started (and still supervises)."""
    return os.environ.get(_NANNY_ENV) == str(os.getppid())


def accept_restarts(worker: Any) -> asyncio.Event:
    """Let the scheduler restart ``worker`` (this process's worker, under a nanny); return the request event.

    The caller closes the worker once the event is set and exits with :data:`EXIT_RESTART`. A nanny with a
    port of its own (``SHOAL_NANNY_ADDRESS``) is told the worker's address now, in the background.
    """
    global _supervised
    event = asyncio.Event()
    _supervised = (worker, event)
    address = os.environ.get(NANNY_ADDRESS_ENV)
    if address:
        task = asyncio.get_running_loop().create_task(report_to_nanny(address, worker))
        _reports.add(task)
        task.add_done_callback(_reports.discard)
    return event


_reports: set[asyncio.Task[Any]] = set()


def request_restart(dask_worker: Any) -> list[Any] | None:
    """Run by the scheduler in a worker process (``client.restart``): ask its nanny for a new process.

    Returns the nanny's ``[host, pid]``, or None when no nanny supervises this worker (the scheduler then
    clears its state instead). The worker closes right after this reply has been sent.
    """
    hook = _supervised
    if hook is None or hook[0] is not dask_worker:
        return None
    hook[1].set()
    return [socket.gethostname(), os.getppid()]


def nanny_of(dask_worker: Any) -> list[Any] | None:
    """Run by the scheduler in a worker process: its nanny's ``[host, pid]``, or None without one."""
    hook = _supervised
    if hook is None or hook[0] is not dask_worker:
        return None
    return [socket.gethostname(), os.getppid()]


def _read_env_file(path: str) -> dict[str, str]:
    try:
        with open(path) as f:
            return {str(k): str(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass

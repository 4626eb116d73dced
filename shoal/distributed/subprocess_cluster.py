"""SubprocessCluster: a scheduler and workers each in a process of their own, on this machine.

Unlike :class:`~shoal.distributed.LocalCluster`, whose scheduler runs in
this process, the scheduler here is a ``shoal scheduler`` process, and each
worker a ``shoal worker`` process (a nanny that runs the worker in a child
of its own, restarting it if it dies). This process only starts and stops
them and talks to the scheduler over TCP, as any client would: a crash here
cannot take the scheduler down with it. The worker processes watch this one
(``--parent-pid``) and exit when it goes away; the scheduler process is
ended by :meth:`SubprocessCluster.close` (or when this object is dropped). Mirrors Dask's experimental
``SubprocessCluster`` (Linux and macOS only there as here).

Scaling down retires the newest workers through the scheduler (their
results move to the others first) before their processes are ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

from shoal.distributed._exceptions import WorkerStartError
from shoal.distributed._loop import run_sync
from shoal.distributed.comm.pool import ConnectionPool

__all__ = ["SubprocessCluster"]


class SubprocessCluster:
    """A scheduler process and ``n_workers`` worker processes on this machine; see the module docstring.

    Parameters
    ----------
    host : str, optional
        Interface the scheduler and workers listen on (127.0.0.1 by default).
    scheduler_port : int
        The scheduler's TCP port; 0 picks a free one.
    scheduler_kwargs : dict, optional
        Accepted for Dask compatibility; must be empty.
    dashboard_address : str or None
        Where the scheduler serves its dashboard (``":8787"`` by default, as in Dask); None for none.
    n_workers : int, optional
        Worker processes (by default as many as cores, one thread each, as LocalCluster chooses).
    threads_per_worker : int, optional
    worker_kwargs : dict, optional
        ``memory_limit`` (bytes or ``"4GiB"``), ``resources`` and ``death_timeout`` of each worker.
    timeout : float
        Seconds to wait for the scheduler and the workers to come up.
    """

    def __init__(self, host: str | None = None, scheduler_port: int = 0, scheduler_kwargs: dict[str, Any] | None = None,
                 dashboard_address: str | None = ":8787", worker_class: str | None = None,
                 n_workers: int | None = None, threads_per_worker: int | None = None,
                 worker_kwargs: dict[str, Any] | None = None, silence_logs: Any = None, asynchronous: bool = False,
                 name: str | None = None, timeout: float = 60.0) -> None:
        if sys.platform == "win32":
            raise RuntimeError("SubprocessCluster does not support Windows (as in Dask); use LocalCluster.")
        if scheduler_kwargs:
            raise TypeError(f"SubprocessCluster: scheduler_kwargs {sorted(scheduler_kwargs)} are not supported; the "
                            f"scheduler takes host, scheduler_port and dashboard_address.")
        if worker_class not in (None, "distributed.Nanny", "shoal.distributed.Nanny"):
            raise TypeError(f"SubprocessCluster runs each worker under a nanny; worker_class={worker_class!r} is "
                            f"not supported.")
        unknown = sorted(set(worker_kwargs or {}) - {"memory_limit", "resources", "death_timeout"})
        if unknown:
            raise TypeError(f"SubprocessCluster: worker_kwargs {unknown} are not supported; use memory_limit, "
                            f"resources or death_timeout.")
        cores = os.cpu_count() or 1
        if n_workers is None:
            n_workers = cores if threads_per_worker is None else max(1, cores // threads_per_worker)
        if threads_per_worker is None:
            threads_per_worker = max(1, math.ceil(cores / max(n_workers, 1)))
        if n_workers < 0 or threads_per_worker < 1:
            raise ValueError(f"SubprocessCluster needs n_workers >= 0 and threads_per_worker >= 1, got "
                             f"n_workers={n_workers}, threads_per_worker={threads_per_worker}.")
        self.host = host or "127.0.0.1"
        self.scheduler_port = scheduler_port
        self.dashboard_address = dashboard_address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.worker_kwargs = dict(worker_kwargs or {})
        self.asynchronous = asynchronous
        self.name = name if name is not None else uuid.uuid4().hex[:8]
        self.timeout = timeout
        #: The ``shoal scheduler`` process.
        self.scheduler_process: subprocess.Popen[bytes] | None = None
        #: ``shoal worker`` processes by worker name.
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.scheduler_address = ""
        self.status = "created"
        self._next = 0
        self._pool: ConnectionPool | None = None
        self._directory = tempfile.mkdtemp(prefix="shoal-subprocess-cluster-")
        if not asynchronous:
            run_sync(self._start(), timeout + 30)

    def __await__(self) -> Any:
        return self._start().__await__()

    async def _start(self) -> SubprocessCluster:
        if self.status == "running":
            return self
        file = os.path.join(self._directory, "scheduler.json")
        dashboard = "none" if self.dashboard_address is None else self.dashboard_address
        self.scheduler_process = subprocess.Popen(
            [sys.executable, "-m", "shoal.cli", "scheduler", "--host", self.host, "--port", str(self.scheduler_port),
             "--dashboard-address", dashboard, "--scheduler-file", file, "--log-level", "error"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=_environment())
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(file):
            code = self.scheduler_process.poll()
            if code is not None or time.monotonic() > deadline:
                self.status = "running"  # so that close() ends whatever started
                await self._close()
                what = f"exited with status {code}" if code is not None else f"did not start within {self.timeout}s"
                raise WorkerStartError(f"SubprocessCluster: the scheduler process {what}; run `python -m shoal.cli "
                                       f"scheduler` by hand to see why.")
            await asyncio.sleep(0.05)
        with open(file) as f:
            self.scheduler_address = json.load(f)["address"]
        self._pool = ConnectionPool(timeout=self.timeout)
        self.status = "running"
        try:
            await self._scale(self.n_workers)
        except BaseException:
            await self._close()
            raise
        return self

    # ------------------------------------------------------------------ workers

    def _worker_command(self, name: str) -> list[str]:
        options = self.worker_kwargs
        command = [sys.executable, "-m", "shoal.cli", "worker", self.scheduler_address, "--name", name,
                   "--nthreads", str(self.threads_per_worker), "--host", self.host,
                   "--memory-limit", str(options.get("memory_limit", "auto")),
                   "--death-timeout", str(options.get("death_timeout", 60)), "--no-reconnect",
                   "--parent-pid", str(os.getpid()), "--log-level", "error"]
        for resource, amount in (options.get("resources") or {}).items():
            command += ["--resources", f"{resource}={amount}"]
        return command

    async def _call(self, op: str, **kwargs: Any) -> Any:
        assert self._pool is not None
        reply = await self._pool.call(self.scheduler_address, {"op": op, **kwargs})
        return reply["result"]

    async def _registered(self) -> dict[str, str]:
        """``{worker name: address}`` of the workers registered with the scheduler."""
        info = await self._call("scheduler_info")
        return {str(w["name"]): address for address, w in info["workers"].items()}

    async def _scale(self, n: int) -> None:
        live = [name for name, proc in self.workers.items() if proc.poll() is None]
        for _ in range(n - len(live)):
            name = str(self._next)
            self._next += 1
            self.workers[name] = subprocess.Popen(self._worker_command(name), stdin=subprocess.DEVNULL,
                                                  stdout=subprocess.DEVNULL, env=_environment())
        if n < len(live):
            doomed = live[n:]
            registered = await self._registered()
            addresses = [registered[name] for name in doomed if name in registered]
            if addresses:
                await self._call("retire", workers=addresses, close_workers=True)
            for name in doomed:
                await _end(self.workers.pop(name), 10.0)
        await self._wait_for_workers(n)

    async def _wait_for_workers(self, n: int, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            registered = await self._registered()
            if len(registered) >= n:
                return
            dead = {name: p.returncode for name, p in self.workers.items() if p.poll() is not None}
            if dead:
                raise WorkerStartError(f"SubprocessCluster: worker processes {dead} exited before registering "
                                       f"with {self.scheduler_address}.")
            if time.monotonic() > deadline:
                raise WorkerStartError(f"SubprocessCluster: only {len(registered)} of {n} workers registered with "
                                       f"{self.scheduler_address} in time; raise timeout= or start fewer.")
            await asyncio.sleep(0.05)

    def scale(self, n: int) -> Any:
        """Run ``n`` worker processes: start new ones, or retire the newest."""
        coro = self._scale(n)
        return coro if self.asynchronous else run_sync(coro, self.timeout + 60)

    def wait_for_workers(self, n_workers: int, timeout: float | None = None) -> Any:
        """Wait until at least ``n_workers`` workers are registered (WorkerStartError after ``timeout``)."""
        coro = self._wait_for_workers(n_workers, timeout)
        return coro if self.asynchronous else run_sync(coro, (timeout or self.timeout) + 30)

    @property
    def scheduler_info(self) -> dict[str, Any]:
        """What the scheduler says about itself and its workers, as ``Client.scheduler_info()``."""
        if self.status != "running":
            return {}
        if self.asynchronous:
            raise NotImplementedError("scheduler_info needs a synchronous SubprocessCluster; use a Client.")
        return run_sync(self._call("scheduler_info"), 30)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ closing

    async def _close(self) -> None:
        if self.status == "closed":
            return
        self.status = "closed"
        await asyncio.gather(*(_end(p, 10.0) for p in self.workers.values()))
        self.workers.clear()
        if self.scheduler_process is not None:
            await _end(self.scheduler_process, 10.0)
        if self._pool is not None:
            await self._pool.close()
        with contextlib.suppress(OSError):
            for entry in os.listdir(self._directory):
                os.remove(os.path.join(self._directory, entry))
            os.rmdir(self._directory)

    def close(self, timeout: float | None = None) -> Any:
        """End the worker processes, then the scheduler's."""
        if self.asynchronous:
            return self._close()
        if self.status != "closed":
            run_sync(self._close(), timeout or 60)
        return None

    def __enter__(self) -> SubprocessCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> SubprocessCluster:
        return await self._start()

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    def __del__(self) -> None:
        if getattr(self, "status", "closed") == "running" and not getattr(self, "asynchronous", True):
            with contextlib.suppress(Exception):
                self.close(timeout=20)

    def __repr__(self) -> str:
        live = sum(p.poll() is None for p in self.workers.values())
        return (f"SubprocessCluster({self.name!r}, {self.scheduler_address!r}, workers={live}, "
                f"threads={live * self.threads_per_worker})")


def _environment() -> dict[str, str]:
    # The processes import what this one can (as LocalCluster's workers do), so functions from modules on
    # our sys.path unpickle by reference there too.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


async def _end(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (the process closes cleanly), SIGKILL after ``grace`` seconds; wait for it either way."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)

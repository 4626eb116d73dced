"""The nanny's own port: nanny plugins, reports from its worker process, restarts on request.

Mixed into :class:`~shoal.distributed.nanny.Nanny` (see its module docstring for the model). A nanny that
can reach its scheduler listens on a port of its own and registers there (``register_nanny``, answered
with the nanny plugins registered so far, which it sets up before starting a worker process); the
scheduler forwards later plugins to it (``plugin_add``). The worker process learns the nanny's address
from :data:`NANNY_ADDRESS_ENV` and reports its own address once registered (:func:`report_to_nanny`), which
is how :meth:`NannyServiceMixin.restart` knows the new process is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
import typing
from typing import Any

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.core import Comm, Listener, connect, listen, parse_address
from shoal.distributed.comm.pool import ConnectionPool
from shoal.distributed.comm.serialization import unpickle_value
from shoal.distributed.plugin_host import PluginHostMixin, call_hook, plugin_failed, plugin_ok

__all__ = ["NANNY_ADDRESS_ENV", "NannyServiceMixin", "report_to_nanny"]

logger = logging.getLogger("shoal.distributed.nanny")

#: Set in a worker process's environment to its nanny's address: the worker reports its own address there.
NANNY_ADDRESS_ENV = "SHOAL_NANNY_ADDRESS"
#: Seconds a nanny keeps trying to register with a scheduler it could not reach at start.
_REGISTER_FOR = 60.0


class NannyServiceMixin(PluginHostMixin):
    """The port, plugins and restarts of a :class:`~shoal.distributed.nanny.Nanny`."""

    scheduler_address: str
    worker_args: list[str]
    security: Any
    name: str | None
    address: str
    worker_address: str | None
    plugins: dict[str, Any]
    process: Any
    status: str
    _listener: Listener | None
    _pool: ConnectionPool | None
    _registered: bool
    _restarting: bool
    _worker_up: asyncio.Event | None
    _service_tasks: set[asyncio.Task[Any]]
    _local_directory: str | None

    if typing.TYPE_CHECKING:
        @property
        def pid(self) -> int | None: ...

    @property
    def local_directory(self) -> str:
        """A scratch directory of this nanny (for plugins); removed when it closes."""
        if self._local_directory is None:
            self._local_directory = tempfile.mkdtemp(prefix="shoal-nanny-")
        return self._local_directory

    @property
    def pool(self) -> ConnectionPool:
        """Connections to the scheduler (for plugins that ask it things, as worker plugins do)."""
        if self._pool is None:
            raise RuntimeError(f"nanny {self.address or self.scheduler_address}: no connection to the scheduler "
                               f"(not started, or the scheduler is in-process).")
        return self._pool

    def _connection_args(self) -> dict[str, Any]:
        return self.security.get_connection_args("worker") if self.security is not None else {}

    async def _start_service(self) -> None:
        """Listen on a port of our own and register with the scheduler; neither is fatal."""
        scheme, _ = parse_address(self.scheduler_address)
        if scheme not in ("tcp", "tls"):
            return  # in-process schedulers have no worker processes, hence no nannies
        host = _option(self.worker_args, "--host") or "127.0.0.1"
        listen_args = self.security.get_listen_args("worker") if self.security is not None else {}
        try:
            self._listener = await listen(f"{scheme}://{host}:0", self._on_comm, **listen_args)
        except (OSError, ValueError) as exc:
            logger.warning("nanny: could not listen on %s (%s); nanny plugins will not reach it", host, exc)
            return
        self.address = self._listener.address
        self._pool = ConnectionPool(timeout=5.0, connection_args=self._connection_args())
        # A first, short try: a scheduler that is not up yet must not hold back the worker process.
        await self._register(quiet=True, timeout=2.0)

    async def _register(self, quiet: bool = False, timeout: float = 10.0) -> bool:
        assert self._pool is not None
        msg = {"op": "register_nanny", "address": self.address, "name": self.name, "pid": os.getpid()}
        try:
            reply = await asyncio.wait_for(self._pool.call(self.scheduler_address, msg), timeout)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, or a scheduler without nanny support
            (logger.debug if quiet else logger.info)("nanny %s could not register with %s: %s", self.address,
                                                     self.scheduler_address, exc)
            return False
        self._registered = True
        for name, blob in (reply.get("result") or {}).items():
            try:
                await self._setup_plugin(unpickle_value(blob), name)
            except Exception:  # noqa: BLE001 - a broken plugin must not keep the worker from starting
                logger.exception("nanny %s: nanny plugin %r failed to set up", self.address, name)
        return True

    async def _keep_registering(self) -> None:
        deadline = time.monotonic() + _REGISTER_FOR
        while self.status == "running" and not self._registered:
            if time.monotonic() > deadline:
                logger.warning("nanny %s could not register with the scheduler %s within %.0fs; nanny plugins "
                               "will not reach it", self.address, self.scheduler_address, _REGISTER_FOR)
                return
            await asyncio.sleep(1.0)
            await self._register()

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._service_tasks.add(task)
        task.add_done_callback(self._service_tasks.discard)

    async def _on_comm(self, comm: Comm) -> None:
        handlers = {"plugin_add": self.rpc_plugin_add, "plugin_remove": self.rpc_plugin_remove,
                    "worker_started": self.rpc_worker_started, "identity": self.rpc_identity,
                    "restart": self.rpc_restart}
        try:
            while True:
                msg = await comm.read()
                op = msg.get("op") if isinstance(msg, dict) else None
                handler = handlers.get(op)  # type: ignore[arg-type]
                if handler is None:
                    await comm.write({"status": "error", "text": f"unknown operation {op!r} for a nanny"})
                    continue
                try:
                    reply = await handler(**{k: v for k, v in msg.items() if k != "op"})
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    reply = {"status": "error", "exception": exc, "text": f"{type(exc).__name__}: {exc}"}
                await comm.write(reply)
        except CommClosedError:
            pass
        except Exception:  # noqa: BLE001 - a broken peer must not take the nanny down
            logger.exception("nanny %s: error serving %s", self.address, comm.peer_address)
        finally:
            comm.abort()


    async def rpc_plugin_add(self, plugin: bytes, name: str) -> dict[str, Any]:
        """Set up a nanny plugin (replacing one of the same name); restart the worker if it asks for it."""
        try:
            obj = unpickle_value(plugin)
            await self._setup_plugin(obj, name)
            if getattr(obj, "restart", False):
                await self.restart()
        except Exception as exc:  # noqa: BLE001 - sent back as data
            exc.add_note(f"shoal: raised by nanny plugin {name!r} on the nanny {self.address}")
            return plugin_failed(exc)
        return plugin_ok()


    async def rpc_worker_started(self, address: str, pid: int) -> dict[str, Any]:
        """The worker process reports in once registered with the scheduler."""
        if self.process is not None and self.process.pid == pid:
            self.worker_address = address
            if self._worker_up is not None:
                self._worker_up.set()
        return {"status": "OK"}

    async def rpc_identity(self) -> dict[str, Any]:
        return {"status": "OK", "type": "Nanny", "address": self.address, "worker": self.worker_address,
                "name": self.name, "pid": os.getpid(), "worker_pid": self.pid}

    async def rpc_restart(self, timeout: float = 30.0) -> dict[str, Any]:
        return {"status": "OK", "ok": await self.restart(timeout)}

    async def restart(self, timeout: float = 30.0) -> bool:
        """Replace the worker process by a new one; return whether the new one reported in within ``timeout``.

        The old process gets SIGTERM (it closes cleanly and tells the scheduler), SIGKILL if it is still up
        after 10 seconds.
        """
        proc = self.process
        if self.status != "running" or proc is None or proc.poll() is not None or self._worker_up is None:
            return False
        self._restarting = True
        self._worker_up.clear()
        _send_signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10.0
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            _send_signal(proc, signal.SIGKILL)
        try:
            await asyncio.wait_for(self._worker_up.wait(), timeout)
        except TimeoutError:
            logger.warning("nanny %s: the restarted worker did not report in within %.0fs", self.address, timeout)
            return False
        return True

    async def _stop_service(self) -> None:
        """Tear down plugins, leave the scheduler and stop listening (idempotent)."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        for task in list(self._service_tasks):
            task.cancel()
        for name, plugin in list(self.plugins.items()):
            try:
                await call_hook(plugin, "teardown", self)
            except Exception:  # noqa: BLE001 - closing continues
                logger.exception("nanny %s: nanny plugin %r failed to tear down", self.address, name)
        self.plugins.clear()
        pool = self._pool
        if pool is not None:
            if self._registered:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pool.call(self.scheduler_address, {"op": "unregister_nanny",
                                                                              "address": self.address}), 2)
            await pool.close()
        listener.stop()
        if self._local_directory is not None:
            shutil.rmtree(self._local_directory, ignore_errors=True)
            self._local_directory = None


async def report_to_nanny(address: str, worker: Any) -> None:
    """Run in a worker process under a nanny: tell the nanny at ``address`` this worker's address."""
    try:
        comm = await connect(address, timeout=5.0, **getattr(worker, "_connection_args", {}))
        try:
            await comm.write({"op": "worker_started", "address": worker.address, "pid": os.getpid()})
            await asyncio.wait_for(comm.read(), 5.0)
        finally:
            comm.abort()
    except Exception as exc:  # noqa: BLE001 - the nanny only waits for this during a restart
        logger.info("worker %s could not report to its nanny at %s: %s", worker.address, address, exc)



def _option(args: list[str], flag: str) -> str | None:
    """The value given to ``flag`` in a list of command-line arguments (``--name a`` or ``--name=a``)."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _send_signal(proc: Any, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)

"""Worker requests for cluster administration: taking replicas, clearing state, worker plugins, diagnostics.

Mixed into :class:`~.worker.WorkerServer`; see :mod:`.admin` for the
scheduler's side of each request.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from shoal import config
from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.plugin_host import PluginHostMixin, call_hook, plugin_failed, plugin_ok
from shoal.distributed.nanny_service import NANNY_ADDRESS_ENV
from shoal.distributed.state.events import FreeKeysRequested

__all__ = ["WorkerAdminMixin"]

logger = logging.getLogger("shoal.distributed.worker")


class WorkerAdminMixin(PluginHostMixin):
    """Replica, restart and plugin handlers of a worker."""

    address: str
    status: str
    state: Any
    pool: Any
    stream: Any
    loop: Any
    scheduler_address: str
    _plugins: dict[str, Any]
    _local_directory: str | None

    if TYPE_CHECKING:  # defined by WorkerServer
        def rpc_update_data(self, data: dict[Any, Any]) -> dict[str, Any]: ...

        def handle(self, *events: Any) -> None: ...

    @property
    def local_directory(self) -> str:
        """A scratch directory of this worker (uploaded files go here); removed when it closes.

        It is made under config ``temporary-directory`` (``shoal worker --local-directory``), as spilled
        results are.
        """
        if getattr(self, "_local_directory", None) is None:
            self._local_directory = tempfile.mkdtemp(prefix="shoal-worker-",
                                                     dir=config.get("temporary-directory", None) or None)
        return self._local_directory  # type: ignore[return-value]

    def _identity(self) -> dict[str, Any]:
        """What the worker tells the scheduler about itself when registering (``scheduler_info()``, as Dask)."""
        return {"local_directory": self.local_directory, "nanny": os.environ.get(NANNY_ADDRESS_ENV) or None}

    @property
    def plugins(self) -> dict[str, Any]:
        """Installed worker plugins by name."""
        if not hasattr(self, "_plugins"):
            self._plugins = {}
        return self._plugins

    # ------------------------------------------------------------------ replicas and restarts

    async def rpc_gather_replicas(self, who_has: dict[Any, list[str]]) -> dict[str, Any]:
        """Fetch ``{key: holders}`` from peers and keep them as if computed here; return the keys that arrived."""
        by_peer: dict[str, list[Any]] = {}
        tasks = self.state.tasks
        for key, holders in who_has.items():
            ts = tasks.get(key)
            if ts is not None and ts.status not in ("released", "memory"):
                continue  # already on its way here for a task: the state machine owns that transfer
            if holders:
                by_peer.setdefault(holders[0], []).append(key)

        async def one(peer: str, keys: list[Any]) -> dict[Any, Any]:
            try:
                reply = await self.pool.call(peer, {"op": "get_data", "keys": keys})
                return dict(reply["data"])
            except (TimeoutError, OSError, CommClosedError) as exc:
                logger.info("worker %s could not copy %d keys from %s: %s", self.address, len(keys), peer, exc)
                return {}

        got: dict[Any, Any] = {}
        for part in await asyncio.gather(*(one(p, ks) for p, ks in by_peer.items())):
            got.update(part)
        if got:
            self.rpc_update_data(got)
        return {"status": "OK", "keys": list(got)}

    def rpc_clear_state(self) -> dict[str, Any]:
        """Forget every result and every task (``client.restart``); running tasks finish unreported."""
        if self.state is not None:
            self.handle(FreeKeysRequested(tuple(self.state.tasks), "restart"))
        return {"status": "OK"}

    # ------------------------------------------------------------------ diagnostics (the dashboard's info pages)

    def rpc_get_logs(self, n: int | None = None) -> dict[str, Any]:
        """The last ``n`` log records this worker kept, as ``[level, message]`` pairs, oldest first."""
        handler = getattr(self, "log_handler", None)
        logs = handler.logs(n) if handler is not None else []
        return {"status": "OK", "logs": [list(record) for record in logs]}

    def rpc_call_stack(self, limit: int = 40) -> dict[str, Any]:
        """Where each task executing on this worker is right now: ``[{"key", "thread", "frames"}]``.

        A task runs inside ``_run`` on a pool thread; that frame's locals name the key and the worker, so
        the stack is found without the executor keeping a key-to-thread table on the hot path. Frames
        above ``_run`` (the pool's own machinery) are left out; ``limit`` keeps the innermost frames.
        """
        run_code = getattr(type(self), "_run", None)
        code = getattr(run_code, "__code__", None)
        stacks = []
        for thread_id, top in sys._current_frames().items():
            frame = top
            while frame is not None and not (frame.f_code is code and frame.f_locals.get("self") is self):
                frame = frame.f_back
            if frame is None:
                continue
            # extract_stack lists outermost first: everything past ``_run``'s own depth is the task's code.
            below_run = traceback.extract_stack(top)[len(traceback.extract_stack(frame)):]
            frames = traceback.format_list(below_run)[-limit:]
            stacks.append({"key": frame.f_locals.get("key"), "thread": thread_id, "frames": frames})
        return {"status": "OK", "stacks": stacks}

    # ------------------------------------------------------------------ events and retiring

    def log_event(self, topic: str | Collection[str], msg: Any) -> None:
        """Record ``msg`` under ``topic`` (or each of several topics) in the scheduler's event log.

        Mirrors ``distributed.Worker.log_event``: call it from a task through
        :func:`~shoal.distributed.get_worker`. The scheduler stamps the event
        with its arrival time, so ``client.get_events(topic)`` and
        ``client.subscribe_topic`` see ``(time, msg)`` as for ``Client.log_event``.
        ``msg`` must be picklable; it travels pickled, so that a message the
        scheduler cannot load is dropped with a warning instead of breaking the
        worker's connection. Safe from any thread; the event rides the worker's
        batched stream, in order with the task results sent after it.

        Raises
        ------
        TypeError
            ``topic`` is neither a string nor a collection of strings.
        RuntimeError
            The worker is not connected to a scheduler (not started, retired or closed).

        Examples
        --------
        >>> from shoal.distributed import Client, get_worker
        >>> def task(x):
        ...     get_worker().log_event("progress", {"x": x})
        ...     return x
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     _ = client.submit(task, 1).result()
        ...     [msg for _, msg in client.get_events("progress")]
        [{'x': 1}]
        """
        if isinstance(topic, str):
            topics: str | list[str] = topic
        elif isinstance(topic, Collection) and all(isinstance(t, str) for t in topic):
            topics = list(topic)
        else:
            raise TypeError(f"log_event expects a topic string or a list of them, got {topic!r}.")
        if getattr(self, "status", None) != "running":
            raise RuntimeError(f"worker {self.address} cannot log event {topic!r}: it is {self.status}, not "
                               f"connected to a scheduler.")
        payload = {"op": "log_event", "topic": topics, "msg": pickle_value(msg)}
        loop = self.loop
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._send_event(payload)
        elif loop is not None:
            loop.call_soon_threadsafe(self._send_event, payload)

    def _send_event(self, payload: dict[str, Any]) -> None:
        # Looked up when sent, not when logged: a reconnect may have replaced the stream meanwhile.
        stream = self.stream
        if stream is not None and not stream.closed:
            stream.send(payload)

    async def retire(self) -> None:
        """Leave the scheduler for good but keep the process running (``retire_workers(close_workers=False)``).

        The scheduler already copied elsewhere what only this worker held. The
        worker stops heartbeats, starts no task and does not reconnect; it still
        answers peers asking for data they were told it holds. Closing it (a
        signal, ``cluster.close()``) is left to whoever runs the process, as in Dask.
        """
        if self.status != "running":
            return
        self.status = "retired"
        logger.info("worker %s retired by the scheduler %s; the process stays up until it is stopped", self.address,
                    self.scheduler_address)
        stream = self.stream
        if stream is not None and not stream.closed:
            stream.send({"op": "unregister"})
            try:
                await asyncio.wait_for(stream.close(), 5)
            except (TimeoutError, CommClosedError, OSError):
                stream.abort()

    # ------------------------------------------------------------------ plugins


    async def rpc_plugin_add(self, plugin: bytes, name: str) -> dict[str, Any]:
        try:
            await self._setup_plugin(unpickle_value(plugin), name)
        except Exception as exc:  # noqa: BLE001 - sent back as data
            exc.add_note(f"shoal: raised by the setup of worker plugin {name!r} on {self.address}")
            return plugin_failed(exc)
        return plugin_ok()


    async def _install_plugins(self, plugins: dict[str, bytes]) -> None:
        """Install the scheduler's plugins on joining; a failing plugin is logged, not fatal."""
        for name, blob in plugins.items():
            if name in self.plugins:
                continue
            try:
                await self._setup_plugin(unpickle_value(blob), name)
            except Exception:  # noqa: BLE001
                logger.exception("worker %s: worker plugin %r failed to set up", self.address, name)

    async def _teardown_plugins(self) -> None:
        for name, plugin in list(self.plugins.items()):
            try:
                await call_hook(plugin, "teardown", self)
            except Exception:  # noqa: BLE001 - closing continues
                logger.exception("worker %s: worker plugin %r failed to tear down", self.address, name)
        self.plugins.clear()
        if getattr(self, "_local_directory", None) is not None:
            shutil.rmtree(self._local_directory, ignore_errors=True)  # type: ignore[arg-type]
            self._local_directory = None


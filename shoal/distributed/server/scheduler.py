"""The scheduler's asyncio server: bytes in, events to the state machine, messages out.

Every comm that connects sends a first message naming what it is:

- ``{"op": "register_worker", ...}``: a worker's long-lived stream. Batches
  from it (``task_finished``, ``task_erred``, ``missing_data``,
  ``heartbeat``) become events; the stream closing means the worker left.
- ``{"op": "register_client", "client": id}``: a client's long-lived stream
  (``update_graph``, ``release_keys``, ``cancel_keys``, ``scattered``).
- anything else is a request; the reply is written back on the same comm,
  which may carry further requests (see :class:`~..comm.pool.ConnectionPool`).

The server decides nothing: it turns messages into events, calls
``state.handle`` and sends the resulting messages, batched per peer by
:class:`~.batched.BatchedStream`. A handler that raises is logged and answered
with an error; it never stops the server.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from shoal import config
from shoal.utils import parse_timedelta
from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.core import Comm, Listener, listen, parse_address
from shoal.distributed.comm.pool import ConnectionPool
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.dashboard import DashboardServer
from shoal.distributed.server.admin import SchedulerAdmin
from shoal.distributed.server.batched import BatchedStream, read_batches
from shoal.distributed.server.coordination import Coordination
from shoal.distributed.server.held_keys import HeldKeys
from shoal.distributed.server.multi_lock import MultiLocks
from shoal.distributed.server.nannies import SchedulerNannies
from shoal.distributed.server.scheduler_extras import SchedulerExtras
from shoal.distributed.server.scheduler_plugins import SchedulerPlugins
from shoal.distributed.server.scheduler_tools import SchedulerTools
from shoal.distributed.state.actions import SendToClient, SendToWorker
from shoal.distributed.state.events import (
    BalanceRequested,
    ClientJoined,
    ClientLeft,
    DataScattered,
    GraphSubmitted,
    KeysCancelled,
    KeysReleased,
    StealResponded,
    TaskErred,
    TaskFinished,
    TaskMissing,
    TaskRescheduled,
    WorkerJoined,
    WorkerLeft,
)
from shoal.distributed.state.pausing import WorkerStatusChanged
from shoal.distributed.state.scheduler import FIRE_AND_FORGET, SchedulerState

__all__ = ["SchedulerServer"]

logger = logging.getLogger("shoal.distributed.scheduler")

#: Retired workers remembered by :attr:`SchedulerServer.retired` (the oldest are forgotten first).
_RETIRED_KEPT = 10_000


class SchedulerServer:
    """Serves a :class:`SchedulerState` at an address.

    Parameters
    ----------
    address : str
        Where to listen: ``tcp://127.0.0.1:0`` (a free port), ``inproc://``.
    """

    def __init__(self, address: str = "tcp://127.0.0.1:0", *, validate: bool = False,
                 dashboard_address: str | int | None = None, security: Any = None) -> None:
        #: A :class:`~shoal.distributed.security.Security` for ``tls://`` addresses, or None.
        self.security = security
        self.state = SchedulerState(allowed_failures=int(config.get("distributed.scheduler.allowed-failures", 3)),
                                    work_stealing=bool(config.get("distributed.scheduler.work-stealing", True)),
                                    worker_saturation=float(config.get("distributed.scheduler.worker-saturation",
                                                                       1.1)))
        self.requested_address = address
        self.validate = validate
        self.address = ""
        self.listener: Listener | None = None
        self.worker_streams: dict[str, BatchedStream] = {}
        self.client_streams: dict[str, BatchedStream] = {}
        self.pool = ConnectionPool(connection_args=security.get_connection_args("scheduler") if security else None)
        self.status = "created"
        self._ids = itertools.count()
        self._comms: set[Comm] = set()
        self._closing_workers: set[str] = set()
        #: Name -> address of workers retired (``retire_workers``, ``cluster.scale``), newest last. A worker
        #: retired with ``close_workers=False`` keeps its process; whoever started it (a LocalCluster) reads
        #: this to stop counting it. A worker that registers again under the name leaves the record.
        self.retired: OrderedDict[str, str] = OrderedDict()
        #: Address -> what a worker said about itself when it registered (local_directory, nanny).
        self.worker_identity: dict[str, dict[str, Any]] = {}
        self._balancer: asyncio.Task[None] | None = None
        self._ttl_watch: asyncio.Task[None] | None = None
        self.coordination = Coordination()
        self.coordination.held = HeldKeys(self)
        #: Queues of the locks :class:`~shoal.distributed.MultiLock` objects take together.
        self.multi_locks = MultiLocks()
        self.admin = SchedulerAdmin(self)
        self.scheduler_plugins = SchedulerPlugins(self)
        #: Datasets, metadata, events and other requests behind the less central Client methods.
        self.extras = SchedulerExtras(self)
        #: Scheduler plugins by name (see :class:`~shoal.distributed.plugins.SchedulerPlugin`).
        self.plugins = self.scheduler_plugins.plugins
        #: Nannies that registered, and the nanny plugins handed to them.
        self.nannies = SchedulerNannies(self)
        #: Cluster state dumps and hardware benchmarks.
        self.tools = SchedulerTools(self)
        self._extra_rpc = {**self.coordination.handlers(), **self.multi_locks.handlers(), **self.admin.handlers(),
                           **self.scheduler_plugins.handlers(), **self.extras.handlers(), **self.nannies.handlers(),
                           **self.tools.handlers()}
        self.id = f"Scheduler-{os.getpid()}-{id(self):x}"
        self.start_time = time.time()
        #: Where to serve the dashboard (None: not at all); see :mod:`shoal.distributed.dashboard`.
        self.dashboard_address = dashboard_address
        self.dashboard: DashboardServer | None = None

    async def start(self) -> SchedulerServer:
        listen_args = self.security.get_listen_args("scheduler") if self.security else {}
        self.listener = await listen(self.requested_address, self._on_comm, **listen_args)
        self.address = self.listener.address
        self.status = "running"
        self._balancer = asyncio.get_running_loop().create_task(self._balance())
        self._ttl_watch = asyncio.get_running_loop().create_task(self._remove_silent_workers())
        if self.dashboard_address is not None:
            self.dashboard = await DashboardServer(self, self.dashboard_address).start()
        return self

    async def _balance(self) -> None:
        """Tick for work stealing: cheap when every worker is busy or none is saturated."""
        while self.status == "running":
            await asyncio.sleep(0.1)
            if len(self.state.workers) > 1:
                self.handle(BalanceRequested(self._stimulus("balance")))

    async def _remove_silent_workers(self) -> None:
        """Drop workers whose last heartbeat is older than ``distributed.scheduler.worker-ttl`` (None: never).

        Closing the worker's stream is all it takes: the stream's reader then reports the worker as dead,
        so its tasks are rescheduled as after a crash.
        """
        ttl = parse_timedelta(config.get("distributed.scheduler.worker-ttl", "60s"))
        if not ttl:
            return
        while self.status == "running":
            await asyncio.sleep(min(ttl / 4, 1.0))
            now = time.time()
            for ws in list(self.state.workers.values()):
                if now - ws.last_seen > ttl:
                    stream = self.worker_streams.get(ws.address)
                    logger.warning("removing worker %s: no heartbeat for %.1fs (distributed.scheduler.worker-ttl is "
                                   "%.1fs)", ws.address, now - ws.last_seen, ttl)
                    if stream is not None:
                        stream.abort()

    async def close(self, *, close_workers: bool = False) -> None:
        """Stop serving. Workers are told to close only with ``close_workers``; otherwise they notice the
        scheduler is gone and try to reconnect (to a restarted scheduler at the same address)."""
        if self.status == "closed":
            return
        self.status = "closed"
        if self._balancer is not None:
            self._balancer.cancel()
        if self._ttl_watch is not None:
            self._ttl_watch.cancel()
        self.coordination.close()
        if self.listener is not None:
            self.listener.stop()
        for address, stream in list(self.worker_streams.items()):
            if close_workers:
                stream.send({"op": "close", "reason": "scheduler-close"})
            self._closing_workers.add(address)
        for stream in list(self.client_streams.values()):
            stream.send({"op": "scheduler_closing"})
        await asyncio.sleep(0)
        streams = list(self.worker_streams.values()) + list(self.client_streams.values())
        await asyncio.gather(*(s.close() for s in streams), return_exceptions=True)
        for comm in list(self._comms):
            comm.abort()
        await self.pool.close()
        if self.dashboard is not None:
            await self.dashboard.close()
        await self.scheduler_plugins.close()

    async def __aenter__(self) -> SchedulerServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ performing actions

    def _stimulus(self, op: str) -> str:
        return f"{op}-{next(self._ids)}"

    def handle(self, *events: Any) -> None:
        """Feed events to the state machine and send what it asks for."""
        try:
            actions = self.state.handle(*events)
        except Exception:
            logger.exception("the scheduler's state machine failed on %s", [type(e).__name__ for e in events])
            raise
        if self.validate:
            self.state.validate_state()
        workers = self.worker_streams
        clients = self.client_streams
        for action in actions:
            if type(action) is SendToWorker:
                stream = workers.get(action.worker)
                if stream is not None:
                    stream.send(action.msg)
            elif type(action) is SendToClient:
                stream = clients.get(action.client)
                if stream is not None:
                    stream.send(action.msg)

    # ------------------------------------------------------------------ comms

    async def _on_comm(self, comm: Comm) -> None:
        self._comms.add(comm)
        try:
            msg = await comm.read()
            op = msg.get("op") if isinstance(msg, dict) else None
            if op == "register_worker":
                await self._serve_worker(comm, msg)
            elif op == "register_client":
                await self._serve_client(comm, msg)
            else:
                while True:
                    await self._answer(comm, msg)
                    del msg  # not held while waiting for the next request
                    msg = await comm.read()
        except CommClosedError:
            pass
        except Exception:  # noqa: BLE001 - a broken peer must not take the scheduler down
            logger.exception("error while serving %s", comm.peer_address)
        finally:
            self._comms.discard(comm)
            comm.abort()

    async def _answer(self, comm: Comm, msg: Any) -> None:
        if not isinstance(msg, dict) or "op" not in msg:
            await comm.write({"status": "error", "text": f"expected a message with an 'op', got {type(msg).__name__}"})
            return
        handler = getattr(self, f"rpc_{msg['op']}", None) or self._extra_rpc.get(msg["op"])
        if handler is None:
            await comm.write({"status": "error", "text": f"unknown operation {msg['op']!r}"})
            return
        try:
            result = handler(**{k: v for k, v in msg.items() if k != "op"})
            if asyncio.iscoroutine(result):
                result = await result
            reply = {"status": "OK", "result": result}
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            reply = {"status": "error", "exception": exc, "text": f"{type(exc).__name__}: {exc}"}
        await comm.write(reply)

    async def _serve_worker(self, comm: Comm, msg: dict[str, Any]) -> None:
        address = msg["address"]
        if address in self.worker_streams:
            await comm.write({"status": "error", "text": f"a worker at {address} is already registered"})
            return
        name = str(msg.get("name", address))
        taken = next((ws.address for ws in self.state.workers.values() if ws.name == name and ws.address != address),
                     None)
        if taken is not None:  # as Dask: names pick workers (workers=[name]), so two workers cannot share one
            logger.warning("refused worker %s: its name %r is taken by %s", address, name, taken)
            await comm.write({"status": "error", "text": f"name taken, {name} (the worker at {taken} has it); give "
                                                         f"each worker a unique name"})
            return
        stream = BatchedStream(comm, interval=0.001)
        self.worker_streams[address] = stream
        self.retired.pop(name, None)
        await comm.write({"status": "OK", "scheduler": self.address, "id": self.id, "plugins": self.admin.plugins})
        self.handle(WorkerJoined(address, name, int(msg["nthreads"]),
                                 int(msg.get("memory_limit", 0)), time.time(), self._stimulus("worker-joined"),
                                 resources=msg.get("resources"), holding=dict(msg.get("holding", {}))))
        self.state.workers[address].services = dict(msg.get("services", {}))
        self.worker_identity[address] = {k: msg.get(k) for k in ("local_directory", "nanny")}
        self.state.workers[address].metrics = dict(msg.get("metrics", {}))
        self.scheduler_plugins.call("add_worker", worker=address)
        graceful = False
        try:
            await read_batches(comm, lambda batch: self._on_worker_batch(address, batch))
        except CommClosedError:
            pass
        finally:
            graceful = address in self._closing_workers
            self._closing_workers.discard(address)
            if self.worker_streams.get(address) is stream:
                del self.worker_streams[address]
                self.worker_identity.pop(address, None)
                self.pool.remove(address)
                if self.status == "running":
                    stimulus = self._stimulus("worker-left")
                    self.handle(WorkerLeft(address, stimulus, died=not graceful))
                    self.scheduler_plugins.call("remove_worker", worker=address, stimulus_id=stimulus)

    def _on_worker_batch(self, address: str, batch: list[dict[str, Any]]) -> None:
        events: list[Any] = []
        for msg in batch:
            op = msg.get("op")
            if op == "task_finished":
                events.append(TaskFinished(msg["key"], address, msg["nbytes"], msg["type"], msg["stimulus_id"],
                                           msg.get("inline"), msg["start"], msg["stop"], msg["thread"],
                                           msg.get("metadata")))
            elif op == "task_erred":
                events.append(TaskErred(msg["key"], address, msg["exception"], msg["traceback"], msg["text"],
                                        msg["stimulus_id"], msg["start"], msg["stop"], msg["thread"]))
            elif op == "missing_data":
                for holder in msg["holders"]:
                    events.append(TaskMissing(msg["key"], holder, self._stimulus("missing-data")))
            elif op == "steal_response":
                events.append(StealResponded(msg["key"], address, msg["ok"], msg["stimulus_id"]))
            elif op == "reschedule":  # the task raised Reschedule and the worker dropped it
                events.append(TaskRescheduled(msg["key"], address,
                                              msg.get("stimulus_id") or self._stimulus("reschedule")))
            elif op == "heartbeat":
                self.state.heartbeat(address, msg["metrics"], time.time())
            elif op == "records":
                try:
                    self.state.record_activity(address, msg["records"])
                except (KeyError, TypeError, ValueError) as exc:  # observability must never drop a worker
                    logger.warning("ignored malformed transfer/spill records from worker %s: %s", address, exc)
            elif op == "worker_status":
                if msg.get("status") in ("paused", "running"):
                    events.append(WorkerStatusChanged(address, msg["status"], self._stimulus("worker-status")))
                else:
                    logger.warning("ignored unknown status %r from worker %s", msg.get("status"), address)
            elif op == "unregister":
                self._closing_workers.add(address)
            elif op == "log_event":
                self.extras.log_worker_event(address, msg.get("topic"), msg.get("msg"))
            else:
                logger.warning("ignored a message with unknown op %r from worker %s", op, address)
        if events:
            self.handle(*events)

    async def _serve_client(self, comm: Comm, msg: dict[str, Any]) -> None:
        client = msg["client"]
        stream = BatchedStream(comm, interval=0.002)
        self.client_streams[client] = stream
        await comm.write({"status": "OK", "scheduler": self.address, "id": self.id})
        self.handle(ClientJoined(client, self._stimulus("client-joined")))
        self.scheduler_plugins.call("add_client", client=client)
        try:
            await read_batches(comm, lambda batch: self._on_client_batch(client, batch))
        except CommClosedError:
            pass
        finally:
            self.coordination.client_left(client)
            self.multi_locks.client_left(client)
            self.extras.client_left(client)
            if self.client_streams.get(client) is stream:
                del self.client_streams[client]
                if self.status == "running":
                    self.handle(ClientLeft(client, self._stimulus("client-left")))
                    self.scheduler_plugins.call("remove_client", client=client)

    def _on_client_batch(self, client: str, batch: list[dict[str, Any]]) -> None:
        events: list[Any] = []
        for msg in batch:
            op = msg.get("op")
            try:
                if op == "update_graph":
                    events.append(GraphSubmitted(
                        client, msg["tasks"], msg["dependencies"], tuple(msg["keys"]), msg.get("order", {}),
                        msg.get("stimulus_id") or self._stimulus("update-graph"),
                        user_priority=msg.get("priority", 0), retries=msg.get("retries", 0),
                        workers=frozenset(msg["workers"]) if msg.get("workers") is not None else None,
                        allow_other_workers=msg.get("allow_other_workers", False),
                        resources=msg.get("resources"), annotations=msg.get("annotations") or {}))
                elif op == "release_keys":
                    events.append(KeysReleased(client, tuple(msg["keys"]), self._stimulus("client-releases")))
                elif op == "cancel_keys":
                    events.append(KeysCancelled(client, tuple(msg["keys"]), self._stimulus("client-cancels")))
                elif op == "scattered":
                    events.append(DataScattered(client, {k: (tuple(w), n, t) for k, (w, n, t) in msg["placed"].items()},
                                                self._stimulus("scattered")))
                elif op == "fire_and_forget":
                    events.append(GraphSubmitted(FIRE_AND_FORGET, {}, {}, tuple(msg["keys"]), {},
                                                 self._stimulus("fire-and-forget")))
                elif op == "close_client":
                    events.append(ClientLeft(client, self._stimulus("client-closes")))
                else:
                    logger.warning("ignored a message with unknown op %r from client %s", op, client)
            except (KeyError, TypeError, ValueError) as exc:
                logger.error("ignored a malformed %r message from client %s: %s", op, client, exc)
        if events:
            self.handle(*events)

    # ------------------------------------------------------------------ requests

    def rpc_identity(self) -> dict[str, Any]:
        return {"type": "Scheduler", "id": self.id, "address": self.address}

    def rpc_who_has(self, keys: list[Any] | None = None) -> dict[Any, list[str]]:
        return self.state.who_has(keys)

    def rpc_has_what(self, workers: list[str] | None = None) -> dict[str, list[Any]]:
        return self.state.has_what(workers)

    def rpc_nthreads(self, workers: list[str] | None = None) -> dict[str, int]:
        chosen = workers if workers is not None else list(self.state.workers)
        return {w: self.state.workers[w].nthreads for w in chosen if w in self.state.workers}

    def rpc_scheduler_info(self) -> dict[str, Any]:
        state = self.state
        workers = state.workers.values()
        return {
            "type": "Scheduler", "id": self.id, "address": self.address, "started": self.start_time,
            "n_workers": len(state.workers), "total_threads": sum(ws.nthreads for ws in workers),
            "total_memory": sum(ws.memory_limit for ws in workers),
            "workers": {
                # Dask's keys first (its "id" is the worker's name), then shoal's own.
                ws.address: {"type": "Worker", "id": ws.name, "host": _host(ws.address),
                             **{"local_directory": None, "nanny": None, **self.worker_identity.get(ws.address, {})},
                             "name": ws.name, "nthreads": ws.nthreads, "memory_limit": ws.memory_limit,
                             "resources": ws.resources, "processing": len(ws.processing),
                             "nbytes": ws.nbytes, "keys": len(ws.has_what), "metrics": ws.metrics,
                             "last_seen": ws.last_seen, "services": ws.services,
                             # Cumulative bytes this worker fetched from peers / peers fetched from it.
                             "bytes_transferred": state.activity_bytes.get(ws.address, {}).get("transfer", 0),
                             "bytes_served": state.activity_bytes.get(ws.address, {}).get("served", 0),
                             "status": "paused" if ws in state.paused else "running"}
                for ws in state.workers.values()
            },
            "tasks": len(state.tasks),
            "clients": len(state.clients),
            "prefixes": state.prefix_counts(),
            "services": {"dashboard": self.dashboard.port} if self.dashboard is not None else {},
        }

    def rpc_task_stream(self, start: float | None = None, count: int | None = None) -> list[dict[str, Any]]:
        stream = list(self.state.task_stream)
        if start is not None:
            stream = [t for t in stream if t["stop"] >= start]
        if count is not None:
            stream = stream[-count:]
        return [_as_dask_record(t) for t in stream]

    def rpc_story(self, keys: list[Any]) -> list[tuple[Any, ...]]:
        return self.state.story(*keys)

    def rpc_task_status(self, keys: list[Any]) -> dict[Any, str]:
        return {k: self.state.tasks[k].status if k in self.state.tasks else "forgotten" for k in keys}

    def rpc_run_on_scheduler(self, function: bytes) -> Any:
        fn, args, kwargs = unpickle_value(function)
        try:
            if _takes(fn, "dask_scheduler"):
                kwargs = {**kwargs, "dask_scheduler": self}
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - sent back to the caller as data
            exc.add_note(f"shoal: raised by {getattr(fn, '__name__', fn)!r} on the scheduler {self.address}")
            return {"status": "error", "exception": pickle_value(exc), "text": traceback.format_exc()}
        return {"status": "OK", "result": pickle_value(result)}

    async def rpc_broadcast(self, msg: dict[str, Any], workers: list[str] | None = None) -> dict[str, Any]:
        """Send ``msg`` to each worker and return their replies by address."""
        chosen = workers if workers is not None else list(self.state.workers)
        chosen = [self.state.aliases.get(w, w) for w in chosen]

        async def one(address: str) -> Any:
            return await self.pool.call(address, msg)

        replies = await asyncio.gather(*(one(w) for w in chosen), return_exceptions=True)
        return dict(zip(chosen, replies, strict=True))

    async def rpc_retire_workers(self, workers: list[str], close_workers: bool = True) -> list[str]:
        """Remove the given workers gracefully, first copying results only they hold to the other workers.

        With ``close_workers`` they close; without, each is told it is retired: it leaves the scheduler for
        good (no reconnecting) but its process keeps running until something else ends it.
        """
        await self.admin.move_data_off(workers)
        for address in workers:
            ws = self.state.workers.get(address)
            if ws is not None:
                self._remember_retired(ws.name, address)
            stream = self.worker_streams.get(address)
            if stream is not None:
                self._closing_workers.add(address)
                stream.send({"op": "close", "reason": "retire"} if close_workers else {"op": "retire"})
        await self.wait_for_workers(lambda n: not any(w in self.state.workers for w in workers), timeout=30)
        return workers

    def _remember_retired(self, name: str, address: str) -> None:
        self.retired[name] = address
        self.retired.move_to_end(name)
        if len(self.retired) > _RETIRED_KEPT:
            self.retired.popitem(last=False)

    def workers_to_close(self, memory_ratio: float | None = None, n: int | None = None, key: Any = None,
                         minimum: int | None = None, target: int | None = None,
                         attribute: str = "address") -> list[Any]:
        """The workers cheapest to retire, as Dask's ``Scheduler.workers_to_close``.

        See :meth:`~.scheduler_extras.SchedulerExtras.workers_to_close` and :mod:`..state.retiring`.
        """
        return self.extras.workers_to_close(memory_ratio, n, key, minimum, target, attribute)

    async def wait_for_workers(self, predicate: Callable[[int], bool] | int, timeout: float | None = None) -> None:
        """Wait until ``predicate(n_workers)`` holds (an int n means ``n_workers >= n``)."""
        check = predicate if callable(predicate) else (lambda n, want=predicate: n >= want)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not check(len(self.state.workers)):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.state.workers)} workers after {timeout}s")
            await asyncio.sleep(0.01)

    async def rpc_wait_for_workers(self, n_workers: int, timeout: float | None = None) -> int:
        await self.wait_for_workers(n_workers, timeout)
        return len(self.state.workers)


def _takes(fn: Any, name: str) -> bool:
    """Whether ``fn`` has a parameter ``name`` (False when its signature cannot be read)."""
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _host(address: str) -> str:
    """The host part of a worker's address (``tcp://10.0.0.1:4000`` -> ``10.0.0.1``; in-process: the location)."""
    scheme, location = parse_address(address)
    if scheme == "inproc":  # this very process
        return "127.0.0.1"
    host, sep, port = location.rpartition(":")
    return host.strip("[]") if sep and port.isdigit() else location


def _as_dask_record(entry: dict[str, Any]) -> dict[str, Any]:
    """A task stream entry with Dask's keys too (``startstops``, ``type``, ...), keeping shoal's start/stop.

    ``type`` is the result's type name, as ``typename``: Dask's pickled type would make the scheduler unpickle
    or carry user classes.
    """
    step = {"action": entry.get("action", "compute"), "start": entry["start"], "stop": entry["stop"]}
    if entry.get("source") is not None:
        step["source"] = entry["source"]
    record = {"startstops": [step], "stimulus_id": None, "metadata": {}, "typename": "", **entry}
    record.setdefault("type", record["typename"])
    return record

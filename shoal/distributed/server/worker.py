"""The worker's asyncio server: runs tasks in threads, serves data to peers.

A :class:`WorkerServer` holds a :class:`~..state.worker.WorkerStateMachine`
and performs its actions:

- ``Execute``: run the task in a thread pool; the result comes back to the
  event loop as an event. Completions are drained in batches (one
  ``call_soon_threadsafe`` per burst, not per task).
- ``Fetch``: a ``get_data`` request to the peer, through a connection pool.
- ``SendToScheduler``: onto the batched stream to the scheduler.

It listens for requests from peers and clients (``get_data``,
``update_data``, ``run``, ``identity``), sends heartbeats with CPU and memory
figures, and reconnects (keeping its data) when the scheduler restarts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import traceback
from collections import deque
from typing import Any

from shoal import config
from shoal._exceptions import SerializationError
from shoal.distributed._exceptions import CommClosedError, FrameError
from shoal.distributed._sizeof import sizeof
from shoal.distributed._traceback import pack_traceback
from shoal.distributed.comm import buffers
from shoal.distributed.comm.core import Comm, Listener, connect, listen
from shoal.distributed.comm.pool import ConnectionPool
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.server.actors import ActorHost
from shoal.distributed.server.batched import BatchedStream, read_batches
from shoal.distributed.server.task_threads import TaskThreads
from shoal.distributed.reschedule import Reschedule
from shoal.distributed.server.worker_admin import WorkerAdminMixin
from shoal.distributed.server.worker_extras import WorkerExtrasMixin
from shoal.distributed.state.actions import Execute, Fetch, SendToScheduler
from shoal.distributed.state.events import (
    ComputeRequested,
    ExecuteFailed,
    ExecuteSucceeded,
    FetchErred,
    FetchFailed,
    FetchSucceeded,
    FreeKeysRequested,
    StealRequested,
)
from shoal.distributed.memory import MemoryLimits, monitor_interval, parse_memory_limit, process_memory, spill_until
from shoal.distributed.spill import SpillBuffer
from shoal.distributed.state.worker import WorkerStateMachine
from shoal.utils import parse_bytes, parse_timedelta

__all__ = ["WorkerServer", "current_key", "current_worker"]

logger = logging.getLogger("shoal.distributed.worker")

_thread_state = threading.local()


def current_worker() -> WorkerServer | None:
    """The worker whose task is running in this thread, if any."""
    return getattr(_thread_state, "worker", None)


def current_key() -> Any:
    """The key of the task running in this thread, if any."""
    return getattr(_thread_state, "key", None)


class WorkerServer(WorkerAdminMixin, WorkerExtrasMixin):
    """One worker; see the module docstring.

    Parameters
    ----------
    scheduler_address : str
        The scheduler to register with.
    nthreads : int
        Threads that run tasks.
    listen_address : str
        Where peers reach this worker (``tcp://127.0.0.1:0``, ``inproc://``).
    name : str, optional
        A name usable in ``workers=`` restrictions.
    memory_limit : int or str
        Bytes this worker may use (reported; 0 means no limit).
    resources : dict, optional
        Abstract resources, e.g. ``{"GPU": 2}``.
    death_timeout : float, optional
        Give up and close when the scheduler cannot be reached for this long.
    """

    def __init__(self, scheduler_address: str, *, nthreads: int = 1, listen_address: str = "tcp://127.0.0.1:0",
                 name: str | None = None, memory_limit: int | str = 0, resources: dict[str, float] | None = None,
                 death_timeout: float | None = 60.0, reconnect: bool = True, validate: bool = False,
                 security: Any = None) -> None:
        #: A :class:`~shoal.distributed.security.Security` for ``tls://`` addresses, or None.
        self.security = security
        self._connection_args = security.get_connection_args("worker") if security else {}
        self.scheduler_address = scheduler_address
        self.nthreads = nthreads
        self.listen_address = listen_address
        self.name = name
        self.memory_limit = parse_memory_limit(memory_limit, nthreads)
        self.resources = dict(resources or {})
        self.death_timeout = death_timeout
        self.reconnect = reconnect
        self.validate = validate
        self.address = ""
        self.state: WorkerStateMachine | None = None
        self.listener: Listener | None = None
        self.stream: BatchedStream | None = None
        self.pool = ConnectionPool(timeout=5.0, connection_args=self._connection_args)
        self.executor = TaskThreads(nthreads)
        self.status = "created"
        self.inline_limit = parse_bytes(config.get("distributed.scheduler.inline-result-limit", "4KiB"))
        self.heartbeat_interval = parse_timedelta(config.get("distributed.worker.heartbeat-interval", "1s"))
        self._done: deque[Any] = deque()
        self._drain_scheduled = False
        #: Finished fetches not yet reported: [keys, peer, start, stop, nbytes] (see :meth:`_send_records`).
        self._transfers: deque[list[Any]] = deque(maxlen=10_000)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed: asyncio.Event | None = None  # created on start: it needs the loop
        self.loop: asyncio.AbstractEventLoop | None = None
        self.scheduler_id = ""
        self.spill: SpillBuffer | None = None
        self.in_process = scheduler_address.startswith("inproc://")
        self._plugins: dict[str, Any] = {}
        self._local_directory: str | None = None
        self._joining_plugins: dict[str, bytes] = {}
        #: Whether memory use passed the pause fraction: no new tasks start (see :mod:`..memory`).
        self.paused = False
        #: Measures this worker's memory in bytes; tests replace it to fake memory pressure. An in-process
        #: worker shares its process with the client and other workers, so it counts only the results it holds.
        self.get_process_memory = self._managed_memory if self.in_process else process_memory
        from shoal.distributed.diagnostics._logs import WorkerLogHandler

        self.log_handler = WorkerLogHandler(int(config.get("distributed.admin.log-length", 1000)))
        #: Actor instances held here (``submit(..., actor=True)``); see :mod:`shoal.distributed.actor`.
        self.actors = ActorHost(self, _thread_state)

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> WorkerServer:
        self.loop = asyncio.get_running_loop()
        self._closed = asyncio.Event()
        listen_args = self.security.get_listen_args("worker") if self.security else {}
        self.listener = await listen(self.listen_address, self._on_comm, **listen_args)
        self.address = self.listener.address
        logging.getLogger("shoal").addHandler(self.log_handler)
        if self.name is None:
            self.name = self.address
        data: Any = None
        target = config.get("distributed.worker.memory.target", 0.6)
        if self.memory_limit and target:
            data = self.spill = SpillBuffer(int(self.memory_limit * float(target)),
                                            config.get("temporary-directory", None))
        self.state = WorkerStateMachine(self.address, self.nthreads, resources=self.resources, data=data,
                                        connections=int(config.get("distributed.worker.connections", 4)))
        await self._register()
        self.status = "running"
        await self._install_plugins(self._joining_plugins)
        if not self.in_process:
            self._install_receive_pool()
        self._spawn(self._heartbeats())
        if self.memory_limit:
            self._spawn(self._memory_monitor())
        return self

    def _install_receive_pool(self) -> None:
        """Recycle the memory of large received messages in this process (see :mod:`..comm.buffers`)."""
        setting = config.get("distributed.worker.receive-pool", "auto")
        if setting == "auto":
            size = min(2**30, self.memory_limit // 8) if self.memory_limit else 2**30
        else:
            size = parse_bytes(setting) if setting else 0
        if buffers.pool() is None and size:
            idle = parse_timedelta(config.get("distributed.worker.receive-pool-idle", "10s"))
            buffers.install_pool(size, idle)

    async def _register(self) -> None:
        timeout = self.death_timeout if self.death_timeout else 30.0
        comm = await connect(self.scheduler_address, timeout=timeout, **self._connection_args)
        assert self.state is not None
        holding = {k: self.state.tasks[k].nbytes if k in self.state.tasks else 0 for k in self.state.data}
        await comm.write({"op": "register_worker", "address": self.address, "name": self.name,
                          "nthreads": self.nthreads, "memory_limit": self.memory_limit,
                          "resources": self.resources, "holding": holding, "metrics": self.metrics(),
                          "services": {}, **self._identity()})
        reply = await comm.read()
        if reply.get("status") != "OK":
            comm.abort()
            raise RuntimeError(f"The scheduler at {self.scheduler_address} refused worker {self.address}: "
                               f"{reply.get('text')}")
        self.scheduler_id = reply.get("id", "")
        self._joining_plugins = dict(reply.get("plugins") or {})
        self.stream = BatchedStream(comm, interval=0.002)
        self._spawn(self._listen_to_scheduler(comm))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self, *, report: bool = True) -> None:
        if self.status in ("closing", "closed"):
            return
        self.status = "closing"
        if self.listener is not None:
            self.listener.stop()
        if self.stream is not None and not self.stream.closed:
            if report:
                self.stream.send({"op": "unregister"})
            try:
                await asyncio.wait_for(self.stream.close(), 5)
            except (TimeoutError, CommClosedError, OSError):
                self.stream.abort()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await self._teardown_plugins()
        await self.pool.close()
        self.executor.shutdown()
        self.actors.close()
        if self.spill is not None:
            self.spill.close()
        self.status = "closed"
        logging.getLogger("shoal").removeHandler(self.log_handler)
        if self._closed is not None:
            self._closed.set()

    async def finished(self) -> None:
        """Wait until the worker has closed."""
        assert self._closed is not None
        await self._closed.wait()

    async def __aenter__(self) -> WorkerServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ scheduler stream

    async def _listen_to_scheduler(self, comm: Comm) -> None:
        try:
            await read_batches(comm, self._on_scheduler_batch)
        except CommClosedError:
            pass
        except Exception:  # noqa: BLE001
            logger.exception("worker %s: error handling messages from the scheduler", self.address)
        if self.status != "running":
            return
        logger.warning("worker %s lost its scheduler %s", self.address, self.scheduler_address)
        if not self.reconnect:
            await self.close(report=False)
            return
        self._forget_work()
        try:
            await self._register()
            logger.info("worker %s reconnected to %s", self.address, self.scheduler_address)
            if self.paused and self.stream is not None:  # the new scheduler must not send us work either
                self.stream.send({"op": "worker_status", "status": "paused"})
        except Exception as exc:  # noqa: BLE001
            logger.error("worker %s could not reconnect to the scheduler (%s); closing", self.address, exc)
            await self.close(report=False)

    def _forget_work(self) -> None:
        """The scheduler that assigned our tasks is gone: keep data, drop everything else."""
        assert self.state is not None
        state = self.state
        keep = set(state.data)
        state.handle(FreeKeysRequested(tuple(k for k in list(state.tasks) if k not in keep), "scheduler-lost"))
        for ts in state.tasks.values():
            ts.computed_here = True

    def _on_scheduler_batch(self, batch: list[dict[str, Any]]) -> None:
        events: list[Any] = []
        for msg in batch:
            op = msg.get("op")
            if op == "compute_task":
                events.append(ComputeRequested(msg["key"], msg["run_spec"], tuple(msg["priority"]), msg["who_has"],
                                               msg["nbytes"], msg["stimulus_id"], msg.get("inline", False),
                                               msg.get("resources")))
            elif op == "free_keys":
                events.append(FreeKeysRequested(tuple(msg["keys"]), msg["stimulus_id"]))
            elif op == "steal_request":
                events.append(StealRequested(msg["key"], msg["stimulus_id"]))
            elif op == "close":
                self._spawn(self.close(report=True))
            elif op == "retire":
                self._spawn(self.retire())
            else:
                logger.warning("worker %s ignored unknown op %r from the scheduler", self.address, op)
        if events:
            self.handle(*events)
            self.actors.prune()  # instances whose key was just freed here

    # ------------------------------------------------------------------ performing actions

    def handle(self, *events: Any) -> None:
        assert self.state is not None
        actions = self.state.handle(*events)
        if self.validate:
            self.state.validate_state()
        for action in actions:
            typ = type(action)
            if typ is Execute:
                self._execute(action.key)
            elif typ is SendToScheduler:
                if self.stream is not None:
                    self.stream.send(action.msg)
            elif typ is Fetch:
                self._spawn(self._fetch(action.peer, action.keys, action.stimulus_id))
        if self._transfers or (self.spill is not None and self.spill.events):
            self._send_records()

    def _send_records(self) -> None:
        """Report finished transfers and spills; they ride in the same batch as the task messages."""
        if self.stream is None or self.stream.closed:
            return
        records: list[list[Any]] = []
        transfers = self._transfers
        while transfers:
            records.append(["transfer", *transfers.popleft()])
        events = self.spill.events if self.spill is not None else ()
        while events:
            action, key, nbytes, start, stop = events.popleft()
            records.append([action, [key], None, start, stop, nbytes])
        self.stream.send({"op": "records", "records": records})

    def _execute(self, key: Any) -> None:
        assert self.state is not None
        ts = self.state.tasks[key]
        data = self.state.data
        try:
            values = {dts.key: data[dts.key] for dts in ts.dependencies}
        except KeyError as exc:  # an input vanished: report it as the task's failure
            self._completed(_failure(key, KeyError(f"input {exc.args[0]!r} of {key!r} is missing on "
                                                   f"{self.address}"), 0.0))
            return
        inline = self.inline_limit if ts.inline_result else 0
        self.executor.submit(self._run, key, ts.run_spec, values, inline)

    def _run(self, key: Any, run_spec: bytes, values: dict[Any, Any], inline_limit: int) -> None:
        """In a pool thread: run one task and hand the outcome to the loop."""
        _thread_state.worker = self
        _thread_state.key = key
        start = time.time()
        try:
            node = unpickle_value(run_spec) if type(run_spec) is bytes else run_spec
            value = node(values)
        except Reschedule:
            self._rescheduled(key, start)
            return
        except BaseException as exc:  # noqa: BLE001 - any task failure is data for the client
            self._completed(_failure(key, exc, start))
            return
        stop = time.time()
        nbytes = sizeof(value)
        inline = None
        if inline_limit and nbytes <= inline_limit:
            if self.in_process:
                inline = (value,)  # nothing crosses a process: hand the object itself
            else:
                inline = _try_pickle(value)
        self._completed(ExecuteSucceeded(key, value, nbytes, _type_name(value), start, stop,
                                         f"task-finished-{time.time()}", threading.get_ident(), inline))

    def post(self, event: Any) -> None:
        """Hand an event from a task's thread to the event loop."""
        self._completed(event)

    def _completed(self, event: Any) -> None:
        self._done.append(event)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            assert self.loop is not None
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed: the worker is gone
                pass

    def _drain(self) -> None:
        self._drain_scheduled = False
        events = []
        done = self._done
        while done:
            events.append(done.popleft())
        if events and self.status in ("running", "created"):
            self.handle(*events)

    async def _fetch(self, peer: str, keys: tuple[Any, ...], stimulus_id: str) -> None:
        start = time.time()
        try:
            reply = await self.pool.call(peer, {"op": "get_data", "keys": list(keys)})
            data = reply["data"]
            event: Any = FetchSucceeded(peer, data, f"fetched-{stimulus_id}")
            if data:
                self._transfers.append([list(data), peer, start, time.time(), sum(map(sizeof, data.values()))])
        except (SerializationError, FrameError) as exc:
            # The data itself cannot travel (unpicklable, or over the size limit): trying again would fail again.
            event = self._fetch_erred(peer, keys, exc, start, stimulus_id)
        except (TimeoutError, OSError, CommClosedError) as exc:
            logger.info("worker %s could not fetch %d keys from %s: %s", self.address, len(keys), peer, exc)
            event = FetchFailed(peer, keys, f"fetch-failed-{stimulus_id}", peer_gone=True)
        if self.status == "running":
            self.handle(event)

    def _fetch_erred(self, peer: str, keys: tuple[Any, ...], exc: BaseException, start: float,
                     stimulus_id: str) -> FetchErred:
        shown = ", ".join(repr(k) for k in keys[:3]) + (", ..." if len(keys) > 3 else "")
        message = (f"could not move {shown} from worker {peer} to worker {self.address}: {exc}. The tasks "
                   f"that need it failed; make the result picklable and smaller than "
                   f"distributed.comm.max-message-size, or run its dependents on the same worker (workers=).")
        logger.warning("worker %s: %s", self.address, message)
        error = RuntimeError(message) if not isinstance(exc, (SerializationError, FrameError)) else exc
        if error is exc and hasattr(exc, "add_note"):
            exc.add_note(f"shoal: {message}")
        try:
            blob = pickle_value(error)
        except Exception:  # noqa: BLE001 - fall back to something that travels
            blob = pickle_value(RuntimeError(message))
        return FetchErred(peer, keys, blob, message, start, time.time(), f"fetch-erred-{stimulus_id}")

    async def _heartbeats(self) -> None:
        while self.status == "running":
            await asyncio.sleep(self.heartbeat_interval)
            receive_pool = buffers.pool()
            if receive_pool is not None:
                receive_pool.trim()  # blocks idle past receive-pool-idle go back to the system
            if self.stream is not None and not self.stream.closed:
                if self._transfers or (self.spill is not None and self.spill.events):
                    self._send_records()  # spills by the memory monitor happen outside handle()
                self.stream.send({"op": "heartbeat", "metrics": self.metrics()})

    async def _memory_monitor(self) -> None:
        limits = MemoryLimits.from_config(self.memory_limit)
        interval = monitor_interval()
        while self.status == "running":
            await asyncio.sleep(interval)
            try:
                self.check_memory(limits)
            except Exception:  # noqa: BLE001 - a failed measurement must not stop the monitor
                logger.exception("worker %s: memory check failed", self.address)

    def _managed_memory(self) -> int:
        return self.spill.fast_bytes if self.spill is not None else 0

    def check_memory(self, limits: MemoryLimits) -> None:
        """Spill above the spill fraction; pause above the pause fraction, resume below it."""
        rss = self.get_process_memory()
        status = limits.classify(rss)
        receive_pool = buffers.pool()
        if status != "ok" and receive_pool is not None and receive_pool.trim(everything=True):
            rss = self.get_process_memory()  # free receive buffers were the first thing to give back
            status = limits.classify(rss)
        if status != "ok" and self.spill is not None and limits.target is not None:
            spill_until(self.spill, limits.target, self.get_process_memory)
            rss = self.get_process_memory()
            status = limits.classify(rss)
        paused = status in ("paused", "terminate")
        if paused == self.paused or self.state is None:
            return
        self.paused = paused
        self.state.running = not paused
        percent = 100 * rss / self.memory_limit
        if paused:
            logger.warning("worker %s is at %.0f%% of its memory limit (%d bytes); pausing: it starts no new tasks "
                           "until memory drops below the pause fraction", self.address, percent, self.memory_limit)
        else:
            logger.warning("worker %s is at %.0f%% of its memory limit; resuming", self.address, percent)
            self.handle()  # start the tasks that waited
        if self.stream is not None and not self.stream.closed:
            self.stream.send({"op": "worker_status", "status": "paused" if paused else "running"})

    def metrics(self) -> dict[str, Any]:
        """CPU, memory and task counts, as sent with heartbeats."""
        state = self.state
        out: dict[str, Any] = {"time": time.time()}
        if state is not None:
            out.update(executing=len(state.executing), ready=len(state.ready), in_memory=len(state.data),
                       in_flight=len(state.in_flight),
                       spilled_bytes=self.spill.spilled_bytes if self.spill is not None else 0,
                       managed_bytes=self.spill.fast_bytes if self.spill is not None else 0)
        try:
            import psutil

            # cpu_percent measures since the previous call on the same object:
            # a fresh Process each heartbeat would always report 0.0.
            proc = self.__dict__.get("_psutil_process")
            if proc is None:
                proc = self._psutil_process = psutil.Process()
            out["cpu"] = proc.cpu_percent(interval=None)
            out["memory"] = proc.memory_info().rss
            out["num_fds"] = proc.num_fds() if hasattr(proc, "num_fds") else 0
        except Exception:  # noqa: BLE001 - metrics are best effort
            pass
        return out

    # ------------------------------------------------------------------ requests from peers and clients

    async def _on_comm(self, comm: Comm) -> None:
        try:
            while True:
                msg = await comm.read()
                op = msg.get("op") if isinstance(msg, dict) else None
                handler = getattr(self, f"rpc_{op}", None)
                if handler is None:
                    await comm.write({"status": "error", "text": f"unknown operation {op!r}"})
                    continue
                try:
                    result = handler(**{k: v for k, v in msg.items() if k != "op"})
                    if asyncio.iscoroutine(result):
                        result = await result
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    result = {"status": "error", "exception": exc, "text": f"{type(exc).__name__}: {exc}"}
                try:
                    await comm.write(result)
                except (SerializationError, FrameError) as exc:
                    # Raised before any byte was written (an unpicklable or oversized reply): the comm is intact.
                    await comm.write({"status": "error", "exception": exc, "text": f"{type(exc).__name__}: {exc}"})
                # Neither the request (scattered data) nor the reply (served data) may stay referenced while this
                # connection waits for its next request: the worker may have released those values meanwhile.
                del msg, result
        except FrameError as exc:  # a message this worker cannot read: say so, the peer only sees a closed comm
            logger.warning("worker %s: closing the connection from %s: %s", self.address, comm.peer_address, exc)
        except CommClosedError:
            pass
        except Exception:  # noqa: BLE001
            logger.exception("worker %s: error serving %s", self.address, comm.peer_address)
        finally:
            comm.abort()

    def rpc_get_data(self, keys: list[Any]) -> dict[str, Any]:
        assert self.state is not None
        data = self.state.data
        return {"status": "OK", "data": {k: data[k] for k in keys if k in data}}

    def rpc_update_data(self, data: dict[Any, Any]) -> dict[str, Any]:
        """Store scattered data as if computed here."""
        assert self.state is not None
        from shoal.distributed.state.tasks import WorkerTaskRecord

        info = {}
        for key, value in data.items():
            ts = self.state.tasks.get(key)
            if ts is None:
                ts = self.state.tasks[key] = WorkerTaskRecord(key)
            self.state.data[key] = value
            ts.status = "memory"
            ts.computed_here = True
            ts.nbytes = sizeof(value)
            ts.type_name = _type_name(value)
            info[key] = (ts.nbytes, ts.type_name)
        return {"status": "OK", "info": info}

    async def rpc_actor_execute(self, actor: Any, function: str, args: Any, kwargs: Any) -> dict[str, Any]:
        return await self.actors.execute(actor, function, args, kwargs)

    def rpc_actor_attribute(self, actor: Any, attribute: str) -> dict[str, Any]:
        return self.actors.attribute(actor, attribute)

    def rpc_identity(self) -> dict[str, Any]:
        return {"status": "OK", "type": "Worker", "address": self.address, "name": self.name,
                "nthreads": self.nthreads, "pid": os.getpid()}

    async def rpc_run(self, function: bytes) -> dict[str, Any]:
        fn, args, kwargs = unpickle_value(function)
        # Set for the call only: an in-process worker shares its loop thread with the caller, which must not
        # look like it runs inside this worker afterwards (get_client() there would pick this worker).
        previous = getattr(_thread_state, "worker", None)
        _thread_state.worker = self
        try:
            import inspect

            params = inspect.signature(fn).parameters
            if "dask_worker" in params:
                kwargs = {**kwargs, "dask_worker": self}
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # noqa: BLE001 - sent back as data
            exc.add_note(f"shoal: raised by {getattr(fn, '__name__', fn)!r} on worker {self.address}")
            return {"status": "OK", "ok": False, "exception": pickle_value(exc), "text": traceback.format_exc()}
        finally:
            _thread_state.worker = previous
        return {"status": "OK", "ok": True, "result": pickle_value(result)}


def _try_pickle(value: Any) -> bytes | None:
    try:
        return pickle_value(value)
    except Exception:  # noqa: BLE001 - the client will fetch it instead
        return None


def _type_name(value: Any) -> str:
    return type(value).__name__


def _failure(key: Any, exc: BaseException, start: float) -> ExecuteFailed:
    exc.add_note(f"shoal: raised while computing {key!r}") if hasattr(exc, "add_note") else None
    text = "".join(traceback.format_exception(exc))
    tb = pack_traceback(exc.__traceback__)
    try:
        blob = pickle_value(exc)
        # An exception that pickles but cannot be unpickled would break the client later.
        unpickle_value(blob)
    except Exception:  # noqa: BLE001 - replace with something that travels
        blob = pickle_value(RuntimeError(f"{type(exc).__name__}: {exc} (the original exception could not be "
                                         f"pickled)"))
    return ExecuteFailed(key, blob, tb, text, start, time.time(), f"task-erred-{time.time()}",
                         threading.get_ident())

"""The client: submits work to a scheduler and gathers results.

This module holds the connection, the futures' bookkeeping and submission
(``submit``, ``map``); the rest of :class:`Client` comes from mixins:
:mod:`.client_data` (``gather``, ``scatter``, ``cancel``),
:mod:`.client_collections` (``compute``, ``persist``, ``get``),
:mod:`.client_info` (``run``, ``who_has``, ``scheduler_info``, ...),
:mod:`.client_admin` (``replicate``, ``restart``, plugins, ...),
:mod:`.client_datasets` (``publish_dataset``, ``get_dataset``, ``datasets``),
:mod:`.client_events` (``log_event``, ``subscribe_topic``, ``get_scheduler_logs``) and
:mod:`.client_extras` (``processing``, ``retry``, ``retire_workers``, ``get_executor``, ``shutdown``, ...).

A :class:`Client` keeps one long-lived stream to the scheduler (graphs,
releases and cancellations go out on it; reports of finished and failed
keys come back) and makes request/response calls (``who_has``, ``run``,
...) over pooled comms. Results are fetched straight from the workers that
hold them; small results come along with the scheduler's report, so a
``submit(...).result()`` round trip needs no extra fetch.

All I/O runs on an event loop: the shared background loop for the usual
synchronous API, or the caller's loop with ``asynchronous=True`` (then the
blocking methods return awaitables).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.actor import actor_task
from shoal.distributed._loop import get_loop, in_loop_thread, run_sync
from shoal.distributed.comm.core import connect
from shoal.distributed.comm.pool import ConnectionPool
from shoal.distributed.client_admin import ClientAdminMixin
from shoal.distributed.client_collections import ClientCollectionsMixin
from shoal.distributed.client_current import _current_client
from shoal.distributed.client_data import ClientDataMixin
from shoal.distributed.client_datasets import ClientDatasetsMixin
from shoal.distributed.client_events import ClientEventsMixin
from shoal.distributed.client_extras import ClientExtrasMixin
from shoal.distributed.client_info import ClientInfoMixin
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.future import Future, FutureState
from shoal.distributed._pack import (
    _CachedFunction,
    _call_token,
    _funcname,
    _identity,
    _may_hold_futures,
    _pickled_function,
    _replace_futures,
    futures_as_refs,
    futures_of,
)
from shoal.distributed.server.batched import BatchedStream, read_batches
from shoal.distributed.server.scheduler_extras import read_scheduler_file
from shoal.graph.cull import cull
from shoal.graph.order import order
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task, convert_legacy_graph
from shoal.graph.tokenize import tokenize
from shoal.local.selection import register_default_client

__all__ = ["Client", "default_client", "fire_and_forget", "futures_of"]

logger = logging.getLogger("shoal.distributed.client")

_clients: list[weakref.ref[Client]] = []
_clients_lock = threading.Lock()
_ids = itertools.count()


def _default() -> Client | None:
    with _clients_lock:
        for ref in reversed(_clients):
            client = ref()
            if client is not None and client.status == "running" and client._is_default:
                return client
    return None


register_default_client(_default)


@atexit.register
def _close_all() -> None:
    """Close clients left open at exit, so their clusters' workers stop cleanly."""
    with _clients_lock:
        clients = [r() for r in _clients]
    for client in clients:
        if client is not None and client.status == "running" and not client.asynchronous:
            try:
                client.close(timeout=5)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


def default_client() -> Client:
    """The client of the innermost ``Client.as_current()`` block, else the most recently started running client.

    Raises
    ------
    ValueError
        When no client is running.
    """
    client = _current_client() or _default()
    if client is None:
        raise ValueError("No Client is running. Start one with `client = Client()`.")
    return client


class Client(ClientDataMixin, ClientCollectionsMixin, ClientInfoMixin, ClientAdminMixin, ClientDatasetsMixin,
             ClientEventsMixin, ClientExtrasMixin):
    """Connect to a shoal cluster and run work on it.

    Parameters
    ----------
    address : str, LocalCluster or None
        ``None`` starts a :class:`~shoal.distributed.LocalCluster` (worker
        processes; pass ``processes=False`` for threads in this process and
        any other ``LocalCluster`` keyword); a string is a scheduler address
        such as ``"tcp://127.0.0.1:8786"``; a cluster object is connected to.
    asynchronous : bool
        Use from async code: methods that wait return awaitables.
    set_as_default : bool
        Make ``compute()`` of every collection use this client.
    timeout : float
        Seconds to wait for the scheduler to answer.
    scheduler_file : str, optional
        A JSON file with the scheduler's ``"address"`` (written by ``shoal
        scheduler --scheduler-file`` or ``Client.write_scheduler_file``); waits
        up to ``timeout`` seconds for it to appear.
    **cluster_kwargs
        Passed to ``LocalCluster`` when ``address`` is None.

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> with Client(processes=False, n_workers=1, threads_per_worker=2) as client:
    ...     future = client.submit(sum, [1, 2, 3])
    ...     future.result()
    6
    """

    def __init__(self, address: Any = None, *, asynchronous: bool = False, set_as_default: bool = True,
                 timeout: float = 30.0, name: str | None = None, direct_to_workers: bool | None = None,
                 security: Any = None, scheduler_file: str | None = None, **cluster_kwargs: Any) -> None:
        self.id = f"Client-{uuid.uuid4().hex[:12]}"
        self.security = security  # a shoal.distributed.Security for tls:// schedulers
        self.name = name
        self.asynchronous = asynchronous
        self.timeout = timeout
        self.status = "newly-created"
        self._is_default = set_as_default
        self._states: dict[Key, FutureState] = {}
        self._refcount: dict[Key, int] = {}
        self._lock = threading.RLock()
        self._stream: BatchedStream | None = None
        self._pool: ConnectionPool | None = None
        self._serialize = True
        self._callback_pool = ThreadPoolExecutor(1, thread_name_prefix="shoal-callbacks")
        self._reader: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.cluster: Any = None
        self._own_cluster = False
        self.scheduler_address = ""
        #: The scheduler file this client read its address from (or wrote with ``write_scheduler_file``).
        self.scheduler_file = scheduler_file
        if address is None and scheduler_file is not None:
            address = read_scheduler_file(scheduler_file, timeout)["address"]
        if address is None:
            from shoal.distributed.cluster import LocalCluster

            if security is not None:
                cluster_kwargs["security"] = security
            self.cluster = LocalCluster(asynchronous=asynchronous, **cluster_kwargs)
            self._own_cluster = True
        elif hasattr(address, "scheduler_address"):
            if cluster_kwargs:
                raise TypeError(f"Unexpected keywords {sorted(cluster_kwargs)} when connecting to an existing "
                                f"cluster; pass them to LocalCluster(...) instead.")
            self.cluster = address
            if self.security is None:  # a cluster's own certificates let its client in
                self.security = getattr(address, "security", None)
        elif isinstance(address, str):
            if cluster_kwargs:
                raise TypeError(f"Unexpected keywords {sorted(cluster_kwargs)}: cluster options only apply when "
                                f"Client() starts its own cluster (address=None).")
            self.scheduler_address = address if "://" in address else f"tcp://{address}"
        else:
            raise TypeError(f"Client(address=...) expects None, a 'tcp://host:port' string or a cluster object, "
                            f"got {type(address).__name__}.")
        with _clients_lock:
            _clients.append(weakref.ref(self))
        if not asynchronous:
            self._loop = get_loop()
            run_sync(self._start(), timeout + 60)

    # ------------------------------------------------------------------ life cycle

    async def _start(self) -> Client:
        if self.status == "running":
            return self
        self._loop = asyncio.get_running_loop()
        if self.cluster is not None:
            if self._own_cluster and self.asynchronous:
                await self.cluster._start()
            self.scheduler_address = self.cluster.scheduler_address
        conn_args = self.security.get_connection_args("client") if self.security else {}
        self._pool = ConnectionPool(timeout=self.timeout, connection_args=conn_args)
        comm = await connect(self.scheduler_address, timeout=self.timeout, **conn_args)
        await comm.write({"op": "register_client", "client": self.id})
        reply = await comm.read()
        if reply.get("status") != "OK":
            raise RuntimeError(f"The scheduler refused the client: {reply}")
        # In-process clusters pass task objects as they are: no pickling, and anything a thread could use works.
        self._serialize = not self.scheduler_address.startswith("inproc://")
        self._stream = BatchedStream(comm)
        self._reader = asyncio.get_running_loop().create_task(self._read_reports(comm))
        self.status = "running"
        return self

    def __await__(self) -> Any:
        return self._start().__await__()

    async def _read_reports(self, comm: Any) -> None:
        try:
            await read_batches(comm, self._on_reports)
        except CommClosedError:
            pass
        except Exception:  # noqa: BLE001
            logger.exception("client %s: error handling a report from the scheduler", self.id)
        if self.status in ("running", "closed"):
            if self.status == "running":
                logger.warning("client %s lost its connection to the scheduler %s", self.id, self.scheduler_address)
            self.status = "closed"
            with self._lock:
                states = list(self._states.values())
            for state in states:
                if not state.done:
                    state.cancel("the connection to the scheduler was lost")

    def _on_reports(self, batch: list[dict[str, Any]]) -> None:
        states = self._states
        for msg in batch:
            op = msg.get("op")
            if op == "key_in_memory":
                state = states.get(msg["key"])
                if state is not None and state.status != "finished":
                    inline = msg.get("inline")
                    if inline is not None:
                        try:
                            state.finish(msg["type"], inline[0] if type(inline) is tuple else unpickle_value(inline))
                            continue
                        except Exception:  # noqa: BLE001 - e.g. a class that does not import here
                            pass
                    state.finish(msg["type"])
            elif op == "task_erred":
                state = states.get(msg["key"])
                if state is not None:
                    state.fail(msg["exception"], msg["traceback"], msg["text"])
            elif op == "cancelled_keys":
                restart = msg.get("restart", False)  # a restart cancels finished futures too: their data is gone
                for key in msg["keys"]:
                    state = states.get(key)
                    if state is not None and (restart or not state.done):
                        state.cancel("the cluster was restarted" if restart else None)
            elif op == "lost_key":
                state = states.get(msg["key"])
                if state is not None:
                    state.lose()
            elif op == "event":
                self._on_event(msg)
            elif op == "scheduler_closing":
                logger.info("client %s: the scheduler is closing", self.id)
                self.status = "closed"  # expected: no warning when the stream ends

    def close(self, timeout: float | None = None) -> Any:
        """Release every future, disconnect, and close the cluster this client started."""
        if self.asynchronous:
            return self._close()
        if self.status in ("closed", "closing", "newly-created") and self._stream is None:
            self.status = "closed"
            return None
        run_sync(self._close(), timeout or 30)
        return None

    async def _close(self) -> None:
        if self.status in ("closing",):
            return
        self.status = "closing"
        if self._stream is not None and not self._stream.closed:
            self._stream.send({"op": "close_client"})
            try:
                await asyncio.wait_for(self._stream.close(), 5)
            except (TimeoutError, OSError):
                self._stream.abort()
        if self._reader is not None:
            self._reader.cancel()
        if self._pool is not None:
            await self._pool.close()
        with self._lock:
            states = list(self._states.values())
        for state in states:
            if not state.done:
                state.cancel("the client was closed")
        self.status = "closed"
        if self._own_cluster and self.cluster is not None:
            await self.cluster._close()
        self._callback_pool.shutdown(wait=False)
        with _clients_lock:
            _clients[:] = [r for r in _clients if r() not in (None, self)]

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return await self._start()

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    def __del__(self) -> None:
        if getattr(self, "status", "closed") == "running" and not self.asynchronous:
            try:
                if not in_loop_thread():
                    self.close(timeout=5)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass

    def __repr__(self) -> str:
        if self.status != "running":
            return f"<Client: {self.status}>"
        return f"<Client: '{self.scheduler_address}' processes={len(self._worker_count())} status={self.status}>"

    def _worker_count(self) -> list[str]:
        try:
            return list(self.nthreads()) if not self.asynchronous else []
        except Exception:  # noqa: BLE001
            return []

    # ------------------------------------------------------------------ references

    def _acquire(self, key: Key) -> FutureState:
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = FutureState(key)
                self._refcount[key] = 0
            self._refcount[key] += 1
            return state

    def _release(self, key: Key) -> None:
        with self._lock:
            count = self._refcount.get(key, 0) - 1
            if count > 0:
                self._refcount[key] = count
                return
            self._refcount.pop(key, None)
            self._states.pop(key, None)
        if self.status == "running":
            self._send({"op": "release_keys", "keys": [key]})

    def _send(self, msg: dict[str, Any]) -> None:
        stream = self._stream
        if stream is None:
            raise RuntimeError(f"Client {self.id} is {self.status}; start or re-create it.")
        if self._loop is not None and not self.asynchronous and not in_loop_thread():
            stream.send_threadsafe(msg)
        else:
            stream.send(msg)

    def _check_running(self) -> None:
        if self.status != "running":
            raise RuntimeError(f"This Client is {self.status}. Create a new Client to submit work.")

    # ------------------------------------------------------------------ submitting

    def submit(self, func: Callable[..., Any], *args: Any, key: Key | None = None, workers: Any = None,
               resources: dict[str, float] | None = None, retries: int | None = None, priority: int = 0,
               allow_other_workers: bool = False, pure: bool = True, actor: bool = False, actors: bool = False,
               **kwargs: Any) -> Future:
        """Run ``func(*args, **kwargs)`` on a worker; return a Future for its result.

        Parameters
        ----------
        func : callable
        *args, **kwargs
            Arguments; Futures among them (also nested in lists, tuples and
            dicts) are replaced by their results on the worker.
        key : str, optional
            The key of the result; by default ``funcname-<token of the call>``.
        pure : bool
            Whether equal calls may share one result (and key). Use
            ``pure=False`` for functions with side effects or randomness.
        workers : str or list of str, optional
            Addresses, hostnames or names of workers allowed to run it.
        resources : dict, optional
            Abstract resources the task needs, e.g. ``{"GPU": 1}``.
        retries : int, optional
            Times to re-run the task after it raises.
        priority : int
            Higher runs first among ready tasks.
        allow_other_workers : bool
            Let other workers run it when none of ``workers`` can.
        actor : bool
            Keep the object ``func(*args, **kwargs)`` returns on its worker and
            make the result an :class:`~shoal.distributed.Actor` that calls
            its methods there (``actors`` is an alias). Implies ``pure=False``.
        """
        self._check_running()
        if not callable(func):
            raise TypeError(f"client.submit expects a callable first, got {type(func).__name__}: {func!r}. "
                            f"Call it as client.submit(func, *args).")
        if actor or actors:  # every actor is its own object: never shared through an equal key
            func, pure = actor_task(func), False
        if key is None:
            token = tokenize(func, args, kwargs) if pure else uuid.uuid4().hex
            key = f"{_funcname(func)}-{token}"
        with self._lock:
            state = self._states.get(key)
            if state is not None and self._refcount.get(key, 0) > 0:
                return Future(key, self)
        deps: dict[Key, Future] = {}
        args2 = _replace_futures(list(args), deps)
        kwargs2 = _replace_futures(kwargs, deps) if kwargs else {}
        fn = _CachedFunction(_pickled_function(func)) if self._serialize else func
        task = Task(key, fn, *args2, **kwargs2)
        future = Future(key, self)
        self._send_graph({key: self._spec(task)}, {key: tuple(deps)} if deps else {}, [key], {},
                         priority=priority, retries=retries, workers=workers, resources=resources,
                         allow_other_workers=allow_other_workers)
        return future

    def map(self, func: Callable[..., Any], *iterables: Iterable[Any], key: str | list[Key] | None = None,
            workers: Any = None, retries: int | None = None, resources: dict[str, float] | None = None,
            priority: int = 0, allow_other_workers: bool = False, pure: bool = True,
            batch_size: int | None = None, actor: bool = False, actors: bool = False,
            **kwargs: Any) -> list[Future]:
        """Run ``func`` on each element (or zipped elements) of ``iterables``; return a list of Futures.

        Takes the options of :meth:`submit`; with ``actor=True`` each call makes its own actor.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1) as client:
        ...     futures = client.map(abs, [-1, -2, 3])
        ...     client.gather(futures)
        [1, 2, 3]
        """
        self._check_running()
        if not callable(func):
            raise TypeError(f"client.map expects a callable first, got {type(func).__name__}.")
        if actor or actors:
            func, pure = actor_task(func), False
        columns = [list(it) for it in iterables]
        if not columns:
            return []
        n = len(columns[0])
        if any(len(c) != n for c in columns):
            raise ValueError(f"client.map got iterables of different lengths {[len(c) for c in columns]}; "
                             f"pass iterables of equal length.")
        calls = list(zip(*columns, strict=True))
        name = _funcname(func)
        if isinstance(key, list):
            if len(key) != n:
                raise ValueError(f"client.map got {len(key)} keys for {n} calls.")
            keys = key
        elif pure:
            prefix = key or name
            fn_token = tokenize(func, kwargs)
            keys = [f"{prefix}-{_call_token(fn_token, call)}" for call in calls]
        else:
            prefix = key or name
            keys = [f"{prefix}-{uuid.uuid4().hex}" for _ in calls]
        cached = _CachedFunction(_pickled_function(func)) if self._serialize else func
        tasks: dict[Key, bytes] = {}
        dependencies: dict[Key, tuple[Key, ...]] = {}
        futures = []
        seen: set[Key] = set()
        for k, call in zip(keys, calls, strict=True):
            futures.append(Future(k, self))
            if k in seen:
                continue
            seen.add(k)
            deps: dict[Key, Future] = {}
            args2 = _replace_futures(list(call), deps) if _may_hold_futures(call) else call
            kwargs2 = _replace_futures(kwargs, deps) if kwargs and _may_hold_futures(kwargs.values()) else kwargs
            tasks[k] = self._spec(Task(k, cached, *args2, **kwargs2))
            if deps:
                dependencies[k] = tuple(deps)
        self._send_graph(tasks, dependencies, list(seen), {k: i for i, k in enumerate(keys)}, priority=priority,
                         retries=retries, workers=workers, resources=resources,
                         allow_other_workers=allow_other_workers)
        return futures

    def _spec(self, node: GraphNode) -> Any:
        return pickle_value(node) if self._serialize else node

    def _send_graph(self, tasks: dict[Key, bytes], dependencies: dict[Key, tuple[Key, ...]], wanted: list[Key],
                    ordering: dict[Key, int], *, priority: int = 0, retries: int | None = None, workers: Any = None,
                    resources: dict[str, float] | None = None, allow_other_workers: bool = False,
                    annotations: dict[Key, dict[str, Any]] | None = None) -> None:
        if isinstance(workers, str):
            workers = [workers]
        self._send({"op": "update_graph", "tasks": tasks, "dependencies": dependencies, "keys": wanted,
                    "order": ordering, "priority": priority, "retries": retries or 0,
                    "workers": list(workers) if workers is not None else None,
                    "allow_other_workers": allow_other_workers, "resources": resources,
                    "annotations": annotations or {}})

    def _graph_to_futures(self, graph: Mapping[Key, Any], keys: list[Key], *, priority: int = 0,
                          retries: int | None = None, workers: Any = None, resources: dict[str, float] | None = None,
                          allow_other_workers: bool = False) -> dict[Key, Future]:
        self._check_running()
        nodes = convert_legacy_graph(graph) if any(not isinstance(v, GraphNode) for v in graph.values()) else graph
        nodes, _ = cull(nodes, keys)
        held: list[Future] = []  # futures inside the graph (persisted data) stay referenced while submitting
        tasks: dict[Key, bytes] = {}
        dependencies: dict[Key, tuple[Key, ...]] = {}
        annotations: dict[Key, dict[str, Any]] = {}
        for key, node in nodes.items():
            if type(node) is DataNode and type(node.value) is Future:
                fut = node.value
                held.append(fut)
                if fut.key == key:
                    continue
                node = Task(key, _identity, Ref(fut.key))
            else:
                inner: dict[Key, Future] = {}
                node = futures_as_refs(node, inner)
                held.extend(inner.values())
            tasks[key] = self._spec(node)
            if node.dependencies:
                dependencies[key] = tuple(node.dependencies)
            note = getattr(node, "annotations", None)
            if note:
                annotations[key] = {k: v for k, v in note.items() if k in ("priority", "retries", "workers",
                                                                           "resources")}
        ordering = order(nodes) if len(nodes) > 1 else {}
        futures = {k: Future(k, self) for k in keys}
        self._send_graph(tasks, dependencies, list(keys), ordering, priority=priority, retries=retries,
                         workers=workers, resources=resources, allow_other_workers=allow_other_workers,
                         annotations=annotations)
        del held
        return futures

    async def _scheduler_call(self, op: str, **kwargs: Any) -> Any:
        assert self._pool is not None
        reply = await self._pool.call(self.scheduler_address, {"op": op, **kwargs})
        return reply["result"]

    def _call(self, op: str, **kwargs: Any) -> Any:
        coro = self._scheduler_call(op, **kwargs)
        return coro if self.asynchronous else run_sync(coro, self.timeout + 30)

    def fire_and_forget(self, futures: Any) -> None:
        """Run ``futures`` to completion even after every Future for them is released."""
        fire_and_forget(futures)


FIRE_AND_FORGET = "fire-and-forget"


def fire_and_forget(futures: Any) -> None:
    """Run ``futures`` to completion even after every Future for them is released."""
    by_client: dict[int, tuple[Client, list[Key]]] = {}
    for fut in futures_of(futures):
        by_client.setdefault(id(fut.client), (fut.client, []))[1].append(fut.key)
    for client, keys in by_client.values():
        client._send({"op": "fire_and_forget", "keys": keys})

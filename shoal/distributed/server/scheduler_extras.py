"""Scheduler requests behind the less central Client methods: datasets, metadata, events, logs, introspection.

Grouped like :class:`~shoal.distributed.server.admin.SchedulerAdmin`: a
:class:`SchedulerExtras` holds the state these requests need (published
datasets, the metadata tree, event topics) and ``handlers()`` lists its
``rpc_*`` methods for the server's request table.

Published datasets keep their keys alive through a pseudo-client named
``published-<name>`` that wants them, the way ``fire_and_forget`` does:
the keys stay in memory after the publishing client leaves, and releasing
the pseudo-client's claim (unpublishing) lets them go.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import logging
import os
import platform
import struct
import sys
import tempfile
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from shoal import config
from shoal.distributed.comm.serialization import unpickle_value
from shoal.distributed.diagnostics._logs import WorkerLogHandler
from shoal.distributed.nanny import request_restart
from shoal.distributed.state.events import ClientLeft, GraphSubmitted, KeysReleased, TasksRetried
from shoal.distributed.state.retiring import workers_to_close
from shoal.graph.task import key_split

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["DatasetExistsError", "SchedulerExtras", "get_versions", "read_scheduler_file", "write_scheduler_file"]

logger = logging.getLogger("shoal.distributed.scheduler")

#: Records of the ``shoal`` logger in this process, for ``Client.get_scheduler_logs`` (one per process, as the
#: logger itself is; schedulers sharing a process share it).
_LOG_HANDLER: WorkerLogHandler | None = None
#: Seconds the scheduler waits for the keys of a dataset to arrive on the publishing client's stream.
_KEY_WAIT = 10.0
#: Events kept per topic.
_EVENTS_PER_TOPIC = 100_000


def _log_handler() -> WorkerLogHandler:
    global _LOG_HANDLER
    if _LOG_HANDLER is None:
        _LOG_HANDLER = WorkerLogHandler(int(config.get("distributed.admin.log-length", 1000)))
        logging.getLogger("shoal").addHandler(_LOG_HANDLER)
    return _LOG_HANDLER


class DatasetExistsError(KeyError, ValueError):
    """A dataset of that name is already published (a KeyError as in Dask, and a ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


#: Packages whose versions ``Client.get_versions`` reports.
_PACKAGES = ("shoal", "numpy", "pandas", "cloudpickle", "pyarrow", "psutil", "pyyaml", "msgpack")


def get_versions() -> dict[str, dict[str, Any]]:
    """This process's host and package versions, as ``Client.get_versions`` reports them.

    Read from package metadata, so nothing is imported; a package that is not
    installed has version None.

    Examples
    --------
    >>> info = get_versions()
    >>> sorted(info)
    ['host', 'packages']
    >>> info["packages"]["python"] == ".".join(map(str, sys.version_info[:3]))
    True
    """
    packages: dict[str, str | None] = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in _PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    host = {"python": sys.version.split()[0], "python-bits": struct.calcsize("P") * 8, "OS": platform.system(),
            "OS-release": platform.release(), "machine": platform.machine(), "processor": platform.processor(),
            "byteorder": sys.byteorder}
    return {"host": host, "packages": packages}


def _published(name: str) -> str:
    return f"published-{name}"


class SchedulerExtras:
    """RPC handlers for datasets, metadata, events, logs, processing/nbytes/call stacks, versions, retries."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server
        #: Published datasets by name: ``{"data": pickled object, "keys": [keys it holds]}``.
        self.datasets: dict[str, dict[str, Any]] = {}
        #: The tree ``set_metadata`` writes into.
        self.metadata: dict[Any, Any] = {}
        #: Events by topic: ``(time, message)``, oldest first.
        self.events: defaultdict[str, deque[tuple[float, Any]]] = defaultdict(
            lambda: deque(maxlen=_EVENTS_PER_TOPIC))
        #: Clients subscribed to each topic.
        self.subscribers: defaultdict[str, set[str]] = defaultdict(set)
        _log_handler()

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    def client_left(self, client: str) -> None:
        """Forget the subscriptions of a client that disconnected."""
        for clients in self.subscribers.values():
            clients.discard(client)

    # ------------------------------------------------------------------ datasets

    async def rpc_publish_put(self, keys: list[Any], name: str, data: bytes, override: bool = False,
                              client: str | None = None) -> None:
        if name in self.datasets and not override:
            raise DatasetExistsError(f"Dataset {name!r} already exists; unpublish it first or pass "
                                     f"override=True to replace it.")
        await self._await_keys(keys)
        if name in self.datasets and not override:  # published by another client while we waited
            raise DatasetExistsError(f"Dataset {name!r} already exists; unpublish it first or pass "
                                     f"override=True to replace it.")
        server = self.server
        old = self.datasets.get(name)
        self.datasets[name] = {"data": data, "keys": list(keys)}
        # Claim the new keys before letting the old ones go, so that keys both hold are never released.
        server.handle(GraphSubmitted(_published(name), {}, {}, tuple(keys), {}, server._stimulus("publish")))
        if old is not None:
            stale = tuple(k for k in old["keys"] if k not in set(keys))
            if stale:
                server.handle(KeysReleased(_published(name), stale, server._stimulus("republish")))

    async def _await_keys(self, keys: list[Any]) -> None:
        """Wait until the scheduler knows ``keys``: the graph that made them travels on another comm."""
        tasks = self.server.state.tasks
        deadline = time.monotonic() + _KEY_WAIT
        while True:
            missing = [k for k in keys if k not in tasks]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise KeyError(f"Cannot publish keys {missing[:5]}: the scheduler does not know them (their futures "
                               f"were released or cancelled).")
            await asyncio.sleep(0.005)

    def rpc_publish_get(self, name: str, client: str | None = None) -> dict[str, Any] | None:
        entry = self.datasets.get(name)
        if entry is None:
            return None
        tasks = self.server.state.tasks
        lost = [k for k in entry["keys"] if k not in tasks]
        if lost:
            # Only a restart (which cancels every client's keys) forgets keys the dataset holds.
            self.rpc_publish_delete(name)
            raise KeyError(f"Dataset {name!r} lost its data ({len(lost)} keys, e.g. {lost[:3]}), most likely in a "
                           f"client.restart(); it was unpublished. Publish it again.")
        if client is not None and client in self.server.client_streams and entry["keys"]:
            # The getter holds the keys from now on, so an unpublish racing its futures cannot free them first.
            server = self.server
            server.handle(GraphSubmitted(client, {}, {}, tuple(entry["keys"]), {}, server._stimulus("publish-get")))
        return entry

    def rpc_publish_list(self) -> list[str]:
        return sorted(self.datasets, key=str)

    def rpc_publish_delete(self, name: str) -> bool:
        entry = self.datasets.pop(name, None)
        if entry is None:
            return False
        server = self.server
        # The dataset's pseudo-client leaves: its keys are released like those of a client that disconnects.
        server.handle(ClientLeft(_published(name), server._stimulus("unpublish")))
        return True

    # ------------------------------------------------------------------ metadata

    def rpc_set_metadata(self, keys: list[Any], value: Any) -> None:
        node = self.metadata
        for k in keys[:-1]:
            child = node.get(k)
            if not isinstance(child, dict):
                child = node[k] = {}
            node = child
        node[keys[-1]] = value

    def rpc_get_metadata(self, keys: list[Any], default: Any = None, has_default: bool = False) -> Any:
        node: Any = self.metadata
        for i, k in enumerate(keys):
            if not isinstance(node, dict) or k not in node:
                if has_default:
                    return default
                raise KeyError(f"No metadata at {list(keys[:i + 1])!r}; set it with client.set_metadata or pass "
                               f"default=.")
            node = node[k]
        return node

    # ------------------------------------------------------------------ events

    def rpc_log_event(self, topic: str | list[str], msg: Any) -> None:
        self.log_event(topic, msg)

    def log_event(self, topic: str | list[str], msg: Any) -> None:
        """Record ``msg`` under ``topic`` (or each of a list of topics) and push it to subscribers."""
        now = time.time()
        for t in [topic] if isinstance(topic, str) else list(topic):
            self.events[t].append((now, msg))
            for client in list(self.subscribers.get(t, ())):
                stream = self.server.client_streams.get(client)
                if stream is not None:
                    stream.send({"op": "event", "topic": t, "event": (now, msg)})

    def log_worker_event(self, worker: str, topic: Any, blob: Any) -> None:
        """An event a task logged with ``get_worker().log_event``: its message arrives pickled (see there)."""
        if not (isinstance(topic, str) or (isinstance(topic, list) and all(isinstance(t, str) for t in topic))):
            logger.warning("ignored an event from worker %s with topic %r: a topic is a string or a list of them",
                           worker, topic)
            return
        try:
            msg = unpickle_value(blob)
        except Exception as exc:  # noqa: BLE001 - a message the scheduler cannot load must not cost the worker
            logger.warning("dropped an event on topic %r from worker %s: the scheduler cannot unpickle its message "
                           "(%s: %s); log plain data (dicts, lists, strings, numbers) or install the class's module "
                           "on the scheduler", topic, worker, type(exc).__name__, exc)
            return
        self.log_event(topic, msg)

    def rpc_get_events(self, topic: str | None = None) -> Any:
        if topic is not None:
            return tuple(self.events.get(topic, ()))
        return {t: tuple(ev) for t, ev in self.events.items()}

    def rpc_subscribe_topic(self, topic: str, client: str) -> None:
        self.subscribers[topic].add(client)

    def rpc_unsubscribe_topic(self, topic: str, client: str) -> None:
        clients = self.subscribers.get(topic)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self.subscribers[topic]

    def rpc_get_logs(self, n: int | None = None) -> list[tuple[str, str]]:
        return _log_handler().logs(n)

    # ------------------------------------------------------------------ introspection

    def _addresses(self, workers: list[str] | None) -> list[str]:
        state = self.server.state
        if workers is None:
            return list(state.workers)
        return [state.aliases.get(w, w) for w in workers if state.aliases.get(w, w) in state.workers]

    def rpc_processing(self, workers: list[str] | None = None) -> dict[str, list[Any]]:
        state = self.server.state
        return {a: [ts.key for ts in state.workers[a].processing] for a in self._addresses(workers)}

    def rpc_nbytes(self, keys: list[Any] | None = None, summary: bool = False) -> dict[Any, int]:
        tasks = self.server.state.tasks
        chosen = (ts for ts in tasks.values()) if keys is None else (tasks[k] for k in keys if k in tasks)
        sizes = {ts.key: ts.nbytes for ts in chosen if ts.status == "memory" and ts.nbytes >= 0}
        if not summary:
            return sizes
        out: dict[str, int] = defaultdict(int)
        for key, size in sizes.items():
            out[key_split(key)] += size
        return dict(out)

    def rpc_versions(self) -> dict[str, Any]:
        return get_versions()

    # ------------------------------------------------------------------ retries

    def rpc_retry(self, keys: list[Any]) -> list[Any]:
        """Run erred ``keys`` again, with the failed tasks they depend on; return the keys restarted."""
        server = self.server
        tasks = server.state.tasks
        roots = [k for k in keys if k in tasks and tasks[k].status == "erred"]
        if roots:
            server.handle(TasksRetried(tuple(roots), server._stimulus("retry")))
        return roots

    # ------------------------------------------------------------------ workers

    def workers_to_close(self, memory_ratio: float | None = None, n: int | None = None, key: Any = None,
                         minimum: int | None = None, target: int | None = None,
                         attribute: str = "address") -> list[Any]:
        """The workers cheapest to retire, as Dask's ``Scheduler.workers_to_close``; see :mod:`..state.retiring`.

        ``key`` is a callable on a worker record (``lambda ws: ws.host``) or such a callable pickled by
        :func:`~shoal.distributed.comm.serialization.pickle_value`; ``attribute`` names what to return of
        each worker (``"address"`` or ``"name"``).
        """
        if isinstance(key, bytes):
            key = unpickle_value(key)
        chosen = workers_to_close(list(self.server.state.workers.values()), memory_ratio=memory_ratio, n=n,
                                  key=key, minimum=minimum, target=target)
        return [getattr(ws, attribute) for ws in chosen]

    def rpc_workers_to_close(self, memory_ratio: float | None = None, n: int | None = None, key: Any = None,
                             minimum: int | None = None, target: int | None = None,
                             attribute: str = "address") -> list[Any]:
        return self.workers_to_close(memory_ratio, n, key, minimum, target, attribute)

    async def rpc_retire(self, workers: list[str] | None = None, close_workers: bool = True,
                         names: list[Any] | None = None, n: int | None = None, target: int | None = None,
                         minimum: int | None = None, memory_ratio: float | None = None,
                         key: Any = None) -> dict[str, dict[str, Any]]:
        """Copy the results only the chosen workers hold elsewhere, then remove them; ``{address: info}``.

        The workers are ``workers`` (addresses or names; an unknown one is an error), or ``names`` (worker
        names, compared as strings; names not connected are skipped, as in Dask), or those
        :meth:`workers_to_close` picks with ``n``, ``target``, ``minimum``, ``memory_ratio`` and ``key``.
        With none of these, the idle workers go (nothing processing), keeping one. With ``close_workers``
        they close; otherwise they stay up, retired (see :meth:`SchedulerServer.rpc_retire_workers`).
        """
        server = self.server
        state = server.state
        options = {"n": n, "target": target, "minimum": minimum, "memory_ratio": memory_ratio, "key": key}
        choose = {k: v for k, v in options.items() if v is not None}
        if workers is not None and names is not None:
            raise TypeError("retire_workers takes workers= (addresses) or names=, not both.")
        if choose and (workers is not None or names is not None):
            raise TypeError(f"retire_workers: {sorted(choose)} choose the workers to retire, so they cannot be "
                            f"combined with workers= or names=; pass one or the other.")
        if names is not None:
            wanted = {str(name) for name in names}
            addresses = [ws.address for ws in state.workers.values() if str(ws.name) in wanted]
        elif workers is not None:
            addresses = [state.aliases.get(w, w) for w in workers]
            unknown = [w for w, a in zip(workers, addresses, strict=True) if a not in state.workers]
            if unknown:
                raise ValueError(f"retire_workers: no worker {unknown!r} is connected; known workers: "
                                 f"{sorted(state.workers)}.")
        elif choose:
            addresses = self.workers_to_close(**choose)
        else:
            idle = [ws for ws in state.workers.values() if not ws.processing]
            busy = len(state.workers) - len(idle)
            idle.sort(key=lambda ws: ws.nbytes)  # keep the fullest idle worker when all are idle
            addresses = [ws.address for ws in (idle if busy else idle[:-1])]
        if addresses and len(addresses) >= len(state.workers):
            held = [ts.key for ts in state.tasks.values() if ts.status == "memory" and ts.who_wants]
            if held:
                raise ValueError(f"retire_workers would retire every worker while {len(held)} results are held "
                                 f"(e.g. {held[:3]}); keep a worker or release the futures first.")
        info = {a: {"name": state.workers[a].name, "nthreads": state.workers[a].nthreads,
                    "memory_limit": state.workers[a].memory_limit} for a in addresses}
        if addresses:
            await server.rpc_retire_workers(addresses, close_workers=close_workers)
        return info

    async def rpc_restart_workers(self, workers: list[str], timeout: float = 30.0) -> dict[str, str]:
        """Ask the nanny of each worker for a fresh process; wait until as many workers are back."""
        server = self.server
        state = server.state
        addresses = [state.aliases.get(w, w) for w in workers]
        unknown = [w for w, a in zip(workers, addresses, strict=True) if a not in state.workers]
        if unknown:
            raise ValueError(f"restart_workers: no worker {unknown!r} is connected; known workers: "
                             f"{sorted(state.workers)}.")
        before = len(state.workers)
        nannies = await asyncio.gather(*(server.admin.run_on(a, request_restart, timeout) for a in addresses))
        without = [a for a, n in zip(addresses, nannies, strict=True) if n is None]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        restarting = [a for a in addresses if a not in without]
        while any(a in state.workers for a in restarting) or len(state.workers) < before - len(without):
            if loop.time() > deadline:
                raise TimeoutError(f"restart_workers: {len(state.workers)} of {before} workers registered "
                                   f"{timeout:g}s after restarting {restarting}; raise timeout=.")
            await asyncio.sleep(0.02)
        if without:
            raise ValueError(f"restart_workers: workers {without} run without a nanny and cannot be restarted "
                             f"(start them with `shoal worker ADDRESS`, which runs a nanny); "
                             f"{restarting} were restarted.")
        return {a: "OK" for a in addresses}

    async def rpc_terminate(self) -> None:
        """Close the scheduler and tell its workers to close (``Client.shutdown``), after replying."""
        async def later() -> None:
            await asyncio.sleep(0.05)
            await self.server.close(close_workers=True)

        task = asyncio.get_running_loop().create_task(later())
        self._closing = task  # keep a reference until it has run


# ---------------------------------------------------------------------- scheduler files

def write_scheduler_file(path: str | os.PathLike[str], info: dict[str, Any]) -> None:
    """Write ``info`` (with at least ``"address"``) as JSON to ``path``, atomically.

    A temporary file in the same directory is renamed over ``path``, so a
    reader polling for the file never sees it half written.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "scheduler.json")
    >>> write_scheduler_file(path, {"address": "tcp://127.0.0.1:8786"})
    >>> read_scheduler_file(path)["address"]
    'tcp://127.0.0.1:8786'
    """
    if "address" not in info:
        raise ValueError(f"A scheduler file needs an 'address'; got keys {sorted(info)}.")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".scheduler-", suffix=".json.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=2, default=str)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_scheduler_file(path: str | os.PathLike[str], timeout: float = 0.0) -> dict[str, Any]:
    """The JSON of a scheduler file, waiting up to ``timeout`` seconds for it to appear.

    Raises
    ------
    TimeoutError
        The file did not appear within ``timeout`` seconds.
    ValueError
        The file holds no ``"address"``.
    """
    path = os.fspath(path)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"The scheduler file {path!r} did not appear within {timeout:g}s; start the scheduler "
                               f"with `shoal scheduler --scheduler-file {path}` or check the path.")
        time.sleep(0.05)
    with open(path) as f:
        info = json.load(f)
    if not isinstance(info, dict) or "address" not in info:
        raise ValueError(f"The scheduler file {path!r} holds no 'address'; it was not written by a scheduler.")
    return info

"""Client methods that administer the cluster: replicas, rebalancing, restarts, plugins, error replay.

Mixed into :class:`~shoal.distributed.Client`; every method is one request
to the scheduler (see :mod:`shoal.distributed.server.admin`).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from typing import TYPE_CHECKING, Any

from shoal.distributed._loop import run_sync
from shoal.distributed._pack import futures_of
from shoal.distributed.comm.serialization import pickle_value, unpickle_value

__all__ = ["ClientAdminMixin"]


class ClientAdminMixin:
    """``replicate``, ``rebalance``, ``restart``, ``upload_file``, ``register_plugin``, ``recreate_error_locally``."""

    asynchronous: bool
    timeout: float
    cluster: Any
    _own_cluster: bool

    if TYPE_CHECKING:  # defined by Client
        async def _scheduler_call(self, op: str, **kwargs: Any) -> Any: ...

        async def _fetch(self, keys: list[Any]) -> dict[Any, Any]: ...

    def _admin(self, coro: Any) -> Any:
        return coro if self.asynchronous else run_sync(coro, self.timeout + 60)

    def replicate(self, futures: Any, n: int | None = None, workers: Any = None, branching_factor: int = 2) -> Any:
        """Copy the results of ``futures`` onto ``n`` workers (all workers by default).

        Extra copies beyond ``n`` are dropped. Waits for the futures to finish first.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=2, set_as_default=False) as client:
        ...     [x] = client.scatter([1])
        ...     client.replicate([x])
        ...     len(client.who_has([x])[x.key])
        2
        """
        if isinstance(workers, str):
            workers = [workers]
        fs = futures_of(futures)

        async def go() -> None:
            if fs:
                await _all_done(fs)
                await self._scheduler_call("replicate", keys=[f.key for f in fs], n=n, workers=workers)

        return self._admin(go())

    def rebalance(self, futures: Any = None, workers: Any = None) -> Any:
        """Move results between workers so that each holds about the same number of bytes."""
        if isinstance(workers, str):
            workers = [workers]
        fs = futures_of(futures) if futures is not None else None

        async def go() -> None:
            if fs:
                await _all_done(fs)
            await self._scheduler_call("rebalance", keys=None if fs is None else [f.key for f in fs],
                                       workers=workers)

        return self._admin(go())

    def restart(self, timeout: float | None = None, wait_for_workers: bool = True) -> Any:
        """Cancel all work, forget all results, and give every worker a fresh start.

        Every Future of every client is cancelled. Each worker that runs under
        a nanny (``shoal worker ADDRESS``, which starts one by default, or a
        ``LocalCluster`` of processes) is closed and its nanny starts a new
        worker process: module globals are reset and its memory goes back to
        the system. Workers without a nanny (``shoal worker --no-nanny``) only
        have their tasks and results cleared; the in-process workers of a
        ``LocalCluster(processes=False)`` are replaced by new ones.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the restarted workers to register again (30 by default).
        wait_for_workers : bool
            Return only once as many workers are registered as before the restart; a TimeoutError naming
            the workers that did not come back is raised after ``timeout``. False returns as soon as the
            restarts were requested.
        """
        wait_seconds = 30.0 if timeout is None else float(timeout)

        async def go() -> Any:
            await self._scheduler_call("restart", timeout=wait_seconds, wait_for_workers=wait_for_workers)
            cluster = self.cluster
            if cluster is not None and hasattr(cluster, "_restart"):
                await cluster._restart(wait=wait_for_workers)
            return self

        coro = go()
        return coro if self.asynchronous else run_sync(coro, wait_seconds + self.timeout + 60)

    def register_plugin(self, plugin: Any, name: str | None = None, idempotent: bool | None = None) -> Any:
        """Install a plugin: in the scheduler, in every nanny, or in every worker (now and later).

        - a :class:`~shoal.distributed.SchedulerPlugin` runs in the scheduler (its ``start`` is called now;
          returns None);
        - a :class:`~shoal.distributed.NannyPlugin` is set up in every nanny (those that start later too);
          with ``plugin.restart`` each nanny then restarts its worker process, and this returns once the new
          processes reported in. Returns ``{nanny address: None}``; workers without a nanny do not see it;
        - any other object with ``setup(worker)``/``teardown(worker)`` is a worker plugin. Returns
          ``{worker address: None}``.

        Registering another plugin under the same name tears the old one down first, unless ``idempotent``
        (by default the plugin's own ``idempotent`` attribute) leaves the old one in place. An error in
        ``setup`` (or ``start``) is raised here.
        """
        from shoal.distributed.plugins import NannyPlugin, SchedulerPlugin

        if idempotent is None:
            idempotent = bool(getattr(plugin, "idempotent", False))
        if isinstance(plugin, SchedulerPlugin):
            return self.register_scheduler_plugin(plugin, name=name, idempotent=idempotent)
        if isinstance(plugin, NannyPlugin):
            return self.register_nanny_plugin(plugin, name=name, idempotent=idempotent)
        if not (hasattr(plugin, "setup") or hasattr(plugin, "teardown")):
            raise TypeError(f"register_plugin expects a worker plugin with setup(worker) and/or teardown(worker) "
                            f"methods, a NannyPlugin or a SchedulerPlugin, got {type(plugin).__name__}.")
        name = _plugin_name(plugin, name)
        blob = pickle_value(plugin)

        async def go() -> dict[str, Any]:
            return _unpack_replies(await self._scheduler_call("register_worker_plugin", plugin=blob, name=name,
                                                              idempotent=idempotent))

        return self._admin(go())

    def register_worker_plugin(self, plugin: Any, name: str | None = None, nanny: bool | None = None) -> Any:
        """Deprecated in Dask in favour of :meth:`register_plugin`; kept working (``nanny=True``: a nanny plugin)."""
        if nanny:
            return self.register_nanny_plugin(plugin, name=name)
        return self.register_plugin(plugin, name=name)

    def register_nanny_plugin(self, plugin: Any, name: str | None = None, idempotent: bool = False) -> Any:
        """Set ``plugin`` up in every nanny, now and in nannies that start later; see :meth:`register_plugin`."""
        name = _plugin_name(plugin, name)
        blob = pickle_value(plugin)

        async def go() -> dict[str, Any]:
            return _unpack_replies(await self._scheduler_call("register_nanny_plugin", plugin=blob, name=name,
                                                              idempotent=idempotent))

        return self._admin(go())

    def unregister_nanny_plugin(self, name: str) -> Any:
        """Tear down the nanny plugin ``name`` in every nanny and stop handing it to new ones."""

        async def go() -> dict[str, Any]:
            return _unpack_replies(await self._scheduler_call("unregister_nanny_plugin", name=name))

        return self._admin(go())

    def register_worker_callbacks(self, setup: Any = None) -> Any:
        """Run ``setup()`` (or ``setup(dask_worker=worker)``) on every worker, now and on workers that join later.

        Deprecated in Dask in favour of :meth:`register_plugin`; wraps ``setup`` in a worker plugin. Returns
        ``{worker address: None}`` for the workers it ran on; an error in ``setup`` is raised here.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> def mark(dask_worker):
        ...     dask_worker.marked = True
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     _ = client.register_worker_callbacks(mark)
        ...     list(client.run(lambda dask_worker: dask_worker.marked).values())
        [True]
        """
        if not callable(setup):
            raise TypeError(f"register_worker_callbacks expects a callable, got {type(setup).__name__}.")
        return self.register_plugin(_WorkerSetupPlugin(setup))

    def register_scheduler_plugin(self, plugin: Any, name: str | None = None, idempotent: bool = False) -> Any:
        """Install a :class:`~shoal.distributed.SchedulerPlugin` in the scheduler and call its ``start``."""
        name = name or getattr(plugin, "name", None) or f"{type(plugin).__name__}-{uuid.uuid4().hex[:8]}"
        # An in-process scheduler gets the object itself: no pickling, and the caller keeps a live reference.
        blob = plugin if not getattr(self, "_serialize", True) else pickle_value(plugin)

        async def go() -> None:
            await self._scheduler_call("register_scheduler_plugin", plugin=blob, name=name, idempotent=idempotent)

        return self._admin(go())

    def unregister_scheduler_plugin(self, name: str) -> Any:
        """Close the scheduler plugin ``name`` and remove it."""

        async def go() -> None:
            await self._scheduler_call("unregister_scheduler_plugin", name=name)

        return self._admin(go())

    def unregister_worker_plugin(self, name: str, nanny: bool | None = None) -> Any:
        """Tear down the plugin ``name`` on every worker (every nanny with ``nanny=True``) and stop installing it."""
        if nanny:
            return self.unregister_nanny_plugin(name)

        async def go() -> dict[str, Any]:
            return _unpack_replies(await self._scheduler_call("unregister_worker_plugin", name=name))

        return self._admin(go())

    def upload_file(self, filename: str | os.PathLike[str], load: bool = True) -> Any:
        """Send a ``.py`` (or ``.zip``/``.egg``) file to every worker, now and later, and make it importable."""
        from shoal.distributed.plugins import UploadFile

        return self.register_plugin(UploadFile(filename))

    def recreate_error_locally(self, future: Any) -> None:
        """Run the task that made ``future`` fail here, in this thread, so that it raises here.

        Its inputs are fetched from the workers (or recomputed locally when
        they are no longer held), so a debugger (``%debug``, ``pdb.pm()``)
        lands in the failing function.
        """
        from shoal.distributed.future import Future

        if not isinstance(future, Future):
            raise TypeError(f"recreate_error_locally expects a Future, got {type(future).__name__}.")
        if self.asynchronous:
            raise NotImplementedError("recreate_error_locally runs the task in the calling thread; use a "
                                      "synchronous Client.")
        from shoal.distributed.wait import wait

        wait([future])
        spec = run_sync(self._scheduler_call("error_spec", key=future.key), self.timeout + 30)
        values: dict[Any, Any] = run_sync(self._fetch(list(spec["fetch"])), self.timeout + 30) if spec["fetch"] else {}
        missing = [k for k in spec["fetch"] if k not in values]
        if missing:
            raise RuntimeError(f"Could not fetch the inputs {missing[:5]} of {spec['key']!r} from the workers.")
        graph = spec["graph"]

        def compute(key: Any) -> Any:
            run_spec, deps = graph[key]
            for dep in deps:
                if dep not in values:
                    values[dep] = compute(dep)
            node = unpickle_value(run_spec) if isinstance(run_spec, bytes) else run_spec
            return node({d: values[d] for d in deps})

        compute(spec["key"])
        raise RuntimeError(f"The task {spec['key']!r} did not raise when run locally; its failure on the cluster "
                           f"may depend on the worker's environment.")


def _plugin_name(plugin: Any, name: str | None) -> str:
    return name or getattr(plugin, "name", None) or f"{type(plugin).__name__}-{uuid.uuid4().hex[:8]}"


class _WorkerSetupPlugin:
    """The worker plugin behind :meth:`ClientAdminMixin.register_worker_callbacks`."""

    def __init__(self, setup: Any) -> None:
        self._setup = setup
        self.name = f"worker-setup-{uuid.uuid4().hex[:12]}"

    def setup(self, worker: Any) -> Any:
        if "dask_worker" in _parameters(self._setup):
            return self._setup(dask_worker=worker)
        return self._setup()


def _parameters(fn: Any) -> Any:
    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}


async def _all_done(futures: list[Any]) -> None:
    """Wait on the event loop (not blocking it) until every future has finished or failed."""
    delay = 0.001
    while not all(f.done() for f in futures):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


def _unpack_replies(replies: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for address, reply in replies.items():
        if isinstance(reply, BaseException):
            raise reply
        if not reply.get("ok"):
            raise unpickle_value(reply["exception"])
        out[address] = unpickle_value(reply["result"])
    return out

"""Client methods beyond the core: introspection, metadata, retries, versions, retiring and restarting workers,
scheduler files, a ``concurrent.futures`` executor and ``shutdown``.

Mixed into :class:`~shoal.distributed.Client`; each is one request to the
scheduler (see :mod:`shoal.distributed.server.scheduler_extras`), which may
forward it to the workers. Signatures follow ``distributed.Client``.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shoal.distributed._loop import run_sync
from shoal.distributed._pack import futures_of as _futures_of
from shoal.distributed.comm.serialization import pickle_value
from shoal.distributed.client_base import ClientCore
from shoal.distributed.client_cluster import ClientClusterMixin
from shoal.distributed.client_current import ClientCurrentMixin
from shoal.distributed.future import Future
from shoal.distributed.server.scheduler_extras import get_versions, write_scheduler_file
from shoal.distributed.wait import wait as wait_for

__all__ = ["ClientExecutor", "ClientExtrasMixin"]

_NO_DEFAULT = object()


def _keys(futures: Any = None, keys: Any = None) -> list[Any] | None:
    """Keys from futures and/or plain keys; None when both are None (meaning: all)."""
    if futures is None and keys is None:
        return None
    out = [f.key for f in _futures_of(futures)] if futures is not None else []
    if keys is not None:
        out += [k.key if isinstance(k, Future) else k for k in (keys if isinstance(keys, (list, set, tuple))
                                                                 else [keys])]
    return out


def _workers(workers: Any) -> list[str] | None:
    return [workers] if isinstance(workers, str) else (list(workers) if workers is not None else None)


class ClientExtrasMixin(ClientCurrentMixin, ClientClusterMixin, ClientCore):
    """``processing``, ``nbytes``, ``call_stack``, metadata, ``retry``, ``get_versions``, worker retire/restart,
    ``write_scheduler_file``, ``get_executor`` and ``shutdown``; through its bases ``current``/``as_current``
    (:mod:`.client_current`) and ``forward_logging``, ``dump_cluster_state``, ``benchmark_hardware``
    (:mod:`.client_cluster`)."""

    id: str
    _own_cluster: bool

    if TYPE_CHECKING:
        def run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

        def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future: ...

        def scheduler_info(self) -> dict[str, Any]: ...

        async def _close(self) -> None: ...

    def _extra(self, coro: Any, timeout: float | None = None) -> Any:
        return coro if self.asynchronous else run_sync(coro, timeout or self.timeout + 60)

    # ------------------------------------------------------------------ introspection

    def processing(self, workers: Any = None) -> Any:
        """``{worker address: [keys it is running or has queued]}``."""
        return self._call("processing", workers=_workers(workers))

    def nbytes(self, keys: Any = None, summary: bool = False, **kwargs: Any) -> Any:
        """Bytes of each result in memory: ``{key: nbytes}``, or per key prefix (``{"inc": total}``) with
        ``summary=True``. ``keys`` may hold futures or keys; None means every result."""
        return self._call("nbytes", keys=_keys(keys=keys), summary=summary)

    def call_stack(self, futures: Any = None, keys: Any = None) -> Any:
        """The Python stacks of running tasks: ``{worker address: {key: [formatted frames]}}``.

        Only tasks running now appear (all running tasks when ``futures`` and ``keys`` are None).
        """
        wanted = _keys(futures, keys)

        async def go() -> dict[str, dict[Any, list[str]]]:
            return _drop_empty(await self.run(_call_stacks, keys=wanted, on_error="return"))

        return go() if self.asynchronous else _drop_empty(self.run(_call_stacks, keys=wanted, on_error="return"))

    def futures_of(self, futures: Any) -> list[Future]:
        """The futures inside ``futures`` (nested lists, dicts, persisted collections), as
        :func:`shoal.distributed.futures_of`."""
        return _futures_of(futures)

    def set_metadata(self, keys: Any, value: Any) -> Any:
        """Store ``value`` on the scheduler at ``keys``: a key, or a list of keys naming a path in a nested dict.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     client.set_metadata(["job", "progress"], 0.5)
        ...     client.get_metadata("job"), client.get_metadata(["job", "eta"], default=None)
        ({'progress': 0.5}, None)
        """
        path = list(keys) if isinstance(keys, (list, tuple)) else [keys]
        if not path:
            raise ValueError("set_metadata needs a non-empty key path.")
        return self._call("set_metadata", keys=path, value=value)

    def get_metadata(self, keys: Any, default: Any = _NO_DEFAULT) -> Any:
        """The value stored by :meth:`set_metadata` at ``keys``.

        Raises
        ------
        KeyError
            Nothing is stored there and no ``default`` was given.
        """
        path = list(keys) if isinstance(keys, (list, tuple)) else [keys]
        has = default is not _NO_DEFAULT
        return self._call("get_metadata", keys=path, default=default if has else None, has_default=has)

    def retry(self, futures: Any, asynchronous: bool | None = None) -> Any:
        """Run the tasks of erred ``futures`` again (with the failed tasks they depend on)."""
        fs = _futures_of(futures)
        states = [f._state for f in fs if f.status == "error"]

        async def go() -> None:
            # Back to pending before asking: the new outcome may be reported before the answer arrives.
            saved = [(s, s._exception, s._traceback, s.exception_text) for s in states]
            for state in states:
                state.lose()
            again: set[Any] = set()
            try:
                again = set(await self._scheduler_call("retry", keys=[s.key for s in states]))
            finally:
                for state, exc, tb, text in saved:
                    if state.key not in again and not state.done:
                        state.fail(exc, tb, text)

        return self._extra(go())

    def get_versions(self, check: bool = False, packages: list[str] | None = None) -> Any:
        """Host and package versions of this client, the scheduler and every worker.

        Returns ``{"client": info, "scheduler": info, "workers": {address: info}}``, each info
        ``{"host": {...}, "packages": {"python": ..., "shoal": ..., "numpy": ..., ...}}``.

        Raises
        ------
        ValueError
            With ``check=True``, when the shoal or Python versions differ between them.
        """

        if self.asynchronous:
            async def go() -> dict[str, Any]:
                scheduler = await self._scheduler_call("versions")
                workers = await self.run(get_versions, on_error="return")
                return _versions_result(get_versions(), scheduler, workers, check, packages)

            return go()
        scheduler = self._call("versions")
        workers = self.run(get_versions, on_error="return")
        return _versions_result(get_versions(), scheduler, workers, check, packages)

    # ------------------------------------------------------------------ workers

    def retire_workers(self, workers: Any = None, close_workers: bool = True, *, names: Any = None,
                       n: int | None = None, target: int | None = None, minimum: int | None = None,
                       memory_ratio: float | None = None, key: Callable[[Any], Any] | None = None,
                       **kwargs: Any) -> Any:
        """Retire workers gracefully: results only they hold are copied to the others first.

        As in Dask, the scheduler then removes them. With ``close_workers=True``
        (the default) each retired worker closes; a worker started by ``shoal
        worker`` (or a :class:`~shoal.distributed.LocalCluster`) then exits and
        its nanny does not replace it. With ``close_workers=False`` the worker
        is told it is retired and keeps its process running: it takes no more
        tasks, sends no heartbeats and does not reconnect (not even to a
        restarted scheduler), but still serves data to peers. Ending the process
        is left to whatever started it: a job scheduler, a signal,
        ``cluster.close()``; this is what Dask's
        ``Scheduler.retire_workers(close_workers=False)`` expects ("some
        external job scheduler" finishes the worker off). A LocalCluster stops
        counting it at once (``scale``, ``adapt``, ``scheduler_info``).

        Which workers go: ``workers``, or ``names``, or else the ones Dask's
        ``Scheduler.workers_to_close`` would pick with ``n``, ``target``,
        ``minimum``, ``memory_ratio`` and ``key``: idle workers before busy
        ones, those holding the least data first (see
        :mod:`shoal.distributed.state.retiring`). With none of these, the idle
        workers go, keeping one.

        Parameters
        ----------
        workers : str or list of str, optional
            Addresses or names. A worker that is not connected is an error.
        close_workers : bool
            Whether the retired workers close (True) or stay up, retired (False).
        names : list, optional
            Worker names (compared as strings, so ``[0, 1]`` matches names ``"0"`` and ``"1"``). Names not
            connected are skipped, as in Dask. Not with ``workers``.
        n : int, optional
            Retire this many workers (all of them at most).
        target : int, optional
            Retire workers until this many are left (when ``n`` is not given).
        minimum : int, optional
            Never leave fewer workers than this.
        memory_ratio : float, optional
            Keep a memory limit of at least this many times the bytes held on the workers left; without
            ``n`` or ``target`` only idle workers go, and ``memory_ratio`` defaults to 2.
        key : callable, optional
            Maps a worker record to a group (``lambda ws: ws.host``); a group is retired whole.
        **kwargs
            Dask's ``remove`` and ``stimulus_id`` are accepted and ignored.

        Returns
        -------
        dict
            ``{address: {"name", "nthreads", "memory_limit"}}`` of the retired workers.

        Raises
        ------
        TypeError
            ``workers`` and ``names`` together, either of them with a choosing option, or an unknown keyword.
        ValueError
            A worker in ``workers`` is not connected, or retiring would leave held results on no worker.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=3, set_as_default=False) as client:
        ...     len(client.retire_workers(n=2)), len(client.nthreads())
        (2, 1)
        """
        unknown = sorted(set(kwargs) - {"remove", "stimulus_id"})
        if unknown:
            raise TypeError(f"retire_workers got unexpected keyword arguments {unknown}; it takes workers, "
                            f"close_workers, names, n, target, minimum, memory_ratio and key.")
        options: dict[str, Any] = {"n": n, "target": target, "minimum": minimum, "memory_ratio": memory_ratio,
                                   "key": pickle_value(key) if key is not None else None}
        sent = {k: v for k, v in options.items() if v is not None}
        return self._call("retire", workers=_workers(workers), close_workers=bool(close_workers),
                          names=_workers(names), **sent)

    def restart_workers(self, workers: Any, timeout: float | None = None, raise_for_error: bool = True) -> Any:
        """Give each of ``workers`` a fresh process through its nanny; wait until they are back.

        Results held only by those workers are recomputed on demand. Returns
        ``{address: "OK"}``; with ``raise_for_error=False`` failures come back
        as the exception's text instead of being raised.

        Raises
        ------
        ValueError
            A worker is unknown or runs without a nanny.
        TimeoutError
            The workers did not come back within ``timeout`` seconds (30 by default).
        """
        names = _workers(workers) or []
        wait = 30.0 if timeout is None else float(timeout)

        async def go() -> dict[str, str]:
            try:
                return await self._scheduler_call("restart_workers", workers=names, timeout=wait)  # type: ignore
            except (ValueError, TimeoutError) as exc:
                if raise_for_error:
                    raise
                return {w: f"{type(exc).__name__}: {exc}" for w in names}

        return self._extra(go(), wait + self.timeout + 30)

    # ------------------------------------------------------------------ scheduler file, executor, shutdown

    def write_scheduler_file(self, scheduler_file: str | os.PathLike[str]) -> None:
        """Write the scheduler's address (and id, type, services) as JSON, for ``Client(scheduler_file=...)``."""
        if getattr(self, "scheduler_file", None):
            raise ValueError(f"This client already wrote or read the scheduler file {self.scheduler_file!r}.")
        if self.asynchronous:
            raise NotImplementedError("write_scheduler_file blocks; call it from a synchronous Client.")
        info = self.scheduler_info()
        write_scheduler_file(scheduler_file, {k: info.get(k) for k in ("type", "id", "address", "services",
                                                                        "started")})
        self.scheduler_file = os.fspath(scheduler_file)

    def get_executor(self, **kwargs: Any) -> ClientExecutor:
        """A :class:`concurrent.futures.Executor` that runs calls on this cluster.

        ``kwargs`` (``workers``, ``resources``, ``retries``, ``pure``, ...) go to every ``submit``.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     with client.get_executor() as ex:
        ...         list(ex.map(abs, [-1, 2, -3]))
        [1, 2, 3]
        """
        return ClientExecutor(self, **kwargs)

    def shutdown(self) -> Any:
        """Close the scheduler and workers of this cluster, then this client.

        Other clients of the cluster lose their connection too.
        """

        async def go() -> None:
            cluster = self.cluster
            if cluster is None:
                await self._scheduler_call("terminate")
            elif not self._own_cluster:
                await cluster._close()
            await self._close()  # closes a cluster this client started

        return self._extra(go())


def _drop_empty(replies: dict[str, Any]) -> dict[str, Any]:
    return {w: stacks for w, stacks in replies.items() if isinstance(stacks, dict) and stacks}


def _call_stacks(dask_worker: Any, keys: list[Any] | None = None) -> dict[Any, list[str]]:
    """Run in a worker: the stack of each task running there now, innermost frame last."""
    from shoal.distributed.server.worker import WorkerServer

    run_code = WorkerServer._run.__code__
    out: dict[Any, list[str]] = {}
    for ident, top in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        frames = []
        frame = top
        while frame is not None and frame.f_code is not run_code:
            frames.append(frame)
            frame = frame.f_back
        if frame is None or frame.f_locals.get("self") is not dask_worker:
            continue
        key = frame.f_locals.get("key")
        if keys is not None and key not in keys:
            continue
        summary = traceback.StackSummary.extract(((f, f.f_lineno) for f in reversed(frames)), lookup_lines=True)
        out[key] = summary.format()
    return out


def _versions_result(client: dict[str, Any], scheduler: dict[str, Any], workers: dict[str, Any], check: bool,
                     packages: list[str] | None) -> dict[str, Any]:
    workers = {w: v for w, v in workers.items() if not isinstance(v, BaseException)}
    out = {"client": client, "scheduler": scheduler, "workers": workers}
    if check:
        names = ["python", "shoal", *(packages or [])]
        everyone = {"client": client, "scheduler": scheduler, **{f"worker {w}": v for w, v in workers.items()}}
        mismatched = []
        for name in names:
            seen = {who: info["packages"].get(name) for who, info in everyone.items()}
            if len(set(seen.values())) > 1:
                mismatched.append(f"{name}: " + ", ".join(f"{who}={v}" for who, v in seen.items()))
        if mismatched:
            raise ValueError("Mismatched versions between client, scheduler and workers; install the same versions "
                             "everywhere:\n  " + "\n  ".join(mismatched))
    return out


class ClientExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` backed by a :class:`~shoal.distributed.Client`.

    ``submit`` returns a standard ``concurrent.futures.Future``; calls are
    impure (``pure=False``) unless the executor was made with ``pure=True``.
    """

    def __init__(self, client: Any, **kwargs: Any) -> None:
        if client.asynchronous:
            raise NotImplementedError("get_executor needs a synchronous Client.")
        self._client = client
        self._kwargs = {"pure": False, **kwargs}
        self._futures: set[Future] = set()
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            remote = self._client.submit(fn, *args, **self._kwargs, **kwargs)
            self._futures.add(remote)
        local: concurrent.futures.Future[Any] = concurrent.futures.Future()
        local.set_running_or_notify_cancel()

        def copy(done: Future) -> None:
            try:
                if done.status == "finished":
                    local.set_result(done.result())
                else:
                    local.set_exception(done.exception() or RuntimeError(f"{done.key!r} ended as {done.status}"))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                if not local.done():
                    local.set_exception(exc)
            finally:
                with self._lock:
                    self._futures.discard(done)

        remote.add_done_callback(copy)
        return local

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            pending = list(self._futures)
        if cancel_futures and pending:
            self._client.cancel([f for f in pending if not f.done()])
        if wait and pending:
            wait_for(pending)

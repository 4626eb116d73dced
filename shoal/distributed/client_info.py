"""Client methods that run code on the cluster or ask about it: ``run``, ``who_has``, ``scheduler_info``, ...

Mixed into :class:`~shoal.distributed.Client`; each is one request to the
scheduler (which may forward it to the workers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoal.distributed._loop import run_sync
from shoal.distributed._pack import futures_of
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.client_base import ClientCore
from shoal.distributed.future import Future
from shoal.graph.task import Key

__all__ = ["ClientInfoMixin"]


class ClientInfoMixin(ClientCore):
    """Remote calls and cluster queries of :class:`~shoal.distributed.Client`."""

    def run(self, function: Callable[..., Any], *args: Any, workers: Any = None, wait: bool = True,
            nanny: bool = False, on_error: str = "raise", **kwargs: Any) -> Any:
        """Call ``function(*args, **kwargs)`` on every worker (or ``workers``); return ``{address: result}``.

        A ``dask_worker`` parameter of ``function`` receives the worker object.
        """
        if isinstance(workers, str):
            workers = [workers]
        blob = pickle_value((function, args, kwargs))

        async def go() -> dict[str, Any]:
            replies = await self._scheduler_call("broadcast", msg={"op": "run", "function": blob}, workers=workers)
            out = {}
            for address, reply in replies.items():
                if isinstance(reply, BaseException):
                    if on_error == "raise":
                        raise reply
                    out[address] = reply
                elif reply.get("ok"):
                    out[address] = unpickle_value(reply["result"])
                else:
                    exc = unpickle_value(reply["exception"])
                    if on_error == "raise":
                        raise exc
                    out[address] = exc
            return out

        return go() if self.asynchronous else run_sync(go(), None)

    def run_on_scheduler(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``function(*args, **kwargs)`` in the scheduler's process and return its result."""
        blob = pickle_value((function, args, kwargs))

        async def go() -> Any:
            reply = await self._scheduler_call("run_on_scheduler", function=blob)
            if reply["status"] != "OK":
                raise unpickle_value(reply["exception"])
            return unpickle_value(reply["result"])

        return go() if self.asynchronous else run_sync(go(), None)

    def who_has(self, futures: Any = None) -> dict[Key, list[str]]:
        """``{key: [addresses of the workers holding it]}`` for ``futures`` (all keys when None)."""
        keys = None if futures is None else [f.key for f in futures_of(futures)]
        return self._call("who_has", keys=keys)  # type: ignore[no-any-return]

    def has_what(self, workers: Any = None) -> dict[str, list[Key]]:
        """``{worker address: [keys it holds]}``."""
        if isinstance(workers, str):
            workers = [workers]
        return self._call("has_what", workers=workers)  # type: ignore[no-any-return]

    def nthreads(self, workers: Any = None) -> dict[str, int]:
        """``{worker address: threads}``."""
        if isinstance(workers, str):
            workers = [workers]
        return self._call("nthreads", workers=workers)  # type: ignore[no-any-return]

    ncores = nthreads

    def scheduler_info(self) -> dict[str, Any]:
        """The scheduler's identity, its workers (threads, memory, metrics) and task counts by prefix."""
        return self._call("scheduler_info")  # type: ignore[no-any-return]

    def get_task_stream(self, start: float | None = None, count: int | None = None) -> list[dict[str, Any]]:
        """Recent task executions: dicts with key, worker, thread, start, stop, status (bounded log)."""
        return self._call("task_stream", start=start, count=count)  # type: ignore[no-any-return]

    def profile(self, start: float | None = None, stop: float | None = None, key: Any = None,
                workers: Any = None) -> dict[str, dict[str, float]]:
        """Task time by key prefix (count, erred, total/mean/max seconds, bytes) from the task stream.

        Not a sampling profile of Python frames; see :mod:`shoal.distributed.diagnostics.report`.
        """
        from shoal.distributed.diagnostics.report import profile

        return profile(self, start=start, stop=stop, key=key, workers=workers)

    def get_worker_logs(self, n: int | None = None, workers: Any = None,
                        nanny: bool = False) -> dict[str, list[tuple[str, str]]]:
        """``{worker address: [(level, message), ...]}``: the last ``n`` log records each worker kept."""
        from shoal.distributed.diagnostics.report import get_worker_logs

        return get_worker_logs(self, n=n, workers=workers)

    def story(self, *keys: Any) -> list[tuple[Any, ...]]:
        """The scheduler's transitions for ``keys``: (key, start, finish, stimulus_id)."""
        return self._call("story", keys=[k.key if isinstance(k, Future) else k for k in keys])  # type: ignore

    def wait_for_workers(self, n_workers: int = 1, timeout: float | None = None) -> Any:
        """Block until at least ``n_workers`` workers are connected."""
        return self._call("wait_for_workers", n_workers=n_workers, timeout=timeout)


    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's status page, or None when the scheduler serves none."""
        if self.cluster is not None:
            return getattr(self.cluster, "dashboard_link", None)
        if self.status != "running" or self.asynchronous:
            return None
        port = self.scheduler_info().get("services", {}).get("dashboard")
        if port is None:
            return None
        scheme, _, rest = self.scheduler_address.partition("://")
        host = rest.rsplit(":", 1)[0] if scheme in ("tcp", "tls") else "127.0.0.1"  # inproc: same process, so localhost
        return f"http://{host}:{port}/status"

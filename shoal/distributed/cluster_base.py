"""What :class:`~shoal.distributed.cluster.LocalCluster` and :class:`~shoal.distributed.spec_cluster.SpecCluster`
share: the scheduler's view of the cluster, adaptive scaling, choosing which workers to retire, and closing
(``close()``, ``with``, ``async with``, and when the object is dropped).

Subclasses provide ``scheduler``, ``status``, ``asynchronous`` and ``_adaptive`` attributes and the coroutines
``_start()`` and ``_close()``.
"""

from __future__ import annotations

from typing import Any

from shoal.distributed._loop import get_loop, in_loop_thread, run_sync
from shoal.distributed.adaptive import Adaptive

__all__ = ["ClusterBase"]


class ClusterBase:
    """Mixin of the cluster classes; see the module docstring for what a subclass provides."""

    scheduler: Any
    status: str
    asynchronous: bool
    _adaptive: Adaptive | None

    @property
    def scheduler_info(self) -> dict[str, Any]:
        """What the scheduler says about itself and its workers, as ``Client.scheduler_info()``.

        A retired worker is gone from ``["workers"]`` even while its process stays up
        (``retire_workers(close_workers=False)``), as in Dask.
        """
        if self.scheduler is None or self.status != "running":
            return {}
        if self.asynchronous or in_loop_thread():
            return self.scheduler.rpc_scheduler_info()  # type: ignore[no-any-return]
        return run_sync(_scheduler_info(self.scheduler), 30)  # type: ignore[no-any-return]

    # -- adaptive scaling -----------------------------------------------------------------------------------
    def _begin_adapting(self, minimum: int, maximum: float, interval: str | float, wait_count: int,
                        kwargs: dict[str, Any]) -> Adaptive:
        if kwargs:
            raise TypeError(f"adapt got unexpected keyword arguments {sorted(kwargs)}.")
        self._stop_adapting()
        adaptive = Adaptive(self, minimum, maximum, interval, wait_count)
        self._adaptive = adaptive
        if self.asynchronous:
            adaptive.start()
        else:
            run_sync(_start_adaptive(adaptive), 30)
        return adaptive

    def _stop_adapting(self) -> None:
        adaptive, self._adaptive = getattr(self, "_adaptive", None), None
        if adaptive is None:
            return
        loop = adaptive._task.get_loop() if adaptive._task is not None else None
        if loop is not None and not self.asynchronous and not in_loop_thread():
            loop.call_soon_threadsafe(adaptive.stop)
        else:
            adaptive.stop()

    def _least_busy(self, names: list[str], count: int) -> list[str]:
        """The ``count`` workers of ``names`` running the fewest tasks and holding the fewest bytes."""
        records = {str(ws.name): ws for ws in self.scheduler.state.workers.values()}

        def busy(name: str) -> tuple[int, int]:
            ws = records.get(str(name))
            return (0, 0) if ws is None else (len(ws.processing), ws.nbytes)

        return sorted(names, key=busy)[:max(count, 0)]

    # -- closing --------------------------------------------------------------------------------------------
    def close(self, timeout: float | None = None) -> Any:
        """Stop every worker and the scheduler."""
        if self.asynchronous:
            return self._close()  # type: ignore[attr-defined]
        if self.status != "closed":
            run_sync(self._close(), timeout or 60)  # type: ignore[attr-defined]
        return None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return await self._start()  # type: ignore[attr-defined]

    async def __aexit__(self, *exc: object) -> None:
        await self._close()  # type: ignore[attr-defined]

    def _closes_when_dropped(self) -> bool:
        return True

    def __del__(self) -> None:
        if self._closes_when_dropped() and getattr(self, "status", "closed") == "running" \
                and not getattr(self, "asynchronous", True):
            try:
                get_loop()
                self.close(timeout=10)
            except Exception:  # noqa: BLE001 - interpreter shutdown
                pass


async def _start_adaptive(adaptive: Adaptive) -> None:
    adaptive.start()


async def _scheduler_info(scheduler: Any) -> dict[str, Any]:
    return scheduler.rpc_scheduler_info()  # type: ignore[no-any-return]  # on the loop: its state changes there

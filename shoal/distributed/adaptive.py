"""Adaptive scaling: grow a cluster when work queues up, shrink it when workers sit idle.

Every ``interval`` the :class:`Adaptive` object looks at the scheduler's
tasks: those not yet finished need ``ceil(pending / threads_per_worker)``
workers, clamped to ``[minimum, maximum]``. Scaling up happens at once;
scaling down only after the smaller target held for ``wait_count``
consecutive checks, and retires workers holding the least data first (what
they hold is recomputed if it is needed again).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from shoal.utils import parse_timedelta

__all__ = ["Adaptive"]

logger = logging.getLogger("shoal.distributed.adaptive")

_PENDING = ("waiting", "processing", "no-worker", "queued")


class Adaptive:
    """The scaling loop of one cluster; see the module docstring. Stop it with :meth:`stop`."""

    def __init__(self, cluster: Any, minimum: int = 0, maximum: float = math.inf, interval: str | float = "250ms",
                 wait_count: int = 3) -> None:
        if minimum < 0 or maximum < minimum:
            raise ValueError(f"adapt needs 0 <= minimum <= maximum, got minimum={minimum}, maximum={maximum}.")
        self.cluster = cluster
        self.minimum = int(minimum)
        self.maximum = maximum
        self.interval = parse_timedelta(interval)
        self.wait_count = max(1, int(wait_count))
        self._below = 0
        self._task: asyncio.Task[None] | None = None
        #: Recent decisions as (current workers, target), newest last; bounded.
        self.log: list[tuple[int, int]] = []

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def target(self) -> int:
        """How many workers the queued and running work could use now."""
        scheduler = self.cluster.scheduler
        pending = sum(1 for ts in scheduler.state.tasks.values() if ts.status in _PENDING)
        wanted = math.ceil(pending / max(self.cluster.threads_per_worker, 1))
        return int(min(self.maximum, max(self.minimum, wanted)))

    async def _run(self) -> None:
        while self.cluster.status == "running":
            try:
                await self.adapt()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed step must not stop adapting
                logger.exception("adaptive scaling step failed")
            await asyncio.sleep(self.interval)

    async def adapt(self) -> None:
        """One step: compare the target with the running workers and scale."""
        current = len(self.cluster._live_names())
        target = self.target()
        self.log = (self.log + [(current, target)])[-100:]
        if target > current:
            self._below = 0
            await self.cluster._scale(target)
        elif target < current:
            self._below += 1
            if self._below >= self.wait_count:
                self._below = 0
                await self.cluster._scale_down_to(target)
        else:
            self._below = 0

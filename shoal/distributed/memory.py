"""Memory thresholds of a worker, as fractions of its memory limit (Dask's model).

``distributed.worker.memory.*`` sets four fractions of ``memory_limit``:

``target``     the :class:`~shoal.distributed.spill.SpillBuffer` keeps the results it holds under this
               (least recently used results go to disk first)
``spill``      the process's RSS (results plus everything else) is above this: spill results until it is
               back under ``target``
``pause``      RSS above this: the worker starts no new tasks and tells the scheduler it is ``paused``;
               the scheduler sends it no work and lets idle workers steal what it holds queued. Below it
               again, the worker resumes.
``terminate``  RSS above this: the nanny kills the worker process and starts a new one (the tasks it was
               running count as having killed a worker; see ``distributed.scheduler.allowed-failures``)

A fraction set to ``False`` (or 0) turns that step off. :class:`MemoryLimits`
turns the configuration into byte thresholds and classifies a measurement;
the worker (pause, spill) and the nanny (terminate) poll the RSS every
``distributed.worker.memory.monitor-interval`` (100ms unless set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shoal import config
from shoal.utils import parse_timedelta

if TYPE_CHECKING:
    from shoal.distributed.spill import SpillBuffer

__all__ = ["MemoryLimits", "MemoryStatus", "monitor_interval", "process_memory", "spill_until"]

MemoryStatus = Literal["ok", "spill", "paused", "terminate"]


def _fraction(name: str, default: float) -> float | None:
    value = config.get(f"distributed.worker.memory.{name}", default)
    if value is False or value is None or value == 0:
        return None
    value = float(value)
    if not 0 < value <= 2:
        raise ValueError(f"distributed.worker.memory.{name} must be a fraction of the memory limit in (0, 2] "
                         f"(or False to turn it off), got {value!r}.")
    return value


@dataclass(frozen=True, slots=True)
class MemoryLimits:
    """Byte thresholds for one worker; ``None`` where a step is turned off or there is no limit.

    Examples
    --------
    >>> limits = MemoryLimits.from_config(1000)
    >>> limits.pause, limits.terminate
    (800, 950)
    >>> limits.classify(500), limits.classify(850), limits.classify(990)
    ('ok', 'paused', 'terminate')
    >>> MemoryLimits.from_config(0).classify(10**12)   # no memory limit: never paused
    'ok'
    """

    limit: int
    target: int | None
    spill: int | None
    pause: int | None
    terminate: int | None

    @classmethod
    def from_config(cls, memory_limit: int) -> MemoryLimits:
        """Read ``distributed.worker.memory.{target,spill,pause,terminate}`` for a worker with this limit."""
        if not memory_limit:
            return cls(0, None, None, None, None)

        def part(name: str, default: float) -> int | None:
            fraction = _fraction(name, default)
            return None if fraction is None else int(memory_limit * fraction)

        return cls(memory_limit, part("target", 0.6), part("spill", 0.7), part("pause", 0.8),
                   part("terminate", 0.95))

    def classify(self, rss: int) -> MemoryStatus:
        """The most severe threshold that ``rss`` bytes cross."""
        if self.terminate is not None and rss > self.terminate:
            return "terminate"
        if self.pause is not None and rss > self.pause:
            return "paused"
        if self.spill is not None and rss > self.spill:
            return "spill"
        return "ok"


def monitor_interval() -> float:
    """Seconds between two RSS measurements (``distributed.worker.memory.monitor-interval``)."""
    return float(parse_timedelta(config.get("distributed.worker.memory.monitor-interval", "100ms")))


def process_memory(pid: int | None = None) -> int:
    """Resident set size of process ``pid`` (this one by default), in bytes; 0 when it cannot be read."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # noqa: BLE001 - a process that just exited, or no psutil
        return 0


def spill_until(buffer: SpillBuffer, target: int, measure: Callable[[], int], *, max_keys: int = 64) -> int:
    """Spill ``buffer``'s least recently used values while ``measure()`` (the RSS) exceeds ``target``.

    At most ``max_keys`` values per call, so that one check never holds the event loop for long; the
    next check continues. Returns how many values went to disk.
    """
    spilled = 0
    skipped = 0
    while spilled < max_keys and len(buffer.fast) > skipped and measure() > target:
        key = next(k for i, k in enumerate(buffer.fast) if i == skipped)
        if buffer.spill(key):
            spilled += 1
        else:
            skipped += 1
    return spilled

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

:func:`parse_memory_limit` is the one reading of a ``memory_limit`` option
(``LocalCluster``, ``Worker``, ``Nanny`` specs, ``shoal worker --memory-limit``),
as Dask reads it: bytes, ``"4GiB"``, a float up to 1 as a fraction of
:func:`system_memory`, ``"auto"``, or 0/None for no limit.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shoal import config
from shoal.utils import format_bytes, parse_bytes, parse_timedelta

if TYPE_CHECKING:
    from shoal.distributed.spill import SpillBuffer

__all__ = ["MemoryLimits", "MemoryStatus", "monitor_interval", "parse_memory_limit", "process_memory", "spill_until",
           "system_memory"]

logger = logging.getLogger("shoal.distributed.worker")

_CGROUP_LIMITS = ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
                  "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.high", "/sys/fs/cgroup/memory.low")

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


def system_memory() -> int:
    """Bytes of memory this process may use: physical memory, lowered by a cgroup limit or ``RLIMIT_RSS``.

    Dask's ``distributed.system.MEMORY_LIMIT``: in a container the cgroup limit is the real ceiling.
    """
    try:
        import psutil

        limit = int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - no psutil: assume a small machine rather than none
        limit = 8 << 30
    if sys.platform == "linux":
        for path in _CGROUP_LIMITS:
            try:
                with open(path) as f:
                    value = int(f.read())  # "max" (no limit) fails here and is skipped
            except (OSError, ValueError):
                continue
            if value > 0:
                limit = min(limit, value)
    if sys.platform != "win32":
        try:
            import resource

            hard = resource.getrlimit(resource.RLIMIT_RSS)[1]
            if 0 < hard < limit:
                limit = hard
        except (ImportError, OSError, ValueError):
            pass
    return limit


def parse_memory_limit(memory_limit: str | float | None, nthreads: int = 1, total_cores: int | None = None,
                       *, where: str = "memory_limit") -> int:
    """Bytes per worker for a ``memory_limit`` option, 0 meaning no limit; mirrors Dask's reading.

    ``None`` or 0: no limit. ``"auto"``: :func:`system_memory` times ``nthreads / total_cores`` (the share of
    the machine this worker's threads are; at most all of it). A number up to 1 (``0.5``, ``"0.25"``): that
    fraction of :func:`system_memory`. A larger number: bytes. A string with a unit: ``"4GiB"``, ``"500MB"``.
    More than the machine has is lowered to :func:`system_memory` with a warning, as Dask does.

    Parameters
    ----------
    memory_limit : str, float, int or None
    nthreads : int
        Threads of the worker (for ``"auto"``).
    total_cores : int, optional
        Cores of the machine (for ``"auto"``); ``os.cpu_count()`` by default.
    where : str
        What the option is called, for error messages (e.g. ``"--memory-limit"``).

    Raises
    ------
    ValueError
        Negative, or a string that is neither ``"auto"``, a number nor a size like ``"4GiB"``.

    Examples
    --------
    >>> parse_memory_limit("2GiB")
    2147483648
    >>> parse_memory_limit(0), parse_memory_limit(None)
    (0, 0)
    >>> parse_memory_limit(0.5) == system_memory() // 2
    True
    >>> parse_memory_limit("auto", nthreads=1, total_cores=4) == system_memory() // 4
    True
    """
    if memory_limit is None or memory_limit is False:
        return 0
    if isinstance(memory_limit, bool):
        raise TypeError(f"{where}={memory_limit!r}: give bytes, a size like '4GiB', a fraction like 0.5, 'auto', "
                        f"or 0 for no limit.")
    total = system_memory()
    value: float | int | str = memory_limit
    if isinstance(value, str) and value.strip().lower() == "auto":
        cores = total_cores or os.cpu_count() or 1
        return int(total * min(1.0, max(nthreads, 1) / cores))
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is not None:
        if number < 0 or number != number:
            raise ValueError(f"{where}={memory_limit!r} is negative or NaN; give bytes, a size like '4GiB', a "
                             f"fraction of the machine's memory like 0.5, 'auto', or 0 for no limit.")
        limit = int(number * total) if number <= 1 else int(number)
    else:
        try:
            limit = int(parse_bytes(value))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}={memory_limit!r} is not a memory size ({exc}); give bytes, a size like "
                             f"'4GiB', a fraction of the machine's memory like 0.5, 'auto', or 0 for no "
                             f"limit.") from None
    if limit > total:
        logger.warning("Ignoring %s=%r: more than this machine's memory (%s); using %s instead.", where,
                       memory_limit, format_bytes(total), format_bytes(total))
        return total
    return limit


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

"""Bounded histories the dashboard keeps itself: workers' CPU and memory over time, a cursor over the task stream.

The scheduler keeps only each worker's latest heartbeat, so the dashboard
samples those on its own timer (every ``interval`` seconds, the last
``length`` samples: 600 x 0.5 s = five minutes) and answers the workers page's
charts from memory. Sampling is one pass over the workers, cheap enough for
the event loop.

Bytes moved between workers and to disk are totalled by the scheduler state
itself (``SchedulerState.activity_bytes``), as the records arrive.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoal.distributed.state.scheduler import SchedulerState

__all__ = ["StreamCursor", "WorkerHistory"]


class WorkerHistory:
    """The last ``length`` samples of every worker's CPU % and memory (RSS bytes).

    Examples
    --------
    >>> history = WorkerHistory(length=2)
    >>> for t in (1.0, 2.0, 3.0):
    ...     history.record(t, {"tcp://a:1": (50.0 * t, 1000)})
    >>> history.payload()["times"], history.payload()["workers"]["tcp://a:1"]["cpu"]
    ([2.0, 3.0], [100.0, 150.0])
    """

    def __init__(self, length: int = 600) -> None:
        self.length = length
        self.times: deque[float] = deque(maxlen=length)
        #: Per worker, samples aligned with the *end* of ``times`` (a worker that joined late has fewer).
        self.cpu: dict[str, deque[float]] = {}
        self.memory: dict[str, deque[int]] = {}

    def record(self, now: float, samples: dict[str, tuple[float, int]]) -> None:
        """Add one sample per worker (``{address: (cpu %, memory bytes)}``); workers that left are dropped."""
        self.times.append(now)
        for gone in set(self.cpu) - set(samples):
            del self.cpu[gone], self.memory[gone]
        for address, (cpu, memory) in samples.items():
            if address not in self.cpu:
                self.cpu[address] = deque(maxlen=self.length)
                self.memory[address] = deque(maxlen=self.length)
            self.cpu[address].append(cpu)
            self.memory[address].append(memory)

    def sample(self, state: SchedulerState, now: float) -> None:
        """Record the workers' latest heartbeat figures."""
        self.record(now, {ws.address: (float(ws.metrics.get("cpu", 0.0) or 0.0), int(ws.metrics.get("memory", 0) or 0))
                          for ws in state.workers.values()})

    def payload(self) -> dict[str, Any]:
        return {"times": list(self.times),
                "workers": {a: {"cpu": list(self.cpu[a]), "memory": list(self.memory[a])} for a in self.cpu}}


class StreamCursor:
    """Numbers task-stream entries in arrival order, so a page can ask for exactly the entries it lacks.

    Entries arrive roughly but not exactly in order of their stop times (workers report in batches), so a
    time-based ``since`` must overlap; a count cannot miss or repeat an entry. ``count`` is the number of
    entries appended to the stream since the dashboard started watching it.

    Examples
    --------
    >>> stream, cursor = deque(maxlen=3), StreamCursor()
    >>> stream.extend([{"n": 1}, {"n": 2}])
    >>> cursor.update(stream)
    2
    >>> stream.extend([{"n": 3}, {"n": 4}])
    >>> [e["n"] for e in cursor.after(stream, 2)]
    [3, 4]
    >>> [e["n"] for e in cursor.after(stream, 0)]  # the first entry has left the bounded stream
    [2, 3, 4]
    """

    def __init__(self) -> None:
        self.count = 0
        self._last: dict[str, Any] | None = None

    def update(self, stream: deque[dict[str, Any]]) -> int:
        """Count entries appended since the last call (by identity: entries are never rebuilt); return ``count``."""
        new = 0
        for entry in reversed(stream):
            if entry is self._last:
                break
            new += 1
        self.count += new
        if stream:
            self._last = stream[-1]
        return self.count

    def after(self, stream: deque[dict[str, Any]], cursor: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries appended after the ``cursor``-th, oldest first; the newest ``limit`` of them when more."""
        count = self.update(stream)
        # A cursor from before a restart of the dashboard (larger than ours) starts over.
        wanted = count - cursor if 0 <= cursor <= count else len(stream)
        n = min(wanted, len(stream), limit if limit is not None else wanted)
        picked = list(islice(reversed(stream), n))
        picked.reverse()
        return picked

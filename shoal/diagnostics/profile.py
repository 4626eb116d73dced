"""Profilers for computations on the local schedulers.

Each profiler is a :class:`~shoal.local.callbacks.Callback` that records one
kind of fact about a run and keeps the records, as named tuples, in
``.results``:

:class:`Profiler` -> :data:`TaskData`
    when each task started and ended, and on which worker. ``start_time`` is
    taken in ``pretask`` (the task is handed to a worker) and ``end_time`` in
    ``posttask`` (its result is stored), both on the loop's thread. A task
    that raised has no ``posttask`` and so no record.
:class:`ResourceProfiler` -> :data:`ResourceData`
    memory and CPU use of this process and its children, sampled every ``dt``
    seconds by a background thread with psutil.
:class:`CacheProfiler` -> :data:`CacheData`
    how long each result stayed in ``state.cache`` and a metric of its size.

All times come from :func:`timeit.default_timer`, so records of different
profilers of the same run can be drawn on one time axis
(:func:`shoal.diagnostics.visualize`). Records accumulate across
computations until :meth:`clear`; entering a profiler as a context manager
clears it first, as in Dask.

psutil (and Bokeh, for plots) are imported only when needed, so importing
this module stays cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from timeit import default_timer
from typing import TYPE_CHECKING, Any, NamedTuple

from shoal.local.callbacks import Callback

if TYPE_CHECKING:
    from shoal.local.state import ExecutionState

__all__ = [
    "CacheData",
    "CacheProfiler",
    "Profiler",
    "ResourceData",
    "ResourceProfiler",
    "TaskData",
]

#: How long stopping the resource sampler waits for its thread, in seconds.
#: The thread wakes as soon as it is told to stop, so this bounds only a
#: psutil call that hangs.
_JOIN_TIMEOUT = 5.0


class TaskData(NamedTuple):
    """One task run, as recorded by :class:`Profiler`."""

    key: Hashable
    task: Any
    start_time: float
    end_time: float
    worker_id: int


class ResourceData(NamedTuple):
    """One sample taken by :class:`ResourceProfiler`."""

    time: float
    #: Resident memory of the process and its children, in MB (10**6 bytes).
    mem: float
    #: CPU use of the process and its children, in percent of one core.
    cpu: float


class CacheData(NamedTuple):
    """The life of one result in the cache, as recorded by :class:`CacheProfiler`."""

    key: Hashable
    task: Any
    metric: Any
    cache_time: float
    free_time: float


class Profiler(Callback):
    """Record when each task ran and on which worker.

    Mirrors ``dask.diagnostics.Profiler``.

    Attributes
    ----------
    results : list of TaskData
        One ``TaskData(key, task, start_time, end_time, worker_id)`` per task
        that finished, in the order they finished.
    start_time, end_time : float or None
        When the last computation started and finished.

    See Also
    --------
    ResourceProfiler, CacheProfiler, shoal.diagnostics.visualize

    Notes
    -----
    Times are taken on the loop's thread: ``start_time`` when the task is
    handed to a worker, ``end_time`` when its result is stored. On the
    threads and processes schedulers, short tasks travel in batches, so their
    times are those of the batch rather than of the task alone.

    Examples
    --------
    >>> from shoal.local import get_sync
    >>> with Profiler() as prof:
    ...     get_sync({"x": 1, "y": (abs, "x")}, "y")
    1
    >>> sorted(r.key for r in prof.results)
    ['x', 'y']
    >>> all(r.start_time <= r.end_time for r in prof.results)
    True
    """

    def __init__(self) -> None:
        self.results: list[TaskData] = []
        self.start_time: float | None = None
        self.end_time: float | None = None
        #: key -> (task, start time) for tasks handed out and not yet back.
        self._started: dict[Hashable, tuple[Any, float]] = {}

    def __enter__(self) -> Profiler:
        self.clear()
        super().__enter__()
        return self

    def _start(self, graph: Mapping[Any, Any]) -> None:
        self.start_time = default_timer()
        self.end_time = None

    def _pretask(
        self, key: Hashable, graph: Mapping[Any, Any], state: ExecutionState
    ) -> None:
        self._started[key] = (graph.get(key), default_timer())

    def _posttask(
        self,
        key: Hashable,
        value: Any,
        graph: Mapping[Any, Any],
        state: ExecutionState,
        worker_id: int,
    ) -> None:
        end = default_timer()
        started = self._started.pop(key, None)
        # A task without pretask (the loop stored an input directly) ran for
        # no measurable time.
        task, start = started if started is not None else (graph.get(key), end)
        self.results.append(TaskData(key, task, start, end, worker_id))

    def _finish(
        self, graph: Mapping[Any, Any], state: ExecutionState, errored: bool
    ) -> None:
        self.end_time = default_timer()
        # Tasks still listed here were running when another task failed.
        self._started.clear()

    def clear(self) -> None:
        """Forget all records."""
        self.results = []
        self.start_time = None
        self.end_time = None
        self._started = {}

    def _time_origin(self) -> float | None:
        times = [r.start_time for r in self.results]
        if self.start_time is not None:
            times.append(self.start_time)
        return min(times, default=None)


    def visualize(self, **kwargs: Any) -> Any:
        """Plot the records with Bokeh; see :func:`shoal.diagnostics.visualize`."""
        from shoal.diagnostics.profile_visualize import visualize

        return visualize(self, **kwargs)


class ResourceProfiler(Callback):
    """Sample memory and CPU use while computations run.

    Mirrors ``dask.diagnostics.ResourceProfiler``. A background thread asks
    psutil, every ``dt`` seconds, for the resident memory and CPU use of this
    process plus all its children (the workers of the processes scheduler).

    Parameters
    ----------
    dt : float, optional
        Seconds between two samples.

    Attributes
    ----------
    results : list of ResourceData
        ``ResourceData(time, mem, cpu)`` samples; ``mem`` in MB, ``cpu`` in
        percent of one core (so above 100 when several cores are busy).

    Notes
    -----
    Registered (:meth:`register`), it samples from the start to the end of
    each computation. As a context manager it samples for the whole ``with``
    block, across computations and the time between them, and stops on exit.
    :meth:`close` stops the sampler explicitly.

    Examples
    --------
    >>> from shoal.local import get_sync
    >>> with ResourceProfiler(dt=0.01) as rprof:
    ...     get_sync({"x": 1, "y": (abs, "x")}, "y")
    1
    >>> len(rprof.results) >= 1 and all(r.mem > 0 for r in rprof.results)
    True
    """

    def __init__(self, dt: float = 1) -> None:
        self._dt = dt
        self.results: list[ResourceData] = []
        self._results_lock = threading.Lock()
        self._tracker: _ResourceTracker | None = None
        #: True inside ``with``: computations must not stop the sampler.
        self._entered = False

    def __enter__(self) -> ResourceProfiler:
        self._entered = True
        self.clear()
        self._start_collecting()
        super().__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self._entered = False
        super().__exit__(*args)
        self.close()

    def _start(self, graph: Mapping[Any, Any]) -> None:
        self._start_collecting()

    def _finish(
        self, graph: Mapping[Any, Any], state: ExecutionState, errored: bool
    ) -> None:
        if not self._entered:
            self.close()

    def _start_collecting(self) -> None:
        if self._tracker is None:
            self._tracker = _ResourceTracker(self._dt, self._record)
            self._tracker.start()

    def _record(self, sample: ResourceData) -> None:
        with self._results_lock:
            self.results.append(sample)

    def close(self) -> None:
        """Stop sampling and wait (boundedly) for the sampler thread to end."""
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.stop()

    def clear(self) -> None:
        """Forget all samples."""
        with self._results_lock:
            self.results = []

    def _time_origin(self) -> float | None:
        return min((r.time for r in self.results), default=None)


    def visualize(self, **kwargs: Any) -> Any:
        """Plot the samples with Bokeh; see :func:`shoal.diagnostics.visualize`."""
        from shoal.diagnostics.profile_visualize import visualize

        return visualize(self, **kwargs)


class _ResourceTracker:
    """The sampler thread behind :class:`ResourceProfiler`.

    It takes a sample as soon as it starts, then one every ``dt`` seconds, and
    a last one when stopped, so even a computation shorter than ``dt`` gets
    samples from both ends.
    """

    def __init__(self, dt: float, record: Callable[[ResourceData], None]) -> None:
        try:
            import psutil
        except ImportError as exc:
            raise ImportError(
                "ResourceProfiler measures memory and CPU with psutil, which is "
                "not installed. Install it with `pip install shoal[diagnostics]` "
                "(or `pip install psutil`)."
            ) from exc

        self._psutil = psutil
        self._dt = dt
        self._record = record
        self._stopped = threading.Event()
        self._parent = psutil.Process()
        #: pid -> Process for the parent and the children seen so far. The same
        #: objects must be reused: ``cpu_percent`` measures since the previous
        #: call on that object, and its first call always returns 0.
        self._procs: dict[int, Any] = {self._parent.pid: self._parent}
        self._thread = threading.Thread(
            target=self._run, name="shoal-resource-tracker", daemon=True
        )

    def start(self) -> None:
        self._parent.cpu_percent()  # prime: the first reading is meaningless
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=_JOIN_TIMEOUT)

    def _run(self) -> None:
        self._sample()
        while not self._stopped.wait(self._dt):
            self._sample()
        self._sample()

    def _sample(self) -> None:
        psutil = self._psutil
        try:
            children = self._parent.children(recursive=True)
        except psutil.Error:
            children = []
        alive = {self._parent.pid} | {child.pid for child in children}
        for child in children:
            self._procs.setdefault(child.pid, child)
        mem = 0.0
        cpu = 0.0
        for pid in list(self._procs):
            proc = self._procs[pid]
            if pid not in alive:
                del self._procs[pid]
                continue
            try:
                mem += proc.memory_info().rss
                cpu += proc.cpu_percent()
            except psutil.Error:
                # The child exited (or became inaccessible) between listing
                # and reading it; it no longer uses anything.
                del self._procs[pid]
        self._record(ResourceData(default_timer(), mem / 1e6, cpu))


def _count(value: Any) -> int:
    return 1


class CacheProfiler(Callback):
    """Record how long each result stays in the scheduler's cache.

    Mirrors ``dask.diagnostics.CacheProfiler``.

    Parameters
    ----------
    metric : callable, optional
        Called on each result to measure it (for instance ``sys.getsizeof``
        or ``lambda a: a.nbytes``). Defaults to counting: 1 per result.
    metric_name : str, optional
        Name of the metric in plots. Defaults to the function's ``__name__``,
        or ``"count"``.

    Attributes
    ----------
    results : list of CacheData
        ``CacheData(key, task, metric, cache_time, free_time)`` per result,
        in the order the results were freed.

    Notes
    -----
    A result is freed when it leaves ``state.cache``: the loop drops it once
    the last task that needs it has run. This profiler notices that after
    each task and at the end of the computation, when everything left
    (the requested keys, or all results after an error) counts as freed.

    Examples
    --------
    >>> from shoal.local import get_sync
    >>> graph = {"x": 1, "y": (abs, "x"), "z": (abs, "y")}
    >>> with CacheProfiler() as cprof:
    ...     get_sync(graph, "z")
    1
    >>> sorted(r.key for r in cprof.results)
    ['x', 'y', 'z']
    >>> sum(r.metric for r in cprof.results)
    3
    """

    def __init__(
        self,
        metric: Callable[[Any], Any] | None = None,
        metric_name: str | None = None,
    ) -> None:
        self._metric: Callable[[Any], Any] = metric if metric is not None else _count
        if metric_name is not None:
            self._metric_name = metric_name
        elif metric is not None:
            self._metric_name = getattr(metric, "__name__", type(metric).__name__)
        else:
            self._metric_name = "count"
        self.results: list[CacheData] = []
        self.start_time: float | None = None
        #: key -> (task, metric, cache time) for results still in the cache.
        self._live: dict[Hashable, tuple[Any, Any, float]] = {}

    @property
    def metric_name(self) -> str:
        """Name of the metric, as shown in plots."""
        return self._metric_name

    def __enter__(self) -> CacheProfiler:
        self.clear()
        super().__enter__()
        return self

    def _start(self, graph: Mapping[Any, Any]) -> None:
        self.start_time = default_timer()
        self._live = {}

    def _posttask(
        self,
        key: Hashable,
        value: Any,
        graph: Mapping[Any, Any],
        state: ExecutionState,
        worker_id: int,
    ) -> None:
        now = default_timer()
        self._free_missing(state.cache, now)
        self._live[key] = (graph.get(key), self._metric(value), now)

    def _finish(
        self, graph: Mapping[Any, Any], state: ExecutionState, errored: bool
    ) -> None:
        now = default_timer()
        self._free_missing(state.cache, now)
        # What is still cached (the requested results) is handed back to the
        # caller now; for the profile, it leaves the cache here.
        self._free_missing({}, now)

    def _free_missing(self, cache: Mapping[Any, Any], now: float) -> None:
        # The live set is small when the loop releases results promptly, which
        # is what ``order`` aims for, so scanning it after each task is cheap.
        gone = [key for key in self._live if key not in cache]
        for key in gone:
            task, metric, cache_time = self._live.pop(key)
            self.results.append(CacheData(key, task, metric, cache_time, now))

    def clear(self) -> None:
        """Forget all records."""
        self.results = []
        self.start_time = None
        self._live = {}

    def _time_origin(self) -> float | None:
        times = [r.cache_time for r in self.results]
        if self.start_time is not None:
            times.append(self.start_time)
        return min(times, default=None)


    def visualize(self, **kwargs: Any) -> Any:
        """Plot the records with Bokeh; see :func:`shoal.diagnostics.visualize`."""
        from shoal.diagnostics.profile_visualize import visualize

        return visualize(self, **kwargs)

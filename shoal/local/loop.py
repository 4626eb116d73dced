"""The one executor loop behind the sync, threads and processes schedulers.

``execute`` runs a graph to produce the requested keys. The thread that calls
it drives the loop and owns all state (an
:class:`~shoal.local.state.ExecutionState`); workers only run tasks.

Selection policy
    Ready tasks wait in a heap ordered by the static priority from
    :func:`shoal.graph.order` (annotated ``priority`` first, higher first).
    The lowest number runs next, so a branch finishes before the next starts
    and intermediate results are released early.

Releasing
    Each finished key counts the dependents that have not finished yet; when
    that count reaches zero the result leaves ``state.cache`` (unless the
    caller asked for it). Memory therefore holds only results still needed.

Batches
    With an executor (threads or processes) the loop hands out ready tasks in
    batches: one ``submit`` per batch amortizes the cost of a thread wake-up
    or a pickle round trip over several tiny tasks. Batches grow only while
    tasks are measured to be short (under a millisecond on average), and the
    number of tasks out at once is capped, so long tasks still spread over
    every worker and a wide graph never has more than a few dozen results in
    flight.

Inline running
    When exactly one task is ready and none is running, nothing can run in
    parallel with it, so the loop runs it in its own thread rather than pay a
    hand-off: a 5,000-task chain runs at the speed of the sync scheduler.

Errors
    A task that raises stops the computation: the original exception is
    re-raised in the caller's thread with its original traceback and a note
    naming the key. Tasks already running elsewhere are left to finish; their
    results are dropped.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

from shoal.graph.cull import cull
from shoal.graph.order import order
from shoal.graph.task import Alias, DataNode, GraphNode, Key, convert_legacy_graph, is_key
from shoal.graph.toposort import reverse_dependencies
from shoal.local.callbacks import CallbackTuple, active_callbacks
from shoal.local.state import ExecutionState

__all__ = ["Batch", "BatchResult", "Submit", "execute", "flatten_keys", "pack_results", "run_batch"]

#: A batch as it travels to a worker: (key, node, the values of its dependencies).
Batch = list[tuple[Key, GraphNode, dict[Key, Any]]]
#: What a worker returns per task: (key, ok, result or exception, remote traceback text).
Outcome = tuple[Key, bool, Any, str | None]
#: What running a batch returns: its outcomes, the worker's id and the seconds it took.
BatchResult = tuple[list[Outcome], int, float]
#: Hands a batch to a worker; the future resolves to a :data:`BatchResult`.
Submit = Callable[[Batch], "Future[BatchResult]"]

# Tasks shorter than this on average are worth batching.
_SHORT_TASK_SECONDS = 1e-3
_MAX_BATCH = 8
_TRIVIAL = (DataNode, Alias)


def flatten_keys(keys: Any) -> list[Key]:
    """Return the keys in a possibly nested list of keys, in order.

    >>> flatten_keys(["a", [("b", 0), ["c"]]])
    ['a', ('b', 0), 'c']
    """
    if type(keys) is not list:
        return [keys]
    out: list[Key] = []
    stack = [iter(keys)]
    while stack:
        for item in stack[-1]:
            if type(item) is list:
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def pack_results(keys: Any, results: Mapping[Key, Any]) -> Any:
    """Arrange ``results`` in the nested-list shape of ``keys``."""
    if type(keys) is not list:
        return results[keys]
    return [pack_results(k, results) for k in keys]


_worker_ids = threading.local()
_worker_counter = iter(range(1, 1 << 62))
_worker_counter_lock = threading.Lock()


def _current_worker_id() -> int:
    wid = getattr(_worker_ids, "id", None)
    if wid is None:
        with _worker_counter_lock:
            wid = _worker_ids.id = next(_worker_counter)
    return wid


def run_batch(batch: Batch) -> BatchResult:
    """Run the tasks of a batch in order, in the calling thread.

    Stops at the first task that raises; its outcome carries the exception.
    """
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for key, node, values in batch:
        try:
            outcomes.append((key, True, node(values), None))
        except BaseException as exc:  # noqa: BLE001 - every failure is data for the loop
            outcomes.append((key, False, exc, None))
            break
    return outcomes, _current_worker_id(), time.perf_counter() - started


def _raise_task_error(key: Key, exc: BaseException, remote_tb: str | None) -> None:
    if remote_tb:
        exc.add_note(f"shoal: traceback in the worker process:\n{remote_tb}")
    exc.add_note(f"shoal: raised while computing {key!r}")
    raise exc


def _effective_priorities(nodes: Mapping[Key, GraphNode], static: dict[Key, int]) -> dict[Key, int]:
    """Fold annotated ``priority`` (higher first) into the static order, if any task has one."""
    annotated = {}
    for key, node in nodes.items():
        annotations = getattr(node, "annotations", None)
        if annotations and "priority" in annotations:
            annotated[key] = annotations["priority"]
    if not annotated:
        return static
    ranked = sorted(static, key=lambda k: (-annotated.get(k, 0), static[k]))
    return {key: i for i, key in enumerate(ranked)}


def execute(
    graph: Mapping[Key, Any],
    keys: Any,
    *,
    submit: Submit | None = None,
    num_workers: int = 1,
    inline_single: bool = True,
    callbacks: Any = None,
    cache: dict[Key, Any] | None = None,
) -> Any:
    """Compute ``keys`` from ``graph`` and return their results.

    Parameters
    ----------
    graph : mapping
        Keys to nodes, or to Dask-style values (converted once here).
    keys : key or nested list of keys
        What to compute; the result has the same nesting.
    submit : callable, optional
        Hands a batch to a worker and returns a future of its
        :data:`BatchResult` (see :func:`run_batch`); may raise to refuse a
        batch. ``None`` runs every task in the calling thread.
    num_workers : int
        How many tasks can run at once; sizes the batches.
    inline_single : bool
        Run a task in the calling thread when it is the only one that can
        run (see the module docstring). The processes scheduler turns this
        off: its tasks must run in a worker process.
    callbacks : Callback or list, optional
        Extra callbacks for this run, on top of the registered ones.
    cache : dict, optional
        Results already known; tasks for these keys are not run.
    """
    flat = flatten_keys(keys)
    for key in flat:
        if not is_key(key):
            raise TypeError(f"{key!r} is not a key: keys are str, int or tuples of those.")
    nodes, dependencies = cull(convert_legacy_graph(graph), flat)
    priorities = _effective_priorities(nodes, order(nodes, dependencies))

    state = ExecutionState(
        dependencies=dependencies,
        dependents=reverse_dependencies(dependencies),
        priority=priorities,
        targets=frozenset(flat),
    )
    if cache:
        state.cache.update({k: v for k, v in cache.items() if k in nodes})
    hooks = active_callbacks(callbacks)
    errored = True
    try:
        # Inside the try: a start hook that raises still gets every finish hook
        # called, so progress bars and samplers stop their threads.
        for hook in hooks:
            if hook[0]:
                hook[0](nodes)
        loop = _Loop(nodes, state, hooks)
        for hook in hooks:
            if hook[1]:
                hook[1](nodes, state)
        if submit is None:
            loop.run_inline()
        else:
            loop.run_with(submit, num_workers, inline_single)
        errored = False
    finally:
        for hook in hooks:
            if hook[4]:
                hook[4](nodes, state, errored)
    return pack_results(keys, state.cache)


class _Loop:
    """The mutable part of one ``execute`` call; see the module docstring."""

    def __init__(self, nodes: dict[Key, GraphNode], state: ExecutionState, hooks: list[CallbackTuple]) -> None:
        self.nodes = nodes
        self.state = state
        self.pretask = [h[2] for h in hooks if h[2]]
        self.posttask = [h[3] for h in hooks if h[3]]
        # key -> dependents not finished yet; the result is released at zero.
        self.unfinished_dependents = {k: len(v) for k, v in state.dependents.items()}
        priority = state.priority
        ready = state.ready
        waiting = state.waiting
        known = state.cache
        for key, deps in state.dependencies.items():
            if key in known:
                state.finished.add(key)
                continue
            missing = sum(1 for d in deps if d not in known)
            if missing:
                waiting[key] = missing
            else:
                ready.append((priority[key], key))
        heapq.heapify(ready)
        # Keys supplied through ``cache=`` count as finished for their dependents.
        for key in list(state.finished):
            for dep in state.dependencies[key]:
                self.unfinished_dependents[dep] -= 1

    def finish(self, key: Key, result: Any, worker_id: int) -> None:
        state = self.state
        cache = state.cache
        cache[key] = result
        state.finished.add(key)
        state.running.discard(key)
        for hook in self.posttask:
            hook(key, result, self.nodes, state, worker_id)
        unfinished = self.unfinished_dependents
        targets = state.targets
        for dep in state.dependencies[key]:
            unfinished[dep] -= 1
            if unfinished[dep] == 0 and dep not in targets:
                del cache[dep]
                state.released.add(dep)
        waiting = state.waiting
        priority = state.priority
        for child in state.dependents[key]:
            left = waiting[child] - 1
            if left:
                waiting[child] = left
            else:
                del waiting[child]
                heapq.heappush(state.ready, (priority[child], child))

    def run_one_inline(self) -> None:
        _, key = heapq.heappop(self.state.ready)
        for hook in self.pretask:
            hook(key, self.nodes, self.state)
        try:
            result = self.nodes[key](self.state.cache)
        except BaseException as exc:
            _raise_task_error(key, exc, None)
        self.finish(key, result, 0)

    def run_inline(self) -> None:
        ready = self.state.ready
        while ready:
            self.run_one_inline()

    def run_with(self, submit: Submit, num_workers: int, inline_single: bool) -> None:
        state = self.state
        ready = state.ready
        cache = state.cache
        nodes = self.nodes
        done: SimpleQueue[Future[BatchResult]] = SimpleQueue()
        workers = max(1, num_workers)
        max_batches = 2 * workers
        batches_out = 0
        average = 1.0  # seconds per task, measured; start pessimistic: no batching
        while ready or batches_out:
            while ready and batches_out < max_batches:
                if inline_single and not batches_out and len(ready) == 1:
                    self.run_one_inline()
                    continue
                size = 1
                if average < _SHORT_TASK_SECONDS:
                    size = max(1, min(_MAX_BATCH, len(ready) // max_batches))
                batch: Batch = []
                for _ in range(size):
                    _, key = heapq.heappop(ready)
                    for hook in self.pretask:
                        hook(key, nodes, state)
                    node = nodes[key]
                    if type(node) in _TRIVIAL:
                        # Literals and aliases cost nothing: no worker needed.
                        self.finish(key, node(cache), 0)
                        if not ready:
                            break
                        continue
                    batch.append((key, node, {d: cache[d] for d in node.dependencies}))
                    state.running.add(key)
                    if not ready:
                        break
                if batch:
                    submit(batch).add_done_callback(done.put)
                    batches_out += 1
            if not batches_out:
                continue
            future = done.get()
            while True:
                batches_out -= 1
                outcomes, worker_id, seconds = future.result()
                if outcomes:
                    average = 0.7 * average + 0.3 * (seconds / len(outcomes))
                for key, ok, value, remote_tb in outcomes:
                    if not ok:
                        self._wait_for(done, batches_out)
                        _raise_task_error(key, value, remote_tb)
                    self.finish(key, value, worker_id)
                if done.empty():
                    break
                future = done.get()

    @staticmethod
    def _wait_for(done: SimpleQueue[Future[BatchResult]], batches_out: int) -> None:
        """Let the batches still running finish (their results are dropped) before an error propagates.

        Whoever handles the error (a writer removing its staging directory, a user retrying) then finds
        no task of this graph still running and writing behind its back. Nothing new starts meanwhile.
        """
        for _ in range(batches_out):
            done.get()


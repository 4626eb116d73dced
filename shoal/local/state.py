"""The state of one run of the local executor loop.

The loop (``shoal.local.loop``) owns one :class:`ExecutionState` per call of
``get``. Callbacks receive it and may read it; only the loop writes it. The
fields and the invariants the loop keeps between two tasks:

- every key of the culled graph is in exactly one of ``waiting`` (some
  dependency unfinished), ``ready`` (all dependencies finished, not yet
  started), ``running`` (handed to a worker) and ``finished``;
- ``cache`` holds the result of a finished key until the last task that needs
  it has finished; requested keys stay until the end. ``released`` lists the
  finished keys whose results were dropped, so ``finished`` = ``cache`` keys
  + ``released``;
- ``priority`` is the static order from :func:`shoal.graph.order`; lower runs
  first, so one branch of the graph completes before the next one starts.

For callbacks written against Dask, ``state["cache"]`` works like
``state.cache``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoal.graph.task import Key

__all__ = ["ExecutionState"]


@dataclass(slots=True, eq=False)
class ExecutionState:
    """What the executor loop knows while it runs one graph."""

    #: key -> result, for finished keys still needed by a dependent or requested.
    cache: dict[Key, Any] = field(default_factory=dict)
    #: key -> number of its dependencies that have not finished yet (> 0).
    waiting: dict[Key, int] = field(default_factory=dict)
    #: heap of (priority, key) for tasks whose dependencies have all finished.
    ready: list[tuple[int, Key]] = field(default_factory=list)
    #: keys handed to a worker and not yet back.
    running: set[Key] = field(default_factory=set)
    #: keys whose task has finished (their result may since have been released).
    finished: set[Key] = field(default_factory=set)
    #: finished keys whose results were dropped because nothing needs them any more.
    released: set[Key] = field(default_factory=set)
    #: key -> the keys it depends on.
    dependencies: dict[Key, frozenset[Key]] = field(default_factory=dict)
    #: key -> the keys that depend on it.
    dependents: dict[Key, list[Key]] = field(default_factory=dict)
    #: key -> static priority from ``order``; lower first.
    priority: dict[Key, int] = field(default_factory=dict)
    #: the keys the caller asked for; never released before the end.
    targets: frozenset[Key] = frozenset()

    @property
    def total(self) -> int:
        """Number of tasks in this run."""
        return len(self.dependencies)

    def __getitem__(self, name: str) -> Any:
        # Dask's callbacks index the state like a dict ("cache", "finished", ...).
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

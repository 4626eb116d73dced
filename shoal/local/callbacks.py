"""Hooks that every local scheduler calls while it runs a graph.

A :class:`Callback` bundles up to five functions. The executor loop collects
the active ones when a computation starts and calls them, always from the
thread that drives the loop (never from a worker thread), at these points:

``start(graph)``
    before anything runs; ``graph`` is the mapping of keys to tasks that will
    run (after culling and optimization).
``start_state(graph, state)``
    once the :class:`~shoal.local.state.ExecutionState` is built.
``pretask(key, graph, state)``
    just before the task for ``key`` is handed to a worker.
``posttask(key, result, graph, state, worker_id)``
    just after the result of ``key`` is stored in ``state.cache``.
``finish(graph, state, errored)``
    when the computation ends, successfully or not.

A callback is active inside ``with cb:`` blocks and, globally, between
``cb.register()`` and ``cb.unregister()``. The signatures are Dask's, so
callbacks written for ``dask.callbacks.Callback`` work unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Callback", "active_callbacks"]

CallbackTuple = tuple[
    Callable[..., Any] | None,
    Callable[..., Any] | None,
    Callable[..., Any] | None,
    Callable[..., Any] | None,
    Callable[..., Any] | None,
]


class Callback:
    """A set of functions the local schedulers call as they run a graph.

    Parameters
    ----------
    start, start_state, pretask, posttask, finish : callable, optional
        See the module docstring for when each is called and with what.
        Subclasses may define ``_start``, ``_start_state``, ``_pretask``,
        ``_posttask`` and ``_finish`` methods instead.

    Examples
    --------
    >>> from shoal.local import get_sync
    >>> seen = []
    >>> with Callback(pretask=lambda key, graph, state: seen.append(key)):
    ...     get_sync({"x": 1, "y": (abs, "x")}, "y")
    1
    >>> seen
    ['x', 'y']
    """

    #: Callbacks registered with :meth:`register`, active for every computation.
    active: ClassVar[set[CallbackTuple]] = set()

    def __init__(
        self,
        start: Callable[..., Any] | None = None,
        start_state: Callable[..., Any] | None = None,
        pretask: Callable[..., Any] | None = None,
        posttask: Callable[..., Any] | None = None,
        finish: Callable[..., Any] | None = None,
    ) -> None:
        if start:
            self._start = start
        if start_state:
            self._start_state = start_state
        if pretask:
            self._pretask = pretask
        if posttask:
            self._posttask = posttask
        if finish:
            self._finish = finish

    @property
    def _callback(self) -> CallbackTuple:
        fields = ("_start", "_start_state", "_pretask", "_posttask", "_finish")
        return tuple(getattr(self, f, None) for f in fields)  # type: ignore[return-value]

    def __enter__(self) -> Callback:
        self._cm_token = self._callback
        Callback.active.add(self._cm_token)
        return self

    def __exit__(self, *args: object) -> None:
        Callback.active.discard(self._cm_token)

    def register(self) -> None:
        """Make this callback active for every computation until :meth:`unregister`."""
        Callback.active.add(self._callback)

    def unregister(self) -> None:
        """Undo :meth:`register`."""
        Callback.active.discard(self._callback)


def active_callbacks(extra: object = None) -> list[CallbackTuple]:
    """Return the callback tuples in force: the active set plus ``extra``.

    ``extra`` is what a caller passed as ``callbacks=``: a :class:`Callback`,
    a tuple of five functions, or a list of either.
    """
    found = list(Callback.active)
    if extra is None:
        return found
    items = extra if isinstance(extra, list | set) else [extra]
    for item in items:
        found.append(item._callback if isinstance(item, Callback) else item)  # type: ignore[attr-defined]
    return found

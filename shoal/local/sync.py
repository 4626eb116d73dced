"""The synchronous scheduler: every task in the calling thread, in priority order.

Use it to debug (``pdb`` and profilers see ordinary call stacks) and for
doctests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shoal.graph.task import Key
from shoal.local.loop import execute

__all__ = ["get_sync"]


def get_sync(graph: Mapping[Key, Any], keys: Any, *, callbacks: Any = None, **kwargs: Any) -> Any:
    """Compute ``keys`` from ``graph`` one task at a time in this thread.

    Parameters
    ----------
    graph : mapping
        Keys to tasks (shoal nodes or Dask-style tuples).
    keys : key or nested list of keys
        What to compute; the result has the same nesting.
    callbacks : Callback or list, optional
        Callbacks for this run, on top of the registered ones.

    Examples
    --------
    >>> from operator import add
    >>> get_sync({"x": 1, "y": (add, "x", 10)}, ["y", ["x"]])
    [11, [1]]
    """
    return execute(graph, keys, callbacks=callbacks, cache=kwargs.get("cache"))

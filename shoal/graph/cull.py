"""Cull: keep only the tasks needed for the requested keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shoal._exceptions import MissingDependencyError
from shoal.graph.task import GraphNode, Key
from shoal.graph.toposort import missing_dependency

__all__ = ["cull"]


def cull(graph: Mapping[Key, GraphNode], keys: Iterable[Key]) -> tuple[dict[Key, GraphNode], dict[Key, frozenset[Key]]]:
    """Return the part of ``graph`` that ``keys`` need, and its dependencies.

    Raises
    ------
    MissingDependencyError
        If a requested key, or a key a needed task refers to, is not in the graph.

    Examples
    --------
    >>> from shoal.graph.task import convert_legacy_graph
    >>> g = convert_legacy_graph({"x": 1, "y": (abs, "x"), "unused": 2})
    >>> sorted(cull(g, ["y"])[0])
    ['x', 'y']
    """
    out: dict[Key, GraphNode] = {}
    dependencies: dict[Key, frozenset[Key]] = {}
    stack = []
    for key in keys:
        if key not in graph:
            raise MissingDependencyError(
                f"The key {key!r} was requested but is not in the graph. "
                f"Request one of the graph's keys (for a collection, x.__dask_keys__()).",
                None,
                key,
            )
        stack.append(key)
    while stack:
        key = stack.pop()
        if key in out:
            continue
        node = graph[key]
        out[key] = node
        deps = node.dependencies
        dependencies[key] = deps
        for dep in deps:
            if dep not in out:
                if dep not in graph:
                    raise missing_dependency(key, dep)
                stack.append(dep)
    return out, dependencies

"""Dependencies, topological order and graph validation.

Kahn's algorithm gives the order; when it stalls, the tasks left over contain
a cycle, which :func:`find_cycle` walks to report the keys along it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from shoal._exceptions import CycleError, MissingDependencyError
from shoal.graph.task import GraphNode, Key

__all__ = ["find_cycle", "get_dependencies", "reverse_dependencies", "toposort", "validate"]


def get_dependencies(graph: Mapping[Key, GraphNode]) -> dict[Key, frozenset[Key]]:
    """Return ``{key: keys it depends on}`` for a graph of nodes."""
    return {key: node.dependencies for key, node in graph.items()}


def reverse_dependencies(dependencies: Mapping[Key, Iterable[Key]]) -> dict[Key, list[Key]]:
    """Return ``{key: keys that depend on it}``; every key gets an entry.

    >>> reverse_dependencies({"a": set(), "b": {"a"}, "c": {"a"}})
    {'a': ['b', 'c'], 'b': [], 'c': []}
    """
    dependents: dict[Key, list[Key]] = {key: [] for key in dependencies}
    for key, deps in dependencies.items():
        for dep in deps:
            dependents[dep].append(key)
    return dependents


def validate(graph: Mapping[Key, GraphNode], dependencies: Mapping[Key, Iterable[Key]] | None = None) -> None:
    """Raise if a task refers to a key missing from the graph or if there is a cycle."""
    deps = dependencies if dependencies is not None else get_dependencies(graph)
    for key, needed in deps.items():
        for dep in needed:
            if dep not in graph:
                raise missing_dependency(key, dep)
    toposort(graph, deps)


def missing_dependency(key: Key, missing: Key) -> MissingDependencyError:
    """Build the error for ``key`` depending on ``missing``, which no task computes."""
    return MissingDependencyError(
        f"Task {key!r} depends on {missing!r}, which is not in the graph. "
        f"Add a task or value for {missing!r}, or check the key's spelling "
        f"(keys are compared exactly: 'x' and ('x',) differ).",
        key,
        missing,
    )


def toposort(graph: Mapping[Key, object], dependencies: Mapping[Key, Collection[Key]] | None = None) -> list[Key]:
    """Return the keys so that every key comes after all its dependencies.

    Raises
    ------
    CycleError
        If tasks depend on each other in a loop; the message lists the loop.

    Examples
    --------
    >>> from shoal.graph.task import convert_legacy_graph
    >>> toposort(convert_legacy_graph({"b": (abs, "a"), "a": 1}))
    ['a', 'b']
    """
    deps = dependencies if dependencies is not None else get_dependencies(graph)  # type: ignore[arg-type]
    remaining = {key: len(d) for key, d in deps.items()}
    dependents = reverse_dependencies(deps)
    stack = [key for key, n in remaining.items() if n == 0]
    stack.reverse()  # so that, among ready keys, the graph's own order is kept
    result: list[Key] = []
    while stack:
        key = stack.pop()
        result.append(key)
        for child in dependents[key]:
            remaining[child] -= 1
            if remaining[child] == 0:
                stack.append(child)
    if len(result) != len(remaining):
        left = {key for key, n in remaining.items() if n > 0}
        cycle = find_cycle(deps, left)
        shown = " -> ".join(repr(k) for k in cycle)
        raise CycleError(
            f"The graph has a cycle: {shown}. Each of these tasks waits for the next, "
            f"so none can start. Break the loop by removing one of these dependencies.",
            cycle,
        )
    return result


def find_cycle(dependencies: Mapping[Key, Iterable[Key]], among: Iterable[Key]) -> list[Key]:
    """Return one cycle ``[k0, k1, ..., k0]`` among the keys ``among``."""
    among_set = set(among)
    for start in among_set:
        # Follow dependencies inside ``among``: every such key still waits on one of them.
        path: list[Key] = []
        position: dict[Key, int] = {}
        key = start
        while key not in position:
            position[key] = len(path)
            path.append(key)
            key = next(d for d in dependencies[key] if d in among_set)
        return path[position[key]:] + [key]
    return []

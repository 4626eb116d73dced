"""Graph rewrites that run several entries as one: inlining and linear fusion.

Both passes move work *into* the nodes that use it, through
:meth:`Task.substitute <shoal.graph.task.Task.substitute>`: a reference
``Ref(k)`` in a task's arguments becomes the node of ``k`` itself, run inline
when the outer task runs. The graph gets fewer keys, so a scheduler pays its
per-task overhead (bookkeeping, a hand-off to a thread or process, a network
message) fewer times.

:func:`inline`
    Substitutes chosen keys, and cheap constants, into every dependent and
    drops them. A key used by several dependents is then computed once per
    use, so inline tasks only when they are cheap; constants are free.

:func:`fuse_linear`
    Joins chains ``a -> b -> c`` in which each link has exactly one dependent
    and the next link has exactly one dependency: nothing else can use the
    intermediate results, so running the chain as one task loses no
    parallelism and no sharing. The fused task keeps the key of the last
    link, so the keys a caller asked for remain.

Both are O(V + E) and iterative. A fused chain is a nest of tasks, and
running, pickling or printing a nest recurses a few frames per level (more
when the reference sits inside a list or dict): with Python's default limit
of 1,000 frames, nests of about 120 to 170 levels already fail. Chains are
therefore cut into pieces of at most ``max_length`` links (default 50, which
leaves room for a caller that is itself deep in the stack): a 10,000-task
chain becomes 200 tasks, which still removes 98% of the per-task overhead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shoal.graph.task import DataNode, GraphNode, Key, Task, convert_legacy_graph, is_key
from shoal.graph.toposort import toposort

__all__ = ["fuse_linear", "inline"]

#: Types of constants cheap enough to copy into every task that reads them.
_CHEAP_LITERALS = frozenset({int, float, complex, str, bytes, bool, type(None)})


def inline(
    graph: Mapping[Key, Any],
    keys: Key | Iterable[Key] | None = None,
    inline_constants: bool = True,
    *,
    keep: Key | Iterable[Key] = (),
) -> dict[Key, GraphNode]:
    """Return a graph in which ``keys`` run inside the tasks that use them.

    Parameters
    ----------
    graph : mapping
        Keys to nodes (Dask-style tuples are converted first).
    keys : key or iterable of keys, optional
        The keys to substitute into their dependents.
    inline_constants : bool
        Also substitute every :class:`~shoal.graph.task.DataNode` holding a
        cheap literal (``int``, ``float``, ``complex``, ``str``, ``bytes``,
        ``bool`` or ``None``).
    keep : key or iterable of keys
        Keys to substitute into their dependents but leave in the graph too,
        for instance because a caller will ask for them.

    Returns
    -------
    dict
        The new graph. An inlined key is dropped from it unless it is in
        ``keep`` or nothing depends on it: a key nothing depends on is an
        output, and dropping it would lose a result.

    Notes
    -----
    Mirrors ``dask.optimization.inline``; differences: inlined keys are
    dropped (Dask leaves that to a later cull), and ``keep`` says which stay.
    A task substituted into a dependent that names it twice runs twice.
    Inlining every link of a long chain of tasks builds one nest as deep as
    the chain, which recurses that deep when it runs; :func:`fuse_linear`
    bounds the depth and is the pass for chains.

    Examples
    --------
    >>> from operator import add
    >>> g = inline({"x": 1, "y": (add, "x", 10), "z": (add, "y", "y")}, keys=["y"])
    >>> sorted(g)
    ['z']
    >>> g["z"]({})
    22
    """
    graph = convert_legacy_graph(graph)
    chosen = _key_set(keys)
    kept = _key_set(keep)
    if inline_constants:
        for key, node in graph.items():
            if type(node) is DataNode and type(node.value) in _CHEAP_LITERALS:
                chosen.add(key)
    chosen.intersection_update(graph)
    if not chosen:
        return dict(graph)

    has_dependents: set[Key] = set()
    for node in graph.values():
        has_dependents.update(node.dependencies)

    # In topological order every inlined dependency has already had its own
    # dependencies substituted, so one substitution per node reaches the bottom.
    new: dict[Key, GraphNode] = {}
    # Dependencies outside the graph (a partial graph) are simply not inlined.
    inside = {key: [d for d in node.dependencies if d in graph] for key, node in graph.items()}
    for key in toposort(graph, inside):
        node = graph[key]
        inlined = {dep: new[dep] for dep in node.dependencies if dep in chosen}
        new[key] = node.substitute(inlined) if inlined else node
    return {
        key: new[key]
        for key in graph
        if key not in chosen or key in kept or key not in has_dependents
    }


def fuse_linear(
    graph: Mapping[Key, Any],
    keys: Key | Iterable[Key] | None = None,
    *,
    max_length: int = 50,
) -> tuple[dict[Key, GraphNode], dict[Key, frozenset[Key]]]:
    """Return ``graph`` with linear chains of tasks fused into single tasks.

    A link ``a -> b`` is fused when ``a`` has ``b`` as its only dependent,
    ``b`` has ``a`` as its only dependency and names it once, ``a`` is not in
    ``keys``, and both carry the same annotations. The fused task takes the
    key of the chain's last link.

    Parameters
    ----------
    graph : mapping
        Keys to nodes (Dask-style tuples are converted first).
    keys : key or (nested) list of keys, optional
        The outputs the caller will ask for; they are never fused away.
    max_length : int
        The most links fused into one task. Running, pickling and printing a
        fused task recurse a few frames per link, so longer chains are cut
        into several fused tasks to stay far below the recursion limit (see
        the module docstring).

    Returns
    -------
    graph : dict
        The fused graph.
    dependencies : dict
        ``{key: keys it depends on}`` for the fused graph.

    Notes
    -----
    Mirrors ``dask.optimization.fuse_linear``; differences: the fused task
    keeps the last key instead of a name joined from every link, and chains
    longer than ``max_length`` are split.

    Examples
    --------
    ``x`` feeds two tasks and ``d`` reads two keys, so only ``a -> b -> c``
    is a chain; it becomes one task under ``c``:

    >>> from operator import add, mul
    >>> g = {"x": 1, "a": (add, "x", 1), "b": (add, "a", 10), "c": (mul, "b", 2), "d": (add, "c", "x")}
    >>> fused, deps = fuse_linear(g, keys=["d"])
    >>> sorted(fused), sorted(deps["c"])
    (['c', 'd', 'x'], ['x'])
    >>> fused["c"]({"x": 1})
    24
    """
    if max_length < 1:
        raise ValueError(f"fuse_linear needs max_length >= 1, got {max_length!r}.")
    graph = convert_legacy_graph(graph)
    protected = _key_set(keys)

    dependents: dict[Key, list[Key]] = {key: [] for key in graph}
    for key, node in graph.items():
        for dep in node.dependencies:
            if dep in dependents:
                dependents[dep].append(key)

    # ``child[a] == b`` marks a fusible link. Each key has at most one
    # dependent and one dependency on a link, so the links form disjoint paths.
    child: dict[Key, Key] = {}
    for key, node in graph.items():
        if len(node.dependencies) != 1:
            continue
        (parent,) = node.dependencies
        if (
            parent in graph
            and parent not in protected
            and len(dependents[parent]) == 1
            and _annotations(graph[parent]) == _annotations(node)
            and _count_refs(node, parent) == 1
        ):
            child[parent] = key
    has_parent = set(child.values())

    fused: dict[Key, GraphNode] = {}
    absorbed: set[Key] = set()
    for head in child:
        if head in has_parent:
            continue
        chain = [head]
        while chain[-1] in child:
            chain.append(child[chain[-1]])
        for start in range(0, len(chain), max_length):
            piece = chain[start:start + max_length]
            node = graph[piece[0]]
            for previous, key in zip(piece, piece[1:], strict=False):
                node = graph[key].substitute({previous: node})
            fused[piece[-1]] = node
            absorbed.update(piece[:-1])

    out = {key: fused.get(key, node) for key, node in graph.items() if key not in absorbed}
    return out, {key: node.dependencies for key, node in out.items()}


def _key_set(keys: Any) -> set[Key]:
    """Return the keys in ``keys``: a key, or a nested list of keys, or nothing."""
    if keys is None:
        return set()
    if is_key(keys):
        return {keys}
    found: set[Key] = set()
    stack = [keys]
    while stack:
        item = stack.pop()
        if is_key(item):
            found.add(item)
        else:
            stack.extend(item)
    return found


def _annotations(node: GraphNode) -> Any:
    return node.annotations if type(node) is Task else None


def _count_refs(node: GraphNode, key: Key) -> int:
    """Return how many times ``node`` reads ``key`` (tasks may name a key twice).

    A dependency substituted into a task that names it twice would run twice,
    so such links are not fused.
    """
    return node.count_refs(key) if type(node) is Task else 1  # an Alias reads its target once

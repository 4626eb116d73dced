"""Bag graph optimization: cull, then fuse partition pipelines.

A bag built by ``read_text(...).map(f).filter(g).count()`` has, per
partition, four tasks in a chain. Run as they are, each would materialize a
list and (on the processes scheduler) ship it between processes. Fusion turns
each chain into one task whose :class:`~shoal.bag._stages.Pipeline` is the
concatenation of the chain's pipelines, so elements stream through every step
and only the per-partition count leaves the task.

The rule
    A partition task ``child`` is fused with the partition task ``parent``
    that produces its *first* input when ``parent`` is not an output the
    caller asked for, ``child`` is the only task that reads it, ``parent``
    yields a sequence (not a reduction's value), and both carry the same
    annotations. The fused task keeps ``child``'s key and partition index;
    its inputs are ``parent``'s inputs followed by ``child``'s remaining
    (side) inputs. Chains are followed from their head, so a chain of any
    length becomes one flat pipeline (no nesting, no recursion).

Fusion is on by default and off when the ``optimization.fuse.active``
setting is ``False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shoal import config
from shoal.bag._stages import SEQ, Pipeline, run_partition
from shoal.graph.cull import cull
from shoal.graph.task import GraphNode, Key, Ref, Task, convert_legacy_graph
from shoal.local.loop import flatten_keys

__all__ = ["fuse_partitions", "optimize"]


def optimize(graph: Mapping[Key, Any], keys: Any, **kwargs: Any) -> dict[Key, GraphNode]:
    """Return the part of ``graph`` that ``keys`` need, with partition chains fused.

    This is ``Bag.__dask_optimize__`` (and ``Item``'s).
    """
    flat = flatten_keys(keys)
    nodes, _ = cull(convert_legacy_graph(graph), flat)
    if config.get("optimization.fuse.active", None) is False:
        return nodes
    return fuse_partitions(nodes, flat)


def _is_partition_task(node: Any) -> bool:
    return type(node) is Task and node.func is run_partition


def fuse_partitions(graph: Mapping[Key, GraphNode], keep: Any = ()) -> dict[Key, GraphNode]:
    """Fuse chains of partition tasks; ``keep`` lists keys that must stay in the graph.

    >>> from shoal.bag._stages import Map, Identity
    >>> g = {
    ...     ("a", 0): Task(("a", 0), run_partition, Pipeline([Identity()], [1], "a"), 0, [1, -2]),
    ...     ("b", 0): Task(("b", 0), run_partition, Pipeline([Map(abs)], [1], "b"), 0, Ref(("a", 0))),
    ... }
    >>> fused = fuse_partitions(g, keep=[("b", 0)])
    >>> list(fused), fused[("b", 0)]({})
    ([('b', 0)], [1, 2])
    """
    protected = set(keep)
    readers: dict[Key, int] = {}
    for node in graph.values():
        for dep in node.dependencies:
            readers[dep] = readers.get(dep, 0) + 1

    # child_of[parent] = the one task that reads parent and can absorb it.
    child_of: dict[Key, Key] = {}
    for key, node in graph.items():
        if not _is_partition_task(node) or len(node.args) < 3:
            continue
        first = node.args[2]
        if type(first) is not Ref:
            continue
        parent_key = first.key
        parent = graph.get(parent_key)
        if (
            parent is None
            or parent_key in protected
            or readers.get(parent_key) != 1
            or not _is_partition_task(parent)
            or parent.args[0].kind != SEQ
            or parent.annotations != node.annotations  # type: ignore[attr-defined]
            or any(type(arg) is Ref and arg.key == parent_key for arg in node.args[3:])
        ):
            continue
        child_of[parent_key] = key

    if not child_of:
        return dict(graph)

    has_parent = set(child_of.values())
    pipelines: dict[tuple[Any, ...], Pipeline] = {}
    fused: dict[Key, GraphNode] = {}
    absorbed: set[Key] = set()
    for head in child_of:
        if head in has_parent:
            continue
        chain = [head]
        while chain[-1] in child_of:
            chain.append(child_of[chain[-1]])
        first_task = graph[head]
        stages = list(first_task.args[0].stages)  # type: ignore[attr-defined]
        arities = list(first_task.args[0].arities)  # type: ignore[attr-defined]
        inputs = list(first_task.args[2:])  # type: ignore[attr-defined]
        for key in chain[1:]:
            task = graph[key]
            pipeline = task.args[0]  # type: ignore[attr-defined]
            stages.extend(pipeline.stages)
            # The first stage now reads the previous stage's output instead of its first input.
            arities.extend([pipeline.arities[0] - 1, *pipeline.arities[1:]])
            inputs.extend(task.args[3:])  # type: ignore[attr-defined]
        last = graph[chain[-1]]
        # The note on an error names every fused step: "read-text -> map-loads -> count-part".
        name = " -> ".join(graph[key].args[0].name for key in chain)  # type: ignore[attr-defined]
        # One Pipeline object per distinct chain, so a batch of tasks pickles its stages once.
        signature = (tuple(map(id, stages)), tuple(arities), name)
        pipeline = pipelines.get(signature)
        if pipeline is None:
            pipeline = pipelines[signature] = Pipeline(stages, arities, name)
        new = Task(last.key, run_partition, pipeline, last.args[1], *inputs)  # type: ignore[attr-defined]
        new.annotations = last.annotations  # type: ignore[attr-defined]
        fused[last.key] = new
        absorbed.update(chain[:-1])
    return {key: fused.get(key, node) for key, node in graph.items() if key not in absorbed}

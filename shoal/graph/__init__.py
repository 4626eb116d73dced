"""shoal.graph: task graphs as plain data, and the algorithms on them.

Pure data structures and algorithms: no threads, no event loop, and no NumPy
or pandas at import time (tokenize registers their handlers lazily).
"""

from __future__ import annotations

from shoal.graph.annotate import annotate, get_annotations
from shoal.graph.cull import cull
from shoal.graph.order import natural_key, order
from shoal.graph.task import (
    Alias,
    DataNode,
    Graph,
    GraphNode,
    Key,
    Ref,
    Task,
    convert_legacy_graph,
    convert_legacy_task,
    is_key,
    key_split,
)
from shoal.graph.toposort import get_dependencies, reverse_dependencies, toposort, validate

__all__ = [
    "Alias",
    "DataNode",
    "Graph",
    "GraphNode",
    "Key",
    "Ref",
    "Task",
    "annotate",
    "convert_legacy_graph",
    "convert_legacy_task",
    "cull",
    "get_annotations",
    "get_dependencies",
    "is_key",
    "key_split",
    "natural_key",
    "order",
    "reverse_dependencies",
    "toposort",
    "validate",
]


def __getattr__(name: str) -> object:
    # The fusion passes are only needed by optimizers; import on first use.
    if name in ("fuse_linear", "inline"):
        from shoal.graph import fuse as module

        return getattr(module, name)
    raise AttributeError(f"module 'shoal.graph' has no attribute {name!r}")

"""Draw task graphs with Graphviz: what ``shoal.visualize`` and ``x.visualize()`` call.

The picture has two kinds of nodes, as in Dask's drawings:

- a **box** for every piece of data: each key of the graph, and each key a
  task reads that the graph does not hold. Its label is the readable part of
  the key (:func:`~shoal.graph.task.key_split`), or the whole key with
  ``verbose=True``;
- a **circle** for every task, labelled with its function's name.

Edges run from the data a task reads to the task, and from the task to the
key it produces; an alias is an edge from its target's box to its own. With
the default ``rankdir="BT"`` inputs sit at the bottom and results at the top.

Graphviz is optional: the Python ``graphviz`` package builds the description
(a ``graphviz.Digraph``) and the ``dot`` program lays it out as an image. A
``.dot`` file is the description itself and needs only the Python package,
so it can be written anywhere and rendered later (``dot -Tpng x.dot``).

Node ids are hashes of the keys' ``repr``: keys may hold any characters, and
ids must be stable so that two drawings of one graph diff cleanly.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shoal.graph.order import order
from shoal.graph.task import Alias, GraphNode, Key, Task, convert_legacy_graph, key_split

if TYPE_CHECKING:
    import graphviz  # type: ignore[import-untyped, unused-ignore]  # optional; ships no types

__all__ = ["dot_graph", "to_graphviz"]

_INSTALL_HINT = (
    "shoal.visualize needs the graphviz Python package and the Graphviz 'dot' program: "
    "pip install graphviz (or shoal[diagnostics]) and install Graphviz (e.g. apt-get install graphviz)"
)

#: Output formats chosen by a file's extension; ``jpg`` is the same as ``jpeg``.
_FORMATS = frozenset({"png", "jpeg", "jpg", "svg", "pdf", "dot", "gif", "bmp", "tiff", "webp", "ps", "eps"})
_IMAGE_FORMATS = frozenset({"png", "jpeg", "jpg", "gif"})


def to_graphviz(
    graph: Mapping[Key, Any],
    data_attributes: Mapping[Key, Mapping[str, Any]] | None = None,
    function_attributes: Mapping[Key, Mapping[str, Any]] | None = None,
    rankdir: str = "BT",
    graph_attr: Mapping[str, Any] | None = None,
    node_attr: Mapping[str, Any] | None = None,
    edge_attr: Mapping[str, Any] | None = None,
    collapse_outputs: bool = False,
    verbose: bool = False,
    **kwargs: Any,
) -> graphviz.Digraph:
    """Return a ``graphviz.Digraph`` drawing ``graph``.

    Parameters
    ----------
    graph : mapping
        Keys to nodes (Dask-style tuples are converted first).
    data_attributes, function_attributes : mapping, optional
        ``{key: {attribute: value}}`` for the box of a key or the circle of
        the task that computes it; they override the defaults (``label``,
        ``shape``, colours).
    rankdir : str
        Graphviz direction of the layout; ``"BT"`` puts inputs at the bottom.
    graph_attr, node_attr, edge_attr : mapping, optional
        Graphviz attributes of the whole graph, of every node, of every edge.
    collapse_outputs : bool
        Draw outputs (keys nothing depends on) as their task's circle only,
        without a box.
    verbose : bool
        Label boxes with the whole key rather than its readable prefix.
    **kwargs
        More graph attributes, and ``color="order"`` to shade every node by
        the priority :func:`shoal.graph.order` gives it (blue runs first,
        red last).

    Returns
    -------
    graphviz.Digraph

    Raises
    ------
    ImportError
        If the ``graphviz`` Python package is not installed.

    Notes
    -----
    Mirrors ``dask.dot.to_graphviz``; differences: a task's circle is
    labelled with its function's name.

    Examples
    --------
    >>> from operator import add
    >>> g = to_graphviz({"x": 1, "y": (add, "x", 10)})
    >>> g.source.count("->"), "label=add" in g.source
    (2, True)
    """
    gv = _import_graphviz()
    nodes = convert_legacy_graph(graph)
    color = kwargs.pop("color", None)
    if color not in (None, "order"):
        raise ValueError(f"to_graphviz got color={color!r}; the only colouring is color='order' (or None).")
    shades = _order_shades(nodes) if color == "order" else {}
    data_attributes = data_attributes or {}
    function_attributes = function_attributes or {}

    all_graph_attr = {"rankdir": rankdir, **(graph_attr or {}), **kwargs}
    all_node_attr = {"fontname": "helvetica", **(node_attr or {})}
    digraph = gv.Digraph(
        graph_attr=_strings(all_graph_attr),
        node_attr=_strings(all_node_attr),
        edge_attr=_strings(edge_attr or {}),
    )

    outputs = set(nodes)
    for node in nodes.values():
        outputs.difference_update(node.dependencies)
    drawn: set[str] = set()

    def box(key: Key) -> str:
        name = _node_id(key, "data")
        if name not in drawn:
            drawn.add(name)
            label = str(key) if verbose else key_split(key)
            attrs = {"label": gv.escape(label), "shape": "box", **_shade(shades, key)}
            attrs.update(data_attributes.get(key, {}))
            digraph.node(name, **_strings(attrs))
        return name

    for key, node in nodes.items():
        if type(node) is Task:
            collapsed = collapse_outputs and key in outputs
            name = _node_id(key, "data" if collapsed else "function")
            attrs = {"label": gv.escape(_function_name(node.func)), "shape": "circle", **_shade(shades, key)}
            attrs.update(function_attributes.get(key, {}))
            digraph.node(name, **_strings(attrs))
            drawn.add(name)
            for dep in _sorted(node.dependencies):
                digraph.edge(box(dep), name)
            if not collapsed:
                digraph.edge(name, box(key))
        elif type(node) is Alias:
            digraph.edge(box(node.target), box(key))
        else:
            box(key)
    return digraph


def dot_graph(
    graph: Mapping[Key, Any],
    filename: str | os.PathLike[str] | None = "mydask",
    format: str | None = None,
    **kwargs: Any,
) -> Any:
    """Draw ``graph`` and write the drawing to a file.

    Parameters
    ----------
    graph : mapping
        Keys to nodes (Dask-style tuples are converted first).
    filename : str, path or None
        Where to write. Its extension picks the format (``.png``, ``.svg``,
        ``.pdf``, ``.jpeg``, ``.dot``, ...); without one, ``.<format>`` is
        appended. ``None`` writes nothing.
    format : str, optional
        The format when ``filename`` has no extension; default ``"png"``.
    **kwargs
        Passed to :func:`to_graphviz`.

    Returns
    -------
    graphviz.Digraph, or, when running inside IPython, an
    ``IPython.display.Image`` (or ``SVG``) of the written file.

    Raises
    ------
    ImportError
        If the ``graphviz`` Python package is not installed.
    RuntimeError
        If an image is asked for and the Graphviz ``dot`` program is not
        installed; ``.dot`` output still works without it.

    Examples
    --------
    >>> from operator import add
    >>> dot_graph({"x": 1, "y": (add, "x", 10)}, filename=None)  # doctest: +ELLIPSIS
    <graphviz.graphs.Digraph object at 0x...>
    """
    digraph = to_graphviz(graph, **kwargs)
    if filename is None:
        return digraph
    path, fmt = _target(os.fspath(filename), format)
    if fmt == "dot":
        with open(path, "w", encoding="utf-8") as file:
            file.write(digraph.source)
        return _display(digraph, path, fmt)
    gv = _import_graphviz()
    try:
        data = digraph.pipe(format=fmt)
    except gv.ExecutableNotFound as exc:
        raise RuntimeError(
            f"Could not write {path!r}: drawing a {fmt} image needs the Graphviz 'dot' program, "
            f"which was not found on PATH. Install Graphviz (e.g. apt-get install graphviz, "
            f"brew install graphviz or conda install graphviz), or write the graph description "
            f"with filename='{os.path.splitext(path)[0]}.dot', which works without it."
        ) from exc
    with open(path, "wb") as file:
        file.write(data)
    return _display(digraph, path, fmt)


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return graphviz


def _target(filename: str, format: str | None) -> tuple[str, str]:
    """Return the path to write and its format."""
    root, ext = os.path.splitext(filename)
    from_ext = ext[1:].lower()
    if from_ext in _FORMATS:
        if format is not None and _same_format(format.lower()) != _same_format(from_ext):
            raise ValueError(
                f"dot_graph got filename={filename!r} and format={format!r}, which disagree. "
                f"Give the format as the file's extension, or a filename without one."
            )
        return filename, from_ext
    fmt = (format or "png").lower()
    if fmt not in _FORMATS:
        raise ValueError(f"dot_graph cannot write format {format!r}; use one of {sorted(_FORMATS)}.")
    return f"{filename}.{fmt}", fmt


def _same_format(fmt: str) -> str:
    return "jpeg" if fmt == "jpg" else fmt


def _display(digraph: Any, path: str, fmt: str) -> Any:
    # Only look for IPython if something already imported it: importing it
    # ourselves would cost a second and never find a running shell.
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None or get_ipython() is None:
        return digraph
    from IPython.display import SVG, Image  # type: ignore[import-not-found, unused-ignore]

    if fmt in _IMAGE_FORMATS:
        return Image(filename=path)
    if fmt == "svg":
        return SVG(filename=path)
    return digraph


def _node_id(key: Key, role: str) -> str:
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
    return f"{role[0]}{digest}"


def _function_name(func: Any) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__name__", None)
    if not isinstance(name, str):
        name = type(func).__name__
    return name.strip("<>")  # "<lambda>" reads as "lambda"


def _strings(attrs: Mapping[str, Any]) -> dict[str, str]:
    # graphviz wants every attribute value as a string.
    return {name: value if isinstance(value, str) else str(value) for name, value in attrs.items()}


def _sorted(keys: frozenset[Key]) -> list[Key]:
    # Sets iterate in hash order, which varies between runs for strings.
    return sorted(keys, key=repr)


def _order_shades(nodes: Mapping[Key, GraphNode]) -> dict[Key, str]:
    """Return a Graphviz HSV colour per key, from blue (runs first) to red (runs last)."""
    inside = {key: [d for d in node.dependencies if d in nodes] for key, node in nodes.items()}
    priorities = order(nodes, inside)
    top = max(max(priorities.values(), default=0), 1)
    return {key: f"{0.66 * (1 - p / top):.3f} 0.500 0.950" for key, p in priorities.items()}


def _shade(shades: Mapping[Key, str], key: Key) -> dict[str, str]:
    if key not in shades:
        return {}
    return {"style": "filled", "fillcolor": shades[key]}

"""Dask's ``HighLevelGraph``: a task graph kept as named layers, for graphs written by hand.

Model
    A :class:`HighLevelGraph` maps layer names to layers (each a mapping of
    keys to tasks) and each layer name to the names of the layers its tasks
    read from (``dependencies``). As a mapping it is the union of its layers:
    ``hlg[key]``, ``len(hlg)``, ``dict(hlg)`` and ``hlg.to_dict()`` see every
    key, so code that expects a plain graph dict keeps working.

    ``HighLevelGraph.from_collections(name, layer, dependencies=[x, y])``
    does not copy the graphs of ``x`` and ``y``: it keeps the collections
    themselves. Given to ``shoal.array.Array``, ``shoal.bag.Bag``,
    ``shoal.bag.Item`` or ``shoal.delayed.Delayed`` with the same ``name``,
    ``layer`` becomes the new collection's own tasks and ``x`` and ``y`` its
    dependencies, exactly as if shoal had built it, so a chain of hand-built
    steps costs the same per step however long it grows. ``layers``,
    ``dependencies`` and the key mapping are worked out from the collections
    only when first asked for, then kept (the graph is immutable).

    A graph built from layers with the constructor hands the named layer to
    the collection and the other layers, still unflattened, as one
    dependency.

Differences from Dask
    shoal's own collections return plain dicts from ``__dask_graph__()`` and
    ``.dask`` (Dask returns a ``HighLevelGraph``): code that reads
    ``x.dask.layers`` should build the graph it wants with
    ``HighLevelGraph.from_collections`` or ``HighLevelGraph.merge`` first;
    both accept plain dicts. Layer ``annotations`` are kept but not applied to
    the tasks; use :func:`shoal.annotate` around the code that builds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from shoal.graph.cull import cull as cull_graph
from shoal.graph.task import Key, convert_legacy_graph, convert_legacy_task

__all__ = ["HighLevelGraph", "Layer", "MaterializedLayer"]


class Layer(Mapping[Key, Any]):
    """One named part of a :class:`HighLevelGraph`: a mapping of keys to tasks.

    Subclasses provide ``__getitem__``, ``__iter__`` and ``__len__``; the
    methods here work on any of them.

    Parameters
    ----------
    annotations : dict, optional
        Kept for Dask compatibility (see the module docstring).
    collection_annotations : dict, optional
        Free-form metadata about the collection this layer belongs to.
    """

    def __init__(self, annotations: Mapping[str, Any] | None = None,
                 collection_annotations: Mapping[str, Any] | None = None) -> None:
        self.annotations = dict(annotations) if annotations else None
        self.collection_annotations = dict(collection_annotations) if collection_annotations else None

    def is_materialized(self) -> bool:
        """Whether every task exists already (always true for the layers shoal builds)."""
        return True

    def get_output_keys(self) -> set[Key]:
        """The keys this layer computes."""
        return set(self.keys())

    def get_dependencies(self, key: Key, all_hlg_keys: Iterable[Key]) -> set[Key]:
        """The keys, among ``all_hlg_keys``, that the task of ``key`` reads."""
        keys = all_hlg_keys if isinstance(all_hlg_keys, (set, frozenset, Mapping)) else set(all_hlg_keys)
        return set(convert_legacy_task(key, self[key], keys).dependencies)

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{len(self)} tasks>"


class MaterializedLayer(Layer):
    """A layer that is a plain mapping of keys to tasks (``mapping`` is kept, not copied).

    >>> layer = MaterializedLayer({"x": 1, "y": 2})
    >>> sorted(layer), layer["y"]
    (['x', 'y'], 2)
    """

    def __init__(self, mapping: Mapping[Key, Any], annotations: Mapping[str, Any] | None = None,
                 collection_annotations: Mapping[str, Any] | None = None) -> None:
        super().__init__(annotations, collection_annotations)
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"MaterializedLayer needs a mapping of keys to tasks, got {type(mapping).__name__}. "
                f"Pass a dict such as {{('x', 0): (func, arg)}}."
            )
        self.mapping = mapping

    def __getitem__(self, key: Key) -> Any:
        return self.mapping[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self.mapping)

    def __len__(self) -> int:
        return len(self.mapping)

    def __contains__(self, key: object) -> bool:
        return key in self.mapping


class HighLevelGraph(Mapping[Key, Any]):
    """A task graph made of named layers and the dependencies between them (mirrors Dask's).

    Parameters
    ----------
    layers : mapping of str to mapping
        Layer name -> the tasks of that layer (a dict or a :class:`Layer`).
    dependencies : mapping of str to set of str
        Layer name -> the names of the layers its tasks read from. Layers
        missing here depend on nothing.
    key_dependencies : dict, optional
        Key -> the keys its task reads, if already known.

    Examples
    --------
    >>> from operator import add
    >>> import shoal
    >>> x = shoal.delayed(1, name="x")
    >>> hlg = HighLevelGraph.from_collections("y", {"y": (add, "x", 10)}, dependencies=[x])
    >>> sorted(hlg.layers), hlg.dependencies["y"]
    (['x', 'y'], {'x'})
    >>> shoal.delayed.Delayed("y", hlg).compute()
    11
    """

    def __init__(self, layers: Mapping[str, Mapping[Key, Any]], dependencies: Mapping[str, Iterable[str]],
                 key_dependencies: dict[Key, set[Key]] | None = None) -> None:
        if not isinstance(layers, Mapping):
            raise TypeError(f"HighLevelGraph needs a mapping of layer name -> layer, got {type(layers).__name__}.")
        wrapped = {name: _as_layer(name, layer) for name, layer in layers.items()}
        self._init(wrapped, {name: set(deps) for name, deps in dependencies.items()}, key_dependencies, None)

    def _init(self, layers: dict[str, Layer] | None, dependencies: dict[str, set[str]] | None,
              key_dependencies: dict[Key, set[Key]] | None, origin: tuple[str, Layer, tuple[Any, ...]] | None
              ) -> None:
        #: Layer name -> Layer; ``None`` until worked out from ``_origin``.
        self._layers = layers
        #: Layer name -> names of the layers it reads; ``None`` exactly when ``_layers`` is.
        self._dependencies = dependencies
        if dependencies is not None:
            for name in layers or ():
                dependencies.setdefault(name, set())
        self.key_dependencies = dict(key_dependencies or {})
        #: For ``from_collections``: (name, its layer, the dependency collections), kept so that
        #: collection constructors take the layer and the collections without flattening anything.
        self._origin = origin
        #: Every key -> task, built on first use by the mapping methods.
        self._flat: dict[Key, Any] | None = None

    @classmethod
    def from_collections(cls, name: str, layer: Mapping[Key, Any],
                         dependencies: Sequence[Any] = ()) -> HighLevelGraph:
        """A graph whose layer ``name`` holds ``layer`` and reads from the collections ``dependencies``.

        Parameters
        ----------
        name : str
            The layer's name, usually the key prefix of the collection it makes.
        layer : mapping
            Key -> task for the new tasks (legacy Dask tuple tasks allowed).
        dependencies : sequence of collections
            The collections whose keys the tasks read (arrays, bags, delayed
            values, dataframes, or any object with ``__dask_graph__``).

        Returns
        -------
        HighLevelGraph

        Raises
        ------
        TypeError
            If ``layer`` is not a mapping or a dependency is not a collection.
        """
        own = _as_layer(name, layer)
        deps = tuple(dependencies)
        for i, dep in enumerate(deps):
            if isinstance(dep, type) or not callable(getattr(dep, "__dask_graph__", None)):
                raise TypeError(
                    f"HighLevelGraph.from_collections({name!r}, ...): dependencies[{i}] is a "
                    f"{type(dep).__name__}, not a collection. Dependencies are the collections whose keys the "
                    f"layer's tasks read; put plain values into the layer itself, or wrap them with "
                    f"shoal.delayed(value) first."
                )
        graph = cls.__new__(cls)
        graph._init(None, None, None, (name, own, deps))
        return graph

    # -- layers ------------------------------------------------------------------------------
    @property
    def layers(self) -> dict[str, Layer]:
        """Layer name -> :class:`Layer`."""
        self._materialize()
        assert self._layers is not None
        return self._layers

    @property
    def dependencies(self) -> dict[str, set[str]]:
        """Layer name -> names of the layers its tasks read from."""
        self._materialize()
        assert self._dependencies is not None
        return self._dependencies

    @property
    def dependents(self) -> dict[str, set[str]]:
        """Layer name -> names of the layers that read from it."""
        out: dict[str, set[str]] = {name: set() for name in self.layers}
        for name, deps in self.dependencies.items():
            for dep in deps:
                out.setdefault(dep, set()).add(name)
        return out

    def _materialize(self) -> None:
        if self._layers is not None:
            return
        assert self._origin is not None
        name, own, collections = self._origin
        layers: dict[str, Layer] = {}
        dependencies: dict[str, set[str]] = {}
        walker = _LayerWalk(layers, dependencies)
        outputs = walker.add(collections)
        layers[name] = own
        dependencies[name] = outputs
        self._layers, self._dependencies = layers, dependencies

    # -- the mapping of all keys -------------------------------------------------------------
    def to_dict(self) -> dict[Key, Any]:
        """Every key -> task, as one dict (built once, then kept)."""
        if self._flat is None:
            if self._origin is not None and self._layers is None:
                name, own, collections = self._origin
                flat = _flatten(collections)
                flat.update(own)
            else:
                flat = {}
                for layer in self.layers.values():
                    flat.update(layer)
            self._flat = flat
        return self._flat

    def __getitem__(self, key: Key) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def get_all_external_keys(self) -> set[Key]:
        """Every key of every layer."""
        return set(self.to_dict())

    def get_all_dependencies(self) -> dict[Key, set[Key]]:
        """Key -> the keys its task reads, for every key."""
        graph = convert_legacy_graph(self.to_dict())
        found = {key: set(node.dependencies) for key, node in graph.items()}
        self.key_dependencies.update(found)
        return found

    # -- building new graphs -----------------------------------------------------------------
    def copy(self) -> HighLevelGraph:
        """A shallow copy: new layer and dependency dicts, the same layers."""
        return HighLevelGraph(dict(self.layers), {k: set(v) for k, v in self.dependencies.items()},
                              self.key_dependencies)

    @classmethod
    def merge(cls, *graphs: Mapping[Key, Any]) -> HighLevelGraph:
        """One graph holding the layers of every ``HighLevelGraph`` and each plain mapping as a layer.

        >>> a = HighLevelGraph({"a": {"x": 1}}, {"a": set()})
        >>> merged = HighLevelGraph.merge(a, {"y": 2})
        >>> len(merged.layers), sorted(merged)
        (2, ['x', 'y'])
        """
        layers: dict[str, Layer] = {}
        dependencies: dict[str, set[str]] = {}
        for i, g in enumerate(graphs):
            if isinstance(g, HighLevelGraph):
                layers.update(g.layers)
                dependencies.update(g.dependencies)
            elif isinstance(g, Mapping):
                name = f"graph-{id(g):x}"
                layers[name] = _as_layer(name, g)
                dependencies[name] = set()
            else:
                raise TypeError(
                    f"HighLevelGraph.merge: argument {i} is a {type(g).__name__}; pass HighLevelGraphs or "
                    f"dicts of key -> task (use collection.__dask_graph__() for a collection)."
                )
        return cls(layers, dependencies)

    def cull(self, keys: Iterable[Key]) -> HighLevelGraph:
        """The graph of the tasks ``keys`` need, layer by layer; layers left empty are dropped."""
        needed, _ = cull_graph(convert_legacy_graph(self.to_dict()), list(keys))
        layers: dict[str, Layer] = {}
        for name, layer in self.layers.items():
            kept = {k: layer[k] for k in layer if k in needed}
            if kept:
                layers[name] = MaterializedLayer(kept, layer.annotations, layer.collection_annotations)
        return HighLevelGraph(layers, {n: self.dependencies[n] & set(layers) for n in layers})

    def cull_layers(self, layers: Iterable[str]) -> HighLevelGraph:
        """The graph of ``layers`` and every layer they depend on, directly or not."""
        wanted = list(layers)
        keep: set[str] = set()
        while wanted:
            name = wanted.pop()
            if name in keep:
                continue
            if name not in self.layers:
                raise KeyError(f"No layer named {name!r}; the layers are {sorted(map(str, self.layers))}.")
            keep.add(name)
            wanted.extend(self.dependencies.get(name, ()))
        return HighLevelGraph({n: layer for n, layer in self.layers.items() if n in keep},
                              {n: self.dependencies[n] for n in self.layers if n in keep})

    def validate(self) -> None:
        """Check that every dependency names a layer and that every layer has a dependency entry.

        Raises
        ------
        ValueError
            Naming the layer and the missing name.
        """
        for name in self.layers:
            if name not in self.dependencies:
                raise ValueError(f"Layer {name!r} has no entry in dependencies; add dependencies[{name!r}] = set().")
        for name, deps in self.dependencies.items():
            if name not in self.layers:
                raise ValueError(f"dependencies names {name!r}, which is not a layer of this graph.")
            missing = [d for d in deps if d not in self.layers]
            if missing:
                raise ValueError(
                    f"Layer {name!r} depends on {missing!r}, which are not layers of this graph. Build the graph "
                    f"with HighLevelGraph.from_collections(name, layer, dependencies=[...]) to include them."
                )

    def _toposort_layers(self) -> list[str]:
        """Layer names, each after the layers it depends on."""
        order: list[str] = []
        done: set[str] = set()
        for start in self.layers:
            stack = [(start, False)]
            while stack:
                name, expanded = stack.pop()
                if name in done:
                    continue
                if expanded:
                    done.add(name)
                    order.append(name)
                    continue
                stack.append((name, True))
                stack.extend((d, False) for d in self.dependencies.get(name, ()) if d not in done and d in self.layers)
        return order

    def __repr__(self) -> str:
        lines = [f"HighLevelGraph with {len(self.layers)} layers"]
        for i, name in enumerate(self._toposort_layers()):
            lines.append(f" {i}. {name!s} ({len(self.layers[name])} tasks)")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        return (HighLevelGraph, (self.layers, self.dependencies, self.key_dependencies))

    # -- used by collection constructors ----------------------------------------------------
    def _layer_and_deps(self, name: Any) -> tuple[Mapping[Key, Any], tuple[Any, ...]]:
        """The tasks of layer ``name`` and what a collection owning them depends on, without flattening."""
        if self._origin is not None and self._origin[0] == name:
            return _unwrap(self._origin[1]), self._origin[2]
        if name not in self.layers:
            # The collection's keys live somewhere in the graph: depend on all of it.
            return {}, (_GraphPart(self, _outputs(self)),)
        rest = {n: layer for n, layer in self.layers.items() if n != name}
        if not rest:
            return _unwrap(self.layers[name]), ()
        part = HighLevelGraph(rest, {n: d - {name} for n, d in self.dependencies.items() if n != name})
        return _unwrap(self.layers[name]), (_GraphPart(part, set(self.dependencies.get(name, ())) & set(rest)),)


class _GraphPart:
    """A graph that a collection's tasks read from, standing among the collection's dependencies."""

    __slots__ = ("graph", "outputs")

    def __init__(self, graph: HighLevelGraph, outputs: set[str]) -> None:
        self.graph = graph
        #: Names of the layers the depending collection reads directly.
        self.outputs = outputs

    def __dask_graph__(self) -> dict[Key, Any]:
        return self.graph.to_dict()

    def __dask_keys__(self) -> list[Key]:
        return []

    def __dask_layers__(self) -> tuple[str, ...]:
        return tuple(self.outputs)


def _as_layer(name: Any, layer: Any) -> Layer:
    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, HighLevelGraph):
        return MaterializedLayer(layer.to_dict())
    if not isinstance(layer, Mapping):
        raise TypeError(
            f"Layer {name!r} is a {type(layer).__name__}; a layer is a mapping of keys to tasks, such as "
            f"{{(name, 0): (func, arg)}}."
        )
    return MaterializedLayer(layer)


def _unwrap(layer: Layer) -> Mapping[Key, Any]:
    return layer.mapping if type(layer) is MaterializedLayer else layer


def _outputs(graph: HighLevelGraph) -> set[str]:
    """The layers no other layer reads: what a collection built on the whole graph reads."""
    read = set().union(*graph.dependencies.values()) if graph.dependencies else set()
    return {name for name in graph.layers if name not in read}


def _own_parts(obj: Any) -> tuple[Mapping[Key, Any], tuple[Any, ...]] | None:
    """A shoal collection's own tasks and the objects it depends on; ``None`` for other collections.

    shoal's arrays, bags, items and delayed values keep their tasks in ``_layer`` and their inputs in
    ``_deps`` (a Delayed may keep its single task in ``_node`` instead).
    """
    deps = getattr(obj, "_deps", None)
    if type(deps) is not tuple or not hasattr(obj, "_layer"):
        return None
    layer = obj._layer
    node = getattr(obj, "_node", None)
    if node is not None:
        layer = {**(layer or {}), obj._key: node}
    return (layer if layer is not None else {}), deps


def _layer_name(obj: Any) -> Any:
    layers = getattr(obj, "__dask_layers__", None)
    if layers is not None:
        names = layers()
        if names:
            return names[0]
    return f"{type(obj).__name__.strip('_').lower()}-{id(obj):x}"


def _flatten(roots: Iterable[Any]) -> dict[Key, Any]:
    """Every task of ``roots`` and what they depend on, each object visited once."""
    graph: dict[Key, Any] = {}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        parts = _own_parts(obj)
        if parts is None:
            graph.update(obj.__dask_graph__())
        else:
            graph.update(parts[0])
            stack.extend(parts[1])
    return graph


class _LayerWalk:
    """Fills layer and dependency dicts from collections, one layer per shoal collection."""

    def __init__(self, layers: dict[str, Layer], dependencies: dict[str, set[str]]) -> None:
        self.layers = layers
        self.dependencies = dependencies
        #: id(object) -> the layer names that a collection reading that object depends on.
        self.outputs: dict[int, set[str]] = {}
        #: (layer name, the objects it reads): dependencies filled in once every object is visited.
        self.pending: list[tuple[str, tuple[Any, ...]]] = []
        self._alive: list[Any] = []  # keeps visited objects alive so that their ids stay unique during the walk

    def add(self, roots: Iterable[Any]) -> set[str]:
        """Add the layers of ``roots`` and everything below; return the roots' output layer names."""
        roots = list(roots)
        stack = list(roots)
        while stack:
            obj = stack.pop()
            if id(obj) in self.outputs:
                continue
            self._alive.append(obj)
            stack.extend(self._visit(obj))
        for name, children in self.pending:
            self.dependencies[name] = set().union(*(self.outputs[id(c)] for c in children))
        found: set[str] = set()
        for root in roots:
            found |= self.outputs[id(root)]
        return found

    def _visit(self, obj: Any) -> tuple[Any, ...]:
        if isinstance(obj, _GraphPart):
            self.layers.update(obj.graph.layers)
            self.dependencies.update(obj.graph.dependencies)
            self.outputs[id(obj)] = set(obj.outputs)
            return ()
        parts = _own_parts(obj)
        if parts is not None:
            name = _layer_name(obj)
            layer, children = parts
            self.layers[name] = _as_layer(name, layer)
            self.outputs[id(obj)] = {name}
            self.pending.append((name, children))
            return children
        graph = obj.__dask_graph__()
        if isinstance(graph, HighLevelGraph):
            self.layers.update(graph.layers)
            self.dependencies.update(graph.dependencies)
            self.outputs[id(obj)] = set(obj.__dask_layers__())
        else:
            name = _layer_name(obj)
            self.layers[name] = _as_layer(name, graph)
            self.dependencies[name] = set()
            self.outputs[id(obj)] = {name}
        return ()

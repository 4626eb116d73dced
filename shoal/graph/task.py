"""The task specification: what a graph holds and how one entry runs.

A graph maps keys to nodes. A key is a ``str`` (``"inc-8f1e..."``), an
``int``, or a tuple whose first element is a string name and whose other
elements are indices (``("sum", 0, 3)``). A node is one of:

- :class:`Task`: call ``func(*args, **kwargs)``. Arguments may hold
  :class:`Ref` objects (the result of another key), other tasks (run inline),
  and lists, tuples, sets and dicts of those;
- :class:`DataNode`: a literal value;
- :class:`Alias`: the result of another key under a second name.

Every node knows, computed once when it is built, the set of keys it depends
on (``node.dependencies``), so no scheduler ever walks nested arguments on its
hot path. Running a node is ``node(values)`` where ``values`` maps each
dependency key to its result.

Dask's older form, tuples such as ``(add, "x", 1)`` whose first element is
callable and whose other elements name keys, is accepted at the boundary and
converted once by :func:`convert_legacy_graph`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

__all__ = [
    "Alias",
    "DataNode",
    "Graph",
    "GraphNode",
    "Key",
    "Ref",
    "Task",
    "convert_legacy_graph",
    "convert_legacy_task",
    "is_key",
    "key_split",
]

Key: TypeAlias = str | int | float | tuple[Any, ...]
Graph: TypeAlias = Mapping[Key, "GraphNode"]

_NO_DEPS: frozenset[Key] = frozenset()


def is_key(x: object) -> bool:
    """Return whether ``x`` has the form of a key.

    >>> is_key("x"), is_key(("x", 0, 1)), is_key(["x"]), is_key(("x", [0]))
    (True, True, False, False)
    """
    typ = type(x)
    if typ is str or typ is int or typ is float or typ is bytes:
        return True
    if typ is tuple:
        return all(is_key(part) for part in x)  # type: ignore[attr-defined]
    return False


def key_split(key: object) -> str:
    """Return the human-readable name of a key: its prefix without tokens.

    >>> key_split("inc-8f1e2a3b4c5d6e7f8091a2b3c4d5e6f7")
    'inc'
    >>> key_split(("sum-aggregate-0123456789abcdef0123456789abcdef", 0, 1))
    'sum-aggregate'
    >>> key_split("load-file")
    'load-file'
    """
    if type(key) is tuple:
        key = key[0] if key else ""
    if type(key) is bytes:
        key = key.decode()
    if type(key) is not str:
        return str(key)
    parts = key.split("-")
    kept = [parts[0]]
    for part in parts[1:]:
        # A token is hex of 8+ characters (or a bare number); names stop there.
        if len(part) >= 8 and all(c in "0123456789abcdef" for c in part):
            break
        if part.isdigit():
            break
        kept.append(part)
    return "-".join(kept)


class GraphNode:
    """Base of the three kinds of graph entries; see the module docstring."""

    __slots__ = ("key", "dependencies")

    key: Key
    #: The keys whose results this node reads, computed once at construction.
    dependencies: frozenset[Key]

    def __call__(self, values: Mapping[Key, Any]) -> Any:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} cannot be run")

    def resolve(self, values: Mapping[Key, Any]) -> Any:
        """Return this node's value given its dependencies' results."""
        return self(values)

    def substitute(self, nodes: Mapping[Key, GraphNode]) -> GraphNode:
        """Return a copy in which references to keys in ``nodes`` run those nodes inline."""
        raise TypeError(f"{type(self).__name__} does not support substitution")


class DataNode(GraphNode):
    """A literal value stored in the graph under ``key``.

    >>> DataNode("x", 42)({})
    42
    """

    __slots__ = ("value",)

    def __init__(self, key: Key, value: Any) -> None:
        self.key = key
        self.value = value
        self.dependencies = _NO_DEPS

    def __call__(self, values: Mapping[Key, Any]) -> Any:
        return self.value

    def substitute(self, nodes: Mapping[Key, GraphNode]) -> GraphNode:
        return self

    def __repr__(self) -> str:
        return f"DataNode({self.key!r}, {_short_repr(self.value)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (DataNode, (self.key, self.value))


class Ref:
    """A reference, inside a task's arguments, to the result of another key.

    >>> Task("y", abs, Ref("x"))({"x": -3})
    3
    """

    __slots__ = ("key",)

    def __init__(self, key: Key) -> None:
        self.key = key

    def resolve(self, values: Mapping[Key, Any]) -> Any:
        return values[self.key]

    def __repr__(self) -> str:
        return f"Ref({self.key!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.key == self.key

    def __hash__(self) -> int:
        return hash(("shoal-ref", self.key))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ref, (self.key,))


class Alias(GraphNode):
    """The result of ``target`` under the name ``key``.

    >>> Alias("y", "x")({"x": 5})
    5
    """

    __slots__ = ("target",)

    def __init__(self, key: Key, target: Key) -> None:
        self.key = key
        self.target = target
        self.dependencies = frozenset((target,))

    def __call__(self, values: Mapping[Key, Any]) -> Any:
        return values[self.target]

    def substitute(self, nodes: Mapping[Key, GraphNode]) -> GraphNode:
        inner = nodes.get(self.target)
        if inner is None:
            return self
        if isinstance(inner, Task):
            return inner.with_key(self.key)
        if isinstance(inner, DataNode):
            return DataNode(self.key, inner.value)
        assert isinstance(inner, Alias)
        return Alias(self.key, inner.target)

    def __repr__(self) -> str:
        return f"Alias({self.key!r} -> {self.target!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Alias, (self.key, self.target))


class _Nested:
    """A list, tuple, set or dict argument that holds references somewhere inside."""

    __slots__ = ("kind", "items", "dict_keys")

    def __init__(self, kind: type, items: list[Any], dict_keys: list[Any] | None = None) -> None:
        self.kind = kind
        self.items = items  # parsed: literals, Ref, Task or _Nested
        self.dict_keys = dict_keys

    def resolve(self, values: Mapping[Key, Any]) -> Any:
        got = [a.resolve(values) if type(a) in _DYNAMIC else a for a in self.items]
        if self.dict_keys is not None:
            return self.kind(zip(self.dict_keys, got, strict=True))
        return got if self.kind is list else self.kind(got)

    def substitute(self, nodes: Mapping[Key, GraphNode]) -> _Nested:
        return _Nested(self.kind, [_substitute(a, nodes) for a in self.items], self.dict_keys)

    def unparsed(self) -> Any:
        got = [_unparse(a) for a in self.items]
        if self.dict_keys is not None:
            return self.kind(zip(self.dict_keys, got, strict=True))
        return got if self.kind is list else self.kind(got)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Nested, (self.kind, self.items, self.dict_keys))


class Task(GraphNode):
    """Call ``func(*args, **kwargs)`` once the referenced keys have results.

    Parameters
    ----------
    key : Key or None
        The key this task computes; ``None`` for a task nested inside another
        task's arguments.
    func : callable
        The function to call.
    *args, **kwargs
        Arguments. :class:`Ref` objects, tasks, and lists, tuples, sets and
        dicts holding them are resolved before the call; everything else is
        passed as it is.

    Examples
    --------
    >>> from operator import add
    >>> t = Task("z", add, Ref("x"), 10)
    >>> sorted(t.dependencies)
    ['x']
    >>> t({"x": 1})
    11
    """

    __slots__ = ("func", "args", "kwargs", "_dynamic", "_dynamic_kwargs", "annotations")

    def __init__(self, key: Key | None, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        if not callable(func):
            raise TypeError(
                f"Task {key!r} was given {func!r} as its function, which is not callable. "
                f"Pass the function first: Task(key, func, *args)."
            )
        self.key = key  # type: ignore[assignment]
        self.func = func
        self.annotations: dict[str, Any] | None = None
        deps: set[Key] = set()
        parsed = []
        dynamic = []
        for i, arg in enumerate(args):
            value = _parse(arg, deps)
            parsed.append(value)
            if type(value) in _DYNAMIC:
                dynamic.append(i)
        self.args = tuple(parsed)
        self._dynamic = tuple(dynamic)
        if kwargs:
            parsed_kw = {}
            dynamic_kw = []
            for name, arg in kwargs.items():
                value = _parse(arg, deps)
                parsed_kw[name] = value
                if type(value) in _DYNAMIC:
                    dynamic_kw.append(name)
            self.kwargs = parsed_kw
            self._dynamic_kwargs = tuple(dynamic_kw)
        else:
            self.kwargs = _EMPTY_KWARGS
            self._dynamic_kwargs = ()
        self.dependencies = frozenset(deps) if deps else _NO_DEPS

    def __call__(self, values: Mapping[Key, Any]) -> Any:
        args = self.args
        if self._dynamic:
            args_list = list(args)
            for i in self._dynamic:
                args_list[i] = args_list[i].resolve(values)
            args = tuple(args_list)
        if self.kwargs:
            kwargs = self.kwargs
            if self._dynamic_kwargs:
                kwargs = dict(kwargs)
                for name in self._dynamic_kwargs:
                    kwargs[name] = kwargs[name].resolve(values)
            return self.func(*args, **kwargs)
        return self.func(*args)

    resolve = __call__

    def with_key(self, key: Key | None) -> Task:
        """Return the same task under another key."""
        new = Task.__new__(Task)
        for slot in ("func", "args", "kwargs", "_dynamic", "_dynamic_kwargs", "annotations", "dependencies"):
            setattr(new, slot, getattr(self, slot))
        new.key = key  # type: ignore[assignment]
        return new

    def substitute(self, nodes: Mapping[Key, GraphNode]) -> Task:
        """Run the nodes of ``nodes`` inline where this task refers to their keys.

        >>> inner = Task("x", abs, -2)
        >>> outer = Task("y", pow, Ref("x"), 3).substitute({"x": inner})
        >>> outer.dependencies, outer({})
        (frozenset(), 8)
        """
        if not (self.dependencies & nodes.keys()):
            return self
        args = [_unparse(_substitute(a, nodes)) for a in self.args]
        kwargs = {k: _unparse(_substitute(v, nodes)) for k, v in self.kwargs.items()}
        new = Task(self.key, self.func, *args, **kwargs)
        new.annotations = self.annotations
        return new

    def count_refs(self, key: Key) -> int:
        """Return how many times the arguments read ``key``, nested tasks included.

        >>> Task("z", max, Ref("x"), [Ref("x"), Ref("y")]).count_refs("x")
        2
        """
        count = 0
        stack: list[Any] = [*self.args, *self.kwargs.values()]
        while stack:
            arg = stack.pop()
            typ = type(arg)
            if typ is Ref:
                count += arg.key == key
            elif typ is Task:
                if key in arg.dependencies:
                    stack.extend(arg.args)
                    stack.extend(arg.kwargs.values())
            elif typ is _Nested:
                stack.extend(arg.items)
        return count

    def __repr__(self) -> str:
        name = getattr(self.func, "__name__", type(self.func).__name__)
        shown = ", ".join(_short_repr(a) for a in self.args)
        if self.kwargs:
            shown += ", " + ", ".join(f"{k}={_short_repr(v)}" for k, v in self.kwargs.items())
        return f"<Task {self.key!r} {name}({shown})>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from unparsed arguments so that dependencies are recomputed on load.
        return (_rebuild_task, (self.key, self.func, [_unparse(a) for a in self.args],
                                {k: _unparse(v) for k, v in self.kwargs.items()}, self.annotations))

    def __dask_tokenize__(self) -> Any:
        return ("shoal.Task", self.key, self.func, [_unparse(a) for a in self.args],
                sorted((k, _unparse(v)) for k, v in self.kwargs.items()))


_EMPTY_KWARGS: dict[str, Any] = {}
# Argument objects that must be resolved at call time; checked with ``type(a) in``.
_DYNAMIC = frozenset({Ref, Task, _Nested})


def _rebuild_task(key: Key, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
                  annotations: dict[str, Any] | None) -> Task:
    task = Task(key, func, *args, **kwargs)
    task.annotations = annotations
    return task


def _parse(arg: Any, deps: set[Key]) -> Any:
    """Return ``arg`` ready to resolve; add the keys it references to ``deps``."""
    typ = type(arg)
    if typ is Ref:
        deps.add(arg.key)
        return arg
    if typ is Task:
        deps.update(arg.dependencies)
        return arg
    if typ is list or typ is tuple or typ is set or typ is frozenset:
        if not arg:
            return arg
        items = [_parse(a, deps) for a in arg]
        if any(type(a) in _DYNAMIC for a in items):
            return _Nested(typ, items)
        return arg
    if typ is dict:
        if not arg:
            return arg
        values = [_parse(v, deps) for v in arg.values()]
        if any(type(v) in _DYNAMIC for v in values):
            return _Nested(dict, values, list(arg.keys()))
        return arg
    if typ is _Nested:
        for item in arg.items:
            _parse(item, deps)
        return arg
    return arg


def _unparse(arg: Any) -> Any:
    return arg.unparsed() if type(arg) is _Nested else arg


def _substitute(arg: Any, nodes: Mapping[Key, GraphNode]) -> Any:
    typ = type(arg)
    if typ is Ref:
        node = nodes.get(arg.key)
        if node is None:
            return arg
        if isinstance(node, DataNode):
            return node.value if not _needs_wrapping(node.value) else Task(None, _identity, node.value)
        if isinstance(node, Alias):
            return Ref(node.target)
        return node.with_key(None) if isinstance(node, Task) else arg
    if typ is Task:
        return arg.substitute(nodes)
    if typ is _Nested:
        return arg.substitute(nodes)
    return arg


def _identity(x: Any) -> Any:
    return x


def _needs_wrapping(value: Any) -> bool:
    # A literal that looks like an argument form would be re-parsed on rebuild.
    return type(value) in _DYNAMIC or type(value) in (list, tuple, set, frozenset, dict)


def _short_repr(value: Any, limit: int = 40) -> str:
    if type(value) is Task:
        # Name the nested call only: a fused chain nests tasks many levels deep.
        return f"{getattr(value.func, '__name__', 'task')}(...)"
    if type(value) is _Nested:
        return f"{value.kind.__name__}(...)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- legacy


def _is_legacy_task(value: Any) -> bool:
    return type(value) is tuple and bool(value) and callable(value[0])


def convert_legacy_task(key: Key | None, value: Any, all_keys: Iterable[Key] | Mapping[Key, Any]) -> GraphNode:
    """Convert one value of a Dask-style graph to a node.

    ``all_keys`` is the collection of keys of the graph: a string or tuple
    argument equal to one of them becomes a reference to that key.

    >>> from operator import add
    >>> node = convert_legacy_task("z", (add, "x", (abs, -1)), {"x", "z"})
    >>> node({"x": 10})
    11
    """
    if isinstance(value, GraphNode):
        return value
    if _is_legacy_task(value):
        return _legacy_task(key, value, all_keys)
    if _is_reference(value, all_keys):
        return Alias(key, value)  # type: ignore[arg-type]
    converted = _legacy_arg(value, all_keys)
    if type(converted) in _DYNAMIC or type(converted) is _Nested:
        return Task(key, _identity, _unparse(converted))
    return DataNode(key, value)  # type: ignore[arg-type]


def _is_reference(value: Any, all_keys: Any) -> bool:
    typ = type(value)
    if typ is str or typ is tuple or typ is int:
        try:
            return value in all_keys
        except TypeError:  # unhashable inside a tuple
            return False
    return False


def _legacy_task(key: Key | None, value: tuple[Any, ...], all_keys: Any) -> Task:
    args = [_unparse(_legacy_arg(a, all_keys)) for a in value[1:]]
    return Task(key, value[0], *args)


def _legacy_arg(arg: Any, all_keys: Any) -> Any:
    typ = type(arg)
    if typ is tuple and arg and callable(arg[0]):
        return _legacy_task(None, arg, all_keys)
    if _is_reference(arg, all_keys):
        return Ref(arg)
    if typ is list or typ is tuple:
        items = [_legacy_arg(a, all_keys) for a in arg]
        if any(type(a) in _DYNAMIC for a in items):
            return _Nested(typ, items)
        return arg
    if typ is dict:
        values = [_legacy_arg(v, all_keys) for v in arg.values()]
        if any(type(v) in _DYNAMIC for v in values):
            return _Nested(dict, values, list(arg.keys()))
        return arg
    return arg


def convert_legacy_graph(graph: Mapping[Key, Any]) -> dict[Key, GraphNode]:
    """Return ``graph`` with every value a :class:`GraphNode`.

    Values that are already nodes are kept as they are, so converting a graph
    shoal built itself costs one type check per key.

    >>> from operator import add
    >>> g = convert_legacy_graph({"x": 1, "y": (add, "x", 2), "z": "y"})
    >>> [type(n).__name__ for n in g.values()]
    ['DataNode', 'Task', 'Alias']
    """
    out: dict[Key, GraphNode] = {}
    for key, value in graph.items():
        if isinstance(value, GraphNode):
            out[key] = value
        else:
            out[key] = convert_legacy_task(key, value, graph)
    return out

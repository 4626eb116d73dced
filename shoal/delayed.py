"""Lazy function calls: ``delayed`` and the :class:`Delayed` value.

``delayed(f)(x, y)`` does not call ``f``; it returns a :class:`Delayed` that
stands for the result. Everything done with a ``Delayed`` (attribute access,
method calls, operators, indexing, iterating with ``nout``, passing it to
another delayed call) builds more of the graph, until ``compute()`` runs it.

Graph model
    Each ``Delayed`` holds its own task and references to the values it was
    built from, not a copy of their graphs. Building a call therefore costs
    the same however long the history behind it, and the graph is assembled
    once, by a walk over those references, when it is needed.

Keys
    ``dask_key_name=`` names the result; otherwise the key is the function's
    name and a token: a hash of the function and arguments when the call is
    pure (``pure=True``, and always for operators, attributes and indexing),
    else a random id, since calling an impure function twice must run twice.
"""

from __future__ import annotations

import operator
import sys
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from shoal import config
from shoal.base import compute, is_dask_collection, persist, visualize
from shoal.graph.annotate import get_annotations
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task, convert_legacy_graph
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph
from shoal.local.threads import get_threads

__all__ = ["Delayed", "delayed", "finalize", "unpack_delayed"]

_MISSING = object()
_LITERALS = frozenset({int, float, str, bytes, bool, type(None), complex})


def funcname(func: Any) -> str:
    """Return a short name for a function, used to prefix keys.

    >>> import functools
    >>> funcname(len), funcname(functools.partial(max, 1)), funcname(lambda: 0)
    ('len', 'max', 'lambda')
    """
    while hasattr(func, "func") and not hasattr(func, "__name__"):
        func = func.func  # functools.partial and similar wrappers
    name = getattr(func, "__name__", None)
    if name is None:
        name = type(func).__name__
    if name == "<lambda>":
        return "lambda"
    return str(name)


def unpack_delayed(obj: Any, deps: list[Any]) -> Any:
    """Return ``obj`` as a task argument: Delayed values become references.

    Collections inside become references to a finalizing task; every upstream
    object whose graph is needed is appended to ``deps``.
    """
    typ = type(obj)
    if typ in _LITERALS:
        return obj
    if isinstance(obj, Delayed):
        deps.append(obj)
        return Ref(obj._key)
    if typ is list or typ is tuple or typ is set or typ is frozenset:
        return typ(unpack_delayed(item, deps) for item in obj)
    if typ is dict:
        return {k: unpack_delayed(v, deps) for k, v in obj.items()}
    if typ is slice:
        parts = (unpack_delayed(obj.start, deps), unpack_delayed(obj.stop, deps), unpack_delayed(obj.step, deps))
        if any(type(p) is Ref for p in parts):
            return Task(None, slice, *parts)
        return obj
    if is_dask_collection(obj):
        final = finalize(obj)
        deps.append(final)
        return Ref(final._key)
    return obj


def _finalize_results(results: Any, finalize_fn: Callable[..., Any], *extra: Any) -> Any:
    return finalize_fn(results, *extra)


def _nest_refs(keys: Any) -> Any:
    if type(keys) is list:
        return [_nest_refs(k) for k in keys]
    return Ref(keys)


def finalize(collection: Any) -> Delayed:
    """Return a Delayed that computes ``collection`` to its final value.

    >>> import shoal
    >>> finalize(shoal.delayed(1) + 1).compute()
    2
    """
    if isinstance(collection, Delayed):
        return collection
    fn, extra = collection.__dask_postcompute__()
    key = f"finalize-{tokenize(collection)}"
    task = Task(key, _finalize_results, _nest_refs(collection.__dask_keys__()), fn, *extra)
    return Delayed(key, task, (collection,))


def _make_key(func: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any], pure: bool | None) -> str:
    if pure is None:
        pure = config.get("delayed_pure", False)
    name = funcname(func)
    if pure:
        return f"{name}-{tokenize(func, args, kwargs)}"
    return f"{name}-{uuid.uuid4().hex}"


def _build_call(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *, pure: bool | None,
                nout: int | None, key: Key | None = None, func_deps: tuple[Any, ...] = ()) -> Delayed:
    name = kwargs.pop("dask_key_name", None)
    pure = kwargs.pop("pure", pure)
    deps: list[Any] = list(func_deps)
    task_args = [unpack_delayed(a, deps) for a in args]
    task_kwargs = {k: unpack_delayed(v, deps) for k, v in kwargs.items()} if kwargs else {}
    if key is None:
        key = name if name is not None else _make_key(func, args, kwargs, pure)
    task = Task(key, func, *task_args, **task_kwargs)
    task.annotations = get_annotations()
    return Delayed(key, task, tuple(deps), length=nout)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _call_method(obj: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(obj, method)(*args, **kwargs)


class Delayed:
    """A lazy value: the result of a task graph, computed on ``compute()``.

    Build one with :func:`delayed`. As in Dask, ``Delayed(key, graph)`` also
    makes one from a graph (a dict of tasks, legacy tuple tasks included)
    that computes ``key``, and ``Delayed(key, hlg, layer=name)`` from a
    :class:`~shoal.highlevelgraph.HighLevelGraph` (layer ``name``, by
    default the key, holds the value's own tasks).

    Examples
    --------
    >>> import shoal
    >>> x = shoal.delayed(1) + 2
    >>> x
    Delayed('add-...')
    >>> x.compute()
    3
    """

    __slots__ = ("_key", "_node", "_deps", "_layer", "_length")

    def __init__(self, key: Key, node: GraphNode | Mapping[Key, Any] | None, deps: tuple[Any, ...] = (),
                 layer: Mapping[Key, Any] | str | None = None, length: int | None = None) -> None:
        if isinstance(node, Mapping):  # Dask's Delayed(key, dsk, length=None, layer=None): a graph, not a task
            if type(deps) is int:  # Dask's third positional argument is the length
                deps, length = (), deps
            if isinstance(node, HighLevelGraph):
                # Its layer (named ``layer``, else the key) holds this value's tasks; the collections it was
                # built from stay this value's inputs, so nothing is flattened.
                node_layer, inputs = node._layer_and_deps(key if layer is None or isinstance(layer, Mapping)
                                                          else layer)
                deps = (*deps, *inputs)
                layer = {**node_layer, **layer} if isinstance(layer, Mapping) else node_layer
            else:
                layer = {**node, **layer} if isinstance(layer, Mapping) else {**node}
            node = None
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_node", node)
        #: Objects whose graphs this one needs: Delayed values or other collections.
        object.__setattr__(self, "_deps", deps)
        #: A graph this value carries whole (from persist, optimize, or a collection).
        object.__setattr__(self, "_layer", layer)
        object.__setattr__(self, "_length", length)

    # -- the collection protocol ----------------------------------------------------
    def __dask_graph__(self) -> dict[Key, GraphNode]:
        graph: dict[Key, Any] = {}
        seen: set[int] = set()
        stack: list[Any] = [self]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Delayed):
                if obj._layer is not None:
                    graph.update(obj._layer)
                if obj._node is not None:
                    graph[obj._key] = obj._node
                stack.extend(obj._deps)
            else:
                graph.update(obj.__dask_graph__())
        return convert_legacy_graph(graph)

    def __dask_keys__(self) -> list[Key]:
        return [self._key]

    def __dask_layers__(self) -> tuple[Key, ...]:
        return (self._key,)

    def __dask_tokenize__(self) -> Key:
        return self._key

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _first, ()

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _rebuild, (self._key, self._length)

    __dask_scheduler__ = staticmethod(get_threads)

    @staticmethod
    def __dask_optimize__(graph: Mapping[Key, GraphNode], keys: list[Key], **kwargs: Any) -> Mapping[Key, GraphNode]:
        # Culling happens in every scheduler; fusing delayed chains would rename
        # keys users may hold, so the graph is left as it is.
        return graph

    # -- public attributes ----------------------------------------------------------
    @property
    def key(self) -> Key:
        """The key of this value in its graph."""
        return self._key

    @property
    def dask(self) -> dict[Key, GraphNode]:
        """The task graph that computes this value."""
        return self.__dask_graph__()

    @property
    def annotations(self) -> dict[str, Any] | None:
        """The annotations of this value's task, if any (see :func:`shoal.annotate`)."""
        return getattr(self._node, "annotations", None)

    def compute(self, **kwargs: Any) -> Any:
        """Compute this value; keyword arguments go to :func:`shoal.compute`."""
        (result,) = compute(self, traverse=False, **kwargs)
        return result

    def persist(self, **kwargs: Any) -> Delayed:
        """Compute this value and return a Delayed that holds the result."""
        (result,) = persist(self, traverse=False, **kwargs)
        return result  # type: ignore[no-any-return]

    def visualize(self, filename: str | None = "mydask", format: str | None = None, optimize_graph: bool = False,
                  **kwargs: Any) -> Any:
        """Draw this value's graph; see :func:`shoal.visualize`."""
        return visualize(self, filename=filename, format=format, optimize_graph=optimize_graph, **kwargs)

    # -- laziness -------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Delayed({self._key!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(type(self))) | {"key", "dask"})

    def __getattr__(self, attr: str) -> Delayed:
        if attr.startswith("_"):
            raise AttributeError(f"Attribute {attr} not found")
        return _DelayedAttr(self, attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise TypeError(f"Delayed objects are immutable: cannot set .{attr}. Build a new value instead.")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("Delayed objects are immutable: cannot assign to an item. Build a new value instead.")

    def __iter__(self) -> Iterator[Delayed]:
        if self._length is None:
            raise TypeError(
                f"Delayed {self._key!r} has no known length, so it cannot be iterated. "
                f"Pass nout= to delayed (e.g. delayed(f, nout=2)) or compute it first."
            )
        for i in range(self._length):
            yield self[i]

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError(
                f"Delayed {self._key!r} has no known length. Pass nout= to delayed, or compute it first."
            )
        return self._length

    def __bool__(self) -> bool:
        raise TypeError(
            f"The truth of Delayed {self._key!r} is not known until it is computed: "
            f"use `if x.compute():`, or keep the branch lazy with delayed functions."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Delayed:
        pure = kwargs.pop("pure", None)
        name = kwargs.pop("dask_key_name", None)
        key = name if name is not None else _make_key(_apply, (self, *args), kwargs, pure)
        return _build_call(_apply, (self, *args), kwargs, pure=pure, nout=None, key=key)

    def __getitem__(self, index: Any) -> Delayed:
        return _pure_call(operator.getitem, self, index)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__dask_graph__(), self._key, self._length))


def _first(results: list[Any]) -> Any:
    return results[0]


def _rebuild(graph: Mapping[Key, Any], key: Key, length: int | None = None, rename: Any = None) -> Delayed:
    if rename:
        key = rename.get(key, key)
    return Delayed(key, None, (), layer=dict(graph), length=length)


def _pure_call(func: Callable[..., Any], *args: Any) -> Delayed:
    return _build_call(func, args, {}, pure=True, nout=None)


class _DelayedAttr(Delayed):
    """``x.attr`` on a Delayed: lazily ``getattr(x, attr)``, or a method call when called."""

    __slots__ = ("_obj", "_attr")

    def __init__(self, obj: Delayed, attr: str) -> None:
        key = f"getattr-{tokenize(obj._key, attr)}"
        super().__init__(key, Task(key, getattr, Ref(obj._key), attr), (obj,))
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_attr", attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Delayed:
        pure = kwargs.pop("pure", None)
        name = kwargs.pop("dask_key_name", None)
        key = name if name is not None else _make_key(
            types.SimpleNamespace(__name__=self._attr), (self._obj, *args), kwargs, pure
        )
        return _build_call(_call_method, (self._obj, self._attr, *args), kwargs, pure=pure, nout=None, key=key)


def _bind_operator(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Delayed]:
    if reflected:
        def method(self: Delayed, other: Any) -> Delayed:
            return _pure_call(op, other, self)
    else:
        def method(self: Delayed, *other: Any) -> Delayed:
            return _pure_call(op, self, *other)
    method.__name__ = op.__name__
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    _op = getattr(operator, f"{_name}_" if _name in ("and", "or") else _name)
    setattr(Delayed, f"__{_name}__", _bind_operator(_op))
    setattr(Delayed, f"__r{_name}__", _bind_operator(_op, reflected=True))
for _name in ("lt", "le", "eq", "ne", "gt", "ge", "neg", "pos", "abs", "invert"):
    setattr(Delayed, f"__{_name}__", _bind_operator(getattr(operator, _name)))
Delayed.__divmod__ = _bind_operator(divmod)
Delayed.__rdivmod__ = _bind_operator(divmod, reflected=True)
del _name, _op


class _DelayedFunction(Delayed):
    """``delayed(f)``: a Delayed that holds a function; calling it records a task.

    Its own key (needed only if the function itself is computed or passed to
    another call) is made on first use: tokenizing a function can cost tens of
    microseconds, and ``delayed(f)(x)`` in a loop would pay it every time.
    """

    __slots__ = ("_func", "_pure", "_nout", "_name")

    def __init__(self, func: Any, *, name: str | None, pure: bool | None, nout: int | None) -> None:
        object.__setattr__(self, "_func", func)
        object.__setattr__(self, "_pure", pure)
        object.__setattr__(self, "_nout", nout)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_deps", ())
        object.__setattr__(self, "_layer", None)
        object.__setattr__(self, "_length", None)

    @property
    def _key(self) -> Key:  # type: ignore[override]
        return self._name or f"{funcname(self._func)}-{tokenize(self._func)}"

    @property
    def _node(self) -> GraphNode:  # type: ignore[override]
        return DataNode(self._key, self._func)

    def __call__(self, *args: Any, **kwargs: Any) -> Delayed:
        return _build_call(self._func, args, kwargs, pure=self._pure, nout=self._nout)

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return funcname(self._func)


def _has_delayed(obj: Any) -> bool:
    typ = type(obj)
    if isinstance(obj, Delayed) or (typ not in _LITERALS and is_dask_collection(obj)):
        return True
    if typ is list or typ is tuple or typ is set or typ is frozenset:
        return any(_has_delayed(item) for item in obj)
    if typ is dict:
        return any(_has_delayed(v) for v in obj.values())
    return False


def delayed(obj: Any = _MISSING, name: str | None = None, pure: bool | None = None, nout: int | None = None,
            traverse: bool = True) -> Any:
    """Wrap a function or a value so that what is done with it happens lazily.

    Parameters
    ----------
    obj : callable or object
        A function: calling the result records a task instead of calling it.
        Any other object: a Delayed holding it. Lists, tuples, sets and dicts
        that contain Delayed values become a task assembling their results
        (unless ``traverse=False``).
    name : str, optional
        The key to use (for a value) or the key prefix of the function itself.
    pure : bool, optional
        Whether calls are deterministic: equal calls then share one key and
        run once. Default: the ``delayed_pure`` setting, else ``False``.
    nout : int, optional
        The number of items the call returns, making the result iterable and
        unpackable: ``a, b = delayed(divmod, nout=2)(7, 2)``.
    traverse : bool
        Look inside containers for Delayed values.

    Returns
    -------
    Delayed

    Examples
    --------
    >>> import shoal
    >>> @shoal.delayed
    ... def inc(x):
    ...     return x + 1
    >>> @shoal.delayed
    ... def add(x, y):
    ...     return x + y
    >>> add(inc(1), inc(2)).compute()
    5
    >>> q, r = shoal.delayed(divmod, nout=2)(7, 2)
    >>> shoal.compute(q, r)
    (3, 1)
    """
    if obj is _MISSING:
        # ``@delayed(pure=True)``: return the decorator.
        def decorate(func: Any) -> Any:
            return delayed(func, name=name, pure=pure, nout=nout, traverse=traverse)

        return decorate
    if isinstance(obj, Delayed):
        return obj
    if is_dask_collection(obj):
        return finalize(obj)
    if callable(obj):
        return _DelayedFunction(obj, name=name, pure=pure, nout=nout)
    if traverse and _has_delayed(obj):
        deps: list[Any] = []
        arg = unpack_delayed(obj, deps)
        key = name or f"{type(obj).__name__}-{tokenize(obj)}"
        task = Task(key, _identity, arg)
        task.annotations = get_annotations()
        return Delayed(key, task, tuple(deps), length=nout)
    key = name or f"{type(obj).__name__}-{tokenize(obj)}"
    return Delayed(key, DataNode(key, obj), length=nout)


def _identity(x: Any) -> Any:
    return x


def to_task_dask(obj: Any) -> tuple[Any, dict[Key, GraphNode]]:
    """Return ``obj`` as a task argument and the graph it needs (for collection authors)."""
    deps: list[Any] = []
    arg = unpack_delayed(obj, deps)
    graph: dict[Key, GraphNode] = {}
    for d in deps:
        graph.update(d.__dask_graph__())
    return arg, graph


class _CallableModule(types.ModuleType):
    """Lets ``shoal.delayed(f)`` work even when ``shoal.delayed`` was imported as this module."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return delayed(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

"""The collection protocol and the functions that act on any collection.

A collection is any object with Dask's protocol methods (see
:class:`ShoalCollection`); shoal's own arrays, dataframes, bags and delayed
values are collections, and so are third-party objects written against Dask.
``compute``, ``persist``, ``optimize`` and ``visualize`` find collections in
their arguments (inside lists, tuples, sets and dicts when ``traverse=True``),
merge their graphs so that shared work runs once, run them on the scheduler
chosen by :func:`shoal.local.get_scheduler`, and put the results back in the
same structure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from shoal.graph.task import DataNode, GraphNode, Key, convert_legacy_graph
from shoal.graph.tokenize import tokenize  # re-exported: Dask code imports it from dask.base
from shoal.highlevelgraph import HighLevelGraph
from shoal.local.loop import flatten_keys
from shoal.local.selection import get_scheduler

__all__ = [
    "DaskMethodsMixin",
    "ShoalCollection",
    "collections_to_graph",
    "compute",
    "is_dask_collection",
    "optimize",
    "persist",
    "replace_name_in_key",
    "tokenize",
    "unpack_collections",
    "visualize",
]


@runtime_checkable
class ShoalCollection(Protocol):
    """What an object must offer to be computed by shoal (Dask's protocol).

    ``__dask_graph__`` returns a mapping of keys to tasks; ``__dask_keys__``
    the (possibly nested) list of output keys; ``__dask_postcompute__`` a
    function and extra arguments turning the results of those keys into the
    final value; ``__dask_postpersist__`` a function and extra arguments that
    rebuild the collection from a graph holding those results.

    Optional, looked up on the class: ``__dask_scheduler__`` (the default
    ``get`` function), ``__dask_optimize__(graph, keys, **kwargs)`` (run on the
    merged graph of all collections of that class before computing), and on
    the instance ``__dask_tokenize__`` (what :func:`shoal.tokenize` hashes)
    and ``__dask_layers__`` (the layer names, needed when ``__dask_graph__``
    returns a :class:`~shoal.highlevelgraph.HighLevelGraph`).
    ``persist`` calls the ``__dask_postpersist__`` function with a dict of
    ``DataNode`` values (Dask passes the raw values).
    """

    def __dask_graph__(self) -> Mapping[Key, Any] | None: ...

    def __dask_keys__(self) -> list[Any]: ...

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]: ...

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]: ...


def is_dask_collection(x: object) -> bool:
    """Return whether ``x`` is a lazy collection shoal can compute.

    >>> import shoal
    >>> is_dask_collection(shoal.delayed(1)), is_dask_collection(1)
    (True, False)
    """
    if isinstance(x, type):
        return False
    method = getattr(x, "__dask_graph__", None)
    if method is None or not callable(method):
        return False
    if getattr(type(x), "_shoal_collection", False):
        return True  # building its graph just to test for None would cost an optimization pass
    try:
        return method() is not None
    except TypeError:
        return False


class _Slot:
    """Marks where the i-th collection stood in the arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


# Module-level recursion, not closures calling themselves: such a closure is a reference cycle that would keep
# the collections it saw (and any data in their graphs) alive until the cyclic garbage collector runs.
def _visit(obj: Any, found: list[Any], index: dict[int, int], traverse: bool) -> Any:
    if is_dask_collection(obj):
        i = index.get(id(obj))
        if i is None:
            i = index[id(obj)] = len(found)
            found.append(obj)
        return _Slot(i)
    if not traverse:
        return obj
    typ = type(obj)
    if typ is list:
        return [_visit(item, found, index, traverse) for item in obj]
    if typ is tuple or typ is set or typ is frozenset:
        return typ(_visit(item, found, index, traverse) for item in obj)
    if typ is dict:
        return {k: _visit(v, found, index, traverse) for k, v in obj.items()}
    return obj


def _rebuild(obj: Any, values: list[Any]) -> Any:
    typ = type(obj)
    if typ is _Slot:
        return values[obj.index]
    if typ is list:
        return [_rebuild(item, values) for item in obj]
    if typ is tuple or typ is set or typ is frozenset:
        return typ(_rebuild(item, values) for item in obj)
    if typ is dict:
        return {k: _rebuild(v, values) for k, v in obj.items()}
    return obj


def unpack_collections(*args: Any, traverse: bool = True) -> tuple[list[Any], Callable[[list[Any]], tuple[Any, ...]]]:
    """Find the collections in ``args``; return them and a function to put values in their place.

    >>> import shoal
    >>> x = shoal.delayed(1)
    >>> found, repack = unpack_collections([x, 2], {"a": x})
    >>> len(found), repack(["one"])
    (1, (['one', 2], {'a': 'one'}))
    """
    found: list[Any] = []
    index: dict[int, int] = {}
    template = [_visit(a, found, index, traverse) for a in args]

    def repack(values: list[Any]) -> tuple[Any, ...]:
        return tuple(_rebuild(t, values) for t in template)

    return found, repack


def _optimize_function(collection: Any) -> Callable[..., Any] | None:
    return getattr(type(collection), "__dask_optimize__", None)


def collections_to_graph(collections: list[Any], *, optimize_graph: bool = True, **kwargs: Any) -> dict[Key, GraphNode]:
    """Merge the graphs of ``collections`` into one, optimizing each kind of collection together."""
    groups: dict[Any, list[Any]] = {}
    for c in collections:
        groups.setdefault(_optimize_function(c) if optimize_graph else None, []).append(c)
    graph: dict[Key, GraphNode] = {}
    for opt, members in groups.items():
        merged: dict[Key, Any] = {}
        for c in members:
            part_graph = c.__dask_graph__()
            # A HighLevelGraph keeps its merged dict: one update instead of a lookup per key through the layers.
            merged.update(part_graph.to_dict() if isinstance(part_graph, HighLevelGraph) else part_graph)
        part = convert_legacy_graph(merged)
        if opt is not None:
            keys = [k for c in members for k in flatten_keys(c.__dask_keys__())]
            part = convert_legacy_graph(opt(part, keys, **kwargs))
        graph.update(part)
    return graph


def _default_get(collections: list[Any]) -> Callable[..., Any] | None:
    for c in collections:
        default = getattr(type(c), "__dask_scheduler__", None)
        if default is not None:
            return default  # type: ignore[no-any-return]
    return None


def compute(*args: Any, traverse: bool = True, optimize_graph: bool = True, scheduler: Any = None,
            get: Any = None, **kwargs: Any) -> tuple[Any, ...]:
    """Compute several collections at once, sharing their common work.

    Parameters
    ----------
    *args : objects
        Collections, or lists/tuples/dicts holding them (with
        ``traverse=True``); other objects are passed through.
    traverse : bool
        Look inside lists, tuples, sets and dicts for collections.
    optimize_graph : bool
        Run each collection type's optimizations first.
    scheduler : str, Executor, callable or client, optional
        Where to run; see :func:`shoal.local.get_scheduler`.
    **kwargs
        Passed to the scheduler (``num_workers=``, ``callbacks=``, ...).

    Returns
    -------
    tuple
        One result per argument, in the arguments' structure.

    Examples
    --------
    >>> import shoal
    >>> a = shoal.delayed(sum)([1, 2, 3])
    >>> shoal.compute(a, {"b": a + 1}, "c", scheduler="sync")
    (6, {'b': 7}, 'c')
    """
    collections, repack = unpack_collections(*args, traverse=traverse)
    if not collections:
        return args
    run = get_scheduler(get if get is not None else scheduler, default=_default_get(collections))
    graph = collections_to_graph(collections, optimize_graph=optimize_graph)
    keys = [c.__dask_keys__() for c in collections]
    results = run(graph, keys, **kwargs)
    values = []
    for c, r in zip(collections, results, strict=True):
        finalize, extra = c.__dask_postcompute__()
        values.append(finalize(r, *extra))
    return repack(values)


def persist(*args: Any, traverse: bool = True, optimize_graph: bool = True, scheduler: Any = None,
            **kwargs: Any) -> tuple[Any, ...]:
    """Compute collections and return new ones whose graphs hold the results.

    Later computations on the returned collections start from these results
    instead of recomputing them.

    Examples
    --------
    >>> import shoal
    >>> x = shoal.delayed(sum)([1, 2, 3])
    >>> (y,) = shoal.persist(x, scheduler="sync")
    >>> len(y.dask), y.compute()
    (1, 6)
    """
    collections, repack = unpack_collections(*args, traverse=traverse)
    if not collections:
        return args
    run = get_scheduler(scheduler, default=_default_get(collections))
    # A client persists on its own workers (results stay in the cluster).
    client_persist = getattr(getattr(run, "__self__", None), "persist", None)
    if client_persist is not None and getattr(run, "__name__", "") == "get":
        return repack(list(client_persist(collections, optimize_graph=optimize_graph, **kwargs)))
    graph = collections_to_graph(collections, optimize_graph=optimize_graph)
    keys = [c.__dask_keys__() for c in collections]
    results = run(graph, keys, **kwargs)
    rebuilt = []
    for c, r, k in zip(collections, results, keys, strict=True):
        held = {key: DataNode(key, value) for key, value in _pair_up(k, r)}
        rebuild, extra = c.__dask_postpersist__()
        rebuilt.append(rebuild(held, *extra))
    return repack(rebuilt)


def _pair_up(keys: Any, results: Any) -> list[tuple[Key, Any]]:
    """Pair each key of a nested key list with its result (results nest the same way)."""
    if type(keys) is not list:
        return [(keys, results)]
    pairs: list[tuple[Key, Any]] = []
    for k, r in zip(keys, results, strict=True):
        pairs.extend(_pair_up(k, r))
    return pairs


def optimize(*args: Any, traverse: bool = True, **kwargs: Any) -> tuple[Any, ...]:
    """Return the collections with their graphs optimized (and merged, so shared work is shared).

    Examples
    --------
    >>> import shoal
    >>> x = shoal.delayed(sum)([1, 2])
    >>> (y,) = shoal.optimize(x)
    >>> y.compute(scheduler="sync")
    3
    """
    collections, repack = unpack_collections(*args, traverse=traverse)
    if not collections:
        return args
    graph = collections_to_graph(collections, **kwargs)
    rebuilt = []
    for c in collections:
        rebuild, extra = c.__dask_postpersist__()
        rebuilt.append(rebuild(graph, *extra))
    return repack(rebuilt)


def visualize(*args: Any, filename: str | None = "mydask", format: str | None = None,
              optimize_graph: bool = False, traverse: bool = True, **kwargs: Any) -> Any:
    """Draw the task graph of the collections with Graphviz.

    Parameters
    ----------
    *args : collections, or graphs (mappings of keys to tasks)
    filename : str or None
        Where to write; the extension chooses the format (``.png``, ``.svg``,
        ``.pdf``, ``.dot``). ``None`` writes nothing.
    format : str, optional
        The format when ``filename`` has no extension (default ``png``).
    optimize_graph : bool
        Draw the graph after optimization.
    **kwargs
        Graphviz attributes; see :func:`shoal.dot.to_graphviz`.

    Returns
    -------
    graphviz.Digraph, or an IPython image when run in a notebook.
    """
    from shoal.dot import dot_graph

    collections, _ = unpack_collections(*args, traverse=traverse)
    graph: dict[Key, GraphNode] = {}
    for arg in args:
        if isinstance(arg, Mapping) and not is_dask_collection(arg):
            graph.update(convert_legacy_graph(arg))
    if collections:
        graph.update(collections_to_graph(collections, optimize_graph=optimize_graph))
    return dot_graph(graph, filename=filename, format=format, **kwargs)


class DaskMethodsMixin:
    """``compute``, ``persist`` and ``visualize`` methods for a class that implements the collection protocol.

    Mirrors ``dask.base.DaskMethodsMixin``: subclass it and define the
    ``__dask_*__`` methods of :class:`ShoalCollection`.

    Examples
    --------
    >>> class Pair(DaskMethodsMixin):
    ...     def __init__(self, graph, keys):
    ...         self.graph, self.keys = graph, keys
    ...     def __dask_graph__(self):
    ...         return self.graph
    ...     def __dask_keys__(self):
    ...         return self.keys
    ...     def __dask_postcompute__(self):
    ...         return tuple, ()
    ...     def __dask_postpersist__(self):
    ...         return Pair, (self.keys,)
    >>> from operator import add
    >>> Pair({"a": 1, "b": (add, "a", 1)}, ["a", "b"]).compute(scheduler="sync")
    (1, 2)
    """

    __slots__ = ()

    def compute(self, **kwargs: Any) -> Any:
        """Compute this collection; keyword arguments go to :func:`compute`."""
        (result,) = compute(self, traverse=False, **kwargs)
        return result

    def persist(self, **kwargs: Any) -> Any:
        """Compute this collection and return one whose graph holds the results; see :func:`persist`."""
        (result,) = persist(self, traverse=False, **kwargs)
        return result

    def visualize(self, filename: str | None = "mydask", format: str | None = None, optimize_graph: bool = False,
                  **kwargs: Any) -> Any:
        """Draw this collection's task graph; see :func:`visualize`."""
        return visualize(self, filename=filename, format=format, optimize_graph=optimize_graph, **kwargs)


def replace_name_in_key(key: Key, rename: Mapping[str, str]) -> Key:
    """Rename a key's name part (``"x"`` or the first element of ``("x", 0, 1)``) if ``rename`` maps it.

    For ``__dask_postpersist__`` rebuild functions that accept Dask's ``rename=`` argument.

    >>> replace_name_in_key(("x", 0, 1), {"x": "y"}), replace_name_in_key("z", {"x": "y"})
    (('y', 0, 1), 'z')
    """
    if isinstance(key, tuple) and key and isinstance(key[0], str):
        return (rename.get(key[0], key[0]), *key[1:])
    if isinstance(key, str):
        return rename.get(key, key)
    return key

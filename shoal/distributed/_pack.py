"""Helpers of the client: packing calls and graphs into tasks, and results back into structures."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from shoal.base import is_dask_collection
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.future import Future
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task, _Nested
from shoal.graph.tokenize import tokenize

__all__ = ["futures_of"]


class _CachedFunction:
    """A function pickled once, unpickled once per worker process (cached by its bytes)."""

    __slots__ = ("blob",)

    def __init__(self, blob: bytes) -> None:
        self.blob = blob

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _load_function(self.blob)(*args, **kwargs)

    def __reduce__(self) -> Any:
        return (_CachedFunction, (self.blob,))


@functools.lru_cache(maxsize=512)
def _load_function(blob: bytes) -> Callable[..., Any]:
    return unpickle_value(blob)  # type: ignore[no-any-return]


_PRIMITIVES = frozenset({int, float, str, bytes, bool, type(None)})


def _call_token(fn_token: str, call: tuple[Any, ...]) -> str:
    """``tokenize(fn_token, call)``, with a fast path for calls on plain numbers and strings."""
    if all(type(a) in _PRIMITIVES for a in call):
        # The repr of these types is exact and the same in every process: hash it directly.
        return hashlib.md5(f"{fn_token}{call!r}".encode(), usedforsecurity=False).hexdigest()
    return tokenize(fn_token, call)


def _funcname(func: Any) -> str:
    name = getattr(func, "__name__", None) or type(func).__name__
    return "lambda" if name == "<lambda>" else name


def _replace_futures(obj: Any, found: dict[Key, Future]) -> Any:
    """``obj`` with every Future (also inside lists, tuples, sets, dicts and tasks) replaced by a Ref."""
    return _with_refs(obj, found)


def _holds_future(arg: Any) -> bool:
    """Whether a task argument holds a Future anywhere: nested tasks and containers included."""
    typ = type(arg)
    if typ is Future:
        return True
    if typ is Task:
        return any(_holds_future(a) for a in arg.args) or any(_holds_future(v) for v in arg.kwargs.values())
    if typ is _Nested:
        return any(_holds_future(a) for a in arg.items)
    if typ in (list, tuple, set, frozenset):
        return any(_holds_future(a) for a in arg)
    if typ is dict:
        return any(_holds_future(v) for v in arg.values())
    return False


def _with_refs(arg: Any, found: dict[Key, Future]) -> Any:
    typ = type(arg)
    if typ is Future:
        found[arg.key] = arg
        return Ref(arg.key)
    if typ is Task:
        new = Task(arg.key, arg.func, *[_with_refs(a, found) for a in arg.args],
                   **{k: _with_refs(v, found) for k, v in arg.kwargs.items()})
        new.annotations = arg.annotations
        return new
    if typ is _Nested:
        return _with_refs(arg.unparsed(), found)
    if typ in (list, tuple, set, frozenset):
        items = [_with_refs(a, found) for a in arg]
        return items if typ is list else typ(items)
    if typ is dict:
        return {k: _with_refs(v, found) for k, v in arg.items()}
    return arg


def futures_as_refs(node: GraphNode, found: dict[Key, Future]) -> GraphNode:
    """``node`` with the Futures inside its arguments turned into references to their keys (added to ``found``).

    Graph optimizations may inline a persisted collection's ``DataNode(key, future)`` into the tasks that use
    it; sent as it is, the task would receive the Future object instead of the data it stands for.
    """
    if type(node) is Task:
        if any(_holds_future(a) for a in node.args) or any(_holds_future(v) for v in node.kwargs.values()):
            return _with_refs(node, found)  # type: ignore[no-any-return]
        return node
    if type(node) is DataNode and type(node.value) is not Future and _holds_future(node.value):
        return Task(node.key, _identity, _with_refs(node.value, found))
    return node


def _finalize(finalize: Callable[..., Any], results: Any, *extra: Any) -> Any:
    return finalize(results, *extra)


def _refs(keys: Any) -> Any:
    return [_refs(k) for k in keys] if type(keys) is list else Ref(keys)


def futures_of(obj: Any) -> list[Future]:
    """The futures inside ``obj``: a future, a collection of them, or a persisted collection."""
    out: list[Future] = []
    seen: set[int] = set()
    stack = [obj]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, Future):
            out.append(x)
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, DataNode):
            stack.append(x.value)
        elif is_dask_collection(x):
            stack.extend(x.__dask_graph__().values())
    return out[::-1]


_SKIP = object()


def _identity(x: Any) -> Any:
    return x


def _may_hold_futures(values: Iterable[Any]) -> bool:
    return any(type(v) in (Future, list, tuple, dict, set) for v in values)


@functools.lru_cache(maxsize=256)
def _pickled_function_cached(func: Any) -> bytes:
    return pickle_value(func)


def _pickled_function(func: Any) -> bytes:
    try:
        return _pickled_function_cached(func)
    except TypeError:  # unhashable callable
        return pickle_value(func)


def _first_key(keys: Any) -> Any:
    while type(keys) is list and keys:
        keys = keys[0]
    return keys


def _rebuild(structure: Any, values: dict[Key, Any], errors: str) -> Any:
    if isinstance(structure, Future):
        return values[structure.key]
    if isinstance(structure, (list, tuple, set, frozenset)):
        items = [_rebuild(x, values, errors) for x in structure]
        items = [x for x in items if x is not _SKIP]
        return items if type(structure) is list else type(structure)(items)
    if isinstance(structure, dict):
        out = {k: _rebuild(v, values, errors) for k, v in structure.items()}
        return {k: v for k, v in out.items() if v is not _SKIP}
    if isinstance(structure, Iterator):
        return [_rebuild(x, values, errors) for x in structure]
    return structure


def _scatter_result(data: Any, futures: list[Future]) -> Any:
    if isinstance(data, dict):
        return dict(zip(data.keys(), futures, strict=True))
    if isinstance(data, (list, tuple, set, frozenset)):
        return type(data)(futures) if not isinstance(data, (set, frozenset)) else list(futures)
    return futures[0]

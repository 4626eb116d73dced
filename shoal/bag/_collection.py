"""What bags and items share: the graph model, the collection protocol, and the task builders.

Graph model
    A bag or item holds only its own tasks (``_layer``) and references to the
    collections it was built from (``_deps``), not a copy of their graphs, so
    each operation costs the same however long the history behind it. The
    whole graph is assembled by a walk over those references when
    ``__dask_graph__`` is called.

Keys
    A bag named ``name`` with ``n`` partitions owns the keys ``(name, 0)``
    ... ``(name, n - 1)``; each holds a list (or, for hand-written graphs,
    any iterable). An item owns one key. Names are ``<operation>-<token>``,
    the token a :func:`~shoal.graph.tokenize.tokenize` of the inputs, so
    equal operations on equal inputs share their keys.

Scheduling
    The default scheduler is ``processes`` (Python objects hold the GIL), and
    ``__dask_optimize__`` culls and fuses (see :mod:`shoal.bag._optimize`).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shoal.bag._optimize import optimize
from shoal.bag._stages import BAG, CONST, SIDE, Pipeline, Stage, run_partition
from shoal.base import DaskMethodsMixin, is_dask_collection
from shoal.delayed import Delayed, finalize, funcname
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task, convert_legacy_graph, key_split
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph
from shoal.local.selection import SCHEDULER_NAMES

__all__ = ["BagBase", "Item", "Unpacked", "partitionwise", "side_input", "unpack_arguments"]


class _Collection(DaskMethodsMixin):
    """The protocol methods shared by bags and items (``compute``/``persist``/``visualize`` from the mixin)."""

    #: This collection's own tasks.
    _layer: Mapping[Key, Any]
    #: The collections whose graphs this one needs (bags, items, delayed values, ...).
    _deps: tuple[Any, ...]

    def __dask_graph__(self) -> dict[Key, GraphNode]:
        graph: dict[Key, Any] = {}
        seen: set[int] = set()
        stack: list[Any] = [self]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, _Collection):
                graph.update(obj._layer)
                stack.extend(obj._deps)
            else:
                graph.update(obj.__dask_graph__())
        return convert_legacy_graph(graph)

    __dask_optimize__ = staticmethod(optimize)
    # The lazy wrapper: shoal.local.processes is imported only when a bag is computed.
    __dask_scheduler__ = staticmethod(SCHEDULER_NAMES["processes"])

    @property
    def dask(self) -> dict[Key, GraphNode]:
        """The task graph of this collection."""
        return self.__dask_graph__()



def _concat_partitions(results: Iterable[Iterable[Any]]) -> list[Any]:
    return list(itertools.chain.from_iterable(results))


def _first(results: list[Any]) -> Any:
    return results[0]


class BagBase(_Collection):
    """The state and protocol of a bag; :class:`shoal.bag.Bag` adds the operations."""

    name: str
    npartitions: int

    def __init__(self, dsk: Mapping[Key, Any], name: str, npartitions: int) -> None:
        if npartitions < 1:
            raise ValueError(f"A bag needs at least one partition, got npartitions={npartitions!r}.")
        # From a HighLevelGraph: layer ``name`` is this bag's tasks, what it was built from its inputs.
        self._layer, self._deps = dsk._layer_and_deps(name) if isinstance(dsk, HighLevelGraph) else (dsk, ())
        self.name = name
        self.npartitions = npartitions

    @classmethod
    def _from_layer(cls, layer: Mapping[Key, Any], name: str, npartitions: int, deps: Iterable[Any] = ()) -> Any:
        bag = cls.__new__(cls)
        BagBase.__init__(bag, layer, name, npartitions)
        bag._deps = tuple(deps)
        return bag

    def _new_bag(self, layer: Mapping[Key, Any], name: str, npartitions: int, deps: Iterable[Any] | None = None) -> Any:
        """A bag of the same type built on this one (or on ``deps``)."""
        return type(self)._from_layer(layer, name, npartitions, (self,) if deps is None else deps)

    def _new_item(self, layer: Mapping[Key, Any], key: Key, deps: Iterable[Any] | None = None) -> Item:
        return Item._from_layer(layer, key, (self,) if deps is None else deps)

    # -- the collection protocol ----------------------------------------------------
    def __dask_keys__(self) -> list[Key]:
        return [(self.name, i) for i in range(self.npartitions)]

    def __dask_layers__(self) -> tuple[str, ...]:
        return (self.name,)

    def __dask_tokenize__(self) -> str:
        return self.name

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _concat_partitions, ()

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return self._rebuild, (self.name, self.npartitions)

    @classmethod
    def _rebuild(cls, graph: Mapping[Key, Any], name: str, npartitions: int, rename: Any = None) -> Any:
        if rename:
            name = rename.get(name, name)
        return cls._from_layer(dict(graph), name, npartitions)

    def __repr__(self) -> str:
        return f"shoal.bag<{key_split(self.name)}, npartitions={self.npartitions}>"

    def __iter__(self) -> Any:
        return iter(self.compute())


class Item(_Collection):
    """A single lazy value computed from a bag, such as ``b.count()``.

    Build one with a reduction (``sum``, ``count``, ``fold``, ...) or
    :meth:`Item.from_delayed`. Arithmetic and comparisons with an item are
    lazy and give new items.

    Examples
    --------
    >>> import shoal.bag as db
    >>> total = db.from_sequence([1, 2, 3]).sum()
    >>> (total * 10).compute()
    60
    """

    key: Key

    def __init__(self, dsk: Mapping[Key, Any], key: Key, layer: Any = None) -> None:
        if isinstance(dsk, HighLevelGraph):  # Dask's Item(hlg, key, layer=name): the layer defaults to the key
            self._layer, self._deps = dsk._layer_and_deps(key if layer is None else layer)
        else:
            self._layer, self._deps = dsk, ()
        self.key = key

    @classmethod
    def _from_layer(cls, layer: Mapping[Key, Any], key: Key, deps: Iterable[Any] = ()) -> Item:
        item = cls.__new__(cls)
        item._layer = layer
        item._deps = tuple(deps)
        item.key = key
        return item

    def __dask_keys__(self) -> list[Key]:
        return [self.key]

    def __dask_layers__(self) -> tuple[Key, ...]:
        return (self.key,)

    def __dask_tokenize__(self) -> Key:
        return self.key

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _first, ()

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return Item._rebuild, (self.key,)

    @staticmethod
    def _rebuild(graph: Mapping[Key, Any], key: Key, rename: Any = None) -> Item:
        if rename:
            key = rename.get(key, key)
        return Item._from_layer(dict(graph), key)

    @staticmethod
    def from_delayed(value: Delayed) -> Item:
        """Wrap a :class:`~shoal.delayed.Delayed` (or any collection) as an item.

        >>> import shoal
        >>> Item.from_delayed(shoal.delayed(sum)([1, 2])).compute()
        3
        """
        value = finalize(value) if not isinstance(value, Delayed) else value
        return Item._from_layer({}, value.key, (value,))

    def apply(self, func: Callable[[Any], Any]) -> Item:
        """Return the item ``func(value)``, lazily.

        >>> import shoal.bag as db
        >>> db.from_sequence([1, 2, 3]).sum().apply(str).compute()
        '6'
        """
        key = f"{funcname(func)}-{tokenize(self.key, func)}"
        return Item._from_layer({key: Task(key, func, Ref(self.key))}, key, (self,))

    def to_delayed(self, optimize_graph: bool = True) -> Delayed:
        """Return a :class:`~shoal.delayed.Delayed` for this item's value.

        With ``optimize_graph=True`` the delayed value carries the culled and
        fused graph.
        """
        graph: Mapping[Key, Any] = self.__dask_graph__()
        if optimize_graph:
            graph = optimize(graph, [self.key])
        return Delayed(self.key, None, (), layer=graph)

    def __repr__(self) -> str:
        return f"Item({self.key!r})"

    def __bool__(self) -> bool:
        raise TypeError(
            f"The truth of Item {self.key!r} is not known until it is computed: "
            f"use `if item.compute():`, or keep the branch lazy with item.apply(...)."
        )

    def __iter__(self) -> Any:
        return iter(self.compute())


def _apply_operator(op: Callable[..., Any], *args: Any) -> Any:
    return op(*args)


def _bind_operator(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Item]:
    def method(self: Item, *other: Any) -> Item:
        operands = (*other, self) if reflected else (self, *other)
        key = f"{op.__name__}-{tokenize(*operands, op.__name__)}"
        inputs: list[Any] = []
        deps: list[Any] = []
        for operand in operands:
            inputs.append(side_input(operand, deps))
        return Item._from_layer({key: Task(key, _apply_operator, op, *inputs)}, key, deps)

    method.__name__ = f"__r{op.__name__}__" if reflected else f"__{op.__name__}__"
    return method


for _op_name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and_", "or_", "xor"):
    _op = getattr(operator, _op_name)
    _dunder = _op_name.rstrip("_")
    setattr(Item, f"__{_dunder}__", _bind_operator(_op))
    setattr(Item, f"__r{_dunder}__", _bind_operator(_op, reflected=True))
for _op_name in ("lt", "le", "eq", "ne", "gt", "ge", "neg", "pos", "abs", "invert"):
    setattr(Item, f"__{_op_name}__", _bind_operator(getattr(operator, _op_name)))
# __eq__ is lazy, so items cannot be dict keys by value; hash by identity like Delayed does by key.
Item.__hash__ = lambda self: hash(("shoal.bag.Item", self.key))  # type: ignore[assignment,method-assign]
del _op_name, _op, _dunder


# --------------------------------------------------------------------------- task builders


def side_input(value: Any, deps: list[Any]) -> Any:
    """Return ``value`` as a task argument: lazy values become references, recorded in ``deps``."""
    if isinstance(value, Item):
        deps.append(value)
        return Ref(value.key)
    if isinstance(value, Delayed):
        deps.append(value)
        return Ref(value.key)
    if not isinstance(value, BagBase) and is_dask_collection(value):
        final = finalize(value)
        deps.append(final)
        return Ref(final.key)
    return value


@dataclass
class Unpacked:
    """The arguments of ``map``-like calls, sorted into partitions, side inputs and constants."""

    #: ``(kind, value)`` per positional argument; see :class:`~shoal.bag._stages.MapMany`.
    template: list[tuple[str, Any]] = field(default_factory=list)
    kw_template: dict[str, tuple[str, Any]] = field(default_factory=dict)
    #: The bags among the arguments, positional first, in the order the stage expects.
    bags: list[BagBase] = field(default_factory=list)
    #: Task arguments for the side inputs (references to items or delayed values).
    side: list[Any] = field(default_factory=list)
    #: The collections behind ``side``.
    deps: list[Any] = field(default_factory=list)


def unpack_arguments(args: Iterable[Any], kwargs: Mapping[str, Any]) -> Unpacked:
    """Sort ``args`` and ``kwargs`` into bags (zipped partition by partition), lazy scalars and constants."""
    out = Unpacked()

    def classify(value: Any) -> tuple[str, Any]:
        if isinstance(value, BagBase):
            out.bags.append(value)
            return (BAG, None)
        before = len(out.deps)
        arg = side_input(value, out.deps)
        if len(out.deps) != before:
            out.side.append(arg)
            return (SIDE, None)
        return (CONST, value)

    out.template = [classify(a) for a in args]
    out.kw_template = {name: classify(v) for name, v in kwargs.items()}
    if out.bags:
        counts = {b.npartitions for b in out.bags}
        if len(counts) > 1:
            shown = ", ".join(f"{b!r}" for b in out.bags)
            raise ValueError(
                f"Bags combined element by element must have the same number of partitions, got {shown}. "
                f"Use .repartition(npartitions=...) on one of them first."
            )
    return out


def partitionwise(name: str, stage: Stage, bags: list[BagBase], side: list[Any], npartitions: int,
                  constants: Iterable[Any] = ()) -> dict[Key, Task]:
    """Tasks ``(name, i) = stage(bag_1[i], ..., bag_n[i], *constants, *side)`` for each partition ``i``."""
    extra = [*constants, *side]
    pipeline = Pipeline([stage], [len(bags) + len(extra)], key_split(name))
    return {
        (name, i): Task((name, i), run_partition, pipeline, i, *[Ref((b.name, i)) for b in bags], *extra)
        for i in range(npartitions)
    }


def data_partitions(name: str, partitions: list[list[Any]]) -> dict[Key, GraphNode]:
    """Literal partitions stored in the graph."""
    return {(name, i): DataNode((name, i), part) for i, part in enumerate(partitions)}

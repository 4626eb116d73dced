"""Joining a bag with a small collection, and the Cartesian product of two bags."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from shoal.bag._collection import BagBase, side_input
from shoal.bag._stages import Pipeline, Stage, as_list, run_partition
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["JoinMethods"]


def _build_index(on_other: Callable[[Any], Any], other: Iterable[Any]) -> dict[Any, list[Any]]:
    index: dict[Any, list[Any]] = {}
    for y in other:
        k = on_other(y)
        group = index.get(k)
        if group is None:
            index[k] = [y]
        else:
            group.append(y)
    return index


class _Join(Stage):
    """``(other, x)`` for each element ``x`` and each ``other`` whose key matches ``on_self(x)``."""

    __slots__ = ("on_self",)

    def __init__(self, on_self: Callable[[Any], Any]) -> None:
        self.on_self = on_self

    def __call__(self, part: Iterable[Any], index: dict[Any, list[Any]]) -> Iterator[tuple[Any, Any]]:
        on_self = self.on_self
        for x in part:
            for y in index.get(on_self(x), ()):
                yield (y, x)


class _Product(Stage):
    """All pairs ``(x, y)`` of two partitions."""

    __slots__ = ()

    def __call__(self, left: Iterable[Any], right: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        right = as_list(right)
        return ((x, y) for x in left for y in right)


def _key_function(key: Any) -> Callable[[Any], Any]:
    return key if callable(key) else itemgetter(key)


class JoinMethods:
    """``join`` and ``product`` for :class:`shoal.bag.Bag`."""

    name: str
    npartitions: int

    def join(self: Bag, other: Any, on_self: Any, on_other: Any = None) -> Bag:
        """Join with a small collection: ``(other_element, element)`` for each pair with equal keys.

        ``other`` is held in memory whole: an iterable, a
        :class:`~shoal.delayed.Delayed` of one, or a bag with a single
        partition. It is indexed once, and each partition is joined against
        the index.

        Parameters
        ----------
        other : iterable, Delayed or Bag
        on_self : callable or object
            The key of an element of this bag (a function, or a key/index to select).
        on_other : callable or object, optional
            The key of an element of ``other`` (default: ``on_self``).

        Examples
        --------
        >>> import shoal.bag as db
        >>> people = db.from_sequence(["Alice", "Bob", "Charlie"])
        >>> fruit = ["Apple", "Apricot", "Banana"]
        >>> people.join(fruit, lambda x: x[0]).compute()
        [('Apple', 'Alice'), ('Apricot', 'Alice'), ('Banana', 'Bob')]
        """
        on_other = on_self if on_other is None else on_other
        self_key, other_key = _key_function(on_self), _key_function(on_other)
        deps: list[Any] = []
        if isinstance(other, BagBase):
            if other.npartitions != 1:
                raise ValueError(
                    f"join needs the other bag to fit in one partition, but {other!r} has "
                    f"{other.npartitions}. Use other.repartition(1) if it is small, or group both "
                    f"bags with groupby for a join of two large bags."
                )
            source: Any = Ref((other.name, 0))
            deps.append(other)
        else:
            source = side_input(other, deps)
            if not deps:
                source = list(other)  # a plain iterable: read it once, now
        token = tokenize(self.name, other, on_self, on_other)
        index_key = f"join-index-{token}"
        name = f"join-{token}"
        layer: dict[Key, Any] = {index_key: Task(index_key, _build_index, other_key, source)}
        pipeline = Pipeline([_Join(self_key)], [2], "join")
        for i in range(self.npartitions):
            layer[(name, i)] = Task((name, i), run_partition, pipeline, i, Ref((self.name, i)), Ref(index_key))
        return self._new_bag(layer, name, self.npartitions, deps=(self, *deps))

    def product(self: Bag, other: Bag) -> Bag:
        """The Cartesian product with another bag: ``(x, y)`` pairs.

        Partition ``(i, j)`` pairs partition ``i`` of this bag with
        partition ``j`` of ``other``, so the result has
        ``self.npartitions * other.npartitions`` partitions.

        >>> import shoal.bag as db
        >>> db.from_sequence([1, 2]).product(db.from_sequence(["a", "b"])).compute()
        [(1, 'a'), (1, 'b'), (2, 'a'), (2, 'b')]
        """
        if not isinstance(other, BagBase):
            raise TypeError(f"product needs another Bag, got {type(other).__name__}; use from_sequence first.")
        name = f"product-{tokenize(self.name, other)}"
        pipeline = Pipeline([_Product()], [2], "product")
        layer: dict[Key, Any] = {}
        for i in range(self.npartitions):
            for j in range(other.npartitions):
                index = i * other.npartitions + j
                layer[(name, index)] = Task((name, index), run_partition, pipeline, index,
                                            Ref((self.name, i)), Ref((other.name, j)))
        return self._new_bag(layer, name, self.npartitions * other.npartitions, deps=(self, other))

"""Element-wise and partition-wise transformations of a bag.

Every method here returns a new bag with one task per partition, built from a
stage of :mod:`shoal.bag._stages` (or one defined below); the optimizer later
fuses chains of them into one task per partition. ``map(json.loads)`` gets a
stage of its own that parses with the C scanner directly (see
:class:`JsonLoads`): same results and errors, about twice as fast.
"""

from __future__ import annotations

import itertools
import json
import math
import random as _random
import sys
from collections.abc import Callable, Iterable, Iterator
from json.scanner import c_make_scanner
from typing import TYPE_CHECKING, Any

from shoal.bag._collection import partitionwise, side_input, unpack_arguments
from shoal.bag._stages import (
    EMPTY,
    VALUE,
    Filter,
    Flatten,
    Map,
    MapMany,
    MapPartitions,
    Pipeline,
    Pluck,
    Stage,
    Starmap,
    run_partition,
)
from shoal.config import no_default
from shoal.delayed import funcname
from shoal.graph.task import Key, Ref, Task, key_split
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["Concat", "JsonLoads", "TransformMethods", "map_bags", "map_partitions_bags", "parse_bytes"]


class JsonLoads(Stage):
    """``json.loads`` for each element, through the C scanner when the element allows it.

    ``json.loads(s)`` spends most of its time in Python wrappers around the
    C scanner. For a ``str`` that starts with a JSON value and ends with it
    (or with JSON whitespace), calling the scanner directly gives the same
    object; anything else (leading whitespace, a BOM, extra data, bytes, a
    syntax error) goes to ``json.loads`` itself, so results and exceptions are
    exactly those of ``json.loads``.

    >>> list(JsonLoads()(['{"a": 1}\\n', ' [2]', '3']))
    [{'a': 1}, [2], 3]
    """

    __slots__ = ()

    def __call__(self, part: Iterable[Any]) -> Iterator[Any]:
        if c_make_scanner is None:  # pragma: no cover - CPython always has the C scanner
            return map(json.loads, part)
        return _scan_json(part, c_make_scanner(json.JSONDecoder()))


def _scan_json(part: Iterable[Any], scan: Callable[[str, int], tuple[Any, int]]) -> Iterator[Any]:
    loads = json.loads
    for text in part:
        if type(text) is not str:
            yield loads(text)
            continue
        try:
            value, end = scan(text, 0)
        except StopIteration:
            yield loads(text)  # raises the same error json.loads would
            continue
        size = len(text)
        if end != size and not (end == size - 1 and text[end] == "\n") and text[end:].strip(" \t\n\r"):
            value = loads(text)  # extra data: let json.loads raise its error
        yield value


class Concat(Stage):
    """The concatenation of several partitions (the first is the main input)."""

    __slots__ = ()

    def __call__(self, *parts: Iterable[Any]) -> Iterator[Any]:
        return itertools.chain.from_iterable(parts)


class SplitEven(Stage):
    """Cut a partition into ``pieces`` contiguous lists of nearly equal length (shorter first)."""

    __slots__ = ("pieces",)
    kind = VALUE

    def __init__(self, pieces: int) -> None:
        self.pieces = pieces

    def __call__(self, part: Iterable[Any]) -> list[list[Any]]:
        items = part if type(part) is list else list(part)
        n, k = len(items), self.pieces
        bounds = [(p * n) // k for p in range(k + 1)]
        return [items[bounds[p]:bounds[p + 1]] for p in range(k)]


class Piece(Stage):
    """One piece of a :class:`SplitEven` result."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self, pieces: list[list[Any]]) -> list[Any]:
        return pieces[self.index]


class AccumulatePart(Stage):
    """Running totals of one partition, continuing from the previous partition's last total.

    Returns ``(totals, last total)``; the next partition reads the pair.
    """

    __slots__ = ("binop", "first")
    kind = VALUE

    def __init__(self, binop: Callable[[Any, Any], Any], first: bool) -> None:
        self.binop = binop
        self.first = first

    def __call__(self, part: Iterable[Any], previous: Any) -> tuple[list[Any], Any]:
        carry = previous if self.first else previous[1]
        if carry is EMPTY:
            totals = list(itertools.accumulate(part, self.binop))
        else:
            totals = list(itertools.accumulate(part, self.binop, initial=carry))
            if not self.first:
                totals = totals[1:]  # the carried total belongs to the previous partition
        return totals, (totals[-1] if totals else carry)


class FirstOfPair(Stage):
    """The totals of an :class:`AccumulatePart` result."""

    __slots__ = ()

    def __call__(self, pair: tuple[list[Any], Any]) -> list[Any]:
        return pair[0]


class RandomSample(Stage):
    """Keep each element with probability ``prob``, from a seeded generator."""

    __slots__ = ("prob",)

    def __init__(self, prob: float) -> None:
        self.prob = prob

    def __call__(self, part: Iterable[Any], seed: int) -> Iterator[Any]:
        draw = _random.Random(seed).random
        prob = self.prob
        return (x for x in part if draw() < prob)


class TransformMethods:
    """The transformations of :class:`shoal.bag.Bag`."""

    name: str
    npartitions: int

    def map(self: Bag, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
        """Apply ``func`` to each element.

        Extra arguments may be bags with the same number of partitions (their
        elements are passed alongside, partition by partition, element by
        element), items or delayed values (computed once and passed to every
        call), or plain objects.

        Parameters
        ----------
        func : callable
        *args, **kwargs : Bag, Item, Delayed or object

        Examples
        --------
        >>> import shoal.bag as db
        >>> b = db.from_sequence(range(5), npartitions=2)
        >>> b.map(lambda x: x * 10).compute()
        [0, 10, 20, 30, 40]
        >>> b.map(lambda x, y: x + y, b).compute()
        [0, 2, 4, 6, 8]
        >>> b.map(lambda x, y: x - y, b.max()).compute()
        [-4, -3, -2, -1, 0]
        """
        return map_bags(func, self, *args, **kwargs)

    def starmap(self: Bag, func: Callable[..., Any], **kwargs: Any) -> Bag:
        """Apply ``func(*x, **kwargs)`` to each element ``x`` (a tuple of arguments).

        Keyword values may be items or delayed values.

        >>> import shoal.bag as db
        >>> db.from_sequence([(1, 2), (3, 4)]).starmap(lambda a, b, c=0: a + b + c, c=10).compute()
        [13, 17]
        """
        deps: list[Any] = []
        constants = {}
        side = []
        side_names = []
        for key, value in kwargs.items():
            arg = side_input(value, deps)
            if arg is value:
                constants[key] = value
            else:
                side.append(arg)
                side_names.append(key)
        name = f"starmap-{funcname(func)}-{tokenize(self.name, func, kwargs)}"
        layer = partitionwise(name, Starmap(func, constants, side_names), [self], side, self.npartitions)
        return self._new_bag(layer, name, self.npartitions, deps=(self, *deps))

    def filter(self: Bag, predicate: Callable[[Any], Any]) -> Bag:
        """Keep the elements for which ``predicate`` returns true.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).filter(lambda x: x % 3 == 0).compute()
        [0, 3, 6, 9]
        """
        return self._stage(f"filter-{funcname(predicate)}", Filter(predicate), predicate)

    def remove(self: Bag, predicate: Callable[[Any], Any]) -> Bag:
        """Drop the elements for which ``predicate`` returns true.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).remove(lambda x: x % 3 == 0).compute()
        [1, 2, 4, 5, 7, 8]
        """
        return self._stage(f"remove-{funcname(predicate)}", Filter(predicate, keep=False), predicate)

    def map_partitions(self: Bag, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
        """Apply ``func`` to each partition, which it receives as a list.

        Extra arguments follow the rules of :meth:`map`; bag arguments are
        passed as their corresponding partitions. ``func`` returns the new
        partition (any iterable).

        Notes
        -----
        Mirrors ``dask.bag.Bag.map_partitions``; difference: ``func`` always
        receives lists, never iterators, so ``len(partition)`` works.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(6), npartitions=3).map_partitions(lambda p: [sum(p)]).compute()
        [1, 5, 9]
        """
        return map_partitions_bags(func, self, *args, **kwargs)

    def pluck(self: Bag, key: Any, default: Any = no_default) -> Bag:
        """Select ``x[key]`` from each element; a list of keys gives tuples.

        >>> import shoal.bag as db
        >>> b = db.from_sequence([{"a": 1, "b": 2}, {"a": 3}])
        >>> b.pluck("a").compute()
        [1, 3]
        >>> b.pluck(["a", "b"], default=None).compute()
        [(1, 2), (3, None)]
        """
        stored_default = EMPTY if default is no_default else default
        return self._stage("pluck", Pluck(key, stored_default), key, stored_default)

    def flatten(self: Bag) -> Bag:
        """Concatenate elements that are themselves sequences.

        >>> import shoal.bag as db
        >>> db.from_sequence([[1, 2], [], [3]]).flatten().compute()
        [1, 2, 3]
        """
        return self._stage("flatten", Flatten())

    def unzip(self: Bag, n: int) -> tuple[Bag, ...]:
        """Split a bag of ``n``-tuples into ``n`` bags.

        >>> import shoal.bag as db
        >>> first, second = db.from_sequence([(1, "a"), (2, "b")]).unzip(2)
        >>> second.compute()
        ['a', 'b']
        """
        return tuple(self.pluck(i) for i in range(n))

    def accumulate(self: Bag, binop: Callable[[Any, Any], Any], initial: Any = no_default) -> Bag:
        """Running totals: ``binop`` applied cumulatively, in order, across partitions.

        With ``initial``, the first element is ``initial`` itself (as in
        ``itertools.accumulate``).

        >>> import shoal.bag as db
        >>> from operator import add
        >>> b = db.from_sequence([1, 2, 3, 4, 5], npartitions=2)
        >>> b.accumulate(add).compute()
        [1, 3, 6, 10, 15]
        >>> b.accumulate(add, initial=-1).compute()
        [-1, 0, 2, 5, 9, 14]
        """
        start = EMPTY if initial is no_default else initial
        token = tokenize(self.name, binop, start)
        name = f"accumulate-{funcname(binop)}-{token}"
        part_name = f"accumulate-part-{token}"
        layer: dict[Key, Any] = {}
        for i in range(self.npartitions):
            previous = start if i == 0 else Ref((part_name, i - 1))
            pipeline = Pipeline([AccumulatePart(binop, first=i == 0)], [2], key_split(name))
            layer[(part_name, i)] = Task((part_name, i), run_partition, pipeline, i, Ref((self.name, i)), previous)
            take = Pipeline([FirstOfPair()], [1], key_split(name))
            layer[(name, i)] = Task((name, i), run_partition, take, i, Ref((part_name, i)))
        return self._new_bag(layer, name, self.npartitions)

    def repartition(self: Bag, npartitions: int | None = None, partition_size: int | str | None = None) -> Bag:
        """Change the number of partitions, keeping the order of elements.

        Fewer partitions concatenate neighbours; more partitions cut each
        partition into nearly equal pieces.

        Parameters
        ----------
        npartitions : int, optional
            The number of partitions wanted.
        partition_size : int or str, optional
            Instead, a target size in bytes per partition (``"10MiB"``).
            This computes the bag once to measure it (``sys.getsizeof`` of
            each element) and then repartitions to that many partitions.

        >>> import shoal.bag as db
        >>> b = db.from_sequence([1, 2, 3, 4, 5], npartitions=2)
        >>> b.repartition(4).map_partitions(lambda p: [p]).compute()
        [[1], [2, 3], [4], [5]]
        """
        if (npartitions is None) == (partition_size is None):
            raise ValueError("repartition needs exactly one of npartitions= or partition_size=.")
        if partition_size is not None:
            size = parse_bytes(partition_size)
            total = self.map_partitions(_partition_nbytes).sum().compute()
            npartitions = max(1, math.ceil(total / size))
        assert npartitions is not None
        if npartitions < 1:
            raise ValueError(f"repartition needs npartitions >= 1, got {npartitions!r}.")
        if npartitions == self.npartitions:
            return self
        token = tokenize(self.name, npartitions)
        name = f"repartition-{npartitions}-{token}"
        old = self.npartitions
        layer: dict[Key, Any] = {}
        if npartitions < old:
            pipelines: dict[int, Pipeline] = {}
            for j in range(npartitions):
                lo, hi = (j * old) // npartitions, ((j + 1) * old) // npartitions
                pipeline = pipelines.setdefault(hi - lo, Pipeline([Concat()], [hi - lo], key_split(name)))
                layer[(name, j)] = Task((name, j), run_partition, pipeline, j,
                                        *[Ref((self.name, i)) for i in range(lo, hi)])
        else:
            split_name = f"repartition-split-{token}"
            j = 0
            for i in range(old):
                pieces = npartitions // old + (1 if i < npartitions % old else 0)
                split = Pipeline([SplitEven(pieces)], [1], key_split(name))
                layer[(split_name, i)] = Task((split_name, i), run_partition, split, i, Ref((self.name, i)))
                for p in range(pieces):
                    piece = Pipeline([Piece(p)], [1], key_split(name))
                    layer[(name, j)] = Task((name, j), run_partition, piece, j, Ref((split_name, i)))
                    j += 1
        return self._new_bag(layer, name, npartitions)

    def random_sample(self: Bag, prob: float, random_state: int | _random.Random | None = None) -> Bag:
        """Keep each element with probability ``prob``.

        Parameters
        ----------
        prob : float
            Between 0 and 1.
        random_state : int or random.Random, optional
            Seeds the choice, so the same seed gives the same sample.

        >>> import shoal.bag as db
        >>> b = db.from_sequence(range(10), npartitions=2)
        >>> b.random_sample(0.5, random_state=1).compute() == b.random_sample(0.5, random_state=1).compute()
        True
        """
        if not 0 <= prob <= 1:
            raise ValueError(f"random_sample needs 0 <= prob <= 1, got prob={prob!r}.")
        rng = random_state if isinstance(random_state, _random.Random) else _random.Random(random_state)
        seeds = [rng.getrandbits(64) for _ in range(self.npartitions)]
        name = f"random-sample-{tokenize(self.name, prob, seeds)}"
        pipeline = Pipeline([RandomSample(prob)], [2], key_split(name))
        layer = {(name, i): Task((name, i), run_partition, pipeline, i, Ref((self.name, i)), seeds[i])
                 for i in range(self.npartitions)}
        return self._new_bag(layer, name, self.npartitions)

    # -- helpers -------------------------------------------------------------------
    def _stage(self: Bag, opname: str, stage: Stage, *token_parts: Any) -> Bag:
        """A bag whose partition ``i`` is ``stage(self[i])``."""
        name = f"{opname}-{tokenize(self.name, opname, *token_parts)}"
        return self._new_bag(partitionwise(name, stage, [self], [], self.npartitions), name, self.npartitions)


def _partition_nbytes(part: list[Any]) -> list[int]:
    return [sum(map(sys.getsizeof, part))]


def map_bags(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
    """Apply ``func`` element-wise across one or more bags; see :meth:`Bag.map`."""
    unpacked = unpack_arguments(args, kwargs)
    if not unpacked.bags:
        raise ValueError("map needs at least one Bag among its arguments.")
    first = unpacked.bags[0]
    name = f"map-{funcname(func)}-{tokenize(func, args, kwargs)}"
    if len(args) == 1 and not kwargs:
        stage: Stage = JsonLoads() if func is json.loads else Map(func)
    else:
        stage = MapMany(func, unpacked.template, unpacked.kw_template, len(unpacked.bags))
    layer = partitionwise(name, stage, unpacked.bags, unpacked.side, first.npartitions)
    return first._new_bag(layer, name, first.npartitions, deps=(*unpacked.bags, *unpacked.deps))


def map_partitions_bags(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
    """Apply ``func`` to each partition across one or more bags; see :meth:`Bag.map_partitions`."""
    unpacked = unpack_arguments(args, kwargs)
    if not unpacked.bags:
        raise ValueError("map_partitions needs at least one Bag among its arguments.")
    first = unpacked.bags[0]
    name = f"map-partitions-{funcname(func)}-{tokenize(func, args, kwargs)}"
    stage = MapPartitions(func, unpacked.template, unpacked.kw_template, len(unpacked.bags))
    layer = partitionwise(name, stage, unpacked.bags, unpacked.side, first.npartitions)
    return first._new_bag(layer, name, first.npartitions, deps=(*unpacked.bags, *unpacked.deps))


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 10**3, "m": 10**6, "g": 10**9}


def parse_bytes(size: int | float | str) -> int:
    """Return a size in bytes from an int or a string such as ``"128MiB"`` or ``"1.5 GB"``.

    >>> parse_bytes("128MiB"), parse_bytes("1kB"), parse_bytes(100)
    (134217728, 1000, 100)
    """
    if isinstance(size, int | float):
        return int(size)
    text = size.strip().lower().replace(" ", "")
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(number):]
    if unit not in _UNITS or not number:
        raise ValueError(f"Could not read {size!r} as a size in bytes; write it like 1000, '64kB' or '128MiB'.")
    return int(float(number) * _UNITS[unit])


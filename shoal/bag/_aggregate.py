"""Reductions of a bag: aggregates, folds, frequencies, top-k, distinct and foldby.

Every reduction has the same shape: a *per-partition* stage that turns a
partition into a small value (a count, a ``Counter``, a dict of running
totals), then a tree of *combine* tasks that merge ``split_every`` values at
a time (default 8), then one *final* task. The per-partition stage is a
partition task like any other, so the optimizer fuses it into the chain that
produces the partition: elements stream from the file to the counter and only
the counter leaves the task (and the worker process).

Empty partitions give :data:`~shoal.bag._stages.EMPTY` where a value cannot be
made from nothing (``min``, ``max``, ``fold`` without ``initial``); the
combine steps skip them, and the final step raises the error Python raises on
an empty sequence only if every partition was empty.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial, reduce
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from shoal.bag._collection import Item, partitionwise
from shoal.bag._stages import EMPTY, VALUE, Pipeline, Stage, as_list, count_elements, run_partition
from shoal.config import no_default
from shoal.delayed import funcname
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["AggregateMethods", "tree_reduce"]

_DEFAULT_SPLIT_EVERY = 8


def tree_reduce(bag: Bag, opname: str, perpartition: Stage, combine: Callable[[list[Any]], Any],
                final: Callable[[list[Any]], Any], *, split_every: int | None = None, out_type: type = Item,
                token_parts: tuple[Any, ...] = (), partition_inputs: list[tuple[Any, ...]] | None = None) -> Any:
    """Reduce ``bag`` with a per-partition stage, a tree of ``combine`` and a ``final`` step.

    ``combine`` and ``final`` receive lists of per-partition values (or of
    earlier combine results). With ``out_type=Bag`` the result is a bag with
    one partition holding ``final``'s output. ``partition_inputs[i]``, if
    given, holds extra constant inputs for the stage on partition ``i``.
    """
    if split_every is None or split_every is True:
        split_every = _DEFAULT_SPLIT_EVERY
    elif split_every is False:
        split_every = max(2, bag.npartitions)
    if split_every < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every!r}.")
    token = tokenize(bag.name, opname, split_every, *token_parts, partition_inputs)
    part_name = f"{opname}-part-{token}"
    if partition_inputs is None:
        layer: dict[Key, Any] = dict(partitionwise(part_name, perpartition, [bag], [], bag.npartitions))
    else:
        pipeline = Pipeline([perpartition], [1 + len(partition_inputs[0])], opname)
        layer = {(part_name, i): Task((part_name, i), run_partition, pipeline, i, Ref((bag.name, i)), *extra)
                 for i, extra in enumerate(partition_inputs)}
    keys: list[Key] = [(part_name, i) for i in range(bag.npartitions)]
    depth = 0
    while len(keys) > split_every:
        level = []
        for j, start in enumerate(range(0, len(keys), split_every)):
            key = (f"{opname}-combine-{token}", depth, j)
            layer[key] = Task(key, combine, [Ref(k) for k in keys[start:start + split_every]])
            level.append(key)
        keys = level
        depth += 1
    name = f"{opname}-aggregate-{token}"
    if out_type is Item:  # otherwise a Bag class: a bag with one partition
        layer[name] = Task(name, final, [Ref(k) for k in keys])
        return bag._new_item(layer, name)
    layer[(name, 0)] = Task((name, 0), _as_partition, final, [Ref(k) for k in keys])
    return bag._new_bag(layer, name, 1)


def _as_partition(final: Callable[[list[Any]], Any], values: list[Any]) -> list[Any]:
    result = final(values)
    return result if type(result) is list else list(result)


# --------------------------------------------------------------------------- per-partition stages


class _Apply(Stage):
    """``func(partition)``; with ``as_list`` the partition is given as a list."""

    __slots__ = ("func", "listify")
    kind = VALUE

    def __init__(self, func: Callable[[Any], Any], listify: bool = False) -> None:
        self.func = func
        self.listify = listify

    def __call__(self, part: Iterable[Any]) -> Any:
        if self.listify and type(part) is not list:
            part = list(part)
        return self.func(part)

    def __repr__(self) -> str:
        return f"Apply({funcname(self.func)})"


class _Extreme(Stage):
    """``min`` or ``max`` of a partition, :data:`EMPTY` when it is empty."""

    __slots__ = ("func",)
    kind = VALUE

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def __call__(self, part: Iterable[Any]) -> Any:
        return self.func(part, default=EMPTY)


def _combine_extreme(func: Callable[..., Any], values: list[Any]) -> Any:
    return func((v for v in values if v is not EMPTY), default=EMPTY)


def _final_extreme(func: Callable[..., Any], values: list[Any]) -> Any:
    result = _combine_extreme(func, values)
    if result is EMPTY:
        raise ValueError(f"{func.__name__}() of an empty bag: it has no elements.")
    return result


class _Fold(Stage):
    """``reduce(binop, partition[, initial])``; :data:`EMPTY` for an empty partition without initial."""

    __slots__ = ("binop", "initial")
    kind = VALUE

    def __init__(self, binop: Callable[[Any, Any], Any], initial: Any) -> None:
        self.binop = binop
        self.initial = initial

    def __call__(self, part: Iterable[Any]) -> Any:
        if self.initial is EMPTY:
            return reduce(self.binop, part, EMPTY)  # EMPTY is replaced by the first element below
        return reduce(self.binop, part, self.initial)


def _first_then(binop: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return partial(_skip_empty, binop)


def _skip_empty(binop: Callable[[Any, Any], Any], total: Any, x: Any) -> Any:
    return x if total is EMPTY else binop(total, x)


def _combine_fold(combine: Callable[[Any, Any], Any], values: list[Any]) -> Any:
    present = [v for v in values if v is not EMPTY]
    return reduce(combine, present) if present else EMPTY


def _final_fold(combine: Callable[[Any, Any], Any], values: list[Any]) -> Any:
    result = _combine_fold(combine, values)
    if result is EMPTY:
        raise TypeError("fold() of an empty bag with no initial value: pass initial=.")
    return result


class _Moments(Stage):
    """``(count, mean, sum of squared deviations)`` of a partition of numbers."""

    __slots__ = ()
    kind = VALUE

    def __call__(self, part: Iterable[Any]) -> tuple[int, float, float]:
        values = as_list(part)
        n = len(values)
        if not n:
            return (0, 0.0, 0.0)
        mean = math.fsum(values) / n
        return (n, mean, math.fsum((x - mean) ** 2 for x in values))


def _combine_moments(values: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    # Chan, Golub and LeVeque's pairwise update: stable where sums of squares cancel.
    n, mean, m2 = 0, 0.0, 0.0
    for nb, mb, m2b in values:
        if not nb:
            continue
        total = n + nb
        delta = mb - mean
        mean += delta * nb / total
        m2 += m2b + delta * delta * n * nb / total
        n = total
    return (n, mean, m2)


def _final_mean(values: list[tuple[int, float, float]]) -> float:
    n, mean, _ = _combine_moments(values)
    if not n:
        raise ZeroDivisionError("mean() of an empty bag: it has no elements.")
    return mean


def _final_var(ddof: int, values: list[tuple[int, float, float]]) -> float:
    n, _, m2 = _combine_moments(values)
    if n - ddof <= 0:
        raise ZeroDivisionError(f"var() with ddof={ddof} needs more than {ddof} elements; the bag has {n}.")
    return m2 / (n - ddof)


def _final_std(ddof: int, values: list[tuple[int, float, float]]) -> float:
    return math.sqrt(_final_var(ddof, values))


def _merge_counts(values: list[dict[Any, int]]) -> Counter[Any]:
    total: Counter[Any] = Counter()
    for counts in values:
        total.update(counts)
    return total


def _final_frequencies(sort: bool, values: list[dict[Any, int]]) -> list[tuple[Any, int]]:
    items = list(_merge_counts(values).items())
    if sort:
        items.sort(key=itemgetter(1), reverse=True)
    return items


class _TopK(Stage):
    __slots__ = ("k", "key")
    kind = VALUE

    def __init__(self, k: int, key: Callable[[Any], Any] | None) -> None:
        self.k = k
        self.key = key

    def __call__(self, part: Iterable[Any]) -> list[Any]:
        return heapq.nlargest(self.k, part, key=self.key)


def _merge_topk(k: int, key: Callable[[Any], Any] | None, values: list[list[Any]]) -> list[Any]:
    # Concatenating in partition order keeps ties in the order plain Python would.
    return heapq.nlargest(k, itertools.chain.from_iterable(values), key=key)


class _Distinct(Stage):
    """The first element for each distinct key, as ``{key: element}`` in first-seen order."""

    __slots__ = ("key",)
    kind = VALUE

    def __init__(self, key: Callable[[Any], Any] | None) -> None:
        self.key = key

    def __call__(self, part: Iterable[Any]) -> dict[Any, Any]:
        if self.key is None:
            return dict.fromkeys(part)
        seen: dict[Any, Any] = {}
        key = self.key
        for x in part:
            k = key(x)
            if k not in seen:
                seen[k] = x
        return seen


def _merge_distinct(values: list[dict[Any, Any]]) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for seen in values:
        for k, x in seen.items():
            if k not in merged:
                merged[k] = x
    return merged


def _final_distinct(by_key: bool, values: list[dict[Any, Any]]) -> list[Any]:
    merged = _merge_distinct(values)
    return list(merged.values()) if by_key else list(merged)


class _FoldBy(Stage):
    """``{key(x): binop-fold of the elements with that key}`` for one partition."""

    __slots__ = ("key", "binop", "initial")
    kind = VALUE

    def __init__(self, key: Callable[[Any], Any], binop: Callable[[Any, Any], Any], initial: Any) -> None:
        self.key = key
        self.binop = binop
        self.initial = initial

    def __call__(self, part: Iterable[Any]) -> dict[Any, Any]:
        key, binop, initial = self.key, self.binop, self.initial
        totals: dict[Any, Any] = {}
        if initial is EMPTY:
            for x in part:
                k = key(x)
                totals[k] = binop(totals[k], x) if k in totals else x
        else:
            factory = initial if callable(initial) else None
            for x in part:
                k = key(x)
                if k in totals:
                    totals[k] = binop(totals[k], x)
                else:
                    totals[k] = binop(factory() if factory else initial, x)
        return totals


def _merge_foldby(combine: Callable[[Any, Any], Any], values: list[dict[Any, Any]]) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for totals in values:
        for k, v in totals.items():
            merged[k] = combine(merged[k], v) if k in merged else v
    return merged


def _final_foldby(combine: Callable[[Any, Any], Any], combine_initial: Any,
                  values: list[dict[Any, Any]]) -> list[tuple[Any, Any]]:
    merged = _merge_foldby(combine, values)
    if combine_initial is not EMPTY:
        # The combine step's initial value enters once per key, at the very end.
        make = combine_initial if callable(combine_initial) else None
        merged = {k: combine(make() if make else combine_initial, v) for k, v in merged.items()}
    return list(merged.items())


def _key_function(key: Any) -> Callable[[Any], Any]:
    return key if callable(key) else itemgetter(key)


def _all_of(values: Iterable[Any]) -> bool:
    return all(values)


def _any_of(values: Iterable[Any]) -> bool:
    return any(values)


class AggregateMethods:
    """The reductions of :class:`shoal.bag.Bag`; most return a lazy :class:`~shoal.bag.Item`."""

    name: str
    npartitions: int

    def reduction(self: Bag, perpartition: Callable[[list[Any]], Any], aggregate: Callable[[list[Any]], Any],
                  split_every: int | None = None, out_type: type = Item, name: str | None = None) -> Any:
        """Reduce with ``perpartition`` on each partition (a list) and ``aggregate`` on lists of those results.

        ``aggregate`` is applied to groups of ``split_every`` results, then to
        groups of its own results, as a tree; it must accept its own output.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10), npartitions=4).reduction(sum, sum).compute()
        45
        """
        opname = name or f"reduction-{funcname(perpartition)}"
        return tree_reduce(self, opname, _Apply(perpartition, listify=True), aggregate, aggregate,
                           split_every=split_every, out_type=out_type, token_parts=(perpartition, aggregate))

    def fold(self: Bag, binop: Callable[[Any, Any], Any], combine: Callable[[Any, Any], Any] | None = None,
             initial: Any = no_default, split_every: int | None = None, out_type: type = Item) -> Any:
        """Reduce each partition with ``binop`` (starting from ``initial``), then the results with ``combine``.

        >>> import shoal.bag as db
        >>> from operator import add
        >>> db.from_sequence(range(5), npartitions=2).fold(add).compute()
        10
        >>> db.from_sequence(range(5)).fold(lambda acc, x: acc | {x}, set.union, initial=set()).compute()
        {0, 1, 2, 3, 4}
        """
        combine = combine or binop
        start = EMPTY if initial is no_default else initial
        step = _first_then(binop) if start is EMPTY else binop
        return tree_reduce(self, f"fold-{funcname(binop)}", _Fold(step, start), partial(_combine_fold, combine),
                           partial(_final_fold, combine), split_every=split_every, out_type=out_type,
                           token_parts=(binop, combine, start))

    def count(self: Bag, split_every: int | None = None) -> Item:
        """The number of elements.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).filter(lambda x: x > 6).count().compute()
        3
        """
        return tree_reduce(self, "count", _Apply(count_elements), sum, sum, split_every=split_every)

    def sum(self: Bag, split_every: int | None = None) -> Item:
        """The sum of the elements (0 for an empty bag).

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).sum().compute()
        45
        """
        return tree_reduce(self, "sum", _Apply(sum), sum, sum, split_every=split_every)

    def max(self: Bag, split_every: int | None = None) -> Item:
        """The largest element.

        >>> import shoal.bag as db
        >>> db.from_sequence([3, 1, 4, 1, 5]).max().compute()
        5
        """
        return tree_reduce(self, "max", _Extreme(max), partial(_combine_extreme, max), partial(_final_extreme, max),
                           split_every=split_every)

    def min(self: Bag, split_every: int | None = None) -> Item:
        """The smallest element.

        >>> import shoal.bag as db
        >>> db.from_sequence([3, 1, 4, 1, 5]).min().compute()
        1
        """
        return tree_reduce(self, "min", _Extreme(min), partial(_combine_extreme, min), partial(_final_extreme, min),
                           split_every=split_every)

    def any(self: Bag, split_every: int | None = None) -> Item:
        """Whether any element is true.

        >>> import shoal.bag as db
        >>> db.from_sequence([0, 0, 3]).any().compute()
        True
        """
        return tree_reduce(self, "any", _Apply(any), _any_of, _any_of, split_every=split_every)

    def all(self: Bag, split_every: int | None = None) -> Item:
        """Whether every element is true.

        >>> import shoal.bag as db
        >>> db.from_sequence([1, 0, 3]).all().compute()
        False
        """
        return tree_reduce(self, "all", _Apply(all), _all_of, _all_of, split_every=split_every)

    def mean(self: Bag) -> Item:
        """The arithmetic mean of the elements.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).mean().compute()
        4.5
        """
        return tree_reduce(self, "mean", _Moments(), _combine_moments, _final_mean)

    def var(self: Bag, ddof: int = 0) -> Item:
        """The variance of the elements (``ddof=0``: population variance).

        Notes
        -----
        Mirrors ``dask.bag.Bag.var``; difference: partitions are combined with
        Chan et al.'s pairwise update rather than sums of squares, which stays
        accurate when the mean is large compared to the spread.

        >>> import shoal.bag as db
        >>> db.from_sequence(range(10)).var().compute()
        8.25
        """
        return tree_reduce(self, "var", _Moments(), _combine_moments, partial(_final_var, ddof), token_parts=(ddof,))

    def std(self: Bag, ddof: int = 0) -> Item:
        """The standard deviation of the elements.

        >>> import shoal.bag as db
        >>> round(db.from_sequence(range(10)).std(ddof=1).compute(), 6)
        3.02765
        """
        return tree_reduce(self, "std", _Moments(), _combine_moments, partial(_final_std, ddof), token_parts=(ddof,))

    def frequencies(self: Bag, split_every: int | None = None, sort: bool = False) -> Bag:
        """Count the occurrences of each distinct element: a bag of ``(element, count)`` pairs.

        Pairs come in order of first occurrence, or by decreasing count with
        ``sort=True``.

        >>> import shoal.bag as db
        >>> db.from_sequence(["a", "b", "a", "c", "a", "b"], npartitions=2).frequencies(sort=True).compute()
        [('a', 3), ('b', 2), ('c', 1)]
        """
        return tree_reduce(self, "frequencies", _Apply(Counter), _merge_counts, partial(_final_frequencies, sort),
                           split_every=split_every, out_type=type(self), token_parts=(sort,))

    def topk(self: Bag, k: int, key: Any = None, split_every: int | None = None) -> Bag:
        """The ``k`` largest elements, largest first (by ``key`` if given: a function or an index).

        >>> import shoal.bag as db
        >>> b = db.from_sequence([10, 3, 5, 7, 11, 4], npartitions=3)
        >>> b.topk(2).compute()
        [11, 10]
        >>> b.topk(2, key=lambda x: -x).compute()
        [3, 4]
        """
        keyfunc = None if key is None else _key_function(key)
        return tree_reduce(self, "topk", _TopK(k, keyfunc), partial(_merge_topk, k, keyfunc),
                           partial(_merge_topk, k, keyfunc), split_every=split_every, out_type=type(self),
                           token_parts=(k, key))

    def distinct(self: Bag, key: Any = None) -> Bag:
        """The distinct elements, in order of first occurrence; with ``key``, one element per key.

        >>> import shoal.bag as db
        >>> db.from_sequence(["a", "b", "a", "c"], npartitions=2).distinct().compute()
        ['a', 'b', 'c']
        >>> db.from_sequence(["apple", "avocado", "banana"]).distinct(key=lambda s: s[0]).compute()
        ['apple', 'banana']
        """
        keyfunc = None if key is None else _key_function(key)
        return tree_reduce(self, "distinct", _Distinct(keyfunc), _merge_distinct,
                           partial(_final_distinct, keyfunc is not None), out_type=type(self), token_parts=(key,))

    def foldby(self: Bag, key: Any, binop: Callable[[Any, Any], Any], initial: Any = no_default,
               combine: Callable[[Any, Any], Any] | None = None, combine_initial: Any = no_default,
               split_every: int | None = None) -> Bag:
        """Group by ``key`` and fold each group with ``binop``: a groupby without the shuffle.

        Each partition folds its elements per key (``binop(total, element)``,
        starting from ``initial`` or the first element); the per-partition
        totals are merged with ``combine`` (default ``binop``), starting from
        ``combine_initial`` if given. Only the small per-key totals move
        between tasks, so this is much faster than :meth:`groupby`. The
        result is a bag with one partition of ``(key, total)`` pairs.

        Parameters
        ----------
        key : callable or object
            A function of the element, or a key/index to select from it.
        binop : callable
            ``binop(total, element) -> total``.
        initial : object, optional
            The starting total for each key in each partition (called, if
            callable, to make a fresh one).
        combine : callable, optional
            ``combine(total1, total2) -> total``.
        combine_initial : object, optional
            The starting total for each key when combining.
        split_every : int, optional
            How many partitions' totals to merge at once (default 8).

        Examples
        --------
        >>> import shoal.bag as db
        >>> from operator import add
        >>> b = db.from_sequence(range(10), npartitions=3)
        >>> dict(b.foldby(lambda x: x % 2 == 0, add))
        {True: 20, False: 25}
        >>> dict(db.from_sequence(["a", "bb", "cc"]).foldby(len, lambda n, _: n + 1, 0))
        {1: 1, 2: 2}
        """
        combine = combine or binop
        start = EMPTY if initial is no_default else initial
        combine_start = EMPTY if combine_initial is no_default else combine_initial
        return tree_reduce(self, "foldby", _FoldBy(_key_function(key), binop, start), partial(_merge_foldby, combine),
                           partial(_final_foldby, combine, combine_start), split_every=split_every,
                           out_type=type(self), token_parts=(key, binop, start, combine, combine_start))


"""Reductions: aggregates, fold, reduction, frequencies, topk, distinct, foldby, random samples."""

from __future__ import annotations

import heapq
import math
import operator
import statistics
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.bag as db
from shoal.bag import Item
from shoal.bag import random as bag_random

ints = st.lists(st.integers(-20, 20), max_size=80)
nparts = st.integers(1, 12)
split = st.sampled_from([None, 2, 3, 8])


@settings(max_examples=60, deadline=None)
@given(ints, nparts, split)
def test_aggregates(seq: list[int], n: int, split_every: int | None) -> None:
    b = db.from_sequence(seq, npartitions=n)
    for name in ("count", "sum", "any", "all"):
        item = getattr(b, name)(split_every=split_every)
        assert isinstance(item, Item)
        expected = {"count": len(seq), "sum": sum(seq), "any": any(seq), "all": all(seq)}[name]
        assert item.compute() == expected, name
    if seq:
        assert b.min(split_every=split_every).compute() == min(seq)
        assert b.max(split_every=split_every).compute() == max(seq)
        assert b.mean().compute() == pytest.approx(statistics.fmean(seq))
        assert b.var().compute() == pytest.approx(statistics.pvariance(seq), abs=1e-9)
        assert b.std().compute() == pytest.approx(statistics.pstdev(seq), abs=1e-9)
    if len(seq) > 1:
        assert b.var(ddof=1).compute() == pytest.approx(statistics.variance(seq), abs=1e-9)
        assert b.std(ddof=1).compute() == pytest.approx(statistics.stdev(seq), abs=1e-9)


def test_aggregates_over_empty_partitions() -> None:
    b = db.from_sequence(range(20), npartitions=6).filter(lambda x: x in (3, 17))
    assert b.min().compute() == 3
    assert b.max().compute() == 17
    assert b.count().compute() == 2
    assert b.fold(operator.add).compute() == 20


def test_aggregates_of_an_empty_bag() -> None:
    empty = db.from_sequence(range(6), npartitions=3).filter(lambda x: False)
    assert empty.count().compute() == 0
    assert empty.sum().compute() == 0
    assert empty.any().compute() is False
    assert empty.all().compute() is True
    with pytest.raises(ValueError, match="empty bag"):
        empty.max().compute()
    with pytest.raises(ValueError, match="empty bag"):
        empty.min().compute()
    with pytest.raises(ZeroDivisionError, match="empty bag"):
        empty.mean().compute()
    with pytest.raises(ZeroDivisionError, match="ddof=1"):
        db.from_sequence([1]).var(ddof=1).compute()
    with pytest.raises(TypeError, match="initial"):
        empty.fold(operator.add).compute()
    assert empty.fold(operator.add, initial=0).compute() == 0


def test_var_is_stable_for_large_offsets() -> None:
    values = [1e9 + x for x in (4.0, 7.0, 13.0, 16.0)]
    b = db.from_sequence(values, npartitions=3)
    assert b.var().compute() == pytest.approx(statistics.pvariance(values))
    assert math.isclose(b.std(ddof=1).compute(), statistics.stdev(values))


@settings(max_examples=40, deadline=None)
@given(ints, nparts, split)
def test_fold_and_reduction(seq: list[int], n: int, split_every: int | None) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.fold(operator.add, initial=0, split_every=split_every).compute() == sum(seq)
    assert b.fold(lambda acc, x: acc | {x}, set.union, initial=set()).compute() == set(seq)
    assert b.fold(lambda acc, x: acc + 1, operator.add, initial=0).compute() == len(seq)
    if seq:
        assert b.fold(max).compute() == max(seq)
    assert b.reduction(sum, sum, split_every=split_every).compute() == sum(seq)
    assert b.reduction(len, sum).compute() == len(seq)
    union = b.reduction(set, lambda sets: set().union(*sets), out_type=db.Bag)
    assert union.npartitions == 1 and sorted(union.compute()) == sorted(set(seq))
    whole = b.fold(lambda acc, x: acc + [x], operator.add, initial=[], out_type=db.Bag)
    assert whole.compute() == seq


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcdefg"), max_size=80), nparts, split)
def test_frequencies(seq: list[str], n: int, split_every: int | None) -> None:
    b = db.from_sequence(seq, npartitions=n)
    counts = Counter(seq)
    assert b.frequencies(split_every=split_every).compute() == list(counts.items())
    ranked = b.frequencies(sort=True).compute()
    assert sorted(ranked) == sorted(counts.items())
    assert [c for _, c in ranked] == sorted(counts.values(), reverse=True)


@settings(max_examples=60, deadline=None)
@given(ints, nparts, st.integers(0, 12), split)
def test_topk(seq: list[int], n: int, k: int, split_every: int | None) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.topk(k, split_every=split_every).compute() == heapq.nlargest(k, seq)
    assert b.topk(k, key=abs).compute() == heapq.nlargest(k, seq, key=abs)
    pairs = [(x, i) for i, x in enumerate(seq)]
    pb = db.from_sequence(pairs, npartitions=n)
    assert pb.topk(k, key=0).compute() == heapq.nlargest(k, pairs, key=operator.itemgetter(0))


@settings(max_examples=60, deadline=None)
@given(ints, nparts)
def test_distinct(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.distinct().compute() == list(dict.fromkeys(seq))
    first_by_abs: dict[int, int] = {}
    for x in seq:
        first_by_abs.setdefault(abs(x), x)
    assert b.distinct(key=abs).compute() == list(first_by_abs.values())
    records = [{"k": x % 3, "v": x} for x in seq]
    first_by_k: dict[int, dict[str, int]] = {}
    for r in records:
        first_by_k.setdefault(r["k"], r)
    assert db.from_sequence(records, npartitions=n).distinct(key="k").compute() == list(first_by_k.values())


def plain_foldby(seq, key, binop, initial=None, combine=None, combine_initial=None):
    """What foldby means, with one partition: fold each group in order."""
    groups: dict = {}
    for x in seq:
        k = key(x)
        if k in groups:
            groups[k] = binop(groups[k], x)
        else:
            groups[k] = x if initial is None else binop(initial, x)
    return groups


@settings(max_examples=60, deadline=None)
@given(ints, nparts, split)
def test_foldby(seq: list[int], n: int, split_every: int | None) -> None:
    b = db.from_sequence(seq, npartitions=n)

    def key(x: int) -> int:
        return x % 4

    result = b.foldby(key, operator.add, split_every=split_every).compute()
    assert dict(result) == plain_foldby(seq, key, operator.add)
    assert len(result) == len(dict(result))
    assert dict(b.foldby(key, operator.add, 0).compute()) == plain_foldby(seq, key, operator.add, 0)
    counted = b.foldby(key, lambda total, _: total + 1, 0, operator.add, 0).compute()
    assert dict(counted) == dict(Counter(map(key, seq)))
    biggest = b.foldby(key, max).compute()
    assert dict(biggest) == plain_foldby(seq, key, max)
    # A list initial must be fresh for each key: a callable gives one.
    lists = b.foldby(key, lambda acc, x: acc + [x], list, operator.add, list).compute()
    assert {k: sorted(v) for k, v in lists} == {k: sorted(x for x in seq if key(x) == k) for k in set(map(key, seq))}


def test_foldby_with_key_name() -> None:
    records = [{"name": n, "amount": a} for n, a in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]]
    b = db.from_sequence(records, npartitions=3)
    totals = b.foldby("name", lambda acc, r: acc + r["amount"], 0, operator.add).compute()
    assert dict(totals) == {"a": 4, "b": 7, "c": 4}


def test_random_sample_and_choices() -> None:
    b = db.from_sequence(range(50), npartitions=7)
    picked = bag_random.sample(b, 10).compute()
    assert len(picked) == 10 and len(set(picked)) == 10 and set(picked) <= set(range(50))
    everything = bag_random.sample(b, 50, split_every=2).compute()
    assert sorted(everything) == list(range(50))
    with pytest.raises(ValueError, match="larger than the bag"):
        bag_random.sample(b, 51).compute()
    chosen = bag_random.choices(b, k=200).compute()
    assert len(chosen) == 200 and set(chosen) <= set(range(50))
    assert len(set(chosen)) > 20
    with pytest.raises(IndexError, match="empty bag"):
        bag_random.choices(b.filter(lambda x: False), k=1).compute()
    with pytest.raises(ValueError, match="k >= 0"):
        bag_random.sample(b, -1)


def test_sample_is_uniform_enough() -> None:
    # Each element should appear in about k/n of the samples; partitions are uneven on purpose.
    b = db.concat([db.from_sequence(range(2)), db.from_sequence(range(2, 10), npartitions=1)])
    hits = Counter()
    for _ in range(300):
        hits.update(bag_random.sample(b, 3).compute())
    assert all(40 < hits[x] < 140 for x in range(10)), hits

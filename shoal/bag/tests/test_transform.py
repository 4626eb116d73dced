"""Element-wise and partition-wise transformations, each checked against plain Python on the same data."""

from __future__ import annotations

import itertools
import json
import operator
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.bag as db
from shoal import config

ints = st.lists(st.integers(-50, 50), max_size=60)
nparts = st.integers(1, 9)


def square(x: int) -> int:
    return x * x


def is_even(x: int) -> bool:
    return x % 2 == 0


@settings(max_examples=50, deadline=None)
@given(ints, nparts)
def test_map_filter_remove_chain(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.map(square).compute() == [x * x for x in seq]
    assert b.filter(is_even).compute() == [x for x in seq if x % 2 == 0]
    assert b.remove(is_even).compute() == [x for x in seq if x % 2]
    chained = b.map(square).filter(lambda x: x > 10).map(str).remove(lambda s: s.endswith("6"))
    assert chained.compute() == [str(x * x) for x in seq if x * x > 10 and not str(x * x).endswith("6")]


@settings(max_examples=30, deadline=None)
@given(ints, nparts)
def test_map_with_bag_item_and_scalar_arguments(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    other = b.map(square)
    assert b.map(operator.add, other).compute() == [x + x * x for x in seq]
    assert b.map(operator.sub, 7).compute() == [x - 7 for x in seq]
    assert db.map(lambda x, y, z=0: x * y + z, b, other, z=3).compute() == [x * x * x + 3 for x in seq]
    # A bag as a keyword argument is zipped element by element, too.
    assert b.map(lambda x, y=None: (x, y), y=other).compute() == [(x, x * x) for x in seq]
    if seq:
        assert b.map(operator.sub, b.min()).compute() == [x - min(seq) for x in seq]
        assert b.map(lambda x, m=0: x - m, m=b.max()).compute() == [x - max(seq) for x in seq]
    d = shoal.delayed(sum)([1, 2])
    assert b.map(operator.add, d).compute() == [x + 3 for x in seq]


def test_map_needs_a_bag_and_matching_partitions() -> None:
    with pytest.raises(ValueError, match="at least one Bag"):
        db.map(abs, 3)
    a = db.from_sequence(range(4), npartitions=2)
    with pytest.raises(ValueError, match="same number of partitions"):
        a.map(operator.add, db.from_sequence(range(4), npartitions=4))
    with pytest.raises(ValueError, match="map: corresponding partitions of the bags have different lengths"):
        a.map(operator.add, a.filter(lambda x: x != 1)).compute()


def test_starmap() -> None:
    pairs = [(i, i + 1) for i in range(10)]
    b = db.from_sequence(pairs, npartitions=3)
    assert b.starmap(operator.mul).compute() == [x * y for x, y in pairs]
    assert b.starmap(lambda x, y, c=0: x + y + c, c=100).compute() == [x + y + 100 for x, y in pairs]
    total = b.pluck(0).sum()
    assert b.starmap(lambda x, y, c=0: x + y + c, c=total).compute() == [x + y + 45 for x, y in pairs]


@settings(max_examples=30, deadline=None)
@given(ints, nparts)
def test_map_partitions(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    parts = [d.compute() for d in b.to_delayed()]
    assert b.map_partitions(lambda p: [sum(p)]).compute() == [sum(p) for p in parts]
    assert b.map_partitions(len).compute() == [len(p) for p in parts]
    assert b.map_partitions(lambda p, k: [x + k for x in p], 5).compute() == [x + 5 for x in seq]
    assert db.map_partitions(lambda p, q: [x - y for x, y in zip(p, q, strict=True)], b, b).compute() == [0] * len(seq)
    assert b.map(square).filter(is_even).map_partitions(sorted).compute() == list(
        itertools.chain.from_iterable(sorted(x * x for x in p if x % 2 == 0) for p in parts)
    )


def test_map_partitions_returning_none_is_an_error() -> None:
    b = db.from_sequence(range(4), npartitions=2)
    with pytest.raises(TypeError, match="returned None"):
        b.map_partitions(lambda p: None).compute()


def test_pluck() -> None:
    records = [{"a": i, "b": str(i), "c": [i, -i]} for i in range(7)]
    b = db.from_sequence(records, npartitions=3)
    assert b.pluck("a").compute() == [r["a"] for r in records]
    assert b.pluck(["a", "b"]).compute() == [(r["a"], r["b"]) for r in records]
    assert b.pluck(["b"]).compute() == [(r["b"],) for r in records]
    assert b.pluck("c").pluck(1).compute() == [-i for i in range(7)]
    assert b.pluck("zzz", default=None).compute() == [None] * 7
    assert b.pluck(["a", "zzz"], default=0).compute() == [(i, 0) for i in range(7)]
    with pytest.raises(KeyError):
        b.pluck("zzz").compute()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(), max_size=4), max_size=30), nparts)
def test_flatten(seq: list[list[int]], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.flatten().compute() == [x for xs in seq for x in xs]
    assert b.flatten().count().compute() == sum(map(len, seq))


def test_unzip() -> None:
    pairs = [(i, str(i)) for i in range(5)]
    first, second = db.from_sequence(pairs, npartitions=2).unzip(2)
    assert first.compute() == list(range(5))
    assert second.compute() == [str(i) for i in range(5)]


@settings(max_examples=30, deadline=None)
@given(ints, nparts)
def test_accumulate(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.accumulate(operator.add).compute() == list(itertools.accumulate(seq))
    assert b.accumulate(operator.add, initial=10).compute() == list(itertools.accumulate(seq, initial=10))
    assert b.accumulate(max).compute() == list(itertools.accumulate(seq, max))


def test_accumulate_with_empty_partitions() -> None:
    b = db.from_sequence(range(12), npartitions=4).filter(lambda x: x < 2 or x > 9)
    assert b.accumulate(operator.add).compute() == list(itertools.accumulate([0, 1, 10, 11]))
    assert b.accumulate(operator.add, initial=5).compute() == list(itertools.accumulate([0, 1, 10, 11], initial=5))


@settings(max_examples=40, deadline=None)
@given(ints, nparts, st.integers(1, 12))
def test_repartition(seq: list[int], n: int, m: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    r = b.repartition(npartitions=m)
    assert r.npartitions == m
    assert r.compute() == seq
    assert r.map(square).compute() == [x * x for x in seq]


def test_repartition_by_size() -> None:
    b = db.from_sequence(["x" * 100] * 50, npartitions=1)
    r = b.repartition(partition_size="1kB")
    assert r.npartitions > 1
    assert r.compute() == b.compute()
    with pytest.raises(ValueError, match="exactly one"):
        b.repartition()
    with pytest.raises(ValueError, match="npartitions >= 1"):
        b.repartition(0)
    with pytest.raises(ValueError, match="size in bytes"):
        b.repartition(partition_size="lots")


def test_random_sample() -> None:
    b = db.from_sequence(range(1000), npartitions=7)
    kept = b.random_sample(0.1, random_state=42).compute()
    assert kept == sorted(set(kept)) and set(kept) <= set(range(1000))
    assert 40 < len(kept) < 200
    assert kept == b.random_sample(0.1, random_state=42).compute()
    assert b.random_sample(0.0).compute() == []
    assert b.random_sample(1.0).compute() == list(range(1000))
    with pytest.raises(ValueError, match="prob"):
        b.random_sample(1.5)


def test_str_accessor() -> None:
    words = ["Alice Smith", "Bob Jones", "charlie SMITH", "  Dana  "]
    b = db.from_sequence(words, npartitions=2)
    assert b.str.lower().compute() == [w.lower() for w in words]
    assert b.str.upper().compute() == [w.upper() for w in words]
    assert b.str.split().compute() == [w.split() for w in words]
    assert b.str.split(" ", 1).compute() == [w.split(" ", 1) for w in words]
    assert b.str.strip().str.replace("a", "@").compute() == [w.strip().replace("a", "@") for w in words]
    assert b.str.match("*Smith").compute() == ["Alice Smith"]
    assert b.str.lower().str.match("*smith").compute() == ["alice smith", "charlie smith"]
    assert "lower" in dir(b.str)
    with pytest.raises(AttributeError, match="no method 'nope'"):
        b.str.nope()


def test_take() -> None:
    b = db.from_sequence(range(100), npartitions=10)
    assert b.take(3) == (0, 1, 2)
    assert b.take(25, npartitions=3) == tuple(range(25))
    assert b.take(100, npartitions=-1) == tuple(range(100))
    assert b.take(4, compute=False).compute() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="npartitions"):
        b.take(1, npartitions=11)


def test_take_warns_when_fewer_than_k() -> None:
    b = db.from_sequence(range(100), npartitions=10)
    with pytest.warns(UserWarning, match=r"take\(20\) found only 10 elements.*npartitions=-1"):
        assert b.take(20) == tuple(range(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert b.take(20, warn=False) == tuple(range(10))
        assert b.take(10) == tuple(range(10))


def test_take_computes_only_the_partitions_it_needs() -> None:
    seen: list[int] = []

    def note(x: int) -> int:
        seen.append(x)
        return x

    b = db.from_sequence(range(100), npartitions=10).map(note)
    assert b.take(2) == (0, 1)
    # Elements are pulled lazily through the fused chain: only what take needs.
    assert seen == [0, 1]
    seen.clear()
    b.take(15, npartitions=2)
    assert set(seen) <= set(range(20))


def test_to_delayed() -> None:
    b = db.from_sequence(range(6), npartitions=3).map(square)
    parts = b.to_delayed()
    assert [p.compute() for p in parts] == [[0, 1], [4, 9], [16, 25]]
    assert shoal.compute(*b.to_delayed(optimize_graph=False)) == ([0, 1], [4, 9], [16, 25])


def test_fusion_gives_one_task_per_partition() -> None:
    chain = db.from_sequence([{"a": i} for i in range(10)], npartitions=3).map(dict).filter(bool).pluck("a")
    graph = chain.__dask_optimize__(chain.__dask_graph__(), chain.__dask_keys__())
    assert len(graph) == 3 + 3  # the data nodes and one fused task per partition
    total = chain.count()
    graph = total.__dask_optimize__(total.__dask_graph__(), total.__dask_keys__())
    assert len(graph) == 3 + 3 + 1
    with config.set({"optimization.fuse.active": False}):
        assert chain.compute() == list(range(10))


def test_map_json_loads_matches_json_loads() -> None:
    lines = ['{"a": 1}\n', ' [1, 2]', '"x"\r\n', "3  \n", '{"b": null}\t\n']
    b = db.from_sequence(lines, npartitions=2).map(json.loads)
    assert b.compute() == [json.loads(s) for s in lines]
    for bad in ['{"a": 1} x\n', "{", "", b"[1]"]:
        try:
            expected: object = json.loads(bad)
        except ValueError as exc:
            with pytest.raises(type(exc)):
                db.from_sequence([bad]).map(json.loads).compute()
        else:
            assert db.from_sequence([bad]).map(json.loads).compute() == [expected]

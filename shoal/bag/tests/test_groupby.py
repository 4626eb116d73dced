"""groupby (disk and task shuffles), join and product, against plain Python."""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.bag as db
from shoal import config
from shoal.bag._groupby import stable_hash

ints = st.lists(st.integers(-30, 30), max_size=80)
nparts = st.integers(1, 10)


def plain_groupby(seq, key):
    groups = defaultdict(list)
    for x in seq:
        groups[key(x)].append(x)
    return dict(groups)


def mod5(x: int) -> int:
    return x % 5


def as_dict(pairs: list) -> dict:
    result = dict(pairs)
    assert len(result) == len(pairs), "a key appears in more than one output group"
    return result


@settings(max_examples=40, deadline=None)
@given(ints, nparts, st.integers(1, 8), st.sampled_from(["disk", "tasks"]))
def test_groupby_matches_plain_python(tmp_path_factory, seq: list[int], n: int, nout: int, how: str) -> None:
    b = db.from_sequence(seq, npartitions=n)
    with config.set({"temporary-directory": str(tmp_path_factory.getbasetemp())}):
        grouped = b.groupby(mod5, npartitions=nout, shuffle=how)
        assert grouped.npartitions == nout
        # Groups keep the input order of their elements.
        assert as_dict(grouped.compute()) == plain_groupby(seq, mod5)


@pytest.mark.parametrize("how", ["disk", "tasks"])
def test_groupby_many_partitions_and_key_types(how: str, tmp_path) -> None:
    records = [{"k": k, "i": i} for i, k in enumerate(["a", 1, 1.0, True, None, (1, "x"), b"z", "a", 2.5] * 7)]
    b = db.from_sequence(records, npartitions=13)
    with config.set({"temporary-directory": str(tmp_path)}):
        result = as_dict(b.groupby("k", shuffle=how, max_branch=3, npartitions=11).compute())
    assert result == plain_groupby(records, lambda r: r["k"])


def test_groupby_method_alias_and_bad_shuffle() -> None:
    b = db.from_sequence(range(10), npartitions=3)
    assert as_dict(b.groupby(mod5, method="tasks").compute()) == plain_groupby(range(10), mod5)
    with pytest.raises(ValueError, match="'disk' or 'tasks'"):
        b.groupby(mod5, shuffle="magic")


def test_disk_groupby_spills_and_cleans_up(tmp_path) -> None:
    seq = [(i % 37, "x" * 50, i) for i in range(20_000)]
    b = db.from_sequence(seq, npartitions=4)
    with config.set({"temporary-directory": str(tmp_path)}):
        grouped = b.groupby(0, blocksize=4096, npartitions=3)
        write_keys = [k for k in grouped.dask if isinstance(k, tuple) and str(k[0]).startswith("groupby-disk-write")]
        result = as_dict(grouped.compute())
    assert len(write_keys) == 4
    assert result == plain_groupby(seq, lambda t: t[0])
    assert list(tmp_path.iterdir()) == []


def test_disk_groupby_spill_count(tmp_path) -> None:
    from shoal.bag._groupby import ShuffleWrite

    rundir = tmp_path / "run"
    rundir.mkdir()
    items = [(f"k{i % 10}", "y" * 100) for i in range(5000)]
    spills = ShuffleWrite(lambda t: t[0], 3, 8192)(items, str(rundir), 0)
    assert spills > 5
    assert sorted(os.listdir(rundir)) == ["0.0", "1.0", "2.0"]


def test_disk_groupby_failure_leaves_nothing_once_collected(tmp_path) -> None:
    def boom(x: int) -> int:
        if x == 7:
            raise RuntimeError("bad element")
        return x % 3

    with config.set({"temporary-directory": str(tmp_path)}):
        grouped = db.from_sequence(range(20), npartitions=4).groupby(boom)
        with pytest.raises(RuntimeError, match="bad element"):
            grouped.compute()
    del grouped
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_groupby_on_processes(tmp_path) -> None:
    # Worker processes have different string hash seeds: the shuffle must not depend on hash().
    words = "the quick brown fox jumps over the lazy dog the end".split() * 5
    b = db.from_sequence(words, npartitions=4)
    with config.set({"temporary-directory": str(tmp_path)}):
        result = as_dict(b.groupby(len, npartitions=3).compute(scheduler="processes"))
    assert result == plain_groupby(words, len)
    assert list(tmp_path.iterdir()) == []


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def test_stable_hash() -> None:
    assert stable_hash("abc") == stable_hash("abc")
    assert stable_hash(1) == stable_hash(1.0) == stable_hash(True)
    assert stable_hash((1, "a")) == stable_hash((1.0, "a"))
    assert stable_hash(frozenset({1, 2})) == stable_hash(frozenset({2, 1}))
    assert stable_hash(Point(1, 2)) == stable_hash(Point(1, 2)) != stable_hash(Point(2, 1))


@settings(max_examples=30, deadline=None)
@given(ints, nparts, st.lists(st.integers(-5, 5), max_size=10))
def test_join(seq: list[int], n: int, other: list[int]) -> None:
    b = db.from_sequence(seq, npartitions=n)
    expected = [(y, x) for x in seq for y in other if y % 5 == x % 5]
    assert b.join(other, mod5).compute() == expected
    assert b.join(iter(other), mod5).compute() == expected
    assert b.join(db.from_sequence(other, npartitions=1), mod5).compute() == expected
    assert b.join(shoal.delayed(list)(other), mod5).compute() == expected
    assert b.join(other, mod5, on_other=lambda y: (y + 5) % 5).compute() == expected


def test_join_with_keys_and_too_big_other() -> None:
    people = db.from_sequence([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
    orders = [{"pid": 1, "total": 10}, {"pid": 1, "total": 5}, {"pid": 3, "total": 7}]
    joined = people.join(orders, "id", "pid").map(lambda pair: (pair[1]["name"], pair[0]["total"]))
    assert joined.compute() == [("a", 10), ("a", 5), ("c", 7)]
    with pytest.raises(ValueError, match="one partition"):
        people.join(db.from_sequence(orders, npartitions=2), "id", "pid")


def test_product() -> None:
    a = db.from_sequence([1, 2, 3], npartitions=2)
    b = db.from_sequence("xy", npartitions=2)
    p = a.product(b)
    assert p.npartitions == 4
    assert sorted(p.compute()) == sorted((x, y) for x in [1, 2, 3] for y in "xy")
    with pytest.raises(TypeError, match="another Bag"):
        a.product([1, 2])

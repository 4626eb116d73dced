"""Making bags: from_sequence, range, from_delayed, from_url, concat, zip; repr and the collection protocol."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.bag as db
from shoal.bag import Bag, Item


def partitions(bag: Bag) -> list[list[object]]:
    return [d.compute() for d in bag.to_delayed()]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers()), st.integers(1, 12))
def test_from_sequence_npartitions(seq: list[int], n: int) -> None:
    b = db.from_sequence(seq, npartitions=n)
    assert b.compute() == seq
    parts = partitions(b)
    # Dask's rule: npartitions sets the partition size, ceil(len / n) up to 100 elements.
    size = max(1, -(-len(seq) // n))
    assert len(parts) == b.npartitions == max(1, -(-len(seq) // size))
    if seq:
        assert [len(p) for p in parts] == [len(seq[i:i + size]) for i in range(0, len(seq), size)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers()), st.integers(1, 7))
def test_from_sequence_partition_size(seq: list[int], size: int) -> None:
    b = db.from_sequence(seq, partition_size=size)
    assert b.compute() == seq
    parts = partitions(b)
    assert [len(p) for p in parts] == ([len(seq[i:i + size]) for i in range(0, len(seq), size)] or [0])


def test_from_sequence_default_partitions() -> None:
    assert db.from_sequence(range(5)).npartitions == 5
    assert db.from_sequence(range(1000)).npartitions == 250  # Dask: partitions of ceil(sqrt(1000) / 10)
    assert db.from_sequence([]).compute() == []
    assert db.from_sequence(iter("abc")).compute() == ["a", "b", "c"]


def test_from_sequence_bad_arguments() -> None:
    with pytest.raises(ValueError, match="not both"):
        db.from_sequence([1], partition_size=1, npartitions=1)
    with pytest.raises(ValueError, match="partition_size >= 1"):
        db.from_sequence([1], partition_size=0)
    with pytest.raises(ValueError, match="npartitions >= 1"):
        db.from_sequence([1], npartitions=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.integers(1, 10))
def test_range(n: int, k: int) -> None:
    b = db.range(n, npartitions=k)
    assert b.npartitions == k
    assert b.compute() == list(range(n))
    assert sum(map(len, partitions(b))) == n


def test_range_bad_npartitions() -> None:
    with pytest.raises(ValueError, match="npartitions >= 1"):
        db.range(3, npartitions=0)


def test_from_delayed() -> None:
    parts = [shoal.delayed(list)(range(i)) for i in range(4)]
    b = db.from_delayed(parts)
    assert b.npartitions == 4
    assert b.compute() == [x for i in range(4) for x in range(i)]
    assert b.map(lambda x: x + 1).sum().compute() == sum(x + 1 for i in range(4) for x in range(i))
    single = db.from_delayed(shoal.delayed(tuple)("ab"))
    assert single.compute() == ["a", "b"]
    with pytest.raises(ValueError, match="at least one"):
        db.from_delayed([])


def test_from_url(tmp_path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes(b"one\ntwo\n")
    second.write_bytes(b"three")
    b = db.from_url([first.as_uri(), second.as_uri()])
    assert b.npartitions == 2
    assert b.compute() == [b"one\n", b"two\n", b"three"]


def test_concat() -> None:
    a = db.from_sequence([1, 2, 3], npartitions=2)
    b = db.range(4, npartitions=3)
    c = db.concat([a, b, a])
    assert c.npartitions == 7
    assert c.compute() == [1, 2, 3, 0, 1, 2, 3, 1, 2, 3]
    with pytest.raises(ValueError, match="at least one"):
        db.concat([])


def test_zip() -> None:
    a = db.from_sequence(range(6), npartitions=3)
    z = db.zip(a, a.map(str), a.map(lambda x: x * x))
    assert z.compute() == list(zip(range(6), map(str, range(6)), (x * x for x in range(6)), strict=True))
    with pytest.raises(ValueError, match="same number of partitions"):
        db.zip(a, db.from_sequence(range(6), npartitions=2))
    uneven = db.zip(a, a.filter(lambda x: x != 2))
    with pytest.raises(ValueError, match="partitions of the bags have different lengths") as info:
        uneven.compute()
    assert "partition 1" in "\n".join(info.value.__notes__)


def test_repr_names_operation_and_partitions() -> None:
    b = db.from_sequence(range(10), npartitions=3)
    assert repr(b) == "shoal.bag<from-sequence, npartitions=3>"
    assert repr(b.map(abs)) == "shoal.bag<map-abs, npartitions=3>"
    assert repr(b.filter(bool)) == "shoal.bag<filter-bool, npartitions=3>"
    assert repr(b.frequencies()) == "shoal.bag<frequencies-aggregate, npartitions=1>"
    assert repr(b.sum()).startswith("Item('sum-aggregate-")


def test_bag_from_hand_written_graph_and_protocol() -> None:
    b = Bag({("x", 0): (range, 3), ("x", 1): (list, "ab")}, "x", npartitions=2)
    assert b.compute() == [0, 1, 2, "a", "b"]
    assert b.__dask_keys__() == [("x", 0), ("x", 1)]
    assert list(b) == [0, 1, 2, "a", "b"]
    assert set(b.dask) == {("x", 0), ("x", 1)}
    with pytest.raises(ValueError, match="at least one partition"):
        Bag({}, "x", npartitions=0)


def test_persist_keeps_results() -> None:
    calls = []

    def record(x: int) -> int:
        calls.append(x)
        return x * 2

    b = db.from_sequence(range(4), npartitions=2).map(record).persist()
    assert calls == [0, 1, 2, 3]
    assert b.npartitions == 2
    assert b.map(lambda x: x + 1).compute() == [1, 3, 5, 7]
    assert calls == [0, 1, 2, 3]


def test_shoal_compute_of_several_collections() -> None:
    b = db.from_sequence(range(5), npartitions=2)
    total, items, doubled = shoal.compute(b.sum(), b, b.map(lambda x: 2 * x))
    assert (total, items, doubled) == (10, [0, 1, 2, 3, 4], [0, 2, 4, 6, 8])


def test_item_arithmetic_and_apply() -> None:
    b = db.from_sequence([1, 2, 3, 4], npartitions=2)
    total, count = b.sum(), b.count()
    assert (total / count).compute() == 2.5
    assert (1 + total).compute() == 11
    assert (-total).compute() == -10
    assert (total > 5).compute() is True
    assert total.apply(str).compute() == "10"
    assert Item.from_delayed(shoal.delayed(max)([3, 9])).compute() == 9
    with pytest.raises(TypeError, match="not known until it is computed"):
        bool(total)
    assert total.to_delayed().compute() == 10


def test_bag_and_item_pickle() -> None:
    b = db.from_sequence(range(4), npartitions=2).map(abs)
    again = pickle.loads(pickle.dumps(b))
    assert again.compute() == [0, 1, 2, 3]
    s = pickle.loads(pickle.dumps(b.sum()))
    assert s.compute() == 6


def test_import_is_light() -> None:
    # Bags must import without pandas, numpy or fsspec: those load only when files or frames are used.
    code = "import sys, shoal.bag; print(sorted(m for m in ('pandas', 'numpy', 'fsspec') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"

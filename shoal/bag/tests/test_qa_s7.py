"""Partition sizes of ``from_sequence`` and ``read_text(blocksize=)`` as Dask cuts them (found by QA).

Values marked "Dask:" were read from Dask 2026.8 on the same calls; the rules are also checked as
properties so that the tests need no Dask.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.bag as db


def _lengths(bag: db.Bag) -> list[int]:
    return bag.map_partitions(len).compute()


@pytest.mark.parametrize(("n", "npartitions", "expected"), [
    (30, 4, [8, 8, 8, 6]),  # the QA report; shoal gave 8, 8, 7, 7
    (10, 3, [4, 4, 2]),
    (100, 7, [15] * 6 + [10]),
    (10, 4, [3, 3, 3, 1]),
    (11, 5, [3, 3, 3, 2]),  # Dask gives 4 partitions here, not 5
    (5, 10, [1] * 5),
    (0, 3, [0]),
    (101, 100, [1] * 101),  # above 100 elements the size rounds down: one more partition than asked
])
def test_from_sequence_npartitions_cuts_as_dask(n, npartitions, expected):
    bag = db.from_sequence(range(n), npartitions=npartitions)
    assert _lengths(bag) == expected
    assert bag.npartitions == len(expected)
    assert bag.compute() == list(range(n))


@pytest.mark.parametrize(("n", "expected_npartitions", "size"), [
    (99, 99, 1), (100, 100, 1), (250, 125, 2), (1000, 250, 4),  # Dask: ceil(sqrt(n) / 10) above 100
])
def test_from_sequence_default_partitions_as_dask(n, expected_npartitions, size):
    bag = db.from_sequence(range(n))
    assert bag.npartitions == expected_npartitions
    assert max(_lengths(bag)) == size


@given(n=st.integers(0, 400), npartitions=st.integers(1, 60), use_size=st.booleans())
@settings(max_examples=60, deadline=None)
def test_from_sequence_partitions_follow_dasks_rule(n, npartitions, use_size):
    if use_size:
        size = npartitions
        bag = db.from_sequence(range(n), partition_size=size)
    else:
        bag = db.from_sequence(range(n), npartitions=npartitions)
        size = max(1, math.ceil(n / npartitions) if n <= 100 else n // npartitions)
    # Every partition holds `size` elements but the last, which holds the rest.
    expected = [size] * (n // size) + ([n % size] if n % size else [])
    assert _lengths(bag) == (expected or [0])
    assert bag.compute() == list(range(n))


def test_from_sequence_bad_arguments():
    with pytest.raises(ValueError, match="npartitions >= 1"):
        db.from_sequence(range(3), npartitions=0)
    with pytest.raises(ValueError, match="partition_size >= 1"):
        db.from_sequence(range(3), partition_size=0)


@pytest.fixture
def lines_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("".join(f"line {i}\n" for i in range(150)))  # 1240 bytes
    return path


@pytest.mark.parametrize(("blocksize", "expected"), [
    # Dask: size // blocksize equal blocks per file, and the same lines in each partition.
    (200, [28, 25, 26, 26, 23, 22]),
    (300, [41, 38, 37, 34]),
    (500, [79, 71]),
    (1000, [150]),
    (1100, [150]),
    (3000, [150]),
    ("1kB", [150]),
])
def test_read_text_blocks_cut_as_dask(lines_file, blocksize, expected):
    bag = db.read_text(str(lines_file), blocksize=blocksize)
    assert _lengths(bag) == expected
    assert bag.compute() == lines_file.read_text().splitlines(keepends=True)


def test_read_text_qa_files(tmp_path):
    # The QA files: 544, 540 and 541 bytes with blocksize=200 give 2 blocks each (Dask: 6; shoal gave 9).
    for i, size in enumerate((544, 540, 541)):
        line = "x" * 53 + "\n"
        body = line * (size // len(line))
        body += "y" * (size - len(body) - 1) + "\n"
        (tmp_path / f"in-{i}.json").write_text(body)
    bag = db.read_text(str(tmp_path / "in-*.json"), blocksize=200)
    assert bag.npartitions == 6
    expected = []
    for i in range(3):
        expected += (tmp_path / f"in-{i}.json").read_text().splitlines(keepends=True)
    assert bag.compute() == expected


@given(
    lines=st.lists(st.text(alphabet="ab\u00e9", max_size=30), max_size=40),
    blocksize=st.integers(1, 400),
    delimiter=st.sampled_from([None, "\n", "\r\n", "|"]),
)
@settings(max_examples=60, deadline=None)
def test_read_text_block_count_and_lines(tmp_path_factory, lines, blocksize, delimiter):
    """Dask's rule: a file of ``size`` bytes gives ``size // blocksize`` partitions (at least one; an empty
    file none), and every line is read exactly once, in order, whatever the block size."""
    sep = delimiter or "\n"
    text = "".join(line + sep for line in lines)
    path = tmp_path_factory.mktemp("rt") / "f.txt"
    path.write_bytes(text.encode())
    size = len(text.encode())
    bag = db.read_text(str(path), blocksize=blocksize, linedelimiter=delimiter)
    assert bag.npartitions == (max(1, size // blocksize) if size else 1)
    assert "".join(bag.compute()) == text


def test_read_text_skips_empty_files_as_dask(tmp_path, lines_file):
    (tmp_path / "empty.txt").write_text("")
    bag = db.read_text([str(tmp_path / "empty.txt"), str(lines_file)], blocksize=300)
    assert bag.npartitions == 4  # Dask: no partition for the empty file
    assert len(bag.compute()) == 150
    only_empty = db.read_text(str(tmp_path / "empty.txt"), blocksize=300)
    assert only_empty.compute() == []  # Dask raises "No files found"; one empty partition here

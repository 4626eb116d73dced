"""Parquet footers parsed once per process, and the per-read conversion plan (issue 5's speed work).

Covers: the footer cache keyed by the footer's bytes (a rewritten file is
never described by its old footer, even at the same size), files it leaves
to Arrow (not Parquet, encrypted-looking, truncated), pruning and reads that
use the cached footers, and the conversion plan made once per read.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pandas.testing as tm
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyarrow.fs import LocalFileSystem

import shoal.dataframe as sd
from shoal.dataframe._io.parquet import ReadParquet
from shoal.dataframe._io.parquet_footer import local_footer
from shoal.dataframe._lower import optimize, walk


def _write(path, frame: pd.DataFrame, **kwargs) -> None:
    # No compression and no dictionaries: the file's size depends on the row count only, not the values.
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="none",
                   use_dictionary=False, **kwargs)


def _footer(path):
    with LocalFileSystem().open_input_file(str(path)) as source:
        return local_footer(source)


def test_the_same_file_gives_the_same_parsed_footer(tmp_path):
    _write(tmp_path / "a.parquet", pd.DataFrame({"x": np.arange(10.0)}))
    first = _footer(tmp_path / "a.parquet")
    assert first is not None and first is _footer(tmp_path / "a.parquet")
    assert first.metadata.num_rows == 10
    assert first.schema.equals(pq.ParquetFile(tmp_path / "a.parquet").schema_arrow)
    assert first.min_max(first.positions["x"]) == [(0.0, 9.0)]


def test_a_file_rewritten_at_the_same_size_is_pruned_and_read_from_its_new_footer(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    old = pd.DataFrame({"x": np.arange(40.0), "k": np.arange(40)})
    new = pd.DataFrame({"x": np.arange(40.0) + 1000, "k": np.arange(40) * 2})
    _write(path / "part.0.parquet", old, row_group_size=10)
    size = os.path.getsize(path / "part.0.parquet")
    before = sd.read_parquet(str(path), filters=[("x", ">", 500)]).compute()
    assert len(before) == 0
    _write(path / "part.0.parquet", new, row_group_size=10)
    assert os.path.getsize(path / "part.0.parquet") == size  # same size: only the bytes tell them apart
    after = sd.read_parquet(str(path), filters=[("x", ">", 500)])
    (reader,) = [e for e in walk(optimize(after._expr)) if isinstance(e, ReadParquet)]
    assert [groups for _, groups in reader.ids] == [(0, 1, 2, 3)]
    tm.assert_frame_equal(after.compute().reset_index(drop=True), new)
    tm.assert_frame_equal(sd.read_parquet(str(path)).compute(), new)


@pytest.mark.parametrize("content", [b"", b"PAR1", b"not parquet at all", b"x" * 20 + b"\xff\xff\xff\x7fPAR1",
                                     b"PAR1" + b"\x00" * 16 + b"\x08\x00\x00\x00PAR1", b"y" * 30 + b"PARE"])
def test_files_that_are_not_plain_parquet_are_left_to_arrow(tmp_path, content):
    path = tmp_path / "f.parquet"
    path.write_bytes(content)
    assert _footer(path) is None
    with pytest.raises((pa.ArrowInvalid, OSError)):
        sd.read_parquet(str(path), filters=[("x", ">", 1)]).compute()


@given(values=st.lists(st.integers(-50, 50), min_size=1, max_size=60), rows=st.integers(1, 25),
       low=st.integers(-60, 60), op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
@settings(max_examples=40, deadline=None)
def test_reads_with_cached_footers_match_pandas_on_repeated_queries(tmp_path_factory, values, rows, low, op):
    path = tmp_path_factory.mktemp("repeat")
    frame = pd.DataFrame({"i": np.array(values, dtype="int64"), "f": np.array(values, dtype="float64") / 2,
                          "s": [f"s{v % 3}" for v in values]})
    for j in range(2):
        _write(path / f"part.{j}.parquet", frame.iloc[j::2].reset_index(drop=True), row_group_size=rows)
    expected = pd.concat([frame.iloc[j::2] for j in range(2)], ignore_index=True)
    mask = {"<": expected.i < low, "<=": expected.i <= low, ">": expected.i > low, ">=": expected.i >= low,
            "==": expected.i == low, "!=": expected.i != low}[op]
    for _ in range(2):  # the second query finds every footer in the cache
        got = sd.read_parquet(str(path), columns=["s", "f"], filters=[("i", op, low)]).compute(scheduler="sync")
        tm.assert_frame_equal(got.reset_index(drop=True), expected.loc[mask, ["s", "f"]].reset_index(drop=True))


def test_a_range_index_kept_by_the_pandas_metadata_is_restored(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    shifted = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.RangeIndex(10, 13))
    plain = pd.DataFrame({"x": [4.0, 5.0]})
    shifted.to_parquet(path / "part.0.parquet")
    plain.to_parquet(path / "part.1.parquet")
    got = sd.read_parquet(str(path)).compute()
    tm.assert_frame_equal(got, pd.concat([pd.read_parquet(path / f"part.{j}.parquet") for j in range(2)]))


def test_the_conversion_plan_survives_pickling_for_process_schedulers(tmp_path):
    frame = pd.DataFrame({"a": np.arange(6), "s": list("abcdef"), "x": np.arange(6) / 2})
    for j in range(2):
        frame.iloc[j * 3:(j + 1) * 3].to_parquet(tmp_path / f"part.{j}.parquet", index=False)
    got = sd.read_parquet(str(tmp_path), columns=["s", "x"]).compute(scheduler="processes")
    tm.assert_frame_equal(got.reset_index(drop=True), frame[["s", "x"]])

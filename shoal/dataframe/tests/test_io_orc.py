"""read_orc / to_orc against pandas on real files."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

orc = pytest.importorskip("pyarrow.orc")


def _frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "i": np.arange(n),
        "x": rng.normal(size=n),
        "s": pd.array([f"v{k % 7}" for k in range(n)], dtype="str"),
        "t": pd.date_range("2021-01-01", periods=n, freq="h", unit="ns"),  # ORC keeps nanoseconds
        "b": rng.random(n) < 0.5,
    })


def test_round_trip_with_index(tmp_path):
    pdf = _frame().set_index("i")
    df = sd.from_pandas(pdf, npartitions=3)
    paths = df.to_orc(str(tmp_path / "out"))
    assert [os.path.basename(p) for p in paths] == ["part.0.orc", "part.1.orc", "part.2.orc"]
    assert sorted(os.listdir(tmp_path)) == ["out"]
    back = sd.read_orc(str(tmp_path / "out"), index="i")
    assert back.npartitions == 3
    assert_eq(back, pdf, check_divisions=False)
    assert back.compute().s.dtype == pdf.s.dtype


def test_matches_pandas_read_orc_and_glob(tmp_path):
    pdf = _frame()
    for k in range(3):
        pdf.iloc[k * 10:(k + 1) * 10].reset_index(drop=True).to_orc(tmp_path / f"f{k}.orc")
    expected = pd.concat([pd.read_orc(tmp_path / f"f{k}.orc") for k in range(3)])
    got = sd.read_orc(str(tmp_path / "f*.orc"))
    assert got.npartitions == 3
    assert_eq(got, expected, check_index=False)
    assert_eq(sd.read_orc([str(tmp_path / "f0.orc"), str(tmp_path / "f2.orc")]),
              pd.concat([pd.read_orc(tmp_path / "f0.orc"), pd.read_orc(tmp_path / "f2.orc")]), check_index=False)


def test_stripes_become_partitions(tmp_path):
    import pyarrow as pa

    n = 20_000
    pdf = pd.DataFrame({"x": np.arange(n), "y": np.arange(n) * 0.5})
    path = str(tmp_path / "s.orc")
    orc.write_table(pa.Table.from_pandas(pdf, preserve_index=False), path, stripe_size=10_240, batch_size=1000)
    stripes = orc.ORCFile(path).nstripes
    assert stripes > 3
    assert sd.read_orc(path).npartitions == stripes
    assert sd.read_orc(path, split_stripes=3).npartitions == -(-stripes // 3)
    assert sd.read_orc(path, split_stripes=False).npartitions == 1
    for split in (1, 3, False):
        got = sd.read_orc(path, split_stripes=split)
        assert_eq(got, pdf, check_index=False)
        assert got.y.sum().compute() == pdf.y.sum()


def test_columns_and_projection(tmp_path):
    pdf = _frame()
    pdf.to_orc(tmp_path / "a.orc")
    got = sd.read_orc(str(tmp_path / "a.orc"), columns=["s", "x"])
    assert list(got.columns) == ["s", "x"]
    assert_eq(got, pdf[["s", "x"]], check_index=False)
    full = sd.read_orc(str(tmp_path / "a.orc"))
    assert_eq(full[["t", "i"]], pdf[["t", "i"]], check_index=False)
    assert_eq(full.x, pdf.x, check_index=False)
    assert_eq(sd.read_orc(str(tmp_path / "a.orc"), columns="s"), pdf.s, check_index=False)
    assert_eq(sd.read_orc(str(tmp_path / "a.orc"), columns=["x"], index="i"), pdf.set_index("i")[["x"]])


@given(case=frames(min_rows=1, max_rows=30))
@settings(max_examples=15, deadline=None)
def test_round_trip_partitionings(case):
    pdf, nparts = case
    pdf = pdf.rename_axis("idx")
    with tempfile.TemporaryDirectory() as d:
        sd.from_pandas(pdf, npartitions=nparts, sort=False).to_orc(os.path.join(d, "o"))
        back = sd.read_orc(os.path.join(d, "o"), index="idx").compute()
    pd.testing.assert_frame_equal(back, pdf)


def test_failed_write_leaves_nothing(tmp_path):
    def boom(part):
        if part.i.iloc[0] >= 20:
            raise RuntimeError("boom")
        return part

    df = sd.from_pandas(_frame(), npartitions=4).map_partitions(boom)
    with pytest.raises(RuntimeError, match="boom"):
        df.to_orc(str(tmp_path / "out"), write_index=False)
    assert os.listdir(tmp_path) == []


def test_compute_false_returns_delayed(tmp_path):
    df = sd.from_pandas(_frame(), npartitions=2)
    writes = df.to_orc(str(tmp_path / "out"), compute=False, write_index=False)
    assert not (tmp_path / "out").exists()
    import shoal

    shoal.compute(*writes)
    assert_eq(sd.read_orc(str(tmp_path / "out")), _frame(), check_index=False)


def test_bad_input(tmp_path):
    _frame().to_orc(tmp_path / "a.orc")
    path = str(tmp_path / "a.orc")
    with pytest.raises(FileNotFoundError, match="nope"):
        sd.read_orc(str(tmp_path / "nope.orc"))
    with pytest.raises(FileNotFoundError, match="no ORC files"):
        sd.read_orc(str(tmp_path / "*.nothing"))
    with pytest.raises(KeyError, match="'zz'"):
        sd.read_orc(path, columns=["x", "zz"])
    with pytest.raises(KeyError, match="index column 'zz'"):
        sd.read_orc(path, index="zz")
    with pytest.raises(ValueError, match="engine"):
        sd.read_orc(path, engine="fastorc")
    with pytest.raises(ValueError, match="split_stripes"):
        sd.read_orc(path, split_stripes=0)
    with pytest.raises(ValueError, match="aggregate_files must be True or False"):
        sd.read_orc(path, aggregate_files="x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        sd.from_pandas(_frame(), npartitions=1).to_orc(path)
    with pytest.raises(ValueError, match="already has"):
        sd.from_pandas(_frame().set_index("i").rename_axis("x"), npartitions=1).to_orc(str(tmp_path / "o"))
    other = tmp_path / "mixed"
    other.mkdir()
    _frame().to_orc(other / "a.orc")
    pd.DataFrame({"q": [1]}).to_orc(other / "b.orc")
    with pytest.raises(ValueError, match="differs from the first file"):
        sd.read_orc(str(other))


def _striped_files(directory, sizes: list[int]) -> list[str]:
    """ORC files of ``sizes`` rows, with stripes of about 1000 rows; ``x`` numbers the rows across files."""
    import pyarrow as pa

    paths, start = [], 0
    for k, n in enumerate(sizes):
        pdf = pd.DataFrame({"x": np.arange(start, start + n), "y": np.arange(n) * 0.5})
        start += n
        path = os.path.join(directory, f"f{k}.orc")
        orc.write_table(pa.Table.from_pandas(pdf, preserve_index=False), path, stripe_size=10_240, batch_size=1000)
        paths.append(path)
    return paths


def _expected_lengths(paths: list[str], split: int, aggregate: bool) -> list[int]:
    """Partition lengths by Dask's rule: ``split`` stripes each, across files too with ``aggregate``."""
    per_file = []
    for path in paths:
        reader = orc.ORCFile(path)
        per_file.append([reader.read_stripe(i).num_rows for i in range(reader.nstripes)])
    sequences = [[r for f in per_file for r in f]] if aggregate else per_file
    return [sum(seq[i:i + split]) for seq in sequences for i in range(0, len(seq), split)]


def test_aggregate_files_combines_stripes_across_files(tmp_path):
    paths = _striped_files(str(tmp_path), [5000, 2000, 0, 3500])
    assert [orc.ORCFile(p).nstripes for p in paths] == [5, 2, 0, 4]
    expected = pd.concat([pd.read_orc(p) for p in paths])
    for split, aggregate, nparts in ((2, False, 3 + 1 + 2), (2, True, 6), (3, True, 4), (4, False, 2 + 1 + 1),
                                     (4, True, 3), (100, True, 1), (1, True, 11), (False, True, 4)):
        df = sd.read_orc(str(tmp_path / "*.orc"), split_stripes=split, aggregate_files=aggregate)
        assert df.npartitions == nparts, (split, aggregate)
        assert_eq(df, expected, check_index=False)
        if split is not False:
            lengths = [int(n) for n in df.map_partitions(len).compute()]
            assert lengths == _expected_lengths(paths, split, aggregate)
    # Partition 1 of split_stripes=3 holds the last 2 stripes of f0 and the first of f1, in file order.
    part = sd.read_orc(str(tmp_path / "*.orc"), split_stripes=3, aggregate_files=True).partitions[1].compute()
    assert part.x.tolist() == list(range(3000, 6000))
    # Projection, the index and partition selection read only the pieces and columns asked for.
    df = sd.read_orc(str(tmp_path / "*.orc"), split_stripes=3, aggregate_files=True, index="x")
    assert_eq(df.y, expected.set_index("x").y, check_divisions=False)
    assert_eq(df.partitions[2:], expected.set_index("x").iloc[6000:], check_divisions=False)


@given(sizes=st.lists(st.integers(0, 4500), min_size=1, max_size=4), split=st.integers(1, 5),
       aggregate=st.booleans())
@settings(max_examples=15, deadline=None)
def test_split_and_aggregate_match_pandas(sizes, split, aggregate):
    with tempfile.TemporaryDirectory() as d:
        paths = _striped_files(d, sizes)
        expected = pd.concat([pd.read_orc(p) for p in paths]).reset_index(drop=True)
        df = sd.read_orc(paths, split_stripes=split, aggregate_files=aggregate)
        got = df.compute().reset_index(drop=True)
        lengths = [int(n) for n in df.map_partitions(len).compute()]
        want = _expected_lengths(paths, split, aggregate) or [0]  # no stripes at all: one empty partition
    pd.testing.assert_frame_equal(got, expected)
    assert lengths == want

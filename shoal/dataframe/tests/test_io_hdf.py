"""read_hdf / to_hdf against pandas on real HDF5 files (PyTables)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import shoal
import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

pytest.importorskip("tables")


def _frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "k": rng.integers(0, 5, n),
        "s": pd.array([f"s{k % 4}" for k in range(n)], dtype="str"),
    }, index=pd.Index(np.arange(n) * 3, name="i"))


def test_read_hdf_chunks_match_pandas(tmp_path):
    path = str(tmp_path / "a.h5")
    pdf = _frame()
    pdf.to_hdf(path, key="data", format="table")
    expected = pd.read_hdf(path, "data")
    df = sd.read_hdf(path, "data", chunksize=15)
    assert df.npartitions == 3
    assert df.divisions == (None,) * 4
    assert_eq(df, expected, check_divisions=False)
    assert df.compute().s.dtype == expected.s.dtype
    known = sd.read_hdf(path, "/data", chunksize=15, sorted_index=True)
    assert known.divisions == (0, 45, 90, 117)
    assert_eq(known, expected)
    assert_eq(known.loc[40:60], expected.loc[40:60])
    assert_eq(sd.read_hdf(path, "data", start=5, stop=33, chunksize=10), expected.iloc[5:33], check_divisions=False)
    assert_eq(sd.read_hdf(path, "data", columns=["s", "x"]), expected[["s", "x"]], check_divisions=False)
    assert_eq(sd.read_hdf(path, "data").k, expected.k, check_divisions=False)


def test_key_and_file_patterns(tmp_path):
    a, b = _frame(20), _frame(30)
    for name, frame in (("f0.h5", a), ("f1.h5", b)):
        frame.to_hdf(tmp_path / name, key="/data1", format="table")
        frame.x.to_hdf(tmp_path / name, key="/other", format="table")
        frame.iloc[:5].to_hdf(tmp_path / name, key="/data2", format="table")
    df = sd.read_hdf(str(tmp_path / "f*.h5"), "/data*", chunksize=100)
    assert df.npartitions == 4
    assert_eq(df, pd.concat([a, a.iloc[:5], b, b.iloc[:5]]), check_divisions=False)
    series = sd.read_hdf([str(tmp_path / "f0.h5"), str(tmp_path / "f1.h5")], "other")
    assert isinstance(series, sd.Series)
    assert_eq(series, pd.concat([a.x, b.x]), check_divisions=False)


def test_to_hdf_one_file_per_partition(tmp_path):
    pdf = _frame()
    df = sd.from_pandas(pdf, npartitions=3)
    paths = df.to_hdf(str(tmp_path / "out-*.h5"), "/data")
    assert [os.path.basename(p) for p in paths] == ["out-0.h5", "out-1.h5", "out-2.h5"]
    assert sorted(os.listdir(tmp_path)) == ["out-0.h5", "out-1.h5", "out-2.h5"]
    back = sd.read_hdf(str(tmp_path / "out-*.h5"), "/data", sorted_index=True)
    assert back.divisions == df.divisions
    assert_eq(back, pdf)


def test_to_hdf_one_file(tmp_path):
    pdf = _frame()
    path = str(tmp_path / "one.h5")
    df = sd.from_pandas(pdf, npartitions=4)
    assert df.to_hdf(path, "/data") == [path] * 4
    assert_eq(pd.read_hdf(path, "/data"), pdf)
    df.to_hdf(path, "/parts_*")
    with pd.HDFStore(path, mode="r") as store:
        assert sorted(store.keys()) == ["/data", "/parts_0", "/parts_1", "/parts_2", "/parts_3"]
    assert_eq(sd.read_hdf(path, "/parts_*", sorted_index=True), pdf)
    df.to_hdf(path, "/data", append=True)
    assert len(pd.read_hdf(path, "/data")) == 2 * len(pdf)
    df.to_hdf(path, "/fresh", mode="w")
    with pd.HDFStore(path, mode="r") as store:
        assert store.keys() == ["/fresh"]
    assert os.listdir(tmp_path) == ["one.h5"]


@given(case=frames(min_rows=1, max_rows=30, with_nan=False))
@settings(max_examples=10, deadline=None)
def test_round_trip_partitionings(case):
    pdf, nparts = case
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "h.h5")
        sd.from_pandas(pdf, npartitions=nparts).to_hdf(path, "/data", min_itemsize={"s": 8})
        back = sd.read_hdf(path, "/data", chunksize=7).compute()
    pd.testing.assert_frame_equal(back, pdf.sort_index() if pdf.index.name else pdf)


def test_failed_write_keeps_file(tmp_path):
    pdf = _frame()
    path = str(tmp_path / "keep.h5")
    pdf.to_hdf(path, key="old", format="table")

    def boom(part):
        if part.index[0] > 40:
            raise RuntimeError("boom")
        return part

    bad = sd.from_pandas(pdf, npartitions=3).map_partitions(boom)
    with pytest.raises(RuntimeError, match="boom"):
        bad.to_hdf(path, "/new")
    with pytest.raises(RuntimeError, match="boom"):
        bad.to_hdf(str(tmp_path / "p-*.h5"), "/new")
    assert os.listdir(tmp_path) == ["keep.h5"]
    with pd.HDFStore(path, mode="r") as store:
        assert store.keys() == ["/old"]


def test_compute_false(tmp_path):
    path = str(tmp_path / "lazy.h5")
    write = sd.from_pandas(_frame(), npartitions=2).to_hdf(path, "data", compute=False)
    assert not os.path.exists(path)
    shoal.compute(write)
    assert_eq(pd.read_hdf(path, "data"), _frame())


def test_bad_input(tmp_path):
    path = str(tmp_path / "a.h5")
    _frame().to_hdf(path, key="data", format="table")
    _frame().to_hdf(path, key="fixed", format="fixed")
    with pytest.raises(FileNotFoundError, match="nope"):
        sd.read_hdf(str(tmp_path / "nope.h5"), "data")
    with pytest.raises(KeyError, match="no key .* matches '/zz'"):
        sd.read_hdf(path, "zz")
    with pytest.raises(TypeError, match="fixed format"):
        sd.read_hdf(path, "fixed")
    with pytest.raises(KeyError, match="'zz'"):
        sd.read_hdf(path, "data", columns=["x", "zz"])
    with pytest.raises(ValueError, match="chunksize"):
        sd.read_hdf(path, "data", chunksize=0)
    with pytest.raises(ValueError, match="start <= stop"):
        sd.read_hdf(path, "data", start=5, stop=2)
    _frame().to_hdf(tmp_path / "b.h5", key="data", format="table")
    with pytest.raises(NotImplementedError, match="single file and key"):
        sd.read_hdf(str(tmp_path / "*.h5"), "data", start=1)
    df = sd.from_pandas(_frame(), npartitions=2)
    with pytest.raises(ValueError, match="one '\\*' at most"):
        df.to_hdf(str(tmp_path / "o-*.h5"), "/k-*")
    with pytest.raises(ValueError, match="format='fixed' can't append"):
        df.to_hdf(str(tmp_path / "o.h5"), "/k", format="fixed")
    with pytest.raises(ValueError, match="mode"):
        df.to_hdf(str(tmp_path / "o.h5"), "/k", mode="x")
    with pytest.raises(FileNotFoundError, match="r\\+"):
        df.to_hdf(str(tmp_path / "o.h5"), "/k", mode="r+")
    unsorted = tmp_path / "u.h5"
    _frame().iloc[::-1].to_hdf(unsorted, key="data", format="table")
    with pytest.raises(ValueError, match="not sorted"):
        sd.read_hdf(str(unsorted), "data", chunksize=10, sorted_index=True)


@pytest.mark.parametrize("column", ["x", "k", "s"])
def test_series_to_hdf_matches_pandas(tmp_path, column):
    ps = _frame()[column]
    s = sd.from_pandas(ps, npartitions=3)
    s.to_hdf(str(tmp_path / "shoal.h5"), "/data")
    ps.to_hdf(tmp_path / "pandas.h5", key="data", format="table")
    expected = pd.read_hdf(tmp_path / "pandas.h5", "data")
    pd.testing.assert_series_equal(pd.read_hdf(tmp_path / "shoal.h5", "data"), expected)
    back = sd.read_hdf(str(tmp_path / "shoal.h5"), "/data", chunksize=15, sorted_index=True)
    assert back.npartitions == 3
    assert_eq(back, ps)
    # One file per partition, and one key per partition.
    s.to_hdf(str(tmp_path / "p-*.h5"), "/data")
    assert_eq(sd.read_hdf(str(tmp_path / "p-*.h5"), "/data", sorted_index=True), ps)
    s.to_hdf(str(tmp_path / "keys.h5"), "/part_*", name_function=lambda i: f"{i:02d}")
    with pd.HDFStore(tmp_path / "keys.h5", mode="r") as store:
        assert store.keys() == ["/part_00", "/part_01", "/part_02"]
    assert_eq(sd.read_hdf(str(tmp_path / "keys.h5"), "/part_*"), ps, check_divisions=False)


@given(case=frames(min_rows=1, max_rows=30, with_nan=False))
@settings(max_examples=10, deadline=None)
def test_series_round_trip_partitionings(case):
    pdf, nparts = case
    for column in ("i", "x", "b"):
        ps = pdf[column]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.h5")
            sd.from_pandas(ps, npartitions=nparts, sort=False).to_hdf(path, "/data")
            ps.to_hdf(os.path.join(d, "p.h5"), key="data", format="table")
            pd.testing.assert_series_equal(pd.read_hdf(path, "data"), pd.read_hdf(os.path.join(d, "p.h5"), "data"))
            back = sd.read_hdf(path, "/data", chunksize=7).compute()
        pd.testing.assert_series_equal(back, ps)

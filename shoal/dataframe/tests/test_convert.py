from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


def _frame(n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.integers(0, 9, n), "b": rng.normal(size=n).round(3),
                         "s": rng.choice(["x", "yy"], n)})


# -- to arrays --------------------------------------------------------------------------------------
@given(n=st.integers(1, 40), parts=st.integers(1, 6), lengths=st.sampled_from([None, True, "list"]))
@settings(max_examples=25, deadline=None)
def test_to_dask_array_matches_to_numpy(n, parts, lengths):
    pdf = _frame(n)[["a", "b"]]
    df = sd.from_pandas(pdf, npartitions=parts)
    if lengths == "list":
        lengths = [len(p) for p in (df.partitions[i].compute() for i in range(df.npartitions))]
    arr = df.to_dask_array(lengths=lengths)
    assert isinstance(arr, sa.Array)
    assert arr.dtype == pdf.to_numpy().dtype
    if lengths is None:
        assert all(math.isnan(c) for c in arr.chunks[0])
    else:
        assert sum(arr.chunks[0]) == n and arr.shape == pdf.shape
    np.testing.assert_array_equal(arr.compute(), pdf.to_numpy())
    series = df.b.to_dask_array(lengths=lengths)
    assert series.ndim == 1
    np.testing.assert_array_equal(series.compute(), pdf.b.to_numpy())


def test_values_and_lengths_true_allow_array_operations():
    pdf = _frame()[["a", "b"]]
    df = sd.from_pandas(pdf, npartitions=3)
    assert math.isnan(df.values.shape[0])
    np.testing.assert_array_equal(df.values.compute(), pdf.values)
    arr = df.to_dask_array(lengths=True)
    np.testing.assert_allclose((arr[5:20] * 2).sum(axis=0).compute(), (pdf.values[5:20] * 2).sum(axis=0))
    # The lazy plan of the frame still applies: filtering before converting.
    filtered = df[df.a > 3].to_dask_array(lengths=True)
    np.testing.assert_array_equal(filtered.compute(), pdf[pdf.a > 3].to_numpy())
    assert sum(filtered.chunks[0]) == int((pdf.a > 3).sum())


def test_to_dask_array_errors():
    df = sd.from_pandas(_frame(), npartitions=3)
    with pytest.raises(ValueError, match="3 partitions"):
        df.to_dask_array(lengths=[1, 2])
    with pytest.raises(ValueError, match=r"partition \d has 10 rows"):
        df[["a"]].to_dask_array(lengths=[1, 1, 1]).compute()
    with pytest.raises(TypeError, match="lengths"):
        df.to_dask_array(lengths="yes")


def test_to_records():
    pdf = _frame()
    df = sd.from_pandas(pdf, npartitions=4)
    got = df.to_records(lengths=True).compute()
    want = pdf.to_records()  # the index too: pandas' default, and Dask's
    assert got.dtype == want.dtype
    for name in want.dtype.names:
        np.testing.assert_array_equal(got[name], want[name])
    with_index = sd.to_records(df).compute()
    assert len(with_index) == len(pdf)
    assert df.to_records(index=True).compute()["index"].tolist() == list(pdf.index)


# -- from arrays ------------------------------------------------------------------------------------
@given(n=st.integers(0, 50), width=st.integers(1, 4), chunksize=st.integers(1, 20))
@settings(max_examples=25, deadline=None)
def test_from_numpy_array_matches_pandas(n, width, chunksize):
    x = np.arange(n * width, dtype="f8").reshape(n, width)
    names = [f"c{i}" for i in range(width)]
    df = sd.from_array(x, chunksize=chunksize, columns=names)
    assert_eq(df, pd.DataFrame(x, columns=names))
    assert_eq(sd.from_array(x[:, 0], chunksize=chunksize), pd.Series(x[:, 0]))


@given(n=st.integers(1, 50), width=st.integers(1, 4), rows=st.integers(1, 20), cols=st.integers(1, 3))
@settings(max_examples=25, deadline=None)
def test_from_shoal_array_matches_pandas(n, width, rows, cols):
    x = np.arange(n * width).reshape(n, width)
    arr = sa.from_array(x, chunks=(rows, cols))
    df = sd.from_array(arr, columns=list("abcd")[:width])
    assert df.npartitions == len(arr.chunks[0])
    assert df.known_divisions
    assert_eq(df, pd.DataFrame(x, columns=list("abcd")[:width]))
    series = sd.from_array(arr[:, 0], columns="v")
    assert_eq(series, pd.Series(x[:, 0], name="v"))


def test_from_array_records_and_unknown_chunks():
    rec = np.array([(1, 2.0), (3, 4.0), (5, 6.0)], dtype=[("i", "i8"), ("f", "f8")])
    assert_eq(sd.from_array(rec, chunksize=2), pd.DataFrame(rec))
    arr = sa.from_array(np.arange(10), chunks=4)
    unknown = arr[arr > 2]
    df = sd.from_array(unknown, columns="v")
    assert not df.known_divisions
    assert sorted(df.compute().tolist()) == list(range(3, 10))


def test_from_array_round_trip_and_errors():
    pdf = _frame()[["a", "b"]].astype("f8")
    back = sd.from_array(sd.from_pandas(pdf, npartitions=3).to_dask_array(lengths=True), columns=["a", "b"])
    assert_eq(back, pdf)
    with pytest.raises(ValueError, match="2 columns, but columns= names 3"):
        sd.from_array(np.zeros((4, 2)), columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="1-d or 2-d"):
        sd.from_array(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="from_pandas"):
        sd.from_array(pdf)


# -- JSON and tables --------------------------------------------------------------------------------
@pytest.mark.parametrize("orient, lines", [("records", True), ("records", False), ("split", False)])
def test_json_round_trip(tmp_path, orient, lines):
    pdf = _frame()
    df = sd.from_pandas(pdf, npartitions=3)
    paths = df.to_json(str(tmp_path / "*.json"), orient=orient, lines=lines)
    assert [os.path.basename(p) for p in paths] == ["0.json", "1.json", "2.json"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    back = sd.read_json(str(tmp_path / "*.json"), orient=orient, lines=lines)
    assert back.npartitions == 3
    assert_eq(back, pdf.reset_index(drop=True), check_index=False)


def test_read_json_blocksize_splits_lines(tmp_path):
    pdf = _frame(500)
    pdf.to_json(tmp_path / "one.json", orient="records", lines=True)
    df = sd.read_json(str(tmp_path / "one.json"), blocksize=2000)
    assert df.npartitions > 3
    assert_eq(df, pdf, check_index=False)
    assert len(df) == 500
    with_path = sd.read_json(str(tmp_path / "*.json"), include_path_column=True)
    assert with_path.path.compute().nunique() == 1
    with pytest.raises(ValueError, match="lines=True"):
        sd.read_json(str(tmp_path / "one.json"), lines=False, blocksize=100)


def test_to_json_directory_compute_false_and_mismatch(tmp_path):
    df = sd.from_pandas(_frame(), npartitions=2)
    writes = df.to_json(str(tmp_path / "out"), compute=False)
    assert len(writes) == 2 and not os.listdir(tmp_path / "out")
    for w in writes:
        w.compute()
    assert sorted(os.listdir(tmp_path / "out")) == ["0.part", "1.part"]
    pd.DataFrame({"other": [1]}).to_json(tmp_path / "out" / "2.part", orient="records", lines=True)
    mixed = sd.read_json(str(tmp_path / "out" / "*.part"))
    with pytest.raises(ValueError, match="same fields"):
        mixed.compute()


def test_read_table(tmp_path):
    pdf = _frame(200)
    pdf.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    df = sd.read_table(str(tmp_path / "t.tsv"), blocksize=1000)
    assert df.npartitions > 1
    assert_eq(df, pdf, check_index=False)

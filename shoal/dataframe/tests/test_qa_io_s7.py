"""QA gaps against Dask in the readers and writers: read_parquet(calculate_divisions=, keywords),
to_parquet(append=, overwrite=), read_csv(assume_missing=, sample_rows=, header=None, names=)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq
from shoal.delayed import Delayed


def _files(tmp_path, parts, **kwargs):
    for i, part in enumerate(parts):
        part.to_parquet(tmp_path / f"part.{i}.parquet", **kwargs)
    return str(tmp_path)


def _indexed(labels):
    return pd.DataFrame({"x": np.arange(len(labels), dtype="int64")}, index=pd.Index(labels, name="i"))


# -- read_parquet(calculate_divisions=True) ---------------------------------------------------------------------------

@pytest.mark.parametrize("labels", [
    [[0, 1, 4], [5, 9], [12]],
    [["a", "b"], ["c", "q"]],
    [list(pd.date_range("2024", periods=3, tz="UTC")), list(pd.date_range("2025", periods=2, tz="UTC"))],
])
def test_calculate_divisions_from_index_statistics(tmp_path, labels):
    parts = [_indexed(pd.Index(ls)) for ls in labels]
    path = _files(tmp_path, parts)
    whole = pd.concat(parts)
    assert sd.read_parquet(path).divisions == (None,) * (len(parts) + 1)  # Dask's default: not read
    df = sd.read_parquet(path, calculate_divisions=True)
    assert df.divisions == (*(p.index.min() for p in parts), parts[-1].index.max())
    assert_eq(df, whole)
    some = whole.index[1:3]
    assert_eq(df.loc[some[0]:some[-1]], whole.loc[some[0]:some[-1]])


def test_calculate_divisions_named_index_column_row_groups_and_filters(tmp_path):
    pdf = pd.DataFrame({"k": np.arange(10) * 2, "x": np.arange(10)})
    pdf.to_parquet(tmp_path / "a.parquet", index=False, row_group_size=3)
    df = sd.read_parquet(str(tmp_path), index="k", calculate_divisions=True, split_row_groups=True)
    assert df.divisions == (0, 6, 12, 18, 18)  # as Dask gives for these row groups
    assert_eq(df, pdf.set_index("k"))
    two = sd.read_parquet(str(tmp_path), index="k", calculate_divisions=True, split_row_groups=2)
    assert two.npartitions == 2 and two.divisions == (0, 12, 18)
    filtered = sd.read_parquet(str(tmp_path), index="k", calculate_divisions=True, split_row_groups=True,
                               filters=[("x", ">", 4)])
    assert filtered.divisions == (6, 12, 18, 18)
    assert_eq(filtered, pdf[pdf.x > 4].set_index("k"))
    pushed = df[df.x > 4]  # the filter is pushed into the reader, which drops row groups
    assert_eq(pushed, pdf[pdf.x > 4].set_index("k"))
    assert pushed.optimize().known_divisions


@pytest.mark.parametrize("labels", [
    [[0, 1, 5], [5, 6]],        # a value in two files: Dask calls this sorted, but loc[5] would miss a row
    [[0, 1, 6], [5, 7]],        # overlapping
    [[5, 6], [0, 1]],           # files out of order
    [[0.0, np.nan], [5.0, 6.0]],  # nulls are not in the statistics
])
def test_calculate_divisions_unknown_when_not_sorted(tmp_path, labels):
    parts = [_indexed(pd.Index(ls)) for ls in labels]
    df = sd.read_parquet(_files(tmp_path, parts), calculate_divisions=True)
    assert not df.known_divisions
    assert_eq(df, pd.concat(parts), check_divisions=False)


def test_calculate_divisions_drops_empty_files_and_needs_an_index(tmp_path):
    parts = [_indexed(pd.Index([0, 1])), _indexed(pd.Index([], dtype="int64")), _indexed(pd.Index([5, 6]))]
    os.makedirs(tmp_path / "a")
    df = sd.read_parquet(_files(tmp_path / "a", parts), calculate_divisions=True)
    assert df.divisions == (0, 5, 6)
    assert_eq(df, pd.concat(parts))
    os.makedirs(tmp_path / "b")
    plain = [pd.DataFrame({"k": [1, 2]}), pd.DataFrame({"k": [3, 4]})]  # a RangeIndex: stored as metadata only
    assert not sd.read_parquet(_files(tmp_path / "b", plain), calculate_divisions=True).known_divisions


def test_read_parquet_keywords(tmp_path):
    path = _files(tmp_path, [_indexed(pd.Index([0, 1]))])
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        sd.read_parquet(path, bogus=1)
    with pytest.raises(TypeError, match="calculate_divisions"):
        sd.read_parquet(path, gather_statistics=True)
    with pytest.raises(NotImplementedError, match="split_row_groups"):
        sd.read_parquet(path, blocksize="1MB")
    # Dask's keywords that only tune its planning are accepted.
    df = sd.read_parquet(path, ignore_metadata_file=True, metadata_task_size=4, aggregate_files=None,
                         engine="pyarrow", filesystem="fsspec", dataset={"partitioning": "hive"})
    assert_eq(df, _indexed(pd.Index([0, 1])), check_divisions=False)
    # Files without a Parquet extension (markers, notes) are skipped, as Dask skips them.
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / "notes.txt").write_text("not parquet")
    assert len(sd.read_parquet(path)) == 2
    with pytest.raises(Exception):  # noqa: B017 - Arrow's own error for a file that is not Parquet
        sd.read_parquet(path, parquet_file_extension=None).compute()


# -- to_parquet(append=, overwrite=) ---------------------------------------------------------------------------------

def test_to_parquet_returns_none_and_compute_false_is_lazy(tmp_path):
    df = sd.from_pandas(pd.DataFrame({"x": range(6)}), npartitions=2)
    assert df.to_parquet(str(tmp_path / "a")) is None
    lazy = df.to_parquet(str(tmp_path / "b"), compute=False)
    assert isinstance(lazy, Delayed) and not os.path.exists(tmp_path / "b")
    assert lazy.compute() is None
    assert sorted(os.listdir(tmp_path / "b")) == ["part.0.parquet", "part.1.parquet"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        df.to_parquet(str(tmp_path / "c"), bogus=1)


def test_to_parquet_append(tmp_path):
    path = str(tmp_path / "ds")
    first = pd.DataFrame({"x": range(6), "s": list("abcdef")})
    second = pd.DataFrame({"x": range(6, 10), "s": list("ghij")}, index=range(6, 10))
    sd.from_pandas(first, npartitions=2).to_parquet(path)
    sd.from_pandas(second, npartitions=2).to_parquet(path, append=True)
    assert sorted(os.listdir(path)) == [f"part.{i}.parquet" for i in range(4)]
    assert_eq(sd.read_parquet(path, calculate_divisions=True), pd.concat([first, second]))
    overlapping = sd.from_pandas(pd.DataFrame({"x": [1], "s": ["z"]}, index=[9]), npartitions=1)
    with pytest.raises(ValueError, match="ignore_divisions=True"):
        overlapping.to_parquet(path, append=True)
    overlapping.to_parquet(path, append=True, ignore_divisions=True)
    assert len(sd.read_parquet(path)) == 11 and "part.4.parquet" in os.listdir(path)
    wrong_type = sd.from_pandas(pd.DataFrame({"x": [1.5], "s": ["z"]}, index=[20]), npartitions=1)
    with pytest.raises(ValueError, match="column 'x' is double"):
        wrong_type.to_parquet(path, append=True)
    wrong_columns = sd.from_pandas(pd.DataFrame({"y": [1]}, index=[20]), npartitions=1)
    with pytest.raises(ValueError, match=r"missing \['s', 'x'\], new \['y'\]"):
        wrong_columns.to_parquet(path, append=True)
    with pytest.raises(ValueError, match="not both"):
        wrong_columns.to_parquet(path, append=True, overwrite=True)
    assert len(sd.read_parquet(path)) == 11  # the refused appends wrote nothing
    # Appending to a path with no dataset yet just writes one.
    sd.from_pandas(first, npartitions=1).to_parquet(str(tmp_path / "new"), append=True)
    assert_eq(sd.read_parquet(str(tmp_path / "new")), first, check_divisions=False)


def test_to_parquet_overwrite(tmp_path, monkeypatch):
    path = str(tmp_path / "ds")
    pdf = pd.DataFrame({"x": range(20)})
    df = sd.from_pandas(pdf, npartitions=4)
    df.to_parquet(path)
    df.head(5, compute=False).to_parquet(path, overwrite=True)
    assert os.listdir(path) == ["part.0.parquet"] and os.listdir(tmp_path) == ["ds"]
    assert_eq(sd.read_parquet(path), pdf.head(5), check_divisions=False)
    # Reading from the path being overwritten reads the old files to the end.
    back = sd.read_parquet(path)
    back.assign(y=back.x * 2).to_parquet(path, overwrite=True)
    assert_eq(sd.read_parquet(path), pdf.head(5).assign(y=pdf.x.head(5) * 2), check_divisions=False)

    def fail(part):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        df.map_partitions(fail, meta=df._meta).to_parquet(path, overwrite=True)
    assert len(sd.read_parquet(path)) == 5 and os.listdir(tmp_path) == ["ds"]
    monkeypatch.chdir(path)
    with pytest.raises(ValueError, match="working directory"):
        df.to_parquet(path, overwrite=True)


# -- read_csv -----------------------------------------------------------------------------------------------------

@pytest.fixture
def csv_path(tmp_path):
    n = 3000
    frame = pd.DataFrame({"a": np.arange(n), "b": np.where(np.arange(n) < 2500, 1, 1.5), "c": ["x"] * (n - 1) + [None]})
    path = str(tmp_path / "big.csv")
    frame.to_csv(path, index=False)
    return path


def test_read_csv_assume_missing_and_sample_rows(csv_path):
    df = sd.read_csv(csv_path, blocksize=8000, assume_missing=True)
    assert df.npartitions > 2
    assert_eq(df, pd.read_csv(csv_path, dtype={"a": "float64"}), check_index=False)
    kept = sd.read_csv(csv_path, blocksize=8000, assume_missing=True, dtype={"a": "int64"})
    assert kept.a.dtype == "int64"
    assert_eq(sd.read_csv(csv_path, blocksize=8000, sample_rows=5000), pd.read_csv(csv_path), check_index=False)
    with open(csv_path.replace("big", "late"), "w") as f:
        f.write("a,b\n" + "".join(f"{i},{i}\n" for i in range(20)) + "20,2.5\n")
    # As in Dask, the dtypes come from the first sample_rows rows only: here they miss the float.
    assert sd.read_csv(csv_path.replace("big", "late"), sample_rows=10).b.dtype == "int64"
    assert sd.read_csv(csv_path.replace("big", "late")).b.dtype == "float64"


@pytest.mark.parametrize("kwargs", [
    {"header": None, "skiprows": 1, "names": ["p", "q", "r"]},
    {"header": 0, "names": ["p", "q", "r"]},
    {"skiprows": 2},
    {"header": 3},
    {"header": None, "skiprows": 1},
])
def test_read_csv_header_names_skiprows_across_blocks(csv_path, kwargs):
    df = sd.read_csv(csv_path, blocksize=8000, **kwargs)
    assert df.npartitions > 2
    assert_eq(df, pd.read_csv(csv_path, **kwargs), check_index=False)


def test_read_csv_unknown_keyword_is_a_type_error(csv_path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'not_a_kw'"):
        sd.read_csv(csv_path, not_a_kw=1)
    with pytest.raises(ValueError, match="several header rows"):
        sd.read_csv(csv_path, header=[0, 1])

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as sd
from shoal.dataframe._lower import walk
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def csv_files(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(3):
        pdf = pd.DataFrame({
            "a": rng.integers(0, 100, 400),
            "b": rng.normal(size=400).round(4),
            "s": rng.choice(["x", "yy", "zzz"], 400),
            "d": pd.date_range(f"202{i}-01-01", periods=400, freq="h").astype(str),
        })
        pdf.to_csv(tmp_path / f"f{i}.csv", index=False)
        frames.append(pdf)
    return tmp_path, frames


def _expected(frames, **kwargs):
    return pd.concat(frames, ignore_index=True)


def test_read_csv_glob_blocks_match_pandas(csv_files):
    path, frames = csv_files
    df = sd.read_csv(str(path / "*.csv"), blocksize=3000)
    assert df.npartitions > 3  # files were split on line boundaries
    assert_eq(df, _expected(frames), check_index=False)
    assert len(df) == 1200
    listed = sd.read_csv([str(path / "f0.csv"), str(path / "f2.csv")], blocksize=None)
    assert listed.npartitions == 2
    assert_eq(listed, pd.concat([frames[0], frames[2]], ignore_index=True), check_index=False)


def test_read_csv_options(csv_files):
    path, frames = csv_files
    full = _expected(frames)
    df = sd.read_csv(str(path / "*.csv"), blocksize=5000, parse_dates=["d"], dtype={"a": "float64"})
    want = full.astype({"a": "float64"}).assign(d=pd.to_datetime(full.d))
    assert_eq(df, want, check_index=False)
    cols = sd.read_csv(str(path / "*.csv"), usecols=["a", "s"])
    assert list(cols.columns) == ["a", "s"]
    assert_eq(cols, full[["a", "s"]], check_index=False)
    with_path = sd.read_csv(str(path / "*.csv"), include_path_column=True)
    counts = with_path.path.compute().value_counts()
    assert sorted(counts.tolist()) == [400, 400, 400]
    assert with_path.path.dtype == "category"


def test_read_csv_projection_reaches_the_reader(csv_files):
    path, frames = csv_files
    df = sd.read_csv(str(path / "*.csv"), blocksize=5000)
    plan = df[df.a > 50].b.optimize()
    readers = [e for e in walk(plan._expr) if type(e).__name__ == "ReadCSV"]
    assert readers[0].columns == ["a", "b"]
    full = _expected(frames)
    assert_eq(df[df.a > 50].b.sum(), full[full.a > 50].b.sum())
    # head reads the first block only
    head_plan = df.head(3, compute=False).optimize()
    assert [e.npartitions for e in walk(head_plan._expr) if type(e).__name__ == "ReadCSV"] == [1]
    pd.testing.assert_frame_equal(df.head(3), full.head(3))


def test_read_csv_compressed(tmp_path):
    pdf = pd.DataFrame({"x": range(100), "y": ["a"] * 100})
    pdf.to_csv(tmp_path / "data.csv.gz", index=False)
    df = sd.read_csv(str(tmp_path / "*.csv.gz"), blocksize=100)
    assert df.npartitions == 1
    assert_eq(df, pdf, check_index=False)


def test_read_csv_dtype_disagreement_names_column_and_file(tmp_path):
    with open(tmp_path / "bad.csv", "w") as f:
        f.write("a,b\n" + "1,2\n" * 5000 + "1.5,2\n")
    df = sd.read_csv(str(tmp_path / "bad.csv"), blocksize=5000, sample=1000)
    with pytest.raises(ValueError, match=r"column 'a': expected int64, found float64.*dtype=\{'a': 'float64'\}") \
            as info:
        df.compute(scheduler="sync")
    assert "bad.csv" in str(info.value)
    fixed = sd.read_csv(str(tmp_path / "bad.csv"), blocksize=5000, sample=1000, dtype={"a": "float64"})
    assert fixed.a.sum().compute() == 5001.5


def test_read_csv_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no files match"):
        sd.read_csv(str(tmp_path / "*.csv"))


def test_to_csv_round_trip(tmp_path):
    pdf = pd.DataFrame({"x": range(10), "y": list("abcdefghij")})
    df = sd.from_pandas(pdf, npartitions=3)
    paths = df.to_csv(str(tmp_path / "out" / "part-*.csv"), index=False)
    assert len(paths) == 3 and all(os.path.exists(p) for p in paths)
    assert not [p for p in os.listdir(tmp_path / "out") if p.endswith(".tmp")]
    assert_eq(sd.read_csv(str(tmp_path / "out" / "*.csv")), pdf, check_index=False)
    single = df.to_csv(str(tmp_path / "one.csv"), single_file=True, index=False)
    pd.testing.assert_frame_equal(pd.read_csv(single[0]), pdf)


def test_parquet_round_trip_filters_and_columns(tmp_path):
    rng = np.random.default_rng(0)
    pdf = pd.DataFrame({"a": np.arange(1000), "b": rng.normal(size=1000), "s": rng.choice(["x", "yy"], 1000)})
    df = sd.from_pandas(pdf, npartitions=4)
    assert df.to_parquet(str(tmp_path / "ds"), row_group_size=50) is None  # as Dask
    assert len(list((tmp_path / "ds").glob("*.parquet"))) == 4
    back = sd.read_parquet(str(tmp_path / "ds"))
    assert back.npartitions == 4
    assert_eq(back, pdf)
    # Row-group statistics skip everything below a >= 900: one file, two row groups.
    filtered = sd.read_parquet(str(tmp_path / "ds"), filters=[("a", ">=", 900)], split_row_groups=True)
    assert filtered.npartitions == 2
    assert_eq(filtered, pdf[pdf.a >= 900])
    cols = sd.read_parquet(str(tmp_path / "ds"), columns=["b"], filters=[("a", ">=", 900)])
    assert cols.npartitions == 1
    assert_eq(cols, pdf[pdf.a >= 900][["b"]])
    plan = back[back.a % 2 == 0].b.optimize()
    readers = [e for e in walk(plan._expr) if type(e).__name__ == "ReadParquet"]
    assert readers[0].columns == ["a", "b"]
    # A simple comparison is pushed into the reader, which then needs only the output column.
    plan = back[back.a > 5].b.optimize()
    readers = [e for e in walk(plan._expr) if type(e).__name__ == "ReadParquet"]
    assert readers[0].columns == ["b"] and readers[0].filters == [("a", ">", 5)]
    with pytest.raises(KeyError, match="nope"):
        sd.read_parquet(str(tmp_path / "ds"), columns=["nope"])


def test_parquet_partition_on_and_index(tmp_path):
    pdf = pd.DataFrame({"a": np.arange(20), "s": ["x", "y"] * 10})
    sd.from_pandas(pdf, npartitions=2).to_parquet(str(tmp_path / "hive"), partition_on=["s"], write_index=False)
    back = sd.read_parquet(str(tmp_path / "hive"))
    got = back.compute().sort_values("a").reset_index(drop=True)
    assert got.a.tolist() == list(range(20))
    assert got.s.astype(str).tolist() == pdf.s.tolist()
    only_x = sd.read_parquet(str(tmp_path / "hive"), filters=[("s", "==", "x")])
    assert len(only_x) == 10
    sd.from_pandas(pdf, npartitions=2).to_parquet(str(tmp_path / "plain"), write_index=False)
    indexed = sd.read_parquet(str(tmp_path / "plain"), index="a")
    assert indexed.compute().index.tolist() == list(range(20))


def test_read_csv_tiny_blocks_keep_every_line(tmp_path):
    pdf = pd.DataFrame({"a": range(50), "long": ["x" * 40] * 50})
    pdf.to_csv(tmp_path / "t.csv", index=False)
    # Blocks smaller than a line: some hold no line start at all.
    df = sd.read_csv(str(tmp_path / "t.csv"), blocksize=16)
    assert df.npartitions > 50
    assert_eq(df, pdf, check_index=False)


def test_parquet_predicate_pushdown(tmp_path):
    pdf = pd.DataFrame({"a": np.arange(1000), "b": np.arange(1000) * 0.5, "s": ["x", "y"] * 500})
    sd.from_pandas(pdf, npartitions=4).to_parquet(str(tmp_path / "ds"), row_group_size=100)
    df = sd.read_parquet(str(tmp_path / "ds"))
    query = df[(df.a >= 850) & (df.s == "x")].b
    plan = query.optimize()
    readers = [e for e in walk(plan._expr) if type(e).__name__ == "ReadParquet"]
    assert len(readers) == 1
    reader = readers[0]
    assert reader.filters == [("a", ">=", 850), ("s", "==", "x")]
    assert reader.npartitions == 1  # only the last file has row groups with a >= 850
    assert sum(len(f.row_groups) for f in reader.fragments) == 2
    assert_eq(query, pdf[(pdf.a >= 850) & (pdf.s == "x")].b)
    # Predicates that are not simple comparisons stay as a filter step.
    odd = df[df.a % 7 == 0]
    assert_eq(odd, pdf[pdf.a % 7 == 0])
    both = df[df.a > 990]
    assert_eq(both[["a"]], pdf[pdf.a > 990][["a"]])


def test_parquet_not_equal_keeps_missing_values(tmp_path):
    pdf = pd.DataFrame({"x": [1.0, np.nan, 5.0, 7.0]})
    sd.from_pandas(pdf, npartitions=1).to_parquet(str(tmp_path / "ds"))
    df = sd.read_parquet(str(tmp_path / "ds"))
    assert_eq(df[df.x != 5.0], pdf[pdf.x != 5.0])
    assert_eq(df[df.x > 1.0], pdf[pdf.x > 1.0])


@pytest.mark.parametrize("filters", [
    [("x", ">", 2)], [("x", "<=", 2.5)], [("s", "==", "b")], [("s", "!=", "b")], [("x", "in", [1, 3])],
    [("s", "not in", ["a"])], [[("x", ">", 3)], [("s", "==", "a"), ("y", "<", 0.5)]], [("x", ">", 2.5)],
])
def test_read_parquet_fast_filters_agree_with_the_dataset_scanner(tmp_path, filters):
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    pdf = pd.DataFrame({"x": pd.array([1, 2, None, 3, 4, 5], dtype="Int64"),
                        "s": pd.array(["a", "b", None, "a", "c", "b"], dtype=object),
                        "y": [0.1, 0.9, 0.4, np.nan, 0.2, 0.7]})
    pdf.to_parquet(tmp_path / "f.parquet", index=False, row_group_size=2)
    got = sd.read_parquet(str(tmp_path / "f.parquet"), filters=filters).compute()
    want = ds.dataset(str(tmp_path / "f.parquet")).to_table(filter=pq.filters_to_expression(filters)).to_pandas()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))

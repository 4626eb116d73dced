"""Issue 5's "Bad input" list for dataframes: errors at build time where metadata allows, else clear at compute."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def pdf():
    return pd.DataFrame({"k": [1, 2, 1, 3, 2, 1], "x": np.arange(6.0), "s": list("abcabc")})


@pytest.fixture
def df(pdf):
    return sd.from_pandas(pdf, npartitions=3)


# -- a column that does not exist: KeyError when the plan is built ---------------------------------

@pytest.mark.parametrize("build", [
    lambda df: df[["x", "nope"]],
    lambda df: df.astype({"nope": "f8"}),
    lambda df: df.drop(columns=["nope"]),
    lambda df: df.groupby(["k", "nope"]),
    lambda df: df.groupby("k")[["x", "nope"]],
    lambda df: df.groupby("k").agg({"nope": "sum"}),
])
def test_missing_column_is_a_key_error_naming_it(df, build):
    with pytest.raises(KeyError, match=r"nope.*Available columns: \['k', 'x', 's'\]"):
        build(df)


def test_missing_column_in_pivot_table_and_rolling(df):
    with pytest.raises(ValueError, match="'columns' must be the name of one existing column, got 'nope'"):
        df.pivot_table(index="k", columns="nope", values="x")
    with pytest.raises(KeyError, match="nope"):
        df.groupby("k")["nope"].rolling(2)


# -- a bad meta ---------------------------------------------------------------------------------------

def test_meta_of_the_wrong_type_fails_at_build_time(df):
    with pytest.raises(TypeError, match=r"meta must be a pandas object.*got int: 42"):
        df.map_partitions(lambda p: p, meta=42)


def test_meta_with_other_columns_fails_at_compute_naming_them(df):
    wrong = df.map_partitions(lambda p: p[["x", "k"]], meta={"x": "f8", "z": "i8"})
    with pytest.raises(ValueError, match=r"extra: \['k'\], missing: \['z'\].*Pass meta="):
        wrong.compute()
    reordered = df.map_partitions(lambda p: p[["k", "x"]], meta={"x": "f8", "k": "i8"})
    with pytest.raises(ValueError, match="other order"):
        reordered.compute()
    frame_for_series = df.map_partitions(lambda p: p[["x"]], meta=("x", "f8"))
    with pytest.raises(ValueError, match="returned a DataFrame with columns \\['x'\\].*meta= says a Series"):
        frame_for_series.compute()
    # The check can be switched off, as in Dask.
    loose = df.map_partitions(lambda p: p[["x", "k"]], meta={"x": "f8", "z": "i8"}, enforce_metadata=False)
    assert list(loose.compute().columns) == ["x", "k"]


def test_meta_renames_series_like_dask(df, pdf):
    out = df.map_partitions(lambda p: p.x * 2, meta=("doubled", "f8"))
    pd.testing.assert_series_equal(out.compute(), (pdf.x * 2).rename("doubled"))


def test_meta_that_cannot_be_inferred_asks_for_meta(df):
    def needs_rows(p):
        return p.iloc[[0]].assign(first=lambda f: f.x.iloc[5])

    with pytest.raises(ValueError, match=r"could not infer the output.*Pass meta="):
        df.map_partitions(needs_rows)


# -- mismatched partitions and divisions: ValueError at build time ---------------------------------------

def test_mismatched_partitions_and_divisions(df, pdf):
    fewer = sd.from_pandas(pdf, npartitions=2)
    # Operators align known divisions first, as in Dask; without known divisions there is nothing to align on.
    assert_eq(df.x + fewer.x, pdf.x + pdf.x)
    with pytest.raises(ValueError, match=r"divisions.*set_index\(\.\.\., sorted=True\).*repartition"):
        df.clear_divisions().x + fewer.clear_divisions().x
    # assign aligns at the union of divisions, as Dask does.
    assert_eq(df.assign(y=fewer.x), pdf.assign(y=pdf.x))
    shifted = sd.from_pandas(pdf.set_index(pdf.index * 10), npartitions=3)
    with pytest.raises(ValueError, match="same partitions"):
        df.groupby(fewer.k).x.sum()
    with pytest.raises(ValueError, match="same divisions"):
        df.map_partitions(lambda a, b: a, shifted)


# -- malformed files: the error names the file -----------------------------------------------------------

def test_malformed_csv_names_the_file(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("x,y\n1,2,5,6\n3,4\n")
    with pytest.raises(pd.errors.ParserError, match=r"b\.csv.*malformed row: more fields than the 2 columns"):
        sd.read_csv(str(tmp_path / "*.csv")).compute()
    (tmp_path / "b.csv").write_text("x,y\n1,2\n3,4,5\n")
    with pytest.raises(pd.errors.ParserError, match=r"b\.csv.*malformed row.*Expected 2 fields"):
        sd.read_csv(str(tmp_path / "*.csv")).compute()


def test_malformed_parquet_names_the_file(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")
    with pytest.raises(Exception, match="bad.parquet"):
        sd.read_parquet(str(path)).compute()


def test_csv_dtype_change_between_files_names_file_and_column(tmp_path):
    pd.DataFrame({"a": [1, 2], "b": [1, 2]}).to_csv(tmp_path / "1.csv", index=False)
    pd.DataFrame({"a": [1.5, 2], "b": [1, 2]}).to_csv(tmp_path / "2.csv", index=False)
    with pytest.raises(ValueError, match=r"2.csv.*column 'a'.*dtype="):
        sd.read_csv(str(tmp_path / "*.csv")).compute()


def test_parquet_dtype_change_between_files_names_file_and_column(tmp_path):
    os.makedirs(tmp_path / "pq")
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "pq" / "part.0.parquet")
    pd.DataFrame({"a": ["x", "y"]}).to_parquet(tmp_path / "pq" / "part.1.parquet")
    with pytest.raises(Exception, match=r"part.1.parquet.*'a'"):
        sd.read_parquet(str(tmp_path / "pq")).compute()


# -- a failed write leaves nothing that looks like a complete dataset ----------------------------------------

class _FailAfterOthersWrote:
    """Raise on the last partition, but only once another partition's file is in ``directory`` (bounded wait).

    That makes "some partitions were written, then the job failed" happen whatever order the scheduler picks.
    """

    def __init__(self, directory) -> None:
        self.directory = directory

    def __call__(self, p):
        if len(p) and p.x.iloc[0] >= 4:
            deadline = time.monotonic() + 10
            while self.directory is not None and time.monotonic() < deadline and not self._others_wrote():
                time.sleep(0.01)
            raise RuntimeError("boom")
        return p

    def _others_wrote(self) -> bool:
        # Writers stage their files under temporary names (or a hidden sibling directory): any file counts.
        return any(files for _, _, files in os.walk(os.path.dirname(str(self.directory).rstrip("/"))))


def test_failed_single_file_csv_leaves_no_file(df, tmp_path):
    target = tmp_path / "all.csv"
    with shoal.config.set(scheduler="sync"), pytest.raises(RuntimeError, match="boom"):
        df.map_partitions(_FailAfterOthersWrote(None)).to_csv(str(target), single_file=True)
    assert not target.exists() and os.listdir(tmp_path) == []


def test_failed_to_csv_leaves_no_partial_dataset(df, tmp_path):
    target = tmp_path / "out"
    with shoal.config.set(scheduler="threads"), pytest.raises(RuntimeError, match="boom"):
        df.map_partitions(_FailAfterOthersWrote(str(target)), meta=df._meta).to_csv(str(target))
    assert not target.exists() or os.listdir(target) == []


def test_failed_to_parquet_leaves_nothing_readable(df, tmp_path):
    target = tmp_path / "out"
    with shoal.config.set(scheduler="threads"), pytest.raises(RuntimeError, match="boom"):
        df.map_partitions(_FailAfterOthersWrote(str(target)), meta=df._meta).to_parquet(str(target))
    with pytest.raises((FileNotFoundError, ValueError, OSError)):
        sd.read_parquet(str(target)).compute()

"""Groupby and value_counts over read_parquet, reduced on the Arrow table in the reading task.

Every result is compared with pandas on the same data; the graph is checked to use the fused
read-and-reduce task, so that these tests exercise the Arrow kernels and not the pandas fallback alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._arrow_partials import groupby_partial, value_counts_partial
from shoal.dataframe._groupby import _chunk
from shoal.dataframe._io.parquet_reduce import _read_and_reduce
from shoal.dataframe._lower import build_graph, optimize
from shoal.dataframe.utils import assert_eq


def _fused(collection: object) -> bool:
    graph = build_graph(optimize(collection._expr))  # type: ignore[attr-defined]
    return any(getattr(node, "func", None) is _read_and_reduce for node in graph.values())


def _write(frame: pd.DataFrame, path: object, files: int = 3, row_group_size: int | None = None) -> str:
    step = max(1, -(-len(frame) // files))
    for i in range(files):
        piece = frame.iloc[i * step:(i + 1) * step]
        pq.write_table(pa.Table.from_pandas(piece, preserve_index=False), f"{path}/part.{i}.parquet",
                       row_group_size=row_group_size)
    return str(path)


def _frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([f"name-{i:02d}" for i in range(40)])
    return pd.DataFrame({
        "id": rng.integers(-50, 50, n),
        "wide": rng.integers(0, 2**40, n),
        "small": rng.integers(0, 5, n).astype("int8"),
        "name": names[rng.integers(0, 40, n)],
        "x": rng.normal(size=n),
        "y": rng.random(n),
        "k": rng.integers(0, 1000, n),
    })


@pytest.mark.parametrize("key", ["id", "wide", "small", "name", ["name", "id"]])
@pytest.mark.parametrize("agg", [{"x": "sum", "y": "max"}, {"x": ["min", "count", "mean"], "k": ["sum", "max"]},
                                 "size"])
def test_groupby_matches_pandas(tmp_path, key, agg):
    pdf = _frame()
    path = _write(pdf, tmp_path, row_group_size=700)
    df = sd.read_parquet(path)
    grouped, expected = df.groupby(key), pdf.groupby(key)
    got = grouped.size() if agg == "size" else grouped.agg(agg)
    assert _fused(got)
    want = expected.size() if agg == "size" else expected.agg(agg)
    assert_eq(got, want, sort_results=False)


def test_groupby_series_selection_and_filters(tmp_path):
    pdf = _frame()
    path = _write(pdf, tmp_path)
    got = sd.read_parquet(path, filters=[("name", "in", ["name-01", "name-07"])]).groupby("name").x.mean()
    assert _fused(got)
    want = pdf[pdf.name.isin(["name-01", "name-07"])].groupby("name").x.mean()
    assert_eq(got, want)
    # A filter that leaves nothing: the partials come from empty tables.
    got = sd.read_parquet(path, filters=[("x", ">", 100.0)]).groupby("id").y.sum()
    assert_eq(got, pdf[pdf.x > 100].groupby("id").y.sum())


def test_missing_keys_and_values(tmp_path):
    pdf = _frame(2000, seed=3)
    pdf["name"] = pdf["name"].where(pdf.index % 7 != 0)  # None in a string (dictionary) column
    pdf["x"] = pdf["x"].where(pdf.index % 5 != 0)  # null floats: skipped as pandas skips NaN
    pdf["idn"] = pd.array(pdf["id"].where(pdf.index % 11 != 0), dtype="Int64")
    pq.write_table(pa.Table.from_pandas(pdf, preserve_index=False), tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    df = sd.read_parquet(str(tmp_path))
    for dropna in (True, False):
        assert_eq(df.groupby("name", dropna=dropna).agg({"x": ["sum", "min", "count"], "y": "max"}),
                  back.groupby("name", dropna=dropna).agg({"x": ["sum", "min", "count"], "y": "max"}))
        assert_eq(df.groupby("idn", dropna=dropna).x.sum(), back.groupby("idn", dropna=dropna).x.sum())
        assert_eq(df.name.value_counts(dropna=dropna), back.name.value_counts(dropna=dropna))


def test_nan_values_and_float_keys_fall_back_to_pandas(tmp_path):
    pdf = _frame(1000)
    # NaN stored as a value (not a null): pandas skips it, Arrow's sum would not.
    table = pa.Table.from_pandas(pdf, preserve_index=False)
    x = pa.array(np.where(np.arange(1000) % 3 == 0, np.nan, pdf.x.to_numpy()), from_pandas=False)
    table = table.set_column(table.schema.get_field_index("x"), "x", x)
    pq.write_table(table, tmp_path / "a.parquet")
    df = sd.read_parquet(str(tmp_path))
    back = table.to_pandas()
    assert_eq(df.groupby("id").x.sum(), back.groupby("id").x.sum())
    assert_eq(df.groupby("id").x.max(), back.groupby("id").x.max())
    assert_eq(df.groupby("y").x.count(), back.groupby("y").x.count())


def test_sort_false_keeps_pandas_order(tmp_path):
    pdf = _frame(1500)
    path = _write(pdf, tmp_path)
    got = sd.read_parquet(path).groupby("name", sort=False).x.sum().compute()
    want = pdf.groupby("name", sort=False).x.sum()
    pd.testing.assert_series_equal(got, want)
    got = sd.read_parquet(path).name.value_counts(sort=False).compute()
    pd.testing.assert_series_equal(got, pdf.name.value_counts(sort=False))


def test_categorical_column_keeps_its_categories(tmp_path):
    pdf = _frame(800)
    pdf["name"] = pdf["name"].astype(pd.CategoricalDtype([f"name-{i:02d}" for i in range(45)]))
    path = _write(pdf, tmp_path, files=2)
    back = pd.read_parquet(path)
    assert_eq(sd.read_parquet(path).groupby("name", observed=True).x.sum(),
              back.groupby("name", observed=True).x.sum())
    assert_eq(sd.read_parquet(path).name.value_counts(), back.name.value_counts())


@pytest.mark.parametrize("column", ["name", "id", "small"])
def test_value_counts_matches_pandas(tmp_path, column):
    pdf = _frame()
    path = _write(pdf, tmp_path, row_group_size=500)
    got = sd.read_parquet(path)[column].value_counts()
    assert _fused(got)
    assert_eq(got, pdf[column].value_counts())
    assert_eq(sd.read_parquet(path)[column].value_counts(normalize=True), pdf[column].value_counts(normalize=True))


def test_hive_layout_and_index_reads(tmp_path):
    pdf = _frame(900)
    sd.from_pandas(pdf, npartitions=3).to_parquet(str(tmp_path / "hive"), partition_on=["small"])
    back = pd.read_parquet(tmp_path / "hive")
    got = sd.read_parquet(str(tmp_path / "hive")).groupby("name").x.sum()
    assert_eq(got, back.groupby("name").x.sum())
    (tmp_path / "flat").mkdir()
    indexed = sd.read_parquet(_write(pdf, tmp_path / "flat"), index="id")
    assert_eq(indexed.groupby("name").x.sum(), pdf.set_index("id").groupby("name").x.sum())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 300), low=st.integers(-10**12, 10**12), spread=st.sampled_from([1, 5, 300, 10**9]),
       nulls=st.booleans(), seed=st.integers(0, 2**16))
def test_partials_equal_pandas_chunks(n, low, spread, nulls, seed):
    rng = np.random.default_rng(seed)
    names = np.array(["a", "b", "c", "dd", ""])
    frame = pd.DataFrame({"key": low + rng.integers(0, spread, n), "name": names[rng.integers(0, 5, n)],
                          "v": rng.normal(size=n), "i": rng.integers(-5, 5, n)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if nulls:
        mask = pa.array(rng.random(n) < 0.2)
        table = table.set_column(2, "v", pa.compute.if_else(mask, pa.scalar(None, pa.float64()), table["v"]))
    meta = frame.iloc[:0]
    prims = [("v", "sum"), ("v", "count"), ("v", "min"), ("i", "max"), ("i", "sum"), (None, "size")]
    pandas_part = table.to_pandas()
    for keys in (["key"], ["name"], ["name", "key"]):
        got = groupby_partial(table, meta, keys=keys, prims=prims, dropna=True)
        want = _chunk(pandas_part, keys=keys, prims=prims, dropna=True)
        assert got is not None
        pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_exact=False, rtol=1e-9)
    # Dictionary-encoded strings, as the reader gives them.
    coded = table.set_column(1, "name", table["name"].dictionary_encode())
    got = groupby_partial(coded, meta, keys=["name"], prims=prims, dropna=True)
    want = _chunk(pandas_part, keys=["name"], prims=prims, dropna=True)
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_exact=False, rtol=1e-9)
    counts = value_counts_partial(coded.select(["name"]), meta["name"])
    pd.testing.assert_series_equal(counts.sort_index(), pandas_part["name"].value_counts(sort=False).sort_index())

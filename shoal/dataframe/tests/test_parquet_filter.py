"""Filtered Parquet reads (kernels on the Arrow table, row groups pruned) give the frames pandas reads."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


def _write(tmp_path: Any, nfiles: int = 3, rows: int = 2000, **kwargs: Any) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frames = []
    for i in range(nfiles):
        frame = pd.DataFrame({
            "id": rng.integers(0, 50, rows),
            "name": np.array(["ab", "cd", "ef"], dtype=object)[rng.integers(0, 3, rows)],
            "x": rng.normal(size=rows),
            "y": rng.random(rows),
            "i32": rng.integers(-5, 5, rows).astype(np.int32),
            "f32": rng.random(rows).astype(np.float32),
        })
        frame.to_parquet(tmp_path / f"part.{i}.parquet", index=False, row_group_size=rows // 4, **kwargs)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _expected(tmp_path: Any, columns: Any, filters: Any) -> pd.DataFrame:
    return pd.read_parquet(tmp_path, columns=columns, filters=filters).reset_index(drop=True)


@pytest.mark.parametrize("filters", [
    [("x", ">", 1.5)],
    [("x", ">", 1.0), ("name", "==", "cd")],
    [[("x", ">", 2.0)], [("x", "<", -2.0)]],
    [("id", "in", [3, 7, 11])],
    [("x", ">", 9.0)],  # keeps nothing
    [("x", ">", -9.0)],  # keeps everything
])
@pytest.mark.parametrize("columns", [["id", "y"], ["y", "name", "f32", "i32"], None])
def test_late_read_matches_pandas(tmp_path: Any, filters: Any, columns: Any) -> None:
    _write(tmp_path)
    got = sd.read_parquet(tmp_path, columns=columns, filters=filters).compute().reset_index(drop=True)
    assert_eq(got, _expected(tmp_path, columns, filters), check_index=False)


def test_columns_with_nulls(tmp_path: Any) -> None:
    frame = pd.DataFrame({"x": np.linspace(-3, 3, 4000), "v": np.where(np.arange(4000) % 5 == 0, np.nan, 1.0),
                          "n": pd.array(np.where(np.arange(4000) % 7 == 0, None, np.arange(4000)), dtype="Int64")})
    frame.to_parquet(tmp_path / "a.parquet", index=False, row_group_size=1000)
    got = sd.read_parquet(tmp_path, columns=["v", "n"], filters=[("x", ">", 2.5)]).compute()
    assert_eq(got.reset_index(drop=True), _expected(tmp_path, ["v", "n"], [("x", ">", 2.5)]), check_index=False)


def test_row_groups_pruned_by_statistics(tmp_path: Any) -> None:
    frame = pd.DataFrame({"x": np.arange(8000.0), "y": np.arange(8000) * 3})
    frame.to_parquet(tmp_path / "a.parquet", index=False, row_group_size=1000)
    filters = [("x", ">=", 6500.0), ("x", "<", 6600.0)]
    got = sd.read_parquet(tmp_path, columns=["y"], filters=filters).compute()
    assert_eq(got.reset_index(drop=True), _expected(tmp_path, ["y"], filters), check_index=False)


def test_index_column_and_hive_layout(tmp_path: Any) -> None:
    (tmp_path / "flat").mkdir()
    frame = _write(tmp_path / "flat")
    got = sd.read_parquet(tmp_path / "flat", columns=["y"], index="id", filters=[("x", ">", 1.8)]).compute()
    expected = pd.read_parquet(tmp_path / "flat", filters=[("x", ">", 1.8)]).set_index("id")[["y"]]
    assert_eq(got, expected, check_divisions=False)
    frame.to_parquet(tmp_path / "hive", partition_cols=["name"], index=False)
    got = sd.read_parquet(tmp_path / "hive", columns=["id", "y"], filters=[("x", ">", 1.8)]).compute()
    want = pd.read_parquet(tmp_path / "hive", columns=["id", "y"], filters=[("x", ">", 1.8)])
    assert_eq(got.sort_values(["id", "y"]).reset_index(drop=True),
              want.sort_values(["id", "y"]).reset_index(drop=True), check_index=False)


@settings(max_examples=25, deadline=None)
@given(threshold=st.floats(-3, 3), compression=st.sampled_from(["snappy", "zstd", "none"]),
       dictionary=st.booleans(), version=st.sampled_from(["1.0", "2.0"]))
def test_any_threshold_and_layout(tmp_path_factory: Any, threshold: float, compression: str, dictionary: bool,
                                  version: str) -> None:
    path = tmp_path_factory.mktemp("late")
    rng = np.random.default_rng(5)
    table = pa.table({"x": rng.normal(size=3000), "y": rng.random(3000), "k": rng.integers(0, 9, 3000)})
    pq.write_table(table, path / "a.parquet", row_group_size=700, compression=compression,
                   use_dictionary=dictionary, data_page_version=version, data_page_size=2048)
    filters = [("x", ">", threshold)]
    got = sd.read_parquet(path, columns=["k", "y"], filters=filters).compute().reset_index(drop=True)
    assert_eq(got, _expected(path, ["k", "y"], filters), check_index=False)

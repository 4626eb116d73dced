"""DataFrame.map, from_dict, axes; top-level map_overlap, get_collection_type, demo; accessor fixes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


# -- DataFrame.map, from_dict, axes, empty -------------------------------------------------------------------
@pytest.mark.parametrize("na_action", [None, "ignore"])
@pytest.mark.parametrize("nparts", [1, 3])
def test_dataframe_map_matches_pandas(na_action: str | None, nparts: int) -> None:
    pdf = pd.DataFrame({"a": [1.0, None, 3.0, 4.0, 5.0], "b": [10, 20, 30, 40, 50]})
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert_eq(df.map(lambda v: v * 2, na_action=na_action), pdf.map(lambda v: v * 2, na_action=na_action))
    assert_eq(df.map(str, na_action=na_action), pdf.map(str, na_action=na_action))
    assert_eq(df.map(lambda v, k: v + k, k=1), pdf.map(lambda v, k: v + k, k=1))
    got = df.map(lambda v: v * 2, meta={"a": "f8", "b": "i8"})
    assert_eq(got, pdf.map(lambda v: v * 2))
    assert got.divisions == df.divisions


def test_dataframe_map_refuses_bad_arguments() -> None:
    df = sd.from_pandas(pd.DataFrame({"a": [1, 2]}), npartitions=1)
    with pytest.raises(TypeError, match="must be callable"):
        df.map({1: 2})
    with pytest.raises(ValueError, match="na_action"):
        df.map(str, na_action="skip")
    with pytest.raises(ValueError, match="meta="):
        df.map(lambda v: 1 / 0)


@pytest.mark.parametrize("cls", [sd.DataFrame, sd.Series])
def test_from_dict_classmethods(cls: type) -> None:
    data = {"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}
    got = cls.from_dict(data, npartitions=2)
    assert isinstance(got, sd.DataFrame) and got.npartitions == 2  # as Dask: a DataFrame from either class
    assert_eq(got, pd.DataFrame.from_dict(data))
    rows = {"r1": [1, 2], "r2": [3, 4]}
    assert_eq(cls.from_dict(rows, orient="index", columns=["x", "y"]),
              pd.DataFrame.from_dict(rows, orient="index", columns=["x", "y"]))


def test_axes_and_empty() -> None:
    pdf = pd.DataFrame({"a": [1, 2, 3]}, index=[5, 6, 7])
    df = sd.from_pandas(pdf, npartitions=2)
    index, columns = df.axes
    assert_eq(index, pdf.index)
    assert columns.equals(pdf.columns)
    (series_index,) = df.a.axes
    assert_eq(series_index, pdf.index)
    with pytest.raises(NotImplementedError, match=r"len\(df.index\) == 0"):
        df.empty  # noqa: B018


# -- map_overlap over several collections --------------------------------------------------------------------
@given(n=st.integers(4, 30), parts_a=st.integers(1, 5), parts_b=st.integers(1, 5), before=st.integers(0, 3),
       after=st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_map_overlap_extends_every_collection(n: int, parts_a: int, parts_b: int, before: int, after: int) -> None:
    rng = np.random.default_rng(n)
    a = pd.DataFrame({"x": rng.normal(size=n)})
    b = pd.Series(rng.normal(size=n), name="y")

    def func(left: pd.DataFrame, right: pd.Series, scale: float, offset: float = 0.0) -> pd.Series:
        return left.x.shift(before) * scale + right.shift(-after) + offset

    expected = func(a, b, 2.0, offset=1.0)
    got = sd.map_overlap(func, sd.from_pandas(a, npartitions=parts_a), before, after,
                         sd.from_pandas(b, npartitions=parts_b), 2.0, offset=1.0)
    assert_eq(got, expected)


def test_map_overlap_with_time_spans_scalars_and_pandas() -> None:
    times = pd.date_range("2000-01-01", periods=24, freq="h")
    a = pd.DataFrame({"x": np.arange(24.0)}, index=times)
    b = pd.DataFrame({"y": np.arange(24.0) * 10}, index=times)

    def func(left: pd.DataFrame, right: pd.DataFrame, total: float) -> pd.Series:
        return left.x.rolling("3h").sum() + right.y.rolling("2h").max() / total

    lazy_a = sd.from_pandas(a, npartitions=4)
    got = sd.map_overlap(func, lazy_a, "3h", 0, b, lazy_a.x.sum())
    assert_eq(got, func(a, b, a.x.sum()))
    assert got.divisions == lazy_a.divisions
    assert sd.map_overlap(func, lazy_a, "3h", 0, b, 1.0, clear_divisions=True).known_divisions is False


def test_map_overlap_checks_meta_and_row_counts() -> None:
    a = sd.from_pandas(pd.Series(np.arange(10.0)), npartitions=3)
    got = sd.map_overlap(lambda s: s.diff(), a, 1, 0, meta=("z", "f8"))
    assert_eq(got, pd.Series(np.arange(10.0)).diff().rename("z"))
    with pytest.raises(ValueError, match="one row per row"):
        sd.map_overlap(lambda s: s.iloc[1:], a, 1, 0, meta=a._meta).compute()
    with pytest.raises(TypeError, match="func must be callable"):
        sd.map_overlap(a, lambda s: s, 1, 0)
    with pytest.raises(TypeError, match="positionally"):
        sd.map_overlap(lambda s, other: s, a, 1, 0, other=a)


# -- get_collection_type and demo ---------------------------------------------------------------------------
def test_get_collection_type() -> None:
    assert sd.get_collection_type(pd.DataFrame()) is sd.DataFrame
    assert sd.get_collection_type(pd.Series(dtype=float)) is sd.Series
    assert sd.get_collection_type(pd.Index([1])) is sd.Index
    assert sd.get_collection_type(np.float64(1.0)) is sd.Scalar
    assert isinstance(sd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1), sd.get_collection_type(pd.DataFrame()))


def test_make_timeseries() -> None:
    df = sd.demo.make_timeseries("2000-01-01", "2000-01-05", {"v": float, "n": int, "s": str, "c": "category"},
                                 freq="90min", partition_freq="1D", seed=7, n_lam=5)
    result = df.compute()
    grid = pd.date_range("2000-01-01", "2000-01-05", freq="90min", inclusive="left", name="timestamp", unit="ns")
    assert result.index.equals(grid)
    assert df.npartitions == 4 and df.divisions[0] == pd.Timestamp("2000-01-01")
    assert_eq(df, result)  # meta, dtypes and divisions agree with the data
    assert result.v.between(-1, 1).all() and 2 < result.n.mean() < 8
    assert set(result.s) <= set(sd.demo.NAMES) and list(result.c.cat.categories) == sd.demo.NAMES
    again = sd.demo.make_timeseries("2000-01-01", "2000-01-05", {"v": float, "n": int, "s": str, "c": "category"},
                                    freq="90min", partition_freq="1D", seed=7, n_lam=5).compute()
    pd.testing.assert_frame_equal(result, again)
    default = sd.demo.make_timeseries(end="2000-02-15", seed=1)
    assert list(default.columns) == ["name", "id", "x", "y"] and default.npartitions == 2
    with pytest.raises(TypeError, match="_lam"):
        sd.demo.make_timeseries(x_lam=3)
    with pytest.raises(TypeError, match="float, int, str"):
        sd.demo.make_timeseries(dtypes={"x": complex})


# -- accessor fixes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [object, "string", "str"])
@pytest.mark.parametrize("nparts", [1, 3])
def test_str_methods_that_change_shape(dtype: object, nparts: int) -> None:
    text = pd.Series(["a_b", "c d", None, "e_f_g", "h", "", "i_j", "k"], dtype=dtype)
    s = sd.from_pandas(text, npartitions=nparts)
    assert_eq(s.str.partition("_"), text.str.partition("_"))
    assert_eq(s.str.rpartition("_"), text.str.rpartition("_"))
    assert_eq(s.str.split("_", n=1, expand=True), text.str.split("_", n=1, expand=True))
    assert_eq(s.str.rsplit("_", n=2, expand=True), text.str.rsplit("_", n=2, expand=True))
    assert_eq(s.str.extractall(r"(\w)_"), text.str.extractall(r"(\w)_"))
    with pytest.raises(NotImplementedError, match="tokens"):
        s.str.get_dummies("_")
    # One row per partition: some partitions hold only a missing value, or nothing to split.
    alone = pd.Series(["a_b", None, "c", "d_e_f"], dtype=dtype)
    one_each = sd.from_pandas(alone, npartitions=4)
    for method in ("partition", "rpartition"):
        assert_eq(getattr(one_each.str, method)("_"), getattr(alone.str, method)("_"))
    assert_eq(one_each.str.split("_", n=2, expand=True), alone.str.split("_", n=2, expand=True))


def test_remove_unused_categories_agrees_across_partitions() -> None:
    cats = pd.Series(list("aaabbbccc"), dtype=pd.CategoricalDtype(list("zcab"), ordered=True))
    s = sd.from_pandas(cats, npartitions=3)
    assert_eq(s.cat.remove_unused_categories(), cats.cat.remove_unused_categories())

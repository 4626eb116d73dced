"""Named operators, combining collections and ffill/bfill, against pandas on the same data."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

ARITH = ["add", "sub", "mul", "div", "truediv", "floordiv", "mod", "pow",
         "radd", "rsub", "rmul", "rdiv", "rtruediv", "rfloordiv", "rmod", "rpow"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]


@pytest.fixture
def pdf() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0, np.nan, 7.0, 8.0],
                         "b": [8, 7, 6, 5, 4, 3, 2, 1]}, index=[0, 1, 2, 4, 6, 7, 9, 12])


@pytest.mark.parametrize("name", [*ARITH, *COMPARE, "divide"])
def test_frame_named_operators_with_scalars(pdf, name):
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(getattr(df, name)(3), getattr(pdf, name)(3))


@pytest.mark.parametrize("name", [*ARITH, *COMPARE])
def test_series_named_operators_with_aligned_series(pdf, name):
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(getattr(df.a, name)(df.b), getattr(pdf.a, name)(pdf.b))


@pytest.mark.parametrize("name", ["add", "sub", "rsub", "mul", "div", "rpow", "floordiv"])
def test_fill_value_with_misaligned_divisions(pdf, name):
    other = pd.Series([10.0, np.nan, 30.0, 40.0, 50.0], index=[1, 2, 5, 12, 20])
    a = sd.from_pandas(pdf.a, npartitions=3)
    b = sd.from_pandas(other, npartitions=2)
    assert a.divisions != b.divisions
    assert_eq(getattr(a, name)(b, fill_value=1.5), getattr(pdf.a, name)(other, fill_value=1.5))
    # A pandas operand along the index is aligned the same way.
    assert_eq(getattr(a, name)(other, fill_value=1.5), getattr(pdf.a, name)(other, fill_value=1.5))


def test_frame_axis_columns_and_index(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    row = pd.Series({"a": 10.0, "b": 100.0})
    assert_eq(df.add(row), pdf.add(row))
    assert_eq(df.mul([2, 3], axis="columns"), pdf.mul([2, 3], axis="columns"))
    assert_eq(df.sub(df.b, axis=0), pdf.sub(pdf.b, axis=0))
    assert_eq(df.sub(df.b, axis="index"), pdf.sub(pdf.b, axis="index"))
    assert_eq(df.lt(row), pdf.lt(row))
    assert_eq(df.add(df, fill_value=0), pdf.add(pdf, fill_value=0))
    assert_eq(df.radd(df.a.sum()), pdf.radd(pdf.a.sum()))  # a lazy scalar is broadcast


def test_frame_with_misaligned_frame_fill_value(pdf):
    other = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": [4.0, 5.0, 6.0]}, index=[3, 4, 30])
    df = sd.from_pandas(pdf, npartitions=3)
    o = sd.from_pandas(other, npartitions=2)
    assert_eq(df.add(o, fill_value=0), pdf.add(other, fill_value=0), check_dtype=False)
    assert_eq(df.gt(o), pdf.gt(other))


def test_operator_bad_input(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    with pytest.raises(NotImplementedError, match="level must be None"):
        df.add(1, level=0)
    with pytest.raises(ValueError, match="axis=1"):
        df.add(df.a, axis=1)
    with pytest.raises(ValueError, match="no axis named 2"):
        df.add(1, axis=2)
    with pytest.raises(ValueError, match="one value per row"):
        df.a.add([1, 2, 3])
    with pytest.raises(ValueError, match="one value per row"):
        df.add([1, 2], axis=0)
    unknown = sd.from_pandas(pdf.a, npartitions=2).clear_divisions()
    with pytest.raises(ValueError, match="divisions are known"):
        unknown.add(df.b)


def test_operator_methods_signatures_match_dask():
    df = sd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1)
    import inspect
    assert list(inspect.signature(df.add).parameters) == ["other", "axis", "level", "fill_value"]
    assert list(inspect.signature(df.eq).parameters) == ["other", "axis", "level"]
    assert list(inspect.signature(df.a.add).parameters) == ["other", "level", "fill_value", "axis"]
    assert hasattr(df.a, "divide") and hasattr(df, "divide")  # Dask 2026.8 has both


@given(case=frames(min_rows=1), other_parts=st.integers(1, 5), name=st.sampled_from(["add", "sub", "mul", "rsub"]))
@settings(max_examples=30, deadline=None)
def test_series_operators_any_partitioning(case, other_parts, name):
    pdf, nparts = case
    # Unique labels: with repeated ones pandas pairs rows by position where the two indexes happen to be
    # equal and joins them (a cross product per label) where not, so a partition-wise result (shoal's, as
    # Dask's) differs from pandas' whole-frame one wherever a partition pair's indexes are equal.
    pdf = pdf[~pdf.index.duplicated()]
    shifted = pdf.x.iloc[::2]
    shifted.index = shifted.index + 1
    left = sd.from_pandas(pdf.x, npartitions=nparts)
    right = sd.from_pandas(shifted, npartitions=other_parts)
    expected = getattr(pdf.x, name)(shifted, fill_value=0.5)
    assert_eq(getattr(left, name)(right, fill_value=0.5), expected)


# -- combining ---------------------------------------------------------------------------------------
def test_combine_first_series_and_frame(pdf):
    other = pd.DataFrame({"a": [100.0, 200.0, 300.0], "c": [1, 2, 3]}, index=[2, 7, 40])
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.combine_first(sd.from_pandas(other, npartitions=2)), pdf.combine_first(other))
    assert_eq(df.a.combine_first(other.a), pdf.a.combine_first(other.a))
    with pytest.raises(TypeError, match="combine_first takes"):
        df.combine_first(3)


def test_series_combine(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.a.combine(df.b, max), pdf.a.combine(pdf.b, max))
    assert_eq(df.a.combine(4.5, min, fill_value=0), pdf.a.combine(4.5, min, fill_value=0))
    with pytest.raises(TypeError, match="function of two values"):
        df.a.combine(df.b, 3)


def test_frame_combine(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    other = pdf * 2

    def take_smaller(x, y):
        return x.where(x < y, y)

    assert_eq(df.combine(sd.from_pandas(other, npartitions=2), take_smaller),
              pdf.combine(other, take_smaller))


@pytest.mark.parametrize("join", ["outer", "inner", "left", "right"])
def test_align(pdf, join):
    other = pd.Series([1.0, 2.0, 3.0, 4.0], index=[1, 3, 9, 50], name="o")
    a = sd.from_pandas(pdf, npartitions=3)
    b = sd.from_pandas(other, npartitions=2)
    left, right = a.align(b, join=join, axis=0)
    exp_left, exp_right = pdf.align(other, join=join, axis=0)
    assert_eq(left, exp_left)
    assert_eq(right, exp_right)
    with pytest.raises(ValueError, match="join="):
        a.align(b, join="cross")


def test_dot():
    rng = np.random.default_rng(0)
    s = pd.Series(rng.normal(size=20))
    t = pd.Series(rng.normal(size=20))
    frame = pd.DataFrame(rng.normal(size=(20, 3)), columns=["p", "q", "r"])
    ds = sd.from_pandas(s, npartitions=4)
    assert_eq(ds.dot(sd.from_pandas(t, npartitions=3)), s.dot(t))
    assert_eq(ds.dot(t), s.dot(t))
    assert_eq(ds.dot(sd.from_pandas(frame, npartitions=2)), s.dot(frame))
    weights = pd.Series([1.0, 2.0, 3.0], index=["p", "q", "r"])
    assert_eq(sd.from_pandas(frame, npartitions=3).dot(weights), frame.dot(weights))
    with pytest.raises(TypeError, match="Series.dot takes"):
        ds.dot(3)
    with pytest.raises(TypeError, match="DataFrame.dot takes a pandas"):
        sd.from_pandas(frame, npartitions=3).dot(ds)


# -- ffill / bfill -----------------------------------------------------------------------------------
@given(case=frames(min_rows=0), limit=st.sampled_from([None, 1, 2, 5]), forward=st.booleans())
@settings(max_examples=40, deadline=None)
def test_fill_matches_pandas_across_partitions(case, limit, forward):
    pdf, nparts = case
    pdf = pdf.copy()
    # Long runs of missing values, whole partitions of them included.
    pdf.loc[pdf.index[len(pdf) // 4: len(pdf) // 2], "x"] = np.nan
    pdf["s"] = pdf["s"].where(pdf["x"].notna())
    df = sd.from_pandas(pdf, npartitions=nparts)
    method = "ffill" if forward else "bfill"
    assert_eq(getattr(df, method)(limit=limit), getattr(pdf, method)(limit=limit))
    assert_eq(getattr(df.x, method)(limit=limit), getattr(pdf.x, method)(limit=limit))


def test_fill_whole_missing_partitions_and_axis1():
    s = pd.Series([1.0] + [np.nan] * 9 + [2.0] + [np.nan] * 5)
    ds = sd.from_pandas(s, npartitions=6)
    assert_eq(ds.ffill(), s.ffill())
    assert_eq(ds.bfill(), s.bfill())
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [np.nan, np.nan], "c": [3.0, 4.0]})
    df = sd.from_pandas(frame, npartitions=2)
    assert_eq(df.ffill(axis=1), frame.ffill(axis=1))
    assert_eq(df.bfill(axis="columns"), frame.bfill(axis="columns"))
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        ds.ffill(limit=0)
    with pytest.raises(ValueError, match="no axis named 1 for a Series"):
        ds.bfill(axis=1)


def test_fill_string_dtypes_keep_meta():
    s = pd.Series(["a", None, None, "b", None], dtype="str")
    ds = sd.from_pandas(s, npartitions=3)
    assert_eq(ds.ffill(), s.ffill())
    assert_eq(ds.bfill(limit=1), s.bfill(limit=1))


def test_operators_by_name_match_dunder_results(pdf):
    df = sd.from_pandas(pdf, npartitions=2)
    assert_eq(df.a.add(df.b), df.a + df.b)
    assert_eq(df.mul(2), operator.mul(pdf, 2))


def test_operators_align_collections_with_different_divisions():
    a = pd.Series(np.arange(10.0))
    b = pd.Series(np.arange(3.0, 13.0), index=range(3, 13))
    da, db = sd.from_pandas(a, npartitions=2), sd.from_pandas(b, npartitions=3)
    assert_eq(da + db, a + b)
    assert_eq(db - da, b - a)
    assert_eq(da * 2 + db, a * 2 + b)

"""``df.index`` as a collection: reductions, conversions, element-wise results, each against pandas."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


def _dated(n: int = 20, freq: str = "D") -> pd.DataFrame:
    index = pd.date_range("2000-01-01", periods=n, freq=freq, name="t")
    return pd.DataFrame({"x": np.arange(n)}, index=index)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(-5, 5), min_size=1, max_size=30), nparts=st.integers(1, 5),
       data=st.data())
def test_reductions_and_distinct_values_match_pandas(values: list[int], nparts: int, data: st.DataObject) -> None:
    pdf = pd.DataFrame({"x": range(len(values))}, index=pd.Index(values, name="k"))
    idx = sd.from_pandas(pdf, npartitions=nparts, sort=data.draw(st.booleans())).index
    expected = idx.compute()  # the index in partition order (sorted when sort=True), as pandas would hold it
    assert idx.min().compute() == expected.min()
    assert idx.max().compute() == expected.max()
    assert idx.nunique().compute() == expected.nunique()
    assert len(idx) == len(expected)
    assert idx.size.compute() == expected.size
    assert idx.nbytes.compute() == expected.nbytes
    pd.testing.assert_index_equal(idx.unique().compute(), expected.unique())
    pd.testing.assert_index_equal(idx.drop_duplicates().compute(), expected.drop_duplicates())
    pd.testing.assert_index_equal(idx.drop_duplicates(keep="last").compute(), expected.drop_duplicates(keep="last"))
    pd.testing.assert_series_equal(idx.value_counts().compute().sort_index(),
                                   expected.value_counts().sort_index())


def test_conversions_keep_divisions_and_values() -> None:
    pdf = _dated()
    idx = sd.from_pandas(pdf, npartitions=3).index
    series = idx.to_series()
    assert series.divisions == idx.divisions
    assert_eq(series, pdf.index.to_series())
    assert_eq(idx.to_series(name="v"), pdf.index.to_series(name="v"))
    frame = idx.to_frame()
    assert frame.divisions == idx.divisions
    assert_eq(frame, pdf.index.to_frame())
    assert_eq(idx.to_frame(name="v"), pdf.index.to_frame(name="v"))
    unindexed = idx.to_frame(index=False)
    assert unindexed.known_divisions is False
    pd.testing.assert_frame_equal(unindexed.compute().reset_index(drop=True), pdf.index.to_frame(index=False))
    array = idx.to_dask_array(lengths=True)
    assert isinstance(array, sa.Array) and array.chunks == ((7, 7, 6),)
    np.testing.assert_array_equal(array.compute(), pdf.index.to_numpy())
    np.testing.assert_array_equal(idx.values.compute(), pdf.index.values)
    with pytest.raises(ValueError, match="to_series\\(index=...\\)"):
        idx.to_series(index=[1, 2])


@pytest.mark.parametrize("field", ["year", "month", "day", "hour", "day_of_week", "day_of_year", "quarter",
                                   "is_month_start", "days_in_month", "is_leap_year"])
def test_datetime_fields_like_pandas(field: str) -> None:
    pdf = _dated(50, "17h")
    idx = sd.from_pandas(pdf, npartitions=4).index
    result, expected = getattr(idx, field), getattr(pdf.index, field)
    if isinstance(expected, pd.Index):
        assert isinstance(result, sd.Index)
        pd.testing.assert_index_equal(result.compute(), expected)
    else:  # pandas gives the is_* fields as NumPy arrays
        assert isinstance(result, sa.Array)
        np.testing.assert_array_equal(result.compute(), expected)


def test_timedelta_and_period_fields() -> None:
    deltas = pd.timedelta_range("1 day", periods=9, freq="7h", name="d")
    idx = sd.from_pandas(pd.Series(range(9), index=deltas), npartitions=3).index
    for field in ("days", "seconds", "microseconds", "nanoseconds"):
        pd.testing.assert_index_equal(getattr(idx, field).compute(), getattr(deltas, field))
    periods = pd.period_range("2000-01", periods=6, freq="M", name="p")
    pidx = sd.from_pandas(pd.Series(range(6), index=periods), npartitions=2).index
    pd.testing.assert_index_equal(pidx.qyear.compute(), periods.qyear)
    pd.testing.assert_index_equal(pidx.start_time.compute(), periods.start_time)


def test_field_missing_for_the_dtype_says_so() -> None:
    idx = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2).index
    with pytest.raises(AttributeError, match="'Index' of dtype int64 has no attribute 'year'"):
        idx.year  # noqa: B018


def test_comparisons_isin_isna_give_arrays_like_pandas() -> None:
    pdf = _dated()
    idx = sd.from_pandas(pdf, npartitions=3).index
    cut = pdf.index[7]
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        result = getattr(idx, op)(cut)
        assert isinstance(result, sa.Array)
        np.testing.assert_array_equal(result.compute(), getattr(pdf.index, op)(cut))
    np.testing.assert_array_equal(idx.isin([pdf.index[0], pdf.index[-1]]).compute(),
                                  pdf.index.isin([pdf.index[0], pdf.index[-1]]))
    with_nan = pd.Index([1.0, np.nan, 3.0, np.nan], name="f")
    fidx = sd.from_pandas(pd.Series(range(4), index=with_nan), npartitions=2, sort=False).index
    np.testing.assert_array_equal(fidx.isna().compute(), with_nan.isna())
    np.testing.assert_array_equal(fidx.notna().compute(), with_nan.notna())
    pd.testing.assert_index_equal(fidx.fillna(0.0).compute(), with_nan.fillna(0.0))
    with pytest.raises(TypeError, match="needs a scalar"):
        idx > np.arange(3)  # noqa: B015


def test_arithmetic_forgets_divisions() -> None:
    pdf = pd.DataFrame({"x": range(10)}, index=pd.Index(np.arange(10) * 2, name="k"))
    idx = sd.from_pandas(pdf, npartitions=3).index
    for result, expected in [(idx + 1, pdf.index + 1), (1 - idx, 1 - pdf.index), (idx * 3, pdf.index * 3),
                             (idx // 4, pdf.index // 4), (idx ** 2, pdf.index ** 2)]:
        assert isinstance(result, sd.Index)
        assert result.known_divisions is False
        pd.testing.assert_index_equal(result.compute(), expected)


def test_map_astype_rename_shift_divisions() -> None:
    pdf = _dated(12)
    idx = sd.from_pandas(pdf, npartitions=3).index
    mapped = idx.map(lambda t: t.day)
    assert mapped.known_divisions is False
    pd.testing.assert_index_equal(mapped.compute(), pdf.index.map(lambda t: t.day))
    monotonic = idx.map(lambda t: t + pd.Timedelta("1h"), is_monotonic=True)
    assert monotonic.divisions == tuple(d + pd.Timedelta("1h") for d in idx.divisions)
    pd.testing.assert_index_equal(monotonic.compute(), pdf.index.map(lambda t: t + pd.Timedelta("1h")))
    as_int = idx.astype("int64")
    assert as_int.divisions == tuple(pd.Index(list(idx.divisions)).astype("int64"))
    pd.testing.assert_index_equal(as_int.compute(), pdf.index.astype("int64"))
    as_str = idx.astype(str)
    assert as_str.known_divisions is False
    pd.testing.assert_index_equal(as_str.compute(), pdf.index.astype(str))
    renamed = idx.rename("u")
    assert renamed.name == "u" and renamed.divisions == idx.divisions
    pd.testing.assert_index_equal(renamed.compute(), pdf.index.rename("u"))
    shifted = idx.shift(2, freq="D")
    assert shifted.divisions == tuple(d + pd.Timedelta("2D") for d in idx.divisions)
    pd.testing.assert_index_equal(shifted.compute(), pdf.index.shift(2, freq="D"))
    pd.testing.assert_index_equal(idx.shift(-1).compute(), pdf.index.shift(-1))
    plain = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2).index
    with pytest.raises(ValueError, match="needs a frequency"):
        plain.shift(1)


def test_index_of_filtered_frame_and_index_meta() -> None:
    pdf = _dated(30)
    df = sd.from_pandas(pdf, npartitions=4)
    idx = df[df.x % 3 == 0].index
    expected = pdf[pdf.x % 3 == 0].index
    assert idx.name == "t" and idx.names == ["t"] and idx.ndim == 1 and idx.dtype == expected.dtype
    assert idx.max().compute() == expected.max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas deprecation from what shoal itself calls
        pd.testing.assert_index_equal(idx.month.compute(), expected.month)
    assert idx.quantile(0.5).compute() == expected.to_series().quantile(0.5)


@pytest.mark.parametrize("key", ["2000-01-05", "2000-01", "2000-01-05 13", "2000-02"])
def test_loc_with_a_date_string_selects_the_period(key: str) -> None:
    pdf = _dated(200, "7h")
    df = sd.from_pandas(pdf, npartitions=5)
    expected = pdf.loc[key:key]  # the rows of that day / month / hour
    if key != "2000-01-05 13":  # at the index's own resolution pandas wants an exact label; Dask slices
        pd.testing.assert_frame_equal(pdf.loc[key], expected)
    assert_eq(df.loc[key], expected, check_freq=False)
    assert_eq(df.x.loc[key], pdf.x.loc[key:key], check_freq=False)
    assert_eq(df.loc[key, ["x"]], expected[["x"]], check_freq=False)


@pytest.mark.parametrize("method", ["add_prefix", "add_suffix"])
@pytest.mark.parametrize("labels", [list("abcdefgh"), list(range(8))])
def test_series_add_prefix_suffix_relabel_the_index(method: str, labels: list[object]) -> None:
    ps = pd.Series(np.arange(8.0), index=labels, name="v")
    s = sd.from_pandas(ps, npartitions=3)
    result = getattr(s, method)("p_")
    expected = getattr(ps, method)("p_")
    assert_eq(result, expected)
    if method == "add_prefix" and isinstance(labels[0], str):
        assert result.divisions == tuple("p_" + d for d in s.divisions)
    else:
        assert result.known_divisions is False

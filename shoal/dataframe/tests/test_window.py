"""Windows, overlaps, cumulative and shifted operations against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


@st.composite
def timed(draw, max_rows: int = 40):
    """A frame on a sorted datetime index (repeats and gaps included) and a partition count."""
    n = draw(st.integers(1, max_rows))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    steps = rng.choice([0, 10, 25, 60, 300, 1000], n)  # minutes; 0 repeats a label
    index = pd.DatetimeIndex(pd.Timestamp("2024-03-01 05:00") + pd.to_timedelta(np.cumsum(steps), "min"))
    x = rng.normal(size=n).round(3)
    x[rng.random(n) < 0.15] = np.nan
    pdf = pd.DataFrame({"x": x, "y": rng.normal(size=n).round(3)}, index=index)
    return pdf, draw(st.integers(1, 6))


NUM = ["i", "x", "k"]


@given(case=frames(), skipna=st.booleans())
@settings(max_examples=25, deadline=None)
def test_cumulative_matches_pandas(case, skipna):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for method in ("cumsum", "cumprod", "cummax", "cummin"):
        assert_eq(getattr(df[NUM], method)(skipna=skipna), getattr(pdf[NUM], method)(skipna=skipna))
        assert_eq(getattr(df.x, method)(skipna=skipna), getattr(pdf.x, method)(skipna=skipna))
    assert_eq(df.i.cumsum(), pdf.i.cumsum())
    assert_eq(df[NUM].cumsum(axis=1), pdf[NUM].cumsum(axis=1))


# At least one row: on zero rows pandas keeps int dtypes that any real row would turn to float.
@given(case=frames(min_rows=1), periods=st.integers(-7, 7))
@settings(max_examples=25, deadline=None)
def test_shift_and_diff_cross_partitions(case, periods):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert_eq(df.shift(periods), pdf.shift(periods))
    assert_eq(df.x.shift(periods), pdf.x.shift(periods))
    assert_eq(df[NUM].diff(periods), pdf[NUM].diff(periods))
    assert_eq(df.i.diff(periods), pdf.i.diff(periods))


@given(case=frames(), window=st.integers(1, 9), center=st.booleans(), min_periods=st.sampled_from([None, 1]))
@settings(max_examples=25, deadline=None)
def test_rolling_rows_match_pandas(case, window, center, min_periods):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    kw = {"window": window, "center": center, "min_periods": min_periods}
    for method in ("sum", "mean", "max", "count", "std"):
        assert_eq(getattr(df[NUM].rolling(**kw), method)(), getattr(pdf[NUM].rolling(**kw), method)())
    assert_eq(df.x.rolling(**kw).apply(np.nanmax, raw=True), pdf.x.rolling(**kw).apply(np.nanmax, raw=True))
    assert_eq(df.x.rolling(**kw).agg("median"), pdf.x.rolling(**kw).agg("median"))


@given(case=timed(), window=st.sampled_from(["30min", "2h", "1D", "5h"]), closed=st.sampled_from([None, "both"]))
@settings(max_examples=25, deadline=None)
def test_rolling_time_window_matches_pandas(case, window, closed):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for method in ("sum", "mean", "count", "min"):
        want = getattr(pdf.rolling(window, closed=closed), method)()
        assert_eq(getattr(df.rolling(window, closed=closed), method)(), want)
    assert_eq(df.x.rolling(window).max(), pdf.x.rolling(window).max())


@given(case=frames(), min_periods=st.integers(1, 4))
@settings(max_examples=15, deadline=None)
def test_expanding_matches_pandas(case, min_periods):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for method in ("sum", "mean", "max", "count", "var"):
        assert_eq(getattr(df[NUM].expanding(min_periods), method)(),
                  getattr(pdf[NUM].expanding(min_periods), method)())


@given(case=timed(), rule=st.sampled_from(["1h", "2h", "7h", "45min", "D", "W"]))
@settings(max_examples=12, deadline=None)
def test_resample_matches_pandas(case, rule):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for method in ("sum", "mean", "count", "first", "size"):
        assert_eq(getattr(df.resample(rule), method)(), getattr(pdf.resample(rule), method)(), check_freq=False)
    assert_eq(df.x.resample(rule).agg(["sum", "mean"]), pdf.x.resample(rule).agg(["sum", "mean"]),
              check_freq=False)
    assert_eq(df.resample(rule).agg("sum"), pdf.resample(rule).agg("sum"), check_freq=False)


@given(case=timed(), rule=st.sampled_from(["1h", "3h", "D"]), threshold=st.sampled_from([-0.5, 0.5, 1.5]))
@settings(max_examples=12, deadline=None)
def test_resample_after_filter_matches_pandas(case, rule, threshold):
    # Divisions are then looser than the data, and whole partitions may be empty.
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for method in ("sum", "mean", "count"):
        want = getattr(pdf[pdf.y > threshold].resample(rule), method)()
        assert_eq(getattr(df[df.y > threshold].resample(rule), method)(), want, check_freq=False)


def test_resample_monthly_and_labels():
    idx = pd.date_range("2024-01-15", periods=200, freq="13h")
    pdf = pd.DataFrame({"v": np.arange(200.0)}, index=idx)
    df = sd.from_pandas(pdf, npartitions=7)
    assert_eq(df.resample("ME").sum(), pdf.resample("ME").sum(), check_freq=False)
    assert_eq(df.resample("3h", label="right", closed="right").mean(),
              pdf.resample("3h", label="right", closed="right").mean(), check_freq=False)
    out = df.resample("D").sum()
    assert out.npartitions == 7 and out.known_divisions


def test_map_overlap_rows_and_time():
    pdf = pd.DataFrame({"x": np.arange(30.0)}, index=pd.date_range("2024", periods=30, freq="20min"))
    df = sd.from_pandas(pdf, npartitions=5)

    def centred(part):
        return part.rolling(5, center=True).mean()

    assert_eq(df.map_overlap(centred, 2, 2), centred(pdf))
    assert_eq(df.map_overlap(lambda p: p.rolling("1h").sum(), "1h", 0), pdf.rolling("1h").sum())
    assert_eq(df.x.map_overlap(lambda p, k: p.shift(k), 3, 0, 3, meta=("x", "f8")), pdf.x.shift(3))
    # A window longer than a partition borrows from several partitions back.
    assert_eq(df.map_overlap(lambda p: p.rolling(14).sum(), 13, 0), pdf.rolling(14).sum())


def test_persisted_input_and_shared_work():
    pdf = pd.DataFrame({"x": np.arange(20.0)})
    df = sd.from_pandas(pdf, npartitions=4)
    y = (df.x * 2).cumsum() + (df.x * 2).shift(1)
    assert_eq(y, (pdf.x * 2).cumsum() + (pdf.x * 2).shift(1))
    assert_eq(df.persist().x.rolling(3).sum(), pdf.x.rolling(3).sum())


def test_window_errors():
    df = sd.from_pandas(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), npartitions=2)
    with pytest.raises(TypeError, match="datetime index"):
        df.rolling("2h")
    with pytest.raises(ValueError, match="non-negative"):
        df.rolling(-1)
    with pytest.raises(TypeError, match="datetime index"):
        df.resample("1h")
    with pytest.raises(TypeError, match="integer"):
        df.shift(1.5)
    with pytest.raises(ValueError, match="one row per input row"):
        df.map_overlap(lambda p: p.head(1), 1, 0, meta=df._meta).compute()
    with pytest.raises(NotImplementedError, match="set that column as the index"):
        df.rolling(2, on="x")

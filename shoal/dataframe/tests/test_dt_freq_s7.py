"""``.dt.freq`` is pandas' inferred frequency of the whole column; ``.dt.to_period()`` asks for ``freq=``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq

FREQS = ["D", "2D", "B", "h", "3h", "min", "s", "ME", "MS", "BME", "W-SUN", "QE-DEC", "QS-JAN", "YE-DEC", "bh",
         "-1D", "-2h", "WOM-1MON"]


def pandas_freq(values: pd.Series) -> object:
    with pd.option_context("future.infer_freq_returns_offset", False):
        return values.dt.freq


@st.composite
def datetime_columns(draw: st.DrawFn) -> tuple[pd.Series, int]:
    freq = draw(st.sampled_from(FREQS))
    n = draw(st.integers(0, 40))
    tz = draw(st.sampled_from([None, "US/Eastern"]))
    unit = draw(st.sampled_from(["ns", "s"]))
    values = list(pd.date_range("2000-03-20 09:00", periods=n, freq=freq, tz=tz, unit=unit))
    change = draw(st.sampled_from(["none", "none", "drop", "swap", "nat", "repeat", "jitter"]))
    if values and change == "drop":
        del values[draw(st.integers(0, len(values) - 1))]
    elif len(values) > 1 and change == "swap":
        i = draw(st.integers(0, len(values) - 2))
        values[i], values[i + 1] = values[i + 1], values[i]
    elif values and change == "nat":
        values[draw(st.integers(0, len(values) - 1))] = pd.NaT
    elif values and change == "repeat":
        i = draw(st.integers(0, len(values) - 1))
        values.insert(i, values[i])
    elif values and change == "jitter":
        i = draw(st.integers(0, len(values) - 1))
        values[i] = values[i] + pd.Timedelta(draw(st.sampled_from(["1s", "1D", "-1h"])))
    dtype = f"datetime64[{unit}]" if tz is None else pd.DatetimeTZDtype(unit, tz)
    series = pd.Series(pd.array(values, dtype=dtype), dtype=dtype)
    return series, draw(st.integers(1, max(1, min(8, len(series)))))


@given(case=datetime_columns())
@settings(max_examples=150, deadline=None)
def test_freq_matches_pandas_on_the_whole_column(case: tuple[pd.Series, int]) -> None:
    series, nparts = case
    got = sd.from_pandas(series, npartitions=nparts).dt.freq.compute()
    assert got == pandas_freq(series)


@pytest.mark.parametrize("nparts", [1, 2, 5])
def test_freq_of_timedeltas(nparts: int) -> None:
    series = pd.Series(pd.timedelta_range(0, periods=20, freq="90min"))
    assert sd.from_pandas(series, npartitions=nparts).dt.freq.compute() == pandas_freq(series) == "90min"
    irregular = series.where(series.index != 7, pd.Timedelta("10h57min"))
    assert sd.from_pandas(irregular, npartitions=nparts).dt.freq.compute() is None
    assert pandas_freq(irregular) is None


def test_freq_sees_past_the_first_partition() -> None:
    # Regular days in the first partition, hours in the second: pandas finds no frequency, and shoal must not
    # answer with the first partition's "D".
    values = pd.Series(list(pd.date_range("2000-01-01", periods=4, freq="D"))
                       + list(pd.date_range("2000-02-01", periods=4, freq="h")))
    assert sd.from_pandas(values, npartitions=2).dt.freq.compute() is None
    # Monday..Wednesday looks daily; with the next week the column is business days.
    business = pd.Series(pd.date_range("2000-01-03", periods=8, freq="B"))
    got = sd.from_pandas(business, npartitions=3).dt.freq.compute()
    assert got == pandas_freq(business) == "B"


def test_freq_of_a_long_irregular_column_is_refused_by_each_partition() -> None:
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2000-01-01") + pd.to_timedelta(np.cumsum(rng.integers(1, 600, 5000)), unit="s")
    series = pd.Series(stamps)
    s = sd.from_pandas(series, npartitions=10)
    assert s.dt.freq.compute() is None and pandas_freq(series) is None


def test_freq_of_periods_is_known_from_the_dtype() -> None:
    series = pd.Series(pd.period_range("2000-01", periods=6, freq="M"))
    assert sd.from_pandas(series, npartitions=2).dt.freq == series.dt.freq


def test_freq_follows_pandas_option_for_offsets() -> None:
    series = pd.Series(pd.date_range("2000-01-01", periods=9, freq="D"))
    with pd.option_context("future.infer_freq_returns_offset", True):
        got = sd.from_pandas(series, npartitions=3).dt.freq
    assert got.compute() == pd.tseries.frequencies.to_offset("D")


def test_to_period_without_freq_names_the_fix() -> None:
    series = pd.Series(pd.date_range("2000-01-01", periods=9, freq="D"), name="when")
    s = sd.from_pandas(series, npartitions=3)
    with pytest.raises(ValueError, match=r"freq=.*s\.dt\.to_period\(s\.dt\.freq\.compute\(\)\)"):
        s.dt.to_period()
    # The suggested call gives what pandas gives without freq.
    assert_eq(s.dt.to_period(s.dt.freq.compute()), series.dt.to_period())
    assert_eq(s.dt.to_period("M"), series.dt.to_period("M"))

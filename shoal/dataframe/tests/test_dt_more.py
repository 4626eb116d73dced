"""``.dt`` names Dask offers on timedelta, datetime and period Series, against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq

TIMEDELTA_NAMES = ["components", "days", "seconds", "microseconds", "nanoseconds", "total_seconds"]
PERIOD_NAMES = ["qyear", "start_time", "end_time", "to_timestamp", "week", "weekofyear"]


def _value(obj, name):
    attr = getattr(obj.dt, name)
    return attr() if callable(attr) else attr


def _timedeltas(n: int, seed: int, missing: bool) -> pd.Series:
    rng = np.random.default_rng(seed)
    ns = rng.integers(-10**14, 10**14, n)
    s = pd.Series(pd.to_timedelta(ns, unit="ns"), name="t")
    if missing and n:
        s[rng.random(n) < 0.3] = pd.NaT
    return s


@given(n=st.integers(1, 30), seed=st.integers(0, 2**16), nparts=st.integers(1, 5), missing=st.booleans())
@settings(max_examples=25, deadline=None)
def test_timedelta_fields_match_pandas(n, seed, nparts, missing):
    s = _timedeltas(n, seed, missing)
    d = sd.from_pandas(s, npartitions=nparts)
    for name in TIMEDELTA_NAMES:
        got, want = _value(d, name), _value(s, name)
        if missing and s.isna().any() and name != "total_seconds":
            # pandas gives floats where a value is missing; the meta can only know the dtype of whole values.
            assert_eq(got, want, check_meta=False)
        else:
            assert_eq(got, want)


def test_timedelta_fields_meta_without_missing_values():
    s = _timedeltas(12, 0, missing=False)
    d = sd.from_pandas(s, npartitions=3)
    for name in TIMEDELTA_NAMES:
        want = _value(s, name)
        got = _value(d, name)
        if isinstance(want, pd.DataFrame):
            assert got._meta.dtypes.equals(want.dtypes)
        else:
            assert got._meta.dtype == want.dtype


@pytest.mark.parametrize("missing", [False, True])
def test_to_pytimedelta_is_a_series_of_python_timedeltas(missing):
    s = _timedeltas(11, 3, missing)
    d = sd.from_pandas(s, npartitions=4)
    got = d.dt.to_pytimedelta()
    with pytest.warns(Warning, match="to_pytimedelta"):  # pandas 3 deprecates its ndarray result
        want = s.dt.to_pytimedelta()
    assert got._meta.dtype == object
    result = got.compute()
    assert isinstance(result, pd.Series)
    assert result.index.equals(s.index) and result.name == "t"
    def plain(values):  # NaT != NaT: compare missing entries by position
        return [None if v is pd.NaT else v for v in values]

    assert plain(result.to_numpy()) == plain(want)
    assert all(v is pd.NaT for v in result[s.isna()])


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize("name", ["week", "weekofyear"])
def test_datetime_week_is_the_iso_week(name, tz):
    s = pd.Series(pd.date_range("2020-12-20", periods=40, freq="31h", tz=tz), name="when")
    s[5] = pd.NaT
    d = sd.from_pandas(s, npartitions=4)
    assert not hasattr(s.dt, name)  # pandas 3 dropped it: its replacement is isocalendar().week
    assert_eq(getattr(d.dt, name), s.dt.isocalendar().week.rename("when"))
    assert name in dir(d.dt)


def test_week_on_timedeltas_says_what_is_wrong():
    d = sd.from_pandas(_timedeltas(5, 1, False), npartitions=2)
    with pytest.raises(AttributeError, match="datetime or period"):
        _ = d.dt.week


@given(n=st.integers(1, 30), start=st.integers(0, 200), nparts=st.integers(1, 5),
       freq=st.sampled_from(["M", "Q", "D", "W", "h", "Y"]), missing=st.booleans())
@settings(max_examples=25, deadline=None)
def test_period_fields_match_pandas(n, start, nparts, freq, missing):
    s = pd.Series(pd.period_range(pd.Period("2001-01-01", freq="D") + start, periods=n, freq=freq), name="p")
    if missing:
        s[::3] = pd.NaT
    d = sd.from_pandas(s, npartitions=nparts)
    for name in PERIOD_NAMES:
        want = _value(s, name)
        assert_eq(_value(d, name), want, check_meta=not (missing and want.dtype.kind in "iu"))


def test_period_to_timestamp_takes_pandas_arguments():
    s = pd.Series(pd.period_range("2020-01", periods=9, freq="M"))
    d = sd.from_pandas(s, npartitions=3)
    assert_eq(d.dt.to_timestamp(how="end"), s.dt.to_timestamp(how="end"))
    assert_eq(d.dt.to_timestamp(freq="D"), s.dt.to_timestamp(freq="D"))

"""``rolling(...).cov``/``corr`` (and ``expanding``) across partition edges, against pandas on the whole frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@st.composite
def timed_frames(draw):
    """Two numeric frames on the same hourly index (some rows NaN), and two partition counts."""
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    x = rng.normal(size=(n, 2)).round(3)
    x[rng.random((n, 2)) < 0.15] = np.nan
    pdf = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "i": rng.integers(-5, 5, n)}, index=index)
    other = pd.DataFrame({"b": rng.normal(size=n), "d": rng.normal(size=n)}, index=index)
    if draw(st.booleans()) and n > 3:  # labels on one side only: pandas aligns on their union
        other = other.iloc[draw(st.integers(0, n // 2)):]
    return pdf, other, draw(st.integers(1, 6)), draw(st.integers(1, 6))


WINDOWS = st.sampled_from([
    {"window": 1}, {"window": 3}, {"window": 5, "min_periods": 2}, {"window": 4, "center": True},
    {"window": "3h"}, {"window": "5h", "closed": "both"},
])


def _windows(obj, kind, kwargs):
    return obj.rolling(**kwargs) if kind == "rolling" else obj.expanding(kwargs.get("min_periods", 1))


@given(case=timed_frames(), kwargs=WINDOWS, kind=st.sampled_from(["rolling", "expanding"]),
       method=st.sampled_from(["cov", "corr"]), ddof=st.sampled_from([0, 1]))
@settings(max_examples=25, deadline=None)
def test_series_with_series(case, kwargs, kind, method, ddof):
    pdf, other, n1, n2 = case
    d, o = sd.from_pandas(pdf, npartitions=n1), sd.from_pandas(other, npartitions=n2)
    got = getattr(_windows(d.a, kind, kwargs), method)(o.b, ddof=ddof)
    want = getattr(_windows(pdf.a, kind, kwargs), method)(other.b, ddof=ddof)
    assert_eq(got, want, atol=1e-9)
    # Without other: the Series with itself.
    assert_eq(getattr(_windows(d.i, kind, kwargs), method)(), getattr(_windows(pdf.i, kind, kwargs), method)(),
              atol=1e-9)


@given(case=timed_frames(), kwargs=WINDOWS, method=st.sampled_from(["cov", "corr"]),
       pairwise=st.sampled_from([None, True, False]))
@settings(max_examples=25, deadline=None)
def test_frame_pairwise_and_with_other(case, kwargs, method, pairwise):
    pdf, other, n1, n2 = case
    d, o = sd.from_pandas(pdf, npartitions=n1), sd.from_pandas(other, npartitions=n2)
    roll, proll = d.rolling(**kwargs), pdf.rolling(**kwargs)
    # No other: every pair of columns, indexed by (row label, column) unless pairwise=False.
    assert_eq(getattr(roll, method)(pairwise=pairwise), getattr(proll, method)(pairwise=pairwise), atol=1e-9,
              check_divisions=False)
    assert_eq(getattr(roll, method)(o, pairwise=pairwise), getattr(proll, method)(other, pairwise=pairwise),
              atol=1e-9)
    assert_eq(getattr(roll, method)(o.d), getattr(proll, method)(other.d), atol=1e-9)
    assert_eq(getattr(d.a.rolling(**kwargs), method)(o), getattr(pdf.a.rolling(**kwargs), method)(other),
              atol=1e-9)


def test_pairwise_result_keeps_pandas_row_order_and_index():
    pdf = pd.DataFrame({"a": [1.0, 2.0, 4.0, 7.0, 3.0], "b": [1.0, 3.0, 2.0, 5.0, 0.0]},
                       index=pd.Index([10, 20, 30, 40, 50], name="t"))
    got = sd.from_pandas(pdf, npartitions=3).rolling(2).cov()
    assert got.divisions == (None,) * 4
    result = got.compute()
    pd.testing.assert_frame_equal(result, pdf.rolling(2).cov())
    assert result.index.names == ["t", None]


def test_other_may_be_pandas():
    pdf = pd.DataFrame({"a": np.arange(10.0) ** 2, "b": np.sin(np.arange(10.0))})
    d = sd.from_pandas(pdf, npartitions=3)
    assert_eq(d.a.rolling(3).corr(pdf.b), pdf.a.rolling(3).corr(pdf.b))
    assert_eq(d.rolling(3).cov(pdf), pdf.rolling(3).cov(pdf))


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"other": [1, 2, 3]}, TypeError, "other must be a shoal or pandas"),
    ({"pairwise": "yes"}, TypeError, "pairwise must be"),
    ({"ddof": 1.5}, TypeError, "ddof must be an integer"),
])
def test_bad_arguments(kwargs, error, match):
    d = sd.from_pandas(pd.DataFrame({"a": np.arange(6.0)}), npartitions=2)
    with pytest.raises(error, match=match):
        d.a.rolling(2).cov(**kwargs)

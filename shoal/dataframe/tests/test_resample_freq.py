"""``resample(...)`` results carry the index ``freq`` pandas sets, for any partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq

RULES = ["D", "2h", "15min", "3D", "W", "ME", "h"]


@st.composite
def timed(draw):
    """A frame on a sorted datetime index with irregular gaps, and a partition count."""
    n = draw(st.integers(1, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    steps = rng.integers(1, draw(st.sampled_from([30, 300, 3000])), n)  # minutes between rows
    index = pd.Timestamp("2024-02-27 05:17") + pd.to_timedelta(np.cumsum(steps), unit="min")
    pdf = pd.DataFrame({"x": rng.normal(size=n).round(3), "y": rng.integers(0, 9, n)}, index=index)
    return pdf, draw(st.integers(1, 6))


@given(case=timed(), rule=st.sampled_from(RULES), method=st.sampled_from(["sum", "mean", "count", "max", "first"]))
@settings(max_examples=60, deadline=None)
def test_resample_matches_pandas_including_freq(case, rule, method):
    pdf, nparts = case
    d = sd.from_pandas(pdf, npartitions=nparts)
    want = getattr(pdf.x.resample(rule), method)()
    got = getattr(d.x.resample(rule), method)()
    assert_eq(got, want, check_freq=True)
    assert got.compute().index.freq == want.index.freq
    if method in ("sum", "count"):  # integers stay integers in these, empty bins or not
        assert_eq(getattr(d.resample(rule), method)(), getattr(pdf.resample(rule), method)(), check_freq=True)


@pytest.mark.parametrize("rule", ["D", "3D", "2h"])
@pytest.mark.parametrize("kwargs", [{}, {"closed": "right", "label": "right"}, {"origin": "start"}])
def test_freq_with_closed_label_and_origin(rule, kwargs):
    index = pd.date_range("2024-01-01 03:00", periods=100, freq="97min")
    pdf = pd.DataFrame({"x": np.arange(100.0)}, index=index)
    d = sd.from_pandas(pdf, npartitions=5)
    want = pdf.resample(rule, **kwargs).mean()
    assert_eq(d.resample(rule, **kwargs).mean(), want, check_freq=True)
    assert_eq(d.resample(rule, **kwargs).size(), pdf.resample(rule, **kwargs).size(), check_freq=True)


def test_multi_day_bins_anchor_where_pandas_does():
    # pandas 3 no longer counts days as a fixed span (Tick), but '3D' bins still start at the first day.
    index = pd.date_range("2024-01-01 05:00", periods=200, freq="37min")
    pdf = pd.DataFrame({"x": np.arange(200.0)}, index=index)
    for nparts in (2, 3, 7):
        assert_eq(sd.from_pandas(pdf, npartitions=nparts).resample("3D").sum(), pdf.resample("3D").sum(),
                  check_freq=True)

"""describe() of every kind of column, against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as dd
from shoal.dataframe.utils import assert_eq


def mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({
        "x": rng.normal(size=n),
        "i": rng.integers(0, 5, n),
        # Skewed, so that the most frequent value is not a tie.
        "s": rng.choice(list("abcdefg"), n, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05]),
        "b": rng.random(n) > 0.3,
        "t": pd.date_range("2020-01-01", periods=n, freq="h"),
        "c": pd.Categorical(rng.choice(["u", "v", "w"], n, p=[0.5, 0.3, 0.2]), categories=["u", "v", "w", "z"]),
        "td": pd.to_timedelta(rng.integers(0, 1000, n), unit="s"),
    })
    pdf.loc[::7, "x"] = np.nan
    pdf.loc[::5, "s"] = None
    return pdf


@pytest.mark.parametrize("kwargs", [
    {}, {"include": "all"}, {"exclude": ["number"]}, {"percentiles": [0.1, 0.9]}, {"percentiles": [0.333, 0.5]},
    {"include": ["datetime"]}, {"include": "category"}, {"include": "bool"}, {"include": ["timedelta"]},
])
def test_frame_describe_matches_pandas(kwargs):
    pdf = mixed_frame(300)
    ddf = dd.from_pandas(pdf, npartitions=4)
    assert_eq(ddf.describe(**kwargs), pdf.describe(**kwargs), sort_results=False)  # pandas' row order too


@pytest.mark.parametrize("column", ["x", "i", "s", "b", "t", "c", "td"])
def test_series_describe_matches_pandas(column):
    pdf = mixed_frame(250, seed=1)
    ddf = dd.from_pandas(pdf, npartitions=3)
    assert_eq(ddf[column].describe(), pdf[column].describe(), sort_results=False)
    assert_eq(ddf[column].describe(percentiles=[0.05]), pdf[column].describe(percentiles=[0.05]), sort_results=False)


def test_only_text_columns_and_empty_partitions():
    pdf = pd.DataFrame({"s": ["a", "b", "a", None, "a", "c"], "k": list("xyzxyx")})
    ddf = dd.from_pandas(pdf, npartitions=3)
    assert_eq(ddf.describe(), pdf.describe(), sort_results=False)
    # Partitions that a filter leaves empty, and a column with no values at all.
    assert_eq(ddf[ddf.k == "x"].describe(), pdf[pdf.k == "x"].describe())
    empty = pd.DataFrame({"s": pd.Series([None, None], dtype=object)})
    assert_eq(dd.from_pandas(empty, npartitions=2).s.describe(), empty.s.describe())


def test_bad_arguments_raise_pandas_errors_before_computing():
    ddf = dd.from_pandas(mixed_frame(20), npartitions=2)
    with pytest.raises(ValueError, match="percentiles"):
        ddf.describe(percentiles=[1.5])
    with pytest.raises(ValueError, match="percentiles_method"):
        ddf.describe(percentiles_method="fast")


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=60),
       npartitions=st.integers(1, 6))
def test_numeric_describe_any_partitioning(values, npartitions):
    s = pd.Series(values, dtype="f8", name="v")
    got = dd.from_pandas(s, npartitions=npartitions).describe().compute()
    pd.testing.assert_series_equal(got, s.describe(), rtol=1e-9, atol=1e-6)

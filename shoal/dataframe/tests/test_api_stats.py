"""sem, skew, kurtosis, median, cov, corr, reduction and nbytes against pandas (and SciPy) on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings

import shoal.dataframe as dd
from shoal.dataframe.tests.strategies import frames

NUMERIC = ["i", "x", "k", "b"]


def close(got, expected, rtol: float = 1e-8, atol: float = 1e-9) -> None:
    if isinstance(expected, pd.DataFrame):
        assert isinstance(got, pd.DataFrame)
        assert list(got.index) == list(expected.index) and list(got.columns) == list(expected.columns)
    elif isinstance(expected, pd.Series):
        assert isinstance(got, pd.Series)
        assert list(got.index) == list(expected.index)
        assert got.dtype == expected.dtype
    np.testing.assert_allclose(np.asarray(got, dtype="f8"), np.asarray(expected, dtype="f8"), rtol=rtol, atol=atol,
                               equal_nan=True)


def quiet(func, *args, **kwargs):
    """The pandas/SciPy reference, whose own warnings (empty or constant data) are not under test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def scipy_per_column(pdf: pd.DataFrame, func, **kwargs) -> pd.Series:
    # SciPy warns about precision on (nearly) constant columns; the value it returns is what we compare.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pd.Series({c: float(func(pdf[c].astype("f8"), **kwargs)) for c in pdf.columns}, dtype="f8")


@settings(max_examples=25, deadline=None)
@given(frames())
def test_moments_match_pandas(case):
    pdf, nparts = case
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    close(ddf.sem(numeric_only=True).compute(), quiet(pdf.sem, numeric_only=True))
    close(ddf.sem(numeric_only=True, ddof=0, split_every=2).compute(), quiet(pdf.sem, numeric_only=True, ddof=0))
    # bias=False is pandas' estimator; large-ish moments of short columns need a looser relative tolerance.
    close(ddf.skew(numeric_only=True, bias=False, nan_policy="omit").compute(), quiet(pdf.skew, numeric_only=True),
          rtol=1e-6, atol=1e-6)
    close(ddf.kurtosis(numeric_only=True, bias=False, nan_policy="omit").compute(),
          quiet(pdf.kurt, numeric_only=True), rtol=1e-6, atol=1e-6)
    close(ddf.x.sem().compute(), quiet(pdf.x.sem))


@settings(max_examples=12, deadline=None)
@given(frames(min_rows=1))
def test_biased_moments_match_scipy(case):
    pdf, nparts = case
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    num = pdf[NUMERIC]
    for policy in ("omit", "propagate"):
        close(ddf.skew(numeric_only=True, nan_policy=policy).compute(),
              scipy_per_column(num, scipy.stats.skew, nan_policy=policy), rtol=1e-6, atol=1e-6)
        for fisher in (True, False):
            close(ddf.kurtosis(numeric_only=True, fisher=fisher, nan_policy=policy).compute(),
                  scipy_per_column(num, scipy.stats.kurtosis, fisher=fisher, nan_policy=policy), rtol=1e-6,
                  atol=1e-6)


def test_moments_stay_accurate_far_from_zero():
    rng = np.random.default_rng(1)
    s = pd.Series(1e9 + rng.normal(size=2000))
    ds = dd.from_pandas(s, npartitions=16)
    close(ds.skew(bias=False).compute(), s.skew(), rtol=1e-5)
    close(ds.kurt(bias=False).compute(), s.kurt(), rtol=1e-5)
    close(ds.sem().compute(), s.sem(), rtol=1e-9)


def test_series_results_are_float_scalars_and_nullable_data_works():
    s = pd.Series([1, 5, None, 2, 9, 4], dtype="Int64")
    ds = dd.from_pandas(s, npartitions=3)
    got = ds.skew(bias=False, nan_policy="omit").compute()
    assert isinstance(got, np.float64)
    close(got, s.skew())
    assert np.isnan(ds.skew().compute())  # propagate: a null gives NaN, as in scipy.stats
    close(ds.sem(skipna=True).compute(), s.sem())
    assert np.isnan(ds.sem(skipna=False).compute())


def test_rowwise_moments():
    pdf = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 0.0, 5.0, 1.0], "c": [7.0, 1.0, 3.0, 0.5],
                        "d": [0.0, 9.0, 1.0, 2.0]})
    ddf = dd.from_pandas(pdf, npartitions=2)
    close(ddf.skew(axis=1, bias=False).compute(), pdf.skew(axis=1))
    close(ddf.kurtosis(axis=1, bias=False).compute(), pdf.kurt(axis=1))
    close(ddf.sem(axis=1).compute(), pdf.sem(axis=1))


@settings(max_examples=20, deadline=None)
@given(frames())
def test_cov_corr_match_pandas(case):
    pdf, nparts = case
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    close(ddf.cov(numeric_only=True).compute(), quiet(pdf.cov, numeric_only=True))
    close(ddf.corr(numeric_only=True, split_every=2).compute(), quiet(pdf.corr, numeric_only=True))
    # pandas ignores ddof once a column holds nulls (its pairwise path always divides by n - 1): compare on
    # the null-free columns.
    full = ddf[["i", "k", "b"]]
    close(full.cov(min_periods=5, ddof=0).compute(), quiet(pdf[["i", "k", "b"]].cov, min_periods=5, ddof=0))
    close(ddf.corr(numeric_only=True, min_periods=6).compute(), quiet(pdf.corr, numeric_only=True, min_periods=6))
    close(ddf.x.cov(ddf.i).compute(), quiet(pdf.x.cov, pdf.i))
    close(ddf.i.corr(ddf.x, min_periods=3).compute(), quiet(pdf.i.corr, pdf.x, min_periods=3))


def test_corr_of_shifted_data_and_constant_columns():
    rng = np.random.default_rng(2)
    pdf = pd.DataFrame({"a": 1e8 + rng.normal(size=500), "b": rng.normal(size=500), "c": 3.0})
    pdf["b"] += pdf["a"] - 1e8
    ddf = dd.from_pandas(pdf, npartitions=7)
    close(ddf.corr().compute(), pdf.corr(), rtol=1e-7)
    close(ddf.cov().compute(), pdf.cov(), rtol=1e-7)


def test_series_corr_aligns_within_partitions():
    a = pd.Series([1.0, 2.0, 4.0, 3.0, 8.0, 5.0], index=[0, 1, 2, 3, 4, 5])
    b = pd.Series([2.0, 1.0, 7.0, 3.0], index=[0, 2, 3, 5])
    da = dd.from_pandas(a, npartitions=1)
    db = dd.from_pandas(b, npartitions=1)
    close(da.corr(db).compute(), a.corr(b))
    close(da.cov(db).compute(), a.cov(b))


def test_median_exact_where_dask_has_it():
    pdf = pd.DataFrame({"x": [5.0, 1.0, np.nan, 3.0, 2.0], "y": [1, 2, 3, 4, 10], "s": list("abcde")})
    one = dd.from_pandas(pdf, npartitions=1)
    close(one.median(numeric_only=True).compute(), pdf.median(numeric_only=True))
    close(one.x.median().compute(), pdf.x.median())
    many = dd.from_pandas(pdf, npartitions=3)
    with pytest.raises(NotImplementedError, match="median_approximate"):
        many.median(numeric_only=True)
    with pytest.raises(NotImplementedError, match="median_approximate"):
        many.x.median()
    close(many.median(axis=1, numeric_only=True).compute(), pdf.median(axis=1, numeric_only=True))
    close(many.median_approximate(numeric_only=True).compute(), pdf.median(numeric_only=True))
    close(many.y.median_approximate().compute(), pdf.y.median())


@settings(max_examples=15, deadline=None)
@given(frames(min_rows=1))
def test_median_approximate_is_exact(case):
    pdf, nparts = case
    ddf = dd.from_pandas(pdf, npartitions=nparts)
    close(ddf.median_approximate(numeric_only=True).compute(), quiet(pdf.median, numeric_only=True))
    close(ddf.x.median_approximate().compute(), quiet(pdf.x.median))


def test_reduction_with_scalar_series_and_frame_partials():
    pdf = pd.DataFrame({"x": range(20), "y": np.arange(20) * 0.5})
    ddf = dd.from_pandas(pdf, npartitions=5)
    # Scalars: a Series of partials reaches aggregate.
    total = ddf.x.reduction(lambda s: s.sum(), aggregate=lambda s: s.sum(), split_every=2)
    assert total.compute() == pdf.x.sum()
    # Series: a frame with one row per partial.
    out = ddf.reduction(lambda d: d.max(), aggregate=lambda d: d.max(), combine=lambda d: d.max(),
                        split_every=2).compute()
    close(out, pdf.max().astype("f8"), rtol=0)
    # Frames: concatenated; keyword arguments reach each function.
    top = ddf.reduction(lambda d, n: d.nlargest(n, "x"), aggregate=lambda d, n: d.nlargest(n, "x"),
                        chunk_kwargs={"n": 3}, aggregate_kwargs={"n": 3}, combine_kwargs={"n": 3},
                        split_every=2, meta=pdf.iloc[:0])
    pd.testing.assert_frame_equal(top.compute(), pdf.nlargest(3, "x"))
    counted = ddf.x.reduction(lambda s, bias: s.count() + bias, aggregate=lambda s, bias: s.sum() - bias, bias=1,
                              token="count-plus")
    assert counted.compute() == 20 + 5 - 1
    assert "count-plus" in counted._name


def test_reduction_bad_input():
    ddf = dd.from_pandas(pd.DataFrame({"x": [1, 2]}), npartitions=1)
    with pytest.raises(TypeError, match="chunk must be a function"):
        ddf.reduction(3)
    with pytest.raises(ValueError, match="meta="):
        ddf.reduction(lambda d: d.missing_attribute)
    with pytest.raises(ValueError, match="split_every"):
        ddf.reduction(lambda d: d.sum(), split_every=1)


def test_nbytes():
    s = pd.Series(np.arange(10, dtype="i4"))
    ds = dd.from_pandas(s, npartitions=3)
    assert ds.nbytes.compute() == s.nbytes
    assert not hasattr(dd.from_pandas(s.to_frame(), npartitions=1), "nbytes")


def test_string_columns_and_bad_input_raise_at_build_time():
    pdf = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": pd.Series(["a", "b", "c"], dtype="str")})
    ddf = dd.from_pandas(pdf, npartitions=2)
    for method in ("sem", "skew", "kurtosis", "median_approximate"):
        with pytest.raises(TypeError, match=r"\['s'\].*numeric_only=True"):
            getattr(ddf, method)()
        with pytest.raises(TypeError, match="Series 's'"):
            getattr(ddf.s, method)()
    with pytest.raises(ValueError, match=r"\['s'\]"):
        ddf.corr()
    with pytest.raises(ValueError, match=r"\['s'\]"):
        ddf.cov()
    close(ddf.cov(numeric_only=True).compute(), pdf.cov(numeric_only=True))
    with pytest.raises(NotImplementedError, match="pearson"):
        ddf.corr(method="spearman", numeric_only=True)
    with pytest.raises(NotImplementedError, match="pearson"):
        ddf.x.corr(ddf.x, method="kendall")
    with pytest.raises(ValueError, match="nan_policy"):
        ddf.x.skew(nan_policy="raise")
    with pytest.raises(ValueError, match="axis"):
        ddf.sem(axis=2, numeric_only=True)
    with pytest.raises(ValueError, match="min_periods"):
        ddf.corr(numeric_only=True, min_periods=-1)
    with pytest.raises(TypeError, match="shoal Series"):
        ddf.x.cov(pdf.x)
    other = dd.from_pandas(pd.Series([1.0, 2.0, 3.0]), npartitions=3)
    with pytest.raises(ValueError, match="partitions"):
        ddf.x.corr(other)
    with pytest.raises(ValueError, match="method"):
        ddf.x.median_approximate(method="exact")

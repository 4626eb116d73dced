from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


@given(case=frames(), split_every=st.sampled_from([None, 2, 3]))
@settings(max_examples=12, deadline=None)
def test_reductions_match_pandas(case, split_every):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    num = ["i", "x", "k"]
    assert_eq(df.x.prod(), pdf.x.prod())  # integer products overflow differently; floats only
    for name in ("sum", "min", "max", "count"):
        assert_eq(getattr(df.x, name)(split_every=split_every), getattr(pdf.x, name)())
        assert_eq(getattr(df.i, name)(split_every=split_every), getattr(pdf.i, name)())
        assert_eq(getattr(df[num], name)(split_every=split_every), getattr(pdf[num], name)())
    assert_eq(df.b.any(), pdf.b.any())
    assert_eq(df.b.all(), pdf.b.all())
    for name in ("mean", "var", "std"):
        assert_eq(getattr(df.x, name)(split_every=split_every), getattr(pdf.x, name)())
        assert_eq(getattr(df[num], name)(split_every=split_every), getattr(pdf[num], name)())
    assert_eq(df.x.var(ddof=0), pdf.x.var(ddof=0))
    assert_eq(df.count(), pdf.count())
    assert_eq(df.sum(numeric_only=True), pdf.sum(numeric_only=True))
    assert_eq(df.x.nunique(split_every=split_every), pdf.x.nunique())
    assert_eq(df.s.nunique(), pdf.s.nunique())
    assert_eq(df.nunique(), pdf.nunique())
    assert_eq(df.k.value_counts(split_every=split_every), pdf.k.value_counts())
    assert_eq(df.s.value_counts(normalize=True), pdf.s.value_counts(normalize=True))
    assert_eq(df.x.value_counts(dropna=False), pdf.x.value_counts(dropna=False))
    assert len(df) == len(pdf)
    assert df.size.compute() == pdf.size


@given(case=frames(min_rows=1, with_nan=False))
@settings(max_examples=10, deadline=None)
def test_describe_and_quantile(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert_eq(df.x.quantile(0.3), pdf.x.quantile(0.3))
    assert_eq(df.x.describe(), pdf.x.describe(), check_exact=False)
    assert_eq(df[["i", "x"]].describe(), pdf[["i", "x"]].describe(), check_exact=False)


def test_var_is_accurate_with_large_offset():
    rng = np.random.default_rng(1)
    values = 1e9 + rng.normal(size=10_000)
    pdf = pd.DataFrame({"x": values})
    df = sd.from_pandas(pdf, npartitions=7)
    assert np.isclose(df.x.var().compute(), pdf.x.var(), rtol=1e-9)


def test_row_wise_reductions():
    pdf = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [4.0, 5.0, 6.0]})
    df = sd.from_pandas(pdf, npartitions=2)
    assert_eq(df.sum(axis=1), pdf.sum(axis=1))
    assert_eq(df.mean(axis=1), pdf.mean(axis=1))
    with pytest.raises(ValueError, match="No axis named 2"):
        df.sum(axis=2)


def test_reductions_are_tree_reduced():
    df = sd.from_pandas(pd.DataFrame({"x": range(100)}), npartitions=20)
    graph = df.x.sum(split_every=4).__dask_graph__()
    levels = {k[0].rsplit("-", 1)[-1] if "combine" in k[0] else k[0].split("-")[0] for k in graph}
    assert any("combine" in str(k[0]) for k in graph), levels
    assert df.x.sum(split_every=4).compute() == 4950


def test_unique():
    pdf = pd.DataFrame({"x": [3, 1, 3, 2, 1]})
    df = sd.from_pandas(pdf, npartitions=2)
    assert sorted(df.x.unique().compute().tolist()) == [1, 2, 3]


def test_bad_split_every_raises_at_build_time():
    df = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    with pytest.raises(ValueError, match="split_every must be at least 2"):
        df.x.sum(split_every=1)

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

AGGS = ["sum", "mean", "count", "min", "max", "std", "var", "size", "first", "last"]


@given(case=frames(min_rows=1), split_every=st.sampled_from([None, 2]))
@settings(max_examples=6, deadline=None)
def test_groupby_aggregations_match_pandas(case, split_every):
    pdf, nparts = case
    pdf = pdf.drop(columns=["s"])
    df = sd.from_pandas(pdf, npartitions=nparts)
    for name in AGGS:
        assert_eq(getattr(df.groupby("k"), name)(split_every=split_every), getattr(pdf.groupby("k"), name)(),
                  check_exact=False)
        assert_eq(getattr(df.groupby("k").x, name)(), getattr(pdf.groupby("k").x, name)(), check_exact=False)
        assert_eq(getattr(df.groupby(["k", "b"]).i, name)(), getattr(pdf.groupby(["k", "b"]).i, name)(),
                  check_exact=False)


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_groupby_agg_forms(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    num, pnum = df[["k", "i", "x"]], pdf[["k", "i", "x"]]
    assert_eq(num.groupby("k").agg(["sum", "mean", "std"]), pnum.groupby("k").agg(["sum", "mean", "std"]),
              check_exact=False)
    spec = {"x": "sum", "i": ["min", "max", "count"]}
    assert_eq(df.groupby("k").agg(spec), pdf.groupby("k").agg(spec), check_exact=False)
    assert_eq(df.groupby("s").agg({"x": "mean"}), pdf.groupby("s").agg({"x": "mean"}), check_exact=False)
    assert_eq(df.groupby("k").agg(total=("x", "sum"), n=("i", "count"), sd=("x", "std")),
              pdf.groupby("k").agg(total=("x", "sum"), n=("i", "count"), sd=("x", "std")), check_exact=False)
    assert_eq(df.groupby("k").x.agg(["min", "var"]), pdf.groupby("k").x.agg(["min", "var"]), check_exact=False)
    assert_eq(df.groupby(df.k).i.sum(), pdf.groupby(pdf.k).i.sum())
    assert_eq(df.x.groupby(df.s).mean(), pdf.x.groupby(pdf.s).mean(), check_exact=False)
    assert_eq(df.groupby("k", sort=False).i.sum(), pdf.groupby("k").i.sum())
    assert_eq(df.groupby("s").size(), pdf.groupby("s").size())


def test_groupby_dropna():
    pdf = pd.DataFrame({"k": [1.0, np.nan, 1.0, 2.0, np.nan], "x": [1, 2, 3, 4, 5]})
    df = sd.from_pandas(pdf, npartitions=2)
    assert_eq(df.groupby("k").x.sum(), pdf.groupby("k").x.sum())
    assert_eq(df.groupby("k", dropna=False).x.sum(), pdf.groupby("k", dropna=False).x.sum())


def test_groupby_reads_only_needed_columns():
    pdf = pd.DataFrame({"k": [1, 2, 1], "x": [1.0, 2.0, 3.0], "unused": ["a", "b", "c"]})
    df = sd.from_pandas(pdf, npartitions=2)
    from shoal.dataframe._lower import walk
    plan = df.groupby("k").x.mean().optimize()
    readers = [e for e in walk(plan._expr) if type(e).__name__ == "FromPandas"]
    assert readers[0].columns == ["k", "x"]


def test_groupby_bad_input():
    df = sd.from_pandas(pd.DataFrame({"k": [1, 2], "x": [1.0, 2.0]}), npartitions=1)
    with pytest.raises(KeyError, match=r"\['nope'\] not found. Available columns: \['k', 'x'\]"):
        df.groupby("nope")
    with pytest.raises(KeyError, match="nope"):
        df.groupby("k")["nope"]
    with pytest.raises(KeyError, match="nope"):
        df.groupby("k").agg({"nope": "sum"})
    with pytest.raises(NotImplementedError, match="ohlc"):
        df.groupby("k").agg("ohlc")


@pytest.mark.parametrize("split_out", [2, 3])
def test_groupby_split_out(split_out):
    rng = np.random.default_rng(3)
    pdf = pd.DataFrame({"k": rng.integers(0, 50, 500), "j": rng.choice(["a", "b"], 500), "x": rng.normal(size=500)})
    df = sd.from_pandas(pdf, npartitions=12)
    result = df.groupby("k").x.mean(split_out=split_out, split_every=3)
    assert result.npartitions == split_out
    assert_eq(result, pdf.groupby("k").x.mean(), check_exact=False)
    multi = df.groupby(["k", "j"]).agg({"x": ["sum", "std"]}, split_out=split_out)
    assert_eq(multi, pdf.groupby(["k", "j"]).agg({"x": ["sum", "std"]}), check_exact=False)
    with pytest.raises(ValueError, match="split_out must be at least 1"):
        df.groupby("k").x.sum(split_out=0)

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import shoal.dataframe as sd
from shoal.dataframe._groupby_shuffle import Aggregation
from shoal.dataframe.tests.strategies import frames


def _unique_index(pdf: pd.DataFrame) -> pd.DataFrame:
    # Rows come back in partition order; a unique index makes sort_index a total order.
    return pdf.reset_index(drop=True)


def _same(result, expected):
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(result, expected, check_exact=False)
    else:
        pd.testing.assert_series_equal(result, expected, check_exact=False)


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_apply_and_transform_match_pandas(case):
    pdf, nparts = case
    pdf = _unique_index(pdf)
    df = sd.from_pandas(pdf, npartitions=nparts)

    def summary(g):
        return g.x.sum() + g.i.max()

    _same(df.groupby("k").apply(summary).compute().sort_index(), pdf.groupby("k").apply(summary))

    def demean(g):
        return g.assign(z=g.x - g.x.mean())

    _same(df.groupby(["k", "b"]).apply(demean).compute().sort_index(),
          pdf.groupby(["k", "b"]).apply(demean).sort_index())
    _same(df.groupby("s").x.transform(lambda s: s - s.mean()).compute().sort_index(),
          pdf.groupby("s").x.transform(lambda s: s - s.mean()))
    _same(df.groupby("k")[["i", "x"]].transform("sum").compute().sort_index(),
          pdf.groupby("k")[["i", "x"]].transform("sum"))


def test_apply_with_meta_skips_inference():
    pdf = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 2.0, 3.0, 4.0]})
    df = sd.from_pandas(pdf, npartitions=2)
    calls = []

    def f(g):
        calls.append(len(g))
        return g.x.max()

    out = df.groupby("k").apply(f, meta=("x", "f8"))
    assert calls == []
    assert out._meta.dtype == np.float64
    _same(out.compute().sort_index(), pdf.groupby("k").apply(f).rename("x"))  # named after meta, as in Dask


def test_apply_meta_inference_failure_asks_for_meta():
    df = sd.from_pandas(pd.DataFrame({"k": [1, 2], "x": [1.0, 2.0]}), npartitions=1)

    def bad(g):
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match="meta="):
        df.groupby("k").apply(bad)


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_cumulative_match_pandas(case):
    pdf, nparts = case
    pdf = _unique_index(pdf)[["k", "b", "i", "x"]]
    df = sd.from_pandas(pdf, npartitions=nparts)
    for name in ("cumsum", "cumprod", "cumcount"):
        _same(getattr(df.groupby("k"), name)().compute().sort_index(), getattr(pdf.groupby("k"), name)())
        _same(getattr(df.groupby(["k", "b"]).x, name)().compute().sort_index(),
              getattr(pdf.groupby(["k", "b"]).x, name)())
    _same(df.groupby("k").cumcount(ascending=False).compute().sort_index(),
          pdf.groupby("k").cumcount(ascending=False))


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_nunique_matches_pandas(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    _same(df.groupby("k").s.nunique().compute(), pdf.groupby("k").s.nunique())
    _same(df.groupby(["k", "b"]).x.nunique(split_every=2).compute(), pdf.groupby(["k", "b"]).x.nunique())


@given(case=frames(min_rows=1, with_nan=False))
@settings(max_examples=6, deadline=None)
def test_custom_aggregation_matches_pandas(case):
    pdf, nparts = case
    pdf = pdf[["k", "b", "i", "x"]]
    df = sd.from_pandas(pdf, npartitions=nparts)
    custom_sum = Aggregation("custom_sum", lambda s: s.sum(), lambda s: s.sum())
    custom_mean = Aggregation("custom_mean", lambda s: (s.count(), s.sum()), lambda c, s: (c.sum(), s.sum()),
                              lambda c, s: s / c)
    _same(df.groupby("k").agg(custom_sum, split_every=2).compute(), pdf.groupby("k").sum())
    _same(df.groupby(["k", "b"]).x.agg(custom_mean).compute().rename("x"), pdf.groupby(["k", "b"]).x.mean())
    out = df.groupby("k").agg({"x": custom_mean, "i": custom_sum}).compute()
    _same(out, pdf.groupby("k").agg({"x": "mean", "i": "sum"}))
    out = df.groupby("k").x.agg([custom_mean, custom_sum]).compute()
    expected = pdf.groupby("k").x.agg(["mean", "sum"])
    expected.columns = ["custom_mean", "custom_sum"]
    _same(out, expected)


def test_custom_aggregation_is_exported_and_rejects_mixing():
    assert sd.Aggregation is Aggregation
    df = sd.from_pandas(pd.DataFrame({"k": [1, 2], "x": [1.0, 2.0]}), npartitions=1)
    custom = Aggregation("c", lambda s: s.sum(), lambda s: s.sum())
    with pytest.raises(NotImplementedError, match="cannot mix"):
        df.groupby("k").agg([custom, "sum"])


def test_shuffle_ops_accept_a_column_as_series():
    # Grouping by df.k is grouping by the column "k" (issue 5 lifted the column-names-only limit).
    pdf = pd.DataFrame({"k": [1, 2, 1], "x": [1.0, 2.0, 3.0]})
    df = sd.from_pandas(pdf, npartitions=2)
    _same(df.groupby(df.k).cumsum().compute().sort_index(), pdf.groupby(pdf.k).cumsum())

"""pivot_table, nunique_approx, memory_usage, grouping by Series, groupby().rolling, map_partitions(len)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._approx import RELATIVE_ERROR
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

KINDS = pd.CategoricalDtype(["a", "b", "c", "d", "unused"])


def _same(result, expected):
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(result, expected, check_exact=False)
    else:
        pd.testing.assert_series_equal(result, expected, check_exact=False)


def _pivot_frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n).round(3)
    y[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "day": rng.integers(0, 6, n),
        "kind": pd.Categorical(rng.choice(["a", "b", "c", "d"], n), dtype=KINDS),
        "x": rng.integers(-5, 5, n),
        "y": y,
        "s": rng.choice(["p", "q"], n),
    })


# -- pivot_table ----------------------------------------------------------------------------------

@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 40), nparts=st.integers(1, 5),
       split_every=st.sampled_from([None, 2]))
@settings(max_examples=4, deadline=None)
def test_pivot_table_matches_pandas(seed, n, nparts, split_every):
    pdf = _pivot_frame(seed, n)
    df = sd.from_pandas(pdf, npartitions=nparts)
    for aggfunc in ("mean", "sum", "count", "first", "last"):
        cases = ["x", "y", ["y", "x"]] + ([["x", "s"], None] if aggfunc in ("count", "first", "last") else [])
        for values in cases:
            result = sd.pivot_table(df, index="day", columns="kind", values=values, aggfunc=aggfunc,
                                    split_every=split_every)
            expected = pdf.pivot_table(index="day", columns="kind", values=values, aggfunc=aggfunc, observed=False,
                                       dropna=False)
            # Every category is a column and the dtypes are known before computing.
            pd.testing.assert_frame_equal(result._meta, expected.iloc[:0])
            pd.testing.assert_frame_equal(result.compute(), expected)


def test_pivot_table_method_and_categorize():
    pdf = _pivot_frame(1, 30).assign(kind=lambda f: f.kind.astype(str))
    df = sd.from_pandas(pdf, npartitions=3).categorize(columns=["kind"])
    expected = pdf.astype({"kind": "category"}).pivot_table(index="day", columns="kind", values="y", observed=False,
                                                            dropna=False)
    _same(df.pivot_table(index="day", columns="kind", values="y").compute(), expected)


def test_pivot_table_bad_input():
    pdf = _pivot_frame(2, 10)
    df = sd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ValueError, match=r"categorical.*df.categorize\(columns=\['s'\]\)"):
        sd.pivot_table(df, index="day", columns="s", values="x")
    unknown = df.astype({"s": "category"})
    with pytest.raises(ValueError, match=r"categories of 'columns' \('s'\) are unknown.*categorize"):
        sd.pivot_table(unknown, index="day", columns="s", values="x")
    with pytest.raises(ValueError, match=r"'index' must be the name of one existing column, got 'nope'"):
        sd.pivot_table(df, index="nope", columns="kind", values="x")
    with pytest.raises(ValueError, match=r"'values' must name existing columns; \['zz'\]"):
        sd.pivot_table(df, index="day", columns="kind", values=["x", "zz"])
    with pytest.raises(ValueError, match="aggfunc must be one of"):
        sd.pivot_table(df, index="day", columns="kind", values="x", aggfunc="median")
    with pytest.raises(TypeError, match="shoal DataFrame"):
        sd.pivot_table(pdf, index="day", columns="kind", values="x")


# -- nunique_approx -------------------------------------------------------------------------------

def test_nunique_approx_large_within_documented_error():
    values = pd.Series(np.arange(100_000, dtype="i8") * 7919 % 1_000_003)
    s = sd.from_pandas(pd.concat([values, values.iloc[::3]], ignore_index=True), npartitions=8)
    estimate = s.nunique_approx(split_every=3).compute()
    assert isinstance(estimate, float)
    # Four standard errors: a bound that a correct estimator essentially never exceeds.
    assert abs(estimate - 100_000) / 100_000 < 4 * RELATIVE_ERROR


@given(case=frames(min_rows=0, max_rows=60))
@settings(max_examples=10, deadline=None)
def test_nunique_approx_small_sets_are_nearly_exact(case):
    # Linear counting is exact unless two values share a register (chance about n**2 / 2**17: 3 % at n = 60),
    # which costs one.
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert abs(df.s.nunique_approx().compute() - pdf.s.nunique()) < 1
    assert abs(df.i.nunique_approx().compute() - pdf.i.nunique()) < 1.5
    # On a frame it counts distinct rows (missing values count, as in Dask).
    assert abs(df.nunique_approx().compute() - len(pdf.drop_duplicates())) < 1.5


def test_nunique_approx_exact_on_tiny_sets():
    s = sd.from_pandas(pd.Series(["a", "b", None, "a", "c"] * 20), npartitions=3)
    assert round(s.nunique_approx().compute()) == 4
    assert round(s.partitions[0].nunique_approx().compute()) == 4


# -- memory usage ---------------------------------------------------------------------------------

@given(case=frames(min_rows=0), deep=st.booleans())
@settings(max_examples=8, deadline=None)
def test_memory_usage_sums_partitions(case, deep):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    parts = df.to_delayed()
    pieces = [p.compute() for p in parts]
    # Without the index, the total is pandas' on the whole frame.
    _same(df.memory_usage(index=False, deep=deep).compute(), pdf.memory_usage(index=False, deep=deep))
    # Each partition counts its own index.
    expected = sum(p.memory_usage(index=True, deep=deep) for p in pieces)
    _same(df.memory_usage(deep=deep).compute(), expected)
    assert df.x.memory_usage(deep=deep).compute() == sum(p.x.memory_usage(deep=deep) for p in pieces)
    per_part = df.memory_usage_per_partition(deep=deep)
    _same(per_part.compute(), pd.Series([p.memory_usage(deep=deep).sum() for p in pieces], dtype="i8"))
    assert per_part.npartitions == df.npartitions


# -- map_partitions with one value per partition ------------------------------------------------------

def test_map_partitions_len_is_a_series_of_lengths():
    pdf = pd.DataFrame({"x": range(10), "y": range(10)})
    df = sd.from_pandas(pdf, npartitions=3)
    lengths = df.map_partitions(len)
    assert isinstance(lengths, sd.Series)
    expected = pd.Series([len(p.compute()) for p in df.to_delayed()])
    _same(lengths.compute(), expected)
    assert lengths.divisions == (0, 1, 2, 2)
    assert lengths.sum().compute() == 10 == len(df)
    assert df.x.map_partitions(lambda s: s.sum()).max().compute() == max(p.x.sum() for p in
                                                                         (d.compute() for d in df.to_delayed()))
    # The dtype comes from real-looking values, not from an empty partition (whose max would be NaN).
    maxima = df.x.map_partitions(lambda s: s.max())
    assert maxima.dtype == np.int64
    assert maxima.compute().tolist() == [p.x.max() for p in (d.compute() for d in df.to_delayed())]
    # A frame-shaped output is unchanged.
    assert_eq(df.map_partitions(lambda p: p * 2), pdf * 2)


# -- grouping by Series -------------------------------------------------------------------------------

@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_groupby_series_aggregations(case):
    pdf, nparts = case
    pdf = pdf.drop(columns=["s"])
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert_eq(df.groupby(df.i % 3).sum(), pdf.groupby(pdf.i % 3).sum(), check_exact=False)
    assert_eq(df.groupby(df.i % 3).x.mean(), pdf.groupby(pdf.i % 3).x.mean(), check_exact=False)
    assert_eq(df.groupby(["k", df.i % 3]).agg({"x": ["sum", "std"], "i": "count"}),
              pdf.groupby(["k", pdf.i % 3]).agg({"x": ["sum", "std"], "i": "count"}), check_exact=False)
    assert_eq(df.groupby([df.b, "k"]).x.max(split_out=2), pdf.groupby([pdf.b, "k"]).x.max(), check_exact=False)
    positive = (df.x > 0).rename("pos")
    assert_eq(df.groupby(positive).i.size(), pdf.groupby((pdf.x > 0).rename("pos")).i.size())
    assert_eq(df.x.groupby([df.k, df.i % 2]).sum(), pdf.x.groupby([pdf.k, pdf.i % 2]).sum(), check_exact=False)
    _same(df.groupby(["k", df.i % 3]).x.nunique().compute(), pdf.groupby(["k", pdf.i % 3]).x.nunique())
    custom = sd.Aggregation("total", lambda s: s.sum(), lambda s: s.sum())
    _same(df.groupby(df.i % 3).x.agg(custom).compute(), pdf.groupby(pdf.i % 3).x.sum())


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_groupby_series_shuffle_methods(case):
    pdf, nparts = case
    pdf = pdf.reset_index(drop=True)[["k", "b", "i", "x"]]
    df = sd.from_pandas(pdf, npartitions=nparts)
    _same(df.groupby(df.i % 3).cumsum().compute().sort_index(), pdf.groupby(pdf.i % 3).cumsum())
    _same(df.groupby(["k", df.i % 2]).x.transform("mean").compute().sort_index(),
          pdf.groupby(["k", pdf.i % 2]).x.transform("mean"))
    _same(df.groupby(df.i % 3).apply(lambda g: g.x.sum()).compute().sort_index(),
          pdf.groupby(pdf.i % 3).apply(lambda g: g.x.sum()))
    _same(df.x.groupby(df.k).cumcount().compute().sort_index(), pdf.x.groupby(pdf.k).cumcount())


def test_groupby_misaligned_series_fails_at_build_time():
    df = sd.from_pandas(pd.DataFrame({"k": range(10), "x": range(10)}), npartitions=2)
    other = sd.from_pandas(pd.Series(range(10)), npartitions=3)
    with pytest.raises(ValueError, match="same partitions"):
        df.groupby(other).x.sum()
    with pytest.raises(ValueError, match="same partitions"):
        df.groupby(["k", other]).cumsum()


# -- groupby().rolling --------------------------------------------------------------------------------

@given(case=frames(min_rows=1), window=st.integers(1, 4))
@settings(max_examples=6, deadline=None)
def test_groupby_rolling_matches_pandas(case, window):
    pdf, nparts = case
    pdf = pdf.reset_index(drop=True)[["k", "b", "i", "x"]]
    df = sd.from_pandas(pdf, npartitions=nparts)
    for name in ("sum", "mean", "count", "min", "max", "std", "var"):
        result = getattr(df.groupby("k").rolling(window), name)()
        expected = getattr(pdf.groupby("k").rolling(window), name)()
        pd.testing.assert_frame_equal(result._meta, expected.iloc[:0])
        _same(result.compute().sort_index(), expected)
        _same(getattr(df.groupby(["k", df.i % 2]).x.rolling(window, min_periods=1), name)().compute().sort_index(),
              getattr(pdf.groupby(["k", pdf.i % 2]).x.rolling(window, min_periods=1), name)())
    _same(df.groupby("b").rolling(window).agg(["sum", "max"]).compute().sort_index(),
          pdf.groupby("b").rolling(window).agg(["sum", "max"]))


def test_groupby_rolling_time_window():
    rng = np.random.default_rng(5)
    pdf = pd.DataFrame({"k": rng.integers(0, 3, 40), "x": rng.normal(size=40)},
                       index=pd.date_range("2021-01-01", periods=40, freq="s"))
    df = sd.from_pandas(pdf, npartitions=4)
    _same(df.groupby("k").rolling("3s").sum().compute().sort_index(), pdf.groupby("k").rolling("3s").sum())
    with pytest.raises(ValueError):
        sd.from_pandas(pdf.reset_index(drop=True), npartitions=2).groupby("k").rolling("3s")

"""groupby methods of _groupby_more / _groupby_holistic against pandas on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


def _ordered(result, expected, **kwargs):
    """Equal values, dtypes and row order (pandas' group order), not only equal after sort_index."""
    assert_eq(result, expected, sort_results=False, check_exact=False, **kwargs)


def _same_or_both_raise(make_result, make_expected, exc=ValueError):
    try:
        expected = make_expected()
    except exc:
        with pytest.raises(exc):
            make_result().compute(scheduler="sync")
        return
    _ordered(make_result(), expected)


def _with_nan_keys(pdf: pd.DataFrame) -> pd.DataFrame:
    out = pdf.reset_index(drop=True)
    out["f"] = out["k"].astype("f8")
    out.loc[out.index % 5 == 1, "f"] = np.nan
    return out


KEYS = st.sampled_from(["k", ["k", "b"], "s"])


@given(case=frames(min_rows=1), split_every=st.sampled_from([None, 2]), by=KEYS)
@settings(max_examples=8, deadline=None)
def test_tree_reductions_match_pandas(case, split_every, by):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    g, pg = df.groupby(by), pdf.groupby(by)
    _ordered(g.any(split_every=split_every), pg.any())
    _ordered(g.all(split_every=split_every), pg.all())
    _ordered(g.x.any(skipna=False), pg.x.any(skipna=False))
    _ordered(g[["x", "i", "b"]].sem(split_every=split_every), pg[["x", "i", "b"]].sem())
    _ordered(g.x.sem(ddof=0), pg.x.sem(ddof=0))
    _ordered(g[["i", "s"]].idxmin(split_every=split_every), pg[["i", "s"]].idxmin())
    _ordered(g.i.idxmax(split_every=split_every), pg.i.idxmax())
    _same_or_both_raise(lambda g=g: g.x.idxmax(), lambda pg=pg: pg.x.idxmax())
    _same_or_both_raise(lambda g=g: g.x.idxmin(skipna=False), lambda pg=pg: pg.x.idxmin(skipna=False))
    _ordered(g.head(2, split_every=split_every), pg.head(2))
    _ordered(g.x.tail(1), pg.x.tail(1))
    _ordered(g[["s", "i"]].tail(3, split_every=split_every), pg[["s", "i"]].tail(3))


@given(case=frames(min_rows=1), by=KEYS)
@settings(max_examples=8, deadline=None)
def test_holistic_aggregations_match_pandas(case, by):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    g, pg = df.groupby(by), pdf.groupby(by)
    _ordered(g.x.median(), pg.x.median())
    _ordered(g[["x", "i"]].median(), pg[["x", "i"]].median())
    _ordered(g.x.quantile([0.1, 0.5, 0.9]), pg.x.quantile([0.1, 0.5, 0.9]))
    _ordered(g.i.quantile(0.25, interpolation="lower"), pg.i.quantile(0.25, interpolation="lower"))
    _ordered(g.s.unique(), pg.s.unique())
    with warnings.catch_warnings():
        # NumPy warns about one-row groups ("Degrees of freedom <= 0"), in pandas as here.
        warnings.simplefilter("ignore", RuntimeWarning)
        _ordered(g[["x", "i"]].cov(), pg[["x", "i"]].cov())
        _ordered(g[["x", "i"]].corr(), pg[["x", "i"]].corr())
    spec = {"x": ["median", "sum"], "i": "max"}
    _ordered(g.agg(spec), pg.agg(spec))
    _ordered(g.i.agg(["median", "nunique", "sem"]), pg.i.agg(["median", "nunique", "sem"]))


@given(case=frames(min_rows=1))
@settings(max_examples=8, deadline=None)
def test_value_counts_match_pandas(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for by, col in (("k", "i"), (["k", "b"], "s"), ("s", "x")):
        for kwargs in ({}, {"normalize": True}, {"dropna": False}, {"ascending": True}):
            result = df.groupby(by)[col].value_counts(**kwargs).compute(scheduler="sync")
            expected = pdf.groupby(by)[col].value_counts(**kwargs)
            # pandas orders equal counts with an unstable sort, so only the group order and the counts' order
            # within each group are pandas'; compare the values after sort_index.
            assert list(result.index.droplevel(-1)) == list(expected.index.droplevel(-1))
            assert list(result) == list(expected.to_numpy()) or np.allclose(result, expected)
            assert_eq(result, expected, check_exact=False)
        assert_eq(df.groupby(by).value_counts(), pdf.groupby(by).value_counts())


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_transforms_keep_the_index(case):
    pdf, nparts = case
    pdf = pdf.reset_index(drop=True)  # unique labels: sort_index then gives pandas' row order
    df = sd.from_pandas(pdf, npartitions=nparts)
    for by in ("k", ["k", "b"]):
        g, pg = df.groupby(by), pdf.groupby(by)
        for name in ("shift", "diff", "ffill", "bfill", "cummin", "cummax"):
            assert_eq(getattr(g.x, name)(), getattr(pg.x, name)())
            assert_eq(getattr(g[["x", "i"]], name)(), getattr(pg[["x", "i"]], name)())
        assert_eq(g.x.shift(-2, fill_value=0.5), pg.x.shift(-2, fill_value=0.5))
        assert_eq(g.i.diff(2), pg.i.diff(2))
        assert_eq(g.x.ffill(limit=1), pg.x.ffill(limit=1))
        assert_eq(g.s.shift(), pg.s.shift())


@given(case=frames(min_rows=1))
@settings(max_examples=6, deadline=None)
def test_dropna_series_keys_and_grouped_series(case):
    pdf, nparts = case
    pdf = _with_nan_keys(pdf)
    df = sd.from_pandas(pdf, npartitions=nparts)
    for dropna in (True, False):
        g, pg = df.groupby("f", dropna=dropna), pdf.groupby("f", dropna=dropna)
        _ordered(g.x.median(), pg.x.median())
        _ordered(g.i.idxmin(), pg.i.idxmin())
        _ordered(g[["i", "b"]].any(), pg[["i", "b"]].any())
        _ordered(g.i.sem(), pg.i.sem())
        _ordered(g.head(1), pg.head(1))
        # Rows with a missing key get NaN when dropna=True: pandas then makes an integer column float, which
        # the metadata cannot know, so an integer column is compared with dropna=False only.
        assert_eq(g.x.cummax(), pg.x.cummax())
        if not dropna:
            assert_eq(g.i.cummax(), pg.i.cummax())
    # Grouping by an aligned Series (not a column) and a grouped Series.
    _ordered(df.groupby(df.i % 3).x.median(), pdf.groupby(pdf.i % 3).x.median())
    _ordered(df.groupby(["k", df.i % 3]).i.idxmax(), pdf.groupby(["k", pdf.i % 3]).i.idxmax())
    _ordered(df.x.groupby(df.s).sem(), pdf.x.groupby(pdf.s).sem())
    _ordered(df.i.groupby(df.k).idxmin(), pdf.i.groupby(pdf.k).idxmin())
    _ordered(df.i.groupby(df.k).median(), pdf.i.groupby(pdf.k).median())
    _ordered(df.s.groupby(df.k).tail(2), pdf.s.groupby(pdf.k).tail(2))
    assert_eq(df.x.groupby(df.k).shift(), pdf.x.groupby(pdf.k).shift())


def test_sort_false_keeps_values():
    pdf = pd.DataFrame({"k": [3, 1, 2, 3, 1], "x": [1.0, 2.0, 3.0, 4.0, 6.0]})
    df = sd.from_pandas(pdf, npartitions=2)
    # Groups come in partition order, not in order of first appearance: compare after sort_index.
    assert_eq(df.groupby("k", sort=False).x.median(), pdf.groupby("k").x.median())
    assert_eq(df.groupby("k", sort=False).x.sem(), pdf.groupby("k").x.sem())


@pytest.mark.parametrize("split_out", [2, True])
def test_split_out(split_out):
    rng = np.random.default_rng(5)
    pdf = pd.DataFrame({"k": rng.integers(0, 30, 300), "x": rng.normal(size=300), "i": rng.integers(0, 9, 300)})
    df = sd.from_pandas(pdf, npartitions=5)
    g, pg = df.groupby("k"), pdf.groupby("k")
    expected_n = 2 if split_out == 2 else 5
    for result, expected in ((g.x.median(split_out=split_out), pg.x.median()),
                             (g.i.idxmax(split_out=split_out), pg.i.idxmax()),
                             (g.any(split_out=split_out), pg.any()),
                             (g.x.sem(split_out=split_out), pg.x.sem()),
                             (g.agg({"x": "median"}, split_out=split_out), pg.agg({"x": "median"}))):
        assert result.npartitions == expected_n
        assert_eq(result, expected, check_exact=False)


def test_get_group():
    pdf = pd.DataFrame({"k": [1, 2, 1, 3, 1, 2], "j": list("aabbab"), "x": np.arange(6.0)})
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.groupby("k").get_group(1), pdf.groupby("k").get_group(1))
    assert_eq(df.groupby("k").x.get_group(2), pdf.groupby("k").x.get_group(2))
    assert_eq(df.groupby(["k", "j"]).get_group((1, "a")), pdf.groupby(["k", "j"]).get_group((1, "a")))
    assert_eq(df.groupby(["k"]).get_group((3,)), pdf.groupby(["k"]).get_group((3,)))
    # As in Dask, an absent group gives an empty result (pandas raises KeyError).
    assert len(df.groupby("k").get_group(99).compute()) == 0
    assert df.groupby("k").get_group(1).divisions == df.divisions
    with pytest.raises(ValueError, match="tuple of 2 values"):
        df.groupby(["k", "j"]).get_group(1)


def test_string_dtype_keys_and_values():
    pdf = pd.DataFrame({"k": pd.array(["b", "a", None, "b", "a", "c"], dtype="str"),
                        "v": pd.array(["x", "y", "z", None, "y", "w"], dtype="str"), "n": [5, 1, 2, 3, 4, 6]})
    df = sd.from_pandas(pdf, npartitions=3)
    for dropna in (True, False):
        g, pg = df.groupby("k", dropna=dropna), pdf.groupby("k", dropna=dropna)
        _ordered(g.v.unique(), pg.v.unique())
        _ordered(g.n.median(), pg.n.median())
        _ordered(g.n.idxmin(), pg.n.idxmin())
        _ordered(g.v.any(), pg.v.any())
        _ordered(g.head(1), pg.head(1))
        assert_eq(g.v.value_counts(), pg.v.value_counts())
        assert_eq(g.v.ffill(), pg.v.ffill())
        assert_eq(g.v.bfill(), pg.v.bfill())
        if not dropna:  # see test_dropna_series_keys_and_grouped_series
            assert_eq(g.n.cummin(), pg.n.cummin())


def test_idxmin_na_groups_raise_like_pandas():
    pdf = pd.DataFrame({"k": [1, 1, 2, 2], "x": [np.nan, 1.0, np.nan, np.nan]})
    df = sd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ValueError, match=r"skipna=True encountered all NA values in a group.*group 2"):
        df.groupby("k").x.idxmin().compute()
    with pytest.raises(ValueError, match="skipna=False encountered an NA value"):
        df[df.k == 1].groupby("k").x.idxmax(skipna=False).compute()
    # A group that is all-NA in one partition only still gets its label from another partition.
    pdf = pd.DataFrame({"k": [1, 1, 1, 1], "x": [np.nan, np.nan, 3.0, 2.0]})
    _ordered(sd.from_pandas(pdf, npartitions=2).groupby("k").x.idxmin(), pdf.groupby("k").x.idxmin())


def test_idxmin_ties_take_the_first_label():
    pdf = pd.DataFrame({"k": [1, 2, 1, 2, 1, 2], "x": [5, 1, 2, 1, 2, 7]}, index=[10, 11, 12, 13, 14, 15])
    df = sd.from_pandas(pdf, npartitions=3)
    _ordered(df.groupby("k").x.idxmin(split_every=2), pdf.groupby("k").x.idxmin())
    _ordered(df.groupby("k").x.idxmax(), pdf.groupby("k").x.idxmax())


def test_reads_only_needed_columns():
    from shoal.dataframe._lower import walk

    pdf = pd.DataFrame({"k": [1, 2, 1], "x": [1.0, 2.0, 3.0], "unused": ["a", "b", "c"]})
    df = sd.from_pandas(pdf, npartitions=2)
    for result in (df.groupby("k").x.sem(), df.groupby("k").x.idxmax(), df.groupby("k").x.any(),
                   df.groupby("k").x.median(), df.groupby("k").x.shift(), df.groupby(df.x > 1).x.median()):
        readers = [e for e in walk(result.optimize()._expr) if type(e).__name__ == "FromPandas"]
        assert set(readers[0].columns) <= {"k", "x"}


def test_bad_input_raises_at_build_time():
    pdf = pd.DataFrame({"k": [1, 2], "x": [1.0, 2.0], "s": ["a", "b"]})
    df = sd.from_pandas(pdf, npartitions=1)
    with pytest.raises(TypeError):
        df.groupby("k").s.median()
    with pytest.raises(TypeError):
        df.groupby("k").sem()
    with pytest.raises(AttributeError, match=r"select a column first"):
        df.groupby("k").unique()
    with pytest.raises(NotImplementedError, match="SeriesGroupBy"):
        df.groupby("k").x.cov()
    with pytest.raises(NotImplementedError, match="one partition"):
        df.groupby("k").head(2, split_out=2)
    with pytest.raises(TypeError, match="n must be an integer"):
        df.groupby("k").head("2")
    with pytest.raises(ValueError, match="split_out must be a positive integer"):
        df.groupby("k").x.median(split_out=0)
    with pytest.raises(KeyError, match="nope"):
        df.groupby("k").agg({"nope": "median"})
    with pytest.raises(TypeError, match="axis"):
        df.groupby("k").shift(axis=1)
    with pytest.raises(TypeError, match="bins"):
        df.groupby("k").value_counts(bins=3)

"""Accessors, row-wise methods and whole-column selections against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    n = 30
    pdf = pd.DataFrame({
        "s": rng.choice(["ab", "Cd", "efg", "a-b-c", None], n),
        "t": pd.date_range("2024-01-30", periods=n, freq="7h"),
        "x": rng.normal(size=n),
        "i": rng.integers(0, 5, n),
        "c": pd.Categorical(rng.choice(["u", "v"], n)),
    })
    return pdf, sd.from_pandas(pdf, npartitions=4)


def test_str_accessor(data):
    pdf, df = data
    assert_eq(df.s.str.upper(), pdf.s.str.upper())
    assert_eq(df.s.str.contains("b"), pdf.s.str.contains("b"))
    assert_eq(df.s.str.replace("a", "z", regex=False), pdf.s.str.replace("a", "z", regex=False))
    assert_eq(df.s.str.slice(0, 2), pdf.s.str.slice(0, 2))
    assert_eq(df.s.str.strip("a"), pdf.s.str.strip("a"))
    # Missing values make pandas' str.len float on data but int on zero rows: the meta can't know.
    assert_eq(df.s.str.len(), pdf.s.str.len(), check_meta=False)
    assert_eq(df.s.str.split("-", expand=True, n=2), pdf.s.str.split("-", expand=True, n=2))
    assert_eq(df.s.str.split("-"), pdf.s.str.split("-"))
    with pytest.raises(NotImplementedError, match="needs n="):
        df.s.str.split("-", expand=True)
    with pytest.raises(AttributeError, match=".str accessor"):
        df.x.str  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        df.s.str.nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'str'"):
        df.str  # noqa: B018


def test_dt_and_cat_accessors(data):
    pdf, df = data
    for attr in ("year", "month", "hour", "day_of_week", "date"):
        assert_eq(getattr(df.t.dt, attr), getattr(pdf.t.dt, attr))
    assert_eq(df.t.dt.strftime("%Y-%m"), pdf.t.dt.strftime("%Y-%m"))
    assert_eq(df.t.dt.floor("D"), pdf.t.dt.floor("D"))
    assert_eq(df.t.dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"),
              pdf.t.dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo"))
    assert_eq(df.c.cat.codes, pdf.c.cat.codes)
    assert list(df.c.cat.categories) == ["u", "v"] and df.c.cat.ordered is False
    assert_eq(df.c.cat.add_categories(["w"]), pdf.c.cat.add_categories(["w"]))
    assert_eq(df.c.cat.rename_categories({"u": "U"}), pdf.c.cat.rename_categories({"u": "U"}))


def test_apply_query_eval_iloc(data):
    pdf, df = data

    def row(r):
        return r.x * r.i

    assert_eq(df.apply(row, axis=1, meta=(None, "f8")), pdf.apply(row, axis=1))
    assert_eq(df.apply(row, axis=1), pdf.apply(row, axis=1))
    assert_eq(df[["x", "i"]].apply(lambda r: r * 2, axis=1), pdf[["x", "i"]].apply(lambda r: r * 2, axis=1))
    assert_eq(df.x.apply(lambda v: v + 1), pdf.x.apply(lambda v: v + 1))
    with pytest.raises(NotImplementedError, match="axis=1"):
        df.apply(row)
    lim = 0.2  # noqa: F841 - read by the query string as @lim
    assert_eq(df.query("x > @lim and i < 3"), pdf.query("x > @lim and i < 3"))
    assert_eq(df.query("i == 2"), pdf.query("i == 2"))
    with pytest.raises(NameError, match="not_defined"):
        df.query("x > @not_defined")
    assert_eq(df.eval("x * i"), pdf.eval("x * i"))
    assert_eq(df.eval("y = x * i"), pdf.eval("y = x * i"))
    with pytest.raises(NotImplementedError, match="immutable"):
        df.eval("y = x", inplace=True)
    assert_eq(df.iloc[:, [0, 2]], pdf.iloc[:, [0, 2]])
    assert_eq(df.iloc[:, 3], pdf.iloc[:, 3])
    assert_eq(df.iloc[:, 1:3], pdf.iloc[:, 1:3])
    with pytest.raises(NotImplementedError, match="only for selecting columns"):
        df.iloc[2]
    with pytest.raises(IndexError):
        df.iloc[:, [9]]
    assert_eq(df.x.abs(), pdf.x.abs())
    assert_eq(df.i.replace(2, 7), pdf.i.replace(2, 7))
    assert_eq(df.replace("ab", "AB"), pdf.replace("ab", "AB"))


def test_categorize_and_get_dummies(data):
    pdf, df = data
    cats = pd.CategoricalDtype(sorted(pdf.s.dropna().unique()))
    want = pdf.astype({"s": cats})
    got = df.categorize()
    assert got._meta.s.dtype == cats  # categories are known before computing
    assert_eq(got, want)
    assert_eq(df.s.categorize(), pdf.s.astype(cats))
    assert_eq(sd.get_dummies(got[["s", "c", "x"]]), pd.get_dummies(want[["s", "c", "x"]]))
    assert_eq(sd.get_dummies(got.c, prefix="c", dtype=int), pd.get_dummies(want.c, prefix="c", dtype=int))
    with pytest.raises(NotImplementedError, match="categorize"):
        sd.get_dummies(df[["s", "x"]])
    text_index = sd.from_pandas(pdf.set_index("s").loc[lambda f: f.index.notna()].sort_index(), npartitions=2)
    assert isinstance(text_index.categorize()._meta.index, pd.CategoricalIndex)


@given(case=frames(), n=st.integers(1, 8), keep=st.sampled_from(["first", "last"]),
       split_every=st.sampled_from([None, 2]))
@settings(max_examples=12, deadline=None)
def test_selections_match_pandas(case, n, keep, split_every):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    opts = {"sort_results": False}
    for method in ("nlargest", "nsmallest"):
        got_x = getattr(df.x, method)(n, keep=keep, split_every=split_every)
        want_x = getattr(pdf.x, method)(n, keep=keep)
        assert_eq(got_x, want_x)
        np.testing.assert_array_equal(got_x.compute().to_numpy(), want_x.to_numpy())
        got = getattr(df, method)(n, ["k", "i"], keep=keep, split_every=split_every)
        want = getattr(pdf, method)(n, ["k", "i"], keep=keep)
        # The same rows, in the same order of values; pandas orders rows tied on every key column differently
        # depending on how many candidates it is given, so their relative order is not compared.
        assert_eq(got, want)
        np.testing.assert_array_equal(got.compute()[["k", "i"]].to_numpy(), want[["k", "i"]].to_numpy())
    assert_eq(df.k.drop_duplicates(keep=keep, split_every=split_every), pdf.k.drop_duplicates(keep=keep), **opts)
    assert_eq(df.drop_duplicates(subset=["k", "b"], keep=keep), pdf.drop_duplicates(subset=["k", "b"], keep=keep),
              **opts)
    assert_eq(df[["k", "s"]].drop_duplicates(keep=False), pdf[["k", "s"]].drop_duplicates(keep=False), **opts)
    assert_eq(df.s.drop_duplicates(ignore_index=True), pdf.s.drop_duplicates(ignore_index=True), **opts)
    assert_eq(df.k.mode(split_every=split_every), pdf.k.mode())
    assert_eq(df.s.mode(), pdf.s.mode())
    assert_eq(df.x.mode(dropna=False), pdf.x.mode(dropna=False))
    if len(pdf) and pdf.x.notna().any():
        assert_eq(df.x.idxmax(split_every=split_every), pdf.x.idxmax())
        assert_eq(df.x.idxmin(), pdf.x.idxmin())
        assert_eq(df[["i", "x"]].idxmax(split_every=split_every), pdf[["i", "x"]].idxmax())
        assert_eq(df[["i", "k"]].idxmin(), pdf[["i", "k"]].idxmin())
        assert_eq(df[["i", "k"]].idxmin(axis=1), pdf[["i", "k"]].idxmin(axis=1))


def test_selection_errors():
    df = sd.from_pandas(pd.DataFrame({"a": [1.0, np.nan, 2.0]}), npartitions=2)
    with pytest.raises(TypeError, match="columns="):
        df.nlargest(2)
    with pytest.raises(KeyError):
        df.drop_duplicates(subset=["zz"])
    with pytest.raises(ValueError, match="NA value"):
        df.a.idxmax(skipna=False).compute()
    with pytest.raises(ValueError, match="empty"):
        df[df.a > 5].a.idxmax().compute()


@pytest.mark.parametrize("dtype", [object, "str", "string[pyarrow]"])
def test_categorize_categories_dtype_matches_astype_category(dtype: object) -> None:
    pdf = pd.DataFrame({"s": pd.Series(["b", "a", None, "c", "a", "b"], dtype=dtype), "x": range(6)})
    result = sd.from_pandas(pdf, npartitions=3).categorize(columns=["s"])
    expected = pdf.s.astype("category")
    assert result.s.cat.categories.dtype == expected.cat.categories.dtype
    assert_eq(result, pdf.assign(s=expected))

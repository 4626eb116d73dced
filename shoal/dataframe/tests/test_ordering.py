"""Shuffle, set_index, sort_values, repartition and reset_index against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._lower import walk
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


def _parts(collection):
    return [d.compute(scheduler="sync") for d in collection.to_delayed()]


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order, index dropped: for results whose row order is not defined."""
    out = df.reset_index(drop=True)
    return out.sort_values(list(out.columns), kind="stable").reset_index(drop=True)


@given(case=frames(), nout=st.integers(1, 5))
@settings(max_examples=25, deadline=None)
def test_shuffle_groups_equal_keys_and_keeps_rows(case, nout):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    out = df.shuffle(on=["k", "s"], npartitions=nout)
    parts = _parts(out)
    assert len(parts) == out.npartitions == nout
    seen: dict = {}
    for i, part in enumerate(parts):
        for key in zip(part.k, part.s, strict=True):
            assert seen.setdefault(key, i) == i, f"key {key} in partitions {seen[key]} and {i}"
    tm.assert_frame_equal(_rows(pd.concat(parts)), _rows(pdf))


def test_shuffle_on_index_and_series():
    pdf = pd.DataFrame({"v": range(20)}, index=[i % 5 for i in range(20)])
    parts = _parts(sd.from_pandas(pdf, npartitions=4, sort=False).shuffle(npartitions=3))
    owners = {label: i for i, p in enumerate(parts) for label in p.index}
    assert all(owners[label] == i for i, p in enumerate(parts) for label in p.index)
    s = sd.from_pandas(pdf.v % 3, npartitions=3).shuffle()
    assert sorted(s.compute().tolist()) == sorted((pdf.v % 3).tolist())


def test_shuffle_errors():
    df = sd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1)
    with pytest.raises(KeyError, match="'zz'"):
        df.shuffle(on="zz")


@given(case=frames(with_nan=False), nout=st.integers(1, 5))
@settings(max_examples=25, deadline=None)
def test_set_index_matches_pandas(case, nout):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for column in ["i", "s", "x"]:
        out = df.set_index(column, npartitions=nout)
        expected = pdf.set_index(column)
        if len(pdf):
            assert out.known_divisions
            assert list(out.divisions) == sorted(out.divisions)
            result = out.compute(scheduler="sync")
            assert result.index.is_monotonic_increasing
            tm.assert_frame_equal(result.reset_index().sort_values([column, *expected.columns], kind="stable")
                                  .reset_index(drop=True),
                                  expected.reset_index().sort_values([column, *expected.columns], kind="stable")
                                  .reset_index(drop=True))
        else:
            assert_eq(out, expected)


def test_set_index_with_nan_keeps_all_rows():
    pdf = pd.DataFrame({"x": [3.0, np.nan, 1.0, 2.0, np.nan, 0.5], "v": range(6)})
    out = sd.from_pandas(pdf, npartitions=3).set_index("x")
    result = out.compute()
    assert len(result) == 6 and result.index[:4].tolist() == [0.5, 1.0, 2.0, 3.0]
    assert result.index[4:].isna().all()


def test_set_index_datetimes_and_explicit_divisions():
    pdf = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=30, freq="D")[::-1], "v": range(30)})
    out = sd.from_pandas(pdf, npartitions=4).set_index("t")
    assert_eq(out, pdf.set_index("t").sort_index())
    assert isinstance(out.divisions[0], pd.Timestamp)
    fixed = sd.from_pandas(pdf, npartitions=4).set_index("v", divisions=[0, 10, 20, 29])
    assert fixed.divisions == (0, 10, 20, 29)
    assert [len(p) for p in _parts(fixed)] == [10, 10, 10]
    assert_eq(fixed, pdf.set_index("v").sort_index())


def test_set_index_sorted_computes_divisions_without_shuffle():
    pdf = pd.DataFrame({"k": [1, 2, 2, 5, 7, 9, 11, 12], "v": range(8)})
    df = sd.from_pandas(pdf, npartitions=3, sort=False)
    out = df.set_index("k", sorted=True)
    assert out.divisions == (1, 5, 11, 12)
    assert not any("shuffle" in str(k[0]) for k in out.__dask_graph__())
    assert_eq(out, pdf.set_index("k"))
    bad = sd.from_pandas(pd.DataFrame({"k": [5, 6, 1, 2], "v": range(4)}), npartitions=2, sort=False)
    with pytest.raises(ValueError, match="not sorted across partitions"):
        bad.set_index("k", sorted=True)


def test_set_index_errors():
    df = sd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1)
    with pytest.raises(KeyError, match="'b'"):
        df.set_index("b")
    with pytest.raises(TypeError, match="DataFrame method"):
        df.a.set_index("a")


@given(case=frames(), nout=st.integers(1, 4), ascending=st.sampled_from([True, False, [True, False], [False, True]]),
       na_position=st.sampled_from(["first", "last"]))
@settings(max_examples=30, deadline=None)
def test_sort_values_matches_pandas(case, nout, ascending, na_position):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    by = ["x", "i"] if isinstance(ascending, list) else "x"
    out = df.sort_values(by, ascending=ascending, na_position=na_position, npartitions=nout)
    expected = pdf.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")
    result = out.compute(scheduler="sync")
    # Rows tied on every key may come in another order; the keys must come in exactly pandas' order.
    keys = [by] if isinstance(by, str) else by
    tm.assert_frame_equal(result[keys].reset_index(drop=True), expected[keys].reset_index(drop=True))
    tm.assert_frame_equal(_rows(result), _rows(pdf))


def test_sort_values_strings_and_series():
    pdf = pd.DataFrame({"s": list("qwertyuiopasdfgh"), "v": range(16)})
    df = sd.from_pandas(pdf, npartitions=4)
    assert df.sort_values("s").s.compute().tolist() == sorted(pdf.s)
    s = sd.from_pandas(pd.Series([3.0, np.nan, 1.0, 7.0, 2.0]), npartitions=2)
    assert s.sort_values(ascending=False).compute().tolist()[:4] == [7.0, 3.0, 2.0, 1.0]
    assert np.isnan(s.sort_values().compute().iloc[-1])


def test_sort_values_errors():
    df = sd.from_pandas(pd.DataFrame({"a": [1, 2]}), npartitions=1)
    with pytest.raises(KeyError, match="'zz'"):
        df.sort_values("zz")
    with pytest.raises(ValueError, match="Length of ascending"):
        df.sort_values(["a"], ascending=[True, False])
    with pytest.raises(ValueError, match="na_position"):
        df.sort_values("a", na_position="middle")


@given(case=frames(), nout=st.integers(1, 8))
@settings(max_examples=25, deadline=None)
def test_repartition_npartitions(case, nout):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    out = df.repartition(npartitions=nout)
    assert out.npartitions == nout
    assert_eq(out, pdf, sort_results=False)
    if nout <= df.npartitions and df.known_divisions:
        assert out.known_divisions and out.divisions[0] == df.divisions[0] and out.divisions[-1] == df.divisions[-1]


def test_repartition_divisions():
    pdf = pd.DataFrame({"x": range(20)}, index=range(0, 40, 2))
    df = sd.from_pandas(pdf, npartitions=3)
    out = df.repartition(divisions=[0, 5, 10, 30, 38])
    assert out.divisions == (0, 5, 10, 30, 38)
    assert [len(p) for p in _parts(out)] == [3, 2, 10, 5]
    assert_eq(out, pdf, sort_results=False)
    wider = df.repartition(divisions=[-10, 100])
    assert_eq(wider, pdf, sort_results=False)
    with pytest.raises(ValueError, match="must cover the old range"):
        df.repartition(divisions=[5, 38])
    with pytest.raises(ValueError, match="exactly one"):
        df.repartition(npartitions=2, divisions=[0, 38])
    with pytest.raises(ValueError, match="increasing"):
        df.repartition(divisions=[10, 0])
    with pytest.raises(ValueError, match="known divisions"):
        sd.from_pandas(pdf, npartitions=2, sort=False).repartition(divisions=[0, 38])


def test_repartition_partition_size():
    pdf = pd.DataFrame({"x": np.arange(1000, dtype="f8"), "y": np.arange(1000)})
    df = sd.from_pandas(pdf, npartitions=2)
    small = df.repartition(partition_size=2000)
    assert small.npartitions >= 8
    assert_eq(small, pdf, sort_results=False)
    big = sd.from_pandas(pdf, npartitions=10).repartition(partition_size="1MB")
    assert big.npartitions == 1 and big.known_divisions
    assert_eq(big, pdf)
    with pytest.raises(ValueError, match="partition_size"):
        df.repartition(partition_size="lots")


def test_reset_index_restarts_per_partition():
    pdf = pd.DataFrame({"v": range(6)}, index=pd.Index(list("abcdef"), name="key"))
    df = sd.from_pandas(pdf, npartitions=2)
    out = df.reset_index().compute()
    assert out.index.tolist() == [0, 1, 2, 0, 1, 2]
    tm.assert_frame_equal(out.reset_index(drop=True), pdf.reset_index())
    assert not df.reset_index().known_divisions
    assert df.reset_index(drop=True).compute().columns.tolist() == ["v"]
    assert_eq(df.v.reset_index(drop=True), pdf.v.reset_index(drop=True), check_index=False)


def test_shuffle_spills_to_disk_past_the_budget(tmp_path):
    import shoal
    from shoal.local import get_sync

    pdf = pd.DataFrame({"k": np.arange(200) % 13, "v": np.arange(200.0)})
    df = sd.from_pandas(pdf, npartitions=4)
    with shoal.config.set({"temporary-directory": str(tmp_path)}):
        out = df.shuffle(on="k", npartitions=3, memory_budget=1)
        graph = out.__dask_graph__()
        split_key = next(k for k in graph if isinstance(k, tuple) and str(k[0]).endswith("-split"))
        groups = get_sync(graph, split_key)
        assert all(isinstance(g, str) or not len(g) for g in groups)
        assert any(isinstance(g, str) for g in groups)
        tm.assert_frame_equal(_rows(out.compute(scheduler="sync")), _rows(pdf))
        # Gathers delete what they read (the run rewrote, then read, the files of the split run by hand).
        assert not list(tmp_path.rglob("*.pkl"))
        in_memory = df.shuffle(on="k", npartitions=3, memory_budget="10GB")
        assert_eq(in_memory, pdf)
    with shoal.config.set({"dataframe.shuffle.method": "disk", "temporary-directory": str(tmp_path / "d")}):
        assert_eq(df.set_index("k"), pdf.set_index("k"))
        assert not list((tmp_path / "d").rglob("*.pkl"))


def test_projection_pushdown_through_shuffles():
    pdf = pd.DataFrame({"k": [3, 1, 2, 0], "x": [1.0, 2.0, 3.0, 4.0], "y": [1, 2, 3, 4]})
    df = sd.from_pandas(pdf, npartitions=2)
    for out in (df.sort_values("k").x, df.set_index("k").x, df.shuffle("k").x):
        readers = [e for e in walk(out._opt())
                   if e._label == "from-pandas"]
        assert readers and all("y" not in r.columns for r in readers)
    assert_eq(df.sort_values("k").x, pdf.sort_values("k").x)


def test_categoricals_sort_by_category_order():
    cats = ["zeta", "alpha", "mid"]
    pdf = pd.DataFrame({"c": pd.Categorical(["mid", "alpha", "zeta", "alpha", None, "mid", "zeta"], categories=cats),
                        "v": range(7)})
    df = sd.from_pandas(pdf, npartitions=3)
    got = df.sort_values("c").compute()
    assert got.c.astype(object).tolist() == pdf.sort_values("c", kind="stable").c.astype(object).tolist()
    out = df.dropna().set_index("c", npartitions=2)
    assert set(out.divisions) <= set(cats)
    assert out.compute().index.astype(object).tolist() == ["zeta", "zeta", "alpha", "alpha", "mid", "mid"]

"""to_bag, to_backend, visualize and to_records of DataFrame and Series."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as dd


def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": [0.5, 1.5, np.nan, 3.5, 4.5],
                         "s": pd.Series(["a", "b", "c", None, "e"], dtype="str")}, index=[10, 20, 30, 40, 50])


def rows(pdf: pd.DataFrame, index: bool) -> list[tuple]:
    return [tuple(r) for r in pdf.itertuples(index=index, name=None)]


@pytest.mark.parametrize("index", [False, True])
def test_to_bag_tuples_and_dicts_match_pandas(index):
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=2)
    got = ddf.to_bag(index=index).compute(scheduler="sync")
    assert len(got) == len(pdf)
    for a, b in zip(got, rows(pdf, index), strict=True):
        assert len(a) == len(b)
        assert all((x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True))
    dicts = dd.to_bag(ddf, index=index, format="dict").compute(scheduler="sync")
    expected = pdf.to_dict(orient="records")
    if index:
        expected = [{"index": i, **r} for i, r in zip(pdf.index, expected, strict=True)]
    assert [d.keys() for d in dicts] == [d.keys() for d in expected]
    assert [d["x"] for d in dicts] == pdf.x.tolist()


def test_series_to_bag():
    pdf = frame()
    ds = dd.from_pandas(pdf.x, npartitions=3)
    assert ds.to_bag().compute(scheduler="sync") == pdf.x.tolist()
    assert ds.to_bag(index=True).compute(scheduler="sync") == list(pdf.x.items())
    assert ds.to_bag(format="dict").compute(scheduler="sync") == [{"x": v} for v in pdf.x]


def test_to_bag_frame_format_holds_one_partition_per_element():
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=2)
    bag = ddf.to_bag(format="frame")
    assert bag.npartitions == 2
    parts = bag.compute(scheduler="sync")
    pd.testing.assert_frame_equal(pd.concat(parts), pdf)
    assert bag.map(len).compute(scheduler="sync") == [len(p) for p in parts]


def test_to_bag_follows_the_plan_and_bag_operations():
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=2)
    bag = ddf[ddf.x > 2][["x"]].to_bag()
    assert bag.map(lambda r: r[0] * 10).compute(scheduler="sync") == [30, 40, 50]


def test_to_bag_bad_input():
    ddf = dd.from_pandas(frame(), npartitions=2)
    with pytest.raises(ValueError, match="format='list'"):
        ddf.to_bag(format="list")
    with pytest.raises(TypeError, match="shoal DataFrame or Series"):
        dd.to_bag(frame())


def test_to_backend():
    pdf = frame()
    ddf = dd.from_pandas(pdf, npartitions=2)
    out = ddf.to_backend("pandas")
    assert out._name == ddf._name
    pd.testing.assert_frame_equal(out.compute(), pdf)
    pd.testing.assert_series_equal(ddf.x.to_backend().compute(), pdf.x)
    with pytest.raises(ValueError, match="'cudf'.*only the 'pandas'"):
        ddf.to_backend("cudf")


def test_to_records_matches_pandas():
    pdf = frame()[["x", "y"]]
    ddf = dd.from_pandas(pdf, npartitions=2)
    got = ddf.to_records(lengths=True).compute()
    expected = pdf.to_records()  # with the index, as pandas and Dask
    assert got.dtype == expected.dtype
    for field in expected.dtype.names:
        np.testing.assert_array_equal(got[field], expected[field])


def test_visualize_without_graphviz_says_how_to_install(monkeypatch):
    ddf = dd.from_pandas(frame(), npartitions=2)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        (ddf.x + 1).visualize(filename=None)


def test_visualize_writes_a_dot_file(tmp_path):
    pytest.importorskip("graphviz")
    ddf = dd.from_pandas(frame(), npartitions=2)
    target = tmp_path / "plan.dot"
    digraph = (ddf.x + 1).visualize(filename=str(target))
    assert target.exists() and target.stat().st_size > 0
    assert " -> " in digraph.source or "from-pandas" in digraph.source
    assert ddf.visualize(filename=None).source.count("shape=box") >= 2


def test_scalars_and_indexes_visualize_too(tmp_path):
    pytest.importorskip("graphviz")
    ddf = dd.from_pandas(frame(), npartitions=2)
    total = ddf.x.sum()
    source = total.visualize(filename=None).source
    # Two partial sums feed the final one: three task boxes at least, joined by edges.
    assert source.count("shape=box") >= 3 and " -> " in source
    target = tmp_path / "index.dot"
    ddf.index.visualize(filename=str(target))
    assert target.exists() and target.stat().st_size > 0

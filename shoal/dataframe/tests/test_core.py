from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def pdf() -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(10), "y": np.arange(10) * 1.5, "s": list("abcdeabcde")})


def test_from_pandas_divisions(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    assert df.npartitions == 3
    assert df.divisions == (0, 4, 8, 9)
    assert df.known_divisions
    assert_eq(df, pdf)
    assert sd.from_pandas(pdf, chunksize=5).npartitions == 2


def test_from_pandas_keeps_repeated_labels_together():
    pdf = pd.DataFrame({"x": range(6)}, index=[0, 1, 1, 1, 1, 2])
    df = sd.from_pandas(pdf, npartitions=3)
    parts = [p.compute() for p in (df.partitions[i] for i in range(df.npartitions))]
    for a, b in zip(parts, parts[1:], strict=False):
        assert a.index.max() < b.index.min()
    assert_eq(df, pdf)


def test_from_pandas_sort_false_unknown_divisions():
    pdf = pd.DataFrame({"x": range(5)}, index=[3, 1, 2, 0, 4])
    df = sd.from_pandas(pdf, npartitions=2, sort=False)
    assert not df.known_divisions
    assert_eq(df, pdf, sort_results=False)
    sorted_df = sd.from_pandas(pdf, npartitions=2)
    assert sorted_df.divisions == (0, 3, 4)


def test_from_pandas_bad_input(pdf):
    with pytest.raises(TypeError, match="pandas DataFrame or Series"):
        sd.from_pandas([1, 2], npartitions=2)
    with pytest.raises(ValueError, match="not both"):
        sd.from_pandas(pdf, npartitions=2, chunksize=3)


def test_metadata_properties(pdf):
    df = sd.from_pandas(pdf, npartitions=2)
    assert list(df.columns) == ["x", "y", "s"]
    assert df.dtypes.equals(pdf.dtypes)
    assert len(df) == 10
    rows, cols = df.shape
    assert rows.compute() == 10 and cols == 3
    assert df.x.dtype == pdf.x.dtype and df.x.name == "x"
    assert df.size.compute() == pdf.size


def test_repr_shows_structure(pdf):
    df = sd.from_pandas(pdf, npartitions=2)
    text = repr(df)
    assert "npartitions=2" in text and "int64" in text and "float64" in text
    assert "Shoal Name: from-pandas, 2 tasks" in text
    assert "Name: x, dtype: int64" in repr(df.x)
    assert "<table" in df._repr_html_()


def test_head_reads_only_first_partition(pdf):
    df = sd.from_pandas(pdf, npartitions=5)
    lazy = df.head(3, compute=False)
    # Only the first partition's data is in the graph.
    data_nodes = [k for k in lazy.__dask_graph__() if k[0].startswith("from-pandas")]
    assert len(data_nodes) == 1
    pd.testing.assert_frame_equal(df.head(2), pdf.head(2))
    pd.testing.assert_frame_equal(df.head(3, npartitions=2), pdf.head(3))
    pd.testing.assert_frame_equal(df.head(5, npartitions=-1), pdf.head(5))
    pd.testing.assert_frame_equal(df.tail(1), pdf.tail(1))
    pd.testing.assert_series_equal((df.x + 1).head(2), (pdf.x + 1).head(2))


def test_missing_column_raises_at_build_time(pdf):
    df = sd.from_pandas(pdf, npartitions=2)
    with pytest.raises(KeyError, match=r"\['nope'\] not found. Available columns: \['x', 'y', 's'\]"):
        df["nope"]
    with pytest.raises(KeyError, match="nope"):
        df[["x", "nope"]]
    with pytest.raises(KeyError, match="nope"):
        df.drop(columns=["nope"])
    with pytest.raises(AttributeError):
        df.nope  # noqa: B018


def test_collection_protocol_with_arrays_and_delayed(pdf):
    import shoal.array as sa

    df = sd.from_pandas(pdf, npartitions=2)
    arr = sa.from_array(np.arange(4), chunks=2)
    total, series, asum = shoal.compute(df.x.sum(), df.y * 2, arr.sum())
    assert total == pdf.x.sum() and asum == 6
    pd.testing.assert_series_equal(series, pdf.y * 2)
    assert shoal.is_dask_collection(df)
    assert shoal.tokenize(df) == shoal.tokenize(sd.from_pandas(pdf, npartitions=2))


def test_persist_and_pickle(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    p = (df.x + 1).persist(scheduler="sync")
    assert_eq(p, pdf.x + 1)
    assert_eq(p.sum(), (pdf.x + 1).sum())
    again = pickle.loads(pickle.dumps(df[df.x > 2]))
    assert_eq(again, pdf[pdf.x > 2])


def test_to_delayed_from_delayed(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    parts = df.to_delayed()
    assert len(parts) == 3
    back = sd.from_delayed(parts, meta=df._meta)
    assert_eq(back, pdf, check_divisions=False)
    inferred = sd.from_delayed(parts)
    assert list(inferred.columns) == ["x", "y", "s"]
    with pytest.raises(ValueError, match="divisions must have 4 entries"):
        sd.from_delayed(parts, meta=df._meta, divisions=(0, 1))


def test_from_delayed_checks_columns(pdf):
    parts = [shoal.delayed(pd.DataFrame)({"z": [1]})]
    df = sd.from_delayed(parts, meta={"x": "i8"})
    with pytest.raises(ValueError, match=r"partition 0 has columns \['z'\], but meta says \['x'\]"):
        df.compute(scheduler="sync")


def test_from_dict():
    df = sd.from_dict({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}, npartitions=2)
    assert_eq(df, pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}))


def test_map_partitions(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.map_partitions(lambda p: p.assign(z=p.x * 2)), pdf.assign(z=pdf.x * 2))
    out = df.map_partitions(lambda p, c: p.x + c, 10, meta=("x", "i8"))
    assert_eq(out, pdf.x + 10)
    both = df.x.map_partitions(lambda a, b: a * b, df.y)
    assert_eq(both, pdf.x * pdf.y)


def test_partitions_indexer(pdf):
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.partitions[1], pdf.iloc[4:8])
    assert_eq(df.partitions[-1], pdf.iloc[8:])
    with pytest.raises(IndexError, match="out of range"):
        df.partitions[5]


def test_default_scheduler_is_threads():
    assert sd.DataFrame.__dask_scheduler__.__name__ == "get_threads"


@pytest.mark.parametrize("name", ["shoal.dataframe", "shoal.dataframe.utils"])
def test_all_is_sorted_and_resolves(name):
    import importlib

    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__)
    for attr in module.__all__:
        assert getattr(module, attr) is not None


def test_repr_unknown_divisions_and_explain(capsys):
    pdf = pd.DataFrame({"a": [3, 1, 2], "b": [1.0, 2.0, 3.0]})
    df = sd.from_pandas(pdf, npartitions=2, sort=False)
    text = repr(df[df.a > 1])
    assert "npartitions=2" in text and "Shoal Name: filter" in text
    df[df.a > 1].b.explain()
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("getitem")
    assert "from-pandas: npartitions=2 columns=['a', 'b']" in out


def test_index_and_scalar_collections():
    pdf = pd.DataFrame({"a": [3, 1, 2]}, index=[10, 20, 30])
    df = sd.from_pandas(pdf, npartitions=2)
    pd.testing.assert_index_equal(df.index.compute(), pdf.index)
    assert len(df.index) == 3
    total = df.a.sum()
    assert "Scalar" in repr(total) and int(total) == 6
    with pytest.raises(ValueError, match="ambiguous"):
        bool(df.a)


def test_loc_with_date_strings_and_replace_with_nested_dict():
    index = pd.date_range("2024-01-01", periods=48, freq="h")
    pdf = pd.DataFrame({"x": np.arange(48.0), "s": ["ab", "cd"] * 24}, index=index)
    df = sd.from_pandas(pdf, npartitions=4)
    assert_eq(df.loc["2024-01-01 10:00":"2024-01-01 20:00"], pdf.loc["2024-01-01 10:00":"2024-01-01 20:00"])
    assert_eq(df.loc["2024-01-02":], pdf.loc["2024-01-02":])
    assert_eq(df.loc[:"2024-01-01"], pdf.loc[:"2024-01-01"])
    assert_eq(df.replace({"s": {"ab": "AB"}}), pdf.replace({"s": {"ab": "AB"}}))

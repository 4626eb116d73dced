"""Convenience methods (pipe, select_dtypes, explode, pop, iteration, info, ...) and module-level functions."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.array as sa
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def pdf() -> pd.DataFrame:
    return pd.DataFrame({"i": [1, 2, 3, 4, 5, 6], "x": [0.5, np.nan, 2.5, 3.5, np.nan, 5.5],
                         "s": pd.array(["a", "b", None, "d", "e", "f"], dtype="str"),
                         "b": [True, False, True, True, False, False]}, index=[10, 11, 12, 13, 14, 15])


@pytest.fixture
def df(pdf) -> sd.DataFrame:
    return sd.from_pandas(pdf, npartitions=3)


def test_pipe(df, pdf):
    assert_eq(df.pipe(lambda d, k: d.i * k, 3), pdf.pipe(lambda d, k: d.i * k, 3))
    assert_eq(df.pipe((lambda k, data: data.x + k, "data"), 1), pdf.x + 1)
    with pytest.raises(ValueError, match="both the data keyword"):
        df.pipe((lambda data: data, "data"), data=1)


def test_select_dtypes(df, pdf):
    for include, exclude in [("number", None), (None, "number"), (["bool", "float"], None), ("str", None)]:
        assert_eq(df.select_dtypes(include=include, exclude=exclude),
                  pdf.select_dtypes(include=include, exclude=exclude))
    with pytest.raises(ValueError):
        df.select_dtypes()


def test_explode():
    pdf = pd.DataFrame({"a": [[1, 2], [], [3], [4, 5, 6]], "b": [[7, 8], [], [9], [1, 2, 3]], "c": list("wxyz")})
    df = sd.from_pandas(pdf, npartitions=2)
    assert_eq(df.explode("a"), pdf.explode("a"))
    assert_eq(df.explode(["a", "b"]), pdf.explode(["a", "b"]))
    assert_eq(df.a.explode(), pdf.a.explode())
    assert df.explode("a").divisions == df.divisions
    with pytest.raises(KeyError, match="zz"):
        df.explode("zz")


def test_pop(df, pdf):
    expected = pdf.copy()
    col = expected.pop("x")
    out = df.pop("x")
    assert_eq(out, col)
    assert_eq(df, expected)
    assert list(df.columns) == ["i", "s", "b"]
    with pytest.raises(KeyError, match="x"):
        df.pop("x")


def test_rename_axis_and_clear_divisions(df, pdf):
    assert_eq(df.rename_axis("idx"), pdf.rename_axis("idx"))
    assert_eq(df.rename_axis(columns="cols"), pdf.rename_axis(columns="cols"))
    assert_eq(df.i.rename_axis("k"), pdf.i.rename_axis("k"))
    assert df.rename_axis("idx").divisions == df.divisions
    cleared = df.clear_divisions()
    assert cleared.divisions == (None,) * 4 and not cleared.known_divisions
    assert_eq(cleared, pdf)


def test_squeeze(df, pdf):
    assert_eq(df[["x"]].squeeze(), pdf[["x"]].squeeze())
    assert df.squeeze() is df
    series = df.x
    assert series.squeeze() is series
    with pytest.raises(NotImplementedError, match="axis=0"):
        df.squeeze(axis=0)


def test_items_iterrows_itertuples(df, pdf):
    names = [name for name, _ in df.items()]
    assert names == list(pdf.columns)
    for (_name, col), (_, expected) in zip(df.items(), pdf.items(), strict=True):
        assert_eq(col, expected)
    got = list(df.iterrows())
    expected = list(pdf.iterrows())
    assert [i for i, _ in got] == [i for i, _ in expected]
    for (_, row), (_, exp) in zip(got, expected, strict=True):
        pd.testing.assert_series_equal(row, exp)
    assert repr(list(df.itertuples())) == repr(list(pdf.itertuples()))
    assert repr(list(df.itertuples(index=False, name=None))) == repr(list(pdf.itertuples(index=False, name=None)))


def test_iteration_computes_one_partition_at_a_time(df):
    computed = []

    def record(part):
        computed.append(len(part))
        return part

    tracked = df.map_partitions(record)
    computed.clear()  # building ran record on the metadata
    rows = tracked.iterrows()
    next(rows)
    assert len(computed) == 1  # only the first partition so far
    list(rows)
    assert len(computed) == 3


def test_to_timestamp():
    pdf = pd.DataFrame({"v": range(6)}, index=pd.period_range("2024-01", periods=6, freq="M"))
    df = sd.from_pandas(pdf, npartitions=3)
    out = df.to_timestamp()
    assert_eq(out, pdf.to_timestamp(), check_freq=False)
    assert out.divisions == tuple(pd.PeriodIndex(list(df.divisions), freq="M").to_timestamp())
    assert_eq(df.v.to_timestamp(how="end"), pdf.v.to_timestamp(how="end"), check_freq=False)
    with pytest.raises(TypeError, match="PeriodIndex"):
        sd.from_pandas(pd.Series([1, 2]), npartitions=1).to_timestamp()


def test_to_string_and_to_html(df):
    text = df.to_string()
    assert "npartitions=3" in text and "int64" in text and "..." in text
    assert df.i.to_string().splitlines()[0].startswith("npartitions=3")
    html = df.to_html()
    assert html.startswith("<div><strong>Shoal DataFrame Structure:</strong></div>")
    assert "<table" in html and "Shoal Name:" in html


def test_info_formats(df, pdf):
    buf = io.StringIO()
    df.info(buf=buf)
    assert buf.getvalue().splitlines() == [
        "<class 'shoal.dataframe.DataFrame'>",
        "Columns: 4 entries, i to b",
        "dtypes: str(1), bool(1), float64(1), int64(1)",
    ]
    buf = io.StringIO()
    df.info(buf=buf, verbose=True, memory_usage=True)
    lines = buf.getvalue().splitlines()
    assert lines[1] == "Index: 6 entries, 10 to 15"
    assert lines[2] == "Data columns (total 4 columns):"
    assert lines[5].split() == ["0", "i", "6", "non-null", "int64"]
    assert lines[6].split() == ["1", "x", "4", "non-null", "float64"]
    assert lines[7].split() == ["2", "s", "5", "non-null", "str"]
    assert lines[-2].startswith("memory usage: ") and lines[-2].endswith("bytes")  # Dask ends with a blank line
    empty = io.StringIO()
    sd.from_pandas(pd.DataFrame(index=[1, 2]), npartitions=1).info(buf=empty)
    assert "Empty DataFrame" in empty.getvalue()


def test_melt(pdf):
    frame = pd.DataFrame({"k": [1, 2, 3, 4], "a": [5, 6, 7, 8], "b": [0.5, 1.5, 2.5, 3.5]})
    df = sd.from_pandas(frame, npartitions=2)
    for kwargs in [{"id_vars": "k"}, {"id_vars": ["k"], "value_vars": ["a"], "var_name": "v", "value_name": "w"},
                   {}]:
        got = sd.melt(df, **kwargs)
        assert got.divisions == (None, None, None)
        expected = pd.melt(frame, **kwargs)
        key = list(expected.columns)
        assert_eq(got.compute().sort_values(key).reset_index(drop=True),
                  expected.sort_values(key).reset_index(drop=True))
        assert_eq(df.melt(**kwargs).compute().sort_values(key).reset_index(drop=True),
                  expected.sort_values(key).reset_index(drop=True))
    with pytest.raises(KeyError, match="nope"):
        df.melt(id_vars="nope")
    with pytest.raises(TypeError, match="shoal DataFrame"):
        sd.melt(frame)


# -- module-level functions ---------------------------------------------------------------------------
def test_to_datetime_to_numeric_to_timedelta():
    text = pd.Series(["2024-01-02", "2024-02-03", "2024-03-04 05:06"], dtype="str")
    s = sd.from_pandas(text, npartitions=2)
    assert_eq(sd.to_datetime(s), pd.to_datetime(text, format="mixed"), check_dtype=False)
    assert_eq(sd.to_datetime(s, format="mixed"), pd.to_datetime(text, format="mixed"))
    assert sd.to_datetime("2024-01-02") == pd.Timestamp("2024-01-02")
    frame = pd.DataFrame({"year": [2020, 2021], "month": [1, 2], "day": [3, 4]})
    assert_eq(sd.to_datetime(sd.from_pandas(frame, npartitions=2)), pd.to_datetime(frame))

    nums = pd.Series(["1.5", "2", "x", "4"])
    ns = sd.from_pandas(nums, npartitions=2)
    assert_eq(sd.to_numeric(ns, errors="coerce"), pd.to_numeric(nums, errors="coerce"))
    assert_eq(sd.to_numeric(sd.from_pandas(pd.Series(["1", "2"]), npartitions=1), meta=(None, "int64")),
              pd.to_numeric(pd.Series(["1", "2"])))
    assert sd.to_numeric(["1", "2"]).tolist() == [1, 2]
    assert float(sd.to_numeric(sd.from_pandas(pd.Series([1, 2]), npartitions=1).sum()).compute()) == 3.0
    with pytest.raises(TypeError, match="to_numeric takes a Series"):
        sd.to_numeric(sd.from_pandas(frame, npartitions=1))
    with pytest.raises(ValueError, match="errors="):
        sd.to_numeric(ns, errors="ignore")

    secs = pd.Series([1, 2, 3])
    assert_eq(sd.to_timedelta(sd.from_pandas(secs, npartitions=2), unit="s"), pd.to_timedelta(secs, unit="s"))
    spans = pd.Series(["1D", "2h", "3min"])
    assert_eq(sd.to_timedelta(sd.from_pandas(spans, npartitions=2)), pd.to_timedelta(spans))
    assert sd.to_timedelta("1D") == pd.Timedelta("1D")


def test_isna(df, pdf):
    assert_eq(sd.isna(df), pd.isna(pdf))
    assert_eq(sd.isna(df.x), pd.isna(pdf.x))
    assert sd.isna(None) is True
    assert sd.isna(np.array([1.0, np.nan])).tolist() == [False, True]


def test_map_partitions_function(df, pdf):
    assert_eq(sd.map_partitions(lambda d: d.i + 1, df), pdf.i + 1)
    assert_eq(sd.map_partitions(lambda k, d: d.x * k, 2, df), pdf.x * 2)
    assert_eq(sd.map_partitions(lambda a, b: a + b, df.i, df.x), pdf.i + pdf.x)
    other = sd.from_pandas(pdf.i, npartitions=2)
    assert_eq(sd.map_partitions(lambda a, b: a + b, df.x, other, align_dataframes=True), pdf.x + pdf.i)
    with pytest.raises(ValueError, match="at least one shoal DataFrame"):
        sd.map_partitions(lambda a: a, pdf)


def test_repartition_function(df, pdf):
    out = sd.repartition(df, divisions=[10, 12, 15])
    assert out.divisions == (10, 12, 15)
    assert_eq(out, pdf)
    from_pandas = sd.repartition(pdf, divisions=[10, 11, 13, 15])
    assert from_pandas.npartitions == 3
    assert_eq(from_pandas, pdf)
    with pytest.raises(ValueError, match="needs divisions"):
        sd.repartition(df)
    with pytest.raises(TypeError, match="repartition takes"):
        sd.repartition([1, 2], divisions=[0, 1])


def test_compute_is_reexported(df, pdf):
    assert sd.compute is shoal.compute
    (a, b) = sd.compute(df.i.sum(), df.x.max())
    assert (a, b) == (pdf.i.sum(), pdf.x.max())


def _make_part(i, scale, offset=0):
    return pd.DataFrame({"a": [i * scale + offset, i * scale + offset + 1], "b": [float(i)] * 2},
                        index=[2 * i, 2 * i + 1])


def test_from_map():
    df = sd.from_map(_make_part, [0, 1, 2], args=(10,), offset=5, divisions=(0, 2, 4, 5))
    expected = pd.concat([_make_part(i, 10, 5) for i in range(3)])
    assert df.npartitions == 3 and df.divisions == (0, 2, 4, 5)
    assert_eq(df, expected)
    pairs = sd.from_map(lambda i, j: pd.Series([i, j], name="v"), [1, 2], [3, 4])
    assert pairs.compute().tolist() == [1, 3, 2, 4]
    named = sd.from_map(_make_part, [0, 1], args=(1,), label="parts", token="tok")
    assert named._name.startswith("parts-")
    assert sd.from_map(_make_part, [0, 1], args=(1,))._name == sd.from_map(_make_part, [0, 1], args=(1,))._name
    with pytest.raises(ValueError, match="same length"):
        sd.from_map(lambda a, b: pd.DataFrame(), [1], [1, 2])
    with pytest.raises(ValueError, match="divisions must have 3"):
        sd.from_map(_make_part, [0, 1], args=(1,), divisions=(0, 1))
    with pytest.raises(TypeError, match="pandas DataFrame or Series"):
        sd.from_map(lambda i: i, [1, 2])


def test_from_map_enforce_metadata_and_column_projection():
    calls = []

    def reader(i, columns=None):
        calls.append(columns)
        out = pd.DataFrame({"a": [i], "b": [i * 2], "c": [i * 3]})
        return out if columns is None else out[columns]

    df = sd.from_map(reader, [1, 2, 3], meta={"a": "i8", "b": "i8", "c": "i8"})
    assert df.b.sum().compute() == 12
    assert ["b"] in calls  # projection pushdown asked the reader for the one column

    bad = sd.from_map(lambda i: pd.DataFrame({"z": [i]}), [1], meta={"a": "i8"}, enforce_metadata=True)
    with pytest.raises(ValueError, match="do not match"):
        bad.compute()


def test_from_dask_array():
    x = np.arange(12).reshape(6, 2)
    arr = sa.from_array(x, chunks=(2, 2))
    df = sd.from_dask_array(arr, columns=["p", "q"])
    assert_eq(df, pd.DataFrame(x, columns=["p", "q"]), check_divisions=False, check_index=False)
    ser = sd.from_dask_array(sa.from_array(np.arange(6.0), chunks=3), columns="v")
    assert ser.compute().tolist() == list(np.arange(6.0))
    index_src = sd.from_pandas(pd.DataFrame({"k": range(6)}, index=range(100, 106)), npartitions=3)
    labelled = sd.from_dask_array(arr, columns=["p", "q"], index=index_src.index)
    assert labelled.divisions == index_src.divisions
    assert labelled.compute().index.tolist() == list(range(100, 106))
    with pytest.raises(ValueError, match="partitions"):
        sd.from_dask_array(arr, index=sd.from_pandas(pd.Series(range(6)), npartitions=2).index)


def test_getitem_with_callables_and_series_masks() -> None:
    pdf = pd.DataFrame({"x": np.arange(20), "y": np.arange(20.0)[::-1]}, index=np.arange(20) * 2)
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df[lambda f: f.x > 4], pdf[lambda f: f.x > 4])
    assert_eq(df[lambda f: ["y"]], pdf[lambda f: ["y"]])
    assert_eq(df[lambda f: "y"], pdf[lambda f: "y"])
    assert_eq(df.x[lambda s: s % 3 == 0], pdf.x[lambda s: s % 3 == 0])
    assert_eq(df.x[df.y > 7], pdf.x[pdf.y > 7])
    assert_eq(df.x[6:21], pdf.x.loc[6:21])
    with pytest.raises(TypeError, match="boolean Series"):
        df.x[df]


def test_iteration_matches_pandas() -> None:
    pdf = pd.DataFrame({"a": [3, 1, 2, 5, 4], "b": list("vwxyz")})
    df = sd.from_pandas(pdf, npartitions=2)
    assert list(df) == list(pdf)
    assert "a" in df and "c" not in df
    assert list(df.a) == list(pdf.a)
    assert list(df.b[df.a > 2]) == list(pdf.b[pdf.a > 2])

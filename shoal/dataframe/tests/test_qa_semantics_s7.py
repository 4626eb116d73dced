"""QA findings against Dask (wrong results and semantics), each compared with pandas on the same data."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._categorical import UNKNOWN_CATEGORIES, has_known_categories


@pytest.fixture
def pdf() -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(8.0), "k": [1, 2] * 4, "s": list("baccbaca"),
                         "t": pd.date_range("2024", periods=8), "b": [True, False] * 4})


@pytest.fixture
def df(pdf: pd.DataFrame) -> sd.DataFrame:
    return sd.from_pandas(pdf, npartitions=4)


def _sync(obj):  # noqa: ANN001, ANN202
    return obj.compute(scheduler="sync")


# -- 1. one value per partition with meta= --------------------------------------------------------------

def test_map_partitions_scalar_with_meta_is_a_series_per_partition(df, pdf):
    out = df.map_partitions(lambda p: p.x.sum(), meta=("x", "f8"))
    got = _sync(out)
    assert isinstance(got, pd.Series) and got.name == "x" and got.dtype == "f8"
    assert got.tolist() == [pdf.x.iloc[i:i + 2].sum() for i in range(0, 8, 2)]
    assert len(out) == 4


# -- 2. astype("category") over several partitions ------------------------------------------------------

@given(values=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=30),
       npartitions=st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_astype_category_matches_pandas_on_the_whole(values, npartitions):
    s = pd.Series(values, name="s")
    lazy = sd.from_pandas(s, npartitions=npartitions).astype("category")
    assert not has_known_categories(lazy._meta)
    pd.testing.assert_series_equal(_sync(lazy), s.astype("category"))


def test_astype_category_in_a_frame(pdf):
    lazy = sd.from_pandas(pdf, npartitions=3).astype({"s": "category"})
    assert list(lazy._meta.s.cat.categories) == [UNKNOWN_CATEGORIES]
    pd.testing.assert_frame_equal(_sync(lazy), pdf.astype({"s": "category"}))
    known = sd.from_pandas(pdf, npartitions=3).astype({"s": pd.CategoricalDtype(["c", "b", "a"])})
    assert list(known._meta.s.cat.categories) == ["c", "b", "a"]


# -- 3. groupby numeric_only ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["sum", "mean", "min", "max", "prod", "var", "std", "first", "last"])
def test_groupby_numeric_only(df, pdf, method):
    got = _sync(getattr(df.groupby("k"), method)(numeric_only=True))
    expected = getattr(pdf.groupby("k"), method)(numeric_only=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=method != "prod")


def test_groupby_numeric_only_series(df, pdf):
    pd.testing.assert_series_equal(_sync(df.groupby("k").x.sum(numeric_only=True)),
                                   pdf.groupby("k").x.sum(numeric_only=True))
    with pytest.raises(TypeError, match="numeric_only"):
        df.groupby("k").s.sum(numeric_only=True)


# -- 4. min_count and numeric_only of reductions ---------------------------------------------------------

@given(data=st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)), max_size=12),
       npartitions=st.integers(1, 4), min_count=st.integers(0, 4), method=st.sampled_from(["sum", "prod"]))
@settings(max_examples=60, deadline=None)
def test_min_count_matches_pandas(data, npartitions, min_count, method):
    s = pd.Series(data, dtype="f8")
    if not len(s):
        s = pd.Series([np.nan], dtype="f8")
    lazy = sd.from_pandas(s, npartitions=npartitions)
    got = _sync(getattr(lazy, method)(min_count=min_count))
    expected = getattr(s, method)(min_count=min_count)
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected)


def test_min_count_on_an_empty_filter_and_frames(df, pdf):
    assert np.isnan(_sync(df[df.x > 100].x.sum(min_count=1)))
    assert np.isnan(_sync(df[df.x > 100].x.prod(min_count=1)))
    assert _sync(df[df.x > 100].x.sum()) == 0
    part = pdf[pdf.x > 5]
    pd.testing.assert_series_equal(_sync(df[df.x > 5].sum(numeric_only=True, min_count=3)),
                                   part.sum(numeric_only=True, min_count=3))
    pd.testing.assert_series_equal(_sync(df.sum(numeric_only=True, min_count=1)),
                                   pdf.sum(numeric_only=True, min_count=1))


def test_mean_numeric_only_keeps_booleans(df, pdf):
    for method in ("mean", "var", "std"):
        pd.testing.assert_series_equal(_sync(getattr(df, method)(numeric_only=True)),
                                       getattr(pdf, method)(numeric_only=True))


# -- 5. repartition ------------------------------------------------------------------------------------------

@given(n=st.integers(1, 40), npartitions=st.integers(1, 5), more=st.integers(1, 12),
       kind=st.sampled_from(["int", "float", "datetime"]))
@settings(max_examples=40, deadline=None)
def test_repartition_to_more_partitions_keeps_divisions(n, npartitions, more, kind):
    index = {"int": pd.Index(np.arange(n) * 3), "float": pd.Index(np.linspace(0, 1, n)),
             "datetime": pd.date_range("2024", periods=n, freq="7h")}[kind]
    pdf = pd.DataFrame({"v": np.arange(n)}, index=index)
    lazy = sd.from_pandas(pdf, npartitions=npartitions)
    target = lazy.npartitions + more
    out = lazy.repartition(npartitions=target)
    got = _sync(out)
    pd.testing.assert_frame_equal(got, pdf)
    assert out.npartitions == target
    old = lazy.divisions
    if kind != "int" and all(a < b for a, b in zip(old[:-1], old[1:], strict=True)):
        assert out.known_divisions
    if out.known_divisions:
        divisions = out.divisions
        assert all(a < b for a, b in zip(divisions[:-2], divisions[1:-1], strict=True))
        assert divisions[-2] <= divisions[-1]
        for i in range(out.npartitions):
            part = out.partitions[i].compute(scheduler="sync")
            last = i == out.npartitions - 1
            assert ((part.index >= divisions[i]) & ((part.index <= divisions[i + 1]) if last
                                                    else (part.index < divisions[i + 1]))).all()


@pytest.mark.parametrize("freq", ["2D", "3D", "1W", "12h"])
def test_repartition_freq(pdf, freq):
    indexed = pdf.set_index("t")
    lazy = sd.from_pandas(indexed, npartitions=2).repartition(freq=freq)
    pd.testing.assert_frame_equal(_sync(lazy), indexed)
    cuts = [t for t in pd.date_range(indexed.index[0], indexed.index[-1], freq=freq)
            if indexed.index[0] < t < indexed.index[-1]]
    assert lazy.divisions == (indexed.index[0], *cuts, indexed.index[-1])
    with pytest.raises(TypeError, match="datetime index"):
        sd.from_pandas(pdf, npartitions=2).repartition(freq="2D")


# -- 6. loc of a missing label ------------------------------------------------------------------------------

def test_loc_missing_label_raises_key_error(df, pdf):
    with pytest.raises(KeyError):
        df.loc[100]  # outside the divisions: known at once
    shifted = sd.from_pandas(pdf.set_index(pdf.index * 2), npartitions=3)
    with pytest.raises(KeyError, match="3"):
        _sync(shifted.loc[3])  # inside the divisions, absent from its partition
    with pytest.raises(KeyError):
        _sync(shifted.loc[[2, 3]])
    pd.testing.assert_frame_equal(_sync(shifted.loc[[2, 10]]), pdf.set_index(pdf.index * 2).loc[[2, 10]])
    pd.testing.assert_frame_equal(_sync(df.loc[5]), pdf.loc[[5]])
    assert _sync(df.loc[5:5].x).tolist() == [5.0]


# -- 7. meta that disagreed with the result --------------------------------------------------------------------

def test_to_numeric_and_to_datetime_follow_their_meta(df, pdf):
    out = sd.to_numeric(df.k.astype(str))
    assert _sync(out).dtype == out._meta.dtype
    pd.testing.assert_series_equal(_sync(out), pd.to_numeric(pdf.k.astype(str)).astype(out._meta.dtype))
    text = pd.Series(["05/01/2024", "13/02/2023", "01/12/2020", "31/07/1999"], name="d")
    parsed = sd.to_datetime(sd.from_pandas(text, npartitions=2), format="%d/%m/%Y")
    expected = pd.to_datetime(text, format="%d/%m/%Y")
    assert parsed._meta.dtype == expected.dtype
    pd.testing.assert_series_equal(_sync(parsed), expected)


def test_groupby_apply_takes_the_meta_name(df, pdf):
    out = df.groupby("k").apply(lambda g: g.x.max(), meta=("x", "f8"))
    expected = pdf.groupby("k").apply(lambda g: g.x.max()).rename("x")
    assert out._meta.name == "x"
    pd.testing.assert_series_equal(_sync(out).sort_index(), expected)


def test_map_overlap_meta_gets_the_index(pdf):
    indexed = sd.from_pandas(pdf.set_index("t"), npartitions=3)
    out = indexed.map_overlap(lambda p: p.x, pd.Timedelta("1D"), 0, meta=("x", "f8"))
    assert out._meta.index.dtype == pdf.t.dtype
    pd.testing.assert_series_equal(_sync(out), pdf.set_index("t").x)
    mapped = indexed.map_partitions(lambda p: p.x + 1, meta=("x", "f8"))
    assert mapped._meta.index.dtype == pdf.t.dtype


# -- 8. error types ---------------------------------------------------------------------------------------------

def test_meta_inference_keeps_the_error_type(df, pdf):
    with pytest.raises(TypeError) as info:
        df[["x", "k"]] + df.s
    assert "could not infer" in str(info.value) and isinstance(info.value, ValueError)
    with pytest.raises(TypeError):
        pdf[["x", "k"]] + pdf.s  # what pandas raises
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, TypeError) and str(again) == str(info.value)


def test_other_error_types(df):
    with pytest.raises(TypeError, match="lazy"):
        bool(df.x.sum())
    with pytest.raises(ValueError, match="unknown groupby aggregation 'foo'"):
        df.groupby("k").agg("foo")
    with pytest.raises(ValueError, match="rename"):
        df.rename(index=lambda i: i * 2)


def test_series_rename_index(df, pdf):
    out = df.x.rename(lambda i: i * 2)
    assert not out.known_divisions
    pd.testing.assert_series_equal(_sync(out), pdf.x.rename(lambda i: i * 2))
    kept = df.x.rename(lambda i: i * 2, sorted_index=True)
    assert kept.divisions == tuple(d * 2 for d in df.divisions)
    pd.testing.assert_series_equal(_sync(kept.loc[4:8]), pdf.x.rename(lambda i: i * 2).loc[4:8])


# -- 9. alignment ------------------------------------------------------------------------------------------------

@given(nleft=st.integers(1, 5), nright=st.integers(1, 5), start=st.integers(-3, 3), length=st.integers(1, 12))
@settings(max_examples=40, deadline=None)
def test_assign_setitem_where_align(nleft, nright, start, length):
    pdf = pd.DataFrame({"x": np.arange(8.0)})
    other = pd.Series(np.arange(length) * 10, index=np.arange(start, start + length), name="o")
    left, right = sd.from_pandas(pdf, npartitions=nleft), sd.from_pandas(other, npartitions=nright)
    pd.testing.assert_frame_equal(_sync(left.assign(z=right)), pdf.assign(z=other))
    setter = left.copy()
    setter["z"] = right
    pd.testing.assert_frame_equal(_sync(setter), pdf.assign(z=other))
    pd.testing.assert_series_equal(_sync(left.x.where(right > 20, right)), pdf.x.where(other > 20, other))
    pd.testing.assert_series_equal(_sync(left.x.mask(right > 20)), pdf.x.mask(other > 20))
    pd.testing.assert_series_equal(_sync(left.x + other), pdf.x + other)


def test_pandas_operand_aligns(df, pdf):
    pd.testing.assert_series_equal(_sync(df.x + pdf.x.iloc[::-1]), pdf.x + pdf.x.iloc[::-1])
    pd.testing.assert_frame_equal(_sync(df[["x"]] * pdf[["x"]]), pdf[["x"]] * pdf[["x"]])
    row = pd.Series({"x": 10.0, "k": 1})
    pd.testing.assert_frame_equal(_sync(df[["x", "k"]] + row), pdf[["x", "k"]] + row)  # a row: on the columns
    with pytest.raises(TypeError, match="divisions"):
        df.clear_divisions().x + pdf.x


# -- 10. API gaps ---------------------------------------------------------------------------------------------------

def test_series_name_setter(df, pdf):
    s = df.x
    s.name = "q"
    assert s.name == "q" and _sync(s).name == "q"


def test_partition_info(df):
    def tag(p, partition_info=None):
        return p.x * 0 + partition_info["number"] + 10 * partition_info["division"]

    out = df.map_partitions(tag)
    expected = [i // 2 + 10 * df.divisions[i // 2] for i in range(8)]
    assert _sync(out).tolist() == expected
    assert _sync(out.partitions[2]).tolist() == expected[4:6]  # numbers survive partition pruning
    assert df.map_partitions(tag, meta=("x", "f8")).head(2, npartitions=1).tolist() == expected[:2]
    counts = df.map_partitions(lambda p, partition_info=None: partition_info["number"])
    assert _sync(counts).tolist() == [0, 1, 2, 3]


def test_loc_column_slices_and_masks(df, pdf):
    pd.testing.assert_frame_equal(_sync(df.loc[:, "x":"s"]), pdf.loc[:, "x":"s"])
    pd.testing.assert_frame_equal(_sync(df.loc[2:5, "k":]), pdf.loc[2:5, "k":])
    mask = [True, False, True, False, False]
    pd.testing.assert_frame_equal(_sync(df.loc[:, mask]), pdf.loc[:, mask])
    pd.testing.assert_series_equal(_sync(df.loc[1:3, "x"]), pdf.loc[1:3, "x"])


def test_boolean_frame_mask(df, pdf):
    pd.testing.assert_frame_equal(_sync(df[df[["x", "k"]] > 2]), pdf[pdf[["x", "k"]] > 2])
    pd.testing.assert_frame_equal(_sync(df[["x"]][df[["x"]] > 2]), pdf[["x"]][pdf[["x"]] > 2])


def test_groupby_index_name(df, pdf):
    indexed, pindexed = df.set_index("k"), pdf.set_index("k")
    pd.testing.assert_series_equal(_sync(indexed.groupby("k").x.sum()), pindexed.groupby("k").x.sum())
    pd.testing.assert_series_equal(_sync(indexed.groupby(["k", "s"]).x.sum()), pindexed.groupby(["k", "s"]).x.sum())


def test_set_index_series(df, pdf):
    out = df.set_index(df.x * 2)
    assert out.known_divisions
    pd.testing.assert_frame_equal(_sync(out), pdf.set_index(pdf.x * 2).sort_index())
    same = df.set_index(df.x)
    pd.testing.assert_frame_equal(_sync(same), pdf.set_index(pdf.x, drop=False).sort_index())


def test_isin_lazy_series(df, pdf):
    values = pd.Series([2, 7, 9])
    lazy = sd.from_pandas(values, npartitions=2)
    pd.testing.assert_series_equal(_sync(df.k.isin(lazy)), pdf.k.isin(values))
    pd.testing.assert_series_equal(_sync(df.x.isin(lazy[lazy > 5])), pdf.x.isin(values[values > 5]))
    with pytest.raises(NotImplementedError, match="compute"):
        df.isin(lazy)

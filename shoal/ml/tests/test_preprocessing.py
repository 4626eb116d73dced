"""shoal.ml.preprocessing against scikit-learn's scalers and pandas' categoricals / get_dummies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.preprocessing as skp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import NotFittedError

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.preprocessing import Categorizer, DummyEncoder, MinMaxScaler, StandardScaler


@pytest.fixture
def pdf():
    return pd.DataFrame({
        "x": np.arange(12, dtype=float),
        "s": ["b", "a", "c", "a", "b", "b", "c", "a", "a", "b", "c", "b"],
        "o": pd.Series(["u", "v"] * 6, dtype=object),
        "k": pd.Categorical(["q", "p"] * 6),
    })


# ---------------------------------------------------------------------- Categorizer


def test_categorizer_pandas_matches_astype_category(pdf):
    ce = Categorizer().fit(pdf)
    assert list(ce.columns_) == ["s", "o", "k"]
    out = ce.transform(pdf)
    for col in ["s", "o", "k"]:
        expected = pdf[col].astype("category")
        assert out[col].dtype == expected.dtype, col
        pd.testing.assert_series_equal(out[col], expected)
    pd.testing.assert_series_equal(out.x, pdf.x)


def test_categorizer_shoal_matches_pandas(pdf):
    ddf = sd.from_pandas(pdf, npartitions=3)
    ours = Categorizer().fit(ddf)
    theirs = Categorizer().fit(pdf)
    assert list(ours.columns_) == list(theirs.columns_)
    for col in theirs.columns_:
        assert ours.categories_[col] == theirs.categories_[col], col
    out = ours.transform(ddf)
    assert isinstance(out, sd.DataFrame)
    assert out._meta.dtypes.to_dict() == theirs.transform(pdf).dtypes.to_dict()
    pd.testing.assert_frame_equal(out.compute(), theirs.transform(pdf))


def test_categorizer_categories_and_columns(pdf):
    cats = {"s": pd.CategoricalDtype(["c", "b", "a"]), "o": ["v", "u", "w"]}
    ce = Categorizer(categories=cats).fit(pdf)
    out = ce.transform(sd.from_pandas(pdf, npartitions=2)).compute()
    assert out.s.cat.categories.tolist() == ["c", "b", "a"]
    assert out.o.cat.categories.tolist() == ["v", "u", "w"]
    pd.testing.assert_series_equal(out.s, pdf.s.astype(pd.CategoricalDtype(["c", "b", "a"])))
    only = Categorizer(columns=["o"]).fit(pdf).transform(pdf)
    assert only.s.dtype == pdf.s.dtype and isinstance(only.o.dtype, pd.CategoricalDtype)


def test_categorizer_errors(pdf):
    with pytest.raises(TypeError, match="pandas or shoal DataFrame"):
        Categorizer().fit(np.zeros((3, 2)))
    with pytest.raises(KeyError, match="does not have"):
        Categorizer(columns=["nope"]).fit(pdf)
    with pytest.raises(NotFittedError):
        Categorizer().transform(pdf)


# ---------------------------------------------------------------------- DummyEncoder


@pytest.mark.parametrize("drop_first", [False, True])
def test_dummy_encoder_matches_get_dummies(pdf, drop_first):
    cat = Categorizer().fit_transform(pdf)
    expected = pd.get_dummies(cat, columns=["s", "o", "k"], drop_first=drop_first)
    de = DummyEncoder(drop_first=drop_first).fit(cat)
    assert list(de.transformed_columns_) == list(expected.columns)
    pd.testing.assert_frame_equal(de.transform(cat), expected)
    pd.testing.assert_frame_equal(de.inverse_transform(de.transform(cat)), cat)
    pd.testing.assert_frame_equal(de.inverse_transform(de.transform(cat).to_numpy()), cat)

    dcat = sd.from_pandas(cat, npartitions=3)
    ours = DummyEncoder(drop_first=drop_first).fit(dcat)
    out = ours.transform(dcat)
    assert isinstance(out, sd.DataFrame)
    assert list(out._meta.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(out.compute(), expected)
    back = ours.inverse_transform(out)
    assert isinstance(back, sd.DataFrame)
    pd.testing.assert_frame_equal(back.compute(), cat)


def test_dummy_encoder_columns_and_errors(pdf):
    cat = Categorizer().fit_transform(pdf)
    de = DummyEncoder(columns=["k"]).fit(cat)
    pd.testing.assert_frame_equal(de.transform(cat), pd.get_dummies(cat, columns=["k"]))
    assert list(de.non_categorical_columns_) == ["x", "s", "o"]
    with pytest.raises(ValueError, match="not category"):
        DummyEncoder(columns=["s"]).fit(pdf)
    with pytest.raises(ValueError, match="fit saw"):
        de.transform(cat[["x", "k"]])


# ---------------------------------------------------------------------- scalers


def _finite_2d():
    return st.tuples(st.integers(2, 30), st.integers(1, 4)).flatmap(
        lambda shape: arrays(np.float64, shape, elements=st.floats(-1e3, 1e3, allow_nan=False)))


@given(x=_finite_2d(), chunk=st.integers(1, 10), with_mean=st.booleans())
@settings(max_examples=30, deadline=None)
def test_standard_scaler_matches_sklearn(x, chunk, with_mean):
    theirs = skp.StandardScaler(with_mean=with_mean).fit(x)
    dx = sa.from_array(x, chunks=(chunk, 2))
    ours = StandardScaler(with_mean=with_mean).fit(dx)
    if with_mean:
        np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-9, atol=1e-9)
    else:
        assert ours.mean_ is None
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-7, atol=1e-6)
    assert ours.n_samples_seen_ == theirs.n_samples_seen_
    out = ours.transform(dx)
    assert isinstance(out, sa.Array) and out.shape == x.shape
    np.testing.assert_allclose(out.compute(), theirs.transform(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.inverse_transform(out).compute(), x, rtol=1e-6, atol=1e-6)


@given(x=_finite_2d(), chunk=st.integers(1, 10), low=st.floats(-5, 0), width=st.floats(0.5, 5))
@settings(max_examples=30, deadline=None)
def test_minmax_scaler_matches_sklearn(x, chunk, low, width):
    rng = (low, low + width)
    theirs = skp.MinMaxScaler(feature_range=rng).fit(x)
    dx = sa.from_array(x, chunks=(chunk, 1))
    ours = MinMaxScaler(feature_range=rng).fit(dx)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-12, err_msg=attr)
    np.testing.assert_allclose(ours.transform(dx).compute(), theirs.transform(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(dx)).compute(), x, rtol=1e-6, atol=1e-6)


def test_scalers_on_dataframes_return_dataframes():
    pdf = pd.DataFrame({"a": np.arange(10.0) ** 2, "b": np.arange(10) % 3, "c": np.ones(10)})
    ddf = sd.from_pandas(pdf, npartitions=3)
    for ours, theirs in ((StandardScaler(), skp.StandardScaler()), (MinMaxScaler(), skp.MinMaxScaler())):
        theirs.fit(pdf)
        ours.fit(ddf)
        assert list(ours.feature_names_in_) == list(theirs.feature_names_in_)
        out = ours.transform(ddf)
        assert isinstance(out, sd.DataFrame) and list(out._meta.columns) == ["a", "b", "c"]
        got = out.compute()
        np.testing.assert_allclose(got.to_numpy(), theirs.transform(pdf), rtol=1e-9, atol=1e-12)
        pd.testing.assert_index_equal(got.index, pdf.index)
        back = ours.inverse_transform(out).compute()
        np.testing.assert_allclose(back.to_numpy(), pdf.to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
        # in-memory data stays in memory
        np.testing.assert_allclose(ours.transform(pdf), theirs.transform(pdf), rtol=1e-9, atol=1e-12)


def test_scalers_ignore_nan_like_sklearn():
    x = np.array([[1.0, np.nan], [2.0, 4.0], [np.nan, 6.0], [4.0, 8.0]])
    dx = sa.from_array(x, chunks=(2, 2))
    for ours, theirs in ((StandardScaler(), skp.StandardScaler()), (MinMaxScaler(), skp.MinMaxScaler())):
        theirs.fit(x)
        ours.fit(dx)
        np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)
        np.testing.assert_allclose(ours.transform(dx).compute(), theirs.transform(x), rtol=1e-9)


def test_clip_and_errors():
    x = np.array([[0.0], [10.0]])
    scaler = MinMaxScaler(clip=True).fit(sa.from_array(x, chunks=1))
    out = scaler.transform(sa.from_array(np.array([[-5.0], [5.0], [20.0]]), chunks=2)).compute()
    np.testing.assert_array_equal(out, skp.MinMaxScaler(clip=True).fit(x).transform([[-5.0], [5.0], [20.0]]))
    with pytest.raises(ValueError, match="smaller than maximum"):
        MinMaxScaler(feature_range=(1, 0)).fit(x)
    with pytest.raises(ValueError, match="2-d array"):
        StandardScaler().fit(sa.from_array(np.arange(4.0), chunks=2))
    with pytest.raises(ValueError, match="fitted with 1"):
        scaler.transform(sa.from_array(np.zeros((2, 3)), chunks=1))
    with pytest.raises(NotFittedError):
        StandardScaler().transform(x)
    with pytest.raises(TypeError, match="shoal Array or DataFrame"):
        StandardScaler().fit("abc")

"""LabelEncoder, OrdinalEncoder, OneHotEncoder, PolynomialFeatures and BlockTransformer against scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn.preprocessing as skp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

import shoal
import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.preprocessing import (BlockTransformer, LabelEncoder, OneHotEncoder, OrdinalEncoder,
                                    PolynomialFeatures)
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


def _blocks(x: sa.Array) -> list:
    """The computed blocks of a shoal array (sparse blocks cannot be concatenated by compute())."""
    return list(shoal.compute(*x.to_delayed().ravel()))


@pytest.fixture
def pdf():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "s": pd.Categorical(rng.choice(["a", "b", "c"], 30)),
        "x": rng.normal(size=30),
        "k": pd.Categorical(rng.choice([10, 20], 30)),
    })


# ---------------------------------------------------------------------- LabelEncoder


@given(data=st.data(), n=st.integers(1, 40), seed=st.integers(0, 100), kind=st.sampled_from(["str", "int"]))
@settings(max_examples=20, deadline=None)
@on_sync
def test_label_encoder_matches_sklearn(data, n, seed, kind):
    rng = np.random.default_rng(seed)
    y = rng.choice(["x", "b", "qq", "a"], n) if kind == "str" else rng.integers(-3, 9, n)
    chunks = data.draw(row_chunks(n))
    ours = LabelEncoder().fit(sa.from_array(y, chunks=(chunks,)))
    theirs = skp.LabelEncoder().fit(y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    codes = ours.transform(sa.from_array(y, chunks=(chunks,)))
    assert isinstance(codes, sa.Array)
    np.testing.assert_array_equal(codes.compute(), theirs.transform(y))
    np.testing.assert_array_equal(ours.inverse_transform(codes).compute(), y)


def test_label_encoder_series_and_categorical(sync_scheduler):
    s = pd.Series(["b", "a", "c", "a", "b"])
    ds = sd.from_pandas(s, npartitions=2)
    le = LabelEncoder().fit(ds)
    np.testing.assert_array_equal(le.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(le.transform(ds).compute(), skp.LabelEncoder().fit_transform(s))
    cat = s.astype(pd.CategoricalDtype(["c", "b", "a"]))
    le = LabelEncoder().fit(sd.from_pandas(cat, npartitions=2))
    assert le.classes_.tolist() == ["c", "b", "a"] and le.dtype_ == cat.dtype
    np.testing.assert_array_equal(le.transform(sd.from_pandas(cat, npartitions=2)).compute(), [1, 2, 0, 2, 1])
    assert LabelEncoder(use_categorical=False).fit(cat).classes_.tolist() == ["a", "b", "c"]


def test_label_encoder_errors(sync_scheduler):
    le = LabelEncoder().fit(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"unseen labels: \[7\]"):
        le.transform(sa.from_array(np.array([1, 7]), chunks=1)).compute()
    with pytest.raises(NotFittedError):
        LabelEncoder().transform(np.array([1]))
    with pytest.raises(ValueError, match="1-d"):
        LabelEncoder().fit(np.zeros((2, 2)))


# ---------------------------------------------------------------------- OrdinalEncoder


def test_ordinal_encoder_matches_sklearn(sync_scheduler, pdf):
    ddf = sd.from_pandas(pdf, npartitions=3)
    enc = OrdinalEncoder().fit(ddf)
    assert list(enc.columns_) == ["s", "k"] and list(enc.non_categorical_columns_) == ["x"]
    out = enc.transform(ddf)
    assert isinstance(out, sd.DataFrame)
    got = out.compute()
    sk = skp.OrdinalEncoder(categories=[list(pdf.s.cat.categories), list(pdf.k.cat.categories)])
    np.testing.assert_array_equal(got[["s", "k"]].to_numpy(), sk.fit_transform(pdf[["s", "k"]]))
    pd.testing.assert_series_equal(got.x, pdf.x)
    pd.testing.assert_frame_equal(enc.transform(pdf), got)
    back = enc.inverse_transform(out).compute()
    pd.testing.assert_frame_equal(back, pdf)


def test_ordinal_encoder_errors(pdf):
    with pytest.raises(ValueError, match="not category"):
        OrdinalEncoder(columns=["x"]).fit(pdf)
    with pytest.raises(TypeError, match="DataFrame"):
        OrdinalEncoder().fit(np.zeros((2, 2)))


# ---------------------------------------------------------------------- OneHotEncoder


@given(data=st.data(), n=st.integers(1, 40), seed=st.integers(0, 100),
       drop=st.sampled_from([None, "first", "if_binary"]), kind=st.sampled_from(["int", "str"]))
@settings(max_examples=20, deadline=None)
@on_sync
def test_one_hot_arrays_match_sklearn(data, n, seed, drop, kind):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, (n, 2)) * np.array([1, 5])
    if kind == "str":
        X = X.astype(str).astype(object)
    chunks = data.draw(row_chunks(n))
    x = sa.from_array(X, chunks=(chunks, 2))
    ours = OneHotEncoder(drop=drop).fit(x)
    theirs = skp.OneHotEncoder(drop=drop).fit(X)
    for a, b in zip(ours.categories_, theirs.categories_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    out = ours.transform(x)
    blocks = _blocks(out)
    assert all(sp.issparse(b) for b in blocks) and out.shape[1] == len(theirs.get_feature_names_out())
    np.testing.assert_array_equal(sp.vstack(blocks).toarray(), theirs.transform(X).toarray())
    dense = OneHotEncoder(drop=drop, sparse_output=False).fit(x).transform(x).compute()
    np.testing.assert_array_equal(dense, theirs.transform(X).toarray())


def test_one_hot_dataframe(sync_scheduler, pdf):
    frame = pdf[["s", "k"]]
    ddf = sd.from_pandas(frame, npartitions=3)
    ours = OneHotEncoder().fit(ddf)
    theirs = skp.OneHotEncoder(sparse_output=False).fit(frame)
    out = ours.transform(ddf)
    assert isinstance(out, sd.DataFrame)
    assert list(out.columns) == list(theirs.get_feature_names_out())
    np.testing.assert_array_equal(out.compute().to_numpy(), theirs.transform(frame))
    np.testing.assert_array_equal(ours.transform(frame).toarray(), theirs.transform(frame))


def test_one_hot_unknown_and_errors(sync_scheduler):
    X = np.array([[1], [2], [1]])
    enc = OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit(X)
    theirs = skp.OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit(X)
    Z = np.array([[3], [2]])
    np.testing.assert_array_equal(enc.transform(sa.from_array(Z, chunks=1)).compute(), theirs.transform(Z))
    with pytest.raises(ValueError, match="unknown categories"):
        OneHotEncoder(sparse_output=False).fit(X).transform(sa.from_array(Z, chunks=1)).compute()
    with pytest.raises(ValueError, match="not category"):
        OneHotEncoder().fit(sd.from_pandas(pd.DataFrame({"a": ["x", "y"]}), npartitions=1))
    with pytest.raises(ValueError, match="handle_unknown"):
        OneHotEncoder(handle_unknown="nope").fit(X)


# ---------------------------------------------------------------------- PolynomialFeatures, BlockTransformer


@given(data=st.data(), n=st.integers(1, 30), degree=st.integers(1, 3), interaction_only=st.booleans(),
       include_bias=st.booleans())
@settings(max_examples=20, deadline=None)
@on_sync
def test_polynomial_features_match_sklearn(data, n, degree, interaction_only, include_bias):
    X = np.random.default_rng(n).normal(size=(n, 3))
    chunks = data.draw(row_chunks(n))
    kw = {"degree": degree, "interaction_only": interaction_only, "include_bias": include_bias}
    ours = PolynomialFeatures(**kw).fit(sa.from_array(X, chunks=(chunks, 3)))
    theirs = skp.PolynomialFeatures(**kw).fit(X)
    np.testing.assert_array_equal(ours.powers_, theirs.powers_)
    np.testing.assert_array_equal(ours.transform(sa.from_array(X, chunks=(chunks, 3))).compute(), theirs.transform(X))


def test_polynomial_features_dataframe(sync_scheduler):
    pdf = pd.DataFrame(np.arange(12.0).reshape(6, 2), columns=["a", "b"])
    ddf = sd.from_pandas(pdf, npartitions=2)
    theirs = skp.PolynomialFeatures().fit(pdf)
    kept = PolynomialFeatures(preserve_dataframe=True).fit(ddf).transform(ddf)
    assert isinstance(kept, sd.DataFrame) and list(kept.columns) == list(theirs.get_feature_names_out())
    np.testing.assert_array_equal(kept.compute().to_numpy(), theirs.transform(pdf))
    arr = PolynomialFeatures().fit(ddf).transform(ddf)
    assert isinstance(arr, sa.Array)
    np.testing.assert_array_equal(arr.compute(), theirs.transform(pdf))


def test_block_transformer_matches_function_transformer(sync_scheduler):
    X = np.random.default_rng(1).normal(size=(20, 3))
    bt = BlockTransformer(np.clip, a_min=-0.5, a_max=0.5)
    theirs = skp.FunctionTransformer(np.clip, kw_args={"a_min": -0.5, "a_max": 0.5})
    np.testing.assert_array_equal(bt.fit_transform(sa.from_array(X, chunks=7)).compute(), theirs.fit_transform(X))
    pdf = pd.DataFrame(X, columns=list("abc"))
    out = BlockTransformer(lambda d: d.assign(a=d.a * 2)).transform(sd.from_pandas(pdf, npartitions=3))
    pd.testing.assert_frame_equal(out.compute(), pdf.assign(a=pdf.a * 2))
    assert bt.get_params()["a_min"] == -0.5
    with pytest.raises(ValueError, match="2-d array"):
        BlockTransformer(np.abs, validate=True).fit(sa.from_array(np.ones(3), chunks=1))

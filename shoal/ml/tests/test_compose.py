"""shoal.ml.compose.ColumnTransformer against sklearn.compose.ColumnTransformer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.compose as skc
import sklearn.preprocessing as skp
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.compose import ColumnTransformer, make_column_selector, make_column_transformer
from shoal.ml.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from shoal.ml.tests.sync_helpers import on_sync


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.random(n) * 10,
                         "s": pd.Categorical(rng.choice(["u", "v", "w"], n), categories=["u", "v", "w"]),
                         "z": rng.integers(0, 9, n).astype(float)})


@given(n=st.integers(4, 40), seed=st.integers(0, 100), nparts=st.integers(1, 4),
       remainder=st.sampled_from(["drop", "passthrough"]))
@settings(max_examples=15, deadline=None)
@on_sync
def test_column_transformer_matches_sklearn(n, seed, nparts, remainder):
    pdf = _frame(n, seed)
    ddf = sd.from_pandas(pdf, npartitions=nparts)
    ours = ColumnTransformer([("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["s"])],
                             remainder=remainder)
    # the shoal encoder takes the categories of the dtype (as dask-ml), scikit-learn the observed ones
    encoder = skp.OneHotEncoder(sparse_output=False, categories=[["u", "v", "w"]])
    theirs = skc.ColumnTransformer([("num", skp.StandardScaler(), ["a", "b"]), ("cat", encoder, ["s"])],
                                   remainder=remainder)
    out = ours.fit_transform(ddf)
    assert isinstance(out, sd.DataFrame)
    expected = theirs.fit_transform(pdf)
    np.testing.assert_allclose(out.compute().to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(ddf).compute().to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-12)
    assert {k: (v.start, v.stop) for k, v in ours.output_indices_.items()} == {
        k: (v.start, v.stop) for k, v in theirs.output_indices_.items()}


def test_column_transformer_arrays_and_weights(sync_scheduler):
    pdf = _frame(30, 1)
    ddf = sd.from_pandas(pdf, npartitions=3)
    ours = ColumnTransformer([("num", StandardScaler(), ["a"]), ("mm", MinMaxScaler(), ["b"])],
                             preserve_dataframe=False, transformer_weights={"mm": 2.0})
    theirs = skc.ColumnTransformer([("num", skp.StandardScaler(), ["a"]), ("mm", skp.MinMaxScaler(), ["b"])],
                                   transformer_weights={"mm": 2.0})
    out = ours.fit_transform(ddf)
    assert isinstance(out, sa.Array)
    np.testing.assert_allclose(out.compute(), theirs.fit_transform(pdf), rtol=1e-12)


def test_column_transformer_pandas_and_selector(sync_scheduler):
    pdf = _frame(20, 2)
    sel = make_column_selector(dtype_include="number")
    ours = make_column_transformer((StandardScaler(), sel), remainder="drop")
    theirs = skc.make_column_transformer((skp.StandardScaler(), sel), remainder="drop")
    assert ours.transformers[0][0] == "standardscaler"
    np.testing.assert_allclose(ours.fit_transform(sd.from_pandas(pdf, npartitions=2)).compute().to_numpy(),
                               theirs.fit_transform(pdf), rtol=1e-12)
    named = make_column_transformer((StandardScaler(), ["a"]), (StandardScaler(), ["b"]))
    assert [t[0] for t in named.transformers] == ["standardscaler-1", "standardscaler-2"]


def test_column_transformer_errors():
    pdf = _frame(5, 0)
    with pytest.raises(KeyError, match="nope"):
        ColumnTransformer([("x", StandardScaler(), ["nope"])]).fit(pdf)
    with pytest.raises(TypeError, match="DataFrame"):
        ColumnTransformer([("x", StandardScaler(), [0])]).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unique"):
        ColumnTransformer([("x", "drop", ["a"]), ("x", "drop", ["b"])]).fit(pdf)

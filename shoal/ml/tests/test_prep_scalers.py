"""RobustScaler, QuantileTransformer and the exact quantile engine against NumPy / scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.preprocessing as skp
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml import _prep_ranks
from shoal.ml.preprocessing import QuantileTransformer, RobustScaler
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


def _data(n: int, seed: int, nan: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n) * 3, rng.integers(0, 5, n).astype(float), rng.exponential(size=n)])
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X


@given(data=st.data(), n=st.integers(1, 60), seed=st.integers(0, 1000))
@settings(max_examples=30, deadline=None)
@on_sync
def test_percentiles_are_exact(data, n, seed):
    X = _data(n, seed)
    chunks = data.draw(row_chunks(n))
    q = np.array([0, 3.5, 25, 50, 50.5, 75, 99.9, 100])
    got = _prep_ranks.column_percentiles(_prep_ranks.lazy_columns(sa.from_array(X, chunks=(chunks, 3)), "t"), q)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if np.isnan(X).all(0).any() else _nothing():
        expected = np.nanpercentile(X, q, axis=0)
    np.testing.assert_array_equal(got, expected)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_refinement_passes_still_exact(sync_scheduler, monkeypatch):
    # Tiny sketch and fetch budgets force several counting passes (and ties to resolve on boundaries).
    monkeypatch.setattr(_prep_ranks, "SKETCH", 3)
    monkeypatch.setattr(_prep_ranks, "FETCH_LIMIT", 4)
    monkeypatch.setattr(_prep_ranks, "REFINE", 8)
    X = _data(500, 7)
    q = np.linspace(0, 100, 41)
    got = _prep_ranks.column_percentiles(_prep_ranks.lazy_columns(sa.from_array(X, chunks=(77, 3)), "t"), q)
    np.testing.assert_array_equal(got, np.nanpercentile(X, q, axis=0))
    med = _prep_ranks.column_medians(_prep_ranks.lazy_columns(sa.from_array(X, chunks=(77, 3)), "t"))
    np.testing.assert_allclose(med, np.nanmedian(X, axis=0), rtol=1e-15)


@given(data=st.data(), n=st.integers(2, 50), seed=st.integers(0, 1000),
       params=st.sampled_from([{}, {"quantile_range": (10.0, 90.0)}, {"with_centering": False},
                               {"with_scaling": False}, {"unit_variance": True}]))
@settings(max_examples=25, deadline=None)
@on_sync
def test_robust_scaler_matches_sklearn(data, n, seed, params):
    X = _data(n, seed, nan=False)
    chunks = data.draw(row_chunks(n))
    ours = RobustScaler(**params).fit(sa.from_array(X, chunks=(chunks, 3)))
    theirs = skp.RobustScaler(**params).fit(X)
    for attr in ("center_", "scale_"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)
    x = sa.from_array(X, chunks=(chunks, 3))
    np.testing.assert_allclose(ours.transform(x).compute(), theirs.transform(X), rtol=1e-14)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(x)).compute(), X, rtol=1e-12, atol=1e-12)


def test_robust_scaler_nan_and_dataframe(sync_scheduler):
    X = _data(40, 3)
    pdf = pd.DataFrame(X, columns=["a", "b", "c"])
    ddf = sd.from_pandas(pdf, npartitions=4)
    ours = RobustScaler().fit(ddf)
    theirs = skp.RobustScaler().fit(pdf)
    np.testing.assert_allclose(ours.center_, theirs.center_, rtol=1e-15)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-15)
    assert list(ours.feature_names_in_) == ["a", "b", "c"]
    out = ours.transform(ddf)
    assert isinstance(out, sd.DataFrame)
    pd.testing.assert_frame_equal(out.compute(), pd.DataFrame(theirs.transform(pdf), columns=pdf.columns))
    np.testing.assert_allclose(RobustScaler().fit(X).transform(X), theirs.transform(pdf), rtol=1e-14)


def test_robust_scaler_errors():
    with pytest.raises(ValueError, match="Invalid quantile range"):
        RobustScaler(quantile_range=(80, 20)).fit(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="infinity"):
        RobustScaler().fit(sa.from_array(np.array([[1.0], [np.inf]]), chunks=1))
    with pytest.raises(ValueError, match="features"):
        RobustScaler().fit(np.ones((4, 2))).transform(np.ones((4, 3)))


@given(data=st.data(), n=st.integers(1, 60), seed=st.integers(0, 1000),
       n_quantiles=st.integers(1, 80), dist=st.sampled_from(["uniform", "normal"]))
@settings(max_examples=25, deadline=None)
@on_sync
def test_quantile_transformer_matches_sklearn(data, n, seed, n_quantiles, dist):
    X = _data(n, seed)
    X[:, 0] = np.where(np.isnan(X[:, 0]), 0.0, X[:, 0])  # one column always has values
    chunks = data.draw(row_chunks(n))
    x = sa.from_array(X, chunks=(chunks, 3))
    with warnings.catch_warnings(record=True) as ours_said:
        warnings.simplefilter("always")
        ours = QuantileTransformer(n_quantiles=n_quantiles, output_distribution=dist).fit(x)
    with warnings.catch_warnings(record=True) as theirs_said, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        theirs = skp.QuantileTransformer(n_quantiles=n_quantiles, output_distribution=dist, subsample=None).fit(X)
    assert [str(w.message) for w in ours_said if w.category is UserWarning] == [
        str(w.message) for w in theirs_said if w.category is UserWarning]
    assert ours.n_quantiles_ == theirs.n_quantiles_
    np.testing.assert_array_equal(ours.references_, theirs.references_)
    np.testing.assert_array_equal(ours.quantiles_, theirs.quantiles_)
    np.testing.assert_array_equal(ours.transform(x).compute(), theirs.transform(X))
    Y = theirs.transform(X)
    np.testing.assert_array_equal(ours.inverse_transform(sa.from_array(Y, chunks=(chunks, 3))).compute(),
                                  theirs.inverse_transform(Y))


def test_quantile_transformer_dataframe(sync_scheduler):
    X = _data(90, 5)
    pdf = pd.DataFrame(X, columns=["a", "b", "c"])
    ddf = sd.from_pandas(pdf, npartitions=3)
    ours = QuantileTransformer(n_quantiles=20).fit(ddf)
    theirs = skp.QuantileTransformer(n_quantiles=20).fit(pdf)
    np.testing.assert_array_equal(ours.quantiles_, theirs.quantiles_)
    out = ours.transform(ddf)
    assert isinstance(out, sd.DataFrame)
    pd.testing.assert_frame_equal(out.compute(), pd.DataFrame(theirs.transform(pdf), columns=pdf.columns))


def test_quantile_transformer_errors():
    with pytest.raises(ValueError, match="output_distribution"):
        QuantileTransformer(output_distribution="cauchy").fit(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="n_quantiles"):
        QuantileTransformer(n_quantiles=0).fit(np.zeros((3, 1)))
    with pytest.raises(TypeError, match="numbers"):
        QuantileTransformer().fit(sa.from_array(np.array([["a"], ["b"]], dtype=object), chunks=1))

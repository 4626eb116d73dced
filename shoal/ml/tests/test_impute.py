"""shoal.ml.impute.SimpleImputer against sklearn.impute.SimpleImputer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.impute as ski
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.impute import SimpleImputer
from shoal.ml.tests.strategies import row_chunks
from shoal.ml.tests.sync_helpers import on_sync


def _fit_both(ours_x, X, **kw):
    ours, theirs = SimpleImputer(**kw).fit(ours_x), ski.SimpleImputer(**kw).fit(X)
    theirs.statistics_ = theirs.statistics_.astype(float) if theirs.statistics_.dtype == object and \
        kw.get("strategy") == "constant" and np.asarray(X).dtype.kind in "biuf" else theirs.statistics_
    return ours, theirs


def _transform_both(ours, theirs, ours_x, X):
    """Both transforms, checking that they warn alike (scikit-learn warns in transform about empty features)."""
    with warnings.catch_warnings(record=True) as said_ours:
        warnings.simplefilter("always")
        got = ours.transform(ours_x)
        got = got.compute() if hasattr(got, "compute") else got
    with warnings.catch_warnings(record=True) as said_theirs:
        warnings.simplefilter("always")
        expected = theirs.transform(X)
    assert [str(w.message) for w in said_ours if w.category is UserWarning] == [
        str(w.message) for w in said_theirs if w.category is UserWarning]
    return got, expected


@given(data=st.data(), n=st.integers(1, 40), seed=st.integers(0, 500),
       strategy=st.sampled_from(["mean", "median", "most_frequent", "constant"]),
       keep_empty=st.booleans(), add_indicator=st.booleans())
@settings(max_examples=40, deadline=None)
@on_sync
def test_simple_imputer_matches_sklearn(data, n, seed, strategy, keep_empty, add_indicator):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 4, n).astype(float), np.full(n, np.nan)])
    X[rng.random((n, 3)) < 0.3] = np.nan
    chunks = data.draw(row_chunks(n))
    kw = {"strategy": strategy, "keep_empty_features": keep_empty, "add_indicator": add_indicator}
    x = sa.from_array(X, chunks=(chunks, 3))
    ours, theirs = _fit_both(x, X, **kw)
    np.testing.assert_allclose(ours.statistics_, theirs.statistics_, rtol=1e-13, equal_nan=True)
    got, expected = _transform_both(ours, theirs, x, X)
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    got, expected = _transform_both(ours, theirs, X, X)
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_simple_imputer_marker_and_constant(sync_scheduler):
    X = np.array([[1, -1], [-1, 4], [3, 4], [3, 7]])
    x = sa.from_array(X, chunks=2)
    for kw in ({"missing_values": -1, "strategy": "mean"}, {"missing_values": -1, "strategy": "median"},
               {"missing_values": -1, "strategy": "most_frequent"},
               {"missing_values": -1, "strategy": "constant", "fill_value": 9}):
        ours, theirs = _fit_both(x, X, **kw)
        np.testing.assert_allclose(ours.statistics_, theirs.statistics_)
        np.testing.assert_allclose(ours.transform(x).compute(), theirs.transform(X))


def test_simple_imputer_dataframe(sync_scheduler):
    pdf = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0, np.nan, 6.0], "b": [np.nan, 2.0, 2.0, 5.0, 5.0, 5.0]})
    ddf = sd.from_pandas(pdf, npartitions=3)
    for strategy in ("mean", "median", "most_frequent", "constant"):
        ours, theirs = _fit_both(ddf, pdf, strategy=strategy)
        np.testing.assert_allclose(ours.statistics_, theirs.statistics_)
        out = ours.transform(ddf)
        assert isinstance(out, sd.DataFrame)
        np.testing.assert_allclose(out.compute().to_numpy(), theirs.transform(pdf))


def test_simple_imputer_text_most_frequent(sync_scheduler):
    pdf = pd.DataFrame({"s": ["a", None, "b", "b", None, "a", "b"]}, dtype=object)
    ddf = sd.from_pandas(pdf, npartitions=2)
    ours = SimpleImputer(strategy="most_frequent", missing_values=None).fit(ddf)
    theirs = ski.SimpleImputer(strategy="most_frequent", missing_values=None).fit(pdf)
    assert ours.statistics_.tolist() == theirs.statistics_.tolist()
    assert ours.transform(ddf).compute().s.tolist() == theirs.transform(pdf).ravel().tolist()


def test_simple_imputer_errors():
    with pytest.raises(ValueError, match="strategy must be"):
        SimpleImputer(strategy="mode").fit(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="numeric data"):
        SimpleImputer().fit(np.array([["a"], ["b"]], dtype=object))
    with pytest.raises(ValueError, match="features"):
        SimpleImputer().fit(np.zeros((2, 1))).transform(np.zeros((2, 2)))

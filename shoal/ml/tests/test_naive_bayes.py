"""shoal.ml.naive_bayes.GaussianNB against scikit-learn's GaussianNB on the same data."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.naive_bayes import GaussianNB as SkGaussianNB

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml.naive_bayes import GaussianNB
from shoal.ml.tests.strategies import row_chunks


pytestmark = pytest.mark.usefixtures("sync_scheduler")


def _data(seed: int, n: int = 300, p: int = 4, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3, p) + y[:, None] * 1.5 + 100.0
    return X, y


ATTRS = ("theta_", "var_", "class_prior_", "class_count_", "epsilon_")


def _assert_same_fit(ours: GaussianNB, ref: SkGaussianNB) -> None:
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    for attr in ATTRS:
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-10, atol=1e-10, err_msg=attr)


@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(2, 60), p=st.integers(1, 4), k=st.integers(1, 4))
@settings(max_examples=40, deadline=None)
def test_fit_matches_sklearn_for_any_row_chunking(data: st.DataObject, seed: int, n: int, p: int, k: int) -> None:
    X, y = _data(seed, n, p, k)
    chunks = data.draw(row_chunks(n))
    ours = GaussianNB().fit(sa.from_array(X, chunks=(chunks, p)), sa.from_array(y, chunks=(chunks,)))
    _assert_same_fit(ours, SkGaussianNB().fit(X, y))


def test_predictions_match_sklearn_and_stay_lazy() -> None:
    X, y = _data(0)
    ref = SkGaussianNB().fit(X, y)
    ours = GaussianNB().fit(sa.from_array(X, chunks=(70, 2)), y)
    Xd = sa.from_array(X, chunks=(64, 4))
    for method in ("predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(ours, method)(Xd)
        assert isinstance(lazy, sa.Array), method
        np.testing.assert_allclose(lazy.compute(), getattr(ref, method)(X), rtol=1e-10, atol=1e-12)
        eager = getattr(ours, method)(X)
        assert isinstance(eager, np.ndarray)
        np.testing.assert_allclose(eager, getattr(ref, method)(X), rtol=1e-10, atol=1e-12)
    assert ours.predict(Xd).dtype == ref.predict(X).dtype
    assert ours.score(Xd, sa.from_array(y, chunks=50)) == pytest.approx(ref.score(X, y), abs=1e-12)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-12)


def test_string_labels_priors_and_var_smoothing() -> None:
    X, y = _data(1)
    labels = np.array(["cat", "dog", "eel"])[y]
    ref = SkGaussianNB(priors=[0.2, 0.5, 0.3], var_smoothing=1e-3).fit(X, labels)
    ours = GaussianNB(priors=[0.2, 0.5, 0.3], var_smoothing=1e-3).fit(sa.from_array(X, chunks=(40, 4)), labels)
    _assert_same_fit(ours, ref)
    np.testing.assert_array_equal(ours.predict(sa.from_array(X, chunks=(33, 4))).compute(), ref.predict(X))


def test_pandas_and_shoal_dataframes() -> None:
    X, y = _data(2)
    frame = pd.DataFrame(X, columns=list("abcd"))
    ref = SkGaussianNB().fit(X, y)
    _assert_same_fit(GaussianNB().fit(frame, pd.Series(y)), ref)
    ddf = sd.from_pandas(frame, npartitions=3)
    dy = sd.from_pandas(pd.Series(y), npartitions=4)
    ours = GaussianNB().fit(ddf, dy)
    _assert_same_fit(ours, ref)
    np.testing.assert_allclose(ours.predict_proba(ddf).compute(), ref.predict_proba(X), rtol=1e-10)


def test_sklearn_protocol() -> None:
    est = GaussianNB(var_smoothing=1e-5)
    assert est.get_params() == {"priors": None, "var_smoothing": 1e-5}
    assert clone(est.set_params(var_smoothing=1e-3)).var_smoothing == 1e-3
    X, y = _data(3)
    assert est.fit(X, y) is est


def test_bad_input_is_explained() -> None:
    X, y = _data(4, n=20)
    with pytest.raises(ValueError, match="priors has shape"):
        GaussianNB(priors=[0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianNB(priors=[0.5, 0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="different numbers of samples"):
        GaussianNB().fit(X, y[:-1])
    with pytest.raises(ValueError, match="2-dimensional"):
        GaussianNB().fit(X[:, 0], y)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GaussianNB().fit(sa.from_array(bad, chunks=(7, 4)), y)
    with pytest.raises(AttributeError, match="not fitted"):
        GaussianNB().predict(X)
    fitted = GaussianNB().fit(X, y)
    with pytest.raises(ValueError, match="fitted with 4"):
        fitted.predict(X[:, :3])
    unknown = sa.from_array(X, chunks=(5, 4))
    unknown = unknown[unknown[:, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        GaussianNB().fit(unknown, y)

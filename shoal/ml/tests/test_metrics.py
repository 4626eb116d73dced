"""shoal.ml.metrics against sklearn.metrics on the same data, for any cut of the rows into blocks."""

from __future__ import annotations

import warnings

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from sklearn.exceptions import UndefinedMetricWarning

import shoal.array as sa
import shoal.dataframe as sd
from shoal.array import Array
from shoal.ml import metrics
from shoal.ml.tests.strategies import row_chunks


pytestmark = pytest.mark.usefixtures("sync_scheduler")


def _lazy(a: np.ndarray, chunks: tuple[int, ...]) -> Array:
    return sa.from_array(a, chunks=(chunks,) + a.shape[1:])


REGRESSION = ["mean_squared_error", "mean_absolute_error", "r2_score", "mean_squared_log_error",
              "root_mean_squared_error"]


@pytest.mark.parametrize("name", REGRESSION)
@given(data=st.data(), n=st.integers(2, 40), outputs=st.sampled_from([0, 1, 3]), weighted=st.booleans(),
       seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_regression_metrics_match_sklearn(name: str, data: st.DataObject, n: int, outputs: int, weighted: bool,
                                          seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (n,) if outputs == 0 else (n, outputs)
    y_true = rng.uniform(0, 5, shape)
    y_pred = y_true + rng.normal(0, 1, shape).clip(-0.9, None)
    w = rng.uniform(0.1, 2, n) if weighted else None
    chunks = data.draw(row_chunks(n, max_cuts=6))
    ours_fn, ref_fn = getattr(metrics, name), getattr(skm, name)
    modes = ["uniform_average", "raw_values"] + ([np.arange(1.0, outputs + 1)] if outputs > 1 else [])
    if name == "r2_score":
        modes.append("variance_weighted")
    for mode in modes:
        ours = ours_fn(_lazy(y_true, chunks), y_pred, sample_weight=w, multioutput=mode)
        ref = ref_fn(y_true, y_pred, sample_weight=w, multioutput=mode)
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
        assert np.shape(ours) == np.shape(ref)


def test_squared_false_is_the_root() -> None:
    y_true, y_pred = np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])
    ours = metrics.mean_squared_error(sa.from_array(y_true, chunks=2), y_pred, squared=False)
    assert ours == pytest.approx(skm.root_mean_squared_error(y_true, y_pred), rel=1e-12)
    ours = metrics.mean_squared_log_error(sa.from_array(y_true + 1, chunks=3), y_pred + 1, squared=False)
    assert ours == pytest.approx(skm.root_mean_squared_log_error(y_true + 1, y_pred + 1), rel=1e-12)


def test_compute_false_gives_lazy_arrays() -> None:
    y_true = np.random.default_rng(0).normal(size=(20, 2))
    y_pred = y_true * 0.9
    lazy = metrics.mean_squared_error(_lazy(y_true, (7, 7, 6)), y_pred, compute=False)
    assert isinstance(lazy, Array) and lazy.shape == ()
    assert float(lazy.compute()) == pytest.approx(skm.mean_squared_error(y_true, y_pred), rel=1e-12)
    raw = metrics.r2_score(_lazy(y_true, (7, 7, 6)), y_pred, multioutput="raw_values", compute=False)
    assert isinstance(raw, Array) and raw.shape == (2,)
    np.testing.assert_allclose(raw.compute(), skm.r2_score(y_true, y_pred, multioutput="raw_values"), rtol=1e-12)
    acc = metrics.accuracy_score(sa.from_array([1, 2, 3], chunks=2), [1, 2, 0], compute=False)
    assert isinstance(acc, Array) and float(acc.compute()) == pytest.approx(2 / 3)


def test_numpy_pandas_and_dataframe_inputs() -> None:
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=30), rng.normal(size=30)
    ref = skm.mean_absolute_error(y_true, y_pred)
    assert metrics.mean_absolute_error(y_true, y_pred) == pytest.approx(ref, rel=1e-12)
    assert metrics.mean_absolute_error(pd.Series(y_true), pd.Series(y_pred)) == pytest.approx(ref, rel=1e-12)
    frame = sd.from_pandas(pd.DataFrame({"t": y_true, "p": y_pred}), npartitions=3)
    assert metrics.mean_absolute_error(frame["t"], frame["p"]) == pytest.approx(ref, rel=1e-12)
    # A dataframe column against a shoal array with known chunks: the array is paired block by block.
    assert metrics.r2_score(frame["t"], frame["p"]) == pytest.approx(skm.r2_score(y_true, y_pred), rel=1e-12)


def test_r2_edge_cases_follow_sklearn() -> None:
    const = np.full(6, 2.0)
    assert metrics.r2_score(sa.from_array(const, chunks=2), const) == 1.0
    assert metrics.r2_score(sa.from_array(const, chunks=2), const + 1) == 0.0
    ours = metrics.r2_score(sa.from_array(const, chunks=2), const + 1, force_finite=False)
    with np.errstate(divide="ignore"):  # scikit-learn divides by the zero variance
        assert ours == skm.r2_score(const, const + 1, force_finite=False)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(metrics.r2_score(sa.from_array([1.0], chunks=1), [2.0]))


def test_msle_refuses_values_at_or_below_minus_one() -> None:
    with pytest.raises(ValueError, match="less than or equal to -1"):
        metrics.mean_squared_log_error(sa.from_array([1.0, -1.0, 2.0], chunks=2), [1.0, 1.0, 1.0])


def test_mismatched_inputs_are_reported() -> None:
    with pytest.raises(ValueError, match="numbers of samples"):
        metrics.mean_squared_error(sa.from_array(np.ones(5), chunks=2), np.ones(4))
    with pytest.raises(ValueError, match="different numbers of outputs"):
        metrics.mean_squared_error(sa.from_array(np.ones((5, 2)), chunks=2), np.ones((5, 3)))
    with pytest.raises(ValueError, match="multioutput"):
        metrics.mean_squared_error(sa.from_array(np.ones((5, 2)), chunks=2), np.ones((5, 2)), multioutput=[1.0])
    with pytest.raises(ValueError, match="only in multi-output"):
        metrics.mean_squared_error(sa.from_array(np.ones(5), chunks=2), np.ones(5), multioutput=[1.0])


@given(data=st.data(), n=st.integers(1, 40), weighted=st.booleans(), normalize=st.booleans(),
       seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_accuracy_matches_sklearn(data: st.DataObject, n: int, weighted: bool, normalize: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, 3, n), rng.integers(0, 3, n)
    w = rng.uniform(0.1, 2, n) if weighted else None
    chunks = data.draw(row_chunks(n, max_cuts=6))
    ours = metrics.accuracy_score(_lazy(y_true, chunks), _lazy(y_pred, chunks), normalize=normalize, sample_weight=w)
    ref = skm.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=w)
    assert ours == pytest.approx(ref, rel=1e-10)
    # Multilabel: a row counts only if every label matches.
    Y_true, Y_pred = rng.integers(0, 2, (n, 3)), rng.integers(0, 2, (n, 3))
    ours = metrics.accuracy_score(_lazy(Y_true, chunks), Y_pred, normalize=normalize, sample_weight=w)
    assert ours == pytest.approx(skm.accuracy_score(Y_true, Y_pred, normalize=normalize, sample_weight=w), rel=1e-10)


@given(data=st.data(), n=st.integers(4, 40), k=st.integers(2, 4), weighted=st.booleans(), normalize=st.booleans(),
       seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_log_loss_matches_sklearn(data: st.DataObject, n: int, k: int, weighted: bool, normalize: bool,
                                  seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d"])[:k]
    y_true = labels[np.r_[np.arange(k), rng.integers(0, k, n - k)]]
    proba = rng.dirichlet(np.ones(k), n)
    proba[0, 0] = 0.0  # clipped to eps, as scikit-learn does
    proba[0] /= proba[0].sum()
    w = rng.uniform(0.1, 2, n) if weighted else None
    chunks = data.draw(row_chunks(n, max_cuts=6))
    ours = metrics.log_loss(_lazy(y_true, chunks), _lazy(proba, chunks), normalize=normalize, sample_weight=w)
    ref = skm.log_loss(y_true, proba, normalize=normalize, sample_weight=w)
    assert ours == pytest.approx(ref, rel=1e-10)
    if k == 2:  # binary, probability of the second class only
        ours = metrics.log_loss(_lazy(y_true, chunks), proba[:, 1], sample_weight=w)
        assert ours == pytest.approx(skm.log_loss(y_true, proba[:, 1], sample_weight=w), rel=1e-10)


def test_log_loss_with_labels_and_its_errors() -> None:
    y_true = np.array([0, 0, 1, 1])
    proba = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3]])
    ours = metrics.log_loss(sa.from_array(y_true, chunks=3), proba, labels=[0, 1, 2])
    assert ours == pytest.approx(skm.log_loss(y_true, proba, labels=[0, 1, 2]), rel=1e-12)
    with pytest.raises(ValueError, match="different number of classes"):
        metrics.log_loss(sa.from_array(y_true, chunks=3), proba)
    with pytest.raises(ValueError, match="only one label"):
        metrics.log_loss(sa.from_array(np.zeros(4), chunks=3), proba[:, :2])
    with pytest.raises(ValueError, match="greater than 1"):
        metrics.log_loss(sa.from_array(y_true, chunks=3), proba[:, :2] * 2)
    with pytest.warns(UserWarning, match="do not sum to one"):
        metrics.log_loss(sa.from_array(y_true, chunks=3), proba[:, :2])


@given(data=st.data(), n=st.integers(1, 30), m=st.integers(1, 10), seed=st.integers(0, 2**16))
@settings(max_examples=20, deadline=None)
def test_distances_match_sklearn(data: st.DataObject, n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, 4)), rng.normal(size=(m, 4))
    xc, yc = data.draw(row_chunks(n, max_cuts=6)), data.draw(row_chunks(m, max_cuts=6))
    d = metrics.pairwise_distances(_lazy(X, xc), Y)
    assert isinstance(d, Array) and d.chunks == (xc, (m,))
    np.testing.assert_allclose(d.compute(), skm.pairwise_distances(X, Y), rtol=1e-10, atol=1e-12)
    d = metrics.pairwise_distances(_lazy(X, xc), _lazy(Y, yc), metric="manhattan")
    assert d.chunks == (xc, yc)
    np.testing.assert_allclose(d.compute(), skm.pairwise_distances(X, Y, metric="manhattan"), rtol=1e-10)
    d = metrics.euclidean_distances(_lazy(X, xc), _lazy(Y, yc), squared=True, X_norm_squared=(X ** 2).sum(1),
                                    Y_norm_squared=(Y ** 2).sum(1))
    np.testing.assert_allclose(d.compute(), skm.pairwise.euclidean_distances(X, Y, squared=True), rtol=1e-10,
                               atol=1e-12)
    # Y omitted: distances among the rows of X, with an exact zero diagonal as scikit-learn gives.
    d = metrics.euclidean_distances(_lazy(X, xc)).compute()
    np.testing.assert_allclose(d, skm.pairwise.euclidean_distances(X), rtol=1e-10, atol=1e-12)
    assert (np.diag(d) == 0).all()


def test_distances_of_numpy_stay_numpy() -> None:
    X = np.random.default_rng(0).normal(size=(5, 2))
    out = metrics.pairwise_distances(X, metric="cosine")
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, skm.pairwise_distances(X, metric="cosine"))
    with pytest.raises(ValueError, match="Incompatible dimension"):
        metrics.euclidean_distances(sa.from_array(X, chunks=2), np.ones((3, 3)))


def test_no_warnings_on_clean_inputs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.log_loss(sa.from_array([0, 1, 1], chunks=2), [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])

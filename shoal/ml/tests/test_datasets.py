"""shoal.ml.datasets: shapes, chunks, dtypes, reproducibility and the models the data come from."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal
from shoal.array import Array
from shoal.ml.datasets import make_blobs, make_classification, make_counts, make_regression


@pytest.fixture(autouse=True)
def _sync() -> object:
    with shoal.config.set(scheduler="sync"):
        yield


GENERATORS = [
    (make_blobs, {"n_features": 3}, np.int64),
    (make_classification, {"n_features": 6}, np.int64),
    (make_counts, {"n_features": 6}, np.int64),
    (make_regression, {"n_features": 6, "n_informative": 3}, np.float64),
]


@pytest.mark.parametrize(("make", "kwargs", "y_dtype"), GENERATORS)
@given(n=st.integers(1, 80), rows=st.integers(1, 30))
@settings(max_examples=10, deadline=None)
def test_shapes_chunks_dtypes(make: object, kwargs: dict, y_dtype: type, n: int, rows: int) -> None:
    X, y = make(n_samples=n, chunks=rows, random_state=1, **kwargs)  # type: ignore[operator]
    p = kwargs["n_features"]
    assert isinstance(X, Array) and isinstance(y, Array)
    assert X.shape == (n, p) and y.shape == (n,)
    assert X.chunks[0] == y.chunks[0] and X.chunks[1] == (p,)
    assert all(c == rows for c in X.chunks[0][:-1])
    Xc, yc = shoal.compute(X, y)
    assert Xc.shape == (n, p) and yc.shape == (n,)
    assert Xc.dtype == X.dtype == np.float64 and yc.dtype == y.dtype == y_dtype


@pytest.mark.parametrize(("make", "kwargs", "y_dtype"), GENERATORS)
def test_reproducible_and_blocks_independent(make: object, kwargs: dict, y_dtype: type) -> None:
    X1, y1 = make(n_samples=50, chunks=20, random_state=7, **kwargs)  # type: ignore[operator]
    X2, y2 = make(n_samples=50, chunks=20, random_state=7, **kwargs)  # type: ignore[operator]
    X3, _ = make(n_samples=50, chunks=20, random_state=8, **kwargs)  # type: ignore[operator]
    a, b, c = shoal.compute(X1, X2, X3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y1.compute(), y2.compute())
    assert not np.array_equal(a, c)
    # One block computed alone (its own stream) equals that block of the whole array.
    np.testing.assert_array_equal(X1.blocks[1].compute(), a[20:40])
    assert not np.array_equal(a[:20], a[20:40])


def test_random_state_objects_are_accepted() -> None:
    X, _ = make_counts(n_samples=10, n_features=2, chunks=5, random_state=np.random.RandomState(0))
    assert X.compute().shape == (10, 2)
    X, _ = make_counts(n_samples=10, n_features=2, chunks=5, random_state=np.random.default_rng(0))
    assert X.compute().shape == (10, 2)
    with pytest.raises(TypeError, match="random_state"):
        make_counts(n_samples=10, n_features=2, chunks=5, random_state="seed")


@given(n=st.integers(1, 60), rows=st.integers(1, 25), targets=st.integers(1, 3), bias=st.floats(-5, 5),
       shuffle=st.booleans())
@settings(max_examples=20, deadline=None)
def test_make_regression_is_linear(n: int, rows: int, targets: int, bias: float, shuffle: bool) -> None:
    X, y, coef = make_regression(n_samples=n, n_features=5, n_informative=3, n_targets=targets, bias=bias,
                                 shuffle=shuffle, coef=True, chunks=rows, random_state=3)
    assert isinstance(coef, np.ndarray)
    assert coef.shape == ((5,) if targets == 1 else (5, targets))
    assert np.count_nonzero(np.atleast_2d(coef.T).T.any(axis=1)) == 3
    Xc, yc = shoal.compute(X, y)
    np.testing.assert_allclose(yc, Xc @ coef + bias, rtol=1e-12, atol=1e-9)


def test_make_regression_noise_has_the_requested_spread() -> None:
    X, y, coef = make_regression(n_samples=20_000, n_features=4, n_informative=2, bias=1.0, noise=2.0, coef=True,
                                 chunks=5000, random_state=0)
    Xc, yc = shoal.compute(X, y)
    residual = yc - Xc @ coef
    assert abs(residual.mean() - 1.0) < 0.1 and abs(residual.std() - 2.0) < 0.1


def test_make_regression_low_rank() -> None:
    X, y = make_regression(n_samples=40, n_features=10, effective_rank=2, tail_strength=0.0, chunks=20,
                           random_state=0)
    s = np.linalg.svd(X.blocks[0].compute(), compute_uv=False)
    assert s[5] < 0.01 * s[0]
    assert y.compute().shape == (40,)


def test_make_blobs_points_lie_near_their_centers() -> None:
    centers = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    X, y = make_blobs(n_samples=3000, centers=centers, cluster_std=0.5, chunks=700, random_state=0)
    Xc, yc = shoal.compute(X, y)
    assert set(np.unique(yc)) == {0, 1, 2}
    assert np.abs(Xc - centers[yc]).max() < 0.5 * 6
    for k in range(3):
        np.testing.assert_allclose(Xc[yc == k].mean(axis=0), centers[k], atol=0.1)
        np.testing.assert_allclose(Xc[yc == k].std(axis=0), 0.5, atol=0.1)


def test_make_blobs_draws_centers_in_the_box() -> None:
    X, y = make_blobs(n_samples=600, n_features=3, centers=4, center_box=(50.0, 60.0), cluster_std=0.1, chunks=200,
                      random_state=0)
    Xc, yc = shoal.compute(X, y)
    assert set(np.unique(yc)) == {0, 1, 2, 3}
    means = np.array([Xc[yc == k].mean(axis=0) for k in range(4)])
    assert ((means > 49.5) & (means < 60.5)).all()


def test_make_classification_follows_a_logistic_model() -> None:
    X, y = make_classification(n_samples=20_000, n_features=5, n_informative=2, scale=3.0, chunks=4000, random_state=0)
    Xc, yc = shoal.compute(X, y)
    assert set(np.unique(yc)) == {0, 1}
    # The classes are separable by the informative columns far better than by chance.
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression().fit(Xc, yc)
    assert clf.score(Xc, yc) > 0.6
    assert np.count_nonzero(np.abs(clf.coef_[0]) > 0.1) == 2


def test_make_classification_many_classes() -> None:
    X, y = make_classification(n_samples=3000, n_features=4, n_classes=4, scale=2.0, chunks=1000, random_state=0)
    counts = np.bincount(y.compute(), minlength=4)
    assert counts.sum() == 3000 and (counts > 100).all() and len(counts) == 4


def test_make_counts_are_poisson_counts() -> None:
    X, y = make_counts(n_samples=5000, n_features=4, n_informative=2, chunks=1000, random_state=0)
    yc = y.compute()
    assert (yc >= 0).all() and yc.dtype == np.int64 and yc.max() > 1


@pytest.mark.parametrize("make", [make_blobs, make_regression, make_counts, make_classification])
def test_chunks_along_columns_are_refused(make: object) -> None:
    with pytest.raises(ValueError, match="partitioned along the first axis"):
        make(n_samples=100, n_features=10, chunks=(50, 5))  # type: ignore[operator]
    X, _ = make(n_samples=100, n_features=10, chunks=(50, 10), random_state=0)  # type: ignore[operator]
    assert X.chunks == ((50, 50), (10,))


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="chunks="):
        make_regression(n_samples=10)
    with pytest.raises(ValueError, match="n_informative"):
        make_counts(n_samples=10, n_features=3, n_informative=5, chunks=5)
    with pytest.raises(ValueError, match="n_classes"):
        make_classification(n_samples=10, n_classes=1, chunks=5)
    with pytest.raises(ValueError, match="n_samples"):
        make_blobs(n_samples=0, chunks=5)

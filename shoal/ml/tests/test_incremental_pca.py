"""shoal.ml.decomposition.IncrementalPCA against scikit-learn's IncrementalPCA fed the same batches."""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.decomposition import IncrementalPCA as SkIncrementalPCA
from sklearn.utils import gen_batches

import shoal
import shoal.array as sa
import shoal.dataframe as sd
from shoal.local import get_sync
from shoal.ml._incremental_pca import plan_batches, sized_batches
from shoal.ml.decomposition import IncrementalPCA
from shoal.ml.tests.sync_helpers import on_sync

ATTRS = ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_", "var_",
         "n_samples_seen_", "noise_variance_", "n_components_")


def _data(seed: int, n: int, p: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Well separated variances, so every component is well defined up to its sign.
    scales = np.geomspace(10.0, 0.5, p)
    return rng.normal(size=(n, p)) * scales @ np.linalg.qr(rng.normal(size=(p, p)))[0] + rng.normal(0, 20, p)


def _assert_same(ours: object, ref: object, rtol: float = 1e-9, atol: float = 1e-9) -> None:
    for attr in ATTRS:
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=rtol, atol=atol, err_msg=attr)


def _sklearn_on(X: np.ndarray, batches: tuple[int, ...], **kwargs: object) -> SkIncrementalPCA:
    ref = SkIncrementalPCA(**kwargs)
    start = 0
    for rows in batches:
        ref.partial_fit(X[start:start + rows])
        start += rows
    return ref


@st.composite
def blocks_of_at_least(draw: st.DrawFn, n: int, min_rows: int) -> tuple[int, ...]:
    """A cut of ``n`` rows into blocks of at least ``min_rows`` rows (so every block is one batch)."""
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=6)))
    edges = [0]
    for c in cuts:
        if c - edges[-1] >= min_rows and n - c >= min_rows:
            edges.append(c)
    edges.append(n)
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


@given(data=st.data(), seed=st.integers(0, 2**16), n=st.integers(10, 70), p=st.integers(1, 6),
       k=st.one_of(st.none(), st.integers(1, 6)), whiten=st.booleans())
@settings(max_examples=40, deadline=None)
@on_sync
def test_fit_on_row_blocks_matches_sklearn(data: st.DataObject, seed: int, n: int, p: int, k: int | None,
                                           whiten: bool) -> None:
    k = None if k is None else min(k, p)
    X = _data(seed, n, p)
    chunks = data.draw(blocks_of_at_least(n, max(k or 2, 2)))  # 1-row batches: nan variances
    x = sa.from_array(X, chunks=(chunks, p))
    ours = IncrementalPCA(n_components=k, whiten=whiten).fit(x)
    ref = _sklearn_on(X, chunks, n_components=k, whiten=whiten)
    _assert_same(ours, ref)
    projected = ours.transform(x)
    assert isinstance(projected, sa.Array)
    np.testing.assert_allclose(projected.compute(), ref.transform(X), rtol=1e-8, atol=1e-8)
    back = ours.inverse_transform(projected)
    np.testing.assert_allclose(back.compute(), ref.inverse_transform(ref.transform(X)), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.get_covariance(), ref.get_covariance(), rtol=1e-8, atol=1e-9)


def test_short_blocks_are_merged_into_batches_of_n_components(sync_scheduler: None) -> None:
    X = _data(3, 26, 4)
    x = sa.from_array(X, chunks=((2, 10, 1, 10, 3), 4))
    ours = IncrementalPCA(n_components=3).fit(x)
    _assert_same(ours, _sklearn_on(X, (12, 11, 3), n_components=3))
    assert ours.batch_size_ == 12
    assert plan_batches((2, 10, 1, 10, 3), 3) == (12, 11, 3)
    assert plan_batches((5, 1), 3) == (6,)
    assert plan_batches((1, 1), 3) == (2,)  # too few rows: fit refuses them before planning


@given(seed=st.integers(0, 2**16), n=st.integers(8, 60), p=st.integers(1, 5), k=st.one_of(st.none(), st.integers(1, 5)),
       batch_size=st.integers(1, 25), n_blocks=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
@on_sync
def test_batch_size_matches_sklearn_fit(seed: int, n: int, p: int, k: int | None, batch_size: int,
                                        n_blocks: int) -> None:
    k = None if k is None else min(k, p)
    batch_size = max(batch_size, k or 2, 2)  # a first batch of one sample gives nan variances
    X = _data(seed, n, p)
    ref = SkIncrementalPCA(n_components=k, batch_size=batch_size).fit(X)
    ours = IncrementalPCA(n_components=k, batch_size=batch_size).fit(sa.from_array(X, chunks=(-(-n // n_blocks), p)))
    _assert_same(ours, ref)
    assert ours.batch_size_ == ref.batch_size_


@given(n=st.integers(1, 80), batch_size=st.integers(1, 30), min_rows=st.integers(0, 10))
def test_sized_batches_are_gen_batches(n: int, batch_size: int, min_rows: int) -> None:
    expected = tuple(s.stop - s.start for s in gen_batches(n, batch_size, min_batch_size=min_rows))
    assert sized_batches(n, batch_size, min_rows) == expected


def test_numpy_input_uses_sklearn_default_batches() -> None:
    X = _data(1, 75, 3)  # 5 * n_features = 15 rows per batch
    for k in (None, 2):
        ours = IncrementalPCA(n_components=k).fit(X)
        ref = SkIncrementalPCA(n_components=k).fit(X)
        _assert_same(ours, ref)
        assert ours.batch_size_ == ref.batch_size_ == 15
        np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-8, atol=1e-8)


@given(seed=st.integers(0, 2**16), p=st.integers(2, 6), k=st.one_of(st.none(), st.integers(1, 6)),
       sizes=st.lists(st.integers(6, 30), min_size=1, max_size=4), block=st.integers(1, 9))
@settings(max_examples=30, deadline=None)
@on_sync
def test_partial_fit_on_shoal_arrays_matches_sklearn(seed: int, p: int, k: int | None, sizes: list[int],
                                                     block: int) -> None:
    # Each partial_fit folds a whole (multi-block) array as one batch: the one-pass R-factor summary
    # must give scikit-learn's update of the gathered rows.
    k = None if k is None else min(k, p, sizes[0])
    X = _data(seed, sum(sizes), p)
    ours, ref = IncrementalPCA(n_components=k), SkIncrementalPCA(n_components=k)
    start = 0
    for rows in sizes:
        ours.partial_fit(sa.from_array(X[start:start + rows], chunks=(block, p)))
        ref.partial_fit(X[start:start + rows])
        start += rows
    _assert_same(ours, ref, rtol=1e-8, atol=1e-8)


def test_partial_fit_mixes_numpy_dataframes_and_arrays(sync_scheduler: None) -> None:
    X = _data(5, 90, 4)
    df = sd.from_pandas(pd.DataFrame(X[30:60], columns=list("abcd")), npartitions=3)
    ours = IncrementalPCA(n_components=2)
    ours.partial_fit(X[:30]).partial_fit(df).partial_fit(sa.from_array(X[60:], chunks=(7, 4)))
    ref = _sklearn_on(X, (30, 30, 30), n_components=2)
    _assert_same(ours, ref, rtol=1e-8, atol=1e-8)


def test_dataframe_fit_and_whitened_transform(sync_scheduler: None) -> None:
    X = _data(8, 60, 3)
    df = sd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=3)
    ours = IncrementalPCA(n_components=2, whiten=True, batch_size=20).fit(df)
    ref = SkIncrementalPCA(n_components=2, whiten=True, batch_size=20).fit(X)
    _assert_same(ours, ref)
    np.testing.assert_allclose(ours.transform(df).compute(), ref.transform(X), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.get_precision(), ref.get_precision(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", ["randomized", "auto"])
def test_randomized_solver_is_exact_on_low_rank_data(sync_scheduler: None, solver: str) -> None:
    rng = np.random.default_rng(0)
    # Rank 3 around a mean: every update's stacked matrix has rank <= 3 + k + 1, within the sketch.
    X = rng.normal(size=(1200, 3)) * [9.0, 4.0, 2.0] @ rng.normal(size=(3, 600)) + rng.normal(size=600)
    x = sa.from_array(X, chunks=(300, 600))
    ours = IncrementalPCA(n_components=3, svd_solver=solver, iterated_power=2, random_state=0).fit(x)
    ref = _sklearn_on(X, (300,) * 4, n_components=3)
    for attr in ("singular_values_", "explained_variance_", "mean_", "var_", "n_samples_seen_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-7, err_msg=attr)
    np.testing.assert_allclose(np.abs(ours.components_ @ ref.components_.T), np.eye(3), atol=1e-7)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, atol=1e-7)


def test_get_params_and_clone() -> None:
    est = IncrementalPCA(n_components=2, batch_size=10, svd_solver="full", random_state=3)
    assert clone(est).get_params() == est.get_params()
    assert set(est.get_params()) == {"n_components", "whiten", "copy", "batch_size", "svd_solver",
                                     "iterated_power", "random_state"}


def test_bad_input_is_refused_with_the_fix(sync_scheduler: None) -> None:
    X = _data(2, 20, 3)
    x = sa.from_array(X, chunks=(5, 3))
    with pytest.raises(ValueError, match="n_components=4 must be at most min"):
        IncrementalPCA(n_components=4).fit(x)
    with pytest.raises(ValueError, match="svd_solver"):
        IncrementalPCA(svd_solver="arpack").fit(x)
    with pytest.raises(ValueError, match="batch_size"):
        IncrementalPCA(batch_size=0).fit(x)
    with pytest.raises(ValueError, match="pass batch_size >= 3"):
        IncrementalPCA(n_components=3, batch_size=2).fit(x)
    with pytest.raises(ValueError, match="positive integer"):
        IncrementalPCA(n_components=0).fit(x)
    with pytest.raises(ValueError, match="first batch"):
        IncrementalPCA(n_components=3).partial_fit(X[:2])
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="batch 1 holds NaN"):
        IncrementalPCA(n_components=2).fit(sa.from_array(bad, chunks=(5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        IncrementalPCA(n_components=2).partial_fit(sa.from_array(bad, chunks=(5, 3)))
    est = IncrementalPCA(n_components=2).fit(x)
    with pytest.raises(ValueError, match="fitted with 3"):
        est.partial_fit(np.ones((5, 4)))
    with pytest.raises(ValueError, match="fitted with 3"):
        est.transform(sa.ones((5, 4), chunks=5))
    grown = IncrementalPCA(n_components=2).fit(x)
    grown.set_params(n_components=1)
    with pytest.raises(ValueError, match="keep n_components fixed"):
        grown.partial_fit(X)
    with pytest.raises(TypeError, match="numbers"):
        IncrementalPCA().fit(np.array([["a", "b"], ["c", "d"]]))


def test_fit_is_one_graph_with_a_task_per_batch() -> None:
    X = _data(4, 40, 3)
    calls = []

    def count(graph: Any, keys: Any, **kwargs: Any) -> Any:
        calls.append(sum(str(k[0]).startswith("ipca-fold") for k in graph if isinstance(k, tuple)))
        return get_sync(graph, keys, **kwargs)

    with shoal.config.set(scheduler=count):
        IncrementalPCA(n_components=2).fit(sa.from_array(X, chunks=(10, 3)))
    assert calls == [4]  # one compute, one fold per block

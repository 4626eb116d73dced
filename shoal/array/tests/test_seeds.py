"""Every array example of the seed documents (``/work/shared/seeds/``), run as written.

``import dask.array as da`` becomes ``import shoal.array`` (bound to the same ``da``
alias, so the example lines stay verbatim); the HDF5 files the examples open are
written first into a temporary directory. Results are checked against NumPy on
the same data.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import shoal
import shoal.array
from shoal.array.utils import assert_eq

da = shoal.array


@pytest.fixture
def hdf5_files(tmp_path, monkeypatch):
    """The files the seeds open by relative path, in a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    data = {
        "data.hdf5": {"/data/path": rng.random((3000, 2000))},
        "myfile.hdf5": {"/small-data": rng.random((40, 40)), "/big-data": rng.random((2500, 2500))},
    }
    for filename, datasets in data.items():
        with h5py.File(filename, "w") as f:
            for path, values in datasets.items():
                f.create_dataset(path, data=values)
    return data


# -- seed 000: "Dask Array: for parallel NumPy" -----------------------------------------------


def test_seed000_random_array_sum():
    x = da.random.random((10000, 10000), chunks=(1000, 1000))
    assert x.shape == (10000, 10000)
    assert x.chunks == ((1000,) * 10, (1000,) * 10)
    assert x.numblocks == (10, 10)
    assert x.dtype == np.float64
    result = x.sum()
    value = result.compute()
    assert isinstance(value, np.floating)
    # Uniform on [0, 1): mean 0.5, std of the sum sqrt(n / 12) ~ 2887.
    assert abs(value - 0.5e8) < 20 * 2887
    # The same blocks give the same sum when added by NumPy (determinism with a fixed graph).
    block = x.blocks[3, 7].compute()
    assert block.shape == (1000, 1000)
    assert_eq(x.blocks[3, 7].sum(), block.sum())


def test_seed000_from_h5py_dataset(hdf5_files):
    dataset = h5py.File('data.hdf5')['/data/path']
    x = da.from_array(dataset, chunks=(1000, 1000))
    assert x.chunks == ((1000,) * 3, (1000,) * 2)
    result = x.sum()
    value = result.compute()
    np.testing.assert_allclose(value, hdf5_files["data.hdf5"]["/data/path"].sum())
    dataset.file.close()


@pytest.fixture(scope="module")
def square():
    """A modest square array for the seed's table of supported NumPy operations."""
    rng = np.random.default_rng(42)
    data = rng.random((600, 600)) + 0.5
    return data, da.from_array(data, chunks=(150, 200))


def test_seed000_arithmetic_and_scalar_math(square):
    xn, x = square
    assert_eq(x + x, xn + xn)
    assert_eq(x * 2.5, xn * 2.5)
    assert_eq(da.exp(x), np.exp(xn))
    assert_eq(da.log(x), np.log(xn))
    # NumPy's ufuncs stay lazy on shoal arrays.
    assert isinstance(np.exp(x), da.Array)
    assert_eq(np.log(x) + np.exp(x) * x, np.log(xn) + np.exp(xn) * xn)


def test_seed000_reductions_along_axes(square):
    xn, x = square
    assert_eq(x.sum(), xn.sum())
    assert_eq(x.mean(), xn.mean())
    assert_eq(x.std(), xn.std())
    assert_eq(x.sum(axis=0), xn.sum(axis=0))


def test_seed000_tensordot_transpose_and_slicing(square):
    xn, x = square
    assert_eq(da.tensordot(x, x, axes=1), np.tensordot(xn, xn, axes=1))
    assert_eq(da.tensordot(x, x.T, axes=([0, 1], [1, 0])), np.tensordot(xn, xn.T, axes=([0, 1], [1, 0])))
    assert_eq(da.transpose(x), np.transpose(xn))
    assert_eq(x.transpose(), xn.transpose())
    assert_eq(x[:50, 500:100:-2], xn[:50, 500:100:-2])
    assert x[:50, 500:100:-2].shape == (50, 200)


def test_seed000_linear_algebra():
    rng = np.random.default_rng(7)
    tall = rng.random((400, 6))
    x = da.from_array(tall, chunks=(100, 6))
    q, r = da.linalg.qr(x)
    assert_eq(q @ r, tall)
    assert_eq(q.T @ q, np.eye(6), atol=1e-10)
    u, s, v = da.linalg.svd(x)
    np.testing.assert_allclose(s.compute(), np.linalg.svd(tall, compute_uv=False))
    assert_eq((u * s) @ v, tall)

    a = rng.random((60, 60)) + 60 * np.eye(60)
    b = rng.random(60)
    A, B = da.from_array(a, chunks=20), da.from_array(b, chunks=20)
    assert_eq(da.linalg.solve(A, B), np.linalg.solve(a, b))
    lower = np.tril(a)
    assert_eq(da.linalg.solve_triangular(da.from_array(lower, chunks=20), B, lower=True),
              np.linalg.solve(lower, b))
    solution, residuals, rank, sv = da.linalg.lstsq(x, da.from_array(tall @ np.arange(6.0), chunks=100))
    assert_eq(solution, np.linalg.lstsq(tall, tall @ np.arange(6.0), rcond=None)[0], atol=1e-10)
    assert int(rank.compute()) == 6


def test_seed000_limitations_unknown_shapes():
    xn = np.arange(40.0).reshape(8, 5)
    x = da.from_array(xn, chunks=(3, 2))
    y = x[x > 10]
    assert np.isnan(y.shape[0])
    assert_eq(y, xn[xn > 10])
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        y.reshape(-1, 2)
    y.compute_chunk_sizes()
    assert y.shape == (29,)
    assert_eq(y[::2], xn[xn > 10][::2])


def test_seed000_limitations_tolist_sort_and_topk():
    xn = np.random.default_rng(1).permutation(np.arange(100.0))
    x = da.from_array(xn, chunks=30)
    # tolist is not implemented on the lazy array (as in Dask): compute first.
    assert not hasattr(x, "tolist")
    assert x.compute().tolist() == xn.tolist()
    # No lazy sort: NumPy's sort refuses, naming the alternative route.
    with pytest.raises(TypeError, match="not implemented for shoal arrays"):
        np.sort(x)
    # topk is the seed's alternative to sort.
    assert_eq(da.topk(x, 5), np.sort(xn)[::-1][:5])
    assert_eq(x.topk(-3), np.sort(xn)[:3])


# -- seed 002: "Python & Dask": HDF5 with NumPy, then with shoal.array -----------------------------


def test_seed002_numpy_then_shoal_on_hdf5(hdf5_files):
    f = h5py.File('myfile.hdf5')
    x = np.array(f['/small-data'])
    small = x - x.mean(axis=1)
    np.testing.assert_allclose(small, hdf5_files["myfile.hdf5"]["/small-data"]
                               - hdf5_files["myfile.hdf5"]["/small-data"].mean(axis=1))

    x = da.from_array(f['/big-data'], chunks=(1000, 1000))
    assert x.chunks == ((1000, 1000, 500), (1000, 1000, 500))
    result = x - x.mean(axis=1).compute()
    assert isinstance(result, da.Array)
    big = hdf5_files["myfile.hdf5"]["/big-data"]
    assert_eq(result, big - big.mean(axis=1))
    f.close()


# -- seed 003: "Dask Array: scalable implementation of NumPy" --------------------------------------


def test_seed003_dot_transpose_minus_mean():
    x = da.random.random((900, 900), chunks=(300, 300))
    y = x.dot(x.T) - x.mean(axis=0)
    assert y.shape == (900, 900)
    assert y.chunks == ((300,) * 3,) * 2
    xn = x.compute()
    assert_eq(y, xn.dot(xn.T) - xn.mean(axis=0))


def test_seed003_supports_reductions_blockwise_overlap_linalg():
    xn = np.arange(64.0).reshape(8, 8)
    x = da.from_array(xn, chunks=3)
    assert_eq(x.max(axis=1), xn.max(axis=1))
    assert_eq(da.blockwise(np.add, "ij", x, "ij", x.T, "ij", dtype=x.dtype), xn + xn.T)
    smoothed = da.map_overlap(lambda b: b + np.roll(b, 1, axis=0), x, depth={0: 1, 1: 0}, boundary="periodic")
    assert_eq(smoothed, xn + np.roll(xn, 1, axis=0))
    assert_eq(x @ x, xn @ xn)


# -- seed 004: lazy computations keep track of dimensions and dtypes; compute and persist -----------


def test_seed004_lazy_metadata_compute_and_persist():
    calls = []

    def record(block):
        calls.append(block.shape)
        return block

    xn = np.arange(2 * 32.0).reshape(32, 2)
    # "Split a file into 32 chunks": the lazy array knows dimensions and dtypes, and no code runs.
    x = da.from_array(xn, chunks=(1, 2)).map_blocks(record, dtype=xn.dtype)
    missing_count = (x > 10).sum(axis=0)
    assert x.numblocks == (32, 1)
    assert missing_count.shape == (2,)
    assert missing_count.dtype == np.sum(xn > 10, axis=0).dtype
    assert calls == []
    missing_count_pct = missing_count.compute()
    np.testing.assert_array_equal(missing_count_pct, (xn > 10).sum(axis=0))
    assert len(calls) == 32

    calls.clear()
    kept = x.persist()
    assert len(calls) == 32
    calls.clear()
    assert_eq((kept * 2).sum(), (xn * 2).sum())
    assert calls == []
    both = shoal.compute(kept.sum(), kept.mean(axis=0))
    np.testing.assert_allclose(both[0], xn.sum())
    np.testing.assert_allclose(both[1], xn.mean(axis=0))

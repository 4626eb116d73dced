"""Issue 3's list of what a user must be able to do, item by item, with the exact names the issue uses.

The families' own test files go deep; this file checks that every named capability exists under its
Dask/NumPy name and agrees with NumPy on the same data.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

import shoal
import shoal.array as sa
from shoal.array.utils import assert_eq

XN = np.arange(24.0).reshape(4, 6)


@pytest.fixture
def x():
    return sa.from_array(XN, chunks=(2, 4))


# -- creation ----------------------------------------------------------------------------------------------


def test_creation_functions_exist_and_match_numpy(tmp_path):
    assert_eq(sa.ones((3, 4), chunks=2), np.ones((3, 4)))
    assert_eq(sa.zeros_like(sa.ones((3, 4), chunks=2)), np.zeros((3, 4)))
    assert_eq(sa.full((3, 4), 7, chunks=2), np.full((3, 4), 7))
    assert sa.empty((3, 4), chunks=2).shape == (3, 4)
    assert sa.empty_like(sa.ones(3, chunks=2)).dtype == np.float64
    assert_eq(sa.arange(0, 10, 0.5, chunks=3), np.arange(0, 10, 0.5))
    assert_eq(sa.linspace(0, 10, 7, chunks=3), np.linspace(0, 10, 7))
    assert_eq(sa.eye(5, chunks=2, k=1), np.eye(5, k=1))
    assert_eq(sa.diag(sa.arange(4, chunks=3)), np.diag(np.arange(4)))
    assert_eq(sa.from_delayed(shoal.delayed(np.ones)(3), shape=(3,), dtype=float), np.ones(3))
    assert_eq(sa.asarray(XN), XN)
    path = os.fspath(tmp_path / "stack")
    sa.to_npy_stack(path, sa.from_array(XN, chunks=(2, 6)), axis=0)
    assert_eq(sa.from_npy_stack(path), XN)
    sa.to_zarr(sa.from_array(XN, chunks=3), os.fspath(tmp_path / "z.zarr"))
    assert_eq(sa.from_zarr(os.fspath(tmp_path / "z.zarr")), XN)
    sa.to_hdf5(os.fspath(tmp_path / "f.h5"), "/x", sa.from_array(XN, chunks=3))
    with h5py.File(tmp_path / "f.h5", "r") as f:
        np.testing.assert_array_equal(f["/x"][:], XN)
        assert_eq(sa.from_array(f["/x"], chunks=(3, 2), lock=True), XN)


def test_asarray_of_a_list_holding_shoal_arrays_stacks_lazily(x):
    out = sa.asarray([x, XN, x + 1])
    assert isinstance(out, sa.Array)
    assert_eq(out, np.asarray([XN, XN, XN + 1]))
    assert sa.asarray([x, x], dtype="f4").dtype == np.float32


def test_chunks_specifications():
    assert sa.from_array(XN, chunks=-1).chunks == ((4,), (6,))
    assert sa.from_array(XN, chunks=(2, -1)).chunks == ((2, 2), (6,))
    assert sa.from_array(XN, chunks=((1, 3), (6,))).chunks == ((1, 3), (6,))
    assert sa.from_array(XN, chunks=5).chunks == ((4,), (5, 1))
    big = sa.ones((40000, 40000), chunks="auto")
    assert max(big.chunks[0]) * max(big.chunks[1]) * 8 <= 128 * 2**20
    with shoal.config.set({"array.chunk-size": "1MiB"}):
        assert max(sa.ones((4000, 4000), chunks="auto").chunks[0]) * max(
            sa.ones((4000, 4000), chunks="auto").chunks[1]) * 8 <= 2**20


def test_random_generators_are_reproducible_with_a_seed():
    a = sa.random.default_rng(42).random((6, 5), chunks=(2, 3))
    b = sa.random.default_rng(42).random((6, 5), chunks=(2, 3))
    assert_eq(a, b.compute())
    assert not np.array_equal(a.compute(), sa.random.default_rng(43).random((6, 5), chunks=(2, 3)).compute())
    rng = sa.random.default_rng(0)
    assert rng.normal(size=(4, 4), chunks=2).shape == (4, 4)
    ints = rng.integers(0, 10, size=(50,), chunks=7).compute()
    assert ints.min() >= 0 and ints.max() < 10
    assert_eq(sa.random.RandomState(5).normal(0, 1, (4, 4), chunks=2),
              sa.random.RandomState(5).normal(0, 1, (4, 4), chunks=2).compute())
    assert sa.random.randint(0, 5, size=(3, 3), chunks=2).dtype.kind == "i"


# -- element-wise ------------------------------------------------------------------------------------------


def test_named_elementwise_functions(x):
    y = x / 7 - 1
    yn = XN / 7 - 1
    assert_eq(sa.clip(x, 3, 9), np.clip(XN, 3, 9))
    assert_eq(sa.clip(x, min=3), np.clip(XN, 3, None))
    assert_eq(sa.round(y, 2), np.round(yn, 2))
    assert_eq(sa.around(y, 1), np.around(yn, 1))
    assert_eq(round(y, 2), np.round(yn, 2))
    assert_eq(y.round(), np.round(yn))
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log(yn)
    z = sa.from_array(logs, chunks=3)
    assert_eq(sa.isnan(z), np.isnan(logs))
    assert_eq(sa.isnull(z), np.isnan(logs))
    assert_eq(sa.notnull(z), ~np.isnan(logs))
    assert_eq(sa.nan_to_num(z, nan=-1.0, neginf=-2.0), np.nan_to_num(logs, nan=-1.0, neginf=-2.0))
    assert_eq(sa.isclose(x, x + 1e-10), np.isclose(XN, XN + 1e-10))
    assert bool(sa.allclose(x, XN + 1e-10))
    assert not bool(sa.allclose(x, XN + 1))
    assert_eq(sa.fix(y), np.fix(yn))
    c = sa.from_array(XN + 1j * XN[::-1], chunks=3)
    cn = XN + 1j * XN[::-1]
    assert_eq(sa.real(c), np.real(cn))
    assert_eq(sa.imag(c), np.imag(cn))
    assert_eq(sa.angle(c, deg=True), np.angle(cn, deg=True))
    assert_eq(sa.iscomplex(c), np.iscomplex(cn))
    assert_eq(sa.isreal(c), np.isreal(cn))


def test_numpy_functions_on_shoal_arrays_stay_lazy(x):
    for func, expected in [(np.clip(x, 2, 5), np.clip(XN, 2, 5)), (np.round(x / 3, 1), np.round(XN / 3, 1)),
                           (np.around(x / 3), np.around(XN / 3)), (np.isclose(x, XN), np.isclose(XN, XN)),
                           (np.real(x), XN), (np.exp(x), np.exp(XN)), (np.sum(x), np.sum(XN)),
                           (np.sum(x, axis=1), XN.sum(axis=1)), (np.mean(x, axis=0), XN.mean(axis=0)),
                           (np.nan_to_num(x), XN)]:
        assert isinstance(func, sa.Array)
        assert_eq(func, expected)


def test_ufunc_outer_and_divmod(x):
    v = sa.arange(5, chunks=2)
    assert isinstance(np.add.outer(x, v), sa.Array)
    assert_eq(np.add.outer(x, v), np.add.outer(XN, np.arange(5)))
    assert_eq(np.multiply.outer(v, XN), np.multiply.outer(np.arange(5), XN))
    q, r = divmod(x, 4)
    assert_eq(q, XN // 4)
    assert_eq(r, XN % 4)
    q, r = divmod(100, x + 1)
    assert_eq(q, 100 // (XN + 1))
    q, r = np.divmod(x, 5)
    assert_eq(r, np.mod(XN, 5))


def test_copy_view_choose_and_graph_attribute(x):
    y = x.copy()
    y[0] = -1
    assert_eq(x, XN)
    expected = XN.copy()
    expected[0] = -1
    assert_eq(y, expected)
    assert_eq(x.view("i8"), XN.view("i8"))
    assert_eq(x.view("i4"), XN.view("i4"))
    assert x.view("i4").chunks == ((2, 2), (8, 4))
    with pytest.raises(ValueError, match="rechunk the last axis"):
        sa.from_array(XN, chunks=(2, 3)).view("c16")
    choice = sa.from_array(np.array([0, 1, 2, 1]), chunks=3)
    assert_eq(choice.choose([np.arange(4), np.arange(4) * 10, np.arange(4) * 100]),
              np.array([0, 1, 2, 1]).choose([np.arange(4), np.arange(4) * 10, np.arange(4) * 100]))
    assert set(x.dask) == set(x.__dask_graph__())


# -- assignment, unknown sizes -----------------------------------------------------------------------------


def test_assignment_with_lazy_mask_numpy_mask_and_slices(x):
    y = x.copy()
    y[y > 5] = 0
    expected = XN.copy()
    expected[expected > 5] = 0
    assert_eq(y, expected)
    y[XN < 2] = -3
    expected[XN < 2] = -3
    assert_eq(y, expected)
    y[1:3, ::-2] = sa.ones((2, 3), chunks=1)
    expected[1:3, ::-2] = 1
    assert_eq(y, expected)
    assert_eq(x, XN)  # the original is untouched


def test_unknown_chunks_then_compute_chunk_sizes(x):
    y = x[x > 5.5]
    assert all(np.isnan(c) for c in y.chunks[0])
    assert_eq(y.sum(), XN[XN > 5.5].sum())
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        y[2:4]
    y.compute_chunk_sizes()
    assert y.chunks == ((0, 6, 6, 6),)
    assert_eq(y[2:4], XN[XN > 5.5][2:4])


# -- protocols and display ---------------------------------------------------------------------------------


def test_repr_and_html_show_shape_dtype_chunks_bytes_and_tasks(x):
    text = repr(x)
    assert "shape=(4, 6)" in text and "dtype=float64" in text and "chunksize=(2, 4)" in text
    html = x._repr_html_()
    for fragment in ["(4, 6)", "(2, 4)", "192 B", "64 B", "float64", "4 chunks", f"{len(x.dask)} tasks"]:
        assert fragment in html
    unknown = x[x > 3]._repr_html_()
    assert "nan" in unknown and "unknown" in unknown


def test_array_protocol_computes(x):
    assert isinstance(np.asarray(x), np.ndarray)
    np.testing.assert_array_equal(np.array(x), XN)
    np.testing.assert_array_equal(np.asarray(x, dtype="f4"), XN.astype("f4"))


def test_assert_eq_checks_chunk_metadata(x):
    # A block whose dtype disagrees with the array's declared dtype.
    lying_dtype = x.map_blocks(lambda b: b.astype("f4"), dtype="f8")
    with pytest.raises(AssertionError, match="dtype"):
        assert_eq(lying_dtype, XN)
    # A block whose shape disagrees with the chunks.
    lying_shape = x.map_blocks(lambda b: b[:1], dtype="f8")
    with pytest.raises(AssertionError, match="shape"):
        assert_eq(lying_shape, XN[::2])
    # The lazy dtype must match the computed result.
    with pytest.raises(AssertionError, match="dtype"):
        assert_eq(x.map_blocks(lambda b: b.astype("i8"), dtype="f8"), XN.astype("i8"))
    # And values, shapes and dtypes against NumPy.
    with pytest.raises(AssertionError):
        assert_eq(x, XN + 1)
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_eq(x, XN.T)
    with pytest.raises(AssertionError, match="dtypes differ"):
        assert_eq(x, XN.astype("f4"))
    assert assert_eq(x, XN)

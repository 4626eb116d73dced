"""The BLAS path of block sums agrees with NumPy's add.reduce on every layout and axis set."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import shoal.array as sa
from shoal.array._fastsum import _MIN_ELEMENTS, add_reduce
from shoal.array.utils import assert_eq

SHAPES = [(70_000,), (300, 250), (40, 50, 60), (3, 30_000), (30_000, 3), (65_537,)]


def _blocks(shape: tuple[int, ...], dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(sum(shape))
    base = rng.normal(size=shape)
    if dtype == "complex128":
        base = base + 1j * rng.normal(size=shape)
    views = [base, np.asfortranarray(base), base[..., ::-1] if base.ndim > 1 else base[::-1]]
    if base.ndim == 2:  # strided views with one unit stride, as from_array hands out
        views += [np.pad(base, ((0, 0), (0, 5)))[:, 3:-2], np.asfortranarray(np.pad(base, ((2, 1), (0, 0))))[2:-1]]
    return views


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_every_axis_set_matches_numpy(shape: tuple[int, ...], dtype: str, keepdims: bool) -> None:
    for block in _blocks(shape, dtype):
        for r in range(1, block.ndim + 1):
            for axis in itertools.combinations(range(block.ndim), r):
                got = add_reduce(block, axis, keepdims)
                want = np.add.reduce(block, axis=axis, keepdims=keepdims)
                assert np.shape(got) == np.shape(want), (shape, axis)
                assert np.asarray(got).dtype == np.asarray(want).dtype
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-9)


def test_special_values_propagate() -> None:
    block = np.ones((400, 400))
    block[3, 7] = np.nan
    assert np.isnan(add_reduce(block, (0, 1)))
    assert np.isnan(add_reduce(block, (0,))[7]) and not np.isnan(add_reduce(block, (0,))[6])
    block[3, 7] = np.inf
    assert add_reduce(block, (1,))[3] == np.inf
    block[4, 7] = -np.inf
    with np.errstate(invalid="ignore"):  # NumPy warns about inf - inf too
        assert np.isnan(add_reduce(block, (0,))[7])


def test_other_inputs_keep_numpy() -> None:
    small = np.arange(10.0)
    assert add_reduce(small, (0,)) == 45.0
    ints = np.arange(_MIN_ELEMENTS * 2)
    assert add_reduce(ints, (0,)) == ints.sum() and add_reduce(ints, (0,)).dtype == ints.dtype
    f32 = np.ones(_MIN_ELEMENTS * 2, dtype=np.float32)
    assert add_reduce(f32, (0,)).dtype == np.float32
    assert add_reduce(f32, (0,), dtype=np.float64).dtype == np.float64
    masked = np.ma.masked_array(np.ones(_MIN_ELEMENTS * 2), mask=np.arange(_MIN_ELEMENTS * 2) % 2 == 0)
    assert add_reduce(masked, (0,)) == np.add.reduce(masked, axis=(0,))


def test_array_reductions_through_fast_path() -> None:
    rng = np.random.default_rng(0)
    data = rng.random((1200, 900))
    x = sa.from_array(data, chunks=(600, 450))  # its blocks are strided views of data
    assert_eq(x.sum(), data.sum())
    assert_eq(x.sum(axis=0), data.sum(axis=0))
    assert_eq((x + x[::-1]).mean(axis=1), (data + data[::-1]).mean(axis=1))
    assert_eq(x.std(axis=1), data.std(axis=1))
    assert_eq(x.var(), data.var())
    assert_eq(x.T.sum(axis=1, keepdims=True), data.T.sum(axis=1, keepdims=True))

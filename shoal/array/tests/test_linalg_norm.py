"""Singular-value matrix norms (ord 2, -2, "nuc") of arrays of any number of dimensions against NumPy."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import _linalg_norm, linalg
from shoal.array.tests.strategies import chunking
from shoal.array.utils import assert_eq


@st.composite
def stacks(draw):
    """An array of 2 to 4 dimensions, a chunking of it and a pair of distinct axes (in any order)."""
    ndim = draw(st.integers(2, 4))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(["f8", "c16", "f4", "i4"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = rng.standard_normal(shape) * 4
    if dtype == "c16":
        a = a + 1j * rng.standard_normal(shape)
    a = a.astype(dtype)
    chunks = tuple(draw(chunking(n, max_blocks=4)) for n in shape)
    axes = tuple(draw(st.permutations(range(ndim)))[:2])
    negative = draw(st.booleans())
    if negative:
        axes = (axes[0] - ndim, axes[1])
    return a, sa.from_array(a, chunks=chunks), axes


@given(case=stacks(), ord=st.sampled_from([2, -2, "nuc"]), keepdims=st.booleans())
@settings(max_examples=60, deadline=None)
def test_singular_value_norms_of_stacks(case, ord, keepdims):
    a, x, axes = case
    expected = np.linalg.norm(a, ord=ord, axis=axes, keepdims=keepdims)
    rtol = 1e-4 if a.dtype == np.float32 else 1e-10
    assert_eq(linalg.norm(x, ord=ord, axis=axes, keepdims=keepdims), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_many_row_blocks_reduce_through_a_tree(monkeypatch, ord):
    # A tiny stack budget forces a fan-in of 2: four levels of R factors for 12 row blocks.
    monkeypatch.setattr(_linalg_norm, "_STACK_ELEMENTS", 1)
    a = np.random.default_rng(1).standard_normal((3, 60, 4))
    x = sa.from_array(a, chunks=(2, 5, 4))
    result = linalg.norm(x, ord=ord, axis=(1, 2))
    levels = {key[1] for key in result.__dask_graph__() if isinstance(key, tuple) and key[0].startswith("norm-r-")}
    assert levels == {0, 1, 2, 3}
    assert_eq(result, np.linalg.norm(a, ord=ord, axis=(1, 2)))
    # The matrix axes may come in either order, the longer one second.
    assert_eq(linalg.norm(x, ord=ord, axis=(2, 1)), np.linalg.norm(a, ord=ord, axis=(2, 1)))


def test_empty_matrices_and_numpy_dispatch():
    a = np.zeros((2, 0, 3))
    x = sa.from_array(a)
    for ord in (2, "nuc"):
        assert_eq(linalg.norm(x, ord=ord, axis=(1, 2)), np.linalg.norm(a, ord=ord, axis=(1, 2)))
    b = np.arange(24.0).reshape(2, 3, 4)
    y = np.linalg.norm(sa.from_array(b, chunks=2), ord="nuc", axis=(0, 2))
    assert isinstance(y, sa.Array)
    assert_eq(y, np.linalg.norm(b, ord="nuc", axis=(0, 2)))


def test_unknown_matrix_axis_needs_chunk_sizes():
    x = sa.from_array(np.ones((4, 6, 3)), chunks=2)
    x = x[x[:, 0, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        linalg.norm(x, ord=2, axis=(0, 1))

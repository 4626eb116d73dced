"""Tests for delete/insert/append, rot90, piecewise/select, index arithmetic, triangle indices and chunk types."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array._chunk_types import HANDLED_CHUNK_TYPES
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


@st.composite
def arrays_with_chunks(draw, min_dims=1, max_dims=3, max_side=7):
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))
    chunks = draw(chunks_for(shape))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).integers(-50, 50, shape)
    return x, chunks


# -- delete / insert / append ------------------------------------------------------------------------------------
@given(case=arrays_with_chunks(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_delete_matches_numpy(case, data):
    x, chunks = case
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    kind = data.draw(st.sampled_from(["int", "list", "slice", "mask"]))
    if kind == "int":
        obj = data.draw(st.integers(-n, n - 1))
    elif kind == "list":
        obj = data.draw(st.lists(st.integers(-n, n - 1), max_size=5))
    elif kind == "slice":
        start, stop = data.draw(st.integers(-n, n)), data.draw(st.integers(-n, n))
        obj = slice(start, stop, data.draw(st.sampled_from([1, 2, -1])))
    else:
        obj = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.delete(d, obj, axis=axis), np.delete(x, obj, axis=axis))


@given(case=arrays_with_chunks(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_insert_matches_numpy(case, data):
    x, chunks = case
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    kind = data.draw(st.sampled_from(["int", "list", "one", "slice"]))
    if kind == "int":
        obj = data.draw(st.integers(-n, n))
    elif kind == "one":
        obj = [data.draw(st.integers(-n, n))]
    elif kind == "list":
        obj = data.draw(st.lists(st.integers(-n, n), min_size=2, max_size=4))
    else:
        obj = slice(data.draw(st.integers(0, n)), None, 2)
    values = data.draw(st.sampled_from(["scalar", "row"]))
    value = 99 if values == "scalar" else np.arange(x.shape[-1]) * 100
    try:
        expected = np.insert(x, obj, value, axis=axis)
    except ValueError:  # values that cannot broadcast into the gap: shoal must refuse too
        with pytest.raises(ValueError):
            sa.insert(sa.from_array(x, chunks=chunks), obj, value, axis=axis).compute()
        return
    got = sa.insert(sa.from_array(x, chunks=chunks), obj, value, axis=axis)
    assert_eq(got, expected)


def test_insert_values_as_shoal_array_and_casting():
    x = np.arange(12).reshape(3, 4)
    values = sa.from_array(np.array([1.7, 2.2, 3.9]), chunks=2)
    assert_eq(sa.insert(sa.from_array(x, chunks=2), 2, values, axis=1), np.insert(x, 2, np.array([1.7, 2.2, 3.9]),
                                                                                   axis=1))
    assert_eq(sa.insert(sa.from_array(x, chunks=2), [0, 0], [[5], [6]], axis=0),
              np.insert(x, [0, 0], [[5], [6]], axis=0))


def test_delete_insert_errors():
    d = sa.from_array(np.arange(5), chunks=2)
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 5"):
        sa.delete(d, 7, axis=0)
    with pytest.raises(IndexError, match="index 6 is out of bounds for axis 0 with size 5"):
        sa.insert(d, 6, 1, axis=0)
    with pytest.raises(np.exceptions.AxisError):
        sa.delete(d, 0, axis=1)
    with pytest.raises(ValueError, match="boolean mask of shape"):
        sa.delete(d, np.array([True, False]), axis=0)
    with pytest.raises(TypeError, match="boolean mask"):
        sa.insert(d, np.array([True, False]), 1, axis=0)


def test_delete_everything_and_nothing():
    x = np.arange(6).reshape(2, 3)
    d = sa.from_array(x, chunks=1)
    assert_eq(sa.delete(d, slice(None), axis=1), np.delete(x, slice(None), axis=1))
    assert sa.delete(d, [], axis=0) is d


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_append_matches_numpy(axis):
    x = np.arange(6).reshape(2, 3)
    values = np.arange(10, 16).reshape(2, 3) * 1.5
    assert_eq(sa.append(sa.from_array(x, chunks=1), values, axis=axis), np.append(x, values, axis=axis))


def test_numpy_functions_dispatch_lazily():
    x = np.arange(8)
    d = sa.from_array(x, chunks=3)
    assert isinstance(np.delete(d, [1], axis=0), sa.Array)
    assert_eq(np.insert(d, 2, -1, axis=0), np.insert(x, 2, -1))
    assert_eq(np.append(d, [1, 2]), np.append(x, [1, 2]))
    assert_eq(np.union1d(d, [20, 0]), np.union1d(x, [20, 0]))


# -- rot90 --------------------------------------------------------------------------------------------------------
@given(case=arrays_with_chunks(min_dims=2), k=st.integers(-5, 5), data=st.data())
@settings(max_examples=40, deadline=None)
def test_rot90_matches_numpy(case, k, data):
    x, chunks = case
    a0 = data.draw(st.integers(0, x.ndim - 1))
    a1 = data.draw(st.integers(0, x.ndim - 1).filter(lambda v: v != a0))
    assert_eq(sa.rot90(sa.from_array(x, chunks=chunks), k, axes=(a0, a1)), np.rot90(x, k, axes=(a0, a1)))


def test_rot90_errors():
    d = sa.ones((2, 3), chunks=1)
    with pytest.raises(ValueError, match="Axes must be different"):
        sa.rot90(d, axes=(0, 0))
    with pytest.raises(ValueError, match="out of range"):
        sa.rot90(d, axes=(0, 5))
    with pytest.raises(ValueError, match="len\\(axes\\) must be 2"):
        sa.rot90(d, axes=(0,))


# -- piecewise / select / element-wise -----------------------------------------------------------------------------
@given(case=arrays_with_chunks())
@settings(max_examples=30, deadline=None)
def test_piecewise_and_select_match_numpy(case):
    x, chunks = case
    x = x.astype(float)
    d = sa.from_array(x, chunks=chunks)
    funcs = [lambda v: v * 2, lambda v: -v, 7.0]
    assert_eq(sa.piecewise(d, [d < -10, d > 10], funcs), np.piecewise(x, [x < -10, x > 10], funcs))
    assert_eq(sa.select([d < 0, d > 20], [d, d ** 2], default=-1.5),
              np.select([x < 0, x > 20], [x, x ** 2], default=-1.5))


def test_piecewise_broadcast_condition_and_args():
    x = np.arange(12.0).reshape(3, 4)
    cond = np.array([True, False, True, False])
    got = sa.piecewise(sa.from_array(x, chunks=2), [cond], [lambda v, s: v * s, 0.0], 3)
    assert_eq(got, np.piecewise(x, [np.broadcast_to(cond, x.shape)], [lambda v, s: v * s, 0.0], 3))


def test_piecewise_select_errors():
    d = sa.arange(4, chunks=2)
    with pytest.raises(ValueError, match="either 1 or 2 functions"):
        sa.piecewise(d, [d > 1], [1, 2, 3])
    with pytest.raises(ValueError, match="does not broadcast"):
        sa.piecewise(d, [np.ones(3, dtype=bool)], [1])
    with pytest.raises(ValueError, match="same length"):
        sa.select([d > 1], [d, d])
    with pytest.raises(ValueError, match="empty condition list"):
        sa.select([], [])
    with pytest.raises(TypeError, match="invalid entry 0 in condlist"):
        sa.select([d], [d])


def test_elementwise_specials_match_numpy():
    x = np.array([-np.inf, -1.5, 0.0, 0.25, 2.0, np.inf, np.nan])
    d = sa.from_array(x, chunks=3)
    assert_eq(sa.isneginf(d), np.isneginf(x))
    assert_eq(sa.isposinf(d), np.isposinf(x))
    finite = np.array([-3.0, -0.5, 0.0, 0.3, 4.0])
    assert_eq(sa.sinc(sa.from_array(finite, chunks=2)), np.sinc(finite))
    assert_eq(sa.i0(sa.from_array(finite, chunks=2)), np.i0(finite))
    assert_eq(sa.sinc(sa.arange(4, chunks=3)), np.sinc(np.arange(4)))
    with pytest.raises(TypeError, match="complex"):
        sa.isposinf(sa.from_array(np.array([1j]), chunks=1))


# -- metadata ------------------------------------------------------------------------------------------------------
def test_result_type_and_shape():
    d = sa.ones((3, 4), dtype="i2", chunks=2)
    assert sa.result_type(d, np.float32) == np.result_type(np.int16, np.float32)
    assert sa.result_type(d, sa.ones(2, dtype="u1", chunks=1)) == np.dtype("i2")
    assert np.result_type(d, "f8") == np.dtype("f8")
    assert sa.shape(d) == (3, 4) == np.shape(d)
    assert sa.shape([[1, 2, 3]]) == (1, 3)


# -- index arithmetic ----------------------------------------------------------------------------------------------
@given(dims=st.lists(st.integers(1, 6), min_size=1, max_size=3), n=st.integers(0, 12), seed=st.integers(0, 999),
       order=st.sampled_from("CF"), split=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_ravel_and_unravel_round_trip(dims, n, seed, order, split):
    dims = tuple(dims)
    rng = np.random.default_rng(seed)
    coords = tuple(rng.integers(0, d, n) for d in dims)
    flat = np.ravel_multi_index(coords, dims, order=order)
    lazy_coords = tuple(sa.from_array(c, chunks=split) for c in coords)
    assert_eq(sa.ravel_multi_index(lazy_coords, dims, order=order), flat)
    assert_eq(sa.ravel_multi_index(sa.stack(lazy_coords), dims, order=order), flat)
    got = sa.unravel_index(sa.from_array(flat, chunks=split), dims, order=order)
    assert len(got) == len(dims)
    for g, e in zip(got, np.unravel_index(flat, dims, order=order), strict=True):
        assert_eq(g, e)


def test_ravel_multi_index_modes_and_errors():
    rows = sa.from_array(np.array([3, 9, -1]), chunks=2)
    cols = np.array([1, 2, 3])
    assert_eq(sa.ravel_multi_index((rows, cols), (4, 5), mode="clip"),
              np.ravel_multi_index((np.array([3, 9, -1]), cols), (4, 5), mode="clip"))
    with pytest.raises(ValueError, match="sequence of length 2"):
        sa.ravel_multi_index((rows,), (4, 5))
    with pytest.raises(NotImplementedError, match="dims"):
        sa.ravel_multi_index((rows, cols), sa.from_array(np.array([4, 5]), chunks=1))
    with pytest.raises(ValueError, match="invalid entry"):
        sa.ravel_multi_index((rows, cols), (4, 5)).compute()
    with pytest.raises(TypeError, match="integers"):
        sa.unravel_index(sa.from_array(np.array([1.5]), chunks=1), (3,))


def test_unravel_index_2d_input():
    flat = np.arange(12).reshape(3, 4)
    rows, cols = sa.unravel_index(sa.from_array(flat, chunks=2), (4, 3))
    expected = np.unravel_index(flat, (4, 3))
    assert_eq(rows, expected[0])
    assert_eq(cols, expected[1])


def test_union1d_matches_numpy():
    a = np.array([[5, 1, 1], [3, 9, 0]])
    b = np.array([7, 3, -2, 5])
    assert_eq(sa.union1d(sa.from_array(a, chunks=1), sa.from_array(b, chunks=3)), np.union1d(a, b))


# -- triangle indices ----------------------------------------------------------------------------------------------
@given(n=st.integers(0, 9), m=st.one_of(st.none(), st.integers(0, 9)), k=st.integers(-10, 10),
       chunks=st.integers(1, 7))
@settings(max_examples=60, deadline=None)
def test_tri_indices_match_numpy(n, m, k, chunks):
    for ours, theirs in ((sa.tril_indices, np.tril_indices), (sa.triu_indices, np.triu_indices)):
        got = ours(n, k=k, m=m, chunks=chunks)
        expected = theirs(n, k=k, m=m)
        for g, e in zip(got, expected, strict=True):
            assert not np.isnan(g.shape[0])
            assert_eq(g, e.astype(np.intp))


def test_tri_indices_from():
    x = np.arange(20).reshape(4, 5)
    d = sa.from_array(x, chunks=2)
    for ours, theirs in ((sa.tril_indices_from, np.tril_indices_from), (sa.triu_indices_from, np.triu_indices_from)):
        for k in (-1, 0, 2):
            rows, cols = ours(d, k=k)
            er, ec = theirs(x, k=k)
            assert_eq(rows, er.astype(np.intp))
            assert_eq(cols, ec.astype(np.intp))
            assert_eq(d.vindex[rows.compute(), cols.compute()], x[er, ec])
    with pytest.raises(ValueError, match="must be 2-d"):
        sa.tril_indices_from(sa.ones(3, chunks=1))


# -- register_chunk_type -------------------------------------------------------------------------------------------
class _Duck:
    """A duck array unknown to shoal: it converts with __array__ but has no operators of its own."""

    def __init__(self, a):
        self.a = np.asarray(a)
        self.shape, self.ndim, self.dtype = self.a.shape, self.a.ndim, self.a.dtype

    def __array__(self, dtype=None, copy=None):
        return self.a if dtype is None else self.a.astype(dtype)


def test_register_chunk_type_makes_operators_handle_the_type():
    d = sa.from_array(np.arange(4.0), chunks=2)
    duck = _Duck(np.ones(4))
    assert _Duck not in HANDLED_CHUNK_TYPES
    with pytest.raises(TypeError):
        d + duck  # shoal defers to the unknown type, which has no __radd__, so Python raises
    sa.register_chunk_type(_Duck)
    try:
        assert_eq(d + duck, np.arange(4.0) + 1)
        assert_eq(d * duck, np.arange(4.0))
        sa.register_chunk_type(_Duck)
        assert HANDLED_CHUNK_TYPES.count(_Duck) == 1
    finally:
        HANDLED_CHUNK_TYPES.remove(_Duck)
    with pytest.raises(TypeError, match="expects a class"):
        sa.register_chunk_type(duck)

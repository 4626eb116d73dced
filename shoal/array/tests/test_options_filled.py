"""Options that used to raise NotImplementedError: reshape/ravel order="F", pad with a function, unique(axis=),
searchsorted(sorter=), lstsq with fewer rows than columns. Each against NumPy on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.utils import assert_eq


@st.composite
def shaped_and_chunked(draw, max_dims=4):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=max_dims)))
    chunks = tuple(draw(st.integers(1, s)) for s in shape)
    return shape, chunks


@settings(max_examples=40, deadline=None)
@given(shaped_and_chunked(), st.data())
def test_reshape_and_ravel_in_fortran_order(sc, data):
    shape, chunks = sc
    a = np.arange(math.prod(shape)).reshape(shape)
    x = sa.from_array(a, chunks=chunks)
    size = a.size
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = data.draw(st.sampled_from(divisors))
    new = data.draw(st.sampled_from([(size,), (first, -1), (-1, first), (first, size // first, 1)]))
    assert_eq(x.reshape(new, order="F"), a.reshape(new, order="F"))
    assert_eq(np.reshape(x, new, order="F"), np.reshape(a, new, order="F"))
    assert_eq(x.ravel(order="F"), a.ravel(order="F"))
    assert_eq(sa.ravel(x, order="A"), np.ravel(a, order="A"))


def test_reshape_bad_order():
    x = sa.from_array(np.arange(6), chunks=2)
    with pytest.raises(ValueError, match="order must be one of"):
        x.reshape((2, 3), order="Z")


def pad_with(vector, pad_width, iaxis, kwargs):
    vector[:pad_width[0]] = kwargs.get("padder", 10)
    if pad_width[1]:
        vector[-pad_width[1]:] = kwargs.get("padder", 10)


def reads_neighbours(vector, pad_width, iaxis, kwargs):
    # Depends on values, including earlier axes' padding: corners must come out as NumPy's.
    n = len(vector)
    inner = vector[pad_width[0]:n - pad_width[1]]
    if pad_width[0]:
        vector[:pad_width[0]] = inner.sum() + iaxis
    if pad_width[1]:
        vector[n - pad_width[1]:] = inner[-1] * 2


@settings(max_examples=30, deadline=None)
@given(shaped_and_chunked(max_dims=3), st.data())
def test_pad_with_a_function(sc, data):
    shape, chunks = sc
    a = np.arange(math.prod(shape), dtype=float).reshape(shape)
    widths = tuple((data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in shape)
    x = sa.from_array(a, chunks=chunks)
    assert_eq(sa.pad(x, widths, reads_neighbours), np.pad(a, widths, reads_neighbours))
    assert_eq(np.pad(x, widths, pad_with, padder=-1.5), np.pad(a, widths, pad_with, padder=-1.5))


@settings(max_examples=40, deadline=None)
@given(shaped_and_chunked(max_dims=3), st.data())
def test_unique_along_an_axis(sc, data):
    shape, chunks = sc
    a = np.random.default_rng(data.draw(st.integers(0, 100))).integers(0, 2, size=shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = sa.from_array(a, chunks=chunks)
    got = sa.unique(x, axis=axis, return_index=True, return_inverse=True, return_counts=True)
    expected = np.unique(a, axis=axis, return_index=True, return_inverse=True, return_counts=True)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g.compute(), e.reshape(-1) if e.ndim == 1 or g.ndim == 1 else e)
    values = np.unique(x, axis=axis)
    assert math.isnan(values.shape[axis])
    np.testing.assert_array_equal(values.compute(), np.unique(a, axis=axis))


def test_unique_axis_out_of_range():
    with pytest.raises(np.exceptions.AxisError):
        sa.unique(sa.from_array(np.zeros((2, 2)), chunks=1), axis=2)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("lazy_sorter", [False, True])
def test_searchsorted_with_sorter(side, lazy_sorter):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 30, 50)
    order = np.argsort(a, kind="stable")
    v = rng.integers(-3, 33, (4, 6))
    sorter = sa.from_array(order, chunks=11) if lazy_sorter else order
    got = sa.searchsorted(sa.from_array(a, chunks=8), sa.from_array(v, chunks=3), side=side, sorter=sorter)
    assert_eq(got, np.searchsorted(a, v, side=side, sorter=order))


def test_searchsorted_bad_sorter():
    x = sa.from_array(np.arange(10), chunks=3)
    with pytest.raises(ValueError, match="length of a"):
        sa.searchsorted(x, [1], sorter=np.arange(4))
    with pytest.raises(TypeError, match="integers"):
        sa.searchsorted(x, [1], sorter=np.arange(10.0))


@pytest.mark.parametrize("m, n, b_shape", [(5, 40, (5,)), (8, 60, (8, 3)), (1, 7, (1,))])
@pytest.mark.parametrize("dtype", [float, complex])
def test_lstsq_with_fewer_rows_than_columns_gives_the_minimum_norm_solution(m, n, b_shape, dtype):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((m, n)).astype(dtype)
    b = rng.standard_normal(b_shape).astype(dtype)
    if dtype is complex:
        a = a + 1j * rng.standard_normal((m, n))
    x, residuals, rank, s = sa.linalg.lstsq(sa.from_array(a, chunks=(3, 7)), sa.from_array(b, chunks=3))
    ex, eres, erank, es = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(x.compute(), ex, atol=1e-10)
    np.testing.assert_allclose(s.compute(), es, atol=1e-10)
    assert int(rank.compute()) == erank
    assert residuals.compute().shape == eres.shape == (0,)


@pytest.mark.parametrize("region", [
    (slice(1, 10, 3), slice(0, 8, 2)),
    (slice(None, 1, -3), slice(7, None, -2)),
    (slice(8, 0, -3), slice(1, 9, 2)),
])
def test_store_into_a_region_with_steps(region):
    values = np.arange(12.0).reshape(3, 4)
    target = np.zeros((10, 9))
    expected = target.copy()
    expected[region] = values
    back = sa.store(sa.from_array(values, chunks=2), target, regions=region, return_stored=True)
    np.testing.assert_array_equal(target, expected)
    np.testing.assert_array_equal(back.compute(), values)


def test_store_region_counted_from_the_end_of_an_unknown_target_is_refused():
    import shoal

    lazy_target = shoal.delayed(np.zeros)((10,))
    with pytest.raises(ValueError, match="counts from the end"):
        sa.store(sa.from_array(np.ones(3), chunks=2), lazy_target, regions=(slice(None, None, -3),), compute=False)


def test_take_without_axis_flattens():
    a = np.arange(24).reshape(4, 6)
    assert_eq(sa.take(sa.from_array(a, chunks=(3, 4)), [1, 5, 20]), np.take(a, [1, 5, 20]))


@pytest.mark.parametrize("mode", ["wrap", "clip"])
def test_take_wrap_and_clip_match_numpy(mode):
    a = np.arange(24).reshape(4, 6)
    x = sa.from_array(a, chunks=(2, 3))
    for indices in ([0, 5, -1, -7, 13], np.array([[1, -2], [9, 3]])):
        np.testing.assert_array_equal(sa.take(x, indices, axis=1, mode=mode).compute(),
                                      np.take(a, indices, axis=1, mode=mode))
    lazy = sa.from_array(np.array([0, 5, -1, -7, 13]), chunks=2)
    np.testing.assert_array_equal(sa.take(x, lazy, axis=0, mode=mode).compute(),
                                  np.take(a, [0, 5, -1, -7, 13], axis=0, mode=mode))
    with pytest.raises(ValueError, match="mode"):
        sa.take(x, [0], mode="bounce")


def test_view_in_fortran_order_changes_the_first_axis():
    a = np.arange(24, dtype="i8").reshape(4, 6)
    x = sa.from_array(a, chunks=(2, 3))
    np.testing.assert_array_equal(x.view("i4", order="F").compute(), np.ascontiguousarray(a.T).view("i4").T)
    np.testing.assert_array_equal(x.view("f8", order="F").compute(), a.view("f8"))
    with pytest.raises(ValueError, match="order"):
        x.view("i4", order="K")


@pytest.mark.parametrize("key, value", [
    ((None, 1), np.arange(6.0)),
    ((slice(1, 3), None, slice(None)), 7.0),
    ((2, None), np.ones((1, 6))),
    ((slice(None), None, 2), np.arange(4.0)[:, None]),
    ((None, slice(0, 2), slice(1, 4)), np.full((1, 2, 3), 5.0)),
])
def test_assignment_with_newaxis_matches_numpy(key, value):
    a = np.arange(24.0).reshape(4, 6)
    expected = a.copy()
    expected[key] = value
    for assigned in (value, sa.from_array(np.asarray(value)) if np.ndim(value) else value):
        x = sa.from_array(a.copy(), chunks=(2, 3))
        x[key] = assigned
        np.testing.assert_array_equal(x.compute(), expected)


def test_assignment_with_newaxis_errors():
    x = sa.from_array(np.zeros((4, 6)), chunks=(2, 3))
    with pytest.raises(ValueError, match="could not be broadcast"):
        x[None, 1] = np.ones(5)
    x[None, [0, 1]] = 1.0  # beside array indices: NumPy's layout (shoal/array/tests/test_assignment_more.py)
    np.testing.assert_array_equal(x.compute()[:2], np.ones((2, 6)))

"""Tests for overlap, map_overlap, trim_internal, sliding_window_view, diff, ediff1d and gradient."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array._base import ArrayBase
from shoal.array._overlap import _edge_safe
from shoal.array.utils import assert_eq

# boundary mode -> (numpy.pad mode, scipy.ndimage mode)
MODES = {"reflect": ("symmetric", "reflect"), "periodic": ("wrap", "wrap"), "nearest": ("edge", "nearest")}


@st.composite
def chunked_arrays(draw, max_dims=3, min_side=1, max_side=9, dtype=float):
    shape = tuple(draw(st.lists(st.integers(min_side, max_side), min_size=1, max_size=max_dims)))
    chunks = []
    for length in shape:
        cuts = sorted(draw(st.sets(st.integers(1, max(length - 1, 1)), max_size=3))) if length > 1 else []
        bounds = [0, *[c for c in cuts if c < length], length]
        chunks.append(tuple(b - a for a, b in zip(bounds, bounds[1:], strict=False)))
    seed = draw(st.integers(0, 2**16))
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype) if dtype is float else \
        np.random.default_rng(seed).integers(-20, 20, shape).astype(dtype)
    return data, tuple(chunks)


def _expected_overlap(x, chunks, depth, mode):
    """Concatenation of the overlapped blocks, from np.pad and index arithmetic."""
    if mode == "none":
        index = []
        for length, c in zip(x.shape, chunks, strict=True):
            starts = np.cumsum((0, *c[:-1]))
            index.append(np.concatenate([np.arange(max(0, s - depth), min(length, s + n + depth))
                                         for s, n in zip(starts, c, strict=True)]))
        return x[np.ix_(*index)]
    padded = np.pad(x, depth, mode=MODES[mode][0]) if isinstance(mode, str) else np.pad(x, depth, constant_values=mode)
    index = []
    for c in chunks:
        starts = np.cumsum((0, *c[:-1]))
        index.append(np.concatenate([np.arange(s, s + n + 2 * depth) for s, n in zip(starts, c, strict=True)]))
    return padded[np.ix_(*index)]


@given(case=chunked_arrays(), depth=st.integers(0, 3), mode=st.sampled_from(["reflect", "periodic", "nearest",
                                                                             "none", 7.5]))
@settings(max_examples=40, deadline=None)
def test_overlap_matches_padding(case, depth, mode):
    x, chunks = case
    if isinstance(mode, str) and mode in ("reflect", "periodic") and depth > min(x.shape):
        depth = min(x.shape)
    d = sa.from_array(x, chunks=chunks)
    g = sa.overlap(d, depth=depth, boundary=mode)
    if mode == "none":  # overlap merges edge chunks shorter than the depth (see _edge_safe)
        chunks = tuple(_edge_safe(c, depth, depth) for c in chunks)
    assert_eq(g, _expected_overlap(x, chunks, depth, mode))
    assert_eq(sa.trim_internal(g, depth, boundary=mode), x)


def test_overlap_dask_docstring_example():
    x = np.arange(64).reshape((8, 8))
    d = sa.from_array(x, chunks=(4, 4))
    g = sa.overlap(d, depth={0: 2, 1: 1}, boundary={0: 100, 1: "reflect"})
    assert g.chunks == ((8, 8), (6, 6))
    out = g.compute()
    assert (out[:2] == 100).all()
    np.testing.assert_array_equal(out[2], [0, 0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 7])


def test_overlap_asymmetric_depth():
    x = np.arange(10)
    g = sa.overlap(sa.from_array(x, chunks=5), depth={0: (1, 2)}, boundary="none")
    assert g.chunks == ((7, 6),)
    np.testing.assert_array_equal(g.compute(), [0, 1, 2, 3, 4, 5, 6, 4, 5, 6, 7, 8, 9])


@given(case=chunked_arrays(max_side=10), size=st.sampled_from([3, 5]),
       mode=st.sampled_from(["reflect", "periodic", "nearest", 0.0, 2.5]))
@settings(max_examples=40, deadline=None)
def test_map_overlap_uniform_filter_matches_scipy(case, size, mode):
    x, chunks = case
    depth = size // 2
    if mode in ("reflect", "periodic") and depth > min(x.shape):
        return
    d = sa.from_array(x, chunks=chunks)
    result = sa.map_overlap(scipy.ndimage.uniform_filter, d, depth=depth, boundary=mode, size=size, dtype=x.dtype)
    if isinstance(mode, str):
        expected = scipy.ndimage.uniform_filter(x, size=size, mode=MODES[mode][1])
    else:
        expected = scipy.ndimage.uniform_filter(x, size=size, mode="constant", cval=mode)
    assert_eq(result, expected, rtol=1e-10, atol=1e-12)


def test_map_overlap_several_arrays_and_method():
    x = np.arange(20.0).reshape(4, 5)
    y = np.ones((4, 5))
    a, b = sa.from_array(x, chunks=2), sa.from_array(y, chunks=(4, 3))

    def shifted_sum(p, q):
        return np.roll(p, 1, axis=1) + q

    result = sa.map_overlap(shifted_sum, a, b, depth={1: 1}, boundary="periodic", dtype=float)
    assert_eq(result, np.roll(x, 1, axis=1) + y)
    assert_eq(a.map_overlap(lambda blk: blk * 2, depth=1, boundary="reflect"), x * 2)


def test_map_overlap_untrimmed_and_drop_axis():
    x = np.arange(12.0)
    d = sa.from_array(x, chunks=4)
    raw = sa.map_overlap(lambda b: b, d, depth=1, boundary="none", trim=False)
    assert raw.chunks == ((5, 6, 5),)
    stacked = sa.map_overlap(lambda b: np.stack([b, -b]), d, depth=1, boundary=0, new_axis=0,
                             chunks=((2,), (6, 6, 6)), dtype=float)
    assert_eq(stacked, np.stack([x, -x]))


def test_map_overlap_depth_larger_than_chunks():
    x = np.arange(10.0)
    d = sa.from_array(x, chunks=((1, 2, 3, 4),))
    result = sa.map_overlap(scipy.ndimage.uniform_filter, d, depth=3, boundary="nearest", size=7, dtype=float)
    assert_eq(result, scipy.ndimage.uniform_filter(x, size=7, mode="nearest"))


def test_overlap_errors():
    d = sa.from_array(np.arange(6), chunks=3)
    with pytest.raises(ValueError, match="boundary 'mirror' is not understood"):
        sa.overlap(d, 1, "mirror")
    with pytest.raises(ValueError, match="non-negative"):
        sa.overlap(d, -1, "none")
    with pytest.raises(ValueError, match="larger than the axis"):
        sa.overlap(d, 7, "reflect")
    with pytest.raises(ValueError, match="axis 3"):
        sa.overlap(d, {3: 1}, "none")
    unknown = sa.from_array(np.arange(6), chunks=3)
    unknown = sa.argwhere(unknown > 2)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.overlap(unknown, {0: 1}, "none")


@given(case=chunked_arrays(max_side=8), data=st.data())
@settings(max_examples=40, deadline=None)
def test_sliding_window_view_matches_numpy(case, data):
    x, chunks = case
    axis = data.draw(st.integers(0, x.ndim - 1))
    window = data.draw(st.integers(1, x.shape[axis]))
    d = sa.from_array(x, chunks=chunks)
    expected = np.lib.stride_tricks.sliding_window_view(x, window, axis=axis)
    assert_eq(sa.sliding_window_view(d, window, axis=axis), expected)


def test_sliding_window_view_all_axes_and_errors():
    x = np.arange(30).reshape(5, 6)
    d = sa.from_array(x, chunks=(2, 4))
    assert_eq(np.lib.stride_tricks.sliding_window_view(d, (2, 3)), np.lib.stride_tricks.sliding_window_view(x, (2, 3)))
    with pytest.raises(ValueError, match="larger than input array shape"):
        sa.sliding_window_view(d, 7, axis=0)
    with pytest.raises(ValueError, match="one entry per dimension"):
        sa.sliding_window_view(d, 2)


@given(case=chunked_arrays(max_side=8, dtype=np.int64), data=st.data())
@settings(max_examples=40, deadline=None)
def test_diff_matches_numpy(case, data):
    x, chunks = case
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = data.draw(st.integers(0, 4))
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.diff(d, n=n, axis=axis), np.diff(x, n=n, axis=axis))


def test_diff_prepend_append_and_dispatch():
    x = np.arange(12).reshape(3, 4) ** 2
    d = sa.from_array(x, chunks=(2, 3))
    assert_eq(sa.diff(d, axis=0, prepend=1, append=x[:1]), np.diff(x, axis=0, prepend=1, append=x[:1]))
    assert_eq(sa.diff(d, n=2, prepend=sa.from_array(x[:, :2], chunks=1)),
              np.diff(x, n=2, prepend=x[:, :2]))
    lazy = np.diff(d, axis=1)
    assert isinstance(lazy, ArrayBase)
    assert_eq(lazy, np.diff(x, axis=1))
    assert_eq(sa.diff(sa.from_array(np.array([True, False, False]), chunks=1)), np.diff([True, False, False]))
    with pytest.raises(ValueError, match="order must be non-negative"):
        sa.diff(d, n=-1)


def test_ediff1d():
    x = np.array([[1, 5, 2], [8, 8, 0]])
    d = sa.from_array(x, chunks=(1, 2))
    assert_eq(sa.ediff1d(d), np.ediff1d(x))
    assert_eq(sa.ediff1d(d, to_end=[99, 100], to_begin=-1), np.ediff1d(x, to_end=[99, 100], to_begin=-1))
    assert_eq(np.ediff1d(d, to_begin=[0]), np.ediff1d(x, to_begin=[0]))


@given(case=chunked_arrays(min_side=3, max_side=8), edge_order=st.sampled_from([1, 2]), data=st.data())
@settings(max_examples=40, deadline=None)
def test_gradient_matches_numpy(case, edge_order, data):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    axis = data.draw(st.integers(0, x.ndim - 1))
    spacing = data.draw(st.sampled_from(["none", "scalar", "coords"]))
    if spacing == "none":
        args = ()
    elif spacing == "scalar":
        args = (0.5,)
    else:
        args = (np.cumsum(np.random.default_rng(0).uniform(0.5, 2.0, x.shape[axis])),)
    assert_eq(sa.gradient(d, *args, axis=axis, edge_order=edge_order),
              np.gradient(x, *args, axis=axis, edge_order=edge_order))


def test_gradient_all_axes_tuple():
    x = np.random.default_rng(3).standard_normal((5, 6))
    d = sa.from_array(x, chunks=(2, 4))
    got = np.gradient(d, 2.0)
    expected = np.gradient(x, 2.0)
    assert isinstance(got, tuple) and len(got) == 2
    for g, e in zip(got, expected, strict=True):
        assert_eq(g, e)
    assert_eq(sa.gradient(sa.from_array(np.arange(7), chunks=3)), np.gradient(np.arange(7)))
    with pytest.raises(ValueError, match="too small"):
        sa.gradient(sa.from_array(np.arange(2.0), chunks=1), edge_order=2)


def test_dask_module_style_access():
    d = sa.from_array(np.arange(8), chunks=4)
    g = sa.overlap.overlap(d, depth={0: 1}, boundary={0: "periodic"})
    assert_eq(sa.overlap.trim_internal(g, {0: 1}, boundary="periodic"), np.arange(8))

"""Indexing and assignment of shoal arrays, compared with NumPy on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.utils import assert_eq

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- strategies --------------------------------------------------------------------------
@st.composite
def chunked(draw: st.DrawFn, min_ndim: int = 1, max_ndim: int = 3, min_side: int = 0, max_side: int = 9):
    """A NumPy array and a shoal array of it with random (irregular) chunks."""
    shape = draw(st.lists(st.integers(min_side, max_side), min_size=min_ndim, max_size=max_ndim))
    chunks = []
    for n in shape:
        if n == 0:
            chunks.append((0,))
            continue
        cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=4))) if n > 1 else []
        edges = [0, *cuts, n]
        chunks.append(tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True)))
    data = np.arange(math.prod(shape), dtype="i8").reshape(shape)
    return data, sa.from_array(data, chunks=tuple(chunks))


def bound(n: int) -> st.SearchStrategy:
    return st.none() | st.integers(-n - 3, n + 3)


@st.composite
def basic_entry(draw: st.DrawFn, n: int):
    if n > 0 and draw(st.booleans()):
        return draw(st.integers(-n, n - 1))
    step = draw(st.none() | st.integers(-4, 4).filter(lambda s: s != 0))
    return slice(draw(bound(n)), draw(bound(n)), step)


@st.composite
def basic_index(draw: st.DrawFn, shape: tuple[int, ...]):
    """Entries for a prefix of the axes, or for a head and a tail around an Ellipsis, plus some None."""
    full = [draw(basic_entry(n)) for n in shape]
    head = draw(st.integers(0, len(shape)))
    if draw(st.booleans()):
        tail = draw(st.integers(head, len(shape)))
        entries = [*full[:head], Ellipsis, *full[tail:]]
    else:
        entries = full[:head]
    for _ in range(draw(st.integers(0, 2))):
        entries.insert(draw(st.integers(0, len(entries))), None)
    return tuple(entries)


# -- basic slicing --------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_basic_slicing_matches_numpy(data):
    x, d = data.draw(chunked())
    index = data.draw(basic_index(x.shape))
    try:
        expected = x[index]
    except IndexError:
        with pytest.raises(IndexError):
            d[index]
        return
    assert_eq(d[index], expected)


@SETTINGS
@given(st.data())
def test_chained_slicing_matches_numpy(data):
    x, d = data.draw(chunked(min_side=1))
    first = data.draw(basic_index(x.shape))
    y, e = x[first], d[first]
    second = data.draw(basic_index(y.shape))
    assert_eq(e[second], y[second])


def test_issue_example_negative_step():
    x = np.random.default_rng(0).random((120, 600))
    d = sa.from_array(x, chunks=(40, 70))
    assert_eq(d[:50, 500:100:-2], x[:50, 500:100:-2])
    assert_eq(d[::-1, ::-7], x[::-1, ::-7])
    assert_eq(d[-1:-200:-3, 599], x[-1:-200:-3, 599])


def test_full_slice_returns_same_array_and_empty_slices():
    x = np.arange(20).reshape(4, 5)
    d = sa.from_array(x, chunks=2)
    assert d[:] is d and d[...] is d and d[:, :] is d
    assert_eq(d[3:1], x[3:1])
    assert_eq(d[:, 10:], x[:, 10:])
    assert d[::-3].chunks == ((1, 1), (2, 2, 1))


def test_zero_d_and_scalars():
    x = np.arange(6).reshape(2, 3)
    d = sa.from_array(x, chunks=2)
    assert_eq(d[1, 2], x[1, 2])
    assert_eq(d[np.int64(-1), np.int32(0)], x[-1, 0])
    s = d[1, 2]
    assert_eq(s[()], x[1, 2])
    assert_eq(s[None], x[1, 2][None])
    assert list(d[0]) and [int(v) for v in d[1]] == [3, 4, 5]


# -- integer fancy indexing -----------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_integer_array_on_one_axis(data):
    x, d = data.draw(chunked(min_side=1))
    axis = data.draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    idx = data.draw(st.lists(st.integers(-n, n - 1), max_size=12))
    if data.draw(st.booleans()):
        idx = sorted(i % n for i in idx)
    index = (slice(None),) * axis + (idx,)
    assert_eq(d[index], x[index])
    assert_eq(d[index[:-1] + (np.array(idx, dtype=np.int32),)], x[index])
    chunks = data.draw(st.integers(1, 5))
    lazy = sa.from_array(np.array(idx, dtype=np.int64), chunks=chunks) if idx else None
    if lazy is not None:
        assert_eq(d[index[:-1] + (lazy,)], x[index])


@SETTINGS
@given(st.data())
def test_fancy_mixed_with_slices_ints_and_newaxis(data):
    x, d = data.draw(chunked(min_ndim=2, min_side=1))
    entries = [data.draw(basic_entry(n)) for n in x.shape]
    axis = data.draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    entries[axis] = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
    if data.draw(st.booleans()):
        entries.insert(data.draw(st.integers(0, len(entries))), None)
    index = tuple(entries)
    assert_eq(d[index], x[index])


@SETTINGS
@given(st.data())
def test_several_integer_arrays_are_pointwise(data):
    x, d = data.draw(chunked(min_ndim=2, min_side=1))
    axes = sorted(data.draw(st.sets(st.integers(0, x.ndim - 1), min_size=2, max_size=x.ndim)))
    length = data.draw(st.integers(0, 7))
    entries: list = [slice(None)] * x.ndim
    for a in axes:
        entries[a] = np.array(data.draw(st.lists(st.integers(-x.shape[a], x.shape[a] - 1), min_size=length,
                                                 max_size=length)), dtype=int)
    index = tuple(entries)
    assert_eq(d[index], x[index])
    adjacent = axes == list(range(axes[0], axes[-1] + 1))
    assert_eq(d.vindex[index], np.moveaxis(x[index], axes[0], 0) if adjacent else x[index])


def test_vindex_puts_broadcast_dimensions_first():
    x = np.arange(5 * 6 * 7).reshape(5, 6, 7)
    d = sa.from_array(x, chunks=(2, 4, 3))
    rows = np.array([[0, 4], [3, 1], [2, 2]])
    cols = np.array([6, 0])
    expected = np.stack([x[rows[i, j], :, cols[j]] for i in range(3) for j in range(2)]).reshape(3, 2, 6)
    assert_eq(d.vindex[rows, :, cols], expected)
    assert_eq(d.vindex[[1, 4], 2], x[[1, 4], 2])
    assert_eq(d.vindex[1:4, [0, 5], [6, 6]], np.moveaxis(x[1:4, [0, 5], [6, 6]], 1, 0))
    assert_eq(d[rows], x[rows])
    assert_eq(d[:, rows], x[:, rows])


def test_permutation_gather_keeps_blocks_small():
    rng = np.random.default_rng(1)
    x = rng.random((400, 3))
    d = sa.from_array(x, chunks=(25, 3))
    perm = rng.permutation(400)
    y = d[perm]
    assert_eq(y, x[perm])
    assert max(y.chunks[0]) <= 25
    graph = y.__dask_graph__()
    # Each output block reads pieces, each piece one input block: no task reads every input block.
    assert max(len(node.dependencies) for node in graph.values()) <= 16
    sorted_take = d[np.sort(perm[:100])]
    assert_eq(sorted_take, x[np.sort(perm[:100])])
    assert all(len(node.dependencies) <= 1 for k, node in sorted_take.__dask_graph__().items()
               if isinstance(k, tuple) and k[0] == sorted_take.name)


# -- boolean masks ---------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_numpy_boolean_masks(data):
    x, d = data.draw(chunked())
    full = data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))
    mask = np.array(full, dtype=bool).reshape(x.shape)
    result = d[mask]
    assert not any(math.isnan(c) for c in result.chunks[0])
    assert_eq(result, x[mask])
    axis = data.draw(st.integers(0, x.ndim - 1))
    one = np.array(data.draw(st.lists(st.booleans(), min_size=x.shape[axis], max_size=x.shape[axis])), dtype=bool)
    index = (slice(None),) * axis + (one,)
    assert_eq(d[index], x[index])


@SETTINGS
@given(st.data())
def test_lazy_boolean_masks_give_unknown_chunks(data):
    x, d = data.draw(chunked(min_side=1))
    threshold = data.draw(st.integers(0, max(x.size, 1)))
    result = d[d >= threshold]
    assert all(math.isnan(c) for c in result.chunks[0])
    assert_eq(result, x[x >= threshold])
    result.compute_chunk_sizes()
    assert sum(result.chunks[0]) == (x >= threshold).sum()
    assert_eq(result, x[x >= threshold])
    axis = data.draw(st.integers(0, x.ndim - 1))
    line = sa.from_array(np.arange(x.shape[axis]) % 2 == 0, chunks=data.draw(st.integers(1, 4)))
    index = (slice(None),) * axis + (line,)
    assert_eq(d[index], x[(slice(None),) * axis + (np.arange(x.shape[axis]) % 2 == 0,)])


def test_lazy_mask_over_leading_axes_keeps_c_order():
    x = np.arange(4 * 6 * 2).reshape(4, 6, 2)
    d = sa.from_array(x, chunks=(3, 4, 1))
    mask = x[..., 0] % 3 != 1
    assert_eq(d[sa.from_array(mask, chunks=(2, 3))], x[mask])
    assert_eq(d[:, :, 1][d[:, :, 1] > 20], x[:, :, 1][x[:, :, 1] > 20])
    y = d[d[..., 0] > 7]
    assert y.chunks[1] == (1, 1)
    assert y.compute_chunk_sizes().shape == x[x[..., 0] > 7].shape
    assert_eq(y, x[x[..., 0] > 7])


def test_lazy_integer_indices():
    x = np.arange(24.0).reshape(4, 6)
    d = sa.from_array(x, chunks=(3, 4))
    assert_eq(d[d.argmax(axis=0)[0]], x[x.argmax(axis=0)[0]])
    assert_eq(d[:, d[0].argmin()], x[:, 0])
    idx = sa.from_array(np.array([3, -1, 0, 2, 5]), chunks=2)
    known = idx[idx >= 0]  # unknown chunk lengths in the index are fine
    assert_eq(d[:, known], x[:, [3, 0, 2, 5]])
    assert_eq(d[:, idx], x[:, [3, -1, 0, 2, 5]])


def test_unknown_chunks_tell_user_to_compute_chunk_sizes():
    x = np.arange(10.0)
    d = sa.from_array(x, chunks=3)
    y = d[d > 4]
    assert_eq(y[:], x[x > 4])
    assert_eq(y[y > 6], x[x > 6])
    for bad in (lambda: y[2], lambda: y[1:], lambda: y[[0, 1]], lambda: len(y)):
        with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
            bad()
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        y[:2] = 0
    y.compute_chunk_sizes()
    assert_eq(y[1:4], x[x > 4][1:4])
    assert_eq(y[[3, 0]], x[x > 4][[3, 0]])


# -- errors ----------------------------------------------------------------------------------
def test_bad_indices_raise_like_numpy():
    x = np.arange(20).reshape(4, 5)
    d = sa.from_array(x, chunks=2)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1 with size 5"):
        d[0, 5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 0 with size 4"):
        d[-5]
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 1 with size 5"):
        d[:, [0, 7]]
    with pytest.raises(IndexError, match="too many indices"):
        d[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        d[..., ...]
    with pytest.raises(IndexError, match="only integers"):
        d[1.5]
    with pytest.raises(IndexError, match="integer \\(or boolean\\) type"):
        d[np.array([1.0])]
    with pytest.raises(IndexError, match="boolean index did not match.*axis 1; size of axis is 5"):
        d[:, np.ones(3, bool)]
    with pytest.raises(np.exceptions.AxisError):
        sa.take(d, [0], axis=2)
    with pytest.raises(NotImplementedError, match="boolean mask beside other array indices"):
        d.vindex[sa.from_array(np.ones(4, bool)), [0, 1, 2, 3]]
    with pytest.raises(IndexError, match="shape mismatch"):
        d.vindex[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="at least one integer array"):
        d.vindex[0, 1:]
    lazy_index = sa.from_array(np.array([0, 9]), chunks=1)
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 0 with size 4"):
        d[lazy_index].compute()


# -- assignment ------------------------------------------------------------------------------
@SETTINGS
@given(st.data())
def test_setitem_basic_index_matches_numpy(data):
    x, d = data.draw(chunked(min_side=1))
    index = tuple(i for i in data.draw(basic_index(x.shape)) if i is not None)
    expected = x.copy()
    target_shape = x[index].shape
    kind = data.draw(st.sampled_from(["scalar", "numpy", "shoal", "broadcast"]))
    if kind == "scalar":
        value = -7
    elif kind == "broadcast" and target_shape:
        value = -np.arange(target_shape[-1])
    else:
        value = -np.arange(math.prod(target_shape)).reshape(target_shape) - 1
        if kind == "shoal" and value.ndim:
            value = sa.from_array(value, chunks=2)
    expected[index] = np.asarray(value)
    before = d + 0
    d[index] = value
    assert_eq(d, expected)
    assert_eq(before, x)  # arrays built before the assignment keep the old values


@SETTINGS
@given(st.data())
def test_setitem_integer_array_and_masks(data):
    x, d = data.draw(chunked(min_side=1))
    axis = data.draw(st.integers(0, x.ndim - 1))
    n = x.shape[axis]
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6, unique_by=lambda i: i % n))
    index = (slice(None),) * axis + (idx,)
    expected = x.copy()
    value = -np.arange(len(idx)).reshape((len(idx),) + (1,) * (x.ndim - axis - 1)) - 1
    expected[index] = value
    d[index] = value
    assert_eq(d, expected)
    mask = (expected % 3 == 0)
    expected[mask] = 100
    d[mask] = 100
    assert_eq(d, expected)
    ones = expected % 4 == 1
    expected[ones] = np.arange(ones.sum())
    d[ones] = np.arange(ones.sum())
    assert_eq(d, expected)
    expected[expected > 50] = -1
    d[d > 50] = -1
    assert_eq(d, expected)
    rows = expected.reshape(x.shape[0], -1).sum(axis=1) % 2 == 0
    expected[rows] = 5
    d[sa.from_array(rows, chunks=2)] = 5
    assert_eq(d, expected)


def test_setitem_is_lazy_and_casts_like_numpy():
    x = np.arange(12).reshape(3, 4)
    d = sa.from_array(x, chunks=2)
    name = d.name
    d[1, ::-2] = 9.7
    assert d.name != name and d.dtype == x.dtype
    x[1, ::-2] = 9.7
    assert_eq(d, x)
    d[0, :, ] = sa.from_array(np.array([5, 6, 7, 8]), chunks=3)
    x[0] = [5, 6, 7, 8]
    assert_eq(d, x)
    d[0, :, ] = sa.from_array(np.array([[1, 2, 3, 4]]), chunks=3)
    x[0] = [1, 2, 3, 4]
    assert_eq(d, x)
    d[x > 8] = sa.from_array(np.array(-3))
    x[x > 8] = -3
    assert_eq(d, x)


def test_setitem_errors():
    d = sa.from_array(np.arange(10), chunks=3)
    with pytest.raises(ValueError, match=r"shape mismatch: value array of shape \(3,\).*shape \(2,\)"):
        d[[1, 2]] = [1, 2, 3]
    with pytest.raises(ValueError, match="cannot assign 3 input values to the 2 output values"):
        d[np.arange(10) > 7] = [1, 2, 3]
    e = d + 0
    e[e > 2] = np.arange(10)  # a lazy 1-d mask: the count of true values is checked when computed
    with pytest.raises(ValueError, match="cannot assign 10 input values to the 7 output values"):
        e.compute()
    with pytest.raises(IndexError, match="out of bounds"):
        d[10] = 1


# -- blocks, take, compress ------------------------------------------------------------------
def test_blocks():
    x = np.arange(7 * 8).reshape(7, 8)
    d = sa.from_array(x, chunks=(3, 3))
    assert d.blocks.shape == (3, 3) and d.blocks.size == 9
    assert_eq(d.blocks[1, 2], x[3:6, 6:])
    assert_eq(d.blocks[:, ::-1], np.concatenate([x[:, 6:], x[:, 3:6], x[:, :3]], axis=1))
    assert_eq(d.blocks[[0, 2]], np.concatenate([x[:3], x[6:]]))
    assert_eq(d.blocks[-1], x[6:])
    assert_eq(d.partitions[0, 0], x[:3, :3])
    assert len(d.blocks.ravel()) == 9
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 3"):
        d.blocks[0, 3]
    with pytest.raises(IndexError, match="None"):
        d.blocks[None]


def test_take_and_compress_match_numpy():
    x = np.arange(30).reshape(5, 6)
    d = sa.from_array(x, chunks=(2, 4))
    assert_eq(sa.take(d, [4, 0, -1], axis=0), np.take(x, [4, 0, -1], axis=0))
    assert isinstance(np.take(d, [1], axis=0), sa.Array) and isinstance(np.compress([1], d, axis=0), sa.Array)
    assert_eq(np.take(d, [[1, 2], [5, 0]], axis=1), np.take(x, [[1, 2], [5, 0]], axis=1))
    assert_eq(d.take(3, axis=-1), x.take(3, axis=-1))
    assert_eq(np.take(d[0], [5, 1]), np.take(x[0], [5, 1]))
    assert_eq(sa.compress([True, False, True], d, axis=1), np.compress([True, False, True], x, axis=1))
    assert_eq(np.compress([False, True, True, False, True], d, axis=0),
              np.compress([False, True, True, False, True], x, axis=0))
    assert_eq(d[1].compress([True] * 3), x[1].compress([True] * 3))
    lazy = sa.from_array(np.array([True, False, True, True, False]), chunks=2)
    assert_eq(sa.compress(lazy, d, axis=0), np.compress([True, False, True, True, False], x, axis=0))
    assert_eq(sa.take(d, sa.from_array(np.array([5, 0, 2]), chunks=2), axis=1), np.take(x, [5, 0, 2], axis=1))
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 5"):
        sa.compress([True] * 6, d, axis=0)
    with pytest.raises(ValueError, match="1-d"):
        sa.compress([[True]], d, axis=0)


def test_take_and_compress_without_axis_flatten():
    x = np.arange(30).reshape(5, 6)
    d = sa.from_array(x, chunks=(2, 4))
    if not hasattr(d, "ravel"):
        pytest.skip("ravel (shape family) is not available")
    assert_eq(np.take(d, [7, 0, 29]), np.take(x, [7, 0, 29]))
    assert_eq(np.compress(np.arange(30) % 4 == 0, d), np.compress(np.arange(30) % 4 == 0, x))


SCALAR_BOOL_KEYS = [True, False, np.True_, np.array(False), (True, 1), (slice(None), False), (Ellipsis, True),
                    (0, Ellipsis, False, 1), (None, True, slice(1, 3)), (True, False), (1, True, Ellipsis),
                    (True, True, 0), (0, slice(None), True), (slice(None), 1, True), (None, 1, None, False)]


@pytest.mark.parametrize("key", SCALAR_BOOL_KEYS, ids=repr)
def test_scalar_boolean_indices_match_numpy(key) -> None:
    a = np.arange(24).reshape(2, 3, 4)
    x = sa.from_array(a, chunks=2)
    got = x[key]
    assert got.shape == a[key].shape
    np.testing.assert_array_equal(got.compute(), a[key])


def test_scalar_boolean_beside_array_indices_matches_numpy() -> None:
    a = np.arange(12).reshape(3, 4)
    x = sa.from_array(a, chunks=2)
    np.testing.assert_array_equal(x[True, [0, 2]].compute(), a[True, [0, 2]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rows=st.integers(1, 7), cols=st.integers(1, 7), npoints=st.integers(0, 12),
       chunk=st.integers(1, 4), lazy=st.booleans(), scalar=st.booleans())
def test_vindex_assignment_matches_numpy_point_assignment(data, rows, cols, npoints, chunk, lazy, scalar) -> None:
    a = np.arange(rows * cols, dtype=float).reshape(rows, cols)
    i = np.array(data.draw(st.lists(st.integers(-rows, rows - 1), min_size=npoints, max_size=npoints)), dtype=int)
    j = np.array(data.draw(st.lists(st.integers(-cols, cols - 1), min_size=npoints, max_size=npoints)), dtype=int)
    # Distinct points: which of two values NumPy keeps for a repeated point is not specified.
    _, first = np.unique(np.ravel_multi_index((i % rows, j % cols), (rows, cols)), return_index=True)
    i, j = i[np.sort(first)], j[np.sort(first)]
    values = -1.5 if scalar else -np.arange(1.0, len(i) + 1)
    expected = a.copy()
    expected[i, j] = values
    x = sa.from_array(a, chunks=chunk)
    x.vindex[i, j] = sa.from_array(np.asarray(values), chunks=2) if lazy and not scalar else values
    np.testing.assert_array_equal(x.compute(), expected)


def test_vindex_assignment_errors() -> None:
    x = sa.from_array(np.zeros((3, 4)), chunks=2)
    with pytest.raises(IndexError, match="out of bounds for axis 1"):
        x.vindex[[0], [4]] = 1
    with pytest.raises(IndexError, match="one integer"):
        x.vindex[0:2, [1, 2]] = 1
    with pytest.raises(ValueError, match="shape mismatch"):
        x.vindex[[0, 1], [1, 2]] = [1, 2, 3]


def test_blocks_refuse_scalar_booleans_like_none() -> None:
    x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    for key in (True, np.True_, (0, False), np.array(True)):
        with pytest.raises(IndexError, match="scalar booleans, which add an axis"):
            x.blocks[key]

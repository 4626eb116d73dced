"""Join family: concatenate, stack, h/v/dstack, block, pad, roll, flip, repeat, tile."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array._base import new_array
from shoal.array.utils import assert_eq
from shoal.graph.task import DataNode
from shoal.array.tests.strategies import chunks_for




def _data(shape, dtype="i8"):
    return (np.arange(math.prod(shape)) * 7 % 11).astype(dtype).reshape(shape)


@st.composite
def arrays_with_chunks(draw, min_dims=1, max_dims=3, min_side=0, max_side=5, shape=None):
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))
    x = _data(shape, draw(st.sampled_from(["i8", "f8", "i2"])))
    return x, draw(chunks_for(shape))


def _unknown(x, lengths):
    """A 1-D array with nan chunk lengths, holding ``x`` cut at ``lengths``."""
    edges = np.cumsum([0, *lengths])
    pairs = enumerate(zip(edges, edges[1:], strict=False))
    layer = {("unknown", i): DataNode(("unknown", i), x[a:b]) for i, (a, b) in pairs}
    return new_array(layer, "unknown", ((math.nan,) * len(lengths),), x.dtype)


# -- concatenate / stack -------------------------------------------------------------------------------------------
@st.composite
def concat_cases(draw):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    axis = draw(st.integers(-len(base), len(base) - 1))
    cases = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = draw(st.integers(0, 4))
        cases.append(draw(arrays_with_chunks(shape=tuple(shape))))
    return cases, axis


@given(case=concat_cases())
@settings(max_examples=40, deadline=None)
def test_concatenate_matches_numpy(case):
    cases, axis = case
    arrays = [sa.from_array(x, chunks=c) for x, c in cases]
    expected = np.concatenate([x for x, _ in cases], axis=axis)
    got = sa.concatenate(arrays, axis=axis)
    assert_eq(got, expected)
    assert_eq(np.concatenate(arrays, axis=axis), expected)
    assert got.numblocks[axis] == sum(a.numblocks[axis] for a in arrays)


@given(case=arrays_with_chunks(max_dims=3), n=st.integers(1, 3), data=st.data())
@settings(max_examples=30, deadline=None)
def test_stack_matches_numpy(case, n, data):
    x0, c0 = case
    data_ = [x0 * (k + 1) for k in range(n)]
    arrays = [sa.from_array(x, chunks=data.draw(chunks_for(x0.shape))) for x in data_]
    for axis in range(-x0.ndim - 1, x0.ndim + 1):
        assert_eq(sa.stack(arrays, axis=axis), np.stack(data_, axis=axis))
    assert_eq(np.stack(arrays), np.stack(data_))
    assert sa.stack(arrays, axis=-1).chunks[-1] == (1,) * n


def test_concatenate_mixed_inputs_and_dtypes():
    x = np.arange(6).reshape(2, 3)
    d = sa.from_array(x, chunks=1)
    f = np.ones((2, 2), dtype="f4")
    assert_eq(sa.concatenate([d, f], axis=1), np.concatenate([x, f], axis=1))
    assert_eq(sa.concatenate([d, f], axis=1, dtype="f4", casting="unsafe"),
              np.concatenate([x, f], axis=1, dtype="f4", casting="unsafe"))
    assert_eq(sa.concatenate([d, d], axis=None), np.concatenate([x, x], axis=None))
    assert_eq(sa.stack([d, x.astype("u1")]), np.stack([x, x.astype("u1")]))
    with pytest.raises(TypeError, match="cast"):
        sa.concatenate([d, f], axis=1, dtype="i4")
    assert sa.concatenate([d]) is d


def test_concatenate_errors():
    a = sa.from_array(np.zeros((2, 3)), chunks=1)
    b = sa.from_array(np.zeros((2, 4)), chunks=1)
    with pytest.raises(ValueError, match=r"dimension 1.*\(2, 3\).*\(2, 4\)"):
        sa.concatenate([a, b], axis=0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        sa.concatenate([a, np.zeros(3)])
    with pytest.raises(ValueError, match="zero-dimensional"):
        sa.concatenate([sa.from_array(np.array(1), chunks=())])
    with pytest.raises(ValueError, match="at least one array"):
        sa.concatenate([])
    with pytest.raises(np.exceptions.AxisError):
        sa.concatenate([a, a], axis=2)
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\).*\(2, 4\)"):
        sa.stack([a, b])


def test_concatenate_unknown_chunks():
    x = np.arange(5)
    u = _unknown(x, [2, 3])
    got = sa.concatenate([u, sa.from_array(x, chunks=2)])
    assert_eq(got, np.concatenate([x, x]))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.stack([u, u], axis=1)  # nan along an axis that must line up
    two_d = sa.stack([u, u], axis=1, allow_unknown_chunksizes=True)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.concatenate([two_d, two_d], axis=1)
    assert_eq(sa.concatenate([two_d, two_d], axis=1, allow_unknown_chunksizes=True),
              np.stack([x, x, x, x], axis=1))


def test_concatenate_aligns_other_axes():
    x = np.arange(24).reshape(4, 6)
    a = sa.from_array(x, chunks=(2, 3))
    b = sa.from_array(x, chunks=(4, 2))
    got = sa.concatenate([a, b], axis=0)
    assert got.chunks[1] == (2, 1, 1, 2)
    assert_eq(got, np.concatenate([x, x]))


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(2, 3, 1), (2, 3, 2)], [(), ()]])
def test_hstack_vstack_dstack(shapes):
    xs = [_data(s) for s in shapes]
    ds = [sa.from_array(x, chunks=2 if x.ndim else ()) for x in xs]
    for ours, theirs in [(sa.hstack, np.hstack), (sa.vstack, np.vstack), (sa.dstack, np.dstack)]:
        try:
            expected = theirs(xs)
        except ValueError:
            with pytest.raises(ValueError):
                ours(ds)
            continue
        assert_eq(ours(ds), expected)
        assert_eq(theirs(ds), expected)


def test_block():
    a = _data((2, 2))
    b = _data((2, 3))
    c = _data((1, 5))
    da = sa.from_array(a, chunks=1)
    assert_eq(sa.block([[da, b], [c]]), np.block([[a, b], [c]]))
    assert_eq(np.block([[da, b], [c]]), np.block([[a, b], [c]]))
    assert_eq(sa.block([da, da]), np.block([a, a]))
    assert_eq(sa.block([1, 2, sa.from_array(np.arange(3), chunks=2)]), np.block([1, 2, np.arange(3)]))
    assert_eq(sa.block([[[da]], [[da]]]), np.block([[[a]], [[a]]]))
    assert_eq(sa.block(da), np.block(a))
    with pytest.raises(ValueError, match="depths are mismatched"):
        sa.block([[da], da])
    with pytest.raises(TypeError, match="tuple"):
        sa.block((da, da))
    with pytest.raises(ValueError, match="empty"):
        sa.block([[], [da]])


# -- pad -----------------------------------------------------------------------------------------------------------
@st.composite
def pad_widths(draw, ndim):
    form = draw(st.sampled_from(["int", "pair", "per-axis"]))
    w = st.integers(0, 7)
    if form == "int":
        return draw(w)
    if form == "pair":
        return (draw(w), draw(w))
    return tuple((draw(w), draw(w)) for _ in range(ndim))


@given(case=arrays_with_chunks(min_side=1), data=st.data(),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap", "linear_ramp", "maximum",
                             "minimum", "mean", "median"]))
@settings(max_examples=80, deadline=None)
def test_pad_matches_numpy(case, data, mode):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    width = data.draw(pad_widths(x.ndim))
    kwargs = {}
    if mode == "constant" and data.draw(st.booleans()):
        kwargs["constant_values"] = data.draw(st.sampled_from([3, (1, 2), tuple((i, -i) for i in range(x.ndim))]))
    if mode == "linear_ramp" and data.draw(st.booleans()):
        kwargs["end_values"] = data.draw(st.sampled_from([5, (-2, 9)]))
    if mode in ("reflect", "symmetric") and data.draw(st.booleans()):
        kwargs["reflect_type"] = "odd"
    if mode in ("maximum", "minimum", "mean", "median") and data.draw(st.booleans()):
        kwargs["stat_length"] = data.draw(st.sampled_from([1, 2, (1, 3), 9]))
    expected = np.pad(x, width, mode=mode, **kwargs)
    got = sa.pad(d, width, mode=mode, **kwargs)
    assert_eq(got, expected)
    assert_eq(np.pad(d, width, mode=mode, **kwargs), expected)


def test_pad_keeps_original_blocks_and_chunks_padding():
    x = _data((10, 4))
    d = sa.from_array(x, chunks=(3, 2))
    got = sa.pad(d, ((7, 2), (0, 0)), mode="reflect")
    assert got.chunks == ((3, 3, 1, 3, 3, 3, 1, 2), (2, 2))
    assert_eq(got, np.pad(x, ((7, 2), (0, 0)), mode="reflect"))


@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
@pytest.mark.parametrize("widths", [(2, 3), (9, 1), (0, 12), ((1, 2), (6, 0))])
def test_pad_odd_reflection(mode, widths):
    x = (np.arange(20, dtype="f8") ** 2).reshape(4, 5)
    d = sa.from_array(x, chunks=(3, 2))
    assert_eq(sa.pad(d, widths, mode=mode, reflect_type="odd"), np.pad(x, widths, mode=mode, reflect_type="odd"))
    ints = x.astype("i4")
    assert_eq(sa.pad(sa.from_array(ints, chunks=2), widths, mode=mode, reflect_type="odd"),
              np.pad(ints, widths, mode=mode, reflect_type="odd"))


def test_pad_empty_axes_and_errors():
    x = np.zeros((0, 3))
    d = sa.from_array(x, chunks=2)
    assert_eq(sa.pad(d, 1), np.pad(x, 1))
    assert_eq(sa.pad(d, ((0, 0), (1, 2)), mode="edge"), np.pad(x, ((0, 0), (1, 2)), mode="edge"))
    with pytest.raises(ValueError, match="empty axis 0"):
        sa.pad(d, 1, mode="edge")
    e = sa.from_array(np.arange(4), chunks=2)
    with pytest.raises(ValueError, match="not supported"):
        sa.pad(e, 1, mode="bogus")
    with pytest.raises(ValueError, match="unsupported keyword"):
        sa.pad(e, 1, mode="edge", constant_values=3)
    with pytest.raises(ValueError, match="negative"):
        sa.pad(e, -1)
    with pytest.raises(TypeError, match="integral"):
        sa.pad(e, 1.5)
    with pytest.raises(ValueError, match=r"pad_width.*\(3, 2\)"):
        sa.pad(e, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match="stat_length of 0"):
        sa.pad(e, 1, mode="mean", stat_length=0)
    with pytest.raises(ValueError, match="reflect_type"):
        sa.pad(e, 1, mode="reflect", reflect_type="weird")
    assert sa.pad(e, 2, mode="empty").shape == (8,)


def test_pad_unknown_chunks():
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.pad(_unknown(np.arange(5), [2, 3]), 1, mode="edge")


# -- roll, flip, repeat, tile --------------------------------------------------------------------------------------
@given(case=arrays_with_chunks(max_dims=3), data=st.data())
@settings(max_examples=40, deadline=None)
def test_roll_matches_numpy(case, data):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    shift = data.draw(st.integers(-12, 12))
    assert_eq(sa.roll(d, shift), np.roll(x, shift))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_eq(np.roll(d, shift, axis=axis), np.roll(x, shift, axis=axis))
    shifts = data.draw(st.lists(st.integers(-6, 6), min_size=2, max_size=2))
    axes = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=2, max_size=2))
    assert_eq(sa.roll(d, shifts, axis=axes), np.roll(x, shifts, axis=axes))
    assert sa.roll(d, shift, axis=axis).chunks == d.chunks


@given(case=arrays_with_chunks(min_dims=0, max_dims=3), data=st.data())
@settings(max_examples=40, deadline=None)
def test_flip_matches_numpy(case, data):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.flip(d), np.flip(x))
    if x.ndim:
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        assert_eq(np.flip(d, axis), np.flip(x, axis))
        assert_eq(sa.flipud(d), np.flipud(x))
        axes = tuple(data.draw(st.sets(st.integers(0, x.ndim - 1))))
        assert_eq(sa.flip(d, axes), np.flip(x, axes))
    if x.ndim >= 2:
        assert_eq(np.fliplr(d), np.fliplr(x))


def test_flip_errors():
    with pytest.raises(ValueError, match=">= 2-d"):
        sa.fliplr(sa.from_array(np.arange(3), chunks=2))
    with pytest.raises(ValueError, match=">= 1-d"):
        sa.flipud(sa.from_array(np.array(3), chunks=()))


@given(case=arrays_with_chunks(min_dims=1, max_dims=3), data=st.data())
@settings(max_examples=40, deadline=None)
def test_repeat_matches_numpy(case, data):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    r = data.draw(st.integers(0, 3))
    assert_eq(sa.repeat(d, r), np.repeat(x, r))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_eq(np.repeat(d, r, axis=axis), np.repeat(x, r, axis=axis))
    assert_eq(d.repeat(r, axis=axis), x.repeat(r, axis=axis))
    counts = data.draw(st.lists(st.integers(0, 3), min_size=x.shape[axis], max_size=x.shape[axis]))
    assert_eq(sa.repeat(d, counts, axis=axis), np.repeat(x, counts, axis=axis))


def test_repeat_errors():
    d = sa.from_array(np.arange(4), chunks=2)
    with pytest.raises(ValueError, match="negative"):
        sa.repeat(d, -1)
    with pytest.raises(ValueError, match="repeats has shape"):
        sa.repeat(d, [1, 2])
    with pytest.raises(TypeError, match="integers"):
        sa.repeat(d, 1.5)


@given(case=arrays_with_chunks(min_dims=0, max_dims=2, max_side=4),
       reps=st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=3).map(tuple)))
@settings(max_examples=40, deadline=None)
def test_tile_matches_numpy(case, reps):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    assert_eq(sa.tile(d, reps), np.tile(x, reps))
    assert_eq(np.tile(d, reps), np.tile(x, reps))


def test_tile_errors():
    d = sa.from_array(np.arange(4), chunks=2)
    with pytest.raises(ValueError, match="negative"):
        sa.tile(d, -1)
    with pytest.raises(TypeError, match="integers"):
        sa.tile(d, 1.5)


def test_joins_are_lazy_and_deterministic():
    x = np.arange(12).reshape(3, 4)
    d = sa.from_array(x, chunks=2)
    for make in (lambda: np.concatenate([d, d]), lambda: np.stack([d, d]), lambda: np.pad(d, 2, mode="wrap"),
                 lambda: np.roll(d, 3, axis=1), lambda: np.flip(d), lambda: np.tile(d, 2),
                 lambda: np.repeat(d, 2, axis=0), lambda: np.block([[d, d]])):
        first, second = make(), make()
        assert isinstance(first, sa.Array)
        assert first.name == second.name

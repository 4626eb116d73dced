"""Creation functions: ones/zeros/full/empty(_like), arange, linspace, eye, diag, tri*, grids, from_delayed."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal
import shoal.array as sa
from shoal import config
from shoal.array.utils import assert_eq
from shoal.array.tests.strategies import chunks_for




shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7)


@given(data=st.data(), shape=shapes, dtype=st.sampled_from([None, "f4", "i8", "u1", "bool", "c16"]))
@settings(max_examples=40, deadline=None)
def test_filled_match_numpy(data, shape, dtype):
    chunks = data.draw(chunks_for(shape))
    assert_eq(sa.ones(shape, dtype=dtype, chunks=chunks), np.ones(shape, dtype=dtype))
    assert_eq(sa.zeros(shape, dtype=dtype, chunks=chunks), np.zeros(shape, dtype=dtype))
    assert_eq(sa.full(shape, 3, dtype=dtype, chunks=chunks), np.full(shape, 3, dtype=dtype))
    e = sa.empty(shape, dtype=dtype, chunks=chunks)
    assert e.shape == shape and e.dtype == np.empty(0, dtype=dtype).dtype
    assert e.compute().shape == shape


def test_chunk_forms():
    assert sa.ones((10, 7), chunks=4).chunks == ((4, 4, 2), (4, 3))
    assert sa.ones((10, 7), chunks=-1).chunks == ((10,), (7,))
    assert sa.ones((10, 7), chunks=(5, -1)).chunks == ((5, 5), (7,))
    assert sa.ones((4,), chunks=((1, 3),)).chunks == ((1, 3),)
    with config.set({"array.chunk-size": "800 B"}):
        x = sa.ones((100, 100), chunks="auto")
        assert max(x.chunks[0]) * max(x.chunks[1]) * 8 <= 800
        assert x.chunks[0][0] == 10
    big = sa.zeros((20000, 20000))  # default 128 MiB blocks: 4096 x 4096 of f8
    assert big.chunksize == (4096, 4096)


def test_full_dtype_and_errors():
    assert sa.full(3, 1.5).dtype == np.float64
    assert sa.full(3, True).dtype == np.bool_
    assert_eq(sa.full((2, 2), 7, dtype="f4", chunks=1), np.full((2, 2), 7, dtype="f4"))
    with pytest.raises(ValueError, match="fill_value must be a scalar"):
        sa.full(3, np.arange(3))
    with pytest.raises(ValueError, match="negative dimensions"):
        sa.ones((2, -1))
    with pytest.raises(ValueError, match="dimensions"):
        sa.ones((4, 4), chunks=(2, 2, 2))


@given(data=st.data(), shape=shapes)
@settings(max_examples=30, deadline=None)
def test_like_functions(data, shape):
    x = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    chunks = data.draw(chunks_for(shape))
    d = sa.from_array(x, chunks=chunks)
    for ours, theirs in [(sa.ones_like, np.ones_like), (sa.zeros_like, np.zeros_like)]:
        out = ours(d)
        assert out.chunks == d.chunks
        assert_eq(out, theirs(x))
        assert_eq(ours(x, dtype="f8"), theirs(x, dtype="f8"))
    assert_eq(sa.full_like(d, 5), np.full_like(x, 5))
    assert sa.empty_like(d).chunks == d.chunks
    assert_eq(sa.ones_like(d, shape=(2, 3)), np.ones((2, 3), dtype="i4"))


def test_like_dispatch_through_numpy():
    d = sa.from_array(np.arange(6.0), chunks=4)
    out = np.ones_like(d)
    assert isinstance(out, sa.Array) and out.chunks == d.chunks
    assert_eq(np.zeros_like(d), np.zeros(6))
    assert_eq(np.full_like(d, 2.0), np.full(6, 2.0))
    assert isinstance(np.ones(3, like=d), sa.Array)


def test_like_unknown_shape_error():
    d = sa.from_array(np.arange(6.0), chunks=4)
    d._chunks = ((np.nan, np.nan),)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.ones_like(d)


@given(start=st.integers(-20, 20), length=st.integers(-5, 40), step=st.sampled_from([1, 2, 3, -1, -4]),
       chunk=st.integers(1, 9))
@settings(max_examples=50, deadline=None)
def test_arange_int(start, length, step, chunk):
    stop = start + length
    assert_eq(sa.arange(start, stop, step, chunks=chunk), np.arange(start, stop, step))


@given(start=st.floats(-10, 10), span=st.floats(-10, 30), step=st.sampled_from([0.1, 0.25, 1.5, -0.3, 0.7]),
       chunk=st.integers(1, 9))
@settings(max_examples=50, deadline=None)
def test_arange_float(start, span, step, chunk):
    stop = start + span
    expected = np.arange(start, stop, step)
    assert_eq(sa.arange(start, stop, step, chunks=chunk), expected)


def test_arange_forms():
    assert_eq(sa.arange(10, chunks=3), np.arange(10))
    assert_eq(sa.arange(5, dtype="f4", chunks=2), np.arange(5, dtype="f4"))
    assert_eq(sa.arange(0, 1, 0.1, chunks=4), np.arange(0, 1, 0.1))
    assert_eq(sa.arange(10, 0, -3, chunks=1), np.arange(10, 0, -3))
    assert sa.arange(10**12).shape == (10**12,)
    assert isinstance(np.arange(4, like=sa.ones(1)), sa.Array)
    with pytest.raises(ZeroDivisionError, match="step"):
        sa.arange(0, 10, 0)


@given(start=st.floats(-100, 100), stop=st.floats(-100, 100), num=st.integers(0, 40), endpoint=st.booleans(),
       chunk=st.integers(1, 9), dtype=st.sampled_from([None, "f4", "i8"]))
@settings(max_examples=60, deadline=None)
def test_linspace(start, stop, num, endpoint, chunk, dtype):
    out, step = sa.linspace(start, stop, num, endpoint=endpoint, retstep=True, chunks=chunk, dtype=dtype)
    expected, expected_step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, dtype=dtype)
    assert_eq(out, expected)
    np.testing.assert_equal(step, expected_step)


@given(n=st.integers(0, 9), m=st.one_of(st.none(), st.integers(0, 9)), k=st.integers(-10, 10),
       data=st.data())
@settings(max_examples=50, deadline=None)
def test_eye_and_tri(n, m, k, data):
    shape = (n, n if m is None else m)
    chunks = data.draw(chunks_for(shape))
    assert_eq(sa.eye(n, chunks=chunks, M=m, k=k), np.eye(n, m, k))
    assert_eq(sa.tri(n, m, k, dtype=int, chunks=chunks), np.tri(n, m, k, dtype=int))


def test_eye_defaults():
    assert_eq(sa.eye(5, chunks=2, dtype="i4"), np.eye(5, dtype="i4"))
    assert isinstance(np.eye(3, like=sa.ones(1)), sa.Array)


@given(shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=7), k=st.integers(-8, 8),
       data=st.data())
@settings(max_examples=50, deadline=None)
def test_tril_triu(shape, k, data):
    x = np.arange(int(np.prod(shape))).reshape(shape) + 1
    d = sa.from_array(x, chunks=data.draw(chunks_for(shape)))
    assert_eq(sa.tril(d, k), np.tril(x, k))
    assert_eq(sa.triu(d, k), np.triu(x, k))
    assert_eq(np.tril(d, k), np.tril(x, k))


@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=7), offset=st.integers(-8, 8),
       axes=st.tuples(st.integers(-4, 3), st.integers(-4, 3)), data=st.data())
@settings(max_examples=60, deadline=None)
def test_diagonal(shape, offset, axes, data):
    ndim = len(shape)
    a1, a2 = axes
    if not (-ndim <= a1 < ndim and -ndim <= a2 < ndim) or a1 % ndim == a2 % ndim:
        return
    x = np.arange(int(np.prod(shape))).reshape(shape)
    d = sa.from_array(x, chunks=data.draw(chunks_for(shape)))
    assert_eq(sa.diagonal(d, offset, a1, a2), np.diagonal(x, offset, a1, a2))
    assert_eq(d.diagonal(offset, a1, a2), x.diagonal(offset, a1, a2))


def test_diagonal_errors():
    d = sa.ones((3, 3), chunks=2)
    with pytest.raises(ValueError, match="same"):
        sa.diagonal(d, 0, 1, 1)
    with pytest.raises(np.exceptions.AxisError):
        sa.diagonal(d, 0, 0, 5)
    with pytest.raises(ValueError, match="at least 2"):
        sa.diagonal(sa.ones(3), 0)


@given(n=st.integers(0, 8), k=st.integers(-5, 5), data=st.data())
@settings(max_examples=50, deadline=None)
def test_diag(n, k, data):
    v = np.arange(n) + 1
    d = sa.from_array(v, chunks=data.draw(chunks_for((n,))))
    assert_eq(sa.diag(d, k), np.diag(v, k))
    m = np.arange(n * (n + 2)).reshape(n, n + 2)
    dm = sa.from_array(m, chunks=data.draw(chunks_for(m.shape)))
    assert_eq(sa.diag(dm, k), np.diag(m, k))
    assert_eq(np.diag(dm, k), np.diag(m, k))


def test_diag_errors():
    with pytest.raises(ValueError, match="1- or 2-d"):
        sa.diag(sa.ones((2, 2, 2)))


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6), data=st.data(),
       dtype=st.sampled_from([int, "f4"]))
@settings(max_examples=30, deadline=None)
def test_indices(shape, data, dtype):
    chunks = data.draw(chunks_for(shape))
    out = sa.indices(shape, dtype=dtype, chunks=chunks or ())
    assert_eq(out, np.indices(shape, dtype=dtype))


@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=3), sparse=st.booleans(),
       indexing=st.sampled_from(["xy", "ij"]), data=st.data())
@settings(max_examples=40, deadline=None)
def test_meshgrid(lengths, sparse, indexing, data):
    vectors = [np.arange(n) * (i + 1) for i, n in enumerate(lengths)]
    arrays = [sa.from_array(v, chunks=data.draw(chunks_for(v.shape))) for v in vectors]
    ours = sa.meshgrid(*arrays, sparse=sparse, indexing=indexing)
    theirs = np.meshgrid(*vectors, sparse=sparse, indexing=indexing)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert_eq(a, b)
    assert len(np.meshgrid(*arrays)) == len(vectors)


def test_meshgrid_errors():
    assert sa.meshgrid() == []
    with pytest.raises(ValueError, match="indexing"):
        sa.meshgrid(sa.ones(2), indexing="yx")


def _f(i, j, scale=1):
    return (i * 10 + j) * scale


@given(shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=7), data=st.data())
@settings(max_examples=30, deadline=None)
def test_fromfunction(shape, data):
    chunks = data.draw(chunks_for(shape))
    assert_eq(sa.fromfunction(_f, shape, chunks=chunks, scale=2), np.fromfunction(_f, shape, scale=2))
    assert_eq(sa.fromfunction(_f, shape, dtype=int, chunks=chunks), np.fromfunction(_f, shape, dtype=int))


def test_fromfunction_constant_result_broadcasts():
    assert_eq(sa.fromfunction(lambda i, j: 1.0, (3, 4), chunks=2), np.ones((3, 4)))
    out = np.fromfunction(_f, (3, 4), like=sa.ones(1))
    assert isinstance(out, sa.Array)
    assert_eq(out, np.fromfunction(_f, (3, 4)))


def test_from_delayed():
    value = shoal.delayed(np.arange)(6)
    x = sa.from_delayed(value, shape=(6,), dtype=int)
    assert x.chunks == ((6,),)
    assert_eq(x + 1, np.arange(6) + 1)
    wrong = sa.from_delayed(value, shape=(5,), dtype=int)
    with pytest.raises(ValueError, match=r"declared with shape \(5,\)"):
        wrong.compute(scheduler="sync")
    unknown = sa.from_delayed(value, shape=(np.nan,), dtype=int)
    np.testing.assert_array_equal(unknown.compute(scheduler="sync"), np.arange(6))
    with pytest.raises(ValueError, match="dtype"):
        sa.from_delayed(value, shape=(6,))
    with pytest.raises(TypeError, match="Delayed"):
        sa.from_delayed(np.arange(3), shape=(3,), dtype=int)


def test_from_delayed_pieces_concatenate():
    pieces = [sa.from_delayed(shoal.delayed(np.full)(3, i), shape=(3,), dtype=int) for i in range(3)]
    total = sum(pieces[1:], pieces[0])
    assert_eq(total, np.full(3, 3))


def test_creation_graph_is_one_task_per_block():
    x = sa.ones((100, 100), chunks=10)
    assert len(x.__dask_graph__()) == 100
    assert sa.ones((100, 100), chunks=10).name == x.name
    assert sa.zeros((100, 100), chunks=10).name != x.name


def test_exports():
    for name in ["ones", "zeros", "full", "empty", "ones_like", "zeros_like", "full_like", "empty_like", "arange",
                 "linspace", "eye", "diag", "diagonal", "tri", "tril", "triu", "indices", "meshgrid",
                 "fromfunction", "from_delayed"]:
        assert callable(getattr(sa, name)), name


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), max_size=2), num=st.integers(0, 9), endpoint=st.booleans(),
       chunk=st.integers(1, 5), lazy=st.booleans(), integer=st.booleans())
def test_linspace_with_array_bounds(shape, num, endpoint, chunk, lazy, integer) -> None:
    rng = np.random.default_rng(num * 7 + len(shape))
    start, stop = rng.normal(size=shape) * 10, rng.normal(size=shape) * 10
    stop.flat[0] = start.flat[0]  # one zero step: NumPy's other formula
    dtype = int if integer else None
    expected, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, dtype=dtype)
    lo = sa.from_array(start, chunks=chunk) if lazy else start
    got, got_step = sa.linspace(lo, stop, num, endpoint=endpoint, retstep=True, chunks=chunk, dtype=dtype)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if lazy:  # each element takes its own branch of NumPy's formula: equal up to rounding
        np.testing.assert_allclose(got.compute(), expected, rtol=1e-12, atol=1e-9 if not integer else 1)
    else:
        np.testing.assert_array_equal(got.compute(), expected)
        np.testing.assert_array_equal(np.asarray(got_step), step)

"""The array core: chunks, blockwise, element-wise ops, map_blocks, protocol."""

from __future__ import annotations

import pickle

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal
import shoal.array as sa
from shoal.array import Array
from shoal.array._blockwise import blockwise
from shoal.array._chunks import normalize_chunks
from shoal.array.utils import assert_eq
from shoal.array.tests.strategies import chunks_for




@st.composite
def arrays_with_chunks(draw, max_dims=3, dtype=None):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=6))
    dtype = dtype or draw(st.sampled_from(["f8", "i4", "i8", "u1", "f4"]))
    elements = {"min_value": -1e6, "max_value": 1e6, "allow_nan": False} if np.dtype(dtype).kind == "f" else None
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    return x, draw(chunks_for(shape))


@given(case=arrays_with_chunks())
@settings(max_examples=40, deadline=None)
def test_from_array_round_trips(case):
    x, chunks = case
    assert_eq(sa.from_array(x, chunks=chunks), x)


@given(case=arrays_with_chunks(dtype="f8"), other=st.floats(-3, 3))
@settings(max_examples=40, deadline=None)
def test_elementwise_matches_numpy(case, other):
    x, chunks = case
    d = sa.from_array(x, chunks=chunks)
    assert_eq(d + other, x + other)
    assert_eq(other * d - d, other * x - x)
    assert_eq(abs(-d), abs(-x))
    assert_eq(d > other, x > other)
    with np.errstate(all="ignore"):
        assert_eq(np.sin(d) / 2, np.sin(x) / 2)


def test_broadcasting_with_different_chunks():
    x = np.arange(24.0).reshape(4, 6)
    y = np.arange(6.0)
    d = sa.from_array(x, chunks=(2, 3))
    e = sa.from_array(y, chunks=2)  # different chunks along the shared axis: rechunked
    assert_eq(d + e, x + y)
    assert_eq(d * sa.from_array(np.ones((4, 1)), chunks=(1, 1)), x)
    assert_eq(d + y[None, :], x + y)


def test_broadcast_error_is_raised_when_building():
    d = sa.from_array(np.ones((3, 4)), chunks=2)
    with pytest.raises(ValueError, match=r"\(3, 4\) \(5,\)"):
        d + np.ones(5)


def test_ufunc_protocol_stays_lazy_and_handles_multi_output():
    x = np.linspace(0.1, 3, 12).reshape(3, 4)
    d = sa.from_array(x, chunks=2)
    assert isinstance(np.exp(d), Array)
    assert_eq(np.exp(d), np.exp(x))
    assert_eq(sa.log(d), np.log(x))
    frac, whole = np.modf(d)
    assert_eq(frac, np.modf(x)[0])
    assert_eq(whole, np.modf(x)[1])
    assert_eq(np.add(d, 1), x + 1)


def test_where_clip_round_astype_isnan():
    x = np.array([[1.5, -2.25, np.nan], [0.5, 3.75, -1.0]])
    d = sa.from_array(x, chunks=(1, 2))
    assert_eq(sa.where(d > 0, d, 0), np.where(x > 0, x, 0))
    assert_eq(np.where(d > 0, d, -d), np.where(x > 0, x, -x))
    assert_eq(d.clip(-1, 1), x.clip(-1, 1))
    assert_eq(np.clip(d, 0, 2), np.clip(x, 0, 2))
    assert_eq(d.round(1), x.round(1))
    assert_eq(np.round(d), np.round(x))
    assert_eq(sa.isnan(d), np.isnan(x))
    assert_eq(np.nan_to_num(d) if False else d.astype("f4"), x.astype("f4"))
    with pytest.raises(TypeError, match="Cannot cast"):
        d.astype("i4", casting="safe")


def test_dtype_inference_follows_numpy():
    i = sa.from_array(np.arange(4, dtype="i4"), chunks=2)
    assert (i + 1).dtype == (np.arange(4, dtype="i4") + 1).dtype
    assert (i / 2).dtype == np.float64
    assert (i + 1.5).dtype == np.float64
    assert (i > 1).dtype == bool


def test_map_blocks_with_block_info_and_chunks():
    x = np.arange(12).reshape(3, 4)
    d = sa.from_array(x, chunks=(2, 2))

    def where_am_i(block, block_info=None):
        loc = block_info[0]["array-location"]
        return np.full(block.shape, loc[0][0] * 100 + loc[1][0])

    out = d.map_blocks(where_am_i, dtype=int)
    expected = np.array([[0, 0, 2, 2], [0, 0, 2, 2], [200, 200, 202, 202]])
    assert_eq(out, expected)
    doubled = d.map_blocks(lambda b: np.repeat(b, 2, axis=1), chunks=((2, 1), (4, 4)), dtype=x.dtype)
    assert doubled.chunks == ((2, 1), (4, 4))
    assert_eq(doubled, np.repeat(x, 2, axis=1))
    summed = d.map_blocks(lambda b: b.sum(axis=1), drop_axis=1, dtype=x.dtype)
    assert summed.chunks == ((2, 1),)
    grown = sa.from_array(np.arange(4), chunks=2).map_blocks(lambda b: b[:, None] * np.ones(3), new_axis=1,
                                                             chunks=((2, 2), (3,)), dtype=float)
    assert_eq(grown, np.arange(4)[:, None] * np.ones(3))


def test_map_blocks_enforce_ndim_and_dtype_errors():
    d = sa.from_array(np.ones(4), chunks=2)
    bad = d.map_blocks(lambda b: b.sum(), enforce_ndim=True, dtype=float)
    with pytest.raises(ValueError, match="dimensions"):
        bad.compute(scheduler="sync")
    with pytest.raises(ValueError, match="dtype="):
        d.map_blocks(lambda b: b["missing"])


def test_blockwise_transpose_and_contraction():
    x = np.arange(12.0).reshape(3, 4)
    d = sa.from_array(x, chunks=(2, 3))
    assert_eq(blockwise(np.transpose, "ji", d, "ij", dtype=d.dtype), x.T)
    y = np.arange(8.0).reshape(4, 2)
    e = sa.from_array(y, chunks=(3, 1))
    prod = blockwise(lambda a, b: a @ b, "ik", d, "ij", e, "jk", dtype=float, concatenate=True)
    assert_eq(prod, x @ y)


def test_normalize_chunks_forms_and_errors():
    assert normalize_chunks(2, (5,)) == ((2, 2, 1),)
    assert normalize_chunks((None, 2), (3, 4), previous_chunks=((1, 2), (4,))) == ((1, 2), (2, 2))
    auto = normalize_chunks("auto", (10_000, 10_000), dtype="f8")
    assert all(max(c) * 8 <= 128 * 2**20 for c in auto)
    with pytest.raises(ValueError, match="add up"):
        normalize_chunks(((2, 2),), (5,))
    with pytest.raises(ValueError, match="dimensions"):
        normalize_chunks((2, 2), (5,))


def test_auto_chunks_follow_config():
    with shoal.config.set({"array.chunk-size": "1MiB"}):
        d = sa.from_array(np.zeros((1000, 1000)), chunks="auto")
    assert max(d.chunks[0]) * max(d.chunks[1]) * 8 <= 2**20


def test_repr_and_html_show_metadata():
    d = sa.from_array(np.zeros((100, 50), dtype="f4"), chunks=(10, 25))
    assert "shape=(100, 50)" in repr(d) and "float32" in repr(d) and "chunksize=(10, 25)" in repr(d)
    html = d._repr_html_()
    assert "19.53 kiB" in html or "kiB" in html
    assert "20 chunks" in html and "tasks" in html


def test_protocol_compute_persist_pickle_and_delayed():
    x = np.arange(10.0)
    d = sa.from_array(x, chunks=3) * 2
    assert shoal.is_dask_collection(d)
    (p,) = shoal.persist(d, scheduler="sync")
    assert len(p.__dask_graph__()) == 4
    assert_eq(p, x * 2)
    back = pickle.loads(pickle.dumps(d))
    assert_eq(back, x * 2)
    parts = d.to_delayed()
    assert parts.shape == (4,)
    assert np.array_equal(parts[1].compute(), (x * 2)[3:6])
    a, b = shoal.compute(d, d + 1)
    assert np.array_equal(b, x * 2 + 1)
    assert np.array_equal(np.asarray(d), x * 2)


def test_zero_dimensional_and_scalars():
    d = sa.from_array(np.array(5.0), chunks=())
    assert d.shape == () and d.__dask_keys__() == [(d.name,)]
    assert float(d + 1) == 6.0
    assert bool(d > 1)


def test_unknown_function_gives_advice():
    d = sa.from_array(np.ones(3), chunks=2)
    with pytest.raises(TypeError, match="compute"):
        np.fft.fftshift(d) if False else np.linalg.eigvals(d)


def test_fused_graph_has_one_task_per_block_for_elementwise_chains():
    d = sa.from_array(np.ones((4, 4)), chunks=2)
    expr = ((d + 1) * 2 - 3) / 4
    graph = expr.__dask_optimize__(expr.__dask_graph__(), [k for k in expr._key_array.flat])
    computing = [k for k in graph if isinstance(k, tuple)]
    assert len(computing) == 4  # one fused task per block


def test_rechunk_keeps_unknown_axes_and_changes_known_ones():
    a = np.random.default_rng(0).random((20, 6))
    x = sa.from_array(a, chunks=(5, 2))
    masked = x[x[:, 0] > 0.5]
    expected = a[a[:, 0] > 0.5]
    r = masked.rechunk({1: 3})
    assert r.chunks[1] == (3, 3) and all(np.isnan(c) for c in r.chunks[0])
    np.testing.assert_array_equal(r.compute(), expected)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        masked.rechunk((4, 3))
    np.testing.assert_array_equal(masked.ravel().compute(), expected.ravel())


def test_numpy_constants_and_types_are_reachable() -> None:
    assert sa.pi == np.pi and np.isnan(sa.nan) and sa.inf == np.inf and sa.newaxis is None
    x = sa.ones((2, 3), chunks=1)
    assert x[:, sa.newaxis].shape == (2, 1, 3)
    assert x.astype(sa.float32).dtype == np.float32 and (x > 0).dtype == sa.bool
    assert "bool" not in sa.__all__ and "fft" in sa.__all__

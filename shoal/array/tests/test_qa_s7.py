"""Compatibility fixes found by QA against Dask: byte-size chunks, ``__array__``, ``store``, error types.

Expected values marked "Dask:" were read from Dask 2026.8 on the same calls; the rules they follow are
encoded as properties so that the tests do not need Dask.
"""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import normalize_chunks
from shoal.array.utils import assert_eq
from shoal.utils import parse_bytes

# -- chunks given in bytes --------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "expected"), [
    # Dask: 362 * 362 * 8 bytes is the largest square block within 1 MiB.
    (lambda: sa.ones((1000, 1000), chunks="1MiB"), ((362, 362, 276), (362, 362, 276))),
    (lambda: sa.from_array(np.ones((1000, 1000)), chunks="1MiB"), ((362, 362, 276), (362, 362, 276))),
    (lambda: sa.zeros((1000, 1000), chunks="1MiB", dtype="u1"), ((1000,), (1000,))),
    # A byte size beside a fixed axis sizes the remaining axes for the whole block: 131 * 1000 * 8 <= 1 MiB.
    (lambda: sa.ones((1000, 1000), chunks=("1MiB", -1)), ((131,) * 7 + (83,), (1000,))),
    (lambda: sa.ones((1000, 1000), chunks={0: "1MiB"}), ((131,) * 7 + (83,), (1000,))),
    (lambda: sa.ones((1000, 1000), chunks=(100, 100)).rechunk({0: "1MiB"}),
     ((1000,), (100,) * 10)),
])
def test_byte_chunks_size_the_whole_block(make, expected):
    x = make()
    assert x.chunks == expected
    assert_eq(x, np.asarray(x.compute()))


def test_byte_chunks_on_a_large_array_do_not_make_one_huge_block():
    # The QA report: "100MB" on 40000**2 float64 gave one 12.8 GB block. Dask: blocks of 3535**2.
    x = sa.ones((40000, 40000), chunks="100MB")
    assert x.chunksize == (3535, 3535)
    assert x.numblocks == (12, 12)
    assert math.prod(x.chunksize) * 8 <= 100_000_000


def test_rechunk_to_a_byte_size_keeps_blocks_within_it():
    x = sa.ones((1000, 1000), chunks=(10, 1000))
    y = x.rechunk("1MiB")
    assert max(map(max, y.chunks[0:1])) * max(y.chunks[1]) * 8 <= 2**20
    assert_eq(y, np.ones((1000, 1000)))


def test_normalize_chunks_byte_examples_from_dask():
    assert normalize_chunks("1kiB", shape=(2000,), dtype="float32") == ((256,) * 7 + (208,),)
    assert normalize_chunks("1 kB", shape=(1000,), dtype="f8") == ((125,) * 8,)
    assert normalize_chunks(("1kiB", 5), shape=(100, 100), dtype="f8") == ((25,) * 4, (5,) * 20)
    # A limit smaller than one element still gives blocks of one element.
    assert normalize_chunks("1B", shape=(3,), dtype="f8") == ((1, 1, 1),)
    # Axes shorter than the square side are taken whole, and the others grow to use the bytes.
    assert normalize_chunks("1MiB", shape=(4, 100_000), dtype="f8") == ((4,), (32768, 32768, 32768, 1696))
    # Zero-length axes cost nothing (Dask divides by zero here).
    assert normalize_chunks("1kiB", shape=(100, 0), dtype="f8") == ((100,), (0,))
    # A byte size given both ways must agree.
    assert normalize_chunks("1MiB", shape=(1000, 1000), dtype="f8", limit=2**20) == normalize_chunks(
        "1MiB", shape=(1000, 1000), dtype="f8")


def test_byte_chunks_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="one size in bytes"):
        sa.ones((1000, 1000), chunks=("1MiB", "2MiB"))
    with pytest.raises(ValueError, match="one size in bytes"):
        normalize_chunks("1MiB", shape=(10,), dtype="f8", limit="2MiB")
    with pytest.raises(ValueError, match="neither 'auto' nor a byte size"):
        normalize_chunks("big", shape=(10,), dtype="f8")
    with pytest.raises(ValueError, match="needs the dtype"):
        normalize_chunks("1MiB", shape=(10,))


_DTYPES = ["u1", "i2", "f4", "f8", "c16", "S3", "M8[ns]"]
_LIMITS = ["1B", "7B", "100B", "1kiB", "4096B", "100kB", "1MiB", "1MB", "128MiB", "1GB"]


@st.composite
def _byte_chunk_cases(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3, 7, 100, 333, 1000, 4096, 10_007, 40_000]),
                                min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    limit = draw(st.sampled_from(_LIMITS))
    # Per axis: the byte size, a whole axis (-1) or a fixed length; at least one byte size.
    specs = draw(st.lists(st.one_of(st.just(limit), st.just(-1), st.integers(1, 50)), min_size=ndim,
                          max_size=ndim))
    if not any(isinstance(s, str) for s in specs):
        specs[draw(st.integers(0, ndim - 1))] = limit
    chunks = limit if draw(st.booleans()) else tuple(specs)
    return shape, dtype, limit, chunks


@given(case=_byte_chunk_cases())
@settings(max_examples=300, deadline=None)
def test_byte_chunks_follow_dasks_rule(case):
    """Dask's rule: byte-sized axes share one length ``side`` (rounded down, at least 1) that fills the
    limit given the fixed axes; an axis shorter than ``side`` is taken whole. Checked: blocks fit the limit
    whenever one element times the fixed lengths does, sized axes share one length, and one more element
    along them would not fit (the blocks are as large as the rule allows)."""
    shape, dtype, limit, chunks = case
    out = normalize_chunks(chunks, shape=shape, dtype=dtype)
    assert tuple(map(sum, out)) == shape
    specs = (chunks,) * len(shape) if isinstance(chunks, str) else chunks
    nbytes = parse_bytes(limit)
    itemsize = dtype.itemsize
    fixed = math.prod(max(1, min(s, n) if n != -1 else s) for s, n in zip(shape, specs, strict=True)
                      if not isinstance(n, str))
    fixed_budget = math.prod(max(1, n if n != -1 else s) for s, n in zip(shape, specs, strict=True)
                             if not isinstance(n, str))
    sized = [i for i, n in enumerate(specs) if isinstance(n, str)]
    block_elements = math.prod(max(out[i][0], 1) for i in sized) * fixed
    if itemsize * fixed_budget <= nbytes:
        assert block_elements * itemsize <= nbytes
    partial = [i for i in sized if len(out[i]) > 1]  # axes cut, not taken whole
    lengths = {out[i][0] for i in partial}
    assert len(lengths) <= 1, f"sized axes got different lengths {out}"
    if lengths:
        side = lengths.pop()
        # Whole axes are those shorter than the side the rule found for them.
        whole = [i for i in sized if i not in partial]
        assert all(shape[i] <= side + 1 for i in whole) or side == 1
        whole_elements = math.prod(max(shape[i], 1) for i in whole)
        # One more element along every cut axis would overflow the limit (up to float rounding).
        grown = (side + 1) ** len(partial) * whole_elements * fixed_budget * itemsize
        assert grown >= nbytes * (1 - 1e-9)


# -- __array__ and 0-d results --------------------------------------------------------------------------


def test_numpy_conversion_of_a_lazy_scalar_gives_a_0d_array():
    total = sa.ones(4, chunks=2).sum()
    for converted in (np.array(total), np.asarray(total)):
        assert type(converted) is np.ndarray
        assert converted.shape == () and converted.dtype == np.float64 and converted == 4.0
    as_f4 = np.asarray(total, dtype="f4")
    assert as_f4.dtype == np.float32 and as_f4.shape == ()


def test_array_protocol_honours_dtype_and_copy():
    source = np.arange(6.0)
    x = sa.from_array(source, chunks=-1)
    copied = np.array(x)  # copy=True: NumPy copies no further, so the result must not share the source
    assert not np.shares_memory(copied, source)
    copied[0] = 99
    assert source[0] == 0
    np.testing.assert_array_equal(np.asarray(x, dtype="i4"), source.astype("i4"))
    np.testing.assert_array_equal(np.asarray(x, copy=False), source)
    with pytest.raises(ValueError, match="needs a copy"):
        np.asarray(x, dtype="i4", copy=False)
    masked = sa.from_array(np.ma.masked_array([1.0, 2.0], mask=[0, 1]), chunks=1, asarray=False)
    assert type(np.asarray(masked)) is np.ndarray


def test_reductions_and_integer_indexing_compute_to_numpy_scalars():
    # Dask: full reductions and integer indexing compute to NumPy scalars.
    for scalar in (sa.ones(4).sum(), sa.ones(4)[0], sa.ones(4).sum() + 1, sa.ones((3, 3)).mean(),
                   sa.from_array(np.float64(3)) + 1):
        assert isinstance(scalar.compute(), np.generic)


# -- store ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compute", [True, False])
@pytest.mark.parametrize("wrap", [lambda a: a, lambda a: [a], lambda a: (a,)])
def test_store_one_source_returns_the_array(compute, wrap):
    # Dask: one source (bare or in a one-item list) with return_stored=True gives the Array itself.
    x = sa.arange(8, chunks=3) * 3
    target = np.zeros(8, dtype=int)
    stored = sa.store(wrap(x), wrap(target), return_stored=True, compute=compute)
    assert isinstance(stored, sa.Array)
    assert_eq(stored, np.arange(8) * 3)
    np.testing.assert_array_equal(target, np.arange(8) * 3)
    method = x.store(np.zeros(8, dtype=int), return_stored=True, compute=compute)
    assert isinstance(method, sa.Array)


def test_store_several_sources_returns_a_tuple():
    x, y = sa.arange(4, chunks=2), sa.ones(3, chunks=2)
    a, b = np.zeros(4, dtype=int), np.zeros(3)
    stored = sa.store([x, y], [a, b], return_stored=True)
    assert isinstance(stored, tuple) and len(stored) == 2
    assert_eq(stored[0], np.arange(4))
    assert_eq(stored[1], np.ones(3))


# -- error types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda x: x + 300,
    lambda x: 300 + x,
    lambda x: x - 300,
    lambda x: x + (-1),
    lambda x: np.add(x, 300),
])
def test_out_of_range_python_int_raises_numpys_overflowerror(build):
    numpy_x = np.ones(3, dtype="u1")
    with pytest.raises(OverflowError) as from_numpy:
        build(numpy_x)
    with pytest.raises(OverflowError, match="out of bounds for uint8") as from_shoal:
        build(sa.ones(3, chunks=2, dtype="u1"))
    assert type(from_shoal.value) is type(from_numpy.value)
    assert "astype" in str(from_shoal.value)  # says how to fix it


def test_in_range_and_wider_operands_still_work_like_numpy():
    x = np.ones(3, dtype="u1")
    for build in (lambda a: a + 3.5, lambda a: a + np.int64(300), lambda a: a < 300, lambda a: a == 300,
                  lambda a: a + 200):
        assert_eq(build(sa.from_array(x, chunks=2)), build(x))

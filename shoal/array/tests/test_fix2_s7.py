"""Compatibility fixes: 0-d results as Dask gives them, and "auto" chunks sized from the previous chunks.

Expected values marked "Dask:" were read from Dask 2026.8 on the same calls; the rules they follow are
encoded as properties so that the tests do not need Dask.
"""

from __future__ import annotations

import math
import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal
import shoal.array as sa
from shoal.array import normalize_chunks
from shoal.array.tests.strategies import chunks_for

# -- 0-d results --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: sa.from_array(np.float64(3)), np.array(3.0)),
    (lambda: sa.ones(()), np.array(1.0)),
    (lambda: sa.asarray(np.array(5)), np.array(5)),
    (lambda: sa.full((), 3), np.array(3)),
    (lambda: sa.zeros_like(sa.ones(4, chunks=2).sum()), np.array(0.0)),
    (lambda: sa.ones(4, chunks=2)[:1].reshape(()), np.array(1.0)),
])
def test_zero_d_arrays_built_from_zero_d_blocks_stay_arrays(make, expected):
    # Dask: the one block as it is, a 0-d ndarray (its finalize does not turn it into a scalar).
    out = make().compute()
    assert type(out) is np.ndarray
    assert out.shape == () and out.dtype == expected.dtype and out == expected


_DTYPES = ["f8", "f4", "i8", "i4", "u2", "bool"]
_REDUCTIONS = ["sum", "prod", "mean", "min", "max", "any", "all", "argmin", "argmax", "var", "std", "ptp",
               "count_nonzero", "median"]
_NAN_REDUCTIONS = ["nansum", "nanprod", "nanmean", "nanmin", "nanmax", "nanargmin", "nanargmax", "nanvar",
                   "nanstd", "nanmedian"]


@st.composite
def _arrays(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from(_DTYPES))
    values = np.random.default_rng(draw(st.integers(0, 2**16))).integers(-5, 6, size=shape)
    a = values.astype(dtype)
    if a.dtype.kind == "f" and draw(st.booleans()):
        a.flat[0] = np.nan
    return a, draw(chunks_for(shape))


@settings(max_examples=60, deadline=None)
@given(_arrays(), st.sampled_from(_REDUCTIONS + _NAN_REDUCTIONS))
def test_full_reductions_give_what_numpy_gives(case, name):
    # NumPy's full reductions return NumPy scalars, and so do Dask's: same type, same value.
    a, chunks = case
    x = sa.from_array(a, chunks=chunks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            expected = getattr(np, name)(a)
        except ValueError:  # all-NaN slice for nanargmin/nanargmax
            with pytest.raises(ValueError):
                getattr(sa, name)(x).compute()
            return
        out = getattr(sa, name)(x).compute()
    assert type(out) is type(expected), (name, a.dtype, type(out), type(expected))
    np.testing.assert_allclose(out, expected, rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("name", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_one_quantile_of_everything_is_a_scalar(name):
    a = np.arange(11.0)
    q = 0.5 if "quantile" in name else 50
    out = getattr(sa, name)(sa.from_array(a, chunks=3), q).compute()
    expected = getattr(np, name)(a, q)
    assert type(out) is type(expected) is np.float64 and out == expected


def test_moment_and_masked_variance_end_in_scalars():
    a = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    out = sa.moment(sa.from_array(a, chunks=2), 3).compute()
    assert type(out) is np.float64
    assert math.isclose(out, np.mean((a - a.mean()) ** 3))
    m = np.ma.masked_array(a, mask=[0, 1, 0, 0, 1])
    var = sa.from_array(m, chunks=2).var().compute()
    assert type(var) is type(np.ma.var(m)) and math.isclose(var, np.ma.var(m))


def test_tensordot_to_a_scalar_is_a_scalar():
    # Dask: tensordot (and so inner and dot) of two vectors gives a NumPy scalar; np.tensordot gives a 0-d
    # array, np.inner a scalar.
    a, b = np.arange(7.0), np.arange(7.0) ** 2
    x, y = sa.from_array(a, chunks=3), sa.from_array(b, chunks=2)
    for out, expected in [(sa.tensordot(x, y, axes=1).compute(), np.tensordot(a, b, axes=1)),
                          (sa.inner(x, y).compute(), np.inner(a, b)),
                          (sa.dot(x, y).compute(), np.dot(a, b))]:
        assert type(out) is np.float64 and out == expected
    m = np.arange(12.0).reshape(3, 4)
    out = sa.tensordot(sa.from_array(m, chunks=2), sa.from_array(m, chunks=2), axes=2).compute()
    assert type(out) is np.float64 and out == np.tensordot(m, m, axes=2)
    vec = sa.tensordot(sa.from_array(m, chunks=2), y[:4], axes=1).compute()
    np.testing.assert_allclose(vec, np.tensordot(m, b[:4], axes=1))


# -- "auto" chunks from previous chunks ----------------------------------------------------------------

_DASK_CASES = [
    # (chunks, shape, dtype, limit, previous) -> Dask's normalize_chunks result
    ("1MiB", (1000, 1000), "f8", None, ((100,) * 10,) * 2, ((300, 300, 300, 100),) * 2),
    ("auto", (1000, 1000), "f8", None, ((100,) * 10,) * 2, ((1000,),) * 2),
    ("auto", (10000, 10000), "f8", None, ((100,) * 100,) * 2, ((4000, 4000, 2000),) * 2),
    ("auto", (10000, 10000), "f8", "1MiB", ((5000,) * 2,) * 2, ((362,) * 27 + (226,),) * 2),
    (("auto", -1), (10000, 10000), "f8", "1MiB", ((100,) * 100, (10,) * 1000), ((13,) * 769 + (3,), (10000,))),
    ("auto", (10,), "f8", 40, ((3, 3, 4),), ((3, 3, 4),)),
    ("auto", (10,), "f8", 20, ((3, 3, 4),), ((2,) * 5,)),
    ("auto", (10,), "f8", 20, ((1,) * 10,), ((2,) * 5,)),
    ("auto", (0, 10), "f8", 40, ((0,), (5, 5)), ((0,), (5, 5))),
    # A zarr/h5py chunk shape is cut out of the shape first.
    ("1MiB", (1000, 1000), "f8", None, (100, 100), ((300, 300, 300, 100),) * 2),
]


@pytest.mark.parametrize(("chunks", "shape", "dtype", "limit", "previous", "expected"), _DASK_CASES)
def test_auto_chunks_from_previous_chunks_as_dask(chunks, shape, dtype, limit, previous, expected):
    assert normalize_chunks(chunks, shape, limit=limit, dtype=dtype, previous_chunks=previous) == expected


def test_rechunk_and_chunked_sources_use_the_previous_chunks():
    # Dask: 100x100 blocks rechunked to 1 MiB join three by three (300-blocks), keeping the old boundaries;
    # without previous chunks the square block is 362.
    x = sa.ones((1000, 1000), chunks=100)
    y = x.rechunk("1MiB")
    assert y.chunks == ((300, 300, 300, 100),) * 2
    np.testing.assert_array_equal(y.compute(), np.ones((1000, 1000)))
    with shoal.config.set({"array.chunk-size": "1MiB"}):
        assert x.rechunk("auto").chunks == ((300, 300, 300, 100),) * 2
    assert sa.from_array(np.ones((1000, 1000)), chunks="1MiB").chunks == ((362, 362, 276),) * 2

    class Chunked:  # what h5py datasets and zarr arrays show: a chunk shape
        shape, dtype, ndim, chunks = (1000, 1000), np.dtype("f8"), 2, (100, 100)

        def __getitem__(self, key):
            return np.ones(self.shape)[key]

    z = sa.from_array(Chunked(), chunks="1MiB")
    assert z.chunks == ((300, 300, 300, 100),) * 2
    np.testing.assert_array_equal(z.compute(), np.ones((1000, 1000)))


def _boundaries(lengths):
    return set(np.cumsum(lengths).tolist())


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_auto_chunks_keep_or_join_the_previous_blocks(data):
    # The rule, encoded: blocks grow by joining whole previous blocks (old boundaries stay boundaries) unless
    # a dimension is taken whole or the previous blocks are too big, which gives uniform blocks; and a limit
    # equal to the previous block size keeps the previous chunks as they are.
    shape = tuple(data.draw(st.lists(st.integers(1, 400), min_size=1, max_size=3)))
    previous = data.draw(chunks_for(shape, max_cuts=12))
    itemsize = data.draw(st.sampled_from([1, 4, 8]))
    limit = data.draw(st.integers(1, 2**16))
    out = normalize_chunks("auto", shape, limit=limit, dtype=f"i{itemsize}" if itemsize != 1 else "u1",
                           previous_chunks=previous)
    assert tuple(map(sum, out)) == shape
    for new, old, length in zip(out, previous, shape, strict=True):
        uniform = len(set(new[:-1])) <= 1 and new[-1] <= new[0]
        assert new == (length,) or uniform or _boundaries(new) <= _boundaries(old), (new, old)
    blocks = [max(c) for c in previous]
    if all(len(set(c[:-1])) <= 1 and c[-1] <= c[0] for c in previous):
        same = normalize_chunks("auto", shape, limit=math.prod(blocks) * itemsize,
                                dtype=f"i{itemsize}" if itemsize != 1 else "u1", previous_chunks=previous)
        assert same == previous


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_rechunk_auto_keeps_the_values(data):
    shape = tuple(data.draw(st.lists(st.integers(1, 30), min_size=1, max_size=3)))
    a = np.arange(math.prod(shape), dtype="f8").reshape(shape)
    x = sa.from_array(a, chunks=data.draw(chunks_for(shape)))
    y = x.rechunk(data.draw(st.sampled_from(["auto", "64B", "1kiB", "100B"])))
    assert tuple(map(sum, y.chunks)) == shape
    np.testing.assert_array_equal(y.compute(), a)

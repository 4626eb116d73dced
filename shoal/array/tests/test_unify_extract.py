"""unify_chunks, reshape_blockwise, extract and atop, against NumPy and Dask's documented results."""

from __future__ import annotations

import math
import warnings

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal._exceptions import PerformanceWarning
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq


# -- unify_chunks -----------------------------------------------------------------------------------------------
def test_unify_chunks_docstring_examples():
    x = sa.ones(10, chunks=((5, 2, 3),))
    y = sa.ones(10, chunks=((2, 3, 5),))
    chunkss, arrays = sa.unify_chunks(x, "i", y, "i")
    assert chunkss == {"i": (2, 3, 2, 3)}
    assert [a.chunks for a in arrays] == [((2, 3, 2, 3),)] * 2
    x = sa.ones((100, 10), chunks=(20, 5))
    y = sa.ones((10, 100), chunks=(4, 50))
    chunkss, arrays = sa.unify_chunks(x, "ij", y, "jk", "constant", None)
    assert chunkss == {"i": (20,) * 5, "j": (4, 1, 3, 2), "k": (50, 50)}
    assert arrays[2] == "constant"
    assert arrays[0].chunks == ((20,) * 5, (4, 1, 3, 2)) and arrays[1].chunks == ((4, 1, 3, 2), (50, 50))
    assert_eq(arrays[0], np.ones((100, 10)))
    assert sa.unify_chunks(0, None) == ({}, [0])
    assert sa.unify_chunks() == ({}, [])


def test_unify_chunks_broadcasts_length_one_and_converts_numpy():
    chunkss, (a, b) = sa.unify_chunks(sa.ones((1, 3), chunks=1), "ij", np.arange(12.0).reshape(4, 3), "ij")
    assert chunkss["j"] == (1, 1, 1)
    assert a.chunks == ((1,), (1, 1, 1))
    assert isinstance(b, sa.Array)
    assert_eq(b, np.arange(12.0).reshape(4, 3), check_chunks=False)


def test_unify_chunks_errors_and_warning():
    with pytest.raises(ValueError, match="index 'i' do not line up"):
        sa.unify_chunks(sa.ones(4, chunks=2), "i", sa.ones(5, chunks=2), "i")
    with pytest.raises(ValueError, match="has 2 letters but the array has 1"):
        sa.unify_chunks(sa.ones(4, chunks=2), "ij")
    with pytest.raises(TypeError, match="pairs"):
        sa.unify_chunks(sa.ones(4, chunks=2))
    with pytest.warns(PerformanceWarning, match="from 20 to 400"):
        sa.unify_chunks(sa.ones((20, 20), chunks=(20, 1)), "ij", sa.ones((20, 20), chunks=(1, 20)), "ij")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sa.unify_chunks(sa.ones((20, 20), chunks=(20, 1)), "ij", sa.ones((20, 20), chunks=(1, 20)), "ij", warn=False)


# -- reshape_blockwise ----------------------------------------------------------------------------------------------
def blockwise_reference(values, in_chunks, out_chunks):
    """Dask's documented meaning: input block k (C order) reshaped becomes output block k (C order)."""
    def blocks(chunks):
        edges = [np.cumsum([0, *c]) for c in chunks]
        return [tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, index, strict=True)) for index in np.ndindex(
            *(len(c) for c in chunks))]

    out = np.empty(tuple(sum(c) for c in out_chunks), dtype=values.dtype)
    for src, dst in zip(blocks(in_chunks), blocks(out_chunks), strict=True):
        out[dst] = values[src].reshape(out[dst].shape)
    return out


def test_reshape_blockwise_docstring_example():
    x = sa.from_array(np.arange(27).reshape(3, 3, 3), chunks=(3, 2, (2, 1)))
    y = sa.reshape_blockwise(x, (3, 9))
    assert y.chunks == ((3,), (4, 2, 2, 1))
    assert_eq(y, np.array([[0, 1, 3, 4, 2, 5, 6, 7, 8], [9, 10, 12, 13, 11, 14, 15, 16, 17],
                           [18, 19, 21, 22, 20, 23, 24, 25, 26]]))
    back = sa.reshape_blockwise(y, (3, 3, 3), chunks=x.chunks)
    assert back.chunks == ((3,), (2, 1), (2, 1))
    assert_eq(back, np.arange(27).reshape(3, 3, 3))
    flat = sa.reshape_blockwise(x, -1)
    assert flat.chunks == ((12, 6, 6, 3),)  # as Dask
    assert sa.reshape_blockwise(x, (9, 3)).chunks == ((6, 3), (2, 1))


@st.composite
def merges(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    cuts = sorted(draw(st.sets(st.integers(1, len(shape) - 1), max_size=len(shape) - 1))) if len(shape) > 1 else []
    spans = list(zip([0, *cuts], [*cuts, len(shape)], strict=True))
    new_shape = tuple(math.prod(shape[a:b]) for a, b in spans)
    return np.arange(math.prod(shape)).reshape(shape), draw(chunks_for(shape)), new_shape


@given(case=merges())
@settings(max_examples=60, deadline=None)
def test_reshape_blockwise_merge_and_back(case):
    values, chunks, new_shape = case
    x = sa.from_array(values, chunks=chunks)
    y = sa.reshape_blockwise(x, new_shape)
    assert_eq(y, blockwise_reference(values, x.chunks, y.chunks))
    assert_eq(sa.reshape_blockwise(y, values.shape, chunks=x.chunks), values)


def test_reshape_blockwise_split_and_unit_axes():
    values = np.arange(24).reshape(6, 4)
    x = sa.from_array(values, chunks=(3, 2))
    y = sa.reshape_blockwise(x, (2, 3, 4), chunks=((1, 1), (3,), (2, 2)))
    assert_eq(y, blockwise_reference(values, x.chunks, y.chunks))
    assert_eq(sa.reshape_blockwise(x, (6, 1, 4)), values.reshape(6, 1, 4))
    assert_eq(sa.reshape_blockwise(sa.from_array(values.reshape(6, 1, 4), chunks=2), (6, 4)), values)
    assert sa.reshape_blockwise(x, (6, 4)) is x


def test_reshape_blockwise_errors():
    x = sa.from_array(np.arange(24).reshape(6, 4), chunks=(3, 2))
    with pytest.raises(NotImplementedError, match="merge whole axes or split one axis"):
        sa.reshape_blockwise(x, (4, 6))
    with pytest.raises(ValueError, match="needs chunks="):
        sa.reshape_blockwise(x, (2, 3, 4))
    with pytest.raises(ValueError, match="Each old block must become whole new blocks"):
        sa.reshape_blockwise(x, (2, 3, 4), chunks=((2,), (3,), (2, 2)))
    with pytest.raises(ValueError, match="not allowed when the number of dimensions shrinks"):
        sa.reshape_blockwise(x, (24,), chunks=((24,),))
    with pytest.raises(ValueError, match="total size must stay the same"):
        sa.reshape_blockwise(x, (5, 5))
    with pytest.raises(ValueError, match="at most one -1"):
        sa.reshape_blockwise(x, (-1, -1))


# -- extract ----------------------------------------------------------------------------------------------------
@given(values=hnp.arrays("i8", hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.integers(-3, 3)),
       data=st.data())
@settings(max_examples=50, deadline=None)
def test_extract_matches_numpy(values, data):
    chunks = data.draw(chunks_for(values.shape))
    x = sa.from_array(values, chunks=chunks)
    condition = values % 2 == 0
    out = sa.extract(sa.from_array(condition, chunks=data.draw(chunks_for(values.shape))), x)
    assert all(math.isnan(c) for c in out.chunks[0])
    np.testing.assert_array_equal(out.compute(), np.extract(condition, values))
    shorter = condition.ravel()[: data.draw(st.integers(0, values.size))]
    np.testing.assert_array_equal(sa.extract(shorter, x).compute(), np.extract(shorter, values))
    np.testing.assert_array_equal(sa.extract(values, x).compute(), np.extract(values, values))  # nonzero is true


def test_extract_dispatch_and_errors():
    x = sa.from_array(np.arange(6), chunks=4)
    out = np.extract(x > 2, x)
    assert isinstance(out, sa.Array)
    np.testing.assert_array_equal(out.compute(), [3, 4, 5])
    with pytest.raises(ValueError, match="condition has 7 elements but arr only 6"):
        sa.extract(np.ones(7, dtype=bool), x)


# -- atop -------------------------------------------------------------------------------------------------------
def test_atop_warns_like_dask_and_runs_blockwise():
    x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    with pytest.warns(UserWarning, match="moved to shoal.array.blockwise") as record:
        y = sa.atop(np.add, "ij", x, "ij", x, "ij")
    assert issubclass(record[0].category, FutureWarning)  # a deprecation, as well as Dask's UserWarning
    assert record[0].filename == __file__
    assert_eq(y, np.arange(12).reshape(3, 4) * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_eq(sa.atop(np.transpose, "ji", x, "ij"), np.arange(12).reshape(3, 4).T)

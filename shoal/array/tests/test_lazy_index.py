"""Reading with lazy indices (2-d+ integer arrays, beside other arrays, in vindex) and scalar booleans beside
array indices: every result compared with NumPy on the same input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(got: Any, expected: np.ndarray) -> None:
    assert tuple(got.shape) == expected.shape
    result = got.compute()
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


@st.composite
def arrays_and_lazy_index(draw: Any, index_ndim: tuple[int, int] = (2, 3)) -> Any:
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    a = np.arange(int(np.prod(shape))).reshape(shape)
    axis = draw(st.integers(0, len(shape) - 1))
    ishape = tuple(draw(st.lists(st.integers(0, 4), min_size=index_ndim[0], max_size=index_ndim[1])))
    n = shape[axis]
    index = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ishape)),
                                     max_size=int(np.prod(ishape))))).astype(np.intp).reshape(ishape)
    x = sa.from_array(a, chunks=draw(chunks_for(shape)))
    lazy = sa.from_array(index, chunks=draw(chunks_for(ishape)))
    return a, x, axis, index, lazy


@given(case=arrays_and_lazy_index())
@SETTINGS
def test_multi_dimensional_lazy_integer_index_matches_numpy(case: Any) -> None:
    a, x, axis, index, lazy = case
    key = (slice(None),) * axis
    _check(x[key + (lazy,)], a[key + (index,)])


@given(case=arrays_and_lazy_index(index_ndim=(0, 1)), data=st.data())
@SETTINGS
def test_lazy_index_beside_other_arrays_matches_numpy(case: Any, data: Any) -> None:
    a, x, axis, index, lazy = case
    assume(a.ndim >= 2)
    other = data.draw(st.sampled_from([a for a in range(a.ndim) if a != axis]))
    n = a.shape[other]
    partner = np.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)), dtype=np.intp)
    partner = partner[:, None] if data.draw(st.booleans()) else partner
    try:
        np.broadcast_shapes(index.shape, partner.shape)
    except ValueError:
        assume(False)
    lazy_partner = data.draw(st.booleans())
    key: list[Any] = [slice(None)] * a.ndim
    key[axis], key[other] = index, partner
    expected = a[tuple(key)]
    key[axis] = lazy
    if lazy_partner:
        key[other] = sa.from_array(partner, chunks=data.draw(chunks_for(partner.shape)))
    _check(x[tuple(key)], expected)
    # vindex: the broadcast dimensions first, then the axes not indexed.
    np_key = [slice(None)] * a.ndim
    np_key[axis], np_key[other] = index, partner
    _check(x.vindex[tuple(key)], x.vindex[tuple(np_key)].compute())


def test_lazy_index_examples_match_numpy() -> None:
    a = np.arange(60).reshape(3, 4, 5)
    x = sa.from_array(a, chunks=(2, 3, 2))
    i2 = np.array([[0, -1], [2, 1], [1, 1]])
    lazy = sa.from_array(i2, chunks=(2, 1))
    _check(x[lazy], a[i2])
    _check(x[1, lazy], a[1, i2])
    _check(x[:, 2, lazy], a[:, 2, i2])
    _check(x[lazy, :, 0], a[i2, :, 0])  # the int and the array are not next to each other: array dims first
    _check(x[sa.from_array(np.array(2)), [1, 3]], a[2, [1, 3]])
    _check(x[sa.from_array(np.array([0, 2])), :, sa.from_array(np.array([4, -1]))], a[[0, 2], :, [4, -1]])
    _check(x.vindex[sa.from_array(np.array([0, 2])), 1, [4, 0]], a[[0, 2], 1, [4, 0]])
    _check(x.vindex[sa.from_array(np.array([[0], [2]]))], a[np.array([[0], [2]])])
    _check(x[sa.from_array(np.zeros((0, 2), dtype=int))], a[np.zeros((0, 2), dtype=int)])


def test_lazy_index_is_not_computed_when_the_graph_is_built() -> None:
    def refuse(block: np.ndarray) -> np.ndarray:
        raise RuntimeError("the index was computed")

    x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    lazy = sa.from_array(np.array([[0, 1]]), chunks=1).map_blocks(refuse, dtype=np.intp)
    y = x[lazy, [1, 2]]  # builds the graph only
    z = x.vindex[lazy]
    assert y.shape == (1, 2) and z.shape == (1, 2, 4)
    with pytest.raises(RuntimeError, match="the index was computed"):
        y.compute()


def test_lazy_index_out_of_bounds_raises_when_computed() -> None:
    x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    y = x[sa.from_array(np.array([[0, 3]]), chunks=1)]
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        y.compute()
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 1 with size 4"):
        x[[0, 1], sa.from_array(np.array([1, -5]))].compute()


def test_lazy_index_refusals_name_the_fix() -> None:
    x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
    mask = sa.from_array(np.array([True, False, True]))
    with pytest.raises(NotImplementedError, match=r"boolean mask beside other array indices.*nonzero"):
        x[mask, [0, 1]]
    with pytest.raises(NotImplementedError, match="boolean mask beside"):
        x.vindex[mask, [0, 1]]
    with pytest.raises(IndexError, match="shape mismatch"):
        x[sa.from_array(np.array([0, 1])), [0, 1, 2]]
    # Dask fails on a lazy block index too; the block numbers are needed to build the graph.
    with pytest.raises(NotImplementedError, match=r"x.blocks\[np.asarray\(index\)\]"):
        x.blocks[sa.from_array(np.array([1]))]
    unknown = x[x > 5]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        x[unknown[:2] * 0, sa.from_array(np.array([0, 1]))]


SCALAR_BOOL_WITH_ARRAYS = [
    (True, [0, 2]), (True, slice(None), [0, 1]), (slice(None), True, [0, 2]), ([0, 1], slice(None), True),
    (Ellipsis, True, [3, 0]), (True, [[0], [2]], [1, 2]), (np.True_, [1]), (np.array(True), [0, 1], 2),
    (False, [[0]]), (True, False, [0]), ([1, 0], True, [0, 3]), (True, np.array([True, False, True]), 1),
]


@pytest.mark.parametrize("key", SCALAR_BOOL_WITH_ARRAYS, ids=repr)
def test_scalar_boolean_beside_arrays_matches_numpy(key: Any) -> None:
    a = np.arange(12).reshape(3, 4)
    x = sa.from_array(a, chunks=(2, 3))
    _check(x[key], a[key])


def test_scalar_boolean_beside_arrays_errors_as_numpy() -> None:
    a = np.arange(12).reshape(3, 4)
    x = sa.from_array(a, chunks=2)
    with pytest.raises(IndexError, match="shape mismatch"):
        a[False, [0, 1]]
    with pytest.raises(IndexError, match="shape mismatch"):
        x[False, [0, 1]]


@pytest.mark.parametrize("key", [(True, [0, 2]), ([0, 2], True, [1, 3]), (True, [[0], [1]], [2, 3]),
                                 (False, [[0]])], ids=repr)
def test_vindex_scalar_boolean_is_a_zero_d_mask(key: Any) -> None:
    # vindex reads points: the broadcast dimensions come first; each key here gives NumPy's layout as well.
    a = np.arange(12).reshape(3, 4)
    x = sa.from_array(a, chunks=(2, 3))
    _check(x.vindex[key], a[key])

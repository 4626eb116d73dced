"""Assignment cases beyond one NumPy array: lazy integer indices and masks (alone or in a tuple), several
integer arrays (points), multi-d masks of some axes, None and scalar booleans beside arrays. Every result is
compared with NumPy's ``a[key] = value`` on the same input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _numpy(a: np.ndarray, key: Any, value: Any) -> np.ndarray:
    out = a.copy()
    out[key] = value
    return out


def _assigned(a: np.ndarray, chunks: Any, key: Any, value: Any) -> np.ndarray:
    x = sa.from_array(a.copy(), chunks=chunks)
    before = x + 0  # built before the assignment: must keep reading the old values
    x[key] = value
    np.testing.assert_array_equal(before.compute(), a)
    return x.compute()


@st.composite
def arrays_with_chunks(draw: Any, max_dims: int = 3) -> Any:
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=max_dims)))
    return np.arange(int(np.prod(shape))).reshape(shape), draw(chunks_for(shape))


def _value(draw: Any, target: tuple[int, ...], lazy: bool) -> Any:
    """A value that broadcasts to ``target``: a scalar, the full shape or its last axes, NumPy or lazy."""
    kind = draw(st.sampled_from(["scalar", "full", "trailing"]))
    if kind == "scalar":
        return -7
    shape = target if kind == "full" else target[1:]
    value = -np.arange(1, int(np.prod(shape)) + 1).reshape(shape)
    return sa.from_array(value, chunks=draw(chunks_for(shape))) if lazy else value


# -- lazy integer indices and masks ---------------------------------------------------------
@given(case=arrays_with_chunks(), data=st.data())
@SETTINGS
def test_lazy_integer_index_assignment_matches_numpy(case: Any, data: Any) -> None:
    a, chunks = case
    axis = data.draw(st.integers(0, a.ndim - 1))
    n = a.shape[axis]
    index = np.asarray(data.draw(st.lists(st.integers(-n, n - 1), max_size=5)), dtype=np.intp)
    if data.draw(st.booleans()):
        index = np.unique(index % n)  # NumPy leaves the order of writes to a repeated position open
    key: list[Any] = []
    for d in range(axis):  # integers and slices before the lazy axis
        key.append(data.draw(st.sampled_from([slice(None), slice(None, None, -2), 0, a.shape[d] - 1])))
    target = np.empty(a.shape)[tuple(key) + (index,)].shape
    value = _value(data.draw, target, data.draw(st.booleans()))
    expected = _numpy(a, tuple(key) + (index,), value if not isinstance(value, sa.Array) else value.compute())
    lazy = sa.from_array(index, chunks=data.draw(chunks_for(index.shape)))
    np.testing.assert_array_equal(_assigned(a, chunks, tuple(key) + (lazy,), value), expected)


@given(case=arrays_with_chunks(), data=st.data())
@SETTINGS
def test_lazy_mask_of_one_axis_with_values_matches_numpy(case: Any, data: Any) -> None:
    a, chunks = case
    axis = data.draw(st.integers(0, a.ndim - 1))
    mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=a.shape[axis], max_size=a.shape[axis])))
    key = (slice(None),) * axis + (mask,)
    target = a[key].shape
    value = _value(data.draw, target, data.draw(st.booleans()))
    expected = _numpy(a, key, value if not isinstance(value, sa.Array) else value.compute())
    lazy_key = (slice(None),) * axis + (sa.from_array(mask, chunks=data.draw(chunks_for(mask.shape))),)
    np.testing.assert_array_equal(_assigned(a, chunks, lazy_key if axis else lazy_key[0], value), expected)


def test_lazy_index_assignment_examples() -> None:
    a = np.arange(24).reshape(4, 6)
    lazy = sa.from_array(np.array([0, 3, -1]), chunks=2)
    for key, lazy_key, value in [
        ([0, 3, -1], lazy, 99),
        ((1, [0, 5]), (1, sa.from_array(np.array([0, 5]))), [7, 8]),
        (([0, 2], 1), (sa.from_array(np.array([0, 2])), 1), [7, 8]),
        (([0, 0], slice(1, None, 2)), (sa.from_array(np.array([0, 0])), slice(1, None, 2)), [[1, 2, 3], [4, 5, 6]]),
        (2, sa.from_array(np.array(2)), np.arange(6)),  # a lazy 0-d position
        ((slice(None), np.array([True, False] * 3)), (slice(None), sa.from_array(np.array([True, False] * 3))), 0),
    ]:
        np.testing.assert_array_equal(_assigned(a, (3, 4), lazy_key, value), _numpy(a, key, value))


def test_lazy_index_assignment_errors_when_computed() -> None:
    x = sa.from_array(np.arange(10), chunks=3)
    x[sa.from_array(np.array([1, 10]))] = 0
    with pytest.raises(IndexError, match="index 10 is out of bounds for axis 0 with size 10"):
        x.compute()
    y = sa.from_array(np.arange(10), chunks=3)
    y[y > 6] = np.arange(4)  # three true values
    with pytest.raises(ValueError, match="cannot assign 4 input values to the 3 output values"):
        y.compute()
    z = sa.from_array(np.arange(10), chunks=3)
    with pytest.raises(ValueError, match=r"shape mismatch: value array of shape \(3,\)"):
        z[sa.from_array(np.array([1, 2]))] = [1, 2, 3]


def test_lazy_index_assignment_refusals_name_the_fix() -> None:
    x = sa.from_array(np.arange(24).reshape(4, 6), chunks=2)
    with pytest.raises(NotImplementedError, match="one lazy array beside integers and slices"):
        x[sa.from_array(np.array([0])), [1]] = 1
    with pytest.raises(NotImplementedError, match=r"where\(mask, value, x\)"):
        x[x > 5] = np.arange(18)  # a 2-d lazy mask: the count before each block is unknown (Dask refuses)
    with pytest.raises(NotImplementedError, match="beside a lazy"):
        x[None, sa.from_array(np.array([0]))] = 1


# -- several integer arrays, masks of some axes ---------------------------------------------
@given(case=arrays_with_chunks(), data=st.data())
@SETTINGS
def test_point_assignment_matches_numpy(case: Any, data: Any) -> None:
    a, chunks = case
    key: list[Any] = []
    for n in a.shape:
        kind = data.draw(st.sampled_from(["array", "array", "slice", "int"]))
        if kind == "array":
            key.append(np.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))))
        elif kind == "slice":
            key.append(data.draw(st.sampled_from([slice(None), slice(None, None, -1), slice(1, None, 2)])))
        else:
            key.append(data.draw(st.integers(-n, n - 1)))
    arrays = [k for k in key if isinstance(k, np.ndarray)]
    assume(arrays)
    if len(arrays) > 1 and data.draw(st.booleans()):
        at = next(n for n, k in enumerate(key) if k is arrays[0])
        key[at] = arrays[0][:, None]  # an outer product of points
    try:
        target = a[tuple(key)].shape
    except IndexError:
        assume(False)
    value = _value(data.draw, target, data.draw(st.booleans()))
    plain = value if not isinstance(value, sa.Array) else value.compute()
    points = np.broadcast_arrays(*[k for k in key if isinstance(k, np.ndarray)])
    flat = np.stack([p.ravel() for p in points]) if points else np.zeros((0, 0))
    assume(np.ndim(plain) == 0 or len({tuple(c) for c in flat.T}) == flat.shape[1])  # repeats: order open
    np.testing.assert_array_equal(_assigned(a, chunks, tuple(key), value), _numpy(a, tuple(key), plain))


def test_point_assignment_examples() -> None:
    a = np.arange(60).reshape(3, 4, 5)
    for key, value in [
        (([0, 1], [2, 3]), 5),
        (([0, 1], [2, 3]), [[5] * 5, [6] * 5]),
        (([0, 2], slice(None), [4, 0]), np.arange(8).reshape(2, 4)),  # apart: the points' axis first
        ((slice(None), [0, 3], [4, 0]), np.arange(6).reshape(3, 2)),  # together: in place
        ((np.array([[0, 2], [1, 1]]),), -1),
        ((1, np.array([[0, 3]]), slice(1, 4)), np.arange(3)),
        (([0, 0], [1, 1], [2, 2]), [8, 9]),  # the same point twice: the last value wins, as in NumPy
        ((np.arange(12).reshape(3, 4) % 5 == 0,), -3),  # a 2-d mask over the first two axes
        ((slice(None), np.arange(20).reshape(4, 5) % 3 == 0), np.arange(21).reshape(3, 7)),
        ((np.array([True, False, True]), slice(None), [1, 3]), np.arange(16).reshape(2, 4, 2)[..., 0]),
    ]:
        np.testing.assert_array_equal(_assigned(a, (2, 3, 2), key, value), _numpy(a, key, value))


def test_point_assignment_errors_as_numpy() -> None:
    x = sa.from_array(np.zeros((3, 4)), chunks=2)
    with pytest.raises(IndexError, match="shape mismatch: indexing arrays could not be broadcast"):
        x[[0, 1], [0, 1, 2]] = 1
    with pytest.raises(ValueError, match="could not be broadcast"):
        x[[0, 1], [0, 1]] = [1, 2, 3]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 3], [0, 1]] = 1


# -- None and scalar booleans ---------------------------------------------------------------
RELAID = [
    ((None, [0, 1]), 1.0), ((None, [0, 1]), np.arange(12.0).reshape(1, 2, 6)),
    ((slice(None), None, [1, 4]), np.arange(8.0).reshape(4, 1, 2)),
    (([0, 1], None, [2, 3]), np.arange(2.0).reshape(2, 1)),  # None between the arrays: points first
    ((None, 1, [0, 5]), [[3.0, 4.0]]),
    ((True, [0, 2]), np.arange(12.0).reshape(2, 6)), ((True, slice(None), [0, 1]), np.arange(8.0).reshape(2, 4)),
    ((slice(None), True, [5, 0]), np.arange(8.0).reshape(4, 2)), (True, 5.0), ((True, 1), np.arange(6.0)),
    ((False, [0]), 5.0), ((False,), np.arange(6.0)), ((np.True_, None, 2), [1.0]),
    ((True, np.array([True, False, True, False])), np.arange(12.0).reshape(2, 6)),
]


@pytest.mark.parametrize(("key", "value"), RELAID, ids=repr)
def test_none_and_scalar_booleans_beside_arrays_match_numpy(key: Any, value: Any) -> None:
    a = np.arange(24.0).reshape(4, 6)
    expected = _numpy(a, key, value)
    np.testing.assert_array_equal(_assigned(a, (3, 4), key, value), expected)
    if np.ndim(value):
        lazy_value = sa.from_array(np.asarray(value), chunks=1)
        np.testing.assert_array_equal(_assigned(a, (3, 4), key, lazy_value), expected)


def test_none_and_scalar_booleans_errors_as_numpy() -> None:
    x = sa.from_array(np.zeros((4, 6)), chunks=(3, 4))
    with pytest.raises(IndexError, match="shape mismatch: indexing arrays could not be broadcast"):
        x[False, [0, 2]] = 1
    with pytest.raises(ValueError, match="could not be broadcast"):
        x[False, [0]] = [1, 2]
    with pytest.raises(ValueError, match="could not be broadcast"):
        x[None, [0, 1]] = np.ones((3, 6))

"""Random chains of operations from different families, compared with NumPy step by step.

Each example draws an array and a chunking, then applies a random chain of operations (element-wise,
slicing, transpose, reshape, reductions, concatenate, rechunk, cumulative sums, assignment) to the shoal
array and to the NumPy array alike; the shoal result must match NumPy after every step, including its
chunk metadata (``assert_eq`` checks every block).
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from hypothesis import HealthCheck, given, settings

import shoal.array as sa
from shoal.array.utils import assert_eq
from shoal.array.tests.strategies import chunks_for




@st.composite
def arrays_with_chunks(draw, min_dims=1, max_dims=3):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=6))
    # Small integers held as floats: sums in any order are exact, so the tree reductions compare exactly.
    values = draw(hnp.arrays(np.int8, shape, elements=st.integers(-9, 9))).astype("f8")
    return values, draw(chunks_for(shape))


# -- the operations: each takes (draw, numpy array, shoal array) and returns the pair transformed ---------------


def op_elementwise(draw, xn, x):
    kind = draw(st.sampled_from(["affine", "square", "abs", "sin", "self", "row", "compare", "where", "clip"]))
    if kind == "affine":
        return xn * 3 - 2, x * 3 - 2
    if kind == "square":
        return xn**2, x**2
    if kind == "abs":
        return np.abs(xn), abs(x)
    if kind == "sin":
        return np.sin(xn), np.sin(x)
    if kind == "self":
        return xn + xn[..., ::-1], x + x[..., ::-1]
    if kind == "row":
        row = np.arange(xn.shape[-1], dtype="f8") - 1
        return xn - row, x - sa.from_array(row, chunks=max(1, xn.shape[-1] // 2))
    if kind == "compare":
        return (xn > 0).astype("f8"), (x > 0).astype("f8")
    if kind == "where":
        return np.where(xn > 1, xn, -xn), sa.where(x > 1, x, -x)
    return np.clip(xn, -3, 4), sa.clip(x, -3, 4)


def op_slice(draw, xn, x):
    index = []
    for length in xn.shape:
        start = draw(st.integers(-length, length) | st.none())
        stop = draw(st.integers(-length - 1, length + 1) | st.none())
        step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
        index.append(slice(start, stop, step))
    if draw(st.booleans()):
        axis = draw(st.integers(0, xn.ndim - 1))
        if xn.shape[axis]:
            index[axis] = draw(st.integers(-xn.shape[axis], xn.shape[axis] - 1))
    index = tuple(index)
    return xn[index], x[index]


def op_transpose(draw, xn, x):
    axes = draw(st.permutations(range(xn.ndim)))
    return xn.transpose(axes), x.transpose(axes)


def op_reshape(draw, xn, x):
    size = xn.size
    if draw(st.booleans()) or size == 0:
        return xn.ravel(), x.ravel()
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    shape = (first, -1)
    if draw(st.booleans()):
        rest = size // first
        second = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        shape = (first, second, -1)
    return xn.reshape(shape), x.reshape(shape)


def op_reduce(draw, xn, x):
    name = draw(st.sampled_from(["sum", "mean", "max", "min", "prod", "any", "std", "var", "argmax", "argmin"]))
    axis = draw(st.integers(-xn.ndim, xn.ndim - 1))
    if name in ("argmax", "argmin"):
        out = getattr(np, name)(xn, axis=axis), getattr(sa, name)(x, axis=axis, split_every=2)
    else:
        keepdims = draw(st.booleans())
        if name == "prod":  # keep products of up to 6 small integers exact and finite
            xn, x = np.sign(xn), sa.sign(x)
        out = (getattr(np, name)(xn, axis=axis, keepdims=keepdims),
               getattr(sa, name)(x, axis=axis, keepdims=keepdims, split_every=draw(st.sampled_from([None, 2, 3]))))
    return out[0].astype("f8"), out[1].astype("f8")


def op_cumulative(draw, xn, x):
    axis = draw(st.integers(0, xn.ndim - 1))
    return np.cumsum(xn, axis=axis), sa.cumsum(x, axis=axis)


def op_concatenate(draw, xn, x):
    axis = draw(st.integers(0, xn.ndim - 1))
    if draw(st.booleans()):
        return np.concatenate([xn, xn * 2], axis=axis), sa.concatenate([x, x * 2], axis=axis)
    return np.stack([xn, -xn], axis=axis), sa.stack([x, -x], axis=axis)


def op_rechunk(draw, xn, x):
    return xn, x.rechunk(draw(chunks_for(xn.shape)))


def op_assign(draw, xn, x):
    xn, x = xn.copy(), x.copy()
    if draw(st.booleans()):
        xn[xn > 2] = 0
        x[x > 2] = 0
    else:
        xn[..., ::2] = 5
        x[..., ::2] = 5
    return xn, x


def op_flip_roll(draw, xn, x):
    axis = draw(st.integers(0, xn.ndim - 1))
    if draw(st.booleans()):
        return np.flip(xn, axis), sa.flip(x, axis)
    shift = draw(st.integers(-7, 7))
    return np.roll(xn, shift, axis=axis), sa.roll(x, shift, axis=axis)


OPERATIONS = [op_elementwise, op_slice, op_transpose, op_reshape, op_reduce, op_cumulative, op_concatenate,
              op_rechunk, op_assign, op_flip_roll]


@given(case=arrays_with_chunks(), data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_chains_match_numpy(case, data):
    xn, chunks = case
    x = sa.from_array(xn, chunks=chunks)
    steps = data.draw(st.integers(1, 5), label="steps")
    for _ in range(steps):
        if xn.ndim == 0 or xn.size == 0 or xn.size > 2000:
            break
        op = data.draw(st.sampled_from(OPERATIONS), label="operation")
        xn, x = op(data.draw, xn, x)
        assert x.shape == xn.shape, (op.__name__, x.shape, xn.shape)
        assert x.dtype == xn.dtype, (op.__name__, x.dtype, xn.dtype)
    assert_eq(x, xn, atol=1e-9)  # sin() steps are inexact; everything else is exact


@given(case=arrays_with_chunks(min_dims=2, max_dims=2), data=st.data())
@settings(max_examples=25, deadline=None)
def test_matrix_products_of_transformed_arrays(case, data):
    xn, chunks = case
    x = sa.from_array(xn, chunks=chunks)
    xn, x = op_elementwise(data.draw, xn, x)
    xn, x = xn[::-1], x[::-1]
    # sin() values are not exact, so sums in another order differ in the last bits.
    assert_eq(x @ x.T, xn @ xn.T, atol=1e-9)
    assert_eq(sa.tensordot(x, x, axes=([0, 1], [0, 1])), np.tensordot(xn, xn, axes=([0, 1], [0, 1])), atol=1e-9)
    assert_eq(sa.einsum("ij,ij->j", x, x), np.einsum("ij,ij->j", xn, xn), atol=1e-9)


@given(case=arrays_with_chunks(), data=st.data())
@settings(max_examples=25, deadline=None)
def test_boolean_mask_then_compute_chunk_sizes_then_more(case, data):
    xn, chunks = case
    x = sa.from_array(xn, chunks=chunks)
    threshold = data.draw(st.integers(-9, 9))
    yn, y = xn[xn > threshold], x[x > threshold]
    assert math.isnan(y.shape[0])
    assert_eq(y.sum(), yn.sum())
    assert_eq(y * 2 + 1, yn * 2 + 1)
    # Flattening routines accept a 1-d array of unknown length as it is.
    assert_eq(sa.unique(y), np.unique(yn))
    assert_eq(y.ravel(), yn)
    y.compute_chunk_sizes()
    assert y.shape == yn.shape
    if yn.size:
        assert_eq(y[::-1][: yn.size // 2 + 1], yn[::-1][: yn.size // 2 + 1])
        assert_eq(sa.concatenate([y, y]).rechunk(max(1, yn.size // 2)).cumsum(), np.concatenate([yn, yn]).cumsum())

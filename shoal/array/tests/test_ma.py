"""shoal.array.ma and reductions over masked blocks, against numpy.ma on the same input."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for

FAST = settings(max_examples=30, deadline=None)


# -- strategies and comparison ---------------------------------------------------------------------------------
def _elements(dtype):
    if np.dtype(dtype).kind in "iu":
        return st.integers(-5, 5)
    return st.integers(-40, 40).map(lambda v: v / 4)  # quarter-integers: sums are exact in any order


@st.composite
def masked_cases(draw, dtypes=("f8", "f4", "i8", "i4"), max_dims=3, max_side=6):
    """(data, mask, chunks): a random mask, often with one block masked entirely."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    data = draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))
    mask = draw(hnp.arrays(np.bool_, shape))
    chunks = draw(chunks_for(shape))
    if draw(st.booleans()):  # hide one whole block: it must not poison min/max or count in sums
        where = []
        for c in chunks:
            i = draw(st.integers(0, len(c) - 1))
            where.append(slice(sum(c[:i]), sum(c[:i + 1])))
        mask[tuple(where)] = True
    return data, mask, chunks


def _lazy(data, mask, chunks, fill_value=None):
    return sa.ma.masked_array(sa.from_array(data, chunks=chunks), mask=sa.from_array(mask, chunks=chunks),
                              fill_value=fill_value)


def assert_ma_eq(got, expected, check_fill=True, rtol=1e-12, check_dtype=True):
    """Same mask, same data where unmasked, same dtype (and fill_value); ``got`` may be a shoal array."""
    if isinstance(got, sa.Array):
        lazy_dtype, lazy_shape = got.dtype, got.shape
        got = got.compute(scheduler="sync")
        if expected is not np.ma.masked:
            assert lazy_dtype == np.asarray(got).dtype
            assert lazy_shape == np.shape(expected)
    if expected is np.ma.masked:
        assert got is np.ma.masked, got
        return
    assert got is not np.ma.masked, (got, expected)
    assert np.shape(got) == np.shape(expected)
    if check_dtype:
        assert np.asarray(got).dtype == np.asarray(expected).dtype, (np.asarray(got).dtype,
                                                                     np.asarray(expected).dtype)
    if isinstance(expected, np.ma.MaskedArray):
        assert isinstance(got, np.ma.MaskedArray), type(got)
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
        if check_fill:
            assert got.fill_value == expected.fill_value, (got.fill_value, expected.fill_value)
    keep = ~np.ma.getmaskarray(expected)
    left, right = np.ma.getdata(got)[keep], np.ma.getdata(expected)[keep]
    if right.dtype.kind in "fc":
        np.testing.assert_allclose(left, right, rtol=rtol, atol=0, equal_nan=True)
    else:
        np.testing.assert_array_equal(left, right)


# -- constructors and maskers ----------------------------------------------------------------------------------
@FAST
@given(case=masked_cases(), fill=st.sampled_from([None, 3]), lazy_mask=st.booleans())
def test_masked_array_matches_numpy(case, fill, lazy_mask):
    data, mask, chunks = case
    m = sa.from_array(mask, chunks=tuple(c[::-1] for c in chunks)) if lazy_mask else mask  # other chunks
    x = sa.ma.masked_array(sa.from_array(data, chunks=chunks), mask=m, fill_value=fill)
    assert isinstance(x._meta, np.ma.MaskedArray) and x._meta.size == 0
    assert_ma_eq(x, np.ma.masked_array(data, mask=mask, fill_value=fill))


def test_masked_array_options_and_inputs():
    data = np.arange(6.0).reshape(2, 3)
    assert_ma_eq(sa.ma.masked_array(data, mask=True), np.ma.masked_array(data, mask=True))
    assert_ma_eq(sa.ma.masked_array(data.tolist(), mask=[[0, 1, 0], [1, 0, 0]], dtype="f4"),
                 np.ma.masked_array(data, mask=[[0, 1, 0], [1, 0, 0]], dtype="f4"))
    source = np.ma.masked_array(data, mask=[[1, 0, 0], [0, 0, 1]], fill_value=-1.0)
    kept = sa.ma.masked_array(source, mask=[[0, 1, 0], [0, 0, 0]])  # masks of a NumPy masked array are kept
    assert_ma_eq(kept, np.ma.masked_array(source, mask=[[0, 1, 0], [0, 0, 0]]))
    dropped = sa.ma.masked_array(source, mask=[[0, 1, 0], [0, 0, 0]], keep_mask=False)
    assert_ma_eq(dropped, np.ma.masked_array(source, mask=[[0, 1, 0], [0, 0, 0]], keep_mask=False))
    x = sa.ma.masked_array(sa.from_array(data, chunks=1), mask=data > 2)
    assert "MaskedArray" in repr(x) and "MaskedArray" in x._repr_html_()


MASKERS = ["masked_equal", "masked_greater", "masked_greater_equal", "masked_less", "masked_less_equal",
           "masked_not_equal"]


@FAST
@given(case=masked_cases(), name=st.sampled_from(sorted(MASKERS)), value=st.integers(-3, 3))
def test_comparison_maskers(case, name, value):
    data, mask, chunks = case
    value = data.dtype.type(value)
    expected = getattr(np.ma, name)(np.ma.masked_array(data, mask=mask), value)
    assert_ma_eq(getattr(sa.ma, name)(_lazy(data, mask, chunks), value), expected)
    # plain NumPy input, plain shoal input
    assert_ma_eq(getattr(sa.ma, name)(data, value), getattr(np.ma, name)(data, value))
    assert_ma_eq(getattr(sa.ma, name)(sa.from_array(data, chunks=chunks), value), getattr(np.ma, name)(data, value))


@FAST
@given(case=masked_cases(), v1=st.integers(-4, 4), v2=st.integers(-4, 4))
def test_inside_outside_values(case, v1, v2):
    data, mask, chunks = case
    ref = np.ma.masked_array(data, mask=mask)
    x = _lazy(data, mask, chunks)
    assert_ma_eq(sa.ma.masked_inside(x, v1, v2), np.ma.masked_inside(ref, v1, v2))
    assert_ma_eq(sa.ma.masked_outside(x, v1, v2), np.ma.masked_outside(ref, v1, v2))
    value = data.dtype.type(v1 / 4 if data.dtype.kind == "f" else v1)
    assert_ma_eq(sa.ma.masked_values(x, value), np.ma.masked_values(ref, value))
    assert_ma_eq(sa.ma.masked_values(x, value, shrink=False), np.ma.masked_values(ref, value, shrink=False))


@FAST
@given(case=masked_cases(dtypes=("f8", "f4")), bad=st.data(), fill=st.sampled_from([None, -2.0]))
def test_invalid_values(case, bad, fill):
    data, mask, chunks = case
    specials = bad.draw(hnp.arrays(np.int8, data.shape, elements=st.integers(0, 3)))
    data = np.where(specials == 1, np.nan, np.where(specials == 2, np.inf, data)).astype(data.dtype)
    ref = np.ma.masked_array(data, mask=mask)
    assert_ma_eq(sa.ma.masked_invalid(_lazy(data, mask, chunks)), np.ma.masked_invalid(ref))
    fixed, expected = sa.ma.fix_invalid(_lazy(data, mask, chunks), fill_value=fill), np.ma.fix_invalid(ref,
                                                                                                      fill_value=fill)
    assert_ma_eq(fixed, expected)
    np.testing.assert_array_equal(fixed.compute().data[expected.mask], expected.data[expected.mask])


@FAST
@given(case=masked_cases(), kind=st.sampled_from(["shoal", "numpy", "masked", "scalar"]))
def test_masked_where(case, kind):
    data, mask, chunks = case
    cond = data > 0
    ref = np.ma.masked_array(data, mask=mask)
    if kind == "shoal":  # a shoal condition with other chunks
        condition = sa.from_array(cond, chunks=tuple(c[::-1] for c in chunks))
    elif kind == "masked":  # masked values of the condition count as true
        condition = np.ma.masked_array(cond, mask=np.roll(mask, 1))
    elif kind == "scalar":
        cond = condition = True
    else:
        condition = cond
    expected = np.ma.masked_where(condition, ref)
    assert_ma_eq(sa.ma.masked_where(condition, _lazy(data, mask, chunks)), expected)


# -- data, mask, fill value ------------------------------------------------------------------------------------
@FAST
@given(case=masked_cases())
def test_filled_getdata_getmaskarray_like(case):
    data, mask, chunks = case
    ref = np.ma.masked_array(data, mask=mask, fill_value=4)
    x = _lazy(data, mask, chunks, fill_value=4)
    assert_ma_eq(sa.ma.filled(x), np.ma.filled(ref))
    assert_ma_eq(sa.ma.filled(x, 1), np.ma.filled(ref, 1))
    assert_ma_eq(sa.ma.getdata(x), np.ma.getdata(ref))
    assert_ma_eq(sa.ma.getmaskarray(x), np.ma.getmaskarray(ref))
    assert_ma_eq(sa.ma.ones_like(x), np.ma.ones_like(ref))
    assert_ma_eq(sa.ma.zeros_like(x, dtype="f4"), np.ma.zeros_like(ref, dtype="f4"))
    empty = sa.ma.empty_like(x).compute()
    assert empty.shape == data.shape and empty.dtype == data.dtype
    np.testing.assert_array_equal(empty.mask, np.ma.getmaskarray(ref))


def test_set_fill_value_changes_the_array_in_place():
    ref = np.ma.masked_array(np.arange(5), mask=[0, 1, 0, 0, 1])
    x = sa.ma.masked_array(sa.from_array(ref.data, chunks=2), mask=ref.mask)
    y = x + 1  # built before: keeps the old fill value, as a Dask array would
    assert sa.ma.set_fill_value(x, 9) is None
    np.ma.set_fill_value(ref, 9)
    assert_ma_eq(x, ref)
    assert x.compute().fill_value == 9 and x._meta.fill_value == 9
    assert y.compute().fill_value == 999999
    sa.ma.set_fill_value(x, None)  # None restores the default, as in NumPy
    assert x.compute().fill_value == 999999
    plain = np.ma.masked_array([1.0, 2.0])
    sa.ma.set_fill_value(plain, 5.0)  # a NumPy masked array is set in place, as np.ma does
    assert plain.fill_value == 5.0


@FAST
@given(case=masked_cases(), data=st.data())
def test_count(case, data):
    values, mask, chunks = case
    ref = np.ma.masked_array(values, mask=mask)
    axis = data.draw(st.one_of(st.none(), st.integers(-values.ndim, values.ndim - 1)))
    keepdims = data.draw(st.booleans())
    got = sa.ma.count(_lazy(values, mask, chunks), axis=axis, keepdims=keepdims, split_every=2).compute()
    np.testing.assert_array_equal(got, np.ma.count(ref, axis=axis, keepdims=keepdims))


@FAST
@given(case=masked_cases(max_dims=2), data=st.data())
def test_average(case, data):
    values, mask, chunks = case
    ref = np.ma.masked_array(values, mask=mask)
    x = _lazy(values, mask, chunks)
    axis = data.draw(st.one_of(st.none(), st.integers(0, values.ndim - 1)))
    keepdims = data.draw(st.booleans())
    got = sa.ma.average(x, axis=axis, returned=True, keepdims=keepdims)
    # NumPy's returned=True with keepdims=True and no weights fails to broadcast its counts; spell it out.
    expected = (np.ma.average(ref, axis=axis, keepdims=keepdims),
                np.ma.count(ref, axis=axis, keepdims=keepdims).astype(float))
    # np.ma's mean of float32 with a mask is float64 (see test_reductions_match_numpy_ma)
    assert_ma_eq(got[0], expected[0], check_fill=False, rtol=1e-6, check_dtype=values.dtype != np.float32)
    np.testing.assert_allclose(got[1].compute(), expected[1])
    # weights of the data's shape (masked ones too), and weights along one axis
    w = data.draw(hnp.arrays(np.int64, values.shape, elements=st.integers(1, 3)))
    w_mask = data.draw(hnp.arrays(np.bool_, values.shape))
    weights = np.ma.masked_array(w, mask=w_mask)
    lazy_weights = sa.ma.masked_array(sa.from_array(w, chunks=1), mask=w_mask)  # other chunks than x
    got = sa.ma.average(x, axis=axis, weights=lazy_weights, returned=True, keepdims=keepdims)
    expected = np.ma.average(ref, axis=axis, weights=weights, returned=True, keepdims=keepdims)
    assert_ma_eq(got[0], expected[0], check_fill=False)
    assert_ma_eq(got[1], expected[1], check_fill=False)
    if axis is not None:
        along = data.draw(hnp.arrays(np.float64, (values.shape[axis],), elements=st.integers(0, 2)))
        got = sa.ma.average(x, axis=axis, weights=along, keepdims=keepdims)
        # NumPy's own reshaping of 1-d weights fails on some masked shapes; weights spelled out mean the same.
        full = np.broadcast_to(along.reshape([-1 if a == axis else 1 for a in range(values.ndim)]), values.shape)
        with np.errstate(all="ignore"):  # weights summing to 0 for a 0-d result: NumPy warns, both give NaN
            assert_ma_eq(got, np.ma.average(ref, axis=axis, weights=full, keepdims=keepdims), check_fill=False)


def test_average_weights_along_two_axes_in_the_callers_order():
    values = np.arange(24.0).reshape(2, 3, 4)
    ref = np.ma.masked_array(values, mask=values % 5 == 0)
    x = sa.ma.masked_array(sa.from_array(values, chunks=(1, 2, 3)), mask=values % 5 == 0)
    w = np.arange(1.0, 9.0).reshape(4, 2)  # axis 2, then axis 0
    assert_ma_eq(sa.ma.average(x, axis=(2, 0), weights=w), np.ma.average(ref, axis=(2, 0), weights=w),
                 check_fill=False)


def test_nonzero_and_where():
    values = np.array([[0, 3, 4], [5, 0, 7]])
    ref = np.ma.masked_array(values, mask=[[0, 0, 1], [0, 0, 0]])
    x = sa.ma.masked_array(sa.from_array(values, chunks=(1, 2)), mask=ref.mask)
    for got, expected in zip(sa.ma.nonzero(x), np.ma.nonzero(ref), strict=True):
        np.testing.assert_array_equal(got.compute(), expected)
    cond = np.ma.masked_array(values > 3, mask=[[0, 1, 0], [0, 0, 0]])
    assert_ma_eq(sa.ma.where(cond, x, -x), np.ma.where(cond, ref, -ref), check_fill=False)
    assert_ma_eq(sa.ma.where(x > 3, x, 0), np.ma.where(ref > 3, ref, 0), check_fill=False)
    assert_ma_eq(sa.ma.where(x > 3, np.ma.masked, x), np.ma.where(ref > 3, np.ma.masked, ref), check_fill=False)
    with pytest.raises(ValueError, match="both 'x' and 'y'"):
        sa.ma.where(x > 3, x)


# -- reductions and element-wise operations on masked blocks ---------------------------------------------------
REDUCTIONS = ["sum", "mean", "std", "var", "min", "max", "prod", "argmin", "argmax"]


@settings(max_examples=40, deadline=None)
@given(case=masked_cases(), name=st.sampled_from(REDUCTIONS), data=st.data())
def test_reductions_match_numpy_ma(case, name, data):
    values, mask, chunks = case
    if name == "prod":
        values = np.sign(values).astype(values.dtype) * (1 + (np.abs(values) > 2))  # small factors: exact
    ref = np.ma.masked_array(values, mask=mask)
    x = _lazy(values, mask, chunks)
    ndim = values.ndim
    if name.startswith("arg"):
        axis, kwargs = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))), {}
    else:
        axis = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                                   st.lists(st.integers(0, ndim - 1), unique=True, min_size=1).map(tuple)))
        kwargs = {"keepdims": data.draw(st.booleans())}
    if name in ("std", "var"):
        kwargs["ddof"] = data.draw(st.sampled_from([0, 1]))
    split_every = data.draw(st.sampled_from([None, 2]))
    expected = getattr(ref, name)(axis=axis, **kwargs)
    got = getattr(x, name)(axis=axis, split_every=split_every, **kwargs)
    # np.ma's mean, var and std of float32 with a mask compute in float64 (plain float32 without one);
    # shoal keeps NumPy's float32, as np.mean does.
    float32_moment = values.dtype == np.float32 and name in ("mean", "std", "var")
    assert_ma_eq(got, expected, check_fill=False, rtol=1e-5 if values.dtype == np.float32 else 1e-10,
                 check_dtype=not float32_moment)
    # the same blocks through from_array of a NumPy masked array, and NumPy's function on the shoal array
    if name in ("sum", "min", "max", "mean"):
        plain = sa.from_array(ref, chunks=chunks)
        assert_ma_eq(getattr(np, name)(plain, axis=axis, **kwargs), expected, check_fill=False,
                     rtol=1e-5 if values.dtype == np.float32 else 1e-10, check_dtype=not float32_moment)


@FAST
@given(case=masked_cases(), data=st.data())
def test_cumsum_cumprod(case, data):
    values, mask, chunks = case
    ref = np.ma.masked_array(values, mask=mask)
    x = _lazy(values, mask, chunks)
    axis = data.draw(st.one_of(st.none(), st.integers(-values.ndim, values.ndim - 1)))
    assert_ma_eq(x.cumsum(axis=axis), ref.cumsum(axis=axis), check_fill=False)
    small = np.sign(values).astype(values.dtype)
    assert_ma_eq(_lazy(small, mask, chunks).cumprod(axis=axis), np.ma.masked_array(small, mask=mask).cumprod(axis),
                 check_fill=False)


def test_all_masked_block_does_not_poison_min_max():
    values = np.array([5.0, 1.0, 9.0, -3.0, 4.0, 7.0])
    mask = np.array([False, False, True, True, False, False])  # block (2, 3) is all masked
    ref = np.ma.masked_array(values, mask=mask)
    x = sa.ma.masked_array(sa.from_array(values, chunks=2), mask=mask)
    for name in ("min", "max", "sum", "mean", "var", "argmin", "argmax"):
        assert_ma_eq(getattr(x, name)(split_every=2), getattr(ref, name)(), check_fill=False)
    everything = sa.ma.masked_array(sa.from_array(values, chunks=2), mask=True)
    for name in ("min", "max", "sum", "mean", "std"):
        assert getattr(everything, name)().compute() is np.ma.masked


@FAST
@given(case=masked_cases(dtypes=("f8", "i8")), other=st.data())
def test_elementwise_keeps_masks(case, other):
    values, mask, chunks = case
    mask2 = other.draw(hnp.arrays(np.bool_, values.shape))
    ref, ref2 = np.ma.masked_array(values, mask=mask, fill_value=6), np.ma.masked_array(values[::-1], mask=mask2)
    x = _lazy(values, mask, chunks, fill_value=6)
    y = sa.ma.masked_array(sa.from_array(values[::-1], chunks=chunks), mask=mask2)
    assert_ma_eq(x + y, ref + ref2, check_fill=False)
    assert_ma_eq(x * 2 - 1, ref * 2 - 1)
    assert_ma_eq(np.exp(x / 8), np.exp(ref / 8))
    assert_ma_eq(abs(x) > 2, abs(ref) > 2)
    assert_ma_eq(x[::-1], ref[::-1])
    assert_ma_eq(x.T, ref.T)
    # blocks that must be cut and joined again: rechunk, operands of other chunks, ravel
    other_chunks = tuple(c[::-1] for c in chunks)
    assert_ma_eq(x.rechunk(other_chunks), ref)
    z = sa.ma.masked_array(sa.from_array(values[::-1], chunks=other_chunks), mask=mask2)
    assert_ma_eq(x - z, ref - ref2, check_fill=False)
    assert_ma_eq(x.ravel(), ref.ravel())


# -- errors ----------------------------------------------------------------------------------------------------
def test_bad_input_gets_clear_errors():
    x = sa.ma.masked_array(sa.from_array(np.arange(6.0), chunks=4), mask=False)
    with pytest.raises(ValueError, match="scalar value.*masked_where"):
        sa.ma.masked_equal(x, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="compute"):
        sa.ma.masked_greater(x, x.sum())
    with pytest.raises(IndexError, match="Inconsistent shape"):
        sa.ma.masked_where(np.array([True, False]), x)
    with pytest.raises(np.ma.MaskError, match="data shape is"):
        sa.ma.masked_array(np.arange(6), mask=[True, False])
    with pytest.raises(TypeError, match="fill_value 'abc'.*float64"):
        sa.ma.masked_array(np.arange(6.0), fill_value="abc")
    with pytest.raises(TypeError, match="unsupported arguments.*ndmin"):
        sa.ma.masked_array(np.arange(6.0), ndmin=2)
    with pytest.raises(TypeError, match="Axis must be specified"):
        sa.ma.average(x, weights=np.ones(3))
    with pytest.raises(ValueError, match="Shape of weights"):
        sa.ma.average(x.reshape(2, 3), axis=1, weights=np.ones(2))
    assert math.isclose(float(sa.ma.average(x.reshape(2, 3), axis=1, weights=np.ones(3))[0]), 1.0)


def test_namespace_mirrors_dask_array_ma():
    dask_names = {"average", "count", "empty_like", "filled", "fix_invalid", "getdata", "getmaskarray",
                  "masked_array", "masked_equal", "masked_greater", "masked_greater_equal", "masked_inside",
                  "masked_invalid", "masked_less", "masked_less_equal", "masked_not_equal", "masked_outside",
                  "masked_values", "masked_where", "nonzero", "ones_like", "set_fill_value", "where", "zeros_like"}
    assert sa.ma.__all__ == sorted(sa.ma.__all__) and set(sa.ma.__all__) == dask_names
    assert all(callable(getattr(sa.ma, name)) for name in sa.ma.__all__)
    with pytest.raises(TypeError) as info:  # NumPy's error, raised when the expression is built
        sa.ma.masked_equal(np.array(["a", "b"]), 1.5j)
    assert any("masked_equal" in note for note in getattr(info.value, "__notes__", []))


def test_asanyarray_keeps_masks_and_asarray_drops_them_as_numpy_does():
    m = np.ma.masked_array(np.arange(7.0), mask=[0, 1, 0, 0, 1, 1, 0], fill_value=-5.0)
    kept = sa.asanyarray(m, chunks=3)
    assert isinstance(kept._meta, np.ma.MaskedArray)
    got = kept.compute()
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(np.asanyarray(m)))
    np.testing.assert_array_equal(got.filled(0), m.filled(0))
    assert kept.sum().compute() == m.sum()
    plain = sa.asarray(m, chunks=3).compute()
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(plain, np.asarray(m))

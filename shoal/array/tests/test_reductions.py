"""Reductions, arg-reductions and cumulative operations against NumPy."""

from __future__ import annotations

import math
import warnings

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import Array
from shoal.array._reductions import reduction
from shoal.array.utils import assert_eq
from shoal.local import Callback, get_threads
from shoal.array.tests.strategies import chunks_for




def _elements(dtype, nan=False):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return st.booleans()
    if kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -1000), min(info.max, 1000))
    # Quarter-integers: sums are exact, so only the reduction order's rounding of
    # means and variances differs from NumPy.
    real = st.integers(-40, 40).map(lambda v: v / 4)
    if nan:
        real = st.one_of(real, real, st.just(math.nan))
    if kind == "c":
        return st.builds(complex, real, real)
    return real


@st.composite
def arrays_with_chunks(draw, dtypes=("f8", "f4", "i4", "i8", "u1", "i1", "bool", "c16"), nan=False, max_side=6):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    x = draw(hnp.arrays(dtype, shape, elements=_elements(dtype, nan)))
    return x, draw(chunks_for(shape))


@st.composite
def axes_for(draw, ndim, single=False):
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if not single:
            choices.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
                lambda axes: tuple(a - ndim if a % 2 else a for a in axes)))
    return draw(st.one_of(*choices))


SPLIT_EVERY = st.one_of(st.none(), st.integers(2, 5), st.just({0: 2, -1: 3}))


def _tolerance(dtype):
    kind, size = np.dtype(dtype).kind, np.dtype(dtype).itemsize
    if kind in "fc" and size <= 8 and not (kind == "c" and size == 16):
        return {"rtol": 1e-4, "atol": 1e-4}
    return {"rtol": 1e-9, "atol": 1e-9}


def _check(name, x, chunks, axis, keepdims, split_every, **kwargs):
    """``sa.<name>`` matches ``np.<name>``: same values and dtype, or the same exception."""
    d = sa.from_array(x, chunks=chunks)
    np_func, sa_func = getattr(np, name), getattr(sa, name)
    extra = {} if split_every is None else {"split_every": split_every}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            expected = np_func(x, axis=axis, keepdims=keepdims, **kwargs)
        except (ValueError, TypeError) as exc:
            with pytest.raises(type(exc)):
                sa_func(d, axis=axis, keepdims=keepdims, **kwargs, **extra).compute(scheduler="sync")
            return
        result = sa_func(d, axis=axis, keepdims=keepdims, **kwargs, **extra)
        assert isinstance(result, Array)
        assert_eq(result, expected, **_tolerance(x.dtype))


@given(case=arrays_with_chunks(), data=st.data(), keepdims=st.booleans(), split_every=SPLIT_EVERY,
       name=st.sampled_from(["sum", "mean", "min", "max", "any", "all", "var", "std", "ptp", "count_nonzero"]))
@settings(max_examples=60, deadline=None)
def test_reductions_match_numpy(case, data, keepdims, split_every, name):
    x, chunks = case
    axis = data.draw(axes_for(x.ndim))
    _check(name, x, chunks, axis, keepdims, split_every)


@given(case=arrays_with_chunks(max_side=5), data=st.data(), keepdims=st.booleans(), split_every=SPLIT_EVERY)
@settings(max_examples=30, deadline=None)
def test_prod_matches_numpy(case, data, keepdims, split_every):
    x, chunks = case
    x = np.where(x == 0, 1, x).astype(x.dtype) if x.dtype.kind != "b" else x
    if x.dtype.kind in "fc":
        x = (np.sign(x.real) * 1.25 + (x.real == 0)).astype(x.dtype)  # magnitudes that cannot overflow
    _check("prod", x, chunks, data.draw(axes_for(x.ndim)), keepdims, split_every)


@given(case=arrays_with_chunks(dtypes=("f8", "f4", "i4")), data=st.data(), keepdims=st.booleans(),
       ddof=st.integers(0, 2), dtype=st.sampled_from([None, "f8"]))
@settings(max_examples=30, deadline=None)
def test_var_std_ddof_and_dtype(case, data, keepdims, ddof, dtype):
    x, chunks = case
    axis = data.draw(axes_for(x.ndim))
    _check("var", x, chunks, axis, keepdims, None, ddof=ddof, dtype=dtype)
    _check("std", x, chunks, axis, keepdims, 2, ddof=ddof, dtype=dtype)


@given(case=arrays_with_chunks(), data=st.data(), keepdims=st.booleans(), split_every=SPLIT_EVERY,
       name=st.sampled_from(["argmin", "argmax"]))
@settings(max_examples=40, deadline=None)
def test_arg_reductions_match_numpy(case, data, keepdims, split_every, name):
    x, chunks = case
    _check(name, x, chunks, data.draw(axes_for(x.ndim, single=True)), keepdims, split_every)


@given(case=arrays_with_chunks(dtypes=("f8", "f4", "c16", "i4"), nan=True), data=st.data(),
       keepdims=st.booleans(), split_every=SPLIT_EVERY,
       name=st.sampled_from(["nansum", "nanmean", "nanmin", "nanmax", "nanvar", "nanstd"]))
@settings(max_examples=50, deadline=None)
def test_nan_reductions_match_numpy(case, data, keepdims, split_every, name):
    x, chunks = case
    if name in ("nanmin", "nanmax") and x.dtype.kind == "c":
        return  # NumPy's own nanmin on complex is not NaN-aware
    _check(name, x, chunks, data.draw(axes_for(x.ndim)), keepdims, split_every)


@given(case=arrays_with_chunks(dtypes=("f8", "f4", "i8"), nan=True, max_side=5), data=st.data(),
       keepdims=st.booleans())
@settings(max_examples=30, deadline=None)
def test_nanprod_and_nan_arg_reductions(case, data, keepdims):
    x, chunks = case
    if x.dtype.kind == "f":
        x = np.where(np.isnan(x), x, np.sign(x) * 1.25 + (x == 0)).astype(x.dtype)
    _check("nanprod", x, chunks, data.draw(axes_for(x.ndim)), keepdims, None)
    axis = data.draw(axes_for(x.ndim, single=True))
    _check("nanargmin", x, chunks, axis, keepdims, 2)
    _check("nanargmax", x, chunks, axis, keepdims, None)


def test_nan_arg_reductions_prefer_real_infinity_over_nan():
    x = np.array([[np.nan, np.inf, 1.0], [np.nan, np.inf, np.nan], [np.inf, np.nan, np.inf]])
    for chunks in (1, 2, 3):
        d = sa.from_array(x, chunks=chunks)
        assert_eq(sa.nanargmax(d, axis=1), np.nanargmax(x, axis=1))
        assert_eq(sa.nanargmax(d), np.nanargmax(x))
        assert_eq(sa.nanargmin(-d, axis=0), np.nanargmin(-x, axis=0))
        assert_eq(sa.argmax(d, axis=0), np.argmax(x, axis=0))  # NaN wins in the plain version


@given(case=arrays_with_chunks(dtypes=("f8", "i4", "bool", "c16", "u1"), max_side=5), data=st.data(),
       name=st.sampled_from(["cumsum", "cumprod", "nancumsum", "nancumprod"]), dtype=st.sampled_from([None, "f8"]))
@settings(max_examples=40, deadline=None)
def test_cumulative_match_numpy(case, data, name, dtype):
    x, chunks = case
    dtype = None if x.dtype.kind == "c" else dtype
    if "prod" in name and x.dtype.kind in "fc":
        x = (np.sign(x.real) * 1.25 + (x.real == 0)).astype(x.dtype)
    axis = data.draw(axes_for(x.ndim, single=True)) if x.ndim else None
    if axis is None and x.ndim > 1 and not hasattr(Array, "ravel"):
        axis = 0  # flattening needs the shape family's ravel
    d = sa.from_array(x, chunks=chunks)
    result = getattr(sa, name)(d, axis=axis, dtype=dtype)
    assert_eq(result, getattr(np, name)(x, axis=axis, dtype=dtype), **_tolerance(x.dtype))
    if axis is not None:
        assert result.chunks == d.chunks


def test_cumulative_with_nans_and_methods():
    x = np.array([[1.0, np.nan, 2.0, 3.0], [np.nan, np.nan, 4.0, 0.5]])
    d = sa.from_array(x, chunks=(1, 1))
    assert_eq(sa.nancumsum(d, axis=1), np.nancumsum(x, axis=1))
    assert_eq(sa.nancumprod(d, axis=0), np.nancumprod(x, axis=0))
    assert_eq(d.cumsum(axis=1, method="blelloch"), np.cumsum(x, axis=1))
    assert_eq(np.cumprod(d, axis=1), np.cumprod(x, axis=1))
    with pytest.raises(ValueError, match="sequential"):
        d.cumsum(axis=0, method="bogus")
    with pytest.raises(np.exceptions.AxisError):
        d.cumsum(axis=2)


def test_numpy_functions_and_methods_stay_lazy():
    x = np.arange(24.0).reshape(4, 6)
    d = sa.from_array(x, chunks=(3, 4))
    for name in ["sum", "prod", "mean", "std", "var", "min", "max", "amin", "amax", "argmin", "argmax", "any",
                 "all", "nansum", "nanprod", "nanmean", "nanstd", "nanvar", "nanmin", "nanmax", "nanargmin",
                 "nanargmax", "cumsum", "cumprod", "nancumsum", "nancumprod", "count_nonzero", "ptp"]:
        kwargs = {"axis": 1}
        result = getattr(np, name)(d, **kwargs)
        assert isinstance(result, Array), name
        assert_eq(result, getattr(np, name)(x, **kwargs))
    for name in ["sum", "prod", "mean", "std", "var", "min", "max", "argmin", "argmax", "any", "all", "cumsum",
                 "cumprod"]:
        assert_eq(getattr(d, name)(axis=0), getattr(x, name)(axis=0))
    assert_eq(d.moment(2, axis=0), x.var(axis=0))
    assert_eq(np.sum(d), x.sum())
    assert d.sum().name == d.sum().name  # deterministic names
    assert d.sum().name != d.sum(axis=0).name


def test_result_dtypes_follow_numpy():
    cases = {"i4": ["sum", "prod", "mean", "var", "cumsum", "nansum", "nanmean"], "u1": ["sum", "cumprod"],
             "bool": ["sum", "mean", "std", "any", "cumsum"], "f2": ["sum", "mean", "max"],
             "c8": ["var", "std", "mean", "sum"], "f4": ["var", "std", "nanvar", "mean"]}
    for dtype, names in cases.items():
        x = np.ones((3, 4), dtype=dtype)
        d = sa.from_array(x, chunks=2)
        for name in names:
            assert getattr(sa, name)(d, axis=1).dtype == getattr(np, name)(x, axis=1).dtype, (dtype, name)
            assert_eq(getattr(sa, name)(d, axis=0), getattr(np, name)(x, axis=0), rtol=1e-3)
    d = sa.from_array(np.arange(10, dtype="i4"), chunks=3)
    assert_eq(d.sum(dtype="i1"), np.arange(10, dtype="i4").sum(dtype="i1"))
    assert_eq(d.mean(dtype="f4"), np.arange(10, dtype="i4").mean(dtype="f4"))
    assert sa.argmin(d).dtype == np.intp
    assert sa.count_nonzero(d).dtype == np.intp


def test_float32_mean_and_var_accumulate_accurately():
    rng = np.random.default_rng(0)
    x = (rng.random((3000, 7)) + 1000).astype("f4")
    d = sa.from_array(x, chunks=(100, 3))
    # Blocks sum separately, so the float32 error stays that of short sums (NumPy's
    # own float32 mean along axis 0 is off by about 2e-6 here).
    assert_eq(d.mean(axis=0), x.astype("f8").mean(axis=0).astype("f4"), rtol=3e-7)
    assert_eq(d.var(axis=0), x.astype("f8").var(axis=0).astype("f4"), rtol=1e-4)


def test_variance_is_stable_with_a_large_offset():
    rng = np.random.default_rng(1)
    x = 1e9 + rng.standard_normal((200, 30))
    d = sa.from_array(x, chunks=(7, 4))
    assert_eq(d.var(axis=0), x.var(axis=0), rtol=1e-6)
    assert_eq(d.std(), x.std(), rtol=1e-6)
    assert_eq(sa.nanvar(d, axis=1, ddof=1), np.nanvar(x, axis=1, ddof=1), rtol=1e-6)


def test_moments_match_their_definition():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 9)) * 3 + 1
    d = sa.from_array(x, chunks=(6, 4))
    for order in range(5):
        for axis in (None, 0, 1):
            for ddof in (0, 1):
                centred = x - x.mean(axis=axis, keepdims=True)
                n = x.size if axis is None else x.shape[axis]
                expected = (centred ** order).sum(axis=axis) / (n - ddof)
                if order < 2:
                    expected = np.full(np.shape(expected), float(1 - order))
                assert_eq(sa.moment(d, order, axis=axis, ddof=ddof), expected, rtol=1e-9, atol=1e-9)
    assert_eq(d.moment(3, axis=0, keepdims=True), (((x - x.mean(0)) ** 3).mean(0))[None], atol=1e-12)
    with pytest.raises(ValueError, match="order"):
        sa.moment(d, -1)


def test_large_blocks_use_slabs_and_still_match():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1100, 700)) + 5
    x[3, 5] = np.nan
    d = sa.from_array(x, chunks=(1000, 650))  # 5.2 MB blocks: the slab path
    for axis in (None, 0, 1, (0, 1)):
        assert_eq(sa.nanvar(d, axis=axis), np.nanvar(x, axis=axis), rtol=1e-9)
        assert_eq(sa.nanstd(d, axis=axis, ddof=1), np.nanstd(x, axis=axis, ddof=1), rtol=1e-9)
    clean = np.nan_to_num(x)
    assert_eq(sa.from_array(clean, chunks=(1000, 650)).moment(4, axis=0),
              ((clean - clean.mean(0)) ** 4).mean(0), rtol=1e-9)


@pytest.mark.parametrize("split_every", [2, 3, 4, 100, {0: 2, 1: 5}, {1: 3}])
def test_split_every_shapes_the_tree_but_not_the_result(split_every):
    x = np.arange(30 * 40, dtype="f8").reshape(30, 40)
    d = sa.from_array(x, chunks=(2, 3))
    for axis in (None, 0, 1):
        assert_eq(d.sum(axis=axis, split_every=split_every), x.sum(axis=axis))
        assert_eq(d.var(axis=axis, split_every=split_every), x.var(axis=axis))
        assert_eq(d.argmax(axis=axis, split_every=split_every), x.argmax(axis=axis))
    graph = d.sum(split_every=2).__dask_graph__()
    levels = {key[0].split("-")[1] for key in graph if isinstance(key, tuple) and key[0].startswith("sum-")}
    # 15 x 14 blocks reduced 2 x 2 at a time: 3 partial levels, then the aggregate.
    assert levels == {"chunk", "partial0", "partial1", "partial2", "aggregate"}
    few = d.sum(split_every=1000).__dask_graph__()
    assert not any(isinstance(k, tuple) and "partial" in k[0] for k in few)


def test_split_every_from_config():
    import shoal

    d = sa.from_array(np.ones(64), chunks=1)
    with shoal.config.set(split_every=64):
        flat = d.sum()
    assert not any("partial" in k[0] for k in flat.__dask_graph__() if isinstance(k, tuple))
    assert flat.compute() == 64


def test_ten_thousand_blocks_reduce_in_bounded_memory():
    x = np.arange(10_000, dtype="f8")
    d = sa.from_array(x, chunks=1)
    for expression, expected in [(d.sum(), x.sum()), (d.mean(), x.mean()), (d.std(), x.std()),
                                 (d.argmax(), x.argmax())]:
        peak = [0]

        def count_live(key, result, graph, state, worker_id, peak=peak):
            peak[0] = max(peak[0], len(state.cache))

        with Callback(posttask=count_live):
            result = expression.compute(scheduler=get_threads, num_workers=2)
        np.testing.assert_allclose(result, expected)
        # Levels x split_every (about 50), plus what two threads hold in flight: up to 2 x 2 batches of
        # 8 fast tasks, whose timing varies. Bounded and far below the 10,000 blocks: 2% at most.
        assert peak[0] <= 200, f"{peak[0]} results were alive at once"


def test_empty_and_all_nan_slices_warn_like_numpy():
    empty = sa.from_array(np.zeros((0, 3)), chunks=2)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        result = empty.mean(axis=0).compute()
    assert np.isnan(result).all() and result.shape == (3,)
    assert_eq(empty.sum(axis=0), np.zeros(3))
    assert_eq(empty.mean(axis=1), np.zeros((0,)))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        assert np.isinf(sa.from_array(np.array([1.0, 2.0]), chunks=1).var(ddof=2).compute())
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        assert np.isnan(sa.nanvar(sa.from_array(np.array([np.nan, 1.0]), chunks=1), ddof=1).compute())
    nans = sa.from_array(np.array([[np.nan, 1.0], [np.nan, np.nan]]), chunks=1)
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        assert_eq(sa.nanmax(nans, axis=1), np.array([1.0, np.nan]))
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        sa.nanmean(nans, axis=0).compute()
    with pytest.raises(ValueError, match="All-NaN slice"):
        sa.nanargmin(nans, axis=0).compute()
    assert_eq(sa.nanargmin(sa.from_array(np.array([[np.nan, 1.0]]), chunks=1), axis=1), np.array([1]))


def test_bad_input_fails_when_the_expression_is_built():
    d = sa.from_array(np.ones((4, 5)), chunks=2)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        d.sum(axis=2)
    with pytest.raises(np.exceptions.AxisError):
        d.mean(axis=(0, -3))
    with pytest.raises(ValueError, match="duplicate"):
        d.sum(axis=(0, -2))
    with pytest.raises(TypeError, match="out="):
        d.sum(out=np.empty(()))
    with pytest.raises(TypeError, match="axis"):
        d.argmin(axis=(0, 1))
    with pytest.raises(ValueError, match="zero-size array"):
        sa.from_array(np.ones((0, 3)), chunks=2).max(axis=0)
    with pytest.raises(ValueError, match="empty sequence"):
        sa.from_array(np.ones((3, 0)), chunks=2).argmin(axis=1)
    with pytest.raises(TypeError):
        sa.from_array(np.array(["a", "b"]), chunks=1).mean()
    with pytest.raises(TypeError):
        sa.ptp(sa.from_array(np.array([True, False]), chunks=1))
    with pytest.raises(ValueError, match="split_every"):
        d.sum(split_every=0)


def _with_unknown_chunks(d):
    chunks = tuple(tuple(math.nan for _ in c) if i == 0 else c for i, c in enumerate(d.chunks))
    return Array._from_parts(d._layer, d.name, chunks, d._meta, d._deps)


def test_unknown_chunks_along_the_reduced_axis():
    x = np.arange(20.0).reshape(5, 4)
    u = _with_unknown_chunks(sa.from_array(x, chunks=(2, 3)))
    assert u.sum(axis=0).chunks == ((3, 1),)
    np.testing.assert_allclose(u.sum(axis=0).compute(), x.sum(axis=0))
    np.testing.assert_allclose(u.mean().compute(), x.mean())
    np.testing.assert_allclose(u.var(axis=0).compute(), x.var(axis=0))
    np.testing.assert_allclose(u.cumsum(axis=0).compute(), x.cumsum(axis=0))
    assert math.isnan(u.sum(axis=1).shape[0])
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        u.argmax(axis=0)
    np.testing.assert_array_equal(u.argmax(axis=1).compute(), x.argmax(axis=1))


def test_general_reduction_builder():
    x = np.arange(40, dtype="i8").reshape(5, 8)
    d = sa.from_array(x, chunks=(2, 3))
    total = reduction(d, np.sum, np.sum, axis=1, split_every=2)
    assert total.dtype == np.int64 and total.name.startswith("sum-aggregate-")
    assert_eq(total, x.sum(axis=1))

    def chunk(block, axis, keepdims):
        return {"lo": block.min(axis=axis, keepdims=True), "hi": block.max(axis=axis, keepdims=True)}

    def combine(parts, axis, keepdims):
        return {"lo": parts["lo"].min(axis=axis, keepdims=True), "hi": parts["hi"].max(axis=axis, keepdims=True)}

    def aggregate(parts, axis, keepdims):
        return parts["hi"].max(axis=axis, keepdims=keepdims) - parts["lo"].min(axis=axis, keepdims=keepdims)

    spread = reduction(d, chunk, aggregate, combine=combine, axis=0, keepdims=True, dtype="i8", split_every=2,
                       name="spread")
    assert spread.name.startswith("spread-aggregate-")
    assert_eq(spread, np.ptp(x, axis=0, keepdims=True))

    def nested_sum(parts, axis, keepdims):
        flat = [b for row in parts for b in (row if isinstance(row, list) else [row])]
        return np.sum(np.concatenate([b.reshape(-1) for b in flat]), keepdims=keepdims).reshape(
            (1, 1) if keepdims else ())

    listed = reduction(d, np.sum, nested_sum, axis=None, dtype="i8", concatenate=False, split_every=4)
    assert_eq(listed, x.sum())
    assert_eq(reduction(d, np.max, np.max, axis=0, keepdims=True), x.max(axis=0, keepdims=True))
    assert_eq(reduction(np.arange(5), np.sum, np.sum), np.int64(10))


def test_zero_dimensional_arrays():
    x = np.array(3.5)
    d = sa.from_array(x, chunks=())
    for name in ["sum", "mean", "min", "argmax", "var", "any", "cumsum", "nanmean"]:
        assert_eq(getattr(sa, name)(d), getattr(np, name)(x))
    with pytest.raises(np.exceptions.AxisError):
        d.sum(axis=0)

"""shoal.array.fft against numpy.fft: every transform, n/s/axes/norm, frequencies and shifts."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import shoal.array as sa
from shoal.array import fft as sfft
from shoal.array.tests.strategies import chunks_for

SETTINGS = settings(max_examples=25, deadline=None)
NORMS = st.sampled_from([None, "backward", "ortho", "forward"])

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
MULTI = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfft2", "rfftn"}


def _data(shape, kind, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if kind not in REAL_INPUT:
        a = a + 1j * rng.standard_normal(shape)
    return a


def _chunks_whole_along(draw, shape, axes):
    """Random chunks for ``shape`` with each of ``axes`` a single block."""
    chunks = list(draw(chunks_for(shape)))
    for a in axes:
        chunks[a] = (shape[a],)
    return tuple(chunks)


def _check(result, expected):
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    got = result.compute()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # The declared chunks must match the blocks the graph makes.
    assert sum(result.chunks[-1]) == expected.shape[-1]


@st.composite
def one_d_case(draw):
    kind = draw(st.sampled_from(ONE_D))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(2, 7), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.none() | st.integers(2, 10))
    chunks = _chunks_whole_along(draw, shape, [axis % ndim])
    return kind, shape, chunks, axis, n, draw(NORMS), draw(st.integers(0, 2**16))


@SETTINGS
@given(one_d_case())
def test_one_dimensional_transforms_match_numpy(case):
    kind, shape, chunks, axis, n, norm, seed = case
    a = _data(shape, kind, seed)
    x = sa.from_array(a, chunks=chunks)
    expected = getattr(np.fft, kind)(a, n=n, axis=axis, norm=norm)
    _check(getattr(sfft, kind)(x, n=n, axis=axis, norm=norm), expected)


@st.composite
def multi_d_case(draw):
    kind = draw(st.sampled_from(MULTI))
    ndim = draw(st.integers(2, 4))
    shape = tuple(draw(st.lists(st.integers(2, 6), min_size=ndim, max_size=ndim)))
    if kind.endswith("2"):
        axes = draw(st.none() | st.permutations(range(ndim)).map(lambda p: tuple(p[:2])))
        k = 2
    else:
        axes = draw(st.none() | st.integers(1, ndim).flatmap(
            lambda m: st.permutations(range(ndim)).map(lambda p: tuple(p[:m]))))
        k = ndim if axes is None else len(axes)
    s = None
    if axes is not None or kind.endswith("2"):
        s = draw(st.none() | st.lists(st.integers(2, 8), min_size=k, max_size=k).map(tuple))
    used = axes if axes is not None else ((ndim - 2, ndim - 1) if kind.endswith("2") else tuple(range(ndim)))
    chunks = _chunks_whole_along(draw, shape, [a % ndim for a in used])
    return kind, shape, chunks, s, axes, draw(NORMS), draw(st.integers(0, 2**16))


@SETTINGS
@given(multi_d_case())
def test_multi_dimensional_transforms_match_numpy(case):
    kind, shape, chunks, s, axes, norm, seed = case
    a = _data(shape, kind, seed)
    x = sa.from_array(a, chunks=chunks)
    # NumPy 2 warns on s without axes even for the 2-d kinds, whose default is (-2, -1).
    np_axes = (-2, -1) if axes is None and kind.endswith("2") else axes
    expected = getattr(np.fft, kind)(a, s=s, axes=np_axes, norm=norm)
    _check(getattr(sfft, kind)(x, s=s, axes=axes, norm=norm), expected)


@pytest.mark.parametrize(("kind", "dtype"), [(k, d) for k in ONE_D + MULTI for d in ["f4", "f8", "c8", "c16", "i8"]
                                           if not (k in REAL_INPUT and d.startswith("c"))])
def test_dtype_follows_numpy(kind, dtype):
    a = np.arange(24).reshape(2, 3, 4).astype(dtype) + 1
    if np.dtype(dtype).kind == "c":
        a = a + 0.5j
    x = sa.from_array(a, chunks=(1, 3, 4)) if not kind.endswith("n") else sa.from_array(a, chunks=-1)
    result = getattr(sfft, kind)(x)
    expected = getattr(np.fft, kind)(a)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result.compute(), expected, rtol=1e-4, atol=1e-4)


def test_s_without_axes_uses_the_last_axes_like_numpy():
    a = _data((3, 4, 5), "fftn", 0)
    x = sa.from_array(a, chunks=(1, 4, 5))
    expected = np.fft.fftn(a, s=(6, 3), axes=(1, 2))
    _check(sfft.fftn(x, s=(6, 3)), expected)


@pytest.mark.parametrize(("kind", "kwargs"), [
    ("fft", {}), ("fft", {"axis": 0}), ("rfft", {}), ("irfft", {}), ("hfft", {}),
    ("fft2", {}), ("ifftn", {}), ("rfftn", {"axes": (0,)}), ("irfft2", {"axes": (1, 0)}),
])
def test_chunked_transform_axis_raises(kind, kwargs):
    x = sa.from_array(np.ones((6, 8)), chunks=(3, 4))
    with pytest.raises(ValueError, match=r"single chunk.*rechunk"):
        getattr(sfft, kind)(x, **kwargs)


def test_rechunk_advice_works():
    a = _data((6, 8), "fft", 1)
    x = sa.from_array(a, chunks=(3, 4))
    _check(sfft.fft(x.rechunk({1: -1})), np.fft.fft(a))
    _check(sfft.fft(x.rechunk({0: -1}), axis=0), np.fft.fft(a, axis=0))


def test_numpy_functions_dispatch_lazily():
    a = _data((4, 6), "fft", 2)
    x = sa.from_array(a, chunks=(2, 6))
    result = np.fft.fft(x)
    assert isinstance(result, sa.Array)
    _check(result, np.fft.fft(a))
    shifted = np.fft.fftshift(sa.from_array(a, chunks=(3, 4)))
    assert isinstance(shifted, sa.Array)
    np.testing.assert_array_equal(shifted.compute(), np.fft.fftshift(a))


def test_fft_wrap_with_explicit_kind_and_dtype():
    def my_transform(a, n=None, axis=-1, norm=None):
        return np.fft.rfft(a, n, axis, norm)

    wrapped = sfft.fft_wrap(my_transform, kind="rfft", dtype="c16")
    a = _data((3, 10), "rfft", 3)
    _check(wrapped(sa.from_array(a, chunks=(1, 10)), n=7), np.fft.rfft(a, n=7))
    with pytest.raises(ValueError, match="unknown kind"):
        sfft.fft_wrap(my_transform)


def test_accepts_numpy_input():
    a = _data((5,), "fft", 4)
    _check(sfft.fft(a), np.fft.fft(a))


@SETTINGS
@given(st.integers(1, 40), st.sampled_from([1.0, 0.5, 3.0]), st.data())
def test_fftfreq_and_rfftfreq_match_numpy(n, d, data):
    chunks = data.draw(st.integers(1, max(n, 1)))
    result = sfft.fftfreq(n, d, chunks=chunks)
    assert result.chunks[0][0] == min(chunks, n)
    np.testing.assert_allclose(result.compute(), np.fft.fftfreq(n, d), rtol=1e-15)
    m = n // 2 + 1
    rchunks = data.draw(st.integers(1, m))
    rresult = sfft.rfftfreq(n, d, chunks=rchunks)
    assert rresult.chunks[0][0] == min(rchunks, m)
    np.testing.assert_allclose(rresult.compute(), np.fft.rfftfreq(n, d), rtol=1e-15)


@st.composite
def shift_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    chunks = draw(chunks_for(shape))
    axes = draw(st.none() | st.integers(-ndim, ndim - 1)
                | st.permutations(range(ndim)).flatmap(lambda p: st.integers(0, ndim).map(lambda k: tuple(p[:k]))))
    return shape, chunks, axes


@SETTINGS
@given(shift_case())
def test_fftshift_and_ifftshift_match_numpy_on_any_chunking(case):
    shape, chunks, axes = case
    a = np.arange(int(np.prod(shape))).reshape(shape)
    x = sa.from_array(a, chunks=chunks)
    np.testing.assert_array_equal(sfft.fftshift(x, axes).compute(), np.fft.fftshift(a, axes))
    np.testing.assert_array_equal(sfft.ifftshift(x, axes).compute(), np.fft.ifftshift(a, axes))
    np.testing.assert_array_equal(sfft.ifftshift(sfft.fftshift(x, axes), axes).compute(), a)

"""``x @ y`` (issue 3, matmul speed): results equal NumPy's for every path the product graph can take."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.array as sa
from shoal.array.tests.strategies import chunks_for
from shoal.array.utils import assert_eq

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DTYPES = ["f8", "f4", "c16", "i8", "bool"]


def _random(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("c"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("i"):
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _tolerance(dtype: Any) -> dict[str, float]:
    return {"rtol": 1e-4, "atol": 1e-4} if np.dtype(dtype) in (np.float32, np.complex64) else {}


@given(data=st.data(), m=st.integers(1, 12), k=st.integers(1, 12), n=st.integers(1, 12),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
@SETTINGS
def test_matmul_2d_any_chunks(data: Any, m: int, k: int, n: int, dtype: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = _random(rng, (m, k), dtype), _random(rng, (k, n), dtype)
    x = sa.from_array(a, chunks=data.draw(chunks_for((m, k))))
    y = sa.from_array(b, chunks=data.draw(chunks_for((k, n))))
    expected = a @ b
    assert_eq(x @ y, expected, **_tolerance(expected.dtype))


@given(data=st.data(), m=st.integers(1, 10), k=st.integers(2, 16), n=st.integers(1, 10),
       split_every=st.integers(2, 5), seed=st.integers(0, 2**16))
@SETTINGS
def test_matmul_split_every_tree(data: Any, m: int, k: int, n: int, split_every: int, seed: int) -> None:
    # Many blocks along the contracted axis: products are summed in groups, then in a tree.
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    x = sa.from_array(a, chunks=data.draw(chunks_for((m, k), max_cuts=8)))
    y = sa.from_array(b, chunks=data.draw(chunks_for((k, n), max_cuts=8)))
    assert_eq(sa.matmul(x, y, split_every=split_every), a @ b)


@pytest.mark.parametrize(("left", "right"), [("f4", "f8"), ("i8", "f4"), ("bool", "i8"), ("f8", "c16")])
def test_matmul_mixed_dtypes(left: str, right: str) -> None:
    rng = np.random.default_rng(0)
    a, b = _random(rng, (7, 9), left), _random(rng, (9, 5), right)
    expected = a @ b
    result = sa.from_array(a, chunks=(3, 4)) @ sa.from_array(b, chunks=(2, 3))
    assert result.dtype == expected.dtype
    assert_eq(result, expected, **_tolerance(expected.dtype))


@pytest.mark.parametrize(("ashape", "bshape"), [((6,), (6, 4)), ((5, 6), (6,)), ((6,), (6,)),
                                                ((3, 5, 6), (6, 4)), ((2, 1, 5, 6), (3, 6, 4))])
def test_matmul_vectors_and_batches(ashape: tuple[int, ...], bshape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(ashape), rng.standard_normal(bshape)
    assert_eq(sa.from_array(a, chunks=2) @ sa.from_array(b, chunks=3), a @ b)


def test_matmul_result_blocks_are_writable_and_private() -> None:
    # A block of the product must never alias an input block: callers may modify results in place.
    a = np.arange(16.0).reshape(4, 4)
    x = sa.from_array(a, chunks=(2, 4))
    eye = sa.from_array(np.eye(4), chunks=4)
    out = (x @ eye).compute()
    out += 1
    np.testing.assert_array_equal(a, np.arange(16.0).reshape(4, 4))


def test_matmul_many_blocks_persisted_operands() -> None:
    # The benchmark's layout, scaled down: square operands persisted as 4 x 4 blocks.
    rng = np.random.default_rng(2)
    a, b = rng.random((60, 60)), rng.random((60, 60))
    x = sa.from_array(a, chunks=15).persist()
    y = sa.from_array(b, chunks=15).persist()
    product = x @ y
    assert product.chunks == ((15,) * 4, (15,) * 4)
    assert_eq(product, a @ b)
    assert_eq(product.T @ x, (a @ b).T @ a)


def test_matmul_unknown_chunks_error() -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = sa.from_array(a, chunks=2)
    masked = x[x[:, 0] > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        (masked @ x.T).compute()


def test_matmul_joins_blocks_into_shared_panels() -> None:
    # One task per output block, fed by one row panel of x and one column panel of y, each built once.
    rng = np.random.default_rng(3)
    a, b = rng.random((8, 12)), rng.random((12, 6))
    x = sa.from_array(a, chunks=(4, 3)).persist()
    y = sa.from_array(b, chunks=(3, 2)).persist()
    product = x @ y
    layer = product._layer
    panel_keys = [k for k in layer if isinstance(k, tuple) and "-panel" in k[0]]
    assert len(panel_keys) == 2 + 3  # row panels of x (2 row blocks) and column panels of y (3 column blocks)
    assert sum(1 for k in layer if k[0] == product.name) == 6
    assert_eq(product, a @ b)


@pytest.mark.parametrize("split_every", [2, 3])
def test_matmul_wide_contraction_keeps_grouped_sums(split_every: int) -> None:
    # More contracted blocks than split_every: no panel wider than split_every blocks is ever built.
    rng = np.random.default_rng(4)
    a, b = rng.random((5, 20)), rng.random((20, 4))
    x, y = sa.from_array(a, chunks=(5, 4)), sa.from_array(b, chunks=(4, 2))
    product = sa.matmul(x, y, split_every=split_every)
    assert not any(isinstance(k, tuple) and "-panel" in k[0] for k in product._layer)
    assert_eq(product, a @ b)


@given(data=st.data(), dims=st.integers(2, 4), seed=st.integers(0, 2**16))
@SETTINGS
def test_tensordot_panels_many_contracted_axes(data: Any, dims: int, seed: int) -> None:
    # Panels joined along two contracted axes at once (nested concatenation).
    rng = np.random.default_rng(seed)
    shape = tuple(data.draw(st.integers(1, 6)) for _ in range(dims))
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[-2:] + (3,))
    x = sa.from_array(a, chunks=data.draw(chunks_for(shape, max_cuts=2)))
    y = sa.from_array(b, chunks=data.draw(chunks_for(b.shape, max_cuts=2)))
    assert_eq(sa.tensordot(x, y, axes=2), np.tensordot(a, b, axes=2))


@pytest.mark.parametrize("view", ["plain", "flipped", "transposed", "strided"])
def test_panels_of_persisted_views_match_numpy(view):
    rng = np.random.default_rng(11)
    base = rng.random((40, 44))
    a = {"plain": base, "flipped": base[::-1, ::-1], "transposed": base.T, "strided": base[::2, ::2]}[view]
    b = rng.random((a.shape[1], 13))
    x = sa.from_array(a, chunks=7).persist()  # blocks are views into a: panels join them without copying
    y = sa.from_array(b, chunks=(9, 5)).persist()
    np.testing.assert_allclose((x @ y).compute(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(sa.tensordot(x, y, axes=1).compute(), np.tensordot(a, b, axes=1), rtol=1e-12)

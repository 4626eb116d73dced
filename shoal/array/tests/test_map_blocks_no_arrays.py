"""``map_blocks(func, chunks=..., dtype=...)`` without array arguments: one call per block, as Dask allows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.array as sa


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[tuple[int, ...], ...]:
    ndim = draw(st.integers(1, 3))
    return tuple(tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))) for _ in range(ndim))


def _ramp(scale: float, block_info: dict | None = None) -> np.ndarray:
    """The block of ``scale * flat_index`` over the whole array, made from where the block sits."""
    out = block_info[None]
    ranges = [np.arange(a, b) for a, b in out["array-location"]]
    grids = np.meshgrid(*ranges, indexing="ij")
    return scale * np.ravel_multi_index(grids, out["shape"]).astype(float)


@settings(max_examples=40, deadline=None)
@given(chunks=chunkings())
def test_blocks_made_from_block_info_equal_numpy(chunks: tuple[tuple[int, ...], ...]) -> None:
    shape = tuple(sum(c) for c in chunks)
    x = sa.map_blocks(_ramp, 2.0, chunks=chunks, dtype=float)
    assert x.chunks == chunks and x.dtype == np.float64
    np.testing.assert_array_equal(x.compute(), 2.0 * np.arange(np.prod(shape)).reshape(shape))


def test_block_id_and_kwargs() -> None:
    x = sa.map_blocks(lambda offset, block_id=None: np.full((2, 3), block_id[0] * 10 + block_id[1] + offset),
                      chunks=((2, 2), (3, 3, 3)), dtype=int, offset=100)
    expected = np.block([[np.full((2, 3), 100 + 10 * i + j) for j in range(3)] for i in range(2)])
    np.testing.assert_array_equal(x.compute(), expected)
    assert (x + 1).sum().compute() == (expected + 1).sum()


def test_without_chunks_or_dtype_the_error_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="chunks= must give every block's length"):
        sa.map_blocks(lambda: np.ones(3), dtype=float)
    with pytest.raises(ValueError, match="chunks= must give every block's length"):
        sa.map_blocks(lambda: np.ones(3), chunks=(3,), dtype=float)
    with pytest.raises(ValueError, match="pass dtype="):
        sa.map_blocks(lambda: np.ones(3), chunks=((3,),))

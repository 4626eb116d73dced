"""``repeat`` with lazy (shoal) repeats: values equal ``numpy.repeat``; lengths along the axis unknown."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shoal.array as sa


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_lazy_repeats_match_numpy(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    a = np.arange(math.prod(shape)).reshape(shape)
    x = sa.from_array(a, chunks=tuple(data.draw(st.integers(1, n)) for n in shape))
    axis = data.draw(st.sampled_from([None, *range(len(shape)), -1]))
    n = a.size if axis is None else shape[axis]
    kind = data.draw(st.sampled_from(["per element", "one", "one in a 1-d array"]))
    if kind == "per element":
        counts = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=np.int64)
        lazy = sa.from_array(counts, chunks=data.draw(st.integers(1, n)))
    else:
        counts = np.asarray(data.draw(st.integers(0, 3)), dtype=np.int64)
        lazy = sa.from_array(counts if kind == "one" else counts.reshape(1))
    result = sa.repeat(x, lazy, axis=axis)
    expected = np.repeat(a, counts if kind != "one in a 1-d array" else counts.reshape(1), axis=axis)
    assert result.ndim == expected.ndim
    np.testing.assert_array_equal(result.compute(), expected)
    np.testing.assert_array_equal(result.compute_chunk_sizes().compute(), expected)


def test_bad_lazy_repeats_say_what_is_wrong() -> None:
    x = sa.from_array(np.arange(6).reshape(2, 3), chunks=1)
    with pytest.raises(TypeError, match="integers"):
        sa.repeat(x, sa.from_array(np.array([1.5, 2.0, 1.0])), axis=1)
    with pytest.raises(ValueError, match="could not be broadcast"):
        sa.repeat(x, sa.from_array(np.array([1, 2])), axis=1)
    with pytest.raises(ValueError, match="negative"):
        sa.repeat(x, sa.from_array(np.array([1, -1, 1])), axis=1).compute()

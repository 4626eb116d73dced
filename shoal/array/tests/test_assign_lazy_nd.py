"""``x[..., idx, ...] = v`` with a lazy integer ``idx`` of 2 or more dimensions, against NumPy."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shoal.array as sa


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_nd_lazy_integer_index_assignment_matches_numpy(data: st.DataObject) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    a = np.arange(math.prod(shape), dtype=float).reshape(shape)
    at = data.draw(st.integers(0, len(shape) - 1))
    index_shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3))
    positions = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-shape[at], shape[at] - 1)))
    # Other axes: whole, a slice, or (away from the index, so NumPy moves the index axes first) an integer.
    key = [data.draw(st.sampled_from([slice(None), slice(1, None), 0])) if d != at else positions
           for d in range(len(shape))]
    expected = a.copy()
    target = expected[tuple(key)].shape
    value = data.draw(st.sampled_from(["scalar", "full", "last axis"]))
    if value == "scalar":
        v = -1.0
    elif value == "full":
        v = -np.arange(math.prod(target), dtype=float).reshape(target) - 1
    else:
        v = -np.arange(target[-1], dtype=float) - 1 if target else -1.0
    expected[tuple(key)] = v
    x = sa.from_array(a, chunks=tuple(data.draw(st.integers(1, n)) for n in shape))
    lazy_key = tuple(sa.from_array(positions, chunks=1) if d == at else k for d, k in enumerate(key))
    if data.draw(st.booleans()) and np.ndim(v):
        v = sa.from_array(np.asarray(v), chunks=1)
    x[lazy_key] = v
    np.testing.assert_array_equal(x.compute(), expected)

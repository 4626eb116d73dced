"""Collections built the way Dask users build them by hand: from a graph dict and a name."""

from __future__ import annotations

from operator import add

import numpy as np
import pytest

import shoal.array as sa
import shoal.bag as sb
from shoal.delayed import Delayed


def test_delayed_from_a_graph_dict():
    graph = {"a": 1, "b": (add, "a", 10), "k": (sum, ["a", "b"])}
    value = Delayed("k", graph)
    assert value.compute() == 12
    assert (value * 2).compute() == 24
    assert value.key == "k"


def test_array_from_a_graph_dict_with_dtype_meta_or_shape():
    graph = {("x", 0): (np.arange, 3), ("x", 1): (add, ("x", 0), 10)}
    x = sa.Array(graph, "x", ((3, 3),), dtype=int)
    np.testing.assert_array_equal(x.compute(), np.r_[np.arange(3), np.arange(3) + 10])
    assert x.dtype == np.dtype(int) and x.shape == (6,)
    assert (x + 1).sum().compute() == (np.r_[np.arange(3), np.arange(3) + 10] + 1).sum()
    y = sa.Array({("y", 0, 0): np.eye(2), ("y", 0, 1): np.ones((2, 1))}, "y", 2, shape=(2, 3),
                 meta=np.empty((0, 0)))
    np.testing.assert_array_equal(y.compute(), np.c_[np.eye(2), np.ones((2, 1))])
    assert y.chunks == ((2,), (2, 1))
    with pytest.raises(ValueError, match="entries"):
        sa.Array(graph, "x", (3, 3), shape=(6,), dtype=int)


def test_bag_from_a_graph_dict():
    b = sb.Bag({("b", 0): [1, 2], ("b", 1): (list, (range, 3, 5))}, "b", 2)
    assert b.compute() == [1, 2, 3, 4]
    assert b.map(lambda v: v * 2).sum().compute() == 20

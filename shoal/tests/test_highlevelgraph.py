"""HighLevelGraph as Dask users write it: built by hand, given to collection constructors."""

from __future__ import annotations

import pickle
from itertools import product
from operator import add, mul

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.array as sa
import shoal.bag as sb
import shoal.dataframe as sd
from shoal.delayed import Delayed
from shoal.highlevelgraph import HighLevelGraph, Layer, MaterializedLayer


def _negate_layer(x, name):
    """Tasks negating every block of ``x`` under the key prefix ``name`` (legacy tuple form, as Dask users write)."""
    return {(name, *index): (np.negative, (x.name, *index)) for index in product(*(range(n) for n in x.numblocks))}


def test_from_collections_makes_an_array_without_flattening_its_input():
    x = sa.arange(10, chunks=4)
    layer = _negate_layer(x, "neg")
    graph = HighLevelGraph.from_collections("neg", layer, dependencies=[x])
    y = sa.Array(graph, "neg", x.chunks, dtype=x.dtype)
    np.testing.assert_array_equal(y.compute(), -np.arange(10))
    np.testing.assert_array_equal((y * 2 + x).compute(), -np.arange(10))
    # The layer and the input collection are kept as they are, as shoal's own operations keep them.
    assert y._layer is layer and y._deps == (x,)


def test_layers_dependencies_and_the_key_mapping():
    x = sa.ones((4, 4), chunks=2)
    y = x + 1
    graph = HighLevelGraph.from_collections("neg", _negate_layer(y, "neg"), dependencies=[y])
    assert set(graph.layers) == {x.name, y.name, "neg"}
    assert graph.dependencies == {x.name: set(), y.name: {x.name}, "neg": {y.name}}
    assert graph.dependents[x.name] == {y.name}
    assert all(isinstance(layer, Layer) for layer in graph.layers.values())
    flat = graph.to_dict()
    assert set(flat) == set(x.dask) | set(y.dask) | {("neg", i, j) for i in range(2) for j in range(2)}
    assert len(graph) == len(flat) and set(graph) == set(flat) and ("neg", 1, 1) in graph
    assert graph[("neg", 0, 0)] == (np.negative, (y.name, 0, 0))
    assert dict(graph) == flat and graph.get_all_external_keys() == set(flat)
    deps = graph.get_all_dependencies()
    assert deps[("neg", 0, 1)] == {(y.name, 0, 1)} and deps[(x.name, 0, 0)] == set()
    graph.validate()
    assert graph._toposort_layers() == [x.name, y.name, "neg"]
    assert "3 layers" in repr(graph)


def test_constructor_from_plain_layers_is_a_graph_dict():
    graph = HighLevelGraph(
        {"data": {("data", 0): [1, 2], ("data", 1): [3]}, "total": {"total": (sum, [("data", 0), ("data", 1)], [])}},
        {"data": set(), "total": {"data"}},
    )
    assert isinstance(graph.layers["data"], MaterializedLayer)
    assert graph.layers["total"].get_output_keys() == {"total"}
    assert graph.layers["total"].get_dependencies("total", graph.get_all_external_keys()) == {("data", 0),
                                                                                              ("data", 1)}
    assert Delayed("total", graph).compute() == [1, 2, 3]
    # The named layer becomes the bag's own tasks; the other layers stay together as one input, uncopied.
    bag = sb.Bag(graph, "data", 2)
    assert bag.compute() == [1, 2, 3] and bag._layer is graph.layers["data"].mapping
    assert bag.map(lambda v: v * 10).sum().compute() == 60


def test_array_bag_item_and_delayed_from_a_graph_built_on_each_kind():
    b = sb.from_sequence(range(6), npartitions=3)
    d = shoal.delayed(100, name="hundred")
    item = b.sum()
    layer = {("shifted", i): (lambda part, off: [v + off for v in part], (b.name, i), "hundred") for i in range(3)}
    shifted = sb.Bag(HighLevelGraph.from_collections("shifted", layer, dependencies=[b, d]), "shifted", 3)
    assert shifted.compute() == [v + 100 for v in range(6)]
    ratio = sb.Item(HighLevelGraph.from_collections("ratio", {"ratio": (mul, item.key, 2)}, [item]), "ratio")
    assert ratio.compute() == 30
    total = Delayed("grand", HighLevelGraph.from_collections("grand", {"grand": (add, item.key, "hundred")},
                                                             [item, d]))
    assert total.compute() == 115 and shoal.compute(total, ratio) == (115, 30)


def test_delayed_takes_dask_positional_length_and_layer_name():
    graph = HighLevelGraph({"pair-layer": {"pair": (divmod, 7, 2)}}, {"pair-layer": set()})
    q, r = Delayed("pair", graph, 2, layer="pair-layer")
    assert (q.compute(), r.compute()) == (3, 1)


def test_merge_keeps_layers_and_adds_plain_dicts():
    x = sa.arange(4, chunks=2)
    a = HighLevelGraph.from_collections("n", _negate_layer(x, "n"), [x])
    extra = {"s": (sum, [("n", 0), ("n", 1)])}
    merged = HighLevelGraph.merge(a, extra)
    assert set(a.layers) <= set(merged.layers) and len(merged.layers) == 3
    assert shoal.compute(Delayed("s", merged))[0].tolist() == [-2, -4]
    with pytest.raises(TypeError, match="argument 1 is a list"):
        HighLevelGraph.merge(a, [1])


def test_cull_copy_and_pickle():
    graph = HighLevelGraph({"a": {"x": 1, "unused": 5}, "b": {"y": (add, "x", 1)}, "c": {"z": (add, 2, 2)}},
                           {"a": set(), "b": {"a"}, "c": set()})
    culled = graph.cull(["y"])
    assert dict(culled) == {"x": 1, "y": (add, "x", 1)} and set(culled.layers) == {"a", "b"}
    assert set(graph.cull_layers(["b"]).layers) == {"a", "b"}
    copy = graph.copy()
    assert dict(copy) == dict(graph) and copy.layers is not graph.layers
    again = pickle.loads(pickle.dumps(graph))
    assert dict(again) == dict(graph) and again.dependencies == graph.dependencies


def test_array_from_a_graph_depending_on_a_dataframe():
    pdf = pd.DataFrame({"v": np.arange(8.0)})
    df = sd.from_pandas(pdf, npartitions=2)
    keys = df.__dask_keys__()
    layer = {("vals", i, 0): (lambda part: part.to_numpy(), key) for i, key in enumerate(keys)}
    graph = HighLevelGraph.from_collections("vals", layer, dependencies=[df])
    arr = sa.Array(graph, "vals", ((4, 4), (1,)), dtype="f8")
    np.testing.assert_array_equal(arr.compute(), pdf.to_numpy())
    assert arr.sum().compute() == pdf.v.sum()


def test_a_name_not_among_the_layers_depends_on_the_whole_graph():
    graph = HighLevelGraph({"layer-a": {("x", 0): np.arange(3)}}, {"layer-a": set()})
    x = sa.Array(graph, "x", ((3,),), dtype=int)
    np.testing.assert_array_equal(x.compute(), np.arange(3))


def test_bad_input_is_explained():
    with pytest.raises(TypeError, match=r"dependencies\[1\] is a int, not a collection"):
        HighLevelGraph.from_collections("y", {}, dependencies=[shoal.delayed(1), 5])
    with pytest.raises(TypeError, match="a layer is a mapping"):
        HighLevelGraph.from_collections("y", [("y", 1)])
    with pytest.raises(TypeError, match="mapping of keys to tasks"):
        MaterializedLayer([1, 2])
    bad = HighLevelGraph({"a": {"x": 1}}, {"a": {"missing"}})
    with pytest.raises(ValueError, match="depends on \\['missing'\\]"):
        bad.validate()
    with pytest.raises(KeyError, match="No layer named 'nope'"):
        bad.cull_layers(["nope"])


def test_chains_of_hand_built_steps_stay_linear():
    # Each step reads only the step before; building it must not copy the history (that is what makes a
    # thousand steps cheap). The graph is assembled once, at compute time.
    x = sa.zeros(4, chunks=2)
    for step in range(300):
        name = f"inc-{step}"
        layer = {(name, i): (add, (x.name, i), 1) for i in range(2)}
        x = sa.Array(HighLevelGraph.from_collections(name, layer, [x]), name, x.chunks, dtype=x.dtype)
        assert len(x._layer) == 2
    np.testing.assert_array_equal(x.compute(scheduler="sync"), np.full(4, 300.0))


def test_client_computes_an_array_from_a_graph():
    from shoal.distributed import Client

    x = sa.arange(6, chunks=3)
    y = sa.Array(HighLevelGraph.from_collections("neg", _negate_layer(x, "neg"), [x]), "neg", x.chunks, dtype=int)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None,
                set_as_default=False) as client:
        np.testing.assert_array_equal(client.compute(y).result(timeout=30), -np.arange(6))
        persisted = client.persist(y)
        np.testing.assert_array_equal(client.compute(persisted + 1).result(timeout=30), 1 - np.arange(6))


@st.composite
def _arrays_with_chunks(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    data = draw(st.lists(st.integers(-100, 100), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(data, dtype="i8").reshape(shape), chunks


@given(case=_arrays_with_chunks())
@settings(max_examples=25, deadline=None)
def test_hand_built_layers_agree_with_numpy(case):
    data, chunks = case
    x = sa.from_array(data, chunks=chunks)
    neg = sa.Array(HighLevelGraph.from_collections("neg", _negate_layer(x, "neg"), [x]), "neg", x.chunks,
                   meta=np.empty((0,) * x.ndim, dtype="i8"))
    np.testing.assert_array_equal(neg.compute(scheduler="sync"), -data)
    np.testing.assert_array_equal((neg + x).sum(axis=0).compute(scheduler="sync"), np.zeros(data.shape[1:]))

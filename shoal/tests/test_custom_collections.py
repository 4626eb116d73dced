"""A collection written outside shoal, against Dask's protocol, works with every shoal entry point.

``Record`` plays the role of the "Tuple" of Dask's custom-collection docs: a
graph and a list of output keys, finalized into a tuple.
"""

from __future__ import annotations

import threading
from operator import add, mul

import numpy as np
import pytest

import shoal
import shoal.array as sa
from shoal.base import DaskMethodsMixin, compute, is_dask_collection, optimize, persist, replace_name_in_key
from shoal.graph.cull import cull
from shoal.graph.task import convert_legacy_graph
from shoal.highlevelgraph import HighLevelGraph
from shoal.local import get_sync

OPTIMIZED: list[tuple[int, list]] = []
SCHEDULED: list[int] = []


def _counting_get(graph, keys, **kwargs):
    SCHEDULED.append(len(graph))
    return get_sync(graph, keys, **kwargs)


class Record(DaskMethodsMixin):
    __slots__ = ("_graph", "_keys")

    def __init__(self, graph, keys):
        self._graph = graph
        self._keys = keys

    def __dask_graph__(self):
        return self._graph

    def __dask_keys__(self):
        return self._keys

    def __dask_layers__(self):
        return tuple(self._graph.layers) if isinstance(self._graph, HighLevelGraph) else ("record",)

    def __dask_tokenize__(self):
        return ("Record", tuple(self._keys))

    @staticmethod
    def __dask_optimize__(graph, keys, **kwargs):
        OPTIMIZED.append((len(graph), list(keys)))
        return cull(convert_legacy_graph(graph), keys)[0]

    __dask_scheduler__ = staticmethod(_counting_get)

    def __dask_postcompute__(self):
        return tuple, ()

    def __dask_postpersist__(self):
        return Record._rebuild, (self._keys,)

    @staticmethod
    def _rebuild(graph, keys, *, rename=None):
        return Record(graph, [replace_name_in_key(k, rename) for k in keys] if rename else keys)


class _Counter:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, x):
        with self.lock:
            self.calls += 1
        return x * 10


def _fail(*args):
    raise AssertionError("a culled task ran")


@pytest.fixture(autouse=True)
def _reset():
    OPTIMIZED.clear()
    SCHEDULED.clear()


def _record(counter=None):
    last = (mul, "b", 3) if counter is None else (counter, "b")
    graph = {"a": 1, "b": (add, "a", 1), "c": last, "unused": (_fail, "a")}
    return Record(graph, ["a", "b", "c"])


def test_is_a_collection_and_computes_with_its_own_optimizer_and_scheduler():
    r = _record()
    assert is_dask_collection(r) and not is_dask_collection(Record) and not is_dask_collection(Record(None, []))
    assert r.compute() == (1, 2, 6)
    assert OPTIMIZED == [(4, ["a", "b", "c"])]  # the culled graph ran: the failing task did not
    assert SCHEDULED == [3]
    assert compute(r, scheduler="sync") == ((1, 2, 6),) and SCHEDULED == [3]  # scheduler= wins over the default


def test_optimize_graph_false_skips_the_optimizer():
    r = Record({"a": 1, "b": (add, "a", 1)}, ["b"])
    assert compute(r, optimize_graph=False) == ((2,),) and OPTIMIZED == []


def test_computed_together_with_shoal_collections_shares_work():
    counter = _Counter()
    r = _record(counter)
    x = sa.arange(4, chunks=2)
    d = shoal.delayed(add)(shoal.delayed(sum)(r), 1)
    got_r, got_x, got_d = compute(r, x.sum(), d, scheduler="threads")
    assert got_r == (1, 2, 20) and got_x == 6 and got_d == 1 + 2 + 20 + 1
    assert counter.calls == 1


def test_persist_keeps_results_and_rebuilds_the_class():
    counter = _Counter()
    (p,) = persist(_record(counter), scheduler="sync")
    assert type(p) is Record and counter.calls == 1
    assert set(p.__dask_graph__()) == {"a", "b", "c"}
    assert p.compute() == (1, 2, 20) and counter.calls == 1
    assert p.persist().compute() == (1, 2, 20)


def test_optimize_returns_rebuilt_collections():
    (o,) = optimize(_record())
    assert type(o) is Record and "unused" not in o.__dask_graph__()
    assert o.compute() == (1, 2, 6)


def test_tokenize_uses_dask_tokenize():
    assert shoal.tokenize(_record()) == shoal.tokenize(Record({}, ["a", "b", "c"]))
    assert shoal.tokenize(_record()) != shoal.tokenize(Record({}, ["a", "b"]))


def test_delayed_wraps_it_and_takes_it_as_an_argument():
    r = _record()
    assert shoal.delayed(r).compute() == (1, 2, 6)
    assert shoal.delayed(lambda t: sum(t))(r).compute() == 9
    assert shoal.delayed(len)([r, r]).compute() == 2


def test_visualize_draws_its_graph():
    pytest.importorskip("graphviz")
    digraph = _record().visualize(filename=None)
    assert "unused" in digraph.source


def test_a_collection_holding_a_high_level_graph_over_a_shoal_array():
    x = sa.arange(6, chunks=3)
    layer = {"total": (sum, [(np.sum, (x.name, 0)), (np.sum, (x.name, 1))])}
    r = Record(HighLevelGraph.from_collections("total", layer, [x]), ["total"])
    assert r.__dask_layers__() == (x.name, "total")
    assert r.compute() == (15,)
    y = sa.Array(HighLevelGraph.from_collections("again", {("again", 0): (np.array, ["total"])}, [r]), "again",
                 ((1,),), dtype=int)
    np.testing.assert_array_equal(y.compute(), [15])


def test_rename_in_rebuild():
    r = Record._rebuild({}, [("x", 0), "x"], rename={"x": "y"})
    assert r.__dask_keys__() == [("y", 0), "y"]


def test_client_computes_and_persists_it():
    from shoal.distributed import Client

    counter = _Counter()
    r = _record(counter)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        assert client.compute(r).result(timeout=30) == (1, 2, 20)
        assert compute(r)[0] == (1, 2, 20)  # the default client wins over __dask_scheduler__
        p = client.persist(r)
        assert type(p) is Record
        assert client.compute(p).result(timeout=30) == (1, 2, 20)
        (q,) = persist(r)
        assert q.compute() == (1, 2, 20)
        assert shoal.delayed(sum)(q).compute() == 23
    assert SCHEDULED == []

from __future__ import annotations

import math
from operator import add, mul

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.graph import Alias, DataNode, Ref, Task, convert_legacy_graph, fuse_linear, inline
from shoal.local import get_sync


def sum_plus(constant, *values):
    return constant + sum(values)


def sum_list(values, constant=0):
    return sum(values) + constant


@st.composite
def random_graphs(draw):
    """A random DAG: each node reads a few earlier nodes, and some keys are requested."""
    n = draw(st.integers(1, 25))
    graph = {}
    keys = []
    for i in range(n):
        key = f"n-{i}" if draw(st.booleans()) else ("n", i)
        # Duplicates allowed on purpose: a task may name the same key twice.
        deps = draw(st.lists(st.sampled_from(keys), max_size=3)) if keys else []
        constant = draw(st.integers(-5, 5))
        style = draw(st.sampled_from(["args", "list", "kwargs", "alias", "data"]))
        if not deps and style == "data":
            node = DataNode(key, constant)
        elif len(set(deps)) == 1 and style == "alias":
            node = Alias(key, deps[0])
        elif style == "list":
            node = Task(key, sum_list, [Ref(d) for d in deps], constant)
        elif style == "kwargs":
            node = Task(key, sum_list, [Ref(d) for d in deps], constant=constant)
        else:
            node = Task(key, sum_plus, constant, *[Ref(d) for d in deps])
        graph[key] = node
        keys.append(key)
    requested = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=4, unique=True))
    return graph, requested


@given(case=random_graphs())
@settings(max_examples=150, deadline=None)
def test_fuse_linear_keeps_results_of_random_graphs(case):
    graph, requested = case
    fused, dependencies = fuse_linear(graph, keys=requested)
    assert set(requested) <= fused.keys() <= graph.keys()
    assert dependencies == {key: node.dependencies for key, node in fused.items()}
    assert get_sync(fused, requested) == get_sync(graph, requested)
    # Fusion is maximal: a second pass finds nothing left to fuse.
    again, _ = fuse_linear(fused, keys=requested)
    assert again.keys() == fused.keys()


@given(case=random_graphs(), max_length=st.integers(1, 4))
@settings(max_examples=75, deadline=None)
def test_fuse_linear_with_short_pieces_keeps_results(case, max_length):
    graph, requested = case
    fused, _ = fuse_linear(graph, keys=requested, max_length=max_length)
    assert get_sync(fused, requested) == get_sync(graph, requested)


@given(case=random_graphs(), data=st.data())
@settings(max_examples=150, deadline=None)
def test_inline_keeps_results_of_random_graphs(case, data):
    graph, requested = case
    chosen = data.draw(st.lists(st.sampled_from(list(graph)), max_size=5))
    inline_constants = data.draw(st.booleans())
    new = inline(graph, keys=chosen, inline_constants=inline_constants, keep=requested)
    assert set(requested) <= new.keys() <= graph.keys()
    assert get_sync(new, requested) == get_sync(graph, requested)
    for key in chosen:
        if key not in requested and any(key in node.dependencies for node in graph.values()):
            assert key not in new


def chain(n):
    graph = {"x-0": DataNode("x-0", 0)}
    for i in range(1, n):
        graph[f"x-{i}"] = Task(f"x-{i}", add, Ref(f"x-{i - 1}"), 1)
    return graph


def test_chain_becomes_one_task_under_the_last_key():
    fused, dependencies = fuse_linear(chain(5))
    assert list(fused) == ["x-4"]
    assert dependencies == {"x-4": frozenset()}
    assert get_sync(fused, "x-4") == 4


def test_requested_keys_split_chains():
    fused, _ = fuse_linear(chain(6), keys=["x-2", "x-5"])
    assert sorted(fused) == ["x-2", "x-5"]
    assert fused["x-5"].dependencies == {"x-2"}
    assert get_sync(fused, ["x-2", "x-5"]) == [2, 5]


def test_nested_requested_keys_are_flattened():
    fused, _ = fuse_linear(chain(4), keys=[["x-1"], [["x-3"]]])
    assert sorted(fused) == ["x-1", "x-3"]


def test_branching_points_are_kept():
    graph = convert_legacy_graph({
        "a": 1,
        "b": (add, "a", 1),     # a feeds b and c: a branching point
        "c": (mul, "a", 3),
        "d": (add, "b", "c"),   # d reads two keys: a joining point
        "e": (abs, "d"),
        "f": (add, "e", 1),
    })
    fused, _ = fuse_linear(graph, keys=["f"])
    assert sorted(fused) == ["a", "b", "c", "f"]
    assert fused["f"].dependencies == {"b", "c"}
    assert get_sync(fused, "f") == get_sync(graph, "f") == 6


def test_split_then_chain():
    graph = convert_legacy_graph({"x": 1, "y": (abs, "x"), "z1": (add, "y", 1), "z2": (add, "y", 2)})
    fused, _ = fuse_linear(graph)
    assert sorted(fused) == ["y", "z1", "z2"]
    assert get_sync(fused, ["z1", "z2"]) == [2, 3]


def test_long_chain_fuses_without_recursion_error():
    n = 10_000
    fused, dependencies = fuse_linear(chain(n), keys=[f"x-{n - 1}"])
    assert len(fused) == math.ceil(n / 50)
    assert f"x-{n - 1}" in fused
    assert get_sync(fused, f"x-{n - 1}") == n - 1


def test_max_length_cuts_chains_into_pieces():
    fused, _ = fuse_linear(chain(7), max_length=3)
    assert sorted(fused) == ["x-2", "x-5", "x-6"]
    assert get_sync(fused, "x-6") == 6
    with pytest.raises(ValueError, match="max_length >= 1"):
        fuse_linear(chain(3), max_length=0)


def test_task_naming_its_dependency_twice_is_not_fused():
    calls = []

    def expensive(x):
        calls.append(x)
        return x + 1

    graph = {
        "a": Task("a", expensive, 1),
        "b": Task("b", add, Ref("a"), Ref("a")),
        "c": Task("c", sum, [Task(None, abs, Ref("b")), Ref("b")]),
    }
    fused, _ = fuse_linear(graph)
    assert sorted(fused) == ["a", "b", "c"]
    assert get_sync(fused, "c") == 8
    assert calls == [1]


def test_different_annotations_are_not_fused():
    graph = chain(3)
    graph["x-2"].annotations = {"resources": {"GPU": 1}}
    fused, _ = fuse_linear(graph)
    assert sorted(fused) == ["x-1", "x-2"]
    assert fused["x-2"].annotations == {"resources": {"GPU": 1}}


def test_data_nodes_and_aliases_fuse():
    graph = {
        "a": DataNode("a", [1, 2]),
        "b": Alias("b", "a"),
        "c": Task("c", sum, Ref("b")),
        "d": Alias("d", "c"),
    }
    fused, dependencies = fuse_linear(graph)
    assert list(fused) == ["d"]
    assert dependencies == {"d": frozenset()}
    assert get_sync(fused, "d") == 3


def test_legacy_graphs_fuse_and_inline():
    legacy = {"x": 1, "y": (add, "x", 10), "z": (mul, "y", 2), "w": "z"}
    expected = get_sync(legacy, "w")
    for graph in (legacy, convert_legacy_graph(legacy)):
        fused, _ = fuse_linear(graph, keys=["w"])
        assert list(fused) == ["w"]
        assert get_sync(fused, "w") == expected
        inlined = inline(graph, keys=["y"])
        assert sorted(inlined) == ["w", "z"]
        assert get_sync(inlined, "w") == expected


def test_partial_graphs_with_outside_dependencies():
    graph = {"b": Task("b", add, Ref("outside"), 1), "c": Task("c", mul, Ref("b"), 2), "k": DataNode("k", 3),
             "d": Task("d", add, Ref("c"), Ref("k"))}
    fused, dependencies = fuse_linear(graph)
    assert sorted(fused) == ["c", "d", "k"]
    assert dependencies["c"] == {"outside"}
    inlined = inline(graph)
    assert sorted(inlined) == ["b", "c", "d"]
    assert inlined["d"]({"c": 10}) == 13


def test_inline_constants():
    graph = {
        "n": DataNode("n", 3),
        "s": DataNode("s", "text"),
        "big": DataNode("big", [1, 2, 3]),   # not a cheap literal: stays shared
        "lonely": DataNode("lonely", 7),     # nothing reads it: an output, kept
        "t": Task("t", lambda n, s, big: (n, s, len(big)), Ref("n"), Ref("s"), Ref("big")),
    }
    new = inline(graph)
    assert sorted(new) == ["big", "lonely", "t"]
    assert new["t"].dependencies == {"big"}
    assert get_sync(new, "t") == (3, "text", 3)
    assert inline(graph, inline_constants=False).keys() == graph.keys()


def test_inline_keys_transitively_and_keep():
    graph = convert_legacy_graph({"a": 1, "b": (add, "a", 1), "c": (mul, "b", 10), "d": (add, "c", "b")})
    new = inline(graph, keys=["b", "c"], keep=["c"])
    assert sorted(new) == ["c", "d"]
    assert new["d"].dependencies == frozenset()
    assert get_sync(new, ["c", "d"]) == [20, 22]
    assert inline(graph, keys="b", inline_constants=False).keys() == {"a", "c", "d"}

from __future__ import annotations

import pickle
from operator import add, mul

import pytest

from shoal._exceptions import CycleError, MissingDependencyError
from shoal.graph import (
    Alias,
    DataNode,
    Ref,
    Task,
    convert_legacy_graph,
    cull,
    is_key,
    key_split,
    toposort,
    validate,
)


def test_task_dependencies_computed_once_from_nested_arguments():
    t = Task("z", sum, [Ref("a"), (Ref("b"), 1)], start=Ref("c"))
    assert t.dependencies == {"a", "b", "c"}


def test_task_resolves_nested_containers_and_kwargs():
    t = Task("z", lambda xs, d, start: (xs, d, start), [Ref("a"), (Ref("b"), 1)], {"k": Ref("a")}, start=Ref("c"))
    assert t({"a": 1, "b": 2, "c": 3}) == ([1, (2, 1)], {"k": 1}, 3)


def test_nested_task_runs_inline():
    t = Task("z", add, Task(None, mul, Ref("x"), 3), 1)
    assert t.dependencies == {"x"}
    assert t({"x": 2}) == 7


def test_literal_containers_are_passed_unchanged():
    payload = [1, 2, 3]
    t = Task("z", id, payload)
    assert t({}) == id(payload)


def test_task_refuses_non_callable():
    with pytest.raises(TypeError, match="not callable"):
        Task("z", 3, 4)


def test_task_pickles_and_keeps_dependencies():
    t = Task("z", add, Ref("x"), Task(None, mul, Ref("y"), 2))
    t.annotations = {"priority": 3}
    back = pickle.loads(pickle.dumps(t))
    assert back.dependencies == {"x", "y"}
    assert back({"x": 1, "y": 5}) == 11
    assert back.annotations == {"priority": 3}


def test_substitute_inlines_task_data_and_alias():
    outer = Task("out", add, Ref("a"), Ref("b"))
    new = outer.substitute({"a": Task("a", mul, Ref("x"), 10), "b": DataNode("b", 5)})
    assert new.dependencies == {"x"}
    assert new({"x": 2}) == 25
    aliased = Task("out", abs, Ref("a")).substitute({"a": Alias("a", "src")})
    assert aliased.dependencies == {"src"}


def test_legacy_graph_conversion():
    graph = {
        "x": 1,
        ("y", 0): (add, "x", 10),
        "z": (sum, ["x", ("y", 0), (mul, "x", 2)]),
        "w": "z",
        "lit": "not-a-key",
        "t": (len, [1, 2]),
    }
    nodes = convert_legacy_graph(graph)
    assert isinstance(nodes["x"], DataNode)
    assert isinstance(nodes["w"], Alias)
    assert nodes["z"].dependencies == {"x", ("y", 0)}
    assert nodes["z"]({"x": 1, ("y", 0): 11}) == 14
    assert nodes["lit"]({}) == "not-a-key"
    assert nodes["t"]({}) == 2


def test_convert_keeps_existing_nodes():
    node = Task("a", abs, -1)
    assert convert_legacy_graph({"a": node})["a"] is node


@pytest.mark.parametrize(
    "key, expected",
    [("x", True), (("x", 1, 2), True), (1, True), (["x"], False), (("x", [1]), False), ({"a"}, False)],
)
def test_is_key(key, expected):
    assert is_key(key) is expected


@pytest.mark.parametrize(
    "key, name",
    [
        ("inc-0123456789abcdef0123456789abcdef", "inc"),
        (("array-sum-0123456789abcdef", 0, 0), "array-sum"),
        ("x", "x"),
        ("read-csv-12", "read-csv"),
        (("a",), "a"),
    ],
)
def test_key_split(key, name):
    assert key_split(key) == name


def test_toposort_and_cycle_error_names_the_keys():
    nodes = convert_legacy_graph({"a": (abs, "c"), "b": (abs, "a"), "c": (abs, "b"), "d": 1})
    with pytest.raises(CycleError) as info:
        toposort(nodes)
    assert set(info.value.keys) == {"a", "b", "c"}
    assert "cycle" in str(info.value)
    for k in "abc":
        assert repr(k) in str(info.value)


def test_self_dependency_is_a_cycle():
    with pytest.raises(CycleError):
        validate(convert_legacy_graph({"a": (abs, "a")}))


def test_missing_dependency_error_names_task_and_key():
    nodes = {"a": Task("a", abs, Ref("nope"))}
    with pytest.raises(MissingDependencyError) as info:
        validate(nodes)
    assert "'a'" in str(info.value) and "'nope'" in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_cull_keeps_only_what_is_needed_and_reports_unknown_keys():
    nodes = convert_legacy_graph({"a": 1, "b": (abs, "a"), "c": (abs, "b"), "unused": (abs, "a")})
    culled, deps = cull(nodes, ["c"])
    assert set(culled) == {"a", "b", "c"}
    assert deps["c"] == {"b"}
    with pytest.raises(MissingDependencyError, match="requested"):
        cull(nodes, ["zzz"])


def test_exceptions_pickle():
    for exc in (CycleError("msg", ["a", "b"]), MissingDependencyError("msg", "a", "b")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == "msg"

from __future__ import annotations

import pytest

from shoal.graph import convert_legacy_graph, order


def _f(*args):
    return None


@pytest.fixture(params=["abcde", "edcba"])
def abcde(request):
    """Key names in both orders, so ordering never depends on alphabetical luck."""
    return request.param


def test_priorities_are_a_topological_permutation(abcde):
    a, b, c, d, e = abcde
    graph = convert_legacy_graph({
        a: 1, b: (_f, a), c: (_f, a), d: (_f, b, c), e: (_f, d),
    })
    o = order(graph)
    assert sorted(o.values()) == list(range(5))
    for key, node in graph.items():
        for dep in node.dependencies:
            assert o[dep] < o[key]


def test_finishes_one_branch_before_starting_the_next(abcde):
    a, b, c, d, e = abcde
    graph = {}
    for branch in (a, b):
        leaves = [f"{branch}-leaf-{i}" for i in range(3)]
        for leaf in leaves:
            graph[leaf] = 1
        graph[f"{branch}-sum"] = (_f, *leaves)
    graph["total"] = (_f, f"{a}-sum", f"{b}-sum")
    o = order(convert_legacy_graph(graph))
    first = min((a, b), key=lambda br: o[f"{br}-sum"])
    second = b if first == a else a
    assert o[f"{first}-sum"] < min(o[f"{second}-leaf-{i}"] for i in range(3))


def test_heavier_dependency_runs_first():
    graph = {"leaf": 1, "x0": 1, "x1": (_f, "x0"), "x2": (_f, "x1"), "out": (_f, "leaf", "x2")}
    o = order(convert_legacy_graph(graph))
    assert o["x2"] < o["leaf"]


def test_natural_key_order_for_chunks():
    graph = {("x", i): i for i in range(12)}
    graph["s"] = (_f, *[("x", i) for i in range(12)])
    o = order(convert_legacy_graph(graph))
    assert [o[("x", i)] for i in range(12)] == sorted(o[("x", i)] for i in range(12))


def test_tree_reduction_ordering_keeps_few_results_alive():
    # Simulate running tasks in priority order one at a time and count live results.
    n, fan_in = 4096, 4
    graph = {("leaf", i): i for i in range(n)}
    level, depth = [("leaf", i) for i in range(n)], 0
    while len(level) > 1:
        nxt = []
        for j in range(0, len(level), fan_in):
            key = ("reduce", depth, j // fan_in)
            graph[key] = (_f, *level[j:j + fan_in])
            nxt.append(key)
        level, depth = nxt, depth + 1
    nodes = convert_legacy_graph(graph)
    o = order(nodes)
    dependents = {k: 0 for k in nodes}
    for node in nodes.values():
        for dep in node.dependencies:
            dependents[dep] += 1
    remaining = dict(dependents)
    live, peak = set(), 0
    for key in sorted(nodes, key=o.__getitem__):
        live.add(key)
        for dep in nodes[key].dependencies:
            remaining[dep] -= 1
            if remaining[dep] == 0:
                live.discard(dep)
        peak = max(peak, len(live))
    assert peak <= fan_in * depth + 1


def test_long_chain_does_not_recurse():
    graph = {"c0": 0}
    for i in range(1, 20000):
        graph[f"c{i}"] = (_f, f"c{i - 1}")
    o = order(convert_legacy_graph(graph))
    assert o["c19999"] == 19999

"""The task graph page's layout and cache, on fake scheduler state (no cluster)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.distributed.dashboard.graph import GraphView, layered_layout


@st.composite
def dags(draw: st.DrawFn) -> list[list[int]]:
    """Dependencies of each node, listed in a random (not topological) order."""
    n = draw(st.integers(0, 40))
    deps = [sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=3)))) if i else [] for i in range(n)]
    order = draw(st.permutations(range(n)))
    where = {old: new for new, old in enumerate(order)}
    shuffled: list[list[int]] = [[] for _ in range(n)]
    for old, ds in enumerate(deps):
        shuffled[where[old]] = [where[d] for d in ds]
    return shuffled


@given(dags())
@settings(max_examples=60, deadline=None)
def test_layers_follow_dependency_depth(deps):
    depth, row = layered_layout(deps)
    for node, ds in enumerate(deps):
        assert depth[node] == (1 + max(depth[d] for d in ds) if ds else 0)
    # Rows number each layer's members 0..k-1 without gaps or repeats.
    layers: dict[int, list[int]] = {}
    for node in range(len(deps)):
        layers.setdefault(depth[node], []).append(row[node])
    for rows in layers.values():
        assert sorted(rows) == list(range(len(rows)))


def test_deep_chains_do_not_recurse():
    n = 20_000
    depth, _ = layered_layout([[i - 1] if i else [] for i in range(n)])
    assert depth[-1] == n - 1


class _Record:
    def __init__(self, key, status="waiting", deps=()):
        self.key = key
        self.prefix = key.rsplit("-", 1)[0]
        self.status = status
        self.dependencies = set(deps)


def _state(n: int) -> SimpleNamespace:
    tasks = {}
    previous = None
    for i in range(n):
        ts = _Record(f"step-{i}", "memory" if i % 2 else "processing", [previous] if previous else [])
        tasks[ts.key] = ts
        previous = ts
    return SimpleNamespace(tasks=tasks)


def test_payload_sends_layout_once_then_states():
    state = _state(5)
    view = GraphView()
    first = view.payload(state)
    assert first["total"] == first["shown"] == 5 and not first["truncated"]
    assert [node[0] for node in first["nodes"]] == [f"step-{i}" for i in range(5)]
    assert [node[2] for node in first["nodes"]] == [0, 1, 2, 3, 4]
    assert first["edges"] == [[i - 1, i] for i in range(1, 5)]
    assert first["states"] == "pmpmp"
    again = view.payload(state, first["token"])
    assert "nodes" not in again and again["token"] == first["token"]
    state.tasks["step-0"].status = "memory"
    assert view.payload(state, first["token"])["states"] == "mmpmp"


def test_layout_is_rebuilt_when_tasks_change_and_marks_forgotten_ones():
    state = _state(4)
    view = GraphView(cost_factor=0.0)
    token = view.payload(state)["token"]
    del state.tasks["step-0"]
    answer = view.payload(state, token)
    assert answer["token"] != token and len(answer["nodes"]) == 3
    # A rebuild that is throttled keeps the old layout, and shows the dropped task as forgotten.
    slow = GraphView(cost_factor=1e9)
    state = _state(4)
    slow.payload(state)
    slow._cost = 1.0
    del state.tasks["step-3"]
    assert slow.payload(state)["states"] == "pmpf"


def test_big_graphs_are_capped():
    state = _state(50)
    answer = GraphView(max_nodes=10).payload(state)
    assert answer["total"] == 50 and answer["shown"] == 10 and answer["truncated"]
    assert len(answer["nodes"]) == 10 and len(answer["states"]) == 10

"""The task graph page's data: a layered layout of the scheduler's tasks and their live states.

Layout
------
Each shown task gets a *depth* (0 for tasks with no shown dependency, else
one more than its deepest dependency) and a *row* within its depth. Rows
follow the mean row of a task's dependencies (one barycentre pass), which
keeps chains straight and trees readable without a full crossing minimiser.

Cost
----
The page polls twice a second while the scheduler may hold 50,000 tasks, and
every answer is computed on the scheduler's event loop. So:

- at most ``max_nodes`` tasks are shown: the oldest ones still known (dict
  order), a window that moves forward as finished tasks are forgotten;
- the layout is rebuilt only when the set of tasks changed (checked in O(1)
  through the count and the first and last keys), and no more often than
  ``cost_factor`` times its own last build time (and every ``large_interval``
  seconds for graphs over the cap), so rebuilding stays a small fraction of
  the loop even when tasks churn;
- between rebuilds an answer carries only a string of one-letter states for
  the laid-out tasks; the page sends back the layout's ``token`` and gets the
  nodes and edges only when they changed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shoal.graph.task import key_split

if TYPE_CHECKING:
    from shoal.distributed.state.scheduler import SchedulerState
    from shoal.distributed.state.tasks import SchedulerTaskRecord

__all__ = ["STATE_CODES", "GraphView", "layered_layout"]

#: One letter per scheduler status, as the page decodes them; "f" marks a task forgotten since the layout.
STATE_CODES = {"released": "r", "waiting": "w", "no-worker": "n", "queued": "q", "processing": "p", "memory": "m",
               "erred": "e", "forgotten": "f"}


def layered_layout(deps: list[list[int]]) -> tuple[list[int], list[int]]:
    """Depth and row of each node, given each node's dependencies as indices into the same list.

    Examples
    --------
    >>> layered_layout([[], [], [0, 1], [2]])     # two leaves, their sum, then one more step
    ([0, 0, 1, 2], [0, 1, 0, 0])
    """
    n = len(deps)
    depth = [-1] * n
    for root in range(n):
        if depth[root] >= 0:
            continue
        # Iterative post-order walk: graphs can be far deeper than Python's recursion limit.
        stack = [root]
        while stack:
            node = stack[-1]
            pending = [d for d in deps[node] if depth[d] < 0]
            if pending and depth[node] != -2:
                depth[node] = -2  # on the stack: a cycle (impossible in a task graph) cannot loop forever
                stack.extend(pending)
                continue
            stack.pop()
            depth[node] = 1 + max((depth[d] for d in deps[node] if depth[d] >= 0), default=-1)
    layers: dict[int, list[int]] = {}
    for node in range(n):
        layers.setdefault(depth[node], []).append(node)
    row = [0] * n
    for level in sorted(layers):
        members = layers[level]
        if level > 0:
            members.sort(key=lambda i: sum(row[d] for d in deps[i]) / len(deps[i]) if deps[i] else 0.0)
        for position, node in enumerate(members):
            row[node] = position
    return depth, row


class GraphView:
    """A cached layout of (up to ``max_nodes`` of) the scheduler's tasks; see the module docstring."""

    def __init__(self, max_nodes: int = 5000, cost_factor: float = 20.0, large_interval: float = 2.0) -> None:
        self.max_nodes = max_nodes
        self.cost_factor = cost_factor
        #: Least seconds between rebuilds while the graph is bigger than ``max_nodes``.
        self.large_interval = large_interval
        #: Changes whenever the layout is rebuilt; pages echo it back to skip re-sending nodes.
        self.token = 0
        self._signature: tuple[Any, ...] | None = None
        self._built_at = -float("inf")
        self._cost = 0.0
        self._records: list[SchedulerTaskRecord] = []
        self._nodes: list[list[Any]] = []
        self._edges: list[list[int]] = []
        self._depth = 0

    @staticmethod
    def _signature_of(state: SchedulerState) -> tuple[Any, ...]:
        tasks = state.tasks
        if not tasks:
            return (0,)
        return (len(tasks), next(iter(tasks)), next(reversed(tasks)))

    def _rebuild(self, state: SchedulerState) -> None:
        records = []
        for ts in state.tasks.values():
            records.append(ts)
            if len(records) >= self.max_nodes:
                break
        index = {id(ts): i for i, ts in enumerate(records)}
        deps = [[index[id(d)] for d in ts.dependencies if id(d) in index] for ts in records]
        depth, row = layered_layout(deps)
        self._records = records
        self._nodes = [[str(ts.key), ts.prefix or key_split(ts.key), depth[i], row[i]]
                       for i, ts in enumerate(records)]
        self._edges = [[d, i] for i, ds in enumerate(deps) for d in ds]
        self._depth = max(depth, default=-1) + 1
        self.token += 1

    def refresh(self, state: SchedulerState, now: float | None = None) -> None:
        """Rebuild the layout if the tasks changed and the last build is old enough."""
        signature = self._signature_of(state)
        if signature == self._signature:
            return
        clock = time.perf_counter() if now is None else now
        wait = self.cost_factor * self._cost
        if len(state.tasks) > self.max_nodes:
            # A capped view of a big, churning graph: moving the window more often than this only costs.
            wait = max(wait, self.large_interval)
        if clock - self._built_at < wait:
            return
        started = time.perf_counter()
        self._rebuild(state)
        self._cost = time.perf_counter() - started
        self._built_at = clock
        self._signature = signature

    def payload(self, state: SchedulerState, token: int | None = None) -> dict[str, Any]:
        """The JSON answer: states always, nodes and edges unless ``token`` names the current layout."""
        self.refresh(state)
        codes = STATE_CODES
        tasks = state.tasks
        # A record dropped from the scheduler since the layout was built shows as forgotten, whatever it last held.
        states = "".join(codes.get(ts.status, "r") if tasks.get(ts.key) is ts else "f" for ts in self._records)
        out: dict[str, Any] = {"token": self.token, "total": len(tasks), "shown": len(self._records),
                               "truncated": len(tasks) > len(self._records), "max_nodes": self.max_nodes,
                               "states": states}
        if token != self.token:
            out.update(nodes=self._nodes, edges=self._edges, depth=self._depth)
        return out

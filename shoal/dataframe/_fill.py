"""``ffill`` and ``bfill`` across partition edges.

Without ``limit`` a missing value at the top of a partition takes the last
valid value of *any* earlier partition, however many all-missing partitions
lie between. Each partition therefore hands on one small row, its *carry*:
the last row of ``(carry of the previous partition + this partition).ffill()``.
The carries form a chain of one-row tasks, and partition ``i`` is filled as
``(carry(i - 1) + partition(i)).ffill()`` minus the borrowed row. (Dask borrows
only the previous partition's last row, which leaves gaps after an
all-missing partition; this gives pandas' result.) ``bfill`` runs the same
chain from the right.

With ``limit=n`` only the ``n`` rows before (or after) a partition can fill
it, so the general overlap machinery of :mod:`shoal.dataframe._overlap` borrows
exactly those rows.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.dataframe._overlap import _like
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["FillAcross"]


def _filled(part: Any, carry: Any, forward: bool) -> Any:
    """``part`` filled from its own values and the ``carry`` row beside it."""
    if carry is None or not len(carry) or not len(part):
        return part.ffill() if forward else part.bfill()
    if forward:
        return pd.concat([carry, part]).ffill().iloc[len(carry):]
    return pd.concat([part, carry]).bfill().iloc[:len(part)]


def _next_carry(carry: Any, part: Any, forward: bool) -> Any:
    """The one row that the next partition (in fill direction) needs; may be empty."""
    out = _filled(part, carry, forward)
    if not len(out):
        return carry
    return out.iloc[-1:] if forward else out.iloc[:1]


def _fill_partition(part: Any, carry: Any, forward: bool, meta: Any) -> Any:
    out = _filled(part, carry, forward)
    # The borrowed row can widen a dtype (a float row beside an all-missing object column): restore meta's.
    return _like(out, meta)


class FillAcross(Expr):
    """``ffill``/``bfill`` (no limit) with a carry chain across partitions; see the module docstring."""

    _parameters = ("frame", "forward")
    _fuses_inputs = False

    @property
    def _label(self) -> str:  # type: ignore[override]
        return "ffill" if self.forward else "bfill"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta.ffill() if self.forward else self.frame._meta.bfill()

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.frame.divisions)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n = self.frame.npartitions
        forward = bool(self.forward)
        carry_name = f"{self._name}-carry"
        order = range(n) if forward else range(n - 1, -1, -1)
        graph: dict[Key, GraphNode] = {}
        prev: Any = None
        for step, i in enumerate(order):
            part = ctx.input(self.frame, i)
            graph[(self._name, i)] = Task((self._name, i), _fill_partition, part, prev, forward, self._meta)
            if step < n - 1:
                key = (carry_name, i)
                graph[key] = Task(key, _next_carry, prev, part, forward)
                prev = Ref(key)
        return graph

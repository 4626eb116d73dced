"""From an expression to a task graph: optimize, then lower.

``optimize(expr)`` rewrites the plan before any task exists:

1. *predicate pushdown*: ``df[df.x > 5]`` (comparisons of a column with a
   value, joined by ``&``) over a reader that filters while reading
   (Parquet) becomes that reader with the condition added to its filters, so
   row groups whose statistics exclude it are never read;
2. *partition pruning*: ``Partitions`` (from ``head``, ``loc``, ``partitions``)
   sinks through blockwise steps into readers, so only the partitions asked
   for are ever read;
3. *projection pushdown*: walking from the output towards the readers, each
   node says which columns it needs from each child
   (``Expr._needed_columns``); readers are rebuilt to produce only the union
   of what their consumers need, and the nodes above are rebuilt on them.

``build_graph(expr)`` then lowers every node to tasks. A :class:`Blockwise`
node whose single consumer reads it partition by partition runs *inline*: its
task is nested in the consumer's task for the same partition instead of
getting keys of its own. A chain ``read -> filter -> assign -> sum-chunk`` is
therefore one task per partition. A node read by several consumers keeps its
own keys, so shared work runs once.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from typing import Any

import numpy as np

from shoal.dataframe._expr import (
    Blockwise,
    Expr,
    Filter,
    MapPartitions,
    Partitions,
    Projection,
    frame_operands,
    is_scalar_expr,
)
from shoal.graph.task import GraphNode, Key, Ref

__all__ = ["build_graph", "optimize", "walk"]


def walk(root: Expr) -> list[Expr]:
    """Every distinct expression under ``root`` (by name), consumers before their inputs."""
    order: list[Expr] = []
    seen: set[str] = set()
    # Iterative post-order; reversing it puts every consumer before its inputs.
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        expr, done = stack.pop()
        if done:
            order.append(expr)
            continue
        if expr._name in seen:
            continue
        seen.add(expr._name)
        stack.append((expr, True))
        for dep in reversed(expr.dependencies()):
            if dep._name not in seen:
                stack.append((dep, False))
    return order[::-1]


def _transform(root: Expr, rewrite: Any) -> Expr:
    """Rebuild the tree bottom-up, calling ``rewrite(expr)`` on each node once its operands are rebuilt."""
    memo: dict[str, Expr] = {}

    def visit(op: Any) -> Any:
        if isinstance(op, Expr):
            return rebuild(op)
        if type(op) is list or type(op) is tuple:
            return type(op)(visit(o) for o in op)
        return op

    def rebuild(expr: Expr) -> Expr:
        done = memo.get(expr._name)
        if done is not None:
            return done
        operands = [visit(op) for op in expr.operands]
        changed = any(a is not b for a, b in zip(operands, expr.operands, strict=True))
        new = expr.rebuild(operands) if changed else expr
        new = rewrite(new, expr)
        memo[expr._name] = new
        return new

    return rebuild(root)


def _prune_partitions(root: Expr) -> Expr:
    def sink(expr: Expr, original: Expr | None = None) -> Expr:
        if not isinstance(expr, Partitions):
            return expr
        child, indices = expr.frame, list(expr.indices)
        if indices == list(range(child.npartitions)):
            return child
        pruned = child._select_partitions(indices)
        if pruned is not None:
            return pruned
        if isinstance(child, Blockwise) and not isinstance(child, Partitions) and not child._pins_partitions:
            frames = [op for op in child.operands if isinstance(op, Expr) and not is_scalar_expr(op)]
            nested = frame_operands(child.operands)
            if frames and len(frames) == len(nested) and all(op.npartitions == child.npartitions for op in frames):
                ops = [sink(Partitions(op, indices)) if isinstance(op, Expr) and not is_scalar_expr(op) else op
                       for op in child.operands]
                return child.rebuild(ops)
        return expr

    return _transform(root, sink)


def _prune_columns(root: Expr) -> Expr:
    needed: dict[str, set[Any] | None] = {root._name: None}
    for expr in walk(root):
        mine = needed.get(expr._name)
        for child, want in expr._needed_columns(mine):
            if child._name not in needed:
                needed[child._name] = None if want is None else set(want)
            else:
                have = needed[child._name]
                needed[child._name] = None if have is None or want is None else have | want

    def narrow(expr: Expr, original: Expr) -> Expr:
        want = needed.get(original._name)
        if want is None or not expr.columns or set(expr.columns) <= want:
            return expr
        pruned = expr._select_columns([c for c in expr.columns if c in want])
        return pruned if pruned is not None else expr

    return _transform(root, narrow)


# Not "!=": pandas keeps missing values (NaN != 5 is True) where Arrow's filter drops nulls.
_COMPARISONS = {operator.gt: ">", operator.ge: ">=", operator.lt: "<", operator.le: "<=", operator.eq: "=="}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "=="}


def _is_plain_value(value: Any) -> bool:
    return isinstance(value, int | float | str | bool | np.number) and not (
        isinstance(value, float | np.floating) and np.isnan(value))


def _conditions(predicate: Expr, source: Expr) -> list[tuple[Any, str, Any]] | None:
    """``predicate`` as ``(column, op, value)`` conditions on ``source`` (all must hold), if it has that form."""
    if not isinstance(predicate, MapPartitions) or predicate.kwargs:
        return None
    func, args = predicate.func, list(predicate.args)
    if func is operator.and_ and len(args) == 1 and isinstance(args[0], Expr):
        left, right = _conditions(predicate.frame, source), _conditions(args[0], source)
        return None if left is None or right is None else left + right
    flipped = isinstance(func, functools.partial) and func.func.__name__ == "_flip" and len(func.args) == 1
    op = _COMPARISONS.get(func.args[0] if flipped else func)  # type: ignore[union-attr]
    column = predicate.frame
    if op is None or len(args) != 1 or not _is_plain_value(args[0]):
        return None
    if not isinstance(column, Projection) or column.frame._name != source._name or isinstance(column.columns_, list):
        return None
    return [(column.columns_, _FLIPPED[op] if flipped else op, args[0])]


def _push_predicates(root: Expr) -> Expr:
    """``df[df.x > 5]`` on a reader that can filter while reading becomes that reader with a filter."""
    def push(expr: Expr, original: Expr) -> Expr:
        if not isinstance(expr, Filter):
            return expr
        conditions = _conditions(expr.predicate, expr.frame)
        if conditions is None:
            return expr
        pushed = expr.frame._push_filter(conditions)
        return expr if pushed is None else pushed

    return _transform(root, push)


def optimize(expr: Expr) -> Expr:
    """The plan ``compute()`` runs: partitions, rows and columns nobody needs are never read."""
    return _prune_columns(_prune_partitions(_push_predicates(expr)))


class _LowerContext:
    """Decides, per child, whether a consumer references its keys or runs its task inline."""

    def __init__(self, root: Expr) -> None:
        self.exprs = walk(root)
        counts: Counter[str] = Counter()
        for expr in self.exprs:
            for dep in expr.dependencies():
                counts[dep._name] += 1
        consumers: dict[str, Expr] = {}
        for expr in self.exprs:
            for dep in expr.dependencies():
                consumers[dep._name] = expr
        self.inline: set[str] = set()
        for expr in self.exprs:
            consumer = consumers.get(expr._name)
            if (expr is not root and isinstance(expr, Blockwise) and counts[expr._name] == 1
                    and consumer is not None and consumer._fuses_inputs and not is_scalar_expr(expr)):
                self.inline.add(expr._name)

    def input(self, child: Expr, i: int) -> Any:
        if is_scalar_expr(child):
            return Ref((child._name, 0))
        if child._name in self.inline:
            return child._task(i, self, None)  # type: ignore[attr-defined]
        return Ref((child._name, i))


def build_graph(root: Expr) -> dict[Key, GraphNode]:
    """Lower an (optimized) expression to tasks; see the module docstring."""
    ctx = _LowerContext(root)
    graph: dict[Key, GraphNode] = {}
    for expr in ctx.exprs:
        if expr._name not in ctx.inline:
            graph.update(expr._layer(ctx))
    return graph

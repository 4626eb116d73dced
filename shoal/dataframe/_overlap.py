"""Operations that look past a partition's edges: overlaps and cumulative carries.

:class:`Overlap` runs a function on each partition extended with rows of its
neighbours: ``before`` rows (or a time span on a datetime index) from the
partitions to its left and ``after`` rows (or span) from the partitions to its
right, then trims the result back to the partition's own rows. The borrowed
rows travel along a chain of small tasks, so a window longer than one
partition still sees every row it needs: the tail handed to partition ``i``
is cut from ``tail(i - 1) + partition(i - 1)``, never from one partition
alone. ``shift``, ``diff``, ``rolling`` and ``map_overlap`` are built on it.

:class:`Cumulative` runs ``cumsum``/``cumprod``/``cummax``/``cummin`` on each
partition after prepending one row: the carry, the same reduction over every
earlier partition. Each partition contributes one small summary, and the
carries form a chain of tiny tasks, so no partition waits on another's data.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.dataframe._meta import with_index_of
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["Cumulative", "Overlap"]

#: ``before="all"``: hand every earlier row to each partition (``expanding`` windows).
ALL = "all"


def _concat(pieces: list[Any]) -> Any:
    kept = [p for p in pieces if p is not None and len(p)]
    if not kept:
        return next(p for p in pieces if p is not None)
    return kept[0] if len(kept) == 1 else pd.concat(kept)


def _tail_for_next(prev_tail: Any, part: Any, before: Any) -> Any:
    """The rows of ``prev_tail + part`` that the next partition may need."""
    joined = _concat([prev_tail, part])
    if isinstance(before, str):
        return joined
    if isinstance(before, pd.Timedelta):
        if not len(joined):
            return joined
        # Windows end at the next partition's rows, whose labels are >= our last one: a superset.
        return joined[joined.index >= joined.index[-1] - before]
    return joined.iloc[max(len(joined) - before, 0):]


def _head_for_previous(part: Any, next_head: Any, after: Any) -> Any:
    """The rows of ``part + next_head`` that the previous partition may need."""
    joined = _concat([part, next_head])
    if isinstance(after, pd.Timedelta):
        if not len(joined):
            return joined
        return joined[joined.index <= joined.index[0] + after]
    return joined.iloc[:after]


def _apply_overlap(prev: Any, part: Any, nxt: Any, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                   index: int, meta: Any) -> Any:
    n_prev = 0 if prev is None else len(prev)
    joined = _concat([prev, part, nxt])
    out = func(joined, *args, **kwargs)
    if len(out) != len(joined):
        raise ValueError(
            f"map_overlap: the function returned {len(out)} rows for partition {index} extended to "
            f"{len(joined)} rows; it must return one row per input row so the borrowed rows can be trimmed. "
            f"Use map_partitions for functions that change the number of rows."
        )
    out = out.iloc[n_prev:n_prev + len(part)]
    # An empty partition keeps the meta's dtypes (pandas keeps ints on zero rows where data would give floats).
    return _like(out, meta) if not len(out) else out


def normalize_span(value: Any, what: str, index_meta: Any) -> Any:
    """``before``/``after`` as a non-negative int, a ``pd.Timedelta`` or ``ALL``; checks it fits the index."""
    if value is None or value == 0:
        return 0
    if isinstance(value, str) and value == ALL:
        return ALL
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{what} must be a non-negative number of rows or a time span, got {value}")
        return value
    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a number of rows or a time span like '2h', got {value!r}") from exc
    if not isinstance(index_meta, pd.DatetimeIndex):
        raise TypeError(
            f"{what}={value!r} is a time span, which needs a datetime index, but the index is "
            f"{type(index_meta).__name__} ({index_meta.dtype}). Use a number of rows, or set a datetime index."
        )
    if span < pd.Timedelta(0):
        raise ValueError(f"{what} must be a non-negative time span, got {value!r}")
    return span


class Overlap(Expr):
    """``func`` on each partition extended by ``before``/``after`` rows of its neighbours; see the module docstring.

    ``func(extended, *args, **kwargs)`` must return one row per input row.
    """

    _parameters = ("frame", "func", "before", "after", "args", "kwargs", "meta", "label")
    _defaults = {"args": (), "kwargs": None, "meta": None, "label": "overlap"}
    # Each partition is read by three tasks (its own and both neighbours'), so it is computed once, not inlined.
    _fuses_inputs = False

    @functools.cached_property
    def _meta(self) -> Any:
        if self.meta is not None:
            # The output keeps the input's rows (trimmed to them), so it has the input's index, whatever
            # index a meta=("x", "f8") tuple was given (a RangeIndex).
            return with_index_of(self.meta, self.frame._meta)
        return self.func(self.frame._meta, *self.args, **(self.kwargs or {})).iloc[:0]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.frame.divisions)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n = self.frame.npartitions
        parts = [ctx.input(self.frame, i) for i in range(n)]
        graph: dict[Key, GraphNode] = {}
        prev_name, next_name = f"{self._name}-before", f"{self._name}-after"
        if self.before:
            for i in range(1, n):
                key = (prev_name, i)
                carry = Ref((prev_name, i - 1)) if i > 1 else None
                graph[key] = Task(key, _tail_for_next, carry, parts[i - 1], self.before)
        if self.after:
            for i in range(n - 2, -1, -1):
                key = (next_name, i)
                carry = Ref((next_name, i + 1)) if i < n - 2 else None
                graph[key] = Task(key, _head_for_previous, parts[i + 1], carry, self.after)
        for i in range(n):
            prev = Ref((prev_name, i)) if self.before and i > 0 else None
            nxt = Ref((next_name, i)) if self.after and i < n - 1 else None
            key = (self._name, i)
            graph[key] = Task(key, _apply_overlap, prev, parts[i], nxt, self.func, tuple(self.args),
                              dict(self.kwargs or {}), i, self._meta)
        return graph


# -- cumulative operations ------------------------------------------------------------------
_REDUCTION = {"cumsum": "sum", "cumprod": "prod", "cummax": "max", "cummin": "min"}


def _summary(part: Any, method: str, skipna: bool) -> Any:
    """The reduction matching ``method`` (``sum`` for ``cumsum``), per column for a frame."""
    how = _REDUCTION[method]
    if isinstance(part, pd.DataFrame):
        return {c: getattr(part.iloc[:, j], how)(skipna=skipna) for j, c in enumerate(part.columns)}
    return getattr(part, how)(skipna=skipna)


def _combine_two(a: Any, b: Any, how: str, skipna: bool) -> Any:
    return getattr(pd.Series([a, b]), how)(skipna=skipna)


def _next_carry(carry: Any, summary: Any, method: str, skipna: bool) -> Any:
    if carry is None:
        return summary
    how = _REDUCTION[method]
    if isinstance(summary, dict):
        return {c: _combine_two(carry[c], summary[c], how, skipna) for c in summary}
    return _combine_two(carry, summary, how, skipna)


def _apply_cumulative(part: Any, carry: Any, method: str, skipna: bool, meta: Any) -> Any:
    if carry is None or not len(part):
        out = getattr(part, method)(skipna=skipna)
    else:
        if isinstance(part, pd.DataFrame):
            head = pd.DataFrame({j: pd.Series([carry[c]]) for j, c in enumerate(part.columns)})
            body = part.reset_index(drop=True)
            body.columns = range(part.shape[1])
        else:
            head, body = pd.Series([carry]), part.reset_index(drop=True)
        out = getattr(pd.concat([head, body], ignore_index=True), method)(skipna=skipna).iloc[1:]
        out.index = part.index
        if isinstance(part, pd.DataFrame):
            out.columns = part.columns
        else:
            out.name = part.name
    return _like(out, meta)


def _like(out: Any, meta: Any) -> Any:
    """Cast back to the dtypes pandas gives on the whole column (the carry row can widen them)."""
    try:
        if isinstance(meta, pd.DataFrame):
            wrong = {c: meta.dtypes[c] for c in meta.columns if out.dtypes[c] != meta.dtypes[c]}
            return out.astype(wrong) if wrong else out
        return out if out.dtype == meta.dtype else out.astype(meta.dtype)
    except (TypeError, ValueError):
        return out


class Cumulative(Expr):
    """``cumsum``/``cumprod``/``cummax``/``cummin`` across partitions; see the module docstring."""

    _parameters = ("frame", "method", "skipna")
    _fuses_inputs = False

    @property
    def _label(self) -> str:  # type: ignore[override]
        return self.method  # type: ignore[no-any-return]

    @functools.cached_property
    def _meta(self) -> Any:
        return getattr(self.frame._meta, self.method)(skipna=self.skipna)

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.frame.divisions)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n = self.frame.npartitions
        summary, carry = f"{self._name}-summary", f"{self._name}-carry"
        graph: dict[Key, GraphNode] = {}
        for i in range(n):
            part = ctx.input(self.frame, i)
            if i < n - 1:
                graph[(summary, i)] = Task((summary, i), _summary, part, self.method, self.skipna)
            if i >= 1:
                before = Ref((carry, i - 1)) if i > 1 else None
                graph[(carry, i)] = Task((carry, i), _next_carry, before, Ref((summary, i - 1)), self.method,
                                         self.skipna)
            prev = Ref((carry, i)) if i >= 1 else None
            graph[(self._name, i)] = Task((self._name, i), _apply_cumulative, part, prev, self.method, self.skipna,
                                          self._meta)
        return graph

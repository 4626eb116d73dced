"""Results assembled from several one-partition results (``nunique`` per column, ``describe``)."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.graph.task import GraphNode, Key, Task

__all__ = ["Combine", "concat_scalars"]


class Combine(Expr):
    """``func(list_of_results)`` over one-partition expressions, as one partition."""

    _parameters = ("exprs", "func", "meta", "label")

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None, None)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        key = (self._name, 0)
        return {key: Task(key, self.func, [ctx.input(e, 0) for e in self.exprs])}


def _to_series(values: list[Any], index: list[Any], name: Any = None) -> pd.Series:
    return pd.Series(values, index=index, name=name)


def concat_scalars(exprs: list[Expr], index: list[Any]) -> Combine:
    meta = pd.Series([], dtype="int64")
    return Combine(exprs, functools.partial(_to_series, index=index), meta, "nunique")

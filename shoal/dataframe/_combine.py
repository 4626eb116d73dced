"""Results assembled from several one-partition results (``nunique`` per column, ``describe``)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe import _reductions as red
from shoal.dataframe._expr import Expr, Projection
from shoal.graph.task import GraphNode, Key, Task

__all__ = ["Combine", "concat_scalars", "describe_frame", "describe_series"]


class Combine(Expr):
    """``func(list_of_results)`` over one-partition expressions, as one partition."""

    _parameters = ("exprs", "func", "meta", "label")

    @property
    def _label(self) -> str:  # type: ignore[override]
        return self.label  # type: ignore[no-any-return]

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta

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


_STATS = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]


def _describe_values(values: list[Any], name: Any) -> pd.Series:
    count, mean, std, low, quartiles, high = values
    data = [count, mean, std, low, *np.asarray(quartiles, dtype="f8"), high]
    return pd.Series(np.asarray(data, dtype="f8"), index=_STATS, name=name)


def _series_stats(expr: Expr) -> Combine:
    parts = [
        red.reduction(expr, "count"),
        red.moment(expr, "mean"),
        red.moment(expr, "std"),
        red.reduction(expr, "min"),
        red.quantile(expr, [0.25, 0.5, 0.75]),
        red.reduction(expr, "max"),
    ]
    meta = pd.Series([], dtype="f8", name=expr._meta.name)
    return Combine(parts, functools.partial(_describe_values, name=expr._meta.name), meta, "describe")


def describe_series(series: Any) -> Combine:
    if series._meta.dtype.kind not in "iufb":
        raise NotImplementedError(
            f"describe() supports numeric Series here; {series.name!r} has dtype {series.dtype}. "
            f"Use value_counts() or nunique() for other data."
        )
    return _series_stats(series._expr)


def _frame_of(columns: list[pd.Series]) -> pd.DataFrame:
    return pd.concat(columns, axis=1)


def describe_frame(frame: Any) -> Combine:
    numeric = [c for c, t in frame._meta.dtypes.items() if t.kind in "iuf"]
    if not numeric:
        raise NotImplementedError("describe() needs at least one numeric column here")
    parts = [_series_stats(Projection(frame._expr, c)) for c in numeric]
    meta = pd.DataFrame({c: pd.Series([], dtype="f8") for c in numeric})
    return Combine(parts, _frame_of, meta, "describe")

"""Group-wise work that needs every row of a group in one place: holistic aggregations and transforms.

Some group statistics have no small partial that combines exactly (a median, a quantile, value counts,
the distinct values, a covariance matrix computed the way pandas does), and transforms such as ``shift``
or ``ffill`` need a group's rows in order. For these, rows are hash-shuffled on the group keys
(:func:`~shoal.dataframe._groupby_shuffle.groupby_shuffled`): every group then lies whole, in its
original row order, in one partition, and pandas runs the very same method there. Results are therefore
pandas' own, value for value.

Aggregations (``median``, ``quantile``, ``value_counts``, ``unique``, ``cov``, ``corr`` and ``agg`` with
names such as ``"median"``):

- ``split_out=1`` (the default): the per-partition results are gathered in one task and, with
  ``sort=True``, stably ordered by the group keys (the leading index levels; missing keys last), so the
  rows come out in pandas' order, extra index levels (a value, a quantile, a column) included. With
  ``sort=False`` groups come in partition order, not in order of first appearance as in pandas.
- ``split_out=n`` (or ``True``: as many as the input has): ``n`` output partitions, each sorted by
  group; there is no order across partitions (as in Dask, whose default for ``median`` is this).

Transforms (``shift``, ``diff``, ``ffill``, ``bfill``, ``cummin``, ``cummax``) keep the input's index
and values, but rows come back grouped by output partition, as Dask's ``shift``/``ffill``/``bfill`` do:
compare with pandas after ``sort_index``. The output's divisions are unknown.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import TreeReduce
from shoal.dataframe._groupby_observed import expanding, keeping_missing_keys, needs_unobserved, split_groups
from shoal.dataframe._groupby_shuffle import GroupOp, groupby_shuffled
from shoal.dataframe._meta import meta_from_output

__all__ = ["HOLISTIC_AGG_NAMES", "groupby_transform_like", "is_holistic_agg", "output_partitions", "projected",
           "shuffle_agg", "shuffle_reduce"]

#: Aggregation names that ``agg`` sends down the shuffle path (each group whole, pandas computes it).
HOLISTIC_AGG_NAMES = frozenset({"median", "sem", "any", "all", "nunique", "idxmin", "idxmax"})
_NUMPY_NAMES = {np.median: "median"}


def output_partitions(gb: Any, split_out: Any) -> int:
    """How many partitions a grouped aggregation returns: ``split_out``, with ``None`` as 1, ``True`` as the input's."""
    if split_out is None:
        return 1
    if split_out is True:
        return int(gb.obj.npartitions)
    if isinstance(split_out, bool) or not isinstance(split_out, int | np.integer) or split_out < 1:
        raise ValueError(f"split_out must be a positive integer or True (one output partition per input "
                         f"partition), got {split_out!r}")
    return int(split_out)


def _concat(parts: list[Any]) -> Any:
    kept = [p for p in parts if len(p)] or parts[:1]
    return pd.concat(kept) if len(kept) > 1 else kept[0]


def _identity(part: Any) -> Any:
    return part


def order_by_groups(out: Any, nkeys: int) -> Any:
    """``out`` stably sorted by its first ``nkeys`` index levels, missing keys last (pandas' group order).

    Later levels keep the order pandas gave them within each group (e.g. value counts, largest first).
    """
    if len(out) < 2:
        return out
    codes = []
    for level in range(nkeys):
        code, _ = pd.factorize(out.index.get_level_values(level), sort=True)
        codes.append(np.where(code < 0, code.max() + 1, code))
    # np.lexsort is stable and sorts by its last key first.
    return out.iloc[np.lexsort(codes[::-1])]


def cast_like(out: Any, meta: Any) -> Any:
    """``out`` with ``meta``'s dtypes where they differ (a concatenation of empty pieces may widen them)."""
    try:
        if isinstance(meta, pd.Series):
            return out.astype(meta.dtype) if out.dtype != meta.dtype else out
        wrong = {c: t for c, t in meta.dtypes.items() if c in out.columns and out.dtypes[c] != t}
        return out.astype(wrong) if wrong else out
    except (TypeError, ValueError):
        # e.g. integer metadata but missing values in the data: keep the wider dtype pandas would give.
        return out


def _gather(parts: list[Any], nkeys: int, sort: bool, meta: Any) -> Any:
    out = _concat(parts)
    if sort:
        out = order_by_groups(out, nkeys)
    return cast_like(out, meta)


def projected(gb: Any) -> Any:
    """``gb`` over only its key and selected columns, so that the shuffle moves (and readers load) no others."""
    if not isinstance(gb.obj._meta, pd.DataFrame) or gb.selection is None:
        return gb
    selected = gb.selection if isinstance(gb.selection, list) else [gb.selection]
    keys = [b for b in gb.by if not isinstance(b, FrameBase)]
    columns = list(dict.fromkeys([*keys, *selected]))
    if len(columns) == len(gb.obj._meta.columns):
        return gb
    return type(gb)(gb.obj[columns], gb.by, sort=gb.sort, dropna=gb.dropna, group_keys=gb.group_keys,
                    selection=gb.selection, observed=getattr(gb, "observed", True))


def shuffle_reduce(gb: Any, op: GroupOp, label: str, split_out: Any = None, meta: Any = None) -> Any:
    """``op(grouped)`` per group after a shuffle on the keys; see the module docstring for the output's order.

    ``meta`` defaults to ``op`` run by pandas on the metadata, so bad input (a column pandas cannot
    aggregate, an unknown option) raises pandas' own error while the graph is built.
    """
    gb = projected(gb)
    if meta is None:
        meta = meta_from_output(op(gb._pandas_groupby()))
    n_out = output_partitions(gb, split_out)
    if n_out > 1 and needs_unobserved(gb):
        # Which groups are absent is known only once all are in one place: gather, complete, then split.
        return split_groups(shuffle_reduce(gb, op, label, None, meta), n_out)
    gb = keeping_missing_keys(gb)
    mapped = groupby_shuffled(gb, label, meta=meta, shuffle_npartitions=gb.obj.npartitions if n_out == 1 else n_out,
                              op=op)
    if n_out > 1:
        return mapped
    gather = expanding(functools.partial(_gather, nkeys=len(gb.by), sort=gb.sort, meta=meta), gb, op, label)
    expr = TreeReduce([mapped._expr], _identity, _concat, gather, meta, f"groupby-{label}-gather")
    return new_collection(expr)


def is_holistic_agg(arg: Any, named: dict[str, Any]) -> bool:
    """Whether an ``agg`` spec names an aggregation that only the shuffle path computes (e.g. ``"median"``)."""
    def names(spec: Any) -> list[Any]:
        if isinstance(spec, dict):
            return [n for v in spec.values() for n in names(v)]
        if isinstance(spec, list | tuple):
            return [n for v in spec for n in names(v)]
        return [spec]

    specs = names(arg) if arg is not None else [v[1] if isinstance(v, tuple) else v for v in named.values()]
    return any(_NUMPY_NAMES.get(s, s) in HOLISTIC_AGG_NAMES for s in specs if isinstance(s, str) or callable(s))


def _plain_names(spec: Any) -> Any:
    """``spec`` with NumPy functions replaced by the names pandas knows them by (so tokens are stable)."""
    if isinstance(spec, dict):
        return {k: _plain_names(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_plain_names(v) for v in spec]
    if isinstance(spec, tuple):
        return tuple(_plain_names(v) for v in spec)
    return _NUMPY_NAMES.get(spec, spec) if callable(spec) else spec


def shuffle_agg(gb: Any, arg: Any, named: dict[str, Any], split_out: Any = None) -> Any:
    """``grouped.agg(arg, **named)`` computed by pandas on whole groups (for specs with ``"median"`` etc.)."""
    arg, named = _plain_names(arg), _plain_names(named)
    return shuffle_reduce(gb, GroupOp("agg", None, () if arg is None else (arg,), named), "agg", split_out)


def groupby_transform_like(gb: Any, method: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None,
                           meta: Any = None) -> Any:
    """``grouped.<method>(*args, **kwargs)`` per group after a shuffle; same index as the input, other row order."""
    op = GroupOp(method, None, args, kwargs)
    gb = projected(gb)
    if meta is None:
        meta = meta_from_output(op(gb._pandas_groupby()))
    return groupby_shuffled(gb, method, meta=meta, op=op)

"""``groupby(..., observed=False)``: every category of a categorical key gets a group, used or not.

The reductions group partitions with ``observed=True`` (partials stay small, the Arrow kernels apply) and
the unobserved groups are added when the result is assembled:

- the full set of groups is the product, key by key, of a categorical key's categories (and the missing
  key, if the data had one and ``dropna=False``) or a plain key's observed values, as in pandas;
- a group absent from the result gets pandas' own value for an empty group (0 for ``sum``, ``count``,
  ``size``, 1 for ``prod``, ``NaN`` for ``mean`` or ``min``, ...), found once while the graph is built by
  running the very same aggregation on an empty frame whose keys have a single category;
- with several output partitions (``split_out``), which groups are absent is known only once every group
  is in one place, so the result is gathered, completed, then split into that many partitions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._groupby_shuffle import keyed_frame, regroup

__all__ = ["add_unobserved", "empty_group_result", "expanding", "keeping_missing_keys", "needs_unobserved",
           "split_groups"]


def needs_unobserved(gb: Any) -> bool:
    """Whether ``gb`` asks for unobserved groups (``observed=False``) and has a categorical key."""
    if getattr(gb, "observed", True):
        return False
    frame, names, _spec = keyed_frame(gb)
    return any(isinstance(frame._meta[name].dtype, pd.CategoricalDtype) for name in names)


def empty_group_result(gb: Any, op: Callable[[Any], Any], what: str) -> Any:
    """pandas' result of ``op(grouped)`` for one empty group: a one-row frame or a one-element Series."""
    frame, names, spec = keyed_frame(gb)
    empty = frame._meta.iloc[:0].copy()
    for name in names:
        # One category, never observed: pandas (observed=False) returns exactly one, empty, group.
        empty[name] = pd.Categorical([], categories=["__shoal_empty__"])
    series_name = None if isinstance(gb.obj._meta, pd.DataFrame) else gb.obj._meta.name
    data, by = regroup(empty, spec, series_name)
    grouped = data.groupby(by if len(by) > 1 else by[0], sort=False, dropna=gb.dropna, observed=False)
    if gb.selection is not None:
        grouped = grouped[gb.selection]
    out = op(grouped)
    if not isinstance(out, pd.Series | pd.DataFrame) or len(out) != 1 or out.index.nlevels != len(names):
        raise NotImplementedError(
            f"groupby(..., observed=False).{what} is not supported: its result has rows beyond one per group. "
            f"Group with observed=True, or turn the categorical key(s) into plain values with .astype(object)."
        )
    return out


def _full_index(index: pd.Index, dropna: bool) -> pd.Index:
    """Every group pandas' ``observed=False`` reports, given the groups ``index`` of all rows."""
    levels = []
    for i in range(index.nlevels):
        values = index.get_level_values(i)
        if isinstance(values.dtype, pd.CategoricalDtype):
            dtype = values.dtype
            full = pd.CategoricalIndex(dtype.categories, dtype=dtype)
            if values.isna().any() and not dropna:
                full = full.append(pd.CategoricalIndex([np.nan], dtype=dtype))
            levels.append(full)
        else:
            levels.append(values.unique().dropna() if dropna else values.unique())
    if index.nlevels == 1:
        return levels[0].rename(index.name)
    return pd.MultiIndex.from_product(levels, names=index.names)


def add_unobserved(out: Any, fill: Any, sort: bool, dropna: bool = False) -> Any:
    """``out`` with a row of ``fill`` for every unobserved group.

    With ``dropna=True``, ``out`` also holds the groups with a missing key (see :func:`keeping_missing_keys`):
    their other keys' values count, as in pandas, but the groups themselves are dropped.
    """
    full = _full_index(out.index, dropna)
    if dropna and out.index.nlevels > 1:
        out = out[~pd.DataFrame({i: out.index.get_level_values(i).isna()
                                 for i in range(out.index.nlevels)}).any(axis=1).to_numpy()]
    missing = full[~full.isin(out.index)]
    if not len(missing):
        return _in_group_order(out) if sort else out
    filler = fill.iloc[np.zeros(len(missing), dtype=np.intp)].copy()
    filler.index = missing
    if isinstance(out, pd.DataFrame):
        filler.columns = out.columns
    else:
        filler.name = out.name
    result = pd.concat([out, filler]) if len(out) else filler
    return _in_group_order(result) if sort else result


def _in_group_order(out: Any) -> Any:
    """``out`` sorted by its keys, missing keys last, as pandas' ``sort=True`` orders groups.

    (``sort_index`` trusts a CategoricalIndex whose codes are increasing, so a leading missing key stays first.)
    """
    codes = []
    for i in range(out.index.nlevels):
        values = out.index.get_level_values(i)
        if isinstance(values.dtype, pd.CategoricalDtype):
            code = np.asarray(values.codes, dtype=np.int64)
        else:
            code = pd.factorize(values, sort=True)[0].astype(np.int64)
        codes.append(np.where(code < 0, np.iinfo(np.int64).max, code))
    # np.lexsort is stable and sorts by its last key first.
    return out.iloc[np.lexsort(codes[::-1])] if len(out) > 1 else out


def _expanded(parts: Any, *args: Any, final: Callable[..., Any], fill: Any, sort: bool, dropna: bool,
              **kwargs: Any) -> Any:
    return add_unobserved(final(parts, *args, **kwargs), fill, sort, dropna)


def expanding(final: Callable[..., Any], gb: Any, op: Callable[[Any], Any], what: str) -> Callable[..., Any]:
    """``final`` (a reduction's last step), followed by :func:`add_unobserved` when ``gb`` asks for it."""
    if not needs_unobserved(gb):
        return final
    return functools.partial(_expanded, final=final, fill=empty_group_result(gb, op, what), sort=gb.sort,
                             dropna=getattr(gb, "drop_missing_keys", False))


def keeping_missing_keys(gb: Any) -> Any:
    """``gb``, or for ``observed=False`` with ``dropna=True`` and several keys, a copy that keeps missing keys.

    pandas takes a plain key's values from every row, also rows another key's missing value drops (e.g. keys
    ``["cat", "k"]``: a ``k`` seen only beside a missing ``cat`` still pairs with every category). The copy
    groups with ``dropna=False`` and is marked so that :func:`expanding` drops those groups at the end.
    """
    if not gb.dropna or len(gb.by) < 2 or not needs_unobserved(gb):
        return gb
    copy = type(gb)(gb.obj, gb.by, sort=gb.sort, dropna=False, observed=False, group_keys=gb.group_keys,
                    selection=gb.selection)
    copy.drop_missing_keys = True
    return copy


def split_groups(result: Any, n: int) -> Any:
    """A one-partition grouped result split into ``n`` partitions (``split_out=n`` with ``observed=False``)."""
    return result.repartition(npartitions=n)

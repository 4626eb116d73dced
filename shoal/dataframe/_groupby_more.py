"""Group reductions that combine exactly from per-partition partials: any/all, sem, idxmin/idxmax, head/tail.

Each runs as a tree reduction (:class:`~shoal.dataframe._expr.TreeReduce`): pandas groups every
partition the way the user grouped (the keys travel as columns, see
:func:`~shoal.dataframe._groupby_shuffle.keyed_frame`), a small partial per group is kept, partials are
concatenated in partition order and combined ``split_every`` at a time:

- ``any`` / ``all``: per-group booleans, combined with ``max`` / ``min`` (or / and).
- ``sem``: count, sum and the sum of squared deviations (``m2``), combined with Chan's parallel formula;
  ``sem = sqrt(m2 / (n - ddof)) / sqrt(n)``.
- ``idxmin`` / ``idxmax``: per group and column the best value, its index label, and the counts of
  values and rows. Partials are combined in partition order and ties go to the earlier one, so the
  label is the first occurrence, as in pandas. A group with no value (``skipna=True``) or with a
  missing value (``skipna=False``) raises pandas' ``ValueError`` when computed.
- ``head`` / ``tail``: the first / last ``n`` rows of each group in every partition, then of the
  concatenation; row order and index are pandas' (the input's order).

With ``split_out > 1`` these go down the shuffle path of :mod:`~shoal.dataframe._groupby_holistic`
instead (each group whole in one partition; pandas computes the result there).

:class:`GroupByMethods` is the mixin that gives :class:`~shoal.dataframe._groupby.GroupBy` these methods
and the holistic ones (median, quantile, value_counts, unique, cov, corr, shift, diff, ffill, bfill,
cummin, cummax), plus ``get_group``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import Expr, MapPartitions, Projection, TreeReduce
from shoal.dataframe._groupby_holistic import (
    cast_like,
    groupby_transform_like,
    output_partitions,
    shuffle_reduce,
)
from shoal.dataframe._groupby_observed import expanding, keeping_missing_keys
from shoal.dataframe._groupby_shuffle import GroupOp, keyed_frame, regroup

__all__ = ["GroupByMethods"]


# -- shared pieces ------------------------------------------------------------------------------------

def _series_name(gb: Any) -> Any:
    return None if isinstance(gb.obj._meta, pd.DataFrame) else gb.obj._meta.name


def _keyed(gb: Any) -> tuple[Expr, list[Any], list[Any]]:
    """:func:`keyed_frame` reduced to the key and selected columns, so that readers load only those."""
    frame, names, spec = keyed_frame(gb)
    if isinstance(gb.obj._meta, pd.DataFrame) and gb.selection is not None:
        selected = gb.selection if isinstance(gb.selection, list) else [gb.selection]
        frame = Projection(frame, list(dict.fromkeys([*names, *selected])))
    return frame, names, spec


def _group(part: Any, spec: list[Any], series_name: Any, selection: Any, dropna: bool) -> Any:
    data, by = regroup(part, spec, series_name)
    grouped = data.groupby(by if len(by) > 1 else by[0], sort=False, dropna=dropna, observed=True)
    return grouped[selection] if selection is not None else grouped


def _concat(parts: list[Any]) -> Any:
    kept = [p for p in parts if len(p)] or parts[:1]
    return pd.concat(kept) if len(kept) > 1 else kept[0]


def _regroup_levels(frame: Any) -> Any:
    """``frame`` grouped again by all its index levels (the group keys of a partial)."""
    return frame.groupby(level=list(range(frame.index.nlevels)), sort=False, dropna=False, observed=True)


def _op_chunk(part: Any, spec: list[Any], series_name: Any, selection: Any, dropna: bool, op: Any) -> Any:
    return op(_group(part, spec, series_name, selection, dropna))


def _finish(parts: list[Any], combine: Any, finish: Any, meta: Any, sort: bool) -> Any:
    out = finish(combine(parts))
    out.index.names = meta.index.names
    if sort:
        out = out.sort_index()
    return cast_like(out, meta)


def _tree(gb: Any, chunk: Any, combine: Any, finish: Any, meta: Any, label: str, split_every: int | None,
          op: Any) -> Any:
    """A tree reduction: ``chunk(partition)`` of the keyed frame, ``combine`` partials, ``finish`` the last one.

    ``op`` is the pandas call being computed; with ``observed=False`` it gives the empty groups' values.
    """
    frame, _names, _spec = _keyed(gb)
    final = expanding(functools.partial(_finish, combine=combine, finish=finish, meta=meta, sort=gb.sort), gb, op,
                      label)
    return new_collection(TreeReduce([frame], chunk, combine, final, meta, f"groupby-{label}", None, split_every))


def _grouped_chunk(gb: Any, op: Any, selection: Any = None) -> Any:
    _frame, _names, spec = _keyed(gb)
    return functools.partial(_op_chunk, spec=spec, series_name=_series_name(gb),
                             selection=gb.selection if selection is None else selection, dropna=gb.dropna, op=op)


def _identity(x: Any) -> Any:
    return x


# -- any / all ----------------------------------------------------------------------------------------

def _combine_bool(parts: list[Any], how: str) -> Any:
    return getattr(_regroup_levels(_concat(parts)), how)()


def groupby_any_all(gb: Any, how: str, skipna: bool, split_every: int | None, split_out: Any) -> Any:
    op = GroupOp(how, None, (), {"skipna": skipna})
    if output_partitions(gb, split_out) > 1:
        return shuffle_reduce(gb, op, how, split_out)
    gb = keeping_missing_keys(gb)
    meta = op(gb._pandas_groupby()).iloc[:0]
    combine = functools.partial(_combine_bool, how="max" if how == "any" else "min")
    return _tree(gb, _grouped_chunk(gb, op), combine, _identity, meta, how, split_every, op)


# -- sem ----------------------------------------------------------------------------------------------

#: Column holding a Series' values in a partial that is a frame.
_VALUE = "__value__"


def _moments(grouped: Any) -> pd.DataFrame:
    n, s, m2 = grouped.count(), grouped.sum(), grouped.var(ddof=0)
    if isinstance(n, pd.Series):
        n, s, m2 = n.to_frame(_VALUE), s.to_frame(_VALUE), m2.to_frame(_VALUE)
    return pd.concat({"n": n, "s": s.astype("f8"), "m2": m2 * n}, axis=1)


def _combine_moments(parts: list[pd.DataFrame]) -> pd.DataFrame:
    joined = _concat(parts)
    n, s, m2 = joined["n"], joined["s"], joined["m2"]
    total_n = _regroup_levels(n).transform("sum")
    mean = _regroup_levels(s).transform("sum") / total_n.where(total_n > 0)
    # Chan et al.: m2 of a union = sum of the parts' m2 + n_i * (mean_i - mean)^2.
    spread = (m2.fillna(0.0) + n * (s / n.where(n > 0) - mean) ** 2).where(n > 0, 0.0)
    return pd.concat({"n": _regroup_levels(n).sum(), "s": _regroup_levels(s).sum(),
                      "m2": _regroup_levels(spread).sum()}, axis=1)


def _sem(moments: pd.DataFrame, ddof: int, series: bool) -> Any:
    n, m2 = moments["n"], moments["m2"]
    var = m2 / (n - ddof).where(n - ddof > 0)
    out = np.sqrt(var.astype("f8")) / np.sqrt(n.where(n > 0).astype("f8"))
    return out[_VALUE] if series else out


def groupby_sem(gb: Any, ddof: int, split_every: int | None, split_out: Any, numeric_only: bool) -> Any:
    op = GroupOp("sem", None, (), {"ddof": ddof, "numeric_only": numeric_only})
    if output_partitions(gb, split_out) > 1:
        return shuffle_reduce(gb, op, "sem", split_out)
    gb = keeping_missing_keys(gb)
    meta = op(gb._pandas_groupby()).iloc[:0]
    series = isinstance(meta, pd.Series)
    # The columns pandas keeps (numeric_only=True drops some), as a list so that a frame comes back.
    chunk = _grouped_chunk(gb, _moments, None if series else list(meta.columns))
    finish = functools.partial(_sem_named, ddof=ddof, series=series, name=meta.name if series else None)
    return _tree(gb, chunk, _combine_moments, finish, meta, "sem", split_every, op)


def _sem_named(moments: pd.DataFrame, ddof: int, series: bool, name: Any) -> Any:
    out = _sem(moments, ddof, series)
    return out.rename(name) if series else out


# -- idxmin / idxmax ------------------------------------------------------------------------------------

def _idx_chunk(part: Any, spec: list[Any], series_name: Any, columns: list[Any], dropna: bool, how: str
               ) -> pd.DataFrame:
    data, by = regroup(part, spec, series_name)
    keys = [data[b] if not isinstance(b, pd.Series) else b for b in by]
    pieces: dict[str, Any] = {}
    for j, col in enumerate(columns):
        values = data if col is None else data[col]
        whole = values.groupby(keys if len(keys) > 1 else keys[0], sort=False, dropna=dropna, observed=True)
        size, count = whole.size(), whole.count()
        present = values.notna().to_numpy()
        sub = values[present]
        sub_keys = [k[present] for k in keys]
        # pandas' idxmin raises on a group with no value; here such a group may get one from another partition.
        best = sub.groupby(sub_keys if len(sub_keys) > 1 else sub_keys[0], sort=False, dropna=dropna, observed=True)
        pieces[f"{j}:val"] = getattr(best, how[3:])().reindex(size.index)
        pieces[f"{j}:idx"] = getattr(best, how)().astype(object).reindex(size.index)
        pieces[f"{j}:n"] = count
        pieces[f"{j}:size"] = size
    return pd.DataFrame(pieces)


def _combine_idx(parts: list[pd.DataFrame], ncols: int, how: str) -> pd.DataFrame:
    joined = _concat(parts)
    counts = _regroup_levels(joined[[c for c in joined.columns if c.endswith((":n", ":size"))]]).sum()
    pieces: dict[str, Any] = {}
    for j in range(ncols):
        found = joined[joined[f"{j}:n"] > 0]
        values = found[f"{j}:val"].reset_index(drop=True)
        if len(values):
            levels = [found.index.get_level_values(i) for i in range(found.index.nlevels)]
            # Positions in partition order; pandas' idxmin/idxmax returns the first of equal values.
            at = getattr(values.groupby(levels if len(levels) > 1 else levels[0], sort=False, dropna=False,
                                        observed=True), how)().to_numpy()
            winners = found.iloc[at]
        else:
            winners = found
        pieces[f"{j}:val"] = winners[f"{j}:val"].reindex(counts.index)
        pieces[f"{j}:idx"] = winners[f"{j}:idx"].reindex(counts.index)
        pieces[f"{j}:n"] = counts[f"{j}:n"]
        pieces[f"{j}:size"] = counts[f"{j}:size"]
    return pd.DataFrame(pieces, index=counts.index)


def _idx_result(combined: pd.DataFrame, columns: list[Any], how: str, skipna: bool, series: bool, name: Any
                ) -> Any:
    out = {}
    for j, col in enumerate(columns):
        n, size = combined[f"{j}:n"], combined[f"{j}:size"]
        bad = n == 0 if skipna else n < size
        if bad.any():
            group = bad[bad].index[0]
            group = group.item() if isinstance(group, np.generic) else group
            what = "all NA values in a group" if skipna else "an NA value"
            raise ValueError(f"{how} with skipna={skipna} encountered {what}. (column {col!r}, group {group!r}; "
                             f"drop or fill the missing values first, e.g. with dropna() or fillna())")
        out[col] = combined[f"{j}:idx"]
    if series:
        return next(iter(out.values())).rename(name)
    return pd.DataFrame(out, index=combined.index)


def groupby_idx(gb: Any, how: str, skipna: bool, split_every: int | None, split_out: Any, numeric_only: bool) -> Any:
    kwargs: dict[str, Any] = {"skipna": skipna}
    if not _is_series_groupby(gb):
        kwargs["numeric_only"] = numeric_only
    op = GroupOp(how, None, (), kwargs)
    if output_partitions(gb, split_out) > 1:
        return shuffle_reduce(gb, op, how, split_out)
    gb = keeping_missing_keys(gb)
    meta = op(gb._pandas_groupby()).iloc[:0]
    series = isinstance(meta, pd.Series)
    columns = [gb.selection] if series else list(meta.columns)
    _frame, _names, spec = _keyed(gb)
    chunk = functools.partial(_idx_chunk, spec=spec, series_name=_series_name(gb), columns=columns,
                              dropna=gb.dropna, how=how)
    combine = functools.partial(_combine_idx, ncols=len(columns), how=how)
    finish = functools.partial(_idx_result, columns=columns, how=how, skipna=skipna, series=series,
                               name=meta.name if series else None)
    return _tree(gb, chunk, combine, finish, meta, how, split_every, op)


# -- head / tail ----------------------------------------------------------------------------------------

def _rows(part: Any, names: list[Any], n: int, how: str, dropna: bool) -> Any:
    return getattr(part.groupby(names if len(names) > 1 else names[0], sort=False, dropna=dropna, observed=True),
                   how)(n)


def _rows_combine(parts: list[Any], names: list[Any], n: int, how: str, dropna: bool) -> Any:
    return _rows(_concat(parts), names, n, how, dropna)


def _rows_result(parts: list[Any], names: list[Any], n: int, how: str, dropna: bool, spec: list[Any],
                 series_name: Any, selection: Any, meta: Any) -> Any:
    data, _by = regroup(_rows_combine(parts, names, n, how, dropna), spec, series_name)
    return cast_like(data[selection] if selection is not None else data, meta)


def groupby_rows(gb: Any, how: str, n: int, split_every: int | None) -> Any:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"groupby {how}: n must be an integer (rows per group), got {n!r}")
    grouped = gb._pandas_groupby()
    meta = getattr(grouped, how)(n).iloc[:0]
    frame, names, spec = _keyed(gb)
    kwargs = {"names": names, "n": int(n), "how": how, "dropna": gb.dropna}
    final = functools.partial(_rows_result, **kwargs, spec=spec, series_name=_series_name(gb),
                              selection=gb.selection, meta=meta)
    expr = TreeReduce([frame], _rows, functools.partial(_rows_combine, **kwargs), final, meta, f"groupby-{how}",
                      kwargs, split_every)
    return new_collection(expr)


# -- get_group ------------------------------------------------------------------------------------------

def _get_group(part: Any, key: Any, spec: list[Any], series_name: Any, selection: Any, dropna: bool,
               meta: Any) -> Any:
    data, by = regroup(part, spec, series_name)
    # Grouped by the list, so that the key is always a tuple (pandas wants a 1-tuple for a 1-element list).
    grouped = data.groupby(by, sort=False, dropna=dropna, observed=True)
    grouped = grouped[selection] if selection is not None else grouped
    try:
        return grouped.get_group(key)
    except KeyError:
        # This partition holds no row of the group; another one may.
        return meta


def groupby_get_group(gb: Any, key: Any) -> Any:
    if len(gb.by) == 1 and not isinstance(key, tuple):
        # shoal keeps ``by`` as a list; pandas wants a 1-tuple for a 1-element list, accept both forms.
        key = (key,)
    elif len(gb.by) > 1 and (not isinstance(key, tuple) or len(key) != len(gb.by)):
        raise ValueError(f"get_group: the groups have {len(gb.by)} keys, so the name must be a tuple of "
                         f"{len(gb.by)} values, got {key!r}")
    frame, _names, spec = _keyed(gb)
    data, _by = regroup(frame._meta, spec, _series_name(gb))
    meta = data[gb.selection] if gb.selection is not None else data
    call = functools.partial(_get_group, key=key, spec=spec, series_name=_series_name(gb), selection=gb.selection,
                             dropna=gb.dropna, meta=meta)
    return new_collection(MapPartitions(frame, call, (), None, meta, "groupby-get-group", False, True))


def _is_series_groupby(gb: Any) -> bool:
    return not isinstance(gb.obj._meta, pd.DataFrame) or (gb.selection is not None
                                                          and not isinstance(gb.selection, list))


# -- the methods ----------------------------------------------------------------------------------------

class GroupByMethods:
    """Methods of :class:`~shoal.dataframe._groupby.GroupBy` built in this module and in ``_groupby_holistic``.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"k": ["a", "b", "a", "b", "a"], "x": [1.0, 5.0, 3.0, 2.0, 10.0]})
    >>> df = sd.from_pandas(pdf, npartitions=2)
    >>> df.groupby("k").x.median().compute()
    k
    a    3.0
    b    3.5
    Name: x, dtype: float64
    >>> df.groupby("k").x.idxmax().compute()
    k
    a    4
    b    1
    Name: x, dtype: int64
    """

    obj: FrameBase
    by: list[Any]
    selection: Any
    sort: bool
    dropna: bool

    def _pandas_groupby(self) -> Any:  # pragma: no cover - GroupBy defines it
        raise NotImplementedError

    # -- tree reductions ---------------------------------------------------------------------------
    def any(self, skipna: bool = True, split_every: int | None = None, split_out: Any = None) -> Any:
        """Whether any value of each group is true (pandas ``GroupBy.any``); a tree reduction."""
        return groupby_any_all(self, "any", skipna, split_every, split_out)

    def all(self, skipna: bool = True, split_every: int | None = None, split_out: Any = None) -> Any:
        """Whether all values of each group are true (pandas ``GroupBy.all``); a tree reduction."""
        return groupby_any_all(self, "all", skipna, split_every, split_out)

    def sem(self, ddof: int = 1, split_every: int | None = None, split_out: Any = None, numeric_only: bool = False
            ) -> Any:
        """Standard error of the mean per group (pandas ``GroupBy.sem``), from counts, sums and squared deviations."""
        return groupby_sem(self, ddof, split_every, split_out, numeric_only)

    def idxmin(self, split_every: int | None = None, split_out: Any = None, skipna: bool = True,
               numeric_only: bool = False, shuffle_method: Any = None) -> Any:
        """Index label of the first minimum per group (pandas ``idxmin``); see the module docstring for NA groups."""
        return groupby_idx(self, "idxmin", skipna, split_every, split_out, numeric_only)

    def idxmax(self, split_every: int | None = None, split_out: Any = None, skipna: bool = True,
               numeric_only: bool = False, shuffle_method: Any = None) -> Any:
        """Index label of the first maximum per group (pandas ``idxmax``)."""
        return groupby_idx(self, "idxmax", skipna, split_every, split_out, numeric_only)

    def head(self, n: int = 5, split_every: int | None = None, split_out: Any = None) -> Any:
        """The first ``n`` rows of each group, in the input's order and with its index (pandas ``head``)."""
        _single_output(split_out, "head")
        return groupby_rows(self, "head", n, split_every)

    def tail(self, n: int = 5, split_every: int | None = None, split_out: Any = None) -> Any:
        """The last ``n`` rows of each group, in the input's order and with its index (pandas ``tail``)."""
        _single_output(split_out, "tail")
        return groupby_rows(self, "tail", n, split_every)

    def get_group(self, key: Any) -> Any:
        """The rows of one group, partition by partition (an absent group gives an empty result, as in Dask)."""
        return groupby_get_group(self, key)

    # -- whole groups after a shuffle ----------------------------------------------------------------
    def median(self, split_every: int | None = None, split_out: Any = None, shuffle_method: Any = None,
               numeric_only: bool = False) -> Any:
        """Median per group (pandas ``median``), exact: rows are shuffled so that each group is whole."""
        return shuffle_reduce(self, GroupOp("median", None, (), {"numeric_only": numeric_only}), "median", split_out)

    def quantile(self, q: Any = 0.5, interpolation: str = "linear", numeric_only: bool = False,
                 split_out: Any = None, shuffle_method: Any = None) -> Any:
        """Exact quantile(s) per group (pandas ``quantile``), computed on whole groups after a shuffle."""
        q = list(q) if isinstance(q, list | tuple | np.ndarray | pd.Index) else q
        kwargs = {"interpolation": interpolation, "numeric_only": numeric_only}
        return shuffle_reduce(self, GroupOp("quantile", None, (q,), kwargs), "quantile", split_out)

    def value_counts(self, normalize: bool = False, sort: bool = True, ascending: bool = False, bins: Any = None,
                     dropna: bool = True, subset: Any = None, split_every: int | None = None, split_out: Any = None,
                     shuffle_method: Any = None) -> Any:
        """Counts of each value within each group (pandas ``value_counts``), in pandas' order."""
        kwargs: dict[str, Any] = {"normalize": normalize, "sort": sort, "ascending": ascending, "dropna": dropna}
        if _is_series_groupby(self):
            if subset is not None:
                raise TypeError("value_counts: subset= applies to DataFrameGroupBy only; select the column instead")
            kwargs["bins"] = bins
        else:
            if bins is not None:
                raise TypeError("value_counts: bins= applies to SeriesGroupBy only, e.g. df.groupby(k)[col]")
            kwargs["subset"] = subset
        return shuffle_reduce(self, GroupOp("value_counts", None, (), kwargs), "value-counts", split_out)

    def unique(self, split_every: int | None = None, split_out: Any = None, shuffle_method: Any = None) -> Any:
        """The distinct values of each group in order of appearance, as arrays (pandas ``SeriesGroupBy.unique``)."""
        if not _is_series_groupby(self):
            raise AttributeError("'DataFrameGroupBy' object has no attribute 'unique'; select a column first, "
                                 "e.g. df.groupby(keys)[column].unique()")
        return shuffle_reduce(self, GroupOp("unique"), "unique", split_out)

    def cov(self, ddof: int = 1, split_every: int | None = None, split_out: Any = None, numeric_only: bool = False,
            shuffle_method: Any = None, min_periods: int | None = None) -> Any:
        """Covariance matrix of the columns within each group (pandas ``DataFrameGroupBy.cov``)."""
        if _is_series_groupby(self):
            raise NotImplementedError("cov is not implemented for SeriesGroupBy objects; group a DataFrame with "
                                      "the columns to compare, e.g. df.groupby(keys)[[a, b]].cov()")
        kwargs = {"ddof": ddof, "numeric_only": numeric_only, "min_periods": min_periods}
        return shuffle_reduce(self, GroupOp("cov", None, (), kwargs), "cov", split_out)

    def corr(self, split_every: int | None = None, split_out: Any = None, numeric_only: bool = False,
             shuffle_method: Any = None, method: str = "pearson", min_periods: int = 1) -> Any:
        """Correlation matrix of the columns within each group (pandas ``DataFrameGroupBy.corr``)."""
        if _is_series_groupby(self):
            raise NotImplementedError("corr is not implemented for SeriesGroupBy objects; group a DataFrame with "
                                      "the columns to compare, e.g. df.groupby(keys)[[a, b]].corr()")
        kwargs = {"method": method, "min_periods": min_periods, "numeric_only": numeric_only}
        return shuffle_reduce(self, GroupOp("corr", None, (), kwargs), "corr", split_out)

    # -- transforms: the input's index, rows grouped by partition ------------------------------------
    def shift(self, periods: int = 1, meta: Any = None, shuffle_method: Any = None, **kwargs: Any) -> Any:
        """Values shifted by ``periods`` within each group (pandas ``shift``; ``fill_value=``, ``freq=`` pass on).

        Rows come back grouped by partition, as in Dask: ``sort_index`` to compare with pandas.
        """
        if "axis" in kwargs:
            raise TypeError("groupby shift: axis is not supported; shift within groups runs along the rows")
        return groupby_transform_like(self, "shift", (), {"periods": periods, **kwargs}, meta)

    def diff(self, periods: int = 1, meta: Any = None, shuffle_method: Any = None) -> Any:
        """Difference with the row ``periods`` earlier in the same group (pandas ``diff``)."""
        return groupby_transform_like(self, "diff", (), {"periods": periods}, meta)

    def ffill(self, limit: int | None = None, shuffle_method: Any = None) -> Any:
        """Missing values filled forward within each group (pandas ``ffill``)."""
        return groupby_transform_like(self, "ffill", (), {"limit": limit})

    def bfill(self, limit: int | None = None, shuffle_method: Any = None) -> Any:
        """Missing values filled backward within each group (pandas ``bfill``)."""
        return groupby_transform_like(self, "bfill", (), {"limit": limit})

    def cummin(self, numeric_only: bool = False) -> Any:
        """Running minimum within each group (pandas ``cummin``)."""
        return groupby_transform_like(self, "cummin", (), _numeric_only_kwargs(self, numeric_only))

    def cummax(self, numeric_only: bool = False) -> Any:
        """Running maximum within each group (pandas ``cummax``)."""
        return groupby_transform_like(self, "cummax", (), _numeric_only_kwargs(self, numeric_only))


def _numeric_only_kwargs(gb: Any, numeric_only: bool) -> dict[str, Any]:
    # pandas' SeriesGroupBy.cummin/cummax take numeric_only too, but only False is meaningful there.
    return {"numeric_only": numeric_only} if numeric_only else {}


def _single_output(split_out: Any, what: str) -> None:
    if split_out not in (None, 1):
        raise NotImplementedError(f"groupby {what} returns one partition (the rows of every group are few); "
                                  f"drop split_out={split_out!r}")

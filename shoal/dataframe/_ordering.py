"""Shuffles, sorting, set_index, repartition and joins of shoal DataFrames and Series.

The methods here build on :mod:`shoal.dataframe._shuffle` (hash and range
shuffles, repartition plans, sampled divisions) and
:mod:`shoal.dataframe._merge` (``merge``, ``join``, ``concat``). As in Dask,
``set_index`` on an unsorted column and ``sort_values`` compute a small sample
of the key when called, to choose the divisions; everything else stays lazy.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions, Projection, TreeReduce
from shoal.dataframe._merge import concat, merge, merge_asof
from shoal.dataframe._repartition import freq_divisions, interpolated_divisions
from shoal.dataframe._shuffle import (
    HashPartitioner,
    RangePartitioner,
    Repartition,
    WithDivisions,
    plan_divisions,
    plan_npartitions,
    plan_sizes,
    sample_divisions,
    internal_divisions,
    shuffle_expr,
    visible_divisions,
)
from shoal.dataframe._sorted_shuffle import SortSpec, sort_shuffle_expr
from shoal.utils import parse_bytes

__all__ = ["concat", "merge", "merge_asof"]


class KeyedPartitions(MapPartitions):
    """A partition-wise step that reads key columns besides the columns its consumers need."""

    _parameters = (*MapPartitions._parameters, "keys")
    _defaults = {**MapPartitions._defaults, "keys": ()}

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Any, set[Any] | None]]:
        if needed is None or not isinstance(self.frame._meta, pd.DataFrame):
            return [(self.frame, None)]
        return [(self.frame, needed | set(self.keys))]


def _set_index_part(part: pd.DataFrame, column: Any, drop: bool) -> pd.DataFrame:
    return part.set_index(column, drop=drop)


def _sort_index_part(part: Any) -> Any:
    return part.sort_index(kind="stable")


def _sort_values_part(part: pd.DataFrame, by: list[Any], ascending: list[bool], na_position: str) -> pd.DataFrame:
    return part.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")


def _reset_index_part(part: Any, drop: bool) -> Any:
    return part.reset_index(drop=drop)


def _min_max_chunk(part: Any) -> list[tuple[Any, Any, int]]:
    index = part.index
    if len(index) == 0:
        return [(None, None, 0)]
    return [(index.min(), index.max(), len(index))]


def _concat_lists(parts: list[list[Any]]) -> list[Any]:
    return [x for p in parts for x in p]


def _memory_chunk(part: Any) -> list[int]:
    return [int(part.memory_usage(deep=True, index=True).sum() if isinstance(part, pd.DataFrame)
                else part.memory_usage(deep=True, index=True))]


def _parse_size(size: Any) -> int:
    try:
        return parse_bytes(size)
    except ValueError as exc:
        raise ValueError(f"partition_size must be a number of bytes or a string like '100MB': {exc}") from None


class OrderingMethods:
    """Methods of DataFrame and Series from this family."""

    _expr: Any
    _meta: Any
    npartitions: int
    divisions: tuple[Any, ...]
    known_divisions: bool

    # -- shuffles ------------------------------------------------------------------------------
    def shuffle(self, on: Any = None, npartitions: int | None = None, ignore_index: bool = False,
                memory_budget: Any = None, **kwargs: Any) -> Any:
        """Regroup rows so that rows with equal ``on`` values share a partition (a hash shuffle).

        ``on`` is a column name or list of names (``None``: the index). The
        result has unknown divisions. Past ``memory_budget`` bytes (default:
        config ``dataframe.shuffle.memory-budget``) the shuffle goes through
        files on disk; see :mod:`shoal.dataframe._shuffle`.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"k": [1, 2, 1, 2, 3], "v": range(5)}), npartitions=3)
        >>> parts = df.shuffle(on="k").to_delayed()
        >>> all(p.k.nunique() == len(set(p.k)) for p in (d.compute() for d in parts))
        True
        """
        cols = None if on is None else ([on] if not isinstance(on, list | tuple | pd.Index) else list(on))
        if cols is not None and isinstance(self._meta, pd.DataFrame):
            missing = [c for c in cols if c not in self._meta.columns]
            if missing:
                raise KeyError(f"shuffle(on=...): column(s) {missing} not found. Available columns: "
                               f"{list(self._meta.columns)}.")
        if isinstance(self._meta, pd.Series) and cols is not None:
            raise ValueError("Series.shuffle hashes the values or the index: pass on=None")
        n = npartitions or self.npartitions
        if n < 1:
            raise ValueError(f"npartitions must be at least 1, got {n}")
        out = new_collection(shuffle_expr(self._expr, HashPartitioner(cols, n), n, "shuffle", memory_budget))
        return out.reset_index(drop=True) if ignore_index else out

    # -- the index -----------------------------------------------------------------------------
    def set_index(self, other: Any, drop: bool = True, sorted: bool = False, npartitions: int | None = None,
                  divisions: Any = None, **kwargs: Any) -> Any:
        """Make column ``other`` the index, sorted across partitions, with known divisions.

        Without ``divisions``, a sample of the column is computed now to pick
        ``npartitions`` (default: as many as now) about equal ranges; then rows
        move to their range (a range shuffle) and each partition is sorted.
        ``sorted=True`` promises the column already increases across
        partitions: no shuffle, only each partition's min and max are computed.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"k": [5, 1, 4, 2, 3, 0], "v": range(6)}), npartitions=2)
        >>> out = df.set_index("k")
        >>> out.known_divisions, out.compute().index.tolist()
        (True, [0, 1, 2, 3, 4, 5])
        """
        if not isinstance(self._meta, pd.DataFrame):
            raise TypeError("set_index is a DataFrame method")
        if isinstance(other, FrameBase) and isinstance(other._meta, pd.Series):
            # As Dask: the Series (aligned on the index) becomes the index, under its own name.
            tmp = "__shoal_set_index__"
            out = self.assign(**{tmp: other}).set_index(tmp, drop=True, sorted=sorted, npartitions=npartitions,
                                                       divisions=divisions, **kwargs)
            return out.map_partitions(_rename_index, other._meta.name, meta=_rename_index(out._meta, other.name))
        if isinstance(other, FrameBase) or isinstance(other, list):
            raise NotImplementedError("set_index takes one column name or one Series; for several columns, "
                                      "combine them into one column first")
        if other not in self._meta.columns:
            raise KeyError(f"set_index: column {other!r} not found. Available columns: {list(self._meta.columns)}.")
        indexed = new_collection(KeyedPartitions(self._expr, _set_index_part, (other, drop), None, None,
                                                 "set-index", False, False, [other]))
        if sorted:
            return _with_checked_divisions(indexed, other)
        dtype = self._meta[other].dtype
        if divisions is None:
            internal = sample_divisions(Projection(self._expr, other), npartitions or self.npartitions)
            if internal is None:
                return indexed.map_partitions(_sort_index_part)
        else:
            internal = internal_divisions(tuple(divisions), dtype)
        ordered = sort_shuffle_expr(indexed._expr, SortSpec(None, internal), "set-index-shuffle")
        return new_collection(WithDivisions(ordered, visible_divisions(internal, dtype)))

    def reset_index(self, drop: bool = False) -> Any:
        """Move the index into a column (or drop it); the new index restarts at 0 in every partition, as in Dask.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"v": [1, 2, 3]}, index=[7, 8, 9]), npartitions=2)
        >>> df.reset_index().compute().index.tolist()
        [0, 1, 0]
        """
        return new_collection(MapPartitions(self._expr, _reset_index_part, (drop,), None, None, "reset-index",
                                            False, False))

    def sort_values(self, by: Any = None, ascending: Any = True, na_position: str = "last",
                    npartitions: int | None = None, **kwargs: Any) -> Any:
        """Sort rows by one or more columns (a Series by its values) across all partitions.

        Partitions are cut by ranges of the first key (sampled now), then
        each is sorted. The result's divisions are unknown.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [3, 1, 2, 5, 4]}), npartitions=2)
        >>> df.sort_values("a", ascending=False).a.compute().tolist()
        [5, 4, 3, 2, 1]
        """
        if na_position not in ("first", "last"):
            raise ValueError(f"na_position must be 'first' or 'last', got {na_position!r}")
        series = isinstance(self._meta, pd.Series)
        if series:
            cols: list[Any] = []
            first_key = self._expr
        else:
            if by is None:
                raise TypeError("sort_values() needs by= (a column name or a list of names)")
            cols = list(by) if isinstance(by, list | tuple) else [by]
            missing = [c for c in cols if c not in self._meta.columns]
            if missing:
                raise KeyError(f"sort_values: column(s) {missing} not found. Available columns: "
                               f"{list(self._meta.columns)}.")
            first_key = Projection(self._expr, cols[0])
        asc = list(ascending) if isinstance(ascending, list | tuple) else [ascending] * max(1, len(cols))
        if not series and len(asc) != len(cols):
            raise ValueError(f"Length of ascending ({len(asc)}) != length of by ({len(cols)})")
        divisions = sample_divisions(first_key, npartitions or self.npartitions)
        if divisions is None:
            divisions = (None, None)
        n = len(divisions) - 1
        if len(cols) <= 1:
            # One key: the sorted range shuffle leaves every output partition sorted.
            spec = SortSpec(None if series else cols[0], divisions, bool(asc[0]), na_position, series)
            return new_collection(sort_shuffle_expr(self._expr, spec, "sort-shuffle"))
        partitioner = RangePartitioner(cols[0], divisions, bool(asc[0]), na_position)
        shuffled = shuffle_expr(self._expr, partitioner, n, "sort-shuffle")
        return new_collection(KeyedPartitions(shuffled, _sort_values_part, (cols, asc, na_position), None,
                                              None, "sort-values", False, True, cols))

    def repartition(self, divisions: Any = None, npartitions: int | None = None, partition_size: Any = None,
                    freq: Any = None, force: bool = False) -> Any:
        """Change the partitioning: to ``npartitions``, new ``divisions``, about ``partition_size`` bytes, or ``freq``.

        Fewer partitions merge neighbours (divisions are kept); more split
        each partition's index range evenly when the divisions are known and
        numeric or datetime (divisions stay known, as in Dask), else cut
        partitions into row slices (divisions become unknown).
        ``partition_size`` computes each partition's memory use now.
        ``freq`` (a datetime index) starts a partition at every period
        boundary; see :mod:`shoal.dataframe._repartition`.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=5)
        >>> df.repartition(npartitions=2).divisions
        (0, 4, 9)
        >>> [len(p.compute()) for p in df.repartition(divisions=[0, 3, 9]).to_delayed()]
        [3, 7]
        """
        given = [x is not None for x in (divisions, npartitions, partition_size, freq)]
        if sum(given) != 1:
            raise ValueError("repartition takes exactly one of divisions=, npartitions=, partition_size= or freq=")
        old = tuple(self.divisions)
        if freq is not None:
            divisions = freq_divisions(old, freq)
        elif npartitions is not None and npartitions > self.npartitions:
            divisions = interpolated_divisions(old, npartitions)
        if divisions is not None:
            new = tuple(divisions)
            if len(new) < 2 or any(a > b for a, b in zip(new, new[1:], strict=False)):
                raise ValueError(f"divisions must be increasing with at least two values, got {new}")
            if not self.known_divisions:
                raise ValueError("repartition(divisions=...) needs known divisions; use set_index, or "
                                 "repartition(npartitions=...)")
            if not force and (new[0] > old[0] or new[-1] < old[-1]):
                raise ValueError(f"New divisions {new} must cover the old range [{old[0]}, {old[-1]}] "
                                 f"(or pass force=True to drop rows outside)")
            return new_collection(Repartition(self._expr, plan_divisions(old, new), new))
        if npartitions is not None:
            if npartitions < 1:
                raise ValueError(f"npartitions must be at least 1, got {npartitions}")
            plan = plan_npartitions(self.npartitions, npartitions)
        else:
            limit = _parse_size(partition_size)
            if limit < 1:
                raise ValueError(f"partition_size must be positive, got {partition_size!r}")
            sizes = new_collection(TreeReduce([self._expr], _memory_chunk, _concat_lists, _concat_lists, [],
                                              "memory-usage")).compute()
            plan = plan_sizes(sizes, limit)
        return new_collection(Repartition(self._expr, plan, _plan_divisions(plan, old)))

    # -- joins ---------------------------------------------------------------------------------
    def merge(self, right: Any, how: str = "inner", on: Any = None, left_on: Any = None, right_on: Any = None,
              left_index: bool = False, right_index: bool = False, suffixes: tuple[str, str] = ("_x", "_y"),
              indicator: bool = False, npartitions: int | None = None, shuffle_method: Any = None,
              broadcast: Any = None) -> Any:
        """``merge(self, right, ...)``; see :func:`shoal.dataframe.merge`."""
        return merge(self, right, how=how, on=on, left_on=left_on, right_on=right_on, left_index=left_index,
                     right_index=right_index, suffixes=suffixes, indicator=indicator, npartitions=npartitions,
                     broadcast=broadcast)

    def join(self, other: Any, on: Any = None, how: str = "left", lsuffix: str = "", rsuffix: str = "",
             npartitions: int | None = None, *, suffixes: tuple[str, str] | None = None) -> Any:
        """Join on the index of ``other`` (with ``on``: this frame's column(s) against ``other``'s index).

        ``suffixes=(left, right)`` (pandas 3) and ``lsuffix``/``rsuffix`` name overlapping columns.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> a = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2)
        >>> b = pd.DataFrame({"y": [10.0, 30.0]}, index=[0, 2])
        >>> a.join(b).compute().y.tolist()
        [10.0, nan, 30.0]
        """
        if isinstance(other, pd.Series | FrameBase) and isinstance(getattr(other, "_meta", other), pd.Series):
            other = other.to_frame()
        if suffixes is None:
            suffixes = (lsuffix, rsuffix)
        elif lsuffix or rsuffix:
            raise ValueError("Pass suffixes= or lsuffix=/rsuffix=, not both")
        if on is not None:
            return merge(self, other, how=how, left_on=on, right_index=True, suffixes=suffixes,
                         npartitions=npartitions)
        return merge(self, other, how=how, left_index=True, right_index=True, suffixes=suffixes,
                     npartitions=npartitions)


def _rename_index(part: Any, name: Any) -> Any:
    return part.rename_axis(index=name)


def _plan_divisions(plan: list[list[tuple[int, Any]]], old: tuple[Any, ...]) -> tuple[Any, ...]:
    """Divisions survive only when every output is whole, consecutive input partitions."""
    if old[0] is None or any(sel is not None for pieces in plan for _, sel in pieces):
        return (None,) * (len(plan) + 1)
    return (*(old[pieces[0][0]] for pieces in plan), old[-1])


def _with_checked_divisions(indexed: Any, column: Any) -> Any:
    stats = new_collection(TreeReduce([indexed._expr], _min_max_chunk, _concat_lists, _concat_lists, [],
                                      "index-min-max")).compute()
    if any(count == 0 for _, _, count in stats) or any(pd.isna(lo) or pd.isna(hi) for lo, hi, _ in stats):
        # Empty partitions or missing values leave boundaries undefined: keep the data, drop the claim.
        return indexed
    for i in range(len(stats) - 1):
        if stats[i][1] > stats[i + 1][0]:
            raise ValueError(
                f"set_index({column!r}, sorted=True): partition {i} ends at {stats[i][1]!r} but partition {i + 1} "
                f"starts at {stats[i + 1][0]!r}, so the column is not sorted across partitions. Call "
                f"set_index({column!r}) without sorted=True to sort it."
            )
    divisions = tuple(_scalar(lo) for lo, _, _ in stats) + (_scalar(stats[-1][1]),)
    return new_collection(WithDivisions(indexed._expr, divisions))


def _scalar(x: Any) -> Any:
    return x.item() if hasattr(x, "item") and not isinstance(x, pd.Timestamp) else x

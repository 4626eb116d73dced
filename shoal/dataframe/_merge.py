"""Joins and concatenation: ``merge``, ``merge_asof``, ``concat`` (and ``DataFrame.merge``/``join`` build on them).

How a merge runs, cheapest first:

1. *aligned*: both sides indexed by the join key with known divisions. If
   the divisions differ, both are repartitioned to their union; then partition
   ``i`` of the left merges with partition ``i`` of the right. No shuffle.
2. *broadcast*: one side has a single partition (or is a pandas object) and
   ``how`` keeps the other side's rows independent (``inner``, ``left`` with a
   small right, ``right`` with a small left, ``cross``). Every partition of the
   big side merges with the whole small side.
3. *hash join*: both sides are split by a hash of their keys into the same
   number of partitions, so equal keys meet in the same partition, which is
   then merged partition-wise. Keys of different dtypes (``int`` and
   ``float``) are cast to a common type before hashing so that they still
   meet. Joins on columns use the join-specific split of
   :mod:`shoal.dataframe._merge_hash` (column arrays, no index, split and
   join in ``n_left + n_right + n`` tasks); joins that involve an index use
   the general shuffle of :mod:`shoal.dataframe._shuffle`.

The per-partition join of ``inner``/``left`` merges on one column is a lookup
into the right side's keys when they are unique
(:class:`~shoal.dataframe._merge_lookup.LookupMerge`), else :func:`pandas.merge`.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import Blockwise, Expr, MapPartitions
from shoal.dataframe._io.memory import from_pandas
from shoal.dataframe._merge_hash import hash_join_expr, is_hash_joinable
from shoal.dataframe._merge_lookup import LookupMerge
from shoal.dataframe._meta import make_meta_nonempty, meta_from_output
from shoal.dataframe._shuffle import HashPartitioner, Repartition, column_or_level, plan_divisions, shuffle_expr
from shoal.graph.task import GraphNode, Key, Task
from shoal.graph.tokenize import tokenize

__all__ = ["concat", "merge", "merge_asof"]

_HOWS = ("inner", "left", "right", "outer", "cross")


def _as_collection(obj: Any, what: str) -> Any:
    if isinstance(obj, FrameBase):
        return obj
    if isinstance(obj, pd.DataFrame | pd.Series):
        return from_pandas(obj, npartitions=1, sort=False)
    raise TypeError(f"{what} must be a shoal or pandas DataFrame/Series, got {type(obj).__name__}")


def _as_list(x: Any) -> list[Any] | None:
    if x is None:
        return None
    return list(x) if isinstance(x, list | tuple | pd.Index) else [x]


def _merge_parts(left: Any, right: Any, kwargs: dict[str, Any]) -> Any:
    return pd.merge(left, right, **kwargs)


class Merge(Expr):
    """``pd.merge`` of partitions: pairwise (``aligned``) or every partition with one (``broadcast-left/right``)."""

    _parameters = ("left", "right", "func", "kwargs", "meta", "mode", "divisions_")
    _label = "merge"

    @property
    def _fuses_inputs(self) -> bool:  # type: ignore[override]
        # A broadcast side is read by every task: it must keep its own key, not be recomputed inline. Lowering
        # inlines only blockwise children, so when the broadcast side is not one, the other side can run
        # inline: each task reads its partition and merges it at once, one task per partition instead of two.
        if self.mode == "aligned":
            return True
        return not isinstance(self.right if self.mode == "broadcast-right" else self.left, Blockwise)

    @functools.cached_property
    def _name(self) -> str:
        # The meta follows from the inputs and the arguments: hashing an empty frame's columns costs more
        # than the rest of the name, and the optimizer renames a merge on every pass that touches it.
        token = tokenize(type(self).__name__, self.left, self.right, self.func, self.kwargs, self.mode,
                         self.divisions_)
        return f"{self._label}-{token}"

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        if self.mode == "aligned" and self.left.npartitions != self.right.npartitions:
            raise ValueError(f"aligned merge needs equal partition counts, got {self.left.npartitions} and "
                             f"{self.right.npartitions}")
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        graph: dict[Key, GraphNode] = {}
        for i in range(self.npartitions):
            left = ctx.input(self.left, 0 if self.mode == "broadcast-left" else i)
            right = ctx.input(self.right, 0 if self.mode == "broadcast-right" else i)
            key = (self._name, i)
            graph[key] = Task(key, self.func, left, right, self.kwargs)
        return graph


def _key_dtypes(meta: pd.DataFrame, keys: list[Any] | None) -> list[Any]:
    if keys is None:
        return [meta.index.get_level_values(i).dtype for i in range(meta.index.nlevels)]
    return [column_or_level(meta, k).dtype for k in keys]


def _common_cast(left: list[Any], right: list[Any]) -> Any:
    """One dtype per key position so both sides hash alike, or ``None`` when they already match."""
    if [str(d) for d in left] == [str(d) for d in right]:
        return None
    cast = {}
    for i, (a, b) in enumerate(zip(left, right, strict=False)):
        numeric = getattr(a, "kind", "O") in "iufb" and getattr(b, "kind", "O") in "iufb"
        cast[i] = "float64" if numeric else object
    return cast


def _union_divisions(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    values = sorted(set(a) | set(b))
    return tuple(values) if len(values) > 1 else (values[0], values[0])


def _align(frame: Any, divisions: tuple[Any, ...]) -> Expr:
    if tuple(frame.divisions) == divisions:
        return frame._expr  # type: ignore[no-any-return]
    return Repartition(frame._expr, plan_divisions(tuple(frame.divisions), divisions), divisions)


def merge(left: Any, right: Any, how: str = "inner", on: Any = None, left_on: Any = None, right_on: Any = None,
          left_index: bool = False, right_index: bool = False, suffixes: tuple[str, str] = ("_x", "_y"),
          indicator: bool = False, npartitions: int | None = None, shuffle_method: Any = None,
          broadcast: Any = None) -> Any:
    """Database-style join of two frames; mirrors :func:`pandas.merge`.

    Parameters mirror pandas (``how`` in ``inner``, ``left``, ``right``,
    ``outer``, ``cross``). ``npartitions`` sets the number of partitions of a
    shuffle join (default: the larger side's). See the module docstring for
    which strategy runs.

    Notes
    -----
    Row order within the result follows the partitions, not pandas' order,
    and a merge on columns gives each partition its own ``0..n-1`` index, as
    in Dask.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.DataFrame({"k": [1, 2, 3, 4], "x": [1, 2, 3, 4]}), npartitions=2)
    >>> b = sd.from_pandas(pd.DataFrame({"k": [2, 4, 6], "y": [20, 40, 60]}), npartitions=2)
    >>> sd.merge(a, b, on="k").compute().sort_values("k").y.tolist()
    [20, 40]
    """
    if how not in _HOWS:
        raise ValueError(f"how must be one of {list(_HOWS)}, got {how!r}")
    left = _as_collection(left, "left")
    right = _as_collection(right, "right")
    if isinstance(left._meta, pd.Series) or isinstance(right._meta, pd.Series):
        left = left.to_frame() if isinstance(left._meta, pd.Series) else left
        right = right.to_frame() if isinstance(right._meta, pd.Series) else right
    kwargs: dict[str, Any] = {"how": how, "suffixes": tuple(suffixes), "indicator": indicator}
    if how == "cross":
        lkeys = rkeys = None
    else:
        if on is not None:
            if left_on is not None or right_on is not None:
                raise ValueError('Pass "on" or "left_on"/"right_on", not both')
            left_on = right_on = on
        if on is None and left_on is None and right_on is None and not left_index and not right_index:
            common = [c for c in left._meta.columns if c in set(right._meta.columns)]
            if not common:
                raise ValueError("No common columns to merge on: pass on=, left_on=/right_on= or "
                                 "left_index=/right_index=")
            left_on = right_on = common
        lkeys = None if left_index else _as_list(left_on)
        rkeys = None if right_index else _as_list(right_on)
        if (lkeys is None and not left_index) or (rkeys is None and not right_index):
            raise ValueError("Each side needs keys: pass left_on= or left_index=True, and right_on= or "
                             "right_index=True")
        kwargs.update(left_on=lkeys, right_on=rkeys, left_index=left_index, right_index=right_index)
    # pandas checks the keys, suffixes and dtypes on the empty metas: bad input fails here, not at compute time.
    meta = pd.merge(left._meta, right._meta, **kwargs)
    func = _merge_parts
    n_left, n_right = left.npartitions, right.npartitions
    if (left_index and right_index and left.known_divisions and right.known_divisions
            and how != "cross"):
        divisions = tuple(left.divisions) if tuple(left.divisions) == tuple(right.divisions) else \
            _union_divisions(tuple(left.divisions), tuple(right.divisions))
        expr = Merge(_align(left, divisions), _align(right, divisions), func, kwargs, meta, "aligned", divisions)
        return new_collection(expr)
    if n_right == 1 and (how in ("inner", "left", "cross") or n_left == 1):
        if _is_lookup(how, lkeys, rkeys, indicator):
            func = LookupMerge(list(meta.columns))
        return new_collection(Merge(left._expr, right._expr, func, kwargs, meta, "broadcast-right",
                                    (None,) * (n_left + 1)))
    if n_left == 1 and how in ("inner", "right"):
        return new_collection(Merge(left._expr, right._expr, func, kwargs, meta, "broadcast-left",
                                    (None,) * (n_right + 1)))
    if how == "cross":
        whole = Repartition(right._expr, [[(i, None) for i in range(n_right)]], (None, None))
        return new_collection(Merge(left._expr, whole, func, kwargs, meta, "broadcast-right", (None,) * (n_left + 1)))
    n = npartitions or max(n_left, n_right)
    cast = _common_cast(_key_dtypes(left._meta, lkeys), _key_dtypes(right._meta, rkeys))
    if is_hash_joinable(left._meta, right._meta, lkeys, rkeys):
        if _is_lookup(how, lkeys, rkeys, indicator):
            func = LookupMerge(list(meta.columns), reuse=False)
        return new_collection(hash_join_expr(left._expr, right._expr, lkeys, rkeys, cast, n, func, kwargs, meta))
    lshuf = shuffle_expr(left._expr, HashPartitioner(lkeys, n, cast), n, "merge-shuffle")
    rshuf = shuffle_expr(right._expr, HashPartitioner(rkeys, n, cast), n, "merge-shuffle")
    if _is_lookup(how, lkeys, rkeys, indicator):
        func = LookupMerge(list(meta.columns))  # the right side's keys are often unique within a partition
    return new_collection(Merge(lshuf, rshuf, func, kwargs, meta, "aligned", (None,) * (n + 1)))


def _is_lookup(how: str, lkeys: list[Any] | None, rkeys: list[Any] | None, indicator: bool) -> bool:
    """Whether :class:`LookupMerge` may run this merge (it checks the data and falls back to pandas)."""
    return how in ("inner", "left") and lkeys is not None and rkeys is not None and len(lkeys) == len(rkeys) == 1 \
        and not indicator


def _merge_asof_parts(left: Any, right: Any, kwargs: dict[str, Any]) -> Any:
    return pd.merge_asof(left, right, **kwargs)


def merge_asof(left: Any, right: Any, on: Any = None, left_on: Any = None, right_on: Any = None,
               left_index: bool = False, right_index: bool = False, by: Any = None, left_by: Any = None,
               right_by: Any = None, suffixes: tuple[str, str] = ("_x", "_y"), tolerance: Any = None,
               allow_exact_matches: bool = True, direction: str = "backward") -> Any:
    """Nearest-key join of frames sorted by the key; mirrors :func:`pandas.merge_asof`.

    Notes
    -----
    The right side is gathered into one partition and every left partition is
    matched against all of it, so the result is exact for any ``direction``;
    the right side must fit in memory.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.DataFrame({"t": [1, 5, 10]}), npartitions=2)
    >>> b = pd.DataFrame({"t": [2, 6], "v": [20.0, 60.0]})
    >>> sd.merge_asof(a, b, on="t").compute().v.tolist()
    [nan, 20.0, 60.0]
    """
    left = _as_collection(left, "left")
    right = _as_collection(right, "right")
    kwargs: dict[str, Any] = dict(on=on, left_on=left_on, right_on=right_on, left_index=left_index,
                                  right_index=right_index, by=by, left_by=left_by, right_by=right_by,
                                  suffixes=tuple(suffixes), tolerance=tolerance,
                                  allow_exact_matches=allow_exact_matches, direction=direction)
    meta = pd.merge_asof(left._meta, right._meta, **kwargs)
    n_right = right.npartitions
    whole = right._expr if n_right == 1 else Repartition(right._expr, [[(i, None) for i in range(n_right)]],
                                                         (right.divisions[0], right.divisions[-1]))
    divisions = tuple(left.divisions) if left_index else (None,) * (left.npartitions + 1)
    return new_collection(Merge(left._expr, whole, _merge_asof_parts, kwargs, meta, "broadcast-right", divisions))


# -- concat ---------------------------------------------------------------------------------------

def _conform(part: Any, meta: Any) -> Any:
    """Give a partition the columns and dtypes of the concatenated meta (missing columns are NaN)."""
    if isinstance(meta, pd.DataFrame):
        if not isinstance(part, pd.DataFrame):
            part = part.to_frame()
        if list(part.columns) != list(meta.columns):
            part = part.reindex(columns=meta.columns)
        for i, c in enumerate(meta.columns):
            if part.dtypes.iloc[i] != meta.dtypes.iloc[i]:
                try:
                    part = part.astype({c: meta.dtypes.iloc[i]})
                except (TypeError, ValueError):
                    pass  # the final concatenation finds the common dtype
        return part
    if part.dtype != meta.dtype:
        try:
            part = part.astype(meta.dtype)
        except (TypeError, ValueError):
            pass
    return part


def _reset(part: Any) -> Any:
    return part.reset_index(drop=True)


class Concat(Expr):
    """Partitions of several frames one after another, each conformed to the joint meta."""

    _parameters = ("frames", "meta", "divisions_")
    _label = "concat"
    _fuses_inputs = True

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        graph: dict[Key, GraphNode] = {}
        j = 0
        for frame in self.frames:
            for i in range(frame.npartitions):
                key = (self._name, j)
                graph[key] = Task(key, _conform, ctx.input(frame, i), self.meta)
                j += 1
        return graph


def _concat_axis1(first: Any, *others: Any, join: str = "outer") -> Any:
    return pd.concat([first, *others], axis=1, join=join)


def _is_increasing(frames: list[Any]) -> bool:
    if not all(f.known_divisions for f in frames):
        return False
    return all(a.divisions[-1] < b.divisions[0] for a, b in zip(frames, frames[1:], strict=False))


def concat(dfs: list[Any], axis: Any = 0, join: str = "outer", interleave_partitions: bool = False,
           ignore_index: bool = False, ignore_unknown_divisions: bool = False, **kwargs: Any) -> Any:
    """Stack frames/series; mirrors :func:`pandas.concat`.

    ``axis=0`` puts the partitions one after another; divisions are kept when
    every input's are known and they follow each other in order. With
    ``interleave_partitions=True``, inputs whose known divisions overlap are
    regrouped by the union of their divisions instead, so divisions stay
    known (rows are then sorted by index in each partition). ``axis=1``
    joins columns of inputs with the same partitions (inputs with different
    known divisions are repartitioned to their union first).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.DataFrame({"x": [1, 2]}, index=[0, 1]), npartitions=1)
    >>> b = sd.from_pandas(pd.DataFrame({"x": [3, 4]}, index=[2, 3]), npartitions=1)
    >>> out = sd.concat([a, b])
    >>> out.divisions, out.compute().x.tolist()
    ((0, 2, 3), [1, 2, 3, 4])
    """
    if isinstance(dfs, FrameBase | pd.DataFrame | pd.Series) or not len(dfs):
        raise TypeError("concat takes a non-empty list of DataFrames or Series")
    if join not in ("outer", "inner"):
        raise ValueError(f"join must be 'outer' or 'inner', got {join!r}")
    frames = [_as_collection(f, f"concat input {i}") for i, f in enumerate(dfs)]
    if axis in (1, "columns"):
        return _concat_columns(frames, join)
    if axis not in (0, "index"):
        raise ValueError(f"No axis named {axis!r} for concat; use 0/'index' or 1/'columns'")
    if len(frames) == 1 and not ignore_index:
        return frames[0]
    samples = [make_meta_nonempty(f._meta) for f in frames]
    meta = meta_from_output(pd.concat(samples, join=join))
    if interleave_partitions and not ignore_index and all(f.known_divisions for f in frames) \
            and not _is_increasing(frames):
        return _interleave(frames, meta)
    if _is_increasing(frames) and not ignore_index:
        divisions: tuple[Any, ...] = tuple(d for f in frames for d in f.divisions[:-1]) + (frames[-1].divisions[-1],)
    else:
        divisions = (None,) * (sum(f.npartitions for f in frames) + 1)
    out = new_collection(Concat([f._expr for f in frames], meta, divisions))
    if ignore_index:
        out = new_collection(MapPartitions(out._expr, _reset, (), None, None, "reset-index", False, False))
    return out


def _concat_sorted(*parts: Any, meta: Any) -> Any:
    kept = [_conform(p, meta) for p in parts if len(p)]
    if not kept:
        return meta.copy()
    return kept[0] if len(kept) == 1 else pd.concat(kept).sort_index(kind="stable")


def _interleave(frames: list[Any], meta: Any) -> Any:
    """Rows of frames with overlapping known divisions, regrouped by the union of the divisions."""
    divisions = tuple(frames[0].divisions)
    for f in frames[1:]:
        divisions = _union_divisions(divisions, tuple(f.divisions))
    exprs = [_align(f, divisions) for f in frames]
    return new_collection(MapPartitions(exprs[0], _concat_sorted, tuple(exprs[1:]), {"meta": meta}, meta,
                                        "concat-interleave", False, True))


def _concat_columns(frames: list[Any], join: str) -> Any:
    exprs = [f._expr for f in frames]
    if all(f.known_divisions for f in frames) and len({tuple(f.divisions) for f in frames}) > 1:
        divisions = tuple(frames[0].divisions)
        for f in frames[1:]:
            divisions = _union_divisions(divisions, tuple(f.divisions))
        exprs = [_align(f, divisions) for f in frames]
    elif len({f.npartitions for f in frames}) > 1:
        raise ValueError(
            f"concat(axis=1) needs inputs with the same partitions; got {[f.npartitions for f in frames]} "
            f"partitions with unknown divisions. Use set_index on each, or repartition them to match."
        )
    return new_collection(MapPartitions(exprs[0], _concat_axis1, tuple(exprs[1:]), {"join": join}, None, "concat",
                                        False, True))


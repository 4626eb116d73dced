"""Moving rows between partitions: hash and range shuffles, repartitioning, and divisions from samples.

Model
    A *partitioner* maps a pandas partition to an integer array: the output
    partition of every row. :class:`HashPartitioner` hashes key columns (or
    the index) with :func:`pandas.util.hash_pandas_object`, so equal keys land
    in the same output partition whichever input they come from; that is what
    makes a partition-wise merge after shuffling both sides correct.
    :class:`RangePartitioner` cuts by sorted boundaries (``divisions``), which
    is what ``sort_values`` by several columns needs (``set_index`` and
    one-column sorts use the sorting shuffle of
    :mod:`shoal.dataframe._sorted_shuffle` instead).

    :class:`Shuffle` lowers to two task layers. ``split`` tasks (one per input
    partition) cut their partition into one group per output partition;
    ``gather`` tasks (one per output partition) concatenate group ``j`` of
    every split. With ``n`` inputs and ``m`` outputs that is ``n + m`` tasks,
    not ``n * m``. Each split result lives until the last gather that reads it
    has run, so peak memory is about the size of the data being shuffled.

    When the data to shuffle looks larger than a memory budget (a split task
    estimates it as its own partition's size times the number of inputs),
    splits write their groups to files in a temporary directory instead and
    hand the gathers only paths; each gather reads its files and deletes
    them. The budget is ``memory_budget=`` or the config key
    ``dataframe.shuffle.memory-budget`` (bytes, a size string such as
    ``"2GB"``, or ``"auto"``: a quarter of the machine's memory);
    ``dataframe.shuffle.method: disk`` always spills and ``tasks`` never does.
    Files live under ``temporary-directory`` (default: the system's).

    Divisions for a range shuffle come from a small sample: every partition
    contributes up to ``_SAMPLE`` sorted values (its exact minimum and maximum
    among them) with weights, and a weighted quantile picks the boundaries.
    That sample is computed eagerly, as Dask does, when ``set_index`` or
    ``sort_values`` is called.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import tempfile
import uuid
import weakref
from typing import Any

import numpy as np
import pandas as pd

from shoal import config
from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Expr, TreeReduce
from shoal.graph.task import GraphNode, Key, Ref, Task
from shoal.utils import parse_bytes

__all__ = [
    "HashPartitioner",
    "RangePartitioner",
    "Repartition",
    "Shuffle",
    "WithDivisions",
    "internal_divisions",
    "order_keys",
    "sample_divisions",
    "shuffle_expr",
    "visible_divisions",
]

#: Values each partition contributes to the divisions sample.
_SAMPLE = 128


def _key_frame(part: Any, on: list[Any] | None, cast: Any) -> pd.DataFrame:
    """The key values of ``part`` as a frame with positional column names (index levels when ``on`` is None)."""
    if on is None:
        index = part.index
        arrays = [index.get_level_values(i) for i in range(index.nlevels)]
    elif isinstance(part, pd.Series):
        arrays = [part]
    else:
        arrays = [column_or_level(part, c) for c in on]
    keys = pd.DataFrame({i: _hashable(a) for i, a in enumerate(arrays)}, index=pd.RangeIndex(len(part)))
    if cast is not None:
        keys = keys.astype(cast)
    return keys


def column_or_level(frame: pd.DataFrame, key: Any) -> Any:
    """Column ``key``, or else the index level of that name (merge keys may name either, as in pandas)."""
    if key not in frame.columns and key in frame.index.names:
        return frame.index.get_level_values(key)
    return frame[key]


def _hashable(values: Any) -> Any:
    """``values`` in the form whose hash the partitioners take: NumPy, except strings, which stay as they are.

    Strings hash alike in every form (an object array, pandas' ``str``/``string`` arrays, Arrow-backed or
    not), and pandas hashes its string arrays once per distinct value; as an object array each row would be
    hashed, after a costly conversion to Python strings, ten times slower in all.
    """
    if isinstance(values.dtype, pd.StringDtype):
        return values.array if isinstance(values, pd.Series | pd.Index) else values
    return np.asarray(values) if not isinstance(values, pd.Series) else values.to_numpy()


class HashPartitioner:
    """Row -> ``hash(keys) % n``; keys are columns ``on`` (``None``: the index; for a Series, its values).

    ``cast`` is a dtype (or ``None``) that both sides of a merge cast their keys
    to before hashing, so that ``1`` (int) and ``1.0`` (float) hash alike.
    """

    def __init__(self, on: list[Any] | None, npartitions: int, cast: Any = None) -> None:
        self.on, self.npartitions, self.cast = on, npartitions, cast

    def __call__(self, part: Any) -> np.ndarray:
        if self.npartitions == 1:
            return np.zeros(len(part), dtype=np.intp)
        keys = _key_frame(part, self.on, self.cast)
        if keys.shape[1] == 1:
            # One key: hash its values directly; building a Series of combined hashes costs as much again.
            hashes = pd.util.hash_array(keys[0]._values)
        else:
            hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
        return (hashes % np.uint64(self.npartitions)).astype(np.intp)

    def __dask_tokenize__(self) -> Any:
        return ("hash-partitioner", self.on, self.npartitions, str(self.cast))


class RangePartitioner:
    """Row -> the range of ``divisions`` its key falls in; missing keys go first or last (``na_position``).

    Partition ``i`` holds keys in ``[divisions[i], divisions[i+1])``, the last
    one also its upper bound. ``ascending=False`` numbers the ranges from the
    top, for descending sorts. ``on`` is a column name, or ``None`` for the
    index (or a Series' values when ``values=True``).
    """

    def __init__(self, on: Any, divisions: tuple[Any, ...], ascending: bool = True, na_position: str = "last",
                 values: bool = False) -> None:
        self.on, self.divisions, self.ascending = on, tuple(divisions), ascending
        self.na_position, self.values = na_position, values

    def __call__(self, part: Any) -> np.ndarray:
        if self.values:
            keys = part
        elif self.on is None:
            keys = part.index.to_series()
        else:
            keys = part[self.on]
        keys = order_keys(keys)
        n = len(self.divisions) - 1
        missing = keys.isna().to_numpy()
        out = np.empty(len(part), dtype=np.intp)
        inner = pd.Index(list(self.divisions[1:-1]))
        present = keys[~missing]
        if len(inner):
            found = np.asarray(inner.searchsorted(present.to_numpy(), side="right"), dtype=np.intp)
        else:
            found = np.zeros(len(present), dtype=np.intp)
        out[~missing] = found if self.ascending else n - 1 - found
        out[missing] = n - 1 if self.na_position == "last" else 0
        return out

    def __dask_tokenize__(self) -> Any:
        return ("range-partitioner", self.on, self.divisions, self.ascending, self.na_position, self.values)


def _nbytes(part: Any) -> int:
    usage = part.memory_usage(deep=False, index=True)
    return int(usage.sum() if isinstance(usage, pd.Series) else usage)


def _split(part: Any, partitioner: Any, n: int, spill: tuple[str, int, int, int] | None = None) -> list[Any]:
    """Cut ``part`` into ``n`` groups by the partitioner's output numbers, keeping row order inside each.

    With ``spill = (directory, this input's number, budget, number of inputs)``, groups go to files when the whole
    shuffle (estimated from this partition) would not fit the budget; the list then holds paths.
    """
    where = partitioner(part)
    # NumPy's stable sort is a radix sort for 8- and 16-bit integers: linear time instead of a merge sort.
    codes = where.astype(np.uint8) if n <= 256 else where.astype(np.uint16) if n <= 65536 else where
    order = np.argsort(codes, kind="stable")
    ordered = part.iloc[order]
    counts = np.bincount(where, minlength=n)
    ends = np.cumsum(counts)
    groups = [ordered.iloc[s:e] for s, e in zip(ends - counts, ends, strict=True)]
    if spill is None:
        return groups
    directory, i, budget, n_inputs = spill
    if _nbytes(part) * n_inputs <= budget:
        return groups
    os.makedirs(directory, exist_ok=True)
    paths: list[Any] = []
    for j, group in enumerate(groups):
        if not len(group):
            paths.append(group)
            continue
        path = os.path.join(directory, f"{j}-{i}.pkl")
        group.to_pickle(path)
        paths.append(path)
    return paths


def _load(group: Any) -> Any:
    if not isinstance(group, str):
        return group
    out = pd.read_pickle(group)
    os.remove(group)
    return out


def _gather(j: int, splits: list[list[Any]], meta: Any) -> Any:
    parts = [part for part in (_load(s[j]) for s in splits) if len(part)]
    if not parts:
        return meta.copy()
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def spill_budget(memory_budget: Any = None) -> int | None:
    """The byte budget above which a shuffle spills to disk (``None``: never spill); see the module docstring."""
    method = config.get("dataframe.shuffle.method", None)
    if method == "disk":
        return 0
    if method == "tasks" and memory_budget is None:
        return None
    budget = memory_budget if memory_budget is not None else config.get("dataframe.shuffle.memory-budget", "auto")
    if budget is None:
        return None
    if budget == "auto":
        total = _total_memory()
        return None if total is None else total // 4
    return parse_bytes(budget)


def _total_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # not POSIX: psutil is an optional extra
        try:
            import psutil
        except ImportError:
            return None
        return int(psutil.virtual_memory().total)


def spill_directory() -> str:
    base = config.get("temporary-directory", None) or tempfile.gettempdir()
    return os.path.join(base, f"shoal-df-shuffle-{uuid.uuid4().hex[:12]}")


def shuffle_expr(frame: Expr, partitioner: Any, npartitions: int, label: str, memory_budget: Any = None
                 ) -> Shuffle:
    """A :class:`Shuffle` that spills past the budget; its spill directory goes when the expression does."""
    budget = spill_budget(memory_budget)
    if budget is None:
        return Shuffle(frame, partitioner, npartitions, label)
    directory = spill_directory()
    expr = Shuffle(frame, partitioner, npartitions, label, (directory, budget))
    # Files a failed run left behind; gathers delete the files they read.
    weakref.finalize(expr, shutil.rmtree, directory, True)
    return expr


class ShuffleBase(Expr):
    """What every shuffle shares: it is named by its ``label`` parameter and keeps its ``frame``'s meta."""

    _fuses_inputs = True

    @property
    def _label(self) -> str:  # type: ignore[override]
        return self.label  # type: ignore[no-any-return, attr-defined]

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta  # type: ignore[attr-defined]


class Shuffle(ShuffleBase):
    """Rows of ``frame`` regrouped into ``npartitions_out`` partitions by ``partitioner``; see the module docstring."""

    _parameters = ("frame", "partitioner", "npartitions_out", "label", "spill")
    _defaults = {"label": "shuffle", "spill": None}

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * (self.npartitions_out + 1)

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        keys = getattr(self.partitioner, "on", None)
        if needed is None or not isinstance(self._meta, pd.DataFrame):
            return [(self.frame, None)]
        if keys is None:
            return [(self.frame, needed)]
        return [(self.frame, needed | set(keys if isinstance(keys, list) else [keys]))]

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n_out = self.npartitions_out
        split_name = f"{self._name}-split"
        graph: dict[Key, GraphNode] = {}
        for i in range(self.frame.npartitions):
            key = (split_name, i)
            spill = None if self.spill is None else (self.spill[0], i, self.spill[1], self.frame.npartitions)
            graph[key] = Task(key, _split, ctx.input(self.frame, i), self.partitioner, n_out, spill)
        splits = [Ref((split_name, i)) for i in range(self.frame.npartitions)]
        for j in range(n_out):
            key = (self._name, j)
            graph[key] = Task(key, _gather, j, splits, self._meta)
        return graph


def _alias(x: Any) -> Any:
    return x


class WithDivisions(Expr):
    """``frame`` with divisions that are known to hold (after a range shuffle, or checked min/max)."""

    _parameters = ("frame", "divisions_")
    _label = "set-divisions"
    _fuses_inputs = True

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        if len(self.divisions_) != self.frame.npartitions + 1:
            raise ValueError(f"{self.frame.npartitions} partitions need {self.frame.npartitions + 1} divisions, "
                             f"got {len(self.divisions_)}: {self.divisions_}")
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        out: dict[Key, GraphNode] = {}
        for i in range(self.npartitions):
            arg = ctx.input(self.frame, i)
            key = (self._name, i)
            out[key] = arg.with_key(key) if isinstance(arg, Task) else Task(key, _alias, arg)
        return out

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]


# -- repartitioning -------------------------------------------------------------------------------

def _take(part: Any, selector: Any) -> Any:
    """One piece of a partition: all of it, the ``p``-th of ``k`` row slices, or an index range."""
    if selector is None:
        return part
    if selector[0] == "rows":
        _, k, p = selector
        n = len(part)
        return part.iloc[(n * p) // k:(n * (p + 1)) // k]
    _, lo, hi, include_hi = selector
    index = part.index
    mask = (index >= lo) & ((index <= hi) if include_hi else (index < hi))
    return part[np.asarray(mask)]


def _assemble(parts: list[Any], selectors: list[Any], meta: Any) -> Any:
    pieces = [_take(p, s) for p, s in zip(parts, selectors, strict=True)]
    kept = [p for p in pieces if len(p)]
    if not kept:
        return meta.copy() if not pieces else pieces[0]
    return kept[0] if len(kept) == 1 else pd.concat(kept)


class Repartition(Expr):
    """Output partition ``j`` concatenates pieces ``plan[j] = [(input partition, selector), ...]``."""

    _parameters = ("frame", "plan", "divisions_")
    _label = "repartition"

    @property
    def _fuses_inputs(self) -> bool:  # type: ignore[override]
        # Inline an input's task only when each input partition is read once; otherwise its keys are shared.
        used = [i for pieces in self.plan for i, _ in pieces]
        return len(used) == len(set(used))

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        graph: dict[Key, GraphNode] = {}
        for j, pieces in enumerate(self.plan):
            key = (self._name, j)
            parts = [ctx.input(self.frame, i) for i, _ in pieces]
            graph[key] = Task(key, _assemble, parts, [s for _, s in pieces], self._meta)
        return graph

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]


def plan_npartitions(nin: int, nout: int) -> list[list[tuple[int, Any]]]:
    """Merge neighbours (fewer outputs) or cut each input into row slices (more outputs)."""
    if nout <= nin:
        bounds = [round(j * nin / nout) for j in range(nout + 1)]
        return [[(i, None) for i in range(bounds[j], bounds[j + 1])] for j in range(nout)]
    plan: list[list[tuple[int, Any]]] = []
    for i in range(nin):
        k = nout // nin + (1 if i < nout % nin else 0)
        plan.extend([[(i, None if k == 1 else ("rows", k, p))] for p in range(k)])
    return plan


def plan_sizes(sizes: list[int], limit: int) -> list[list[tuple[int, Any]]]:
    """Cut partitions larger than ``limit`` bytes into slices, then merge neighbours while they fit."""
    pieces: list[tuple[int, Any, float]] = []
    for i, size in enumerate(sizes):
        k = max(1, math.ceil(size / limit))
        pieces.extend((i, None if k == 1 else ("rows", k, p), size / k) for p in range(k))
    plan: list[list[tuple[int, Any]]] = []
    total = 0.0
    for i, sel, size in pieces:
        if plan and total + size <= limit:
            plan[-1].append((i, sel))
            total += size
        else:
            plan.append([(i, sel)])
            total = size
    return plan


def plan_divisions(old: tuple[Any, ...], new: tuple[Any, ...]) -> list[list[tuple[int, Any]]]:
    """Index-range pieces of the old partitions that make up each new partition."""
    nold, nnew = len(old) - 1, len(new) - 1
    plan: list[list[tuple[int, Any]]] = []
    for j in range(nnew):
        lo, hi = new[j], new[j + 1]
        last = j == nnew - 1
        pieces = []
        for i in range(nold):
            olo, ohi = old[i], old[i + 1]
            if olo > hi or ohi < lo or (ohi == lo and i < nold - 1 and olo < ohi) or (olo == hi and not last):
                continue
            pieces.append((i, ("range", lo, hi, last)))
        plan.append(pieces or [(0, ("range", lo, hi, last))])
    return plan


# -- divisions from a sample ----------------------------------------------------------------------

def order_keys(keys: pd.Series) -> pd.Series:
    """Values whose natural order is the sort order: for a categorical, its codes (missing: NaN)."""
    if not isinstance(keys.dtype, pd.CategoricalDtype):
        return keys
    codes = keys.cat.codes.to_numpy().astype("f8")
    codes[codes < 0] = np.nan
    return pd.Series(codes, index=keys.index)


def visible_divisions(divisions: tuple[Any, ...], dtype: Any) -> tuple[Any, ...]:
    """Divisions in the key's own values (a categorical's sampled codes become its categories)."""
    if not isinstance(dtype, pd.CategoricalDtype):
        return divisions
    return tuple(dtype.categories[int(code)] for code in divisions)


def internal_divisions(divisions: tuple[Any, ...], dtype: Any) -> tuple[Any, ...]:
    """The inverse of :func:`visible_divisions`: what a :class:`RangePartitioner` compares with."""
    if not isinstance(dtype, pd.CategoricalDtype):
        return divisions
    codes = dtype.categories.get_indexer(list(divisions))
    if (codes < 0).any():
        raise ValueError(f"divisions {divisions} must be categories of the column: {list(dtype.categories)}")
    return tuple(float(c) for c in codes)


def _sample_chunk(part: Any) -> tuple[np.ndarray, np.ndarray]:
    values = order_keys(part if isinstance(part, pd.Series) else part.to_series()).dropna()
    n = len(values)
    if n == 0:
        return values.to_numpy(), np.zeros(0)
    if n > 8 * _SAMPLE:
        # Sorting every row only to keep _SAMPLE of them dominates set_index on large partitions: sort an evenly
        # strided subsample instead, with the exact minimum and maximum added (they become the outer divisions).
        extremes = pd.Series([values.min(), values.max()], dtype=values.dtype)
        values = pd.concat([values.iloc[:: n // (4 * _SAMPLE)], extremes], ignore_index=True)
    values = values.sort_values(kind="stable").to_numpy()
    k = min(len(values), _SAMPLE)
    positions = np.unique(np.linspace(0, len(values) - 1, k).round().astype(np.intp))
    return values[positions], np.full(len(positions), n / len(positions))


def _sample_combine(partials: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    kept = [p for p in partials if len(p[0])] or partials[:1]
    values = pd.concat([pd.Series(v) for v, _ in kept], ignore_index=True).to_numpy()
    return values, np.concatenate([w for _, w in kept])


class _PickQuantiles:
    """Weighted quantiles of the combined sample at ``n + 1`` evenly spaced levels (min and max exactly)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, partials: list[tuple[np.ndarray, np.ndarray]]) -> list[Any]:
        values, weights = _sample_combine(partials)
        if len(values) == 0:
            return []
        order = pd.Series(values).argsort(kind="stable").to_numpy()
        values, weights = values[order], weights[order]
        cum = np.cumsum(weights)
        picks = np.searchsorted(cum, np.linspace(0, 1, self.n + 1) * cum[-1], side="left")
        picks = np.clip(picks, 0, len(values) - 1)
        picks[0], picks[-1] = 0, len(values) - 1
        return [values[p] for p in picks]

    def __dask_tokenize__(self) -> Any:
        return ("pick-quantiles", self.n)


def _python_scalar(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def sample_divisions(keys: Expr, npartitions: int) -> tuple[Any, ...] | None:
    """Boundaries splitting the values of the Series/Index ``keys`` into about equal ranges (computed now).

    Returns ``None`` when there is no non-missing value to sample. For a
    categorical, the boundaries are codes (see :func:`visible_divisions`).
    """
    expr = TreeReduce([keys], _sample_chunk, _sample_combine, _PickQuantiles(npartitions), [], "divisions-sample")
    picked = new_collection(expr).compute()
    if not picked:
        return None
    if isinstance(keys._meta.dtype, pd.DatetimeTZDtype) or keys._meta.dtype.kind == "M":
        picked = [pd.Timestamp(v) for v in picked]
    unique: list[Any] = []
    for v in picked:
        v = _python_scalar(v)
        if not unique or v != unique[-1]:
            unique.append(v)
    if len(unique) == 1:
        unique.append(unique[0])
    return tuple(unique)

"""Range shuffles that also sort: ``set_index`` and single-key ``sort_values``.

Model
    A plain range shuffle (:class:`~shoal.dataframe._shuffle.Shuffle` with a
    :class:`~shoal.dataframe._shuffle.RangePartitioner`) followed by a pandas
    sort of each output partition works out bucket numbers by binary search,
    sorts by them, and compares keys ``n log n`` times in every output.
    :class:`SortShuffle` gives the same result with radix sorts
    (:mod:`shoal.dataframe._sort_kernels`):

    ``split`` (one task per input partition) sorts its partition by the key,
    stably, and cuts the sorted rows at the divisions
    (:func:`~shoal.dataframe._sort_kernels.split_order`): group ``j`` is a
    slice of the sorted rows. Rows with a missing key end group ``n - 1``
    (``na_position="last"``) or start group 0. Rows are taken here, while the
    partition just read is still in the CPU caches. Strings with few distinct
    values travel as codes (:mod:`shoal.dataframe._string_codes`). Past the
    spill budget the split writes its groups to files instead (see
    :mod:`shoal.dataframe._shuffle`).

    ``gather`` (one task per output partition) concatenates its groups in
    input order and sorts them stably by key. Ties therefore keep the input
    order (rows of an earlier input partition first, then the order within the
    partition), which is what a stable sort of the concatenated input gives,
    as pandas does.

    Each split result (the groups of one input) lives until the last gather
    that reads it has run, so peak memory is about the size of the data being
    shuffled, as for :class:`~shoal.dataframe._shuffle.Shuffle`.
"""

from __future__ import annotations

import functools
import os
import shutil
import weakref
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.dataframe._shuffle import ShuffleBase, _load, _nbytes, order_keys, spill_budget, spill_directory
from shoal.dataframe._sort_kernels import sorted_present, split_order, values_of
from shoal.dataframe._string_codes import decode_strings, encode_strings, unify_codes
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["SortShuffle", "SortSpec", "sort_shuffle_expr"]


class SortSpec:
    """What a sorting shuffle sorts by and where rows go.

    ``on`` is a column name, or ``None`` for the index (a Series' values when
    ``values=True``); ``divisions`` are the range boundaries as a
    :class:`~shoal.dataframe._shuffle.RangePartitioner` takes them (internal
    values: a categorical's codes). ``ascending=False`` sorts descending and
    numbers the ranges from the top; missing keys go to the end of the last
    range (``na_position="last"``) or the start of the first.
    """

    def __init__(self, on: Any, divisions: tuple[Any, ...], ascending: bool = True, na_position: str = "last",
                 values: bool = False) -> None:
        self.on, self.divisions, self.ascending = on, tuple(divisions), bool(ascending)
        self.na_position, self.values = na_position, values

    def keys(self, part: Any) -> pd.Series:
        """The sort keys of ``part`` as a Series with a RangeIndex, in their order-giving form."""
        if self.values:
            raw = part
        else:
            raw = part.index if self.on is None else part[self.on]
        values = values_of(raw)
        # The dtype is explicit: pandas 3 would infer "str" from an object array of strings.
        return order_keys(pd.Series(values, dtype=values.dtype, copy=False))

    def place_missing(self, order: np.ndarray, missing: np.ndarray) -> np.ndarray:
        """The positions of a sort: ``order`` (non-missing keys), with ``missing`` after or before."""
        if not len(missing):
            return order
        return np.concatenate([order, missing] if self.na_position == "last" else [missing, order])

    def __dask_tokenize__(self) -> Any:
        return ("sort-spec", self.on, self.divisions, self.ascending, self.na_position, self.values)


def _split_sorted(part: Any, spec: SortSpec, spill: tuple[str, int, int, int] | None = None) -> list[Any]:
    """Group ``j`` of ``part``: ``(its rows, sorted by key, string dictionaries)``, or a file; see the module docs."""
    order, counts, missing = split_order(spec.keys(part), spec.divisions, spec.ascending)
    if len(missing):
        counts[-1 if spec.na_position == "last" else 0] += len(missing)
    coded, dictionaries = encode_strings(part, None if spec.values else spec.on)
    ordered = coded.take(spec.place_missing(order, missing))
    ends = np.cumsum(counts)
    groups: list[Any] = [(ordered.iloc[e - c:e], dictionaries) for c, e in zip(counts, ends, strict=True)]
    if spill is None:
        return groups
    directory, i, budget, n_inputs = spill
    if _nbytes(part) * n_inputs <= budget:
        return groups
    os.makedirs(directory, exist_ok=True)
    paths: list[Any] = []
    for j, group in enumerate(groups):
        if not len(group[0]):
            paths.append(group)
            continue
        path = os.path.join(directory, f"{j}-{i}.pkl")
        pd.to_pickle(group, path)
        paths.append(path)
    return paths


def _gather_sorted(j: int, splits: list[list[Any]], spec: SortSpec, meta: Any) -> Any:
    """Output partition ``j``: its groups from every split, merged by key; see the module docs."""
    groups = [g for g in (_load(s[j]) for s in splits) if len(g[0])]
    if not groups:
        return meta.copy()
    frames, dictionaries = [f for f, _ in groups], [d for _, d in groups]
    coded: dict[int, Any] = {}
    if any(dictionaries):
        frames, coded = unify_codes(frames, dictionaries)
    joined = frames[0] if len(frames) == 1 else pd.concat(frames)
    # Even one group needs this: the split sorts float keys only nearly (see _sort_kernels).
    order = spec.place_missing(*sorted_present(spec.keys(joined), spec.ascending))
    return decode_strings(joined.take(order), coded)


class SortShuffle(ShuffleBase):
    """Rows of ``frame`` moved to the ranges of ``spec`` and sorted within each; see the module docstring."""

    _parameters = ("frame", "spec", "label", "spill")
    _defaults = {"label": "sort-shuffle", "spill": None}

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * len(self.spec.divisions)

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        if needed is None or not isinstance(self._meta, pd.DataFrame):
            return [(self.frame, None)]
        return [(self.frame, needed if self.spec.on is None else needed | {self.spec.on})]

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        n_out = len(self.spec.divisions) - 1
        split_name = f"{self._name}-split"
        graph: dict[Key, GraphNode] = {}
        for i in range(self.frame.npartitions):
            key = (split_name, i)
            spill = None if self.spill is None else (self.spill[0], i, self.spill[1], self.frame.npartitions)
            graph[key] = Task(key, _split_sorted, ctx.input(self.frame, i), self.spec, spill)
        splits = [Ref((split_name, i)) for i in range(self.frame.npartitions)]
        for j in range(n_out):
            key = (self._name, j)
            graph[key] = Task(key, _gather_sorted, j, splits, self.spec, self._meta)
        return graph


def sort_shuffle_expr(frame: Expr, spec: SortSpec, label: str, memory_budget: Any = None) -> SortShuffle:
    """A :class:`SortShuffle` that spills past the budget; its spill directory goes when the expression does."""
    budget = spill_budget(memory_budget)
    if budget is None:
        return SortShuffle(frame, spec, label)
    directory = spill_directory()
    expr = SortShuffle(frame, spec, label, (directory, budget))
    # Files a failed run left behind; gathers delete the files they read.
    weakref.finalize(expr, shutil.rmtree, directory, True)
    return expr

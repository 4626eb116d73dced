"""The per-partition join of a merge on one key column when the right keys are unique: a lookup, not a join.

:class:`LookupMerge` runs both the broadcast merge (every big partition
against one small frame, the lookup kept between partitions) and each output
partition of a hash join (:mod:`shoal.dataframe._merge_hash`, a new lookup
per partition). Integer keys in a compact range are looked up through a
dense array (:class:`_DenseLookup`), other keys through pandas' hash table.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LookupMerge", "frame_from_arrays"]


class LookupMerge:
    """``pd.merge(left, right, how="inner" | "left")`` on one key column, as a hash lookup into ``right``.

    When the right side's keys are unique, each left row matches
    at most once: its match is the position of its key among the right keys,
    and the output is the matched left rows beside the taken right rows, in
    left order, with a fresh ``0..n-1`` index, which is exactly what pandas
    returns. This skips pandas' general join machinery (sorting, factorizing
    both sides, many-to-many bookkeeping), several times slower per partition.
    Left rows without a match in a left join get the right columns' missing
    values, widened as pandas widens them. Anything else (duplicate right
    keys, differing key dtypes, object keys) falls back to
    :func:`pandas.merge`. ``columns`` are the output's names, from the merge
    of the metas, so suffixes come out as pandas makes them.

    Integer keys spanning a compact range are looked up in a dense array
    (``positions[key - low]``), a gather instead of a hash probe per row;
    when the right keys fill their range (ids ``0..n-1``), the right columns
    are put in key order once and each partition gathers them straight from
    ``key - low``, skipping the positions array. The output is assembled
    from the columns' arrays: selecting and renaming by label would build a
    string ``Index`` of the names for every partition, which costs as much
    as the lookup itself on a partition of 50,000 rows. With ``reuse=True``
    (a broadcast merge) the lookup built for one right frame is kept for the
    next partition (a weak reference, so the frame's lifetime is unchanged);
    a hash join sees each right frame once, and keeping its lookup would only
    hold memory.
    """

    def __init__(self, columns: list[Any], reuse: bool = True) -> None:
        self.columns = columns
        self.reuse = reuse
        self._labels: pd.Index | None = None
        self._cache: tuple[Any, list[int], Any, list[Any] | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"columns": self.columns, "reuse": self.reuse}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["columns"], state.get("reuse", True))  # type: ignore[misc]

    def __call__(self, left: Any, right: Any, kwargs: dict[str, Any]) -> Any:
        (lkey,), (rkey,) = kwargs["left_on"], kwargs["right_on"]
        # Columns by position: a label lookup builds a hash table of each partition's column names, and
        # for string names that costs more than this whole merge.
        lcolumns, rcolumns = list(left.items()), list(right.items())
        lnames, rnames = [name for name, _ in lcolumns], [name for name, _ in rcolumns]
        if len(set(lnames)) != len(lnames) or len(set(rnames)) != len(rnames) \
                or lkey not in lnames or rkey not in rnames:
            return pd.merge(left, right, **kwargs)
        lkeys, rkeys = lcolumns[lnames.index(lkey)][1], rcolumns[rnames.index(rkey)][1]
        right_cols = [j for j, c in enumerate(rnames) if not (c == rkey and lkey == rkey)]
        if lkeys.dtype != rkeys.dtype or lkeys.dtype.kind not in "iufM" \
                or len(self.columns) != len(lnames) + len(right_cols):
            return pd.merge(left, right, **kwargs)
        lookup, tables = self._lookup(right, rkeys, right_cols)
        if lookup is None:  # duplicate right keys
            return pd.merge(left, right, **kwargs)
        if tables is not None:
            offsets = lookup.offsets(lkeys.to_numpy())
            if offsets is not None:  # every left key has its match: one gather per right column
                return self._frame(_shared_columns(left, lcolumns) + [_take(table, offsets) for table in tables])
        positions = lookup(lkeys)
        if positions.min(initial=0) >= 0:
            columns = _shared_columns(left, lcolumns)
        elif kwargs["how"] == "left":
            # Unmatched rows get the right columns' missing value, in the type pandas' own join gives them
            # (its reindexing takes with the same fill: int -> float64, bool -> object, NaT, <NA>).
            columns = _shared_columns(left, lcolumns)
            return self._frame(columns + [_take_filled(rcolumns[j][1]._values, positions) for j in right_cols])
        else:
            rows = np.flatnonzero(positions >= 0)
            positions = positions[rows]
            columns = [_take(column._values, rows) for _, column in lcolumns]
        columns += [_take(rcolumns[j][1]._values, positions) for j in right_cols]
        return self._frame(columns)

    def _frame(self, arrays: list[Any]) -> pd.DataFrame:
        if self._labels is None:
            self._labels = pd.Index(self.columns)
        return frame_from_arrays(arrays, self._labels)

    def _lookup(self, right: Any, rkeys: pd.Series, right_cols: list[int]) -> tuple[Any, list[Any] | None]:
        """``(key array -> positions in right (-1 for none), right columns by key offset or None)``.

        The lookup is ``None`` when the right keys repeat. When they fill their whole range, the right
        columns are reordered once by key (``tables``), so that each partition gathers its values straight
        from its keys' offsets, without a positions array in between.
        """
        cached = self._cache
        if cached is not None and cached[0]() is right and cached[1] == right_cols:
            return cached[2], cached[3]
        dense = _dense_lookup(rkeys.to_numpy()) if isinstance(rkeys.dtype, np.dtype) and rkeys.dtype.kind in "iu" \
            else None
        tables = None
        if dense is not None:
            lookup = None if dense is False else dense
            if dense and dense.full and self.reuse:
                columns = list(right.items())
                tables = [_take(columns[j][1]._values, dense.slots) for j in right_cols]
        else:
            index = pd.Index(rkeys)
            lookup = index.get_indexer if index.is_unique else None  # one hash table serves both
        if self.reuse:
            try:
                self._cache = (weakref.ref(right), list(right_cols), lookup, tables)
            except TypeError:
                pass  # not weak-referenceable: build the lookup again for the next partition
        return lookup, tables

    def __dask_tokenize__(self) -> Any:
        return ("lookup-merge", self.columns, self.reuse)


def _shared_columns(left: pd.DataFrame, lcolumns: list[tuple[Any, pd.Series]]) -> list[Any]:
    """``left``'s columns as Series over ``0..n-1``, for an output that keeps every left row in order.

    The output shares their data without copying it. Handing pandas the Series rather than their arrays
    keeps it aware of that sharing (copy-on-write), so writing into the result copies first instead of
    changing the caller's frame.
    """
    index = left.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return [column for _, column in lcolumns]
    return [column for _, column in left.reset_index(drop=True).items()]


def frame_from_arrays(arrays: list[Any], labels: pd.Index) -> pd.DataFrame:
    """A frame of these columns (arrays, or Series over ``0..n-1``; not copied) named ``labels``.

    Positions as keys, then the labels: pandas would otherwise build a hash table of the names for every
    partition. Object arrays go in as Series: from a bare object array of strings pandas would infer its
    ``str`` dtype, and the column would no longer be what the merge of the inputs gives.
    """
    columns = {i: pd.Series(a, dtype=object, copy=False) if isinstance(a, np.ndarray) and a.dtype == object else a
               for i, a in enumerate(arrays)}
    out = pd.DataFrame(columns, copy=False)
    out.columns = labels
    return out


def _take(values: Any, positions: Any) -> Any:
    """``values[positions]`` for NumPy and extension arrays alike; all of ``values`` when ``positions`` is None."""
    if positions is None:
        return values
    if isinstance(values, np.ndarray):
        return values[positions]
    return values.take(np.asarray(positions, dtype=np.intp))


def _take_filled(values: Any, positions: np.ndarray) -> Any:
    """``values[positions]`` with each ``-1`` position given the missing value (the dtype widened to hold it)."""
    return pd.api.extensions.take(values, np.asarray(positions, dtype=np.intp), allow_fill=True)


#: A dense lookup spends 4 bytes a slot (8 past 2**31 keys); past this many slots per key (plus
#: ``_DENSE_SLACK``) a hash table is smaller. Filling a slot costs far less than a hash probe, so the
#: dense lookup stays faster well past this ratio; the bound is about memory. A hash join's partition
#: holds about one key in ``npartitions`` of the whole range, hence a ratio above the usual partition counts.
_DENSE_SLOTS_PER_KEY = 16
_DENSE_SLACK = 1 << 16


class _DenseLookup:
    """Positions of integer keys in a compact range, through one array indexed by ``key - low``.

    ``full`` says every key of the range is present, so that a key inside the range always matches.
    Keys narrower than 64 bits are widened first: ``key - low`` in their own type could wrap around
    (``100 - (-100)`` in ``int8``) and land on another key's slot.
    """

    def __init__(self, low: Any, high: Any, slots: np.ndarray, full: bool) -> None:
        self.low, self.high, self.slots, self.full = low, high, slots, full

    def offsets(self, keys: np.ndarray) -> np.ndarray | None:
        """``keys - low`` when every key lies in the range, else ``None``."""
        keys = _widen(keys)
        if len(keys) == 0 or keys.min() < self.low or keys.max() > self.high:
            return None
        return keys if self.low == 0 else keys - self.low  # type: ignore[no-any-return]

    def __call__(self, keys: Any) -> np.ndarray:
        keys = _widen(np.asarray(keys))
        if len(keys) and keys.min() >= self.low and keys.max() <= self.high:
            return self.slots[keys - self.low]  # type: ignore[no-any-return]
        # Keys outside the range may wrap around when shifted; they are masked before and after the gather.
        inside = (keys >= self.low) & (keys <= self.high)
        offsets = np.where(inside, keys - self.low, 0)
        return np.where(inside, self.slots[offsets], -1)


def _widen(keys: np.ndarray) -> np.ndarray:
    return keys.astype(np.int64) if keys.dtype.itemsize < 8 else keys


def _dense_lookup(keys: np.ndarray) -> Any:
    """A :class:`_DenseLookup` for unique integer ``keys``; ``False`` if they repeat, ``None`` if too spread."""
    if len(keys) == 0:
        return None
    keys = _widen(keys)
    low, high = keys.min(), keys.max()
    span = int(high) - int(low) + 1
    if span > _DENSE_SLOTS_PER_KEY * len(keys) + _DENSE_SLACK:
        return None
    kind = np.int32 if len(keys) < 2**31 else np.intp
    slots = np.full(span, -1, dtype=kind)
    offsets = keys - low
    order = np.arange(len(keys), dtype=kind)
    slots[offsets] = order
    # A repeated key's slot holds only its last position, so an earlier position does not read back.
    if not np.array_equal(slots[offsets], order):
        return False
    return _DenseLookup(low, high, slots, span == len(keys))

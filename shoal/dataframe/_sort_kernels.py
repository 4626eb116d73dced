"""Stable sorting of one key column, fast for numbers, and cutting sorted rows at range boundaries.

Model
    Numbers, booleans, datetimes and timedeltas (and categoricals, by code,
    after :func:`~shoal.dataframe._shuffle.order_keys`) are mapped to
    ``uint64`` *codes* whose unsigned order is the sort order
    (:func:`order_codes`): for floats, the IEEE-754 bit pattern with the sign
    bit flipped for positives and every bit flipped for negatives, after
    ``-0.0`` is made ``+0.0`` (they compare equal). A descending sort inverts
    the codes; ties then keep their input order, as pandas' stable descending
    sort does. Missing values are set apart and placed first or last, in input
    order. Arrow-backed strings are sorted by their rank among the distinct
    strings of the column (found by a dictionary encoding; only the distinct
    strings are compared). Other keys (objects, extension types) are sorted by
    pandas.

    Codes are sorted by a stable LSD radix sort over 16-bit digits
    (:func:`radix_argsort`): NumPy's stable sort of ``uint16`` is a counting
    sort, so each digit costs two linear passes and two takes, against the
    ``n log n`` comparisons of a merge sort (about 3x slower on random floats).
    Digits that never vary are skipped, so small integer ranges take one or
    two passes. Codes with more varying digits (random floats, wide integers,
    nanosecond datetimes) are sorted by their high 32 bits (two passes), then
    by a merge sort of that nearly sorted order, which finds its long runs;
    only codes sharing their high bits were left out of order.

    :func:`split_order` serves the split of a sorting shuffle, which must cut
    its partition at the divisions exactly but whose rows the gather sorts
    again anyway: float keys are sorted by the high 32 bits of their codes
    alone, and only the rows sharing those bits with a division are sorted
    exactly, so that every cut is exact.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["is_arrow_string", "numeric_keys", "order_codes", "radix_argsort", "sorted_present", "split_order",
           "values_of"]

_SIGN = np.uint64(1 << 63)
#: Bits of the codes that the split's approximate sort of float keys looks at.
_COARSE_BITS = 32


def values_of(obj: pd.Series | pd.Index) -> Any:
    """NumPy values for NumPy dtypes, else the extension array."""
    return obj.to_numpy() if isinstance(obj.dtype, np.dtype) else obj.array


def numeric_keys(keys: pd.Series) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(values, missing mask or None)`` as NumPy for keys :func:`order_codes` handles, else ``None``."""
    dtype = keys.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = keys.to_numpy()
        return values, (np.isnan(values) if dtype.kind == "f" else None)
    if dtype.kind in "mM" and hasattr(keys.array, "asi8"):  # NumPy-backed datetimes (tz-aware too), timedeltas
        values = keys.array.asi8
        return values, values == np.iinfo(np.int64).min
    return None


def order_codes(values: np.ndarray, ascending: bool = True) -> np.ndarray:
    """``uint64`` codes whose unsigned order is the order of ``values`` (no missing values; see the module docs).

    >>> order_codes(np.array([1.5, -2.0, 0.0, -0.0])).argsort(kind="stable").tolist()
    [1, 2, 3, 0]
    """
    kind = values.dtype.kind
    if kind == "f":
        codes = (values + 0.0).astype(np.float64, copy=False).view(np.uint64)  # a copy, with -0.0 made +0.0
        signs = codes.view(np.int64) >> 63  # arithmetic shift: all ones for negatives, else zero
        signs |= np.int64(-(1 << 63))
        codes ^= signs.view(np.uint64)
    elif kind == "i" or kind in "mM":
        codes = values.astype(np.int64).view(np.uint64) ^ _SIGN
    else:  # unsigned integers, booleans
        codes = values.astype(np.uint64)
    if not ascending:
        np.invert(codes, out=codes)
    return codes


def radix_argsort(codes: np.ndarray) -> np.ndarray:
    """The stable ascending order of unsigned integer codes, by LSD radix sort over 16-bit digits.

    Codes with more than two varying digits are sorted by their high 32 bits
    (two passes), then by a merge sort of the nearly sorted result, which
    finds its long runs: cheaper than two more passes unless many codes share
    their high bits.

    >>> radix_argsort(np.array([70000, 3, 70000, 1], dtype=np.uint64)).tolist()
    [3, 1, 0, 2]
    """
    n = len(codes)
    low, high = (int(codes.min()), int(codes.max())) if n else (0, 0)
    if low == high:
        return np.arange(n, dtype=np.intp)
    if high - low < 1 << 48:
        # Fewer digits after subtracting the minimum (small integers, a narrow range of floats or datetimes).
        codes = codes - codes.dtype.type(low)
        low, high = 0, high - low
        if high < 1 << 16:
            codes = codes.astype(np.uint16)
        elif high < 1 << 32:
            codes = codes.astype(np.uint32)
    width = codes.dtype.itemsize // 2
    # Digit k (from the least significant) as a strided view: no shifting or masking.
    digits = np.ascontiguousarray(codes).view(np.uint16).reshape(n, width)
    if sys.byteorder == "big":
        digits = digits[:, ::-1]
    changing = int(np.bitwise_or.reduce(codes ^ codes[0]))  # the bits that differ somewhere
    varying = [k for k in range(width) if (changing >> (16 * k)) & 0xFFFF]
    if len(varying) > 2:
        shift = (high - low).bit_length() - _COARSE_BITS
        order = radix_argsort(((codes - codes.dtype.type(low)) >> np.uint64(shift)).astype(np.uint32))
        ranked = codes[order]
        if not (ranked[1:] >= ranked[:-1]).all():
            order = order[np.argsort(ranked, kind="stable")]
        return order
    order = np.argsort(digits[:, varying[0]], kind="stable")
    for k in varying[1:]:
        order = order[np.argsort(digits[:, k][order], kind="stable")]
    return order


def _pandas_order(keys: pd.Series, ascending: bool) -> tuple[np.ndarray, np.ndarray]:
    missing = keys.isna().to_numpy()
    present = np.flatnonzero(~missing)
    kept = keys.iloc[present].reset_index(drop=True)
    order = kept.sort_values(ascending=ascending, kind="stable").index.to_numpy()
    return present[order], np.flatnonzero(missing)


def is_arrow_string(dtype: Any) -> bool:
    """Whether ``dtype`` is a string dtype backed by Arrow (pandas' default ``str`` among them)."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        return bool(pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype))
    return False


def _string_ranks(keys: pd.Series) -> tuple[np.ndarray, np.ndarray | None, Any]:
    """``(rank of each key among the distinct keys, missing mask or None, the sorted distinct keys)``.

    Sorting the few distinct strings and then the integer ranks beats
    comparing strings row by row; Arrow orders strings by their UTF-8 bytes,
    which is code point order, as Python and pandas compare them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    column = keys.array.__arrow_array__()
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = pc.dictionary_encode(column)
    sorter = pc.array_sort_indices(encoded.dictionary).to_numpy()
    # One spare rank: the code of missing keys (whose positions are set apart) when every key is missing.
    ranks = np.zeros(len(sorter) + 1, dtype=np.uint32 if len(sorter) < 1 << 32 else np.uint64)
    ranks[sorter] = np.arange(len(sorter), dtype=ranks.dtype)
    indices, missing = encoded.indices, None
    if indices.null_count:
        missing = indices.is_null().to_numpy(zero_copy_only=False)
        indices = indices.fill_null(0)
    return ranks.take(indices.to_numpy()), missing, encoded.dictionary.take(sorter)


def _present_order(values: np.ndarray, missing: np.ndarray | None, ascending: bool) -> tuple[np.ndarray, np.ndarray]:
    present = None
    if missing is not None and missing.any():
        present = np.flatnonzero(~missing)
        values = values[present]
    order = radix_argsort(order_codes(values, ascending))
    if present is None:
        return order, np.zeros(0, dtype=np.intp)
    return present[order], np.flatnonzero(missing)


def sorted_present(keys: pd.Series, ascending: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(positions of the non-missing keys in stable sorted order, positions of the missing keys)``.

    >>> [p.tolist() for p in sorted_present(pd.Series([2.0, None, 1.0, 2.0]), ascending=False)]
    [[0, 3, 2], [1]]
    """
    if is_arrow_string(keys.dtype):
        ranks, missing, _ = _string_ranks(keys)
        return _present_order(ranks, missing, ascending)
    numeric = numeric_keys(keys)
    if numeric is None:
        return _pandas_order(keys, ascending)
    return _present_order(*numeric, ascending)


def split_order(keys: pd.Series, divisions: tuple[Any, ...], ascending: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, counts, missing)``: the non-missing rows cut into the ranges of ``divisions``.

    ``order[:counts[0]]`` are the positions of range 0's rows, and so on;
    range ``i`` holds the keys in ``[divisions[i], divisions[i + 1])`` (the
    outer ranges are open-ended), numbered from the top when
    ``ascending=False``. Within a range rows are in stable key order, or for
    float keys nearly so (see the module docs). ``missing`` are the positions
    of missing keys.
    """
    n = len(divisions) - 1
    inner = list(divisions[1:-1])
    if is_arrow_string(keys.dtype):
        ranks, missing, distinct = _string_ranks(keys)
        order, gone = _present_order(ranks, missing, ascending)
        # A key is below a division exactly when its rank is below the division's rank among the keys.
        below = np.searchsorted(np.asarray(distinct.to_pylist(), dtype=object), np.asarray(inner, dtype=object))
        return order, _counts(ranks, order, list(below), ascending, n), gone
    numeric = numeric_keys(keys)
    if numeric is not None and numeric[0].dtype.kind == "f" and n > 1:
        try:
            cuts = np.asarray(inner, dtype=np.float64)
        except (TypeError, ValueError):
            cuts = None
        if cuts is not None and not np.isnan(cuts).any():
            return _split_floats(*numeric, cuts, ascending)
    order, missing = sorted_present(keys, ascending)
    return order, _counts(values_of(keys), order, inner, ascending, n), missing


def _counts(values: Any, order: np.ndarray, inner: list[Any], ascending: bool, n: int) -> np.ndarray:
    """Rows in each range, for ``values[order]`` sorted (see :func:`split_order`)."""
    if n == 1 or not len(order):
        counts = np.zeros(n, dtype=np.intp)
        counts[0] = len(order)
        return counts
    ordered = values.take(order if ascending else order[::-1])
    # A key goes to the number of inner divisions <= it: ties with a division go up, as in RangePartitioner.
    cuts = np.asarray(pd.Index(ordered, dtype=ordered.dtype, copy=False).searchsorted(pd.Index(inner), side="left"),
                      dtype=np.intp)
    counts = np.diff(np.concatenate([[0], cuts, [len(order)]]))
    return counts if ascending else counts[::-1]


def _split_floats(values: np.ndarray, missing: np.ndarray | None, inner: np.ndarray, ascending: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    present = None
    if missing is not None and missing.any():
        present = np.flatnonzero(~missing)
        values = values[present]
    codes = order_codes(values, ascending)
    # Cut codes in increasing order; descending, a row goes before the cut when its key is >= the division.
    cut_codes = order_codes(inner if ascending else inner[::-1], ascending)
    side = "left" if ascending else "right"
    order = np.zeros(0, dtype=np.intp)
    cuts = np.zeros(len(cut_codes), dtype=np.intp)
    if len(codes):
        low, high = int(codes.min()), int(codes.max())
        shift = max(0, (high - low).bit_length() - _COARSE_BITS)
        coarse = ((codes - np.uint64(low)) >> np.uint64(shift)).astype(np.uint32)
        order = radix_argsort(coarse)
        ranked = coarse[order]
        inside = (cut_codes >= low) & (cut_codes <= high)
        cuts[cut_codes > high] = len(order)
        bands = ((cut_codes[inside] - np.uint64(low)) >> np.uint64(shift)).astype(np.uint32)
        starts, stops = np.searchsorted(ranked, bands, "left"), np.searchsorted(ranked, bands, "right")
        for t, code, lo, hi in zip(np.flatnonzero(inside), cut_codes[inside], starts, stops, strict=True):
            # Rows sharing the division's high bits: sort them exactly (stably) to cut between them.
            exact = order[lo:hi][np.argsort(codes[order[lo:hi]], kind="stable")]
            order[lo:hi] = exact
            cuts[t] = lo + np.searchsorted(codes[exact], code, side=side)
    counts = np.diff(np.concatenate([[0], cuts, [len(order)]])).astype(np.intp)
    gone = np.zeros(0, dtype=np.intp)
    if present is not None:
        order = present[order]
        gone = np.flatnonzero(missing)
    return order, counts, gone

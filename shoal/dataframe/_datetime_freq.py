"""``Series.dt.freq``: pandas' inferred frequency of the whole column, as a tree reduction.

pandas infers the frequency from every value at once (``DatetimeIndex.inferred_freq``):
the values must be unique and monotonic, then the spacing decides (one step size, business
days, month ends, ...). A partition alone can't answer for the column (Monday to Wednesday
looks daily, the whole column may be business days), so each partition sends a summary and
the last task runs pandas' own inference on what the summaries describe:

- ``None`` when the partition proves the column has no frequency: a missing value (pandas
  then sees a non-monotonic index), repeated or unsorted values, or, in an increasing column,
  steps shorter than a day that are neither all equal nor pandas' business-hour steps (1, 17
  and 65 hours). pandas' inference needs, for any answer, the smallest step to be a whole
  number of days, the steps to be those business-hour ones, or a single step size; a
  partition's steps are among the column's, so such a partition rules all three out.
- a *run* ``(first, last, n, freq)`` when the partition is exactly
  ``date_range(first, periods=n, freq=freq)`` for its own inferred ``freq``; adjacent runs
  of one frequency that continue each other merge into one;
- its values otherwise (partitions of under three values; steps of a day or more, whose
  count the date range bounds; decreasing columns).

Junctions between partitions are checked for order as the summaries meet. When one run is
left the answer is its frequency (pandas infers a date range's own frequency back); anything
else is rebuilt as values and handed to pandas.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FreqChunk", "combine_freq", "freq_result"]

#: pandas' business-hour steps, in hours (``_FrequencyInferer.get_freq``).
_BUSINESS_HOURS = {1.0, 17.0, 65.0}


def _quiet_inferred_freq(idx: pd.Index) -> str | None:
    """``idx.inferred_freq`` as a string, without pandas 3.1's warning that it will return offsets later.

    Setting the option around the call would not do: pandas options are process-wide, and partitions run
    on threads at once. The string is what pandas computes before it converts or warns.
    """
    if hasattr(type(idx), "_inferred_freq_str"):
        return idx._inferred_freq_str  # type: ignore[no-any-return]
    return idx.inferred_freq  # type: ignore[no-any-return]  # pandas < 3.1 returns strings without warning


def _as_index(values: Any) -> pd.Index:
    if isinstance(values, pd.Index):
        return values
    array = values.array if isinstance(values, pd.Series) else values
    if pd.api.types.is_timedelta64_dtype(array.dtype):
        return pd.TimedeltaIndex(array)
    return pd.DatetimeIndex(array)


def _range(first: Any, n: int, freq: str, like: pd.Index) -> pd.Index:
    """``n`` values from ``first`` stepping by ``freq``, with ``like``'s unit (and time zone, via ``first``)."""
    if isinstance(like, pd.TimedeltaIndex):
        return pd.timedelta_range(start=first, periods=n, freq=freq, unit=like.unit)
    return pd.date_range(start=first, periods=n, freq=freq, unit=like.unit)  # type: ignore[attr-defined]


def _rules_out_a_frequency(idx: pd.DatetimeIndex | pd.TimedeltaIndex) -> bool:
    """Whether this increasing, unique piece proves that the column has no inferred frequency."""
    wall = idx.tz_localize(None) if getattr(idx, "tz", None) is not None else idx
    local = np.unique(np.diff(wall.asi8))
    utc = np.unique(np.diff(idx.asi8))
    per_day = int(pd.Timedelta(days=1) / pd.Timedelta(1, unit=idx.unit))
    hours = {float(d) / (per_day // 24) for d in local}
    return bool(local[0] < per_day and len(utc) > 1 and not hours <= _BUSINESS_HOURS)


class FreqChunk:
    """Per-partition summary for ``dt.freq`` (see the module docstring); picklable and tokenizable."""

    __name__ = "dt-freq"

    def __call__(self, part: Any) -> list[tuple[Any, ...]] | None:
        idx = _as_index(part)
        n = len(idx)
        if n == 0:
            return []
        if idx.hasnans:
            return None
        if n >= 2:
            increasing = idx.is_monotonic_increasing
            if not idx.is_unique or not (increasing or idx.is_monotonic_decreasing):
                return None
            if n >= 3 and increasing and _rules_out_a_frequency(idx):
                return None
        if n >= 3:
            freq = _quiet_inferred_freq(idx)
            if freq is not None and _range(idx[0], n, freq, idx).equals(idx):
                return [("run", idx[0], idx[-1], n, freq, idx[:0])]
        return [("values", idx[0], idx[-1], n, None, idx)]

    def __dask_tokenize__(self) -> Any:
        return ("dt-freq-chunk",)


def _direction(a: Any, b: Any) -> int:
    return 1 if b > a else -1 if b < a else 0


def _continues(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    if left[0] != "run" or right[0] != "run" or left[4] != right[4]:
        return False
    return bool(_range(left[2], 2, left[4], left[5])[1] == right[1])


def combine_freq(partials: list[list[tuple[Any, ...]] | None]) -> list[tuple[Any, ...]] | None:
    """Join summaries in order: ``None`` if any proves there's no frequency or the order breaks, else merge runs."""
    if any(p is None for p in partials):
        return None
    pieces = [piece for p in partials for piece in p]  # type: ignore[union-attr]
    directions = set()
    for piece in pieces:
        if piece[3] >= 2:
            directions.add(_direction(piece[1], piece[2]))
    for left, right in zip(pieces, pieces[1:], strict=False):
        directions.add(_direction(left[2], right[1]))
    if 0 in directions or len(directions) > 1:
        return None  # a repeated value, or values going both up and down: not monotonic
    merged: list[tuple[Any, ...]] = []
    for piece in pieces:
        if merged and _continues(merged[-1], piece):
            last = merged[-1]
            merged[-1] = ("run", last[1], piece[2], last[3] + piece[3], last[4], last[5])
        else:
            merged.append(piece)
    return merged


class FreqResult:
    """The aggregate: pandas' inferred frequency of the column the summaries describe."""

    __name__ = "dt-freq"

    def __init__(self, as_offset: bool) -> None:
        self.as_offset = as_offset

    def __call__(self, partials: list[list[tuple[Any, ...]] | None]) -> Any:
        pieces = combine_freq(partials)
        if not pieces:
            return None
        if len(pieces) == 1 and pieces[0][0] == "run":
            freq = pieces[0][4]
        else:
            parts = [_range(p[1], p[3], p[4], p[5]) if p[0] == "run" else p[5] for p in pieces]
            freq = _quiet_inferred_freq(parts[0].append(parts[1:]) if len(parts) > 1 else parts[0])
        if freq is not None and self.as_offset:
            return pd.tseries.frequencies.to_offset(freq)
        return freq

    def __dask_tokenize__(self) -> Any:
        return ("dt-freq-result", self.as_offset)


def freq_result() -> FreqResult:
    """The aggregate for the current pandas option ``future.infer_freq_returns_offset`` (read when building)."""
    try:
        as_offset = bool(pd.get_option("future.infer_freq_returns_offset"))
    except KeyError:  # pandas without the option returns strings
        as_offset = False
    return FreqResult(as_offset)

"""Rolling, expanding and resample windows, overlaps, cumulative and shifted operations of shoal DataFrames and Series.

Every method here needs rows of neighbouring partitions; the machinery that
brings them is in :mod:`shoal.dataframe._overlap` (overlaps and cumulative
carries), :mod:`shoal.dataframe._rolling` and :mod:`shoal.dataframe._resample`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions
from shoal.dataframe._meta import make_meta, make_meta_nonempty, meta_from_output
from shoal.dataframe._overlap import Cumulative, Overlap, normalize_span
from shoal.dataframe._resample import Resampler
from shoal.dataframe._rolling import Expanding, Rolling

__all__: list[str] = []


class _PartMethod:
    """``part.<method>(*args, **kwargs)``; picklable, with a stable token."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.__name__ = method

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(part, self.method)(*args, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("part-method", self.method)


def _check_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer number of rows, got {value!r}")
    return value


class WindowMethods:
    """Methods of DataFrame and Series from this family."""

    _expr: Any
    _meta: Any

    # -- cumulative ---------------------------------------------------------------------------
    def cumsum(self, axis: Any = 0, skipna: bool = True) -> Any:
        """Cumulative sum down the rows, carried across partitions (``axis=1`` runs per row)."""
        return self._cumulative("cumsum", axis, skipna)

    def cumprod(self, axis: Any = 0, skipna: bool = True) -> Any:
        """Cumulative product down the rows, carried across partitions."""
        return self._cumulative("cumprod", axis, skipna)

    def cummax(self, axis: Any = 0, skipna: bool = True) -> Any:
        """Running maximum down the rows, carried across partitions."""
        return self._cumulative("cummax", axis, skipna)

    def cummin(self, axis: Any = 0, skipna: bool = True) -> Any:
        """Running minimum down the rows, carried across partitions.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([3, 1, 2, 0, 5]), npartitions=3)
        >>> s.cummin().compute().tolist()
        [3, 1, 1, 0, 0]
        """
        return self._cumulative("cummin", axis, skipna)

    def _cumulative(self, method: str, axis: Any, skipna: bool) -> Any:
        if axis in (1, "columns"):
            if not isinstance(self._meta, pd.DataFrame):
                raise ValueError(f"No axis named {axis!r} for a Series; {method} runs along axis 0")
            return new_collection(MapPartitions(self._expr, _PartMethod(method), (), {"axis": 1, "skipna": skipna},
                                                None, method))
        if axis not in (0, None, "index"):
            raise ValueError(f"No axis named {axis!r}; use 0/'index' or 1/'columns'")
        return new_collection(Cumulative(self._expr, method, skipna))

    # -- shifted ------------------------------------------------------------------------------
    def shift(self, periods: int = 1, freq: Any = None) -> Any:
        """Shift rows by ``periods``, taking rows from the neighbouring partitions.

        With ``freq`` the index moves instead of the data (partition-wise; divisions become unknown).

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1, 2, 3, 4]), npartitions=2)
        >>> s.shift(1).compute().tolist()
        [nan, 1.0, 2.0, 3.0]
        """
        periods = _check_int(periods, "shift periods")
        if freq is not None:
            return new_collection(MapPartitions(self._expr, _PartMethod("shift"), (periods,), {"freq": freq}, None,
                                                "shift", False, False))
        return self._overlapping("shift", periods)

    def diff(self, periods: int = 1) -> Any:
        """Difference with the row ``periods`` earlier (later, if negative), across partition edges."""
        return self._overlapping("diff", _check_int(periods, "diff periods"))

    def _overlapping(self, method: str, periods: int) -> Any:
        before, after = (periods, 0) if periods >= 0 else (0, -periods)
        func = _PartMethod(method)
        meta = meta_from_output(func(make_meta_nonempty(self._meta), periods))
        return new_collection(Overlap(self._expr, func, before, after, (periods,), None, meta, method))

    # -- overlaps and windows -------------------------------------------------------------------
    def map_overlap(self, func: Callable[..., Any], before: Any, after: Any, *args: Any, meta: Any = None,
                    **kwargs: Any) -> Any:
        """``func`` on each partition extended by ``before``/``after`` rows of its neighbours, then trimmed.

        ``before`` and ``after`` are numbers of rows, or time spans (``'2h'``)
        on a datetime index. ``func`` must return one row per input row.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1, 2, 3, 4, 5]), npartitions=2)
        >>> s.map_overlap(lambda p: p - p.shift(2), 2, 0).compute().tolist()
        [nan, nan, 2.0, 2.0, 2.0]
        """
        if any(isinstance(a, FrameBase) for a in (*args, *kwargs.values())):
            # Other collections are split and extended like this one: the module-level function does that.
            from shoal.dataframe._map_overlap import map_overlap

            return map_overlap(func, self, before, after, *args, meta=meta, **kwargs)
        index = self._meta.index
        before = normalize_span(before, "before", index)
        after = normalize_span(after, "after", index)
        if meta is not None:
            meta = make_meta(meta)
        else:
            try:
                meta = meta_from_output(func(self._meta, *args, **kwargs))
            except Exception:  # noqa: BLE001 - functions that fail on empty input get a small fake partition
                meta = meta_from_output(func(make_meta_nonempty(self._meta), *args, **kwargs))
        label = getattr(func, "__name__", "overlap").replace("_", "-").strip("-<>") or "overlap"
        return new_collection(Overlap(self._expr, func, before, after, tuple(args), kwargs or None, meta, label))

    def rolling(self, window: Any, min_periods: int | None = None, center: bool = False,
                win_type: str | None = None, on: Any = None, closed: str | None = None) -> Rolling:
        """A rolling window of ``window`` rows, or a time span like ``'2h'`` on a datetime index."""
        return Rolling(self, window, min_periods=min_periods, center=center, win_type=win_type, on=on, closed=closed)

    def expanding(self, min_periods: int = 1) -> Expanding:
        """An expanding window (see :class:`shoal.dataframe._rolling.Expanding` for its cost)."""
        return Expanding(self, min_periods)

    def resample(self, rule: Any, closed: str | None = None, label: str | None = None, origin: Any = "start_day",
                 offset: Any = None) -> Resampler:
        """Group rows into time bins of a datetime index with known divisions; see :mod:`._resample`."""
        return Resampler(self, rule, closed=closed, label=label, origin=origin, offset=offset)

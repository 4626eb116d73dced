"""``rolling`` and ``expanding`` windows that cross partition edges.

A rolling window of ``w`` rows at a partition's first row reaches ``w - 1``
rows into the partitions before it; a time window like ``'2h'`` reaches back
two hours of index labels. Both run as an :class:`~shoal.dataframe._overlap.Overlap`
that borrows exactly that much from the left neighbours (and, for
``center=True``, from the right), so results equal pandas on the whole frame.

An expanding window reaches back to the first row: each partition borrows every
earlier row. That is correct for any aggregation but moves O(rows) data to
the last partition; prefer ``cumsum``/``cummax``-style methods for long
frames where they fit.

``cov`` and ``corr`` with ``other`` first align the two collections (same
divisions) and pack each pair of partitions side by side into one frame, so
one overlap carries the rows of both; pandas then runs on the unpacked pair,
which gives exactly its own alignment and column rules. A pairwise result has
several output rows per input row (one per column); inside the overlap it is
kept as one wide row per input row, so the borrowed rows trim by position, and
each partition is turned back into pandas' ``(row label, column)`` layout at
the end. Its index is a MultiIndex, so its divisions are unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._align import aligned, is_partitioned
from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import MapPartitions
from shoal.dataframe._meta import make_meta_nonempty
from shoal.dataframe._overlap import ALL, Overlap, normalize_span

__all__ = ["Expanding", "Rolling"]


class _WindowCall:
    """``part.<window>(**window_kwargs).<method>(*args, **kwargs)``; picklable, with a stable token."""

    def __init__(self, window: str, window_kwargs: dict[str, Any], method: str) -> None:
        self.window, self.window_kwargs, self.method = window, window_kwargs, method
        self.__name__ = f"{window}-{method}"

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(part, self.window)(**self.window_kwargs), self.method)(*args, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("window-call", self.window, sorted(self.window_kwargs.items(), key=str), self.method)


class _Side:
    """How one operand of ``cov``/``corr`` sits in a packed frame: a Series' name, or a frame's columns.

    A ``marked`` side carries one more column, set on its own rows, so that the rows it lacks (missing
    after packing on the union of labels) can be told apart from its own missing values.
    """

    def __init__(self, meta: Any, marked: bool = False) -> None:
        self.is_series = isinstance(meta, pd.Series)
        self.name = meta.name if self.is_series else None
        self.columns = None if self.is_series else meta.columns
        self.marked = marked

    def pack(self, part: Any) -> pd.DataFrame:
        out = part.to_frame(name=0) if self.is_series else part.copy(deep=False)
        out.columns = range(out.shape[1])  # positions: labels may repeat across the two sides
        if self.marked:
            out[out.shape[1]] = True
        return out

    def unpack(self, packed: pd.DataFrame) -> Any:
        if self.marked:
            packed = packed.iloc[:, :-1]
        if self.is_series:
            return packed.iloc[:, 0].rename(self.name)
        out = packed.copy(deep=False)
        out.columns = self.columns
        return out

    def own_rows(self, packed: pd.DataFrame) -> np.ndarray:
        """Which rows of the packed frame are this (marked) side's own."""
        return packed.iloc[:, -1].notna().to_numpy()


def _pack(left: Any, right: Any, sides: tuple[_Side, _Side]) -> pd.DataFrame:
    """The two operands side by side, on the union of their labels (pandas aligns them the same way)."""
    return pd.concat([sides[0].pack(left), sides[1].pack(right)], axis=1, keys=[0, 1])


class _BinaryWindowCall:
    """``x.<window>(...).<method>(y, pairwise=, ddof=)`` on one (extended) partition, one row per input row.

    ``sides`` is ``None`` when there is no ``other`` (the partition is ``x``); otherwise the partition is
    packed (see :func:`_pack`). A pairwise result's ``per_row`` rows per input row are laid out as one wide row.
    With a marked side (a frame with a Series), pandas keeps only that frame's rows: every row is computed, and
    a last column says which to keep.
    """

    def __init__(self, window: str, window_kwargs: dict[str, Any], method: str, pairwise: bool | None, ddof: int,
                 sides: tuple[_Side, _Side] | None, per_row: int) -> None:
        self.window, self.window_kwargs, self.method = window, window_kwargs, method
        self.pairwise, self.ddof, self.sides, self.per_row = pairwise, ddof, sides, per_row
        self.__name__ = f"{window}-{method}"

    def pandas(self, part: Any) -> Any:
        """pandas' own result on ``part`` (long layout)."""
        if self.sides is None:
            x, y = part, None
        else:
            x, y = self.sides[0].unpack(part[0]), self.sides[1].unpack(part[1])
        window = getattr(x, self.window)(**self.window_kwargs)
        return getattr(window, self.method)(y, pairwise=self.pairwise, ddof=self.ddof)

    def __call__(self, part: Any) -> Any:
        out = self.pandas(part)
        marked = [side for side in self.sides or () if side.marked]
        if marked:
            wide = out.set_axis(range(out.shape[1]), axis=1)
            wide[out.shape[1]] = marked[0].own_rows(part[self.sides.index(marked[0])])  # type: ignore[union-attr]
            return wide
        if self.per_row == 1:
            return out
        wide = out.to_numpy().reshape(len(part), self.per_row * out.shape[1])
        return pd.DataFrame(wide, index=part.index)

    def __dask_tokenize__(self) -> Any:
        sides = None if self.sides is None else [(s.is_series, s.name, s.marked, None if s.columns is None
                                                  else list(s.columns)) for s in self.sides]
        return ("binary-window", self.window, sorted(self.window_kwargs.items(), key=str), self.method,
                self.pairwise, self.ddof, sides, self.per_row)


def _to_long(wide: pd.DataFrame, inner: pd.Index, meta: pd.DataFrame) -> pd.DataFrame:
    """A wide pairwise partition back in pandas' layout: rows ``(label, inner)``, columns as ``meta``."""
    per_row, n = len(inner), len(wide)
    values = wide.to_numpy(dtype=np.float64).reshape(n * per_row, len(meta.columns))
    index = pd.MultiIndex.from_arrays([wide.index.repeat(per_row), inner.take(np.tile(np.arange(per_row), n))],
                                      names=meta.index.names)
    return pd.DataFrame(values, index=index, columns=meta.columns).astype(meta.dtypes.to_dict())


def _own_rows(wide: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """The rows the marked side owns (see :class:`_Side`), with ``meta``'s columns."""
    out = wide.iloc[:, :-1][wide.iloc[:, -1].to_numpy(dtype=bool)]
    return out.set_axis(meta.columns, axis=1).astype(meta.dtypes.to_dict())


class _Window:
    _window = ""

    def __init__(self, obj: Any, before: Any, after: Any, window_kwargs: dict[str, Any]) -> None:
        self.obj, self.before, self.after, self.window_kwargs = obj, before, after, window_kwargs
        # Fails now, with pandas' own message, on arguments pandas rejects (e.g. a negative window).
        getattr(obj._meta, self._window)(**window_kwargs)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        func = _WindowCall(self._window, self.window_kwargs, method)
        meta = func(self.obj._meta, *args, **kwargs)
        expr = Overlap(self.obj._expr, func, self.before, self.after, tuple(args), kwargs or None, meta,
                       f"{self._window}-{method}")
        return new_collection(expr)

    def count(self) -> Any:
        return self._call("count")

    def sum(self) -> Any:
        return self._call("sum")

    def mean(self) -> Any:
        return self._call("mean")

    def median(self) -> Any:
        return self._call("median")

    def min(self) -> Any:
        return self._call("min")

    def max(self) -> Any:
        return self._call("max")

    def std(self, ddof: int = 1) -> Any:
        return self._call("std", ddof=ddof)

    def var(self, ddof: int = 1) -> Any:
        return self._call("var", ddof=ddof)

    def skew(self) -> Any:
        return self._call("skew")

    def kurt(self) -> Any:
        return self._call("kurt")

    def quantile(self, q: float) -> Any:
        return self._call("quantile", q)

    def apply(self, func: Callable[..., Any], raw: bool = False, args: tuple[Any, ...] = (),
              kwargs: dict[str, Any] | None = None) -> Any:
        """``func`` on each window (see ``pandas.core.window.Rolling.apply``)."""
        return self._call("apply", func, raw=raw, args=args, kwargs=kwargs or {})

    def agg(self, func: Any) -> Any:
        return self._call("agg", func)

    aggregate = agg

    def cov(self, other: Any = None, pairwise: bool | None = None, ddof: int = 1) -> Any:
        """Windowed covariance; mirrors pandas' ``Rolling.cov`` / ``Expanding.cov``.

        ``other`` (a shoal or pandas Series/DataFrame) is aligned with this
        collection first. Without it a Series gives its own variance and a
        DataFrame the covariances of every pair of its columns (``pairwise``
        defaults to True then), indexed by ``(row label, column)``, whose
        divisions are unknown.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 4.0, 7.0], "b": [1.0, 3.0, 2.0, 5.0]}),
        ...                     npartitions=2)
        >>> df.a.rolling(2).cov(df.b).compute().tolist()
        [nan, 1.0, -1.0, 4.5]
        """
        return self._binary("cov", other, pairwise, ddof)

    def corr(self, other: Any = None, pairwise: bool | None = None, ddof: int = 1) -> Any:
        """Windowed Pearson correlation; mirrors pandas' ``Rolling.corr`` (see :meth:`cov` for ``other``)."""
        return self._binary("corr", other, pairwise, ddof)

    def _binary(self, method: str, other: Any, pairwise: bool | None, ddof: int) -> Any:
        if pairwise is not None and not isinstance(pairwise, bool):
            raise TypeError(f"{self._window}(...).{method}: pairwise must be True, False or None, got {pairwise!r}")
        if isinstance(ddof, bool) or not isinstance(ddof, int | np.integer):
            raise TypeError(f"{self._window}(...).{method}: ddof must be an integer, got {ddof!r}")
        if other is None:
            frame, sides = self.obj, None
        elif isinstance(other, pd.DataFrame | pd.Series) or is_partitioned(other):
            left, right = aligned(f"{self._window}(...).{method}", self.obj, other)
            # pandas keeps a frame's own rows when the other operand is a Series (the union otherwise).
            one_frame = isinstance(left._meta, pd.Series) != isinstance(right._meta, pd.Series)
            sides = (_Side(left._meta, one_frame and isinstance(left._meta, pd.DataFrame)),
                     _Side(right._meta, one_frame and isinstance(right._meta, pd.DataFrame)))
            packed_meta = _pack(left._meta, right._meta, sides)
            frame = new_collection(MapPartitions(left._expr, _pack, (right._expr, sides), None, packed_meta,
                                                 "pack-pair", False, True))
        else:
            raise TypeError(f"{self._window}(...).{method}: other must be a shoal or pandas Series/DataFrame (or "
                            f"None), got {type(other).__name__}")
        probe = _BinaryWindowCall(self._window, self.window_kwargs, method, pairwise, int(ddof), sides, 1)
        sample = make_meta_nonempty(frame._meta)
        long = probe.pandas(sample)
        per_row = len(long) // len(sample) if isinstance(long.index, pd.MultiIndex) else 1
        func = _BinaryWindowCall(self._window, self.window_kwargs, method, pairwise, int(ddof), sides, per_row)
        label = f"{self._window}-{method}"
        meta = long.iloc[:0]
        if sides is not None and any(side.marked for side in sides):
            wide = Overlap(frame._expr, func, self.before, self.after, (), None, func(sample).iloc[:0], label)
            return new_collection(MapPartitions(wide, _own_rows, (meta,), None, meta, label, False, True))
        if per_row == 1:
            return new_collection(Overlap(frame._expr, func, self.before, self.after, (), None, meta, label))
        wide = Overlap(frame._expr, func, self.before, self.after, (), None, func(sample).iloc[:0], label)
        inner = long.index.get_level_values(-1)[:per_row]
        return new_collection(MapPartitions(wide, _to_long, (inner, meta), None, meta, label, False, False))


class Rolling(_Window):
    """``obj.rolling(window, ...)``: a fixed number of rows, or a time span on a datetime index.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), npartitions=3)
    >>> s.rolling(3).sum().compute().tolist()
    [nan, nan, 6.0, 9.0, 12.0]
    """

    _window = "rolling"

    def __init__(self, obj: Any, window: Any, min_periods: int | None = None, center: bool = False,
                 win_type: str | None = None, on: Any = None, closed: str | None = None) -> None:
        if on is not None:
            raise NotImplementedError("rolling(on=...) is not supported; set that column as the index first")
        index = obj._meta.index
        if isinstance(window, int) and not isinstance(window, bool):
            if window < 0:
                raise ValueError(f"rolling window must be a non-negative number of rows, got {window}")
            before, after = _row_reach(window, center, closed)
        else:
            span = normalize_span(window, "rolling window", index)
            before, after = (span, span) if center else (span, 0)
        kwargs = {"window": window, "min_periods": min_periods, "center": center, "win_type": win_type,
                  "closed": closed}
        super().__init__(obj, before, after, kwargs)


def _row_reach(window: int, center: bool, closed: str | None) -> tuple[int, int]:
    """Rows before and after a row that its ``window``-row window may reach (pandas' fixed windows).

    pandas' window at row ``i`` ends before ``i + 1 + offset`` (``offset = (window - 1) // 2`` when centred) and
    starts ``window`` rows earlier; ``closed="left"``/``"both"`` start it one row earlier still (``"both"`` with
    ``window=0`` takes the row before). ``window - offset + 1`` rows back covers every case; borrowing a row
    more than needed changes nothing, as borrowed rows are trimmed from the result.
    """
    offset = (window - 1) // 2 if center else 0
    return window - offset + 1, max(offset, 0)


class Expanding(_Window):
    """``obj.expanding(min_periods)``: every row up to the current one (see the module docstring).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series([1.0, 2.0, 3.0, 4.0]), npartitions=2)
    >>> s.expanding().mean().compute().tolist()
    [1.0, 1.5, 2.0, 2.5]
    """

    _window = "expanding"

    def __init__(self, obj: Any, min_periods: int = 1) -> None:
        super().__init__(obj, ALL, 0, {"min_periods": min_periods})


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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shoal.dataframe._core import new_collection
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
            before, after = (window // 2, window // 2) if center else (max(window - 1, 0), 0)
        else:
            span = normalize_span(window, "rolling window", index)
            before, after = (span, span) if center else (span, 0)
        kwargs = {"window": window, "min_periods": min_periods, "center": center, "win_type": win_type,
                  "closed": closed}
        super().__init__(obj, before, after, kwargs)


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


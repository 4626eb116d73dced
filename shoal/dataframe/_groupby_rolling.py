"""``groupby(...).rolling(window)``: moving-window aggregations within each group.

A window never crosses a group boundary, so the rows are hash-shuffled on the
group keys first (as for ``groupby().apply``): every group then lies whole in
one partition, in its original row order (a shuffle keeps the order of rows
within each input partition and concatenates inputs in order), and pandas'
own ``groupby().rolling()`` runs partition by partition. The result has
pandas' index, ``(keys..., original index)``, but groups come back in
partition order rather than sorted: ``sort_index`` to compare with pandas.
Time-based windows (``"2s"``) need each group's index sorted, as in pandas.
"""

from __future__ import annotations

from typing import Any

from shoal.dataframe._groupby_shuffle import groupby_shuffled

__all__ = ["RollingGroupBy"]


class _RollingOp:
    """``grouped.rolling(window, **options).<method>(*args, **kwargs)``; picklable with a stable token."""

    def __init__(self, window: Any, options: dict[str, Any], method: str, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.window, self.options, self.method, self.args, self.kwargs = window, options, method, args, kwargs

    def __call__(self, grouped: Any) -> Any:
        return getattr(grouped.rolling(self.window, **self.options), self.method)(*self.args, **self.kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("rolling-op", self.window, self.options, self.method, self.args, self.kwargs)


class RollingGroupBy:
    """The result of ``df.groupby(keys).rolling(window)``; see the module docstring.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> pdf = pd.DataFrame({"k": ["a", "b", "a", "a"], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> out = sd.from_pandas(pdf, npartitions=2).groupby("k").x.rolling(2).sum()
    >>> out.compute().sort_index().tolist()
    [nan, 4.0, 7.0, nan]
    """

    def __init__(self, groupby: Any, window: Any, min_periods: int | None = None, center: bool = False,
                 win_type: str | None = None, on: Any = None, closed: str | None = None) -> None:
        if isinstance(window, int) and window < 0:
            raise ValueError(f"window must be an integer 0 or greater (or an offset such as '2s'), got {window}")
        self.groupby = groupby
        self.window = window
        self.options = {k: v for k, v in {"min_periods": min_periods, "center": center, "win_type": win_type,
                                          "on": on, "closed": closed}.items() if v not in (None, False)}
        # pandas validates the window (offsets need a datetime index, etc.); do it now on the metadata.
        groupby._pandas_groupby().rolling(window, **self.options)

    def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        op = _RollingOp(self.window, self.options, method, args, kwargs)
        return groupby_shuffled(self.groupby, f"rolling-{method}", op=op)

    def sum(self) -> Any:
        return self._run("sum")

    def mean(self) -> Any:
        return self._run("mean")

    def count(self) -> Any:
        return self._run("count")

    def min(self) -> Any:
        return self._run("min")

    def max(self) -> Any:
        return self._run("max")

    def median(self) -> Any:
        return self._run("median")

    def std(self, ddof: int = 1) -> Any:
        return self._run("std", ddof=ddof)

    def var(self, ddof: int = 1) -> Any:
        return self._run("var", ddof=ddof)

    def agg(self, func: Any) -> Any:
        """One or several window aggregations by name (``"sum"``, ``["min", "max"]``, ``{column: name}``)."""
        return self._run("agg", func)

    aggregate = agg

    def apply(self, func: Any, raw: bool = False, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
              ) -> Any:
        return self._run("apply", func, raw=raw, args=args, kwargs=kwargs or {})

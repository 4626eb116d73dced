"""The one-name aggregations of a groupby (``sum``, ``mean``, ... ``size``), with pandas' ``numeric_only``.

Each is ``agg(name)`` (see :mod:`shoal.dataframe._groupby`); ``numeric_only=True`` first narrows the grouping
to its numeric and boolean value columns, as pandas does (``is_numeric_dtype``, which counts booleans), so a
text or datetime column no longer breaks ``sum``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["SimpleAggMethods"]


class SimpleAggMethods:
    """Mixin of :class:`~shoal.dataframe._groupby.GroupBy` (which supplies ``agg``, ``[...]``, ``_value_columns``)."""

    obj: Any
    selection: Any

    def _simple(self, func: str, split_every: int | None = None, ddof: int = 1, split_out: int | None = None,
                numeric_only: bool = False) -> Any:
        grouped = self._numeric_columns(func) if numeric_only else self
        return grouped.agg(func, split_every=split_every, ddof=ddof, split_out=split_out)

    def _numeric_columns(self, func: str) -> Any:
        """This grouping restricted to numeric (and boolean) value columns: pandas' ``numeric_only=True``."""
        meta = self.obj._meta
        one_column = self.selection is not None and not isinstance(self.selection, list)
        if one_column or not isinstance(meta, pd.DataFrame):
            dtype = meta.dtype if not isinstance(meta, pd.DataFrame) else meta.dtypes[self.selection]
            if not pd.api.types.is_numeric_dtype(dtype):
                raise TypeError(f"Cannot use numeric_only=True with SeriesGroupBy.{func} and non-numeric dtype "
                                f"{dtype}; drop numeric_only or select a numeric column.")
            return self
        return self[[c for c in self._value_columns() if pd.api.types.is_numeric_dtype(meta.dtypes[c])]]

    def sum(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False,
            **kwargs: Any) -> Any:
        return self._simple("sum", split_every, split_out=split_out, numeric_only=numeric_only)

    def mean(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False,
             **kwargs: Any) -> Any:
        return self._simple("mean", split_every, split_out=split_out, numeric_only=numeric_only)

    def count(self, split_every: int | None = None, split_out: int | None = None) -> Any:
        return self._simple("count", split_every, split_out=split_out)

    def min(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False,
            **kwargs: Any) -> Any:
        return self._simple("min", split_every, split_out=split_out, numeric_only=numeric_only)

    def max(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False,
            **kwargs: Any) -> Any:
        return self._simple("max", split_every, split_out=split_out, numeric_only=numeric_only)

    def prod(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False,
             **kwargs: Any) -> Any:
        return self._simple("prod", split_every, split_out=split_out, numeric_only=numeric_only)

    def first(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False
              ) -> Any:
        return self._simple("first", split_every, split_out=split_out, numeric_only=numeric_only)

    def last(self, split_every: int | None = None, split_out: int | None = None, numeric_only: bool = False
             ) -> Any:
        return self._simple("last", split_every, split_out=split_out, numeric_only=numeric_only)

    def var(self, ddof: int = 1, split_every: int | None = None, split_out: int | None = None,
            numeric_only: bool = False) -> Any:
        return self._simple("var", split_every, ddof, split_out, numeric_only)

    def std(self, ddof: int = 1, split_every: int | None = None, split_out: int | None = None,
            numeric_only: bool = False) -> Any:
        return self._simple("std", split_every, ddof, split_out, numeric_only)

    def size(self, split_every: int | None = None, split_out: int | None = None) -> Any:
        return self._simple("size", split_every, split_out=split_out)

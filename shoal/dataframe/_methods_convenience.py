"""Convenience methods of DataFrame and Series: filling, reshaping, renaming, iterating, describing.

Most are one pandas call per partition. The exceptions: ``ffill``/``bfill``
carry values across partition edges (:mod:`shoal.dataframe._fill`);
``iterrows``/``itertuples`` compute one partition at a time, so only one is in
memory; ``info`` computes counts (and memory use) in one pass; ``to_string``
and ``to_html`` show the structure, as ``repr`` does, without computing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions, Projection
from shoal.dataframe._fill import FillAcross
from shoal.dataframe._meta import make_meta, make_meta_nonempty, meta_from_output
from shoal.dataframe._overlap import Overlap
from shoal.dataframe._window import _PartMethod

__all__ = ["DataFrameConvenienceMethods", "FrameConvenienceMethods", "SeriesConvenienceMethods"]

_NO_DEFAULT: Any = pd.api.extensions.no_default


def _identity(part: Any) -> Any:
    return part


def _check_limit(limit: Any, what: str) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"{what}(limit={limit!r}): limit must be a positive integer number of rows, or None")
    return limit


def _structure_table(obj: Any) -> pd.DataFrame:
    from shoal.dataframe._repr import _structure
    return _structure(obj)


def _memory_repr(num: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if num < 1024.0:
            return f"{num:3.1f} {unit}"
        num /= 1024.0
    return f"{num:3.1f} PB"


def _index_summary(index: pd.Index, name: str | None = None) -> str:
    label = name if name is not None else type(index).__name__
    span = f", {index[0]} to {index[-1]}" if len(index) else ""
    return f"{label}: {len(index)} entries{span}"


class FrameConvenienceMethods:
    """Shared by DataFrame and Series."""

    _expr: Any
    _meta: Any
    npartitions: int
    divisions: tuple[Any, ...]

    # -- filling ------------------------------------------------------------------------------
    def ffill(self, axis: Any = None, limit: int | None = None) -> Any:
        """Propagate the last valid value forward, across partition edges; mirrors pandas ``ffill``.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1.0, None, None, None, 5.0, None]), npartitions=3)
        >>> s.ffill().compute().tolist()
        [1.0, 1.0, 1.0, 1.0, 5.0, 5.0]
        >>> s.ffill(limit=2).compute().tolist()
        [1.0, 1.0, 1.0, nan, 5.0, 5.0]
        """
        return self._fill(True, axis, limit)

    def bfill(self, axis: Any = None, limit: int | None = None) -> Any:
        """Propagate the next valid value backward, across partition edges; mirrors pandas ``bfill``."""
        return self._fill(False, axis, limit)

    def _fill(self, forward: bool, axis: Any, limit: Any) -> Any:
        method = "ffill" if forward else "bfill"
        limit = _check_limit(limit, method)
        if axis in (1, "columns"):
            if not isinstance(self._meta, pd.DataFrame):
                raise ValueError(f"{method}: no axis named {axis!r} for a Series; use 0/'index'")
            return new_collection(MapPartitions(self._expr, _PartMethod(method), (), {"axis": 1, "limit": limit},
                                                None, method))
        if axis not in (None, 0, "index"):
            raise ValueError(f"{method}: no axis named {axis!r}; use 0/'index' or 1/'columns'")
        if limit is None:
            return new_collection(FillAcross(self._expr, forward))
        before, after = (limit, 0) if forward else (0, limit)
        meta = getattr(self._meta, method)(limit=limit)
        return new_collection(Overlap(self._expr, _PartMethod(method), before, after, (), {"limit": limit}, meta,
                                      method))

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[Any, Any], *, npartitions: int = 1, orient: str = "columns", dtype: Any = None,
                  columns: Any = None) -> Any:
        """A DataFrame from a dict, split into ``npartitions`` (``pandas.DataFrame.from_dict``, then partitioned).

        As in Dask, ``Series.from_dict`` is the same call and also gives a DataFrame. See
        :func:`shoal.dataframe.from_dict`.

        Examples
        --------
        >>> import shoal.dataframe as sd
        >>> sd.DataFrame.from_dict({"a": [1, 2, 3]}, npartitions=2).a.sum().compute()
        np.int64(6)
        """
        from shoal.dataframe._io.memory import from_dict
        return from_dict(data, npartitions=npartitions, orient=orient, dtype=dtype, columns=columns)

    # -- small helpers --------------------------------------------------------------------------
    def pipe(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """``func(self, *args, **kwargs)``; ``func`` may be ``(callable, keyword)`` as in pandas.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1, 2, 3]), npartitions=2)
        >>> s.pipe(lambda x, k: x * k, 10).compute().tolist()
        [10, 20, 30]
        """
        if isinstance(func, tuple):
            func, target = func
            if target in kwargs:
                raise ValueError(f"pipe: {target!r} is both the data keyword of the (function, keyword) tuple and "
                                 f"a keyword argument; pass it once.")
            kwargs[target] = self
            return func(*args, **kwargs)
        return func(self, *args, **kwargs)

    def rename_axis(self, mapper: Any = _NO_DEFAULT, index: Any = _NO_DEFAULT, columns: Any = _NO_DEFAULT,
                    axis: Any = 0) -> Any:
        """Set the name of the index or columns axis; mirrors pandas ``rename_axis`` (divisions are kept)."""
        kwargs: dict[str, Any] = {"axis": axis}
        for key, value in (("mapper", mapper), ("index", index), ("columns", columns)):
            if value is not _NO_DEFAULT:
                kwargs[key] = value
        return new_collection(MapPartitions(self._expr, _PartMethod("rename_axis"), (), kwargs, None,
                                            "rename-axis"))

    def clear_divisions(self) -> Any:
        """The same data with unknown divisions (as Dask: partitions are kept, their bounds forgotten).

        >>> import pandas as pd, shoal.dataframe as sd
        >>> sd.from_pandas(pd.Series([1, 2, 3]), npartitions=2).clear_divisions().divisions
        (None, None, None)
        """
        return new_collection(MapPartitions(self._expr, _identity, (), None, None, "clear-divisions", True, False))

    def to_timestamp(self, freq: Any = None, how: str = "start", axis: Any = 0) -> Any:
        """Turn a ``PeriodIndex`` into a ``DatetimeIndex``; mirrors pandas ``to_timestamp``.

        Known divisions are converted the same way, so they stay known.
        """
        if axis not in (0, "index") or not isinstance(self._meta.index, pd.PeriodIndex):
            if axis in (0, "index"):
                raise TypeError(f"to_timestamp needs a PeriodIndex, but the index is "
                                f"{type(self._meta.index).__name__} ({self._meta.index.dtype}).")
            return new_collection(MapPartitions(self._expr, _PartMethod("to_timestamp"), (),
                                                {"freq": freq, "how": how, "axis": axis}, None, "to-timestamp"))
        kwargs = {"freq": freq, "how": how}
        expr = MapPartitions(self._expr, _PartMethod("to_timestamp"), (), kwargs, None, "to-timestamp", True, False)
        if None in self.divisions:
            return new_collection(expr)
        from shoal.dataframe._shuffle import WithDivisions
        periods = pd.PeriodIndex(list(self.divisions), freq=self._meta.index.freq)
        return new_collection(WithDivisions(expr, tuple(periods.to_timestamp(freq=freq, how=how))))

    def squeeze(self, axis: Any = None) -> Any:
        """A one-column DataFrame as a Series (``axis`` None or 1); a Series is returned as is.

        As in Dask, ``axis=0`` is not supported (the number of rows is not known without computing).
        """
        if axis in (0, "index"):
            raise NotImplementedError(f"{type(self).__name__}.squeeze(axis={axis!r}) is not supported, as in Dask: "
                                      f"the number of rows is not known without computing. Compute first.")
        if axis not in (None, 1, "columns"):
            raise ValueError(f"squeeze: no axis named {axis!r}; use None or 1/'columns'")
        meta = self._meta
        if isinstance(meta, pd.DataFrame) and len(meta.columns) == 1:
            return new_collection(Projection(self._expr, meta.columns[0]))
        return self

    # -- text views -----------------------------------------------------------------------------
    def to_string(self, max_rows: int = 5) -> str:
        """The structure as text (one row per division, dtypes at the top), as Dask's ``to_string``.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> print(sd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2).to_string())
        ... # doctest: +NORMALIZE_WHITESPACE
                           x
        npartitions=2
        0              int64
        2                ...
        2                ...
        """
        table = _structure_table(self)
        if isinstance(self._meta, pd.Series):
            return table.iloc[:, 0].to_string(max_rows=max_rows)
        return table.to_string(max_rows=max_rows, show_dimensions=False)

    def to_html(self, max_rows: int = 5) -> str:
        """The structure as an HTML table with Dask's header and footer lines (nothing is computed)."""
        from shoal.dataframe._repr import _footer
        kind = "DataFrame" if isinstance(self._meta, pd.DataFrame) else "Series"
        html = _structure_table(self).to_html(max_rows=max_rows, show_dimensions=False)
        return f"<div><strong>Shoal {kind} Structure:</strong></div>\n{html}\n<div>{_footer(self)}</div>"


class DataFrameConvenienceMethods(FrameConvenienceMethods):
    """DataFrame only."""

    @property
    def axes(self) -> list[Any]:
        """``[index, columns]``: the lazy Index and the (known) column labels, as pandas and Dask give them."""
        return [self.index, self._meta.columns]  # type: ignore[attr-defined]

    @property
    def empty(self) -> bool:
        raise NotImplementedError(
            "DataFrame.empty is not supported, as in Dask: whether there are any rows is not known without "
            "computing every partition. Use len(df.index) == 0 (computes) or len(df.columns) == 0 (does not)."
        )

    def map(self, func: Any, na_action: Any = None, meta: Any = None, **kwargs: Any) -> Any:
        """``func`` on every element, partition by partition (mirrors ``pandas.DataFrame.map``, pandas >= 2.1).

        ``na_action='ignore'`` passes missing values through without calling ``func``. Without ``meta``
        the output's dtypes come from running ``func`` on a small stand-in partition. Divisions are kept.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1, 2, None], "b": [3.5, 4.0, 5.0]}), npartitions=2)
        >>> df.map(lambda v: v * 10, na_action="ignore").compute()
              a     b
        0  10.0  35.0
        1  20.0  40.0
        2   NaN  50.0
        """
        if isinstance(func, FrameBase) or any(isinstance(v, FrameBase) for v in kwargs.values()):
            raise TypeError("DataFrame.map takes a plain function and plain keyword arguments, not shoal "
                            "collections; compute them first.")
        if not callable(func):
            raise TypeError(f"DataFrame.map(func): func must be callable, got {type(func).__name__}. Use "
                            f"df.replace for a mapping of values, or Series.map on one column.")
        if na_action not in (None, "ignore"):
            raise ValueError(f"DataFrame.map(na_action={na_action!r}): na_action must be None or 'ignore'")
        call = _PartMethod("map")
        if meta is not None:
            out_meta = make_meta(meta)
        else:
            try:
                fake = call(make_meta_nonempty(self._meta), func, na_action=na_action, **kwargs)
            except Exception as exc:
                raise ValueError(
                    f"DataFrame.map could not infer the output of {getattr(func, '__name__', func)!r} by running it "
                    f"on a small stand-in partition ({type(exc).__name__}: {exc}). Pass meta= with the output's "
                    f"columns and dtypes, e.g. meta={{'a': 'f8'}}."
                ) from exc
            out_meta = meta_from_output(fake)
        return new_collection(MapPartitions(self._expr, call, (func,), {"na_action": na_action, **kwargs},
                                            out_meta, "map"))

    def select_dtypes(self, include: Any = None, exclude: Any = None) -> Any:
        """The columns of the given dtypes (decided from metadata, now); mirrors pandas ``select_dtypes``."""
        columns = list(self._meta.select_dtypes(include=include, exclude=exclude).columns)
        return new_collection(Projection(self._expr, columns))

    def explode(self, column: Any) -> Any:
        """One row per element of the list-likes in ``column`` (index repeated); mirrors pandas ``explode``."""
        cols = list(column) if isinstance(column, list | tuple) else [column]
        self._check_columns(cols, "explode")  # type: ignore[attr-defined]
        return new_collection(MapPartitions(self._expr, _PartMethod("explode"), (column,), None, None, "explode"))

    def pop(self, item: Any) -> Any:
        """Return column ``item`` and remove it from this collection (in place, as pandas and Dask do)."""
        self._check_columns([item], "pop")  # type: ignore[attr-defined]
        out = new_collection(Projection(self._expr, item))
        keep = [c for c in self._meta.columns if c != item]
        self._expr, self._optimized = Projection(self._expr, keep), None
        return out

    def melt(self, id_vars: Any = None, value_vars: Any = None, var_name: Any = None, value_name: Any = "value",
             col_level: Any = None) -> Any:
        """Unpivot to long format, partition by partition; divisions become unknown, as in Dask.

        Each partition's rows come out numbered from 0 (pandas numbers the whole result); see
        :func:`shoal.dataframe.melt`.
        """
        for what, cols in (("id_vars", id_vars), ("value_vars", value_vars)):
            if cols is not None:
                listed = list(cols) if isinstance(cols, list | tuple) else [cols]
                self._check_columns(listed, f"melt({what}=...)")  # type: ignore[attr-defined]
        kwargs = {"id_vars": id_vars, "value_vars": value_vars, "var_name": var_name, "value_name": value_name,
                  "col_level": col_level}
        return new_collection(MapPartitions(self._expr, _PartMethod("melt"), (), kwargs, None, "melt", False,
                                            False))

    # -- iteration ------------------------------------------------------------------------------
    def items(self) -> Iterator[tuple[Any, Any]]:
        """``(name, Series)`` pairs, lazily (nothing is computed)."""
        unique = self._meta.columns.is_unique
        for j, name in enumerate(self._meta.columns):
            # By position when names repeat (as pandas does); by name otherwise, so readers load one column.
            expr = Projection(self._expr, name) if unique else MapPartitions(self._expr, _column_at, (j,), None,
                                                                              None, "getitem", False)
            yield name, new_collection(expr)

    def _computed_partitions(self) -> Iterator[pd.DataFrame]:
        for i in range(self.npartitions):
            yield self.partitions[i].compute()  # type: ignore[attr-defined]

    def iterrows(self) -> Iterator[tuple[Any, pd.Series]]:
        """``(label, row)`` pairs; partitions are computed one at a time, so only one is held in memory.

        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2)
        >>> [(i, int(row.x)) for i, row in df.iterrows()]
        [(0, 1), (1, 2), (2, 3)]
        """
        for part in self._computed_partitions():
            yield from part.iterrows()

    def itertuples(self, index: bool = True, name: str | None = "Pandas") -> Iterator[Any]:
        """Rows as named tuples, one partition computed at a time; mirrors pandas ``itertuples``."""
        for part in self._computed_partitions():
            yield from part.itertuples(index=index, name=name)

    # -- info -----------------------------------------------------------------------------------
    def info(self, buf: Any = None, verbose: bool = False, memory_usage: bool = False) -> None:
        """Print a summary in Dask's format: columns and dtypes; with ``verbose`` the index and non-null counts.

        ``verbose`` and ``memory_usage`` compute (counts, the index, ``memory_usage(deep=True)``) in one pass.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, None], "y": [1, 2, 3]}), npartitions=2)
        >>> df.info()
        <class 'shoal.dataframe.DataFrame'>
        Columns: 2 entries, x to y
        dtypes: float64(1), int64(1)
        >>> df.info(verbose=True)
        <class 'shoal.dataframe.DataFrame'>
        RangeIndex: 3 entries, 0 to 2
        Data columns (total 2 columns):
         #   Column  Non-Null Count  Dtype
        ---  ------  --------------  -----
         0   x       2 non-null      float64
         1   y       3 non-null      int64
        dtypes: float64(1), int64(1)
        """
        from shoal.base import compute
        out = buf if buf is not None else sys.stdout
        meta = self._meta
        lines = [f"<class 'shoal.dataframe.{type(self).__name__}'>"]
        if len(meta.columns) == 0:
            lines += [f"{type(meta.index).__name__}: 0 entries", f"Empty {type(self).__name__}"]
            out.write("\n".join(lines) + "\n")
            return
        wanted: dict[str, Any] = {}
        if verbose:
            wanted["index"] = self.index  # type: ignore[attr-defined]
            wanted["count"] = self.count()  # type: ignore[attr-defined]
        if memory_usage:
            wanted["memory"] = self.memory_usage(deep=True, index=True)  # type: ignore[attr-defined]
        results = dict(zip(wanted, compute(*wanted.values()), strict=True))
        if verbose:
            lines.append(_index_summary(results["index"]))
            lines.append(f"Data columns (total {len(meta.columns)} columns):")
            width = max(max(len(pd.io.formats.printing.pprint_thing(c)) for c in meta.columns) + 1, 7)
            lines.append(f" #   {'Column':<{width}} Non-Null Count  Dtype")
            lines.append(f"---  {'------':<{width}} --------------  -----")
            for i, (name, count, dtype) in enumerate(zip(meta.columns, results["count"], meta.dtypes, strict=True)):
                thing = pd.io.formats.printing.pprint_thing
                lines.append(f"{thing(i):^3}  {thing(name):<{width}} {count} non-null      {dtype}")
        else:
            lines.append(_index_summary(meta.columns, name="Columns"))
        counts = sorted(meta.dtypes.value_counts().items(), key=str)
        lines.append("dtypes: " + ", ".join(f"{dtype}({n})" for dtype, n in counts))
        if memory_usage:
            lines.append(f"memory usage: {_memory_repr(float(results['memory'].sum()))}\n")
        out.write("\n".join(lines) + "\n")


def _column_at(part: pd.DataFrame, j: int) -> pd.Series:
    return part.iloc[:, j]


class SeriesConvenienceMethods(FrameConvenienceMethods):
    """Series only."""

    @property
    def axes(self) -> list[Any]:
        """``[index]``, the lazy Index, as pandas and Dask give it."""
        return [self.index]  # type: ignore[attr-defined]

    def explode(self) -> Any:
        """One row per element of the list-likes (index repeated); mirrors pandas ``Series.explode``."""
        return new_collection(MapPartitions(self._expr, _PartMethod("explode"), (), None, None, "explode"))

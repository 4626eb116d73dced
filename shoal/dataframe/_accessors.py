"""The .dt, .str and .cat accessors and other row-wise extras of shoal DataFrames and Series.

An accessor method or attribute runs on every partition; its output's meta is
what pandas gives on the empty meta (or, when pandas refuses zero rows, on a
two-row stand-in). ``apply(axis=1)``, ``query``, ``eval``, ``iloc[:, cols]``,
``categorize`` and ``get_dummies`` are partition-wise too. Selections that
look at the whole column (``nlargest``, ``drop_duplicates``, ``mode``,
``idxmax``) are tree reductions in :mod:`shoal.dataframe._select`.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.dataframe import _select
from shoal.dataframe._accessor_cat import as_known, as_unknown, has_known_categories, str_cat_lazy, unknown_refusal
from shoal.dataframe._accessor_extras import (
    CatChunk,
    IsoWeek,
    SplitExpand,
    ToPyTimedelta,
    get_dummies_refusal,
    stand_in,
    to_period_refusal,
    used_categories,
)
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._datetime_freq import FreqChunk, combine_freq, freq_result
from shoal.dataframe._dummies import get_dummies, is_text
from shoal.dataframe._expr import MapPartitions, Projection, TreeReduce
from shoal.dataframe._meta import make_meta, make_meta_nonempty, meta_from_output

__all__ = ["get_dummies"]


class _AccessorCall:
    """``part.<accessor>.<name>`` (called with args when ``call``); picklable, with a stable token."""

    def __init__(self, accessor: str, name: str, call: bool) -> None:
        self.accessor, self.name, self.call = accessor, name, call
        self.__name__ = f"{accessor}-{name}"

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        attr = getattr(getattr(part, self.accessor), self.name)
        out = attr(*args, **kwargs) if self.call else attr
        if (self.accessor == "str" and isinstance(out, pd.Series) and out.dtype == object and len(part)
                and part.dtype == object and part.isna().all()):
            # Only missing values: pandas returns objects even where it counts (len, find, ...). On the whole
            # column those are float64 (NaN among numbers), so this partition must not turn the result to objects.
            empty = getattr(part.iloc[:0].str, self.name)
            if (empty(*args, **kwargs) if self.call else empty).dtype.kind in "iu":
                return out.astype("float64")
        return out

    def __dask_tokenize__(self) -> Any:
        return ("accessor-call", self.accessor, self.name, self.call)


def _infer_meta(func: Callable[..., Any], meta: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return meta_from_output(func(meta, *args, **kwargs))
    except Exception:  # noqa: BLE001 - some methods refuse zero rows; ask again on a small stand-in
        return meta_from_output(func(make_meta_nonempty(meta), *args, **kwargs))


class Accessor:
    """``series.str`` / ``.dt`` / ``.cat``: any pandas accessor method or attribute, run per partition.

    Notes
    -----
    Some pandas result dtypes depend on the data: ``.dt.day`` or ``.dt.days``
    give floats where a value is ``NaT``, and ``.str.len()`` on ``object`` or
    pandas 3 ``str`` values gives float64 where one is missing (``object``
    booleans become objects). The computed result is pandas' on the whole
    column; the meta, which can't see the data, is pandas' result on values
    without missing entries. ``string[python]``/``string[pyarrow]`` answer
    nullable ``Int64``/``boolean`` either way, so their meta is always exact.
    Beyond pandas 3, ``.dt.week``/``.dt.weekofyear`` give the ISO week
    (``isocalendar().week``), and ``.dt.to_pytimedelta()`` and
    ``.str.cat()`` without ``others`` cover every partition (a Series of
    ``datetime.timedelta``, and one lazy string).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series(["a", "Bb", "cC"]), npartitions=2)
    >>> s.str.upper().compute().tolist()
    ['A', 'BB', 'CC']
    >>> s.str.len().compute().tolist()
    [1, 2, 2]
    """

    def __init__(self, obj: Any, name: str) -> None:
        meta = obj._meta
        try:
            self._pandas = getattr(meta, name)
        except AttributeError as exc:
            raise AttributeError(f"Can only use .{name} accessor with suitable values: {exc} "
                                 f"(the Series has dtype {meta.dtype})") from exc
        self._obj, self._name = obj, name

    def __dir__(self) -> list[str]:
        names = {n for n in dir(self._pandas) if not n.startswith("_")}
        if self._name == "dt" and "isocalendar" in names:
            names |= {"week", "weekofyear"}
        return sorted(names)

    def __getitem__(self, key: Any) -> Any:
        """``s.str[0]``, ``s.str[:2]``, ``s.str[::-1]``: characters by position (``pandas.Series.str.__getitem__``)."""
        if self._name != "str":
            raise TypeError(f"the .{self._name} accessor is not subscriptable")
        return self._run(_AccessorCall("str", "__getitem__", True), (key,), {})

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        if self._name == "cat":
            known = has_known_categories(self._obj._meta)
            if attr == "known":
                return known
            if attr in ("as_known", "as_unknown"):
                return functools.partial(as_known if attr == "as_known" else as_unknown, self._obj)
            if attr in ("categories", "codes") and not known:
                raise NotImplementedError(unknown_refusal(attr))
        if self._name == "dt":
            extra = self._dt_extra(attr)
            if extra is not None:
                return extra
        kind = getattr(type(self._pandas), attr, None)
        if kind is None and not hasattr(self._pandas, attr):
            raise AttributeError(f"the .{self._name} accessor has no attribute {attr!r}")
        if isinstance(kind, property | type(pd.Series.dt)) or not callable(getattr(self._pandas, attr)):
            if attr in ("categories", "ordered"):
                # Known from the meta: categories travel with the dtype.
                return getattr(self._pandas, attr)
            return self._run(_AccessorCall(self._name, attr, False), (), {})

        def method(*args: Any, meta: Any = None, **kwargs: Any) -> Any:
            special = self._str_cat_extra(attr, args, kwargs, meta)
            if special is not None:
                return special
            return self._run(_AccessorCall(self._name, attr, True), args, kwargs, meta)

        method.__name__ = attr
        method.__doc__ = getattr(getattr(self._pandas, attr), "__doc__", None)
        return method

    def _str_cat_extra(self, attr: str, args: tuple[Any, ...], kwargs: dict[str, Any], meta: Any) -> Any:
        """The ``.str``/``.cat`` methods that a plain call per partition gets wrong; ``None`` for the others."""
        if self._name == "cat" and attr == "remove_unused_categories":
            self._pandas.remove_unused_categories(*args, **kwargs)  # pandas' own checks of the arguments, now
            return self._run(_AccessorCall("cat", "set_categories", True), (used_categories(self._obj),), {})
        if self._name != "str":
            return None
        if attr in ("split", "rsplit") and kwargs.get("expand"):
            return self._split(attr, args, kwargs)
        others = args[0] if args else kwargs.get("others")
        if attr == "cat" and (isinstance(others, FrameBase) or (isinstance(others, list | tuple) and any(
                isinstance(o, FrameBase) for o in others))):
            names = dict(zip(("sep", "na_rep", "join"), args[1:], strict=False))
            return str_cat_lazy(self._obj, others, {**names, **{k: v for k, v in kwargs.items() if k != "others"}})
        if attr == "cat" and others is None:
            return self._cat_all(*args[1:], **{k: v for k, v in kwargs.items() if k != "others"})
        if attr == "get_dummies":
            raise NotImplementedError(get_dummies_refusal(args, kwargs))
        func = _AccessorCall("str", attr, True)
        if attr == "extractall":
            # The match number joins the index as a second level, which the divisions don't describe.
            out_meta = make_meta(meta) if meta is not None else func(stand_in(self._obj._meta), *args,
                                                                     **kwargs).iloc[:0]
            return new_collection(MapPartitions(self._obj._expr, func, args, kwargs or None, out_meta,
                                                func.__name__, False, False))
        if attr in ("partition", "rpartition") and kwargs.get("expand", args[1] if len(args) > 1 else True):
            # Three columns, which pandas gives neither on zero rows nor on only missing values.
            split = SplitExpand(attr, 3)
            out_meta = make_meta(meta) if meta is not None else split(stand_in(self._obj._meta), *args,
                                                                      **kwargs).iloc[:0]
            return new_collection(MapPartitions(self._obj._expr, split, args, kwargs or None, out_meta,
                                                split.__name__, False, True))
        return None

    def _dt_extra(self, attr: str) -> Any:
        """The ``.dt`` names Dask offers that pandas 3 lacks or returns outside a Series, and those that look at
        the whole column (``freq``, ``to_period()`` without a frequency); ``None`` otherwise."""
        dtype = self._obj._meta.dtype
        if attr == "freq":
            if isinstance(dtype, pd.PeriodDtype):
                return self._pandas.freq  # known from the dtype, as categories are
            # pandas infers it from every value of the column, so one partition can't answer.
            return new_collection(TreeReduce([self._obj._expr], FreqChunk(), combine_freq, freq_result(), "",
                                             "dt-freq"))
        if attr == "to_period" and hasattr(self._pandas, "to_period"):
            def to_period(freq: Any = None, meta: Any = None) -> Any:
                if freq is None:
                    raise ValueError(to_period_refusal(self._obj))
                return self._run(_AccessorCall("dt", "to_period", True), (freq,), {}, meta)

            to_period.__doc__ = ("Values as periods of ``freq`` (mirrors ``pandas.Series.dt.to_period``); "
                                 "``freq`` is required, see ``.dt.freq``.")
            return to_period
        if attr in ("week", "weekofyear") and not hasattr(self._pandas, attr):
            if not isinstance(dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(dtype):
                raise AttributeError(f".dt.{attr} needs datetime or period values, but the Series has dtype "
                                     f"{dtype}")
            # pandas 2 removed Series.dt.week; its replacement is the ISO week of isocalendar().
            return self._run(IsoWeek(), (), {})
        if attr == "to_pytimedelta" and pd.api.types.is_timedelta64_dtype(dtype):
            def to_pytimedelta(meta: Any = None) -> Any:
                return self._run(ToPyTimedelta(), (), {}, meta)

            to_pytimedelta.__doc__ = ToPyTimedelta.__doc__
            return to_pytimedelta
        return None

    def _cat_all(self, sep: str | None = None, na_rep: str | None = None, join: str = "left") -> Any:
        """``str.cat()`` without ``others``: one string from every partition, joined in order (a lazy scalar)."""
        self._pandas.cat(sep=sep, na_rep=na_rep, join=join)  # pandas' own checks of the arguments, now
        chunk = CatChunk(sep or "", na_rep)
        return new_collection(TreeReduce([self._obj._expr], chunk, chunk.combine, chunk.aggregate, "", "str-cat"))

    def _split(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        n = kwargs.get("n", args[1] if len(args) > 1 else -1)
        if n is None or n < 1:
            raise NotImplementedError(
                f".str.{method}(expand=True) needs n=, the number of splits: the output columns must be known "
                f"before computing, and each partition could split into a different number of pieces."
            )
        func = SplitExpand(method, n + 1)
        meta = func(stand_in(self._obj._meta), *args, **kwargs).iloc[:0]
        return new_collection(MapPartitions(self._obj._expr, func, args, kwargs, meta, func.__name__, False, True))

    def _run(self, func: _AccessorCall, args: tuple[Any, ...], kwargs: dict[str, Any], meta: Any = None) -> Any:
        if any(isinstance(a, FrameBase) for a in (*args, *kwargs.values())):
            raise NotImplementedError(f".{self._name}.{func.name} with a lazy collection argument: compute it first")
        out_meta = make_meta(meta) if meta is not None else _infer_meta(func, self._obj._meta, args, kwargs)
        expr = MapPartitions(self._obj._expr, func, args, kwargs or None, out_meta, func.__name__, False, True)
        return new_collection(expr)


class _ApplyRows:
    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__name__ = "apply"

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        return part.apply(self.func, axis=1, args=args, **kwargs)


class _ILocIndexer:
    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __getitem__(self, key: Any) -> Any:
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)):
            raise NotImplementedError(
                "shoal supports iloc only for selecting columns, e.g. df.iloc[:, [0, 2]]; row positions are not "
                "known without computing the partition lengths. Use loc, head or partitions[...] for rows."
            )
        meta = self.obj._meta
        if not isinstance(meta, pd.DataFrame):
            raise NotImplementedError("iloc[:, ...] selects DataFrame columns; a Series has no columns")
        selected = meta.iloc[:, key[1]]  # pandas' own IndexError for out-of-range positions
        columns = list(selected.columns) if isinstance(selected, pd.DataFrame) else selected.name
        if isinstance(columns, list) and len(set(meta.columns)) != len(meta.columns):
            raise NotImplementedError("iloc on a frame with duplicate column names is not supported")
        return new_collection(Projection(self.obj._expr, columns))


_LOCAL_NAME = re.compile(r"@([A-Za-z_][A-Za-z_0-9]*)")


def _local_names(expr: str, depth: int = 2) -> dict[str, Any]:
    """Values of the caller's variables named with ``@`` in a query string (partitions run elsewhere)."""
    names = set(_LOCAL_NAME.findall(expr))
    if not names:
        return {}
    frame = sys._getframe(depth)
    found = {}
    for name in names:
        if name in frame.f_locals:
            found[name] = frame.f_locals[name]
        elif name in frame.f_globals:
            found[name] = frame.f_globals[name]
        else:
            raise NameError(f"query/eval: local variable {name!r} (used as @{name}) is not defined")
    return found


def _query(part: Any, expr: str, local_dict: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    return part.query(expr, local_dict=local_dict, **kwargs)


def _eval(part: Any, expr: str, local_dict: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    return part.eval(expr, local_dict=local_dict, **kwargs)


def _as_categories(part: Any, categories: dict[Any, Any], index_categories: Any) -> Any:
    if isinstance(part, pd.Series):
        out = part.astype(pd.CategoricalDtype(categories[None]))
    else:
        out = part.astype({c: pd.CategoricalDtype(cats) for c, cats in categories.items()})
    if index_categories is not None:
        out.index = pd.CategoricalIndex(out.index, categories=index_categories, name=out.index.name)
    return out


class AccessorMethods:
    """Methods of DataFrame and Series from this family."""

    _expr: Any
    _meta: Any

    # -- accessors ----------------------------------------------------------------------------
    def _accessor(self, name: str) -> Accessor:
        if not isinstance(self._meta, pd.Series):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r} (only Series have it)")
        return Accessor(self, name)

    @property
    def str(self) -> Accessor:
        """String methods of a Series (``pandas.Series.str``), per partition."""
        return self._accessor("str")

    @property
    def dt(self) -> Accessor:
        """Datetime properties and methods of a Series (``pandas.Series.dt``), per partition."""
        return self._accessor("dt")

    @property
    def cat(self) -> Accessor:
        """Categorical properties and methods (``pandas.Series.cat``); ``categories`` come from the meta."""
        return self._accessor("cat")

    # -- row-wise -------------------------------------------------------------------------------
    def apply(self, func: Callable[..., Any], axis: Any = 0, args: tuple[Any, ...] = (), meta: Any = None,
              **kwargs: Any) -> Any:
        """``func`` on every row (``axis=1``) of a DataFrame, or on every element of a Series.

        Pass ``meta`` to describe the output; without it ``func`` is run on a
        two-row stand-in to find out.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30]}), npartitions=2)
        >>> df.apply(lambda r: r.a + r.b, axis=1, meta=("s", "i8")).compute().tolist()
        [11, 22, 33]
        """
        if isinstance(self._meta, pd.Series):
            call: Callable[..., Any] = _SeriesApply(func)
        else:
            if axis not in (1, "columns"):
                raise NotImplementedError(
                    f"DataFrame.apply(axis={axis!r}) is not supported: a column spans all partitions. Use "
                    f"axis=1 for rows, a reduction (df.sum()), or map_partitions."
                )
            call = _ApplyRows(func)
        out_meta = make_meta(meta) if meta is not None else _infer_meta(call, make_meta_nonempty(self._meta),
                                                                        tuple(args), kwargs)
        expr = MapPartitions(self._expr, call, tuple(args), kwargs or None, meta_from_output(out_meta), "apply",
                             False, True)
        return new_collection(expr)

    def query(self, expr: str, **kwargs: Any) -> Any:
        """Rows where ``expr`` holds (``pandas.DataFrame.query``); ``@name`` reads the caller's variable.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1, 2, 3, 4]}), npartitions=2)
        >>> low = 2
        >>> df.query("a > @low").compute().a.tolist()
        [3, 4]
        """
        return self._eval_like(_query, "query", expr, kwargs)

    def eval(self, expr: str, **kwargs: Any) -> Any:
        """``pandas.DataFrame.eval`` per partition; ``'c = a + b'`` returns the frame with ``c`` added."""
        if kwargs.get("inplace"):
            raise NotImplementedError("eval(inplace=True) is not supported: shoal collections are immutable; "
                                      "use df = df.eval(...)")
        return self._eval_like(_eval, "eval", expr, kwargs)

    def _eval_like(self, func: Callable[..., Any], label: str, expr: str, kwargs: dict[str, Any]) -> Any:
        if not isinstance(self._meta, pd.DataFrame):
            raise AttributeError(f"{label} is a DataFrame method")
        local_dict = dict(kwargs.pop("local_dict", None) or {})
        local_dict.update(_local_names(expr, depth=3))
        args = (expr, local_dict, kwargs)
        meta = _infer_meta(func, self._meta, args, {})
        return new_collection(MapPartitions(self._expr, func, args, None, meta, label, False, True))

    @property
    def iloc(self) -> _ILocIndexer:
        """Column selection by position: ``df.iloc[:, [0, 2]]`` (row positions are not supported)."""
        return _ILocIndexer(self)

    def categorize(self, columns: Any = None, index: Any = None) -> Any:
        """Convert text columns to categoricals with known categories (computes the distinct values now).

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"s": ["b", "a", "b"], "x": [1, 2, 3]}), npartitions=2)
        >>> df.categorize().s.cat.categories.tolist()
        ['a', 'b']
        """
        from shoal.base import compute

        meta = self._meta
        if isinstance(meta, pd.Series):
            names = [None] if columns is None or columns else []
            uniques = [self.unique()] if names else []  # type: ignore[attr-defined]
        else:
            if columns is None:
                columns = [c for c in meta.columns if is_text(meta.dtypes[c])]
            columns = [columns] if not isinstance(columns, list | tuple) else list(columns)
            self._check_columns(columns, "categorize")  # type: ignore[attr-defined]
            names = [c for c in columns if not isinstance(meta.dtypes[c], pd.CategoricalDtype)]
            uniques = [self[c].unique() for c in names]  # type: ignore[index]
        want_index = index is True or (index is None and is_text(meta.index.dtype)
                                       and not isinstance(meta.index, pd.CategoricalIndex))
        if want_index:
            labels = self.map_partitions(_index_as_series, meta=pd.Series([], dtype=meta.index.dtype))  # type: ignore
            uniques.append(labels.unique())
        values = compute(*uniques) if uniques else ()
        index_categories = _sorted_categories(values[-1]) if want_index else None
        categories = {c: _sorted_categories(v) for c, v in zip(names, values, strict=False)}
        if not categories and index_categories is None:
            return new_collection(self._expr)
        func = _as_categories
        out_meta = func(meta, categories, index_categories)
        expr = MapPartitions(self._expr, func, (categories, index_categories), None, out_meta, "categorize",
                             False, True)
        return new_collection(expr)

    # -- selections over the whole column (tree reductions) ---------------------------------------
    def nlargest(self, n: int = 5, columns: Any = None, keep: str = "first", split_every: int | None = None) -> Any:
        """The ``n`` rows with the largest values (of ``columns`` for a DataFrame)."""
        return new_collection(_select.nlargest(self._expr, "nlargest", n, columns, keep, split_every))

    def nsmallest(self, n: int = 5, columns: Any = None, keep: str = "first", split_every: int | None = None
                  ) -> Any:
        """The ``n`` rows with the smallest values (of ``columns`` for a DataFrame)."""
        return new_collection(_select.nlargest(self._expr, "nsmallest", n, columns, keep, split_every))

    def drop_duplicates(self, subset: Any = None, keep: Any = "first", ignore_index: bool = False,
                        split_every: int | None = None, split_out: Any = None) -> Any:
        """Rows with duplicates removed: one partition in pandas' row order, or ``split_out`` partitions.

        With ``split_out=n`` (``True``: as many as the input), rows are hash-shuffled on ``subset`` (all
        columns by default) so that duplicates meet in one partition, then each partition drops its own;
        row order follows the partitions, as in Dask, and ``keep`` still picks by the original order.
        """
        single = _select.drop_duplicates(self._expr, subset, keep, ignore_index, split_every)  # checks arguments
        if split_out is None or split_out is False or split_out == 1:
            return new_collection(single)
        return _select.drop_duplicates_split(self, subset, keep, ignore_index, split_out)

    def mode(self, dropna: bool = True, split_every: int | None = None) -> Any:
        """The most frequent value(s), sorted, as a Series (a DataFrame of per-column modes for a frame)."""
        return new_collection(_select.mode(self._expr, dropna, split_every))

    def idxmax(self, axis: Any = 0, skipna: bool = True, split_every: int | None = None) -> Any:
        """Index label of the first maximum (per column for a DataFrame)."""
        return self._idx("idxmax", axis, skipna, split_every)

    def idxmin(self, axis: Any = 0, skipna: bool = True, split_every: int | None = None) -> Any:
        """Index label of the first minimum (per column for a DataFrame)."""
        return self._idx("idxmin", axis, skipna, split_every)

    def _idx(self, method: str, axis: Any, skipna: bool, split_every: int | None) -> Any:
        if axis in (1, "columns"):
            if not isinstance(self._meta, pd.DataFrame):
                raise ValueError(f"No axis named {axis!r} for a Series")
            func = _select.PartMethod(method)
            meta = _infer_meta(func, self._meta, (), {"axis": 1, "skipna": skipna})
            return new_collection(MapPartitions(self._expr, func, (), {"axis": 1, "skipna": skipna}, meta, method))
        if axis not in (0, None, "index"):
            raise ValueError(f"No axis named {axis!r}; use 0/'index' or 1/'columns'")
        return new_collection(_select.idx(self._expr, method, skipna, split_every))


class _SeriesApply:
    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__name__ = "apply"

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        return part.apply(self.func, args=args, **kwargs)


def _index_as_series(part: Any) -> pd.Series:
    return pd.Series(part.index, index=part.index)


def _sorted_categories(values: Any) -> Any:
    values = pd.Index(values).dropna().unique().rename(None)
    if values.dtype == object:
        # What pandas' astype("category") infers from the values (pandas 3: ``str`` for strings in an
        # object column); an object Index would keep ``object``.
        values = pd.Index(values.tolist())
    try:
        return values.sort_values()
    except TypeError:
        return values

"""Module-level functions of ``shoal.dataframe``: conversions, ``melt``, ``map_partitions``, ``from_map``, ...

Each mirrors the ``dask.dataframe`` function of the same name. Given a shoal
collection they build a lazy, partition-wise plan; given plain values (a
pandas object, a list, a scalar) the pandas-style ones (``to_datetime``,
``to_numeric``, ``to_timedelta``, ``isna``) just call pandas, as Dask does.

:func:`from_map` makes one partition per element of its iterables by calling
``func(element, *args, **kwargs)``; with a ``columns=`` keyword in ``func``'s
signature, projection pushdown passes it the columns the plan needs, so a
reader written for ``from_map`` reads only those.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from shoal.base import compute
from shoal.dataframe._convert import from_array
from shoal.dataframe._core import FrameBase, ScalarCollection, new_collection
from shoal.dataframe._enforce import CastToMeta, EnforceMeta
from shoal.dataframe._expr import Expr, MapPartitions
from shoal.dataframe._io.memory import from_pandas
from shoal.dataframe._meta import is_frame_like, make_meta, meta_from_output
from shoal.graph.task import GraphNode, Key, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "compute",
    "from_dask_array",
    "from_map",
    "isna",
    "map_partitions",
    "melt",
    "repartition",
    "to_datetime",
    "to_numeric",
    "to_timedelta",
]


class _PandasFunc:
    """``pandas.<name>(part, **kwargs)``; picklable, with a stable token."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.__name__ = name

    def __call__(self, part: Any, **kwargs: Any) -> Any:
        return getattr(pd, self.name)(part, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("pandas-func", self.name)


def _is_partitioned(obj: Any) -> bool:
    return isinstance(obj, FrameBase) and not isinstance(obj, ScalarCollection)


def _is_text(meta: Any) -> bool:
    dtypes = meta.dtypes if isinstance(meta, pd.DataFrame) else [meta.dtype]
    return any(pd.api.types.is_object_dtype(d) or pd.api.types.is_string_dtype(d) for d in dtypes)


def _apply_pandas(name: str, arg: Any, meta: Any, kwargs: dict[str, Any]) -> Any:
    func: Any = _PandasFunc(name)
    if isinstance(arg, ScalarCollection):
        return new_collection(MapPartitions(arg._expr, func, (), kwargs, None, name.replace("_", "-")))
    meta = make_meta(meta) if meta is not None else None
    if isinstance(meta, pd.Series):
        # The dtype of parsed text depends on the text (int64 or float64, the unit of a date): every partition
        # takes the one the metadata announced, so partitions and metadata agree.
        func = CastToMeta(func, meta)
    return new_collection(MapPartitions(arg._expr, func, (), kwargs, meta, name.replace("_", "-")))


def _datetime_sample(kwargs: dict[str, Any]) -> str:
    """A date written the way ``to_datetime(**kwargs)`` expects to parse it."""
    fmt = kwargs.get("format")
    if isinstance(fmt, str) and fmt not in ("ISO8601", "mixed"):
        return pd.Timestamp("2000-01-02 03:04:05").strftime(fmt)
    return "2000-01-01"


def to_datetime(arg: Any, meta: Any = None, **kwargs: Any) -> Any:
    """``pandas.to_datetime`` on every partition of a shoal Series/DataFrame; plain values call pandas.

    Text has no unit until parsed; unless ``meta`` says otherwise, the
    metadata takes the unit pandas gives a sample date string (pandas may
    pick a finer one for finer text).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series(["2024-01-02", "2024-03-04"]), npartitions=2)
    >>> sd.to_datetime(s).dt.month.compute().tolist()
    [1, 3]
    """
    if not _is_partitioned(arg) and not isinstance(arg, ScalarCollection):
        return pd.to_datetime(arg, **kwargs)
    if meta is None and _is_partitioned(arg) and isinstance(arg._meta, pd.Series) and _is_text(arg._meta):
        try:
            sample = pd.to_datetime(pd.Series([_datetime_sample(kwargs)], dtype=arg._meta.dtype), **kwargs)
            meta = pd.Series([], dtype=sample.dtype, name=arg._meta.name, index=arg._meta.index[:0])
        except (ValueError, TypeError):
            meta = None  # a format= the sample doesn't fit: infer from the empty partition
    return _apply_pandas("to_datetime", arg, meta, kwargs)


def to_numeric(arg: Any, errors: str = "raise", downcast: Any = None, meta: Any = None) -> Any:
    """``pandas.to_numeric`` on every partition of a shoal Series (or on a lazy scalar); plain values call pandas.

    Text parses to numbers whose dtype depends on the text; unless ``meta``
    says otherwise, text input is described as ``float64`` (pass
    ``meta=(name, "int64")`` when the text holds integers).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series(["1.5", "2", "x"]), npartitions=2)
    >>> sd.to_numeric(s, errors="coerce").compute().tolist()
    [1.5, 2.0, nan]
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"to_numeric(errors={errors!r}): use 'raise' or 'coerce'")
    kwargs = {"errors": errors, "downcast": downcast}
    if isinstance(arg, ScalarCollection):
        return _apply_pandas("to_numeric", arg, None, kwargs)
    if _is_partitioned(arg):
        if not isinstance(arg._meta, pd.Series):
            raise TypeError("to_numeric takes a Series (as pandas): apply it per column, e.g. "
                            "df.apply(sd.to_numeric) is not lazy; use df[col] = sd.to_numeric(df[col])")
        if meta is None and _is_text(arg._meta) and downcast is None:
            meta = pd.Series([], dtype="float64", name=arg._meta.name, index=arg._meta.index[:0])
        return _apply_pandas("to_numeric", arg, meta, kwargs)
    return pd.to_numeric(arg, **kwargs)


def to_timedelta(arg: Any, unit: str | None = None, errors: str = "raise") -> Any:
    """``pandas.to_timedelta`` on every partition of a shoal Series; plain values call pandas.

    >>> import pandas as pd, shoal.dataframe as sd
    >>> s = sd.from_pandas(pd.Series([1, 2, 3]), npartitions=2)
    >>> sd.to_timedelta(s, unit="s").compute().dt.total_seconds().tolist()
    [1.0, 2.0, 3.0]
    """
    kwargs: dict[str, Any] = {"unit": unit, "errors": errors}
    if _is_partitioned(arg):
        if not isinstance(arg._meta, pd.Series):
            raise TypeError(f"to_timedelta takes a Series, got a {type(arg).__name__}; convert column by column")
        # Empty input gets a coarser unit than parsed values: take the metadata from a one-value sample.
        sample = pd.Series(["1 day"] if _is_text(arg._meta) else [1], dtype=arg._meta.dtype)
        try:
            dtype = pd.to_timedelta(sample, **kwargs).dtype
        except (ValueError, TypeError):
            return _apply_pandas("to_timedelta", arg, None, kwargs)
        meta = pd.Series([], dtype=dtype, name=arg._meta.name, index=arg._meta.index[:0])
        return _apply_pandas("to_timedelta", arg, meta, kwargs)
    return pd.to_timedelta(arg, **kwargs)


def isna(arg: Any) -> Any:
    """Missing-value mask of a shoal DataFrame/Series (lazy), or ``pandas.isna`` of anything else.

    >>> import pandas as pd, shoal.dataframe as sd
    >>> sd.isna(sd.from_pandas(pd.Series([1.0, None]), npartitions=1)).compute().tolist()
    [False, True]
    """
    if _is_partitioned(arg):
        return arg.isna()
    if isinstance(arg, ScalarCollection):
        return _apply_pandas("isna", arg, None, {})
    return pd.isna(arg)


def melt(frame: Any, id_vars: Any = None, value_vars: Any = None, var_name: Any = None, value_name: Any = "value",
         col_level: Any = None) -> Any:
    """Unpivot a DataFrame to long format, partition by partition; mirrors ``pandas.melt``.

    As in Dask, divisions become unknown and each partition's rows are
    numbered from 0 (pandas numbers the whole result).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> df = sd.from_pandas(pd.DataFrame({"k": [1, 2], "a": [3, 4], "b": [5, 6]}), npartitions=2)
    >>> sd.melt(df, id_vars="k").compute().value.tolist()
    [3, 5, 4, 6]
    """
    if not _is_partitioned(frame) or not isinstance(frame._meta, pd.DataFrame):
        raise TypeError(f"melt takes a shoal DataFrame, got {type(frame).__name__}; use pandas.melt for pandas")
    return frame.melt(id_vars=id_vars, value_vars=value_vars, var_name=var_name, value_name=value_name,
                      col_level=col_level)


class _ArgumentAt:
    """Call ``func`` with the partition moved from the front to position ``k`` (the first collection's place)."""

    def __init__(self, func: Callable[..., Any], k: int) -> None:
        self.func, self.k = func, k
        self.__name__ = getattr(func, "__name__", "map-partitions")

    def __call__(self, part: Any, *args: Any, **kwargs: Any) -> Any:
        ordered = [*args[:self.k], part, *args[self.k:]]
        return self.func(*ordered, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("argument-at", tokenize(self.func), self.k)


def map_partitions(func: Callable[..., Any], *args: Any, meta: Any = None, enforce_metadata: bool = True,
                   transform_divisions: bool = True, clear_divisions: bool = False, align_dataframes: bool = False,
                   **kwargs: Any) -> Any:
    """``func`` on the aligned partitions of the collections among ``args``; mirrors ``dask.dataframe.map_partitions``.

    The first shoal DataFrame/Series in ``args`` drives the partitioning; the
    others must have the same partitions (``align_dataframes=True``
    repartitions them to common divisions first). Other arguments are passed
    to every call. See :meth:`shoal.dataframe.DataFrame.map_partitions`.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.Series([1, 2, 3]), npartitions=2)
    >>> sd.map_partitions(lambda k, s: s * k, 10, a).compute().tolist()
    [10, 20, 30]
    """
    positions = [i for i, a in enumerate(args) if _is_partitioned(a)]
    if not positions:
        raise ValueError("map_partitions needs at least one shoal DataFrame or Series among the arguments; "
                         "call the function directly for pandas objects.")
    args_list = list(args)
    if align_dataframes and len(positions) > 1:
        from shoal.dataframe._methods_elementwise import aligned
        for i, coll in zip(positions, aligned("map_partitions", *(args[i] for i in positions)), strict=True):
            args_list[i] = coll
    k = positions[0]
    first = args_list.pop(k)
    call = func if k == 0 else _ArgumentAt(func, k)
    return first.map_partitions(call, *args_list, meta=meta, enforce_metadata=enforce_metadata,
                                transform_divisions=transform_divisions, clear_divisions=clear_divisions, **kwargs)


def repartition(df: Any, divisions: Any = None, force: bool = False) -> Any:
    """Split ``df`` at new ``divisions``: a shoal collection, or a pandas object (sorted by its index first).

    >>> import pandas as pd, shoal.dataframe as sd
    >>> sd.repartition(pd.Series(range(6)), divisions=[0, 2, 5]).npartitions
    2
    """
    if divisions is None:
        raise ValueError("repartition(df, divisions=...) needs divisions; for a number of partitions use "
                         "df.repartition(npartitions=...)")
    if isinstance(df, pd.DataFrame | pd.Series):
        df = from_pandas(df, npartitions=1)
    elif not _is_partitioned(df):
        raise TypeError(f"repartition takes a shoal or pandas DataFrame/Series, got {type(df).__name__}")
    return df.repartition(divisions=divisions, force=force)


# -- from_map ----------------------------------------------------------------------------------------
def _takes_columns(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "columns" in params


class FromMap(Expr):
    """Partition ``i`` is ``func(*items[i], *args, **kwargs)``; ``columns`` is set by projection pushdown."""

    _parameters = ("func", "items", "args", "kwargs", "meta", "divisions_", "label", "token", "columns_")
    _defaults = {"columns_": None}

    @functools.cached_property
    def _name(self) -> str:
        return f"{self.label}-{tokenize(self.token, self.columns_)}"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta if self.columns_ is None else self.meta[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _call_kwargs(self) -> dict[str, Any]:
        kwargs = dict(self.kwargs or {})
        if self.columns_ is not None:
            kwargs["columns"] = list(self.columns_)
        return kwargs

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        kwargs = self._call_kwargs()
        func = self.func
        if self.columns_ is not None and isinstance(func, EnforceMeta):
            func = EnforceMeta(func.func, self._meta)
        return {(self._name, i): Task((self._name, i), func, *item, *self.args, **kwargs)
                for i, item in enumerate(self.items)}

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        if not isinstance(self.meta, pd.DataFrame) or not _takes_columns(getattr(self.func, "func", self.func)):
            return None
        keep = [c for c in self.meta.columns if c in set(columns)]
        return FromMap(self.func, self.items, self.args, self.kwargs, self.meta, self.divisions_, self.label,
                       self.token, keep)


def from_map(func: Callable[..., Any], *iterables: Iterable[Any], args: Any = None, meta: Any = None,
             divisions: Any = None, label: str | None = None, token: str | None = None,
             enforce_metadata: bool = False, **kwargs: Any) -> Any:
    """A collection with one partition per element of ``iterables``: ``func(element, *args, **kwargs)``.

    Mirrors ``dask.dataframe.from_map``.

    Parameters
    ----------
    func : callable
        Makes one partition (a pandas DataFrame or Series). If it takes a
        ``columns=`` keyword, only the columns the plan uses are asked for.
    *iterables : iterables of the same length
        Element ``i`` of each is passed to ``func`` for partition ``i``.
    args : tuple, optional
        Positional arguments passed to every call, after the elements.
    meta : optional
        The output's structure; without it the first partition is computed to find it (as in Dask).
    divisions : tuple, optional
        ``npartitions + 1`` index boundaries, when known.
    label, token : str, optional
        Key prefix and a deterministic token for the keys (default: hashed from the inputs).
    enforce_metadata : bool
        Check every partition against ``meta`` (columns and their order). Default False, as in Dask.
    **kwargs
        Passed to every call.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> df = sd.from_map(lambda i: pd.DataFrame({"x": [i, i * 10]}), [1, 2, 3])
    >>> df.npartitions, df.x.sum().compute()
    (3, np.int64(66))
    """
    if not callable(func):
        raise TypeError(f"from_map needs a callable first, got {type(func).__name__}")
    if not iterables:
        raise ValueError("from_map needs at least one iterable (one element per partition)")
    columns = [list(it) for it in iterables]
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise ValueError(f"from_map: all iterables must have the same length, got lengths {[len(c) for c in columns]}")
    n = lengths.pop()
    if n == 0:
        raise ValueError("from_map: the iterables are empty; at least one partition is needed")
    items = [tuple(c[i] for c in columns) for i in range(n)]
    extra = tuple(args) if args is not None else ()
    if meta is None:
        meta = meta_from_output(func(*items[0], *extra, **kwargs))
    else:
        meta = make_meta(meta)
    if not is_frame_like(meta) or isinstance(meta, pd.Index):
        raise TypeError(f"from_map: func must return a pandas DataFrame or Series, but the metadata is "
                        f"{type(meta).__name__}. Pass meta= if the first partition is not representative.")
    if divisions is None:
        divisions = (None,) * (n + 1)
    elif len(divisions) != n + 1:
        raise ValueError(f"from_map: divisions must have {n + 1} entries (one more than the {n} partitions), got "
                         f"{len(divisions)}")
    label = label or getattr(func, "__name__", "from-map").replace("_", "-").strip("-<>") or "from-map"
    if label == "lambda":
        label = "from-map"
    token = token or tokenize(func, items, extra, kwargs, meta, tuple(divisions))
    call = EnforceMeta(func, meta) if enforce_metadata else func
    return new_collection(FromMap(call, items, extra, kwargs or None, meta, tuple(divisions), label, token))


def from_dask_array(x: Any, columns: Any = None, index: Any = None, meta: Any = None) -> Any:
    """A DataFrame/Series from a shoal array (one partition per row block); Dask's name for :func:`from_array`.

    ``index`` (a shoal Index with one partition per row block) labels the rows and brings its divisions.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa, shoal.dataframe as sd
    >>> x = sa.from_array(np.arange(6).reshape(3, 2), chunks=(2, 2))
    >>> sd.from_dask_array(x, columns=["a", "b"]).a.compute().tolist()
    [0, 2, 4]
    """
    out = from_array(x, columns=columns, meta=meta)
    if index is None:
        return out
    if not isinstance(index, FrameBase) or not isinstance(index._meta, pd.Index):
        raise TypeError(f"from_dask_array(index=...) takes a shoal Index (e.g. df.index), got {type(index).__name__}")
    if index.npartitions != out.npartitions:
        raise ValueError(f"from_dask_array: the index has {index.npartitions} partitions but the array has "
                         f"{out.npartitions} row blocks; rechunk the array to the index's partition lengths.")
    # The array's own row numbers are replaced, so its divisions go and the index's come in.
    rows = out.clear_divisions()._expr
    expr = MapPartitions(rows, _with_index, (index._expr,), None, None, "from-dask-array", True, False)
    if None in index.divisions:
        return new_collection(expr)
    from shoal.dataframe._shuffle import WithDivisions
    return new_collection(WithDivisions(expr, tuple(index.divisions)))


def _with_index(part: Any, index: pd.Index) -> Any:
    if len(part) != len(index):
        raise ValueError(f"from_dask_array: a row block has {len(part)} rows but the matching index partition has "
                         f"{len(index)}; the array's row chunks must match the index's partitions.")
    out = part.copy(deep=False)
    out.index = index
    return out

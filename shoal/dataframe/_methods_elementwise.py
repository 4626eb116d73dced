"""Named operator methods (``add``, ``rsub``, ``eq``, ...) and methods that combine two collections.

Alignment
    pandas aligns two objects on their index before it combines them. A
    partitioned collection can do the same partition by partition when both
    sides split the index at the same places: then every label lives in the
    same partition number on both sides, and ``a_i.add(b_i)`` is exactly the
    slice of ``a.add(b)`` between those divisions. :func:`aligned` makes that
    true: collections with known but different divisions are repartitioned to
    the union of their divisions (as Dask does); an in-memory pandas operand
    along the index becomes a one-partition collection first. Collections with
    unknown divisions must already have the same number of partitions, and are
    trusted to be split alike (as Dask trusts them).

Operators
    ``df.add(other, axis=, level=, fill_value=)`` and its siblings run the
    pandas method on every partition. Scalars and list-likes along the columns
    are broadcast; ``level=`` is refused, as in Dask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._align import aligned, is_partitioned
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import MapPartitions, TreeReduce
from shoal.dataframe._meta import make_meta_nonempty, meta_from_output
from shoal.dataframe._methods_convenience import DataFrameConvenienceMethods, SeriesConvenienceMethods
from shoal.dataframe._overlap import _like
from shoal.dataframe._window import _PartMethod

__all__ = ["DataFrameElementwiseMethods", "SeriesElementwiseMethods", "aligned", "combine_aligned"]

_ARITHMETIC = ("add", "sub", "mul", "div", "truediv", "floordiv", "mod", "pow",
               "radd", "rsub", "rmul", "rdiv", "rtruediv", "rfloordiv", "rmod", "rpow")
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


# -- alignment --------------------------------------------------------------------------------------
def _check_list_along_index(name: str, other: Any) -> None:
    if isinstance(other, list | tuple | np.ndarray | pd.Index | pd.api.extensions.ExtensionArray):
        raise ValueError(
            f"{name}: a list-like operand along the index needs one value per row, which a partitioned "
            f"collection can't match by position. Wrap it in a collection with the same index (from_pandas "
            f"of a pandas Series), or combine along the columns with axis='columns' (DataFrame)."
        )


def combine_aligned(self: Any, what: str, func: Callable[..., Any], other: Any, kwargs: dict[str, Any],
                    columnwise: bool = True, meta: Any = None) -> Any:
    """``func(part, other_part, **kwargs)`` partition-wise, aligning ``other`` first when it is a frame.

    Scalars (lazy ones too) and plain values are broadcast to every partition.
    """
    if isinstance(other, pd.DataFrame | pd.Series) or is_partitioned(other):
        left, right = aligned(what, self, other)
        return new_collection(MapPartitions(left._expr, func, (right._expr,), kwargs or None, meta, what,
                                            columnwise))
    arg = other._expr if isinstance(other, FrameBase) else other
    return new_collection(MapPartitions(self._expr, func, (arg,), kwargs or None, meta, what, columnwise))


def _operate(self: Any, name: str, other: Any, axis: Any, level: Any, fill_value: Any, frame: bool) -> Any:
    if level is not None:
        raise NotImplementedError(f"{name}(level={level!r}): level must be None in shoal, as in Dask. Reset the "
                                  f"index level to a column and combine on it instead.")
    kwargs: dict[str, Any] = {}
    if fill_value is not None:
        kwargs["fill_value"] = fill_value
    if frame:
        if axis not in (0, 1, "index", "columns"):
            raise ValueError(f"{name}: no axis named {axis!r} for a DataFrame; use 0/'index' or 1/'columns'")
        kwargs["axis"] = axis
        along_columns = axis in (1, "columns")
        if along_columns and isinstance(other, FrameBase) and isinstance(other._meta, pd.Series):
            raise ValueError(f"{name}: unable to combine with a shoal Series along axis=1 (its index holds row "
                             f"labels, not column names). Use axis=0/'index', or a pandas Series indexed by the "
                             f"column names.")
        if along_columns and isinstance(other, pd.Series):
            # A pandas Series along the columns is indexed by column names: broadcast it.
            return new_collection(MapPartitions(self._expr, _PartMethod(name), (other,), kwargs, None, name))
        if not along_columns:
            _check_list_along_index(name, other)
        columnwise = not (isinstance(other, pd.Series) or (is_partitioned(other)
                                                            and isinstance(other._meta, pd.Series)))
        return combine_aligned(self, name, _PartMethod(name), other, kwargs, columnwise)
    if axis not in (0, "index", None):
        raise ValueError(f"{name}: no axis named {axis!r} for a Series; use 0/'index'")
    _check_list_along_index(name, other)
    return combine_aligned(self, name, _PartMethod(name), other, kwargs)


def _frame_operator(name: str) -> Callable[..., Any]:
    if name in _COMPARISONS:
        def method(self: Any, other: Any, axis: Any = "columns", level: Any = None) -> Any:
            return _operate(self, name, other, axis, level, None, True)
    else:
        def method(self: Any, other: Any, axis: Any = "columns", level: Any = None,  # type: ignore[misc]
                   fill_value: Any = None) -> Any:
            return _operate(self, name, other, axis, level, fill_value, True)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"``DataFrame.{name}`` on every partition; mirrors pandas' ``DataFrame.{name}``.\n\n"
                      f"``other`` may be a scalar, a list-like or pandas Series along the columns, or a shoal or "
                      f"pandas frame/Series, aligned on the index first (repartitioned to the union of divisions). "
                      f"``level`` is not supported, as in Dask.")
    return method


def _series_operator(name: str) -> Callable[..., Any]:
    def method(self: Any, other: Any, level: Any = None, fill_value: Any = None, axis: Any = 0) -> Any:
        return _operate(self, name, other, axis, level, fill_value, False)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"``Series.{name}`` on every partition; mirrors pandas' ``Series.{name}``.\n\n"
                      f"``other`` may be a scalar or a shoal or pandas Series, aligned on the index first. "
                      f"``level`` is not supported, as in Dask.")
    return method


# -- combining two collections ------------------------------------------------------------------------
class _Combine:
    """``part.combine(other, func, **kwargs)``; picklable."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.__name__ = "combine"

    def __call__(self, part: Any, other: Any, **kwargs: Any) -> Any:
        return part.combine(other, self.func, **kwargs)


def _combine_first(part: Any, other: Any, meta: Any) -> Any:
    # pandas fails or changes dtypes when one side of combine_first is empty (an empty partition after
    # aligning), so those cases are built directly; ``meta`` holds the dtypes of the whole result.
    if not len(other):
        out = part.reindex(columns=meta.columns) if isinstance(meta, pd.DataFrame) else part
    elif not len(part):
        out = other.reindex(columns=meta.columns) if isinstance(meta, pd.DataFrame) else other
    else:
        out = part.combine_first(other)
    return _like(out, meta)


def _combine_first_meta(left: Any, right: Any) -> Any:
    meta = left.combine_first(right)
    if isinstance(meta, pd.DataFrame) and isinstance(right, pd.DataFrame):
        # A column on one side only is missing on the other side's rows: NaN-capable, as pandas gives it
        # whenever the indexes differ.
        one_sided = set(left.columns) ^ set(right.columns)
        widen = {c: ("float64" if meta.dtypes[c].kind in "iu" else object) for c in meta.columns
                 if c in one_sided and meta.dtypes[c].kind in "iub"}
        meta = meta.astype(widen) if widen else meta
    return meta


def _align_pick(part: Any, other: Any, which: int, meta: Any, **kwargs: Any) -> Any:
    return _like(part.align(other, **kwargs)[which], meta)


def _nan_capable(meta: Any) -> Any:
    """``meta`` with integer columns as float64 and booleans as object: rows may be added, holding NaN."""
    def widen(dtype: Any) -> Any:
        return "float64" if dtype.kind in "iu" else object if dtype.kind == "b" else dtype
    if isinstance(meta, pd.DataFrame):
        return meta.astype({c: widen(t) for c, t in meta.dtypes.items()}) if len(meta.columns) else meta
    return meta.astype(widen(meta.dtype))


def _dot_chunk(part: Any, other: Any) -> Any:
    return part.dot(other)


def _sum_partials(parts: list[Any]) -> Any:
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total


class CombineMethods:
    """``combine_first``, ``align`` and ``dot``: shared by DataFrame and Series."""

    _expr: Any
    _meta: Any

    def combine_first(self, other: Any) -> Any:
        """Fill missing values with ``other``'s at the same labels; mirrors pandas ``combine_first``.

        ``other`` (shoal or pandas) is aligned on the index first. An integer or
        boolean column found on one side only is described (and returned) as
        float64/object, as pandas gives it whenever the two indexes differ.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> a = sd.from_pandas(pd.Series([1.0, None, 3.0]), npartitions=2)
        >>> b = sd.from_pandas(pd.Series([9.0, 2.0, 9.0, 4.0]), npartitions=2)
        >>> a.combine_first(b).compute().tolist()
        [1.0, 2.0, 3.0, 4.0]
        """
        if not (isinstance(other, pd.DataFrame | pd.Series) or is_partitioned(other)):
            raise TypeError(f"combine_first takes a shoal or pandas DataFrame/Series, got {type(other).__name__}")
        left, right = aligned("combine_first", self, other)
        meta = _combine_first_meta(left._meta, right._meta)
        return new_collection(MapPartitions(left._expr, _combine_first, (right._expr, meta), None, meta,
                                            "combine-first", True))

    def align(self, other: Any, join: str = "outer", axis: Any = None, fill_value: Any = None) -> tuple[Any, Any]:
        """Both collections conformed to the union (``join``) of their labels; mirrors pandas ``align``.

        The two are first split at the same divisions, then aligned
        partition by partition. Returns a tuple of two collections. A side
        that can gain labels (both for ``join="outer"``) is described with
        integer columns as float64 and booleans as object, as pandas gives
        them whenever labels are added.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> a = sd.from_pandas(pd.Series([1, 2], index=[0, 1]), npartitions=1)
        >>> b = sd.from_pandas(pd.Series([3, 4], index=[1, 2]), npartitions=1)
        >>> left, right = a.align(b, join="inner")
        >>> left.compute().tolist(), right.compute().tolist()
        ([2], [3])
        """
        if join not in ("outer", "inner", "left", "right"):
            raise ValueError(f"align(join={join!r}): use 'outer', 'inner', 'left' or 'right'")
        if not (isinstance(other, pd.DataFrame | pd.Series) or is_partitioned(other)):
            raise TypeError(f"align takes a shoal or pandas DataFrame/Series, got {type(other).__name__}")
        left, right = aligned("align", self, other)
        kwargs = {"join": join, "axis": axis, "fill_value": fill_value}
        metas = list(left._meta.align(right._meta, **kwargs))
        if axis not in (1, "columns") and fill_value is None:
            # The side that can gain labels gets missing values there (pandas gives float64 for ints).
            gains = {"outer": (0, 1), "left": (1,), "right": (0,), "inner": ()}[join]
            metas = [_nan_capable(m) if k in gains else m for k, m in enumerate(metas)]
        out = tuple(new_collection(MapPartitions(left._expr, _align_pick, (right._expr, k, metas[k]), kwargs,
                                                 metas[k], "align", False)) for k in (0, 1))
        return out[0], out[1]

    def dot(self, other: Any, meta: Any = None) -> Any:
        """Matrix product; mirrors pandas ``dot``.

        ``Series.dot`` takes a Series or DataFrame with the same index
        (shoal, aligned first, or pandas) and sums the partitions' products
        in a tree: a lazy scalar (Series operand) or Series. ``DataFrame.dot``
        takes a pandas Series/DataFrame (or array) indexed by this frame's
        columns and works row by row, partition-wise.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1.0, 2.0, 3.0]), npartitions=2)
        >>> float(s.dot(s).compute())
        14.0
        """
        if isinstance(self._meta, pd.DataFrame):
            if isinstance(other, FrameBase):
                raise TypeError("DataFrame.dot takes a pandas Series/DataFrame or an array indexed by this frame's "
                                "columns; compute a shoal operand first (it is small: one row per column).")
            return new_collection(MapPartitions(self._expr, _PartMethod("dot"), (other,), None, meta, "dot"))
        if not (isinstance(other, pd.DataFrame | pd.Series) or is_partitioned(other)):
            raise TypeError(f"Series.dot takes a shoal or pandas Series/DataFrame with the same index, got "
                            f"{type(other).__name__}")
        left, right = aligned("dot", self, other)
        if meta is None:
            meta = left._meta.dot(right._meta)
        return new_collection(TreeReduce([left._expr, right._expr], _dot_chunk, _sum_partials, _sum_partials,
                                         meta, "dot"))


def _combine(self: Any, other: Any, func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    if not callable(func):
        raise TypeError(f"combine takes a function of two values, got {type(func).__name__}")
    # pandas decides the dtype from the values func returns: run it on small fake partitions.
    fake_other = make_meta_nonempty(other._meta) if isinstance(other, FrameBase) else other
    if isinstance(fake_other, pd.DataFrame | pd.Series):
        fake_other = make_meta_nonempty(meta_from_output(fake_other))
    try:
        meta = meta_from_output(_Combine(func)(make_meta_nonempty(self._meta), fake_other, **kwargs))
    except Exception:  # noqa: BLE001 - fall back to running func on the empty partitions
        meta = None
    return combine_aligned(self, "combine", _Combine(func), other, kwargs, columnwise=False, meta=meta)


class DataFrameOperatorMethods(CombineMethods):
    """Named operators of DataFrame (``df.add(other, axis="columns", level=None, fill_value=None)``)."""

    for _name in (*_ARITHMETIC, *_COMPARISONS):
        locals()[_name] = _frame_operator(_name)
    divide = _frame_operator("div")
    del _name

    def combine(self, other: Any, func: Callable[..., Any], fill_value: Any = None, overwrite: bool = True) -> Any:
        """Column-wise ``func(column, other_column)`` with an aligned frame; mirrors pandas ``DataFrame.combine``."""
        return _combine(self, other, func, {"fill_value": fill_value, "overwrite": overwrite})


class _CaseWhen:
    """``part.case_when(caselist)`` with the caselist's operands passed flat (partitions and plain values)."""

    __name__ = "case-when"

    def __call__(self, part: Any, *flat: Any) -> Any:
        return part.case_when([(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)])

    def __dask_tokenize__(self) -> Any:
        return ("case-when",)


def _case_when(self: Any, caselist: Any) -> Any:
    if not isinstance(caselist, list):
        raise TypeError(f"case_when: caselist must be a list of (condition, replacement) tuples, got "
                        f"{type(caselist).__name__}")
    if not caselist:
        raise ValueError("case_when: provide at least one (condition, replacement) pair in caselist")
    flat: list[Any] = []
    for k, pair in enumerate(caselist):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            got = f"a {type(pair).__name__} of length {len(pair)}" if isinstance(pair, tuple | list) else (
                f"a {type(pair).__name__}")
            raise ValueError(f"case_when: caselist[{k}] must be a (condition, replacement) pair, got {got}")
        for role, value in zip(("condition", "replacement"), pair, strict=True):
            # pandas calls a callable on the Series; here that is the lazy Series, so whole-column
            # expressions (s > s.mean()) see every partition.
            value = value(self) if callable(value) else value
            if isinstance(value, list | tuple | np.ndarray | pd.Index | pd.api.extensions.ExtensionArray):
                raise ValueError(f"case_when: the {role} of caselist[{k}] is a list-like without an index, "
                                 f"which can't be split into partitions. Pass a shoal or pandas Series with "
                                 f"this Series' index, a scalar, or a callable.")
            if isinstance(value, pd.DataFrame) or (is_partitioned(value) and not isinstance(value._meta, pd.Series)):
                raise TypeError(f"case_when: the {role} of caselist[{k}] must be a Series, a scalar or a "
                                f"callable, got a DataFrame")
            flat.append(value)
    series = [v for v in flat if isinstance(v, pd.Series) or is_partitioned(v)]
    left, *rest = aligned("case_when", self, *series)
    moved = iter(rest)
    args = tuple(next(moved)._expr if isinstance(v, pd.Series) or is_partitioned(v)
                 else v._expr if isinstance(v, FrameBase) else v for v in flat)
    return new_collection(MapPartitions(left._expr, _CaseWhen(), args, None, None, "case-when"))


class SeriesOperatorMethods(CombineMethods):
    """Named operators of Series (``s.add(other, level=None, fill_value=None, axis=0)``)."""

    for _name in (*_ARITHMETIC, *_COMPARISONS):
        locals()[_name] = _series_operator(_name)
    divide = _series_operator("div")
    del _name

    def combine(self, other: Any, func: Callable[..., Any], fill_value: Any = None) -> Any:
        """Element-wise ``func(a, b)`` with an aligned Series or a scalar; mirrors pandas ``Series.combine``.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> a = sd.from_pandas(pd.Series([1, 5, 3]), npartitions=2)
        >>> b = sd.from_pandas(pd.Series([4, 2, 6]), npartitions=2)
        >>> a.combine(b, max).compute().tolist()
        [4, 5, 6]
        """
        return _combine(self, other, func, {"fill_value": fill_value})

    def case_when(self, caselist: list[tuple[Any, Any]]) -> Any:
        """Replace values where conditions hold, the first true condition winning; mirrors ``Series.case_when``.

        Conditions and replacements may be shoal or pandas Series (aligned with
        this one on the index first), scalars, or callables, which are called
        with this (lazy) Series. Rows where no condition holds keep their value.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1, 2, 3, 4, 5]), npartitions=2)
        >>> s.case_when([(s > 3, 0), (lambda v: v < 2, s * 10)]).compute().tolist()
        [10, 2, 3, 0, 0]
        """
        return _case_when(self, caselist)


# The mixins ``_frame`` adds to DataFrame and Series: operators and combining here, the rest in
# ``_methods_convenience``.

class DataFrameElementwiseMethods(DataFrameOperatorMethods, DataFrameConvenienceMethods):
    """Element-wise and convenience methods of DataFrame from this family."""


class SeriesElementwiseMethods(SeriesOperatorMethods, SeriesConvenienceMethods):
    """Element-wise and convenience methods of Series from this family."""

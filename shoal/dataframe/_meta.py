"""Metadata helpers: empty pandas objects that stand for a partition's structure.

A ``meta`` is a zero-row pandas object with the right columns, dtypes, index
type and names. When an operation cannot be run on zero rows (user functions
often can't), :func:`make_meta_nonempty` builds a two-row stand-in with
plausible values of every dtype; the output is cut back to zero rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["inference_error", "is_frame_like", "make_meta", "make_meta_nonempty", "meta_from_output",
           "with_index_of"]


def is_frame_like(x: Any) -> bool:
    return isinstance(x, pd.DataFrame | pd.Series | pd.Index)


def meta_from_output(x: Any) -> Any:
    """Cut a computed sample down to zero rows (scalars stay as they are)."""
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.iloc[:0]
    if isinstance(x, pd.Index):
        return x[:0]
    return x


def make_meta(x: Any, index: Any = None) -> Any:
    """Meta from a pandas object, a dict ``{column: dtype}``, a list of ``(column, dtype)`` or a ``(name, dtype)``.

    >>> make_meta({"a": "i8", "b": "f8"}).dtypes.tolist()
    [dtype('int64'), dtype('float64')]
    >>> make_meta(("x", "f8"))
    Series([], Name: x, dtype: float64)
    """
    if is_frame_like(x):
        return meta_from_output(x)
    idx = index if index is not None else pd.RangeIndex(0)
    if isinstance(x, dict):
        return pd.DataFrame({c: pd.Series([], dtype=d, index=idx[:0]) for c, d in x.items()}, index=idx[:0])
    if isinstance(x, list) and all(isinstance(p, tuple) and len(p) == 2 for p in x):
        return make_meta(dict(x), index)
    if isinstance(x, tuple) and len(x) == 2:
        return pd.Series([], dtype=x[1], name=x[0], index=idx[:0])
    if isinstance(x, str | np.dtype | type):
        return np.dtype(x).type(0)
    raise TypeError(
        f"meta must be a pandas object, a dict {{column: dtype}}, a list of (column, dtype) pairs or a "
        f"(name, dtype) tuple; got {type(x).__name__}: {x!r}"
    )


def with_index_of(meta: Any, parent: Any) -> Any:
    """``meta`` with ``parent``'s (empty) index when ``meta`` has only the default ``RangeIndex``.

    A meta built from a dict or a ``(name, dtype)`` tuple gets a ``RangeIndex``; for an output that keeps the
    input's rows, the input's index type (datetime, strings, a name) is the truth.
    """
    if (isinstance(meta, pd.DataFrame | pd.Series) and isinstance(parent, pd.DataFrame | pd.Series)
            and type(meta.index) is pd.RangeIndex and meta.index.name is None
            and type(parent.index) is not pd.RangeIndex):
        return meta.set_axis(parent.index[:0], axis=0)
    return meta


def _fake_values(dtype: Any, n: int = 2) -> Any:
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        values = list(cats[:1]) * n if len(cats) else [None] * n
        return pd.Categorical(values, categories=cats, ordered=dtype.ordered)
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return pd.array([True, False][:n], dtype=dtype)
    if kind in "iu":
        return pd.array([1] * n, dtype=dtype)
    if kind in "fc":
        return pd.array([1.0] * n, dtype=dtype)
    if kind == "M":
        return pd.array([pd.Timestamp("2000-01-01", tz=getattr(dtype, "tz", None))] * n, dtype=dtype)
    if kind == "m":
        return pd.array([pd.Timedelta(1, "D")] * n, dtype=dtype)
    try:
        return pd.array(["foo"] * n, dtype=dtype)
    except (TypeError, ValueError):
        return pd.array(["foo"] * n, dtype=object)


def _fake_index(index: pd.Index, n: int = 2) -> pd.Index:
    if isinstance(index, pd.RangeIndex):
        return pd.RangeIndex(n, name=index.name)
    if isinstance(index, pd.MultiIndex):
        levels = [_fake_index(level, n) for level in index.levels]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    return pd.Index(_fake_values(index.dtype, n), name=index.name)


def make_meta_nonempty(meta: Any) -> Any:
    """A two-row object with the structure of ``meta``.

    >>> m = make_meta({"a": "i8", "s": "str"})
    >>> len(make_meta_nonempty(m)), make_meta_nonempty(m).dtypes.equals(m.dtypes)
    (2, True)
    """
    if isinstance(meta, pd.DataFrame):
        index = _fake_index(meta.index)
        data = {i: _fake_values(dtype) for i, dtype in enumerate(meta.dtypes)}
        out = pd.DataFrame(data, index=index)
        out.columns = meta.columns
        return out
    if isinstance(meta, pd.Series):
        return pd.Series(_fake_values(meta.dtype), index=_fake_index(meta.index), name=meta.name)
    if isinstance(meta, pd.Index):
        return _fake_index(meta)
    return meta


#: Original exception type -> its "also a ValueError" subclass (see :func:`inference_error`).
_INFERENCE_TYPES: dict[type, type] = {}


def _rebuild_inference_error(original: type, args: tuple[Any, ...]) -> BaseException:
    return _inference_type(original)(*args)


def _inference_type(original: type) -> type:
    cls = _INFERENCE_TYPES.get(original)
    if cls is None:
        if issubclass(original, ValueError):
            cls = original
        else:
            def reduce(self: BaseException) -> tuple[Any, ...]:
                return (_rebuild_inference_error, (original, self.args))

            cls = type(original.__name__, (original, ValueError), {"__reduce__": reduce, "__module__": __name__})
        _INFERENCE_TYPES[original] = cls
    return cls


def inference_error(exc: BaseException, message: str) -> BaseException:
    """An error that is both ``exc``'s own type and a ``ValueError``, carrying ``message`` (shoal's context).

    Inferring metadata runs the user's operation on a sample, so its failure is usually the user's error (a
    ``TypeError`` for ``frame + text``): code catching that type must still catch it, and code catching
    Dask's ``ValueError`` for failed inference too. Types that cannot be combined so (their constructor or
    layout differs) keep their own instance, with ``message`` added as a note. Raise it ``from exc``.

    >>> err = inference_error(TypeError("bad operand"), "shoal could not infer the output of 'add'")
    >>> isinstance(err, TypeError), isinstance(err, ValueError), str(err)
    (True, True, "shoal could not infer the output of 'add'")
    """
    try:
        return _inference_type(type(exc))(message)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - constructors with other signatures (UnicodeDecodeError, ...)
        exc.add_note(message)
        return exc

"""Statistics on DataFrame and Series: ``sem``, ``skew``, ``kurtosis``, ``median``, ``cov``, ``corr``, ``reduction``.

The moment statistics and the covariance matrix are exact tree reductions
over small per-partition partials (see :mod:`shoal.dataframe._stats_kernels`).
``median`` follows Dask: it is exact, and only offered where that is cheap
(one partition, or across the columns of each row); ``median_approximate``
works on any partitioning. ``reduction`` is Dask's generic tree-reduction API
for user functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe import _stats_kernels as kern
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._expr import Expr, MapPartitions, Projection, TreeReduce
from shoal.dataframe._meta import inference_error, make_meta, make_meta_nonempty, meta_from_output

__all__ = ["FrameStatsMethods", "SeriesStatsMethods", "StatsMethods"]


def _split(split_every: Any, npartitions: int) -> int | None:
    """Dask's ``split_every=False`` means one aggregation step over every partial."""
    if split_every is False:
        return max(npartitions, 2)
    if split_every is None or split_every is True:
        return None
    return int(split_every)


def _is_numeric(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)


def _numeric_expr(obj: FrameBase, numeric_only: bool, what: str, error: type[Exception] = TypeError
                  ) -> tuple[Expr, Any]:
    """The expression restricted to numeric (and boolean) data, and the result's column labels.

    The labels are ``None`` for a Series. Non-numeric data raises ``error`` now, as pandas would at compute time.
    """
    meta = obj._meta
    if isinstance(meta, pd.Series):
        if not _is_numeric(meta.dtype):
            raise error(f"{what} needs numeric data, but Series {meta.name!r} has dtype {meta.dtype}. Convert it "
                        f"first, e.g. s.astype('f8').")
        return obj._expr, None
    numeric = [c for c in meta.columns if _is_numeric(meta.dtypes[c])]
    others = [c for c in meta.columns if c not in set(numeric)]
    if others and not numeric_only:
        raise error(f"{what} needs numeric columns, but {others} are not numeric "
                    f"({', '.join(str(meta.dtypes[c]) for c in others)}). Pass numeric_only=True to skip them, or "
                    f"select the numeric columns first.")
    expr = obj._expr if not others else Projection(obj._expr, numeric)
    return expr, pd.Index(numeric, dtype=meta.columns.dtype if numeric else object)


def _check_axis(axis: Any, what: str) -> bool:
    """True for row-wise (``axis=1``); raises for anything but 0/1 and their names."""
    if axis in (1, "columns"):
        return True
    if axis in (0, None, "index"):
        return False
    raise ValueError(f"{what}: no axis named {axis!r}; use 0/'index' (down the columns) or 1/'columns' (across rows).")


def _rowwise_moment(part: pd.DataFrame, kind: str, options: dict[str, Any]) -> pd.Series:
    x = kern.numeric_matrix(part).T
    out = kern.moment_aggregate([kern.moments_of(x)], kind, pd.RangeIndex(len(part)), options)
    return pd.Series(out.to_numpy(), index=part.index, dtype="f8")


def _moment_stat(obj: FrameBase, kind: str, axis: Any, numeric_only: bool, split_every: Any,
                 options: dict[str, Any]) -> Any:
    expr, columns = _numeric_expr(obj, numeric_only, kind)
    if _check_axis(axis, kind):
        if columns is None:
            raise ValueError(f"{kind}(axis=1) needs a DataFrame; a Series has only axis 0.")
        meta = pd.Series([], dtype="f8", index=obj._meta.index[:0])
        return new_collection(MapPartitions(expr, _rowwise_moment, (kind, options), None, meta, kind))
    # A per-column result's meta keeps the type of the column labels in its (empty) index.
    meta = np.float64(0.0) if columns is None else pd.Series(np.zeros(len(columns)), index=columns).iloc[:0]
    aggregate = functools.partial(kern.moment_aggregate, kind=kind, columns=columns, options=options)
    return new_collection(TreeReduce([expr], kern.moment_chunk, kern.moment_combine, aggregate, meta, kind, None,
                                     _split(split_every, obj.npartitions)))


def _check_nan_policy(nan_policy: str, what: str) -> None:
    if nan_policy not in ("propagate", "omit"):
        raise ValueError(f"{what}: nan_policy must be 'propagate' or 'omit', got {nan_policy!r}.")


# -- median: values gathered in one task --------------------------------------------------------

def _gather_chunk(part: Any) -> Any:
    return part.dropna() if isinstance(part, pd.Series) else part


def _gather_combine(parts: list[Any]) -> Any:
    kept = [p for p in parts if len(p)] or parts[:1]
    return kept[0] if len(kept) == 1 else pd.concat(kept)


def _gather_median(parts: list[Any], meta: Any) -> Any:
    out = _gather_combine(parts).median()
    if isinstance(out, pd.Series):
        return out.astype(meta.dtype) if out.dtype != meta.dtype else out
    return np.float64(out) if meta.dtype.kind == "f" else out


def _median_meta(expr: Expr) -> Any:
    return meta_from_output(make_meta_nonempty(expr._meta).median())


def _rowwise_median(part: pd.DataFrame) -> pd.Series:
    return part.median(axis=1)


# -- reduction: Dask's user-facing tree reduction --------------------------------------------------

def _stack_partials(parts: list[Any]) -> Any:
    """Partials side by side, as Dask hands them to ``combine`` and ``aggregate``.

    Scalars become a Series with one row per partial, Series become the rows of a DataFrame, frames are
    concatenated (keeping their index).
    """
    first = parts[0]
    if isinstance(first, pd.DataFrame):
        return pd.concat(parts)
    if isinstance(first, pd.Series):
        return pd.DataFrame(list(parts)).reset_index(drop=True)
    return pd.Series(list(parts))


def _user_chunk(part: Any, chunk: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    return chunk(part, **kwargs)


def _user_combine(parts: list[Any], func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    return func(_stack_partials(parts), **kwargs)


def _infer_reduction_meta(meta: Any, chunk: Callable[..., Any], aggregate: Callable[..., Any],
                          chunk_kwargs: dict[str, Any], aggregate_kwargs: dict[str, Any], label: str) -> Any:
    try:
        partial = chunk(make_meta_nonempty(meta), **chunk_kwargs)
        return meta_from_output(aggregate(_stack_partials([partial]), **aggregate_kwargs))
    except Exception as exc:
        raise inference_error(
            exc, f"reduction({label!r}): shoal could not infer the output by running chunk and aggregate on a small "
            f"sample ({type(exc).__name__}: {exc}). Pass meta= describing the result: a scalar dtype such as "
            f"meta=float, a (name, dtype) tuple for a Series, or a {{column: dtype}} dict for a DataFrame."
        ) from exc


class StatsMethods:
    """Statistics shared by DataFrame and Series."""

    def sem(self, axis: Any = None, skipna: bool = True, ddof: int = 1, split_every: Any = False,
            numeric_only: bool = False) -> Any:
        """Standard error of the mean, ``std(ddof) / sqrt(count)``; mirrors ``pandas.DataFrame.sem``.

        Exact: one pass of per-partition counts, means and squared deviations, merged in a tree.
        ``skipna=False`` gives NaN for a column holding nulls.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = pd.Series([1.0, 2.0, 4.0, 8.0])
        >>> bool(abs(sd.from_pandas(s, npartitions=2).sem().compute() - s.sem()) < 1e-12)
        True
        """
        options = {"ddof": ddof, "skipna": skipna}
        return _moment_stat(self, "sem", axis, numeric_only, split_every, options)  # type: ignore[arg-type]

    def skew(self, axis: Any = 0, bias: bool = True, nan_policy: str = "propagate", numeric_only: bool = False
             ) -> Any:
        """Sample skewness, as Dask gives it: ``scipy.stats.skew`` per column.

        ``bias=True`` (Dask's and SciPy's default) is the plain moment ratio ``m3 / m2**1.5``, NaN for constant
        data; ``bias=False`` is the adjusted estimator pandas' ``skew()`` returns (Dask does not offer it).
        ``nan_policy="propagate"`` gives NaN for a column holding nulls, ``"omit"`` skips them.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = pd.Series([1.0, 2.0, 4.0, 8.0, 16.0])
        >>> ds = sd.from_pandas(s, npartitions=2)
        >>> bool(abs(ds.skew(bias=False).compute() - s.skew()) < 1e-12)
        True
        """
        _check_nan_policy(nan_policy, "skew")
        options = {"bias": bias, "nan_policy": nan_policy}
        return _moment_stat(self, "skew", axis, numeric_only, None, options)  # type: ignore[arg-type]

    def kurtosis(self, axis: Any = 0, fisher: bool = True, bias: bool = True, nan_policy: str = "propagate",
                 numeric_only: bool = False) -> Any:
        """Sample kurtosis, as Dask gives it: ``scipy.stats.kurtosis`` per column.

        ``fisher=True`` subtracts 3 (a normal distribution gives 0). ``bias=True`` (Dask's default) is the
        moment ratio ``m4 / m2**2``; ``bias=False`` is the adjusted estimator of pandas' ``kurt()``.
        ``nan_policy`` as in :meth:`skew`.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = pd.Series([1.0, 2.0, 4.0, 8.0, 16.0, 3.0])
        >>> ds = sd.from_pandas(s, npartitions=3)
        >>> bool(abs(ds.kurtosis(bias=False).compute() - s.kurt()) < 1e-12)
        True
        """
        _check_nan_policy(nan_policy, "kurtosis")
        options = {"fisher": fisher, "bias": bias, "nan_policy": nan_policy}
        return _moment_stat(self, "kurtosis", axis, numeric_only, None, options)  # type: ignore[arg-type]

    kurt = kurtosis

    def median(self, axis: Any = 0, numeric_only: bool = False) -> Any:
        """The exact median, where Dask offers it: with one partition, or across columns (``axis=1``).

        Like Dask, a collection of several partitions raises ``NotImplementedError`` for ``axis=0``: an exact
        median needs every value in one place. Use :meth:`median_approximate` there.
        """
        if _check_axis(axis, "median"):
            return self._rowwise_median(numeric_only)
        if self.npartitions == 1:  # type: ignore[attr-defined]
            return self.median_approximate(numeric_only=numeric_only)
        raise NotImplementedError(
            f"median over {self.npartitions} partitions: like Dask, shoal computes an exact median only for one "  # type: ignore[attr-defined]
            f"partition or with axis=1. Use .median_approximate(), or .repartition(npartitions=1) first if the "
            f"data fits in memory."
        )

    def _rowwise_median(self, numeric_only: bool) -> Any:
        meta = self._meta  # type: ignore[attr-defined]
        if not isinstance(meta, pd.DataFrame):
            raise ValueError("median(axis=1) needs a DataFrame; a Series has only axis 0.")
        expr, _ = _numeric_expr(self, numeric_only, "median")  # type: ignore[arg-type]
        out = pd.Series([], dtype="f8", index=meta.index[:0])
        return new_collection(MapPartitions(expr, _rowwise_median, (), None, out, "median"))

    def median_approximate(self, axis: Any = 0, method: str = "default", numeric_only: bool = False) -> Any:
        """The median of each column over all partitions.

        Mirrors Dask's ``median_approximate``; differences: shoal's answer is exact, not approximate. The
        non-null values (of the numeric columns) are gathered into one task, so the data must fit in one
        worker's memory. ``method`` (``"default"``, ``"dask"``, ``"tdigest"``) is accepted for Dask's signature.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> sd.from_pandas(pd.Series([5.0, 1.0, 3.0, 2.0]), npartitions=2).median_approximate().compute()
        np.float64(2.5)
        """
        if method not in ("default", "dask", "tdigest"):
            raise ValueError(f"median_approximate(method={method!r}): use 'default', 'dask' or 'tdigest'.")
        if _check_axis(axis, "median_approximate"):
            return self._rowwise_median(numeric_only)
        expr, _ = _numeric_expr(self, numeric_only, "median")  # type: ignore[arg-type]
        meta = _median_meta(expr)
        return new_collection(TreeReduce([expr], _gather_chunk, _gather_combine,
                                         functools.partial(_gather_median, meta=meta), meta, "median"))

    def reduction(self, chunk: Callable[..., Any], aggregate: Callable[..., Any] | None = None,
                  combine: Callable[..., Any] | None = None, meta: Any = None, token: str | None = None,
                  split_every: Any = None, chunk_kwargs: dict[str, Any] | None = None,
                  aggregate_kwargs: dict[str, Any] | None = None, combine_kwargs: dict[str, Any] | None = None,
                  **kwargs: Any) -> Any:
        """A tree reduction with your own functions; mirrors Dask's ``DataFrame.reduction``.

        Parameters
        ----------
        chunk : callable
            ``chunk(partition, **chunk_kwargs)`` returns a scalar, a Series or a DataFrame.
        aggregate : callable, optional
            Turns the stacked partials into the result (default: ``chunk``). Partials are stacked as Dask
            does: scalars into a Series (one row per partial), Series into the rows of a DataFrame, frames
            concatenated.
        combine : callable, optional
            Reduces groups of ``split_every`` stacked partials to one partial (default: ``aggregate``).
        meta : optional
            The result's structure (a scalar dtype, ``(name, dtype)``, ``{column: dtype}`` or an empty
            pandas object); inferred on a small sample when omitted.
        token : str, optional
            The name of the reduction in the graph.
        split_every : int or False, optional
            Partials combined per task (default 8); ``False``: all in one step.
        chunk_kwargs, aggregate_kwargs, combine_kwargs : dict, optional
            Keyword arguments for each function; ``**kwargs`` go to all three.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=3)
        >>> df.x.reduction(lambda s: s.max() - s.min(), aggregate=lambda s: s.sum(), meta=int).compute()
        np.int64(7)
        """
        if not callable(chunk):
            raise TypeError(f"reduction: chunk must be a function of a partition, got {type(chunk).__name__}")
        aggregate = chunk if aggregate is None else aggregate
        combine = aggregate if combine is None else combine
        chunk_kw = {**kwargs, **(chunk_kwargs or {})}
        agg_kw = {**kwargs, **(aggregate_kwargs or {})}
        comb_kw = {**kwargs, **(combine_kwargs or {})}
        label = token or getattr(chunk, "__name__", "reduction").replace("_", "-").strip("-<>") or "reduction"
        own_meta = self._meta  # type: ignore[attr-defined]
        if meta is None:
            out_meta = _infer_reduction_meta(own_meta, chunk, aggregate, chunk_kw, agg_kw, label)
        elif isinstance(meta, type) and not issubclass(meta, pd.DataFrame | pd.Series):
            out_meta = make_meta(np.dtype(meta))
        else:
            out_meta = make_meta(meta)
        expr = TreeReduce(
            [self._expr],  # type: ignore[attr-defined]
            functools.partial(_user_chunk, chunk=chunk, kwargs=chunk_kw),
            functools.partial(_user_combine, func=combine, kwargs=comb_kw),
            functools.partial(_user_combine, func=aggregate, kwargs=agg_kw),
            out_meta, label, None, _split(split_every, self.npartitions),  # type: ignore[attr-defined]
        )
        return new_collection(expr)

    @property
    def nbytes(self) -> Any:
        """Bytes of the values (not the index), summed over partitions: a lazy Scalar. Series only, as in pandas.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> sd.from_pandas(pd.Series([1, 2, 3], dtype="i8"), npartitions=2).nbytes.compute()
        24
        """
        if not isinstance(self._meta, pd.Series):  # type: ignore[attr-defined]
            raise AttributeError("'DataFrame' object has no attribute 'nbytes'; use memory_usage(index=False)")
        return new_collection(TreeReduce([self._expr], _nbytes, _sum, _sum, 0, "nbytes"))  # type: ignore[attr-defined]


def _nbytes(part: Any) -> int:
    return int(part.nbytes)


def _sum(parts: list[int]) -> int:
    return int(sum(parts))


def _check_corr_method(method: str) -> None:
    if method != "pearson":
        raise NotImplementedError(f"corr(method={method!r}): like Dask, shoal implements only method='pearson'.")


def _check_min_periods(min_periods: Any) -> int:
    if min_periods is None:
        return 1
    if not isinstance(min_periods, int | np.integer) or min_periods < 0:
        raise ValueError(f"min_periods must be a non-negative integer, got {min_periods!r}")
    return int(min_periods)


def _frame_comoment(obj: Any, corr: bool, min_periods: Any, numeric_only: bool, ddof: int, split_every: Any
                    ) -> Any:
    what = "corr" if corr else "cov"
    periods = _check_min_periods(min_periods)
    expr, columns = _numeric_expr(obj, numeric_only, what, ValueError)
    meta = pd.DataFrame(np.zeros((len(columns), len(columns))), index=columns, columns=columns).iloc[:0]
    aggregate = functools.partial(kern.comoment_aggregate, corr=corr, min_periods=periods, ddof=ddof,
                                  columns=columns)
    return new_collection(TreeReduce([expr], kern.comoment_chunk, kern.comoment_combine, aggregate, meta, what,
                                     None, _split(split_every, obj.npartitions)))


def _series_comoment(obj: Any, other: Any, corr: bool, min_periods: Any, ddof: int, split_every: Any) -> Any:
    what = "corr" if corr else "cov"
    if not isinstance(other, FrameBase) or not isinstance(other._meta, pd.Series):
        raise TypeError(f"Series.{what}(other): other must be a shoal Series with the same partitions, got "
                        f"{type(other).__name__}. Wrap pandas data with shoal.dataframe.from_pandas first.")
    periods = _check_min_periods(min_periods)
    _numeric_expr(obj, False, what, ValueError)
    _numeric_expr(other, False, what, ValueError)
    aggregate = functools.partial(kern.comoment_aggregate, corr=corr, min_periods=periods, ddof=ddof, columns=None)
    return new_collection(TreeReduce([obj._expr, other._expr], kern.comoment_chunk, kern.comoment_combine,
                                     aggregate, np.float64(0.0), what, None, _split(split_every, obj.npartitions)))


class FrameStatsMethods:
    """``cov`` and ``corr`` of a DataFrame: pairwise matrices over the numeric columns."""

    def cov(self, min_periods: int | None = None, numeric_only: bool = False, split_every: Any = False,
            ddof: int = 1) -> Any:
        """Pairwise covariance of the columns, excluding nulls pair by pair; mirrors ``pandas.DataFrame.cov``.

        Exact (co-moments merged in a tree). ``ddof`` is pandas' (Dask has no such argument).

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> pdf = pd.DataFrame({"a": [1.0, 2.0, 4.0, 7.0], "b": [2.0, 1.0, 0.0, 5.0]})
        >>> got = sd.from_pandas(pdf, npartitions=2).cov().compute()
        >>> bool(((got - pdf.cov()).abs() < 1e-12).all().all())
        True
        """
        return _frame_comoment(self, False, min_periods, numeric_only, ddof, split_every)

    def corr(self, method: str = "pearson", min_periods: int | None = None, numeric_only: bool = False,
             split_every: Any = False) -> Any:
        """Pairwise Pearson correlation of the columns; mirrors ``pandas.DataFrame.corr``.

        Like Dask, only ``method="pearson"`` is implemented (others raise ``NotImplementedError``).
        """
        _check_corr_method(method)
        return _frame_comoment(self, True, min_periods, numeric_only, 1, split_every)


class SeriesStatsMethods:
    """``cov`` and ``corr`` of a Series with another Series split the same way."""

    def cov(self, other: Any, min_periods: int | None = None, split_every: Any = False, ddof: int = 1) -> Any:
        """Covariance with ``other`` (aligned on the index within each partition); a lazy Scalar.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [1.0, 3.0, 2.0]}), npartitions=2)
        >>> float(df.a.cov(df.b).compute())
        0.5
        """
        return _series_comoment(self, other, False, min_periods, ddof, split_every)

    def corr(self, other: Any, method: str = "pearson", min_periods: int | None = None, split_every: Any = False
             ) -> Any:
        """Pearson correlation with ``other``; a lazy Scalar. Only ``method="pearson"``, as in Dask."""
        _check_corr_method(method)
        return _series_comoment(self, other, True, min_periods, 1, split_every)

    def autocorr(self, lag: int = 1, split_every: Any = None) -> Any:
        """Pearson correlation of the Series with itself shifted by ``lag`` rows; a lazy Scalar.

        Exact across partition edges: the shifted copy borrows rows from the
        neighbouring partitions, then both go through :meth:`corr`. Mirrors
        ``pandas.Series.autocorr``; ``split_every`` is Dask's.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> s = sd.from_pandas(pd.Series([1.0, 2.0, 4.0, 3.0, 5.0]), npartitions=2)
        >>> round(float(s.autocorr()), 6)
        0.4
        """
        if isinstance(lag, bool) or not isinstance(lag, int | np.integer):
            raise TypeError(f"autocorr: lag must be an integer number of rows, got {lag!r}")
        shifted = self.shift(int(lag))  # type: ignore[attr-defined]
        return _series_comoment(self, shifted, True, None, 1, split_every)

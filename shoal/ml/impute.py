"""Filling missing values column by column; mirrors ``dask_ml.impute``.

:class:`SimpleImputer` learns one statistic per column in one pass over the data (a tree reduction
of per-block partials: sums and counts for ``"mean"``, value counts for ``"most_frequent"``), or in
the few passes of the exact order-statistic search for ``"median"`` (:mod:`shoal.ml._prep_ranks`),
then fills each row block or partition on its own, lazily.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

import shoal
import shoal.dataframe as sd
from shoal.array import Array
from shoal.ml._est_blocks import tree_reduce
from shoal.ml._ml3_util import to_lazy_array
from shoal.ml._prep_base import _check_fitted
from shoal.ml._prep_ranks import column_medians

__all__ = ["SimpleImputer"]

_STRATEGIES = ("mean", "median", "most_frequent", "constant")


def _missing(values: np.ndarray, missing_values: Any) -> np.ndarray:
    """Where ``values`` hold the missing marker (``pd.isna`` for a NaN/None marker)."""
    if missing_values is None or (isinstance(missing_values, float) and np.isnan(missing_values)) \
            or missing_values is pd.NA:
        return np.asarray(pd.isna(values))
    return np.asarray(values == missing_values)


def _mean_chunk(block: np.ndarray, missing_values: Any) -> tuple[np.ndarray, np.ndarray]:
    block = np.asarray(block)
    mask = _missing(block, missing_values)
    return np.where(mask, 0.0, block.astype(np.float64)).sum(axis=0), (~mask).sum(axis=0)


def _mean_combine(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return sum(p[0] for p in parts), sum(p[1] for p in parts)  # type: ignore[return-value]


def _counts_chunk(block: np.ndarray, missing_values: Any) -> list[dict[Any, int]]:
    block = np.asarray(block)
    mask = _missing(block, missing_values)
    out = []
    for j in range(block.shape[1]):
        values, counts = np.unique(block[~mask[:, j], j], return_counts=True)
        out.append(dict(zip(values.tolist(), counts.tolist(), strict=True)))
    return out


def _counts_combine(parts: list[list[dict[Any, int]]]) -> list[dict[Any, int]]:
    out = [dict(d) for d in parts[0]]
    for p in parts[1:]:
        for acc, d in zip(out, p, strict=True):
            for k, c in d.items():
                acc[k] = acc.get(k, 0) + c
    return out


def _most_frequent(counts: dict[Any, int]) -> Any:
    """The most frequent value; ties go to the smallest, as scikit-learn breaks them."""
    if not counts:
        return np.nan
    best = max(counts.values())
    return min(k for k, c in counts.items() if c == best)


def _fill_block(block: Any, stats: np.ndarray, keep: np.ndarray, missing_values: Any, indicator: np.ndarray,
                dtype: Any) -> np.ndarray:
    values = np.asarray(block)
    mask = _missing(values, missing_values)
    out = values.astype(dtype, copy=True)[:, keep]
    fill = mask[:, keep]
    rows, cols = np.nonzero(fill)
    out[rows, cols] = stats[keep][cols]
    if len(indicator):
        out = np.hstack([out, mask[:, indicator].astype(out.dtype)])
    return out


def _fill_frame(part: pd.DataFrame, stats: dict[Any, Any], keep: list[Any], missing_values: Any,
                indicator: list[Any], dtypes: dict[Any, Any] | None) -> pd.DataFrame:
    out = {}
    for c in keep:
        col = part[c]
        mask = _missing(col.to_numpy(), missing_values)
        out[c] = col.mask(mask, stats[c])
    for c in indicator:
        out[f"missingindicator_{c}"] = _missing(part[c].to_numpy(), missing_values)
    frame = pd.DataFrame(out, index=part.index, columns=[*keep, *(f"missingindicator_{c}" for c in indicator)])
    return frame if dtypes is None else frame.astype(dtypes)


class SimpleImputer(TransformerMixin, BaseEstimator):
    """Replace missing values by a per-column statistic or a constant.

    Parameters
    ----------
    missing_values : scalar or NaN
        The marker of a missing value.
    strategy : {"mean", "median", "most_frequent", "constant"}
    fill_value : scalar, optional
        The constant of ``strategy="constant"`` (default 0 for numbers, ``"missing_value"`` for text).
    copy : bool
        Accepted for compatibility; the input is never modified.
    add_indicator : bool
        Append one indicator column per feature that had missing values in ``fit``.
    keep_empty_features : bool
        Keep features with no observed value in ``fit`` (filled with 0) instead of dropping them.

    Attributes
    ----------
    statistics_ : numpy.ndarray
    n_features_in_, feature_names_in_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``sklearn.impute.SimpleImputer`` and ``dask_ml.impute.SimpleImputer``. The median is
    exact (no approximation). Shoal DataFrames give shoal DataFrames (column dtypes kept where the
    fill value fits them), shoal arrays give lazy shoal arrays, in-memory input gives NumPy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[1.0], [np.nan], [3.0]]), chunks=2)
    >>> SimpleImputer().fit(x).transform(x).compute().ravel().tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, *, missing_values: Any = np.nan, strategy: str = "mean", fill_value: Any = None,
                 copy: bool = True, add_indicator: bool = False, keep_empty_features: bool = False) -> None:
        self.missing_values = missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.copy = copy
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    def _values(self, X: Any, who: str) -> tuple[Array | np.ndarray, bool]:
        frame = isinstance(X, sd.DataFrame | pd.DataFrame)
        x = to_lazy_array(X, who)
        if x.ndim != 2:
            raise ValueError(f"{who} expects 2-d data of (samples, features), got shape {x.shape}; reshape a single "
                             f"feature with x.reshape(-1, 1).")
        if isinstance(x, Array) and x.numblocks[1] != 1:
            x = x.rechunk({1: -1})
        return x, frame

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Learn the fill value of every column (one pass; about three for the median)."""
        if self.strategy not in _STRATEGIES:
            raise ValueError(f"SimpleImputer: strategy must be one of {_STRATEGIES}, got {self.strategy!r}.")
        x, frame = self._values(X, "SimpleImputer.fit")
        numeric = x.dtype.kind in "biuf"
        if self.strategy in ("mean", "median") and not numeric:
            raise ValueError(f"SimpleImputer: strategy={self.strategy!r} needs numeric data, got dtype {x.dtype}. "
                             f"Use strategy='most_frequent' or 'constant' for text columns.")
        lazy = x if isinstance(x, Array) else shoal.array.from_array(x, chunks=("auto", -1))
        mv = self.missing_values
        if self.strategy == "mean":
            (part,) = shoal.compute(tree_reduce(_mean_chunk, _mean_combine, [lazy], mv, name="impute-mean"))
            sums, counts = part
            with np.errstate(invalid="ignore", divide="ignore"):
                stats = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
            observed = counts > 0
        elif self.strategy == "median":
            clean = lazy.astype(np.float64)
            if not (isinstance(mv, float) and np.isnan(mv)):
                clean = clean.map_blocks(_as_nan, mv, dtype=np.float64)
            stats = column_medians(clean)
            observed = ~np.isnan(stats)
        else:
            (counts,) = shoal.compute(tree_reduce(_counts_chunk, _counts_combine, [lazy], mv, name="impute-counts"))
            observed = np.array([bool(c) for c in counts])
            if self.strategy == "most_frequent":
                stats = np.array([_most_frequent(c) for c in counts], dtype=object if not numeric else np.float64)
            else:
                fill = self.fill_value if self.fill_value is not None else (0 if numeric else "missing_value")
                if numeric and not isinstance(fill, numbers.Number):
                    raise ValueError(f"SimpleImputer: fill_value={fill!r} is not a number but X is numeric; pass a "
                                     f"numeric fill_value.")
                stats = np.full(x.shape[1], fill, dtype=np.float64 if numeric else object)
                stats[~observed] = np.nan
        if self.keep_empty_features:
            stats = np.where(observed, stats, 0)
            observed = np.ones_like(observed)
        self.statistics_ = stats if not numeric else stats.astype(np.float64)
        self._keep = np.flatnonzero(observed)
        self._numeric = numeric
        self.n_features_in_ = int(x.shape[1])
        if frame:
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.indicator_features_ = np.empty(0, dtype=np.intp)
        if self.add_indicator:
            self.indicator_features_ = self._features_with_missing(lazy)
        return self

    def _features_with_missing(self, x: Array) -> np.ndarray:
        (part,) = shoal.compute(tree_reduce(_mean_chunk, _mean_combine, [x], self.missing_values,
                                            name="impute-missing"))
        return np.flatnonzero(part[1] < x.shape[0])

    def transform(self, X: Any) -> Any:
        """``X`` with missing values filled (lazily for shoal input)."""
        _check_fitted(self, "statistics_", "transform")
        width = len(X.columns) if isinstance(X, sd.DataFrame | pd.DataFrame) else X.shape[1]
        if width != self.n_features_in_:
            raise ValueError(f"SimpleImputer.transform: X has {width} features, but fit saw {self.n_features_in_}.")
        dtype = np.float64 if self._numeric else object
        indicator = self.indicator_features_
        if len(self._keep) < self.n_features_in_:
            empty = np.setdiff1d(np.arange(self.n_features_in_), self._keep)
            # scikit-learn warns here, in transform, each time the empty features are dropped
            warnings.warn(f"Skipping features without any observed values: {empty}. At least one non-missing value "
                          f"is needed for imputation with strategy={self.strategy!r}.", UserWarning, stacklevel=2)
        if isinstance(X, sd.DataFrame):
            columns = list(X.columns)
            keep = [columns[j] for j in self._keep]
            stats = {columns[j]: self.statistics_[j] for j in self._keep}
            flags = [columns[j] for j in indicator]
            meta = _fill_frame(X._meta, stats, keep, self.missing_values, flags, None)
            dtypes = {c: np.float64 for c in keep} if self._numeric else {}
            dtypes.update({f"missingindicator_{c}": bool for c in flags})
            meta = meta.astype(dtypes)
            return X.map_partitions(_fill_frame, stats, keep, self.missing_values, flags, dtypes, meta=meta)
        x, _ = self._values(X, "SimpleImputer.transform")
        width_out = len(self._keep) + len(indicator)
        if isinstance(x, Array):
            return x.map_blocks(_fill_block, self.statistics_, self._keep, self.missing_values, indicator, dtype,
                                dtype=dtype, chunks=(x.chunks[0], (width_out,)))
        return _fill_block(x, self.statistics_, self._keep, self.missing_values, indicator, dtype)


def _as_nan(block: np.ndarray, missing_values: Any) -> np.ndarray:
    return np.where(_missing(block, missing_values), np.nan, block)

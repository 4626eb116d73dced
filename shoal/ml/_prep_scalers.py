"""Quantile-based scalers: :class:`RobustScaler` and :class:`QuantileTransformer`.

Both fit from per-column percentiles that are *exact* (:mod:`shoal.ml._prep_ranks`: a sketch pass,
usually one counting pass and one fetch pass, never gathering the data), so their fitted attributes
equal scikit-learn's (``numpy.nanpercentile`` with linear interpolation) on the same data. dask-ml
uses approximate percentiles merged from per-chunk ones here; shoal does not. Transforms are lazy,
one task per row block or partition, and return the kind of collection they are given.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shoal.ml._prep_ranks import column_percentiles, lazy_columns, sketch_columns
from shoal.ml._prep_base import _check_fitted, _nonzero_scale, _Scaler

__all__ = ["QuantileTransformer", "RobustScaler", "map_values"]

#: Distance from 0 and 1 at which the normal output is clipped (scikit-learn's constant).
_BOUNDS = 1e-7


def _map_frame(part: pd.DataFrame, func: Any, args: tuple[Any, ...]) -> pd.DataFrame:
    return pd.DataFrame(func(part.to_numpy(dtype=np.float64), *args), index=part.index, columns=part.columns)


def map_values(est: Any, X: Any, func: Any, *args: Any, method: str) -> Any:
    """``func(values, *args)`` on every row block of ``X`` (same shape, float64), as X's kind of collection."""
    _check_fitted(est, "n_features_in_", method)
    kind = est._check_input(X, method)
    width = X.shape[1] if kind != "frame" else len(X.columns)
    if width != est.n_features_in_:
        raise ValueError(f"{type(est).__name__}.{method}: X has {width} features, but it was fitted with "
                         f"{est.n_features_in_}.")
    if kind == "frame":
        return X.map_partitions(_map_frame, func, args, meta=X._meta.astype(np.float64))
    if kind == "memory":
        return func(np.asarray(X, dtype=np.float64), *args)
    x = X.astype(np.float64)
    if x.numblocks[1] != 1:
        x = x.rechunk({1: -1})
    return x.map_blocks(func, *args, dtype=np.float64)


class RobustScaler(_Scaler):
    """Center on the median and scale by a quantile range, robustly to outliers.

    Parameters
    ----------
    with_centering, with_scaling : bool
        Subtract the median; divide by the ``quantile_range``.
    quantile_range : tuple (q_min, q_max)
        Percentiles, ``0 <= q_min <= q_max <= 100``.
    copy : bool
        Accepted for compatibility; transforms never modify their input.
    unit_variance : bool
        Scale so that normally distributed features get variance 1.

    Attributes
    ----------
    center_, scale_ : numpy.ndarray or None
    n_features_in_, feature_names_in_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``sklearn.preprocessing.RobustScaler`` and ``dask_ml.preprocessing.RobustScaler``. The
    median and percentiles are exact (dask-ml's are approximate): ``fit`` equals scikit-learn's on
    the same data. NaNs are ignored in ``fit`` and kept by ``transform``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[1.0], [2.0], [3.0], [4.0], [100.0]]), chunks=2)
    >>> s = RobustScaler().fit(x)
    >>> s.center_.tolist(), s.scale_.tolist()
    ([3.0], [2.0])
    """

    def __init__(self, *, with_centering: bool = True, with_scaling: bool = True,
                 quantile_range: tuple[float, float] = (25.0, 75.0), copy: bool = True,
                 unit_variance: bool = False) -> None:
        self.with_centering = with_centering
        self.with_scaling = with_scaling
        self.quantile_range = quantile_range
        self.copy = copy
        self.unit_variance = unit_variance

    def fit(self, X: Any, y: Any = None) -> RobustScaler:
        """Compute the exact median and quantile range of every column (about three passes)."""
        q_min, q_max = self.quantile_range
        if not 0 <= q_min <= q_max <= 100:
            raise ValueError(f"Invalid quantile range: {self.quantile_range!r}; pass (q_min, q_max) with "
                             f"0 <= q_min <= q_max <= 100, e.g. (25.0, 75.0).")
        kind = self._check_input(X, "fit")
        x = lazy_columns(X, "RobustScaler.fit")
        sketch = sketch_columns(x)
        q = column_percentiles(x, np.array([50.0, q_min, q_max]), counts=sketch["count"], sketch=sketch["samples"])
        self._record_input(X, kind, sketch["count"])
        del self.n_samples_seen_  # scikit-learn's RobustScaler does not record it
        self.center_ = q[0] if self.with_centering else None
        if self.with_scaling:
            scale = _nonzero_scale(q[2] - q[1])
            if self.unit_variance:
                scale = scale / (stats.norm.ppf(q_max / 100.0) - stats.norm.ppf(q_min / 100.0))
            self.scale_ = scale
        else:
            self.scale_ = None
        return self

    def _parameters(self) -> tuple[np.ndarray, np.ndarray]:
        width = self.n_features_in_
        shift = self.center_ if self.center_ is not None else np.zeros(width)
        scale = self.scale_ if self.scale_ is not None else np.ones(width)
        return shift, scale

    def transform(self, X: Any) -> Any:
        """``(X - center_) / scale_``, lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "transform")
        shift, scale = self._parameters()
        return self._affine(X, shift, scale, multiply=False, method="transform")

    def inverse_transform(self, X: Any) -> Any:
        """``X * scale_ + center_``, lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "inverse_transform")
        shift, scale = self._parameters()
        return self._affine(X, shift, scale, multiply=True, method="inverse_transform")


def _quantile_map(x: np.ndarray, quantiles: np.ndarray, references: np.ndarray, normal: bool,
                  inverse: bool) -> np.ndarray:
    """Each column through its empirical CDF (or back), as scikit-learn's ``QuantileTransformer`` maps it."""
    out = np.array(x, dtype=np.float64)
    for j in range(out.shape[1]):
        out[:, j] = _quantile_map_column(out[:, j], quantiles[:, j], references, normal, inverse)
    return out


def _quantile_map_column(col: np.ndarray, q: np.ndarray, ref: np.ndarray, normal: bool, inverse: bool) -> np.ndarray:
    low_x, high_x, low_y, high_y = (0.0, 1.0, q[0], q[-1]) if inverse else (q[0], q[-1], 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        if inverse and normal:
            col = stats.norm.cdf(col)
        if normal:
            at_low, at_high = col - _BOUNDS < low_x, col + _BOUNDS > high_x
        else:
            at_low, at_high = col == low_x, col == high_x
    finite = ~np.isnan(col)
    values = col[finite]
    if inverse:
        col[finite] = np.interp(values, ref, q)
    else:
        # Interpolate upwards and downwards and average, so that a run of equal quantiles maps to the
        # middle of its references instead of one end.
        col[finite] = 0.5 * (np.interp(values, q, ref) - np.interp(-values, -q[::-1], -ref[::-1]))
    col[at_high] = high_y
    col[at_low] = low_y
    if normal and not inverse:
        with np.errstate(invalid="ignore"):
            col = stats.norm.ppf(col)
            edge = _BOUNDS - np.spacing(1)
            col = np.clip(col, stats.norm.ppf(edge), stats.norm.ppf(1 - edge))
    return col


class QuantileTransformer(_Scaler):
    """Map each feature through its empirical CDF to a uniform or normal distribution.

    Parameters
    ----------
    n_quantiles : int
        Landmarks of the CDF (at most the number of samples).
    output_distribution : {"uniform", "normal"}
    ignore_implicit_zeros : bool
        Only meaningful for sparse input, which shoal does not take; accepted for compatibility.
    subsample : int or None
        Accepted for compatibility: shoal computes the quantiles exactly over every row, which is
        scikit-learn's ``subsample=None`` (the two agree whenever ``n_samples <= subsample``).
    random_state : int, RandomState or None
        Unused (no subsampling); accepted for compatibility.
    copy : bool
        Accepted for compatibility; transforms never modify their input.

    Attributes
    ----------
    n_quantiles_ : int
    quantiles_ : numpy.ndarray of shape (n_quantiles_, n_features)
    references_ : numpy.ndarray of shape (n_quantiles_,)
    n_features_in_, feature_names_in_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``sklearn.preprocessing.QuantileTransformer`` and ``dask_ml.preprocessing.QuantileTransformer``,
    with exact quantiles (dask-ml's are approximate).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(5.0).reshape(-1, 1), chunks=2)
    >>> QuantileTransformer(n_quantiles=5).fit(x).transform(x).compute().ravel().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """

    def __init__(self, *, n_quantiles: int = 1000, output_distribution: str = "uniform",
                 ignore_implicit_zeros: bool = False, subsample: int | None = 10_000, random_state: Any = None,
                 copy: bool = True) -> None:
        self.n_quantiles = n_quantiles
        self.output_distribution = output_distribution
        self.ignore_implicit_zeros = ignore_implicit_zeros
        self.subsample = subsample
        self.random_state = random_state
        self.copy = copy

    def fit(self, X: Any, y: Any = None) -> QuantileTransformer:
        """Compute ``n_quantiles`` exact quantiles of every column."""
        if not (isinstance(self.n_quantiles, int | np.integer) and self.n_quantiles >= 1):
            raise ValueError(f"QuantileTransformer: n_quantiles must be an int >= 1, got {self.n_quantiles!r}.")
        if self.output_distribution not in ("uniform", "normal"):
            raise ValueError(f"QuantileTransformer: output_distribution must be 'uniform' or 'normal', got "
                             f"{self.output_distribution!r}.")
        kind = self._check_input(X, "fit")
        x = lazy_columns(X, "QuantileTransformer.fit")
        sketch = sketch_columns(x)
        if self.n_quantiles > sketch["rows"]:
            warnings.warn(f"n_quantiles ({self.n_quantiles}) is greater than the total number of samples "
                          f"({sketch['rows']}). n_quantiles is set to n_samples.", UserWarning, stacklevel=2)
        self.n_quantiles_ = max(1, min(int(self.n_quantiles), int(sketch["rows"])))
        self.references_ = np.linspace(0, 1, self.n_quantiles_, endpoint=True)
        quantiles = column_percentiles(x, self.references_ * 100, counts=sketch["count"], sketch=sketch["samples"])
        # Interpolation rounding can make neighbouring quantiles decrease; scikit-learn forces them monotone.
        self.quantiles_ = np.maximum.accumulate(quantiles)
        self._record_input(X, kind, sketch["count"])
        del self.n_samples_seen_
        return self

    def transform(self, X: Any) -> Any:
        """Every feature mapped to ``output_distribution`` (lazily for shoal collections)."""
        _check_fitted(self, "quantiles_", "transform")
        return map_values(self, X, _quantile_map, self.quantiles_, self.references_,
                          self.output_distribution == "normal", False, method="transform")

    def inverse_transform(self, X: Any) -> Any:
        """Back from ``output_distribution`` to the data's scale (lazily for shoal collections)."""
        _check_fitted(self, "quantiles_", "inverse_transform")
        return map_values(self, X, _quantile_map, self.quantiles_, self.references_,
                          self.output_distribution == "normal", True, method="inverse_transform")

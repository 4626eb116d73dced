"""Helpers shared by the preprocessing transformers (:mod:`shoal.ml.preprocessing` and ``_prep_*``).

- Input kinds: a transformer sees a shoal array, a shoal dataframe, or in-memory NumPy/pandas data
  (``_Scaler._check_input``), and returns the same kind of collection.
- :class:`_Scaler`: the per-column affine transform ``x * a + b`` behind the scalers, lazily applied
  one row block (or partition) at a time, with the one-pass column statistics that fit them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

import shoal.array as sa
import shoal.dataframe as sd
from shoal.base import compute

__all__ = ["_Scaler", "_affine_frame", "_as_float_frame", "_check_fitted", "_frame_meta", "_is_shoal_frame",
           "_is_text", "_nonzero_scale"]


def _is_shoal_frame(X: Any) -> bool:
    return isinstance(X, sd.DataFrame)


def _frame_meta(X: Any, who: str) -> pd.DataFrame:
    """The (empty) pandas frame describing ``X``; a clear error for anything but a DataFrame."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[:0]
    if _is_shoal_frame(X):
        return X._meta
    raise TypeError(f"{who} expects a pandas or shoal DataFrame, got {type(X).__name__}. Wrap arrays first, "
                    f"e.g. shoal.dataframe.from_pandas(pd.DataFrame(x), npartitions=...).")


def _fitted_frame_meta(est: Any, X: Any, who: str) -> pd.DataFrame:
    """``X``'s meta for ``transform`` of a frame encoder fitted on columns ``est.dtypes_.index``."""
    _check_fitted(est, "columns_", "transform")
    meta = _frame_meta(X, who)
    if not meta.columns.equals(est.dtypes_.index):
        raise ValueError(f"{who}: X has columns {list(meta.columns)}, but fit saw {list(est.dtypes_.index)}.")
    return meta


def _check_fitted(est: Any, attr: str, method: str) -> None:
    if not hasattr(est, attr):
        raise NotFittedError(f"This {type(est).__name__} is not fitted yet: call fit(X) before {method}(X).")


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)




def _as_float_frame(part: pd.DataFrame) -> pd.DataFrame:
    return part.astype(np.float64)


def _affine_frame(part: pd.DataFrame, shift: np.ndarray, scale: np.ndarray, multiply: bool,
                  clip: tuple[float, float] | None) -> pd.DataFrame:
    values = part.to_numpy(dtype=np.float64)
    values = values * scale + shift if multiply else (values - shift) / scale
    if clip is not None:
        values = np.clip(values, *clip)
    return pd.DataFrame(values, index=part.index, columns=part.columns)


class _Scaler(TransformerMixin, BaseEstimator):
    """An affine per-column transform ``x * a + b`` fitted from column statistics."""

    def _check_input(self, X: Any, method: str) -> str:
        if isinstance(X, sa.Array):
            if X.ndim != 2:
                raise ValueError(f"{type(self).__name__}.{method} expects a 2-d array of (samples, features), "
                                 f"got {X.ndim} dimensions; reshape it, e.g. x.reshape(-1, 1).")
            return "array"
        if _is_shoal_frame(X):
            return "frame"
        if isinstance(X, np.ndarray | pd.DataFrame | list):
            return "memory"
        raise TypeError(f"{type(self).__name__}.{method} expects a shoal Array or DataFrame, or NumPy/pandas "
                        f"data, got {type(X).__name__}.")

    def _statistics(self, X: Any, kind: str, names: list[str]) -> dict[str, np.ndarray]:
        """``nan``-ignoring column statistics, all computed in one pass."""
        if kind == "memory":
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2:
                raise ValueError(f"{type(self).__name__}.fit expects 2-d data of (samples, features), got "
                                 f"{X.ndim} dimensions.")
            lazy = {n: getattr(self, f"_stat_{n}")(np, X) for n in names}
            lazy["count"] = (~np.isnan(X)).sum(axis=0)
            lazy["rows"] = X.shape[0]
            return {k: np.asarray(v, dtype=np.float64) for k, v in lazy.items()}
        if kind == "frame":
            X = X.map_partitions(_as_float_frame, meta=X._meta.astype(np.float64)).to_dask_array(lengths=True)
        lazy = {n: getattr(self, f"_stat_{n}")(sa, X) for n in names}
        lazy["count"] = (~sa.isnan(X)).sum(axis=0)
        values = compute(*lazy.values())
        out = {k: np.asarray(v, dtype=np.float64) for k, v in zip(lazy, values, strict=True)}
        out["rows"] = np.asarray(X.shape[0])
        return out

    @staticmethod
    def _stat_mean(mod: Any, X: Any) -> Any:
        return mod.nanmean(X, axis=0)

    @staticmethod
    def _stat_var(mod: Any, X: Any) -> Any:
        return mod.nanvar(X, axis=0)

    @staticmethod
    def _stat_min(mod: Any, X: Any) -> Any:
        return mod.nanmin(X, axis=0)

    @staticmethod
    def _stat_max(mod: Any, X: Any) -> Any:
        return mod.nanmax(X, axis=0)

    def _record_input(self, X: Any, kind: str, count: np.ndarray) -> None:
        """Record ``n_features_in_``, ``n_samples_seen_`` (per-feature non-NaN counts, one int if all equal)."""
        self.n_features_in_ = int(count.shape[0])
        counts = count.astype(np.int64)
        self.n_samples_seen_ = int(counts[0]) if (counts == counts[0]).all() else counts
        if kind == "frame" or isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _affine(self, X: Any, shift: np.ndarray, scale: np.ndarray, *, multiply: bool, method: str,
                clip: tuple[float, float] | None = None) -> Any:
        """``X * scale + shift`` (``multiply``) or ``(X - shift) / scale``, as X's kind of collection."""
        _check_fitted(self, "n_features_in_", method)
        kind = self._check_input(X, method)
        width = X.shape[1] if kind != "frame" else len(X.columns)
        if width != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}.{method}: X has {width} features, but the scaler was "
                             f"fitted with {self.n_features_in_}.")
        if kind == "frame":
            return X.map_partitions(_affine_frame, shift, scale, multiply, clip, meta=X._meta.astype(np.float64))
        if kind == "memory":
            X = np.asarray(X, dtype=np.float64)
        else:
            X = X.astype(np.float64)
        out = X * scale + shift if multiply else (X - shift) / scale
        if clip is not None:
            out = sa.clip(out, *clip) if kind == "array" else np.clip(out, *clip)
        return out


def _nonzero_scale(scale: np.ndarray, constant: np.ndarray | None = None) -> np.ndarray:
    """Scale factors with near-zero (or constant-feature) entries replaced by 1, as scikit-learn does."""
    if constant is None:
        constant = scale < 10 * np.finfo(scale.dtype).eps
    scale = scale.copy()
    scale[constant] = 1.0
    return scale


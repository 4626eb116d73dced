"""Preprocessing transformers for shoal (and pandas/NumPy) data, in scikit-learn's fit/transform style.

- :class:`Categorizer`: text columns become pandas categoricals with categories learned in ``fit``.
- :class:`DummyEncoder`: categorical columns become one-hot columns, as ``pd.get_dummies``.
- :class:`StandardScaler`, :class:`MinMaxScaler`: ``fit`` is one pass of reductions over the data
  (all the statistics computed together by one ``shoal.compute``); ``transform`` and
  ``inverse_transform`` are lazy and return the kind of collection they are given (shoal array,
  shoal dataframe, or in-memory NumPy/pandas for in-memory input).
- Re-exported from ``_prep_*`` modules: :class:`RobustScaler` and :class:`QuantileTransformer` (exact
  quantiles), :class:`LabelEncoder`, :class:`OrdinalEncoder`, :class:`OneHotEncoder`,
  :class:`PolynomialFeatures` and :class:`BlockTransformer`.

Mirrors ``dask_ml.preprocessing``; see https://ml.dask.org/modules/api.html#preprocessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

import shoal.array as sa
import shoal.dataframe as sd
from shoal.ml._prep_base import (
    _check_fitted,
    _fitted_frame_meta,
    _frame_meta,
    _is_shoal_frame,
    _is_text,
    _nonzero_scale,
    _Scaler,
)
from shoal.ml._prep_encoders import LabelEncoder, OneHotEncoder, OrdinalEncoder
from shoal.ml._prep_misc import BlockTransformer, PolynomialFeatures
from shoal.ml._prep_scalers import QuantileTransformer, RobustScaler

__all__ = ["BlockTransformer", "Categorizer", "DummyEncoder", "LabelEncoder", "MinMaxScaler", "OneHotEncoder",
           "OrdinalEncoder", "PolynomialFeatures", "QuantileTransformer", "RobustScaler", "StandardScaler"]


# ---------------------------------------------------------------------- categoricals


class Categorizer(TransformerMixin, BaseEstimator):
    """Convert text columns of a DataFrame to categoricals, with categories learned in ``fit``.

    Parameters
    ----------
    categories : mapping, optional
        ``{column: pandas.CategoricalDtype or list of categories}``: use these instead of learning them.
    columns : sequence, optional
        The columns to convert; by default every object/string column (and categorical columns keep
        their own categories).

    Attributes
    ----------
    columns_ : pandas.Index
        The converted columns.
    categories_ : dict
        ``{column: pandas.CategoricalDtype}``.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.Categorizer``; on shoal frames ``fit`` calls
    ``DataFrame.categorize`` (one pass over the data) and ``transform`` is lazy.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1, 2, 3], "s": ["b", "a", "b"]})
    >>> Categorizer().fit_transform(df).s.cat.categories.tolist()
    ['a', 'b']
    """

    def __init__(self, categories: Mapping[Any, Any] | None = None, columns: Sequence[Any] | None = None) -> None:
        self.categories = categories
        self.columns = columns

    def fit(self, X: Any, y: Any = None) -> Categorizer:
        """Learn the categories of each column (computes the distinct values of shoal frames now)."""
        meta = _frame_meta(X, "Categorizer.fit")
        if self.categories is not None:
            categories = {c: v if isinstance(v, pd.CategoricalDtype) else pd.CategoricalDtype(v)
                          for c, v in self.categories.items()}
        else:
            columns = list(self.columns) if self.columns is not None else [
                c for c in meta.columns if _is_text(meta.dtypes[c]) or isinstance(meta.dtypes[c], pd.CategoricalDtype)]
            missing = [c for c in columns if c not in meta.columns]
            if missing:
                raise KeyError(f"Categorizer(columns=...) names {missing}, which X does not have; its columns "
                               f"are {list(meta.columns)}.")
            if _is_shoal_frame(X):
                text = [c for c in columns if not isinstance(meta.dtypes[c], pd.CategoricalDtype)]
                learned = X.categorize(columns=text)._meta if text else meta
                # pandas infers the categories' own dtype (str for text) when it casts a column;
                # re-infer it here so shoal and pandas input give equal dtypes
                categories = {c: pd.CategoricalDtype(pd.Index(learned.dtypes[c].categories.tolist()))
                              if c in text else meta.dtypes[c] for c in columns}
            else:
                categories = {c: X[c].dtype if isinstance(X[c].dtype, pd.CategoricalDtype)
                              else X[c].astype("category").dtype for c in columns}
        self.columns_ = pd.Index(list(categories))
        self.categories_ = categories
        return self

    def transform(self, X: Any, y: Any = None) -> Any:
        """``X`` with the fitted columns cast to their categoricals (lazily for shoal frames)."""
        _check_fitted(self, "categories_", "transform")
        meta = _frame_meta(X, "Categorizer.transform")
        missing = [c for c in self.columns_ if c not in meta.columns]
        if missing:
            raise KeyError(f"Categorizer.transform: X lacks the columns {missing} seen in fit.")
        return X.astype(dict(self.categories_))


class DummyEncoder(TransformerMixin, BaseEstimator):
    """One-hot encode the categorical columns of a DataFrame, as ``pandas.get_dummies``.

    Parameters
    ----------
    columns : sequence, optional
        Categorical columns to encode; by default all categorical columns.
    drop_first : bool
        Leave out each column's first category.

    Attributes
    ----------
    columns_, categorical_columns_, non_categorical_columns_ : pandas.Index
    categories_ : dict
        ``{column: pandas.CategoricalDtype}`` as seen in ``fit``.
    dtypes_ : pandas.Series
        The input's dtypes, for ``inverse_transform``.
    transformed_columns_ : pandas.Index
        The output's columns.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.DummyEncoder``. Encode text columns with :class:`Categorizer`
    first: shoal frames need known categories so that every partition gets the same columns.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1, 2], "s": pd.Categorical(["b", "a"])})
    >>> DummyEncoder().fit_transform(df).columns.tolist()
    ['x', 's_a', 's_b']
    """

    def __init__(self, columns: Sequence[Any] | None = None, drop_first: bool = False) -> None:
        self.columns = columns
        self.drop_first = drop_first

    def fit(self, X: Any, y: Any = None) -> DummyEncoder:
        """Record the categorical columns, their categories and the output's columns."""
        meta = _frame_meta(X, "DummyEncoder.fit")
        if self.columns is None:
            columns = [c for c in meta.columns if isinstance(meta.dtypes[c], pd.CategoricalDtype)]
        else:
            columns = list(self.columns)
        for c in columns:
            if c not in meta.columns:
                raise KeyError(f"DummyEncoder(columns=...) names {c!r}, which X does not have.")
            if not isinstance(meta.dtypes[c], pd.CategoricalDtype):
                raise ValueError(f"DummyEncoder: column {c!r} has dtype {meta.dtypes[c]}, not category. Convert "
                                 f"it first with Categorizer (or df.categorize()).")
        self.columns_ = pd.Index(columns)
        self.categorical_columns_ = pd.Index(columns)
        self.non_categorical_columns_ = meta.columns.drop(columns)
        self.categories_ = {c: meta.dtypes[c] for c in columns}
        self.dtypes_ = meta.dtypes
        self.transformed_columns_ = pd.get_dummies(meta, columns=columns, drop_first=self.drop_first).columns
        return self

    def transform(self, X: Any, y: Any = None) -> Any:
        """The one-hot encoded frame (lazily for shoal frames)."""
        _fitted_frame_meta(self, X, "DummyEncoder.transform")  # fitted, and the columns fit saw
        X = X.astype(self.categories_)  # the categories seen in fit decide the output columns
        columns = list(self.columns_)
        if _is_shoal_frame(X):
            return sd.get_dummies(X, columns=columns, drop_first=self.drop_first)
        return pd.get_dummies(X, columns=columns, drop_first=self.drop_first)

    def inverse_transform(self, X: Any) -> Any:
        """The categorical frame back from its dummies (a NumPy array is read as ``transformed_columns_``)."""
        _check_fitted(self, "columns_", "inverse_transform")
        if isinstance(X, np.ndarray):
            X = pd.DataFrame(X, columns=self.transformed_columns_)
        if isinstance(X, sa.Array):
            X = sd.from_dask_array(X, columns=list(self.transformed_columns_))
        if _is_shoal_frame(X):
            meta = self._undummy(X._meta)
            return X.map_partitions(self._undummy, meta=meta)
        if isinstance(X, pd.DataFrame):
            return self._undummy(X)
        raise TypeError(f"DummyEncoder.inverse_transform expects a DataFrame or array of the encoded columns, "
                        f"got {type(X).__name__}.")

    def _undummy(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for col in self.dtypes_.index:
            if col not in self.categories_:
                out[col] = frame[col]
                continue
            cats = self.categories_[col].categories
            kept = cats[1:] if self.drop_first else cats
            names = [f"{col}_{c}" for c in kept]
            values = frame[names].to_numpy(dtype=np.float64) if names else np.zeros((len(frame), 0))
            codes = values.argmax(axis=1) if values.shape[1] else np.zeros(len(frame), dtype=int)
            if self.drop_first:
                codes = np.where(values.any(axis=1), codes + 1, 0) if values.shape[1] else codes
            out[col] = pd.Categorical.from_codes(codes, dtype=self.categories_[col])
        return pd.DataFrame(out, index=frame.index).astype(self.dtypes_.to_dict())


# ---------------------------------------------------------------------- scalers

class StandardScaler(_Scaler):
    """Standardize features: subtract the mean, divide by the standard deviation.

    Parameters
    ----------
    copy : bool
        Accepted for scikit-learn compatibility; transforms never modify their input.
    with_mean, with_std : bool
        Center, and scale to unit variance.

    Attributes
    ----------
    mean_, var_, scale_ : numpy.ndarray or None
        Per-feature mean, (population) variance and scale; NaNs are ignored, as scikit-learn does.
    n_samples_seen_ : int or numpy.ndarray
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray (DataFrame input only)

    Notes
    -----
    Mirrors ``sklearn.preprocessing.StandardScaler`` and ``dask_ml.preprocessing.StandardScaler``:
    ``fit`` computes the mean and variance of all columns in one pass; ``transform`` is lazy for
    shoal collections and returns the same kind of collection.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0.0, 1.0], [2.0, 3.0]]), chunks=1)
    >>> StandardScaler().fit(x).transform(x).compute()
    array([[-1., -1.],
           [ 1.,  1.]])
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True) -> None:
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> StandardScaler:
        """Compute the per-feature mean and variance in one pass over ``X``."""
        kind = self._check_input(X, "fit")
        stats = self._statistics(X, kind, ["mean", "var"] if self.with_std else ["mean"])
        self._record_input(X, kind, stats["count"])
        mean = stats["mean"]
        self.mean_ = mean if self.with_mean else None
        if self.with_std:
            var = stats["var"]
            n = stats["count"]
            eps = np.finfo(np.float64).eps
            # scikit-learn's test for a constant feature: its variance is within rounding error of 0
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.var_ = var
            self.scale_ = _nonzero_scale(np.sqrt(var), constant)
        else:
            self.var_ = None
            self.scale_ = None
        return self

    def _parameters(self) -> tuple[np.ndarray, np.ndarray]:
        width = self.n_features_in_
        shift = self.mean_ if self.mean_ is not None else np.zeros(width)
        scale = self.scale_ if self.scale_ is not None else np.ones(width)
        return shift, scale

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """``(X - mean_) / scale_``, lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "transform")
        shift, scale = self._parameters()
        return self._affine(X, shift, scale, multiply=False, method="transform")

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """``X * scale_ + mean_``, lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "inverse_transform")
        shift, scale = self._parameters()
        return self._affine(X, shift, scale, multiply=True, method="inverse_transform")


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range`` using its minimum and maximum.

    Parameters
    ----------
    feature_range : tuple (min, max)
    copy : bool
        Accepted for scikit-learn compatibility; transforms never modify their input.
    clip : bool
        Clip transformed values to ``feature_range`` (for data outside the fitted range).

    Attributes
    ----------
    data_min_, data_max_, data_range_, scale_, min_ : numpy.ndarray
    n_samples_seen_, n_features_in_, feature_names_in_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``sklearn.preprocessing.MinMaxScaler`` and ``dask_ml.preprocessing.MinMaxScaler``;
    ``fit`` computes every column's min and max in one pass.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0.0], [5.0], [10.0]]), chunks=2)
    >>> MinMaxScaler().fit(x).transform(x).compute().ravel().tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True, clip: bool = False) -> None:
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Compute the per-feature minimum and maximum in one pass over ``X``."""
        low, high = self.feature_range
        if not low < high:
            raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got "
                             f"{self.feature_range!r}; pass e.g. feature_range=(0, 1).")
        kind = self._check_input(X, "fit")
        stats = self._statistics(X, kind, ["min", "max"])
        self._record_input(X, kind, stats["count"])
        self.n_samples_seen_ = int(stats["rows"])  # scikit-learn counts rows here, NaN or not
        self.data_min_, self.data_max_ = stats["min"], stats["max"]
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _nonzero_scale(self.data_range_)
        self.min_ = low - self.data_min_ * self.scale_
        return self

    def transform(self, X: Any) -> Any:
        """``X * scale_ + min_`` (clipped with ``clip=True``), lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "transform")
        clip = tuple(self.feature_range) if self.clip else None
        return self._affine(X, self.min_, self.scale_, multiply=True, method="transform", clip=clip)  # type: ignore

    def inverse_transform(self, X: Any) -> Any:
        """``(X - min_) / scale_``, lazily for shoal collections."""
        _check_fitted(self, "n_features_in_", "inverse_transform")
        return self._affine(X, self.min_, self.scale_, multiply=False, method="inverse_transform")

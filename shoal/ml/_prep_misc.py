"""Block-wise transformers: :class:`PolynomialFeatures` and :class:`BlockTransformer`.

Neither needs a pass over the data to fit: each row block (or partition) is transformed on its own,
one task per block, with no communication between blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import PolynomialFeatures as _SkPolynomialFeatures

import shoal.dataframe as sd
from shoal.array import Array
from shoal.ml._prep_base import _check_fitted, _is_shoal_frame

__all__ = ["BlockTransformer", "PolynomialFeatures"]


def _poly_block(block: Any, est: _SkPolynomialFeatures) -> np.ndarray:
    return np.asarray(est.transform(block))


def _poly_frame(part: pd.DataFrame, est: _SkPolynomialFeatures) -> pd.DataFrame:
    return pd.DataFrame(est.transform(part), index=part.index, columns=est.get_feature_names_out())


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Polynomial and interaction features of degree at most ``degree``, block by block.

    Parameters
    ----------
    degree : int or tuple (min_degree, max_degree)
    interaction_only : bool
        Only products of distinct features.
    include_bias : bool
        Add a column of ones.
    order : {"C", "F"}
        Memory layout of the dense output blocks.
    preserve_dataframe : bool
        For a shoal DataFrame, return a shoal DataFrame (columns named as
        ``get_feature_names_out()``) instead of a shoal array.

    Attributes
    ----------
    powers_ : numpy.ndarray
    n_features_in_, n_output_features_ : int

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.PolynomialFeatures``: every block goes through a fitted
    ``sklearn.preprocessing.PolynomialFeatures``, so the output equals scikit-learn's.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[2.0, 3.0]]), chunks=1)
    >>> PolynomialFeatures(degree=2).fit(x).transform(x).compute().tolist()
    [[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]]
    """

    def __init__(self, degree: int | tuple[int, int] = 2, interaction_only: bool = False, include_bias: bool = True,
                 order: str = "C", preserve_dataframe: bool = False) -> None:
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order
        self.preserve_dataframe = preserve_dataframe

    def fit(self, X: Any, y: Any = None) -> PolynomialFeatures:
        """Work out the output columns from the number of input columns (no pass over the data)."""
        est = _SkPolynomialFeatures(degree=self.degree, interaction_only=self.interaction_only,
                                    include_bias=self.include_bias, order=self.order)
        if _is_shoal_frame(X):
            sample = X._meta.iloc[:0]
            sample = pd.DataFrame(np.zeros((1, len(sample.columns))), columns=sample.columns)
        else:
            width = X.shape[1] if getattr(X, "ndim", 2) == 2 else None
            if width is None:
                raise ValueError(f"PolynomialFeatures expects 2-d data of (samples, features), got shape {X.shape}; "
                                 f"reshape a single feature with x.reshape(-1, 1).")
            sample = X.iloc[:1] if isinstance(X, pd.DataFrame) else np.zeros((1, width))
        self._est = est.fit(sample)
        self.powers_ = est.powers_
        self.n_features_in_ = est.n_features_in_
        self.n_output_features_ = est.n_output_features_
        if hasattr(est, "feature_names_in_"):
            self.feature_names_in_ = est.feature_names_in_
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns, as scikit-learn's."""
        _check_fitted(self, "powers_", "get_feature_names_out")
        return self._est.get_feature_names_out(input_features)  # type: ignore[no-any-return]

    def transform(self, X: Any) -> Any:
        """The polynomial features of every row (lazy for shoal input)."""
        _check_fitted(self, "powers_", "transform")
        width = len(X.columns) if _is_shoal_frame(X) else X.shape[1]
        if width != self.n_features_in_:
            raise ValueError(f"PolynomialFeatures.transform: X has {width} features, but fit saw "
                             f"{self.n_features_in_}.")
        if _is_shoal_frame(X):
            names = list(self._est.get_feature_names_out())
            meta = pd.DataFrame(np.empty((0, len(names))), columns=names)
            out = X.map_partitions(_poly_frame, self._est, meta=meta)
            return out if self.preserve_dataframe else out.to_dask_array()
        if isinstance(X, Array):
            x = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
            return x.map_blocks(_poly_block, self._est, dtype=np.float64,
                                chunks=(x.chunks[0], (self.n_output_features_,)))
        out = self._est.transform(X)
        if self.preserve_dataframe and isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=self._est.get_feature_names_out())
        return out


class BlockTransformer(TransformerMixin, BaseEstimator):
    """Apply ``func(block, **kw_args)`` to every block of an array or partition of a dataframe.

    Parameters
    ----------
    func : callable
        Takes a NumPy block (or pandas partition) and returns one with as many rows.
    validate : bool
        Check that the input is a 2-d array (of numbers) before transforming.
    **kw_args
        Passed to ``func``.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.BlockTransformer`` (a block-wise
    ``sklearn.preprocessing.FunctionTransformer``): ``fit`` does nothing, ``transform`` is
    ``map_blocks`` / ``map_partitions``, with the output's metadata from ``func`` on an empty block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([[0.26, 1.5], [2.75, 3.0]]), chunks=1)
    >>> BlockTransformer(np.round, decimals=1).transform(x).compute().tolist()
    [[0.3, 1.5], [2.8, 3.0]]
    """

    def __init__(self, func: Callable[..., Any], *, validate: bool = False, **kw_args: Any) -> None:
        self.func = func
        self.validate = validate
        self.kw_args = kw_args

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, ``kw_args`` included (so ``clone`` rebuilds the same transformer)."""
        return {"func": self.func, "validate": self.validate, **self.kw_args}

    def set_params(self, **params: Any) -> BlockTransformer:
        """Set ``func``, ``validate`` or any of ``kw_args``."""
        for key, value in params.items():
            if key in ("func", "validate"):
                setattr(self, key, value)
            else:
                self.kw_args[key] = value
        return self

    def fit(self, X: Any, y: Any = None) -> BlockTransformer:
        """Nothing to learn; checks the input with ``validate=True``."""
        self._check(X)
        return self

    def _check(self, X: Any) -> None:
        if not callable(self.func):
            raise TypeError(f"BlockTransformer: func must be callable, got {self.func!r}.")
        if self.validate:
            dtype = getattr(X, "dtype", None) if not _is_shoal_frame(X) and not isinstance(X, pd.DataFrame) else None
            if getattr(X, "ndim", None) != 2 or (dtype is not None and np.dtype(dtype).kind not in "biufc"):
                raise ValueError(f"BlockTransformer(validate=True) expects a 2-d array of numbers, got "
                                 f"{type(X).__name__} with shape {getattr(X, 'shape', None)}.")

    def transform(self, X: Any) -> Any:
        """``func`` applied to every block (lazy for shoal input)."""
        self._check(X)
        if isinstance(X, Array):
            return X.map_blocks(self.func, **self.kw_args)
        if isinstance(X, sd.DataFrame | sd.Series):
            return X.map_partitions(self.func, **self.kw_args)
        return self.func(X, **self.kw_args)

"""Category encoders: :class:`LabelEncoder`, :class:`OrdinalEncoder` and :class:`OneHotEncoder`.

Categories come either from pandas categorical dtypes (known without a pass over the data: shoal
dataframes must have them, as in dask-ml) or from one tree reduction of per-block ``numpy.unique``
(arrays). Encoding is then one task per row block or partition, with no further pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

import shoal
import shoal.dataframe as sd
from shoal.array import Array
from shoal.base import is_dask_collection
from shoal.ml._est_blocks import tree_reduce
from shoal.ml._prep_base import _check_fitted, _fitted_frame_meta, _frame_meta, _is_shoal_frame

__all__ = ["LabelEncoder", "OneHotEncoder", "OrdinalEncoder", "block_uniques"]


def _unique_chunk(block: np.ndarray) -> list[np.ndarray]:
    block = np.asarray(block)
    if block.ndim == 1:
        block = block[:, None]
    return [np.unique(block[:, j]) for j in range(block.shape[1])]


def _unique_combine(parts: list[list[np.ndarray]]) -> list[np.ndarray]:
    return [np.unique(np.concatenate([p[j] for p in parts])) for j in range(len(parts[0]))]


def block_uniques(x: Array) -> list[np.ndarray]:
    """Sorted distinct values of every column of ``x`` (1-D: one column), in one tree reduction."""
    if x.ndim == 2 and x.numblocks[1] != 1:
        x = x.rechunk({1: -1})
    (out,) = shoal.compute(tree_reduce(_unique_chunk, _unique_combine, [x], name="ml-unique"))
    return out  # type: ignore[no-any-return]


def _codes(values: np.ndarray, classes: np.ndarray, where: str) -> np.ndarray:
    """Positions of ``values`` in sorted ``classes``; a ValueError names the unseen labels."""
    values = np.asarray(values)
    pos = np.searchsorted(classes, values)
    clipped = np.minimum(pos, max(len(classes) - 1, 0))
    bad = (pos >= len(classes)) | (classes[clipped] != values) if len(classes) else np.ones(len(values), bool)
    if bad.any():
        raise ValueError(f"{where} contains previously unseen labels: {np.unique(values[bad])[:10].tolist()}. "
                         f"Fit on data that includes them, or drop those rows.")
    return pos.astype(np.intp)


# ---------------------------------------------------------------------- LabelEncoder


def _label_codes(block: Any, classes: np.ndarray) -> np.ndarray:
    return _codes(np.asarray(block), classes, "y")


def _label_values(block: Any, classes: np.ndarray) -> np.ndarray:
    codes = np.asarray(block)
    if len(codes) and (codes.min() < 0 or codes.max() >= len(classes)):
        raise ValueError(f"y contains codes outside [0, {len(classes)}): cannot map them back to labels.")
    return classes[codes]


class LabelEncoder(TransformerMixin, BaseEstimator):
    """Encode target labels as integers ``0 .. n_classes - 1``.

    Parameters
    ----------
    use_categorical : bool
        For a categorical (pandas or shoal) Series, take ``classes_`` from its categories (in their
        order, no pass over the data) instead of the sorted distinct values.

    Attributes
    ----------
    classes_ : numpy.ndarray
    dtype_ : pandas.CategoricalDtype or None
        The categorical dtype ``classes_`` came from.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.LabelEncoder`` (and ``sklearn.preprocessing.LabelEncoder``):
    ``fit`` on a shoal array or series is one tree reduction of per-block uniques; ``transform``
    and ``inverse_transform`` are lazy shoal arrays for shoal input.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> y = sa.from_array(np.array(["b", "a", "c", "a"]), chunks=2)
    >>> le = LabelEncoder().fit(y)
    >>> le.classes_.tolist(), le.transform(y).compute().tolist()
    (['a', 'b', 'c'], [1, 0, 2, 0])
    """

    def __init__(self, use_categorical: bool = True) -> None:
        self.use_categorical = use_categorical

    def fit(self, y: Any) -> LabelEncoder:
        """Learn the classes of ``y``."""
        dtype = getattr(y, "dtype", None)
        if self.use_categorical and isinstance(dtype, pd.CategoricalDtype):
            self.classes_ = np.asarray(dtype.categories)
            self.dtype_ = dtype
            return self
        self.dtype_ = None
        if is_dask_collection(y):
            arr = y.to_dask_array() if hasattr(y, "to_dask_array") else y
            if arr.ndim != 1:
                raise ValueError(f"LabelEncoder expects a 1-d y, got shape {arr.shape}; use OrdinalEncoder for "
                                 f"2-d data.")
            self.classes_ = block_uniques(arr)[0]
        else:
            values = np.asarray(y)
            if values.ndim != 1:
                raise ValueError(f"LabelEncoder expects a 1-d y, got shape {values.shape}.")
            self.classes_ = np.unique(values)
        return self

    def fit_transform(self, y: Any) -> Any:  # type: ignore[override]
        """``fit(y)`` then ``transform(y)``."""
        return self.fit(y).transform(y)

    def _apply(self, y: Any, func: Any, dtype: Any) -> Any:
        if isinstance(y, sd.Series):
            y = y.to_dask_array()
        if isinstance(y, Array):
            return y.map_blocks(func, self.classes_, dtype=dtype)
        return func(np.asarray(y), self.classes_)

    def transform(self, y: Any) -> Any:
        """The integer code of every label (a lazy shoal array for shoal input)."""
        _check_fitted(self, "classes_", "transform")
        if self.dtype_ is not None and isinstance(getattr(y, "dtype", None), pd.CategoricalDtype):
            if isinstance(y, sd.Series):
                return y.astype(self.dtype_).cat.codes.to_dask_array()
            return np.asarray(pd.Series(y).astype(self.dtype_).cat.codes)
        return self._apply(y, _label_codes, np.intp)

    def inverse_transform(self, y: Any) -> Any:
        """The labels of integer codes (lazy for shoal input)."""
        _check_fitted(self, "classes_", "inverse_transform")
        return self._apply(y, _label_values, self.classes_.dtype)


# ---------------------------------------------------------------------- OrdinalEncoder


class OrdinalEncoder(TransformerMixin, BaseEstimator):
    """Replace the categorical columns of a DataFrame by their integer codes.

    Parameters
    ----------
    columns : sequence, optional
        Categorical columns to encode; by default every categorical column.

    Attributes
    ----------
    columns_, categorical_columns_, non_categorical_columns_ : pandas.Index
    categories_ : dict
        ``{column: pandas.CategoricalDtype}`` as seen in ``fit``.
    dtypes_ : pandas.Series
        The input's dtypes, for ``inverse_transform``.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.OrdinalEncoder``: codes are the positions in each column's
    categories (missing values become -1), as ``sklearn.preprocessing.OrdinalEncoder`` with
    ``categories=[dtype.categories, ...]`` gives them; no pass over the data. Convert text columns
    with :class:`Categorizer` first.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1, 2], "s": pd.Categorical(["b", "a"])})
    >>> OrdinalEncoder().fit_transform(df).s.tolist()
    [1, 0]
    """

    def __init__(self, columns: Sequence[Any] | None = None) -> None:
        self.columns = columns

    def fit(self, X: Any, y: Any = None) -> OrdinalEncoder:
        """Record the categorical columns and their categories (no pass over the data)."""
        meta = _frame_meta(X, "OrdinalEncoder.fit")
        cats = [c for c in meta.columns if isinstance(meta.dtypes[c], pd.CategoricalDtype)]
        columns = cats if self.columns is None else list(self.columns)
        for c in columns:
            if c not in meta.columns:
                raise KeyError(f"OrdinalEncoder(columns=...) names {c!r}, which X does not have; its columns are "
                               f"{list(meta.columns)}.")
            if not isinstance(meta.dtypes[c], pd.CategoricalDtype):
                raise ValueError(f"OrdinalEncoder: column {c!r} has dtype {meta.dtypes[c]}, not category. Convert "
                                 f"it first with Categorizer (or df.categorize()).")
        self.columns_ = self.categorical_columns_ = pd.Index(columns)
        self.non_categorical_columns_ = meta.columns.drop(columns)
        self.categories_ = {c: meta.dtypes[c] for c in columns}
        self.dtypes_ = meta.dtypes
        return self

    def _encode(self, part: pd.DataFrame) -> pd.DataFrame:
        part = part.copy()
        for c in self.columns_:
            part[c] = part[c].astype(self.categories_[c]).cat.codes
        return part

    def _decode(self, part: pd.DataFrame) -> pd.DataFrame:
        part = part.copy()
        for c in self.columns_:
            part[c] = pd.Categorical.from_codes(part[c].to_numpy().astype(np.int64), dtype=self.categories_[c])
        return part

    def transform(self, X: Any, y: Any = None) -> Any:
        """``X`` with each categorical column replaced by its codes (lazily for shoal frames)."""
        meta = _fitted_frame_meta(self, X, "OrdinalEncoder.transform")
        if _is_shoal_frame(X):
            return X.map_partitions(self._encode, meta=self._encode(meta))
        return self._encode(X)

    def inverse_transform(self, X: Any) -> Any:
        """The categorical frame back from its codes (a NumPy array is read in ``dtypes_``' column order)."""
        _check_fitted(self, "columns_", "inverse_transform")
        if isinstance(X, np.ndarray):
            X = pd.DataFrame(X, columns=self.dtypes_.index)
        if isinstance(X, Array):
            X = sd.from_dask_array(X, columns=list(self.dtypes_.index))
        if _is_shoal_frame(X):
            return X.map_partitions(self._decode, meta=self._decode(X._meta))
        return self._decode(X)


# ---------------------------------------------------------------------- OneHotEncoder


def _columns(block: Any) -> list[np.ndarray]:
    if isinstance(block, pd.DataFrame):
        return [block.iloc[:, j].to_numpy() for j in range(block.shape[1])]
    block = np.asarray(block)
    return [block[:, j] for j in range(block.shape[1])]


def _one_hot(block: Any, categories: list[np.ndarray], keep: list[np.ndarray], ignore: bool, sparse: bool,
             dtype: Any) -> Any:
    """One-hot rows of ``block`` (2-D values): the ``keep[j]`` columns of feature ``j``'s indicators."""
    columns = _columns(block)
    n = len(columns[0]) if columns else len(block)
    rows, cols, offset = [], [], 0
    for j, (col, cats, kept) in enumerate(zip(columns, categories, keep, strict=True)):
        numeric = cats.dtype != object and col.dtype != object
        pos = np.searchsorted(cats, col) if numeric else _object_positions(cats, col)
        clipped = np.minimum(pos, len(cats) - 1)
        known = (pos < len(cats)) & (cats[clipped] == col) if len(cats) else np.zeros(len(col), bool)
        if not known.all() and not ignore:
            raise ValueError(f"Found unknown categories {list(np.unique(col[~known].astype(str)))[:10]} in column "
                             f"{j} during transform. Pass handle_unknown='ignore' to encode them as all zeros.")
        # Output column of each category (-1: dropped).
        slot = np.full(len(cats), -1)
        slot[kept] = offset + np.arange(len(kept))
        target = np.where(known, slot[clipped], -1)
        hit = target >= 0
        rows.append(np.flatnonzero(hit))
        cols.append(target[hit])
        offset += len(kept)
    r, c = np.concatenate(rows), np.concatenate(cols)
    out = sp.csr_matrix((np.ones(len(r), dtype=dtype), (r, c)), shape=(n, offset))
    return out if sparse else out.toarray()


def _object_positions(cats: np.ndarray, col: np.ndarray) -> np.ndarray:
    lookup = {v: i for i, v in enumerate(cats.tolist())}
    return np.array([lookup.get(v, len(cats)) for v in col.tolist()], dtype=np.intp)


def _one_hot_frame(part: pd.DataFrame, categories: list[np.ndarray], keep: list[np.ndarray], ignore: bool,
                   dtype: Any, names: list[str]) -> pd.DataFrame:
    values = _one_hot(part, categories, keep, ignore, False, dtype)
    return pd.DataFrame(values, index=part.index, columns=names)


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode categorical features as one-hot columns.

    Parameters
    ----------
    categories : "auto" or list of array-like
        ``"auto"``: from each column's categorical dtype (DataFrames) or its distinct values
        (arrays: one tree reduction). A list gives the categories of every column.
    drop : {None, "first", "if_binary"}
        Leave out the first category of every feature (or of two-category features).
    sparse_output : bool
        Array input gives ``scipy.sparse`` CSR blocks (as dask-ml); shoal DataFrames always give
        dense DataFrames.
    dtype : dtype
        Of the output values.
    handle_unknown : {"error", "ignore"}
        Unknown categories at transform time raise, or encode as all zeros.

    Attributes
    ----------
    categories_ : list of numpy.ndarray
    drop_idx_ : numpy.ndarray or None
    n_features_in_, feature_names_in_ : as scikit-learn's.

    Notes
    -----
    Mirrors ``dask_ml.preprocessing.OneHotEncoder``: ``transform`` of a shoal DataFrame is a shoal
    DataFrame with columns named as ``get_feature_names_out()``; of a shoal array, a shoal array
    whose blocks are CSR matrices (``sparse_output=True``) or NumPy arrays; of in-memory data, what
    ``sklearn.preprocessing.OneHotEncoder`` returns. shoal DataFrame columns must be categorical with
    known categories (use :class:`Categorizer`).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([["a"], ["b"], ["a"]], dtype=object), chunks=2)
    >>> OneHotEncoder(sparse_output=False).fit(x).transform(x).compute().tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """

    def __init__(self, categories: Any = "auto", drop: str | None = None, sparse_output: bool = True,
                 dtype: Any = np.float64, handle_unknown: str = "error") -> None:
        self.categories = categories
        self.drop = drop
        self.sparse_output = sparse_output
        self.dtype = dtype
        self.handle_unknown = handle_unknown

    def fit(self, X: Any, y: Any = None) -> OneHotEncoder:
        """Learn the categories of every column."""
        if self.handle_unknown not in ("error", "ignore"):
            raise ValueError(f"OneHotEncoder: handle_unknown must be 'error' or 'ignore', got {self.handle_unknown!r}.")
        if self.drop not in (None, "first", "if_binary"):
            raise ValueError(f"OneHotEncoder: drop must be None, 'first' or 'if_binary', got {self.drop!r}.")
        is_frame = isinstance(X, pd.DataFrame) or _is_shoal_frame(X)
        if is_frame:
            meta = _frame_meta(X, "OneHotEncoder.fit")
            width = len(meta.columns)
            self.feature_names_in_ = np.asarray(meta.columns, dtype=object)
        else:
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            X = X if isinstance(X, Array) else np.asarray(X)
            if X.ndim != 2:
                raise ValueError(f"OneHotEncoder expects 2-d data of (samples, features), got shape {X.shape}; "
                                 f"reshape a single feature with x.reshape(-1, 1).")
            width = X.shape[1]
        if self.categories != "auto":
            if len(self.categories) != width:
                raise ValueError(f"OneHotEncoder: categories has {len(self.categories)} entries but X has {width} "
                                 f"features; pass one list of categories per column.")
            cats = [np.asarray(c) for c in self.categories]
        elif is_frame:
            cats = []
            for c in meta.columns:
                dtype = meta.dtypes[c]
                if isinstance(dtype, pd.CategoricalDtype):
                    cats.append(np.sort(np.asarray(dtype.categories)))
                elif isinstance(X, pd.DataFrame):
                    cats.append(np.unique(X[c].to_numpy()))
                else:
                    raise ValueError(f"OneHotEncoder: column {c!r} of the shoal DataFrame has dtype {dtype}, not "
                                     f"category, so its categories are unknown. Convert it first with Categorizer "
                                     f"(or df.categorize()), or pass categories=.")
        elif isinstance(X, Array):
            cats = block_uniques(X)
        else:
            cats = [np.unique(X[:, j]) for j in range(width)]
        self.categories_ = cats
        self.n_features_in_ = width
        first = [self.drop == "first" or (self.drop == "if_binary" and len(c) == 2) for c in cats]
        self.drop_idx_ = None if self.drop is None else np.array([0 if f else None for f in first], dtype=object)
        self._keep = [np.arange(1 if f else 0, len(c)) for f, c in zip(first, cats, strict=True)]
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``"<column>_<category>"`` for every output column (``x0``, ``x1``, ... for arrays)."""
        _check_fitted(self, "categories_", "get_feature_names_out")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", [f"x{j}" for j in range(self.n_features_in_)])
        return np.asarray([f"{name}_{c}" for name, cats, kept in zip(input_features, self.categories_, self._keep,
                                                                       strict=True) for c in cats[kept]], dtype=object)

    def transform(self, X: Any) -> Any:
        """The one-hot encoding of ``X`` (lazy for shoal input)."""
        _check_fitted(self, "categories_", "transform")
        ignore = self.handle_unknown == "ignore"
        names = list(self.get_feature_names_out())
        if _is_shoal_frame(X):
            if len(X.columns) != self.n_features_in_:
                raise ValueError(f"OneHotEncoder.transform: X has {len(X.columns)} columns, but fit saw "
                                 f"{self.n_features_in_}.")
            meta = pd.DataFrame(np.empty((0, len(names)), dtype=self.dtype), columns=names)
            return X.map_partitions(_one_hot_frame, self.categories_, self._keep, ignore, self.dtype, names,
                                    meta=meta)
        if isinstance(X, Array):
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"OneHotEncoder.transform: X has shape {X.shape}, but fit saw "
                                 f"{self.n_features_in_} features.")
            x = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
            meta = sp.csr_matrix((0, 0), dtype=self.dtype) if self.sparse_output else np.empty((0, 0), self.dtype)
            return x.map_blocks(_one_hot, self.categories_, self._keep, ignore, self.sparse_output, self.dtype,
                                dtype=self.dtype, chunks=(x.chunks[0], (len(names),)), meta=meta)
        values = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
        return _one_hot(values, self.categories_, self._keep, ignore, self.sparse_output, self.dtype)


"""Applying different transformers to different columns; mirrors ``dask_ml.compose``.

:class:`ColumnTransformer` fits each transformer on its columns of a shoal (or pandas) DataFrame and
joins the outputs side by side without computing them: all DataFrames (``preserve_dataframe=True``)
are joined by :func:`shoal.dataframe.concat` along the columns; otherwise every output becomes a
shoal array and row block ``i`` of the result is the side-by-side join of the outputs' blocks ``i``
(they come from the same partitions, so they have the same rows). Sparse blocks join as sparse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import make_column_selector  # works on the pandas metadata of shoal frames
from sklearn.utils import Bunch

import shoal.dataframe as sd
from shoal.array import Array
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph
from shoal.ml._prep_base import _check_fitted, _frame_meta

__all__ = ["ColumnTransformer", "make_column_selector", "make_column_transformer"]


def _hstack_blocks(*blocks: Any) -> Any:
    blocks = tuple(b.to_numpy() if hasattr(b, "to_numpy") else b for b in blocks)
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr")
    return np.hstack([np.asarray(b).reshape(len(b), -1) for b in blocks])


def _join_arrays(arrays: list[Array]) -> Array:
    """Row block ``i`` of the result joins blocks ``i`` of ``arrays`` side by side."""
    arrays = [a if a.ndim == 2 else a.reshape(-1, 1) for a in arrays]
    arrays = [a.rechunk({1: -1}) if a.numblocks[1] != 1 else a for a in arrays]
    nblocks = {a.numblocks[0] for a in arrays}
    if len(nblocks) != 1:
        raise ValueError(f"ColumnTransformer: the transformers returned arrays with different numbers of row blocks "
                         f"({sorted(nblocks)}); they must keep one block per input partition.")
    name = f"column-transformer-hstack-{tokenize(*[a.name for a in arrays])}"
    layer = {(name, i, 0): Task((name, i, 0), _hstack_blocks, *[Ref((a.name, i, 0)) for a in arrays])
             for i in range(arrays[0].numblocks[0])}
    width = sum(int(a.shape[1]) for a in arrays)
    sparse = any(sp.issparse(a._meta) for a in arrays)
    dtype = np.result_type(*[a.dtype for a in arrays])
    meta = sp.csr_matrix((0, 0), dtype=dtype) if sparse else np.empty((0, 0), dtype=dtype)
    return Array(HighLevelGraph.from_collections(name, layer, dependencies=arrays), name,
                 (arrays[0].chunks[0], (width,)), dtype=dtype, meta=meta)


def _select(meta: pd.DataFrame, columns: Any, who: str) -> list[Any]:
    """Column names picked by ``columns``: names, positions, a slice, a boolean mask or a callable."""
    names = list(meta.columns)
    if callable(columns):
        columns = columns(meta)
    if isinstance(columns, str) or np.isscalar(columns):
        columns = [columns]
    if isinstance(columns, slice):
        if isinstance(columns.start, str) or isinstance(columns.stop, str):
            return list(meta.loc[:, columns].columns)
        return names[columns]
    columns = list(columns)
    if columns and all(isinstance(c, bool | np.bool_) for c in columns):
        return [n for n, keep in zip(names, columns, strict=True) if keep]
    out = []
    for c in columns:
        if c in names:
            out.append(c)
        elif isinstance(c, int | np.integer):
            out.append(names[c])
        else:
            raise KeyError(f"ColumnTransformer: transformer {who!r} selects column {c!r}, which X does not have; its "
                           f"columns are {names}.")
    return out


class ColumnTransformer(TransformerMixin, BaseEstimator):
    """Apply transformers to column subsets of a DataFrame and join their outputs side by side.

    Parameters
    ----------
    transformers : list of (name, transformer, columns)
        ``transformer`` is an estimator, ``"drop"`` or ``"passthrough"``; ``columns`` are names,
        positions, a slice, a boolean mask, or a callable such as :func:`make_column_selector`.
    remainder : {"drop", "passthrough"} or estimator
        What happens to the columns no transformer selected.
    sparse_threshold, n_jobs, verbose
        Accepted for compatibility with scikit-learn (the scheduler runs the work in parallel).
    transformer_weights : dict, optional
        ``{name: weight}`` multiplying each transformer's output.
    preserve_dataframe : bool
        Join DataFrame outputs as a DataFrame (otherwise, and whenever some output is an array,
        the result is an array).
    verbose_feature_names_out : bool
        Prefix output column names with the transformer's name (``"name__column"``).

    Attributes
    ----------
    transformers_ : list of (name, fitted transformer, columns)
    named_transformers_ : Bunch
    output_indices_ : dict of slices
    n_features_in_, feature_names_in_

    Notes
    -----
    Mirrors ``dask_ml.compose.ColumnTransformer`` (and scikit-learn's). Transformers are cloned
    and fitted one after another (each ``fit`` runs its own passes on the scheduler).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> from shoal.ml.preprocessing import StandardScaler
    >>> df = sd.from_pandas(pd.DataFrame({"a": [1.0, 3.0], "b": [5, 6]}), npartitions=1)
    >>> ct = ColumnTransformer([("scale", StandardScaler(), ["a"])], remainder="passthrough")
    >>> ct.fit_transform(df).compute().to_dict("list")
    {'a': [-1.0, 1.0], 'b': [5, 6]}
    """

    def __init__(self, transformers: Sequence[tuple[str, Any, Any]], remainder: Any = "drop",
                 sparse_threshold: float = 0.3, n_jobs: int | None = None,
                 transformer_weights: dict[str, float] | None = None, verbose: bool = False,
                 preserve_dataframe: bool = True, verbose_feature_names_out: bool = False) -> None:
        self.transformers = transformers
        self.remainder = remainder
        self.sparse_threshold = sparse_threshold
        self.n_jobs = n_jobs
        self.transformer_weights = transformer_weights
        self.verbose = verbose
        self.preserve_dataframe = preserve_dataframe
        self.verbose_feature_names_out = verbose_feature_names_out

    def _plan(self, meta: pd.DataFrame) -> list[tuple[str, Any, list[Any]]]:
        names = [t[0] for t in self.transformers]
        if len(set(names)) != len(names) or "remainder" in names:
            raise ValueError(f"ColumnTransformer: transformer names must be unique and not 'remainder', got {names}.")
        plan, used = [], set()
        for name, trans, columns in self.transformers:
            if not (trans in ("drop", "passthrough") or hasattr(trans, "transform")):
                raise TypeError(f"ColumnTransformer: transformer {name!r} is {trans!r}; pass an estimator with "
                                f"fit/transform, 'drop' or 'passthrough'.")
            picked = _select(meta, columns, name)
            used.update(picked)
            plan.append((name, trans, picked))
        rest = [c for c in meta.columns if c not in used]
        if self.remainder not in ("drop", "passthrough") and not hasattr(self.remainder, "transform"):
            raise ValueError(f"ColumnTransformer: remainder must be 'drop', 'passthrough' or an estimator, got "
                             f"{self.remainder!r}.")
        if rest:
            plan.append(("remainder", self.remainder, rest))
        return plan

    def fit(self, X: Any, y: Any = None) -> ColumnTransformer:
        """Fit every transformer on its columns."""
        self._fit(X, y, keep_outputs=False)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit every transformer and join their outputs (lazily for shoal input)."""
        return self._join(self._fit(X, y, keep_outputs=True))

    def _fit(self, X: Any, y: Any, keep_outputs: bool) -> list[tuple[str, Any]]:
        meta = _frame_meta(X, "ColumnTransformer.fit")
        self.feature_names_in_ = np.asarray(meta.columns, dtype=object)
        self.n_features_in_ = len(meta.columns)
        fitted, outputs = [], []
        for name, trans, columns in self._plan(meta):
            if trans == "drop" or not columns:
                fitted.append((name, trans, columns))
                continue
            part = X[columns]
            if trans == "passthrough":
                fitted.append((name, trans, columns))
                outputs.append((name, part))
                continue
            est = clone(trans)
            if keep_outputs and hasattr(est, "fit_transform"):
                out = est.fit_transform(part, y)
            else:
                est.fit(part, y)
                out = est.transform(part) if keep_outputs else None
            fitted.append((name, est, columns))
            outputs.append((name, out))
        self.transformers_ = fitted
        self.named_transformers_ = Bunch(**{name: est for name, est, _ in fitted})
        return outputs

    def transform(self, X: Any) -> Any:
        """Every fitted transformer's output on its columns, joined (lazily for shoal input)."""
        _check_fitted(self, "transformers_", "transform")
        meta = _frame_meta(X, "ColumnTransformer.transform")
        missing = [c for c in self.feature_names_in_ if c not in meta.columns]
        if missing:
            raise ValueError(f"ColumnTransformer.transform: X lacks the columns {missing} seen in fit.")
        outputs = []
        for name, est, columns in self.transformers_:
            if est == "drop" or not columns:
                continue
            part = X[columns]
            outputs.append((name, part if est == "passthrough" else est.transform(part)))
        return self._join(outputs)

    def _join(self, outputs: list[tuple[str, Any]]) -> Any:
        weights = self.transformer_weights or {}
        outputs = [(name, out * weights[name] if name in weights else out) for name, out in outputs]
        if not outputs:
            raise ValueError("ColumnTransformer: every column was dropped, so there is no output; pass "
                             "remainder='passthrough' or select some columns.")
        values = [out for _, out in outputs]
        frames = all(isinstance(v, sd.DataFrame | pd.DataFrame) for v in values)
        if frames and self.preserve_dataframe:
            renamed = [self._rename(name, v) for name, v in outputs]
            self._record_indices(outputs, [len(v.columns) for v in renamed])
            if all(isinstance(v, pd.DataFrame) for v in renamed):
                return pd.concat(renamed, axis=1)
            return sd.concat(renamed, axis=1)
        if all(not isinstance(v, sd.DataFrame | Array | sd.Series) for v in values):
            dense = [np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v) if not sp.issparse(v) else v
                     for v in values]
            self._record_indices(outputs, [d.shape[1] if d.ndim == 2 else 1 for d in dense])
            return _hstack_blocks(*dense)
        arrays = [v.to_dask_array() if isinstance(v, sd.DataFrame | sd.Series) else v for v in values]
        if any(not isinstance(a, Array) for a in arrays):
            raise TypeError("ColumnTransformer: some transformers returned in-memory data for shoal input; every "
                            "transformer must return a shoal collection for shoal input.")
        self._record_indices(outputs, [int(a.shape[1]) if a.ndim == 2 else 1 for a in arrays])
        return _join_arrays(arrays)

    def _rename(self, name: str, frame: Any) -> Any:
        if not self.verbose_feature_names_out:
            return frame
        return frame.rename(columns={c: f"{name}__{c}" for c in frame.columns})

    def _record_indices(self, outputs: list[tuple[str, Any]], widths: list[int]) -> None:
        start, indices = 0, {}
        for (name, _), w in zip(outputs, widths, strict=True):
            indices[name] = slice(start, start + w)
            start += w
        for name, _, _ in self.transformers_:
            indices.setdefault(name, slice(0, 0))
        self.output_indices_ = indices

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names (prefixed ``"name__"`` with ``verbose_feature_names_out=True``)."""
        _check_fitted(self, "transformers_", "get_feature_names_out")
        names: list[str] = []
        for name, est, columns in self.transformers_:
            if est == "drop" or not columns:
                continue
            own = list(columns) if est == "passthrough" else list(est.get_feature_names_out(columns))
            names.extend(f"{name}__{c}" if self.verbose_feature_names_out else str(c) for c in own)
        return np.asarray(names, dtype=object)


def make_column_transformer(*transformers: tuple[Any, Any], remainder: Any = "drop", sparse_threshold: float = 0.3,
                            n_jobs: int | None = None, verbose: bool = False, preserve_dataframe: bool = True,
                            verbose_feature_names_out: bool = False) -> ColumnTransformer:
    """A :class:`ColumnTransformer` from ``(transformer, columns)`` pairs, naming each after its class.

    Mirrors ``dask_ml.compose.make_column_transformer``.

    Examples
    --------
    >>> from shoal.ml.preprocessing import StandardScaler
    >>> make_column_transformer((StandardScaler(), ["a"])).transformers[0][0]
    'standardscaler'
    """
    names = _class_names([t for t, _ in transformers])
    triples = [(name, t, cols) for name, (t, cols) in zip(names, transformers, strict=True)]
    return ColumnTransformer(triples, remainder=remainder, sparse_threshold=sparse_threshold, n_jobs=n_jobs,
                             verbose=verbose, preserve_dataframe=preserve_dataframe,
                             verbose_feature_names_out=verbose_feature_names_out)


def _class_names(estimators: list[Any]) -> list[str]:
    """Lower-cased class names, numbered ``-1``, ``-2`` ... where they repeat (as scikit-learn names them)."""
    base = [e if isinstance(e, str) else type(e).__name__.lower() for e in estimators]
    seen: dict[str, int] = {}
    total = {b: base.count(b) for b in base}
    out = []
    for b in base:
        seen[b] = seen.get(b, 0) + 1
        out.append(f"{b}-{seen[b]}" if total[b] > 1 else b)
    return out


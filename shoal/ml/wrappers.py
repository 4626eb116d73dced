"""Meta-estimators that bring any scikit-learn estimator to shoal collections; mirrors ``dask_ml.wrappers``.

Model
    :class:`ParallelPostFit` trains the wrapped estimator the ordinary way, on
    data that fits in memory (a shoal input is computed to NumPy or pandas
    first), and parallelizes everything *after* fitting: ``predict``,
    ``predict_proba``, ``predict_log_proba``, ``decision_function`` and
    ``transform`` run once per row block of a shoal array (or partition of a
    shoal dataframe) and return lazy shoal arrays; NumPy or pandas in gives
    NumPy out. ``score`` on shoal data predicts lazily and scores with
    :mod:`shoal.ml.metrics` in one pass.

    :class:`Incremental` trains on data larger than memory with the
    estimator's ``partial_fit``: ``fit`` builds a chain of tasks, one per row
    block, each calling ``partial_fit`` on the model left by the previous one,
    so blocks are visited sequentially and one block's data is needed at a
    time. ``fit`` starts from a fresh clone; ``partial_fit`` continues from the
    fitted model for one more pass. Keyword arguments (``classes=``) reach
    every ``partial_fit`` call.

The output type of a block-wise method is learned by calling it on one row
of zeros, unless ``predict_meta`` / ``predict_proba_meta`` / ``transform_meta``
give an empty array of the right dtype and dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.metrics import get_scorer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if

import shoal
import shoal.array as sa
from shoal.array import Array
from shoal.base import is_dask_collection
from shoal.delayed import Delayed
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph
from shoal.ml import metrics

__all__ = ["Incremental", "ParallelPostFit"]


# -- block-wise application ------------------------------------------------------------------------------
def _call(block: Any, estimator: Any, method: str) -> Any:
    return getattr(estimator, method)(block)


def _probe(X: Any) -> Any:
    """One row of zeros shaped and typed like the rows of ``X`` (to learn a method's output)."""
    if isinstance(X, Array):
        return np.zeros((1, *X.shape[1:]), dtype=X.dtype)
    meta = X._meta
    if isinstance(meta, pd.DataFrame):
        return pd.DataFrame({c: pd.Series([0], dtype=t) for c, t in meta.dtypes.items()})
    return pd.Series([0], dtype=meta.dtype, name=meta.name)


def _output_meta(estimator: Any, method: str, X: Any, meta: Any) -> np.ndarray:
    if meta is not None:
        return np.asarray(meta)
    try:
        sample = np.asarray(getattr(estimator, method)(_probe(X)))
    except Exception as exc:  # the estimator rejected the probe row: the user must say
        kind = {"predict": "predict_meta", "transform": "transform_meta"}.get(method, "predict_proba_meta")
        raise ValueError(
            f"Could not learn the output type of {type(estimator).__name__}.{method} by calling it on one row of "
            f"zeros ({type(exc).__name__}: {exc}). Pass {kind}= an empty NumPy array with the output's dtype and "
            f"dimensions, e.g. {kind}=np.empty((0,), dtype='int64')."
        ) from exc
    return sample[:0]


def _apply_blockwise(estimator: Any, method: str, X: Any, meta: Any) -> Any:
    """``estimator.<method>`` of every row block of a shoal array or partition of a shoal dataframe."""
    out_meta = _output_meta(estimator, method, X, meta)
    if out_meta.ndim not in (1, 2):
        raise ValueError(f"{type(estimator).__name__}.{method} returns {out_meta.ndim}-dimensional output; "
                         f"block-wise application needs 1 or 2 dimensions.")
    if isinstance(X, Array):
        if X.ndim == 2 and X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        keys = [(X.name, i) + (0,) * (X.ndim - 1) for i in range(X.numblocks[0])]
        rows, deps = X.chunks[0], (X,)
    else:
        parts = X.to_delayed()
        keys = [p.key for p in parts]
        rows, deps = (math.nan,) * len(parts), tuple(parts)
    name = f"ml-{method.replace('_', '-')}-{tokenize(estimator, method, keys)}"
    layer = {}
    for i, key in enumerate(keys):
        out = (name, i) + (0,) * (out_meta.ndim - 1)
        layer[out] = Task(out, _call, Ref(key), estimator, method)
    chunks: tuple[Any, ...] = (tuple(rows),)
    if out_meta.ndim == 2:
        width = out_meta.shape[1] if out_meta.shape[1] else math.nan
        chunks += ((width,),)
    return Array(HighLevelGraph.from_collections(name, layer, dependencies=deps), name, chunks, dtype=out_meta.dtype,
                 meta=out_meta)


def _copy_learned(source: Any, target: Any) -> None:
    for attr, value in vars(source).items():
        if attr.endswith("_") and not attr.startswith("_"):
            setattr(target, attr, value)


def _materialize(*data: Any) -> tuple[Any, ...]:
    """Compute shoal inputs to NumPy / pandas (all together); leave the rest."""
    lazy = [i for i, d in enumerate(data) if is_dask_collection(d)]
    if not lazy:
        return data
    values = shoal.compute(*[data[i] for i in lazy])
    out = list(data)
    for i, v in zip(lazy, values, strict=True):
        out[i] = v
    return tuple(out)


def _has_method(method: str) -> Callable[[Any], bool]:
    def check(self: Any) -> bool:
        return hasattr(self.estimator, method)
    return check


#: Scorer names computed with shoal.ml.metrics on lazy predictions: (method, metric, sign).
_LAZY_SCORERS: dict[str, tuple[str, Callable[..., Any], float]] = {
    "accuracy": ("predict", metrics.accuracy_score, 1.0),
    "r2": ("predict", metrics.r2_score, 1.0),
    "neg_mean_squared_error": ("predict", metrics.mean_squared_error, -1.0),
    "neg_root_mean_squared_error": ("predict", metrics.root_mean_squared_error, -1.0),
    "neg_mean_absolute_error": ("predict", metrics.mean_absolute_error, -1.0),
    "neg_mean_squared_log_error": ("predict", metrics.mean_squared_log_error, -1.0),
    "neg_log_loss": ("predict_proba", metrics.log_loss, -1.0),
}


class ParallelPostFit(MetaEstimatorMixin, BaseEstimator):
    """Fit in memory, predict and transform block by block; mirrors ``dask_ml.wrappers.ParallelPostFit``.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Fitted in place by :meth:`fit` (a pre-fitted estimator can be wrapped
        and used for prediction directly).
    scoring : str or callable, optional
        Used by :meth:`score`; default the estimator's own score (accuracy
        for classifiers, R² for regressors).
    predict_meta, predict_proba_meta, transform_meta : numpy.ndarray, optional
        Empty arrays giving the dtype and dimensions of those methods' output
        (``predict_proba_meta`` also serves ``predict_log_proba`` and
        ``decision_function``).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(20.0).reshape(10, 2); y = X @ [1.0, 2.0]
    >>> clf = ParallelPostFit(LinearRegression()).fit(X, y)
    >>> pred = clf.predict(sa.from_array(X, chunks=(5, 2)))
    >>> type(pred).__name__, bool(np.allclose(pred.compute(), y))
    ('Array', True)
    """

    def __init__(self, estimator: Any = None, scoring: Any = None, predict_meta: Any = None,
                 predict_proba_meta: Any = None, transform_meta: Any = None) -> None:
        self.estimator = estimator
        self.scoring = scoring
        self.predict_meta = predict_meta
        self.predict_proba_meta = predict_proba_meta
        self.transform_meta = transform_meta

    @property
    def _postfit_estimator(self) -> Any:
        if self.estimator is None:
            raise ValueError(f"{type(self).__name__} has no estimator: pass one, e.g. "
                             f"{type(self).__name__}(LogisticRegression()).")
        return self.estimator

    # -- fitting (in memory) ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> ParallelPostFit:
        """Fit the estimator on ``X`` and ``y`` in memory (shoal inputs are computed first)."""
        X, y = _materialize(X, y)
        result = self._postfit_estimator.fit(X, y, **kwargs)
        _copy_learned(result, self)
        return self

    @available_if(_has_method("partial_fit"))
    def partial_fit(self, X: Any, y: Any = None, **kwargs: Any) -> ParallelPostFit:
        """One ``partial_fit`` of the estimator on ``X`` and ``y`` in memory."""
        X, y = _materialize(X, y)
        result = self._postfit_estimator.partial_fit(X, y, **kwargs)
        _copy_learned(result, self)
        return self

    # -- block-wise methods -------------------------------------------------------------------------------
    def _method(self, method: str, X: Any, meta: Any) -> Any:
        estimator = self._postfit_estimator
        if not hasattr(estimator, method):
            raise AttributeError(f"The wrapped {type(estimator).__name__} has no {method!r} method.")
        if is_dask_collection(X):
            if not isinstance(X, Array) and not hasattr(X, "to_delayed"):
                raise TypeError(f"{method}: X is a {type(X).__name__}; pass a shoal array or dataframe, or NumPy "
                                f"or pandas data.")
            return _apply_blockwise(estimator, method, X, meta)
        return getattr(estimator, method)(X)

    @available_if(_has_method("predict"))
    def predict(self, X: Any) -> Any:
        """Predictions, one task per row block (lazy shoal array for shoal input)."""
        return self._method("predict", X, self.predict_meta)

    @available_if(_has_method("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, one task per row block."""
        return self._method("predict_proba", X, self.predict_proba_meta)

    @available_if(_has_method("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities, one task per row block."""
        return self._method("predict_log_proba", X, self.predict_proba_meta)

    @available_if(_has_method("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision function, one task per row block."""
        return self._method("decision_function", X, self.predict_proba_meta)

    @available_if(_has_method("transform"))
    def transform(self, X: Any) -> Any:
        """Transformed data, one task per row block."""
        return self._method("transform", X, self.transform_meta)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Score on ``X`` and ``y`` with ``scoring`` (default: the estimator's own metric).

        For shoal input the predictions stay lazy and the metric is a one-pass
        reduction (:mod:`shoal.ml.metrics`) for the usual scorer names
        (``"accuracy"``, ``"r2"``, ``"neg_mean_squared_error"``,
        ``"neg_log_loss"``, ...); other scorers see computed data.
        """
        estimator = self._postfit_estimator
        scoring = self.scoring
        if not is_dask_collection(X) and not is_dask_collection(y):
            if scoring is None:
                kw = {} if sample_weight is None else {"sample_weight": sample_weight}
                return float(estimator.score(X, y, **kw))
            return float(get_scorer(scoring)(estimator, X, y))
        if scoring is None:
            scoring = "accuracy" if is_classifier(estimator) else "r2" if is_regressor(estimator) else None
        if isinstance(scoring, str) and scoring in _LAZY_SCORERS:
            method, metric, sign = _LAZY_SCORERS[scoring]
            pred = self._method(method, X, self.predict_meta if method == "predict" else self.predict_proba_meta)
            kwargs: dict[str, Any] = {"sample_weight": sample_weight}
            if scoring == "neg_log_loss":
                kwargs["labels"] = getattr(estimator, "classes_", None)
            return sign * float(metric(y, pred, **kwargs))
        X, y, sample_weight = _materialize(X, y, sample_weight)
        if scoring is None:
            kw = {} if sample_weight is None else {"sample_weight": sample_weight}
            return float(estimator.score(X, y, **kw))
        return float(get_scorer(scoring)(estimator, X, y))


# -- Incremental ------------------------------------------------------------------------------------------
def _partial_fit_block(model: Any, x: Any, y: Any, kwargs: dict[str, Any], check: bool, block: int) -> Any:
    if check and y is not None and len(x) != len(y):
        raise ValueError(
            f"Incremental: row block {block} of X has {len(x)} rows but the matching block of y has {len(y)}. "
            f"X and y must be cut at the same rows: rechunk y like X, or build both from one dataframe.")
    if y is None:
        model.partial_fit(x, **kwargs)
    else:
        model.partial_fit(x, y, **kwargs)
    return model


def _row_blocks(data: Any, what: str) -> tuple[list[Any], tuple[Any, ...], tuple[float, ...]]:
    """The keys of the row blocks of a shoal collection, the collections they live in, and their lengths."""
    if isinstance(data, Array):
        if data.ndim == 2 and data.numblocks[1] != 1:
            data = data.rechunk({1: -1})
        keys = [(data.name, i) + (0,) * (data.ndim - 1) for i in range(data.numblocks[0])]
        return keys, (data,), tuple(data.chunks[0])
    if hasattr(data, "to_delayed"):
        parts = data.to_delayed()
        return [p.key for p in parts], tuple(parts), (math.nan,) * len(parts)
    raise TypeError(f"Incremental: {what} is a {type(data).__name__}; pass a shoal array or dataframe, or NumPy.")


def _known(lengths: tuple[float, ...]) -> bool:
    return not any(math.isnan(c) for c in lengths)


class Incremental(ParallelPostFit):
    """Train on larger-than-memory data block by block with ``partial_fit``; mirrors ``dask_ml.wrappers.Incremental``.

    Parameters
    ----------
    estimator : scikit-learn estimator with ``partial_fit``
    scoring : str or callable, optional
        As :class:`ParallelPostFit`.
    shuffle_blocks : bool
        Visit the row blocks in a random order (blocks are not mixed
        internally).
    random_state : int, RandomState or None
        Seed of the block order.
    assume_equal_chunks : bool
        Trust that the blocks of ``X`` and ``y`` line up; ``False`` checks the
        lengths of every pair as it is used.
    predict_meta, predict_proba_meta, transform_meta : numpy.ndarray, optional
        As :class:`ParallelPostFit`.

    Attributes
    ----------
    estimator_ : estimator
        The trained copy of ``estimator``; its learned attributes are also
        copied onto the wrapper.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> from sklearn.linear_model import SGDClassifier
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> inc = Incremental(SGDClassifier(random_state=0), shuffle_blocks=False)
    >>> inc = inc.fit(sa.from_array(X, chunks=(10, 3)), sa.from_array(y, chunks=10), classes=[0, 1])
    >>> inc.predict(sa.from_array(X, chunks=(10, 3))).compute().shape
    (40,)
    """

    def __init__(self, estimator: Any = None, scoring: Any = None, shuffle_blocks: bool = True,
                 random_state: Any = None, assume_equal_chunks: bool = True, predict_meta: Any = None,
                 predict_proba_meta: Any = None, transform_meta: Any = None) -> None:
        super().__init__(estimator=estimator, scoring=scoring, predict_meta=predict_meta,
                         predict_proba_meta=predict_proba_meta, transform_meta=transform_meta)
        self.shuffle_blocks = shuffle_blocks
        self.random_state = random_state
        self.assume_equal_chunks = assume_equal_chunks

    @property
    def _postfit_estimator(self) -> Any:
        if not hasattr(self, "estimator_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call fit or partial_fit "
                                 f"first.")
        return self.estimator_

    def fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:
        """Train a fresh clone of ``estimator`` with one ``partial_fit`` per row block, in sequence."""
        self._check_estimator()
        return self._fit_blocks(clone(self.estimator), X, y, fit_kwargs)

    def partial_fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:  # type: ignore[override]
        """One more pass over the row blocks, continuing from the trained model (or a fresh clone)."""
        self._check_estimator()
        model = getattr(self, "estimator_", None)
        return self._fit_blocks(clone(self.estimator) if model is None else model, X, y, fit_kwargs)

    def _check_estimator(self) -> None:
        if self.estimator is None or not hasattr(self.estimator, "partial_fit"):
            raise ValueError(
                f"Incremental needs an estimator with a partial_fit method (e.g. SGDClassifier, MultinomialNB, "
                f"MiniBatchKMeans), got {type(self.estimator).__name__}. Use ParallelPostFit for estimators "
                f"that can only fit in memory.")

    def _fit_blocks(self, model: Any, X: Any, y: Any, fit_kwargs: dict[str, Any]) -> Incremental:
        if not is_dask_collection(X):
            X, y = _materialize(X, y)
            model = _partial_fit_block(model, X, y, fit_kwargs, True, 0)
        else:
            model = self._chain(model, X, y, fit_kwargs).compute()
        self.estimator_ = model
        _copy_learned(model, self)
        return self

    def _chain(self, model: Any, X: Any, y: Any, fit_kwargs: dict[str, Any]) -> Delayed:
        x_keys, deps, x_rows = _row_blocks(X, "X")
        y_keys: list[Any] = [None] * len(x_keys)
        if y is not None:
            if not is_dask_collection(y):
                y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
                if not _known(x_rows):
                    raise ValueError("Incremental: X has row blocks of unknown length (a dataframe) but y is in "
                                     "memory; pass y as a shoal series or array cut like X.")
                y = sa.from_array(y, chunks=(x_rows,) + tuple((s,) for s in y.shape[1:]))
            elif isinstance(y, Array) and _known(x_rows) and _known(y.chunks[0]) and y.chunks[0] != x_rows:
                if y.shape[0] != sum(x_rows):
                    raise ValueError(f"Incremental: X has {int(sum(x_rows))} rows but y has {y.shape[0]}.")
                y = y.rechunk({0: x_rows})
            y_keys, y_deps, _ = _row_blocks(y, "y")
            if len(y_keys) != len(x_keys):
                raise ValueError(
                    f"Incremental: X has {len(x_keys)} row blocks but y has {len(y_keys)}; they must line up. "
                    f"Repartition them alike, or convert both with .to_dask_array(lengths=True).")
            deps = deps + y_deps
        order = np.arange(len(x_keys))
        if self.shuffle_blocks:
            order = check_random_state(self.random_state).permutation(len(x_keys))
        check = not self.assume_equal_chunks
        name = f"ml-partial-fit-{tokenize(model, x_keys, y_keys, order, fit_kwargs, check)}"
        layer: dict[Any, Any] = {}
        previous: Any = model
        for step, i in enumerate(order):
            key = (name, step)
            layer[key] = Task(key, _partial_fit_block, previous, Ref(x_keys[i]),
                              None if y_keys[i] is None else Ref(y_keys[i]), fit_kwargs, check, int(i))
            previous = Ref(key)
        return Delayed((name, len(order) - 1), None, deps=deps, layer=layer)

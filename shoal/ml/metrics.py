"""Scoring metrics on shoal arrays, each in one pass over the row blocks; mirrors ``dask_ml.metrics``.

Model
    A metric is a tree reduction (:func:`shoal.ml._est_blocks.tree_reduce`):
    every row block of ``y_true``, ``y_pred`` (and ``sample_weight``) gives a
    small partial (weighted sums, per-output moments, per-class sums), partials
    are added up level by level, and a last step turns the total into the score
    exactly as scikit-learn defines it. Inputs are first cut at the same rows
    (NumPy inputs are wrapped, shoal dataframes and series are read partition
    by partition). ``compute=True`` (default) returns a float (or a NumPy
    array for ``multioutput="raw_values"``); ``compute=False`` returns the
    same as a lazy 0-d or 1-d shoal array.

    Results agree with ``sklearn.metrics`` to rounding; :func:`r2_score` merges
    per-block weighted means and sums of squared deviations with Chan, Golub
    and LeVeque's update, which is as accurate as two passes.

Distances (:func:`pairwise_distances`, :func:`euclidean_distances`) live in
:mod:`shoal.ml.pairwise`: lazy arrays computed block by block with
scikit-learn's own functions.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

import shoal.array as sa
from shoal.array import Array
from shoal.delayed import delayed
from shoal.ml._est_blocks import merge_moments, tree_reduce
from shoal.ml._ml3_util import align_rows
from shoal.ml.pairwise import euclidean_distances, pairwise_distances

__all__ = [
    "accuracy_score",
    "euclidean_distances",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "mean_squared_log_error",
    "pairwise_distances",
    "r2_score",
    "root_mean_squared_error",
]


# -- shared plumbing --------------------------------------------------------------------------------------
def _same_length(block_id: int, *blocks: Any) -> None:
    lengths = {len(b) for b in blocks if b is not None}
    if len(lengths) > 1:
        raise ValueError(
            f"Row block {block_id} of the inputs has different lengths {sorted(lengths)}: y_true, y_pred and "
            f"sample_weight must be cut at the same rows. Their partitions do not line up; convert them with "
            f".to_dask_array(lengths=True) so they can be rechunked to match.")


def _add(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(parts[0])
    for p in parts[1:]:
        for k, v in p.items():
            out[k] = out[k] + v
    return out


def _run(chunk: Any, combine: Any, finish: Any, arrays: list[Array], args: tuple[Any, ...], compute: bool,
         shape: tuple[int, ...], name: str) -> Any:
    total = tree_reduce(chunk, combine, arrays, *args, name=name, with_block_id=True)
    result = delayed(finish, pure=True)(total)
    if compute:
        return result.compute()
    return sa.from_delayed(result, shape=shape, dtype=np.float64)


# -- regression -------------------------------------------------------------------------------------------
def _regression_inputs(who: str, y_true: Any, y_pred: Any, sample_weight: Any,
                       multioutput: Any) -> tuple[list[Array], int]:
    arrays = align_rows([("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sample_weight)])
    yt, yp = arrays[0], arrays[1]
    out_t = 1 if yt.ndim == 1 else yt.shape[1]
    out_p = 1 if yp.ndim == 1 else yp.shape[1]
    if out_t != out_p:
        raise ValueError(f"{who}: y_true and y_pred have different numbers of outputs ({out_t} != {out_p}).")
    if sample_weight is not None and arrays[2].ndim != 1:
        raise ValueError(f"{who}: sample_weight must be 1-dimensional (one weight per sample), "
                         f"got shape {arrays[2].shape}.")
    if isinstance(multioutput, str):
        allowed = ("raw_values", "uniform_average", "variance_weighted") if who == "r2_score" else \
            ("raw_values", "uniform_average")
        if multioutput not in allowed:
            raise ValueError(f"{who}: multioutput must be one of {allowed} or an array of {out_t} weights, "
                             f"got {multioutput!r}.")
    elif out_t == 1:
        raise ValueError("Custom weights are useful only in multi-output cases.")
    elif np.shape(multioutput) != (out_t,):
        raise ValueError(f"{who}: multioutput weights have shape {np.shape(multioutput)}, but there are {out_t} "
                         f"outputs; pass one weight per output.")
    return arrays, out_t


def _is_raw(multioutput: Any) -> bool:
    return isinstance(multioutput, str) and multioutput == "raw_values"


def _as_2d(block: np.ndarray) -> np.ndarray:
    block = np.asarray(block, dtype=np.float64)
    return block[:, None] if block.ndim == 1 else block


def _error_chunk(yt: Any, yp: Any, *rest: Any, kind: str = "squared", block_id: int = 0) -> dict[str, Any]:
    w = rest[0] if rest else None
    _same_length(block_id, yt, yp, w)
    t, p = _as_2d(yt), _as_2d(yp)
    part: dict[str, Any] = {"n": np.float64(len(t))}
    if kind == "log":
        part["low"] = np.array(min(t.min(initial=np.inf), p.min(initial=np.inf)))
        with np.errstate(divide="ignore", invalid="ignore"):  # values <= -1 are refused after the pass
            t, p = np.log1p(t), np.log1p(p)
    diff = t - p
    err = np.abs(diff) if kind == "absolute" else diff ** 2
    if w is None:
        part["w"], part["err"] = np.float64(len(t)), err.sum(axis=0)
    else:
        w = np.asarray(w, dtype=np.float64)
        part["w"], part["err"] = w.sum(), (w[:, None] * err).sum(axis=0)
    return part


def _error_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out = _add([{k: v for k, v in p.items() if k != "low"} for p in parts])
    if "low" in parts[0]:
        out["low"] = np.min([p["low"] for p in parts])
    return out


def _average_outputs(scores: np.ndarray, multioutput: Any) -> Any:
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return scores
        return float(np.average(scores))
    return float(np.average(scores, weights=np.asarray(multioutput, dtype=np.float64)))


def _error_finish(total: dict[str, Any], multioutput: Any, root: bool, who: str) -> Any:
    if "low" in total and total["low"] <= -1:
        raise ValueError("Mean Squared Logarithmic Error cannot be used when targets contain values less than "
                         "or equal to -1.")
    if total["w"] == 0:
        raise ZeroDivisionError(f"{who}: the sample weights sum to zero, so the weighted average is undefined.")
    errors = total["err"] / total["w"]
    if root:
        errors = np.sqrt(errors)
    return _average_outputs(errors, multioutput)


def _error_metric(who: str, kind: str, root: bool, y_true: Any, y_pred: Any, sample_weight: Any,
                  multioutput: Any, compute: bool) -> Any:
    arrays, n_out = _regression_inputs(who, y_true, y_pred, sample_weight, multioutput)
    chunk = partial(_error_chunk, kind=kind)
    finish = partial(_error_finish, multioutput=multioutput, root=root, who=who)
    shape = (n_out,) if _is_raw(multioutput) else ()
    return _run(chunk, _error_combine, finish, arrays, (), compute, shape, f"ml-{who.replace('_', '-')}")


def mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None, multioutput: Any = "uniform_average",
                       squared: bool = True, compute: bool = True) -> Any:
    """Mean squared error; mirrors ``dask_ml.metrics.mean_squared_error`` (``squared=False``: its root).

    Parameters
    ----------
    y_true, y_pred : shoal array or series, NumPy or pandas, shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional
    multioutput : {"raw_values", "uniform_average"} or array of shape (n_outputs,)
    squared : bool
        ``False`` returns the root mean squared error (per output, then averaged).
    compute : bool
        ``False`` returns a lazy shoal array instead of a number.

    Examples
    --------
    >>> import shoal.array as sa
    >>> mean_squared_error(sa.from_array([3, -0.5, 2, 7], chunks=2), [2.5, 0.0, 2, 8])
    0.375
    """
    return _error_metric("mean_squared_error", "squared", not squared, y_true, y_pred, sample_weight,
                         multioutput, compute)


def root_mean_squared_error(y_true: Any, y_pred: Any, sample_weight: Any = None,
                            multioutput: Any = "uniform_average", compute: bool = True) -> Any:
    """Root mean squared error; mirrors ``sklearn.metrics.root_mean_squared_error``."""
    return _error_metric("root_mean_squared_error", "squared", True, y_true, y_pred, sample_weight,
                         multioutput, compute)


def mean_absolute_error(y_true: Any, y_pred: Any, sample_weight: Any = None, multioutput: Any = "uniform_average",
                        compute: bool = True) -> Any:
    """Mean absolute error; mirrors ``dask_ml.metrics.mean_absolute_error`` (see :func:`mean_squared_error`)."""
    return _error_metric("mean_absolute_error", "absolute", False, y_true, y_pred, sample_weight,
                         multioutput, compute)


def mean_squared_log_error(y_true: Any, y_pred: Any, sample_weight: Any = None,
                           multioutput: Any = "uniform_average", squared: bool = True, compute: bool = True) -> Any:
    """Mean squared error of ``log1p`` of the targets; mirrors ``dask_ml.metrics.mean_squared_log_error``.

    Raises ``ValueError`` (when the result is computed) if a target is ``<= -1``.
    """
    return _error_metric("mean_squared_log_error", "log", not squared, y_true, y_pred, sample_weight,
                         multioutput, compute)


# -- r2 -----------------------------------------------------------------------------------------------------
def _r2_chunk(yt: Any, yp: Any, *rest: Any, block_id: int = 0) -> dict[str, Any]:
    w = rest[0] if rest else None
    _same_length(block_id, yt, yp, w)
    t, p = _as_2d(yt), _as_2d(yp)
    ww = np.ones(len(t)) if w is None else np.asarray(w, dtype=np.float64)
    W = ww.sum()
    mean = (ww[:, None] * t).sum(axis=0) / W if W > 0 else np.zeros(t.shape[1])
    return {"n": np.float64(len(t)), "num": (ww[:, None] * (t - p) ** 2).sum(axis=0),
            "moments": (W, mean, (ww[:, None] * (t - mean) ** 2).sum(axis=0))}


def _r2_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    moments = parts[0]["moments"]
    for p in parts[1:]:
        moments = merge_moments(moments, p["moments"])
    return {"n": sum(p["n"] for p in parts), "num": sum(p["num"] for p in parts), "moments": moments}


def _r2_finish(total: dict[str, Any], multioutput: Any, force_finite: bool) -> Any:
    if total["n"] < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    num, den = total["num"], total["moments"][2]
    if not force_finite:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - num / den
    else:
        scores = np.ones_like(num)
        valid = (den != 0) & (num != 0)
        scores[valid] = 1 - num[valid] / den[valid]
        scores[(num != 0) & (den == 0)] = 0.0
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        return float(np.average(scores, weights=den if np.any(den != 0) else None))
    return _average_outputs(scores, multioutput)


def r2_score(y_true: Any, y_pred: Any, sample_weight: Any = None, multioutput: Any = "uniform_average",
             force_finite: bool = True, compute: bool = True) -> Any:
    """Coefficient of determination R²; mirrors ``dask_ml.metrics.r2_score`` and scikit-learn's.

    ``multioutput`` may also be ``"variance_weighted"``. Constant ``y_true``
    scores 1.0 for perfect predictions and 0.0 otherwise unless
    ``force_finite=False``.

    Examples
    --------
    >>> import shoal.array as sa
    >>> round(r2_score(sa.from_array([3, -0.5, 2, 7], chunks=2), [2.5, 0.0, 2, 8]), 6)
    0.948608
    """
    arrays, n_out = _regression_inputs("r2_score", y_true, y_pred, sample_weight, multioutput)
    finish = partial(_r2_finish, multioutput=multioutput, force_finite=force_finite)
    shape = (n_out,) if _is_raw(multioutput) else ()
    return _run(_r2_chunk, _r2_combine, finish, arrays, (), compute, shape, "ml-r2-score")


# -- classification ---------------------------------------------------------------------------------------
def _accuracy_chunk(yt: Any, yp: Any, *rest: Any, block_id: int = 0) -> dict[str, Any]:
    w = rest[0] if rest else None
    _same_length(block_id, yt, yp, w)
    yt, yp = np.asarray(yt), np.asarray(yp)
    hits = (yt == yp) if yt.ndim == 1 else (yt == yp).all(axis=1)
    if w is None:
        return {"hits": np.float64(hits.sum()), "w": np.float64(len(hits))}
    w = np.asarray(w, dtype=np.float64)
    return {"hits": (w * hits).sum(), "w": w.sum()}


def _accuracy_finish(total: dict[str, Any], normalize: bool) -> float:
    return float(total["hits"] / total["w"]) if normalize else float(total["hits"])


def accuracy_score(y_true: Any, y_pred: Any, normalize: bool = True, sample_weight: Any = None,
                   compute: bool = True) -> Any:
    """Fraction (``normalize=False``: weighted count) of rows predicted exactly; mirrors ``dask_ml``'s.

    2-d label arrays (multilabel) count a row as correct only if every label matches.

    Examples
    --------
    >>> import shoal.array as sa
    >>> accuracy_score(sa.from_array([0, 1, 2, 3], chunks=2), [0, 2, 1, 3])
    0.5
    """
    arrays = align_rows([("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sample_weight)])
    if arrays[0].shape[1:] != arrays[1].shape[1:]:
        raise ValueError(f"accuracy_score: y_true and y_pred have different shapes {arrays[0].shape} and "
                         f"{arrays[1].shape}.")
    finish = partial(_accuracy_finish, normalize=normalize)
    return _run(_accuracy_chunk, _add, finish, arrays, (), compute, (), "ml-accuracy")


def _log_loss_chunk(yt: Any, yp: Any, *rest: Any, block_id: int = 0) -> dict[str, Any]:
    w = rest[0] if rest else None
    _same_length(block_id, yt, yp, w)
    yt = np.asarray(yt)
    p = np.asarray(yp)
    if p.dtype.kind != "f":
        p = p.astype(np.float64)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    eps = np.finfo(p.dtype).eps
    sums_ok = bool(np.all(np.isclose(p.sum(axis=1), 1, rtol=np.sqrt(eps)))) if len(p) else True
    logp = np.log(np.clip(p, eps, 1 - eps)).astype(np.float64)
    ww = np.ones(len(p)) if w is None else np.asarray(w, dtype=np.float64)
    classes, codes = np.unique(yt, return_inverse=True)
    per_class = np.zeros((len(classes), p.shape[1]))
    np.add.at(per_class, codes.ravel(), ww[:, None] * logp)
    return {"classes": classes, "logsum": per_class, "w": ww.sum(), "n": len(p), "k": p.shape[1],
            "max": p.max(initial=-np.inf), "min": p.min(initial=np.inf), "sums_ok": sums_ok}


def _log_loss_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    classes = np.unique(np.concatenate([p["classes"] for p in parts]))
    logsum = np.zeros((len(classes), parts[0]["k"]))
    for p in parts:
        logsum[np.searchsorted(classes, p["classes"])] += p["logsum"]
    return {"classes": classes, "logsum": logsum, "w": sum(p["w"] for p in parts), "n": sum(p["n"] for p in parts),
            "k": parts[0]["k"], "max": max(p["max"] for p in parts), "min": min(p["min"] for p in parts),
            "sums_ok": all(p["sums_ok"] for p in parts)}


def _log_loss_finish(total: dict[str, Any], labels: Any, normalize: bool) -> float:
    if total["max"] > 1:
        raise ValueError(f"y_prob contains values greater than 1: {total['max']}")
    if total["min"] < 0:
        raise ValueError(f"y_prob contains values lower than 0: {total['min']}")
    found = total["classes"]
    if labels is not None:
        classes = np.unique(np.asarray(labels))
        if not np.array_equal(classes, np.asarray(labels)):
            warnings.warn(f"Labels passed were {labels}. But this function assumes labels are ordered "
                          f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that the "
                          f"columns of y_prob correspond to this ordering.", UserWarning, stacklevel=2)
        missing = set(found.tolist()) - set(classes.tolist())
        if missing:
            raise ValueError(f"y_true contains values {missing} not belonging to the passed labels {labels}.")
        if len(classes) == 1:
            raise ValueError(f"The labels array needs to contain at least two labels, got {classes}.")
    else:
        classes = found
        if len(classes) == 1:
            raise ValueError(f"y_true contains only one label ({classes[0]}). Please provide the list of all "
                             f"expected class labels explicitly through the labels argument.")
    if not total["sums_ok"]:
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.", UserWarning,
                      stacklevel=2)
    if len(classes) != total["k"]:
        if labels is None:
            raise ValueError(f"y_true and y_prob contain different number of classes: {len(classes)} vs "
                             f"{total['k']}. Please provide the true labels explicitly through the labels "
                             f"argument. Classes found in y_true: {classes}")
        raise ValueError(f"The number of classes in labels is different from that in y_prob. Classes found in "
                         f"labels: {classes}")
    cols = np.searchsorted(classes, found)
    loss = -total["logsum"][np.arange(len(found)), cols].sum()
    return float(loss / total["w"]) if normalize else float(loss)


def log_loss(y_true: Any, y_pred: Any, normalize: bool = True, sample_weight: Any = None, labels: Any = None,
             compute: bool = True) -> Any:
    """Cross-entropy of predicted probabilities; mirrors ``dask_ml.metrics.log_loss`` and scikit-learn's.

    ``y_pred`` holds one column of probabilities per class, in sorted label
    order (or, for two classes, the probability of the second as a 1-d
    array). Probabilities are clipped to ``[eps, 1 - eps]`` for their dtype, as
    scikit-learn does. The class labels are gathered in the same pass.

    Examples
    --------
    >>> import shoal.array as sa
    >>> y = sa.from_array(["spam", "ham", "ham", "spam"], chunks=2)
    >>> round(log_loss(y, [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 5)
    0.21616
    """
    arrays = align_rows([("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sample_weight)])
    if arrays[0].ndim != 1:
        raise ValueError(f"log_loss: y_true must be 1-dimensional (one label per sample), got shape "
                         f"{arrays[0].shape}.")
    finish = partial(_log_loss_finish, labels=labels, normalize=normalize)
    return _run(_log_loss_chunk, _log_loss_combine, finish, arrays, (), compute, (), "ml-log-loss")

"""Row-block plumbing shared by the memory-bound estimators of :mod:`shoal.ml`.

Model
    An estimator sees its training data as a column of **row blocks**: ``X`` is a
    2-D shoal array with one block across the columns, ``y`` a 1-D (or 2-D) shoal
    array cut at the same rows. Every pass over the data is one **tree
    reduction**: a ``chunk`` function turns each row block (plus small NumPy
    parameters such as the current coefficients or centers) into a small partial
    result, and a ``combine`` function merges lists of at most ``split_every``
    partials, level after level, until one is left. Only partials, never rows,
    travel up the tree, so data larger than memory streams through the
    scheduler one block at a time.

    NumPy inputs are wrapped with :func:`shoal.array.from_array` and follow the
    same path; pandas objects are converted with ``to_numpy()`` and shoal
    dataframes with ``to_dask_array(lengths=True)`` (which knows its row counts).

    Prediction maps a function over the row blocks (:func:`map_rows`): lazy for
    shoal input, plain NumPy for NumPy input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import shoal
import shoal.array as sa
from shoal.array import Array
from shoal.base import is_dask_collection
from shoal.delayed import Delayed
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["accuracy", "as_design", "as_rows", "as_target", "is_lazy", "map_rows", "merge_moments", "moments",
           "tree_reduce"]

#: Partials merged by one combine task (the fan-in of the reduction tree).
SPLIT_EVERY = 16


def is_lazy(X: Any) -> bool:
    """Whether ``X`` is a shoal collection (its predictions should stay lazy)."""
    return is_dask_collection(X)


def _to_array(obj: Any, what: str) -> Any:
    """A shoal array for a shoal collection, else a NumPy array."""
    if isinstance(obj, Array):
        return obj
    if is_dask_collection(obj):
        if hasattr(obj, "to_dask_array"):
            return obj.to_dask_array(lengths=True)
        raise TypeError(f"{what} is a {type(obj).__name__}; pass a shoal array or dataframe, or a NumPy array.")
    if hasattr(obj, "to_numpy"):  # pandas
        return obj.to_numpy()
    return np.asarray(obj)


def _need_known_rows(x: Array, what: str) -> None:
    if any(np.isnan(c) for c in x.chunks[0]):
        raise ValueError(
            f"{what} has unknown block lengths along the rows (chunks {x.chunks[0]}), so it cannot be "
            f"matched with the other inputs. Call {what}.compute_chunk_sizes() first, or convert a "
            f"dataframe with df.to_dask_array(lengths=True)."
        )


def as_design(X: Any, *, what: str = "X", n_features: int | None = None) -> Array:
    """``X`` as a 2-D shoal array with known row blocks and one block across the columns.

    Parameters
    ----------
    X : shoal array or dataframe, NumPy array, pandas DataFrame or array-like
        The samples, one per row.
    what : str
        The name used for ``X`` in error messages.
    n_features : int, optional
        The number of columns the fitted estimator expects.
    """
    x = _to_array(X, what)
    if x.ndim != 2:
        raise ValueError(
            f"{what} must be 2-dimensional (n_samples, n_features), got shape {x.shape}. Reshape a single "
            f"feature with {what}.reshape(-1, 1), or a single sample with {what}.reshape(1, -1)."
        )
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got dtype {x.dtype}. Encode categories as numbers first.")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{what} has {x.shape[1]} features, but the estimator was fitted with {n_features}.")
    if x.shape[0] == 0:
        raise ValueError(f"{what} has 0 samples; at least one is required.")
    if isinstance(x, np.ndarray):
        return sa.from_array(x, chunks=("auto", -1))
    _need_known_rows(x, what)
    if x.numblocks[1] != 1:
        x = x.rechunk({1: -1})
    return x


def as_target(y: Any, X: Array, *, what: str = "y", allow_2d: bool = False) -> Array:
    """``y`` as a shoal array cut at the same rows as ``X`` (see :func:`as_design`)."""
    t = _to_array(y, what)
    if t.ndim == 2 and t.shape[1] == 1 and not allow_2d:
        t = t[:, 0]
    if t.ndim != 1 and not (allow_2d and t.ndim == 2):
        shape = "(n_samples,) or (n_samples, n_targets)" if allow_2d else "(n_samples,)"
        raise ValueError(f"{what} must have shape {shape}, got shape {t.shape}.")
    if t.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and {what} have different numbers of samples: {X.shape[0]} and {t.shape[0]}. Pass one "
            f"target per row of X."
        )
    row_chunks = X.chunks[0]
    if isinstance(t, np.ndarray):
        return sa.from_array(t, chunks=(row_chunks,) + tuple((s,) for s in t.shape[1:]))
    _need_known_rows(t, what)
    wanted = (row_chunks,) + tuple((s,) for s in t.shape[1:])
    if t.chunks != wanted:
        t = t.rechunk(wanted)
    return t


def as_rows(X: Any, *, what: str = "X", n_features: int | None = None) -> tuple[Any, bool]:
    """``X`` prepared for prediction: ``(array, lazy)``; NumPy stays NumPy."""
    if is_lazy(X):
        return as_design(X, what=what, n_features=n_features), True
    x = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X)
    if x.ndim != 2:
        raise ValueError(
            f"{what} must be 2-dimensional (n_samples, n_features), got shape {x.shape}. Reshape a single "
            f"sample with {what}.reshape(1, -1)."
        )
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{what} has {x.shape[1]} features, but the estimator was fitted with {n_features}.")
    return x, False


def _block_key(a: Array, i: int) -> tuple[Any, ...]:
    return (a.name, i) + (0,) * (a.ndim - 1)


def tree_reduce(chunk: Callable[..., Any], combine: Callable[[list[Any]], Any], arrays: Sequence[Array],
                *args: Any, split_every: int = SPLIT_EVERY, name: str = "ml-reduce",
                with_block_id: bool = False) -> Delayed:
    """One pass over the row blocks of ``arrays``, as a lazy tree reduction.

    Parameters
    ----------
    chunk : callable
        ``chunk(block_0, block_1, ..., *args)`` with the i-th row block of each
        array; returns a partial result.
    combine : callable
        Merges a list of partials into one partial (it is also the last step).
    arrays : sequence of shoal arrays
        Cut at the same rows, each with a single block along the other axes.
    *args
        Small values passed to every ``chunk`` call (NumPy parameters).
    with_block_id : bool
        Also pass ``block_id=i`` (the row block's index), e.g. to seed a
        different random stream in every block.

    Returns
    -------
    Delayed
        The combined partial; compute several passes together with
        :func:`shoal.compute`.
    """
    nblocks = arrays[0].numblocks[0]
    token = tokenize(chunk, combine, [a.name for a in arrays], args, with_block_id)
    layer: dict[Any, Any] = {}
    level = []
    for i in range(nblocks):
        key = (f"{name}-chunk-{token}", i)
        kwargs = {"block_id": i} if with_block_id else {}
        layer[key] = Task(key, chunk, *(Ref(_block_key(a, i)) for a in arrays), *args, **kwargs)
        level.append(key)
    root = combine_tree(layer, level, combine, f"{name}-combine-{token}", split_every)
    return Delayed(root, None, deps=tuple(arrays), layer=layer)


def combine_tree(layer: dict[Any, Any], level: list[Any], combine: Callable[[list[Any]], Any], prefix: str,
                 split_every: int) -> Any:
    """Add to ``layer`` the tasks that combine ``level``'s results ``split_every`` at a time, in order, until
    one is left; return its key. There is always at least one combine, so single-block inputs get the same
    final shape."""
    depth = 0
    while len(level) > 1 or depth == 0:
        depth += 1
        groups = [level[j:j + split_every] for j in range(0, len(level), split_every)]
        level = []
        for j, group in enumerate(groups):
            key = (prefix, depth, j)
            layer[key] = Task(key, combine, [Ref(k) for k in group])
            level.append(key)
    return level[0]


def map_rows(func: Callable[..., Any], X: Any, lazy: bool, *args: Any, n_columns: int | None = None,
             dtype: Any = np.float64) -> Any:
    """Apply ``func(block, *args)`` to every row block; one output row per input row.

    ``n_columns=None`` means a 1-D result. Lazy input gives a lazy shoal array.
    """
    if not lazy:
        return func(X, *args)
    if n_columns is None:
        return sa.map_blocks(func, X, *args, dtype=dtype, chunks=(X.chunks[0],), drop_axis=1,
                             meta=np.empty((0,), dtype=dtype))
    return sa.map_blocks(func, X, *args, dtype=dtype, chunks=(X.chunks[0], (n_columns,)),
                         meta=np.empty((0, 0), dtype=dtype))


def accuracy(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
    """Mean (optionally weighted) accuracy of ``estimator.predict(X)`` against ``y``, in one pass."""
    x, lazy = as_rows(X, n_features=getattr(estimator, "n_features_in_", None))
    pred = estimator.predict(x)
    if not lazy:
        hits = (pred == np.asarray(y)).astype(np.float64)
        return float(np.average(hits, weights=None if sample_weight is None else np.asarray(sample_weight)))
    t = as_target(y, x)
    hits = (pred == t).astype(np.float64)
    if sample_weight is None:
        return float(hits.mean().compute())
    w = as_target(sample_weight, x, what="sample_weight")
    num, den = shoal.compute((hits * w).sum(), w.sum())
    return float(num / den)


def moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(count, mean, M2)`` of the rows of ``x``, M2 being the sum of squared deviations per column."""
    n = np.float64(x.shape[0])
    mean = x.mean(axis=0) if x.shape[0] else np.zeros(x.shape[1:])
    return np.array(n), mean, ((x - mean) ** 2).sum(axis=0)


def merge_moments(a: tuple[Any, Any, Any], b: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    """Merge two ``(count, mean, M2)`` (Chan, Golub and LeVeque's pairwise update).

    Counts may be 0, and may be vectors (one per class) with means and M2 of one
    more dimension; the result is as accurate as a two-pass variance.
    """
    na, ma, m2a = a
    nb, mb, m2b = b
    n = na + nb
    safe = np.where(n > 0, n, 1.0)
    delta = mb - ma
    share_b, cross = nb / safe, na * nb / safe
    if np.ndim(n):
        share_b, cross = share_b[..., None], cross[..., None]
    return n, ma + delta * share_b, m2a + m2b + delta ** 2 * cross

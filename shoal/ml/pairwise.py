"""Distances between the rows of shoal arrays, block pair by block pair; mirrors ``dask_ml.metrics.pairwise``.

Block ``(i, j)`` of the result is scikit-learn's own function on row block
``i`` of ``X`` and row block ``j`` of ``Y`` (``X`` itself when ``Y`` is
omitted, with an exact zero diagonal as scikit-learn gives). Re-exported by
:mod:`shoal.ml.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn.metrics

import shoal.array as sa
from shoal.array import Array
from shoal.ml._ml3_util import align_rows, to_lazy_array

__all__ = ["euclidean_distances", "pairwise_distances"]


def _zero_diagonal(d: np.ndarray, diagonal: bool) -> np.ndarray:
    # scikit-learn zeroes the diagonal when Y is X (rounding would leave ~1e-8 there); a diagonal block is
    # square because X's row blocks are also Y's.
    if diagonal:
        np.fill_diagonal(d, 0.0)
    return d


def _pairwise_block(x: np.ndarray, y: np.ndarray, metric: Any, kwargs: dict[str, Any],
                    diagonal: bool = False) -> np.ndarray:
    d = np.asarray(sklearn.metrics.pairwise_distances(x, y, metric=metric, **kwargs), dtype=np.float64)
    return _zero_diagonal(d, diagonal and metric == "euclidean")


def _diagonal_blocks(index: tuple[int, ...]) -> dict[str, Any]:
    return {"diagonal": index[0] == index[1]}


def _design(X: Any, what: str) -> Any:
    x = to_lazy_array(X, what)
    if x.ndim != 2:
        raise ValueError(f"{what} must be 2-dimensional (n_samples, n_features), got shape {x.shape}.")
    if isinstance(x, Array) and x.numblocks[1] != 1:
        x = x.rechunk({1: -1})
    return x


def _pair(X: Any, Y: Any) -> tuple[Any, Any]:
    x = _design(X, "X")
    y = x if Y is None else _design(Y, "Y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"Incompatible dimension for X and Y matrices: X.shape[1] == {x.shape[1]} while "
                         f"Y.shape[1] == {y.shape[1]}.")
    return x, y


def pairwise_distances(X: Any, Y: Any = None, metric: Any = "euclidean", n_jobs: int | None = None,
                       **kwargs: Any) -> Any:
    """Distances between the rows of ``X`` and of ``Y`` (default ``X``); mirrors ``dask_ml``'s.

    Block ``(i, j)`` of the result is ``sklearn.metrics.pairwise_distances``
    of row block ``i`` of ``X`` and row block ``j`` of ``Y`` (NumPy ``Y`` is one
    block). NumPy ``X`` and ``Y`` give a NumPy array. ``n_jobs`` is accepted for
    compatibility and ignored: the blocks are the parallelism.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> d = pairwise_distances(sa.from_array(np.eye(3), chunks=(2, 3)), np.zeros((1, 3)))
    >>> d.chunks, d.compute().ravel().tolist()
    (((2, 1), (1,)), [1.0, 1.0, 1.0])
    """
    x, y = _pair(X, Y)
    if not isinstance(x, Array) and not isinstance(y, Array):
        return sklearn.metrics.pairwise_distances(x, y, metric=metric, **kwargs)
    if not isinstance(x, Array):
        x = sa.from_array(x, chunks=(x.shape[0], x.shape[1]))
    extra: dict[str, Any] = {"new_axes": {"j": y.shape[0]}} if not isinstance(y, Array) else {}
    if Y is None:
        extra["block_kwargs"] = _diagonal_blocks
    return sa.blockwise(_pairwise_block, "ij", x, "ik", y, "jk" if isinstance(y, Array) else None,
                        metric, None, kwargs, None, dtype=np.float64, concatenate=True, **extra)


def _euclidean_block(x: np.ndarray, y: np.ndarray, xx: Any, yy: Any, squared: bool,
                     diagonal: bool = False) -> np.ndarray:
    d = sklearn.metrics.pairwise.euclidean_distances(
        x, y, X_norm_squared=None if xx is None else np.asarray(xx).reshape(-1, 1),
        Y_norm_squared=None if yy is None else np.asarray(yy).reshape(1, -1), squared=squared)
    return _zero_diagonal(d, diagonal)


def euclidean_distances(X: Any, Y: Any = None, Y_norm_squared: Any = None, squared: bool = False,
                        X_norm_squared: Any = None) -> Any:
    """Euclidean distances between rows, block by block; mirrors ``dask_ml.metrics.euclidean_distances``.

    ``X_norm_squared`` / ``Y_norm_squared`` (precomputed squared row norms,
    1-d or a column / row) are cut with the rows of ``X`` / ``Y``.
    """
    x, y = _pair(X, Y)
    if not isinstance(x, Array) and not isinstance(y, Array):
        return sklearn.metrics.pairwise.euclidean_distances(x, y, Y_norm_squared=Y_norm_squared, squared=squared,
                                                            X_norm_squared=X_norm_squared)
    if not isinstance(x, Array):
        x = sa.from_array(x, chunks=(x.shape[0], x.shape[1]))
    args: list[Any] = [x, "ik"]
    args += [y, "jk"] if isinstance(y, Array) else [y, None]
    if X_norm_squared is None:
        args += [None, None]
    else:
        (xx,) = align_rows([("X_norm_squared", np.ravel(X_norm_squared) if not isinstance(
            X_norm_squared, Array) else X_norm_squared.ravel())])
        xx = xx.rechunk({0: x.chunks[0]}) if xx.chunks[0] != x.chunks[0] else xx
        args += [xx, "i"]
    if Y_norm_squared is None:
        args += [None, None]
    elif isinstance(y, Array):
        yy = Y_norm_squared.ravel() if isinstance(Y_norm_squared, Array) else sa.from_array(
            np.ravel(Y_norm_squared), chunks=(y.chunks[0],))
        yy = yy.rechunk({0: y.chunks[0]}) if yy.chunks[0] != y.chunks[0] else yy
        args += [yy, "j"]
    else:
        args += [np.ravel(Y_norm_squared), None]
    extra: dict[str, Any] = {"new_axes": {"j": y.shape[0]}} if not isinstance(y, Array) else {}
    if Y is None:
        extra["block_kwargs"] = _diagonal_blocks
    return sa.blockwise(_euclidean_block, "ij", *args, bool(squared), None, dtype=np.float64, concatenate=True,
                        **extra)

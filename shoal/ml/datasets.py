"""Random data sets as shoal arrays, generated block by block; mirrors ``dask_ml.datasets``.

Model
    A generator draws its few global parameters (centers, coefficients, the
    informative columns) once, in the calling process, from a stream seeded by
    ``random_state``. The rows are made lazily, one task per row block: block
    ``i`` draws from its own stream ``default_rng([seed, tag, i])``, so blocks
    are independent, any block can be recomputed alone with the same values,
    and a fixed ``random_state`` reproduces the arrays exactly. As in
    ``dask_ml``, the values depend on ``chunks`` (each block is its own sample),
    and arrays are cut along the rows only.

All generators take ``chunks=`` (rows per block, or a tuple of block lengths)
and return ``X`` with one block of columns and ``y`` cut at the same rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn.datasets
from scipy.special import expit, softmax

from shoal.array import Array
from shoal.ml._ml3_util import arrays_from_blocks, block_rng, root_seed, row_chunks_for

__all__ = ["make_blobs", "make_classification", "make_counts", "make_regression"]

# Stream tags: one per use of the root seed, so no two uses share random numbers.
_GLOBAL, _ROWS = 0, 1


def _check_positive(who: str, **values: Any) -> None:
    for name, value in values.items():
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}.")


def _informative(who: str, rng: np.random.Generator, n_features: int, n_informative: int,
                 scale: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < n_informative <= n_features:
        raise ValueError(f"{who}: n_informative must be between 1 and n_features={n_features}, got {n_informative}.")
    idx = np.sort(rng.choice(n_features, n_informative, replace=False))
    beta = (rng.random(n_features) - 1.0) * scale
    return idx, beta


# -- make_counts ----------------------------------------------------------------------------------------
def _counts_block(i: int, n: int, seed: int, p: int, idx: np.ndarray, beta: np.ndarray) -> tuple[Any, Any]:
    rng = block_rng(seed, _ROWS, i)
    X = rng.standard_normal((n, p))
    rate = np.exp(X[:, idx] @ beta[idx])
    return X, rng.poisson(rate).astype(np.int64)


def make_counts(n_samples: int = 1000, n_features: int = 100, n_informative: int = 2, scale: float = 1.0,
                chunks: Any = 100, random_state: Any = None) -> tuple[Array, Array]:
    """A Poisson regression problem: counts ``y`` with log-rate linear in a few columns of ``X``.

    ``X`` is standard normal; ``n_informative`` columns, chosen at random, carry
    coefficients drawn uniformly from ``(-scale, 0]``; ``y ~ Poisson(exp(X @ beta))``.
    Mirrors ``dask_ml.datasets.make_counts``.

    Parameters
    ----------
    n_samples, n_features, n_informative : int
    scale : float
        Scale of the true coefficients.
    chunks : int or tuple
        Rows per block.
    random_state : int, RandomState, Generator or None

    Returns
    -------
    X : Array of float64, shape (n_samples, n_features)
    y : Array of int64, shape (n_samples,)

    Examples
    --------
    >>> X, y = make_counts(n_samples=20, n_features=4, chunks=10, random_state=0)
    >>> X.chunks, y.dtype
    (((10, 10), (4,)), dtype('int64'))
    """
    _check_positive("make_counts", n_samples=n_samples, n_features=n_features)
    seed = root_seed(random_state)
    idx, beta = _informative("make_counts", block_rng(seed, _GLOBAL, 0), n_features, n_informative, scale)
    rows = row_chunks_for(chunks, n_samples, n_features, "make_counts")
    X, y = arrays_from_blocks(_counts_block, rows, (seed, n_features, idx, beta),
                              [((n_features,), np.float64), ((), np.int64)], "make-counts")
    return X, y


# -- make_classification --------------------------------------------------------------------------------
def _classification_block(i: int, n: int, seed: int, p: int, idx: np.ndarray, betas: np.ndarray) -> tuple[Any, Any]:
    rng = block_rng(seed, _ROWS, i)
    X = rng.standard_normal((n, p))
    z = X[:, idx] @ betas[:, idx].T  # one column of log-odds per class beyond the first
    u = rng.random(n)
    if betas.shape[0] == 1:
        return X, (u < expit(z[:, 0])).astype(np.int64)
    # Multinomial logistic model: class c with probability softmax([0, z_1, ..., z_k-1])_c.
    proba = softmax(np.column_stack([np.zeros(n), z]), axis=1)
    y = (u[:, None] > np.cumsum(proba, axis=1)[:, :-1]).sum(axis=1)
    return X, y.astype(np.int64)


def make_classification(n_samples: int = 100, n_features: int = 20, n_informative: int = 2, n_classes: int = 2,
                        scale: float = 1.0, random_state: Any = None, chunks: Any = None) -> tuple[Array, Array]:
    """A logistic-regression classification problem; mirrors ``dask_ml.datasets.make_classification``.

    ``X`` is standard normal; ``n_informative`` random columns drive the
    classes. With two classes ``P(y = 1) = expit(X @ beta)`` with ``beta``
    uniform in ``(-scale, 0]`` on the informative columns (as ``dask_ml``); with
    more, a multinomial logistic model with one such ``beta`` per class
    beyond the first.

    Returns
    -------
    X : Array of float64, shape (n_samples, n_features)
    y : Array of int64 in ``range(n_classes)``, shape (n_samples,)

    Examples
    --------
    >>> X, y = make_classification(n_samples=30, n_features=5, chunks=10, random_state=1)
    >>> X.shape, y.chunks
    ((30, 5), ((10, 10, 10),))
    """
    _check_positive("make_classification", n_samples=n_samples, n_features=n_features)
    if not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise ValueError(f"make_classification: n_classes must be an integer >= 2, got {n_classes!r}.")
    seed = root_seed(random_state)
    rng = block_rng(seed, _GLOBAL, 0)
    idx, beta = _informative("make_classification", rng, n_features, n_informative, scale)
    extra = [(rng.random(n_features) - 1.0) * scale for _ in range(n_classes - 2)]
    betas = np.vstack([beta, *extra])
    rows = row_chunks_for(chunks, n_samples, n_features, "make_classification")
    X, y = arrays_from_blocks(_classification_block, rows, (seed, n_features, idx, betas),
                              [((n_features,), np.float64), ((), np.int64)], "make-classification")
    return X, y


# -- make_regression ------------------------------------------------------------------------------------
def _regression_block(i: int, n: int, seed: int, p: int, effective_rank: int | None, tail_strength: float,
                      coef: np.ndarray, bias: float, noise: float, columns: np.ndarray | None,
                      shuffle: bool) -> tuple[Any, Any]:
    rng = block_rng(seed, _ROWS, i)
    if effective_rank is None:
        X = rng.standard_normal((n, p))
    else:
        state = np.random.RandomState(rng.integers(np.iinfo(np.int32).max))
        X = sklearn.datasets.make_low_rank_matrix(n_samples=n, n_features=p, effective_rank=effective_rank,
                                                  tail_strength=tail_strength, random_state=state)
    if columns is not None:
        X = X[:, columns]
    y = X @ coef + bias
    if noise > 0.0:
        y = y + rng.normal(scale=noise, size=y.shape)
    if shuffle:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    return X, (y[:, 0] if y.shape[1] == 1 else y)


def make_regression(n_samples: int = 100, n_features: int = 100, n_informative: int = 10, n_targets: int = 1,
                    bias: float = 0.0, effective_rank: int | None = None, tail_strength: float = 0.5,
                    noise: float = 0.0, shuffle: bool = True, coef: bool = False, random_state: Any = None,
                    chunks: Any = None) -> tuple[Any, ...]:
    """A linear regression problem ``y = X @ coef + bias + noise``; mirrors ``dask_ml.datasets.make_regression``.

    As ``sklearn.datasets.make_regression``: ``n_informative`` columns get
    coefficients uniform in ``[0, 100)``, the others 0; ``noise`` is the
    standard deviation of Gaussian noise added to ``y``. ``shuffle`` permutes
    the columns (globally, with ``coef``) and the rows within each block.
    With ``effective_rank``, each block is an approximately low-rank matrix
    from ``sklearn.datasets.make_low_rank_matrix``.

    Returns
    -------
    X : Array of float64, shape (n_samples, n_features)
    y : Array of float64, shape (n_samples,) or (n_samples, n_targets)
    coef : numpy.ndarray, shape (n_features,) or (n_features, n_targets)
        Only if ``coef=True``.

    Examples
    --------
    >>> X, y, w = make_regression(n_samples=40, n_features=3, n_informative=2, chunks=20, coef=True, random_state=0)
    >>> import numpy as np
    >>> bool(np.allclose(y.compute(), X.compute() @ w))
    True
    """
    _check_positive("make_regression", n_samples=n_samples, n_features=n_features, n_targets=n_targets)
    if not 0 <= n_informative <= n_features:
        raise ValueError(f"make_regression: n_informative must be between 0 and n_features={n_features}, "
                         f"got {n_informative}.")
    if noise < 0:
        raise ValueError(f"make_regression: noise is a standard deviation and must be >= 0, got {noise}.")
    seed = root_seed(random_state)
    rng = block_rng(seed, _GLOBAL, 0)
    truth = np.zeros((n_features, n_targets))
    truth[:n_informative, :] = 100.0 * rng.uniform(size=(n_informative, n_targets))
    columns = None
    if shuffle:
        columns = rng.permutation(n_features)
        truth = truth[columns]
    rows = row_chunks_for(chunks, n_samples, n_features, "make_regression")
    y_shape = () if n_targets == 1 else (n_targets,)
    X, y = arrays_from_blocks(
        _regression_block, rows,
        (seed, n_features, effective_rank, tail_strength, truth, float(bias), float(noise), columns, bool(shuffle)),
        [((n_features,), np.float64), (y_shape, np.float64)], "make-regression")
    if coef:
        return X, y, (truth[:, 0] if n_targets == 1 else truth)
    return X, y


# -- make_blobs -----------------------------------------------------------------------------------------
def _blobs_block(i: int, n: int, seed: int, centers: np.ndarray, cluster_std: Any,
                 shuffle: bool) -> tuple[Any, Any]:
    state = np.random.RandomState(block_rng(seed, _ROWS, i).integers(np.iinfo(np.int32).max))
    X, y = sklearn.datasets.make_blobs(n_samples=n, n_features=centers.shape[1], centers=centers,
                                       cluster_std=cluster_std, shuffle=shuffle, random_state=state)
    return X.astype(np.float64, copy=False), y.astype(np.int64, copy=False)


def make_blobs(n_samples: int = 100, n_features: int = 2, centers: Any = None, cluster_std: Any = 1.0,
               center_box: tuple[float, float] = (-10.0, 10.0), shuffle: bool = True, random_state: Any = None,
               chunks: Any = None) -> tuple[Array, Array]:
    """Isotropic Gaussian blobs for clustering; mirrors ``dask_ml.datasets.make_blobs``.

    The centers (``centers`` of them if an int, 3 if None, drawn uniformly in
    ``center_box``; or given as an array) are shared by all blocks; each block
    is ``sklearn.datasets.make_blobs`` of its rows around them, with its own
    random stream.

    Returns
    -------
    X : Array of float64, shape (n_samples, n_features)
    y : Array of int64, shape (n_samples,): the blob of each row

    Examples
    --------
    >>> X, y = make_blobs(n_samples=60, centers=[[0, 0], [10, 10]], chunks=20, random_state=0)
    >>> X.shape, y.numblocks
    ((60, 2), (3,))
    """
    _check_positive("make_blobs", n_samples=n_samples, n_features=n_features)
    seed = root_seed(random_state)
    if centers is None or isinstance(centers, int | np.integer):
        n_centers = 3 if centers is None else int(centers)
        if n_centers < 1:
            raise ValueError(f"make_blobs: centers must be >= 1, got {centers}.")
        lo, hi = center_box
        centers = block_rng(seed, _GLOBAL, 0).uniform(lo, hi, size=(n_centers, n_features))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2:
            raise ValueError(f"make_blobs: centers must be an int or an array of shape (n_centers, n_features), "
                             f"got shape {centers.shape}.")
        n_features = centers.shape[1]
    if np.ndim(cluster_std) and len(cluster_std) != len(centers):
        raise ValueError(f"make_blobs: cluster_std has {len(cluster_std)} entries for {len(centers)} centers; "
                         f"pass one per center or a single number.")
    rows = row_chunks_for(chunks, n_samples, n_features, "make_blobs")
    X, y = arrays_from_blocks(_blobs_block, rows, (seed, centers, cluster_std, bool(shuffle)),
                              [((n_features,), np.float64), ((), np.int64)], "make-blobs")
    return X, y

"""PCA, incremental PCA and truncated SVD of tall-and-skinny shoal arrays; mirrors ``dask_ml.decomposition``.

Model
    The data ``X`` (``n_samples x n_features``, many row blocks, one block of
    columns) is factored without ever being gathered:

    - ``"tsqr"`` (and ``"full"``, the same thing here): the exact thin SVD by
      TSQR (:func:`shoal.array.linalg.svd`): each row block is QR-factored, only
      the small ``R`` factors travel up a tree, and the SVD of the last ``R``
      gives the singular values and right singular vectors. Results equal
      LAPACK's SVD of the whole matrix to rounding.
    - ``"randomized"``: Halko, Martinsson and Tropp's randomized SVD
      (:func:`shoal.array.linalg.svd_compressed`), for a few components of a
      wide ``X``; ``iterated_power`` power iterations sharpen it.

    :class:`PCA` centers ``X`` lazily (``X - X.mean(0)``) before factoring;
    every statistic it needs (mean, singular values, total variance) comes out
    of one :func:`shoal.compute`. Signs of the components are fixed as
    scikit-learn fixes them (the largest entry of each component in absolute
    value is positive), so ``components_`` compare equal to scikit-learn's.

    :class:`IncrementalPCA` folds batches into a running factorization, as
    scikit-learn's does; its update rule and task graphs live in
    :mod:`shoal.ml._incremental_pca`.

``transform``, ``inverse_transform`` and ``fit_transform`` are lazy for shoal
input (one task per row block) and plain NumPy for NumPy input.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition._pca import _infer_dimension
from sklearn.exceptions import NotFittedError

import shoal
from shoal.array import linalg
from shoal.ml._est_blocks import as_design, as_rows, map_rows
from shoal.ml._incremental_pca import FoldSettings, fit_in_batches, fold_whole
from shoal.ml._incremental_pca import flip_signs as _flip_signs

__all__ = ["IncrementalPCA", "PCA", "TruncatedSVD"]


def _check_fitted(est: Any, method: str) -> None:
    if not hasattr(est, "components_"):
        raise NotFittedError(f"This {type(est).__name__} instance is not fitted yet. Call fit(X) before {method}.")


def _project(x: np.ndarray, mean: np.ndarray, components: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    out = (np.asarray(x, dtype=np.float64) - mean) @ components.T
    return out if scale is None else out / scale


def _unproject(x: np.ndarray, components: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) @ components + mean


def _log_likelihood(x: np.ndarray, mean: np.ndarray, precision: np.ndarray, constant: float) -> np.ndarray:
    centered = np.asarray(x, dtype=np.float64) - mean
    return -0.5 * (centered * (centered @ precision)).sum(axis=1) + constant


def _component_count(n_components: Any, n: int, p: int, solver: str) -> Any:
    bound = min(n, p)
    if n_components is None:
        return bound
    if n_components == "mle":
        if solver == "randomized":
            raise ValueError("PCA: n_components='mle' needs every singular value; use svd_solver='full' or 'tsqr'.")
        if n < p:
            raise ValueError("n_components='mle' is only supported if n_samples >= n_features")
        return "mle"
    if isinstance(n_components, Real) and not isinstance(n_components, Integral) and 0 < n_components < 1:
        if solver == "randomized":
            raise ValueError(f"PCA: n_components={n_components} (a fraction of the variance) needs every singular "
                             f"value; use svd_solver='full' or 'tsqr', or pass an integer.")
        return float(n_components)
    if isinstance(n_components, Integral) and 0 <= n_components <= bound:
        if solver == "randomized" and n_components == 0:
            raise ValueError("PCA: svd_solver='randomized' needs n_components >= 1.")
        return int(n_components)
    raise ValueError(f"n_components={n_components!r} must be between 0 and min(n_samples, n_features)={bound} "
                     f"with svd_solver={solver!r}, a float in (0, 1), 'mle' or None.")


class _BasePCA(TransformerMixin, BaseEstimator):
    """Projection, reconstruction and the covariance model shared by :class:`PCA` and :class:`IncrementalPCA`.

    Needs the fitted ``components_``, ``explained_variance_``, ``mean_``,
    ``noise_variance_``, ``n_components_`` and ``n_features_in_``.
    """

    whiten: bool

    def _scale(self) -> np.ndarray | None:
        if not self.whiten:
            return None
        scale = np.sqrt(self.explained_variance_)
        return np.maximum(scale, np.finfo(scale.dtype).eps)

    def transform(self, X: Any) -> Any:
        """Project ``X`` on the components (lazy for shoal input)."""
        _check_fitted(self, "transform")
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        return map_rows(_project, x, lazy, self.mean_, self.components_, self._scale(),
                        n_columns=self.n_components_)

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def get_covariance(self) -> np.ndarray:
        """The model's data covariance, ``components_.T @ diag(var - noise) @ components_ + noise * I``."""
        _check_fitted(self, "get_covariance")
        components, spread = self._loadings()
        cov = (components.T * spread) @ components
        cov.flat[:: len(cov) + 1] += self.noise_variance_
        return cov  # type: ignore[no-any-return]

    def get_precision(self) -> np.ndarray:
        """The inverse of :meth:`get_covariance`, by the matrix inversion lemma (as scikit-learn)."""
        _check_fitted(self, "get_precision")
        p = self.components_.shape[1]
        noise = self.noise_variance_
        if self.n_components_ == 0:
            return np.eye(p) / noise
        if np.isclose(noise, 0.0, atol=0.0):
            return np.linalg.inv(self.get_covariance())  # type: ignore[no-any-return]
        components, spread = self._loadings()
        inner = components @ components.T / noise
        inner.flat[:: len(inner) + 1] += 1.0 / spread
        precision = components.T @ np.linalg.inv(inner) @ components
        precision /= -(noise ** 2)
        precision.flat[:: p + 1] += 1.0 / noise
        return precision  # type: ignore[no-any-return]

    def _loadings(self) -> tuple[np.ndarray, np.ndarray]:
        components, var = self.components_, self.explained_variance_
        if self.whiten:
            components = components * np.sqrt(var[:, None])
        return components, np.where(var > self.noise_variance_, var - self.noise_variance_, 0.0)

    def inverse_transform(self, X: Any) -> Any:
        """Map projections back to the data space (undoing whitening)."""
        _check_fitted(self, "inverse_transform")
        x, lazy = as_rows(X, what="X", n_features=self.n_components_)
        components = self.components_
        if self.whiten:
            components = np.sqrt(self.explained_variance_)[:, None] * components
        return map_rows(_unproject, x, lazy, components, self.mean_, n_columns=self.n_features_in_)


class PCA(_BasePCA):
    """Principal component analysis by TSQR or randomized SVD; mirrors ``dask_ml.decomposition.PCA``.

    Parameters
    ----------
    n_components : int, float in (0, 1), "mle" or None
        As scikit-learn: a count, the fraction of variance to keep, Minka's
        MLE, or all ``min(n_samples, n_features)``.
    copy : bool
        Accepted for compatibility (shoal arrays are never modified).
    whiten : bool
        Scale the projections to unit variance.
    svd_solver : {"auto", "full", "tsqr", "randomized"}
        ``"full"`` and ``"tsqr"`` are exact (TSQR); ``"auto"`` picks
        ``"randomized"`` for a few components of data larger than 500 in some
        dimension (under 80% of ``min(n_samples, n_features)``), else exact.
    tol : float
        Accepted for compatibility.
    iterated_power : int
        Power iterations of the randomized solver.
    n_oversamples : int
        Extra random directions of the randomized solver.
    random_state : int, RandomState, Generator or None
        Seed of the randomized solver.

    Attributes
    ----------
    components_, explained_variance_, explained_variance_ratio_, singular_values_, mean_,
    n_components_, n_samples_, noise_variance_, n_features_in_
        As scikit-learn's ``PCA``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = np.random.default_rng(0).normal(size=(100, 4)) * [5.0, 2.0, 1.0, 0.1]
    >>> pca = PCA(n_components=2).fit(sa.from_array(X, chunks=(25, 4)))
    >>> pca.components_.shape, bool(pca.explained_variance_ratio_[0] > 0.8)
    ((2, 4), True)
    """

    def __init__(self, n_components: Any = None, copy: bool = True, whiten: bool = False, svd_solver: str = "auto",
                 tol: float = 0.0, iterated_power: int = 0, n_oversamples: int = 10, random_state: Any = None) -> None:
        self.n_components = n_components
        self.copy = copy
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.tol = tol
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.random_state = random_state

    def _solver(self, n: int, p: int) -> str:
        solver = self.svd_solver
        if solver not in ("auto", "full", "tsqr", "randomized"):
            raise ValueError(f"PCA: svd_solver must be 'auto', 'full', 'tsqr' or 'randomized', got {solver!r}.")
        if solver == "auto":
            k = self.n_components
            few = isinstance(k, Integral) and 1 <= k < 0.8 * min(n, p)
            solver = "randomized" if max(n, p) > 500 and few else "full"
        return "tsqr" if solver == "full" else solver

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit the components on ``X`` (shoal array or dataframe, or NumPy)."""
        x = as_design(X)
        n, p = (int(s) for s in x.shape)
        if n < 2:
            raise ValueError(f"PCA needs at least 2 samples to estimate variances, got {n}.")
        solver = self._solver(n, p)
        k = _component_count(self.n_components, n, p, solver)
        mean = x.mean(axis=0)
        centered = x - mean
        if solver == "tsqr":
            _, s, v = linalg.svd(centered, coerce_signs=False)
            mean_, s, v = shoal.compute(mean, s, v)
            explained = s ** 2 / (n - 1)
            total_var = explained.sum()
        else:
            _, s, v = linalg.svd_compressed(centered, k, n_power_iter=self.iterated_power,
                                            n_oversamples=self.n_oversamples, seed=self.random_state,
                                            coerce_signs=False)
            mean_, s, v, total_var = shoal.compute(mean, s, v, (centered ** 2).sum() / (n - 1))
            explained = s ** 2 / (n - 1)
        v = _flip_signs(np.asarray(v, dtype=np.float64))
        ratio = explained / total_var
        if k == "mle":
            k = int(_infer_dimension(explained, n))
        elif isinstance(k, float):
            k = int(np.searchsorted(np.cumsum(ratio), k, side="right") + 1)
        bound = min(n, p)
        if k < bound:
            if solver == "tsqr":
                self.noise_variance_ = float(explained[k:].mean())
            else:
                self.noise_variance_ = float((total_var - explained[:k].sum()) / (bound - k))
        else:
            self.noise_variance_ = 0.0
        self.mean_ = np.asarray(mean_, dtype=np.float64)
        self.n_samples_, self.n_features_in_, self.n_components_ = n, p, int(k)
        self.components_ = v[:k].copy()
        self.explained_variance_ = explained[:k].copy()
        self.explained_variance_ratio_ = ratio[:k].copy()
        self.singular_values_ = np.asarray(s[:k], dtype=np.float64).copy()
        return self

    def score_samples(self, X: Any) -> Any:
        """Log-likelihood of every row under the probabilistic PCA model (lazy for shoal input)."""
        _check_fitted(self, "score_samples")
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        precision = self.get_precision()
        _, logdet = np.linalg.slogdet(precision)
        constant = -0.5 * (self.n_features_in_ * np.log(2.0 * np.pi) - logdet)
        return map_rows(_log_likelihood, x, lazy, self.mean_, precision, constant)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the rows of ``X`` (one pass for shoal input)."""
        scores = self.score_samples(X)
        return float(scores.mean().compute() if hasattr(scores, "compute") else scores.mean())


class TruncatedSVD(TransformerMixin, BaseEstimator):
    """Rank-``n_components`` SVD without centering; mirrors ``dask_ml.decomposition.TruncatedSVD``.

    Parameters
    ----------
    n_components : int
        Number of singular triplets kept (at most ``min(n_samples, n_features)``).
    algorithm : {"tsqr", "randomized"}
        Exact thin SVD by TSQR, or randomized SVD.
    n_iter : int
        Power iterations of the randomized algorithm.
    random_state : int, RandomState, Generator or None
    tol : float
        Accepted for compatibility.

    Attributes
    ----------
    components_, explained_variance_, explained_variance_ratio_, singular_values_, n_features_in_
        As scikit-learn's ``TruncatedSVD``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = np.random.default_rng(0).random((60, 5))
    >>> svd = TruncatedSVD(n_components=2).fit(sa.from_array(X, chunks=(20, 5)))
    >>> bool(np.allclose(svd.singular_values_, np.linalg.svd(X, compute_uv=False)[:2]))
    True
    """

    def __init__(self, n_components: int = 2, algorithm: str = "tsqr", n_iter: int = 5, random_state: Any = None,
                 tol: float = 0.0) -> None:
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.random_state = random_state
        self.tol = tol

    def fit(self, X: Any, y: Any = None) -> TruncatedSVD:
        """Fit on ``X`` (shoal array or dataframe, or NumPy)."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> Any:
        x = as_design(X)
        n, p = (int(s) for s in x.shape)
        k = self.n_components
        if not isinstance(k, Integral) or not 1 <= k <= min(n, p):
            raise ValueError(f"TruncatedSVD: n_components must be an integer between 1 and min(n_samples, "
                             f"n_features) = {min(n, p)}, got {k!r}.")
        if self.algorithm == "tsqr":
            u, s, v = linalg.svd(x, coerce_signs=False)
            u, s, v = u[:, :k], s[:k], v[:k]
        elif self.algorithm == "randomized":
            u, s, v = linalg.svd_compressed(x, int(k), n_power_iter=self.n_iter, seed=self.random_state,
                                            coerce_signs=False)
        else:
            raise ValueError(f"TruncatedSVD: algorithm must be 'tsqr' or 'randomized', got {self.algorithm!r}.")
        # Variance of the projections X @ v.T = u * s, per component; and of X, per feature.
        s, v, explained, full_var = shoal.compute(s, v, (u * s).var(axis=0), x.var(axis=0).sum())
        self.components_ = _flip_signs(np.asarray(v, dtype=np.float64))
        self.singular_values_ = np.asarray(s, dtype=np.float64)
        self.explained_variance_ = np.asarray(explained, dtype=np.float64)
        self.explained_variance_ratio_ = self.explained_variance_ / full_var
        self.n_features_in_ = p
        return x

    def transform(self, X: Any) -> Any:
        """``X @ components_.T`` (lazy for shoal input)."""
        _check_fitted(self, "transform")
        x, lazy = as_rows(X, n_features=self.n_features_in_)
        zero = np.zeros(self.n_features_in_)
        return map_rows(_project, x, lazy, zero, self.components_, None, n_columns=self.components_.shape[0])

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Any:
        """``X @ components_``: back to the data space (lazy for shoal input)."""
        _check_fitted(self, "inverse_transform")
        x, lazy = as_rows(X, n_features=self.components_.shape[0])
        return map_rows(_unproject, x, lazy, self.components_, np.zeros(self.n_features_in_),
                        n_columns=self.n_features_in_)


class IncrementalPCA(_BasePCA):
    """PCA folded in batch by batch; mirrors ``dask_ml.decomposition.IncrementalPCA``.

    The same model as scikit-learn's ``IncrementalPCA`` fed the same batches:
    ``fit`` folds the batches in order, one task per batch in one graph (see
    :mod:`shoal.ml._incremental_pca`); ``partial_fit`` folds all of ``X`` as one
    batch, reducing a shoal array to a small summary in one pass instead of
    gathering it.

    Parameters
    ----------
    n_components : int or None
        Components kept; ``None`` keeps ``min(rows of the first batch, n_features)``.
    whiten : bool
        Scale the projections to unit variance.
    copy : bool
        Accepted for compatibility (inputs are never modified).
    batch_size : int or None
        Rows per batch in ``fit``. ``None``: the row blocks of a shoal array
        (neighbours merged until each batch has ``n_components`` rows), and
        ``5 * n_features`` rows for NumPy input, as scikit-learn.
    svd_solver : {"auto", "full", "randomized"}
        SVD of each update: exact (``"full"``, also ``"tsqr"``), or randomized
        with ``iterated_power`` power iterations; ``"auto"`` picks randomized
        for a few components of batches larger than 500 in some dimension.
    iterated_power : int
        Power iterations of the randomized solver.
    random_state : int, RandomState, Generator or None
        Seed of the randomized solver.

    Attributes
    ----------
    components_, explained_variance_, explained_variance_ratio_, singular_values_, mean_, var_,
    noise_variance_, n_components_, n_samples_seen_, batch_size_, n_features_in_
        As scikit-learn's ``IncrementalPCA`` (float64 whatever the input dtype).

    Notes
    -----
    Differences from dask-ml: ``batch_size=None`` follows the row blocks of
    shoal input instead of ``5 * n_features``, and ``fit`` is one graph, not
    one ``compute`` per batch. The randomized solver's ``noise_variance_``
    comes from the Frobenius norm of each update, so it equals the exact one.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = np.random.default_rng(0).normal(size=(120, 4)) * [5.0, 2.0, 1.0, 0.1]
    >>> ipca = IncrementalPCA(n_components=2).fit(sa.from_array(X, chunks=(30, 4)))
    >>> ipca.components_.shape, ipca.n_samples_seen_
    ((2, 4), 120)
    """

    _STATE = ("n_samples_seen_", "mean_", "var_", "n_components_", "components_", "singular_values_",
              "explained_variance_", "explained_variance_ratio_", "noise_variance_")

    def __init__(self, n_components: int | None = None, whiten: bool = False, copy: bool = True,
                 batch_size: int | None = None, svd_solver: str = "auto", iterated_power: int = 0,
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.copy = copy
        self.batch_size = batch_size
        self.svd_solver = svd_solver
        self.iterated_power = iterated_power
        self.random_state = random_state

    def _settings(self) -> FoldSettings:
        return FoldSettings.check(self.n_components, self.svd_solver, self.iterated_power, self.random_state)

    def _set_state(self, state: dict[str, Any]) -> None:
        for attr in self._STATE:
            setattr(self, attr, state[attr])
        self.n_features_in_ = state["components_"].shape[1]

    def fit(self, X: Any, y: Any = None) -> IncrementalPCA:
        """Fit on ``X`` (shoal array or dataframe, or NumPy), batch after batch."""
        state, self.batch_size_, self._batches_folded = fit_in_batches(X, self._settings(), self.batch_size)
        self._set_state(state)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> IncrementalPCA:
        """Fold all of ``X`` into the model as one batch (one pass over a shoal array)."""
        settings = self._settings()
        state = {attr: getattr(self, attr) for attr in self._STATE} if hasattr(self, "components_") else None
        folded = getattr(self, "_batches_folded", 0) if state is not None else 0
        self._set_state(fold_whole(X, state, settings, folded))
        self._batches_folded = folded + 1
        return self

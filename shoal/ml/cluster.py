"""K-means clustering on shoal arrays: Lloyd iterations, one pass over the row blocks each.

Mirrors ``dask_ml.cluster.KMeans``. The centers live on the client; each
Lloyd iteration is one tree reduction whose blocks return per-cluster sums and
counts, the inertia, and their ``n_clusters`` points farthest from their
centers (used, as scikit-learn does, to re-seed clusters that come out empty).
The loop, the tolerance (``tol`` times the mean feature variance) and the final
relabelling follow ``sklearn.cluster.KMeans(algorithm="lloyd")``, so given the
same initial centers both reach the same centers and labels.

Initialisation, all by passes over the blocks:

- ``"k-means||"`` (Bahmani et al., *Scalable K-Means++*, 2012): start from one
  uniformly drawn row, then for ``log(cost)`` rounds (at most 5 by default) keep every row with
  probability ``oversampling_factor * n_clusters * d² / cost`` (two passes a
  round: the cost, then the draw); weight the candidates by the rows nearest to
  them (one pass) and reduce them to ``n_clusters`` centers with a weighted
  in-memory k-means++ / k-means on the candidates.
- ``"k-means++"``: exact D² sampling, one pass per center (no greedy trials).
- ``"random"``: ``n_clusters`` distinct rows uniformly, in one pass.

Random draws inside blocks use weighted reservoir keys (Efraimidis and
Spirakis: the item with the largest ``log(u) / weight`` is a draw with
probability proportional to ``weight``), which merge up the tree exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans as _LocalKMeans
from sklearn.utils import check_random_state

import shoal
from shoal.array import Array
from shoal.ml._est_blocks import as_design, as_rows, as_target, map_rows, merge_moments, moments, tree_reduce

__all__ = ["KMeans"]

#: Most k-means|| rounds unless ``init_max_iter`` says otherwise: Bahmani et al. report that about five
#: rounds already match k-means++, and each round costs two passes over the data.
_DEFAULT_ROUNDS = 5


# -- block kernels ---------------------------------------------------------------------------------------
def _nearest(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest center and the exact squared distance to it, for each row."""
    # ||c||² - 2 x·c ranks centers like the full distance (as scikit-learn's GEMM kernel does). Updated in
    # place, and the distance taken as a row dot product: each temporary the size of the block is fresh
    # memory the kernel must fault in, which costs more than the arithmetic.
    scores = x @ centers.T
    scores *= -2.0
    scores += (centers ** 2).sum(axis=1)
    labels = np.argmin(scores, axis=1)
    diff = np.subtract(x, centers[labels])
    return labels, np.einsum("ij,ij->i", diff, diff)


def _rng(seed: int, step: int, block_id: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, step, block_id]))


def _lloyd_chunk(x: np.ndarray, centers: np.ndarray) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    k, p = centers.shape
    labels, dist = _nearest(x, centers)
    # One bincount over (cluster, feature) cells instead of one per feature.
    cells = (labels[:, None] * p + np.arange(p)).ravel()
    sums = np.bincount(cells, weights=x.ravel(), minlength=k * p)
    # Candidates to re-seed empty clusters: the k farthest rows, farthest first.
    top = np.argpartition(dist, len(dist) - k)[len(dist) - k:] if len(dist) > k else np.arange(len(dist))
    far = top[np.argsort(dist[top], kind="stable")[::-1]]
    return {"sums": sums.reshape(k, p), "counts": np.bincount(labels, minlength=k).astype(np.float64),
            "inertia": dist.sum(), "far_dist": dist[far], "far_rows": x[far], "far_labels": labels[far],
            "far_weights": np.ones(len(far))}


def _weighted_lloyd_chunk(x: np.ndarray, w: np.ndarray, centers: np.ndarray) -> dict[str, Any]:
    """:func:`_lloyd_chunk` with sample weights: weighted sums, weight totals and weighted inertia."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    k, p = centers.shape
    labels, dist = _nearest(x, centers)
    cells = (labels[:, None] * p + np.arange(p)).ravel()
    sums = np.bincount(cells, weights=(x * w[:, None]).ravel(), minlength=k * p)
    # scikit-learn re-seeds empty clusters with the rows farthest in plain (unweighted) distance
    top = np.argpartition(dist, len(dist) - k)[len(dist) - k:] if len(dist) > k else np.arange(len(dist))
    far = top[np.argsort(dist[top], kind="stable")[::-1]]
    return {"sums": sums.reshape(k, p), "counts": np.bincount(labels, weights=w, minlength=k),
            "inertia": (dist * w).sum(), "far_dist": dist[far], "far_rows": x[far], "far_labels": labels[far],
            "far_weights": w[far]}


def _lloyd_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    far_dist = np.concatenate([p["far_dist"] for p in parts])
    keep = np.argsort(far_dist, kind="stable")[::-1][: parts[0]["sums"].shape[0]]
    return {"sums": sum(p["sums"] for p in parts), "counts": sum(p["counts"] for p in parts),
            "inertia": sum(p["inertia"] for p in parts), "far_dist": far_dist[keep],
            "far_rows": np.concatenate([p["far_rows"] for p in parts])[keep],
            "far_labels": np.concatenate([p["far_labels"] for p in parts])[keep],
            "far_weights": np.concatenate([p["far_weights"] for p in parts])[keep]}


def _scan_chunk(x: np.ndarray) -> dict[str, Any]:
    x = np.asarray(x, dtype=np.float64)
    return {"moments": moments(x), "finite": bool(np.isfinite(x).all())}


def _scan_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    acc = parts[0]["moments"]
    for p in parts[1:]:
        acc = merge_moments(acc, p["moments"])
    return {"moments": acc, "finite": all(p["finite"] for p in parts)}


def _draw_chunk(x: np.ndarray, centers: np.ndarray, count: int, seed: int, step: int, *,
                block_id: int) -> dict[str, Any]:
    """The ``count`` rows with the largest keys ``log(u) / d²`` (``d² = 1`` without centers)."""
    x = np.asarray(x, dtype=np.float64)
    u = _rng(seed, step, block_id).random(x.shape[0])
    weight = _nearest(x, centers)[1] if len(centers) else np.ones(x.shape[0])
    with np.errstate(divide="ignore"):
        keys = np.where(weight > 0, np.log(u) / np.where(weight > 0, weight, 1.0), -np.inf)
    top = np.argsort(keys)[::-1][:count]
    return {"keys": keys[top], "rows": x[top]}


def _draw_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    keys = np.concatenate([p["keys"] for p in parts])
    rows = np.concatenate([p["rows"] for p in parts])
    top = np.argsort(keys, kind="stable")[::-1][: max(len(p["keys"]) for p in parts)]
    return {"keys": keys[top], "rows": rows[top]}


def _cost_chunk(x: np.ndarray, centers: np.ndarray) -> dict[str, Any]:
    labels, dist = _nearest(np.asarray(x, dtype=np.float64), centers)
    return {"cost": dist.sum(), "counts": np.bincount(labels, minlength=len(centers)).astype(np.float64)}


def _cost_combine(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cost": sum(p["cost"] for p in parts), "counts": sum(p["counts"] for p in parts)}


def _oversample_chunk(x: np.ndarray, centers: np.ndarray, rate: float, seed: int, step: int, *,
                      block_id: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    dist = _nearest(x, centers)[1]
    return x[_rng(seed, step, block_id).random(x.shape[0]) < rate * dist]


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts)


def _labels(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return _nearest(np.asarray(x, dtype=np.float64), centers)[0]


def _distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    # scikit-learn's euclidean_distances formula, without a rows x centers x features temporary.
    squared = x @ centers.T
    squared *= -2.0
    squared += np.einsum("ij,ij->i", x, x)[:, None]
    squared += (centers ** 2).sum(axis=1)
    return np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)


# -- the estimator ---------------------------------------------------------------------------------------
class KMeans(TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means for data larger than memory (Lloyd's algorithm, ``k-means||`` initialisation).

    Mirrors ``dask_ml.cluster.KMeans``; with an explicit ``init`` array it
    reproduces ``sklearn.cluster.KMeans(init=..., n_init=1, algorithm="lloyd")``.

    Parameters
    ----------
    n_clusters : int
    init : {'k-means||', 'k-means++', 'random'} or array of shape (n_clusters, n_features)
    oversampling_factor : float
        Candidates drawn per ``k-means||`` round, as a multiple of ``n_clusters``.
    max_iter : int
        Lloyd iterations (one pass over the data each).
    tol : float
        Stop when the squared center shift is at most ``tol`` times the mean feature variance.
    random_state : int, RandomState or None
    init_max_iter : int, optional
        Most ``k-means||`` rounds: ``round(log(cost))`` rounds, at least 1, and by
        default at most 5.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : shoal array of shape (n_samples,)
        Lazy: the nearest center of every training row.
    inertia_ : float
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.array([[0.0], [0.2], [5.0], [5.2]]), chunks=(2, 1))
    >>> km = KMeans(n_clusters=2, init=np.array([[0.0], [5.0]])).fit(X)
    >>> km.cluster_centers_.ravel().tolist(), km.labels_.compute().tolist()
    ([0.1, 5.1], [0, 0, 1, 1])
    """

    def __init__(self, n_clusters: int = 8, *, init: Any = "k-means||", oversampling_factor: float = 2,
                 max_iter: int = 300, tol: float = 1e-4, random_state: Any = None,
                 init_max_iter: int | None = None) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.oversampling_factor = oversampling_factor
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.init_max_iter = init_max_iter

    # -- fitting ---------------------------------------------------------------------------------------
    def _check(self, x: Array) -> None:
        k = self.n_clusters
        if not (isinstance(k, int | np.integer) and k >= 1):
            raise ValueError(f"KMeans: n_clusters must be an int >= 1, got {k!r}.")
        if x.shape[0] < k:
            raise ValueError(f"KMeans: n_samples={x.shape[0]} should be >= n_clusters={k}; "
                             f"lower n_clusters or pass more rows.")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ValueError(f"KMeans: max_iter must be an int >= 1, got {self.max_iter!r}.")
        if not self.tol >= 0:
            raise ValueError(f"KMeans: tol must be >= 0, got {self.tol!r}.")
        if isinstance(self.init, str):
            if self.init not in ("k-means||", "k-means++", "random"):
                raise ValueError(f"KMeans: init must be 'k-means||', 'k-means++', 'random' or an array of "
                                 f"shape (n_clusters, n_features), got {self.init!r}.")
        elif np.shape(self.init) != (k, x.shape[1]):
            raise ValueError(f"KMeans: init has shape {np.shape(self.init)}, but n_clusters={k} and X has "
                             f"{x.shape[1]} features, so it must have shape {(k, x.shape[1])}.")

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Cluster the rows of ``X``; ``y`` is ignored.

        ``sample_weight`` (one non-negative weight per row) weights the Lloyd updates (centers are
        weighted means) and the inertia, as scikit-learn's; the initial centers are drawn without
        weights (pass ``init=`` an array to choose them).
        """
        x = as_design(X)
        self._check(x)
        arrays, lloyd = [x], _lloyd_chunk
        if sample_weight is not None:
            w = as_target(sample_weight, x, what="sample_weight").astype(np.float64)
            arrays, lloyd = [x, w], _weighted_lloyd_chunk
        (scan,) = shoal.compute(tree_reduce(_scan_chunk, _scan_combine, [x], name="kmeans-scan"))
        if not scan["finite"]:
            raise ValueError("KMeans.fit: X contains NaN or infinity. Drop or impute those rows first.")
        n, _, m2 = scan["moments"]
        tol = float(np.mean(m2 / n) * self.tol)
        rng = check_random_state(self.random_state)
        centers = self._initial_centers(x, rng)
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            (part,) = shoal.compute(tree_reduce(lloyd, _lloyd_combine, arrays, centers, name="kmeans-lloyd"))
            new = _update_centers(part, centers)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol:
                break
        (final,) = shoal.compute(tree_reduce(lloyd, _lloyd_combine, arrays, centers, name="kmeans-lloyd"))
        self.cluster_centers_ = centers
        self.inertia_ = float(final["inertia"])
        self.n_iter_ = n_iter
        self.labels_ = map_rows(_labels, x, True, centers, dtype=np.intp)
        self.n_features_in_ = x.shape[1]
        return self

    def _initial_centers(self, x: Array, rng: np.random.RandomState) -> np.ndarray:
        k = self.n_clusters
        if not isinstance(self.init, str):
            return np.array(self.init, dtype=np.float64)
        seed = int(rng.randint(2 ** 31 - 1))
        none = np.empty((0, x.shape[1]))
        if self.init == "random":
            return self._draw(x, none, k, seed, 0)
        if self.init == "k-means++":
            centers = none
            for step in range(k):
                centers = np.vstack([centers, self._draw(x, centers, 1, seed, step)])
            return centers
        return self._kmeans_parallel(x, self._draw(x, none, 1, seed, 0), seed, rng)

    @staticmethod
    def _draw(x: Array, centers: np.ndarray, count: int, seed: int, step: int) -> np.ndarray:
        (part,) = shoal.compute(tree_reduce(_draw_chunk, _draw_combine, [x], centers, count, seed, step,
                                            with_block_id=True, name="kmeans-draw"))
        return part["rows"]  # type: ignore[no-any-return]

    def _kmeans_parallel(self, x: Array, centers: np.ndarray, seed: int, rng: np.random.RandomState) -> np.ndarray:
        k = self.n_clusters
        oversample = self.oversampling_factor * k
        (cost,) = shoal.compute(tree_reduce(_cost_chunk, _cost_combine, [x], centers, name="kmeans-cost"))
        rounds = max(int(np.round(np.log(cost["cost"]))) if cost["cost"] > 1 else 1, 1)
        rounds = min(rounds, _DEFAULT_ROUNDS if self.init_max_iter is None else self.init_max_iter)
        for step in range(1, rounds + 1):
            if cost["cost"] <= 0:  # every row already is a candidate
                break
            (drawn,) = shoal.compute(tree_reduce(_oversample_chunk, _stack, [x], centers, oversample / cost["cost"],
                                                 seed, step, with_block_id=True, name="kmeans-oversample"))
            centers = np.vstack([centers, drawn])
            (cost,) = shoal.compute(tree_reduce(_cost_chunk, _cost_combine, [x], centers, name="kmeans-cost"))
        # The last cost pass also counted the rows nearest to each candidate: those are its weights.
        weights = cost["counts"]
        keep = weights > 0
        centers, weights = centers[keep], weights[keep]
        if len(centers) < k:  # too few distinct candidates: top up with uniform draws
            extra = self._draw(x, np.empty((0, x.shape[1])), k, seed, rounds + 1)
            centers = np.vstack([centers, extra])[:k]
            return centers
        local = _LocalKMeans(n_clusters=k, init="k-means++", n_init=1, random_state=rng)
        return local.fit(centers, sample_weight=weights).cluster_centers_  # type: ignore[no-any-return]

    # -- using the model -------------------------------------------------------------------------------
    def _rows(self, X: Any) -> tuple[Any, bool]:
        if not hasattr(self, "cluster_centers_"):
            raise AttributeError("This KMeans is not fitted yet; call fit(X) first.")
        return as_rows(X, n_features=self.n_features_in_)

    def predict(self, X: Any) -> Any:
        """Index of the nearest center for each row (lazy for shoal input)."""
        x, lazy = self._rows(X)
        return map_rows(_labels, x, lazy, self.cluster_centers_, dtype=np.intp)

    def transform(self, X: Any) -> Any:
        """Euclidean distance of each row to every center, shape (n_samples, n_clusters)."""
        x, lazy = self._rows(X)
        return map_rows(_distances, x, lazy, self.cluster_centers_, n_columns=self.n_clusters)

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the inertia of ``X`` with the fitted centers (higher is better)."""
        x, lazy = self._rows(X)
        if not lazy:
            return -float(_nearest(np.asarray(x, dtype=np.float64), self.cluster_centers_)[1].sum())
        (part,) = shoal.compute(tree_reduce(_cost_chunk, _cost_combine, [x], self.cluster_centers_,
                                            name="kmeans-cost"))
        return -float(part["cost"])


def _update_centers(part: dict[str, Any], old: np.ndarray) -> np.ndarray:
    """Means of the clusters; an empty cluster takes the farthest remaining row (as scikit-learn does)."""
    sums, counts = part["sums"].copy(), part["counts"].copy()
    empty = np.flatnonzero(counts == 0)
    for j, cluster in enumerate(empty[: len(part["far_dist"])]):
        row, owner, weight = part["far_rows"][j], part["far_labels"][j], part["far_weights"][j]
        sums[owner] -= row * weight
        counts[owner] -= weight
        sums[cluster], counts[cluster] = row * weight, weight
    with np.errstate(invalid="ignore", divide="ignore"):
        new = sums / counts[:, None]
    return np.where(counts[:, None] > 0, new, old)

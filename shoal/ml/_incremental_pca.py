"""The update rule and the task graphs behind :class:`shoal.ml.decomposition.IncrementalPCA`.

Model
    Incremental PCA (Ross, Lim, Lin and Yang, 2008, as scikit-learn implements
    it) keeps a **state**: the samples seen ``n``, the per-feature ``mean`` and
    ``var``, and the current rank-``k`` factorization, ``singular_values`` and
    ``components``. One batch ``B`` (``m`` rows) updates it by

    1. merging the batch's count, mean and sum of squared deviations into
       ``n``, ``mean`` and ``var`` (Chan, Golub and LeVeque's pairwise rule);
    2. taking the thin SVD of the stacked matrix ::

           [ singular_values[:, None] * components ]   k rows: the old model
           [ B - mean(B)                           ]   m rows: the new data
           [ sqrt(n_old * m / n_new) * (mean_old - mean(B)) ]   one row: the mean shift

       (only ``B - mean(B)`` on the first batch) and keeping its first ``k``
       right singular vectors, their signs fixed as scikit-learn fixes them.

    Only ``S`` and ``V`` of that SVD are used, so the ``m`` centered rows may
    be replaced by any matrix with the same Gram matrix, such as their ``R``
    factor: :func:`batch_summary` reduces a whole shoal array to
    ``(m, mean, M2, R)`` in one pass over its row blocks (a tree of stacked QR
    factorizations), which is how a lazy ``partial_fit`` treats the whole
    array as a single batch without gathering it.

    ``fit`` is a **chain** of tasks (:func:`fold_chain`): task ``i`` takes the
    state left by task ``i - 1`` and row block ``i`` (one batch), so the batches
    are folded in order exactly as scikit-learn's ``fit`` folds them, one block
    in memory at a time, and the whole fit is one ``compute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from numbers import Integral
from typing import Any

import numpy as np
import scipy.linalg

from shoal.array import Array
from shoal.delayed import Delayed
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.ml._est_blocks import as_design, is_lazy, tree_reduce
from shoal.ml._ml3_util import block_rng, root_seed

__all__ = ["FoldSettings", "batch_summary", "fit_in_batches", "flip_signs", "fold", "fold_chain", "fold_whole",
           "plan_batches", "sized_batches", "summarize"]

#: Separates the randomized solver's random streams from other uses of one seed.
_RNG_TAG = 7


def flip_signs(v: np.ndarray) -> np.ndarray:
    """scikit-learn's ``svd_flip(u, v, u_based_decision=False)`` on ``v`` alone.

    Each row's largest entry in absolute value becomes positive.
    """
    biggest = np.argmax(np.abs(v), axis=1)
    signs = np.sign(v[np.arange(v.shape[0]), biggest])
    signs[signs == 0] = 1.0
    return v * signs[:, None]


@dataclass(frozen=True, slots=True)
class FoldSettings:
    """What every update needs besides the state and the batch."""

    n_components: int | None  #: the user's ``n_components`` (None: fixed by the first batch)
    solver: str  #: "auto", "full" or "randomized"
    iterated_power: int  #: power iterations of the randomized solver
    seed: int  #: root seed of the randomized solver; batch ``i`` draws from its own stream

    @classmethod
    def check(cls, n_components: Any, svd_solver: Any, iterated_power: Any, random_state: Any) -> FoldSettings:
        """Settings from the estimator's parameters, refusing bad ones."""
        k = n_components
        if k is not None and (not isinstance(k, Integral) or isinstance(k, bool) or k < 1):
            raise ValueError(f"IncrementalPCA: n_components must be None or a positive integer, got {k!r}.")
        solver = "full" if svd_solver == "tsqr" else svd_solver
        if solver not in ("auto", "full", "randomized"):
            raise ValueError(f"IncrementalPCA: svd_solver must be 'auto', 'full', 'tsqr' or 'randomized', got "
                             f"{svd_solver!r}.")
        if not isinstance(iterated_power, Integral) or iterated_power < 0:
            raise ValueError(f"IncrementalPCA: iterated_power must be a non-negative integer, got {iterated_power!r}.")
        seed = root_seed(random_state) if solver != "full" else 0
        return cls(None if k is None else int(k), solver, int(iterated_power), seed)


def summarize(x: np.ndarray, *, where: str = "X") -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(m, mean, M2, centered)`` of one batch of rows (``M2``: sum of squared deviations per column)."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"IncrementalPCA: {where} holds NaN or infinity. Impute or drop those values first "
                         f"(for example with shoal.ml.impute.SimpleImputer).")
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    centered = x - mean
    return len(x), mean, (centered ** 2).sum(axis=0), centered


def _summarize_block(x: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    m, mean, m2, centered = summarize(x, where="a row block")
    return m, mean, m2, _r_factor(centered)


def _r_factor(rows: np.ndarray) -> np.ndarray:
    # R has the Gram matrix of ``rows``; with fewer rows than columns the rows are already as small.
    if rows.shape[0] <= rows.shape[1]:
        return rows
    return np.linalg.qr(rows, mode="r")  # type: ignore[no-any-return]


def _merge_summaries(parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]) -> tuple[Any, ...]:
    """Merge ``(m, mean, M2, R)`` summaries: R of the rows centered on the merged mean."""
    m, mean, m2, r = parts[0]
    for mb, meanb, m2b, rb in parts[1:]:
        if mb == 0:
            continue
        if m == 0:
            m, mean, m2, r = mb, meanb, m2b, rb
            continue
        total = m + mb
        delta = meanb - mean
        # The rows centered on the merged mean are the rows centered on their own mean plus a
        # constant shift per part; the two shifts together contribute one rank-one row.
        shift = np.sqrt(m * mb / total) * delta
        r = _r_factor(np.vstack([r, rb, shift[None, :]]))
        m2 = m2 + m2b + delta ** 2 * (m * mb / total)
        mean = mean + delta * (mb / total)
        m = total
    return m, mean, m2, r


def batch_summary(x: Array) -> Delayed:
    """``(m, mean, M2, R)`` of all the rows of ``x`` as one batch, in one pass over its row blocks."""
    return tree_reduce(_summarize_block, _merge_summaries, [x], name="ipca-summary")


def _randomized_svd(a: np.ndarray, k: int, n_iter: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` ``(S, Vt)`` of ``a`` by Halko, Martinsson and Tropp's randomized range finder."""
    width = min(k + 10, min(a.shape))
    q = np.linalg.qr(a @ rng.standard_normal((a.shape[1], width)))[0]
    for _ in range(n_iter):
        q = np.linalg.qr(a.T @ q)[0]
        q = np.linalg.qr(a @ q)[0]
    _, s, vt = np.linalg.svd(q.T @ a, full_matrices=False)
    return s[:k], vt[:k]


def _use_randomized(solver: str, k: int, rows: int, p: int) -> bool:
    if solver == "randomized":
        return True
    # The rule of PCA(svd_solver="auto"), applied to each batch.
    return solver == "auto" and max(rows, p) > 500 and 1 <= k < 0.8 * min(rows, p)


def _components_for(state: dict[str, Any] | None, n_components: int | None, m: int, p: int) -> int:
    """scikit-learn's choice and checks of ``n_components_`` for a batch of ``m`` rows."""
    previous = None if state is None else state["components_"].shape[0]
    if n_components is None:
        k = min(m, p) if previous is None else previous
    elif n_components > p:
        raise ValueError(f"IncrementalPCA: n_components={n_components} is more than the {p} features of X. "
                         f"Pass n_components <= {p}.")
    elif n_components > m and previous is None:
        raise ValueError(f"IncrementalPCA: n_components={n_components} must be at most the number of samples in "
                         f"the first batch, got a batch of {m}. Use larger batches (batch_size= or bigger row "
                         f"blocks) or fewer components.")
    else:
        k = n_components
    if previous is not None and previous != k:
        raise ValueError(f"IncrementalPCA: the model has {previous} components but n_components is now {k}; "
                         f"keep n_components fixed between calls to partial_fit.")
    return k


def fold(state: dict[str, Any] | None, summary: tuple[int, np.ndarray, np.ndarray, np.ndarray],
         settings: FoldSettings, batch_index: int = 0) -> dict[str, Any]:
    """The state after one batch, given the batch's ``(m, mean, M2, centered rows or R)``.

    ``state`` is ``None`` before the first batch; states are dicts of the
    estimator's fitted attributes.
    """
    m, batch_mean, batch_m2, rows = summary
    p = batch_mean.shape[0]
    if m == 0:
        raise ValueError(f"IncrementalPCA: batch {batch_index} has no rows.")
    k = _components_for(state, settings.n_components, m, p)
    if state is None:
        seen, total = 0, m
        mean, m2 = batch_mean, batch_m2
        stacked = rows
    else:
        seen = state["n_samples_seen_"]
        total = seen + m
        delta = batch_mean - state["mean_"]
        mean = state["mean_"] + delta * (m / total)
        m2 = state["var_"] * seen + batch_m2 + delta ** 2 * (seen * m / total)
        correction = np.sqrt(seen / total * m) * (state["mean_"] - batch_mean)
        previous = state["singular_values_"][:, None] * state["components_"]
        stacked = np.vstack([previous, rows, correction[None, :]])
    # The full stacked matrix (old model, m rows, correction) has this many singular values.
    n_values = min(p, m if state is None else state["components_"].shape[0] + m + 1)
    if _use_randomized(settings.solver, k, m, p) and k < min(stacked.shape):
        rng = block_rng(settings.seed, _RNG_TAG, batch_index)
        s, vt = _randomized_svd(stacked, k, settings.iterated_power, rng)
        rest = max(float((stacked ** 2).sum() - (s ** 2).sum()), 0.0)
        noise = rest / (total - 1) / (n_values - k) if n_values > k else 0.0
    else:
        _, s, vt = scipy.linalg.svd(stacked, full_matrices=False, check_finite=False)
        if len(s) < n_values:  # rows replaced by their R factor: the missing values are zeros
            s = np.concatenate([s, np.zeros(n_values - len(s))])
        with np.errstate(divide="ignore", invalid="ignore"):
            noise = float((s[k:] ** 2).mean() / (total - 1)) if k < len(s) else 0.0
        s, vt = s[:k], vt[:k]
    if k in (m, p):  # scikit-learn's rule, by the batch's own size
        noise = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):  # one sample seen: nan variances, as scikit-learn
        explained = s ** 2 / (total - 1)
    var = m2 / total
    return {
        "n_samples_seen_": int(total),
        "mean_": mean,
        "var_": var,
        "n_components_": int(k),
        "components_": flip_signs(np.asarray(vt, dtype=np.float64)),
        "singular_values_": np.asarray(s, dtype=np.float64),
        "explained_variance_": explained,
        "explained_variance_ratio_": s ** 2 / np.sum(var * total),
        "noise_variance_": float(noise),
    }


def plan_batches(block_sizes: Sequence[int], min_rows: int) -> tuple[int, ...]:
    """Merge neighbouring row blocks into batches of at least ``min_rows`` rows.

    A short remainder joins the batch before it, as ``sklearn.utils.gen_batches``
    does with ``min_batch_size``.
    """
    batches: list[int] = []
    current = 0
    for size in block_sizes:
        current += int(size)
        if current >= max(min_rows, 1):
            batches.append(current)
            current = 0
    if current:
        if batches:
            batches[-1] += current
        else:
            batches.append(current)
    return tuple(batches)


def sized_batches(n: int, batch_size: int, min_rows: int) -> tuple[int, ...]:
    """The batch lengths of ``sklearn.utils.gen_batches(n, batch_size, min_batch_size=min_rows)``."""
    sizes = []
    start = 0
    for _ in range(n // batch_size):
        # A full batch that would leave fewer than min_rows after it is skipped; the rows join the tail.
        if start + batch_size + min_rows > n:
            continue
        sizes.append(batch_size)
        start += batch_size
    if start < n:
        sizes.append(n - start)
    return tuple(sizes)


def _fold_block(state: dict[str, Any] | None, block: np.ndarray, settings: FoldSettings,
                batch_index: int) -> dict[str, Any]:
    summary = summarize(block, where=f"batch {batch_index}")
    return fold(state, summary, settings, batch_index)


def fold_chain(x: Array, state: dict[str, Any] | None, settings: FoldSettings) -> Delayed:
    """The state after folding every row block of ``x``, in order, into ``state`` (one task per block)."""
    token = tokenize(x.name, state, astuple(settings))
    name = f"ipca-fold-{token}"
    layer: dict[Any, Any] = {}
    previous: Any = state
    for i in range(x.numblocks[0]):
        key = (name, i)
        layer[key] = Task(key, _fold_block, previous, Ref((x.name, i, 0)), settings, i)
        previous = Ref(key)
    return Delayed((name, x.numblocks[0] - 1), None, deps=(x,), layer=layer)


def _numpy_design(X: Any, n_features: int | None = None) -> np.ndarray:
    x = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X)
    if x.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (n_samples, n_features), got shape {x.shape}. Reshape a single "
                         f"feature with X.reshape(-1, 1).")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got dtype {x.dtype}. Encode categories as numbers first.")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"X has {x.shape[1]} features, but the estimator was fitted with {n_features}.")
    if x.shape[0] == 0:
        raise ValueError("X has 0 samples; at least one is required.")
    return x


def fit_in_batches(X: Any, settings: FoldSettings, batch_size: Any) -> tuple[dict[str, Any], int, int]:
    """``(state, batch_size_, number of batches)`` after folding the batches of ``X`` into an empty model.

    Batches: ``batch_size`` rows (as scikit-learn's ``fit``), else the row blocks of a shoal array, else
    ``5 * n_features`` rows; every batch gets at least ``n_components`` rows.
    """
    lazy = is_lazy(X)
    x = as_design(X) if lazy else _numpy_design(X)
    n, p = (int(s) for s in x.shape)
    k = settings.n_components or 0
    if k > min(n, p):
        raise ValueError(f"IncrementalPCA: n_components={k} must be at most min(n_samples, n_features) = "
                         f"{min(n, p)} for X of shape {(n, p)}.")
    if batch_size is not None:
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"IncrementalPCA: batch_size must be None or a positive integer, got {batch_size!r}.")
        size = int(batch_size)
        batches = sized_batches(n, size, k)
    elif lazy:
        batches = plan_batches(x.chunks[0], k)
        size = max(batches)
    else:
        size = 5 * p
        batches = sized_batches(n, size, k)
    if batches[0] < k:
        raise ValueError(f"IncrementalPCA: the first batch has {batches[0]} rows but n_components={k} needs at "
                         f"least as many; pass batch_size >= {k} or fewer components.")
    if lazy:
        x = x if x.chunks[0] == batches else x.rechunk({0: batches})
        return fold_chain(x, None, settings).compute(), size, len(batches)
    state, start = None, 0
    for i, rows in enumerate(batches):
        state = fold(state, summarize(x[start:start + rows], where=f"batch {i}"), settings, i)
        start += rows
    assert state is not None  # n >= 1, so there is a batch
    return state, size, len(batches)


def fold_whole(X: Any, state: dict[str, Any] | None, settings: FoldSettings, batch_index: int) -> dict[str, Any]:
    """``state`` after folding all of ``X`` as one batch (a one-pass summary for shoal input)."""
    p = None if state is None else state["components_"].shape[1]
    if is_lazy(X):
        summary = batch_summary(as_design(X, n_features=p)).compute()
    else:
        summary = summarize(_numpy_design(X, n_features=p))
    return fold(state, summary, settings, batch_index)

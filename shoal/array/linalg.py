"""``shoal.array.linalg``: factorizations, solvers and norms of shoal arrays; mirrors ``dask.array.linalg``.

Where each algorithm lives:

- :mod:`shoal.array._tsqr`: ``qr``, ``svd``, ``tsqr``, ``sfqr``, for arrays
  chunked along one axis (tall-and-skinny by TSQR, short-and-fat directly);
- :mod:`shoal.array._blocked`: blocked ``lu``, ``cholesky`` and the
  substitutions behind ``solve``, ``solve_triangular`` and ``inv``;
- :mod:`shoal.array._linalg_norm`: ``norm`` (by reductions; the singular-value
  orders by a batched TSQR-style reduction);
- :mod:`shoal.array._linalg_householder`: ``qr(mode="complete" | "raw")`` and
  ``svd(full_matrices=True)``, from TSQR and the Householder vectors
  reconstructed from its ``Q``;
- here: ``svd_compressed`` (randomized SVD of arrays chunked any way) and
  ``lstsq`` (by TSQR).

The NumPy functions with a shoal version (``np.linalg.qr``, ``svd``,
``solve``, ``inv``, ``cholesky``, ``lstsq``, ``norm``) stay lazy when called
on shoal arrays.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._blocked import cholesky, inv, lu, solve, solve_triangular
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._linalg import matmul
from shoal.array._linalg_norm import norm
from shoal.array._rechunk import rechunk
from shoal.array._linalg_householder import qr, svd
from shoal.array._tsqr import conj_transpose, require_known, require_matrix, sfqr, tsqr
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "cholesky",
    "compression_level",
    "compression_matrix",
    "inv",
    "lstsq",
    "lu",
    "norm",
    "qr",
    "sfqr",
    "solve",
    "solve_triangular",
    "svd",
    "svd_compressed",
    "tsqr",
]


# -- small graph helpers ----------------------------------------------------------------------------------------

def _leading(x: ArrayBase, k: int, axis: int) -> Any:
    """The first ``k`` entries of ``x`` along ``axis``, which must be a single block."""
    if x.numblocks[axis] != 1:  # pragma: no cover - callers pass single-block axes
        raise ValueError(f"internal: axis {axis} of {x.name!r} has chunks {x.chunks[axis]}")
    if k >= x.shape[axis]:
        return x
    name = f"leading-{tokenize(x, k, axis)}"
    index = tuple(slice(None) if d != axis else slice(0, k) for d in range(x.ndim))
    layer = {}
    for key in x._key_array.flat:
        new_key = (name, *key[1:])
        layer[new_key] = Task(new_key, _getitem, Ref(key), index)
    chunks = tuple((k,) if d == axis else c for d, c in enumerate(x.chunks))
    return new_array(layer, name, chunks, x.dtype, deps=(x,), meta=x._meta)


def _getitem(block: np.ndarray, index: Any) -> Any:
    return block[index]


# -- randomized SVD ---------------------------------------------------------------------------------------------

def compression_level(n: int, q: int, n_oversamples: int = 10, min_subspace_size: int = 20) -> int:
    """Size of the subspace a randomized SVD of rank ``q`` projects on; mirrors Dask's.

    ``q + n_oversamples``, at least ``min_subspace_size`` and at most ``n``.

    >>> compression_level(100, 5), compression_level(100, 30), compression_level(12, 30)
    (20, 40, 12)
    """
    return min(max(min_subspace_size, q + n_oversamples), n)


def _seed_int(seed: Any) -> int:
    """An integer seed from an int, a NumPy ``Generator``/``RandomState`` or ``None`` (fresh entropy)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (1 << 63))  # type: ignore[operator]
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(1 << 62))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(1 << 31))
    if isinstance(seed, Integral):
        return int(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator, a RandomState or None, got {seed!r}")


def _normal_block(seed: int, index: int, shape: tuple[int, int], dtype: Any) -> np.ndarray:
    return np.random.default_rng([seed, index]).standard_normal(shape).astype(dtype, copy=False)


def _test_matrix(data: ArrayBase, width: int, seed: int) -> Any:
    """A random normal ``n x width`` array with ``data``'s column chunks, one generator per block."""
    dtype = data.dtype if data.dtype.kind == "f" and data.dtype.itemsize >= 4 else np.dtype("f8")
    name = f"normal-{tokenize(data.chunks[1], width, seed, dtype)}"
    layer = {(name, j, 0): Task((name, j, 0), _normal_block, seed, j, (int(c), width), dtype)
             for j, c in enumerate(data.chunks[1])}
    return new_array(layer, name, (data.chunks[1], (width,)), dtype, meta=meta_from_dtype(dtype, 2))


def compression_matrix(data: Any, q: int, iterator: str = "power", n_power_iter: int = 0, n_oversamples: int = 10,
                       seed: Any = None, compute: bool = False) -> Any:
    """An orthonormal basis (as rows) of the approximate range of ``data``; mirrors Dask's.

    Halko, Martinsson and Tropp, "Finding structure with randomness", 2011:
    ``data`` is multiplied by a random normal matrix, optionally sharpened
    by ``n_power_iter`` power iterations (``iterator="power"``: plain
    products; ``"QR"``: re-orthonormalized after each product, more stable),
    and the result orthonormalized by TSQR.

    Returns
    -------
    Array
        ``l x m`` with ``l = compression_level(min(m, n), q, n_oversamples)``.
    """
    data = require_matrix(data, "compression_matrix")
    require_known(data, "compression_matrix")
    if iterator not in ("power", "QR"):
        raise ValueError(f"compression_matrix: iterator must be 'power' or 'QR', got {iterator!r}")
    if int(n_power_iter) < 0:
        raise ValueError(f"compression_matrix: n_power_iter must be >= 0, got {n_power_iter}")
    m, n = (int(s) for s in data.shape)
    width = compression_level(min(m, n), q, n_oversamples)
    mat_h = matmul(data, _test_matrix(data, width, _seed_int(seed)))
    data_h = conj_transpose(data)

    def step(x: Any) -> Any:
        return x.persist() if compute else x

    if iterator == "power":
        for _ in range(n_power_iter):
            mat_h = matmul(data, step(matmul(data_h, step(mat_h))))
        basis, _ = tsqr(_single_column_block(step(mat_h)))
    else:
        basis, _ = tsqr(_single_column_block(step(mat_h)))
        for _ in range(n_power_iter):
            basis, _ = tsqr(_single_column_block(step(matmul(data_h, basis))))
            basis, _ = tsqr(_single_column_block(step(matmul(data, basis))))
    return conj_transpose(basis)


def _single_column_block(x: ArrayBase) -> Any:
    return x if x.numblocks[1] == 1 else rechunk(x, {1: -1})


def svd_compressed(a: Any, k: int, iterator: str = "power", n_power_iter: int = 0, n_oversamples: int = 10,
                   seed: Any = None, compute: bool = False, coerce_signs: bool = True) -> tuple[Any, Any, Any]:
    """Randomized truncated SVD of rank ``k``; mirrors ``dask.array.linalg.svd_compressed``.

    Works on arrays chunked along both axes. The array is projected on an
    approximate basis of its range (:func:`compression_matrix`), and the SVD
    of the small projection (by TSQR) is mapped back. Accuracy improves with
    ``n_power_iter`` (1 or 2 are usual when singular values decay slowly)
    and ``n_oversamples``.

    Parameters
    ----------
    a : Array
        Two dimensions, chunked any way.
    k : int
        Rank of the approximation.
    iterator : {"power", "QR"}
    n_power_iter, n_oversamples : int
    seed : int, numpy Generator or RandomState, optional
        Seed of the random projection; the same seed gives the same result.
    compute : bool
        Persist intermediate products (helps when ``a`` is expensive to
        recompute and the power iteration reads it several times).
    coerce_signs : bool
        Fix the signs of the singular vectors (see :func:`svd`).

    Returns
    -------
    u, s, v : Array
        ``u`` (``m x k``, with ``a``'s row chunks), ``s`` (``k``), ``v``
        (``k x n``, with ``a``'s column chunks).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((60, 5)) @ rng.random((5, 40))  # rank 5
    >>> u, s, v = svd_compressed(sa.from_array(a, chunks=(20, 20)), k=5, seed=1)
    >>> bool(np.allclose(s.compute(), np.linalg.svd(a, compute_uv=False)[:5]))
    True
    """
    a = require_matrix(a, "svd_compressed")
    require_known(a, "svd_compressed")
    m, n = (int(s) for s in a.shape)
    if not isinstance(k, Integral) or not 0 < k <= min(m, n):
        raise ValueError(f"svd_compressed: k must be an integer between 1 and min(shape) = {min(m, n)} for an "
                         f"array of shape {a.shape}, got {k!r}")
    comp = compression_matrix(a, int(k), iterator=iterator, n_power_iter=n_power_iter, n_oversamples=n_oversamples,
                              seed=seed, compute=compute)
    projected = matmul(comp, a)  # l x n, one block of rows
    if compute:
        projected = projected.persist()
    u_small, s, v = svd(projected, coerce_signs=coerce_signs)
    u = matmul(conj_transpose(comp), u_small)
    return _leading(u, int(k), 1), _leading(s, int(k), 0), _leading(v, int(k), 0)


# -- least squares ----------------------------------------------------------------------------------------------

def _rank(s: np.ndarray, rcond: float) -> np.ndarray:
    return np.asarray(int(np.count_nonzero(s > rcond * s.max())) if s.size else 0)


def _singular_values(r: np.ndarray) -> np.ndarray:
    return np.linalg.svd(r, compute_uv=False)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> tuple[Any, Any, Any, Any]:
    """Least-squares solution of ``a @ x = b``; mirrors ``dask.array.linalg.lstsq``.

    ``a`` (``m x n`` with ``m >= n``) is factored by TSQR (rechunked to one
    block of columns if needed), and ``x`` solves ``r x = q^H b``. With
    fewer rows than columns, ``x`` is the minimum-norm solution (from TSQR
    of ``a^H``), as in NumPy, and ``residuals`` is empty.

    Returns
    -------
    x : Array
        ``n`` or ``n x k``, like ``b``.
    residuals : Array
        Squared residual norms, shape ``(1,)`` for 1-d ``b`` or ``(k,)``;
        computed for every input (NumPy returns an empty array when ``a`` is
        rank deficient).
    rank : Array
        0-d: the number of singular values above ``rcond * s.max()``
        (``rcond`` defaults to machine epsilon times ``max(m, n)``).
    s : Array
        Singular values of ``a``.

    Notes
    -----
    ``x`` comes from a triangular solve, so a rank-deficient ``a`` gives
    ``inf``/``nan`` or huge values where NumPy returns the minimum-norm
    solution; check ``rank``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.vander(np.arange(8.), 3)
    >>> b = np.arange(8.) ** 2
    >>> x, res, rank, s = lstsq(sa.from_array(a, chunks=(3, 3)), b)
    >>> bool(np.allclose(x.compute(), [1, 0, 0])), int(rank.compute())
    (True, 3)
    """
    a = require_matrix(a, "lstsq")
    require_known(a, "lstsq")
    b = b if isinstance(b, ArrayBase) else asarray(b)
    if b.ndim not in (1, 2):
        raise ValueError(f"lstsq: b must have 1 or 2 dimensions, got shape {b.shape}")
    if b.shape[0] != a.shape[0]:
        raise np.linalg.LinAlgError(f"lstsq: incompatible dimensions: a has shape {a.shape}, so b needs "
                                    f"{a.shape[0]} rows, but b has shape {b.shape}")
    m, n = (int(s) for s in a.shape)
    if m < n:
        return _lstsq_wide(a, b, rcond)
    if a.numblocks[1] != 1:
        a = rechunk(a, {1: -1})
    q, r = tsqr(a)
    x = solve_triangular(r, matmul(conj_transpose(q), b), lower=False)
    diff = b - matmul(a, x)
    residuals = (abs(diff) ** 2).sum(axis=0, keepdims=b.ndim == 1)
    return (x, residuals, *_rank_and_singular_values(r, a, b, rcond))


def _lstsq_wide(a: Any, b: Any, rcond: float | None) -> tuple[Any, Any, Any, Any]:
    """The minimum-norm solution of an underdetermined system (fewer rows than columns), as NumPy gives.

    ``a^H = q r`` by TSQR (``a^H`` is tall), so ``a = r^H q^H``; every solution of ``r^H (q^H x) = b`` has
    the same ``q^H x``, and the one of least norm lies in the span of ``q``: ``x = q y`` with
    ``r^H y = b``. Residuals are empty, as NumPy returns them when there are fewer rows than columns.
    """
    tall = conj_transpose(a)
    if tall.numblocks[1] != 1:
        tall = rechunk(tall, {1: -1})
    q, r = tsqr(tall)
    x = matmul(q, solve_triangular(conj_transpose(r), b, lower=True))
    real = np.empty(0, dtype=r.dtype).real.dtype
    residuals = asarray(np.empty(0, dtype=real))
    return (x, residuals, *_rank_and_singular_values(r, a, b, rcond))


def _rank_and_singular_values(r: Any, a: Any, b: Any, rcond: float | None) -> tuple[Any, Any]:
    """The rank of ``a`` and its singular values, read off its (small, square) triangular factor ``r``."""
    m, n = (int(s) for s in a.shape)
    k = int(r.shape[0])
    token = tokenize(a, b, rcond)
    real = np.empty(0, dtype=r.dtype).real.dtype
    s_name, rank_name = f"lstsq-singular-{token}", f"lstsq-rank-{token}"
    s_layer = {(s_name, 0): Task((s_name, 0), _singular_values, Ref((r.name, 0, 0)))}
    s = new_array(s_layer, s_name, ((k,),), real, deps=(r,), meta=meta_from_dtype(real, 1))
    cutoff = float(np.finfo(real).eps * max(m, n)) if rcond is None or rcond < 0 else float(rcond)
    rank_layer = {(rank_name,): Task((rank_name,), _rank, Ref((s_name, 0)), cutoff)}
    rank = new_array(rank_layer, rank_name, (), np.dtype(int), deps=(s,), meta=meta_from_dtype(int, 0))
    return rank, s


# -- NumPy's signatures -----------------------------------------------------------------------------------------

@implements(np.linalg.qr)
def _np_qr(a: Any, mode: str = "reduced") -> Any:
    result = qr(a, mode=mode)
    return _QRResult(*result) if mode in ("reduced", "complete") else result


@implements(np.linalg.svd)
def _np_svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    if not compute_uv:
        return svd(a)[1]
    return _SVDResult(*svd(a, full_matrices=full_matrices))


@implements(np.linalg.cholesky)
def _np_cholesky(a: Any, /, *, upper: bool = False) -> Any:
    return cholesky(a, lower=not upper)


implements(np.linalg.solve)(solve)
implements(np.linalg.inv)(inv)
implements(np.linalg.lstsq)(lstsq)
implements(np.linalg.norm)(norm)

# NumPy returns named tuples; keep attribute access (res.Q, res.U) working on shoal's results.
_QRResult = type(np.linalg.qr(np.eye(1)))
_SVDResult = type(np.linalg.svd(np.eye(1)))

"""Blocked factorizations of square arrays: LU, Cholesky, and the triangular solves built on them.

A square array is seen as an ``N x N`` grid of blocks with square blocks on
the diagonal (an array whose row and column chunks differ is first rechunked
to common boundaries). Each algorithm is the textbook right-looking block
version, one task per output block, in which block ``(i, k)`` subtracts the
products of the blocks already factored to its left and above, then solves
against the diagonal block:

Cholesky
    ``L_kk = chol(A_kk - sum_j L_kj L_kj^H)`` and
    ``L_ik = (A_ik - sum_j L_ij L_kj^H) L_kk^-H`` for ``j < k < i``.

LU
    Each diagonal block is factored with partial pivoting *inside the block*
    (``S_kk = P_k L_kk U_kk``), as Dask does; the blocks left of the
    diagonal are first computed unpermuted (``L'``) and permuted for the
    output (``L_ik = P_i^T L'_ik``), so ``a = p @ l @ u`` with ``p`` block
    diagonal. Pivoting never crosses a block boundary: a singular (or badly
    conditioned) diagonal block fails where NumPy's full pivoting would not.

Triangular solves
    forward or back substitution over the block rows:
    ``x_i = T_ii^-1 (b_i - sum_j T_ij x_j)``, one task per block of ``x``.

Every task holds the blocks of one block row at most, so memory per task is
bounded by the chunk size times the number of blocks along a side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._from_array import asarray
from shoal.array._rechunk import common_chunks, rechunk
from shoal.array._tsqr import require_known, require_matrix, scipy_linalg
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["cholesky", "inv", "lu", "solve", "solve_triangular"]


# -- block kernels ----------------------------------------------------------------------------------------------

def _tri_solve(t: np.ndarray, rhs: np.ndarray, lower: bool, unit_diagonal: bool = False,
               trans: bool = False) -> np.ndarray:
    """Solve ``t x = rhs`` (``t^T x = rhs`` with ``trans``) for triangular ``t``."""
    if t.size == 0 or rhs.size == 0:
        return np.zeros(rhs.shape, dtype=np.result_type(t, rhs, 1.0))
    linalg = scipy_linalg()
    if linalg is not None:
        # LAPACK's trtrs directly: scipy.linalg.solve_triangular costs 0.1-1 ms per call in SciPy 1.17, which
        # dominated blocked solves of small blocks.
        (trtrs,) = linalg.get_lapack_funcs(("trtrs",), (t, rhs))
        x, info = trtrs(t, rhs, lower=int(lower), trans=int(trans), unitdiag=int(unit_diagonal))
        if info > 0:
            raise np.linalg.LinAlgError(f"singular matrix: diagonal entry {info - 1} of a triangular block is zero")
        return x  # type: ignore[no-any-return]
    t = np.tril(t) if lower else np.triu(t)  # pragma: no cover - without scipy
    if unit_diagonal:  # pragma: no cover
        t = t.copy()
        np.fill_diagonal(t, 1)
    return np.linalg.solve(t.T if trans else t, rhs)  # pragma: no cover


def _minus_products(block: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]], dtype: Any) -> np.ndarray:
    """``block - sum(left @ right for left, right in pairs)`` in a fresh array of ``dtype``."""
    out = np.array(block, dtype=dtype)
    for left, right in pairs:
        out -= left @ right
    return out


def _conj_t(x: np.ndarray) -> np.ndarray:
    return x.conj().T


def _chol_diag(block: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]], dtype: Any) -> np.ndarray:
    return np.linalg.cholesky(_minus_products(block, [(lft, _conj_t(rgt)) for lft, rgt in pairs], dtype))


def _chol_below(block: np.ndarray, diag: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]],
                dtype: Any) -> np.ndarray:
    rest = _minus_products(block, [(lft, _conj_t(rgt)) for lft, rgt in pairs], dtype)
    return _conj_t(_tri_solve(diag, _conj_t(rest), lower=True))


def _lu_diag(block: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]],
             dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    linalg = scipy_linalg()
    if linalg is None:  # pragma: no cover - without scipy
        raise ImportError("shoal.array.linalg.lu and solve need SciPy: pip install scipy")
    p, lower, upper = linalg.lu(_minus_products(block, pairs, dtype), check_finite=False)
    return p, lower, upper


def _lu_left(block: np.ndarray, diag: tuple[np.ndarray, ...], pairs: list[tuple[np.ndarray, np.ndarray]],
             dtype: Any) -> np.ndarray:
    """Unpermuted ``L'_ik = (A_ik - sum L'_ij U_jk) U_kk^-1``."""
    rest = _minus_products(block, pairs, dtype)
    return _tri_solve(diag[2], rest.T, lower=False, trans=True).T


def _lu_right(block: np.ndarray, diag: tuple[np.ndarray, ...], pairs: list[tuple[np.ndarray, np.ndarray]],
              dtype: Any) -> np.ndarray:
    """``U_ki = L_kk^-1 P_k^T (A_ki - sum L'_kj U_ji)``."""
    rest = _minus_products(block, pairs, dtype)
    return _tri_solve(diag[1], diag[0].T @ rest, lower=True, unit_diagonal=True)


def _take(obj: tuple[np.ndarray, ...], index: int) -> np.ndarray:
    return obj[index]


def _permute_left(p_diag: tuple[np.ndarray, ...], left: np.ndarray) -> np.ndarray:
    return p_diag[0].T @ left


def _zeros(shape: tuple[int, int], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def _eye_block(rows: int, cols: int, offset: int, dtype: Any) -> np.ndarray:
    return np.eye(rows, cols, k=offset, dtype=dtype)


def _sweep(diag: Any, rhs: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]], mode: str, dtype: Any) -> np.ndarray:
    """One block of a substitution: ``solve(diag, rhs - sum(t @ x for t, x in pairs))``."""
    rest = _minus_products(rhs, pairs, dtype)
    if mode == "lower":
        return _tri_solve(diag, rest, lower=True)
    if mode == "upper":
        return _tri_solve(diag, rest, lower=False)
    if mode == "lu-lower":  # diag is (P_k, L_kk, U_kk); solve L_kk y = P_k^T rest
        return _tri_solve(diag[1], diag[0].T @ rest, lower=True, unit_diagonal=True)
    return _tri_solve(diag[2], rest, lower=False)  # "lu-upper"


# -- shared checks ----------------------------------------------------------------------------------------------

def _square(a: Any, func: str) -> ArrayBase:
    """``a`` as a square 2-d array with square diagonal blocks (rechunked if its row and column chunks differ)."""
    a = require_matrix(a, func)
    require_known(a, func)
    if a.shape[0] != a.shape[1]:
        raise np.linalg.LinAlgError(
            f"{func} needs a square array, but got shape {a.shape}. Last 2 dimensions of the array must be square"
            + ("; for least squares on a non-square array use shoal.array.linalg.lstsq." if func == "solve" else "."))
    if a.chunks[0] != a.chunks[1]:
        common = common_chunks([a.chunks[0], a.chunks[1]])
        a = rechunk(a, (common, common))
    return a


def _float_dtype(*dtypes: Any) -> np.dtype[Any]:
    return np.linalg.solve(np.eye(1, dtype=dtypes[0]), np.ones(1, dtype=dtypes[-1])).dtype


def _rhs(a: ArrayBase, b: Any, func: str) -> ArrayBase:
    """``b`` as an array whose row chunks match ``a``'s, or a ValueError naming both shapes."""
    b = b if isinstance(b, ArrayBase) else asarray(b)
    if b.ndim not in (1, 2):
        raise ValueError(f"{func}: b must have 1 or 2 dimensions, got shape {b.shape}")
    require_known(b, func)
    if b.shape[0] != a.shape[0]:
        raise ValueError(
            f"{func}: a has shape {a.shape} but b has shape {b.shape}; b needs {a.shape[0]} rows to match a.")
    if b.chunks[0] != a.chunks[0]:
        b = rechunk(b, {0: a.chunks[0]})
    return b


def _substitute(a_blocks: Callable[[int, int], Any], diag: Callable[[int], Any], b: ArrayBase, nblocks: int,
                lower: bool, mode: str, dtype: Any, token: str, deps: tuple[Any, ...]) -> Any:
    """Forward (``lower``) or back substitution over ``nblocks`` block rows; ``a_blocks(i, j)`` refs ``T_ij``."""
    name = f"solve-triangular-{token}"
    layer: dict[Any, Any] = {}
    order = range(nblocks) if lower else range(nblocks - 1, -1, -1)
    col_blocks = b.numblocks[1] if b.ndim == 2 else 1
    for i in order:
        others = range(i) if lower else range(i + 1, nblocks)
        for c in range(col_blocks):
            index = (i, c) if b.ndim == 2 else (i,)
            pairs = [(a_blocks(i, j), Ref((name, j, c) if b.ndim == 2 else (name, j))) for j in others]
            key = (name, *index)
            layer[key] = Task(key, _sweep, diag(i), Ref((b.name, *index)), pairs, mode, dtype)
    return new_array(layer, name, b.chunks, dtype, deps=deps, meta=meta_from_dtype(dtype, b.ndim))


# -- public functions -------------------------------------------------------------------------------------------

def solve_triangular(a: Any, b: Any, lower: bool = False) -> Any:
    """Solve ``a @ x = b`` for a triangular ``a``; mirrors ``scipy.linalg.solve_triangular``.

    Block substitution over the rows of ``a``: only the triangle named by
    ``lower`` is read. ``b`` (1-d or 2-d) is rechunked along its rows to
    match ``a``; ``x`` has ``b``'s chunks.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> t = np.tril(np.arange(1., 17.).reshape(4, 4))
    >>> x = solve_triangular(sa.from_array(t, chunks=2), np.ones(4), lower=True)
    >>> bool(np.allclose(t @ x.compute(), 1))
    True
    """
    a = _square(a, "solve_triangular")
    b = _rhs(a, b, "solve_triangular")
    dtype = _float_dtype(a.dtype, b.dtype)
    token = tokenize(a, b, lower)
    return _substitute(lambda i, j: Ref((a.name, i, j)), lambda i: Ref((a.name, i, i)), b, a.numblocks[0],
                       lower, "lower" if lower else "upper", dtype, token, (a, b))


def cholesky(a: Any, lower: bool = False) -> Any:
    """Cholesky factor of a Hermitian positive-definite array; mirrors ``dask.array.linalg.cholesky``.

    Returns the upper factor ``u`` (``a = u^H @ u``) by default, as Dask and
    SciPy do, or the lower one ``l`` (``a = l @ l^H``, NumPy's) with
    ``lower=True``. Only the lower triangle of ``a`` is read. A matrix that
    is not positive definite raises ``LinAlgError`` when computed.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.array([[4., 2., 0.], [2., 5., 1.], [0., 1., 3.]])
    >>> l = cholesky(sa.from_array(a, chunks=2), lower=True).compute()
    >>> bool(np.allclose(l, np.linalg.cholesky(a)))
    True
    """
    a = _square(a, "cholesky")
    dtype = _float_dtype(a.dtype)
    token = tokenize(a)
    name = f"cholesky-lower-{token}"
    n = a.numblocks[0]
    layer: dict[Any, Any] = {}
    for k in range(n):
        pairs = [(Ref((name, k, j)), Ref((name, k, j))) for j in range(k)]
        layer[(name, k, k)] = Task((name, k, k), _chol_diag, Ref((a.name, k, k)), pairs, dtype)
        for i in range(k + 1, n):
            pairs = [(Ref((name, i, j)), Ref((name, k, j))) for j in range(k)]
            layer[(name, i, k)] = Task((name, i, k), _chol_below, Ref((a.name, i, k)), Ref((name, k, k)), pairs,
                                       dtype)
        for j in range(k + 1, n):
            shape = (int(a.chunks[0][k]), int(a.chunks[1][j]))
            layer[(name, k, j)] = Task((name, k, j), _zeros, shape, dtype)
    meta = meta_from_dtype(dtype, 2)
    low = new_array(layer, name, a.chunks, dtype, deps=(a,), meta=meta)
    if lower:
        return low
    up_name = f"cholesky-upper-{token}"
    up_layer = {(up_name, i, j): Task((up_name, i, j), _conj_t, Ref((name, j, i))) for i in range(n) for j in range(n)}
    return new_array(up_layer, up_name, a.chunks, dtype, deps=(low,), meta=meta)


def _lu_graph(a: ArrayBase, dtype: Any, token: str) -> tuple[dict[Any, Any], str, str, str]:
    """Tasks of the blocked LU: diagonal factors ``(P, L, U)``, unpermuted ``L'`` below, ``U`` above."""
    n = a.numblocks[0]
    diag, left, right = f"lu-diag-{token}", f"lu-left-{token}", f"lu-right-{token}"
    layer: dict[Any, Any] = {}

    def lower_ref(i: int, j: int) -> Ref:
        return Ref((left, i, j))

    def upper_ref(i: int, j: int) -> Ref:
        return Ref((right, i, j))  # only ever asked for i < j

    for k in range(n):
        pairs = [(lower_ref(k, j), upper_ref(j, k)) for j in range(k)]
        layer[(diag, k)] = Task((diag, k), _lu_diag, Ref((a.name, k, k)), pairs, dtype)
        for i in range(k + 1, n):
            pairs = [(lower_ref(i, j), upper_ref(j, k)) for j in range(k)]
            layer[(left, i, k)] = Task((left, i, k), _lu_left, Ref((a.name, i, k)), Ref((diag, k)), pairs, dtype)
            pairs = [(lower_ref(k, j), upper_ref(j, i)) for j in range(k)]
            layer[(right, k, i)] = Task((right, k, i), _lu_right, Ref((a.name, k, i)), Ref((diag, k)), pairs, dtype)
    return layer, diag, left, right


def lu(a: Any) -> tuple[Any, Any, Any]:
    """Blocked LU factorization ``a = p @ l @ u``; mirrors ``scipy.linalg.lu`` as ``dask.array.linalg.lu``.

    ``p`` is a permutation matrix, ``l`` unit lower triangular and ``u``
    upper triangular, all chunked like ``a`` (made square along the
    diagonal). Rows are pivoted within diagonal blocks only (see the module
    docstring). Needs SciPy.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.array([[1., 2., 0.], [3., 1., 1.], [0., 2., 4.]])
    >>> p, l, u = lu(sa.from_array(a, chunks=2))
    >>> bool(np.allclose(p.compute() @ l.compute() @ u.compute(), a))
    True
    """
    a = _square(a, "lu")
    dtype = _float_dtype(a.dtype)
    token = tokenize(a)
    layer, diag, left, right = _lu_graph(a, dtype, token)
    n = a.numblocks[0]
    names = {part: f"lu-{part}-{token}" for part in "plu"}
    out: dict[str, dict[Any, Any]] = {part: {} for part in "plu"}
    for i in range(n):
        for j in range(n):
            shape = (int(a.chunks[0][i]), int(a.chunks[1][j]))
            keys = {part: (names[part], i, j) for part in "plu"}
            zeros = {part: Task(keys[part], _zeros, shape, dtype) for part in "plu"}
            if i == j:
                for position, part in enumerate("plu"):
                    out[part][keys[part]] = Task(keys[part], _take, Ref((diag, i)), position)
            elif i > j:
                out["p"][keys["p"]], out["u"][keys["u"]] = zeros["p"], zeros["u"]
                out["l"][keys["l"]] = Task(keys["l"], _permute_left, Ref((diag, i)), Ref((left, i, j)))
            else:
                out["p"][keys["p"]], out["l"][keys["l"]] = zeros["p"], zeros["l"]
                out["u"][keys["u"]] = Task(keys["u"], _take_right, Ref((right, i, j)))
    meta = meta_from_dtype(dtype, 2)
    base = _Tasks(layer, (a,))
    return tuple(new_array(out[part], names[part], a.chunks, dtype, deps=(base,), meta=meta)  # type: ignore[return-value]
                 for part in "plu")


class _Tasks:
    """Tasks shared by several output arrays (the LU factors), held as one dependency of each."""

    __slots__ = ("_layer", "_deps")

    def __init__(self, layer: dict[Any, Any], deps: tuple[Any, ...]) -> None:
        self._layer = layer  # collect_graph merges it once, however many arrays depend on it
        self._deps = deps


def _take_right(block: np.ndarray) -> np.ndarray:
    return block


def solve(a: Any, b: Any, sym_pos: bool | None = None, assume_a: str = "gen") -> Any:
    """Solve ``a @ x = b`` for a square ``a``; mirrors ``dask.array.linalg.solve``.

    ``assume_a="gen"`` (default) factors ``a`` by blocked LU (pivoting within
    diagonal blocks, see :func:`lu`); ``assume_a="pos"`` (or the older
    ``sym_pos=True``) by Cholesky, for Hermitian positive-definite ``a``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.array([[3., 1., 0.], [1., 4., 1.], [0., 1., 5.]])
    >>> x = solve(sa.from_array(a, chunks=2), np.array([1., 2., 3.]))
    >>> bool(np.allclose(x.compute(), np.linalg.solve(a, [1., 2., 3.])))
    True
    """
    if sym_pos is not None:
        assume_a = "pos" if sym_pos else "gen"
    if assume_a not in ("gen", "pos"):
        raise ValueError(f"solve: assume_a must be 'gen' or 'pos', got {assume_a!r}")
    a = _square(a, "solve")
    b = _rhs(a, b, "solve")
    if assume_a == "pos":
        low = cholesky(a, lower=True)
        return solve_triangular(conj_upper(low), solve_triangular(low, b, lower=True), lower=False)
    dtype = _float_dtype(a.dtype, b.dtype)
    token = tokenize(a, b)
    layer, diag, left, right = _lu_graph(a, dtype, token)
    factors = _Tasks(layer, (a,))
    n = a.numblocks[0]
    y = _substitute(lambda i, j: Ref((left, i, j)), lambda i: Ref((diag, i)), b, n, True, "lu-lower", dtype,
                    f"{token}-y", (factors, b))
    return _substitute(lambda i, j: Ref((right, i, j)), lambda i: Ref((diag, i)), y, n, False, "lu-upper", dtype,
                       f"{token}-x", (factors, y))


def conj_upper(low: ArrayBase) -> Any:
    """The conjugate transpose of a square lower-triangular array, block by block."""
    name = f"conj-upper-{tokenize(low)}"
    n = low.numblocks[0]
    layer = {(name, i, j): Task((name, i, j), _conj_t, Ref((low.name, j, i))) for i in range(n) for j in range(n)}
    return new_array(layer, name, (low.chunks[1], low.chunks[0]), low.dtype, deps=(low,), meta=low._meta)


def inv(a: Any) -> Any:
    """Inverse of a square array; mirrors ``numpy.linalg.inv`` (by :func:`solve` against the identity).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.array([[2., 1.], [1., 3.]])
    >>> bool(np.allclose(inv(sa.from_array(a, chunks=1)).compute(), np.linalg.inv(a)))
    True
    """
    a = _square(a, "inv")
    dtype = _float_dtype(a.dtype)
    name = f"eye-{tokenize(a.chunks, dtype)}"
    starts = [np.cumsum((0, *c[:-1])) for c in a.chunks]
    layer = {}
    for i, rows in enumerate(a.chunks[0]):
        for j, cols in enumerate(a.chunks[1]):
            offset = int(starts[0][i] - starts[1][j])
            layer[(name, i, j)] = Task((name, i, j), _eye_block, int(rows), int(cols), offset, dtype)
    eye = new_array(layer, name, a.chunks, dtype, meta=meta_from_dtype(dtype, 2))
    return solve(a, eye)

"""Complete and raw QR, and the full SVD, of arrays chunked along one axis.

NumPy's ``qr(mode="complete")`` returns an ``m x m`` ``Q``, ``qr(mode="raw")``
LAPACK's Householder reflectors ``(h, tau)``, and ``svd(full_matrices=True)``
an ``m x m`` ``U``. TSQR (:mod:`shoal.array._tsqr`) gives only the reduced
``Q`` (``m x n``) of a tall array; all three come from the Householder
representation of that ``Q``, rebuilt as in Ballard, Demmel, Grigori,
Jacquelin, Knight and Nguyen, "Reconstructing Householder vectors from
tall-skinny QR" (IPDPS 2014):

    ``Q D = (I - Y T Y^H)[:, :n]``, so ``Q - [D^H; 0] = Y U`` is an LU
    factorization without pivoting: ``Y`` (``m x n``) unit lower trapezoidal,
    ``U`` upper triangular, and ``T = -U D Y_1^{-H}`` (``Y_1``: the top
    ``n x n`` of ``Y``).

``D`` is a diagonal of signs (unit phases for complex data), chosen while the
``n x n`` top of ``Q`` is factored: at step ``j`` the pivot ``c`` becomes
``c - conj(d_j)`` with ``d_j`` a multiple of the phase of ``R[j, j]`` (so
that ``D^H R`` has a real diagonal, as LAPACK's) of sign such that
``Re(c d_j) <= 0``. That is LAPACK's own choice (``tau`` has a real part in
``[1, 2]``), and the factorization is unique once ``D`` is fixed, so ``Y``,
``tau = diag(T)``, ``D^H R`` and ``I - Y T Y^H`` are NumPy's ``h``, ``tau``,
``R`` and complete ``Q`` up to rounding (for inputs of full column rank; a
column that is already zero below its diagonal makes LAPACK skip its
reflector, which the reconstruction does not).

Graph: TSQR, one task for the top ``n`` rows (the LU, ``D`` and ``T``), one
task per row block for ``Y_i = (Q_i - E_i D^H) U^{-1}``; block ``(i, j)`` of
the complete ``Q`` is ``delta_ij I - Y_i (T Y_j^H)``. Short-and-fat arrays
(``m <= n``) need no reconstruction: ``Q`` and the reflectors come from
NumPy's QR of the first ``m`` columns, the other columns of ``R`` from
``Q^H A_j``.
"""

from __future__ import annotations

from operator import getitem
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._chunks import chunk_offsets
from shoal.array._rechunk import rechunk
from shoal.array._tsqr import (
    _chunked_along_both,
    _factor_dtype,
    _small_svd,
    conj_transpose,
    require_known,
    require_matrix,
    tsqr,
)
from shoal.array._tsqr import qr as _reduced_qr
from shoal.array._tsqr import svd as _reduced_svd
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["qr", "svd"]

_QR_MODES = ("reduced", "complete", "r", "raw")


# -- the tasks --------------------------------------------------------------------------------------------------

def _householder_head(n: int, r: np.ndarray, *q_blocks: np.ndarray) -> tuple[np.ndarray, ...]:
    """``Y_1``, ``U``, ``D`` and ``T`` from the top ``n`` rows of ``Q`` (see the module docstring)."""
    top = np.concatenate(q_blocks, axis=0)[:n] if len(q_blocks) > 1 else q_blocks[0][:n]
    work = np.array(top, copy=True)
    d = np.ones(n, dtype=work.dtype)
    for j in range(n):
        c = work[j, j]
        phase = r[j, j] / abs(r[j, j]) if work.dtype.kind == "c" and r[j, j] != 0 else 1
        d[j] = -phase if (c * phase).real > 0 else phase
        work[j, j] = c - np.conj(d[j])  # |pivot| >= 1: the LU needs no pivoting
        work[j + 1:, j] /= work[j, j]
        work[j + 1:, j + 1:] -= np.outer(work[j + 1:, j], work[j, j + 1:])
    y1 = np.tril(work, -1) + np.eye(n, dtype=work.dtype)
    u = np.triu(work)
    # T Y_1^H = -U D, solved as Y_1 T^H = -(U D)^H (Y_1 is unit lower triangular, well conditioned).
    t = np.linalg.solve(y1, -(u * d).conj().T).conj().T if n else np.zeros((0, 0), dtype=work.dtype)
    return y1, u, d, np.triu(t)


def _y_block(q_block: np.ndarray, head: tuple[np.ndarray, ...], start: int) -> np.ndarray:
    """Rows ``start:start + len(q_block)`` of ``Y``: taken from ``Y_1`` in the top ``n`` rows, ``Q U^{-1}`` below."""
    y1, u = head[0], head[1]
    n = y1.shape[0]
    out = np.empty_like(q_block)
    top = max(0, min(len(q_block), n - start))
    out[:top] = y1[start:start + top]
    if top < len(q_block):
        out[top:] = np.linalg.solve(u.T, q_block[top:].T).T
    return out


def _lapack_r(head: tuple[np.ndarray, ...], r: np.ndarray) -> np.ndarray:
    return np.conj(head[2])[:, None] * r


def _raw_block(y_block: np.ndarray, head: tuple[np.ndarray, ...], r: np.ndarray, start: int) -> np.ndarray:
    """Rows of ``h.T``: the reflectors below the diagonal, ``D^H R`` on and above it; returned transposed."""
    out = np.array(y_block, copy=True)
    top = max(0, min(len(out), r.shape[0] - start))
    if top:
        upper = np.triu(np.ones((top, out.shape[1]), dtype=bool), k=start)
        out[:top] = np.where(upper, _lapack_r(head, r)[start:start + top], out[:top])
    return out.T


def _tau(head: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.diagonal(head[3]).copy()


def _t_times_yh(head: tuple[np.ndarray, ...], y_block: np.ndarray) -> np.ndarray:
    return head[3] @ y_block.conj().T


def _complete_q_block(y_block: np.ndarray, w_block: np.ndarray, diagonal: bool) -> np.ndarray:
    out = -(y_block @ w_block)
    if diagonal:
        out[np.diag_indices(len(out))] += 1
    return out


def _complete_r_block(head: tuple[np.ndarray, ...], r: np.ndarray, start: int, length: int) -> np.ndarray:
    out = np.zeros((length, r.shape[1]), dtype=r.dtype)
    top = max(0, min(length, r.shape[0] - start))
    out[:top] = _lapack_r(head, r)[start:start + top]
    return out


def _full_u_block(q_block: np.ndarray, y_block: np.ndarray, w_block: np.ndarray, small: tuple[np.ndarray, ...],
                  diagonal: bool, first: int, last: int) -> np.ndarray:
    """Columns ``first:last`` of ``U = Q_complete @ blockdiag(D^H U_r, I)``: ``Q U_r`` left of column ``n``."""
    out = _complete_q_block(y_block, w_block, diagonal)
    u_r = small[0]
    n = u_r.shape[1]
    if first < n:
        out[:, :min(last, n) - first] = q_block @ u_r[:, first:min(last, n)]
    return out


def _raw_head(*blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    head = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    h, tau = np.linalg.qr(head, mode="raw")
    q = np.linalg.qr(head[:, :head.shape[0]], mode="complete")[0]
    return h, tau, q


def _raw_head_rows(head: tuple[np.ndarray, ...], start: int, stop: int) -> np.ndarray:
    return head[0][start:stop]


def _raw_projected(head: tuple[np.ndarray, ...], block: np.ndarray) -> np.ndarray:
    return (head[2].conj().T @ block).T


# -- building the graphs ----------------------------------------------------------------------------------------

def _tall(a: ArrayBase, func: str) -> ArrayBase:
    """``a`` (more rows than columns) with one block of columns, as TSQR needs."""
    if a.numblocks[1] == 1:
        return a
    if a.numblocks[0] == 1:
        return rechunk(a, {1: -1})
    raise _chunked_along_both(a, func)


def _short(a: ArrayBase, func: str) -> ArrayBase:
    """``a`` (no more rows than columns) as one block of rows; the rows are few, so the block stays small."""
    if a.numblocks[0] == 1:
        return a
    if a.numblocks[1] == 1:
        return rechunk(a, {0: -1})
    raise _chunked_along_both(a, func)


class _Reconstruction:
    """The graph pieces shared by complete QR, raw QR and the full SVD of a tall array."""

    def __init__(self, a: ArrayBase, label: str) -> None:
        self.a = a
        self.q, self.r = tsqr(a)
        self.n = int(a.shape[1])
        self.dtype = self.q.dtype
        self.token = tokenize(a, label)
        self.rows = tuple(int(c) for c in a.chunks[0])
        self.starts = [int(s) for s in chunk_offsets(self.rows)]
        self.layer: dict[Any, Any] = {}
        q_name, r_key = self.q.name, Ref((self.r.name, 0, 0))
        self.head = f"householder-head-{self.token}"
        covering = next((i for i, s in enumerate(self.starts) if s + self.rows[i] >= self.n), len(self.rows) - 1)
        self.layer[self.head] = Task(self.head, _householder_head, self.n, r_key,
                                     *(Ref((q_name, i, 0)) for i in range(covering + 1)))
        self.y = f"householder-y-{self.token}"
        for i, start in enumerate(self.starts):
            key = (self.y, i)
            self.layer[key] = Task(key, _y_block, Ref((q_name, i, 0)), Ref(self.head), start)

    def w_blocks(self) -> str:
        """Tasks for ``T Y_j^H``, one per row block; returns their name."""
        w = f"householder-w-{self.token}"
        for j in range(len(self.rows)):
            self.layer[(w, j)] = Task((w, j), _t_times_yh, Ref(self.head), Ref((self.y, j)))
        return w

    def array(self, layer: dict[Any, Any], name: str, chunks: Any, dtype: Any = None) -> Any:
        dtype = self.dtype if dtype is None else dtype
        return new_array({**self.layer, **layer}, name, chunks, dtype, deps=(self.q, self.r),
                         meta=meta_from_dtype(dtype, len(chunks)))


def _qr_complete_tall(a: ArrayBase) -> tuple[Any, Any]:
    rec = _Reconstruction(a, "complete")
    w = rec.w_blocks()
    q_name, r_name = f"qr-complete-q-{rec.token}", f"qr-complete-r-{rec.token}"
    r_key = Ref((rec.r.name, 0, 0))
    q_layer = {(q_name, i, j): Task((q_name, i, j), _complete_q_block, Ref((rec.y, i)), Ref((w, j)), i == j)
               for i in range(len(rec.rows)) for j in range(len(rec.rows))}
    r_layer = {(r_name, i, 0): Task((r_name, i, 0), _complete_r_block, Ref(rec.head), r_key, start, rec.rows[i])
               for i, start in enumerate(rec.starts)}
    return rec.array(q_layer, q_name, (rec.rows, rec.rows)), rec.array(r_layer, r_name, (rec.rows, (rec.n,)))


def _qr_raw_tall(a: ArrayBase) -> tuple[Any, Any]:
    rec = _Reconstruction(a, "raw")
    h_name, tau_name = f"qr-raw-h-{rec.token}", f"qr-raw-tau-{rec.token}"
    r_key = Ref((rec.r.name, 0, 0))
    h_layer = {(h_name, 0, i): Task((h_name, 0, i), _raw_block, Ref((rec.y, i)), Ref(rec.head), r_key, start)
               for i, start in enumerate(rec.starts)}
    tau_layer = {(tau_name, 0): Task((tau_name, 0), _tau, Ref(rec.head))}
    return rec.array(h_layer, h_name, ((rec.n,), rec.rows)), rec.array(tau_layer, tau_name, ((rec.n,),))


def _qr_raw_short(a: ArrayBase) -> tuple[Any, Any]:
    m = int(a.shape[0])
    dtype = _factor_dtype(a.dtype)
    token = tokenize(a, "raw")
    head_blocks, covered = 0, 0
    while head_blocks < a.numblocks[1] and (covered < m or head_blocks == 0):
        covered += int(a.chunks[1][head_blocks])
        head_blocks += 1
    head, h_name, tau_name = f"qr-raw-head-{token}", f"qr-raw-h-{token}", f"qr-raw-tau-{token}"
    layer: dict[Any, Any] = {head: Task(head, _raw_head, *(Ref((a.name, 0, j)) for j in range(head_blocks)))}
    for j, start in enumerate(int(s) for s in chunk_offsets(a.chunks[1])):
        key = (h_name, j, 0)
        if j < head_blocks:
            layer[key] = Task(key, _raw_head_rows, Ref(head), start, start + int(a.chunks[1][j]))
        else:
            layer[key] = Task(key, _raw_projected, Ref(head), Ref((a.name, 0, j)))
    tau_layer = {**layer, (tau_name, 0): Task((tau_name, 0), getitem, Ref(head), 1)}
    meta1, meta2 = meta_from_dtype(dtype, 1), meta_from_dtype(dtype, 2)
    h = new_array(layer, h_name, (a.chunks[1], (m,)), dtype, deps=(a,), meta=meta2)
    tau = new_array(tau_layer, tau_name, ((m,),), dtype, deps=(a,), meta=meta1)
    return h, tau


def _svd_full_tall(a: ArrayBase, coerce_signs: bool) -> tuple[Any, Any, Any]:
    rec = _Reconstruction(a, f"svd-{coerce_signs}")
    w = rec.w_blocks()
    small = f"svd-full-small-{rec.token}"
    rec.layer[small] = Task(small, _small_svd, Ref((rec.r.name, 0, 0)), coerce_signs)
    u_name, s_name, v_name = (f"svd-full-{part}-{rec.token}" for part in "usv")
    u_layer = {}
    for i in range(len(rec.rows)):
        for j, first in enumerate(rec.starts):
            key = (u_name, i, j)
            u_layer[key] = Task(key, _full_u_block, Ref((rec.q.name, i, 0)), Ref((rec.y, i)), Ref((w, j)),
                                Ref(small), i == j, first, first + rec.rows[j])
    real = np.empty(0, dtype=rec.dtype).real.dtype
    s = rec.array({(s_name, 0): Task((s_name, 0), getitem, Ref(small), 1)}, s_name, ((rec.n,),), real)
    v = rec.array({(v_name, 0, 0): Task((v_name, 0, 0), getitem, Ref(small), 2)}, v_name, ((rec.n,), (rec.n,)))
    return rec.array(u_layer, u_name, (rec.rows, rec.rows)), s, v


# -- the public entry points ------------------------------------------------------------------------------------

def qr(a: Any, mode: str = "reduced") -> Any:
    """QR factorization ``a = q @ r``; mirrors ``numpy.linalg.qr`` with all four of its modes.

    ``a`` must be chunked along one axis only (an array of one block of
    rows or of columns is rechunked as the mode needs).

    Parameters
    ----------
    a : Array
        Two dimensions, ``m x n``, with known chunk sizes for the modes
        other than ``"reduced"`` and ``"r"``.
    mode : {"reduced", "complete", "r", "raw"}
        ``"reduced"``: ``q`` (``m x k``, ``k = min(m, n)``) and ``r``
        (``k x n``) by TSQR or, for a short-and-fat array, from the QR of its
        first columns (as ``dask.array.linalg.qr``). ``"r"``: only that
        ``r``. ``"complete"``: ``q`` (``m x m``, chunked along both axes
        like the rows of ``a``) and ``r`` (``m x n``). ``"raw"``: NumPy's
        ``(h, tau)``: ``h`` (``n x m``) holds LAPACK's Householder
        reflectors below its transposed diagonal and ``r`` on and above it;
        ``tau`` (``k``) their scaling factors.

    Returns
    -------
    (q, r), r or (h, tau)

    Notes
    -----
    ``"complete"`` and ``"raw"`` of a tall array rebuild the Householder
    vectors from TSQR's ``q`` (see :mod:`shoal.array._linalg_householder`),
    so they match NumPy's output, signs and the columns of ``q`` beyond
    ``n`` included, up to rounding for arrays of full column rank. The
    reduced ``q`` and ``r`` may differ from NumPy's in the sign of each
    column of ``q`` (and row of ``r``). A short-and-fat array is brought to
    one block of rows first. The complete ``q`` of a tall array has
    ``m * m`` elements: it is meant for moderate ``m``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(0).random((9, 3))
    >>> q, r = qr(sa.from_array(a, chunks=(4, 3)), mode="complete")
    >>> q.shape, q.chunks[1], r.shape
    ((9, 9), (4, 4, 1), (9, 3))
    >>> bool(np.allclose(q.compute(), np.linalg.qr(a, mode="complete")[0]))
    True
    >>> h, tau = qr(sa.from_array(a, chunks=(4, 3)), mode="raw")
    >>> bool(np.allclose(h.compute(), np.linalg.qr(a, mode="raw")[0]))
    True
    """
    if mode not in _QR_MODES:
        raise ValueError(f"qr: unrecognized mode {mode!r}; use one of {', '.join(map(repr, _QR_MODES))}")
    a = require_matrix(a, "qr")
    if mode in ("reduced", "r"):
        q, r = _reduced_qr(a)
        return r if mode == "r" else (q, r)
    require_known(a, f"qr(mode={mode!r})")
    m, n = (int(s) for s in a.shape)
    if m <= n:
        short = _short(a, "qr")
        return _reduced_qr(short) if mode == "complete" else _qr_raw_short(short)
    tall = _tall(a, "qr")
    return _qr_complete_tall(tall) if mode == "complete" else _qr_raw_tall(tall)


def svd(a: Any, coerce_signs: bool = True, full_matrices: bool = False) -> tuple[Any, Any, Any]:
    """Singular value decomposition ``a = u @ diag(s) @ v``; mirrors ``dask.array.linalg.svd``.

    With ``full_matrices=False`` (the default, as in Dask) the reduced SVD
    by TSQR (see :func:`shoal.array.linalg.tsqr`): ``a`` must be chunked
    along one axis only; a tall-and-skinny array is factored directly, a
    short-and-fat one through its conjugate transpose. For large arrays
    chunked both ways, see :func:`shoal.array.linalg.svd_compressed`. With ``full_matrices=True``,
    NumPy's full SVD: for ``a`` of shape ``m x n``, ``u`` is ``m x m``, ``s``
    has ``min(m, n)`` values and ``v`` is ``n x n``. The columns of ``u``
    (rows of ``v``) beyond ``min(m, n)`` are an orthonormal basis of the
    complement, taken from the complete ``q`` of :func:`qr`; NumPy picks
    another one (that part of the SVD is not unique).

    Parameters
    ----------
    a : Array
        Two dimensions, chunked along one axis only.
    coerce_signs : bool
        Fix the sign of each pair of singular vectors (each row of ``v``
        sums to a non-negative real part), so that results do not depend on
        the row chunking. Signs may differ from NumPy's; products
        ``u @ diag(s) @ v`` do not.
    full_matrices : bool
        Square ``u`` and ``v``, as NumPy's default.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(1).random((8, 3))
    >>> u, s, v = svd(sa.from_array(a, chunks=(3, 3)), full_matrices=True)
    >>> u.shape, s.shape, v.shape
    ((8, 8), (3,), (3, 3))
    >>> bool(np.allclose((u[:, :3] * s) @ v, a))
    True
    """
    a = require_matrix(a, "svd")
    if not full_matrices or a.shape[0] == a.shape[1]:
        return _reduced_svd(a, coerce_signs=coerce_signs)
    require_known(a, "svd(full_matrices=True)")
    if a.shape[0] > a.shape[1]:
        return _svd_full_tall(_tall(a, "svd"), coerce_signs)
    # Wide: the full SVD of the conjugate transpose, which is tall, transposed back.
    vt, s, ut = _svd_full_tall(_tall(conj_transpose(_short(a, "svd")), "svd"), coerce_signs)
    return conj_transpose(ut), s, conj_transpose(vt)

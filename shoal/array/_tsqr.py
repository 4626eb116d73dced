"""QR and SVD of arrays chunked along one axis: TSQR (tall and skinny) and its short-and-fat counterpart.

TSQR (Demmel, Grigori, Hoemmen and Langou, "Communication-optimal parallel
and sequential QR and LU factorizations", 2008; Benson, Gleich and Demmel,
"Direct QR factorizations for tall-and-skinny matrices in MapReduce", 2013)
factors ``A`` (``m x n``, cut into row blocks ``A_i``, one column block) as
follows:

Up the tree
    every block is factored, ``A_i = Q_i R_i``; the small ``R_i`` are stacked
    in groups of ``split_every`` and each stack factored again,
    ``[R_a; R_b; ...] = Q_g R_g``, level after level, until one ``R`` is left.
    That ``R`` is the ``R`` of ``A``. Only ``R`` factors (at most ``n x n``)
    travel up; every ``Q`` stays where it was made.

Down the tree
    the ``Q`` of ``A`` restricted to block ``i`` is the product of the ``Q``
    factors on the path from the root down to leaf ``i``, each restricted to
    the rows of the child it leads to. A *factor* ``F`` is carried down: the
    root's is the identity (QR) or ``U_r`` of the small SVD ``R = U_r S V``
    (SVD), and a child's is ``Q_parent[rows of child] @ F_parent`` (at most
    ``n x n``). Output block ``i`` is ``Q_i @ F_i``: one pass over the data up,
    one product per block down, no transfer of a large block between tasks.

Row blocks may have unknown (``nan``) lengths: the row offsets inside each
stack are found when the stack is factored. The number of columns must be
known.

Short and fat arrays (one row block, ``m <= n``) need no tree: ``Q`` comes
from the QR of the first ``m`` columns (the first column blocks covering
them), and ``R`` block ``j`` is ``Q^H A_j``, so each column block is read
once. The SVD of a short-and-fat array is the conjugate transpose of the
SVD of its conjugate transpose, which is tall and skinny.
"""

from __future__ import annotations

import math
from operator import getitem
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._from_array import asarray
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["conj_transpose", "qr", "require_known", "require_matrix", "scipy_linalg", "sfqr", "svd", "tsqr"]

#: Elements of a stack of R factors that one combine task may hold; bounds the fan-in of the tree.
_STACK_ELEMENTS = 1 << 22


# -- checks shared by the linalg functions ----------------------------------------------------------------------

def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def require_matrix(a: Any, func: str) -> ArrayBase:
    """``a`` as a shoal array with two dimensions, or ``LinAlgError`` (a ``ValueError``) naming its shape."""
    a = a if isinstance(a, ArrayBase) else asarray(a)
    if a.ndim != 2:
        raise np.linalg.LinAlgError(
            f"{func} needs a 2-dimensional array, but got {a.ndim} dimension(s) (shape {a.shape}). "
            f"Reshape it to (rows, columns) first.")
    return a


def require_known(a: ArrayBase, func: str, axis: int | None = None) -> None:
    """Raise a ``ValueError`` telling the user to call ``compute_chunk_sizes`` if chunks along ``axis`` are nan."""
    axes = range(a.ndim) if axis is None else [axis]
    if any(_is_nan(c) for ax in axes for c in a.chunks[ax]):
        raise ValueError(
            f"{func} needs the chunk sizes of {a.name!r} (shape {a.shape}, chunks {a.chunks}), which are unknown "
            f"(nan) after an operation whose output size depends on the data. Call x.compute_chunk_sizes() first.")


def _factor_dtype(dtype: Any) -> np.dtype[Any]:
    return np.linalg.qr(np.ones((1, 1), dtype=dtype))[0].dtype  # type: ignore[no-any-return]


def _real_dtype(dtype: Any) -> np.dtype[Any]:
    return np.empty(0, dtype=dtype).real.dtype


def _transpose_block(block: np.ndarray, conj: bool) -> np.ndarray:
    return block.conj().T if conj else block.T


def conj_transpose(x: ArrayBase, conj: bool = True) -> Any:
    """``x.T`` (``x.conj().T`` when ``conj`` and ``x`` is complex) for a 2-d array, block by block."""
    conj = conj and x.dtype.kind == "c"
    name = f"{'conjtranspose' if conj else 'transpose'}-{tokenize(x, conj)}"
    layer = {(name, j, i): Task((name, j, i), _transpose_block, Ref((x.name, i, j)), conj)
             for i in range(x.numblocks[0]) for j in range(x.numblocks[1])}
    return new_array(layer, name, (x.chunks[1], x.chunks[0]), x.dtype, deps=(x,), meta=meta_from_dtype(x.dtype, 2))


def _chunked_along_both(a: ArrayBase, func: str) -> ValueError:
    return ValueError(
        f"{func} works on arrays chunked along one axis only, but {a.name!r} (shape {a.shape}) has chunks "
        f"{a.chunks}: {a.numblocks[0]} blocks along the rows and {a.numblocks[1]} along the columns. Rechunk it "
        f"first: x.rechunk({{1: -1}}) for a tall-and-skinny array (one block of columns, factored by TSQR) or "
        f"x.rechunk({{0: -1}}) for a short-and-fat one (one block of rows)"
        + ("; for a low-rank approximation of a large array chunked both ways, use "
           "shoal.array.linalg.svd_compressed." if func == "svd" else "."))


# -- the tasks --------------------------------------------------------------------------------------------------

def scipy_linalg() -> Any:
    """``scipy.linalg`` if installed (an optional dependency), else None."""
    try:
        import scipy.linalg
    except ImportError:  # pragma: no cover - scipy is in the test environment
        return None
    return scipy.linalg


def _qr_leaf(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    linalg = scipy_linalg()
    if linalg is None or block.size == 0 or block.dtype.kind not in "fc":
        q, r = np.linalg.qr(block)
        return q, r
    # SciPy's economic QR on a private Fortran-ordered copy is 2-3x faster than numpy.linalg.qr on tall
    # blocks (NumPy transposes and copies inside its gufunc and forms Q in a separate, slower pass).
    q, r = linalg.qr(np.array(block, order="F"), mode="economic", overwrite_a=True, check_finite=False)
    return q, r


def _qr_stack(r_factors: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """QR of the stacked ``R`` factors, and the row offset of each in the stack."""
    offsets = [0]
    for r in r_factors:
        offsets.append(offsets[-1] + r.shape[0])
    q, r = np.linalg.qr(np.concatenate(r_factors, axis=0) if len(r_factors) > 1 else r_factors[0])
    return q, r, offsets


def _child_factor(node: tuple[Any, ...], child: int, factor: np.ndarray | None) -> np.ndarray:
    q, offsets = node[0], node[2]
    rows = q[offsets[child]:offsets[child + 1]]
    return rows if factor is None else rows @ factor


def _leaf_output(leaf: tuple[np.ndarray, np.ndarray], factor: np.ndarray | None) -> np.ndarray:
    return leaf[0] if factor is None else leaf[0] @ factor


def _small_svd(r: np.ndarray, coerce_signs: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, s, v = np.linalg.svd(r, full_matrices=False)
    if coerce_signs:
        # Singular vectors are defined up to sign (a unit phase for complex); fix it so that every row
        # of v sums to a non-negative real part, which makes results reproducible across chunkings.
        signs = np.where(v.sum(axis=1).real >= 0, 1, -1).astype(u.real.dtype)
        u, v = u * signs, v * signs[:, None]
    return u, s, v


# -- TSQR -------------------------------------------------------------------------------------------------------

def _fan_in(split_every: int | None, n: int) -> int:
    if split_every is None:
        return max(2, _STACK_ELEMENTS // max(1, n * n))
    if int(split_every) < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every!r}.")
    return int(split_every)


def tsqr(data: Any, compute_svd: bool = False, *, split_every: int | None = None,
         coerce_signs: bool = True) -> tuple[Any, ...]:
    """QR (or SVD) of a tall-and-skinny array chunked along its rows only; mirrors ``dask.array.linalg.tsqr``.

    Parameters
    ----------
    data : Array
        Two dimensions, one block along the columns; row blocks may have
        unknown (``nan``) lengths.
    compute_svd : bool
        Return ``u, s, v`` (``data = u @ diag(s) @ v``) instead of ``q, r``.
    split_every : int, optional
        Number of ``R`` factors stacked by one combine task (the fan-in of
        the reduction tree); by default as many as fit in about 32 MB.
    coerce_signs : bool
        With ``compute_svd``, fix the signs of the singular vectors (each
        row of ``v`` sums to a non-negative value), for reproducible results.

    Returns
    -------
    q, r : Array
        ``q`` (``m x k``, ``k = min(m, n)``) has the row chunks of ``data``
        and orthonormal columns; ``r`` (``k x n``) is upper triangular.
    u, s, v : Array
        With ``compute_svd``: ``u`` chunked like ``q``, ``s`` descending.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(0).random((12, 3))
    >>> q, r = tsqr(sa.from_array(a, chunks=(4, 3)))
    >>> q.chunks, r.shape
    (((4, 4, 4), (3,)), (3, 3))
    >>> bool(np.allclose(q.compute() @ r.compute(), a))
    True
    """
    a = require_matrix(data, "tsqr")
    if a.numblocks[1] != 1:
        raise ValueError(
            f"tsqr needs an array with one block of columns, but {a.name!r} (shape {a.shape}) has column chunks "
            f"{a.chunks[1]}. Call x.rechunk({{1: -1}}) first" + (", or use qr/svd, which handle short-and-fat "
                                                                  "arrays too." if a.numblocks[0] == 1 else "."))
    require_known(a, "tsqr", axis=1)
    m_known = not any(_is_nan(c) for c in a.chunks[0])
    n = int(a.shape[1])
    # With unknown row lengths, assume at least n rows (the tall-and-skinny case TSQR is for).
    k = min(int(a.shape[0]), n) if m_known else n
    dtype = _factor_dtype(a.dtype)
    token = tokenize(a, compute_svd, split_every, coerce_signs)
    layer: dict[Any, Any] = {}

    leaves = []
    up_name, rname = f"tsqr-up-{token}", f"tsqr-r-{token}"
    for i in range(a.numblocks[0]):
        key = (up_name, 0, i)
        layer[key] = Task(key, _qr_leaf, Ref((a.name, i, 0)))
        leaves.append(key)
    # levels[d] holds the keys of level d's nodes; children[d][j] the child indices (in level d - 1) of node j.
    levels, children = [leaves], [[]]
    fan_in = _fan_in(split_every, n)
    while len(levels[-1]) > 1:
        below, depth = levels[-1], len(levels)
        level, kids = [], []
        for g in range(0, len(below), fan_in):
            group = list(range(g, min(g + fan_in, len(below))))
            rs = []
            for c in group:
                rkey = (rname, depth - 1, c)
                layer[rkey] = Task(rkey, getitem, Ref(below[c]), 1)
                rs.append(Ref(rkey))
            key = (up_name, depth, g // fan_in)
            layer[key] = Task(key, _qr_stack, rs)
            level.append(key)
            kids.append(group)
        levels.append(level)
        children.append(kids)
    root = levels[-1][0]
    root_r = (rname, len(levels) - 1, 0)
    layer[root_r] = Task(root_r, getitem, Ref(root), 1)

    down_name = f"tsqr-down-{token}"
    factor: Ref | None = None
    if compute_svd:
        svd_key = f"tsqr-svd-{token}"
        layer[svd_key] = Task(svd_key, _small_svd, Ref(root_r), coerce_signs)
        root_factor = (f"tsqr-ur-{token}",)
        layer[root_factor] = Task(root_factor, getitem, Ref(svd_key), 0)
        factor = Ref(root_factor)
    factors = {root: factor}
    for depth in range(len(levels) - 1, 0, -1):
        for j, node in enumerate(levels[depth]):
            for position, c in enumerate(children[depth][j]):
                key = (down_name, depth - 1, c)
                layer[key] = Task(key, _child_factor, Ref(node), position, factors[node])
                factors[levels[depth - 1][c]] = Ref(key)

    out_name = f"tsqr-{'u' if compute_svd else 'q'}-{token}"
    for i, leaf in enumerate(leaves):
        key = (out_name, i, 0)
        layer[key] = Task(key, _leaf_output, Ref(leaf), factors[leaf])
    q = new_array(layer, out_name, (a.chunks[0], (k,)), dtype, deps=(a,), meta=meta_from_dtype(dtype, 2))

    if not compute_svd:
        r_name = f"tsqr-rout-{token}"
        r_layer = {(r_name, 0, 0): Task((r_name, 0, 0), _identity, Ref(root_r))}
        r = new_array(r_layer, r_name, ((k,), (n,)), dtype, deps=(q,), meta=meta_from_dtype(dtype, 2))
        return q, r
    s_name, v_name = f"tsqr-s-{token}", f"tsqr-v-{token}"
    s_layer = {(s_name, 0): Task((s_name, 0), getitem, Ref(svd_key), 1)}
    v_layer = {(v_name, 0, 0): Task((v_name, 0, 0), getitem, Ref(svd_key), 2)}
    real = _real_dtype(dtype)
    s = new_array(s_layer, s_name, ((k,),), real, deps=(q,), meta=meta_from_dtype(real, 1))
    v = new_array(v_layer, v_name, ((k,), (n,)), dtype, deps=(q,), meta=meta_from_dtype(dtype, 2))
    return q, s, v


def _identity(x: Any) -> Any:
    return x


# -- short and fat ----------------------------------------------------------------------------------------------

def _qr_head(*blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    head = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    q, r = np.linalg.qr(head)
    return q, r


def _head_r_block(head: tuple[np.ndarray, np.ndarray], start: int, stop: int) -> np.ndarray:
    return head[1][:, start:stop]


def _project(head: tuple[np.ndarray, np.ndarray], block: np.ndarray) -> np.ndarray:
    q = head[0]
    return q.conj().T @ block


def sfqr(data: Any) -> tuple[Any, Any]:
    """QR of a short-and-fat array chunked along its columns only; mirrors ``dask.array.linalg.sfqr``.

    ``q`` (``m x k``, ``k = min(m, n)``) is one block, computed from the QR of
    the first column blocks covering ``m`` columns; ``r`` (``k x n``) has the
    column chunks of ``data``.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(0).random((3, 10))
    >>> q, r = sfqr(sa.from_array(a, chunks=(3, 4)))
    >>> r.chunks
    ((3,), (4, 4, 2))
    >>> bool(np.allclose(q.compute() @ r.compute(), a))
    True
    """
    a = require_matrix(data, "sfqr")
    if a.numblocks[0] != 1:
        raise ValueError(
            f"sfqr needs an array with one block of rows, but {a.name!r} (shape {a.shape}) has row chunks "
            f"{a.chunks[0]}. Call x.rechunk({{0: -1}}) first, or use qr, which handles tall-and-skinny arrays too.")
    require_known(a, "sfqr")
    m, n = int(a.shape[0]), int(a.shape[1])
    k = min(m, n)
    dtype = _factor_dtype(a.dtype)
    token = tokenize(a)
    # The head: the fewest leading column blocks that hold at least m columns (all of them if n < m).
    head_blocks, covered = 0, 0
    while head_blocks < a.numblocks[1] and (covered < m or head_blocks == 0):
        covered += int(a.chunks[1][head_blocks])
        head_blocks += 1
    head_key = f"sfqr-head-{token}"
    q_name, r_name = f"sfqr-q-{token}", f"sfqr-r-{token}"
    q_layer: dict[Any, Any] = {
        head_key: Task(head_key, _qr_head, *(Ref((a.name, 0, j)) for j in range(head_blocks))),
        (q_name, 0, 0): Task((q_name, 0, 0), getitem, Ref(head_key), 0),
    }
    r_layer: dict[Any, Any] = {}
    start = 0
    for j, width in enumerate(a.chunks[1]):
        key = (r_name, 0, j)
        if j < head_blocks:
            r_layer[key] = Task(key, _head_r_block, Ref(head_key), start, start + int(width))
        else:
            r_layer[key] = Task(key, _project, Ref(head_key), Ref((a.name, 0, j)))
        start += int(width)
    meta = meta_from_dtype(dtype, 2)
    q = new_array(q_layer, q_name, ((m,), (k,)), dtype, deps=(a,), meta=meta)
    r = new_array(r_layer, r_name, ((k,), a.chunks[1]), dtype, deps=(q, a), meta=meta)
    return q, r


# -- the public entry points ------------------------------------------------------------------------------------

def qr(a: Any) -> tuple[Any, Any]:
    """QR factorization ``a = q @ r``; mirrors ``numpy.linalg.qr`` (reduced mode) as ``dask.array.linalg.qr``.

    ``a`` must be chunked along one axis only: tall-and-skinny arrays (one
    block of columns) are factored by TSQR, short-and-fat ones (one block of
    rows) by :func:`sfqr`.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(1).random((20, 4))
    >>> q, r = qr(sa.from_array(a, chunks=(5, 4)))
    >>> bool(np.allclose(q.compute() @ r.compute(), a)), q.chunks[0]
    (True, (5, 5, 5, 5))
    """
    a = require_matrix(a, "qr")
    if a.numblocks[1] == 1:
        return tsqr(a)
    if a.numblocks[0] == 1:
        return sfqr(a)
    raise _chunked_along_both(a, "qr")


def svd(a: Any, coerce_signs: bool = True) -> tuple[Any, Any, Any]:
    """Singular value decomposition ``a = u @ diag(s) @ v``; mirrors ``dask.array.linalg.svd``.

    Like ``numpy.linalg.svd(a, full_matrices=False)``, ``v`` is the
    conjugate-transposed right factor (NumPy's ``vh``). ``a`` must be chunked
    along one axis only: a tall-and-skinny array goes through TSQR (``u`` has
    its row chunks); a short-and-fat one through TSQR of its conjugate
    transpose (``v`` has its column chunks). For large arrays chunked both
    ways, see :func:`shoal.array.linalg.svd_compressed`.

    Parameters
    ----------
    a : Array
    coerce_signs : bool
        Fix the sign of each pair of singular vectors so that results do not
        depend on the chunking. Dask's convention differs, so signs may not
        match Dask's (or NumPy's) output; products ``u @ diag(s) @ v`` do.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.random.default_rng(2).random((30, 3))
    >>> u, s, v = svd(sa.from_array(a, chunks=(10, 3)))
    >>> bool(np.allclose(s.compute(), np.linalg.svd(a, compute_uv=False)))
    True
    >>> bool(np.allclose(((u * s) @ v).compute(), a))
    True
    """
    a = require_matrix(a, "svd")
    if a.numblocks[1] == 1:
        return tsqr(a, compute_svd=True, coerce_signs=coerce_signs)
    if a.numblocks[0] == 1:
        vt, s, ut = tsqr(conj_transpose(a), compute_svd=True, coerce_signs=coerce_signs)
        return conj_transpose(ut), s, conj_transpose(vt)
    raise _chunked_along_both(a, "svd")

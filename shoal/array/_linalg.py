"""Products of arrays: ``dot``, ``matmul``/``@``, ``tensordot``, ``einsum`` and friends.

Every product here is one *contraction*. Each operand carries an index
letter per dimension; letters in the output index are kept, the others are
summed over, as in ``einsum``. On the block grid, output block ``(i, j)`` of
``x @ y`` (indices ``ik, kj -> ij``) is the sum over the contracted block
index ``k`` of ``x[i, k] @ y[k, j]``; in general, the sum over every
combination of contracted block indices of ``kernel(blocks...)``, where the
kernel (``np.matmul``, ``np.tensordot``, ``np.einsum`` on blocks) already
sums within a block.

Memory
    The combinations for one output block are cut into groups of at most
    ``split_every``; one task computes a group's products one at a time and
    adds each into a single accumulator, so no task holds more than
    ``split_every`` blocks of each operand plus one output block. When there
    are more groups than one, their sums are added in a tree with fan-in
    ``split_every``. The usual case (a handful of blocks along the
    contracted axes) is one task per output block.

Panels
    ``matmul`` and ``tensordot``, whose kernels sum over whole operands,
    instead join the blocks along the contracted axes into panels (at most
    ``split_every`` blocks each, shared by every output block that reads
    them) and make one kernel call per output block; see ``_matmul``.

Alignment
    Operands that share a letter are rechunked to common block boundaries
    along it (``blockwise`` does the same); a dimension of length 1 held in
    a single block broadcasts against any length, as in NumPy.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence
from itertools import product
from numbers import Integral
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._dispatch import implements
from shoal.array._elementwise import broadcast_shapes, elemwise
from shoal.array._from_array import asarray
from shoal.array._matmul import panel_refs, panels_apply
from shoal.array._rechunk import common_chunks, rechunk
from shoal.delayed import funcname
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "LinalgMethods",
    "dot",
    "einsum",
    "inner",
    "kron",
    "matmul",
    "outer",
    "tensordot",
    "trace",
    "vdot",
    "vecdot",
]

#: Default number of block products summed by one task (and fan-in of the tree above them).
DEFAULT_SPLIT_EVERY = 8

Operand = tuple[Any, tuple[Any, ...]]


# -- the contraction engine --------------------------------------------------------------------------------------

def _is_unknown(x: ArrayBase) -> bool:
    return any(isinstance(c, float) and math.isnan(c) for dim in x.chunks for c in dim)


def _require_known(x: ArrayBase, what: str) -> None:
    if _is_unknown(x):
        raise ValueError(
            f"{what} needs the chunk sizes of {x.name!r} (shape {x.shape}), which are unknown (nan) after an "
            f"operation whose output size depends on the data. Call x.compute_chunk_sizes() first."
        )


def _align(operands: list[Operand]) -> tuple[list[Operand], dict[Any, tuple[Any, ...]]]:
    """Rechunk operands so that each shared letter has common boundaries; return them and chunks per letter."""
    options: dict[Any, list[tuple[Any, ...]]] = {}
    for arr, ind in operands:
        for letter, c in zip(ind, arr.chunks, strict=True):
            options.setdefault(letter, []).append(tuple(c))
    target: dict[Any, tuple[Any, ...]] = {}
    for letter, found in options.items():
        real = [c for c in found if c != (1,)] or found
        target[letter] = common_chunks(real)
    aligned = []
    for arr, ind in operands:
        new = tuple(c if c == (1,) else target[letter] for letter, c in zip(ind, arr.chunks, strict=True))
        if new != arr.chunks:
            arr = rechunk(arr, new)
        aligned.append((arr, ind))
    return aligned, target


def _accumulate(out: Any, part: Any, inputs: Sequence[Any]) -> Any:
    """Add ``part`` into ``out``, in place when ``out`` is an array this task owns."""
    if out is None:
        if isinstance(part, np.ndarray) and (not part.flags.writeable or any(
                isinstance(a, np.ndarray) and np.may_share_memory(part, a) for a in inputs)):
            return part.copy()  # a view of an input block: never modify it
        return part
    if isinstance(out, np.ndarray) and out.ndim:
        out += part
        return out
    return out + part


def _sum_products(kernel: Callable[..., Any], items: list[tuple[list[Any], dict[str, Any]]],
                  kwargs: dict[str, Any]) -> Any:
    """``sum(kernel(*blocks, **kwargs, **extra) for blocks, extra in items)``, one product alive at a time."""
    out = None
    for blocks, extra in items:
        out = _accumulate(out, kernel(*blocks, **kwargs, **extra), blocks)
    return out


def _sum_parts(parts: list[Any]) -> Any:
    # The parts are this contraction's private intermediates, so the first may be reused in place.
    out = parts[0]
    for part in parts[1:]:
        out = _accumulate(out, part, ())
    return out


def _zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def contract(
    kernel: Callable[..., Any],
    out_ind: Sequence[Any],
    operands: Sequence[Operand],
    *,
    dtype: Any,
    token: str,
    split_every: Any = None,
    kernel_kwargs: dict[str, Any] | None = None,
    item_kwargs: Callable[[dict[Any, int]], dict[str, Any] | None] | None = None,
    item_token: Any = None,
    panels: bool = False,
) -> Any:
    """Sum ``kernel(blocks...)`` over the contracted block indices; see the module docstring.

    Parameters
    ----------
    kernel : callable
        Called with one block per operand (in order) and ``kernel_kwargs``;
        returns the block of the output, already summed over the contracted
        letters within those blocks.
    out_ind : sequence
        Output index letters; letters of the operands not in it are contracted.
    operands : sequence of ``(array, index)``
    dtype : dtype
        Output dtype.
    token : str
        Key prefix of the output.
    split_every : int, optional
        Block products per task and fan-in of the tree that sums task results.
    item_kwargs : callable, optional
        ``item_kwargs(block index of every letter)`` -> extra keyword
        arguments for that product, or ``None`` to skip it (for products
        known to be zero); ``item_token`` is what it depends on, for the
        output's name.
    panels : bool
        ``kernel`` sums over the contracted axes of whole operands too (as
        ``np.matmul`` and ``np.tensordot`` do): join the blocks along them into
        panels and call it once per output block (see ``_matmul``), when they
        number at most ``split_every``.
    """
    out_ind = tuple(out_ind)
    kernel_kwargs = dict(kernel_kwargs or {})
    for arr, _ in operands:
        _require_known(arr, token)
    aligned, letter_chunks = _align(list(operands))
    numblocks = {letter: len(c) for letter, c in letter_chunks.items()}
    contracted: list[Any] = []
    for _, ind in aligned:
        for letter in ind:
            if letter not in out_ind and letter not in contracted:
                contracted.append(letter)
    group = _group_size(split_every, contracted)
    out_chunks = tuple(letter_chunks[letter] for letter in out_ind)
    inputs = [(a, i) for a, i in aligned]
    use_panels = (panels and item_kwargs is None and panels_apply(aligned, contracted)
                  and math.prod(numblocks[letter] for letter in contracted) <= group)
    digest = tokenize(funcname(kernel), kernel, out_ind, inputs, kernel_kwargs, dtype, group, item_token, use_panels)
    name = f"{token}-{digest}"

    def refs(assign: dict[Any, int]) -> list[Ref]:
        out = []
        for arr, ind in aligned:
            index = tuple(0 if arr.numblocks[axis] == 1 else assign[letter] for axis, letter in enumerate(ind))
            out.append(Ref((arr.name, *index)))
        return out

    layer: dict[Any, Any] = {}
    for out_index in product(*(range(numblocks[letter]) for letter in out_ind)):
        where = dict(zip(out_ind, out_index, strict=True))
        key = (name, *out_index)
        if use_panels:
            layer[key] = Task(key, kernel, *panel_refs(name, aligned, contracted, numblocks, where, layer),
                              **kernel_kwargs)
            continue
        items = []
        for combo in product(*(range(numblocks[letter]) for letter in contracted)):
            assign = {**where, **dict(zip(contracted, combo, strict=True))}
            extra = item_kwargs(assign) if item_kwargs is not None else {}
            if extra is not None:
                items.append((refs(assign), extra))
        if not items:
            shape = tuple(int(letter_chunks[letter][i]) for letter, i in where.items())
            layer[key] = Task(key, _zeros, shape, np.dtype(dtype))
        elif len(items) == 1 and not items[0][1]:
            layer[key] = Task(key, kernel, *items[0][0], **kernel_kwargs)
        elif len(items) <= group:
            layer[key] = Task(key, _sum_products, kernel, items, kernel_kwargs)
        else:
            level = []
            for g in range(0, len(items), group):
                part_key = (f"{name}-part", *out_index, g // group)
                layer[part_key] = Task(part_key, _sum_products, kernel, items[g:g + group], kernel_kwargs)
                level.append(Ref(part_key))
            depth = 0
            while len(level) > group:
                depth += 1
                next_level = []
                for g in range(0, len(level), group):
                    sum_key = (f"{name}-sum{depth}", *out_index, g // group)
                    layer[sum_key] = Task(sum_key, _sum_parts, level[g:g + group])
                    next_level.append(Ref(sum_key))
                level = next_level
            layer[key] = Task(key, _sum_parts, level)
    meta = meta_from_dtype(dtype, len(out_ind))
    return new_array(layer, name, out_chunks, dtype, deps=tuple(a for a, _ in aligned), meta=meta)


def _group_size(split_every: Any, contracted: Sequence[Any]) -> int:
    if split_every is None:
        return DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        # Dask's per-axis form: the products of one task span split_every[axis] blocks along each axis.
        size = math.prod(int(v) for v in split_every.values()) if split_every else DEFAULT_SPLIT_EVERY
    else:
        size = int(split_every)
    if size < 2:
        raise ValueError(f"split_every must be at least 2, got {split_every!r}.")
    return size


def _result_dtype(func: Callable[..., Any], arrays: Sequence[Any], **kwargs: Any) -> np.dtype[Any]:
    """The dtype ``func`` gives on one-element stand-ins of ``arrays``."""
    tiny = [np.ones((1,) * a.ndim, dtype=a.dtype) for a in arrays]
    with np.errstate(all="ignore"):
        return np.asarray(func(*tiny, **kwargs)).dtype


def _as_arrays(*args: Any) -> list[Any]:
    return [a if isinstance(a, ArrayBase) else asarray(a) for a in args]


def _shape_str(shape: tuple[Any, ...]) -> str:
    return "(" + ",".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# -- tensordot, dot and relatives ---------------------------------------------------------------------------------

def _normalize_axes(axes: Any, ndim: int, what: str) -> tuple[int, ...]:
    axes = (axes,) if isinstance(axes, Integral) else tuple(axes)
    out = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(f"{what}: axis {axis} is out of bounds for an array of dimension {ndim}")
        out.append(int(axis) % ndim)
    return tuple(out)


@implements(np.tensordot)
def tensordot(lhs: Any, rhs: Any, axes: Any = 2, *, split_every: Any = None) -> Any:
    """Sum products over the given axes of two arrays; mirrors ``numpy.tensordot``.

    ``axes=N`` contracts the last ``N`` axes of ``lhs`` with the first ``N``
    of ``rhs``; ``axes=(a_axes, b_axes)`` names them. Blocks along the
    contracted axes are multiplied pairwise and summed (see the module
    docstring); the two sides are rechunked to common boundaries first.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(24.).reshape(2, 3, 4)
    >>> x = sa.from_array(a, chunks=(1, 2, 2))
    >>> np.allclose(tensordot(x, x, axes=([1, 2], [1, 2])).compute(), np.tensordot(a, a, axes=([1, 2], [1, 2])))
    True
    """
    a, b = _as_arrays(lhs, rhs)
    if isinstance(axes, Integral):
        if axes < 0 or axes > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={axes} must be between 0 and the smaller number of dimensions of the operands "
                f"(shapes {a.shape} and {b.shape})")
        a_axes: tuple[int, ...] = tuple(range(a.ndim - axes, a.ndim))
        b_axes: tuple[int, ...] = tuple(range(axes))
    else:
        try:
            left, right = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: axes must be an int or a pair of axis sequences, got {axes!r}") from None
        a_axes, b_axes = _normalize_axes(left, a.ndim, "tensordot"), _normalize_axes(right, b.ndim, "tensordot")
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: shape-mismatch for sum: {len(a_axes)} axes of the first operand {a_axes} "
                         f"against {len(b_axes)} axes of the second {b_axes}")
    for ia, ib in zip(a_axes, b_axes, strict=True):
        if a.shape[ia] != b.shape[ib] and not (_is_unknown(a) or _is_unknown(b)):
            raise ValueError(
                f"tensordot: shape-mismatch for sum: axis {ia} of the first operand has length {a.shape[ia]} but "
                f"axis {ib} of the second has length {b.shape[ib]} (shapes {a.shape} and {b.shape})")
    a_ind = tuple(f"c{a_axes.index(i)}" if i in a_axes else f"a{i}" for i in range(a.ndim))
    b_ind = tuple(f"c{b_axes.index(i)}" if i in b_axes else f"b{i}" for i in range(b.ndim))
    out_ind = tuple(letter for letter in (*a_ind, *b_ind) if not letter.startswith("c"))
    kwargs = {"axes": (a_axes, b_axes)}
    dtype = _result_dtype(np.tensordot, [a, b], **kwargs)
    return contract(np.tensordot, out_ind, [(a, a_ind), (b, b_ind)], dtype=dtype, token="tensordot",
                    split_every=split_every, kernel_kwargs=kwargs, panels=True)


@implements(np.matmul, np.linalg.matmul)
def matmul(a: Any, b: Any, *, split_every: Any = None) -> Any:
    """Matrix product with NumPy's rules; mirrors ``numpy.matmul`` (the ``@`` operator).

    1-d operands are promoted to a row (left) or a column (right) vector and
    the added axis removed afterwards; dimensions before the last two are
    batch dimensions and broadcast.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(12.).reshape(3, 4)
    >>> x = sa.from_array(a, chunks=2)
    >>> bool(np.allclose((x @ a.T).compute(), a @ a.T))
    True
    >>> matmul(x, np.ones(4)).compute()
    array([ 6., 22., 38.])
    """
    a, b = _as_arrays(a, b)
    for position, arr in enumerate((a, b)):
        if arr.ndim == 0:
            raise ValueError(
                f"matmul: Input operand {position} does not have enough dimensions (has 0, gufunc core with "
                f"signature (n?,k),(k,m?)->(n?,m?) requires 1); use multiply (*) for scalars")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
            f"(n?,k),(k,m?)->(n?,m?) (size {kb} is different from {ka}); shapes {a.shape} and {b.shape}")
    a_batch, b_batch = a.shape[:-2], b.shape[:-2]
    try:
        broadcast_shapes(a_batch, b_batch)
    except ValueError:
        raise ValueError(
            f"matmul: the batch dimensions {a_batch} and {b_batch} of operands with shapes {a.shape} and "
            f"{b.shape} cannot be broadcast together") from None
    nbatch = max(len(a_batch), len(b_batch))
    batch = tuple(f"batch{i}" for i in range(nbatch))
    a_ind = batch[nbatch - len(a_batch):] + (("i", "k") if a.ndim > 1 else ("k",))
    b_ind = batch[nbatch - len(b_batch):] + (("k", "j") if b.ndim > 1 else ("k",))
    out_ind = batch + (("i",) if a.ndim > 1 else ()) + (("j",) if b.ndim > 1 else ())
    dtype = _result_dtype(np.matmul, [a, b])
    return contract(np.matmul, out_ind, [(a, a_ind), (b, b_ind)], dtype=dtype, token="matmul",
                    split_every=split_every, panels=True)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Dot product with NumPy's rules; mirrors ``numpy.dot``.

    Scalars multiply; 1-d and 2-d operands give the inner or matrix product;
    otherwise the last axis of ``a`` is contracted with the second-to-last
    of ``b`` (its only axis if 1-d).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(4.), chunks=2)
    >>> dot(x, x).compute()
    np.float64(14.0)
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead: z = dot(x, y).")
    a, b = _as_arrays(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    b_axis = b.ndim - 2 if b.ndim > 1 else 0
    if a.shape[-1] != b.shape[b_axis] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} not aligned: {a.shape[-1]} "
                         f"(dim {a.ndim - 1}) != {b.shape[b_axis]} (dim {b_axis})")
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)  # the same product for these ranks, with a leaner kernel
    return tensordot(a, b, axes=((a.ndim - 1,), (b_axis,)))


@implements(np.inner)
def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes; mirrors ``numpy.inner``.

    >>> import numpy as np, shoal.array as sa
    >>> inner(sa.from_array(np.arange(3.)), np.ones(3)).compute()
    np.float64(3.0)
    """
    a, b = _as_arrays(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    if a.shape[-1] != b.shape[-1] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} not aligned: {a.shape[-1]} "
                         f"(dim {a.ndim - 1}) != {b.shape[-1]} (dim {b.ndim - 1})")
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def _vdot_blocks(a: np.ndarray, b: np.ndarray) -> Any:
    return np.asarray(np.vdot(a, b))


@implements(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    """Dot product of the flattened arrays, conjugating the first; mirrors ``numpy.vdot``.

    >>> import numpy as np, shoal.array as sa
    >>> vdot(sa.from_array(np.array([1j, 2]), chunks=1), np.array([1j, 1])).compute()
    np.complex128(3+0j)
    """
    a, b = _as_arrays(a, b)
    if a.shape != b.shape:
        if a.size != b.size:
            raise ValueError(f"vdot: vectors have different lengths: {a.size} (shape {a.shape}) and "
                             f"{b.size} (shape {b.shape})")
        a, b = a.ravel(), b.ravel()
    ind = tuple(range(a.ndim))
    dtype = _result_dtype(_vdot_blocks, [a, b])
    return contract(_vdot_blocks, (), [(a, ind), (b, ind)], dtype=dtype, token="vdot")


def _vecdot_blocks(a: np.ndarray, b: np.ndarray) -> Any:
    return np.vecdot(a, b)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """Vector dot product along ``axis`` (conjugating ``x1``), broadcasting the others; mirrors ``numpy.vecdot``.

    >>> import numpy as np, shoal.array as sa
    >>> vecdot(sa.from_array(np.ones((2, 3)), chunks=1), np.arange(3.)).compute()
    array([3., 3.])
    """
    a, b = _as_arrays(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"vecdot: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    a, b = _moveaxis_last(a, axis), _moveaxis_last(b, axis)
    if a.shape[-1] != b.shape[-1] and not (_is_unknown(a) or _is_unknown(b)):
        raise ValueError(f"vecdot: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                         f"(n),(n)->() (size {b.shape[-1]} is different from {a.shape[-1]})")
    batch_shape = broadcast_shapes(a.shape[:-1], b.shape[:-1])
    batch = tuple(f"batch{i}" for i in range(len(batch_shape)))
    a_ind = batch[len(batch) - a.ndim + 1:] + ("k",)
    b_ind = batch[len(batch) - b.ndim + 1:] + ("k",)
    dtype = _result_dtype(_vecdot_blocks, [a, b])
    return contract(_vecdot_blocks, batch, [(a, a_ind), (b, b_ind)], dtype=dtype, token="vecdot")


def _moveaxis_last(x: Any, axis: int) -> Any:
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for an array of dimension {x.ndim}")
    axis %= x.ndim
    if axis == x.ndim - 1:
        return x
    order = [i for i in range(x.ndim) if i != axis] + [axis]
    return contract(np.transpose, tuple(order), [(x, tuple(range(x.ndim)))], dtype=x.dtype, token="transpose",
                    kernel_kwargs={"axes": order})


@implements(np.outer)
def outer(a: Any, b: Any) -> Any:
    """Outer product of the flattened arrays; mirrors ``numpy.outer``.

    >>> import numpy as np, shoal.array as sa
    >>> outer(sa.from_array(np.arange(3), chunks=2), np.arange(2)).compute()
    array([[0, 0],
           [0, 1],
           [0, 2]])
    """
    a, b = _as_arrays(a, b)
    a = a if a.ndim == 1 else a.ravel()
    b = b if b.ndim == 1 else b.ravel()
    dtype = _result_dtype(np.multiply.outer, [a, b])
    return contract(np.multiply.outer, ("i", "j"), [(a, ("i",)), (b, ("j",))], dtype=dtype, token="outer")


@implements(np.kron)
def kron(a: Any, b: Any) -> Any:
    """Kronecker product; mirrors ``numpy.kron``.

    Each block of ``a`` is multiplied by the whole of ``b`` (held as one
    block), so the output has ``a``'s block grid, with every block scaled up
    by ``b``'s shape: keep ``b`` small.

    >>> import numpy as np, shoal.array as sa
    >>> kron(sa.from_array(np.eye(2), chunks=1), np.ones((1, 2))).compute()
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]])
    """
    a, b = _as_arrays(a, b)
    _require_known(a, "kron")
    _require_known(b, "kron")
    ndim = max(a.ndim, b.ndim)
    if b.numblocks != (1,) * b.ndim:
        b = rechunk(b, tuple(-1 for _ in range(b.ndim)))
    b_shape = (1,) * (ndim - b.ndim) + tuple(int(s) for s in b.shape)
    a_chunks = ((1,),) * (ndim - a.ndim) + a.chunks
    chunks = tuple(tuple(int(c) * b_shape[d] for c in dim) for d, dim in enumerate(a_chunks))
    dtype = _result_dtype(np.kron, [a, b])
    name = f"kron-{tokenize(a, b)}"
    b_ref = Ref((b.name, *(0,) * b.ndim))
    layer = {}
    for index in product(*(range(len(c)) for c in chunks)):
        key = (name, *index)
        layer[key] = Task(key, np.kron, Ref((a.name, *index[ndim - a.ndim:])), b_ref)
    return new_array(layer, name, chunks, dtype, deps=(a, b), meta=meta_from_dtype(dtype, ndim))


def _trace_block(block: np.ndarray, offset: int, axis1: int, axis2: int, dtype: Any) -> Any:
    return np.trace(block, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)


@implements(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Any:
    """Sum along a diagonal; mirrors ``numpy.trace``.

    Only the blocks the diagonal passes through are read.

    >>> import numpy as np, shoal.array as sa
    >>> trace(sa.from_array(np.arange(16).reshape(4, 4), chunks=3), offset=1).compute()
    np.int64(18)
    """
    if out is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    (a,) = _as_arrays(a)
    if a.ndim < 2:
        raise ValueError(f"diag requires an array of at least two dimensions, got shape {a.shape}")
    ax1, ax2 = (_normalize_axes(axis, a.ndim, "trace")[0] for axis in (axis1, axis2))
    if ax1 == ax2:
        raise ValueError(f"axis1 and axis2 cannot be the same (both {ax1})")
    _require_known(a, "trace")
    ind = tuple(f"d{i}" for i in range(a.ndim))
    out_ind = tuple(letter for i, letter in enumerate(ind) if i not in (ax1, ax2))
    starts = [np.cumsum((0, *c[:-1])) for c in a.chunks]
    l1, l2 = ind[ax1], ind[ax2]

    def item_kwargs(assign: dict[Any, int]) -> dict[str, Any] | None:
        i, j = assign[l1], assign[l2]
        local = int(offset + starts[ax1][i] - starts[ax2][j])
        rows, cols = a.chunks[ax1][i], a.chunks[ax2][j]
        if local >= cols or -local >= rows:
            return None  # the diagonal misses this block
        return {"offset": local}

    result_dtype = np.trace(np.ones((1, 1), dtype=a.dtype), dtype=dtype).dtype
    kwargs = {"axis1": ax1, "axis2": ax2, "dtype": result_dtype}
    return contract(_trace_block, out_ind, [(a, ind)], dtype=result_dtype, token="trace",
                    kernel_kwargs=kwargs, item_kwargs=item_kwargs, item_token=offset)


# -- einsum ------------------------------------------------------------------------------------------------------

def _einsum_block(*blocks: np.ndarray, subscripts: str, **kwargs: Any) -> Any:
    return np.einsum(subscripts, *blocks, **kwargs)


def _interleaved_to_string(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """Turn ``einsum(op0, sublist0, op1, sublist1, ..., [out])`` into a subscripts string."""
    operands = list(args[0::2])
    sublists = list(args[1::2])
    output = None
    if len(args) % 2 == 1:
        output = operands.pop()

    def letters(sub: Sequence[Any]) -> str:
        out = ""
        for s in sub:
            out += "..." if s is Ellipsis else string.ascii_letters[int(s)]
        return out

    spec = ",".join(letters(s) for s in sublists)
    if output is not None:
        spec += "->" + letters(output)
    return spec, operands


def _parse_einsum(subscripts: str, arrays: Sequence[Any]) -> tuple[list[str], str]:
    """Expand ellipses and the implicit output; return the input and output letters."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, rhs = subscripts.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(arrays):
        more = "more" if len(arrays) > len(inputs) else "fewer"
        raise ValueError(f"{more} operands provided to einstein sum function than specified in the subscripts "
                         f"string {subscripts!r} ({len(arrays)} operands, {len(inputs)} subscripts)")
    used = set(subscripts) - set(".,->")
    for letter in used:
        if letter not in string.ascii_letters:
            raise ValueError(f"invalid subscript {letter!r} in einstein sum subscripts string {subscripts!r}, "
                             f"subscripts must be letters")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_ndim = 0
    for sub, arr in zip(inputs, arrays, strict=True):
        named = len(sub.replace("...", ""))
        if "..." in sub:
            ell_ndim = max(ell_ndim, arr.ndim - named)
        if ("..." not in sub and named != arr.ndim) or named > arr.ndim:
            raise ValueError(
                f"einstein sum subscripts {sub!r} name {named} dimensions but the operand has shape {arr.shape}"
                + ("; add '...' to broadcast the extra dimensions" if named < arr.ndim else ""))
    ell = "".join(spare[:ell_ndim])
    expanded = []
    for sub, arr in zip(inputs, arrays, strict=True):
        if "..." in sub:
            n = arr.ndim - len(sub.replace("...", ""))
            sub = sub.replace("...", ell[ell_ndim - n:])
        expanded.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
        for letter in out:
            if out.count(letter) > 1:
                raise ValueError(f"einstein sum subscripts string includes output subscript {letter!r} multiple times")
            if not any(letter in sub for sub in expanded):
                raise ValueError(f"einstein sum subscripts string included output subscript {letter!r} which never "
                                 f"appeared in an input")
    else:
        counts: dict[str, int] = {}
        for sub in expanded:
            for letter in sub:
                counts[letter] = counts.get(letter, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, out


@implements(np.einsum)
def einsum(subscripts: Any, *operands: Any, dtype: Any = None, optimize: Any = False, split_every: Any = None,
           **kwargs: Any) -> Any:
    """Einstein summation; mirrors ``numpy.einsum`` (with Dask's ``split_every``).

    Each block of the output sums ``np.einsum`` over the blocks of the
    contracted letters; repeated letters in one operand (``"ii->i"``) read
    diagonal blocks only. ``optimize`` is passed to NumPy for each block.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> a = np.arange(6.).reshape(2, 3)
    >>> x = sa.from_array(a, chunks=1)
    >>> einsum("ij,kj->ik", x, x).compute()
    array([[ 5., 14.],
           [14., 50.]])
    >>> einsum("ij->", x).compute()
    np.float64(15.0)
    """
    if kwargs.get("out") is not None:
        raise TypeError("shoal arrays do not support out=; assign the result instead.")
    kwargs.pop("out", None)
    if not isinstance(subscripts, str):
        subscripts, ops = _interleaved_to_string((subscripts, *operands))
        operands = tuple(ops)
    arrays = _as_arrays(*operands)
    inputs, out = _parse_einsum(subscripts, arrays)
    spec = ",".join(inputs) + "->" + out
    lengths: dict[str, Any] = {}
    for sub, arr in zip(inputs, arrays, strict=True):
        for letter, length in zip(sub, arr.shape, strict=True):
            seen = lengths.setdefault(letter, length)
            if seen == 1:
                lengths[letter] = length
            elif length not in (1, seen) and not (isinstance(length, float) or isinstance(seen, float)):
                shapes = " ".join(_shape_str(a.shape) for a in arrays)
                raise ValueError(f"einsum {spec!r}: the dimensions labelled {letter!r} have lengths {seen} and "
                                 f"{length}, which cannot be broadcast together (operand shapes {shapes})")
    block_kwargs = {"subscripts": spec, "optimize": optimize, **kwargs}
    if dtype is not None:
        block_kwargs["dtype"] = dtype
    result_dtype = _result_dtype(_einsum_block, arrays, **block_kwargs)
    return contract(_einsum_block, tuple(out), [(a, tuple(s)) for a, s in zip(arrays, inputs, strict=True)],
                    dtype=result_dtype, token="einsum", split_every=split_every, kernel_kwargs=block_kwargs)


# -- Array methods -----------------------------------------------------------------------------------------------

_MATMUL_OPERANDS = (ArrayBase, np.ndarray, np.generic, list, tuple, int, float, complex)


class LinalgMethods:
    """Products as methods and operators of ``Array``."""

    __slots__ = ()

    def dot(self, b: Any) -> Any:
        """Dot product with ``b``; see :func:`shoal.array.dot`."""
        return dot(self, b)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Any:
        """Sum along a diagonal; see :func:`shoal.array.trace`."""
        return trace(self, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)

    def __matmul__(self, other: Any) -> Any:
        if not isinstance(other, _MATMUL_OPERANDS):
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        if not isinstance(other, _MATMUL_OPERANDS):
            return NotImplemented
        return matmul(other, self)

    def __array_ufunc__(self, numpy_ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # Generalized ufuncs (matmul, vecdot) contract axes: they are products, not element-wise maps,
        # so they are handled here before the element-wise implementation sees them.
        if numpy_ufunc.signature is not None:
            if method != "__call__" or kwargs.get("out") is not None:
                return NotImplemented
            kwargs.pop("out", None)
            handler = _GUFUNCS.get(numpy_ufunc)
            if handler is None:  # any other gufunc (np.matvec, ...): loop over blocks of the loop dimensions
                from shoal.array._gufunc import apply_gufunc
                return apply_gufunc(numpy_ufunc, numpy_ufunc.signature, *inputs, **kwargs)
            return handler(*inputs, **kwargs)
        return super().__array_ufunc__(numpy_ufunc, method, *inputs, **kwargs)  # type: ignore[misc]


_GUFUNCS: dict[Any, Callable[..., Any]] = {np.matmul: matmul, np.vecdot: vecdot}
implements(np.vecdot, np.linalg.vecdot)(vecdot)
implements(np.linalg.tensordot)(tensordot)
implements(np.linalg.outer)(outer)

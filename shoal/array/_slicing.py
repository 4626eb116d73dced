"""Indexing shoal arrays: ``x[...]``, ``x[...] = v``, ``x.vindex``, ``x.blocks``, ``take``, ``compress``.

An index is first normalized against the shape (:func:`normalize_index`):
``...`` expanded, lists turned into NumPy arrays, integers and integer arrays
bounds-checked (``IndexError`` naming the index, axis and size, as NumPy
does) and made non-negative. Then ``x[index]`` runs in two steps:

1. *Basic slicing* with integers, slices (any step, negative too) and
   ``None``: each output block is one ``getitem`` on one input block, so
   blocks keep their layout and nothing is copied across blocks. Slices that
   skip a block entirely drop it.
2. *At most one gather* for the array entries (see
   :mod:`shoal.array._indexing`): one integer array along an axis, a boolean
   mask (a NumPy mask becomes integer arrays; a lazy one gives ``nan``
   lengths), or several integer arrays read pointwise. Lazy integer arrays
   of 2+ dimensions or beside other arrays (and in ``vindex``) are read by
   :mod:`shoal.array._lazy_index`, as are scalar booleans beside arrays.

Where the result dimensions go follows NumPy: the dimensions of the array
entries replace them in place when every advanced entry (integers included)
is adjacent, and come first otherwise.

Assignment (``x[index] = value``) lives in :mod:`shoal.array._assignment`; it
replaces the array's graph in place, as Dask does.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets
from shoal.array._indexing import has_unknown, mask_shoal, move_axes, pointwise, take_numpy, take_shoal, unknown_error
from shoal.array._lazy_index import expand_scalar_bools, lazy_bool_error, one_element, pointwise_lazy
from shoal.array._lazy_index import is_scalar_bool as _is_scalar_bool
from shoal.graph.task import Alias, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["SlicingMethods"]

_VALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays "
          "are valid indices")


# -- normalizing an index -----------------------------------------------------------------
def _convert(item: Any) -> Any:
    """One entry of an index in canonical form: None, Ellipsis, slice, int, ndarray or shoal array."""
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        for part in (item.start, item.stop, item.step):
            if part is not None and not isinstance(part, int | np.integer):
                raise IndexError(f"slice {item} has a non-integer bound {part!r}; {_VALID}")
        if item.step == 0:
            raise ValueError("slice step cannot be zero")
        return item
    if isinstance(item, ArrayBase):
        if item.dtype.kind not in "iub":
            raise IndexError(f"arrays used as indices must be of integer (or boolean) type, got {item.dtype}")
        return item
    if isinstance(item, bool | np.bool_):
        # x[...] turns scalar booleans into array indices before it gets here (_lazy_index.expand_scalar_bools);
        # what reaches this point is an index that can't add an axis, such as x.blocks[...].
        raise IndexError(f"a scalar boolean ({item!r}) adds an axis, which this index can't do; {_VALID}")
    if isinstance(item, int | np.integer):
        return int(item)
    if isinstance(item, list | tuple | np.ndarray) or hasattr(item, "__array__"):
        if isinstance(item, list | tuple) and any(isinstance(i, ArrayBase) for i in item):
            raise TypeError("An index list holds shoal arrays; stack them into one array first.")
        arr = np.asarray(item)
        if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(item, np.ndarray):
            arr = arr.astype(np.intp)  # [] means "no positions", as in NumPy
        if arr.dtype.kind not in "iub":
            raise IndexError(f"arrays used as indices must be of integer (or boolean) type, got {arr.dtype}")
        if arr.ndim == 0:
            if arr.dtype.kind == "b":  # as a scalar boolean above
                raise IndexError(f"a 0-d boolean array adds an axis, which this index can't do; {_VALID}")
            return int(arr)
        return arr
    raise IndexError(f"{_VALID}; got {type(item).__name__} {item!r}")


def _consumes(item: Any) -> int:
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, np.ndarray | ArrayBase) and item.dtype.kind == "b":
        return item.ndim
    return 1


def normalize_index(index: Any, shape: Sequence[Any]) -> tuple[Any, ...]:
    """Return ``index`` as a tuple with one entry per dimension (plus ``None`` entries), checked.

    Integers and integer NumPy arrays come back non-negative and in bounds;
    ``...`` is expanded and missing trailing entries become ``slice(None)``.

    Examples
    --------
    >>> normalize_index((Ellipsis, -1), (4, 5, 6))
    (slice(None, None, None), slice(None, None, None), 5)
    >>> normalize_index([0, -1], (3,))
    (array([0, 2]),)
    >>> normalize_index(7, (5,))
    Traceback (most recent call last):
      ...
    IndexError: index 7 is out of bounds for axis 0 with size 5
    """
    items = [_convert(i) for i in (index if isinstance(index, tuple) else (index,))]
    ndim = len(shape)
    if sum(i is Ellipsis for i in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumes(i) for i in items)
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed")
    fill = [slice(None)] * (ndim - used)
    if Ellipsis in [i for i in items if not isinstance(i, np.ndarray | ArrayBase)]:
        at = next(n for n, i in enumerate(items) if i is Ellipsis)
        items[at:at + 1] = fill
    else:
        items.extend(fill)
    out: list[Any] = []
    axis = 0
    for item in items:
        if item is None or isinstance(item, slice):
            out.append(item)
            axis += item is not None
            continue
        if isinstance(item, int):
            length = shape[axis]
            if isinstance(length, float) and math.isnan(length):
                raise ValueError(
                    f"Cannot index with the integer {item} along axis {axis}: its length is unknown (nan). "
                    f"Call x.compute_chunk_sizes() first."
                )
            if not -length <= item < length:
                raise IndexError(f"index {item} is out of bounds for axis {axis} with size {int(length)}")
            out.append(item + length if item < 0 else item)
            axis += 1
            continue
        if item.dtype.kind == "b":
            for k in range(item.ndim):
                have, want = item.shape[k], shape[axis + k]
                if any(isinstance(v, float) and math.isnan(v) for v in (have, want)):
                    continue
                if have != want:
                    raise IndexError(
                        f"boolean index did not match indexed array along axis {axis + k}; size of axis is "
                        f"{int(want)} but size of corresponding boolean axis is {int(have)}"
                    )
            out.append(item)
            axis += item.ndim
            continue
        if isinstance(item, np.ndarray):
            length = shape[axis]
            if isinstance(length, float) and math.isnan(length):
                raise ValueError(
                    f"Cannot index with an integer array along axis {axis}: its length is unknown (nan). "
                    f"Call x.compute_chunk_sizes() first."
                )
            bad = (item < -length) | (item >= length)
            if bad.any():
                raise IndexError(f"index {item[bad].flat[0]} is out of bounds for axis {axis} with size {length}")
            item = np.where(item < 0, item + length, item).astype(np.intp)
        out.append(item)
        axis += 1
    return tuple(out)


# -- basic slicing ------------------------------------------------------------------------
def slice_pieces(chunks: Sequence[Any], s: slice) -> list[tuple[int, slice, int]]:
    """For a slice of one dimension: ``(block, slice within the block, length)`` per output block.

    >>> slice_pieces((3, 3, 3), slice(7, 1, -2))
    [(2, slice(1, None, -2), 1), (1, slice(2, None, -2), 2)]
    """
    n = int(sum(chunks))
    start, stop, step = s.indices(n)
    pieces = []
    offsets = [int(o) for o in chunk_offsets(chunks)]
    if step > 0:
        for b, (off, length) in enumerate(zip(offsets, chunks, strict=True)):
            lo, hi = max(start, off), min(stop, off + int(length))
            if lo >= hi:
                continue
            first = start + -(-(lo - start) // step) * step
            if first >= hi:
                continue
            pieces.append((b, slice(first - off, hi - off, step), (hi - 1 - first) // step + 1))
    else:
        back = -step
        for b in reversed(range(len(chunks))):
            off, length = offsets[b], int(chunks[b])
            hi, lo = min(start, off + length - 1), max(stop + 1, off)
            if lo > hi:
                continue
            first = start - -(-(start - hi) // back) * back
            if first < lo:
                continue
            end = lo - off - 1
            pieces.append((b, slice(first - off, end if end >= 0 else None, step), (first - lo) // back + 1))
    return pieces or [(0, slice(0, 0), 0)]


def _basic(x: ArrayBase, index: tuple[Any, ...]) -> Any:
    """``x[index]`` for an index of ints, slices and None only (already normalized)."""
    index = index + (slice(None),) * (x.ndim - sum(i is not None for i in index))
    if all(isinstance(i, slice) and i == slice(None) for i in index) and len(index) == x.ndim:
        return x
    # One plan per index entry: (input axis or None, output choices); each choice is
    # (block along the input axis, local index entry, output length or None if no output axis).
    plans: list[tuple[int | None, list[tuple[int, Any, Any]]]] = []
    axis = 0
    for item in index:
        if item is None:
            plans.append((None, [(0, None, 1)]))
            continue
        chunks = x.chunks[axis]
        if isinstance(item, int):
            if has_unknown(chunks):
                raise unknown_error(x, axis, f"index with the integer {item}")
            ends = np.cumsum(chunks)
            b = int(np.searchsorted(ends, item, side="right"))
            plans.append((axis, [(b, item - int(ends[b] - chunks[b]), None)]))
        elif item == slice(None):
            plans.append((axis, [(b, slice(None), c) for b, c in enumerate(chunks)]))
        else:
            if has_unknown(chunks):
                raise unknown_error(x, axis, f"slice with {item}")
            plans.append((axis, slice_pieces(chunks, item)))
        axis += 1
    name = f"getitem-{tokenize(x.name, index)}"
    out_plans = [(n, p) for n, (a, p) in enumerate(plans) if p[0][2] is not None]
    fixed = {n: p[0] for n, (a, p) in enumerate(plans) if p[0][2] is None}
    layer: dict[Any, Any] = {}
    for out_index in product(*(range(len(p)) for _, p in out_plans)):
        choice = dict(fixed)
        for (n, p), i in zip(out_plans, out_index, strict=True):
            choice[n] = p[i]
        source = tuple(choice[n][0] for n, (a, _) in enumerate(plans) if a is not None)
        local = tuple(choice[n][1] for n in range(len(plans)))
        key = (name, *out_index)
        if all(isinstance(e, slice) and e == slice(None) for e in local):
            layer[key] = Alias(key, (x.name, *source))
        else:
            layer[key] = Task(key, operator.getitem, Ref((x.name, *source)), local)
    chunks_out = tuple(tuple(c[2] for c in p) for _, p in out_plans)
    return new_array(layer, name, chunks_out, x.dtype, deps=(x,), meta=x._meta)


# -- the general case ---------------------------------------------------------------------
def _expand_numpy_masks(index: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for item in index:
        if isinstance(item, np.ndarray) and item.dtype.kind == "b":
            out.extend(i.astype(np.intp) for i in np.nonzero(item))
        else:
            out.append(item)
    return tuple(out)


def _scalar_bools(x: ArrayBase, index: tuple[Any, ...]) -> Any:
    """``x[index]`` where ``index`` holds scalar booleans, with NumPy's rule for them.

    A scalar boolean is a 0-d mask, an advanced index of shape ``(1,)`` (True) or ``(0,)`` (False). With the
    integers of the index (advanced too, then) it broadcasts to one new axis, placed where the first of them
    stands when they are next to each other, else first. Beside array indices it becomes one of them
    (:func:`shoal.array._lazy_index.expand_scalar_bools`).
    """
    if any(isinstance(i, list | np.ndarray | ArrayBase) and not _is_scalar_bool(i) for i in index):
        y, expanded = expand_scalar_bools(x, index)
        return getitem(y, expanded)
    advanced = [n for n, i in enumerate(index) if _is_scalar_bool(i) or isinstance(i, int | np.integer)]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    consumed = sum(1 for i in index if isinstance(i, slice) or (isinstance(i, int | np.integer)
                                                                 and not _is_scalar_bool(i)))
    position = 0
    if adjacent:
        for item in index[:advanced[0]]:
            position += x.ndim - consumed if item is Ellipsis else 1  # slices and None; ints are advanced
    out = x[tuple(i for i in index if not _is_scalar_bool(i))]
    length = 1 if all(bool(i) for i in index if _is_scalar_bool(i)) else 0
    return out[(slice(None),) * position + (None,)][(slice(None),) * position + (slice(0, length),)]


def getitem(x: ArrayBase, index: Any) -> Any:
    """``x[index]`` with NumPy's semantics; see the module docstring."""
    as_tuple = index if isinstance(index, tuple) else (index,)
    if any(_is_scalar_bool(i) for i in as_tuple):
        return _scalar_bools(x, as_tuple)
    index = _expand_numpy_masks(normalize_index(index, x.shape))
    arrays = [n for n, i in enumerate(index) if isinstance(i, np.ndarray | ArrayBase)]
    if not arrays:
        return _basic(x, index)
    basic: list[Any] = []
    # Where each array entry's (first) axis sits in y: ints are gone, None added.
    y_axes = {}
    position = 0
    for n, item in enumerate(index):
        if n in arrays:
            y_axes[n] = position
            basic.extend([slice(None)] * _consumes(item))
            position += _consumes(item)
        else:
            basic.append(item)
            position += not isinstance(item, int)
    y = _basic(x, tuple(basic))
    advanced = [n for n, i in enumerate(index) if isinstance(i, int) or n in arrays]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    if len(arrays) == 1:
        (n,) = arrays
        item, axis = index[n], y_axes[n]
        if isinstance(item, ArrayBase):
            if item.dtype.kind == "b":
                result, new_dims = mask_shoal(y, item, axis), 1
            elif item.ndim == 1:
                result, new_dims = take_shoal(y, item, axis), 1
            elif item.ndim == 0:  # x[x.argmax()]: a lazy scalar position
                taken = take_shoal(y, one_element(item), axis)
                result, new_dims = _basic(taken, (slice(None),) * axis + (0,)), 0
            else:
                result, new_dims = move_axes(pointwise_lazy(y, {axis: item}), list(range(item.ndim)), axis), item.ndim
        elif item.ndim == 1:
            result, new_dims = take_numpy(y, item, axis), 1
        else:
            result, new_dims = move_axes(pointwise(y, {axis: item}), list(range(item.ndim)), axis), item.ndim
        if not adjacent:
            result = move_axes(result, list(range(axis, axis + new_dims)), 0)
        return result
    if any(isinstance(index[n], ArrayBase) for n in arrays):
        if any(index[n].dtype.kind == "b" for n in arrays):
            raise lazy_bool_error("x[...]")
        result = pointwise_lazy(y, {y_axes[n]: index[n] for n in arrays})
    else:
        result = pointwise(y, {y_axes[n]: index[n] for n in arrays})
    if adjacent:
        broadcast_ndim = result.ndim - (y.ndim - len(arrays))
        result = move_axes(result, list(range(broadcast_ndim)), y_axes[arrays[0]])
    return result


# -- vindex and blocks ---------------------------------------------------------------------
def vindex(x: ArrayBase, index: Any) -> Any:
    """Pointwise indexing: integer arrays broadcast together; their dimensions come first."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, ArrayBase) and i.dtype.kind == "b" for i in items):
        raise lazy_bool_error("x.vindex[...]")
    if any(i is None for i in items):
        raise IndexError("vindex does not support None (np.newaxis); add the axis before or after indexing.")
    if any(_is_scalar_bool(i) for i in items):
        y, expanded = expand_scalar_bools(x, items)
        return vindex(y, expanded)
    normalized = _expand_numpy_masks(normalize_index(items, x.shape))
    arrays = {n: i for n, i in enumerate(normalized) if isinstance(i, np.ndarray | int | ArrayBase)}
    if not any(isinstance(i, np.ndarray | ArrayBase) for i in arrays.values()):
        raise IndexError(
            f"vindex needs at least one integer array in the index (got {index!r}); use x[...] for basic slicing."
        )
    y = _basic(x, tuple(slice(None) if n in arrays else i for n, i in enumerate(normalized)))
    if any(isinstance(i, ArrayBase) for i in arrays.values()):
        return pointwise_lazy(y, {n: i if isinstance(i, ArrayBase) else np.asarray(i, dtype=np.intp)
                                  for n, i in arrays.items()})
    return pointwise(y, {n: np.asarray(i, dtype=np.intp) for n, i in arrays.items()})


class _VIndexer:
    __slots__ = ("_array",)

    def __init__(self, array: ArrayBase) -> None:
        self._array = array

    def __getitem__(self, index: Any) -> Any:
        return vindex(self._array, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        from shoal.array._assignment import setitem_points  # it builds on this module

        setitem_points(self._array, index, value)


class BlockView:
    """Index the grid of blocks of an array: ``x.blocks[i, j]`` is the array made of those blocks.

    Every dimension is kept; integers select one block, slices and lists several.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.arange(10), chunks=3)
    >>> x.blocks[1].compute()
    array([3, 4, 5])
    >>> x.blocks[::-2].chunks
    ((1, 3),)
    """

    __slots__ = ("_array",)

    def __init__(self, array: ArrayBase) -> None:
        self._array = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.numblocks

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def ravel(self) -> list[Any]:
        """Every block as a one-block array, in C order."""
        return [self[i] for i in product(*(range(n) for n in self.shape))]

    def __getitem__(self, index: Any) -> Any:
        x = self._array
        items = index if isinstance(index, tuple) else (index,)
        if any(i is None or _is_scalar_bool(i) for i in items):
            raise IndexError("x.blocks does not support None (np.newaxis) or scalar booleans, which add an axis; "
                             "blocks keep every dimension.")
        normalized = normalize_index(items, x.numblocks)
        if any(isinstance(i, ArrayBase) for i in normalized):
            raise NotImplementedError(
                "x.blocks cannot be indexed with a lazy (shoal) array: the blocks to keep must be known when the "
                "graph is built (Dask refuses this too). Compute the index first: x.blocks[np.asarray(index)].")
        selected: list[list[int]] = []
        for axis, item in enumerate(normalized):
            if isinstance(item, int):
                selected.append([item])
            elif isinstance(item, slice):
                selected.append(list(range(x.numblocks[axis]))[item])
            elif item.dtype.kind == "b":
                selected.append(np.flatnonzero(item).tolist())
            else:
                selected.append(item.tolist())
        name = f"blocks-{tokenize(x.name, [tuple(s) for s in selected])}"
        layer = {(name, *out): Alias((name, *out), (x.name, *(selected[a][i] for a, i in enumerate(out))))
                 for out in product(*(range(len(s)) for s in selected))}
        chunks = tuple(tuple(x.chunks[a][i] for i in s) for a, s in enumerate(selected))
        return new_array(layer, name, chunks, x.dtype, deps=(x,), meta=x._meta)


class SlicingMethods:
    """Indexing methods of ``Array``."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:
        """``x[index]`` with NumPy's rules; see :mod:`shoal.array._slicing`.

        Examples
        --------
        >>> import numpy as np, shoal.array as sa
        >>> x = sa.from_array(np.arange(20).reshape(4, 5), chunks=2)
        >>> x[1:, ::-2].compute()
        array([[ 9,  7,  5],
               [14, 12, 10],
               [19, 17, 15]])
        >>> x[x > 15].compute()
        array([16, 17, 18, 19])
        """
        return getitem(self, index)  # type: ignore[arg-type]

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = value``: replace this array's graph with one that assigns, as Dask does.

        Examples
        --------
        >>> import numpy as np, shoal.array as sa
        >>> x = sa.from_array(np.arange(6), chunks=4)
        >>> x[x > 3] = -1
        >>> x[:2] = [10, 20]
        >>> x.compute()
        array([10, 20,  2,  3, -1, -1])
        """
        from shoal.array._assignment import setitem

        setitem(self, index, value)  # type: ignore[arg-type]

    @property
    def vindex(self) -> _VIndexer:
        """Pointwise indexing: ``x.vindex[[0, 1], [2, 3]]`` reads ``x[0, 2]`` and ``x[1, 3]``.

        The index arrays broadcast together and their dimensions come first in
        the result, followed by the axes not indexed.

        >>> import numpy as np, shoal.array as sa
        >>> x = sa.from_array(np.arange(12).reshape(3, 4), chunks=2)
        >>> x.vindex[[0, 2], [3, 1]].compute()
        array([3, 9])
        """
        return _VIndexer(self)  # type: ignore[arg-type]

    @property
    def blocks(self) -> BlockView:
        """Index the grid of blocks; see :class:`BlockView`."""
        return BlockView(self)  # type: ignore[arg-type]

    @property
    def partitions(self) -> BlockView:
        """The same as :attr:`blocks`."""
        return BlockView(self)  # type: ignore[arg-type]

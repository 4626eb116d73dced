"""Unique values of an array: ``np.unique`` per block, then one task merges the per-block results.

The merged result keeps the counts and first positions of each value, so
``return_index``/``return_counts`` come out of the same pass. The length is
unknown until computed, so the result has ``nan`` chunks; ``return_inverse``
maps every block onto the merged uniques with ``searchsorted``.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import new_array
from shoal.array._blockmap import require_known
from shoal.array._chunks import chunk_offsets
from shoal.array._dispatch import implements
from shoal.array._from_array import asarray
from shoal.array._reductions import normalize_axis
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["unique"]


def _unique_block(block: np.ndarray, offset: tuple[int, ...] | None,
                  shape: tuple[int, ...] | None, equal_nan: bool = True) -> dict[str, np.ndarray]:
    values, first, counts = np.unique(block.ravel(), return_index=True, return_counts=True, equal_nan=equal_nan)
    if offset is None or shape is None:  # positions not asked for (and maybe unknown)
        pass
    elif block.ndim > 1:
        local = np.unravel_index(first, block.shape)
        first = np.ravel_multi_index(tuple(i + o for i, o in zip(local, offset, strict=True)), shape)
    elif block.ndim == 1:
        first = first + offset[0]
    return {"values": values, "index": first.astype(np.intp), "counts": counts.astype(np.intp)}


def _unique_merge(parts: list[dict[str, np.ndarray]], equal_nan: bool = True) -> dict[str, np.ndarray]:
    values = np.concatenate([p["values"] for p in parts])
    uniques, where = np.unique(values, return_inverse=True, equal_nan=equal_nan)
    where = where.reshape(-1)
    first = np.full(len(uniques), np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(first, where, np.concatenate([p["index"] for p in parts]))
    counts = np.zeros(len(uniques), dtype=np.intp)
    np.add.at(counts, where, np.concatenate([p["counts"] for p in parts]))
    nans = _nan_slots(uniques) if not equal_nan else np.empty(0, dtype=np.intp)
    if len(nans):
        # Every NaN is its own value, sorted last; NumPy lists them in the order they occur (their positions
        # are their first indices), which the blocks' order need not be.
        first[nans] = np.sort(first[nans])
    return {"values": uniques, "index": first, "counts": counts}


def _nan_slots(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind not in "fc":
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(np.isnan(values))


def _field(merged: dict[str, np.ndarray], field: str) -> np.ndarray:
    return merged[field]


def _inverse_block(merged: dict[str, np.ndarray], block: np.ndarray, offset: tuple[int, ...] | None = None,
                   shape: tuple[int, ...] | None = None) -> np.ndarray:
    uniques = merged["values"]
    inverse = np.searchsorted(uniques, block).astype(np.intp)
    nans = _nan_slots(uniques) if offset is not None else np.empty(0, dtype=np.intp)
    if len(nans) > 1:  # equal_nan=False: each NaN maps to its own slot, by where it stands in the array
        hit = np.isnan(block)
        local = np.nonzero(hit)
        flat = np.ravel_multi_index(tuple(i + o for i, o in zip(local, offset, strict=True)), shape)
        inverse[hit] = nans[0] + np.searchsorted(merged["index"][nans], flat)
    return inverse


@implements(np.unique)
def unique(ar: Any, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False,
           axis: Any = None, *, equal_nan: bool = True) -> Any:
    """Sorted unique values of the flattened array; mirrors ``numpy.unique``.

    Parameters
    ----------
    ar : Array
    return_index, return_inverse, return_counts : bool
        Also return the flat index of each value's first occurrence, the
        index into the uniques of every element of ``ar`` (shape of ``ar``,
        as in NumPy 2), and how often each value occurs.
    axis : int, optional
        Distinct sub-arrays along this axis instead (sorted as NumPy sorts
        them); the index, inverse and counts then refer to positions along
        it. The other axes are read one block long.

    Returns
    -------
    Array or tuple of Array
        In NumPy's order. Their length is unknown until computed (``nan``
        chunks), except the inverse.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.from_array(np.array([3, 1, 3, 2, 1]), chunks=2)
    >>> values, counts = unique(x, return_counts=True)
    >>> values.compute(), counts.compute()
    (array([1, 2, 3]), array([2, 1, 2]))
    """
    ar = asarray(ar)
    if axis is not None:
        # equal_nan doesn't change sub-array comparisons (NumPy's either): rows holding NaN never match.
        from shoal.array._unique_axis import unique_along_axis

        (axis,) = normalize_axis(axis, ar.ndim)
        return unique_along_axis(ar, axis, return_index, return_inverse, return_counts)
    # Separate NaNs are told apart, and listed, by where they stand: that needs every position.
    positions = return_index or (not equal_nan and ar.dtype.kind in "fc")
    if positions:
        require_known(ar, range(ar.ndim), "unique(return_index=True)" if return_index else
                      "unique(equal_nan=False)")
    token = tokenize(ar, "unique", return_index, equal_nan)
    block_name, merged = f"unique-chunk-{token}", f"unique-merge-{token}"
    layer: dict[Any, Any] = {}
    starts = [chunk_offsets(c) for c in ar.chunks]
    shape = tuple(int(s) for s in ar.shape) if positions else None
    offsets = {}
    refs = []
    for index in product(*(range(n) for n in ar.numblocks)):
        offsets[index] = tuple(int(starts[d][i]) for d, i in enumerate(index)) if positions else None
        layer[(block_name, *index)] = Task((block_name, *index), _unique_block, Ref((ar.name, *index)),
                                           offsets[index], shape, equal_nan)
        refs.append(Ref((block_name, *index)))
    layer[merged] = Task(merged, _unique_merge, refs, equal_nan)
    outputs = []
    for field in ("values", *(["index"] if return_index else []), *(["inverse"] if return_inverse else []),
                  *(["counts"] if return_counts else [])):
        if field == "inverse":
            continue
        name = f"unique-{field}-{token}"
        field_layer = dict(layer) if not outputs else {}
        field_layer[(name, 0)] = Task((name, 0), _field, Ref(merged), field)
        dtype = ar.dtype if field == "values" else np.dtype(np.intp)
        outputs.append((field, new_array(field_layer, name, ((math.nan,),), dtype, deps=(ar,) if not outputs else
                                         (ar, outputs[0][1]))))
    if return_inverse:
        values = outputs[0][1]
        name = f"unique-inverse-{token}"
        inv_layer = {(name, *i): Task((name, *i), _inverse_block, Ref(merged), Ref((ar.name, *i)),
                                      offsets[i] if not equal_nan else None, shape)
                     for i in product(*(range(n) for n in ar.numblocks))}
        inverse = new_array(inv_layer, name, ar.chunks, np.intp, deps=(ar, values))
        position = 1 + int(return_index)
        outputs.insert(position, ("inverse", inverse))
    if len(outputs) == 1:
        return outputs[0][1]
    return tuple(out for _, out in outputs)

"""``unique(x, axis=k)``: the distinct sub-arrays along one axis, sorted as NumPy sorts them.

The axis is moved to the front and every other axis made one block long,
so each block holds whole sub-arrays ("rows"). Each block finds its own
distinct rows (with the first position and the count of each, and which
distinct row every row is); one task merges the blocks' rows with
``numpy.unique(axis=0)`` and adds up first positions and counts; the
inverse of each block is its local inverse looked up in the merge's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._blockmap import require_known
from shoal.array._chunks import chunk_offsets
from shoal.array._rechunk import rechunk
from shoal.array._shape import moveaxis
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["unique_along_axis"]


def _block_rows(block: np.ndarray, offset: int) -> dict[str, np.ndarray]:
    values, first, inverse, counts = np.unique(block, axis=0, return_index=True, return_inverse=True,
                                               return_counts=True)
    return {"values": values, "index": (first + offset).astype(np.intp), "counts": counts.astype(np.intp),
            "inverse": inverse.reshape(-1).astype(np.intp)}


def _merge_rows(parts: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    values = np.concatenate([p["values"] for p in parts], axis=0)
    uniques, where = np.unique(values, axis=0, return_inverse=True)
    where = where.reshape(-1).astype(np.intp)
    first = np.full(len(uniques), np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(first, where, np.concatenate([p["index"] for p in parts]))
    counts = np.zeros(len(uniques), dtype=np.intp)
    np.add.at(counts, where, np.concatenate([p["counts"] for p in parts]))
    bounds = np.cumsum([0] + [len(p["values"]) for p in parts])
    return {"values": uniques, "index": first, "counts": counts,
            "where": [where[bounds[i]:bounds[i + 1]] for i in range(len(parts))]}


def _field(merged: dict[str, Any], field: str, axis: int) -> np.ndarray:
    out = merged[field]
    return np.moveaxis(out, 0, axis) if field == "values" else out


def _block_inverse(merged: dict[str, Any], part: dict[str, np.ndarray], i: int) -> np.ndarray:
    return merged["where"][i][part["inverse"]]


def unique_along_axis(ar: ArrayBase, axis: int, return_index: bool, return_inverse: bool,
                      return_counts: bool) -> Any:
    """What ``numpy.unique(ar, axis=axis, ...)`` returns, lazily; see the module docstring."""
    require_known(ar, range(ar.ndim), "unique(axis=...)")
    rows = moveaxis(ar, axis, 0)
    rows = rechunk(rows, {d: -1 for d in range(1, rows.ndim)})
    token = tokenize(ar, axis, "unique-axis")
    block_name, merged = f"unique-rows-{token}", f"unique-merge-{token}"
    starts = chunk_offsets(rows.chunks[0])
    tail = (0,) * (rows.ndim - 1)
    layer: dict[Any, Any] = {}
    for i in range(rows.numblocks[0]):
        layer[(block_name, i)] = Task((block_name, i), _block_rows, Ref((rows.name, i, *tail)), int(starts[i]))
    layer[merged] = Task(merged, _merge_rows, [Ref((block_name, i)) for i in range(rows.numblocks[0])])
    deps: tuple[Any, ...] = (rows,)
    outputs = []
    values_chunks = tuple((math.nan,) if d == axis else (int(s),) for d, s in enumerate(ar.shape))
    for field in ("values", *(["index"] if return_index else []), *(["counts"] if return_counts else [])):
        name = f"unique-axis-{field}-{token}"
        field_layer = dict(layer) if not outputs else {}
        key = (name, *(0,) * ar.ndim) if field == "values" else (name, 0)
        field_layer[key] = Task(key, _field, Ref(merged), field, axis)
        chunks = values_chunks if field == "values" else ((math.nan,),)
        dtype = ar.dtype if field == "values" else np.dtype(np.intp)
        out = new_array(field_layer, name, chunks, dtype, deps=deps)
        deps = (rows, out)
        outputs.append(out)
    if return_inverse:
        name = f"unique-axis-inverse-{token}"
        inv_layer = {(name, i): Task((name, i), _block_inverse, Ref(merged), Ref((block_name, i)), i)
                     for i in range(rows.numblocks[0])}
        outputs.insert(1 + int(return_index), new_array(inv_layer, name, (rows.chunks[0],), np.intp,
                                                        deps=(rows, outputs[0])))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)

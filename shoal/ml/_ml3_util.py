"""Plumbing shared by :mod:`shoal.ml.datasets`, :mod:`shoal.ml.metrics` and :mod:`shoal.ml.wrappers`.

Three small jobs:

- **Seeds.** A ``random_state`` becomes one integer root seed; block ``i`` of a
  generated array draws from ``numpy.random.default_rng([root, tag, i])``, its
  own stream, so a block can be (re)computed alone, anywhere, with the same
  values, and a fixed ``random_state`` reproduces the whole array.
- **Arrays from per-block tasks.** :func:`arrays_from_blocks` turns one task
  per row block that returns a tuple into one shoal array per tuple element;
  the generating task runs once per block and feeds them all.
- **Aligned row blocks.** :func:`align_rows` cuts several 1-D/2-D inputs
  (shoal arrays, shoal dataframes/series, NumPy, pandas) at the same rows, so
  a metric can read block ``i`` of each in one task.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from numbers import Integral
from typing import Any

import numpy as np

import shoal.array as sa
from shoal.array import Array
from shoal.base import is_dask_collection
from shoal.graph.task import Ref, Task
from shoal.graph.tokenize import tokenize
from shoal.highlevelgraph import HighLevelGraph

__all__ = ["align_rows", "arrays_from_blocks", "block_rng", "root_seed", "row_chunks_for", "to_lazy_array"]


def root_seed(random_state: Any) -> int:
    """One integer seed from ``None`` (fresh entropy), an int, a ``RandomState`` or a ``Generator``."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (1 << 63))  # type: ignore[operator]
    if isinstance(random_state, Integral | np.integer) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(1 << 62))
    raise TypeError(
        f"random_state must be None, an int, a numpy.random.RandomState or a numpy.random.Generator, "
        f"got {random_state!r} ({type(random_state).__name__})."
    )


def block_rng(seed: int, tag: int, index: int) -> np.random.Generator:
    """The generator of block ``index`` (``tag`` separates the streams of different uses of one seed)."""
    return np.random.default_rng([seed, tag, index])


def row_chunks_for(chunks: Any, n_samples: int, n_features: int, who: str) -> tuple[int, ...]:
    """Row chunks from a ``chunks=`` argument; generated arrays have a single block of columns."""
    if chunks is None:
        raise ValueError(f"{who}: pass chunks=, the number of rows per block (e.g. chunks=1000).")
    if isinstance(chunks, tuple) and len(chunks) == 2 and not isinstance(chunks[1], tuple):
        if chunks[1] not in (-1, None) and int(chunks[1]) != n_features:
            raise ValueError(
                f"{who}: can only generate arrays partitioned along the first axis, but chunks={chunks!r} asks "
                f"for {chunks[1]} columns per block with n_features={n_features}. Pass chunks={chunks[0]!r} "
                f"(rows per block) and rechunk the result if you need column blocks."
            )
        chunks = chunks[0]
    elif isinstance(chunks, tuple) and len(chunks) == 2 and isinstance(chunks[1], tuple):
        if chunks[1] != (n_features,):
            raise ValueError(f"{who}: can only generate arrays partitioned along the first axis, got "
                             f"column chunks {chunks[1]} for n_features={n_features}.")
        chunks = chunks[0]
    rows = sa.normalize_chunks((chunks,), shape=(n_samples,))[0]
    return tuple(int(c) for c in rows)


def arrays_from_blocks(func: Callable[..., tuple[Any, ...]], row_chunks: Sequence[int], args: Sequence[Any],
                       outputs: Sequence[tuple[tuple[int, ...], Any]], name: str) -> list[Array]:
    """Arrays whose row block ``i`` is element ``j`` of ``func(i, n_rows_i, *args)``.

    ``outputs[j]`` is ``(trailing_shape, dtype)`` of output ``j``: ``()`` for a
    1-D array, ``(p,)`` for ``n x p``.
    """
    token = tokenize(name, tuple(row_chunks), args, [(s, str(np.dtype(d))) for s, d in outputs])
    gen = f"{name}-blocks-{token}"
    base = {(gen, i): Task((gen, i), func, i, int(n), *args) for i, n in enumerate(row_chunks)}
    result = []
    for j, (trailing, dtype) in enumerate(outputs):
        out = f"{name}-{j}-{token}"
        layer: dict[Any, Any] = dict(base)
        for i in range(len(row_chunks)):
            key = (out, i) + (0,) * len(trailing)
            layer[key] = Task(key, operator.getitem, Ref((gen, i)), j)
        chunks = (tuple(row_chunks),) + tuple((s,) for s in trailing)
        result.append(Array(HighLevelGraph.from_collections(out, layer), out, chunks, dtype=dtype))
    return result


def _frame_blocks(obj: Any, what: str) -> Array:
    """A shoal dataframe/series as an array with one (unknown-length) row block per partition.

    Works from ``to_delayed`` so partitions keep their pandas form until the block task (no
    counting pass, unlike ``to_dask_array(lengths=True)``).
    """
    meta = obj._meta.to_numpy()
    parts = obj.to_delayed()
    name = f"ml-frame-values-{tokenize(*[p.key for p in parts], what)}"
    layer = {}
    for i, part in enumerate(parts):
        key = (name, i) + (0,) * (meta.ndim - 1)
        layer[key] = Task(key, _values, Ref(part.key))
    chunks = ((math.nan,) * len(parts),) + tuple((s,) for s in meta.shape[1:])
    return Array(HighLevelGraph.from_collections(name, layer, dependencies=parts), name, chunks, dtype=meta.dtype,
                 meta=meta)


def _values(part: Any) -> np.ndarray:
    return np.asarray(part.to_numpy() if hasattr(part, "to_numpy") else part)


def to_lazy_array(obj: Any, what: str) -> Array | np.ndarray:
    """A shoal array for a shoal collection (dataframes by partition), a NumPy array otherwise."""
    if isinstance(obj, Array):
        return obj
    if is_dask_collection(obj):
        if hasattr(obj, "to_delayed") and hasattr(obj, "_meta") and hasattr(obj._meta, "to_numpy"):
            return _frame_blocks(obj, what)
        raise TypeError(f"{what} is a {type(obj).__name__}; pass a shoal array, dataframe or series, or NumPy data.")
    return np.asarray(obj.to_numpy() if hasattr(obj, "to_numpy") else obj)


def _known(chunks: tuple[float, ...]) -> bool:
    return not any(math.isnan(c) for c in chunks)


def align_rows(named: Sequence[tuple[str, Any]]) -> list[Array]:
    """Cut the inputs (``(name, value)`` pairs; ``None`` values are skipped) at the same row blocks.

    The first shoal input sets the row blocks; NumPy inputs are wrapped to match and shoal inputs
    with known lengths rechunked. Inputs with unknown lengths (from dataframes) are paired
    block by block and must have the same number of blocks.
    """
    present = [(w, to_lazy_array(v, w)) for w, v in named if v is not None]
    n = {w: a.shape[0] for w, a in present}
    known_n = {w: s for w, s in n.items() if not (isinstance(s, float) and math.isnan(s))}
    if len(set(known_n.values())) > 1:
        sizes = ", ".join(f"{w}: {s}" for w, s in known_n.items())
        raise ValueError(f"Inconsistent numbers of samples ({sizes}). Pass inputs with one entry per sample.")
    lazy = [a for _, a in present if isinstance(a, Array)]
    if not lazy:
        ref_chunks: tuple[Any, ...] = (present[0][1].shape[0],)
    else:
        known = [a for a in lazy if _known(a.chunks[0])]
        ref_chunks = known[0].chunks[0] if known else lazy[0].chunks[0]
    out = []
    for w, a in present:
        if a.ndim not in (1, 2):
            raise ValueError(f"{w} must be 1- or 2-dimensional, got shape {a.shape}.")
        if isinstance(a, np.ndarray):
            if not _known(ref_chunks):
                raise ValueError(
                    f"{w} is a NumPy array but the other inputs have unknown row blocks (from a dataframe). "
                    f"Convert them with .to_dask_array(lengths=True) or pass {w} as a shoal collection.")
            a = sa.from_array(a, chunks=(ref_chunks,) + tuple((s,) for s in a.shape[1:]))
        else:
            if a.ndim == 2 and a.numblocks[1] != 1:
                a = a.rechunk({1: -1})
            if a.chunks[0] != ref_chunks:
                if _known(a.chunks[0]) and _known(ref_chunks):
                    a = a.rechunk({0: ref_chunks})
                elif len(a.chunks[0]) != len(ref_chunks):
                    raise ValueError(
                        f"{w} has {len(a.chunks[0])} row blocks of unknown length but the other inputs have "
                        f"{len(ref_chunks)}; they cannot be matched row for row. Call .compute_chunk_sizes() "
                        f"or .to_dask_array(lengths=True) on the inputs first.")
        out.append(a)
    return out

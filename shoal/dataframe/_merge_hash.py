"""Hash joins of two partitioned frames on key columns: split both sides by a hash of their keys, join pairwise.

Model
    :class:`HashJoin` lowers to three kinds of tasks. A ``split`` task per
    input partition (the read of that partition runs inline in it) hashes the
    key columns, orders the rows by output partition and cuts every column
    into one piece per output partition. A ``join`` task per output partition
    ``j`` concatenates piece ``j`` of every left split and of every right
    split, column by column, and joins the two frames with the per-partition
    merge function (:class:`~shoal.dataframe._merge_lookup.LookupMerge` or
    :func:`pandas.merge`). Equal keys hash alike on both sides, so they meet
    in the same join task; keys whose dtypes differ are first cast to one
    common type (``cast``) for hashing only.

    This is the general shuffle of :mod:`shoal.dataframe._shuffle` made
    narrow for joins on columns. Pieces are NumPy or extension arrays rather
    than frames, because a join on columns drops both indexes: no index is
    reordered or concatenated, and building ``n`` small frames per split (and
    concatenating them again in each gather) cost more than the join itself.
    The join task gathers and joins in one step, so there are ``n_left +
    n_right + n`` tasks.

    Pieces spill to files like the general shuffle's groups: when a split
    estimates the shuffled data (its partition's size times the number of
    inputs) above the memory budget of :func:`~shoal.dataframe._shuffle.spill_budget`,
    it pickles its pieces into a temporary directory and hands the join tasks
    paths; each join task reads and deletes its files.

Hashing
    A row's output partition is ``(hash >> 32) * n >> 32``: the top 32 bits
    of pandas' 64-bit hash of its keys, scaled to ``n`` (Lemire's range
    reduction), which needs no division and is as uniform as the hash.
    Several keys combine their hashes by multiplying and xoring.
"""

from __future__ import annotations

import functools
import os
import pickle
import shutil
import weakref
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.dataframe._merge_lookup import frame_from_arrays
from shoal.dataframe._shuffle import spill_budget, spill_directory
from shoal.graph.task import GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["HashJoin", "hash_join_expr", "is_hash_joinable", "join_codes", "join_partition", "split_for_join"]


def join_codes(arrays: list[Any], npartitions: int) -> np.ndarray:
    """The output partition (``0 <= code < npartitions``) of every row, from its key arrays.

    Equal keys of the same dtype get the same code, whichever partition they come from. Codes are
    ``uint8``/``uint16`` when they fit, so that the stable sort that groups them is a radix sort.
    """
    hashes = pd.util.hash_array(arrays[0])
    for values in arrays[1:]:
        # Both sides combine alike, which is all a split needs; the multiplication (wrapping) mixes the
        # earlier keys into the top bits the reduction below reads.
        hashes *= np.uint64(0x9E3779B97F4A7C15)
        hashes ^= pd.util.hash_array(values)
    if npartitions <= 1:
        return np.zeros(len(hashes), dtype=np.uint8)
    # Lemire's reduction of the top 32 bits: (h >> 32) * n < 2**64 for any n < 2**32, and no division.
    hashes = np.right_shift(hashes, np.uint64(32))
    hashes *= np.uint64(npartitions)
    hashes >>= np.uint64(32)
    kind = np.uint8 if npartitions <= 256 else np.uint16 if npartitions <= 65536 else np.intp
    return hashes.astype(kind)


def _key_arrays(arrays: list[Any], positions: list[int], cast: list[Any] | None) -> list[Any]:
    """The key columns' values, cast to the common hashing dtypes when the two sides' dtypes differ."""
    keys = [arrays[p] for p in positions]
    if cast is None:
        return keys
    return [pd.Series(k, copy=False).astype(c).to_numpy() for k, c in zip(keys, cast, strict=True)]


def _columns(part: pd.DataFrame, names: list[Any]) -> list[Any]:
    """The column arrays of ``part`` in the order of ``names`` (the side's meta)."""
    if list(part.columns) != names:
        part = part[names]
    return [column._values for _, column in part.items()]


def _take(values: Any, order: np.ndarray) -> Any:
    return values[order] if isinstance(values, np.ndarray) else values.take(order)


def split_for_join(part: pd.DataFrame, names: list[Any], positions: list[int], cast: list[Any] | None, n: int,
                   spill: tuple[str, str, int, int] | None = None) -> list[Any]:
    """``part``'s columns cut into ``n`` pieces (lists of arrays) by the hash of its key columns.

    Rows keep their order inside each piece. With ``spill = (directory, this input's name, budget,
    number of inputs)``, pieces go to files when the whole shuffle (estimated from this partition) would not
    fit the budget; the list then holds paths.
    """
    arrays = _columns(part, names)
    if n == 1:
        # Copies: a join that keeps every row would otherwise hand the caller's own arrays back, unknown
        # to pandas' copy-on-write, and writing into the result would change the input.
        pieces = [[values.copy() for values in arrays]]
    else:
        codes = join_codes(_key_arrays(arrays, positions, cast), n)
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=n)
        ends = np.cumsum(counts)
        starts = ends - counts
        ordered = [_take(values, order) for values in arrays]
        pieces = [[values[s:e] for values in ordered] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    if spill is None:
        return pieces
    directory, name, budget, n_inputs = spill
    if sum(int(values.nbytes) for values in arrays) * n_inputs <= budget:
        return pieces
    os.makedirs(directory, exist_ok=True)
    out: list[Any] = []
    for j, piece in enumerate(pieces):
        if not len(piece) or not len(piece[0]):
            out.append(piece)
            continue
        path = os.path.join(directory, f"{j}-{name}.pkl")
        with open(path, "wb") as f:
            pickle.dump(piece, f, protocol=5)
        out.append(path)
    return out


def _load(piece: Any) -> list[Any]:
    if not isinstance(piece, str):
        return piece  # type: ignore[no-any-return]
    with open(piece, "rb") as f:
        out = pickle.load(f)
    os.remove(piece)
    return out  # type: ignore[no-any-return]


def _concat(chunks: list[Any]) -> Any:
    """One column from its pieces; pandas' rules decide the dtype when the pieces' dtypes differ."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    if all(type(c) is type(first) and c.dtype == first.dtype for c in chunks):
        if isinstance(first, np.ndarray):
            return np.concatenate(chunks)
        return type(first)._concat_same_type(chunks)
    return pd.concat([pd.Series(c, copy=False) for c in chunks], ignore_index=True).array


def _assemble(pieces: list[list[Any]], labels: pd.Index, meta: pd.DataFrame) -> pd.DataFrame:
    """A frame from the pieces one join task gets from every split of one side (all empty: the meta)."""
    kept = [p for p in pieces if len(p) and len(p[0])]
    if not kept:
        return meta
    return frame_from_arrays([_concat([p[c] for p in kept]) for c in range(len(labels))], labels)


def join_partition(j: int, left_splits: list[list[Any]], right_splits: list[list[Any]], left_meta: pd.DataFrame,
                   right_meta: pd.DataFrame, func: Any, kwargs: dict[str, Any]) -> Any:
    """Output partition ``j``: piece ``j`` of every split of each side, joined by ``func``."""
    left = _assemble([_load(s[j]) for s in left_splits], left_meta.columns, left_meta)
    right = _assemble([_load(s[j]) for s in right_splits], right_meta.columns, right_meta)
    return func(left, right, kwargs)


class HashJoin(Expr):
    """``func(left_j, right_j, kwargs)`` for each output partition ``j`` of a hash split of both sides' key columns.

    ``keys`` is ``(left key columns, right key columns)``; ``cast`` the per-key hashing dtypes (or ``None``
    when both sides' key dtypes already agree); ``spill`` ``(directory, budget)`` or ``None``.
    """

    _parameters = ("left", "right", "keys", "cast", "npartitions_out", "func", "kwargs", "meta", "spill")
    _defaults = {"spill": None}
    _label = "hash-join"
    _fuses_inputs = True

    @functools.cached_property
    def _name(self) -> str:
        # The meta follows from the inputs and the arguments; hashing an empty frame costs more than the rest.
        token = tokenize(type(self).__name__, self.left, self.right, self.keys, self.cast, self.npartitions_out,
                         self.func, self.kwargs, self.spill)
        return f"{self._label}-{token}"

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * (self.npartitions_out + 1)

    def _split_layer(self, ctx: Any, side: Expr, keys: list[Any], which: str, graph: dict[Key, GraphNode]
                     ) -> list[Ref]:
        names = list(side._meta.columns)
        positions = [names.index(k) for k in keys]
        n = self.npartitions_out
        refs = []
        name = f"{self._name}-split-{which}"
        for i in range(side.npartitions):
            key = (name, i)
            spill = None if self.spill is None else (self.spill[0], f"{which}{i}", self.spill[1], side.npartitions)
            graph[key] = Task(key, split_for_join, ctx.input(side, i), names, positions, self.cast, n, spill)
            refs.append(Ref(key))
        return refs

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        graph: dict[Key, GraphNode] = {}
        lkeys, rkeys = self.keys
        lrefs = self._split_layer(ctx, self.left, lkeys, "left", graph)
        rrefs = self._split_layer(ctx, self.right, rkeys, "right", graph)
        lmeta, rmeta = self.left._meta, self.right._meta
        for j in range(self.npartitions_out):
            key = (self._name, j)
            graph[key] = Task(key, join_partition, j, lrefs, rrefs, lmeta, rmeta, self.func, self.kwargs)
        return graph


def is_hash_joinable(left_meta: pd.DataFrame, right_meta: pd.DataFrame, lkeys: list[Any] | None,
                     rkeys: list[Any] | None) -> bool:
    """Whether both sides join on columns (not index levels) and have unique column names."""
    if lkeys is None or rkeys is None:
        return False
    for meta, keys in ((left_meta, lkeys), (right_meta, rkeys)):
        names = set(meta.columns)
        try:
            if len(names) != len(meta.columns) or not all(k in names for k in keys):
                return False
        except TypeError:  # an unhashable key (an array of values): pandas' own merge handles it
            return False
    return True


def hash_join_expr(left: Expr, right: Expr, lkeys: list[Any], rkeys: list[Any], cast: Any, npartitions: int,
                   func: Any, kwargs: dict[str, Any], meta: pd.DataFrame) -> HashJoin:
    """A :class:`HashJoin` that spills past the shuffle memory budget; its spill directory goes with it.

    ``cast`` is ``{key position: dtype}`` (from the merge's common-type rule) or ``None``.
    """
    casts = None if cast is None else [cast[i] for i in range(len(lkeys))]
    budget = spill_budget()
    if budget is None:
        return HashJoin(left, right, (list(lkeys), list(rkeys)), casts, npartitions, func, kwargs, meta)
    directory = spill_directory()
    expr = HashJoin(left, right, (list(lkeys), list(rkeys)), casts, npartitions, func, kwargs, meta,
                    (directory, budget))
    # Files a failed run left behind; join tasks delete the files they read.
    weakref.finalize(expr, shutil.rmtree, directory, True)
    return expr

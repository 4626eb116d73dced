"""What both random interfaces share: seeding, the tasks that draw blocks, and building the graphs.

See :mod:`shoal.array.random` for the seeding model: every call spawns one
child ``SeedSequence``; block ``b`` (in C order) of that call draws from a
bit generator seeded with the child's sequence extended by ``b``, so a task
holds a few integers, never a generator object, and results depend on the
seed and the chunks only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from itertools import product
from numbers import Number
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, meta_from_dtype, new_array
from shoal.array._chunks import chunk_offsets, normalize_chunks, slices_from_chunks
from shoal.array._from_array import asarray
from shoal.array._random_table import INTEGER_METHODS
from shoal.array._rechunk import rechunk
from shoal.graph.task import DataNode, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["Sampler", "make_source"]

_SPAWN_LOCK = threading.Lock()  # SeedSequence.spawn updates a counter; keep concurrent spawns distinct


# -- what a block task runs --------------------------------------------------------------

def make_source(backend: Any, entropy: Any, spawn_key: tuple[int, ...]) -> Any:
    """The NumPy random object a block draws from (see the module docstring)."""
    sequence = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    kind, bit_generator = backend
    if kind == "generator":
        return np.random.Generator(bit_generator(sequence))
    if kind == "legacy":
        return np.random.RandomState(bit_generator(sequence))
    # A user's RandomState-like constructor: give it a 32-bit seed, as Dask does.
    return bit_generator(int(sequence.generate_state(1)[0]))


def _draw(backend: Any, entropy: Any, spawn_key: tuple[int, ...], method: str, size: tuple[int, ...],
          args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.ndarray:
    source = make_source(backend, entropy, spawn_key)
    return np.asarray(getattr(source, method)(*args, size=size, **kwargs))


def _broadcast_piece(param: np.ndarray, shape: tuple[int, ...], index: tuple[slice, ...]) -> np.ndarray:
    return np.broadcast_to(param, shape)[index]


def _broadcast_block(block: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(block, shape)


def _slice(values: np.ndarray, first: int, last: int) -> np.ndarray:
    return values[first:last]


def _choice_all(backend: Any, entropy: Any, spawn_key: tuple[int, ...], a: Any, total: int, replace: bool,
                p: Any, flat_shape: tuple[int, ...], shuffle: bool = True) -> np.ndarray:
    source = make_source(backend, entropy, spawn_key)
    options = {} if shuffle else {"shuffle": False}  # only Generator.choice knows shuffle
    return np.asarray(source.choice(a, size=total, replace=replace, p=p, **options)).reshape(flat_shape)


def _take(block: np.ndarray, positions: np.ndarray, axis: int) -> np.ndarray:
    return np.take(block, positions, axis=axis)


def _take_rows(positions: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    whole = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    return whole[positions]


# -- the shared machinery ----------------------------------------------------------------

def _param_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, ArrayBase):
        if any(isinstance(s, float) and math.isnan(s) for s in value.shape):
            raise ValueError(
                f"A random-distribution parameter {value.name!r} has unknown shape {value.shape}. "
                f"Call x.compute_chunk_sizes() first."
            )
        return tuple(int(s) for s in value.shape)
    return np.shape(value)


def _normalize_size(size: Any) -> tuple[int, ...] | None:
    if size is None:
        return None
    if isinstance(size, Number | np.integer):
        size = (size,)
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise ValueError(f"negative dimensions are not allowed (size {size}).")
    return size


class Sampler:
    """What :class:`RandomState` and :class:`Generator` share: seeding and building the graph."""

    __slots__ = ("_seed_seq", "_backend")
    _seed_seq: np.random.SeedSequence
    _backend: tuple[str, Any]

    def _spawn(self) -> tuple[Any, tuple[int, ...]]:
        with _SPAWN_LOCK:
            child = self._seed_seq.spawn(1)[0]
        return child.entropy, tuple(child.spawn_key)

    def _wrap(self, method: str, *args: Any, size: Any = None, chunks: Any = "auto",
              extra_chunks: tuple[tuple[int, ...], ...] = (), **kwargs: Any) -> Any:
        """An array whose blocks are ``source.method(*args, size=block shape, **kwargs)``.

        Array arguments are broadcast to the output's shape, and each block gets
        its piece of them; ``kwargs`` go to every block unchanged.
        """
        shapes = [_param_shape(a) for a in args if isinstance(a, ArrayBase | np.ndarray | list | tuple)]
        size = _normalize_size(size)
        try:
            broadcast = np.broadcast_shapes(*shapes) if shapes else ()
            shape = broadcast if size is None else size
            if size is not None and shapes and np.broadcast_shapes(broadcast, size) != size:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{method}: parameter shapes {shapes} do not broadcast to size {size}. Pass parameters whose "
                f"shapes broadcast to the output size."
            ) from None
        dtype = kwargs.get("dtype")
        dtype = np.dtype(dtype if dtype is not None else (np.int64 if method in INTEGER_METHODS else np.float64))
        chunks = normalize_chunks(chunks, shape, dtype=dtype)
        entropy, spawn_key = self._spawn()
        name = f"{method}-{tokenize(entropy, spawn_key, method, chunks, extra_chunks, *args, kwargs, dtype.str)}"

        layer: dict[Any, Any] = {}
        deps: list[Any] = []
        prepared: list[Callable[[tuple[int, ...], tuple[slice, ...], tuple[int, ...]], Any]] = []
        for position, arg in enumerate(args):
            prepared.append(self._prepare_param(arg, shape, chunks, name, position, layer, deps))

        numblocks = tuple(len(c) for c in chunks)
        for linear, (index, slices) in enumerate(zip(product(*(range(n) for n in numblocks)),
                                                     slices_from_chunks(chunks), strict=True)):
            block_shape = tuple(s.stop - s.start for s in slices)
            key = (name, *index, *((0,) * len(extra_chunks)))
            block_args = tuple(make(index, slices, block_shape) for make in prepared)
            layer[key] = Task(key, _draw, self._backend, entropy, (*spawn_key, linear), method, block_shape,
                              block_args, kwargs)
        return new_array(layer, name, (*chunks, *extra_chunks), dtype, deps=tuple(deps))

    @staticmethod
    def _prepare_param(arg: Any, shape: tuple[int, ...], chunks: Any, name: str, position: int,
                       layer: dict[Any, Any], deps: list[Any]) -> Callable[..., Any]:
        """How to give each block its piece of parameter ``arg``."""
        if isinstance(arg, list | tuple):
            arg = np.asarray(arg)
        if isinstance(arg, np.ndarray) and arg.ndim:
            key = f"{name}-param{position}"
            layer[key] = DataNode(key, arg)
            return lambda index, slices, block_shape: Task(None, _broadcast_piece, Ref(key), shape, slices)
        if isinstance(arg, ArrayBase):
            if arg.ndim == 0:
                deps.append(arg)
                return lambda index, slices, block_shape: Ref((arg.name,))
            # Give the parameter the output's chunks along its real dimensions
            # and one block where it broadcasts; each block then reads one block.
            lead = len(shape) - arg.ndim
            own = tuple((1,) if arg.shape[d] == 1 and shape[lead + d] != 1 else chunks[lead + d]
                        for d in range(arg.ndim))
            arg = rechunk(arg, own) if own != arg.chunks else arg
            deps.append(arg)
            broadcasts = [arg.shape[d] == 1 and shape[lead + d] != 1 for d in range(arg.ndim)]

            def piece(index: tuple[int, ...], slices: Any, block_shape: tuple[int, ...], arg: Any = arg) -> Any:
                source = tuple(0 if broadcasts[d] else index[lead + d] for d in range(arg.ndim))
                return Task(None, _broadcast_block, Ref((arg.name, *source)), block_shape)

            return piece
        return lambda index, slices, block_shape: arg

    # -- methods with their own shape rules ---------------------------------------------
    def _choice(self, a: Any, size: Any, replace: bool, p: Any, chunks: Any, shuffle: bool = True) -> Any:
        if isinstance(a, Number | np.integer) and not isinstance(a, bool):
            population = int(a)
            if population < 0:
                raise ValueError(f"choice: a must be a positive integer or a 1-d array, got {a}.")
            dtype = np.dtype(np.int64)
            source: Any = population
        else:
            a = a if isinstance(a, ArrayBase) else np.asarray(a)
            if a.ndim != 1:
                raise ValueError(f"choice: a must be 1-dimensional, got shape {a.shape}.")
            population = int(_param_shape(a)[0])
            dtype = a.dtype
            source = a
        if p is not None:
            p_len = _param_shape(p)
            if p_len != (population,):
                raise ValueError(f"choice: p has shape {p_len} but a has {population} entries; they must match.")
            if not isinstance(p, ArrayBase):
                p = np.asarray(p, dtype=float)
                if not np.isclose(p.sum(), 1.0):
                    raise ValueError(f"choice: probabilities p must sum to 1 (they sum to {p.sum()}).")
        shape = _normalize_size(size) or ()
        total = math.prod(shape)
        if population == 0 and total:
            raise ValueError("choice: a cannot be empty unless no samples are taken.")
        if not replace and total > population:
            raise ValueError(
                f"choice: cannot take a larger sample ({total}) than the population ({population}) "
                f"when replace=False."
            )
        chunks = normalize_chunks(chunks, shape, dtype=dtype)
        entropy, spawn_key = self._spawn()
        name = f"choice-{tokenize(entropy, spawn_key, source, shape, chunks, replace, p, shuffle)}"
        layer: dict[Any, Any] = {}
        deps: list[Any] = []

        def stage(value: Any, label: str) -> Any:
            if isinstance(value, ArrayBase):
                whole = rechunk(value, ((population,),)) if value.numblocks != (1,) else value
                deps.append(whole)
                return Ref((whole.name, 0))
            if isinstance(value, np.ndarray):
                layer[f"{name}-{label}"] = DataNode(f"{name}-{label}", value)
                return Ref(f"{name}-{label}")
            return value

        a_arg, p_arg = stage(source, "a"), stage(p, "p")
        numblocks = tuple(len(c) for c in chunks)
        if replace:
            for linear, (index, slices) in enumerate(zip(product(*(range(n) for n in numblocks)),
                                                         slices_from_chunks(chunks), strict=True)):
                key = (name, *index)
                block_shape = tuple(s.stop - s.start for s in slices)
                layer[key] = Task(key, _draw, self._backend, entropy, (*spawn_key, linear), "choice", block_shape,
                                  (a_arg,), {"replace": True, "p": p_arg})
        else:
            # Without replacement the blocks are not independent: draw the sample
            # once (it is at most as large as the population) and cut it up.
            whole = f"{name}-sample"
            layer[whole] = Task(whole, _choice_all, self._backend, entropy, spawn_key, a_arg, total, False, p_arg,
                                shape, shuffle)
            for index, slices in zip(product(*(range(n) for n in numblocks)), slices_from_chunks(chunks),
                                     strict=True):
                key = (name, *index)
                layer[key] = Task(key, _getitem, Ref(whole), slices)
        return new_array(layer, name, chunks, dtype, deps=tuple(deps))

    def _choice_along(self, a: Any, size: Any, replace: bool, p: Any, axis: int, shuffle: bool, chunks: Any) -> Any:
        """Slices of ``a`` along ``axis`` at positions drawn by :meth:`_choice`; NumPy's ``np.take(a, idx, axis)``.

        ``chunks`` cuts the sampled axes (of shape ``size``); the other axes keep ``a``'s chunks, and
        ``axis`` is brought into one block, so each output block is one ``np.take`` of one block of ``a``.
        """
        a = a if isinstance(a, ArrayBase) else asarray(np.asarray(a))
        if a.ndim == 0:
            raise ValueError("choice: a must be an integer or an array with at least one dimension, got a 0-d "
                             "array; wrap it in a list to sample from one value.")
        if not isinstance(axis, int | np.integer) or not -a.ndim <= axis < a.ndim:
            raise np.exceptions.AxisError(
                f"choice: axis {axis!r} is out of bounds for a of shape {a.shape}; pass an axis between "
                f"{-a.ndim} and {a.ndim - 1}.")
        axis = int(axis) % a.ndim
        length = a.shape[axis]
        if isinstance(length, float) and math.isnan(length):
            raise ValueError(f"choice: the length of axis {axis} of {a.name!r} is unknown (chunks {a.chunks}). "
                             f"Call a.compute_chunk_sizes() first.")
        positions = self._choice(int(length), size, replace, p, chunks, shuffle=shuffle)
        if a.numblocks[axis] != 1:
            a = rechunk(a, {axis: -1})
        name = f"choice-along-{tokenize(a, positions, axis)}"
        before, after = a.numblocks[:axis], a.numblocks[axis + 1:]
        layer: dict[Any, Any] = {}
        for lead in product(*(range(n) for n in before)):
            for sampled in product(*(range(n) for n in positions.numblocks)):
                for trail in product(*(range(n) for n in after)):
                    key = (name, *lead, *sampled, *trail)
                    layer[key] = Task(key, _take, Ref((a.name, *lead, 0, *trail)), Ref((positions.name, *sampled)),
                                      axis)
        chunks = (*a.chunks[:axis], *positions.chunks, *a.chunks[axis + 1:])
        return new_array(layer, name, chunks, a.dtype, deps=(a, positions),
                         meta=meta_from_dtype(a.dtype, len(chunks), like=a._meta))

    def _permutation(self, x: Any) -> Any:
        entropy, spawn_key = self._spawn()
        if isinstance(x, int | np.integer) and not isinstance(x, bool):
            n = int(x)
            order = make_source(self._backend, entropy, spawn_key).permutation(n)
            chunks = normalize_chunks("auto", (n,), dtype=np.int64)
            name = f"permutation-{tokenize(entropy, spawn_key, n, chunks)}"
            layer: dict[Any, Any] = {f"{name}-order": DataNode(f"{name}-order", order)}
            starts = chunk_offsets(chunks[0])
            for i, (start, length) in enumerate(zip(starts, chunks[0], strict=True)):
                layer[(name, i)] = Task((name, i), _slice, Ref(f"{name}-order"), int(start), int(start + length))
            return new_array(layer, name, chunks, np.int64)
        x = asarray(x)
        if x.ndim == 0:
            raise ValueError("permutation: x must be an integer or an array with at least one dimension.")
        n = int(_param_shape(x)[0])
        # The index is small (one entry per row): draw it now, gather rows lazily.
        order = make_source(self._backend, entropy, spawn_key).permutation(n)
        edges = np.asarray([*chunk_offsets(x.chunks[0]), n], dtype=np.int64)
        name = f"permutation-{tokenize(entropy, spawn_key, x)}"
        layer = {}
        for i, (start, length) in enumerate(zip(chunk_offsets(x.chunks[0]), x.chunks[0], strict=True)):
            rows = order[int(start):int(start + length)]
            owners = np.searchsorted(edges, rows, side="right") - 1
            needed = np.unique(owners)
            # Positions of the wanted rows in the concatenation of the needed blocks.
            base = np.cumsum([0, *(int(x.chunks[0][b]) for b in needed)])[:-1]
            positions = rows - edges[owners] + base[np.searchsorted(needed, owners)]
            for rest in product(*(range(n) for n in x.numblocks[1:])):
                key = (name, i, *rest)
                layer[key] = Task(key, _take_rows, positions, [Ref((x.name, int(b), *rest)) for b in needed])
        return new_array(layer, name, x.chunks, x.dtype, deps=(x,), meta=x._meta)


def _getitem(values: np.ndarray, index: tuple[slice, ...]) -> np.ndarray:
    return values[index]


"""Random arrays, drawn block by block: ``shoal.array.random``; mirrors ``dask.array.random``.

Two interfaces, as in NumPy:

- :func:`default_rng` returns a :class:`Generator` (``integers``, ``random``,
  ``normal``, ``choice``, ...), the modern interface;
- :class:`RandomState` keeps NumPy's legacy names (``randint``,
  ``random_sample``, ...); the module-level functions (``random``,
  ``normal``, ``randint``, ...) draw from one global ``RandomState`` that
  :func:`seed` resets.

Seeding model
    Each object holds a ``numpy.random.SeedSequence``. Every call spawns one
    child sequence from it, so successive calls differ and the same seed
    gives the same sequence of calls. Block ``b`` (its position in C order)
    of that call draws from a bit generator seeded with the child's
    sequence extended by ``b``: the same as spawning children in order,
    but each task can build its own without talking to the others. Results
    therefore depend on the seed and the chunks, never on the scheduler, the
    number of workers or the order in which blocks run. The task holds only
    the entropy and spawn key (a few integers), never a generator object.

Blocks draw from ``SFC64`` for :class:`RandomState` (fast: random numbers are
often the first step of a benchmark) and from ``PCG64``, or the bit generator
given to :class:`Generator`, otherwise. As in Dask, the values differ from
NumPy's for the same seed, since NumPy draws the whole array from one stream.
"""

from __future__ import annotations

import inspect
import math
import threading
from collections.abc import Callable, Sequence
from itertools import product
from numbers import Number
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, new_array
from shoal.array._chunks import chunk_offsets, normalize_chunks, slices_from_chunks
from shoal.array._from_array import asarray
from shoal.array._rechunk import rechunk
from shoal.graph.task import DataNode, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "Generator",
    "RandomState",
    "default_rng",
    "seed",
]

_SPAWN_LOCK = threading.Lock()  # SeedSequence.spawn updates a counter; keep concurrent spawns distinct

#: Distributions that return integers (int64), whatever their parameters.
_INTEGER_METHODS = {"binomial", "geometric", "hypergeometric", "logseries", "multinomial", "negative_binomial",
                    "poisson", "zipf"}

_REQUIRED = inspect.Parameter.empty

#: name -> the distribution's parameters (name, default), shared by both interfaces.
_DISTRIBUTIONS: dict[str, list[tuple[str, Any]]] = {
    "beta": [("a", _REQUIRED), ("b", _REQUIRED)],
    "binomial": [("n", _REQUIRED), ("p", _REQUIRED)],
    "chisquare": [("df", _REQUIRED)],
    "exponential": [("scale", 1.0)],
    "f": [("dfnum", _REQUIRED), ("dfden", _REQUIRED)],
    "gamma": [("shape", _REQUIRED), ("scale", 1.0)],
    "geometric": [("p", _REQUIRED)],
    "gumbel": [("loc", 0.0), ("scale", 1.0)],
    "hypergeometric": [("ngood", _REQUIRED), ("nbad", _REQUIRED), ("nsample", _REQUIRED)],
    "laplace": [("loc", 0.0), ("scale", 1.0)],
    "logistic": [("loc", 0.0), ("scale", 1.0)],
    "lognormal": [("mean", 0.0), ("sigma", 1.0)],
    "logseries": [("p", _REQUIRED)],
    "negative_binomial": [("n", _REQUIRED), ("p", _REQUIRED)],
    "noncentral_chisquare": [("df", _REQUIRED), ("nonc", _REQUIRED)],
    "noncentral_f": [("dfnum", _REQUIRED), ("dfden", _REQUIRED), ("nonc", _REQUIRED)],
    "normal": [("loc", 0.0), ("scale", 1.0)],
    "pareto": [("a", _REQUIRED)],
    "poisson": [("lam", 1.0)],
    "power": [("a", _REQUIRED)],
    "rayleigh": [("scale", 1.0)],
    "standard_cauchy": [],
    "standard_exponential": [],
    "standard_gamma": [("shape", _REQUIRED)],
    "standard_normal": [],
    "standard_t": [("df", _REQUIRED)],
    "triangular": [("left", _REQUIRED), ("mode", _REQUIRED), ("right", _REQUIRED)],
    "uniform": [("low", 0.0), ("high", 1.0)],
    "vonmises": [("mu", _REQUIRED), ("kappa", _REQUIRED)],
    "wald": [("mean", _REQUIRED), ("scale", _REQUIRED)],
    "weibull": [("a", _REQUIRED)],
    "zipf": [("a", _REQUIRED)],
}


# -- what a block task runs --------------------------------------------------------------

def _make_source(backend: Any, entropy: Any, spawn_key: tuple[int, ...]) -> Any:
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
    source = _make_source(backend, entropy, spawn_key)
    return np.asarray(getattr(source, method)(*args, size=size, **kwargs))


def _broadcast_piece(param: np.ndarray, shape: tuple[int, ...], index: tuple[slice, ...]) -> np.ndarray:
    return np.broadcast_to(param, shape)[index]


def _broadcast_block(block: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(block, shape)


def _slice(values: np.ndarray, first: int, last: int) -> np.ndarray:
    return values[first:last]


def _choice_all(backend: Any, entropy: Any, spawn_key: tuple[int, ...], a: Any, total: int, replace: bool,
                p: Any, flat_shape: tuple[int, ...]) -> np.ndarray:
    source = _make_source(backend, entropy, spawn_key)
    return np.asarray(source.choice(a, size=total, replace=replace, p=p)).reshape(flat_shape)


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


class _Sampler:
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
        dtype = np.dtype(dtype if dtype is not None else (np.int64 if method in _INTEGER_METHODS else np.float64))
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
    def _choice(self, a: Any, size: Any, replace: bool, p: Any, chunks: Any) -> Any:
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
        name = f"choice-{tokenize(entropy, spawn_key, source, shape, chunks, replace, p)}"
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
                                shape)
            for index, slices in zip(product(*(range(n) for n in numblocks)), slices_from_chunks(chunks),
                                     strict=True):
                key = (name, *index)
                layer[key] = Task(key, _getitem, Ref(whole), slices)
        return new_array(layer, name, chunks, dtype, deps=tuple(deps))

    def _permutation(self, x: Any) -> Any:
        entropy, spawn_key = self._spawn()
        if isinstance(x, int | np.integer) and not isinstance(x, bool):
            n = int(x)
            order = _make_source(self._backend, entropy, spawn_key).permutation(n)
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
        order = _make_source(self._backend, entropy, spawn_key).permutation(n)
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


def _distribution_method(method: str, params: list[tuple[str, Any]], owner: str) -> Callable[..., Any]:
    names = [n for n, _ in params]

    def sample(self: _Sampler, *args: Any, size: Any = None, chunks: Any = "auto", **kwargs: Any) -> Any:
        values = dict(zip([*names, "size", "chunks"], args, strict=False))
        if len(args) > len(names) + 2:
            raise TypeError(f"{method}() takes at most {len(names) + 2} positional arguments ({len(args)} given).")
        for key in list(kwargs):
            if key in names:
                if key in values:
                    raise TypeError(f"{method}() got multiple values for argument {key!r}.")
                values[key] = kwargs.pop(key)
        size = values.pop("size", size)
        chunks = values.pop("chunks", chunks)
        ordered = []
        for pname, default in params:
            if pname not in values:
                if default is _REQUIRED:
                    raise TypeError(f"{method}() missing required argument {pname!r}.")
                values[pname] = default
            ordered.append(values[pname])
        return self._wrap(method, *ordered, size=size, chunks=chunks, **kwargs)

    signature = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    signature += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in params]
    signature += [inspect.Parameter("size", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
                  inspect.Parameter("chunks", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="auto"),
                  inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
    sample.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    sample.__name__ = sample.__qualname__ = method
    args_doc = ", ".join(names) if names else "no parameters"
    sample.__doc__ = (
        f"Samples from the {method.replace('_', ' ')} distribution ({args_doc}); mirrors "
        f"``numpy.random.{owner}.{method}`` with ``chunks=``.\n\n"
        f"Array parameters broadcast against ``size`` and each block gets its part of them.\n"
    )
    return sample


class RandomState(_Sampler):
    """Random arrays through NumPy's legacy interface (``randint``, ``random_sample``, ...).

    Parameters
    ----------
    seed : int, sequence of int or SeedSequence, optional
        Reproducible draws for the same seed (and chunks); fresh entropy if omitted.
    RandomState : callable, optional
        Builds each block's source from a 32-bit integer seed instead of
        the default (NumPy's ``RandomState`` over ``SFC64``), e.g.
        ``numpy.random.RandomState`` for Mersenne Twister blocks.

    Examples
    --------
    >>> import shoal.array as sa
    >>> state = sa.random.RandomState(42)
    >>> x = state.normal(10, 0.1, size=(4, 4), chunks=2)
    >>> x.chunks
    ((2, 2), (2, 2))
    >>> bool(abs(x.mean().compute() - 10) < 0.5)
    True
    >>> a = sa.random.RandomState(1).random_sample(5, chunks=2).compute()
    >>> b = sa.random.RandomState(1).random_sample(5, chunks=2).compute()
    >>> bool((a == b).all())
    True
    """

    __slots__ = ()

    def __init__(self, seed: Any = None, RandomState: Callable[[int], Any] | None = None) -> None:  # noqa: N803
        self._backend = ("legacy", np.random.SFC64) if RandomState is None else ("custom", RandomState)
        self.seed(seed)

    def seed(self, seed: Any = None) -> None:
        """Restart the sequence of draws from ``seed``."""
        self._seed_seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)

    def random_sample(self, size: Any = None, chunks: Any = "auto", **kwargs: Any) -> Any:
        """Uniform floats in ``[0, 1)``; mirrors ``numpy.random.RandomState.random_sample`` with ``chunks=``."""
        return self._wrap("random_sample", size=size, chunks=chunks, **kwargs)

    random = random_sample

    def randint(self, low: Any, high: Any = None, size: Any = None, chunks: Any = "auto", dtype: Any = int,
                **kwargs: Any) -> Any:
        """Integers in ``[low, high)`` (``[0, low)`` if ``high`` is omitted); mirrors ``RandomState.randint``.

        >>> x = RandomState(0).randint(5, 10, size=20, chunks=7).compute()
        >>> bool(((5 <= x) & (x < 10)).all()), x.dtype
        (True, dtype('int64'))
        """
        return self._wrap("randint", low, high, size=size, chunks=chunks, dtype=dtype, **kwargs)

    def random_integers(self, low: Any, high: Any = None, size: Any = None, chunks: Any = "auto",
                        **kwargs: Any) -> Any:
        """Integers in ``[low, high]`` (``[1, low]`` if ``high`` is omitted); NumPy's deprecated form of randint."""
        low, high = (1, low) if high is None else (low, high)
        high = high + 1 if not isinstance(high, ArrayBase | np.ndarray | list) else np.asarray(high) + 1
        return self._wrap("randint", low, high, size=size, chunks=chunks, dtype=np.int64, **kwargs)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None, chunks: Any = "auto") -> Any:
        """Samples from ``a`` (a 1-d array, or ``arange(a)`` for an int); mirrors ``RandomState.choice``.

        With ``replace=False`` the sample is drawn in one task (it is never
        larger than ``a``) and then cut into blocks.

        >>> x = RandomState(3).choice([10, 20, 30], size=6, chunks=2).compute()
        >>> sorted(set(x.tolist()) - {10, 20, 30})
        []
        """
        return self._choice(a, size, replace, p, chunks)

    def permutation(self, x: Any) -> Any:
        """A shuffled ``arange(x)``, or the rows of ``x`` in random order; mirrors ``RandomState.permutation``.

        >>> sorted(RandomState(0).permutation(5).compute().tolist())
        [0, 1, 2, 3, 4]
        """
        return self._permutation(x)

    def multinomial(self, n: int, pvals: Sequence[float], size: Any = None, chunks: Any = "auto") -> Any:
        """Counts of ``n`` trials over outcomes with probabilities ``pvals``; the outcomes are the last axis."""
        k = len(pvals)
        return self._wrap("multinomial", n, size=size, chunks=chunks, extra_chunks=((k,),), pvals=list(pvals))


class Generator(_Sampler):
    """Random arrays through NumPy's ``Generator`` interface; build one with :func:`default_rng`.

    Parameters
    ----------
    bit_generator : numpy.random.BitGenerator, SeedSequence, int or None
        Where the seed comes from; with a ``BitGenerator``, the blocks use its
        class, seeded from its seed sequence.
    """

    __slots__ = ()

    def __init__(self, bit_generator: Any = None) -> None:
        if isinstance(bit_generator, np.random.BitGenerator):
            seq = bit_generator.seed_seq
            self._backend = ("generator", type(bit_generator))
            self._seed_seq = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key, pool_size=seq.pool_size)
        else:
            self._backend = ("generator", np.random.PCG64)
            self._seed_seq = bit_generator if isinstance(bit_generator, np.random.SeedSequence) else \
                np.random.SeedSequence(bit_generator)

    def random(self, size: Any = None, dtype: Any = np.float64, chunks: Any = "auto", **kwargs: Any) -> Any:
        """Uniform floats in ``[0, 1)``; mirrors ``numpy.random.Generator.random`` with ``chunks=``.

        >>> x = default_rng(0).random((3, 4), chunks=2)
        >>> x.dtype, x.numblocks
        (dtype('float64'), (2, 2))
        """
        return self._wrap("random", size=size, chunks=chunks, dtype=dtype, **kwargs)

    def integers(self, low: Any, high: Any = None, size: Any = None, dtype: Any = np.int64, endpoint: bool = False,
                 chunks: Any = "auto", **kwargs: Any) -> Any:
        """Integers in ``[low, high)`` (``[low, high]`` with ``endpoint=True``); mirrors ``Generator.integers``.

        >>> x = default_rng(1).integers(0, 3, size=10, chunks=4, endpoint=True).compute()
        >>> bool(((0 <= x) & (x <= 3)).all())
        True
        """
        return self._wrap("integers", low, high, size=size, chunks=chunks, dtype=dtype, endpoint=endpoint,
                          **kwargs)

    def standard_normal(self, size: Any = None, dtype: Any = np.float64, chunks: Any = "auto",
                        **kwargs: Any) -> Any:
        """Normal samples with mean 0 and standard deviation 1; mirrors ``Generator.standard_normal``."""
        return self._wrap("standard_normal", size=size, chunks=chunks, dtype=dtype, **kwargs)

    def standard_exponential(self, size: Any = None, dtype: Any = np.float64, chunks: Any = "auto",
                             **kwargs: Any) -> Any:
        """Exponential samples with scale 1; mirrors ``Generator.standard_exponential``."""
        return self._wrap("standard_exponential", size=size, chunks=chunks, dtype=dtype, **kwargs)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None, chunks: Any = "auto",
               **kwargs: Any) -> Any:
        """Samples from ``a`` (a 1-d array, or ``arange(a)`` for an int); mirrors ``Generator.choice``.

        >>> default_rng(2).choice(4, size=4, replace=False, chunks=2).compute().tolist() in [
        ...     list(p) for p in __import__("itertools").permutations(range(4))]
        True
        """
        if kwargs.get("axis", 0) != 0:
            raise NotImplementedError("choice with axis other than 0 is not supported.")
        return self._choice(a, size, replace, p, chunks)

    def permutation(self, x: Any) -> Any:
        """A shuffled ``arange(x)``, or the rows of ``x`` in random order; mirrors ``Generator.permutation``."""
        return self._permutation(x)

    def multinomial(self, n: int, pvals: Sequence[float], size: Any = None, chunks: Any = "auto") -> Any:
        """Counts of ``n`` trials over outcomes with probabilities ``pvals``; the outcomes are the last axis."""
        k = len(pvals)
        return self._wrap("multinomial", n, size=size, chunks=chunks, extra_chunks=((k,),), pvals=list(pvals))


for _method, _params in _DISTRIBUTIONS.items():
    for _cls, _owner in ((RandomState, "RandomState"), (Generator, "Generator")):
        if _method not in _cls.__dict__:
            setattr(_cls, _method, _distribution_method(_method, _params, _owner))
del _method, _params, _cls, _owner


def default_rng(seed: Any = None) -> Generator:
    """A :class:`Generator` seeded with ``seed``; mirrors ``numpy.random.default_rng``.

    ``seed`` may be an int, a sequence of ints, a ``SeedSequence``, a NumPy
    ``BitGenerator`` or ``Generator`` (whose bit generator is used), or a
    shoal ``Generator`` (returned as it is).

    >>> import shoal.array as sa
    >>> rng = sa.random.default_rng(42)
    >>> x = rng.standard_normal((1000, 1000), chunks=250)
    >>> x.numblocks
    (4, 4)
    >>> bool(abs(float(x.std().compute()) - 1) < 0.01)
    True
    """
    if isinstance(seed, Generator):
        return seed
    if isinstance(seed, np.random.Generator):
        seed = seed.bit_generator
    return Generator(seed)


# -- the module-level interface: one global RandomState ---------------------------------

_GLOBAL: list[RandomState] = []


def _global_state() -> RandomState:
    if not _GLOBAL:
        _GLOBAL.append(RandomState())
    return _GLOBAL[0]


def seed(seed: Any = None) -> None:
    """Reseed the global state behind the module-level functions (``random``, ``normal``, ...).

    >>> import shoal.array as sa
    >>> sa.random.seed(7); a = sa.random.random(3).compute()
    >>> sa.random.seed(7); b = sa.random.random(3).compute()
    >>> bool((a == b).all())
    True
    """
    _GLOBAL[:] = [RandomState(seed)]


def _module_function(method: str) -> Callable[..., Any]:
    bound = getattr(RandomState, method)

    def function(*args: Any, **kwargs: Any) -> Any:
        return getattr(_global_state(), method)(*args, **kwargs)

    function.__name__ = function.__qualname__ = method
    function.__doc__ = (bound.__doc__ or "").split("\n")[0] + "\n\nDraws from the global state (see :func:`seed`).\n"
    try:
        params = list(inspect.signature(bound).parameters.values())[1:]
        function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    except (TypeError, ValueError):  # pragma: no cover - every method has a signature
        pass
    return function


_MODULE_FUNCTIONS = sorted({*_DISTRIBUTIONS, "random_sample", "random", "randint", "random_integers", "choice",
                            "permutation", "multinomial"})
for _name in _MODULE_FUNCTIONS:
    globals()[_name] = _module_function(_name)
del _name
__all__ = sorted({*__all__, *_MODULE_FUNCTIONS})

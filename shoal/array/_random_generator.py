"""``Generator``: NumPy's modern random interface, built by :func:`default_rng`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._random_sampler import Sampler
from shoal.array._random_table import install_distributions

__all__ = ["Generator", "default_rng"]


class Generator(Sampler):
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

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None, axis: int = 0,
               shuffle: bool = True, chunks: Any = "auto") -> Any:
        """Samples from ``a``, or slices of it along ``axis``; mirrors ``numpy.random.Generator.choice``.

        Parameters
        ----------
        a : int or array_like
            Sample ``arange(a)`` for an int, else positions along ``axis`` of
            ``a`` (any number of dimensions, NumPy or shoal).
        size : int or tuple of ints, optional
            Shape of the sample; the output's shape is ``a.shape[:axis] +
            size + a.shape[axis + 1:]``, as NumPy's.
        replace : bool
            Whether a position can be drawn more than once. Without
            replacement the positions are drawn in one task (there are never
            more than ``a.shape[axis]``) and then cut into blocks.
        p : array_like, optional
            Probability of each position along ``axis``.
        axis : int
            The axis of ``a`` to sample along.
        shuffle : bool
            Without replacement, whether the sample is shuffled (NumPy's option).
        chunks : chunks
            Blocks of the sampled dimensions (``size``); the other dimensions
            keep ``a``'s chunks, and ``axis`` of ``a`` is brought into one block.

        Examples
        --------
        >>> default_rng(2).choice(4, size=4, replace=False, chunks=2).compute().tolist() in [
        ...     list(p) for p in __import__("itertools").permutations(range(4))]
        True
        >>> import numpy as np
        >>> columns = default_rng(0).choice(np.arange(12).reshape(3, 4), size=2, axis=1, replace=False)
        >>> columns.shape
        (3, 2)
        """
        ndim = a.ndim if isinstance(a, ArrayBase) else np.ndim(a)
        if isinstance(a, int | np.integer) or (ndim == 1 and axis in (0, -1)):
            if axis not in (0, -1):
                raise np.exceptions.AxisError(f"choice: axis {axis!r} is out of bounds for a population of size "
                                              f"{a!r} (one dimension); pass axis=0.")
            return self._choice(a, size, replace, p, chunks, shuffle=shuffle)
        return self._choice_along(a, size, replace, p, axis, shuffle, chunks)

    def permutation(self, x: Any) -> Any:
        """A shuffled ``arange(x)``, or the rows of ``x`` in random order; mirrors ``Generator.permutation``."""
        return self._permutation(x)

    def multinomial(self, n: int, pvals: Sequence[float], size: Any = None, chunks: Any = "auto") -> Any:
        """Counts of ``n`` trials over outcomes with probabilities ``pvals``; the outcomes are the last axis."""
        k = len(pvals)
        return self._wrap("multinomial", n, size=size, chunks=chunks, extra_chunks=((k,),), pvals=list(pvals))



install_distributions(Generator, "Generator")


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


"""``RandomState``: NumPy's legacy random interface, and the global state behind the module functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase
from shoal.array._random_sampler import Sampler
from shoal.array._random_table import install_distributions

__all__ = ["RandomState", "module_function", "seed"]


class RandomState(Sampler):
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


install_distributions(RandomState, "RandomState")


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


def module_function(method: str) -> Callable[..., Any]:
    """``shoal.array.random.<method>``: ``RandomState.<method>`` called on the global state, with its signature."""
    bound = getattr(RandomState, method)

    def function(*args: Any, **kwargs: Any) -> Any:
        return getattr(_global_state(), method)(*args, **kwargs)

    function.__name__ = function.__qualname__ = method
    function.__module__ = "shoal.array.random"
    function.__doc__ = (bound.__doc__ or "").split("\n")[0] + "\n\nDraws from the global state (see :func:`seed`).\n"
    try:
        params = list(inspect.signature(bound).parameters.values())[1:]
        function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    except (TypeError, ValueError):  # pragma: no cover - every method has a signature
        pass
    return function


"""Random rows: ``sample`` and ``random_split``, partition by partition, reproducible with ``random_state``.

Model
    When the collection is built, ``random_state`` is turned into one integer
    seed per partition (drawn from it, so a given state always gives the same
    seeds). Partition ``i`` is then sampled or split by
    ``numpy.random.RandomState(seeds[i])`` alone, which makes results
    independent of scheduling and lets the plan keep, move or re-run any
    partition: selecting ``partitions[i]`` of a sample keeps seed ``i``.

    As in Dask, ``sample`` takes a fraction of each partition (``frac``), not
    a number of rows, and ``random_split`` gives every row to exactly one
    piece, choosing the piece at random with the given probabilities.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Blockwise, Expr, Partitions
from shoal.graph.task import Key, Task

__all__ = ["PartitionSeeded", "SamplingMethods", "partition_seeds"]


def partition_seeds(random_state: Any, n: int) -> tuple[int, ...]:
    """``n`` seeds drawn from ``random_state`` (``None``, an int, a ``RandomState`` or a ``Generator``)."""
    if isinstance(random_state, np.random.Generator):
        return tuple(int(s) for s in random_state.integers(0, 2**32, size=n))
    if isinstance(random_state, np.random.RandomState):
        state = random_state
    elif random_state is None or isinstance(random_state, numbers.Integral):
        state = np.random.RandomState(None if random_state is None else int(random_state))
    else:
        raise TypeError(f"random_state must be None, an int, a numpy RandomState or a numpy Generator, got "
                        f"{type(random_state).__name__}: {random_state!r}")
    return tuple(int(s) for s in state.randint(0, 2**32, size=n, dtype=np.int64))


class PartitionSeeded(Blockwise):
    """``func(partition_i, seeds[i], **kwargs)``: a partition-wise step with its own seed per partition.

    Which rows are kept depends only on the number of rows and the seed, so a
    column projection can pass through (``_needed_columns``).
    """

    _parameters = ("frame", "func", "seeds", "kwargs", "label", "keeps_index")
    _defaults = {"keeps_index": True}

    @property
    def _label(self) -> str:  # type: ignore[override]
        return self.label  # type: ignore[no-any-return]

    @property
    def _keeps_index(self) -> bool:  # type: ignore[override]
        return bool(self.keeps_index)

    def _args(self) -> list[Any]:
        return [self.frame]

    @functools.cached_property
    def _meta(self) -> Any:
        return self.func(self.frame._meta, 0, **self.kwargs)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        return Task(key, self.func, ctx.input(self.frame, i), self.seeds[i], **self.kwargs)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        # Keep each partition's own seed, so that a selected partition holds the same rows as before.
        seeds = tuple(self.seeds[i] for i in indices)
        return PartitionSeeded(Partitions(self.frame, indices), self.func, seeds, self.kwargs, self.label,
                               self.keeps_index)

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]


def _sample_partition(part: Any, seed: int, frac: float, replace: bool) -> Any:
    return part.sample(frac=frac, replace=replace, random_state=np.random.RandomState(seed))


def _split_partition(part: Any, seed: int, probabilities: tuple[float, ...], piece: int, shuffle: bool) -> Any:
    state = np.random.RandomState(seed)
    if shuffle:
        part = part.sample(frac=1.0, random_state=state)
    labels = state.choice(len(probabilities), size=len(part), p=probabilities)
    return part.iloc[np.flatnonzero(labels == piece)]


def _check_fraction(frac: Any, replace: bool) -> float:
    if isinstance(frac, bool) or not isinstance(frac, numbers.Real):
        raise TypeError(f"sample: frac must be a number (the fraction of rows to keep), got {frac!r}")
    if frac < 0:
        raise ValueError(f"sample: frac must be non-negative, got {frac}")
    if frac > 1 and not replace:
        raise ValueError(f"sample: frac={frac} is more than 1, which needs replace=True (rows drawn with "
                         f"replacement), as in pandas.")
    return float(frac)


def _check_split_fractions(frac: Any) -> tuple[float, ...]:
    if not isinstance(frac, Sequence | np.ndarray) or isinstance(frac, str) or len(frac) == 0:
        raise TypeError(f"random_split: frac must be a list of fractions, one per piece, e.g. [0.8, 0.2]; got "
                        f"{frac!r}")
    values = np.asarray(frac, dtype="f8")
    if (values < 0).any() or not np.isfinite(values).all():
        raise ValueError(f"random_split: fractions must be non-negative numbers, got {list(frac)}")
    if not np.isclose(values.sum(), 1.0):
        raise ValueError(f"random_split: frac should sum to 1, but {list(frac)} sums to {values.sum():g}. "
                         f"Give one fraction per piece, e.g. [0.8, 0.2].")
    return tuple(float(v) for v in values / values.sum())


class SamplingMethods:
    """``sample`` and ``random_split`` of DataFrame and Series."""

    def sample(self, n: Any = None, frac: float | None = None, replace: bool = False, random_state: Any = None
               ) -> Any:
        """A random fraction ``frac`` of the rows of every partition; mirrors Dask's ``sample``.

        Parameters
        ----------
        n : None
            Not supported, as in Dask: the number of rows per partition is unknown. A value between 0 and 1 is
            taken as ``frac`` with a warning; anything else raises ``ValueError``.
        frac : float
            The fraction of rows kept from each partition (more than 1 needs ``replace=True``).
        replace : bool
            Draw with replacement.
        random_state : int, numpy RandomState or Generator, optional
            Seeds the choice; the same state gives the same rows.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": range(100)}), npartitions=4)
        >>> a = df.sample(frac=0.1, random_state=1).compute()
        >>> len(a), a.equals(df.sample(frac=0.1, random_state=1).compute())
        (8, True)
        """
        if n is not None:
            message = ("sample does not support the number of sampled items parameter, 'n'. Please use the "
                       "'frac' parameter instead (the fraction of rows to keep from each partition).")
            if isinstance(n, numbers.Real) and not isinstance(n, bool) and 0 <= n <= 1:
                warnings.warn(message, UserWarning, stacklevel=2)
                frac = n
            else:
                raise ValueError(message)
        if frac is None:
            raise ValueError("sample: frac must not be None; give the fraction of rows to keep, e.g. frac=0.1")
        fraction = _check_fraction(frac, replace)
        seeds = partition_seeds(random_state, self.npartitions)  # type: ignore[attr-defined]
        kwargs = {"frac": fraction, "replace": bool(replace)}
        return new_collection(PartitionSeeded(self._expr, _sample_partition, seeds, kwargs, "sample"))  # type: ignore[attr-defined]

    def random_split(self, frac: Sequence[float], random_state: Any = None, shuffle: bool = False) -> list[Any]:
        """Split the rows at random into ``len(frac)`` collections; mirrors Dask's ``random_split``.

        Every row goes to exactly one piece, piece ``j`` with probability ``frac[j]`` (the fractions must sum
        to 1). The pieces keep the partitions (and divisions) of this collection. With ``shuffle=True`` the
        rows of each partition are also put in random order, so the divisions become unknown. Each piece
        recomputes the split of its partition from the same seed: persist the input first if it is costly.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": range(20)}), npartitions=2)
        >>> train, test = df.random_split([0.75, 0.25], random_state=0)
        >>> sorted(train.x.compute().tolist() + test.x.compute().tolist()) == list(range(20))
        True
        """
        probabilities = _check_split_fractions(frac)
        seeds = partition_seeds(random_state, self.npartitions)  # type: ignore[attr-defined]
        func: Callable[..., Any] = _split_partition
        pieces = []
        for piece in range(len(probabilities)):
            kwargs = {"probabilities": probabilities, "piece": piece, "shuffle": bool(shuffle)}
            expr = PartitionSeeded(self._expr, func, seeds, kwargs, "random-split", not shuffle)  # type: ignore[attr-defined]
            pieces.append(new_collection(expr))
        return pieces


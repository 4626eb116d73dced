"""Random samples of a bag: ``sample`` (without replacement) and ``choices`` (with replacement).

Both are exact and need one pass. Each partition draws up to ``k`` elements
(a uniformly random ordered sample, or ``k`` independent choices) and counts
its elements; merging two results picks, draw by draw, which side the next
element comes from with probability proportional to the elements that side
has left (without replacement) or has in total (with replacement), then takes
that side's next draw. The merged draws are again a uniform sample of the
union, so merges can form a tree.

Seeds are drawn from Python's ``random`` module when the graph is built: the
same bag object always gives the same sample, and ``random.seed(...)`` before
building makes it reproducible.
"""

from __future__ import annotations

import random as _random
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from shoal.bag._aggregate import tree_reduce
from shoal.bag._stages import VALUE, Stage, as_list

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["choices", "sample"]

#: (drawn elements in random order, population size, seed for the next merge)
_Draw = tuple[list[Any], int, int]


class _PartitionDraw(Stage):
    __slots__ = ("k", "replace")
    kind = VALUE

    def __init__(self, k: int, replace: bool) -> None:
        self.k = k
        self.replace = replace

    def __call__(self, part: Iterable[Any], seed: int) -> _Draw:
        items = as_list(part)
        rng = _random.Random(seed)
        if self.replace:
            drawn = rng.choices(items, k=self.k) if items else []
        else:
            drawn = rng.sample(items, min(self.k, len(items)))
        return drawn, len(items), rng.getrandbits(64)


def _merge(k: int, replace: bool, draws: list[_Draw]) -> _Draw:
    rng = _random.Random(draws[0][2] ^ (len(draws) << 32))
    sizes = [n for _, n, _ in draws]
    remaining = list(sizes)
    taken = [0] * len(draws)
    total = sum(sizes)
    out: list[Any] = []
    for _ in range(min(k, total) if not replace else (k if total else 0)):
        weights = sizes if replace else remaining
        i = rng.choices(range(len(draws)), weights=weights)[0]
        out.append(draws[i][0][taken[i]])
        taken[i] += 1
        if not replace:
            remaining[i] -= 1
    return out, total, rng.getrandbits(64)


def _final(k: int, replace: bool, draws: list[_Draw]) -> list[Any]:
    drawn, total, _ = _merge(k, replace, draws)
    if not replace and k > total:
        raise ValueError(f"sample of {k} elements is larger than the bag, which has {total}.")
    if replace and k and not total:
        raise IndexError("choices from an empty bag: it has no elements to choose from.")
    return drawn


def _draw(population: Bag, k: int, replace: bool, split_every: int | None, opname: str) -> Bag:
    if k < 0:
        raise ValueError(f"{opname} needs k >= 0, got {k!r}.")
    seeds = [(_random.getrandbits(64),) for _ in range(population.npartitions)]
    return tree_reduce(population, opname, _PartitionDraw(k, replace), partial(_merge, k, replace),
                       partial(_final, k, replace), split_every=split_every, out_type=type(population),
                       token_parts=(k, replace), partition_inputs=seeds)


def sample(population: Bag, k: int, split_every: int | None = None) -> Bag:
    """``k`` distinct elements chosen at random: a bag with one partition, in random order.

    Parameters
    ----------
    population : Bag
    k : int
        How many elements; at most the number of elements in the bag.
    split_every : int, optional
        How many partitions' draws to merge at once (default 8).

    Examples
    --------
    >>> import shoal.bag as db
    >>> from shoal.bag import random
    >>> b = db.from_sequence(range(10), npartitions=3)
    >>> picked = random.sample(b, 4).compute()
    >>> len(picked), len(set(picked)), set(picked) <= set(range(10))
    (4, 4, True)
    """
    return _draw(population, k, False, split_every, "sample")


def choices(population: Bag, k: int = 1, split_every: int | None = None) -> Bag:
    """``k`` elements chosen at random with replacement: a bag with one partition.

    >>> import shoal.bag as db
    >>> from shoal.bag import random
    >>> picked = random.choices(db.from_sequence(range(3)), k=5).compute()
    >>> len(picked), set(picked) <= {0, 1, 2}
    (5, True)
    """
    return _draw(population, k, True, split_every, "choices")

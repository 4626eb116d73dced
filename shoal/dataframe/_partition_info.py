"""``map_partitions(func)`` where ``func`` takes ``partition_info=``: Dask's ``{"number": i, "division": d}``.

The information travels as one more partitioned operand, :class:`PartitionInfo`, whose partition ``i`` is the
dict for partition ``i`` of the frame. Being an operand, not a task detail, it survives the optimizer:
when partition pruning keeps only some partitions (``head``, ``partitions[...]``), it keeps the matching
dicts, so every partition still learns its number in the *original* collection, as in Dask.
:class:`PassPartitionInfo` hands that operand to ``func`` as the ``partition_info`` keyword.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.dataframe._expr import Expr
from shoal.graph.task import DataNode, GraphNode, Key
from shoal.graph.tokenize import tokenize

__all__ = ["PartitionInfo", "PassPartitionInfo", "takes_partition_info"]


def takes_partition_info(func: Callable[..., Any]) -> bool:
    """Whether ``func`` has a ``partition_info`` parameter (Dask's test for passing it)."""
    try:
        return "partition_info" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class PartitionInfo(Expr):
    """Partition ``j`` is ``{"number": numbers[j], "division": divisions_[j]}``; aligned with the frame it describes."""

    _parameters = ("divisions_", "numbers")
    _label = "partition-info"

    @functools.cached_property
    def _meta(self) -> Any:
        # Frame-like, so that the plan treats it as partitioned (aligned with the frame), not as a scalar.
        return pd.Series([], dtype=object, name="partition_info")

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        return {(self._name, j): DataNode((self._name, j), {"number": n, "division": self.divisions_[j]})
                for j, n in enumerate(self.numbers)}

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        div = self.divisions_
        return PartitionInfo((*(div[i] for i in indices), div[indices[-1] + 1]),
                             tuple(self.numbers[i] for i in indices))


def partition_info_for(divisions: tuple[Any, ...]) -> PartitionInfo:
    return PartitionInfo(tuple(divisions), tuple(range(len(divisions) - 1)))


class PassPartitionInfo:
    """``func(part, *args, partition_info=info, **kwargs)`` where ``info`` is the last positional argument.

    While the plan infers metadata the operand is an empty stand-in, not a dict: ``func`` then sees
    partition 0's information, so functions that index ``partition_info`` infer their output too.
    """

    def __init__(self, func: Callable[..., Any], first_division: Any) -> None:
        self.func, self.first_division = func, first_division
        self.__name__ = getattr(func, "__name__", "map-partitions")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        *rest, info = args
        if not isinstance(info, dict):
            info = {"number": 0, "division": self.first_division}
        return self.func(*rest, partition_info=info, **kwargs)

    def __dask_tokenize__(self) -> Any:
        return ("pass-partition-info", tokenize(self.func), tokenize(self.first_division))

"""The expression shared by readers that cut text files into byte blocks and parse each into a partition."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from shoal.dataframe._expr import Blockwise
from shoal.graph.task import Key, Task

__all__ = ["ReadTextBlocks"]


class ReadTextBlocks(Blockwise):
    """Blocks of text files, each parsed by the subclass's ``parse_block`` into one partition.

    ``parse_block(block, kwargs, meta, path_column, paths)`` is a module-level function, so that tasks pickle
    by reference; divisions are unknown.
    """

    _parameters = ("blocks", "kwargs", "meta", "path_column", "paths")
    parse_block: Callable[..., Any]

    @functools.cached_property
    def _meta(self) -> Any:
        return self.meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None,) * (len(self.blocks) + 1)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        parse = type(self).parse_block
        return Task(key, parse, self.blocks[i], self.kwargs, self.meta, self.path_column, list(self.paths))

    def _select_partitions(self, indices: list[int]) -> Any:
        return type(self)([self.blocks[i] for i in indices], self.kwargs, self.meta, self.path_column, self.paths)

"""Shuffles, sorting, set_index, repartition and joins of shoal DataFrames and Series (being written; issue 5)."""

from __future__ import annotations

__all__: list[str] = []


class OrderingMethods:
    """Methods of DataFrame and Series from this family."""

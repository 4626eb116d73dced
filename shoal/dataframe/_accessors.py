"""The .dt, .str and .cat accessors and other row-wise extras of shoal DataFrames and Series (being written; issue 5)."""

from __future__ import annotations

__all__: list[str] = []


class AccessorMethods:
    """Methods of DataFrame and Series from this family."""

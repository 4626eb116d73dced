"""Rolling, expanding and resample windows, overlaps, cumulative and shifted operations of shoal DataFrames and Series (being written; issue 5)."""

from __future__ import annotations

__all__: list[str] = []


class WindowMethods:
    """Methods of DataFrame and Series from this family."""

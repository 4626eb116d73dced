"""Conversions to arrays, JSON and other formats of shoal DataFrames and Series (being written; issue 5)."""

from __future__ import annotations

__all__: list[str] = []


class ConvertMethods:
    """Methods of DataFrame and Series from this family."""

"""Placeholder for the linalg family of shoal.array; being written (issue 3)."""

from __future__ import annotations

__all__: list[str] = []


class LinalgMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

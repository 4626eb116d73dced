"""Placeholder for the io family of shoal.array; being written (issue 3)."""

from __future__ import annotations

__all__: list[str] = []


class IOMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

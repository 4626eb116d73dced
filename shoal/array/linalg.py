"""Placeholder for shoal.array.linalg; being written (issue 3)."""

from __future__ import annotations

__all__: list[str] = []

"""Hypothesis strategies shared by the shoal.array tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


@st.composite
def chunking(draw: Any, length: int, max_blocks: int = 5) -> tuple[int, ...]:
    """A random chunking of ``length`` into at most ``max_blocks`` non-empty blocks."""
    if length <= 1:
        return (length,)
    cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=min(max_blocks - 1, length - 1))))
    edges = [0, *cuts, length]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


@st.composite
def chunks_for(draw: Any, shape: tuple[int, ...], max_cuts: int = 4) -> tuple[tuple[int, ...], ...]:
    """Random chunks for ``shape``: each axis cut at up to ``max_cuts`` distinct places."""
    return tuple(draw(chunking(length, max_cuts + 1)) for length in shape)

"""Hypothesis strategies shared by the shoal.ml tests."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def row_chunks(draw: st.DrawFn, n: int, max_cuts: int = 8) -> tuple[int, ...]:
    """A random cut of ``n`` rows into at most ``max_cuts + 1`` non-empty blocks."""
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=min(n - 1, max_cuts)))) if n > 1 else []
    edges = [0, *cuts, n]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))

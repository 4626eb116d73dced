"""Hypothesis strategies shared by the shoal.array tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


@st.composite
def chunks_for(draw: Any, shape: tuple[int, ...], max_cuts: int = 4) -> tuple[tuple[int, ...], ...]:
    """Random chunks for ``shape``: each axis cut at up to ``max_cuts`` distinct places."""
    out = []
    for length in shape:
        if length <= 1:
            out.append((length,))
            continue
        cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=min(max_cuts, length - 1))))
        edges = [0, *cuts, length]
        out.append(tuple(b - a for a, b in zip(edges, edges[1:], strict=False)))
    return tuple(out)

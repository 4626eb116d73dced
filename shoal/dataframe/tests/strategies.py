"""Hypothesis strategies: random pandas frames with a partition count."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st


@st.composite
def frames(draw: Any, min_rows: int = 0, max_rows: int = 40, with_nan: bool = True) -> tuple[pd.DataFrame, int]:
    """A frame with int, float (maybe NaN), bool and string columns, and a partition count."""
    n = draw(st.integers(min_rows, max_rows))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    if with_nan and n:
        x[rng.random(n) < 0.2] = np.nan
    pdf = pd.DataFrame({
        "i": rng.integers(-50, 50, n),
        "x": x,
        "k": rng.integers(0, 4, n),
        "b": rng.random(n) < 0.5,
        "s": rng.choice(["a", "bb", "ccc"], n),
    })
    if draw(st.booleans()):
        pdf.index = pd.Index(np.sort(rng.integers(0, 2 * n + 1, n)), name="idx")
    nparts = draw(st.integers(1, 6))
    return pdf, nparts

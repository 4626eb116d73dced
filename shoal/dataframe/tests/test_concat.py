"""compute()'s join of partitions: the threaded column copy must give exactly what pd.concat gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe import _concat
from shoal.dataframe._concat import concat_frames


def _part(n: int, seed: int, start: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "i": rng.integers(-5, 5, n),
        "f": rng.normal(size=n),
        "b": rng.random(n) < 0.5,
        "u8": rng.integers(0, 200, n).astype("uint8"),
        "t": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "tz": pd.date_range("2026-01-01", periods=n, freq="min", tz="Europe/Paris"),
        "s": pd.array(rng.choice(["a", "bb", None], n), dtype="str"),
        "c": pd.Categorical(rng.choice(["x", "y"], n)),
        "n": pd.array(rng.integers(0, 3, n), dtype="Int64"),
        "o": pd.Series(rng.choice(["p", "q"], n), dtype=object),
    }, index=pd.RangeIndex(start, start + n, name="row"))


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(_concat, "PARALLEL_ROWS", 1)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=2, max_size=6), seed=st.integers(0, 2**16),
       restart=st.booleans())
def test_matches_pd_concat(sizes, seed, restart):
    _concat.PARALLEL_ROWS, saved = 1, _concat.PARALLEL_ROWS
    try:
        starts = [0] * len(sizes) if restart else list(np.cumsum([0, *sizes[:-1]]))
        parts = [_part(n, seed + k, int(s)) for k, (n, s) in enumerate(zip(sizes, starts, strict=True))]
        pd.testing.assert_frame_equal(concat_frames(parts), pd.concat(parts))
    finally:
        _concat.PARALLEL_ROWS = saved


def test_frames_that_disagree_go_to_pandas(low_threshold):
    a, b = _part(5, 1, 0), _part(5, 2, 5)
    widened = b.astype({"i": "float64"})
    pd.testing.assert_frame_equal(concat_frames([a, widened]), pd.concat([a, widened]))
    swapped = b[list(reversed(b.columns))]
    pd.testing.assert_frame_equal(concat_frames([a, swapped]), pd.concat([a, swapped]))
    dup = pd.DataFrame([[1, 2.0]], columns=["k", "k"])
    pd.testing.assert_frame_equal(concat_frames([dup, dup]), pd.concat([dup, dup]))
    multi = pd.DataFrame([[1, 2.0]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]))
    pd.testing.assert_frame_equal(concat_frames([multi, multi]), pd.concat([multi, multi]))


def test_result_is_writable_and_independent(low_threshold):
    parts = [_part(10, 1, 0), _part(10, 2, 10)]
    out = concat_frames(parts)
    out.loc[0, "f"] = 99.0
    assert parts[0].loc[0, "f"] != 99.0


def test_compute_uses_it(low_threshold):
    pdf = pd.concat([_part(30, 3, 0), _part(30, 4, 30)])
    got = sd.from_pandas(pdf, npartitions=4).compute()
    pd.testing.assert_frame_equal(got, pdf)

"""Merges whose keys name index levels as well as columns (``on=["idx", "x"]``), as pandas allows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd


def _frames(seed: int, n_left: int, n_right: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    a = pd.DataFrame({"x": rng.integers(0, 3, n_left), "v": rng.normal(size=n_left)},
                     index=pd.Index(rng.integers(0, 8, n_left), name="idx"))
    b = pd.DataFrame({"x": rng.integers(0, 3, n_right), "w": rng.normal(size=n_right)},
                     index=pd.Index(rng.integers(0, 8, n_right), name="idx"))
    return a, b


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    flat = frame.reset_index()
    return flat.sort_values(list(flat.columns)).reset_index(drop=True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), nl=st.integers(1, 4), nr=st.integers(1, 4),
       how=st.sampled_from(["inner", "left", "right", "outer"]),
       on=st.sampled_from([["idx", "x"], ["x", "idx"], "idx"]))
def test_merge_on_index_level_and_column_matches_pandas(seed: int, nl: int, nr: int, how: str, on: object) -> None:
    a, b = _frames(seed, 30, 20)
    expected = pd.merge(a, b, on=on, how=how)
    result = sd.merge(sd.from_pandas(a, npartitions=nl), sd.from_pandas(b, npartitions=nr), on=on, how=how)
    computed = result.compute()
    assert computed.index.name == expected.index.name
    pd.testing.assert_frame_equal(_canonical(computed), _canonical(expected), check_dtype=False)


@pytest.mark.parametrize("npartitions", [1, 3])
def test_left_on_level_right_on_column(npartitions: int) -> None:
    a, b = _frames(7, 40, 25)
    b = b.reset_index().rename(columns={"idx": "key"})
    expected = pd.merge(a, b, left_on=["idx", "x"], right_on=["key", "x"])
    result = sd.merge(sd.from_pandas(a, npartitions=npartitions), sd.from_pandas(b, npartitions=2),
                      left_on=["idx", "x"], right_on=["key", "x"])
    # pandas numbers the rows 0..n-1; each shoal partition numbers its own, as in Dask (documented in merge).
    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values(list(frame.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(rows(result.compute()), rows(expected), check_dtype=False)

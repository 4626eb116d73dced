"""drop_duplicates(split_out=n): duplicates meet in one partition; keep= picks by the original order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd


@given(seed=st.integers(0, 2**16), rows=st.integers(1, 60), nparts=st.integers(1, 5), split_out=st.integers(2, 4),
       keep=st.sampled_from(["first", "last", False]), by=st.sampled_from([None, "k", ["k", "j"]]))
@settings(max_examples=40, deadline=None)
def test_split_out_matches_pandas(seed, rows, nparts, split_out, keep, by):
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({"k": rng.integers(0, 5, rows), "j": rng.integers(0, 3, rows)})
    if by is not None:
        pdf["v"] = np.arange(rows)  # makes whole rows unique, so subset decides
    df = sd.from_pandas(pdf, npartitions=min(nparts, rows))
    out = df.drop_duplicates(subset=by, keep=keep, split_out=split_out)
    assert out.npartitions == split_out
    # Which duplicate survives shows in its index label: compare in index order.
    pd.testing.assert_frame_equal(out.compute().sort_index(), pdf.drop_duplicates(subset=by, keep=keep).sort_index())


def test_series_split_out_keeps_the_name():
    s = pd.Series([3, 1, 3, 2, 1, 5], name="x")
    got = sd.from_pandas(s, npartitions=3).drop_duplicates(split_out=2).compute()
    pd.testing.assert_series_equal(got.sort_index(), s.drop_duplicates().sort_index())

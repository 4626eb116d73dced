"""DataFrame/Series.map_overlap with other collections among the arguments, as the module-level function."""

from __future__ import annotations

import pandas as pd

import shoal.dataframe as sd


def test_map_overlap_method_takes_other_collections_like_the_function():
    a = pd.Series([1.0, 2, 3, 4, 5, 6])
    b = pd.Series([10.0, 20, 30, 40, 50, 60])
    da, db = sd.from_pandas(a, npartitions=2), sd.from_pandas(b, npartitions=3)
    got = da.map_overlap(lambda x, y: x + y.shift(1), 1, 0, db).compute()
    pd.testing.assert_series_equal(got, a + b.shift(1))

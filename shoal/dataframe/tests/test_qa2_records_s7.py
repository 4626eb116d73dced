"""to_records keeps the index as pandas does; quantile takes Dask's method names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as sd


def test_to_records_includes_the_index_by_default_as_pandas():
    pdf = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.6, 0.7]}, index=[10, 20, 30])
    df = sd.from_pandas(pdf, npartitions=2)
    got = df.to_records().compute()
    expected = pdf.to_records()
    assert got.dtype.names == expected.dtype.names
    for name in expected.dtype.names:
        np.testing.assert_array_equal(got[name], expected[name])
    assert df.to_records(index=False).compute().dtype.names == pdf.to_records(index=False).dtype.names


@pytest.mark.parametrize("method", ["default", "dask", "tdigest"])
def test_quantile_accepts_dask_method_names(method):
    pdf = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) ** 2})
    df = sd.from_pandas(pdf, npartitions=3)
    pd.testing.assert_series_equal(df.x.quantile([0.1, 0.9], method=method).compute(), pdf.x.quantile([0.1, 0.9]))
    pd.testing.assert_series_equal(df.quantile(0.5, method=method).compute(), pdf.quantile(0.5))
    with pytest.raises(ValueError, match="method must be"):
        df.x.quantile(0.5, method="linear")

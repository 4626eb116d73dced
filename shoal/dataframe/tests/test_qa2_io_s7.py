"""ORC index handling as Dask's, ``from_delayed(divisions="sorted")`` refused clearly, ``nunique`` type (QA round 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shoal.dataframe as sd
from shoal.delayed import delayed


@pytest.mark.parametrize("index, written", [
    (None, []),  # row numbers: not written (Dask, through pyarrow, leaves them out too)
    (pd.Index([5, 6, 7, 8, 9, 10], name="i"), ["i"]),
    (pd.Index([5, 6, 7, 8, 9, 10]), ["__index_level_0__"]),
])
def test_orc_writes_the_index_as_dask_does(tmp_path, index, written):
    pdf = pd.DataFrame({"a": range(6), "b": list("xyzxyz")}, index=index)
    sd.from_pandas(pdf, npartitions=2).to_orc(str(tmp_path / "o"))
    back = sd.read_orc(str(tmp_path / "o"))
    assert list(back.columns) == ["a", "b", *written]
    expected = pdf.reset_index(drop=True)
    for name in written:
        expected[name] = pdf.index.to_numpy()
    pd.testing.assert_frame_equal(back.compute().reset_index(drop=True), expected.reset_index(drop=True))
    # The index column may be listed among columns= too; it becomes the index, as in Dask.
    got = sd.read_orc(str(tmp_path / "o"), columns=["a", "b"], index="a").compute()
    pd.testing.assert_frame_equal(got, pdf.set_index("a")[["b"]].set_axis(got.index))
    assert got.index.name == "a" and got.index.tolist() == list(range(6))


def test_from_delayed_sorted_divisions_is_refused_clearly():
    parts = [delayed(pd.DataFrame)({"a": [1, 2]}), delayed(pd.DataFrame)({"a": [3]})]
    with pytest.raises(NotImplementedError, match="divisions='sorted' is not supported"):
        sd.from_delayed(parts, divisions="sorted")


def test_series_nunique_computes_to_a_numpy_integer():
    s = pd.Series([1, 2, 2, np.nan, 3])
    got = sd.from_pandas(s, npartitions=2).nunique().compute()
    assert isinstance(got, np.int64) and got == s.nunique()

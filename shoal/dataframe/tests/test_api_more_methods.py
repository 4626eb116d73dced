"""DataFrame.quantile, Series.is_monotonic_*, divide, add_prefix/add_suffix and Series.to_csv against pandas."""
from __future__ import annotations

import glob
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@pytest.fixture
def pdf() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.random(60), "b": np.where(rng.random(60) < 0.2, np.nan, rng.random(60)),
                         "i": rng.integers(0, 9, 60), "s": pd.array(["x"] * 60, dtype="str")})


@pytest.mark.parametrize("q", [0.5, 0.0, 1.0, [0.1, 0.5, 0.9]])
@pytest.mark.parametrize("interpolation", ["linear", "nearest", "lower"])
def test_frame_quantile(pdf: pd.DataFrame, q: float | list[float], interpolation: str) -> None:
    numeric = pdf[["a", "b", "i"]]
    df = sd.from_pandas(numeric, npartitions=4)
    assert_eq(df.quantile(q, interpolation=interpolation), numeric.quantile(q, interpolation=interpolation))
    assert_eq(sd.from_pandas(pdf, npartitions=3).quantile(q, numeric_only=True),
              pdf.quantile(q, numeric_only=True))


def test_frame_quantile_by_rows(pdf: pd.DataFrame) -> None:
    numeric = pdf[["a", "b", "i"]]
    assert_eq(sd.from_pandas(numeric, npartitions=4).quantile(0.5, axis=1), numeric.quantile(0.5, axis=1))
    with pytest.raises(ValueError, match="axis"):
        sd.from_pandas(numeric, npartitions=2).quantile(axis=2)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.integers(-3, 3), st.just(None)), max_size=12), npartitions=st.integers(1, 5))
def test_is_monotonic_matches_pandas(values: list, npartitions: int) -> None:
    s = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    ds = sd.from_pandas(s, npartitions=npartitions, sort=False)
    assert ds.is_monotonic_increasing.compute() == s.is_monotonic_increasing
    assert ds.is_monotonic_decreasing.compute() == s.is_monotonic_decreasing


def test_divide_and_prefixes(pdf: pd.DataFrame) -> None:
    df = sd.from_pandas(pdf, npartitions=3)
    assert_eq(df.a.divide(df.i), pdf.a.divide(pdf.i))
    assert_eq(df.a.divide(2, fill_value=1), pdf.a.divide(2, fill_value=1))
    assert_eq(df.add_prefix("p_"), pdf.add_prefix("p_"))
    assert_eq(df.add_suffix("_s").i_s, pdf.add_suffix("_s").i_s)


def test_series_to_csv(tmp_path, pdf: pd.DataFrame) -> None:
    s = pdf.a.rename("v")
    sd.from_pandas(s, npartitions=3).to_csv(str(tmp_path / "p-*.csv"))
    back = pd.concat([pd.read_csv(f, index_col=0) for f in sorted(glob.glob(str(tmp_path / "p-*.csv")))])
    pd.testing.assert_frame_equal(back, s.to_frame())
    sd.from_pandas(s, npartitions=3).to_csv(os.path.join(tmp_path, "one.csv"), single_file=True, index=False)
    assert (tmp_path / "one.csv").read_text() == s.to_csv(index=False)

"""The Index methods pandas' and Dask's Index share, checked against pandas over many partitionings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq


@st.composite
def float_indexes(draw: st.DrawFn) -> tuple[pd.Index, int, bool]:
    values = draw(st.lists(st.one_of(st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 3)),
                                     st.just(np.nan)), min_size=1, max_size=30))
    nparts = draw(st.integers(1, min(6, len(values))))
    return pd.Index(values, name="k"), nparts, draw(st.booleans())


def lazy_index(index: pd.Index, nparts: int, sort: bool) -> sd.Index:
    frame = pd.DataFrame({"x": np.arange(len(index))}, index=index)
    if sort:
        frame = frame[frame.index.notna()].sort_index()
    return sd.from_pandas(frame, npartitions=nparts, sort=False).index


@given(case=float_indexes())
@settings(max_examples=60, deadline=None)
def test_elementwise_methods_match_pandas(case: tuple[pd.Index, int, bool]) -> None:
    index, nparts, sort = case
    idx = lazy_index(index, nparts, sort)
    expected = idx.compute()  # the index as partitioned (sorted when asked)
    assert_eq(idx.dropna(), expected.dropna())
    assert_eq(idx.round(1), expected.round(1))
    first = expected[0] if len(expected) else 0.0
    assert_eq(idx.replace(first, -1.0), expected.replace(first, -1.0))
    assert_eq(idx.where(idx.to_series() > 0), expected.where(expected > 0))
    assert_eq(idx.where(idx.to_series() > 0, -5.0), expected.where(expected > 0, -5.0))
    assert_eq(idx[idx.to_series() > 0], expected[expected > 0])
    assert_eq(idx.diff(), expected.diff())
    assert_eq(idx.diff(-2), expected.diff(-2))
    assert_eq(np.sqrt(abs(idx)), np.sqrt(abs(expected)))
    assert_eq(np.maximum(idx, 3.0), np.maximum(expected, 3.0))
    quotient, remainder = divmod(idx, 7)
    assert_eq(quotient, expected // 7)
    assert_eq(remainder, expected % 7)
    assert_eq(7 % idx, 7 % expected)
    assert_eq(2 ** (idx / 50), 2 ** (expected / 50))


@given(case=float_indexes())
@settings(max_examples=60, deadline=None)
def test_whole_index_answers_match_pandas(case: tuple[pd.Index, int, bool]) -> None:
    index, nparts, sort = case
    idx = lazy_index(index, nparts, sort)
    expected = idx.compute()
    assert idx.is_monotonic_increasing.compute() == expected.is_monotonic_increasing
    assert idx.is_monotonic_decreasing.compute() == expected.is_monotonic_decreasing
    assert idx.all().compute() == expected.all()
    assert idx.any().compute() == expected.any()
    np.testing.assert_array_equal(np.asarray(idx), expected.to_numpy())
    assert list(idx) == pytest.approx(list(expected), nan_ok=True)


def test_dropna_and_selection_keep_divisions() -> None:
    pdf = pd.DataFrame({"x": range(8)}, index=pd.Index([1.0, 2, 3, 4, 5, 6, 7, 8], name="k"))
    idx = sd.from_pandas(pdf, npartitions=3).index
    assert idx.dropna().divisions == idx.divisions
    assert idx[idx.to_series() > 4].divisions == idx.divisions
    assert idx.round().known_divisions is False
    assert idx.copy().compute().equals(pdf.index)


def test_datetime_and_text_indexes() -> None:
    times = pd.DatetimeIndex(["2000-01-01", None, "2000-01-03", "2000-01-02"], name="t")
    idx = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=times), npartitions=2, sort=False).index
    assert_eq(idx.dropna(), times.dropna())
    assert_eq(idx.diff(), times.diff())
    assert idx.is_monotonic_increasing.compute() == times.is_monotonic_increasing
    text = pd.Index(["a", "Bb", "c_d", "dd"], name="s")
    tidx = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=text), npartitions=2, sort=False).index
    assert_eq(tidx.str.upper(), text.str.upper())
    assert_eq(tidx.str.len(), text.str.len())
    assert_eq(tidx.str.replace("_", "-"), text.str.replace("_", "-"))


def test_refusals_name_the_lazy_alternative() -> None:
    idx = sd.from_pandas(pd.DataFrame({"x": range(4)}, index=[1.0, 2, 3, 4]), npartitions=2).index
    with pytest.raises(NotImplementedError, match=r"isin\(\[x\]\)\.any\(\)"):
        2.0 in idx  # noqa: B015
    with pytest.raises(NotImplementedError, match="positions are not known"):
        idx[1:3]
    with pytest.raises(TypeError, match=r"idx\.to_series\(\) > 3"):
        idx.where(idx > 2)
    with pytest.raises(TypeError, match="needs booleans"):
        idx.where(idx.to_series())
    with pytest.raises(ValueError, match="how must be"):
        idx.dropna(how="some")

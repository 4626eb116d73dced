"""``Series.autocorr`` and ``Series.case_when`` against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq


@given(case=frames(min_rows=0, max_rows=40), lag=st.integers(-6, 6), split_every=st.sampled_from([None, 2, False]))
@settings(max_examples=40, deadline=None)
def test_autocorr_matches_pandas_across_partition_edges(case, lag, split_every):
    pdf, nparts = case
    for column in ("x", "i"):
        d = sd.from_pandas(pdf[column], npartitions=nparts)
        assert_eq(d.autocorr(lag, split_every=split_every), pdf[column].autocorr(lag), rtol=1e-9, atol=1e-9)


def test_autocorr_default_lag_and_short_series():
    s = pd.Series([1.0, 2.0, 4.0, 3.0, 5.0, 8.0, 6.0])
    assert_eq(sd.from_pandas(s, npartitions=3).autocorr(), s.autocorr())
    one = pd.Series([1.0])
    assert np.isnan(sd.from_pandas(one, npartitions=1).autocorr().compute()) and np.isnan(one.autocorr())


def test_autocorr_rejects_a_non_integer_lag():
    d = sd.from_pandas(pd.Series([1.0, 2.0, 3.0]), npartitions=2)
    with pytest.raises(TypeError, match="lag must be an integer"):
        d.autocorr(1.5)


@given(case=frames(min_rows=1, max_rows=40), other_parts=st.integers(1, 5))
@settings(max_examples=40, deadline=None)
def test_case_when_matches_pandas(case, other_parts):
    pdf, nparts = case
    d = sd.from_pandas(pdf, npartitions=nparts)
    # A second collection split differently: it is aligned with the first before combining.
    other = sd.from_pandas(pdf, npartitions=other_parts)
    s, ps = d.x, pdf.x
    caselist = [(other.i > 10, other.i), (lambda v: v < v.mean(), -1.0), (d.b, s * 2)]
    pcaselist = [(pdf.i > 10, pdf.i), (lambda v: v < v.mean(), -1.0), (pdf.b, ps * 2)]
    assert_eq(s.case_when(caselist), ps.case_when(pcaselist))
    # Integers with an integer replacement stay integers; a string replacement makes objects, as in pandas.
    assert_eq(d.i.case_when([(d.k == 2, 0)]), pdf.i.case_when([(pdf.k == 2, 0)]))
    assert_eq(d.s.case_when([(d.k == 1, "one")]), pdf.s.case_when([(pdf.k == 1, "one")]))


def test_case_when_with_pandas_operands_lazy_scalars_and_partial_indexes():
    ps = pd.Series(np.arange(20.0), name="x")
    pq = pd.Series(-np.arange(20), name="y")
    s, q = sd.from_pandas(ps, npartitions=3), sd.from_pandas(pq, npartitions=4)
    assert_eq(s.case_when([(pq < -15, s.sum())]), ps.case_when([(pq < -15, ps.sum())]))
    assert_eq(s.case_when([(q < -15, 1)]), ps.case_when([(pq < -15, 1)]))
    # Conditions and replacements are aligned on the index: labels they lack are False / missing.
    cond, repl = ps.iloc[:7] > 1, pq.iloc[4:]
    assert_eq(s.case_when([(cond, repl)]), ps.case_when([(cond, repl)]))
    assert_eq(s.case_when([(sd.from_pandas(cond, npartitions=2), repl)]), ps.case_when([(cond, repl)]))


@pytest.mark.parametrize(("caselist", "error", "match"), [
    ("not a list", TypeError, "must be a list"),
    ([], ValueError, "at least one"),
    ([(True,)], ValueError, "length 1"),
    ([(np.ones(6, dtype=bool), 1)], ValueError, "list-like without an index"),
])
def test_case_when_bad_caselist(caselist, error, match):
    s = sd.from_pandas(pd.Series(np.arange(6)), npartitions=2)
    with pytest.raises(error, match=match):
        s.case_when(caselist)


def test_case_when_refuses_a_dataframe_condition():
    s = sd.from_pandas(pd.Series(np.arange(6)), npartitions=2)
    with pytest.raises(TypeError, match="got a DataFrame"):
        s.case_when([(s.to_frame() > 2, 1)])

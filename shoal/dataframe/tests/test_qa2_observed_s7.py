"""``groupby(categorical, observed=False)`` keeps unobserved categories, as pandas does (QA round 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd


def _assert_same(expected, got):
    # Keys as plain values, so that the comparison sorts missing keys alike on both sides.
    expected, got = _plain_sorted(expected), _plain_sorted(got)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    else:
        pd.testing.assert_series_equal(got, expected)


def _plain_sorted(out):
    out = out.copy()
    levels = [out.index.get_level_values(i).astype(object) for i in range(out.index.nlevels)]
    out.index = pd.MultiIndex.from_arrays(levels, names=out.index.names) if len(levels) > 1 else levels[0]
    return out.sort_index(na_position="last")


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 14))
    c = draw(st.lists(st.sampled_from(["u", "v", "w", None]), min_size=n, max_size=n))
    d = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    k = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    x = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))
    y = draw(st.lists(st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)), min_size=n, max_size=n))
    return pd.DataFrame({
        "c": pd.Categorical(c, categories=["zz", "u", "v", "w"]),
        "d": pd.Categorical(d, categories=["a", "b", "q"]),
        "k": np.array(k, dtype="int64"),
        "x": np.array(x, dtype="int64"),
        "y": np.array([np.nan if v is None else v for v in y], dtype="f8"),
    })


_KEYS = ["c", ["c", "k"], ["k", "c"], ["c", "d"]]
_AGGS = [
    lambda g: g.x.sum(),
    lambda g: g.size(),
    lambda g: g.agg({"x": ["sum", "min", "mean", "count", "prod", "first"], "y": ["max", "var", "std", "size"]}),
    lambda g: g[["x", "y"]].mean(),
    lambda g: g.y.count(),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pdf=_frames(), npartitions=st.integers(1, 4), observed=st.booleans(), dropna=st.booleans(),
       keys=st.sampled_from(_KEYS), agg=st.sampled_from(_AGGS))
def test_tree_aggregations_match_pandas(pdf, npartitions, observed, dropna, keys, agg):
    ddf = sd.from_pandas(pdf, npartitions=npartitions)
    expected = agg(pdf.groupby(keys, observed=observed, dropna=dropna))
    _assert_same(expected, agg(ddf.groupby(keys, observed=observed, dropna=dropna)).compute())


_OTHER = [
    ("median", lambda g, **kw: g.y.median(**kw)),
    ("agg-median", lambda g, **kw: g.y.agg(["median", "max"], **kw)),
    ("nunique", lambda g, **kw: g.y.nunique()),
    ("any", lambda g, **kw: g.y.any(**kw)),
    ("sem", lambda g, **kw: g.y.sem(**kw)),
    ("split_out", lambda g, **kw: g.x.sum(**kw)),
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pdf=_frames(), npartitions=st.integers(1, 3), keys=st.sampled_from(_KEYS), which=st.sampled_from(_OTHER),
       split_out=st.sampled_from([None, 2]))
def test_other_reductions_match_pandas(pdf, npartitions, keys, which, split_out):
    name, agg = which
    ddf = sd.from_pandas(pdf, npartitions=npartitions)
    expected = agg(pdf.groupby(keys, observed=False))
    kwargs = {"split_out": split_out} if split_out and name != "nunique" else {}
    result = agg(ddf.groupby(keys, observed=False), **kwargs)
    if kwargs:
        assert result.npartitions == split_out
    _assert_same(expected, result.compute())


def test_qa_reproducer_and_order():
    pdf = pd.DataFrame({"c": pd.Categorical(["u", "v", "u"], categories=["u", "v", "zz"]), "x": [1, 2, 3]})
    ddf = sd.from_pandas(pdf, npartitions=2)
    # sort=True: the exact order pandas gives (category order), not only the same groups.
    pd.testing.assert_series_equal(ddf.groupby("c", observed=False).x.sum().compute(),
                                   pdf.groupby("c", observed=False).x.sum())
    pd.testing.assert_series_equal(ddf.groupby("c", observed=False).size().compute(),
                                   pdf.groupby("c", observed=False).size())
    assert ddf.groupby("c").x.sum().compute().to_dict() == {"u": 4, "v": 2}  # observed=True is the default
    by_series = ddf.x.groupby(ddf.c, observed=False).sum().compute()
    pd.testing.assert_series_equal(by_series, pdf.x.groupby(pdf.c, observed=False).sum())


def test_unsupported_shapes_say_so():
    pdf = pd.DataFrame({"c": pd.Categorical(["u"], categories=["u", "v"]), "x": [1]})
    ddf = sd.from_pandas(pdf, npartitions=1)
    with pytest.raises(NotImplementedError, match="observed=False"):
        ddf.groupby("c", observed=False).x.value_counts().compute()
    custom = sd.Aggregation("s", lambda s: s.sum(), lambda s: s.sum())
    with pytest.raises(NotImplementedError, match="observed=False"):
        ddf.groupby("c", observed=False).x.agg(custom)


@pytest.mark.parametrize("call", [
    lambda g, **kw: g.y.any(**kw), lambda g, **kw: g.y.sem(**kw), lambda g, **kw: g.y.median(**kw),
    lambda g, **kw: g.x.sum(**kw), lambda g, **kw: g.y.agg(["median", "sum"], **kw),
])
@pytest.mark.parametrize("split_out", [None, 2])
def test_a_key_seen_only_beside_a_missing_category_still_pairs(call, split_out):
    # k=7 occurs only where c is missing (dropna drops that row); pandas still pairs it with every category.
    pdf = pd.DataFrame({"c": pd.Categorical(["u", None, "v"], categories=["u", "v", "w"]), "k": [1, 7, 1],
                        "x": [1, 2, 3], "y": [1.0, 2.0, 0.0]})
    ddf = sd.from_pandas(pdf, npartitions=2)
    kwargs = {"split_out": split_out} if split_out else {}
    _assert_same(call(pdf.groupby(["c", "k"], observed=False)), call(ddf.groupby(["c", "k"], observed=False),
                                                                     **kwargs).compute())

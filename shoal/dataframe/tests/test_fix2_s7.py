"""Compatibility fixes: hive partition columns as categoricals, and divisions Dask keeps (loc, frame
reductions, resample).

Expected values marked "Dask:" were read from Dask 2026.8 on the same calls; the rules they follow are
encoded as properties so that the tests do not need Dask.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import shoal.dataframe as sd


def _valid(divisions):
    """Dask's rule: strictly increasing, but for the last pair, which may be equal."""
    return all(a < b for a, b in zip(divisions[:-2], divisions[1:-1], strict=True)) and divisions[-2] <= divisions[-1]


def _within(ddf):
    """Every partition's index lies within its divisions."""
    div = ddf.divisions
    for i in range(ddf.npartitions):
        part = ddf.get_partition(i).compute()
        if len(part):
            assert div[i] <= part.index.min() and part.index.max() <= div[i + 1], (i, div, part.index)


# -- hive partitions -------------------------------------------------------------------------------------


@pytest.fixture
def hive(tmp_path):
    pdf = pd.DataFrame({"k": [1, 2, 1, 3, 2, 10], "s": list("abcabc"), "x": range(6), "f": np.arange(6) / 2})
    path = str(tmp_path / "hive")
    sd.from_pandas(pdf, npartitions=2).to_parquet(path, partition_on=["k", "s"])
    return path


def _by_x(df):
    return df.sort_values("x").reset_index(drop=True)


def test_partition_columns_read_as_pandas_reads_them(hive):
    # pandas, pyarrow and Dask: categoricals; categories of the keys' own type (int32 for integers).
    expected = pd.read_parquet(hive)
    ddf = sd.read_parquet(hive)
    assert ddf.dtypes.to_dict() == expected.dtypes.to_dict()
    assert ddf._meta["k"].cat.categories.equals(expected["k"].cat.categories)
    assert expected["k"].cat.categories.dtype == np.int32
    pd.testing.assert_frame_equal(_by_x(ddf.compute()), _by_x(expected))
    pd.testing.assert_series_equal(sd.read_parquet(hive, columns="k").compute().sort_values().reset_index(drop=True),
                                   expected["k"].sort_values().reset_index(drop=True))


@pytest.mark.parametrize("filters", [[("k", "==", 2)], [("k", ">", 1)], [("k", "in", [1, 3])], [("s", "==", "b")],
                                     [[("k", "==", 1)], [("s", "==", "c")]]])
def test_filters_on_partition_columns_still_prune_directories(hive, filters):
    everything = sd.read_parquet(hive)
    ddf = sd.read_parquet(hive, filters=filters)
    expected = pd.read_parquet(hive, filters=filters)
    assert ddf.npartitions < everything.npartitions
    assert ddf.npartitions == len({p for p in _files(hive) if _keeps(p, filters)})
    pd.testing.assert_frame_equal(_by_x(ddf.compute()), _by_x(expected))


def _files(path):
    import pathlib
    return [p.relative_to(path).as_posix() for p in pathlib.Path(path).rglob("*.parquet")]


def _keeps(relative, filters):
    keys = dict(part.split("=") for part in relative.split("/")[:-1])
    row = {"k": int(keys["k"]), "s": keys["s"]}
    ops = {"==": lambda a, b: a == b, ">": lambda a, b: a > b, "in": lambda a, b: a in b}
    conjuncts = filters if isinstance(filters[0], list) else [filters]
    return any(all(ops[op](row[col], value) for col, op, value in c) for c in conjuncts)


def test_selecting_on_a_partition_column_prunes_too(hive):
    ddf = sd.read_parquet(hive)
    out = ddf[ddf.k == 2]
    assert out.optimize().npartitions < ddf.npartitions
    expected = pd.read_parquet(hive)
    pd.testing.assert_frame_equal(_by_x(out.compute()), _by_x(expected[expected.k == 2]))


# -- loc keeps the bounds of the slice ------------------------------------------------------------------

_PDF = pd.DataFrame({"a": range(20), "b": np.arange(20) * 1.5}, index=np.arange(20) * 2)


@pytest.mark.parametrize(("start", "stop", "expected"), [
    # Dask, on divisions (0, 10, 20, 30, 38):
    (5, 25, (5, 10, 20, 25)),
    (-5, 50, (0, 10, 20, 30, 38)),
    (5, None, (5, 10, 20, 30, 38)),
    (None, 25, (0, 10, 20, 25)),
    (10, 20, (10, 20, 20)),
    (29.5, 30.5, (29.5, 30, 30.5)),
    (13, 17, (13, 17)),
    (7, 7, (7, 7)),
    (100, 200, (100, 200)),
    (None, -3, (-3, -3)),
    (40, None, (40, 40)),
])
def test_loc_slice_narrows_the_outer_divisions(start, stop, expected):
    ddf = sd.from_pandas(_PDF, npartitions=4)
    assert ddf.divisions == (0, 10, 20, 30, 38)
    out = ddf.loc[start:stop]
    assert out.divisions == expected
    assert out["a"].divisions == ddf["a"].loc[start:stop].divisions == expected
    pd.testing.assert_frame_equal(out.compute(), _PDF.loc[start:stop])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.one_of(st.none(), st.integers(-5, 45)), st.one_of(st.none(), st.integers(-5, 45)))
def test_loc_slice_divisions_bound_the_rows(npartitions, start, stop):
    ddf = sd.from_pandas(_PDF, npartitions=npartitions)
    out = ddf.loc[start:stop]
    pd.testing.assert_frame_equal(out.compute(), _PDF.loc[start:stop])
    if start is None or stop is None or start <= stop:
        assert _valid(out.divisions)
        _within(out)
        if start is not None:
            assert out.divisions[0] >= min(start, ddf.divisions[-1]) or out.npartitions == 1
        if stop is not None:
            assert out.divisions[-1] <= max(stop, ddf.divisions[0]) or out.npartitions == 1


def test_loc_labels_and_dates_narrow_too():
    ddf = sd.from_pandas(_PDF, npartitions=4)
    assert ddf.loc[6].divisions == (6, 6)  # Dask: (6, 6)
    assert ddf.loc[[4, 30]].divisions[0] == 4 and ddf.loc[[4, 30]].divisions[-1] == 30
    pd.testing.assert_frame_equal(ddf.loc[[4, 30]].compute(), _PDF.loc[[4, 30]])
    ts = pd.DataFrame({"v": range(10)}, index=pd.date_range("2020-01-01", periods=10))
    tdf = sd.from_pandas(ts, npartitions=3)
    out = tdf.loc["2020-01-02":"2020-01-05"]
    assert out.divisions[0] == pd.Timestamp("2020-01-02")
    assert pd.Timestamp("2020-01-05 23:59") < out.divisions[-1] < pd.Timestamp("2020-01-06")
    pd.testing.assert_frame_equal(out.compute(), ts.loc["2020-01-02":"2020-01-05"])


# -- frame reductions: one partition indexed by column ----------------------------------------------------

@pytest.mark.parametrize("method", ["sum", "mean", "max", "min", "count", "std", "var", "prod", "any", "all",
                                    "idxmax", "idxmin", "quantile"])
def test_frame_reductions_know_their_divisions(method):
    # Dask: ('a', 'b'), the smallest and largest column label.
    ddf = sd.from_pandas(_PDF, npartitions=4)
    out = getattr(ddf, method)()
    assert out.divisions == ("a", "b")
    pd.testing.assert_series_equal(out.compute(), getattr(_PDF, method)(), check_exact=False)


def test_frame_reduction_divisions_from_the_frames_columns():
    pdf = pd.DataFrame({"zz": [1, 2], "aa": [3, 4], "mm": [5.0, 6.0], "s": ["x", "y"]})
    ddf = sd.from_pandas(pdf, npartitions=2)
    assert ddf[["zz", "aa", "mm"]].sum().divisions == ("aa", "zz")  # Dask: sorted labels, first and last
    assert ddf.sum(numeric_only=True).divisions == ("aa", "zz")  # Dask: ('aa', 'zz') from the frame's columns
    pd.testing.assert_series_equal(ddf.sum(numeric_only=True).compute(), pdf.sum(numeric_only=True))
    mixed = sd.from_pandas(pd.DataFrame({1: [1, 2], "a": [3, 4]}), npartitions=1)
    assert mixed.sum().divisions == (None, None)  # labels that do not sort
    assert ddf.zz.sum().compute() == 3  # a Series reduces to a scalar, as before


# -- resample ---------------------------------------------------------------------------------------------

_RULES = ["ME", "MS", "QE", "YE", "W", "2W", "3W", "2ME", "2QE", "B", "2B", "D", "3D", "10D", "h", "7h"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_RULES), st.integers(1, 9), st.sampled_from(["sum", "mean", "count", "size", "first"]),
       st.integers(0, 40), st.sampled_from([100, 250]))
def test_resample_divisions_increase_and_results_match_pandas(rule, npartitions, method, shift, periods):
    ts = pd.DataFrame({"v": np.arange(float(periods)), "i": np.arange(periods)},
                      index=pd.date_range("2020-01-03", periods=periods, freq="D") + pd.Timedelta(days=shift))
    ddf = sd.from_pandas(ts, npartitions=npartitions)
    out = getattr(ddf.resample(rule), method)()
    assert _valid(out.divisions)
    expected = getattr(ts.resample(rule), method)()
    got = out.compute()
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    else:
        pd.testing.assert_series_equal(got, expected)
    _within(out)


def test_resample_month_end_divisions():
    ts = pd.DataFrame({"v": np.arange(100.0)}, index=pd.date_range("2020-01-01", periods=100, freq="D"))
    out = sd.from_pandas(ts, npartitions=7).resample("ME").sum()
    # Partitions inside one month make no bins of their own and are left out: no label repeats (shoal had
    # Jan 31 three times). Dask: (Jan 31, Feb 29, Mar 31, Apr 30, Apr 30) on its own input divisions.
    assert out.divisions[0] == pd.Timestamp("2020-01-31") and out.divisions[-1] == pd.Timestamp("2020-04-30")
    assert _valid(out.divisions) and len(set(out.divisions)) == len(out.divisions)
    pd.testing.assert_frame_equal(out.compute(), ts.resample("ME").sum())

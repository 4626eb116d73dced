"""merge, join, concat and merge_asof against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq

HOWS = ["inner", "left", "right", "outer"]


def _rows(df: pd.DataFrame, keep_index: bool = False) -> pd.DataFrame:
    """Rows in a canonical order (merge row order is not defined across partitions)."""
    out = df.reset_index() if keep_index else df.reset_index(drop=True)
    out = out.sort_values(list(out.columns), kind="stable", na_position="last").reset_index(drop=True)
    return out


def _check(result, expected, keep_index: bool = False) -> None:
    got = result.compute(scheduler="sync")
    assert list(got.columns) == list(result._meta.columns)
    tm.assert_frame_equal(_rows(got, keep_index), _rows(expected, keep_index), check_dtype=False)


def _sides(seed: int, n_left: int, n_right: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    left = pd.DataFrame({"k": rng.integers(0, 8, n_left), "k2": rng.choice(["a", "b"], n_left),
                         "x": rng.normal(size=n_left).round(3), "v": rng.integers(0, 100, n_left).astype("f8")})
    right = pd.DataFrame({"k": rng.integers(0, 10, n_right), "k2": rng.choice(["a", "b", "c"], n_right),
                          "y": rng.normal(size=n_right).round(3), "v": rng.integers(0, 100, n_right).astype("f8")})
    return left, right


@given(seed=st.integers(0, 2**16), n_left=st.integers(0, 30), n_right=st.integers(0, 30),
       parts=st.tuples(st.integers(1, 4), st.integers(1, 4)), how=st.sampled_from(HOWS),
       on=st.sampled_from(["k", ["k", "k2"]]))
@settings(max_examples=40, deadline=None)
def test_merge_on_columns_matches_pandas(seed, n_left, n_right, parts, how, on):
    left, right = _sides(seed, n_left, n_right)
    a = sd.from_pandas(left, npartitions=parts[0])
    b = sd.from_pandas(right, npartitions=parts[1])
    _check(sd.merge(a, b, how=how, on=on), pd.merge(left, right, how=how, on=on))
    _check(a.merge(b, how=how, on=on, suffixes=("_l", "_r")),
           left.merge(right, how=how, on=on, suffixes=("_l", "_r")))


def test_merge_strategies():
    left, right = _sides(1, 40, 25)
    a = sd.from_pandas(left, npartitions=4)
    b = sd.from_pandas(right, npartitions=3)
    one = sd.from_pandas(right, npartitions=1)
    # A single-partition or pandas right side is broadcast: no shuffle tasks.
    for other in (one, right):
        out = sd.merge(a, other, on="k", how="left")
        assert out.npartitions == 4
        assert not any("shuffle" in str(k[0]) for k in out.__dask_graph__())
        _check(out, pd.merge(left, right, on="k", how="left"))
    shuffled = sd.merge(a, b, on="k", how="outer", npartitions=5)
    assert shuffled.npartitions == 5
    _check(shuffled, pd.merge(left, right, on="k", how="outer"))
    # Outer needs a shuffle even with a small side.
    _check(sd.merge(a, one, on="k", how="outer"), pd.merge(left, right, on="k", how="outer"))
    _check(sd.merge(one, a, on="k", how="right"), pd.merge(right, left, on="k", how="right"))


def test_merge_left_on_right_on_and_dtype_mismatch():
    left = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "x": range(6)})
    right = pd.DataFrame({"b": [2.0, 4.0, 6.0, 8.0], "y": [0.5, 1.5, 2.5, 3.5]})
    a = sd.from_pandas(left, npartitions=3)
    b = sd.from_pandas(right, npartitions=2)
    for how in HOWS:
        _check(sd.merge(a, b, left_on="a", right_on="b", how=how),
               pd.merge(left, right, left_on="a", right_on="b", how=how))


def test_merge_on_indexes_aligned_without_shuffle():
    left = pd.DataFrame({"x": np.arange(20.0)}, index=np.arange(0, 40, 2))
    right = pd.DataFrame({"y": np.arange(15.0)}, index=np.arange(0, 45, 3))
    a = sd.from_pandas(left, npartitions=3)
    b = sd.from_pandas(right, npartitions=4)
    for how in HOWS:
        out = sd.merge(a, b, left_index=True, right_index=True, how=how)
        assert out.known_divisions
        assert not any("shuffle" in str(k[0]) for k in out.__dask_graph__())
        assert_eq(out, pd.merge(left, right, left_index=True, right_index=True, how=how))
        assert_eq(a.join(b, how=how), left.join(right, how=how))
    same = sd.merge(a, a.rename(columns={"x": "z"}), left_index=True, right_index=True)
    assert same.divisions == a.divisions


def test_merge_indexes_unknown_divisions_and_mixed_keys():
    left = pd.DataFrame({"x": np.arange(10.0)}, index=[5, 3, 1, 9, 7, 0, 2, 4, 6, 8])
    right = pd.DataFrame({"k": [1, 3, 5, 11], "y": [1.0, 2.0, 3.0, 4.0]})
    a = sd.from_pandas(left, npartitions=3, sort=False)
    b = sd.from_pandas(right, npartitions=2)
    b_indexed = sd.from_pandas(right.set_index("k"), npartitions=2, sort=False)
    for how in HOWS:
        _check(sd.merge(a, b_indexed, left_index=True, right_index=True, how=how),
               pd.merge(left, right.set_index("k"), left_index=True, right_index=True, how=how), keep_index=True)
        _check(sd.merge(b, a, left_on="k", right_index=True, how=how),
               pd.merge(right, left, left_on="k", right_index=True, how=how))


def test_join_on_column_and_suffixes():
    left = pd.DataFrame({"k": [0, 1, 2, 3, 2], "v": [1.0, 2.0, 3.0, 4.0, 5.0]})
    right = pd.DataFrame({"v": [10.0, 20.0, 30.0]}, index=[0, 2, 4])
    a = sd.from_pandas(left, npartitions=2)
    b = sd.from_pandas(right, npartitions=2)
    _check(a.join(b, on="k", lsuffix="_l", rsuffix="_r"), left.join(right, on="k", suffixes=("_l", "_r")))
    _check(a.join(b, on="k", suffixes=("_l", "_r")), left.join(right, on="k", suffixes=("_l", "_r")))
    with pytest.raises(ValueError, match="overlap"):
        a.join(b)


def test_merge_cross_and_indicator():
    left, right = _sides(3, 6, 5)
    a = sd.from_pandas(left[["k", "x"]], npartitions=2)
    b = sd.from_pandas(right[["y"]], npartitions=2)
    _check(sd.merge(a, b, how="cross"), pd.merge(left[["k", "x"]], right[["y"]], how="cross"))
    c = sd.from_pandas(right, npartitions=3)
    got = sd.merge(sd.from_pandas(left, npartitions=2), c, on="k", how="outer", indicator=True).compute()
    want = pd.merge(left, right, on="k", how="outer", indicator=True)
    assert sorted(got._merge.astype(str)) == sorted(want._merge.astype(str))


def test_merge_errors_at_build_time():
    a = sd.from_pandas(pd.DataFrame({"k": [1], "x": [1]}), npartitions=1)
    b = sd.from_pandas(pd.DataFrame({"j": [1], "y": [1]}), npartitions=1)
    with pytest.raises(ValueError, match="how must be one of"):
        sd.merge(a, b, how="sideways", left_on="k", right_on="j")
    with pytest.raises(KeyError, match="zz"):
        sd.merge(a, b, left_on="zz", right_on="j")
    with pytest.raises(ValueError, match="No common columns"):
        sd.merge(a, b)
    with pytest.raises(TypeError, match="left must be"):
        sd.merge([1, 2], b)


def test_concat_rows_keeps_ordered_divisions():
    p1 = pd.DataFrame({"x": range(6)}, index=range(6))
    p2 = pd.DataFrame({"x": range(6), "y": np.arange(6.0)}, index=range(10, 16))
    a = sd.from_pandas(p1, npartitions=2)
    b = sd.from_pandas(p2, npartitions=3)
    out = sd.concat([a, b])
    assert out.npartitions == 5 and out.known_divisions
    assert out.divisions == (*a.divisions[:-1], *b.divisions)
    assert_eq(out, pd.concat([p1, p2]))
    overlapping = sd.concat([b, a])
    assert not overlapping.known_divisions
    assert_eq(overlapping, pd.concat([p2, p1]), sort_results=False)
    interleaved = sd.concat([b, a, b], interleave_partitions=True)
    assert interleaved.known_divisions
    assert_eq(interleaved, pd.concat([p2, p1, p2]).sort_index(kind="stable"), sort_results=False)
    assert_eq(sd.concat([a, b], join="inner"), pd.concat([p1, p2], join="inner"))
    assert_eq(sd.concat([a.x, b.x]), pd.concat([p1.x, p2.x]))
    assert_eq(sd.concat([a, p2]), pd.concat([p1, p2]))
    assert_eq(sd.concat([a, b], ignore_index=True), pd.concat([p1, p2], ignore_index=True), check_index=False,
              sort_results=False)


def test_concat_columns():
    p1 = pd.DataFrame({"x": range(10)}, index=range(10))
    p2 = pd.DataFrame({"y": np.arange(5.0)}, index=range(0, 10, 2))
    a = sd.from_pandas(p1, npartitions=3)
    b = sd.from_pandas(p2, npartitions=2)
    assert_eq(sd.concat([a, b], axis=1), pd.concat([p1, p2], axis=1))
    assert_eq(sd.concat([a, a.x.rename("z")], axis=1), pd.concat([p1, p1.x.rename("z")], axis=1))
    unknown = sd.from_pandas(p1, npartitions=2, sort=False)
    with pytest.raises(ValueError, match="same partitions"):
        sd.concat([unknown, sd.from_pandas(p2.reset_index(drop=True), npartitions=1, sort=False)], axis=1)
    with pytest.raises(ValueError, match="No axis named"):
        sd.concat([a, b], axis=2)
    with pytest.raises(TypeError, match="list"):
        sd.concat(a)


def test_merge_asof_matches_pandas():
    rng = np.random.default_rng(0)
    left = pd.DataFrame({"t": np.sort(rng.integers(0, 100, 30)), "a": np.arange(30)})
    right = pd.DataFrame({"t": np.sort(rng.integers(0, 100, 12)), "b": np.arange(12.0)})
    a = sd.from_pandas(left, npartitions=3)
    b = sd.from_pandas(right, npartitions=3)
    for direction in ["backward", "forward", "nearest"]:
        got = sd.merge_asof(a, b, on="t", direction=direction).compute()
        tm.assert_frame_equal(got.reset_index(drop=True), pd.merge_asof(left, right, on="t", direction=direction))
    li, ri = left.set_index("t"), right.set_index("t")
    out = sd.merge_asof(sd.from_pandas(li, npartitions=3), sd.from_pandas(ri, npartitions=2), left_index=True,
                        right_index=True)
    assert out.known_divisions
    assert_eq(out, pd.merge_asof(li, ri, left_index=True, right_index=True), sort_results=False)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_shuffle_merge_on_other_schedulers(scheduler):
    left, right = _sides(7, 50, 40)
    a = sd.from_pandas(left, npartitions=3)
    b = sd.from_pandas(right, npartitions=2)
    got = sd.merge(a, b, on=["k", "k2"], how="outer").compute(scheduler=scheduler)
    tm.assert_frame_equal(_rows(got), _rows(pd.merge(left, right, on=["k", "k2"], how="outer")), check_dtype=False)
    ordered = a.set_index("x").compute(scheduler=scheduler)
    assert ordered.index.is_monotonic_increasing and len(ordered) == len(left)

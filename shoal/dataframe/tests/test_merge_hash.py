"""The hash join of two partitioned frames (``_merge_hash``) and its dense lookups, against pandas.

Covers key dtypes (integers, floats with NaN, Arrow and object strings,
nullable integers with NA, datetimes), several keys, duplicate keys on both
sides, every ``how``, keys whose dtypes differ between the sides, output
column order and dtypes, the split's codes, spilling pieces to disk, the
graph's shape, and the per-partition join giving pandas' own row order.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pandas.testing as tm
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.dataframe as sd
from shoal.dataframe._merge_hash import HashJoin, join_codes, join_partition, split_for_join
from shoal.dataframe._merge_lookup import LookupMerge, _dense_lookup

HOWS = ["inner", "left", "right", "outer"]


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order: a hash join's row order follows its partitions, not pandas'."""
    out = df.reset_index(drop=True)
    keys = {c: out[c].astype(str) for c in out.columns}
    order = pd.DataFrame(keys).sort_values(list(out.columns), kind="stable").index
    return out.loc[order].reset_index(drop=True)


def _keys(kind: str, rng: np.random.Generator, n: int) -> pd.Series:
    codes = rng.integers(0, 12, n)
    if kind == "int":
        return pd.Series(codes * 1_000_003 - 5_000_000, dtype="int64")  # spread: past the dense lookup's range
    if kind == "dense":
        return pd.Series(codes, dtype="int32")
    if kind == "float":
        return pd.Series(np.where(codes == 0, np.nan, codes / 4))
    if kind == "str":
        return pd.Series([None if c == 0 else f"k{c}" for c in codes], dtype="str")
    if kind == "object":
        return pd.Series([f"k{c}" for c in codes], dtype=object)
    if kind == "Int64":
        return pd.Series(pd.array([None if c == 0 else int(c) for c in codes], dtype="Int64"))
    return pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(codes, unit="D"))


def _frames(seed: int, kind: str, n_left: int, n_right: int, unique_right: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    left = pd.DataFrame({"k": _keys(kind, rng, n_left), "v": rng.normal(size=n_left).round(3),
                         "s": pd.Series(rng.choice(["a", "b"], n_left), dtype="str")})
    right = pd.DataFrame({"k": _keys(kind, rng, n_right), "v": rng.integers(0, 100, n_right),
                          "w": pd.Series(rng.choice(["x", "y", "z"], n_right), dtype="str")})
    if unique_right:
        right = right.drop_duplicates("k", ignore_index=True)
    return left, right


@given(seed=st.integers(0, 2**16), kind=st.sampled_from(["int", "dense", "float", "str", "object", "Int64", "date"]),
       n_left=st.integers(0, 40), n_right=st.integers(0, 30), parts=st.tuples(st.integers(2, 4), st.integers(2, 4)),
       how=st.sampled_from(HOWS), unique_right=st.booleans(), npartitions=st.sampled_from([None, 1, 3, 7]))
@settings(max_examples=120, deadline=None)
def test_hash_join_matches_pandas(seed, kind, n_left, n_right, parts, how, unique_right, npartitions):
    left, right = _frames(seed, kind, n_left, n_right, unique_right)
    a = sd.from_pandas(left, npartitions=parts[0])
    b = sd.from_pandas(right, npartitions=parts[1])
    out = sd.merge(a, b, on="k", how=how, suffixes=("_l", "_r"), npartitions=npartitions)
    # from_pandas makes fewer partitions of a few rows; one partition on a side is a broadcast instead.
    assert isinstance(out._expr, HashJoin) or min(a.npartitions, b.npartitions) == 1
    got = out.compute(scheduler="sync")
    expected = pd.merge(left, right, on="k", how=how, suffixes=("_l", "_r"))
    assert list(got.columns) == list(expected.columns) == list(out._meta.columns)
    # Inner joins add no missing values, so every dtype must come out as pandas makes it.
    tm.assert_frame_equal(_rows(got), _rows(expected), check_dtype=how == "inner")


@given(seed=st.integers(0, 2**16), n_left=st.integers(0, 40), n_right=st.integers(0, 30),
       how=st.sampled_from(HOWS))
@settings(max_examples=40, deadline=None)
def test_hash_join_on_two_keys_and_differing_key_names(seed, n_left, n_right, how):
    left, right = _frames(seed, "dense", n_left, n_right, False)
    left["k2"] = pd.Series(np.random.default_rng(seed).choice(["p", "q"], n_left), dtype="str")
    right["k2"] = pd.Series(np.random.default_rng(seed + 1).choice(["p", "q"], n_right), dtype="str")
    right = right.rename(columns={"k": "rk", "k2": "rk2"})
    a = sd.from_pandas(left, npartitions=3)
    b = sd.from_pandas(right, npartitions=2)
    kw = {"left_on": ["k", "k2"], "right_on": ["rk", "rk2"], "how": how}
    got = sd.merge(a, b, **kw).compute(scheduler="sync")
    expected = pd.merge(left, right, **kw)
    assert list(got.columns) == list(expected.columns)
    tm.assert_frame_equal(_rows(got), _rows(expected), check_dtype=how == "inner")


def test_keys_of_different_dtypes_meet():
    left = pd.DataFrame({"k": np.arange(30, dtype="int64") % 11, "x": np.arange(30)})
    right = pd.DataFrame({"k": np.arange(0, 12, dtype="float64"), "y": np.arange(12) * 2})
    narrow = right.astype({"k": "int8"})
    for other in (right, narrow):
        for how in HOWS:
            got = sd.merge(sd.from_pandas(left, npartitions=3), sd.from_pandas(other, npartitions=2), on="k", how=how)
            tm.assert_frame_equal(_rows(got.compute()), _rows(pd.merge(left, other, on="k", how=how)),
                                  check_dtype=False)


def test_duplicate_keys_on_both_sides_and_nan_keys():
    left = pd.DataFrame({"k": [1.0, 1.0, np.nan, 2.0, np.nan, 3.0] * 3, "x": range(18)})
    right = pd.DataFrame({"k": [1.0, np.nan, 1.0, 4.0, np.nan], "y": range(5)})
    for how in HOWS:
        got = sd.merge(sd.from_pandas(left, npartitions=4), sd.from_pandas(right, npartitions=3), on="k", how=how)
        tm.assert_frame_equal(_rows(got.compute()), _rows(pd.merge(left, right, on="k", how=how)), check_dtype=False)


def test_join_partition_gives_pandas_row_order():
    # Within one output partition the join is pandas' own (or the lookup that reproduces it): same rows, same order.
    rng = np.random.default_rng(3)
    left = pd.DataFrame({"k": rng.integers(0, 200, 300), "v": rng.normal(size=300)})
    right = pd.DataFrame({"k": rng.permutation(250)[:180], "w": rng.normal(size=180)})
    lsplits = [split_for_join(left.iloc[i::3], ["k", "v"], [0], None, 4) for i in range(3)]
    rsplits = [split_for_join(right.iloc[i::2], ["k", "w"], [0], None, 4) for i in range(2)]
    for how in ("inner", "left"):
        kw = {"how": how, "left_on": ["k"], "right_on": ["k"], "left_index": False, "right_index": False,
              "suffixes": ("_x", "_y"), "indicator": False}
        lookup = LookupMerge(["k", "v", "w"], reuse=False)
        total = 0
        for j in range(4):
            got = join_partition(j, lsplits, rsplits, left.iloc[:0], right.iloc[:0], lookup, kw)
            lpart = pd.concat([left.iloc[i::3] for i in range(3)])
            lpart = lpart[join_codes([lpart["k"].to_numpy()], 4) == j].reset_index(drop=True)
            rpart = pd.concat([right.iloc[i::2] for i in range(2)])
            rpart = rpart[join_codes([rpart["k"].to_numpy()], 4) == j].reset_index(drop=True)
            tm.assert_frame_equal(got, pd.merge(lpart, rpart, **kw))
            total += len(got)
        assert total == len(pd.merge(left, right, **kw))


def test_split_codes_are_in_range_and_agree_across_partitions():
    keys = np.arange(10_000, dtype="int64")
    for n in (1, 2, 7, 300):
        codes = join_codes([keys], n)
        assert codes.min() >= 0 and codes.max() < n
        if n > 1:
            assert len(np.unique(codes)) == n  # consecutive keys spread over every partition
            # The same key gets the same code whatever else is in its partition.
            np.testing.assert_array_equal(join_codes([keys[5000:]], n), codes[5000:])
    pieces = split_for_join(pd.DataFrame({"k": keys, "x": keys * 2.0}), ["k", "x"], [0], None, 5)
    assert sum(len(p[0]) for p in pieces) == len(keys)
    for j, (k, x) in enumerate(pieces):
        assert (join_codes([k], 5) == j).all()
        np.testing.assert_array_equal(x, k * 2.0)
        assert (np.diff(k) > 0).all()  # rows keep their order inside a piece
    assert pickle.loads(pickle.dumps(pieces))[2][1].tolist() == pieces[2][1].tolist()


def test_graph_has_one_split_per_input_and_one_join_per_output(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"k": rng.permutation(600), "a": rng.random(600)})
    for i in range(3):
        frame.iloc[i * 200:(i + 1) * 200].to_parquet(tmp_path / f"part.{i}.parquet", index=False)
    other = pd.DataFrame({"k": rng.permutation(600), "b": rng.random(600)})
    merged = sd.read_parquet(str(tmp_path)).merge(sd.from_pandas(other, npartitions=2), on="k")
    assert merged.npartitions == 3
    names = [k[0] for k in merged.__dask_graph__()]
    # The reads run inside the left splits: no read-parquet tasks of their own.
    assert sum("split-left" in n for n in names) == 3 and sum("split-right" in n for n in names) == 2
    assert not any(n.startswith("read-parquet") for n in names)
    assert sum(n.startswith("hash-join") and "split" not in n for n in names) == 3
    tm.assert_frame_equal(_rows(merged.compute()), _rows(pd.merge(frame, other, on="k")))


def test_pieces_spill_to_disk_and_are_removed(tmp_path):
    left, right = _frames(5, "str", 60, 40, False)
    spill = tmp_path / "spill"
    with shoal.config.set({"dataframe.shuffle.method": "disk", "temporary-directory": str(spill)}):
        out = sd.merge(sd.from_pandas(left, npartitions=3), sd.from_pandas(right, npartitions=2), on="k", how="outer")
        assert out._expr.spill is not None
        got = out.compute(scheduler="sync")
    tm.assert_frame_equal(_rows(got), _rows(pd.merge(left, right, on="k", how="outer")), check_dtype=False)
    leftover = [f for _, _, files in os.walk(spill) for f in files]
    assert leftover == []


def test_joins_on_an_index_keep_the_general_shuffle():
    left = pd.DataFrame({"x": np.arange(10.0)}, index=[5, 3, 1, 9, 7, 0, 2, 4, 6, 8])
    right = pd.DataFrame({"k": [1, 3, 5, 11], "y": [1.0, 2.0, 3.0, 4.0]})
    out = sd.merge(sd.from_pandas(right, npartitions=2), sd.from_pandas(left, npartitions=3, sort=False),
                   left_on="k", right_index=True)
    assert not isinstance(out._expr, HashJoin)


def test_dense_lookup_spans_a_hash_partition_of_a_key_range():
    # A hash join's partition holds about one key in npartitions of the range: still a dense lookup.
    keys = np.arange(0, 1_000_000, 10, dtype="int64")
    lookup = _dense_lookup(keys)
    assert lookup is not None and lookup is not False and not lookup.full
    probes = np.array([0, 10, 15, 999_990, -1, 1_000_000, 20])
    np.testing.assert_array_equal(lookup(probes), pd.Index(keys).get_indexer(probes))
    assert _dense_lookup(np.array([3, 7, 3], dtype="int64")) is False
    assert _dense_lookup(np.array([0, 2**40], dtype="int64")) is None
    full = _dense_lookup(np.array([4, 2, 3, 5], dtype="uint16"))
    assert full.full and full(np.array([2, 5, 6])).tolist() == [1, 3, -1]


def test_hash_join_on_the_threaded_and_process_schedulers():
    left, right = _frames(9, "str", 80, 50, True)
    out = sd.merge(sd.from_pandas(left, npartitions=3), sd.from_pandas(right, npartitions=2), on="k", how="left")
    expected = _rows(pd.merge(left, right, on="k", how="left"))
    for scheduler in ("threads", "processes"):
        tm.assert_frame_equal(_rows(out.compute(scheduler=scheduler)), expected, check_dtype=False)


def test_writing_into_a_hash_join_result_leaves_its_inputs_alone():
    left = pd.DataFrame({"k": np.arange(6), "v": np.arange(6.0)})
    right = pd.DataFrame({"k": np.arange(6), "w": np.arange(6.0) * 2})
    before = left.copy()
    a = sd.from_pandas(left, npartitions=1)
    b = sd.from_pandas(right, npartitions=2)
    for npartitions in (1, 2):
        out = sd.merge(a, b, on="k", how="left", npartitions=npartitions)
        assert isinstance(out._expr, HashJoin)
        got = out.compute(scheduler="sync")
        got.loc[0, "v"] = -5.0
        tm.assert_frame_equal(left, before)

"""The broadcast merge's lookup against pandas: keys of every integer width, full ranges, holes, misses.

Covers :class:`~shoal.dataframe._merge_lookup.LookupMerge` gathering the right
columns straight from the key offsets when the right keys fill their range,
narrow integer keys (which must not wrap around when shifted), left-join
misses filled with the missing values and dtypes pandas gives, object
columns kept as object, results that share the left columns without letting
writes reach the inputs, and the broadcast merge running the big side's
partition inline (one task per partition) only when the broadcast side keeps
its own key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._merge import LookupMerge

_KW = {"left_on": ["k"], "right_on": ["k"], "left_index": False, "right_index": False, "suffixes": ("_x", "_y"),
       "indicator": False}
_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _lookup_merge(merge: LookupMerge | None, left: pd.DataFrame, right: pd.DataFrame, how: str) -> pd.DataFrame:
    kw = {**_KW, "how": how}
    merge = merge or LookupMerge(list(pd.merge(left.iloc[:0], right.iloc[:0], **kw).columns))
    return merge(left, right, kw)


@given(dtype=st.sampled_from(_DTYPES), data=st.data(), how=st.sampled_from(["inner", "left"]),
       holes=st.booleans())
@settings(max_examples=120, deadline=None)
def test_lookup_matches_pandas_for_every_integer_width(dtype, data, how, holes):
    info = np.iinfo(dtype)
    low = data.draw(st.integers(int(info.min), int(info.max)))
    span = data.draw(st.integers(1, min(40, int(info.max) - low + 1)))
    keys = list(range(low, low + span))  # Python ints: NumPy's arange overflows at the top of int64
    if holes and span > 2:
        keys = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=span, unique=True))
    probes = data.draw(st.lists(st.one_of(st.sampled_from(keys), st.integers(int(info.min), int(info.max))),
                                max_size=30))
    right = pd.DataFrame({"k": np.array(keys, dtype=dtype), "z": np.arange(len(keys)) * 1.5,
                          "s": pd.array([f"r{v}" for v in range(len(keys))], dtype="str")})
    left = pd.DataFrame({"k": np.array(probes, dtype=dtype), "v": np.arange(len(probes))})
    merge = LookupMerge(list(pd.merge(left.iloc[:0], right.iloc[:0], **{**_KW, "how": how}).columns))
    for _ in range(2):  # the second call reuses the lookup built for this right frame
        tm.assert_frame_equal(_lookup_merge(merge, left, right, how), pd.merge(left, right, **{**_KW, "how": how}))


def test_narrow_keys_do_not_wrap_onto_another_keys_slot():
    # In int8, 82 - (-100) wraps to -74, which indexes the slot of key 9 in a range of 183 slots.
    right = pd.DataFrame({"k": np.array([-100, 82], dtype="int8"), "b": [10, 20]})
    left = pd.DataFrame({"k": np.array([9, 82, -100], dtype="int8"), "a": [1, 2, 3]})
    expected = pd.merge(left, right, on="k")
    tm.assert_frame_equal(_lookup_merge(None, left, right, "inner"), expected)
    got = sd.from_pandas(left, npartitions=1).merge(right, on="k").compute()
    tm.assert_frame_equal(got, expected)


def test_full_range_gather_keeps_dtypes_names_and_suffixes():
    right = pd.DataFrame({"k": np.arange(5, 10), "x": np.arange(5.0), "t": pd.date_range("2020", periods=5),
                          "c": pd.Categorical(list("abcab"))})
    left = pd.DataFrame({"x": [1.0, 2.0, 3.0], "k": [9, 5, 7]})
    for how in ("inner", "left"):
        tm.assert_frame_equal(_lookup_merge(None, left, right, how), pd.merge(left, right, how=how, on="k"))
    # A key outside the range: inner drops the row, left falls back to pandas for its missing values.
    outside = pd.DataFrame({"x": [1.0, 2.0], "k": [4, 6]})
    for how in ("inner", "left"):
        tm.assert_frame_equal(_lookup_merge(None, outside, right, how), pd.merge(outside, right, how=how, on="k"))
    empty = left.iloc[:0]
    tm.assert_frame_equal(_lookup_merge(None, empty, right, "inner"), pd.merge(empty, right, on="k"))


def _tasks(collection) -> dict:
    graph = collection.__dask_graph__()
    names = {}
    for key in graph:
        name = key[0] if isinstance(key, tuple) else key
        prefix = name.rsplit("-", 1)[0]
        names[prefix] = names.get(prefix, 0) + 1
    return names


def test_broadcast_merge_reads_and_merges_each_partition_in_one_task(tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"id": rng.integers(0, 30, 300), "x": rng.normal(size=300)})
    for j in range(3):
        frame.iloc[j * 100:(j + 1) * 100].to_parquet(tmp_path / f"part.{j}.parquet", index=False)
    small = pd.DataFrame({"id": np.arange(25), "z": np.arange(25) * 2.0})
    expected = pd.concat([pd.merge(frame.iloc[j * 100:(j + 1) * 100], small, on="id") for j in range(3)])
    merged = sd.read_parquet(str(tmp_path)).merge(small, on="id")
    assert _tasks(merged) == {"merge": 3, "from-pandas": 1}
    tm.assert_frame_equal(merged.compute(), expected)
    # A blockwise broadcast side would be recomputed by every task if inlined: it keeps its own key,
    # and the big side keeps its own tasks too.
    derived = sd.from_pandas(small, npartitions=1).assign(w=1)
    merged = sd.read_parquet(str(tmp_path)).merge(derived, on="id")
    counts = _tasks(merged)
    assert counts["merge"] == 3 and counts["read-parquet"] == 3 and counts["assign"] == 1
    tm.assert_frame_equal(merged.compute(), expected.assign(w=1))


def test_lookup_keeps_object_string_and_categorical_columns_as_pandas_does():
    # From a bare object array of strings pandas 3 infers ``str``: the lookup must not hand it one.
    right = pd.DataFrame({"k": np.arange(4), "o": pd.Series(["a", None, "c", "d"], dtype=object),
                          "s": pd.Series(["w", "x", None, "z"], dtype="str"), "c": pd.Categorical(list("abab"))})
    left = pd.DataFrame({"k": [3, 1, 1, 0], "lo": pd.Series(["p", "q", "r", None], dtype=object)})
    for how in ("inner", "left"):
        got = _lookup_merge(None, left, right, how)
        tm.assert_frame_equal(got, pd.merge(left, right, on="k", how=how))
        assert got["o"].dtype == object and got["lo"].dtype == object
    spread = right.assign(k=right.k * 1_000_003)  # a hash lookup instead of a dense one
    tm.assert_frame_equal(_lookup_merge(None, left.assign(k=left.k * 1_000_003), spread, "inner"),
                          pd.merge(left.assign(k=left.k * 1_000_003), spread, on="k"))


def test_writing_into_a_merge_result_leaves_its_inputs_alone():
    # Every left row kept: the result shares the left columns, and pandas must know it (copy-on-write).
    for index in (None, [7, 3, 5]):
        big = pd.DataFrame({"k": [0, 1, 2], "v": [1.0, 2.0, 3.0], "o": np.array(["a", "b", "c"], dtype=object)},
                           index=index)
        small = pd.DataFrame({"k": [0, 1, 2], "z": [10.0, 20.0, 30.0]})
        before = big.copy()
        for how in ("inner", "left"):
            out = sd.from_pandas(big, npartitions=1, sort=False).merge(small, on="k", how=how).compute(scheduler="sync")
            tm.assert_frame_equal(out, pd.merge(big, small, on="k", how=how))
            out.loc[0, "v"] = 99.0
            out.loc[1, "o"] = "changed"
            out.loc[2, "z"] = -1.0
            tm.assert_frame_equal(big, before)
            tm.assert_frame_equal(small, pd.DataFrame({"k": [0, 1, 2], "z": [10.0, 20.0, 30.0]}))


def test_left_join_misses_get_the_missing_values_and_dtypes_pandas_gives():
    n = 4
    right = pd.DataFrame({
        "k": np.arange(n), "b": [True, False, True, False], "i8": np.arange(n, dtype="int8"),
        "u64": np.array([0, 2**63, 5, 7], dtype="uint64"), "f32": np.arange(n, dtype="float32"),
        "I": pd.array([1, None, 3, 4], dtype="Int64"), "B": pd.array([True, None, False, True], dtype="boolean"),
        "c": pd.Categorical(list("abca")), "t": pd.date_range("2024", periods=n),
        "tz": pd.date_range("2024", periods=n, tz="Europe/Paris"), "d": pd.to_timedelta(np.arange(n), unit="s"),
        "o": np.array(["w", None, "y", "z"], dtype=object), "s": pd.Series(["w", None, "y", "z"], dtype="str"),
    })
    for probes in ([3, 9, 0, -4, 2], [9, 10], [1, 2]):
        left = pd.DataFrame({"k": probes, "v": np.arange(len(probes), dtype=float)})
        for spread in (1, 1_000_003):  # a dense lookup, then a hash lookup
            lk, rk = left.assign(k=left.k * spread), right.assign(k=right.k * spread)
            tm.assert_frame_equal(_lookup_merge(None, lk, rk, "left"), pd.merge(lk, rk, on="k", how="left"))

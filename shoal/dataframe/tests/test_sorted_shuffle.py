"""The sorting shuffle behind set_index and one-key sort_values: exact pandas order, ties included.

pandas' stable sort of the whole frame is the reference: rows with equal keys
must come out in their input order, across partitions too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shoal
import shoal.dataframe as sd
from shoal.dataframe._shuffle import RangePartitioner
from shoal.dataframe._sort_kernels import order_codes, radix_argsort, sorted_present, split_order
from shoal.dataframe._string_codes import decode_strings, encode_strings, unify_codes

# -- kernels ---------------------------------------------------------------------------------------

_FLOATS = hnp.arrays(np.float64, st.integers(0, 300),
                     elements=st.one_of(st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1.0, 1e-300])))
_INTS = hnp.arrays(st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.uint64]), st.integers(0, 300))


@given(values=st.one_of(_FLOATS, _INTS), ascending=st.booleans())
@settings(max_examples=150, deadline=None)
def test_radix_order_is_pandas_stable_order(values, ascending):
    expected = pd.Series(values).sort_values(ascending=ascending, kind="stable").index.to_numpy()
    np.testing.assert_array_equal(radix_argsort(order_codes(values, ascending)), expected)


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).normal(size=20_000),  # wide codes: high 32 bits first, then a merge sort
    1 + np.random.default_rng(1).integers(0, 50, 20_000) * 2.0**-52,  # only the lowest bits differ
    np.random.default_rng(2).integers(-2**62, 2**62, 20_000),
    np.round(np.random.default_rng(3).normal(size=20_000), 1),  # many ties
    (np.random.default_rng(4).integers(0, 10**6, 20_000) * 10**9).astype("M8[ns]"),
])
@pytest.mark.parametrize("ascending", [True, False])
def test_radix_order_on_large_inputs(values, ascending):
    keys = pd.Series(values)
    order, missing = sorted_present(keys, ascending)
    np.testing.assert_array_equal(order, keys.sort_values(ascending=ascending, kind="stable").index.to_numpy())
    assert not len(missing)


def _ranges(keys: pd.Series, divisions: tuple, ascending: bool) -> list[np.ndarray]:
    order, counts, missing = split_order(keys, divisions, ascending)
    assert counts.sum() == len(order) and len(order) + len(missing) == len(keys)
    ends = np.cumsum(counts)
    return [order[e - c:e] for c, e in zip(counts, ends, strict=True)]


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 3000), nparts=st.integers(1, 6), ascending=st.booleans(),
       kind=st.sampled_from(["float", "float-ties", "int", "datetime", "string"]))
@settings(max_examples=60, deadline=None)
def test_split_order_cuts_like_the_range_partitioner(seed, n, nparts, ascending, kind):
    rng = np.random.default_rng(seed)
    values = {"float": rng.normal(size=n), "float-ties": rng.integers(-3, 3, n) / 2, "int": rng.integers(-9, 9, n),
              "datetime": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, n), unit="h"),
              "string": rng.choice(["a", "b", "bb", "", "é", "z"], n)}[kind]
    keys = pd.Series(values)
    if kind in ("float", "float-ties", "string") and n:
        keys[rng.random(n) < 0.1] = np.nan
    pool = keys.dropna().sort_values().tolist() or [0]
    # Divisions taken from the keys themselves (ties with a division), plus some beyond the data.
    inner = sorted(rng.choice(np.arange(len(pool)), nparts - 1).tolist()) if nparts > 1 else []
    divisions = (pool[0], *[pool[i] for i in inner], pool[-1])
    expected = RangePartitioner(None, divisions, ascending, values=True)(keys)
    for j, rows in enumerate(_ranges(keys, divisions, ascending)):
        assert (expected[rows] == j).all()
        assert sorted(rows.tolist()) == np.flatnonzero((expected == j) & keys.notna().to_numpy()).tolist()


def test_split_order_floats_sort_within_ranges_exactly_at_the_cuts():
    rng = np.random.default_rng(5)
    keys = pd.Series(np.concatenate([rng.normal(size=5000), np.full(50, 0.25), [0.25 + 2.0**-40] * 5]))
    for ascending in (True, False):
        divisions = (-10.0, 0.25, 0.25 + 2.0**-40, 10.0)
        ranges = _ranges(keys, divisions, ascending)
        if not ascending:
            ranges = ranges[::-1]
        assert (keys[ranges[0]] < 0.25).all() and (keys[ranges[1]] == 0.25).all()
        assert (keys[ranges[2]] >= 0.25 + 2.0**-40).all()


# -- string columns as codes ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", pd.ArrowDtype(pa.string())])
def test_string_codes_round_trip_with_nulls(dtype):
    rng = np.random.default_rng(0)
    values = rng.choice(["b", "a", None, "cc"], 5000).tolist()
    part = pd.DataFrame({"s": pd.array(values, dtype=dtype), "v": np.arange(5000)})
    coded, dicts = encode_strings(part)
    assert list(dicts) == [0] and coded.s.dtype == np.int32
    tm.assert_frame_equal(decode_strings(coded, dicts), part)
    # Another partition with other strings: one dictionary for both.
    other = pd.DataFrame({"s": pd.array(["zz", "a"] * 2000, dtype=dtype), "v": np.arange(4000)})
    other_coded, other_dicts = encode_strings(other)
    frames, shared = unify_codes([coded, other_coded], [dicts, other_dicts])
    tm.assert_frame_equal(decode_strings(pd.concat(frames), shared), pd.concat([part, other]))


def test_string_codes_skip_unique_strings_and_the_key():
    part = pd.DataFrame({"u": [f"row-{i}" for i in range(5000)], "k": ["a", "b"] * 2500})
    coded, dicts = encode_strings(part, skip="k")
    assert not dicts and coded is part


# -- set_index / sort_values against pandas -------------------------------------------------------

def _frame(n: int, seed: int, key: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keys = {
        "float": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n).round(1)),
        "int": rng.integers(0, 20, n),
        "datetime": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 50, n), unit="D"),
        "string": pd.array(rng.choice(["x", "y", "zz", "w", "é", "", None], n), dtype="str"),
        "category": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
    }[key]
    return pd.DataFrame({
        "key": keys,
        "row": np.arange(n),
        "name": pd.array(rng.choice(["ann", "bob", None, "cy"], n), dtype="str"),
        "obj": pd.Series([f"o{i % 7}" for i in range(n)], dtype=object),
    })


@pytest.mark.parametrize("key", ["float", "int", "datetime", "string", "category"])
@pytest.mark.parametrize("nparts,nout", [(1, 1), (4, 3), (7, 5)])
def test_set_index_is_pandas_stable_sort(key, nparts, nout):
    pdf = _frame(20000, 7, key)
    if key == "category":
        pdf = pdf.dropna(subset=["key"])
    df = sd.from_pandas(pdf, npartitions=nparts, sort=False)
    out = df.set_index("key", npartitions=nout)
    got = out.compute(scheduler="sync")
    tm.assert_frame_equal(got, pdf.set_index("key").sort_index(kind="stable"))
    assert list(got.dtypes) == list(out._meta.dtypes)
    assert out.known_divisions


@pytest.mark.parametrize("key", ["float", "int", "string"])
@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("na_position", ["first", "last"])
def test_sort_values_one_key_is_pandas_stable_sort(key, ascending, na_position):
    pdf = _frame(12000, 11, key)
    df = sd.from_pandas(pdf, npartitions=5, sort=False)
    got = df.sort_values("key", ascending=ascending, na_position=na_position, npartitions=4).compute()
    tm.assert_frame_equal(got, pdf.sort_values("key", ascending=ascending, na_position=na_position, kind="stable"))
    series = sd.from_pandas(pdf.key, npartitions=3, sort=False)
    tm.assert_series_equal(series.sort_values(ascending=ascending, na_position=na_position).compute(),
                           pdf.key.sort_values(ascending=ascending, na_position=na_position, kind="stable"))


def test_set_index_with_empty_partitions_duplicates_and_outside_divisions():
    pdf = pd.DataFrame({"k": np.repeat([3.0, 1.0, 2.0, np.nan], 500), "v": np.arange(2000)})
    df = sd.from_pandas(pdf, npartitions=4, sort=False)
    df = df[df.v % 500 != 499]  # leaves partitions of unequal sizes
    kept = pdf[pdf.v % 500 != 499]
    tm.assert_frame_equal(df.set_index("k").compute(), kept.set_index("k").sort_index(kind="stable"))
    fixed = df.set_index("k", divisions=[1.5, 2.0, 2.5])
    parts = [p.compute() for p in fixed.to_delayed()]
    assert (parts[0].index.dropna() < 2.0).all() and parts[1].index.dropna().min() >= 2.0
    tm.assert_frame_equal(fixed.compute(), kept.set_index("k").sort_index(kind="stable"))
    empty = sd.from_pandas(pdf, npartitions=3)
    empty = empty[empty.v < 0]
    assert len(empty.set_index("k", divisions=[0.0, 1.0]).compute()) == 0


def test_strings_coded_in_some_partitions_only():
    rng = np.random.default_rng(3)
    few = pd.DataFrame({"k": rng.normal(size=4000), "s": pd.array(rng.choice(["p", "q"], 4000), dtype="str")})
    many = pd.DataFrame({"k": rng.normal(size=4000), "s": pd.array([f"u{i}" for i in range(4000)], dtype="str")})
    pdf = pd.concat([few, many], ignore_index=True)
    out = sd.from_pandas(pdf, npartitions=2, sort=False).set_index("k", npartitions=3).compute()
    tm.assert_frame_equal(out, pdf.set_index("k").sort_index(kind="stable"))


def test_sorting_shuffle_spills_to_disk(tmp_path):
    pdf = _frame(12000, 2, "float")
    df = sd.from_pandas(pdf, npartitions=4, sort=False)
    with shoal.config.set({"dataframe.shuffle.method": "disk", "temporary-directory": str(tmp_path)}):
        tm.assert_frame_equal(df.set_index("key").compute(), pdf.set_index("key").sort_index(kind="stable"))
        got = df.sort_values("key", ascending=False).compute()
    tm.assert_frame_equal(got, pdf.sort_values("key", ascending=False, kind="stable"))
    assert not list(tmp_path.rglob("*.pkl"))


def test_set_index_on_the_threaded_scheduler():
    pdf = _frame(20000, 9, "float")
    df = sd.from_pandas(pdf, npartitions=6, sort=False)
    got = df.set_index("key").compute(scheduler="threads")
    tm.assert_frame_equal(got, pdf.set_index("key").sort_index(kind="stable"))


def test_split_results_survive_pickling():
    import pickle

    from shoal.dataframe._sorted_shuffle import SortSpec, _gather_sorted, _split_sorted

    pdf = _frame(9000, 4, "float").set_index("key")
    spec = SortSpec(None, (-3.0, -0.5, 0.5, 3.0))
    splits = [pickle.loads(pickle.dumps(_split_sorted(part, spec))) for part in (pdf.iloc[:4000], pdf.iloc[4000:])]
    assert any(splits[0][0][1])  # the string column travelled as codes
    got = pd.concat([_gather_sorted(j, splits, pickle.loads(pickle.dumps(spec)), pdf.iloc[:0]) for j in range(3)])
    tm.assert_frame_equal(got, pdf.sort_index(kind="stable"))

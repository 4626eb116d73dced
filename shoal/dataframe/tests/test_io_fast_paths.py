"""The faster readers and the broadcast merge give what pandas gives (issue 5's speed work, session 3).

Covers: row-group pruning from Parquet footers, string columns read as
dictionaries, the direct Arrow-to-pandas conversion, the dense-array lookup
of :class:`~shoal.dataframe._merge.LookupMerge`, ``len(read_csv(...))`` on
malformed files, and ``Index.memory_usage``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._io.parquet import ReadParquet
from shoal.dataframe._lower import optimize, walk
from shoal.dataframe._merge import LookupMerge

# -- Parquet: row groups pruned from the footers ------------------------------------------------------------


@pytest.fixture(scope="module")
def ranged_dataset(tmp_path_factory) -> tuple[str, pd.DataFrame]:
    """Two files of four row groups each; ``i`` rises through the groups, so each group has its own range."""
    root = tmp_path_factory.mktemp("ranged")
    frames = []
    for f in range(2):
        n = 40
        i = np.arange(f * n, (f + 1) * n)
        frame = pd.DataFrame({"i": i, "u": i.astype("uint32"), "x": i / 4.0, "s": [f"s{v % 7}" for v in i]})
        frame.loc[frame.index[3], "x"] = np.nan  # left out of the statistics
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), root / f"part.{f}.parquet",
                       row_group_size=10)
        frames.append(frame)
    return str(root), pd.concat(frames, ignore_index=True)


def _expected(full: pd.DataFrame, filters: list) -> pd.DataFrame:
    conjuncts = filters if isinstance(filters[0], list) else [filters]
    keep = np.zeros(len(full), dtype=bool)
    for conjunct in conjuncts:
        both = np.ones(len(full), dtype=bool)
        for column, op, value in conjunct:
            data = full[column]
            if op in ("in", "not in"):
                hit = data.isin(list(value)).to_numpy()
                hit = ~hit if op == "not in" else hit  # Arrow's ``~isin``: missing values are "not in"
            else:
                hit = {"==": data == value, "!=": (data != value) & data.notna(), ">": data > value,
                       ">=": data >= value, "<": data < value, "<=": data <= value}[op].to_numpy()
            both &= hit
        keep |= both
    return full[keep].reset_index(drop=True)


_conditions = st.tuples(st.sampled_from(["i", "u", "x"]),
                        st.sampled_from(["==", "!=", ">", ">=", "<", "<="]),
                        st.one_of(st.integers(-5, 85), st.floats(-5, 25, allow_nan=False)))
_in_conditions = st.tuples(st.sampled_from(["i", "x"]), st.sampled_from(["in", "not in"]),
                           st.lists(st.integers(-3, 85), min_size=1, max_size=3))


@given(filters=st.one_of(st.lists(st.one_of(_conditions, _in_conditions), min_size=1, max_size=3),
                         st.lists(st.lists(_conditions, min_size=1, max_size=2), min_size=1, max_size=3)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_filters_pruned_from_statistics_match_pandas(ranged_dataset, filters):
    path, full = ranged_dataset
    got = sd.read_parquet(path, filters=filters).compute(scheduler="sync").reset_index(drop=True)
    tm.assert_frame_equal(got, _expected(full, filters))


def test_footer_pruning_skips_the_same_row_groups_as_arrow(ranged_dataset):
    path, full = ranged_dataset
    df = sd.read_parquet(path, filters=[("i", ">=", 35), ("i", "<", 52)])
    (reader,) = [e for e in walk(optimize(df._expr)) if isinstance(e, ReadParquet)]
    assert [groups for _, groups in reader.ids] == [(3,), (0, 1)]
    tm.assert_frame_equal(df.compute().reset_index(drop=True), full[(full.i >= 35) & (full.i < 52)]
                          .reset_index(drop=True))
    # A pushed-down predicate re-prunes among the groups already chosen.
    narrowed = df[df.x > 12.0]
    (reader,) = [e for e in walk(optimize(narrowed._expr)) if isinstance(e, ReadParquet)]
    assert [groups for _, groups in reader.ids] == [(0, 1)]


def test_filters_on_strings_and_split_row_groups_still_prune(ranged_dataset):
    path, full = ranged_dataset
    got = sd.read_parquet(path, filters=[("s", "==", "s3")], split_row_groups=True)
    assert got.npartitions == 8  # every group holds an s3: string filters go to Arrow, which keeps them
    tm.assert_frame_equal(got.compute().reset_index(drop=True), full[full.s == "s3"].reset_index(drop=True))
    numeric = sd.read_parquet(path, filters=[("i", "<", 15)], split_row_groups=True)
    assert numeric.npartitions == 2


# -- Parquet: dictionary-encoded strings and the direct conversion ------------------------------------------

def test_string_columns_read_as_dictionaries_match_pandas(tmp_path):
    rng = np.random.default_rng(1)
    n = 3000
    low = pd.Series(rng.choice(["a", "bb", "ccc"], n), dtype="str")
    low[::17] = None
    high = pd.Series([f"v{i}-{rng.integers(1 << 40)}" for i in range(n)], dtype="str")
    frame = pd.DataFrame({"low": low, "high": high, "x": rng.normal(size=n), "n": rng.integers(0, 5, n)})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Dictionary pages on, off, and a tiny dictionary limit that makes the writer fall back to plain pages.
    pq.write_table(table, tmp_path / "part.0.parquet", row_group_size=1000)
    pq.write_table(table, tmp_path / "part.1.parquet", row_group_size=1000, use_dictionary=False)
    pq.write_table(table, tmp_path / "part.2.parquet", row_group_size=1000, dictionary_pagesize_limit=64)
    expected = pd.concat([frame] * 3, ignore_index=True)
    got = sd.read_parquet(str(tmp_path)).compute()
    tm.assert_frame_equal(got.reset_index(drop=True), expected)
    assert got.low.dtype == pd.read_parquet(tmp_path / "part.0.parquet").low.dtype
    filtered = sd.read_parquet(str(tmp_path), columns=["low", "n"], filters=[("n", ">=", 3)]).compute()
    tm.assert_frame_equal(filtered.reset_index(drop=True),
                          expected.loc[expected.n >= 3, ["low", "n"]].reset_index(drop=True))


def test_direct_conversion_keeps_dtypes_the_pandas_metadata_restores(tmp_path):
    frame = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0],
                          "c": pd.Categorical(["x", "y", "x"]), "d": [True, False, True]})
    frame.columns.name = "cols"
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    expected = pd.read_parquet(tmp_path / "f.parquet")
    tm.assert_frame_equal(sd.read_parquet(str(tmp_path / "f.parquet")).compute(), expected)
    plain = pd.DataFrame({"b": [1.0, 2.0], "s": ["p", "q"]})
    plain.to_parquet(tmp_path / "g.parquet", index=False)
    for columns in (None, ["s", "b"], ["s"]):
        got = sd.read_parquet(str(tmp_path / "g.parquet"), columns=columns).compute()
        tm.assert_frame_equal(got, pd.read_parquet(tmp_path / "g.parquet", columns=columns))
    tm.assert_frame_equal(sd.read_parquet(str(tmp_path / "g.parquet"), index="s").compute(),
                          pd.read_parquet(tmp_path / "g.parquet").set_index("s"))


# -- Broadcast merge: dense lookup ---------------------------------------------------------------------------

_KW = {"how": "inner", "left_on": ["k"], "right_on": ["k"], "left_index": False, "right_index": False,
       "suffixes": ("_x", "_y"), "indicator": False}


def _lookup_merge(left: pd.DataFrame, right: pd.DataFrame, **kwargs) -> pd.DataFrame:
    kw = {**_KW, **kwargs}
    return LookupMerge(list(pd.merge(left.iloc[:0], right.iloc[:0], **kw).columns))(left, right, kw)


@given(keys=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=6, unique=True),
       probes=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8), dtype=st.sampled_from(["int64", "uint64"]),
       how=st.sampled_from(["inner", "left"]), compact=st.booleans())
@settings(max_examples=80, deadline=None)
def test_dense_lookup_matches_pandas_at_the_edges_of_the_key_range(keys, probes, dtype, how, compact):
    if compact:
        base = keys[0] // 2
        keys = [base + i for i in range(len(keys))]
        probes = [base + p % 9 - 1 for p in probes] + [base - 2**62, base + 2**62]
    if dtype == "uint64":
        keys, probes = [k % 2**64 for k in keys], [p % 2**64 for p in probes]
    right = pd.DataFrame({"k": np.array(keys, dtype=dtype), "z": np.arange(len(keys), dtype="float64")})
    left = pd.DataFrame({"k": np.array(probes, dtype=dtype), "v": np.arange(len(probes))})
    tm.assert_frame_equal(_lookup_merge(left, right, how=how), pd.merge(left, right, **{**_KW, "how": how}))


def test_lookup_merge_reuses_its_lookup_only_for_the_same_right_frame():
    merge = LookupMerge(["k", "v", "z"])
    left = pd.DataFrame({"k": [1, 2, 3], "v": [1.0, 2.0, 3.0]})
    first = pd.DataFrame({"k": [1, 2, 3], "z": ["a", "b", "c"]})
    second = pd.DataFrame({"k": [3, 2, 1], "z": ["c", "b", "a"]})
    for right in (first, second, first):
        tm.assert_frame_equal(merge(left, right, _KW), pd.merge(left, right, **_KW))
    duplicated = pd.DataFrame({"k": [1, 1, 2], "z": ["a", "A", "b"]})
    tm.assert_frame_equal(merge(left, duplicated, _KW), pd.merge(left, duplicated, **_KW))
    import pickle

    tm.assert_frame_equal(pickle.loads(pickle.dumps(merge))(left, first, _KW), pd.merge(left, first, **_KW))


def test_broadcast_merge_of_parquet_with_strings_matches_pandas(tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"id": rng.integers(0, 60, 500), "name": rng.choice(["p", "q", "r"], 500),
                          "x": rng.normal(size=500)})
    for i in range(3):
        frame.iloc[i * 200:(i + 1) * 200].to_parquet(tmp_path / f"part.{i}.parquet", index=False)
    small = pd.DataFrame({"id": np.arange(50), "name": [f"n{i}" for i in range(50)]})
    for how in ("inner", "left"):
        got = sd.read_parquet(str(tmp_path)).merge(small, on="id", how=how).compute()
        expected = pd.concat([pd.merge(frame.iloc[i * 200:(i + 1) * 200], small, on="id", how=how)
                              for i in range(3)])
        tm.assert_frame_equal(got, expected)


# -- read_csv: counting rows stays correct on malformed files ------------------------------------------------

_GOOD = b"".join(b"%d,%d\n" % (i, i) for i in range(3000))


@pytest.mark.parametrize("bad, error", [
    (b"3,4,5\n", pd.errors.ParserError),          # a field too many
    (b"1,2,\n", pd.errors.ParserError),           # an empty field too many
    (b'1,"x,y",5\n', pd.errors.ParserError),      # a quoted separator, then a field too many
    (b'1,"open\n', pd.errors.ParserError),        # a quote never closed
    (b"1,\xff\n", UnicodeDecodeError),            # not UTF-8
])
@pytest.mark.parametrize("blocksize", [None, 20_000])
def test_len_and_projections_of_malformed_csv_raise_like_pandas(tmp_path, bad, error, blocksize):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n" + _GOOD + bad + _GOOD)
    with pytest.raises(error):
        pd.read_csv(path)
    df = sd.read_csv(str(path), blocksize=blocksize, sample=1000)  # the sample ends before the bad row
    with pytest.raises(error):
        len(df)
    with pytest.raises(error):
        df.a.sum().compute()


def test_len_with_numeric_dtype_parses_values_like_pandas(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n" + _GOOD + b"1,x\n")
    with pytest.raises(ValueError):
        pd.read_csv(path, dtype={"b": "int64"})
    with pytest.raises(ValueError):
        len(sd.read_csv(str(path), dtype={"b": "int64"}, sample=1000))
    assert len(sd.read_csv(str(path), dtype={"b": "str"}, sample=1000)) == 3001


_CSV_BYTES = st.lists(st.sampled_from([b"1", b"a", b",", b'"', b"\n", b"\r\n", b"\r", b" ", b"\t", b'""']), max_size=30)


@given(header=st.sampled_from([b"a,b\n", b"a\n", b'"a","b","c"\n', b"a,b\r\n", b"a;b\n"]), body=_CSV_BYTES)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_len_of_random_csv_agrees_with_pandas(tmp_path, header, body):
    path = tmp_path / "r.csv"
    path.write_bytes(header + b"".join(body))
    try:
        frame = pd.read_csv(path)
        expected: object = len(frame) if type(frame.index) is pd.RangeIndex else pd.errors.ParserError
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        expected = type(exc)
    df = sd.read_csv(str(path), blocksize=None, sample=1)  # only the header is sampled
    if isinstance(expected, int):
        assert len(df) == expected
    else:
        with pytest.raises(expected):
            len(df)


# -- Index.memory_usage --------------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [pd.Index([5, 1, 9, 3, 7, 2]), pd.Index(list("abcdef")),
                                   pd.date_range("2020", periods=6)])
@pytest.mark.parametrize("deep", [False, True])
def test_index_memory_usage_sums_the_partitions(index, deep):
    frame = pd.DataFrame({"x": range(6)}, index=index)
    df = sd.from_pandas(frame, npartitions=3, sort=False)
    got = df.index.memory_usage(deep=deep)
    expected = sum(frame.iloc[i:i + 2].index.memory_usage(deep=deep) for i in range(0, 6, 2))
    assert got.compute() == expected
    if deep or index.dtype.kind != "O":
        assert got.compute() == index.memory_usage(deep=deep)


def test_len_of_a_record_longer_than_the_tokenizer_block_falls_back_to_pandas(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(b'a,b\n1,"' + b"x" * 1_500_000 + b'"\n2,3\n')
    assert len(sd.read_csv(str(path), sample=100)) == len(pd.read_csv(path)) == 2


def test_one_partition_result_is_writable(tmp_path):
    # The fast Arrow-to-pandas conversion shares Arrow's read-only memory; a computed result must not.
    pdf = pd.DataFrame({"x": np.arange(5.0), "i": np.arange(5), "s": list("abcde")})
    pdf.to_parquet(tmp_path / "a.parquet")
    out = sd.read_parquet(str(tmp_path)).compute()
    out.loc[0, "x"] = 9.0
    out.loc[1, "i"] = 7
    series = sd.read_parquet(str(tmp_path)).x.compute()
    series.iloc[0] = 3.0
    expected = pdf.copy()
    expected.loc[0, "x"], expected.loc[1, "i"] = 9.0, 7
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert series.tolist() == [3.0, 1.0, 2.0, 3.0, 4.0]

"""Dictionary-encoded strings decoded to plain strings: the same arrays as Arrow's cast, and as pandas reads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._io.string_dictionary import decode_chunked, decode_fixed_width
from shoal.dataframe.utils import assert_eq

TARGETS = [pa.string(), pa.large_string()]


@st.composite
def dictionary_arrays(draw: st.DrawFn) -> pa.DictionaryArray:
    width = draw(st.integers(0, 70))
    fixed = draw(st.booleans())
    alphabet = st.characters(codec="utf-8", exclude_categories=["Cs"])
    values = draw(st.lists(st.text(alphabet, min_size=0, max_size=width), min_size=1, max_size=12, unique=True))
    if fixed:
        values = sorted({v.encode()[:width].decode("utf-8", "ignore").ljust(width, "x")[:width] for v in values})
        values = [v for v in values if len(v.encode()) == width] or ["a" * max(width, 1)]
    n = draw(st.integers(0, 300))
    codes = draw(st.lists(st.integers(0, len(values) - 1), min_size=n, max_size=n))
    nulls = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if draw(st.booleans()) else [False] * n
    index_type = draw(st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64()]))
    indices = pa.array(codes, type=index_type, mask=np.array(nulls, dtype=bool))
    array = pa.DictionaryArray.from_arrays(indices, pa.array(values, type=draw(st.sampled_from(TARGETS))))
    if n and draw(st.booleans()):
        start = draw(st.integers(0, n))
        array = array.slice(start, draw(st.integers(0, n - start)))
    return array


@settings(max_examples=300, deadline=None)
@given(dictionary_arrays(), st.sampled_from(TARGETS))
def test_decoded_equals_arrow_cast(array: pa.DictionaryArray, target: pa.DataType) -> None:
    expected = array.cast(target)
    fast = decode_fixed_width(array, target)
    if fast is not None:
        fast.validate(full=True)
        assert fast.equals(expected)
    chunked = decode_chunked(pa.chunked_array([array, array]), target)
    chunked.validate(full=True)
    assert chunked.equals(pa.chunked_array([expected, expected]))


def test_fixed_width_path_taken_for_equal_widths() -> None:
    array = pa.DictionaryArray.from_arrays(pa.array([2, 0, 1, 1], pa.int32()), pa.array(["abc", "def", "ghi"]))
    out = decode_fixed_width(array, pa.large_string())
    assert out is not None and out.to_pylist() == ["ghi", "abc", "def", "def"]
    uneven = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["a", "bc"]))
    assert decode_fixed_width(uneven, pa.large_string()) is None
    assert decode_fixed_width(array, pa.int64()) is None  # not a string target: left to Arrow's cast


def test_nulls_at_unaligned_offset_fall_back() -> None:
    array = pa.DictionaryArray.from_arrays(pa.array([0, None, 1, 0, None, 1, 1, 0, 0, 1]), pa.array(["ab", "cd"]))
    assert decode_fixed_width(array.slice(3), pa.string()) is None
    out = decode_fixed_width(array.slice(8), pa.string())
    assert out is not None and out.equals(array.slice(8).cast(pa.string()))


@pytest.mark.parametrize("names", [["aa", "bb", "cc"], ["a", "bb", "ccc"], ["é1", "e12"]])
def test_read_parquet_dictionary_strings_match_pandas(tmp_path, names: list[str]) -> None:
    rng = np.random.default_rng(0)
    for i in range(3):
        frame = pd.DataFrame({"k": np.array(names, dtype=object)[rng.integers(0, len(names), 1000)],
                              "v": rng.random(1000)})
        frame.loc[frame.index % 7 == 3, "k"] = None
        frame.to_parquet(tmp_path / f"part.{i}.parquet", index=False, row_group_size=300)
    expected = pd.concat([pd.read_parquet(tmp_path / f"part.{i}.parquet") for i in range(3)])
    assert_eq(sd.read_parquet(tmp_path), expected)
    assert_eq(sd.read_parquet(tmp_path, columns=["k"]), expected[["k"]])

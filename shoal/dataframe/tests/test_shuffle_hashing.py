"""Hash partitioning sends equal keys to the same partition whatever form their strings take."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._shuffle import HashPartitioner
from shoal.dataframe.utils import assert_eq

STRING_DTYPES = [object, "str", "string[python]", "string[pyarrow]"]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=4)), min_size=1, max_size=60),
       n=st.integers(2, 9), ints=st.booleans())
def test_string_keys_partition_alike_in_every_dtype(values: list, n: int, ints: bool) -> None:
    other = np.arange(len(values)) % 3
    expected = None
    for dtype in STRING_DTYPES:
        frame = pd.DataFrame({"k": pd.Series(values, dtype=dtype), "i": other})
        on = ["k", "i"] if ints else ["k"]
        codes = HashPartitioner(on, n)(frame)
        assert codes.min() >= 0 and codes.max() < n
        # The reference: hashes of the keys as Python objects, as pandas computes them.
        if not ints:
            reference = pd.util.hash_array(np.array(frame["k"].tolist(), dtype=object)) % np.uint64(n)
            np.testing.assert_array_equal(codes, reference.astype(np.intp))
        if expected is None:
            expected = codes
        np.testing.assert_array_equal(codes, expected)


def test_merge_on_string_keys_of_different_dtypes() -> None:
    rng = np.random.default_rng(0)
    names = np.array(["ab", "cd", "ef", "gh", None], dtype=object)
    left = pd.DataFrame({"k": pd.Series(names[rng.integers(0, 5, 300)], dtype="str"), "a": np.arange(300)})
    right = pd.DataFrame({"k": pd.Series(names[:4][rng.integers(0, 4, 200)], dtype=object), "b": np.arange(200)})
    got = sd.from_pandas(left, npartitions=4).merge(sd.from_pandas(right, npartitions=3), on="k",
                                                    shuffle_method="tasks")
    expected = left.merge(right, on="k")
    assert_eq(got.compute().sort_values(["a", "b"]).reset_index(drop=True),
              expected.sort_values(["a", "b"]).reset_index(drop=True), check_dtype=False, check_index=False)


def test_groupby_apply_on_string_key_matches_pandas() -> None:
    rng = np.random.default_rng(1)
    pdf = pd.DataFrame({"k": pd.Series(np.array(list("abcde"))[rng.integers(0, 5, 500)], dtype="str"),
                        "x": rng.random(500)})
    got = sd.from_pandas(pdf, npartitions=5).groupby("k").apply(lambda g: g.x.sum() * len(g), meta=(None, "f8"))
    assert_eq(got, pdf.groupby("k").apply(lambda g: g.x.sum() * len(g)), check_names=False)

"""Result dtypes of ``.str`` methods for every string dtype, with and without missing values.

pandas decides some result dtypes from the data: on ``object`` and pandas 3's
``str`` dtype, ``len``/``count``/``find`` give int64 without missing values and
float64 with them (``object`` turns booleans into objects too), while
``string[python]``/``string[pyarrow]`` always give nullable ``Int64``/``boolean``.
The computed result must always equal pandas' (values and dtype); the lazy
meta, which can't see the data, is what pandas gives on the values without
their missing entries, and therefore exact whenever pandas' dtype doesn't
depend on them.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq

DTYPES = [object, "str", "string[python]", "string[pyarrow]"]
METHODS = [
    ("len", ()), ("count", ("a",)), ("find", ("a",)), ("rfind", ("b",)), ("index", ("",)),
    ("startswith", ("a",)), ("endswith", ("b",)), ("contains", ("ab",)), ("match", ("a",)),
    ("fullmatch", ("a+",)), ("isalpha", ()), ("isdigit", ()), ("isnumeric", ()), ("isalnum", ()),
    ("isdecimal", ()), ("islower", ()), ("isupper", ()), ("isspace", ()), ("istitle", ()),
    ("upper", ()), ("strip", ()), ("get", (0,)), ("slice", (0, 2)), ("replace", ("a", "z")),
    ("zfill", (4,)), ("pad", (5,)), ("repeat", (2,)), ("extract", ("(a)",)), ("split", ()),
    ("findall", ("a",)), ("wrap", (2,)), ("casefold", ()), ("removeprefix", ("a",)),
]
WORDS = ["ab", "ba", "c", "aa", "B1", "  ", "Ab", "12"]


def _call(obj, name, args):
    kwargs = {"expand": False} if name == "extract" else {}
    return getattr(obj.str, name)(*args, **kwargs)


def _missing_decides_dtype(pandas_dtype) -> bool:
    """Whether pandas' result dtype for this input dtype can depend on the presence of missing values."""
    return not isinstance(pandas_dtype, pd.StringDtype) or pandas_dtype.na_value is not pd.NA


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("missing", [False, True])
def test_every_method_dtype(dtype, missing):
    values = [None if missing and k % 3 == 1 else WORDS[k % len(WORDS)] for k in range(11)]
    s = pd.Series(values, dtype=dtype, name="s")
    d = sd.from_pandas(s, npartitions=4)
    for name, args in METHODS:
        want = _call(s, name, args)
        got = _call(d, name, args)
        result = got.compute()
        assert result.dtype == want.dtype, (name, result.dtype, want.dtype)
        assert_eq(got, want, check_meta=False)
        no_missing = _call(s.dropna(), name, args).dtype
        assert got._meta.dtype == no_missing, (name, got._meta.dtype, no_missing)
        if not missing or not _missing_decides_dtype(s.dtype):
            assert got._meta.dtype == result.dtype == want.dtype, (name, got._meta.dtype, want.dtype)


@given(words=st.lists(st.sampled_from([*WORDS, None]), min_size=1, max_size=25), nparts=st.integers(1, 5),
       dtype=st.sampled_from(DTYPES), name=st.sampled_from(["len", "count", "find", "startswith", "isalpha"]))
@settings(max_examples=40, deadline=None)
def test_partitioning_never_changes_the_dtype(words, nparts, dtype, name):
    """Partitions with and without missing values still concatenate to pandas' dtype for the whole column."""
    s = pd.Series(words, dtype=dtype)
    # An object column with no string at all: pandas answers objects for len/find/...; shoal's partitions
    # can't tell that from one all-missing partition among strings (floats on the whole column), and give floats.
    assume(dtype is not object or s.notna().any())
    args = dict(METHODS)[name]
    got = _call(sd.from_pandas(s, npartitions=nparts), name, args)
    want = _call(s, name, args)
    assert_eq(got, want, check_meta=not (s.isna().any() and _missing_decides_dtype(s.dtype)))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("data", [["a", "b", "c", "d", "e"], ["a", None, "c", None, None], [None, None, "x"], []])
def test_cat_without_others_joins_every_partition(dtype, data):
    s = pd.Series(data, dtype=dtype)
    for nparts in (1, 2, 4):
        d = sd.from_pandas(s, npartitions=nparts)
        for kwargs in ({}, {"sep": "-"}, {"sep": ",", "na_rep": "?"}):
            assert d.str.cat(**kwargs).compute() == s.str.cat(**kwargs)


@pytest.mark.parametrize("name", ["len", "count", "find", "index", "startswith"])
def test_a_partition_of_only_missing_values_keeps_pandas_dtype(name):
    s = pd.Series(["ab", "c", "ba", None, None, None], dtype=object)
    d = sd.from_pandas(s, npartitions=2)
    assert d.partitions[1].compute().isna().all()
    args = dict(METHODS)[name]
    assert_eq(_call(d, name, args), _call(s, name, args), check_meta=False)

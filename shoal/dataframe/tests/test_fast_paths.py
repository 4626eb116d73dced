"""The fast paths behind merges, shuffles and readers give exactly what pandas gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._io.csv import _count_rows
from shoal.dataframe._merge import LookupMerge


def _frames(seed: int, n_left: int, n_right: int, kind: str, unique: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    right_keys = rng.permutation(12)[:n_right] if unique else rng.integers(0, 12, n_right)
    left_keys = rng.integers(0, 14, n_left)
    if kind == "float":
        left_keys, right_keys = left_keys.astype("f8"), right_keys.astype("f8")
        if n_left:
            left_keys[0] = np.nan
        if n_right and unique:
            right_keys[-1] = np.nan
    elif kind == "datetime":
        left_keys = pd.to_datetime(left_keys, unit="D").to_numpy()
        right_keys = pd.to_datetime(right_keys, unit="D").to_numpy()
    left = pd.DataFrame({"k": left_keys, "v": rng.normal(size=n_left), "s": rng.choice(["a", "b"], n_left)},
                        index=rng.permutation(n_left) + 100)
    right = pd.DataFrame({"r": right_keys, "v": rng.integers(0, 9, n_right), "w": rng.choice(["x", "y"], n_right)})
    return left, right


@given(seed=st.integers(0, 2**16), n_left=st.integers(0, 25), n_right=st.integers(0, 12),
       kind=st.sampled_from(["int", "float", "datetime"]), unique=st.booleans(), how=st.sampled_from(["inner", "left"]),
       same_name=st.booleans())
@settings(max_examples=60, deadline=None)
def test_lookup_merge_matches_pandas(seed, n_left, n_right, kind, unique, how, same_name):
    left, right = _frames(seed, n_left, n_right, kind, unique)
    if same_name:
        right = right.rename(columns={"r": "k"})
    kwargs = {"how": how, "left_on": ["k"], "right_on": ["k" if same_name else "r"], "left_index": False,
              "right_index": False, "suffixes": ("_x", "_y"), "indicator": False}
    expected = pd.merge(left, right, **kwargs)
    got = LookupMerge(list(pd.merge(left.iloc[:0], right.iloc[:0], **kwargs).columns))(left, right, kwargs)
    tm.assert_frame_equal(got, expected)


def test_broadcast_merge_with_pandas_frame_matches_pandas():
    rng = np.random.default_rng(0)
    big = pd.DataFrame({"id": rng.integers(0, 50, 400), "x": rng.normal(size=400)})
    small = pd.DataFrame({"id": np.arange(40), "z": rng.random(40)})
    df = sd.from_pandas(big, npartitions=4)
    for how in ("inner", "left"):
        got = df.merge(small, on="id", how=how).compute(scheduler="sync")
        expected = pd.concat([pd.merge(big.iloc[i * 100:(i + 1) * 100], small, on="id", how=how) for i in range(4)])
        tm.assert_frame_equal(got, expected)


@pytest.mark.parametrize("text", [
    b"a,b\n1,2\n3,4\n", b"a,b\n1,2\n3,4", b"a,b\n", b"a,b", b"a,b\r\n1,2\r\n3,4\r\n", b"a,b\n1,2\n\n3,4\n",
    b"a,b\n1,2\n  \n3,4\n", b"a,b\n1,2\n\t\n", b"a,b\n1,2\r3,4\n", b"a,b\n1,2\n   ", b'a,b\n1,"x\ny"\n3,4\n',
    b'a,b\n1,"x""y"\n3,"z"\n', b'a,b\n"1",2\n', b"a,b\n 1,2\n3,4\n", b"a,b\n1,2\r", b'a,b\n1,"open\n',
])
def test_len_of_csv_counts_rows_like_pandas(tmp_path, text):
    (tmp_path / "f.csv").write_bytes(text)
    try:
        expected = len(pd.read_csv(tmp_path / "f.csv"))
    except pd.errors.ParserError:
        with pytest.raises(ValueError):  # ParserError, or read_csv's own error naming the file
            len(sd.read_csv(str(tmp_path / "f.csv"), blocksize=None))
        return
    # Small blocks cut quoted newlines apart (documented, as in Dask): only whole files for those.
    for blocksize in (None,) if b'"x\n' in text else (None, 5):
        assert len(sd.read_csv(str(tmp_path / "f.csv"), blocksize=blocksize)) == expected


def test_count_rows_declines_what_only_the_parser_knows():
    assert _count_rows(b"a\n1\n2\n") == 2
    assert _count_rows(b'a\n"1\n2"\n') is None
    assert _count_rows(b"a\n1\n\n2\n") is None

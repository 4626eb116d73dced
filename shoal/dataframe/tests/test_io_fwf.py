"""read_fwf against pandas.read_fwf on real files."""

from __future__ import annotations

import gzip
import io
import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal.dataframe as sd
from shoal.dataframe._io.fwf import infer_colspecs
from shoal.dataframe.utils import assert_eq


def _text(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    pdf = pd.DataFrame({
        "id": np.arange(n),
        "name": rng.choice(["ann", "bo", "carlotta", "d"], n),
        "value": rng.normal(size=n).round(3),
    })
    return pdf.to_string(index=False) + "\n"


def _write(path, text: str) -> str:
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def test_blocks_match_pandas(tmp_path):
    path = _write(tmp_path / "a.txt", _text(300))
    expected = pd.read_fwf(path)
    df = sd.read_fwf(path, blocksize=500)
    assert df.npartitions > 5
    assert_eq(df, expected, check_index=False)
    assert df.compute().name.dtype == expected.name.dtype
    assert_eq(sd.read_fwf(path), expected)
    assert_eq(sd.read_fwf(path, blocksize=None), expected)


@given(n=st.integers(1, 60), blocksize=st.integers(20, 400), seed=st.integers(0, 1000))
@settings(max_examples=25, deadline=None)
def test_any_blocksize(n, blocksize, seed):
    with tempfile.TemporaryDirectory() as d:
        path = _write(os.path.join(d, "a.txt"), _text(n, seed))
        expected = pd.read_fwf(path)
        got = sd.read_fwf(path, blocksize=blocksize).compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_widths_colspecs_and_no_header(tmp_path):
    text = "".join(f"{i:4d}{chr(97 + i % 26) * 3:>5}{i * 1.5:8.2f}\n" for i in range(50))
    path = _write(tmp_path / "b.txt", text)
    names = ["a", "b", "c"]
    expected = pd.read_fwf(path, widths=[4, 5, 8], header=None, names=names)
    assert_eq(sd.read_fwf(path, widths=[4, 5, 8], header=None, names=names, blocksize=100), expected,
              check_index=False)
    expected = pd.read_fwf(path, colspecs=[(0, 4), (9, 17)], header=None)
    assert_eq(sd.read_fwf(path, colspecs=[(0, 4), (9, 17)], header=None, blocksize=64), expected, check_index=False)
    # names= without header= reads the first line as data, as pandas does.
    expected = pd.read_fwf(path, names=names)
    assert_eq(sd.read_fwf(path, names=names, blocksize=100), expected, check_index=False)


def test_glob_path_column_and_compression(tmp_path):
    _write(tmp_path / "p0.txt", _text(20, 1))
    _write(tmp_path / "p1.txt", _text(30, 2))
    expected = pd.concat([pd.read_fwf(tmp_path / "p0.txt"), pd.read_fwf(tmp_path / "p1.txt")])
    df = sd.read_fwf(str(tmp_path / "p*.txt"), blocksize=300, include_path_column=True)
    got = df.compute()
    assert got.path.dtype == "category"
    assert sorted(set(os.path.basename(p) for p in got.path)) == ["p0.txt", "p1.txt"]
    assert_eq(df.drop(columns="path"), expected, check_index=False)
    text = _text(40, 3)
    with gzip.open(tmp_path / "z.txt.gz", "wt") as f:
        f.write(text)
    zipped = sd.read_fwf(str(tmp_path / "z.txt.gz"), blocksize=100)
    assert zipped.npartitions == 1
    assert_eq(zipped, pd.read_fwf(io.StringIO(text)))


def test_infer_colspecs_matches_pandas():
    lines = ["  id  name    value\n", "   0  ann    -1.25\n", "  12  carlotta 3.5\n"]
    # The inferred boundaries make pandas parse exactly what colspecs="infer" parses.
    text = "".join(lines)
    pd.testing.assert_frame_equal(pd.read_fwf(io.StringIO(text), colspecs=infer_colspecs(lines)),
                                  pd.read_fwf(io.StringIO(text)))
    assert infer_colspecs(["ab  c", "#x"], comment="#") == [(0, 2), (4, 5)]
    with pytest.raises(pd.errors.EmptyDataError):
        infer_colspecs([])


def test_dtype_changes_in_later_block(tmp_path):
    rows = [f"{i:6d}" for i in range(200)] + ["   2.5"]
    path = _write(tmp_path / "c.txt", "     x\n" + "\n".join(rows) + "\n")
    df = sd.read_fwf(path, blocksize=300, sample=100)
    with pytest.raises(ValueError, match=r"column 'x': expected int64, found float64.*dtype="):
        df.compute()
    fixed = sd.read_fwf(path, blocksize=300, sample=100, assume_missing=True)
    assert_eq(fixed, pd.read_fwf(path), check_index=False)


def test_bad_input(tmp_path):
    path = _write(tmp_path / "a.txt", _text(10))
    with pytest.raises(FileNotFoundError, match="nope"):
        sd.read_fwf(str(tmp_path / "nope.txt"))
    for bad in ({"index_col": 0}, {"skiprows": 2}, {"nrows": 3}, {"chunksize": 2}):
        with pytest.raises(ValueError, match=f"does not support {next(iter(bad))}="):
            sd.read_fwf(path, **bad)
    with pytest.raises(ValueError, match="header=0"):
        sd.read_fwf(path, header=2)
    with pytest.raises(ValueError, match="lineterminator"):
        sd.read_fwf(path, lineterminator=";")

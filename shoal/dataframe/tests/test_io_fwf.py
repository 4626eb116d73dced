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
    for bad in ({"index_col": 0}, {"nrows": 3}, {"chunksize": 2}, {"iterator": True}):
        with pytest.raises(ValueError, match=f"does not support {next(iter(bad))}="):
            sd.read_fwf(path, **bad)
    with pytest.raises(ValueError, match=r"head\(n=3, npartitions=-1\)"):
        sd.read_fwf(path, nrows=3)
    # The error names the column that index_col= points at, in the call that does the same.
    with pytest.raises(ValueError, match=r"set_index\('id'\)"):
        sd.read_fwf(path, index_col=0)
    with pytest.raises(ValueError, match=r"set_index\('name'\)"):
        sd.read_fwf(path, index_col="name")
    with pytest.raises(ValueError, match="callable skiprows"):
        sd.read_fwf(path, skiprows=lambda i: i < 2)
    for bad in (-1, [0, -2], ["a"]):
        with pytest.raises(ValueError, match="skiprows must be"):
            sd.read_fwf(path, skiprows=bad)
    with pytest.raises(ValueError, match="skipfooter must be"):
        sd.read_fwf(path, skipfooter=-1)
    with pytest.raises(ValueError, match="header=0"):
        sd.read_fwf(path, header=2)
    with pytest.raises(ValueError, match="lineterminator"):
        sd.read_fwf(path, lineterminator=";")


def _framed(n: int, seed: int, top: int, bottom: int, wide_footer: bool = False) -> str:
    """``_text`` between ``top`` junk lines (longer than the rows, so that they would spoil width inference)
    and a footer of ``bottom`` lines that don't parse as the rows do. pandas infers the widths from the
    footer too, when it is among the first 100 lines: a wide footer merges the columns."""
    head = "".join(f"# report {k} of a run that wrote this very wide banner line\n" for k in range(top))
    foot = "".join((f"TOTAL {k}  rows  written\n" if wide_footer else "x\n") for k in range(bottom))
    return head + _text(n, seed) + foot


@given(n=st.integers(1, 150), blocksize=st.integers(20, 600), seed=st.integers(0, 1000), top=st.integers(0, 4),
       bottom=st.integers(0, 3), extra=st.lists(st.integers(0, 160), max_size=4), as_list=st.booleans(),
       sample=st.sampled_from([60, 256_000]), wide=st.booleans())
@settings(max_examples=50, deadline=None)
def test_skiprows_and_skipfooter_match_pandas(n, blocksize, seed, top, bottom, extra, as_list, sample, wide):
    # Extra skipped line numbers may lie anywhere in the file, past the first block too.
    skiprows = sorted({*range(top), *(top + 1 + e for e in extra)}) if as_list else top
    with tempfile.TemporaryDirectory() as d:
        path = _write(os.path.join(d, "a.txt"), _framed(n, seed, top, bottom, wide))
        expected = pd.read_fwf(path, skiprows=skiprows, skipfooter=bottom)
        got = sd.read_fwf(path, blocksize=blocksize, sample=sample, skiprows=skiprows, skipfooter=bottom).compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_skiprows_applies_to_every_file(tmp_path):
    _write(tmp_path / "p0.txt", _framed(40, 1, 2, 1))
    _write(tmp_path / "p1.txt", _framed(70, 2, 2, 1))
    expected = pd.concat([pd.read_fwf(tmp_path / f"p{k}.txt", skiprows=2, skipfooter=1) for k in range(2)])
    df = sd.read_fwf(str(tmp_path / "p*.txt"), blocksize=200, skiprows=2, skipfooter=1)
    assert df.npartitions > 4
    assert_eq(df, expected, check_index=False)
    # A list skips the same line numbers of every file; compressed files are read whole.
    _write(tmp_path / "q0.txt", _framed(40, 1, 2, 0))
    _write(tmp_path / "q1.txt", _framed(70, 2, 2, 0))
    expected = pd.concat([pd.read_fwf(tmp_path / f"q{k}.txt", skiprows=[0, 1, 4, 60]) for k in range(2)])
    assert_eq(sd.read_fwf(str(tmp_path / "q*.txt"), blocksize=150, skiprows=[0, 1, 4, 60]), expected,
              check_index=False)
    text = _framed(30, 3, 3, 2)
    with gzip.open(tmp_path / "z.txt.gz", "wt") as f:
        f.write(text)
    assert_eq(sd.read_fwf(str(tmp_path / "z.txt.gz"), skiprows=3, skipfooter=2),
              pd.read_fwf(io.StringIO(text), skiprows=3, skipfooter=2))


def test_skiprows_without_header_and_index_col_false(tmp_path):
    text = "".join(f"{i:4d}{chr(97 + i % 26) * 3:>5}{i * 1.5:8.2f}\n" for i in range(80))
    path = _write(tmp_path / "b.txt", "skip me\n" + text)
    kwargs = {"widths": [4, 5, 8], "header": None, "names": ["a", "b", "c"], "skiprows": 1}
    assert_eq(sd.read_fwf(path, blocksize=100, **kwargs), pd.read_fwf(path, **kwargs), check_index=False)
    # index_col=False (pandas: never take the first column as the index) is passed through, as in Dask.
    path = _write(tmp_path / "a.txt", _framed(50, 4, 1, 0))
    expected = pd.read_fwf(path, skiprows=1, index_col=False)
    assert_eq(sd.read_fwf(path, blocksize=300, skiprows=1, index_col=False), expected, check_index=False)

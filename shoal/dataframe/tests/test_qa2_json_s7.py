"""``to_json(compression=...)`` compresses its files, and ``read_json(compression=...)`` reads them back."""

from __future__ import annotations

import glob
import os

import pandas as pd
import pytest

import shoal.dataframe as sd

_MAGIC = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ"}


@pytest.fixture
def frame():
    return pd.DataFrame({"a": range(7), "b": list("abcdefg"), "c": [0.5 * i for i in range(7)]})


@pytest.mark.parametrize("compression", ["gzip", "bz2", "xz"])
def test_explicit_compression_round_trips(tmp_path, frame, compression):
    sd.from_pandas(frame, npartitions=3).to_json(str(tmp_path), compression=compression)
    files = sorted(glob.glob(str(tmp_path / "*")))
    assert [os.path.basename(f) for f in files] == ["0.part", "1.part", "2.part"]  # names as Dask's
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(len(_MAGIC[compression])) == _MAGIC[compression]
    # pandas reads each file with the same codec; shoal reads them all back.
    pieces = [pd.read_json(f, orient="records", lines=True, compression=compression) for f in files]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), frame)
    got = sd.read_json(str(tmp_path / "*"), compression=compression).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, frame)


def test_compression_inferred_from_the_name(tmp_path, frame):
    sd.from_pandas(frame, npartitions=2).to_json(str(tmp_path / "out-*.json.gz"))
    files = sorted(glob.glob(str(tmp_path / "*.json.gz")))
    assert len(files) == 2
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(2) == b"\x1f\x8b"
    got = sd.read_json(str(tmp_path / "*.json.gz")).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, frame)
    # No compression asked and none in the name: plain JSON, as before.
    sd.from_pandas(frame, npartitions=1).to_json(str(tmp_path / "plain-*.json"), compression=None)
    with open(tmp_path / "plain-0.json", "rb") as fh:
        assert fh.read(1) == b"{"


def test_unknown_compression_is_refused(tmp_path, frame):
    with pytest.raises(ValueError, match="unknown compression 'zipzap'"):
        sd.from_pandas(frame, npartitions=1).to_json(str(tmp_path), compression="zipzap")

"""A failed to_json leaves no file that looks written, as to_csv (every part is renamed only at the end)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import shoal.dataframe as sd


def _boom(part):
    if part.x.iloc[0] >= 4:
        raise RuntimeError("partition failed")
    return part


def test_failed_to_json_leaves_no_parts(tmp_path):
    df = sd.from_pandas(pd.DataFrame({"x": range(8)}), npartitions=2).map_partitions(_boom)
    with pytest.raises(RuntimeError, match="partition failed"):
        df.to_json(str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == []  # neither the good part nor a temporary file


def test_to_json_round_trip_after_staging(tmp_path):
    pdf = pd.DataFrame({"x": range(8), "y": list("abcdefgh")})
    paths = sd.from_pandas(pdf, npartitions=3).to_json(str(tmp_path / "*.json.gz"))
    assert [os.path.basename(p) for p in paths] == ["0.json.gz", "1.json.gz", "2.json.gz"]
    pd.testing.assert_frame_equal(sd.read_json(str(tmp_path / "*.json.gz"), compression="gzip").compute()
                                  .reset_index(drop=True), pdf)

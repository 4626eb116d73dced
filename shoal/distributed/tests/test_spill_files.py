"""Spill files: values come back equal, writable, and spilling makes no second in-memory copy."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from shoal.distributed.spill import SpillBuffer, read_spilled, write_spilled


class Unpicklable:
    def __reduce__(self):
        raise TypeError("stays in memory")


@pytest.mark.parametrize("value", [
    np.arange(10_000, dtype="f8").reshape(100, 100),
    np.arange(10_000, dtype="i4").reshape(100, 100)[:, ::3],  # not contiguous: pickled in band
    np.asfortranarray(np.ones((50, 40))),
    {"a": [1, "x", (2, 3)], "b": np.zeros(0)},
    b"raw bytes" * 1000,
])
def test_round_trip(tmp_path, value):
    path = str(tmp_path / "v")
    write_spilled(path, value)
    back = read_spilled(path)
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
        assert back.dtype == value.dtype and back.flags.writeable
    else:
        assert repr(back) == repr(value)


def test_dataframe_round_trip(tmp_path):
    df = pd.DataFrame({"x": np.arange(1000.0), "s": [f"n{i % 7}" for i in range(1000)],
                       "c": pd.Categorical(["a", "b"] * 500)})
    path = str(tmp_path / "df")
    write_spilled(path, df)
    pd.testing.assert_frame_equal(read_spilled(path), df)


def test_truncated_file_raises(tmp_path):
    path = str(tmp_path / "v")
    write_spilled(path, np.arange(1000.0))
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 100)
    with pytest.raises(OSError, match="truncated"):
        read_spilled(path)


def test_spilling_a_large_array_allocates_no_copy(tmp_path):
    big = np.random.default_rng(0).random(4_000_000)  # 32 MB
    buf = SpillBuffer(target=1, directory=str(tmp_path))
    buf["keep"] = 1
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        buf["big"] = big  # over target: "keep" goes to disk
        buf["other"] = 2  # "big" goes to disk now
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "big" in buf.slow
    assert peak - base < 4_000_000, f"spilling a 32 MB array allocated {peak - base:,} bytes"
    np.testing.assert_array_equal(buf["big"], big)
    buf.close()


def test_unpicklable_value_stays_in_memory_and_leaves_no_file(tmp_path):
    buf = SpillBuffer(target=1, directory=str(tmp_path))
    odd = Unpicklable()
    buf["odd"] = odd
    buf["x"] = np.arange(10)
    assert "odd" in buf.fast and buf["odd"] is odd
    spill_dir = buf._dir
    files = os.listdir(spill_dir) if spill_dir else []
    assert len(files) == len(buf.slow)
    buf.close()

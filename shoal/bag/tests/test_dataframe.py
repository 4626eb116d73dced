"""Bag.to_dataframe: one pandas partition per bag partition, compared with pandas on the same records."""

from __future__ import annotations

import importlib

import pytest

import shoal.bag as db

pd = pytest.importorskip("pandas")


def _dataframe_module():
    try:
        module = importlib.import_module("shoal.dataframe")
    except ImportError as exc:  # being written alongside shoal.bag
        pytest.skip(f"shoal.dataframe is not importable yet ({exc}); to_dataframe needs its from_delayed")
    if not hasattr(module, "from_delayed"):
        pytest.skip("shoal.dataframe has no from_delayed yet; to_dataframe builds on it")
    return module


RECORDS = [{"name": n, "amount": a, "score": s}
           for n, a, s in [("a", 1, 0.5), ("b", 2, 1.5), ("c", 3, 2.5), ("d", 4, 3.5), ("e", 5, 4.5)]]


def test_to_dataframe_with_meta() -> None:
    _dataframe_module()
    b = db.from_sequence(RECORDS, npartitions=2)
    meta = {"name": "object", "amount": "int64", "score": "float64"}
    df = b.to_dataframe(meta=meta)
    assert df.npartitions == 2
    assert list(df.columns) == ["name", "amount", "score"]
    expected = pd.DataFrame(RECORDS).astype(meta)
    result = df.compute()
    pd.testing.assert_frame_equal(result.reset_index(drop=True), expected)
    assert df["amount"].sum().compute() == 15


def test_to_dataframe_infers_meta_and_takes_tuples() -> None:
    _dataframe_module()
    b = db.from_sequence(RECORDS, npartitions=3)
    result = b.to_dataframe().compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(result, pd.DataFrame(RECORDS))
    tuples = db.from_sequence([(r["name"], r["amount"]) for r in RECORDS], npartitions=2)
    frame = tuples.to_dataframe(columns=["name", "amount"]).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(RECORDS)[["name", "amount"]])
    meta = pd.DataFrame({"name": pd.Series(dtype=object), "amount": pd.Series(dtype="int64")})
    frame = tuples.to_dataframe(meta=meta).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(RECORDS)[["name", "amount"]].astype({"name": object}))


def test_to_dataframe_bad_input() -> None:
    _dataframe_module()
    empty = db.from_sequence([], npartitions=1)
    with pytest.raises(ValueError, match="pass meta="):
        empty.to_dataframe()
    with pytest.raises(TypeError, match="meta"):
        db.from_sequence(RECORDS).to_dataframe(meta=42)

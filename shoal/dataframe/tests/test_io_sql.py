"""read_sql_* / to_sql against pandas on a real SQLite database file through SQLAlchemy."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import shoal
import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

sa = pytest.importorskip("sqlalchemy")


def _frame(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "id": np.arange(n) * 2,
        "name": pd.array([f"n{k % 9}" for k in range(n)], dtype="str"),
        "x": rng.normal(size=n),
        "k": rng.integers(0, 5, n),
        "t": pd.date_range("2022-03-01", periods=n, freq="D"),
    })


@pytest.fixture
def db(tmp_path):
    uri = f"sqlite:///{tmp_path / 'test.db'}"
    _frame().to_sql("test", uri, index=False)
    return uri


def test_read_sql_table_matches_pandas(db):
    expected = pd.read_sql_table("test", db, index_col="id")
    df = sd.read_sql_table("test", db, "id", npartitions=4)
    assert df.npartitions == 4
    assert df.divisions[0] == 0 and df.divisions[-1] == 98
    assert_eq(df, expected)
    parts = [p.compute() for p in df.partitions]
    for i, part in enumerate(parts):
        assert part.index.min() >= df.divisions[i]
        assert part.index.max() <= df.divisions[i + 1]
    assert sum(len(p) for p in parts) == len(expected)
    assert_eq(sd.read_sql_table("test", db, "id", divisions=[0, 10, 50, 98]), expected)
    assert_eq(sd.read_sql("test", db, "id", npartitions=2), expected)


def test_partitions_from_bytes_per_chunk(db):
    expected = pd.read_sql_table("test", db, index_col="id")
    df = sd.read_sql_table("test", db, "id", bytes_per_chunk=500)
    assert df.npartitions > 3
    assert_eq(df, expected)
    assert sd.read_sql_table("test", db, "id").npartitions == 1


def test_columns_limits_and_meta(db):
    expected = pd.read_sql_table("test", db, index_col="id", columns=["x", "name"])
    df = sd.read_sql_table("test", db, "id", columns=["x", "name"], npartitions=3)
    assert list(df.columns) == ["x", "name"]
    assert_eq(df, expected)
    doubled = sd.read_sql_table("test", db, "id", columns=[sa.column("x"), (sa.column("k") * 2).label("k2")],
                                npartitions=2)
    full = pd.read_sql_table("test", db, index_col="id")
    assert_eq(doubled, pd.DataFrame({"x": full.x, "k2": full.k * 2}))
    limited = sd.read_sql_table("test", db, "id", limits=(10, 40), npartitions=3)
    assert limited.divisions == (10, 20, 30, 40)
    assert_eq(limited, pd.read_sql_table("test", db, index_col="id").loc[10:40])
    meta = expected.iloc[:0]
    assert_eq(sd.read_sql_table("test", db, "id", columns=["x", "name"], meta=meta, npartitions=2), expected)


def test_datetime_and_string_index(db):
    expected = pd.read_sql_table("test", db, index_col="t")
    df = sd.read_sql_table("test", db, "t", npartitions=5)
    assert df.npartitions == 5
    assert_eq(df, expected)
    expected = pd.read_sql_table("test", db, index_col="name").sort_index()
    with pytest.raises(TypeError, match="divisions="):
        sd.read_sql_table("test", db, "name", npartitions=3)
    got = sd.read_sql_table("test", db, "name", divisions=["n0", "n3", "n6", "n8"]).compute()
    pd.testing.assert_frame_equal(got.sort_values(["name", "id"]), expected.sort_values(["name", "id"]))


def test_read_sql_query(db):
    table = sa.table("test", sa.column("id"), sa.column("x"), sa.column("k"))
    query = sa.select(table.c.id, table.c.x, (table.c.k * 10).label("k10")).where(table.c.k > 1)
    expected = pd.read_sql(query, db, index_col="id")
    df = sd.read_sql_query(query, db, "id", npartitions=3)
    assert_eq(df, expected)
    assert_eq(sd.read_sql(query, db, "id", npartitions=3), expected)
    text = sa.text("SELECT id, x FROM test WHERE k = 3").columns(sa.column("id"), sa.column("x"))
    assert_eq(sd.read_sql_query(text, db, "id", npartitions=2),
              pd.read_sql("SELECT id, x FROM test WHERE k = 3", db, index_col="id"))
    nothing = sd.read_sql_query(sa.select(table).where(table.c.k > 100), db, "id")
    assert nothing.npartitions == 1
    assert len(nothing.compute()) == 0


def test_partition_selection_keeps_divisions(db):
    df = sd.read_sql_table("test", db, "id", npartitions=4)
    expected = pd.read_sql_table("test", db, index_col="id")
    assert_eq(df.loc[20:40], expected.loc[20:40])
    assert_eq(df.head(3, compute=False), expected.head(3))


def test_to_sql_round_trip(tmp_path):
    uri = f"sqlite:///{tmp_path / 'out.db'}"
    pdf = _frame()
    df = sd.from_pandas(pdf.set_index("id"), npartitions=4)
    assert df.to_sql("out", uri) is None
    assert_eq(pd.read_sql_table("out", uri, index_col="id"), pd.read_sql_table(
        "out", uri, index_col="id"))
    back = pd.read_sql_table("out", uri, index_col="id")
    pd.testing.assert_frame_equal(back, pdf.set_index("id"), check_dtype=False)
    assert_eq(sd.read_sql_table("out", uri, "id", npartitions=3), back)
    with pytest.raises(ValueError, match="already exists"):
        df.to_sql("out", uri)
    df.to_sql("out", uri, if_exists="append")
    assert len(pd.read_sql_table("out", uri)) == 2 * len(pdf)
    df.to_sql("out", uri, if_exists="replace", index=False, parallel=True)
    replaced = pd.read_sql_table("out", uri)
    assert list(replaced.columns) == ["name", "x", "k", "t"]
    assert sorted(replaced.x) == sorted(pdf.x)
    tables = sa.inspect(sa.create_engine(uri)).get_table_names()
    assert tables == ["out"]


def test_to_sql_compute_false_and_index_label(tmp_path):
    uri = f"sqlite:///{tmp_path / 'out.db'}"
    df = sd.from_pandas(_frame(), npartitions=3)
    write = df.to_sql("lazy", uri, compute=False, index_label="row", chunksize=7, method="multi")
    assert not sa.inspect(sa.create_engine(uri)).has_table("lazy")
    shoal.compute(write)
    back = pd.read_sql_table("lazy", uri, index_col="row")
    pd.testing.assert_frame_equal(back.rename_axis(None), _frame(), check_dtype=False)


def test_failed_to_sql_leaves_nothing(tmp_path):
    uri = f"sqlite:///{tmp_path / 'out.db'}"
    pdf = _frame()

    def boom(part):
        if part.id.iloc[0] > 40:
            raise RuntimeError("boom")
        return part

    bad = sd.from_pandas(pdf, npartitions=4).map_partitions(boom)
    with pytest.raises(RuntimeError, match="boom"):
        bad.to_sql("out", uri, index=False)
    engine = sa.create_engine(uri)
    assert sa.inspect(engine).get_table_names() == []
    sd.from_pandas(pdf, npartitions=2).to_sql("out", uri, index=False)
    with pytest.raises(RuntimeError, match="boom"):
        bad.to_sql("out", uri, index=False, if_exists="append")
    with pytest.raises(RuntimeError, match="boom"):
        bad.to_sql("out", uri, index=False, if_exists="replace", parallel=True)
    assert sa.inspect(engine).get_table_names() == ["out"]
    assert len(pd.read_sql_table("out", uri)) == len(pdf)
    engine.dispose()


@given(case=frames(min_rows=1, max_rows=30, with_nan=False))
@settings(max_examples=10, deadline=None)
def test_round_trip_partitionings(case):
    pdf, nparts = case
    pdf = pdf.reset_index(drop=True).rename_axis("row")
    with tempfile.TemporaryDirectory() as d:
        uri = f"sqlite:///{os.path.join(d, 'h.db')}"
        sd.from_pandas(pdf, npartitions=nparts).to_sql("h", uri)
        back = sd.read_sql_table("h", uri, "row", npartitions=nparts).compute()
    pd.testing.assert_frame_equal(back, pdf)


def test_bad_input(db):
    engine = sa.create_engine(db)
    table = sa.table("test", sa.column("id"))
    with pytest.raises(TypeError, match="URI string"):
        sd.read_sql_table("test", engine, "id")
    with pytest.raises(ValueError, match="'missing' not found"):
        sd.read_sql_table("missing", db, "id")
    with pytest.raises(KeyError, match="index_col 'zz'"):
        sd.read_sql_table("test", db, "zz")
    with pytest.raises(KeyError, match="column 'zz'"):
        sd.read_sql_table("test", db, "id", columns=["x", "zz"])
    with pytest.raises(TypeError, match="read_sql_table"):
        sd.read_sql_query("SELECT * FROM test", db, "id")
    with pytest.raises(KeyError, match="index_col 'zz'"):
        sd.read_sql_query(sa.select(table), db, "zz")
    with pytest.raises(ValueError, match="sorted"):
        sd.read_sql_table("test", db, "id", divisions=[0, 50, 10])
    df = sd.from_pandas(_frame(), npartitions=2)
    with pytest.raises(ValueError, match="if_exists"):
        df.to_sql("t2", db, if_exists="upsert")
    with pytest.raises(TypeError, match="URI string"):
        df.to_sql("t2", engine)
    engine.dispose()


@pytest.mark.parametrize("kwargs", [{}, {"index": False}, {"index_label": "row"}, {"dtype": {"x": sa.Float()}}])
def test_series_to_sql_matches_pandas(tmp_path, kwargs):
    ps = _frame().set_index("id").x
    uri, ref = f"sqlite:///{tmp_path / 'shoal.db'}", f"sqlite:///{tmp_path / 'pandas.db'}"
    assert sd.from_pandas(ps, npartitions=4).to_sql("out", uri, **kwargs) is None
    ps.to_sql("out", ref, **kwargs)
    pd.testing.assert_frame_equal(pd.read_sql_table("out", uri), pd.read_sql_table("out", ref))
    if not kwargs:
        assert_eq(sd.read_sql_table("out", uri, "id", npartitions=3).x, ps)


def test_unnamed_series_to_sql_and_append(tmp_path):
    ps = pd.Series(pd.array([f"v{k}" for k in range(30)], dtype="str"))  # pandas names its column "0"
    uri, ref = f"sqlite:///{tmp_path / 'shoal.db'}", f"sqlite:///{tmp_path / 'pandas.db'}"
    s = sd.from_pandas(ps, npartitions=3)
    s.to_sql("out", uri)
    ps.to_sql("out", ref)
    pd.testing.assert_frame_equal(pd.read_sql_table("out", uri), pd.read_sql_table("out", ref))
    with pytest.raises(ValueError, match="already exists"):
        s.to_sql("out", uri)
    s.to_sql("out", uri, if_exists="append")
    ps.to_sql("out", ref, if_exists="append")
    pd.testing.assert_frame_equal(pd.read_sql_table("out", uri), pd.read_sql_table("out", ref))
    # Parallel inserts may interleave the partitions; the rows are the same.
    s.to_sql("out", uri, if_exists="replace", parallel=True)
    back = pd.read_sql_table("out", uri)
    assert list(back.columns) == ["index", "0"]
    pd.testing.assert_frame_equal(back.sort_values("index", ignore_index=True), pd.read_sql_table("out", ref).iloc[:30])

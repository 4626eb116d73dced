from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import shoal.dataframe as sd
from shoal.dataframe.tests.strategies import frames
from shoal.dataframe.utils import assert_eq

OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.gt, operator.le, operator.eq]


@given(case=frames())
@settings(max_examples=12, deadline=None)
def test_elementwise_matches_pandas(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    for op in OPS:
        assert_eq(op(df.x, df.i), op(pdf.x, pdf.i))
        assert_eq(op(df[["i", "x"]], 2), op(pdf[["i", "x"]], 2))
        assert_eq(op(3, df.x), op(3, pdf.x))
    assert_eq(-df.x, -pdf.x)
    assert_eq(abs(df.i), abs(pdf.i))
    assert_eq(~df.b, ~pdf.b)
    assert_eq((df.x > 0) & df.b, (pdf.x > 0) & pdf.b)
    assert_eq(df[df.i > 0], pdf[pdf.i > 0])
    assert_eq(df[df.i > 0][["x", "s"]], pdf[pdf.i > 0][["x", "s"]])
    assert_eq(df.fillna(0), pdf.fillna(0))
    assert_eq(df.x.fillna(df.i), pdf.x.fillna(pdf.i))
    assert_eq(df.dropna(), pdf.dropna())
    assert_eq(df.isin([1, 2, "a"]), pdf.isin([1, 2, "a"]))
    assert_eq(df.x.where(df.i > 0, -1.0), pdf.x.where(pdf.i > 0, -1.0))
    assert_eq(df.x.mask(df.b), pdf.x.mask(pdf.b))
    assert_eq(df.x.isna(), pdf.x.isna())
    assert_eq(df.x.round(1).clip(-1, 1), pdf.x.round(1).clip(-1, 1))


@given(case=frames(min_rows=1, with_nan=False))
@settings(max_examples=15, deadline=None)
def test_assign_astype_rename_drop(case):
    pdf, nparts = case
    df = sd.from_pandas(pdf, npartitions=nparts)
    assert_eq(df.assign(z=df.x * 2, c=1), pdf.assign(z=pdf.x * 2, c=1))
    assert_eq(df.assign(z=lambda d: d.i + d.k), pdf.assign(z=lambda d: d.i + d.k))
    assert_eq(df.astype({"i": "f8"}), pdf.astype({"i": "f8"}))
    assert_eq(df[["i", "k"]].astype("f4"), pdf[["i", "k"]].astype("f4"))
    assert_eq(df.rename(columns={"x": "xx"}), pdf.rename(columns={"x": "xx"}))
    assert_eq(df.drop(columns=["s", "b"]), pdf.drop(columns=["s", "b"]))
    assert_eq(df.x.rename("q"), pdf.x.rename("q"))
    assert_eq(df.s.map({"a": 1, "bb": 2, "ccc": 3}, meta=("s", "i8")), pdf.s.map({"a": 1, "bb": 2, "ccc": 3}))


def test_setitem_and_columns_setter():
    pdf = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    df = sd.from_pandas(pdf, npartitions=2)
    df["c"] = df.a + df.b
    pdf["c"] = pdf.a + pdf.b
    assert_eq(df, pdf)
    df.columns = ["x", "y", "z"]
    pdf.columns = ["x", "y", "z"]
    assert_eq(df, pdf)


def test_misaligned_partitions_are_aligned_or_raise():
    pdf = pd.DataFrame({"x": range(10)})
    a = sd.from_pandas(pdf, npartitions=2)
    b = sd.from_pandas(pdf, npartitions=3)
    # Known divisions: both are split at the union of their divisions, as Dask does.
    assert_eq(a.x + b.x, pdf.x + pdf.x)
    # Unknown divisions and different partition counts: nothing to align on.
    with pytest.raises(ValueError, match="divisions"):
        a.clear_divisions().x + b.clear_divisions().x  # noqa: B018


def test_pandas_operand_aligns_on_the_index():
    pdf = pd.DataFrame({"x": range(4)})
    df = sd.from_pandas(pdf, npartitions=2)
    other = pd.Series([1, 2, 3, 4])
    assert_eq(df.x + other, pdf.x + other)  # as Dask: the pandas object is aligned to each partition
    with pytest.raises(TypeError, match="divisions"):
        df.clear_divisions().x + other  # noqa: B018


def test_astype_unknown_column():
    df = sd.from_pandas(pd.DataFrame({"x": range(4)}), npartitions=2)
    with pytest.raises(KeyError, match=r"\['y'\] not found"):
        df.astype({"y": "f8"})


def test_scalar_broadcast():
    pdf = pd.DataFrame({"x": np.arange(20.0)})
    df = sd.from_pandas(pdf, npartitions=4)
    assert_eq(df.x - df.x.mean(), pdf.x - pdf.x.mean())
    assert_eq(df.x.sum() + 1, pdf.x.sum() + 1)
    assert float(df.x.max()) == 19.0


def test_loc_uses_divisions():
    pdf = pd.DataFrame({"x": np.arange(100)}, index=np.arange(100) * 2)
    df = sd.from_pandas(pdf, npartitions=10)
    sliced = df.loc[40:60]
    assert sliced.optimize().npartitions == 2  # only the partitions holding 40..60
    assert_eq(sliced, pdf.loc[40:60])
    assert_eq(df.loc[:15], pdf.loc[:15])
    assert_eq(df.loc[190:], pdf.loc[190:])
    assert_eq(df.loc[[4, 8, 100]], pdf.loc[[4, 8, 100]])
    assert_eq(df.loc[df.x > 90, "x"], pdf.loc[pdf.x > 90, "x"])
    assert_eq(df.x.loc[10:12], pdf.x.loc[10:12])
    single = df.loc[42]
    assert single.optimize().npartitions == 1
    assert_eq(single, pdf.loc[[42]])


def test_projection_pushdown_reads_only_needed_columns():
    pdf = pd.DataFrame({"a": range(8), "b": range(8), "c": list("abcdefgh")})
    df = sd.from_pandas(pdf, npartitions=2)
    plan = df[df.a > 2].b.optimize()
    readers = [e for e in _exprs(plan._expr) if type(e).__name__ == "FromPandas"]
    assert [r.columns for r in readers] == [["a", "b"]]
    assert_eq(df[df.a > 2].b, pdf[pdf.a > 2].b)
    plan = df.assign(z=df.a + 1)[["z"]].optimize()
    readers = [e for e in _exprs(plan._expr) if type(e).__name__ == "FromPandas"]
    assert [r.columns for r in readers] == [["a"]]


def test_blockwise_steps_fuse_into_one_task_per_partition():
    df = sd.from_pandas(pd.DataFrame({"a": range(8)}), npartitions=4)
    chain = ((df.a + 1) * 2 - 3).abs()
    graph = chain.__dask_graph__()
    # 4 data partitions + 4 fused tasks, not 4 per step.
    assert len(graph) == 8
    assert_eq(chain, ((pd.Series(range(8), name="a") + 1) * 2 - 3).abs())


def _exprs(root):
    from shoal.dataframe._lower import walk
    return walk(root)

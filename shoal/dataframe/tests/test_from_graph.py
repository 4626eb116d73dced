"""``from_graph``: Dask's way to make a dataframe from partitions that are keys of a hand-written graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shoal
import shoal.dataframe as sd
from shoal.dataframe.utils import assert_eq
from shoal.highlevelgraph import HighLevelGraph


def _frame(n=12):
    return pd.DataFrame({"x": np.arange(n), "y": np.arange(n) * 0.5, "k": np.arange(n) % 3})


def test_partitions_as_values_in_a_dict():
    pdf = _frame()
    graph = {("parts", i): pdf.iloc[4 * i: 4 * i + 4] for i in range(3)}
    df = sd.from_graph(graph, pdf.iloc[:0], (0, 4, 8, 11), [("parts", i) for i in range(3)], "parts")
    assert df.npartitions == 3 and df.divisions == (0, 4, 8, 11) and df._name.startswith("parts-")
    assert_eq(df, pdf)
    assert_eq(df.groupby("k").y.sum(), pdf.groupby("k").y.sum())
    assert_eq(df.loc[5:9], pdf.loc[5:9])


def test_legacy_tasks_string_keys_and_unknown_divisions():
    def part(start):
        return pd.DataFrame({"x": np.arange(start, start + 3)})

    graph = {"first": (part, 0), "second": (part, 3), "both": (pd.concat, ["first", "second"])}
    df = sd.from_graph(graph, {"x": "i8"}, None, ["first", "second"], "hand")
    assert df.divisions == (None, None, None)
    assert_eq(df, pd.concat([part(0), part(3)]), check_index=False)
    assert df.x.sum().compute() == 15


def test_series_meta_gives_a_series():
    graph = {("s", 0): pd.Series([1.0, 2.0], name="v"), ("s", 1): pd.Series([3.0], index=[2], name="v")}
    s = sd.from_graph(graph, pd.Series([], dtype="f8", name="v"), (0, 2, 2), [("s", 0), ("s", 1)], "s")
    assert isinstance(s, sd.Series)
    assert_eq(s * 2, pd.Series([2.0, 4.0, 6.0], name="v"))


def test_round_trip_of_a_collection_graph():
    pdf = _frame()
    df = sd.from_pandas(pdf, npartitions=3)
    again = sd.from_graph(df.__dask_graph__(), df._meta, df.divisions, df.__dask_keys__(), "again")
    assert_eq(again, pdf)
    assert_eq(again.x + df.x, pdf.x * 2)


def test_graph_built_on_a_collection_is_not_flattened_until_computed():
    pdf = _frame()
    df = sd.from_pandas(pdf, npartitions=2)
    layer = {("doubled", i): (lambda part: part * 2, key) for i, key in enumerate(df.__dask_keys__())}
    graph = HighLevelGraph.from_collections("doubled", layer, dependencies=[df])
    out = sd.from_graph(graph, df._meta, df.divisions, [("doubled", 0), ("doubled", 1)], "doubled")
    assert_eq(out, pdf * 2)
    assert_eq(out.x.max(), (pdf * 2).x.max())


def test_partitions_from_delayed_values():
    parts = [shoal.delayed(pd.DataFrame)({"x": [i, i + 1]}, index=[2 * i, 2 * i + 1]) for i in range(3)]
    graph = HighLevelGraph.merge(*(p.__dask_graph__() for p in parts))
    df = sd.from_graph(graph, pd.DataFrame({"x": pd.Series([], dtype="i8")}), (0, 2, 4, 5),
                       [p.key for p in parts], "from-delayed")
    assert_eq(df, pd.concat([p.compute() for p in parts]))


def test_bad_input_is_explained():
    graph = {("p", 0): _frame(3)}
    meta = _frame(0)
    with pytest.raises(ValueError, match=r"keys\[1\] = \('p', 1\) is not in the graph"):
        sd.from_graph(graph, meta, (0, 1, 2), [("p", 0), ("p", 1)], "p")
    with pytest.raises(ValueError, match="1 keys and 3 divisions"):
        sd.from_graph(graph, meta, (0, 1, 2), [("p", 0)], "p")
    with pytest.raises(ValueError, match="at least one partition"):
        sd.from_graph(graph, meta, (None,), [], "p")
    with pytest.raises(TypeError, match="got list"):
        sd.from_graph([1], meta, (None, None), [("p", 0)], "p")
    with pytest.raises(TypeError, match=r"keys\[0\] = \['p', 0\] is not a key"):
        sd.from_graph(graph, meta, (None, None), [["p", 0]], "p")


def test_client_computes_it():
    from shoal.distributed import Client

    pdf = _frame()
    graph = {("parts", i): pdf.iloc[6 * i: 6 * i + 6] for i in range(2)}
    df = sd.from_graph(graph, pdf.iloc[:0], (0, 6, 11), [("parts", 0), ("parts", 1)], "parts")
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None,
                set_as_default=False) as client:
        pd.testing.assert_frame_equal(client.compute(df).result(timeout=30), pdf)
        pd.testing.assert_series_equal(client.compute(df.groupby("k").x.sum()).result(timeout=30),
                                       pdf.groupby("k").x.sum())


@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=5), seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_any_partitioning_agrees_with_pandas(sizes, seed):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    pdf = pd.DataFrame({"a": rng.integers(-50, 50, n), "b": rng.normal(size=n)})
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    graph = {f"part-{i}": pdf.iloc[bounds[i]:bounds[i + 1]] for i in range(len(sizes))}
    divisions = (*bounds[:-1].tolist(), n - 1)
    df = sd.from_graph(graph, pdf.iloc[:0], divisions, list(graph), "random")
    assert_eq(df, pdf)
    assert_eq(df.a.cumsum(), pdf.a.cumsum())
    assert_eq(df[df.b > 0].a.sum(), pdf[pdf.b > 0].a.sum())

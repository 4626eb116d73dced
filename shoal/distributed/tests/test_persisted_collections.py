"""Collections persisted on a cluster, then computed on: the tasks get the data, not the Future objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.array as sa
import shoal.dataframe as sd
from shoal.array.utils import assert_eq
from shoal.dataframe.utils import assert_eq as assert_frame_eq


def test_arrays_built_on_a_persisted_array(client):
    x = np.arange(40.0).reshape(8, 5)
    p = client.persist(sa.from_array(x, chunks=(3, 2)))
    # Optimization fuses the persisted blocks into these tasks: they must still read the data.
    assert_eq(client.compute(p + 1).result(), x + 1)
    assert_eq((p * 2).sum(axis=0).compute(), (x * 2).sum(axis=0))
    assert_eq((p @ p.T).compute(), x @ x.T)
    assert_eq(p[::2, 1:].compute(), x[::2, 1:])
    assert_eq(p.rechunk((4, 5)).mean().compute(), x.mean())


def test_dataframes_built_on_a_persisted_dataframe(client):
    pdf = pd.DataFrame({"k": np.arange(30) % 4, "v": np.arange(30.0)})
    df = client.persist(sd.from_pandas(pdf, npartitions=3))
    assert_frame_eq((df.v + 1).compute(), pdf.v + 1)
    assert_frame_eq(df.groupby("k").v.sum().compute(), pdf.groupby("k").v.sum())
    assert_frame_eq(df[df.v > 10].compute(), pdf[pdf.v > 10])


def test_delayed_calls_on_futures_get_their_values(client):
    f = client.submit(int, 5)
    assert shoal.delayed(lambda x: x + 1)(f).compute() == 6
    assert shoal.delayed(sum)([f, f, 1]).compute() == 11
    assert shoal.delayed(lambda d: d["a"] * 2)({"a": f}).compute() == 10


@pytest.mark.parametrize("optimize_graph", [True, False])
def test_persist_then_compute_with_and_without_optimization(client, optimize_graph):
    x = np.arange(12.0)
    p = client.persist(sa.from_array(x, chunks=4) * 3)
    got = client.compute(p.sum(), optimize_graph=optimize_graph).result()
    assert got == (x * 3).sum()


"""Computing does not leave reference cycles behind that keep the input data alive until the cyclic GC runs."""

from __future__ import annotations

import time
import weakref

import numpy as np
import pandas as pd
import pytest

import shoal
import shoal.array as sa
import shoal.dataframe as sd


CASES = {
    "delayed": lambda b: shoal.delayed(np.sum)(b).compute(),
    "array reduction": lambda b: (sa.from_array(b, chunks=100_000) * 2).sum().compute(),
    "array result": lambda b: (sa.from_array(b, chunks=100_000) * 2).compute(),
    "array persist": lambda b: (sa.from_array(b, chunks=100_000) * 2).persist(),
    "array matmul": lambda b: (sa.from_array(b.reshape(1000, 1000), chunks=250)
                               @ sa.from_array(b.reshape(1000, 1000), chunks=250)).compute(),
    "shoal.compute": lambda b: shoal.compute(sa.from_array(b, chunks=100_000).sum(), {"n": shoal.delayed(len)(b)}),
    "dataframe": lambda b: sd.from_pandas(pd.DataFrame({"x": b, "k": np.arange(len(b)) % 5}), npartitions=4)
    .groupby("k").x.sum().compute(),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inputs_are_freed_by_reference_counting(no_gc, case):
    big = np.ones(1_000_000)
    alive = weakref.ref(big)
    result = CASES[case](big)
    del result, big
    # A pool thread may still be finishing its last task's bookkeeping when compute() returns (seen under
    # load); a cycle, with the collector off, would keep the input for good, so a short bounded wait
    # still catches one.
    deadline = time.monotonic() + 5
    while alive() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert alive() is None, f"{case}: the input is still referenced after the result was dropped"

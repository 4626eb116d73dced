"""get_task_metadata: the final state of the tasks submitted inside the block."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import shoal.array as da
from shoal.distributed import Client, get_task_metadata


def _fail(x):
    raise ValueError(f"bad {x}")


def test_records_tasks_submitted_inside_the_block(client):
    before = client.submit(abs, -5, key="before")
    assert before.result(timeout=30) == 5
    x = np.arange(24.0).reshape(6, 4)
    with get_task_metadata(client) as tm:
        arr = da.from_array(x, chunks=(2, 4))
        total = arr.sum().compute(scheduler=client)
        good = client.submit(abs, -1, key="good")
        bad = client.submit(_fail, 1, key="bad")
        assert good.result(timeout=30) == 1
        with pytest.raises(ValueError, match="bad 1"):
            bad.result(timeout=30)
    assert total == x.sum()
    assert tm.state["good"] == "memory" and tm.state["bad"] == "erred"
    assert "before" not in tm.state  # finished before the block
    (out_key,) = arr.sum().__dask_keys__()
    assert tm.state[out_key] == "memory"
    assert len(tm.state) >= 3 + 1  # the array's tasks (after optimization), good and bad
    assert set(tm.metadata) == set(tm.state) and all(v == {} for v in tm.metadata.values())
    # The plugin is gone once the block ends.
    assert not [n for n in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.plugins))
                if n.startswith("task-metadata-")]


def test_default_client_and_nothing_submitted():
    with Client(processes=False, n_workers=1) as client:
        with get_task_metadata() as tm:
            pass
        assert tm.state == {} and tm.metadata == {}
        assert client.status == "running"


def test_asynchronous_client():
    async def main():
        async with Client(processes=False, n_workers=1, asynchronous=True, set_as_default=False) as client:
            async with get_task_metadata(client) as tm:
                assert await client.submit(pow, 2, 5, key="p") == 32
            return tm.state

    assert asyncio.run(main()) == {"p": "memory"}

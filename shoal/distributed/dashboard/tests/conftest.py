from __future__ import annotations

import pytest

from shoal.distributed import Client, LocalCluster


def _inc(x: int) -> int:
    return x + 1


def _double(x: int) -> int:
    return 2 * x


@pytest.fixture(scope="module")
def busy_client():
    """Two in-process workers with a dashboard on a free port, after 40 tasks of two prefixes ran."""
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        incs = client.map(_inc, range(20))
        doubles = client.map(_double, incs)
        assert client.gather(doubles) == [2 * (x + 1) for x in range(20)]
        client.futures = incs + doubles  # type: ignore[attr-defined]  # held so the results stay in memory
        yield client

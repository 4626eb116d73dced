"""Memory of moved data: a worker lets go of a dependency it fetched once it is released, and reuses the buffer."""

from __future__ import annotations

import time

import numpy as np

from shoal.distributed import Client, LocalCluster

MB = 2**20


def make(nbytes: int) -> np.ndarray:
    return np.random.default_rng(0).random(nbytes // 8)


def total(x: np.ndarray) -> float:
    return float(x.sum())


def pool_state() -> tuple[int, int, int] | None:
    from shoal.distributed.comm import buffers

    pool = buffers.pool()
    return None if pool is None else (pool.free_bytes, pool.reused, pool.fresh)


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_fetched_dependency_is_freed_on_release_and_its_buffer_reused():
    nbytes = 64 * MB
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        a, b = sorted(client.scheduler_info()["workers"])
        for round_ in range(3):
            source = client.submit(make, nbytes, workers=[a], pure=False)
            expected = client.submit(total, source, workers=[a], pure=False).result()
            moved = client.submit(total, source, workers=[b], pure=False)  # fetches source from a
            assert moved.result() == expected
            del source, moved
            # Nothing on b may still hold the fetched array once it is released (not the idle task thread,
            # not a message): its receive buffer is then free in the pool, and the next round reuses it.
            assert _wait_for(lambda: client.run(pool_state, workers=[b])[b][0] >= nbytes), \
                f"round {round_}: the fetched array is still referenced on {b}: {client.run(pool_state)[b]}"
        free, reused, fresh = client.run(pool_state, workers=[b])[b]
        assert fresh == 1 and reused == 2

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


def test_in_process_cluster_lets_go_of_released_values(no_gc):
    import weakref

    import shoal.array as sa

    cases = {
        "submit": lambda c, b: c.submit(np.sum, b).result(),
        "compute": lambda c, b: c.compute(sa.from_array(b, chunks=100_000).sum()).result(),
        "scatter then gather": lambda c, b: c.gather(c.scatter(b)),
        "persist": lambda c, b: c.compute(c.persist(sa.from_array(b, chunks=100_000)).sum()).result(),
    }
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None,
                set_as_default=False) as c:
        for name, run in cases.items():
            big = np.ones(1_000_000)
            alive = weakref.ref(big)
            result = run(c, big)
            del result, big
            # Releases travel through the scheduler asynchronously: wait (bounded) for reference counting to free it.
            assert _wait_for(lambda ref=alive: ref() is None, timeout=10), f"{name}: the value is still referenced"

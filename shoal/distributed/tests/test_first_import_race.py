"""A worker that imports NumPy for the first time in two threads at once (a task's function and a message).

Python hands one of two threads importing a package with circular imports a partially initialized module; the
worker used to close the connection of the message that lost that race.
"""

from __future__ import annotations

import asyncio

import numpy as np

from shoal.distributed import Client, LocalCluster
from shoal.distributed.comm import connect, listen, tcp


def inc(x: int) -> int:
    return x + 1


def test_scatter_while_a_task_imports_numpy_in_fresh_workers():
    for _ in range(3):  # the race needs workers that have not imported NumPy yet: new processes each round
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster, set_as_default=False) as c:
            made = c.map(inc, range(6))  # unpickling inc imports this module, and with it NumPy
            [scattered] = c.scatter([np.arange(5)])  # unpickling the array needs NumPy too
            assert c.gather(made) == list(range(1, 7))
            np.testing.assert_array_equal(scattered.result(timeout=30), np.arange(5))


def test_read_retries_while_a_module_is_half_imported(monkeypatch):
    real_loads = tcp.loads
    failures = iter([ImportError("cannot import name 'x' from partially initialized module 'numpy._core'")] * 2)

    def flaky_loads(frames):
        error = next(failures, None)
        if error is not None:
            raise error
        return real_loads(frames)

    monkeypatch.setattr(tcp, "loads", flaky_loads)

    async def main():
        got = asyncio.Queue()

        async def handler(comm):
            await got.put(await comm.read())

        listener = await listen("tcp://127.0.0.1:0", handler)
        comm = await connect(listener.address)
        await comm.write({"x": 1})
        message = await asyncio.wait_for(got.get(), 10)
        await comm.close()
        listener.stop()
        return message

    assert asyncio.run(asyncio.wait_for(main(), 20)) == {"x": 1}

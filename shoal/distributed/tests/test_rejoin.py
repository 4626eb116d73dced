"""secede()/rejoin(): a rejoining task waits for a free thread slot."""

from __future__ import annotations

import time

from shoal.distributed import Client, Event, get_client, rejoin, secede


def occupant():
    Event("occupant-started").set()
    time.sleep(0.3)  # holds the worker's only thread slot for a while
    Event("occupant-done").set()
    return "occupant"


def long_task():
    client = get_client()
    secede()
    fut = client.submit(occupant, pure=False)
    assert Event("occupant-started").wait(timeout=10)
    rejoin()  # the only slot is busy: this must wait until the occupant finished
    done = Event("occupant-done").is_set()
    fut.result(timeout=10)
    return done


def test_rejoin_waits_for_a_free_slot():
    with Client(processes=False, n_workers=1, threads_per_worker=1, set_as_default=False) as client:
        assert client.submit(long_task, pure=False).result(timeout=30) is True
        # the worker still runs tasks normally afterwards, one at a time
        assert client.gather(client.map(abs, range(-5, 0))) == [5, 4, 3, 2, 1]
        [worker] = client.cluster.workers.values()
        assert len([t for t in worker.executor._threads if t.is_alive()]) == 1

"""Coordination objects (Lock, Semaphore, Event, Variable, Queue, Pub) passed as task arguments to worker processes.

Unpickling such an object on a worker connects it to the scheduler through the worker's client, whose event
loop must itself unpickle the reply. The worker used to hold one lock over all unpickling, so a task thread
rebuilding a Lock waited for the event loop, which waited for the lock: every such task hung.
"""

from __future__ import annotations

from typing import Any

from shoal.distributed import Client, Event, Lock, LocalCluster, Pub, Queue, Semaphore, Sub, Variable


def _guarded(guard: Any, counter: str, i: int) -> int:
    with guard:
        v = Variable(counter)
        v.set(v.get(timeout=30) + 1)
    return i


def _after(event: Any, i: int) -> int:
    assert event.wait(timeout=30)
    return i


def _share(var: Any, queue: Any, pub: Any, i: int) -> int:
    queue.put(i * 10)
    pub.put(("from task", i))
    return var.get(timeout=30) + i


def test_lock_semaphore_and_event_as_arguments_in_worker_processes() -> None:
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as c:
        for guard, counter in ((Lock("L", client=c), "n-lock"), (Semaphore(1, name="S", client=c), "n-sem")):
            Variable(counter, client=c).set(0)
            futures = c.map(_guarded, [guard] * 8, [counter] * 8, range(8), pure=False)
            assert [f.result(timeout=60) for f in futures] == list(range(8))
            assert Variable(counter, client=c).get(timeout=30) == 8
        event = Event("go", client=c)
        event.set()
        futures = c.map(_after, [event] * 4, range(4), pure=False)
        assert [f.result(timeout=60) for f in futures] == list(range(4))
        var, queue, pub = Variable("v", client=c), Queue("q", client=c), Pub("p", client=c)
        sub = Sub("p", client=c)
        var.set(100)
        futures = c.map(_share, [var] * 3, [queue] * 3, [pub] * 3, range(3), pure=False)
        assert [f.result(timeout=60) for f in futures] == [100, 101, 102]
        assert sorted(queue.get(timeout=30) for _ in range(3)) == [0, 10, 20]
        assert sorted(sub.get(timeout=30) for _ in range(3)) == [("from task", i) for i in range(3)]

"""Lock, Event, Variable and Queue shared between the client and tasks."""

from __future__ import annotations

import time

import pytest

from shoal.distributed import Event, Lock, Queue, Variable


def test_lock_excludes_tasks(client):
    def critical(i):
        with Lock("shared"):
            v = Variable("counter")
            n = v.get(timeout=10)
            time.sleep(0.001)
            v.set(n + 1)
        return i

    Variable("counter", client=client).set(0)
    client.gather(client.map(critical, range(8)))
    assert Variable("counter", client=client).get() == 8
    lock = Lock("x", client=client)
    assert lock.acquire()
    assert not Lock("x", client=client).acquire(timeout=0.05)
    assert not Lock("x", client=client).acquire(blocking=False)
    lock.release()
    with pytest.raises(ValueError, match="not held"):
        Lock("x", client=client).release()


def test_event_and_queue(client):
    def producer(n):
        q = Queue("jobs")
        for i in range(n):
            q.put(i)
        Event("produced").set()
        return n

    fut = client.submit(producer, 5)
    assert Event("produced", client=client).wait(timeout=10)
    assert fut.result(timeout=10) == 5
    q = Queue("jobs", client=client)
    assert q.qsize() == 5
    assert [q.get(timeout=5) for _ in range(2)] == [0, 1]
    assert q.get(batch=True) == [2, 3, 4]
    with pytest.raises(TimeoutError):
        q.get(timeout=0.05)
    ev = Event("other", client=client)
    assert not ev.wait(timeout=0.05) and not ev.is_set()


def test_variable_timeout(client):
    with pytest.raises(TimeoutError, match="not set"):
        Variable("never", client=client).get(timeout=0.05)

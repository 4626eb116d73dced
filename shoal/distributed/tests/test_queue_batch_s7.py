"""Queue.get(batch=n, timeout=) takes all n items at once or none: a timeout loses nothing."""

from __future__ import annotations

import threading

import pytest

from shoal.distributed import Queue


def test_a_timed_out_batch_get_leaves_the_items_in_order(client):
    q = Queue("batch-timeout", client=client)
    q.put("a")
    q.put("b")
    with pytest.raises(TimeoutError, match="did not hold 3 items"):
        q.get(batch=3, timeout=0.2)
    assert q.qsize() == 2  # before the fix, the two items taken before the timeout were gone
    assert q.get(batch=2, timeout=5) == ["a", "b"]


def test_a_batch_get_waits_for_the_last_item(client):
    q = Queue("batch-wait", client=client)
    q.put(1)
    got = []
    reader = threading.Thread(target=lambda: got.append(Queue("batch-wait", client=client).get(batch=3, timeout=20)))
    reader.start()
    q.put(2)
    q.put(3)
    reader.join(30)
    assert not reader.is_alive() and got == [[1, 2, 3]]
    assert q.qsize() == 0

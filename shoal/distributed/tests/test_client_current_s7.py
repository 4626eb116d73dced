"""Client.current, Client.as_current, Future.retry and Future.bind_client."""

from __future__ import annotations

import threading

import pytest

import shoal
from shoal.distributed import Client, get_worker
from shoal.distributed.client import _default


def _where():
    return str(get_worker().name)


def test_current_is_the_as_current_client_in_this_thread_only():
    with Client(processes=False, n_workers=1, set_as_default=False) as a, \
            Client(processes=False, n_workers=1, set_as_default=False) as b:
        with pytest.raises(ValueError, match="as_current"):
            Client.current(allow_global=False)
        with a.as_current():
            assert Client.current() is a
            with b.as_current():
                assert Client.current(allow_global=False) is b
            assert Client.current() is a
            seen = []
            thread = threading.Thread(target=lambda: seen.append(_current_or_none()))
            thread.start()
            thread.join(30)
            assert seen == [None]  # a context variable: other threads do not see it
        with pytest.raises(ValueError):
            Client.current(allow_global=False)


def _current_or_none():
    try:
        return Client.current(allow_global=False)
    except ValueError:
        return None


def test_current_without_any_client_raises():
    if _default() is not None:
        pytest.skip("another test left a default client running")
    with pytest.raises(ValueError):
        Client.current()


def test_compute_runs_on_the_as_current_client():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        value = shoal.delayed(_where)()
        with shoal.config.set(scheduler="threads"):
            with client.as_current():  # wins over the setting outside it, as in Dask
                assert value.compute() == "0"
        with pytest.raises(ValueError, match="outside a task"):
            value.compute(scheduler="sync")


_attempts: dict[str, int] = {}


def _flaky(name):
    _attempts[name] = _attempts.get(name, 0) + 1
    if _attempts[name] == 1:
        raise RuntimeError("first try fails")
    return _attempts[name]


def test_future_retry_runs_a_failed_task_again():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        future = client.submit(_flaky, "s7-retry")
        with pytest.raises(RuntimeError, match="first try"):
            future.result(timeout=30)
        future.retry()
        assert future.result(timeout=30) == 2


def test_bind_client_moves_a_future_to_another_client():
    with Client(processes=False, n_workers=1, set_as_default=False) as first:
        with Client(first.scheduler_address, set_as_default=False) as second:
            future = first.submit(sum, [1, 2, 3])
            assert future.result(timeout=30) == 6
            future.bind_client(second)
            assert future.client is second
            assert future.result(timeout=30) == 6
            # The first client let go of the key once the second had it; the scheduler still holds it.
            assert future.key not in first._states
            assert first.who_has()[future.key]
            key = future.key
            del future
            assert key not in second._states


def test_default_client_is_the_as_current_client():
    from shoal.distributed import default_client

    with Client(processes=False, n_workers=1, set_as_default=False) as a, Client(processes=False, n_workers=1) as b:
        assert default_client() is b
        with a.as_current():
            assert default_client() is a
        assert default_client() is b

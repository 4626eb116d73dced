"""Scheduler plugins: start/close, workers and clients coming and going, and task transitions with real keys."""

from __future__ import annotations

import collections
import time

import pytest

from shoal.distributed import Client, LocalCluster, SchedulerPlugin


def inc(x):
    return x + 1


class Recorder(SchedulerPlugin):
    def __init__(self):
        self.events = []
        self.transitions = []

    def start(self, scheduler):
        self.events.append(("start", scheduler.address))

    def close(self):
        self.events.append(("close",))

    def add_worker(self, scheduler, worker):
        self.events.append(("add_worker", worker))

    def remove_worker(self, scheduler, worker, **kwargs):
        self.events.append(("remove_worker", worker))

    def add_client(self, scheduler, client):
        self.events.append(("add_client", client))

    def remove_client(self, scheduler, client):
        self.events.append(("remove_client", client))

    def transition(self, key, start, finish, *args, stimulus_id=None, **kwargs):
        self.transitions.append((key, start, finish, stimulus_id))


class Broken(SchedulerPlugin):
    def transition(self, key, start, finish, *args, **kwargs):
        raise RuntimeError("plugin bug")

    def add_worker(self, scheduler, worker):
        raise RuntimeError("plugin bug")


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_transitions_see_real_keys(client):
    plugin = Recorder()
    assert client.register_plugin(plugin, name="rec") is None
    assert plugin.events == [("start", client.scheduler_address)]
    futures = client.map(inc, range(5))
    total = client.submit(sum, futures, key="total")
    assert total.result(timeout=10) == 15
    by_key = collections.defaultdict(list)
    for key, start, finish, stimulus_id in plugin.transitions:
        by_key[key].append((start, finish))
        assert isinstance(stimulus_id, str) and stimulus_id
    for fut in [*futures, total]:
        path = by_key[fut.key]
        assert path[0] == ("released", "waiting")
        assert ("processing", "memory") in path
    assert set(by_key) >= {f.key for f in futures} | {"total"}


def test_workers_clients_and_close(client):
    plugin = Recorder()
    client.register_plugin(plugin, name="rec")
    client.cluster.scale(3)
    _wait(lambda: any(e[0] == "add_worker" for e in plugin.events))
    client.cluster.scale(2)
    _wait(lambda: any(e[0] == "remove_worker" for e in plugin.events))
    other = Client(client.scheduler_address, set_as_default=False)
    other.close()
    _wait(lambda: ("remove_client", other.id) in plugin.events)
    assert ("add_client", other.id) in plugin.events
    client.unregister_scheduler_plugin("rec")
    assert plugin.events[-1] == ("close",)
    n = len(plugin.transitions)
    client.submit(inc, 10).result(timeout=10)
    assert len(plugin.transitions) == n  # unregistered: no more calls
    with pytest.raises(ValueError, match="No scheduler plugin named 'rec'"):
        client.unregister_scheduler_plugin("rec")


def test_broken_plugin_does_not_break_the_scheduler(client):
    client.register_plugin(Broken(), name="broken")
    assert client.gather(client.map(inc, range(10))) == list(range(1, 11))
    client.cluster.scale(3)
    assert client.submit(inc, 1).result(timeout=10) == 2


def test_idempotent_registration(client):
    first, second = Recorder(), Recorder()
    client.register_plugin(first, name="once")
    client.register_plugin(second, name="once", idempotent=True)
    assert second.events == []
    client.register_plugin(second, name="once")  # replaces: the first is closed
    assert first.events[-1] == ("close",) and second.events[0][0] == "start"


def _transition_count(dask_scheduler):
    plugin = dask_scheduler.plugins["rec"]
    return sorted({k for k, s, f, _ in plugin.transitions if f == "memory"})


def test_plugin_pickled_to_a_process_cluster():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.register_plugin(Recorder(), name="rec")
        futures = client.map(inc, range(3))
        client.gather(futures)
        assert client.run_on_scheduler(_transition_count) == sorted(f.key for f in futures)

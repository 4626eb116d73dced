"""Client.dump_cluster_state, Client.benchmark_hardware and Client.register_worker_callbacks."""

from __future__ import annotations

import gzip
import os

import msgpack
import pytest
import yaml

from shoal.distributed import Client, LocalCluster
from shoal.distributed import _state_dump
from shoal.distributed._state_dump import load_state


def _fail(x):
    raise ValueError(f"bad {x}")


@pytest.fixture(scope="module")
def processes():
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


@pytest.mark.parametrize("fmt", ["msgpack", "yaml"])
def test_dump_holds_scheduler_workers_and_versions(processes, tmp_path, fmt):
    client = processes
    done = client.submit(sum, [1, 2], key=("s7-sum", 0))
    failed = client.submit(_fail, 1, key="s7-fail")
    assert done.result(timeout=30) == 3
    assert isinstance(failed.exception(timeout=30), ValueError)
    client.dump_cluster_state(str(tmp_path / "dump"), format=fmt)
    path = tmp_path / ("dump.msgpack.gz" if fmt == "msgpack" else "dump.yaml")
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left behind
    state = load_state(str(path))
    assert set(state) == {"scheduler", "workers", "versions"}
    workers = set(client.nthreads())
    assert set(state["workers"]) == workers and set(state["versions"]["workers"]) == workers
    assert set(state["scheduler"]["workers"]) == workers
    tasks = state["scheduler"]["tasks"]
    assert tasks[str(("s7-sum", 0))]["status"] == "memory" and tasks["s7-fail"]["status"] == "erred"
    assert "run_spec" not in tasks["s7-fail"]  # excluded by default, as in Dask
    (holder,) = tasks[str(("s7-sum", 0))]["who_has"]
    assert str(("s7-sum", 0)) in state["workers"][holder]["data"]
    assert state["workers"][holder]["tasks"][str(("s7-sum", 0))]["status"] == "memory"
    assert state["versions"]["scheduler"]["packages"]["python"]


def test_dump_from_the_scheduler_and_with_exclusions(tmp_path):
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        client.submit(sum, [1]).result(timeout=30)
        client.dump_cluster_state(str(tmp_path / "sched.yaml"), write_from_scheduler=True, format="yaml",
                                  exclude=("run_spec", "log"))
        state = load_state(str(tmp_path / "sched.yaml"))
        assert "log" not in state["scheduler"] and all("log" not in w for w in state["workers"].values())
        with pytest.raises(ValueError, match="unsupported format 'json'"):
            client.dump_cluster_state(str(tmp_path / "x"), format="json")


def test_dump_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "state.yaml"
    _state_dump.write_state({"scheduler": {"n": 1}, "workers": {}, "versions": {}}, str(tmp_path / "state"), "yaml")
    assert yaml.safe_load(target.read_text())["scheduler"] == {"n": 1}

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_state_dump.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        _state_dump.write_state({"scheduler": {"n": 2}, "workers": {}, "versions": {}}, str(target), "yaml")
    assert yaml.safe_load(target.read_text())["scheduler"] == {"n": 1}  # the earlier dump is intact
    assert os.listdir(tmp_path) == ["state.yaml"]
    monkeypatch.undo()
    path = _state_dump.write_state({"a": (1, 2)}, str(tmp_path / "m"), "msgpack")
    assert path.endswith("m.msgpack.gz") and load_state(path) == {"a": [1, 2]}
    with gzip.open(path, "rb") as f:
        assert msgpack.unpackb(f.read()) == {"a": [1, 2]}


def test_benchmark_hardware_has_dasks_keys(processes):
    result = processes.benchmark_hardware(duration=0.01)
    assert set(result) == {"disk", "memory", "network"}
    assert list(result["disk"]) == ["1 kiB", "100 kiB", "1 MiB", "10 MiB", "100 MiB"]
    assert list(result["memory"]) == ["2 kiB", "10 kiB", "100 kiB", "1 MiB", "10 MiB"]
    assert list(result["network"]) == ["1 kiB", "10 kiB", "100 kiB", "1 MiB", "10 MiB", "50 MiB"]
    assert all(v > 0 for mode in result.values() for v in mode.values())


def test_benchmark_network_needs_two_workers():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        result = client.benchmark_hardware(duration=0.001)
        assert result["network"] == {} and len(result["memory"]) == 5


def _setup(dask_worker):
    dask_worker.s7_callback = True


def _plain_setup():
    raise KeyError("no argument, and it fails")


def test_register_worker_callbacks_runs_now_and_on_new_workers():
    with LocalCluster(processes=False, n_workers=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert client.register_worker_callbacks(_setup) == {address: None for address in client.nthreads()}
        cluster.scale(2)
        assert sorted(client.run(lambda dask_worker: dask_worker.s7_callback).values()) == [True, True]
        with pytest.raises(KeyError, match="no argument"):
            client.register_worker_callbacks(_plain_setup)
        with pytest.raises(TypeError, match="callable"):
            client.register_worker_callbacks(None)

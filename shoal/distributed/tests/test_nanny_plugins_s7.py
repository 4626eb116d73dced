"""NannyPlugin and InstallPlugin on real nannies: LocalCluster's and a ``shoal worker`` process's."""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import pytest

from shoal.distributed import (
    Client,
    InstallPlugin,
    LocalCluster,
    NannyPlugin,
    PipInstall,
    SchedulerPlugin,
    WorkerPlugin,
)
from shoal.distributed.tests._procs import read_line, stop
from shoal.distributed.tests._procs import wait_until as _wait

#: (event, plugin value, nanny address) recorded by plugins whose nanny lives in this process (LocalCluster's).
CALLS: list[tuple[str, str, str]] = []


class Recorder(NannyPlugin):
    def __init__(self, value, restart=False, idempotent=False):
        self.value = value
        self.restart = restart
        self.idempotent = idempotent
        self.name = "recorder"

    def setup(self, nanny):
        CALLS.append(("setup", self.value, nanny.address))
        nanny.env["SHOAL_S7_NANNY"] = self.value

    def teardown(self, nanny):
        CALLS.append(("teardown", self.value, nanny.address))


class Broken(NannyPlugin):
    name = "broken"

    def setup(self, nanny):
        raise ZeroDivisionError("setup failed on purpose")


def _getenv():
    return os.environ.get("SHOAL_S7_NANNY")


@pytest.fixture
def cluster():
    CALLS.clear()
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c:
        yield c


def test_nanny_plugin_runs_in_each_nanny_and_restarts_the_workers(cluster):
    with Client(cluster, set_as_default=False) as client:
        before = set(client.run(os.getpid).values())
        replies = client.register_plugin(Recorder("one", restart=True))
        nannies = {n.address for n in cluster.workers.values()}
        assert set(replies) == nannies and set(replies.values()) == {None}
        assert sorted(c[:2] for c in CALLS) == [("setup", "one")] * 2
        # restart=True: each nanny started a new worker process, which has the nanny's new environment.
        _wait(lambda: len(client.nthreads()) == 2 and not before & set(client.run(os.getpid).values()))
        assert list(client.run(_getenv).values()) == ["one", "one"]
        assert [n.restarts for n in cluster.workers.values()] == [1, 1]
        # A nanny started later sets the plugin up before its worker starts: no restart needed.
        cluster.scale(3)
        assert sorted(client.run(_getenv).values()) == ["one"] * 3
        assert sorted(n.restarts for n in cluster.workers.values()) == [0, 1, 1]
        assert len([c for c in CALLS if c[0] == "setup"]) == 3
        # Registering again under the name tears the old one down first; no restart without restart=True.
        client.register_plugin(Recorder("two"))
        assert sorted(c[:2] for c in CALLS if c[0] == "teardown") == [("teardown", "one")] * 3
        assert sorted(n.restarts for n in cluster.workers.values()) == [0, 1, 1]
        # idempotent keeps the registered plugin.
        client.register_plugin(Recorder("three", idempotent=True))
        assert not [c for c in CALLS if c[1] == "three"]
        client.unregister_worker_plugin("recorder", nanny=True)
        assert sorted(c[:2] for c in CALLS if c[0] == "teardown" and c[1] == "two") == [("teardown", "two")] * 3


def test_nanny_plugin_errors_are_raised_and_nannies_close_with_teardown(cluster):
    with Client(cluster, set_as_default=False) as client:
        with pytest.raises(ZeroDivisionError, match="on purpose"):
            client.register_plugin(Broken())
        client.register_plugin(Recorder("kept"))
    cluster.close()
    assert sorted(c[:2] for c in CALLS if c[0] == "teardown") == [("teardown", "kept")] * 2


def test_nanny_plugin_reaches_a_shoal_worker_process(tmp_path):
    marker = tmp_path / "setup-ran"

    with LocalCluster(n_workers=0, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        proc = subprocess.Popen([sys.executable, "-m", "shoal.cli", "worker", cluster.scheduler_address,
                                 "--nthreads", "1", "--no-reconnect", "--log-level", "error"],
                                stdout=subprocess.PIPE, text=True)
        try:
            read_line(proc, "Worker at:")
            client.wait_for_workers(1, timeout=30)
            _wait(lambda: len(cluster.scheduler.nannies.nannies) == 1)
            replies = client.register_plugin(_Touch(str(marker)))
            assert list(replies.values()) == [None]
            # setup ran in the nanny: the `shoal worker` process, not the worker process under it.
            assert marker.read_text() == str(proc.pid)
        finally:
            assert stop(proc) == 0
        _wait(lambda: not cluster.scheduler.nannies.nannies)


class _Touch(NannyPlugin):
    def __init__(self, path):
        self.path = path

    def setup(self, nanny):
        with open(self.path, "w") as f:
            f.write(str(os.getpid()))


def test_nanny_plugins_do_not_reach_in_process_workers():
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        assert client.register_plugin(Recorder("inproc")) == {}


def _append(path, text):
    with open(path, "a") as f:
        f.write(text + "\n")


def test_install_plugin_runs_on_the_scheduler_then_once_per_host(tmp_path):
    log = tmp_path / "installs"
    plugin = InstallPlugin(functools.partial(_append, str(log), "x"), restart_workers=False)
    assert isinstance(plugin, SchedulerPlugin) and plugin.idempotent
    with Client(processes=False, n_workers=2, set_as_default=False) as client:
        name = plugin.name
        client.register_plugin(plugin)
        # The scheduler installed, then one of the two workers of this host (they share the host's record).
        assert log.read_text() == "x\nx\n"
        ran = client.run(lambda dask_worker: dask_worker.plugins[name].ran_installer)
        assert sorted(ran.values()) == [False, True]
        client.register_plugin(plugin)  # idempotent: nothing runs again
        assert log.read_text() == "x\nx\n"
        client.unregister_scheduler_plugin(name)
        assert all(name not in names for names in
                   client.run(lambda dask_worker: list(dask_worker.plugins)).values())


def test_install_plugin_with_restart_installs_in_the_nanny_and_restarts(tmp_path):
    log = tmp_path / "installs"
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        (before,) = client.run(os.getpid).values()
        client.register_plugin(InstallPlugin(functools.partial(_append, str(log), "y"), restart_workers=True))
        assert log.read_text() == "y\ny\n"  # the scheduler, and the nanny (both in this process here)
        _wait(lambda: list(client.run(os.getpid).values()) not in ([], [before]))
        assert cluster.workers["0"].restarts == 1


def test_install_plugin_failure_is_raised_and_not_kept():
    def fail():
        raise OSError("no installer here")

    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        plugin = InstallPlugin(fail, restart_workers=False)
        with pytest.raises(OSError, match="no installer here") as info:
            client.register_plugin(plugin)
        assert any("on the scheduler" in note for note in info.value.__notes__)
        assert plugin.name not in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.plugins))
    with pytest.raises(TypeError, match="callable"):
        InstallPlugin("pip install x", restart_workers=False)


def test_pip_install_is_an_install_plugin():
    plugin = PipInstall(["pkg"], restart_workers=True)
    assert isinstance(plugin, InstallPlugin) and plugin.restart_workers
    assert not isinstance(plugin, WorkerPlugin)

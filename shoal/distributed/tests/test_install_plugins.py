"""PipInstall, UploadDirectory and Environ on real workers.

PipInstall runs the real pip of this interpreter, offline: a wheel built by
hand in ``tmp_path`` is installed with ``--no-index --find-links`` into a
``--target`` directory under ``tmp_path``, which the workers have on their
``sys.path``. Nothing outside ``tmp_path`` changes (``.venv`` is untouched).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import sys
import time
import zipfile

import pytest

from shoal.distributed import Client, Environ, LocalCluster, PipInstall, UploadDirectory


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - a worker may be mid-restart
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)


def _build_wheel(directory, name="shoalpipdemo", version="0.1"):
    files = {f"{name}/__init__.py": b"VALUE = 42\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
             .encode(),
             f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: shoal-tests\n"
             b"Root-Is-Purelib: true\nTag: py3-none-any\n"}
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    files[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)


def _import_value(module):
    importlib.invalidate_caches()
    return importlib.import_module(module).VALUE


def _ran_installer(name, dask_worker=None):
    return dask_worker.plugins[name].ran_installer


def _start_environ(name):
    """The variable as this process started with it (Linux keeps the initial environment in /proc)."""
    with open("/proc/self/environ", "rb") as f:
        entries = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
    value = entries.get(name.encode())
    return value.decode() if value is not None else None


def _getenv(name):
    return os.environ.get(name)


def test_pip_install_once_per_host_offline(tmp_path, monkeypatch):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    wheels.mkdir()
    target.mkdir()
    _build_wheel(wheels)
    monkeypatch.syspath_prepend(str(target))  # workers inherit our sys.path as PYTHONPATH
    options = ["--no-index", "--find-links", str(wheels), "--target", str(target), "--disable-pip-version-check",
               "--no-warn-script-location"]
    plugin = PipInstall(["shoalpipdemo"], pip_options=options)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.register_plugin(plugin)
        assert (target / "shoalpipdemo" / "__init__.py").read_text() == "VALUE = 42\n"
        assert sorted(client.run(_import_value, "shoalpipdemo").values()) == [42, 42]
        # Both workers share this host: the file lock and the scheduler's record let only one run pip.
        assert sorted(client.run(_ran_installer, plugin.name).values()) == [False, True]
        import socket

        assert client.get_metadata(["shoal-install-plugins", plugin.name, "installed", socket.gethostname()])
    sys.modules.pop("shoalpipdemo", None)


def test_pip_install_failure_is_raised_with_pip_output(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    plugin = PipInstall(["shoal-no-such-package"], pip_options=["--no-index", "--find-links", str(empty),
                                                                "--target", str(tmp_path / "t")])
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        with pytest.raises(RuntimeError, match=r"(?s)failed with exit status 1.*shoal-no-such-package"):
            client.register_plugin(plugin)


def test_pip_install_checks_its_arguments():
    with pytest.raises(TypeError, match=r"PipInstall\(\['numpy'\]\)"):
        PipInstall("numpy")
    with pytest.raises(TypeError, match="split it"):
        PipInstall(["numpy"], pip_options="--upgrade --pre")
    with pytest.raises(ValueError, match="at least one package"):
        PipInstall([])
    plugin = PipInstall(["a", "b"], pip_options=["-q"])
    plugin.installer = ["uv", "pip", "install"]
    assert plugin.command() == ["uv", "pip", "install", "-q", "a", "b"]


def _make_tree(root, value):
    pkg = root / "shoalupdir"
    (pkg / "tests").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    (pkg / "shoalupmod.py").write_text(f"VALUE = {value}\n")
    (pkg / "tests" / "test_skipped.py").write_text("raise AssertionError\n")
    (pkg / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    return pkg


def test_upload_directory_in_process(tmp_path):
    plugin = UploadDirectory(_make_tree(tmp_path, 7), update_path=True)
    assert plugin.files == [os.path.join("shoalupdir", "shoalupmod.py")]
    try:
        with Client(processes=False, n_workers=2, set_as_default=False) as client:
            client.register_plugin(plugin)
            assert client.submit(_import_value, "shoalupmod").result(timeout=30) == 7
            dirs = client.run(lambda dask_worker: dask_worker.local_directory)
            for directory in dirs.values():
                assert sorted(os.listdir(os.path.join(directory, "shoalupdir"))) == ["shoalupmod.py"]
    finally:
        sys.modules.pop("shoalupmod", None)
    with pytest.raises(FileNotFoundError, match="no directory"):
        UploadDirectory(tmp_path / "missing")


def test_upload_directory_restarts_each_worker_once(tmp_path):
    plugin = UploadDirectory(_make_tree(tmp_path, 11), update_path=True, restart=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        (before,) = client.run(os.getpid).values()
        client.register_plugin(plugin)
        _wait(lambda: list(client.run(os.getpid).values()) not in ([], [before]))
        (after,) = client.run(os.getpid).values()
        # The new process got the directory again on joining, and was not restarted again.
        assert list(client.run(_import_value, "shoalupmod").values()) == [11]
        assert cluster.workers["0"].restarts == 1
        assert list(client.run(os.getpid).values()) == [after]


def test_environ_reaches_worker_processes_before_they_start():
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        assert list(client.run(_start_environ, "SHOAL_ENVIRON_TEST").values()) == [None]
        client.register_plugin(Environ({"SHOAL_ENVIRON_TEST": 42}))
        _wait(lambda: list(client.run(_start_environ, "SHOAL_ENVIRON_TEST").values()) == ["42"])
        cluster.scale(2)  # a worker joining later gets it too, in the environment it starts with
        _wait(lambda: list(client.run(_start_environ, "SHOAL_ENVIRON_TEST").values()) == ["42", "42"])
        assert list(client.run(_getenv, "SHOAL_ENVIRON_TEST").values()) == ["42", "42"]
        assert [n.restarts for n in cluster.workers.values()] == [1, 1]
    assert "SHOAL_ENVIRON_TEST" not in os.environ


def test_environ_without_nanny_sets_the_process_environment(monkeypatch):
    monkeypatch.setenv("SHOAL_ENVIRON_INPROC", "old")  # restored (removed) at teardown
    with Client(processes=False, n_workers=1, set_as_default=False) as client:
        client.register_plugin(Environ({"SHOAL_ENVIRON_INPROC": "new"}))
        assert client.submit(_getenv, "SHOAL_ENVIRON_INPROC").result(timeout=30) == "new"
    with pytest.raises(TypeError, match="dict of variable names"):
        Environ(["A=1"])

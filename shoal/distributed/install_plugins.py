"""Worker plugins that install things: packages, directories and environment variables.

Register them with :meth:`Client.register_plugin`; workers that join later
install them too.

- :class:`InstallPlugin` (a scheduler plugin, as in Dask) runs an install
  function in the scheduler and then on the workers, and :class:`PipInstall`
  is one that runs ``pip install``. Workers of one host take a file lock
  first (``flock`` on a file in the temporary directory: the kernel frees it
  if a worker dies holding it) and record in the scheduler's metadata
  (``client.get_metadata``) that the host is done, so each host installs
  once however many workers it has. With ``restart_workers=True`` the
  installing is done by the nannies, which then restart their workers.
- :class:`UploadDirectory` sends a directory to every worker, into the
  worker's local directory.
- :class:`Environ` sets environment variables in the worker processes.
  Under a nanny it also hands them to the nanny (through the file named by
  ``SHOAL_NANNY_ENV_FILE``), which sets them in every worker process it
  starts, before the process runs any code; the current process is then
  replaced once, so variables read at start-up (``OMP_NUM_THREADS``) apply.

``UploadDirectory(restart=True)`` and ``Environ`` ask each worker's nanny for a
fresh process once per worker name (recorded in the scheduler's metadata),
so the new process, which installs the plugin again on joining, is not
restarted again. A worker without a nanny cannot be restarted: a warning is
logged and the plugin still applies in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.nanny import NANNY_ENV_FILE, request_restart, under_nanny
from shoal.distributed.plugins import NannyPlugin, SchedulerPlugin, WorkerPlugin

__all__ = ["Environ", "InstallPlugin", "PipInstall", "UploadDirectory"]

logger = logging.getLogger("shoal.distributed.install_plugins")

#: Top of the scheduler-metadata tree where these plugins record what they did.
_NAMESPACE = "shoal-install-plugins"


def _token(*parts: Any) -> str:
    return hashlib.sha1(pickle.dumps(parts)).hexdigest()[:10]


async def _scheduler_call(worker: Any, op: str, **kwargs: Any) -> Any:
    """A request to the scheduler of ``worker`` (a worker, or a nanny: both have ``pool`` and ``address``)."""
    reply = await worker.pool.call(worker.scheduler_address, {"op": op, **kwargs})
    if reply.get("status") != "OK":
        raise RuntimeError(f"{worker.address}: the scheduler refused {op}: {reply.get('text')}")
    return reply.get("result")


async def _get_flag(worker: Any, path: list[str]) -> bool:
    return bool(await _scheduler_call(worker, "get_metadata", keys=path, default=False, has_default=True))


async def _set_flag(worker: Any, path: list[str]) -> None:
    await _scheduler_call(worker, "set_metadata", keys=path, value=True)


def restart_worker_process(worker: Any) -> bool:
    """Ask the nanny of ``worker`` (this process's worker) for a fresh process; False without a nanny.

    The request waits until the worker accepts restarts (a worker installing plugins while it joins does not
    yet), and a moment more so that the reply to the plugin's registration leaves first.
    """
    if not under_nanny():
        logger.warning("worker %s has no nanny and cannot be restarted; the plugin applies in place",
                       worker.address)
        return False

    async def ask() -> None:
        await asyncio.sleep(0.2)
        for _ in range(600):  # bounded: 30 s
            if request_restart(worker) is not None:
                return
            await asyncio.sleep(0.05)
        logger.warning("worker %s did not accept a restart request within 30s", worker.address)

    worker._spawn(ask())
    return True


async def _restart_once(worker: Any, plugin: str) -> None:
    """Restart the process of ``worker`` unless a process under its name was already restarted for ``plugin``."""
    path = [_NAMESPACE, plugin, "restarted", str(worker.name)]
    if not await _get_flag(worker, path):
        await _set_flag(worker, path)
        restart_worker_process(worker)


@contextlib.asynccontextmanager
async def _host_lock(name: str) -> Any:
    """Hold an exclusive lock shared by every process of this host (POSIX ``flock``; none elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: workers of one host may race; pip itself then reports conflicts
        yield
        return
    fd = os.open(os.path.join(tempfile.gettempdir(), f"shoal-{name}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        # flock blocks: wait in a thread so the worker's event loop keeps serving.
        await asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class InstallPlugin(SchedulerPlugin):
    """Install software on the scheduler and on every worker, with a function that does it.

    Registered with :meth:`Client.register_plugin`, it runs ``install_fn()`` in the scheduler's process,
    then on the workers: in a worker plugin, once per host (workers of one host take a file lock and the
    first records in the scheduler's metadata that the host is done); or, with ``restart_workers=True``, in
    a nanny plugin, once per host too, after which every nanny restarts its worker process so that modules
    imported before are imported again. Workers that join later install it as they start. Unregistering
    it (or closing the scheduler) removes the worker or nanny plugin.

    Parameters
    ----------
    install_fn : callable
        ``install_fn()`` installs the software; it must be picklable and idempotent, and it runs in a thread.
    restart_workers : bool
        Install through the nannies and restart each worker process afterwards (workers without a nanny,
        e.g. ``processes=False``, then get nothing, as in Dask).

    Notes
    -----
    Mirrors ``distributed.diagnostics.plugin.InstallPlugin``; it is a
    :class:`~shoal.distributed.SchedulerPlugin`, and ``idempotent``: registering the same plugin again does
    nothing. Dask runs ``install_fn`` on every worker of a host in turn; shoal runs it once per host.

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> def install():
    ...     pass  # e.g. subprocess.run(["apt-get", "install", "-y", "tool"], check=True)
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     client.register_plugin(InstallPlugin(install, restart_workers=False))
    """

    idempotent = True

    def __init__(self, install_fn: Callable[[], Any], restart_workers: bool) -> None:
        if not callable(install_fn):
            raise TypeError(f"InstallPlugin expects a callable that installs the software, got "
                            f"{type(install_fn).__name__}.")
        self._install_fn = install_fn
        self.restart_workers = restart_workers
        self.name = f"{type(self).__name__}-{uuid.uuid4()}"
        self._scheduler: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # The scheduler it was started in does not travel (an in-process cluster hands over the object itself).
        return {**self.__dict__, "_scheduler": None}

    async def start(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        where = f"on the scheduler {scheduler.address}"
        await asyncio.get_running_loop().run_in_executor(None, _install, self._install_fn, where)
        if self.restart_workers:
            blob = pickle_value(_InstallNannyPlugin(self._install_fn, self.name))
            replies = await scheduler.nannies.rpc_register_nanny_plugin(blob, self.name, idempotent=True)
        else:
            blob = pickle_value(_InstallWorkerPlugin(self._install_fn, self.name))
            replies = await scheduler.admin.rpc_register_worker_plugin(blob, self.name, idempotent=True)
        _raise_first_error(replies)

    async def close(self) -> None:
        scheduler = self._scheduler
        if scheduler is None or scheduler.status == "closed":
            return  # the workers and nannies drop their plugins as they close
        with contextlib.suppress(ValueError):
            if self.restart_workers:
                await scheduler.nannies.rpc_unregister_nanny_plugin(self.name)
            else:
                await scheduler.admin.rpc_unregister_worker_plugin(self.name)


_install_lock = threading.Lock()


def _install(install_fn: Callable[[], Any], where: str) -> None:
    """Run ``install_fn`` (in a thread), one installation per process at a time; say where it failed."""
    with _install_lock:
        try:
            install_fn()
        except Exception as exc:
            exc.add_note(f"shoal: raised while installing {where}")
            raise


def _raise_first_error(replies: dict[str, Any]) -> None:
    for reply in replies.values():
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, dict) and reply.get("ok") is False:
            raise unpickle_value(reply["exception"])


async def _install_once_per_host(owner: Any, plugin: Any, where: str) -> None:
    """Run ``plugin._install_fn`` unless another process of this host already did (file lock + metadata)."""
    done = [_NAMESPACE, plugin.name, "installed", socket.gethostname()]
    async with _host_lock(plugin.name):
        if not await _get_flag(owner, done):
            await asyncio.get_running_loop().run_in_executor(None, _install, plugin._install_fn, where)
            plugin.ran_installer = True
            await _set_flag(owner, done)
    importlib.invalidate_caches()  # a --target directory on sys.path may have been empty at start-up


class _InstallWorkerPlugin(WorkerPlugin):
    """The worker side of an :class:`InstallPlugin` without ``restart_workers``."""

    def __init__(self, install_fn: Callable[[], Any], name: str) -> None:
        self._install_fn = install_fn
        self.name = name
        #: Whether this worker ran the installer; False where another worker of the host had.
        self.ran_installer = False

    async def setup(self, worker: Any) -> None:
        await _install_once_per_host(worker, self, f"on worker {worker.address}")


class _InstallNannyPlugin(NannyPlugin):
    """The nanny side of an :class:`InstallPlugin` with ``restart_workers``: install, then restart the worker."""

    restart = True

    def __init__(self, install_fn: Callable[[], Any], name: str) -> None:
        self._install_fn = install_fn
        self.name = name
        self.ran_installer = False

    async def setup(self, nanny: Any) -> None:
        await _install_once_per_host(nanny, self, f"by the nanny {nanny.address}")


class _PipInstaller:
    """``pip install`` of some packages, run by an :class:`InstallPlugin` wherever it installs."""

    def __init__(self, packages: list[str], pip_options: list[str], installer: list[str] | None) -> None:
        self.packages = packages
        self.pip_options = pip_options
        self.installer = installer

    def command(self, python: str | None = None) -> list[str]:
        head = list(self.installer) if self.installer else [python or sys.executable, "-m", "pip", "install"]
        return [*head, *self.pip_options, *self.packages]

    def __call__(self) -> None:
        command = self.command()
        logger.info("%s", " ".join(command))
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if proc.returncode:
            tail = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()[-15:]
            raise RuntimeError(f"PipInstall: `{' '.join(command)}` failed with exit status {proc.returncode}:\n"
                               + "\n".join(tail) + "\nCheck the package names and pip_options, or run the "
                               "command on that host.")


class PipInstall(InstallPlugin):
    """Install packages with pip on the scheduler and on every worker (once per host); see :class:`InstallPlugin`.

    Parameters
    ----------
    packages : list of str
        Requirements as given to ``pip install`` (``"numpy>=2"``, a path, a URL).
    pip_options : list of str, optional
        Further options of ``pip install``, e.g. ``["--upgrade"]`` or
        ``["--no-index", "--find-links", "/wheels", "--target", "/opt/site"]``.
    restart_workers : bool
        Install through the nannies and restart each worker process afterwards, so that packages imported
        before are imported again in their new version.

    Notes
    -----
    Mirrors ``distributed.PipInstall`` (an :class:`InstallPlugin` there too). :attr:`installer` is the
    command run before the packages and options: ``python -m pip install`` with the interpreter of the
    process that installs, unless set on the instance before registering.

    Examples
    --------
    >>> plugin = PipInstall(["tqdm"], pip_options=["--upgrade"])
    >>> plugin.command("/usr/bin/python3")
    ['/usr/bin/python3', '-m', 'pip', 'install', '--upgrade', 'tqdm']
    """

    #: Replaces ``[python, "-m", "pip", "install"]`` when set (e.g. ``["uv", "pip", "install"]``).
    installer: list[str] | None = None

    def __init__(self, packages: Sequence[str], pip_options: Sequence[str] | None = None,
                 restart_workers: bool = False) -> None:
        if isinstance(packages, str) or not all(isinstance(p, str) for p in packages):
            raise TypeError(f"PipInstall expects a list of requirement strings, got {packages!r}; "
                            f"write PipInstall([{packages!r}]) for one package.")
        if not packages:
            raise ValueError("PipInstall needs at least one package to install.")
        if isinstance(pip_options, str):
            raise TypeError(f"PipInstall(pip_options=...) expects a list of strings, got the string "
                            f"{pip_options!r}; split it, e.g. {pip_options.split()!r}.")
        self.packages = list(packages)
        self.pip_options = list(pip_options or [])
        super().__init__(_PipInstaller(self.packages, self.pip_options, None), restart_workers)
        # Named by content: registering the same packages again is a no-op (the plugin is idempotent).
        self.name = f"pip-install-{_token(self.packages, self.pip_options)}"

    def command(self, python: str | None = None) -> list[str]:
        """The command that installs the packages with interpreter ``python`` (default: this one)."""
        return _PipInstaller(self.packages, self.pip_options, self.installer).command(python)

    async def start(self, scheduler: Any) -> None:
        self._install_fn = _PipInstaller(self.packages, self.pip_options, self.installer)
        await super().start(scheduler)


def _default_skip(filename: str) -> bool:
    return filename.endswith(".pyc")


class UploadDirectory(WorkerPlugin):
    """Copy a local directory to every worker, into ``worker.local_directory/<directory name>``.

    Parameters
    ----------
    path : str or path-like
        The directory to send; it is read (and zipped) when the plugin is created.
    restart : bool
        Restart each worker process (through its nanny) once after the upload, so modules imported from the
        directory before are imported again.
    update_path : bool
        Put the uploaded directory first on the worker's ``sys.path``, so its modules import.
    skip_words : iterable of str
        Leave out files with any of these words as a component of their path.
    skip : iterable of callables
        Leave out files for which any of these returns True given the file's path (default: ``.pyc`` files).

    Notes
    -----
    Mirrors ``distributed.UploadDirectory``, as a worker plugin: the copy lives in the worker's local
    directory (removed when the worker closes); a restarted worker process receives it again on joining.
    """

    def __init__(self, path: str | os.PathLike[str], restart: bool = False, update_path: bool = False,
                 skip_words: Iterable[str] = (".git", ".github", ".pytest_cache", "tests", "docs"),
                 skip: Iterable[Callable[[str], bool]] = (_default_skip,)) -> None:
        root = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if not os.path.isdir(root):
            raise FileNotFoundError(f"UploadDirectory: no directory at {root!r}.")
        self.path = root
        self.restart = restart
        self.update_path = update_path
        words, tests = set(skip_words), list(skip)
        buffer = io.BytesIO()
        base = os.path.dirname(root)
        #: Paths of the files sent, relative to the directory's parent (``mypkg/mod.py``).
        self.files: list[str] = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in words)
                for filename in sorted(filenames):
                    full = os.path.join(dirpath, filename)
                    relative = os.path.relpath(full, base)
                    if words.intersection(relative.split(os.sep)) or any(t(full) for t in tests):
                        continue
                    archive.write(full, relative)
                    self.files.append(relative)
        self.data = buffer.getvalue()
        self.name = f"upload-directory-{os.path.basename(root)}-{_token(self.data)}"
        self._added: str | None = None

    async def setup(self, worker: Any) -> None:
        directory = worker.local_directory
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            archive.extractall(directory)
        if self.update_path:
            entry = os.path.join(directory, os.path.basename(self.path))
            if entry not in sys.path:
                sys.path.insert(0, entry)
                self._added = entry
            importlib.invalidate_caches()
        if self.restart:
            await _restart_once(worker, self.name)

    def teardown(self, worker: Any) -> None:
        if self._added is not None and self._added in sys.path:
            sys.path.remove(self._added)


class Environ(WorkerPlugin):
    """Set environment variables in every worker process; see the module docstring.

    Parameters
    ----------
    environ : dict
        ``{name: value}``; values are turned into strings.

    Notes
    -----
    Mirrors ``distributed.Environ`` (a nanny plugin there). A worker without a nanny gets the variables
    in its running process only (an in-process worker shares them with the client).

    Examples
    --------
    >>> Environ({"OMP_NUM_THREADS": 1}).environ
    {'OMP_NUM_THREADS': '1'}
    """

    def __init__(self, environ: dict[str, Any] | None = None) -> None:
        if environ is not None and not isinstance(environ, dict):
            raise TypeError(f"Environ expects a dict of variable names to values, got {type(environ).__name__}.")
        self.environ = {str(k): str(v) for k, v in (environ or {}).items()}
        self.name = f"environ-{_token(sorted(self.environ.items()))}"

    def setup(self, worker: Any) -> None:
        missing = {k: v for k, v in self.environ.items() if os.environ.get(k) != v}
        os.environ.update(self.environ)
        path = os.environ.get(NANNY_ENV_FILE) if under_nanny() else None
        if path is None or not missing:
            return  # no nanny, or this process started with the variables already
        current: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError):
            with open(path) as f:
                current = dict(json.load(f))
        current.update(self.environ)
        partial = f"{path}.{os.getpid()}.tmp"
        with open(partial, "w") as f:
            json.dump(current, f)
        os.replace(partial, path)  # the nanny never reads half a file
        restart_worker_process(worker)

"""Plugins: code that runs on every worker, or inside the scheduler.

Register either kind with :meth:`Client.register_plugin`.

- A worker plugin is any picklable object with optional ``setup(worker)``
  and ``teardown(worker)`` methods (plain or ``async``); workers that join
  later install it too.
- A :class:`NannyPlugin` runs in each nanny (the process that supervises a
  worker process): ``setup(nanny)`` runs before the nanny starts a worker
  process, so it can change the environment a worker starts with; with
  ``restart = True`` registering it restarts the running worker processes.
  Workers without a nanny (``processes=False``, ``shoal worker --no-nanny``)
  do not see it.
- A :class:`SchedulerPlugin` runs in the scheduler's process and hears of
  its life cycle, workers and clients coming and going, and every task
  transition. Its hooks run on the scheduler's event loop, between the state
  machine's steps: they must be quick, and must not change the state. An
  exception in a hook is logged and ignored.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

__all__ = ["NannyPlugin", "SchedulerPlugin", "UploadFile", "WorkerPlugin"]


class WorkerPlugin:
    """Base class of worker plugins; override ``setup`` and/or ``teardown``.

    Examples
    --------
    >>> class Hello(WorkerPlugin):
    ...     def setup(self, worker):
    ...         worker.greeting = "hello"
    """

    name: str | None = None

    def setup(self, worker: Any) -> None:
        """Called on each worker when the plugin is registered, or when the worker joins."""

    def teardown(self, worker: Any) -> None:
        """Called when the worker closes or the plugin is unregistered."""


class NannyPlugin:
    """Base class of nanny plugins: code that runs in each nanny, before and around its worker processes.

    Attributes
    ----------
    idempotent : bool
        Registering a plugin under a name already registered leaves the old one in place (True) or
        tears it down and replaces it (False, the default).
    restart : bool
        Restart each running worker process after ``setup`` (through its nanny) when the plugin is registered;
        workers that start later start with the plugin already set up.

    Notes
    -----
    Mirrors ``distributed.NannyPlugin``. The ``nanny`` passed to the hooks is a
    :class:`~shoal.distributed.nanny.Nanny`; its ``env`` dict is the environment every worker process it
    starts from then on gets on top of its own, and ``local_directory`` a scratch directory of its own.

    Examples
    --------
    >>> class Threads(NannyPlugin):
    ...     restart = True
    ...     def setup(self, nanny):
    ...         nanny.env["OMP_NUM_THREADS"] = "1"
    """

    name: str | None = None
    idempotent: bool = False
    restart: bool = False

    def setup(self, nanny: Any) -> Any:
        """Called in each nanny when the plugin is registered, or when a nanny starts; may be ``async``."""

    def teardown(self, nanny: Any) -> Any:
        """Called when the nanny closes or the plugin is unregistered; may be ``async``."""


class UploadFile(WorkerPlugin):
    """Put a ``.py``, ``.zip`` or ``.egg`` file on every worker and make it importable.

    A module that is already imported on the worker is reloaded, so
    uploading a new version replaces the old one.
    """

    def __init__(self, filepath: str | os.PathLike[str]) -> None:
        path = os.fspath(filepath)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"upload_file: no file at {path!r}.")
        if not path.endswith((".py", ".zip", ".egg")):
            raise ValueError(f"upload_file expects a .py, .zip or .egg file, got {path!r}.")
        self.filename = os.path.basename(path)
        with open(path, "rb") as f:
            self.data = f.read()
        self.name = f"upload-file-{self.filename}"
        self._added: str | None = None

    def setup(self, worker: Any) -> None:
        directory = os.path.join(worker.local_directory, "uploads")
        os.makedirs(directory, exist_ok=True)
        target = os.path.join(directory, self.filename)
        with open(target, "wb") as f:
            f.write(self.data)
        entry = directory if self.filename.endswith(".py") else target
        if entry not in sys.path:
            sys.path.insert(0, entry)
            self._added = entry
        importlib.invalidate_caches()
        if self.filename.endswith(".py"):
            module_name = self.filename[:-3]
            module = sys.modules.get(module_name)
            # A fresh import proves the file is usable; a reload picks up a new version.
            if module is not None:
                spec = importlib.util.spec_from_file_location(module_name, target)
                if spec is not None and spec.loader is not None:
                    module.__spec__ = spec
                    module.__file__ = target
                    spec.loader.exec_module(module)
            else:
                importlib.import_module(module_name)

    def teardown(self, worker: Any) -> None:
        if self._added is not None and self._added in sys.path:
            sys.path.remove(self._added)


class SchedulerPlugin:
    """Base class of scheduler plugins: override the hooks you need (each may also be ``async`` where noted).

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> class Counter(SchedulerPlugin):
    ...     def __init__(self):
    ...         self.finished = 0
    ...     def transition(self, key, start, finish, *args, stimulus_id=None, **kwargs):
    ...         self.finished += finish == "memory"
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     client.register_plugin(Counter(), name="counter")
    ...     client.gather(client.map(abs, [-1, -2]))
    ...     client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins["counter"].finished)
    [1, 2]
    2
    """

    name: str | None = None

    def start(self, scheduler: Any) -> Any:
        """Called once when registered (or when the scheduler starts); may be ``async``."""

    def close(self) -> Any:
        """Called when the scheduler closes or the plugin is unregistered; may be ``async``."""

    def add_worker(self, scheduler: Any, worker: str) -> None:
        """A worker at address ``worker`` joined."""

    def remove_worker(self, scheduler: Any, worker: str, *, stimulus_id: str | None = None, **kwargs: Any) -> None:
        """The worker at address ``worker`` left (closed, crashed, or silent past the worker ttl)."""

    def add_client(self, scheduler: Any, client: str) -> None:
        """A client with id ``client`` connected."""

    def remove_client(self, scheduler: Any, client: str) -> None:
        """The client ``client`` disconnected."""

    def transition(self, key: Any, start: str, finish: str, *args: Any, stimulus_id: str | None = None,
                   **kwargs: Any) -> None:
        """Task ``key`` moved from status ``start`` to ``finish`` (see :mod:`shoal.distributed.state.tasks`)."""

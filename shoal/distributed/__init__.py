"""shoal.distributed: a scheduler, workers and a client for many processes or hosts.

Mirrors ``dask.distributed``: start a :class:`Client` (which, without an
address, starts a :class:`LocalCluster`), submit functions and collections,
and get :class:`Future` objects back.

>>> from shoal.distributed import Client
>>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
...     client.submit(pow, 2, 10).result()
1024
"""

from __future__ import annotations

from pathlib import Path

import yaml

from shoal import config as _config

with open(Path(__file__).with_name("distributed.yaml")) as _f:
    _config.update_defaults(yaml.safe_load(_f))

from builtins import TimeoutError  # noqa: E402, A004 - Dask's distributed.TimeoutError is the builtin

from shoal.distributed.actor import Actor, ActorFuture, BaseActorFuture  # noqa: E402
from shoal.distributed.adaptive import Adaptive  # noqa: E402
from shoal.distributed._exceptions import (  # noqa: E402
    CancelledError,
    CommClosedError,
    FutureCancelledError,
    KilledWorker,
    SchedulerUnreachableError,
    WorkerStartError,
)
from shoal.distributed.client import Client, default_client, fire_and_forget, futures_of  # noqa: E402
from shoal.distributed.cluster import LocalCluster  # noqa: E402
from shoal.distributed.coordination import Event, Lock, Pub, Queue, Semaphore, Sub, Variable  # noqa: E402
from shoal.distributed.diagnostics import get_task_stream, performance_report, progress  # noqa: E402
from shoal.distributed.executor import CompatibleExecutor  # noqa: E402
from shoal.distributed.install_plugins import Environ, InstallPlugin, PipInstall, UploadDirectory  # noqa: E402
from shoal.distributed.multi_lock import MultiLock  # noqa: E402
from shoal.distributed.nanny import Nanny  # noqa: E402
from shoal.distributed.plugins import NannyPlugin, SchedulerPlugin, UploadFile, WorkerPlugin  # noqa: E402
from shoal.distributed.reschedule import Reschedule  # noqa: E402
from shoal.distributed.security import Security  # noqa: E402
from shoal.distributed.servers import Scheduler, Status, Worker  # noqa: E402
from shoal.distributed.spec_cluster import SpecCluster  # noqa: E402
from shoal.distributed.subprocess_cluster import SubprocessCluster  # noqa: E402
from shoal.distributed.task_metadata import get_task_metadata  # noqa: E402
from shoal.distributed.future import Future  # noqa: E402
from shoal.distributed.wait import as_completed, wait  # noqa: E402
from shoal.distributed.worker_api import get_client, get_worker, rejoin, secede, worker_client  # noqa: E402

__all__ = [
    "Actor",
    "ActorFuture",
    "Adaptive",
    "BaseActorFuture",
    "CancelledError",
    "Client",
    "CommClosedError",
    "CompatibleExecutor",
    "Environ",
    "Event",
    "Future",
    "FutureCancelledError",
    "InstallPlugin",
    "KilledWorker",
    "LocalCluster",
    "Lock",
    "MultiLock",
    "Nanny",
    "NannyPlugin",
    "PipInstall",
    "Pub",
    "Queue",
    "Reschedule",
    "Scheduler",
    "SchedulerPlugin",
    "SchedulerUnreachableError",
    "Security",
    "Semaphore",
    "SpecCluster",
    "Status",
    "Sub",
    "SubprocessCluster",
    "TimeoutError",
    "UploadDirectory",
    "UploadFile",
    "Variable",
    "Worker",
    "WorkerPlugin",
    "WorkerStartError",
    "as_completed",
    "default_client",
    "fire_and_forget",
    "futures_of",
    "get_client",
    "get_worker",
    "get_task_metadata",
    "get_task_stream",
    "performance_report",
    "progress",
    "rejoin",
    "secede",
    "wait",
    "worker_client",
]

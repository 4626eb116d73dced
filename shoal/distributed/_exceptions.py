"""The exceptions of ``shoal.distributed``, in one place.

Every class derives from :class:`shoal.ShoalError` (so ``except ShoalError``
catches anything shoal refuses) and from the builtin that a Dask user would
already catch::

    ShoalError
    ├── KilledWorker (RuntimeError)           a task took down allowed-failures workers
    ├── FutureCancelledError (concurrent.futures.CancelledError)
    │                                         the future's key was cancelled or lost
    ├── CommClosedError (OSError)             the other end of a comm went away
    │   └── FrameError (ValueError)           a frame that is oversized or corrupt
    ├── WorkerStartError (RuntimeError)       a worker process did not come up
    └── SchedulerUnreachableError (OSError)   no scheduler answered at an address

``CancelledError`` is exported as an alias of :class:`FutureCancelledError`,
Dask's name for it. Every field is passed to ``super().__init__`` so that all
of them pickle: they cross from workers and scheduler to the client.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from shoal._exceptions import ShoalError

__all__ = [
    "CancelledError",
    "CommClosedError",
    "FrameError",
    "FutureCancelledError",
    "KilledWorker",
    "SchedulerUnreachableError",
    "WorkerStartError",
]


class KilledWorker(ShoalError, RuntimeError):
    """A task was running on ``allowed-failures`` workers that each died.

    Attributes
    ----------
    task : key
        The task that is suspected of killing its workers.
    last_worker : str
        The address of the last worker that died while running it.
    allowed_failures : int
        The ``distributed.scheduler.allowed-failures`` setting in force.
    """

    def __init__(self, task: Any, last_worker: str, allowed_failures: int) -> None:
        super().__init__(task, last_worker, allowed_failures)
        self.task = task
        self.last_worker = last_worker
        self.allowed_failures = allowed_failures

    def __str__(self) -> str:
        return (
            f"Attempted to run task {self.task!r} on {self.allowed_failures + 1} different workers, "
            f"but all those workers died while running it. The last worker that attempted to run "
            f"the task was {self.last_worker}. Inspect the worker logs for a crash (segfault, "
            f"out-of-memory kill, os._exit) caused by this task; if the workers died for another "
            f"reason, raise `distributed.scheduler.allowed-failures` with shoal.config.set(...)."
        )


class FutureCancelledError(ShoalError, concurrent.futures.CancelledError):
    """The result of ``key`` is gone: its future was cancelled, or the scheduler released it.

    Exported as ``CancelledError`` too, Dask's name for it.
    """

    def __init__(self, key: Any, reason: str | None = None) -> None:
        super().__init__(key, reason)
        self.key = key
        self.reason = reason

    def __str__(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return (f"Future for key {self.key!r} was cancelled{why}. Submit the task again (with a new "
                f"key, or pure=False) if you still need its result.")


CancelledError = FutureCancelledError


class CommClosedError(ShoalError, OSError):
    """The comm was closed, by this side or the peer, while it was in use."""

    def __init__(self, message: str = "comm closed", address: str | None = None) -> None:
        super().__init__(message, address)
        self.message = message
        self.address = address

    def __str__(self) -> str:
        where = f" (peer {self.address})" if self.address else ""
        return f"{self.message}{where}"


class FrameError(CommClosedError, ValueError):
    """A frame on the wire was larger than allowed or could not be decoded; the comm is closed."""


class WorkerStartError(ShoalError, RuntimeError):
    """A worker (process) did not start and register with the scheduler in time."""


class SchedulerUnreachableError(ShoalError, OSError):
    """Nobody answered at the scheduler's address before the timeout."""

    def __init__(self, address: str, timeout: float, cause: str = "") -> None:
        super().__init__(address, timeout, cause)
        self.address = address
        self.timeout = timeout
        self.cause = cause

    def __str__(self) -> str:
        extra = f" Last error: {self.cause}." if self.cause else ""
        return (f"Could not connect to {self.address} within {self.timeout:g}s.{extra} Check that "
                f"the scheduler is running (`shoal scheduler`) and that the address and port are "
                f"right, or raise `timeout=`.")

"""Events: what happened, as the state machines are told it.

Each event is a frozen record carrying everything the machine needs,
including the time (``now``) where the machine keeps time-based statistics:
the machines never read a clock or a socket. ``stimulus_id`` names the
message or timer that caused the event, so that ``story(key)`` can explain
why a task is where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shoal.graph.task import Key

__all__ = [
    "BalanceRequested",
    "ClientJoined",
    "ClientLeft",
    "ComputeRequested",
    "DataScattered",
    "ExecuteFailed",
    "ExecuteSucceeded",
    "FetchErred",
    "FetchFailed",
    "FetchSucceeded",
    "FreeKeysRequested",
    "GraphSubmitted",
    "KeysCancelled",
    "KeysReleased",
    "StealRequested",
    "StealResponded",
    "TaskErred",
    "TaskFinished",
    "TaskMissing",
    "TaskRejoined",
    "TaskRescheduled",
    "TaskSeceded",
    "WorkerJoined",
    "WorkerLeft",
]


# ------------------------------------------------------------------ scheduler events


@dataclass(frozen=True, slots=True)
class GraphSubmitted:
    """A client submitted tasks and wants the results of ``wanted``.

    ``tasks`` maps new keys to their pickled task (opaque bytes); keys that
    the scheduler already knows keep their existing record.
    """

    client: str
    tasks: dict[Key, bytes]
    dependencies: dict[Key, tuple[Key, ...]]
    wanted: tuple[Key, ...]
    #: Position of each key in the graph's static order (lower runs first).
    order: dict[Key, int]
    stimulus_id: str
    user_priority: int = 0
    retries: int = 0
    workers: frozenset[str] | None = None
    allow_other_workers: bool = False
    resources: dict[str, float] | None = None
    #: Per-key overrides from annotations: {key: {"priority": .., "retries": .., "workers": .., "resources": ..}}.
    annotations: dict[Key, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskFinished:
    key: Key
    worker: str
    nbytes: int
    type_name: str
    stimulus_id: str
    #: The pickled result when it is small (sent on to clients that want it).
    inline: Any = None
    start: float = 0.0
    stop: float = 0.0
    thread: int = 0
    #: The worker record's user metadata, when not empty (merged into the scheduler's record).
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TaskErred:
    key: Key
    worker: str
    exception: bytes
    traceback: bytes | None
    text: str
    stimulus_id: str
    start: float = 0.0
    stop: float = 0.0
    thread: int = 0


@dataclass(frozen=True, slots=True)
class TaskMissing:
    """A worker could not find ``key`` on ``holder`` (it was lost)."""

    key: Key
    holder: str
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class TaskRescheduled:
    """``worker`` gave up running ``key`` (the task raised ``Reschedule``) and dropped it: place it again."""

    key: Key
    worker: str
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class WorkerJoined:
    address: str
    name: str
    nthreads: int
    memory_limit: int
    now: float
    stimulus_id: str
    resources: dict[str, float] | None = None
    #: Keys the worker already holds (after reconnecting).
    holding: dict[Key, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorkerLeft:
    address: str
    stimulus_id: str
    #: Whether the worker died (as opposed to closing gracefully): counts against its tasks.
    died: bool = True


@dataclass(frozen=True, slots=True)
class ClientJoined:
    client: str
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class ClientLeft:
    client: str
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class KeysReleased:
    """The client dropped its last future for each of ``keys``."""

    client: str
    keys: tuple[Key, ...]
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class KeysCancelled:
    client: str
    keys: tuple[Key, ...]
    stimulus_id: str
    force: bool = False


@dataclass(frozen=True, slots=True)
class TasksRetried:
    """A client asked to run erred ``keys`` again, with the erred tasks upstream of them (``Client.retry``)."""

    keys: tuple[Key, ...]
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class DataScattered:
    """The client put data straight onto workers: ``{key: (workers, nbytes, type_name)}``."""

    client: str
    placed: dict[Key, tuple[tuple[str, ...], int, str]]
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class BalanceRequested:
    """Periodic tick: move queued tasks from saturated workers to idle ones (work stealing)."""

    stimulus_id: str


@dataclass(frozen=True, slots=True)
class StealResponded:
    """``worker`` answered a steal request: ``ok`` if it dropped ``key`` before starting it."""

    key: Key
    worker: str
    ok: bool
    stimulus_id: str


# ------------------------------------------------------------------ worker events


@dataclass(frozen=True, slots=True)
class StealRequested:
    """The scheduler wants to move ``key`` elsewhere if it has not started here."""

    key: Key
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class ComputeRequested:
    key: Key
    run_spec: bytes
    priority: tuple[Any, ...]
    #: Where each dependency lives: {dep: (addresses...)}; nbytes for each.
    who_has: dict[Key, tuple[str, ...]]
    nbytes: dict[Key, int]
    stimulus_id: str
    inline_result: bool = False
    resources: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class ExecuteSucceeded:
    key: Key
    value: Any
    nbytes: int
    type_name: str
    start: float
    stop: float
    stimulus_id: str
    thread: int = 0
    inline: Any = None


@dataclass(frozen=True, slots=True)
class ExecuteFailed:
    key: Key
    exception: bytes
    traceback: bytes | None
    text: str
    start: float
    stop: float
    stimulus_id: str
    thread: int = 0


@dataclass(frozen=True, slots=True)
class FetchSucceeded:
    peer: str
    data: dict[Key, Any]
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class FetchFailed:
    """``peer`` did not deliver ``keys``: it is gone, or does not hold them."""

    peer: str
    keys: tuple[Key, ...]
    stimulus_id: str
    peer_gone: bool = False


@dataclass(frozen=True, slots=True)
class FetchErred:
    """``peer`` holds ``keys`` but they could not travel: unpicklable, too large, or not loadable here.

    Unlike a peer that went away, fetching the same key again would fail
    again. The machine isolates the culprit first: a batch of several keys
    is fetched again one key at a time, so that only the key that cannot
    travel fails its dependents here, with ``exception`` (pickled).
    """

    peer: str
    keys: tuple[Key, ...]
    exception: bytes
    text: str
    start: float
    stop: float
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class TaskSeceded:
    """The running task left the thread pool's count (``secede()``): another task may start."""

    key: Key
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class TaskRejoined:
    """A seceded task counts against the thread pool again (``rejoin()``)."""

    key: Key
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class FreeKeysRequested:
    keys: tuple[Key, ...]
    stimulus_id: str

"""Records the state machines keep: tasks, workers and clients as the scheduler
sees them, and tasks as a worker sees them.

Records are mutable (slotted classes) because the machines update them in
place on every event; events and actions, which must not change, are frozen
dataclasses (:mod:`.events`, :mod:`.actions`). Each field's comment states
what it holds and the invariant :meth:`SchedulerState.validate_state` or
:meth:`WorkerStateMachine.validate_state` checks.

Scheduler task statuses (:data:`TaskStatus`):

``released``   known, not wanted by anything running, no data anywhere
``waiting``    wanted; waits for dependencies to be in memory
``queued``     a root task held back because every worker is saturated
``no-worker``  ready, but no worker satisfies its restrictions right now
``processing`` assigned to one worker
``memory``     its result is held by one or more workers
``erred``      it (or a dependency) raised, or it killed too many workers
``forgotten``  dropped; the record is gone from ``SchedulerState.tasks``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from shoal.graph.task import Key

if TYPE_CHECKING:
    pass

__all__ = [
    "ClientRecord",
    "SchedulerTaskRecord",
    "TaskStatus",
    "WorkerRecord",
    "WorkerTaskRecord",
    "WorkerTaskStatus",
]

TaskStatus = Literal["released", "waiting", "queued", "no-worker", "processing", "memory", "erred", "forgotten"]

WorkerTaskStatus = Literal[
    "released", "waiting", "fetch", "flight", "missing", "ready", "constrained", "executing", "memory",
    "error", "cancelled",
]

#: Priority tuples: (-user priority, submission generation, position in the graph's order).
Priority = tuple[int, ...]


class SchedulerTaskRecord:
    """One key as the scheduler tracks it."""

    __slots__ = (
        "key", "prefix", "run_spec", "status", "priority", "dependencies", "dependents", "waiting_on",
        "waiters", "who_has", "processing_on", "who_wants", "nbytes", "type_name", "retries", "suspicious",
        "exception", "traceback", "exception_text", "exception_blame", "erred_on", "workers",
        "allow_other_workers", "resources", "queued_order", "rebalance_from", "steal_to", "root", "metadata",
    )

    def __init__(self, key: Key, run_spec: bytes | None, priority: Priority) -> None:
        self.key = key
        #: The name shown in progress bars and the task stream (``key_split``).
        self.prefix = ""
        #: Pickled task (function and arguments), opaque to the scheduler; None for scattered data.
        self.run_spec = run_spec
        self.status: TaskStatus = "released"
        self.priority = priority
        #: Tasks whose results this one reads; every one of them lists this task in ``dependents``.
        self.dependencies: set[SchedulerTaskRecord] = set()
        self.dependents: set[SchedulerTaskRecord] = set()
        #: Dependencies not in memory yet (only while ``waiting``).
        self.waiting_on: set[SchedulerTaskRecord] = set()
        #: Dependents that still need this task's result (waiting, queued or processing).
        self.waiters: set[SchedulerTaskRecord] = set()
        #: Workers holding the result; non-empty exactly when ``status == "memory"``.
        self.who_has: set[WorkerRecord] = set()
        #: The worker running it; set exactly when ``status == "processing"``.
        self.processing_on: WorkerRecord | None = None
        #: Clients holding a future for this key.
        self.who_wants: set[ClientRecord] = set()
        self.nbytes = -1
        self.type_name = ""
        #: Retries left after a failure.
        self.retries = 0
        #: How many workers died while running this task.
        self.suspicious = 0
        #: Pickled exception and traceback (opaque), and its text, while ``erred``.
        self.exception: bytes | None = None
        self.traceback: bytes | None = None
        self.exception_text = ""
        #: The task whose failure this task inherited (itself when it raised).
        self.exception_blame: SchedulerTaskRecord | None = None
        self.erred_on: str | None = None
        #: Restriction to these worker addresses or names (None: anywhere).
        self.workers: frozenset[str] | None = None
        self.allow_other_workers = False
        #: Abstract resources a worker must offer, e.g. {"GPU": 1}.
        self.resources: dict[str, float] | None = None
        #: Tie-breaker in the scheduler's queue heap (-1 when not queued).
        self.queued_order = -1
        #: One of many dependency-free tasks of a submission: waits in the scheduler's queue (see ``queuing``).
        self.root = False
        #: Worker to drop the replica from once a rebalancing copy arrives elsewhere.
        self.rebalance_from: str | None = None
        #: The idle worker this task moves to if its current worker confirms a steal request.
        self.steal_to: str | None = None
        #: User metadata (Dask's ``TaskState.metadata``): what the worker's record held when the task finished,
        #: merged in at each ``processing -> memory``; scheduler plugins may write it too. None until set.
        self.metadata: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<SchedulerTask {self.key!r} {self.status}>"

    def __lt__(self, other: SchedulerTaskRecord) -> bool:
        return self.priority < other.priority


class WorkerRecord:
    """One worker as the scheduler tracks it."""

    __slots__ = (
        "address", "name", "nthreads", "memory_limit", "resources", "processing", "has_what", "nbytes",
        "last_seen", "metrics", "long_running", "services",
    )

    def __init__(self, address: str, name: str, nthreads: int, memory_limit: int,
                 resources: dict[str, float] | None, now: float, services: dict[str, Any] | None = None) -> None:
        self.address = address
        self.name = name
        self.nthreads = nthreads
        self.memory_limit = memory_limit
        self.resources = dict(resources or {})
        #: Tasks assigned to it; each has ``processing_on`` pointing back here.
        self.processing: set[SchedulerTaskRecord] = set()
        #: Tasks whose results it holds; each lists it in ``who_has``.
        self.has_what: set[SchedulerTaskRecord] = set()
        #: Sum of ``nbytes`` over ``has_what``.
        self.nbytes = 0
        self.last_seen = now
        #: The latest heartbeat's measurements (CPU, memory, executing, ...).
        self.metrics: dict[str, Any] = {}
        #: Processing tasks that seceded from the worker's thread pool.
        self.long_running: set[SchedulerTaskRecord] = set()
        self.services = dict(services or {})

    @property
    def host(self) -> str:
        """The host part of the address, e.g. to group workers: ``"127.0.0.1"`` of ``tcp://127.0.0.1:4321``;
        for ``inproc://<pid>/<n>`` the process id, which all in-process workers of one process share."""
        location = self.address.partition("://")[2] or self.address
        return location.rpartition(":")[0] if ":" in location else location.partition("/")[0]

    def __repr__(self) -> str:
        return f"<WorkerRecord {self.address} nthreads={self.nthreads} processing={len(self.processing)}>"

    def __hash__(self) -> int:
        return hash(self.address)

    def __eq__(self, other: object) -> bool:
        return self is other


class ClientRecord:
    """One client as the scheduler tracks it."""

    __slots__ = ("id", "wants_what", "last_seen")

    def __init__(self, client_id: str, now: float = 0.0) -> None:
        self.id = client_id
        #: Tasks it holds futures for; each lists it in ``who_wants``.
        self.wants_what: set[SchedulerTaskRecord] = set()
        self.last_seen = now

    def __repr__(self) -> str:
        return f"<ClientRecord {self.id} wants {len(self.wants_what)}>"


class WorkerTaskRecord:
    """One key as a worker tracks it."""

    __slots__ = (
        "key", "run_spec", "status", "priority", "dependencies", "dependents", "waiting_for_data",
        "who_has", "nbytes", "resources", "coming_from", "inline_result", "start", "stop", "type_name",
        "exception", "traceback", "exception_text", "computed_here", "done", "next_status", "metadata",
    )

    def __init__(self, key: Key) -> None:
        self.key = key
        #: The pickled task; set for tasks this worker must compute.
        self.run_spec: bytes | None = None
        self.status: WorkerTaskStatus = "released"
        self.priority: tuple[Any, ...] = ()
        self.dependencies: set[WorkerTaskRecord] = set()
        self.dependents: set[WorkerTaskRecord] = set()
        #: Dependencies not in memory here yet (only while ``waiting``).
        self.waiting_for_data: set[WorkerTaskRecord] = set()
        #: Peers the scheduler said hold this key (for keys to fetch).
        self.who_has: set[str] = set()
        self.nbytes = 0
        self.resources: dict[str, float] | None = None
        #: The peer it is being fetched from (only while ``flight``).
        self.coming_from: str | None = None
        #: Whether the scheduler asked for the result inline with ``task_finished``.
        self.inline_result = False
        self.start = 0.0
        self.stop = 0.0
        self.type_name = ""
        self.exception: bytes | None = None
        self.traceback: bytes | None = None
        self.exception_text = ""
        #: Whether this worker computed it (as opposed to fetched or received it).
        self.computed_here = False
        #: Whether a running execution or fetch for it already ended.
        self.done = False
        #: For ``cancelled`` tasks asked for again: the status to resume once the run ends.
        self.next_status: WorkerTaskStatus | None = None
        #: User metadata (Dask's ``TaskState.metadata``), written by the task or by plugins; sent to the
        #: scheduler with ``task_finished``. Plain data only (msgpack types), as in Dask.
        self.metadata: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<WorkerTask {self.key!r} {self.status}>"

    def __lt__(self, other: WorkerTaskRecord) -> bool:
        return self.priority < other.priority

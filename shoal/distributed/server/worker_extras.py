"""Worker requests for diagnostics, the running task, and the rescheduling of tasks.

Mixed into :class:`~.worker.WorkerServer`:

- :meth:`WorkerExtrasMixin.get_current_task`: the key of the task running in
  the calling thread;
- a task that raises :class:`~shoal.distributed.Reschedule` is dropped here
  without an error and the scheduler is asked to place it again
  (``reschedule``); see :meth:`WorkerExtrasMixin._rescheduled`;
- ``dump_state`` (``Client.dump_cluster_state``), ``versions``;
- ``benchmark_disk``, ``benchmark_memory``, ``benchmark_network`` and
  ``echo`` (``Client.benchmark_hardware``), measured as Dask measures them:
  bytes moved per second for each size, over ``duration`` seconds a size.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from shoal.distributed._state_dump import name_of, plain, record_to_dict
from shoal.distributed.server.scheduler_extras import get_versions
from shoal.distributed.state.events import ExecuteFailed, FreeKeysRequested
from shoal.utils import parse_bytes

__all__ = ["WorkerExtrasMixin", "benchmark_disk", "benchmark_memory", "benchmark_network"]

#: Sizes and seconds per size of each benchmark (Dask's).
DISK_SIZES = ("1 kiB", "100 kiB", "1 MiB", "10 MiB", "100 MiB")
MEMORY_SIZES = ("2 kiB", "10 kiB", "100 kiB", "1 MiB", "10 MiB")
NETWORK_SIZES = ("1 kiB", "10 kiB", "100 kiB", "1 MiB", "10 MiB", "50 MiB")
DURATIONS = {"disk": 1.0, "memory": 0.2, "network": 1.0}


class WorkerExtrasMixin:
    """Rescheduling, state dumps, versions and hardware benchmarks of a worker."""

    address: str
    name: Any
    status: str
    state: Any
    stream: Any
    loop: Any
    pool: Any
    scheduler_address: str
    nthreads: int
    memory_limit: int
    resources: dict[str, float]
    paused: bool
    actors: Any

    if TYPE_CHECKING:  # provided by WorkerServer
        def handle(self, *events: Any) -> None: ...

    # ------------------------------------------------------------------ Reschedule

    def _rescheduled(self, key: Any, start: float) -> None:
        """In the task's thread: the task raised Reschedule. The rest happens on the event loop."""
        stop = time.time()
        thread = threading.get_ident()
        try:
            self.loop.call_soon_threadsafe(self._drop_rescheduled, key, start, stop, thread)
        except RuntimeError:  # loop closed: the worker is gone and so is the task
            pass

    def _drop_rescheduled(self, key: Any, start: float, stop: float, thread: int) -> None:
        """Forget the task here without reporting an error, then ask the scheduler to place it again.

        Freeing an executing task marks it cancelled; its end then forgets it quietly (the state machine's
        way for a task the scheduler released while it ran). Only a task the scheduler still wants here is
        reported: one it already released needs nothing.
        """
        state = self.state
        if state is None or self.status not in ("running", "created"):
            return
        ts = state.tasks.get(key)
        wanted = ts is not None and (ts.status == "executing" or (ts.status == "cancelled"
                                                                  and ts.next_status == "executing"))
        stimulus_id = f"reschedule-{time.time()}"
        self.handle(FreeKeysRequested((key,), stimulus_id),
                    ExecuteFailed(key, b"", None, "", start, stop, stimulus_id, thread))
        if wanted and self.stream is not None and not self.stream.closed:
            self.stream.send({"op": "reschedule", "key": key, "stimulus_id": stimulus_id})

    # ------------------------------------------------------------------ the running task

    def get_current_task(self) -> Any:
        """The key of the task this worker runs in the calling thread (Dask's ``Worker.get_current_task``).

        Call it inside a task, e.g. to fill the task's user metadata, which reaches the scheduler with the
        result (see :class:`~shoal.distributed.get_task_metadata`)::

            worker = get_worker()
            worker.state.tasks[worker.get_current_task()].metadata["rows"] = len(df)
        """
        local = self.actors._thread_state  # the worker's thread-local task state, shared with its actors
        if getattr(local, "worker", None) is not self or getattr(local, "key", None) is None:
            raise RuntimeError(f"get_current_task() was called outside a task of worker {self.address}; call "
                               f"it from inside a task's function.")
        return local.key

    # ------------------------------------------------------------------ state dump and versions

    def rpc_dump_state(self, exclude: Iterable[str] = ("run_spec",)) -> dict[str, Any]:
        """This worker's state as plain data (see :mod:`shoal.distributed._state_dump`)."""
        skip = set(exclude)
        state = self.state
        out: dict[str, Any] = {"type": "Worker", "address": self.address, "name": self.name,
                               "status": self.status, "scheduler": self.scheduler_address,
                               "nthreads": self.nthreads, "memory_limit": self.memory_limit,
                               "resources": self.resources, "paused": self.paused,
                               "plugins": sorted(getattr(self, "plugins", {})),
                               "metrics": self.metrics() if hasattr(self, "metrics") else {}}
        if state is not None:
            out.update(tasks={k: record_to_dict(ts, skip) for k, ts in state.tasks.items()},
                       data=_names(state.data), executing=_names(state.executing),
                       long_running=_names(state.long_running), ready=_names(key for _, _, key in state.ready),
                       constrained=_names(key for _, _, key in state.constrained),
                       in_flight={peer: _names(keys) for peer, keys in state.in_flight.items()},
                       log=state.log[-10_000:],
                       available_resources=state.available_resources)
        return {"status": "OK", "state": plain({k: v for k, v in out.items() if k not in skip})}

    def rpc_versions(self) -> dict[str, Any]:
        return {"status": "OK", "versions": get_versions()}

    # ------------------------------------------------------------------ benchmarks

    async def rpc_benchmark_disk(self, duration: float | None = None) -> dict[str, Any]:
        seconds = DURATIONS["disk"] if duration is None else duration
        result = await asyncio.get_running_loop().run_in_executor(None, benchmark_disk, None, DISK_SIZES, seconds)
        return {"status": "OK", "result": result}

    async def rpc_benchmark_memory(self, duration: float | None = None) -> dict[str, Any]:
        seconds = DURATIONS["memory"] if duration is None else duration
        result = await asyncio.get_running_loop().run_in_executor(None, benchmark_memory, MEMORY_SIZES, seconds)
        return {"status": "OK", "result": result}

    async def rpc_benchmark_network(self, address: str, duration: float | None = None) -> dict[str, Any]:
        seconds = DURATIONS["network"] if duration is None else duration
        return {"status": "OK", "result": await benchmark_network(self.pool, address, NETWORK_SIZES, seconds)}

    def rpc_echo(self, data: Any) -> dict[str, Any]:
        return {"status": "OK", "data": data}


def _names(keys: Iterable[Any]) -> list[Any]:
    return [name_of(k) for k in keys]


def benchmark_disk(rootdir: str | None = None, sizes: Iterable[str] = DISK_SIZES,
                   duration: float = 1.0) -> dict[str, float]:
    """Bytes per second written (and fsync'ed) to files in a temporary directory, for each write size."""
    out = {}
    for size_str in sizes:
        size = parse_bytes(size_str)
        data = random.randbytes(size)
        directory = tempfile.mkdtemp(prefix="shoal-benchmark-", dir=rootdir)
        try:
            names = [os.path.join(directory, str(i)) for i in range(100)]
            start = time.time()
            total = 0
            while True:  # at least one write, however short the duration
                with open(random.choice(names), "ab") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                total += size
                if time.time() >= start + duration:
                    break
            out[size_str] = total / (time.time() - start)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return out


def benchmark_memory(sizes: Iterable[str] = MEMORY_SIZES, duration: float = 0.2) -> dict[str, float]:
    """Bytes per second copied in memory, for each block size."""
    out = {}
    for size_str in sizes:
        size = parse_bytes(size_str)
        data = random.randbytes(size)
        start = time.time()
        total = 0
        while True:
            copy = data[:-1]
            del copy
            total += size
            if time.time() >= start + duration:
                break
        out[size_str] = total / (time.time() - start)
    return out


async def benchmark_network(pool: Any, address: str, sizes: Iterable[str] = NETWORK_SIZES,
                            duration: float = 1.0) -> dict[str, float]:
    """Bytes per second sent to the worker at ``address`` and back (``echo``), for each message size."""
    out = {}
    for size_str in sizes:
        size = parse_bytes(size_str)
        data = random.randbytes(size)
        start = time.time()
        total = 0
        while True:
            await pool.call(address, {"op": "echo", "data": data})
            total += 2 * size
            if time.time() >= start + duration:
                break
        out[size_str] = total / (time.time() - start)
    return out

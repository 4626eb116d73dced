"""The threads a worker runs its tasks on, with ``secede``/``rejoin`` for tasks that wait on other tasks."""

from __future__ import annotations

import queue
import threading
from typing import Any

__all__ = ["TaskThreads"]


def _HAND_OVER() -> None:
    """Marker job of :meth:`TaskThreads.rejoin`; never called."""


class TaskThreads:
    """The threads that run tasks: ``nthreads`` runners taking jobs from one queue.

    :meth:`secede` lets the calling runner finish its current task outside the
    count: a new runner starts at once, and the seceded thread exits when its
    task returns. (``concurrent.futures.ThreadPoolExecutor`` cannot grow, so a
    task waiting on other tasks would deadlock a one-thread worker.)
    :meth:`rejoin` takes a slot back: it queues a job that makes the next free
    runner exit, and the rejoining thread carries on as a runner in its place.
    """

    def __init__(self, nthreads: int) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._local = threading.local()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        for _ in range(nthreads):
            self._start_runner()

    def _start_runner(self) -> None:
        thread = threading.Thread(target=self._runner, name="shoal-worker", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _runner(self) -> None:
        self._local.seceded = False
        while True:
            job = self.queue.get()
            if job is None:
                return
            fn, args = job
            if fn is _HAND_OVER:  # a rejoining thread takes this runner's slot
                args[0].set()
                return
            fn(*args)
            # An idle runner must not hold the last task's inputs (and its result) while it waits for the
            # next job: they may be hundreds of MB that the worker has already released.
            del job, fn, args
            if self._local.seceded:
                return

    def submit(self, fn: Any, *args: Any) -> None:
        self.queue.put((fn, args))

    def secede(self) -> None:
        """Called from a runner: release its slot to a new runner."""
        if getattr(self._local, "seceded", True):
            return  # not a runner, or already seceded
        self._local.seceded = True
        self._start_runner()

    def rejoin(self, is_running: Any = lambda: True) -> bool:
        """Called from a seceded thread: wait until a runner is free, then take its slot.

        Returns False (without a slot) if ``is_running()`` turns false first, e.g. the worker closed.
        """
        if getattr(self._local, "seceded", None) is not True:
            return True  # not a seceded runner: nothing to take back
        granted = threading.Event()
        self.queue.put((_HAND_OVER, (granted,)))
        while not granted.wait(0.1):
            if not is_running():
                return False
        self._local.seceded = False
        return True

    def shutdown(self) -> None:
        with self._lock:
            count = len(self._threads)
        for _ in range(count):
            self.queue.put(None)

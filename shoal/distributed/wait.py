"""Waiting on many futures: :func:`wait` and :class:`as_completed`."""

from __future__ import annotations

import queue
import threading
import time
from collections import namedtuple
from collections.abc import Iterable, Iterator
from typing import Any

from shoal.distributed._pack import futures_of
from shoal.distributed.future import Future, FutureState

__all__ = ["DoneAndNotDoneFutures", "as_completed", "wait"]

DoneAndNotDoneFutures = namedtuple("DoneAndNotDoneFutures", ["done", "not_done"])

_RETURN_WHEN = ("ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION")


def wait(fs: Any, timeout: float | None = None, return_when: str = "ALL_COMPLETED") -> DoneAndNotDoneFutures:
    """Wait until futures are done; return ``(done, not_done)`` sets.

    Parameters
    ----------
    fs : Future, iterable of Futures, or persisted collection
        A persisted collection (``client.persist(df)``) waits for the futures it holds.
    timeout : float, optional
        Raise ``TimeoutError`` if the condition does not hold within this many seconds.
    return_when : {"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"}
    """
    if return_when not in _RETURN_WHEN:
        raise ValueError(f"return_when= must be one of {_RETURN_WHEN}, got {return_when!r}.")
    futures = [fs] if isinstance(fs, Future) else futures_of(fs)
    event = threading.Event()

    def satisfied() -> bool:
        if return_when == "ALL_COMPLETED":
            return all(f.done() for f in futures)
        if return_when == "FIRST_COMPLETED":
            return any(f.done() for f in futures) or not futures
        return all(f.done() for f in futures) or any(f.status == "error" for f in futures)

    def hook(state: FutureState) -> None:
        event.set()

    deadline = None if timeout is None else time.monotonic() + timeout

    def timed_out() -> TimeoutError:
        pending = sum(not f.done() for f in futures)
        return TimeoutError(f"wait(): {pending} of {len(futures)} futures not done within {timeout}s.")

    if return_when == "ALL_COMPLETED":
        for f in futures:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not f._state.wait(left):
                raise timed_out()
    else:
        for f in futures:
            f._state.on_done(hook)  # each fires once: no re-registering in the loop
        while True:
            event.clear()  # before checking, so that a completion in between is not lost
            if satisfied():
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise timed_out()
            event.wait(left)
    done = {f for f in futures if f.done()}
    return DoneAndNotDoneFutures(done, {f for f in futures if f not in done})


class as_completed(Iterator[Any]):  # noqa: N801 - Dask's name
    """Iterate over futures in the order they finish.

    Parameters
    ----------
    futures : iterable of Future, optional
        More can be added while iterating with :meth:`add` or :meth:`update`.
    with_results : bool
        Yield ``(future, result)`` pairs.
    raise_errors : bool
        With ``with_results``, re-raise a failed future's exception; when False, a failed future comes as
        ``(future, (type, exception, traceback))``, as in Dask.
    """

    def __init__(self, futures: Iterable[Future] | None = None, with_results: bool = False,
                 raise_errors: bool = True) -> None:
        self.with_results = with_results
        self.raise_errors = raise_errors
        self._queue: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        if futures is not None:
            self.update(futures)

    def add(self, future: Future) -> None:
        with self._lock:
            self._pending.add(id(future))

        def hook(state: FutureState, future: Future = future) -> None:
            self._queue.put(future)

        future._state.on_done(hook)

    def update(self, futures: Iterable[Future]) -> None:
        for f in futures:
            self.add(f)

    def count(self) -> int:
        with self._lock:
            return len(self._pending)

    def __len__(self) -> int:
        return self.count()

    def is_empty(self) -> bool:
        return self.count() == 0

    def has_ready(self) -> bool:
        return not self._queue.empty()

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        while not self._queue.empty():
            self._queue.get_nowait()

    def _take(self, future: Future) -> Any:
        with self._lock:
            self._pending.discard(id(future))
        if not self.with_results:
            return future
        try:
            return future, future.result()
        except BaseException as exc:
            if self.raise_errors:
                raise
            return future, (type(exc), exc, exc.__traceback__)  # as Dask: sys.exc_info() of the failure

    def __next__(self) -> Any:
        while True:
            with self._lock:
                if not self._pending:
                    raise StopIteration
            future = self._queue.get()
            if id(future) in self._pending:
                return self._take(future)

    def __iter__(self) -> as_completed:
        return self

    def next_batch(self, block: bool = True) -> list[Any]:
        """Every future already finished (waiting for one first if ``block``)."""
        out = []
        if block and not self.is_empty():
            out.append(next(self))
        while not self._queue.empty():
            future = self._queue.get_nowait()
            if id(future) in self._pending:
                out.append(self._take(future))
        return out

    def batches(self) -> Iterator[list[Any]]:
        """Yield lists of futures as they finish."""
        while not self.is_empty():
            yield self.next_batch(block=True)

"""Futures: handles on results that live in the cluster.

A :class:`Future` names a key; the :class:`FutureState` it shares with every
other future for that key (in one client) records what the scheduler said
about it: ``pending``, ``finished`` (with the value itself when it was small
enough to come along), ``error`` (with the remote exception and traceback),
``cancelled`` or ``lost``. Futures count references: when the last future for
a key is garbage collected, the client tells the scheduler it no longer wants
the key. The methods and their meanings follow ``concurrent.futures.Future``
and Dask's ``Future``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shoal.distributed._exceptions import FutureCancelledError
from shoal.distributed._traceback import unpack_traceback
from shoal.distributed.comm.serialization import unpickle_value
from shoal.graph.task import Key

if TYPE_CHECKING:
    from shoal.distributed.client import Client

__all__ = ["Future", "FutureState"]

logger = logging.getLogger("shoal.distributed.client")

_NO_VALUE = object()


class FutureState:
    """What the client knows about one key; shared by the futures for it."""

    __slots__ = ("key", "status", "value", "type_name", "_exception", "_traceback", "exception_text", "done", "_event",
                 "callbacks", "waiters", "lock")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.status = "pending"
        #: The result when it came inline; ``_NO_VALUE`` otherwise.
        self.value: Any = _NO_VALUE
        self.type_name = ""
        self._exception: Any = None  # bytes until first used, then the exception
        self._traceback: Any = None
        self.exception_text = ""
        #: True exactly while the status is final (finished, error, cancelled).
        self.done = False
        self._event: threading.Event | None = None  # made on first blocking wait: most states never need one
        #: Internal hooks (wait, as_completed) called on completion, in the loop thread.
        self.callbacks: list[Callable[[FutureState], None]] = []
        #: asyncio futures of awaiting coroutines.
        self.waiters: list[asyncio.Future[None]] = []
        self.lock = threading.Lock()

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE

    def exception(self) -> BaseException | None:
        exc = self._exception
        if isinstance(exc, (bytes, bytearray, memoryview)):
            try:
                exc = unpickle_value(exc)
            except Exception as err:  # noqa: BLE001 - the exception's class may not import here
                exc = RuntimeError(f"{self.exception_text or 'task failed'} (could not unpickle the remote "
                                   f"exception: {err})")
            self._exception = exc
        return exc

    def traceback(self) -> Any:
        tb = self._traceback
        if isinstance(tb, (bytes, bytearray, memoryview)):
            tb = self._traceback = unpack_traceback(bytes(tb))
        return tb

    def finish(self, type_name: str, value: Any = _NO_VALUE) -> None:
        self.status = "finished"
        self.type_name = type_name
        self.value = value
        self._complete()

    def fail(self, exception: Any, traceback: Any, text: str) -> None:
        self.status = "error"
        self._exception = exception
        self._traceback = traceback
        self.exception_text = text
        self._complete()

    def cancel(self, reason: str | None = None) -> None:
        self.status = "cancelled"
        self._exception = FutureCancelledError(self.key, reason)
        self._complete()

    def lose(self) -> None:
        """The data went away and is being recomputed: back to pending."""
        self.status = "pending"
        self.value = _NO_VALUE
        with self.lock:
            self.done = False
            if self._event is not None:
                self._event.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done or ``timeout`` seconds pass; return whether done."""
        if self.done:
            return True
        with self.lock:
            if self.done:
                return True
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        return event.wait(timeout)

    def _complete(self) -> None:
        with self.lock:
            self.done = True
            if self._event is not None:
                self._event.set()
            callbacks, self.callbacks = self.callbacks, []
            waiters, self.waiters = self.waiters, []
        for cb in callbacks:
            try:
                cb(self)
            except Exception:  # noqa: BLE001 - a broken callback must not break others
                logger.exception("error in a callback for %r", self.key)
        for waiter in waiters:
            loop = waiter.get_loop()
            if not loop.is_closed():
                loop.call_soon_threadsafe(_set_if_pending, waiter)

    def on_done(self, callback: Callable[[FutureState], None]) -> None:
        """Call ``callback(self)`` once the state is final (at once if it already is)."""
        with self.lock:
            if not self.done:
                self.callbacks.append(callback)
                return
        callback(self)

    async def wait_done(self) -> None:
        while not self.done:
            waiter = asyncio.get_running_loop().create_future()
            with self.lock:
                if self.done:
                    return
                self.waiters.append(waiter)
            await waiter


def _set_if_pending(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Future:
    """A result being computed, or held, in the cluster.

    Created by :meth:`Client.submit`, :meth:`Client.map`, :meth:`Client.scatter`
    and :meth:`Client.compute`; not constructed directly. Mirrors
    ``distributed.Future``.
    """

    __slots__ = ("key", "client", "_state", "__weakref__")

    def __init__(self, key: Key, client: Client, *, _state: FutureState | None = None) -> None:
        self.key = key
        self.client = client
        self._state = client._acquire(key) if _state is None else _state

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> str:
        """``pending``, ``finished``, ``error``, ``cancelled`` or ``lost``."""
        return self._state.status

    def done(self) -> bool:
        """Whether the computation ended (successfully or not)."""
        return self._state.done

    def cancelled(self) -> bool:
        return self._state.status == "cancelled"

    @property
    def type(self) -> str:
        """The name of the result's type, once finished."""
        return self._state.type_name

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the result and return it; re-raise the task's exception if it failed.

        Raises
        ------
        TimeoutError
            When the result is not ready within ``timeout`` seconds.
        """
        if self.client.asynchronous:
            return self._result_async(timeout)
        if not self._state.wait(timeout):
            raise TimeoutError(f"Result of {self.key!r} not ready within {timeout}s (status: {self.status}).")
        return self.client._result_of(self, timeout)

    async def _result_async(self, timeout: float | None = None) -> Any:
        try:
            await asyncio.wait_for(self._state.wait_done(), timeout)
        except TimeoutError:
            raise TimeoutError(f"Result of {self.key!r} not ready within {timeout}s (status: {self.status}).") from None
        return (await self.client._gather_async([self], errors="raise"))[0]

    def __await__(self) -> Any:
        return self._result_async().__await__()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception the task raised (None if it succeeded); waits like :meth:`result`."""
        if not self._state.wait(timeout):
            raise TimeoutError(f"{self.key!r} not done within {timeout}s.")
        return self._state.exception() if self._state.status in ("error", "cancelled") else None

    def traceback(self, timeout: float | None = None) -> Any:
        """The remote traceback of a failed task, as a traceback object (None if it succeeded)."""
        if not self._state.wait(timeout):
            raise TimeoutError(f"{self.key!r} not done within {timeout}s.")
        return self._state.traceback() if self._state.status == "error" else None

    def cancel(self, **kwargs: Any) -> None:
        """Cancel the computation (and release the result); see :meth:`Client.cancel`."""
        self.client.cancel([self], **kwargs)

    def retry(self, **kwargs: Any) -> Any:
        """Run the task again if it failed (with the failed tasks it depends on); see :meth:`Client.retry`."""
        return self.client.retry([self], **kwargs)

    def bind_client(self, client: Client) -> None:
        """Make ``client`` the owner of this future: it wants the key from now on, and results come through it.

        The previous client keeps its claim until the key's outcome reaches ``client`` (so the scheduler
        never sees nobody wanting it in between), then releases it.
        """
        old = self.client
        if client is old:
            return
        state = client._acquire(self.key)
        client._send_graph({}, {}, [self.key], {})  # an existing key: the scheduler reports where it stands
        self.client, self._state = client, state
        if old is not None:
            key = self.key
            state.on_done(lambda _: old._release(key))

    def add_done_callback(self, fn: Callable[[Future], Any]) -> None:
        """Call ``fn(future)`` in a separate thread once the future is done."""
        client = self.client

        def hook(state: FutureState) -> None:
            client._callback_pool.submit(_run_callback, fn, self)

        self._state.on_done(hook)

    def release(self) -> None:
        """Drop this handle's claim on the result now, rather than at garbage collection."""
        client = self.client
        if client is not None:
            self.client = None  # type: ignore[assignment]
            client._release(self.key)

    # ------------------------------------------------------------------ protocol

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        status = self._state.status
        if status == "finished" and self._state.type_name:
            return f"<Future: status: finished, type: {self._state.type_name}, key: {self.key}>"
        return f"<Future: status: {status}, key: {self.key}>"

    def _repr_html_(self) -> str:
        return f"<b>Future: {self.key}</b> status: {self.status}"

    def __dask_tokenize__(self) -> Any:
        return ("shoal.Future", self.key)

    def __hash__(self) -> int:
        return hash(("future", self.key))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Future) and other.key == self.key and other.client is self.client

    def __reduce__(self) -> Any:
        raise TypeError(
            f"A Future ({self.key!r}) cannot be pickled. Pass futures as arguments to client.submit/map (they "
            f"are replaced by their results on the worker), or use get_client() inside the task."
        )


def _run_callback(fn: Callable[[Future], Any], future: Future) -> None:
    try:
        fn(future)
    except Exception:  # noqa: BLE001
        logger.exception("error in the done-callback %r of %r", fn, future.key)

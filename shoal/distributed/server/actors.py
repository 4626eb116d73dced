"""The worker's side of actors: the instances it holds and the requests that call them.

See :mod:`shoal.distributed.actor` for the model. A :class:`ActorHost`
belongs to one :class:`~.worker.WorkerServer`; the worker's
``actor_execute`` and ``actor_attribute`` requests land here. Each instance
gets its own one-thread executor (made on its first plain method call), so
its methods run one at a time and a slow actor never holds up another;
``async def`` methods run on the worker's event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import threading
from typing import TYPE_CHECKING, Any

from shoal.distributed.comm.serialization import pickle_value, unpickle_value

if TYPE_CHECKING:
    from shoal.distributed.server.worker import WorkerServer

__all__ = ["ActorHost"]

#: The worker whose ``async def`` actor method runs in this context (its loop thread has no task thread-state).
_loop_worker: contextvars.ContextVar[WorkerServer | None] = contextvars.ContextVar("shoal_actor_worker",
                                                                                   default=None)
#: In an actor's own thread: ``key`` is the key of that actor and ``instance`` the object (a call to itself
#: runs directly, not queued behind the call that makes it, which would wait forever).
_actor_thread = threading.local()


def _pack(value: Any, inproc: bool) -> Any:
    """Values cross processes pickled; within one process (``inproc://``) they pass as they are."""
    return (value,) if inproc else pickle_value(value)


def _unpack(value: Any) -> Any:
    return value[0] if type(value) is tuple else unpickle_value(value)



class ActorHost:
    """The actor instances one worker holds, and the requests that use them (see the module docstring)."""

    def __init__(self, worker: WorkerServer, thread_state: threading.local) -> None:
        self.worker = worker
        #: The worker's per-thread task state (``current_worker()`` reads it): set in actor threads too.
        self._thread_state = thread_state
        #: Task key -> the actor's instance; a key is here while the worker holds its result (the proxy).
        self.instances: dict[Any, Any] = {}
        #: Task key -> the executor running that actor's plain methods.
        self._threads: dict[Any, concurrent.futures.ThreadPoolExecutor] = {}

    def add(self, key: Any, instance: Any) -> None:
        """Keep ``instance`` as the actor of ``key`` (a recomputed task replaces its earlier instance)."""
        self.drop(key)
        self.instances[key] = instance

    def drop(self, key: Any) -> None:
        self.instances.pop(key, None)
        executor = self._threads.pop(key, None)
        if executor is not None:
            executor.shutdown(wait=False)

    def prune(self) -> None:
        """Drop the instances whose task the worker forgot (the scheduler released the key here)."""
        state = self.worker.state
        if not self.instances or state is None:
            return
        for key in [k for k in self.instances if k not in state.tasks and k not in state.data]:
            self.drop(key)

    def close(self) -> None:
        for key in list(self.instances):
            self.drop(key)

    def _instance(self, key: Any) -> Any:
        try:
            return self.instances[key]
        except KeyError:
            raise ValueError(f"Actor {key!r} is not on worker {self.worker.address}: it was released (every Future "
                             f"and Actor handle for it was dropped), or its worker closed or restarted. Keep the "
                             f"future of submit(..., actor=True), or the Actor, alive while you use it.") from None

    def _thread(self, key: Any) -> concurrent.futures.ThreadPoolExecutor:
        executor = self._threads.get(key)
        if executor is None:
            executor = self._threads[key] = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix=f"shoal-actor-{key}", initializer=self._enter_thread,
                initargs=(key, self.instances[key]))
        return executor

    def _enter_thread(self, key: Any, instance: Any) -> None:
        # get_worker()/get_client() work in actor methods, and a method calling its own actor runs directly.
        self._thread_state.worker = self.worker
        _actor_thread.key = key
        _actor_thread.instance = instance

    def _reply(self, value: Any) -> dict[str, Any]:
        return {"status": "OK", "ok": True, "result": _pack(value, self.worker.in_process)}

    def _failure(self, exc: BaseException) -> dict[str, Any]:
        try:
            blob = _pack(exc, self.worker.in_process)
            if type(blob) is bytes:
                unpickle_value(blob)
        except Exception:  # noqa: BLE001 - replace with something that travels
            blob = _pack(RuntimeError(f"{type(exc).__name__}: {exc} (the original exception could not be "
                                      f"pickled)"), self.worker.in_process)
        return {"status": "OK", "ok": False, "exception": blob}

    async def execute(self, actor: Any, function: str, args: Any, kwargs: Any) -> dict[str, Any]:
        """Run ``function`` of the actor ``actor``: a coroutine on this loop, anything else in its thread."""
        instance = self.instances.get(actor)
        try:
            instance = self._instance(actor)
            method = getattr(instance, function)
            call_args, call_kwargs = _unpack(args), _unpack(kwargs)
            if inspect.iscoroutinefunction(method):
                token = _loop_worker.set(self.worker)
                try:
                    result = await method(*call_args, **call_kwargs)
                finally:
                    _loop_worker.reset(token)
            else:
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._thread(actor),
                                                    functools.partial(method, *call_args, **call_kwargs))
            return self._reply(result)
        except Exception as exc:  # noqa: BLE001 - the caller's ActorFuture re-raises it
            if instance is not None:
                exc.add_note(f"shoal: raised by {type(instance).__name__}.{function}() of actor {actor!r} on "
                             f"worker {self.worker.address}")
            return self._failure(exc)

    def attribute(self, actor: Any, attribute: str) -> dict[str, Any]:
        """Read ``attribute`` of the actor ``actor`` (on the event loop, as Dask does: a busy actor still answers)."""
        try:
            return self._reply(getattr(self._instance(actor), attribute))
        except Exception as exc:  # noqa: BLE001 - re-raised by the caller
            return self._failure(exc)

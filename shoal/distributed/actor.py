"""Actors: stateful objects that live on one worker and are driven by method calls.

``client.submit(Counter, actor=True)`` runs ``Counter()`` as a task, as
Dask's actors do. The task keeps the instance on its worker (in that
worker's :class:`~.server.actors.ActorHost`) and its result is an :class:`Actor`: a small
proxy holding the class, the worker's address and the task's key. The proxy
is what the future's ``result()`` returns, what a dependent task receives,
and what crosses processes (it pickles as those three fields).

Using a proxy:

- ``actor.method(*args)`` sends one ``actor_execute`` request to the worker
  that holds the instance and returns an :class:`ActorFuture` at once;
  ``.result()`` waits (``await`` it in async code). A plain method runs in
  the actor's own thread, one call at a time, so the instance needs no lock;
  an ``async def`` method runs on the worker's event loop, as in Dask.
- ``actor.attribute`` (anything the class does not define as a method:
  instance attributes, class attributes, properties) is read on the worker
  and returned (an awaitable in async code). Readable names are those of the
  class and those the instance has after ``__init__`` (Dask needs them on the
  class); other names raise ``AttributeError`` at once, without asking the
  worker. Setting an attribute through the proxy is an error (Dask sets it on
  the proxy only): call a method that sets it.

Which connection a call uses is decided at call time: inside a task (or an
actor's method) the worker's, otherwise the client's. A proxy handed to the
user by ``Future.result()``/``Client.gather`` holds a Future for the key, so
the instance stays on its worker while any proxy or future for it is alive;
once the last one is released the scheduler frees the key and the worker
drops the instance (:meth:`~.server.actors.ActorHost.prune`).

Limitation: the instance never moves. Copies of the proxy that
``replicate``, ``rebalance`` or ``retire_workers`` make still point at the
original worker; when that worker leaves, the actor is gone (its task is
recomputed, which builds a fresh instance).
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.future import Future
from shoal.distributed.server.actors import _actor_thread, _loop_worker, _pack, _unpack
from shoal.distributed.server.worker import current_key, current_worker
from shoal.distributed.worker_api import get_client

__all__ = ["Actor", "ActorFuture", "BaseActorFuture", "actor_task", "claim_actors"]

T = TypeVar("T")



# ---------------------------------------------------------------------- futures of calls


class BaseActorFuture(abc.ABC, Awaitable[T]):
    """The result of an actor method call: ``result()`` waits for it, ``await`` gives it in async code."""

    @abc.abstractmethod
    def result(self, timeout: float | None = None) -> T:
        """The call's return value; re-raises what the method raised."""

    @abc.abstractmethod
    def done(self) -> bool:
        """Whether the call has finished."""

    def __repr__(self) -> str:
        return "<ActorFuture>"


class ActorFuture(BaseActorFuture[T], Generic[T]):
    """A pending actor call; returned by ``actor.method(...)``, not constructed directly.

    Wraps a ``concurrent.futures.Future`` (calls made from a thread other than
    the event loop's) or an ``asyncio.Future`` (calls made on the loop).
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: concurrent.futures.Future[T] | asyncio.Future[T]) -> None:
        self._inner = inner

    @classmethod
    def finished(cls, value: Any = None, exception: BaseException | None = None) -> ActorFuture[Any]:
        """A future that already holds ``value`` (or ``exception``)."""
        inner: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if exception is not None:
            inner.set_exception(exception)
        else:
            inner.set_result(value)
        return cls(inner)

    def result(self, timeout: float | None = None) -> T:
        """Wait up to ``timeout`` seconds (forever when None) for the call's result.

        Raises
        ------
        TimeoutError
            The call did not finish within ``timeout``.
        RuntimeError
            Called on the event loop before the call finished: ``await`` it there instead.
        """
        inner = self._inner
        if isinstance(inner, asyncio.Future):
            if not inner.done():
                raise RuntimeError("ActorFuture.result() was called on the event loop before the call finished; "
                                   "use `await actor.method(...)` in async code.")
            return inner.result()
        try:
            return inner.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"The actor call did not finish within {timeout}s.") from None

    def done(self) -> bool:
        return self._inner.done()

    def __await__(self) -> Generator[Any, None, T]:
        inner = self._inner
        waited = inner if isinstance(inner, asyncio.Future) else asyncio.wrap_future(inner)
        return waited.__await__()


# ---------------------------------------------------------------------- the proxy


class Actor:
    """A handle on an object living on a worker; method calls and attribute reads go to it.

    Returned by ``client.submit(cls, *args, actor=True).result()``; not
    constructed directly. Mirrors ``distributed.Actor``.

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> class Counter:
    ...     def __init__(self):
    ...         self.n = 0
    ...     def increment(self):
    ...         self.n += 1
    ...         return self.n
    >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
    ...     counter = client.submit(Counter, actor=True).result()
    ...     counter.increment().result(), counter.increment().result(), counter.n
    (1, 2, 2)
    """

    __slots__ = ("_cls", "_address", "key", "_names", "_client", "_future")

    def __init__(self, cls: type, address: str, key: Any, names: frozenset[str] = frozenset(), *,
                 client: Any = None) -> None:
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_address", address)
        object.__setattr__(self, "key", key)
        #: The instance's own attribute names after ``__init__``: readable through the proxy besides the class's.
        object.__setattr__(self, "_names", names)
        #: The client calls go through outside tasks (None: found at call time).
        object.__setattr__(self, "_client", client)
        #: A Future for ``key`` that keeps the instance alive while this handle lives (client side only).
        object.__setattr__(self, "_future", Future(key, client) if client is not None else None)

    # ------------------------------------------------------------------ protocol

    def __reduce__(self) -> Any:
        return (Actor, (self._cls, self._address, self.key, self._names))

    def __repr__(self) -> str:
        return f"<Actor: {self._cls.__name__}, key={self.key}>"

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._cls)) | self._names | {"key"})

    def __dask_tokenize__(self) -> Any:
        return ("shoal.Actor", self.key)

    @property
    def nbytes(self) -> int:
        """The proxy's own size. The worker's memory accounting reads ``nbytes`` of every result, in its event
        loop; a remote read there would stall it. Read an actor's own ``nbytes`` through a method."""
        return 64 + len(str(self.key))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Cannot set {name!r} on {self!r}: attributes of an actor live on its worker. Add a "
                             f"method to {self._cls.__name__} that sets it and call that method.")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy/pickle/IPython probes must not become remote reads
            raise AttributeError(name)
        own = getattr(_actor_thread, "key", None)
        if own is not None and own == self.key:  # called from this actor's own thread: run directly
            return _local_attribute(_actor_thread.instance, name)
        try:
            attr = getattr(self._cls, name)
        except AttributeError:
            if name not in self._names:
                # Not a remote read: generic code probing for optional attributes (sizeof's ``nbytes``) must not
                # wait on the network, and a name neither the class nor __init__ defines is almost surely a typo.
                raise AttributeError(f"{self._cls.__name__} actor {self.key!r} has no attribute {name!r}: neither "
                                     f"its class nor its __init__ defines it. Read attributes that a method adds "
                                     f"later through a method that returns them.") from None
            return self._read_attribute(name)
        if callable(attr) and not isinstance(attr, type):
            return functools.partial(self._call_method, name)
        return self._read_attribute(name)

    # ------------------------------------------------------------------ remote calls

    def _route(self) -> tuple[Any, asyncio.AbstractEventLoop]:
        """The connection pool and event loop a call made now should use."""
        worker = _loop_worker.get() or current_worker()
        if worker is not None and worker.status == "running" and worker.loop is not None:
            return worker.pool, worker.loop
        client = self._client
        if client is None or client.status != "running":
            client = get_client()
        return client._pool, client._loop

    def _start(self, coro: Any) -> ActorFuture[Any]:
        pool, loop = self._route()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return ActorFuture(loop.create_task(coro(pool)))
        return ActorFuture(asyncio.run_coroutine_threadsafe(coro(pool), loop))

    def _call_method(self, name: str, *args: Any, **kwargs: Any) -> ActorFuture[Any]:
        inproc = self._address.startswith("inproc://")
        msg = {"op": "actor_execute", "actor": self.key, "function": name, "args": _pack(args, inproc),
               "kwargs": _pack(kwargs, inproc)}
        return self._start(lambda pool: self._request(pool, msg))

    def _read_attribute(self, name: str) -> Any:
        msg = {"op": "actor_attribute", "actor": self.key, "attribute": name}
        future = self._start(lambda pool: self._request(pool, msg))
        if isinstance(future._inner, asyncio.Future):
            return future  # on the event loop: the caller awaits it
        return future.result()

    async def _request(self, pool: Any, msg: dict[str, Any]) -> Any:
        try:
            reply = await pool.call(self._address, msg)
        except (OSError, CommClosedError) as exc:
            raise CommClosedError(f"Could not reach worker {self._address}, which holds actor {self.key!r} "
                                  f"({self._cls.__name__}): {exc}. If the worker died, the actor's state is lost; "
                                  f"submit it again.") from exc
        if not reply.get("ok"):
            raise _unpack(reply["exception"])
        return _unpack(reply["result"])

    def _claimed_by(self, client: Any) -> Actor:
        """A copy bound to ``client`` that keeps the actor alive (handed to the user by the client)."""
        return Actor(self._cls, self._address, self.key, self._names, client=client)


def _local_attribute(instance: Any, name: str) -> Any:
    """An attribute of the actor's own instance, read from its own thread; methods return finished futures."""
    attr = getattr(instance, name)
    if inspect.iscoroutinefunction(attr) or not callable(attr):
        return attr

    def call(*args: Any, **kwargs: Any) -> ActorFuture[Any]:
        try:
            return ActorFuture.finished(attr(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, as for remote calls
            return ActorFuture.finished(exception=exc)

    return call


def claim_actors(values: list[Any], client: Any) -> list[Any]:
    """``values`` with each :class:`Actor` replaced by a copy bound to ``client`` (see :meth:`Actor._claimed_by`)."""
    if not any(type(v) is Actor for v in values):
        return values
    return [v._claimed_by(client) if type(v) is Actor else v for v in values]


# ---------------------------------------------------------------------- the task that creates an actor


class _ActorConstructor:
    """The function of an ``actor=True`` task: build the instance on the worker, keep it there, return a proxy."""

    def __init__(self, cls: Callable[..., Any]) -> None:
        self.cls = cls
        self.__name__ = getattr(cls, "__name__", type(cls).__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Actor:
        worker = current_worker()
        if worker is None:
            raise RuntimeError(f"Actor {self.__name__} can only be created by a shoal.distributed worker "
                               f"(client.submit({self.__name__}, actor=True)).")
        instance = self.cls(*args, **kwargs)
        key = current_key()
        worker.actors.add(key, instance)
        return Actor(type(instance), worker.address, key, frozenset(getattr(instance, "__dict__", ())))

    def __reduce__(self) -> Any:
        return (_ActorConstructor, (self.cls,))


def actor_task(func: Callable[..., Any]) -> Callable[..., Any]:
    """The task function that makes ``func(*args, **kwargs)`` an actor (``submit(..., actor=True)``)."""
    if not callable(func):
        raise TypeError(f"actor=True needs a class (or a callable returning the actor's object), got "
                        f"{type(func).__name__}: {func!r}.")
    return _ActorConstructor(func)

"""Single dispatch on the type of the first argument, with lazy registration.

A :class:`Dispatch` maps types to handler functions. Calling it looks up the
handler for ``type(arg)`` by walking the class's method resolution order
(MRO): the first class in the MRO with a registered handler wins, so a handler
for a subclass overrides one for its base. Lookups are cached per class; any
registration clears the cache.

Handlers for types from heavy optional libraries (NumPy, pandas) are not
registered when shoal is imported, because that would mean importing those
libraries. Instead :meth:`Dispatch.register_lazy` stores a function under the
library's top-level module name, and the first lookup of a class whose MRO
contains a class from that module (``numpy.ndarray``, or a user subclass of
``pandas.DataFrame``) runs it once. An object of that type exists, so the
library is already imported and registering costs nothing extra.

This mirrors ``dask.utils.Dispatch``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["Dispatch"]

F = TypeVar("F", bound=Callable[..., Any])
L = TypeVar("L", bound=Callable[[], object])


class Dispatch:
    """Call a function chosen by the type of the first argument.

    Parameters
    ----------
    name : str
        Shown in ``repr`` and in the error raised when no handler matches.

    Examples
    --------
    >>> size = Dispatch("size")
    >>> @size.register(str)
    ... def _(x):
    ...     return len(x)
    >>> @size.register((list, tuple))
    ... def _(x):
    ...     return sum(size(item) for item in x)
    >>> size(["ab", ("c", "def")])
    6
    >>> size.dispatch(tuple) is size.dispatch(list)
    True
    """

    def __init__(self, name: str | None = None) -> None:
        self.__name__ = name or "Dispatch"
        #: Handlers registered for exactly these classes.
        self._registry: dict[type, Callable[..., Any]] = {}
        #: Top-level module name -> function that registers its handlers;
        #: an entry is removed just before its function runs, so it runs once.
        self._lazy: dict[str, Callable[[], object]] = {}
        #: class -> handler found for it by an MRO walk; emptied on every
        #: registration because a new handler can change any answer.
        self._cache: dict[type, Callable[..., Any]] = {}
        # Lazy registration runs user-visible code (imports); two threads that
        # meet a new NumPy type at once must not both run it.
        self._lock = threading.RLock()

    @overload
    def register(self, cls: type | tuple[type, ...]) -> Callable[[F], F]: ...

    @overload
    def register(self, cls: type | tuple[type, ...], func: F) -> F: ...

    def register(
        self, cls: type | tuple[type, ...], func: F | None = None
    ) -> F | Callable[[F], F]:
        """Register ``func`` for ``cls`` (a type or a tuple of types).

        Without ``func``, return a decorator that registers the function it
        decorates and returns it unchanged.
        """

        classes = cls if isinstance(cls, tuple) else (cls,)
        for c in classes:
            if not isinstance(c, type):
                raise TypeError(
                    f"{self.__name__}.register expects a type or a tuple of types, "
                    f"got {c!r}; pass the class itself, e.g. register({type(c).__name__})."
                )

        def wrapper(func: F) -> F:
            with self._lock:
                for c in classes:
                    self._registry[c] = func
                self._cache.clear()
            return func

        return wrapper(func) if func is not None else wrapper

    @overload
    def register_lazy(self, toplevel: str) -> Callable[[L], L]: ...

    @overload
    def register_lazy(self, toplevel: str, func: L) -> L: ...

    def register_lazy(self, toplevel: str, func: L | None = None) -> L | Callable[[L], L]:
        """Run ``func`` the first time a type from module ``toplevel`` is dispatched.

        ``func`` takes no arguments and calls :meth:`register` itself. Usable
        as a decorator: ``@normalize_token.register_lazy("numpy")``.
        """

        def wrapper(func: L) -> L:
            with self._lock:
                self._lazy[toplevel] = func
                self._cache.clear()
            return func

        return wrapper(func) if func is not None else wrapper

    def dispatch(self, cls: type) -> Callable[..., Any]:
        """Return the handler for ``cls``, running lazy registrations it needs.

        Raises
        ------
        TypeError
            If no class in ``cls.__mro__`` has a handler.
        """
        try:
            return self._cache[cls]
        except KeyError:
            pass
        with self._lock:
            # Lazy registrations first: they may register a handler more
            # specific than one already found for a base class (a pandas
            # Timestamp is also a datetime).
            if self._lazy:
                for base in cls.__mro__:
                    toplevel = getattr(base, "__module__", None) or ""
                    name = toplevel.partition(".")[0]
                    register = self._lazy.pop(name, None)
                    if register is not None:
                        try:
                            register()
                        except BaseException:
                            # Leave it to be retried rather than silently lost.
                            self._lazy[name] = register
                            raise
                self._cache.clear()
            for base in cls.__mro__:
                handler = self._handler_for(base)
                if handler is not None:
                    self._cache[cls] = handler
                    return handler
        raise TypeError(f"No dispatch for {cls} in {self.__name__}")

    def _handler_for(self, cls: type) -> Callable[..., Any] | None:
        """The handler for exactly ``cls``, or None; subclasses may widen this."""
        return self._registry.get(cls)

    def __call__(self, arg: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the handler for ``type(arg)`` with all the arguments."""
        return self.dispatch(type(arg))(arg, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<Dispatch {self.__name__}>"

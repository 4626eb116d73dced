"""``Client.current()`` and ``Client.as_current()``: which client code running here should use.

``as_current()`` makes a client current for the ``with`` block, in this
thread or asyncio task only (a :class:`contextvars.ContextVar`, as in Dask):
``Client.current()`` returns it, and ``compute()``/``persist()`` of
collections run on it, even when another client is the default or the
``scheduler`` setting names another scheduler. Outside such a block,
``Client.current()`` is the default client (:func:`~shoal.distributed.default_client`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from shoal import config
from shoal.local.selection import register_default_client

__all__ = ["ClientCurrentMixin"]

_current: contextvars.ContextVar[Any] = contextvars.ContextVar("shoal_current_client", default=None)


def _current_client() -> Any:
    """The client of the innermost ``as_current`` block, if it is still running (a finder for compute())."""
    client = _current.get()
    return client if client is not None and client.status == "running" else None


class ClientCurrentMixin:
    """``current`` (a classmethod) and ``as_current``."""

    @classmethod
    def current(cls, allow_global: bool = True) -> Any:
        """The client of the innermost :meth:`as_current` block; else the default client.

        Parameters
        ----------
        allow_global : bool
            Fall back on the default client outside an ``as_current`` block.

        Raises
        ------
        ValueError
            No client is current (with ``allow_global=False``: not inside ``as_current``), or none is running.

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     with client.as_current():
        ...         Client.current() is client
        True
        """
        client = _current.get()
        if client is not None:
            return client
        if not allow_global:
            raise ValueError("Client.current(allow_global=False) was called outside a `with client.as_current():` "
                             "block; call it inside one, or allow the default client.")
        # The registry of default clients lives with the Client class, which imports this module.
        from shoal.distributed.client import default_client

        return default_client()

    @contextlib.contextmanager
    def as_current(self) -> Iterator[None]:
        """Make this client current in this thread or task for the block (see the module docstring)."""
        # Registered on first use so that it comes after the default-client finder, and is asked first.
        register_default_client(_current_client)
        token = _current.set(self)
        try:
            with config.set(scheduler="distributed"):
                yield
        finally:
            _current.reset(token)

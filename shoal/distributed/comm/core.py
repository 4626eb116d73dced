"""The comm interface: one bidirectional message channel, and how to open one.

A :class:`Comm` carries whole messages (see :mod:`.serialization`) in order
between two endpoints. A :class:`Listener` accepts comms at an address and
hands each to a handler coroutine. :func:`connect` and :func:`listen` pick the
backend from the address scheme:

- ``tcp://host:port``: asyncio sockets, length-prefixed frames (:mod:`.tcp`);
- ``tls://host:port``: the same inside TLS; pass ``ssl_context`` (see
  :class:`~shoal.distributed.security.Security`);
- ``inproc://name``: objects handed over through in-memory queues, for
  ``processes=False`` clusters and tests (:mod:`.inproc`).

A comm reports the peer going away by raising
:class:`~shoal.distributed._exceptions.CommClosedError` from ``read`` or
``write``; a corrupt or oversized frame raises its subclass ``FrameError`` and
closes that comm only.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shoal.distributed._exceptions import CommClosedError, SchedulerUnreachableError

__all__ = ["Comm", "Handler", "Listener", "connect", "listen", "parse_address", "register_backend"]


class Comm(abc.ABC):
    """One end of a message channel."""

    @abc.abstractmethod
    async def read(self) -> Any:
        """Return the next message; raise CommClosedError once the channel is closed."""

    @abc.abstractmethod
    async def write(self, msg: Any) -> int:
        """Send one message; return the number of bytes put on the wire (0 in-process)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close this end; the peer's pending and later reads raise CommClosedError."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Close at once, without waiting for buffered data to be sent."""

    @abc.abstractmethod
    def closed(self) -> bool:
        """Whether this comm can no longer be used."""

    #: The address of this end and of the other end.
    local_address: str = ""
    peer_address: str = ""

    def __repr__(self) -> str:
        state = "closed" if self.closed() else "open"
        return f"<{type(self).__name__} {state} {self.local_address} -> {self.peer_address}>"


Handler = Callable[[Comm], Awaitable[None]]


class Listener(abc.ABC):
    """Accepts comms at an address; created by :func:`listen`."""

    #: The address peers connect to (with the real port when 0 was asked for).
    address: str = ""

    @abc.abstractmethod
    async def start(self) -> None:
        """Begin accepting."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop accepting; established comms stay open."""


Backend = tuple[Callable[[str, Handler, dict[str, Any]], Listener], Callable[[str, dict[str, Any]], Awaitable[Comm]]]
_backends: dict[str, Backend] = {}


def register_backend(scheme: str, make_listener: Any, open_comm: Any) -> None:
    """Make ``scheme://`` addresses usable with :func:`listen` and :func:`connect`."""
    _backends[scheme] = (make_listener, open_comm)


def parse_address(address: str) -> tuple[str, str]:
    """Split ``scheme://location``; a bare ``host:port`` means TCP.

    >>> parse_address("tcp://127.0.0.1:8786")
    ('tcp', '127.0.0.1:8786')
    >>> parse_address("127.0.0.1:8786")
    ('tcp', '127.0.0.1:8786')
    """
    if "://" in address:
        scheme, _, location = address.partition("://")
    else:
        scheme, location = "tcp", address
    return scheme, location


def _backend(address: str) -> Backend:
    scheme, _ = parse_address(address)
    if scheme not in _backends:
        # Importing the package registers the built-in backends.
        from shoal.distributed.comm import inproc, tcp  # noqa: F401
    try:
        return _backends[scheme]
    except KeyError:
        raise ValueError(
            f"Unknown comm scheme {scheme!r} in address {address!r}: use 'tcp://host:port', "
            f"'tls://host:port' or 'inproc://name'."
        ) from None


def _check_encryption(address: str, options: dict[str, Any]) -> None:
    # In-process comms never leave memory, so only plain TCP is refused.
    if options.get("require_encryption") and parse_address(address)[0] == "tcp":
        raise ValueError(f"Encryption is required (Security(require_encryption=True)) but {address!r} is plain "
                         f"TCP; use a 'tls://' address.")


async def listen(address: str, handler: Handler, **options: Any) -> Listener:
    """Start accepting comms at ``address``; ``handler(comm)`` runs for each one.

    ``tcp://127.0.0.1:0`` picks a free port; read the chosen address from
    ``listener.address``.
    """
    _check_encryption(address, options)
    listener = _backend(address)[0](address, handler, options)
    await listener.start()
    return listener


async def connect(address: str, timeout: float = 10.0, **options: Any) -> Comm:
    """Open a comm to ``address``, retrying with backoff until ``timeout`` seconds pass.

    Raises
    ------
    SchedulerUnreachableError
        When nobody accepted a connection within ``timeout``.
    """
    _check_encryption(address, options)
    open_comm = _backend(address)[1]
    deadline = time.monotonic() + timeout
    delay = 0.01
    last: BaseException | None = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SchedulerUnreachableError(address, timeout, f"{type(last).__name__}: {last}" if last else "")
        try:
            return await asyncio.wait_for(open_comm(address, options), left)
        except (TimeoutError, OSError) as exc:
            if isinstance(exc, CommClosedError):
                raise
            last = exc
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)

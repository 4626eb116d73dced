"""A small HTTP/1.1 server on asyncio streams, enough for the dashboard.

It answers ``GET`` and ``HEAD`` only, one request per connection
(``Connection: close``): the pages poll a few times a second, so keep-alive
would save little and a connection that never lingers cannot leak. Handlers
are plain functions ``(path, query) -> Response`` run on the event loop, so
they read the scheduler's state without locks; they must be quick. A handler
that must ask other servers (a worker's logs) returns an awaitable instead,
which the server awaits before answering.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["HTTPServer", "Response", "parse_address"]

logger = logging.getLogger("shoal.distributed.dashboard")

_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Timeout"}
#: Longest request head accepted; the dashboard's requests are a few hundred bytes.
_MAX_HEAD = 16 * 1024


@dataclass
class Response:
    """What a handler returns: status, body and content type (plus extra headers)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, head_only: bool = False) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}",
                 f"Content-Type: {self.content_type}", f"Content-Length: {len(self.body)}",
                 "Cache-Control: no-store", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


Handler = Callable[[str, dict[str, str]], "Response | Awaitable[Response]"]


def parse_address(address: str | int, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """Split a dashboard address into host and port.

    Examples
    --------
    >>> parse_address("127.0.0.1:8787")
    ('127.0.0.1', 8787)
    >>> parse_address(":0")
    ('127.0.0.1', 0)
    >>> parse_address(8788)
    ('127.0.0.1', 8788)
    >>> parse_address("http://localhost:9000")
    ('localhost', 9000)
    """
    if isinstance(address, int):
        return default_host, address
    text = address.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "8787"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"dashboard address {address!r} has no valid port: expected 'host:port', ':port' or a "
                         f"port number, e.g. '127.0.0.1:8787'.") from None
    return host.strip("[]") or default_host, number


class HTTPServer:
    """Serves ``routes`` (exact paths) and ``prefixes`` (path prefixes) on asyncio streams.

    Parameters
    ----------
    routes : dict
        ``{"/health": handler}``; a handler gets the path and the query (last value per name).
    prefixes : dict
        ``{"/json/": handler}`` for every path starting with the prefix, tried longest first.
    """

    def __init__(self, routes: dict[str, Handler], prefixes: dict[str, Handler] | None = None) -> None:
        self.routes = routes
        self.prefixes = sorted((prefixes or {}).items(), key=lambda item: -len(item[0]))
        self.server: asyncio.Server | None = None
        self.host = ""
        self.port = 0
        #: Requests answered so far, and seconds of the event loop spent answering them (for benchmarks).
        self.requests = 0
        self.busy_seconds = 0.0

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; a busy port falls back to a free one (logged). Returns the port."""
        try:
            self.server = await asyncio.start_server(self._serve, host, port)
        except OSError as exc:
            if port == 0 or exc.errno != errno.EADDRINUSE:
                raise
            self.server = await asyncio.start_server(self._serve, host, 0)
            free = self.server.sockets[0].getsockname()[1]
            logger.warning("Port %d is already in use (perhaps another cluster's dashboard). Serving the dashboard "
                           "on port %d instead.", port, free)
        self.host = host
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def respond(self, method: str, target: str) -> Response:
        """The response to one request, awaiting handlers that answer asynchronously."""
        response = self.dispatch(method, target)
        if not inspect.isawaitable(response):
            return response
        try:
            return await response
        except Exception as exc:  # noqa: BLE001 - one broken page must not stop the server
            logger.exception("dashboard handler for %s failed", target)
            return Response(f"{type(exc).__name__}: {exc}\n".encode(), 500)

    def dispatch(self, method: str, target: str) -> Response | Awaitable[Response]:
        """The response to one request (used by the stream handler and directly by tests).

        An asynchronous handler's awaitable is returned as is; :meth:`respond` awaits it.
        """
        if method not in ("GET", "HEAD"):
            return Response(f"{method} is not supported; the dashboard answers GET and HEAD.\n".encode(), 405,
                            headers={"Allow": "GET, HEAD"})
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        handler = self.routes.get(path)
        if handler is None:
            handler = next((h for prefix, h in self.prefixes if path.startswith(prefix)), None)
        if handler is None:
            return Response(f"no page at {path}; try /status, /workers, /graph, /map, /info, /health, /metrics or "
                            f"/json/\n".encode(), 404)
        try:
            return handler(path, query)
        except Exception as exc:  # noqa: BLE001 - one broken page must not stop the server
            logger.exception("dashboard handler for %s failed", path)
            return Response(f"{type(exc).__name__}: {exc}\n".encode(), 500)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            if len(head) > _MAX_HEAD:
                raise ValueError("request head too long")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target, _version = request_line.split(" ", 2)
            started = time.perf_counter()
            response = await self.respond(method.upper(), target)
            self.requests += 1
            self.busy_seconds += time.perf_counter() - started
            writer.write(response.encode(head_only=method.upper() == "HEAD"))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, TimeoutError):
            pass
        except ValueError:
            writer.write(Response(b"malformed request\n", 400).encode())
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

"""TCP comms on asyncio, with zero-copy receives.

Each connection is an :class:`asyncio.BufferedProtocol` that lets the
:class:`~.framing.FrameAssembler` choose the buffer every ``recv`` writes
into, so a message body lands in its final ``bytearray`` directly. Writes
hand the prefix and each frame to the transport (which sends what it can at
once and buffers the rest); ``write`` then waits while the transport's
buffer is above its high-water mark, so a fast sender cannot grow memory
without bound.

Addresses are ``tcp://host:port``; port 0 asks the OS for a free port.
``tls://host:port`` is the same protocol inside TLS: :func:`listen` and
:func:`connect` then need an ``ssl_context`` option (see
:class:`~shoal.distributed.security.Security`).
``TCP_NODELAY`` is set: messages are already batched by the servers, and
Nagle's algorithm would add up to 40 ms to every small round trip.

When both ends run on one machine, large messages skip the socket: the
receiver copies their big frames straight out of the sender's memory (see
:mod:`.same_host`), and only a short offer and its answer cross the
connection.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import socket
import ssl
from typing import Any

from shoal import config
from shoal.distributed._exceptions import CommClosedError, FrameError
from shoal.distributed.comm import same_host
from shoal.distributed.comm.buffers import allocate
from shoal.distributed.comm.compression import MIN_SIZE, compress, compression_scheme
from shoal.distributed.comm.core import Comm, Handler, Listener, parse_address, register_backend
from shoal.distributed.comm.framing import ACK, REMOTE, FrameAssembler, RemoteOffer, frame_prefix
from shoal.distributed.comm.serialization import dumps, loads
from shoal.utils import parse_bytes

__all__ = ["TCPComm", "TCPListener", "TLSError", "TLSListener"]

#: Messages queued unread before the socket stops being read (back-pressure).
_MAX_QUEUED = 256
#: Messages at least this large bypass asyncio's write buffer (see ``TCPComm._write_direct``).
_DIRECT = 1 << 20
#: In a direct write, frames smaller than this are joined with their neighbours into one ``send``.
_SMALL_FRAME = 64 << 10
#: Decoding retries (50 ms apart) while a module the message needs is still being imported by another thread.
_IMPORT_RETRIES = 100
#: Messages with more bytes to compress than this are compressed in a thread.
_COMPRESS_IN_THREAD = 4 << 20
_UNSET: Any = object()
logger = logging.getLogger(__name__)


def _worth_offering(views: list[Any]) -> bool:
    return sum(len(v) for v in views if len(v) >= same_host.MIN_FRAME) >= same_host.MIN_BYTES


def _max_message_size(options: dict[str, Any]) -> int:
    size = options.get("max_message_size")
    if size is None:
        size = config.get("distributed.comm.max-message-size", "4GiB")
    return parse_bytes(size)


class TLSError(CommClosedError):
    """The TLS handshake failed: a certificate was missing, expired or signed by another CA."""


def _ssl_context(address: str, options: dict[str, Any], server: bool) -> ssl.SSLContext:
    ctx = options.get("ssl_context")
    if not isinstance(ctx, ssl.SSLContext):
        verb = "listen at" if server else "connect to"
        raise ValueError(f"To {verb} {address!r} pass ssl_context=ssl.SSLContext(...), e.g. from "
                         f"Security(...).get_{'listen' if server else 'connection'}_args(role); got {ctx!r}.")
    return ctx


def _split_host_port(location: str) -> tuple[str, int]:
    host, _, port = location.rpartition(":")
    if not host:
        host = "127.0.0.1"
    return host.strip("[]"), int(port or 0)


class _FrameProtocol(asyncio.BufferedProtocol):
    """Socket events to messages; owned by one :class:`TCPComm`."""

    def __init__(self, max_message_size: int, on_connect: Any = None, scheme: str = "tcp") -> None:
        self.on_connect = on_connect
        self.scheme = scheme
        self.peer = ""
        self.received = False
        self.assembler = FrameAssembler(max_message_size)
        self.transport: asyncio.Transport | None = None
        self.queue: collections.deque[list[memoryview]] = collections.deque()
        self.error: BaseException | None = None
        self.closed = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False
        #: Set while this end waits for the answer to a same-host offer.
        self.ack_waiter: asyncio.Future[bool] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # asyncio callbacks -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        info = transport.get_extra_info("peername")
        self.peer = f"{self.scheme}://{info[0]}:{info[1]}" if info else ""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - e.g. a unix socket
                pass
        if self.on_connect is not None:
            self.on_connect(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.assembler.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.received = True
        try:
            self.assembler.buffer_updated(nbytes)
        except FrameError as exc:
            self.error = exc
            assert self.transport is not None
            self.transport.abort()
            self._wake_reader()
            return
        if self.assembler.acks:
            waiter = self.ack_waiter
            for taken in self.assembler.acks:
                if waiter is not None and not waiter.done():
                    waiter.set_result(taken)
            self.assembler.acks.clear()
        if self.assembler.messages:
            self.queue.extend(self.assembler.messages)
            self.assembler.messages.clear()
            if len(self.queue) > _MAX_QUEUED and self.transport is not None and not self._read_paused:
                self._read_paused = True
                self.transport.pause_reading()
            self._wake_reader()

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.error is None and exc is not None:
            self.error = exc
        self._wake_reader()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        if self.ack_waiter is not None and not self.ack_waiter.done():
            self.ack_waiter.set_result(False)
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # used by the comm ---------------------------------------------------
    def _wake_reader(self) -> None:
        if self._read_waiter is not None and not self._read_waiter.done():
            self._read_waiter.set_result(None)

    async def read_frames(self) -> list[memoryview]:
        while not self.queue:
            if self.closed or self.error is not None:
                raise self._closed_error()
            self._read_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        if self._read_paused and len(self.queue) < _MAX_QUEUED // 2 and self.transport is not None:
            self._read_paused = False
            self.transport.resume_reading()
        return self.queue.popleft()

    async def drain(self, empty: bool = False) -> None:
        transport = self.transport
        if empty and transport is not None and not self.closed and transport.get_write_buffer_size():
            # Limits of zero make asyncio pause us now and resume us exactly when its buffer is empty.
            transport.set_write_buffer_limits(high=0, low=0)
            try:
                while self._write_paused and not self.closed:
                    await self._wait_resume()
            finally:
                if not transport.is_closing():
                    transport.set_write_buffer_limits()
        if self._write_paused and not self.closed:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
        if self.closed:
            raise self._closed_error()

    async def _wait_resume(self) -> None:
        self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._drain_waiter
        finally:
            self._drain_waiter = None

    def _closed_error(self) -> CommClosedError:
        if isinstance(self.error, FrameError):
            return self.error
        peer = self.peer
        reason = f": {type(self.error).__name__}: {self.error}" if self.error is not None else ""
        # With TLS 1.3 the server checks our certificate after our handshake finished, so a refusal shows up
        # as the first read or write failing.
        if self.scheme == "tls" and (isinstance(self.error, ssl.SSLError) or not self.received):
            return TLSError(f"TLS connection closed before any message arrived{reason}; the peer probably refused "
                            f"this side's certificate (none given, or not signed by the CA the peer trusts)", peer)
        return CommClosedError(f"{self.scheme.upper()} connection closed{reason}", peer)


async def _compress_frames(views: list[Any], *, sample: bool) -> tuple[list[Any], list[bool]]:
    """Frames with the large compressible ones lz4-compressed, and which ones are."""
    total = sum(len(v) for v in views if len(v) >= MIN_SIZE)
    if total >= _COMPRESS_IN_THREAD:
        # lz4 releases the GIL: big frames are compressed off the event loop so that it keeps serving.
        results = await asyncio.to_thread(lambda: [compress(v, sample=sample) for v in views])
    else:
        results = [compress(v, sample=sample) for v in views]
    flags = [r is not None for r in results]
    if not any(flags):
        return views, []
    return [v if r is None else r for v, r in zip(views, results, strict=True)], flags


class TCPComm(Comm):
    """A message channel over one TCP connection.

    ``compression`` overrides ``distributed.comm.compression`` for what this
    end writes (None, ``"lz4"`` or ``"auto"``); the reader needs no setting.
    """

    def __init__(self, transport: asyncio.Transport, protocol: _FrameProtocol, compression: Any = _UNSET) -> None:
        #: The scheme fixed for this comm ("lz4" or None); unset means read the config at each large write.
        self._compression = _UNSET if compression is _UNSET else compression_scheme(compression or False)
        self._transport = transport
        self._protocol = protocol
        local = transport.get_extra_info("sockname")
        peer = transport.get_extra_info("peername")
        scheme = protocol.scheme
        self.local_address = f"{scheme}://{local[0]}:{local[1]}" if local else f"{scheme}://"
        self.peer_address = f"{scheme}://{peer[0]}:{peer[1]}" if peer else f"{scheme}://"
        #: TLS must encrypt every byte, so only plain TCP may write around the transport.
        self._can_write_direct = scheme == "tcp" and transport.get_extra_info("socket") is not None
        #: Whether large messages are offered for a same-host copy; turned off when the peer declines one.
        self._same_host = bool(self._can_write_direct and local and peer and local[0] == peer[0]
                               and same_host.enabled())
        #: Set while a large message is being written (around the transport, or offered): later writes wait.
        self._direct_write: asyncio.Future[None] | None = None
        #: Set while bytes go through a duplicate of the socket: nothing may go to the transport meanwhile.
        self._raw_send: asyncio.Future[None] | None = None
        self._direct_socket: socket.socket | None = None
        #: A same-host message being copied in; the next read returns it before anything else.
        self._incoming: asyncio.Task[list[Any] | None] | None = None

    async def read(self) -> Any:
        while True:
            incoming = self._incoming
            if incoming is not None:
                # Shielded: a cancelled read leaves the copy running, and the next read picks it up.
                frames = await asyncio.shield(incoming)
                self._incoming = None
                if frames is None:
                    continue  # declined: the sender sends the message again over TCP
                break
            frames = await self._protocol.read_frames()
            if type(frames) is RemoteOffer:
                self._incoming = asyncio.get_running_loop().create_task(self._take_offer(frames))
                continue
            break
        for attempt in range(_IMPORT_RETRIES + 1):
            try:
                return loads(frames)
            except ImportError as exc:
                # Another thread of this process (a task) is importing the same package for the first time:
                # Python handed us the half-initialized module. Give that import time to finish.
                if "partially initialized module" not in str(exc) or attempt == _IMPORT_RETRIES:
                    error: Exception = exc
                    break
                await asyncio.sleep(0.05)
            except Exception as exc:
                error = exc
                break
        self.abort()
        raise FrameError(
            f"Could not decode a message from {self.peer_address} ({type(error).__name__}: {error}); the "
            f"connection was closed. The peer may run another version of shoal, or sent an object "
            f"whose class cannot be imported here.",
            self.peer_address,
        ) from error

    async def _take_offer(self, offer: RemoteOffer) -> list[Any] | None:
        """Copy an offered message's big frames out of the sender and answer it; None if declined."""
        frames: list[Any] = list(offer[:-1])
        decoded = same_host.decode_offer(offer[-1])
        taken = False
        if decoded is not None:
            pid, entries = decoded
            total = sum(len(f) for f in frames) + sum(nbytes for _, _, nbytes in entries)
            limit = self._protocol.assembler.max_message_size
            if total > limit or any(not 0 <= i < len(frames) for i, _, _ in entries):
                self.abort()
                raise FrameError(f"received an offer of {total:,} bytes in {len(entries)} frames from "
                                 f"{self.peer_address}: over the limit of {limit:,} bytes "
                                 f"(distributed.comm.max-message-size) or naming frames it does not have",
                                 self.peer_address)
            buffers = [allocate(nbytes) for _, _, nbytes in entries]
            try:
                await same_host.read_into(pid, [(buf, where) for buf, (_, where, _) in zip(buffers, entries,
                                                                                          strict=True)])
                taken = True
            except OSError as exc:
                logger.info("Declined a same-host copy from %s (%s); this comm uses TCP from now on",
                            self.peer_address, exc)
            if taken:
                for (i, _, _), buf in zip(entries, buffers, strict=True):
                    frames[i] = memoryview(buf)
        same_host.stats["received" if taken else "declined"] += 1
        if not taken:
            self._same_host = False  # a peer we cannot read from probably cannot read from us either
        await self._send_control(ACK, b"\x01" if taken else b"\x00")
        return frames if taken else None

    async def _send_control(self, kind: int, payload: bytes) -> None:
        while self._raw_send is not None:
            await asyncio.shield(self._raw_send)
        if self._protocol.closed:
            raise self._protocol._closed_error()
        self._transport.write(frame_prefix([payload], kind=kind) + payload)

    async def write(self, msg: Any) -> int:
        protocol = self._protocol
        if protocol.closed:
            raise protocol._closed_error()
        frames = dumps(msg)  # may raise SerializationError: nothing has been written then
        views = [memoryview(f).cast("B") if type(f) is not bytes else f for f in frames]
        if self._same_host and _worth_offering(views):
            self._check_size(sum(len(v) for v in views))
            while self._direct_write is not None:
                await asyncio.shield(self._direct_write)
            done = self._direct_write = asyncio.get_running_loop().create_future()
            # Shielded: the sender's memory must stay alive and the exchange complete even if the caller gives up.
            return await asyncio.shield(asyncio.get_running_loop().create_task(self._write_offer(views, done)))
        compressed: list[bool] = []
        if any(len(v) >= MIN_SIZE for v in views):
            scheme = self._compression if self._compression is not _UNSET else compression_scheme()
            if scheme is not None:
                views, compressed = await _compress_frames(views, sample=scheme == "auto")
        prefix = frame_prefix(views, compressed)
        nbytes = len(prefix) + sum(len(v) for v in views)
        self._check_size(nbytes - len(prefix))
        while self._direct_write is not None:
            # A large message is going straight to the socket: wait so that frames never interleave.
            await asyncio.shield(self._direct_write)
        if nbytes >= _DIRECT and self._can_write_direct:
            await self._write_direct(prefix, views)
            return nbytes
        self._write_to_transport(prefix, views)
        await protocol.drain()
        return nbytes

    def _check_size(self, nbytes: int) -> None:
        limit = self._protocol.assembler.max_message_size
        if nbytes > limit:
            # The peer would refuse it and drop the connection; refusing here keeps the comm usable.
            raise FrameError(
                f"refusing to send a message of {nbytes:,} bytes to {self.peer_address}: over the "
                f"limit of {limit:,} bytes (distributed.comm.max-message-size). Send large data in pieces "
                f"(scatter or split it into more tasks) or raise the limit on both sides.", self.peer_address)

    def _write_to_transport(self, prefix: bytes, views: list[Any]) -> None:
        transport = self._transport
        transport.write(prefix)
        for view in views:
            if len(view):
                transport.write(view)

    async def _write_offer(self, views: list[Any], done: asyncio.Future[None]) -> int:
        """Offer a large message for a same-host copy (see :mod:`.same_host`); send it over TCP if declined."""
        protocol = self._protocol
        try:
            entries = []
            offer: list[Any] = []
            for i, view in enumerate(views):
                where = same_host.address(view) if len(view) >= same_host.MIN_FRAME else None
                if where is None:
                    offer.append(view)
                else:
                    entries.append((i, where, len(view)))
                    offer.append(b"")
            offer.append(same_host.encode_offer(entries))
            waiter = protocol.ack_waiter = asyncio.get_running_loop().create_future()
            try:
                self._write_to_transport(frame_prefix(offer, kind=REMOTE), offer)
                await protocol.drain()
                taken = await waiter  # the peer copies out of ``views`` meanwhile: they stay alive until here
            finally:
                protocol.ack_waiter = None
            if protocol.closed:
                raise protocol._closed_error()
            prefix = frame_prefix(views)
            nbytes = len(prefix) + sum(len(v) for v in views)
            if not taken:
                self._same_host = False
                if self._can_write_direct:
                    await self._send_direct(prefix, views)
                else:  # pragma: no cover - offers are only made where direct writes are possible
                    self._write_to_transport(prefix, views)
                    await protocol.drain()
            return nbytes
        finally:
            self._direct_write = None
            done.set_result(None)

    async def _write_direct(self, prefix: bytes, views: list[Any]) -> None:
        """Send one large message around the transport (see :meth:`_send_direct`), holding off other writes."""
        done = self._direct_write = asyncio.get_running_loop().create_future()
        try:
            await self._send_direct(prefix, views)
        finally:
            self._direct_write = None
            done.set_result(None)

    async def _send_direct(self, prefix: bytes, views: list[Any]) -> None:
        """Send one large message with ``sock.send`` calls straight from the frames' memory.

        ``transport.write`` would copy whatever the kernel does not take at once into asyncio's own buffer
        (most of a 500 MB frame). Instead, once the transport's buffer is empty, the message goes through a
        duplicate of the socket's file descriptor (asyncio refuses ``sock_sendall`` on a transport's own
        descriptor); the transport is not written to meanwhile, so the byte stream stays in order.
        """
        loop = asyncio.get_running_loop()
        raw = self._raw_send = loop.create_future()
        sock: socket.socket | None = None
        try:
            await self._protocol.drain(empty=True)
            fd = self._transport.get_extra_info("socket").fileno()
            sock = self._direct_socket = socket.socket(fileno=os.dup(fd))
            sock.setblocking(False)
            small: list[Any] = [prefix]
            for view in views:
                if len(view) < _SMALL_FRAME:
                    small.append(view)
                    continue
                await loop.sock_sendall(sock, b"".join(small))
                small = []
                await loop.sock_sendall(sock, view)
            if small:
                await loop.sock_sendall(sock, b"".join(small))
        except OSError as exc:
            self.abort()
            if isinstance(exc, CommClosedError):
                raise
            raise CommClosedError(f"TCP connection closed while sending: {type(exc).__name__}: {exc}",
                                  self.peer_address) from exc
        finally:
            self._direct_socket = None
            if sock is not None:
                sock.close()
            self._raw_send = None
            raw.set_result(None)

    async def close(self) -> None:
        if not self._transport.is_closing():
            self._transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._protocol.lost), 5)
        except TimeoutError:  # pragma: no cover - a peer that never reads
            self._transport.abort()

    def abort(self) -> None:
        direct = self._direct_socket
        if direct is not None:
            # The duplicate descriptor would keep the connection open after the transport closes its own.
            try:
                direct.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if not self._protocol.closed:
            self._transport.abort()

    def closed(self) -> bool:
        return self._protocol.closed or self._transport.is_closing()


class TCPListener(Listener):
    """Accepts TCP connections and runs the handler on each as a task."""

    scheme = "tcp"

    def __init__(self, address: str, handler: Handler, options: dict[str, Any]) -> None:
        self._ssl = _ssl_context(address, options, server=True) if self.scheme == "tls" else None
        self._host, self._port = _split_host_port(parse_address(address)[1])
        self._handler = handler
        self._max_size = _max_message_size(options)
        self._compression = options.get("compression", _UNSET)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.address = ""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def factory() -> _FrameProtocol:
            return _FrameProtocol(self._max_size, on_connect=self._accepted, scheme=self.scheme)

        self._server = await loop.create_server(factory, self._host, self._port, reuse_address=True, ssl=self._ssl)
        sockname = self._server.sockets[0].getsockname()
        self.address = f"{self.scheme}://{sockname[0]}:{sockname[1]}"

    def _accepted(self, protocol: _FrameProtocol) -> None:
        if protocol.transport is None or protocol.closed:
            return
        comm = TCPComm(protocol.transport, protocol, self._compression)
        task = asyncio.get_running_loop().create_task(self._handler(comm))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class TLSListener(TCPListener):
    """A :class:`TCPListener` whose connections are wrapped in TLS (``ssl_context`` option)."""

    scheme = "tls"


async def _open(address: str, options: dict[str, Any]) -> TCPComm:
    scheme, location = parse_address(address)
    host, port = _split_host_port(location)
    ctx = _ssl_context(address, options, server=False) if scheme == "tls" else None
    loop = asyncio.get_running_loop()
    size = _max_message_size(options)
    try:
        transport, protocol = await loop.create_connection(lambda: _FrameProtocol(size, scheme=scheme), host, port,
                                                           ssl=ctx)
    except ssl.SSLError as exc:
        # Not worth retrying: the certificates will not change before the timeout.
        raise TLSError(f"TLS handshake with {address} failed ({type(exc).__name__}: {exc}); check that "
                       f"tls_ca_file is the CA that signed the peer's certificate, and that this side's "
                       f"certificate is signed by the CA the peer trusts.", address) from exc
    return TCPComm(transport, protocol, options.get("compression", _UNSET))  # type: ignore[arg-type]


register_backend("tcp", TCPListener, _open)
register_backend("tls", TLSListener, _open)

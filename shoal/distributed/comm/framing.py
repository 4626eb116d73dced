"""Length-prefixed frames on a byte stream.

On the wire one message is::

    <u64 n> <u64 len_1> ... <u64 len_n> <frame_1> ... <frame_n>

(little-endian). A length with the :data:`COMPRESSED` bit set announces a
frame compressed with lz4 (see :mod:`.compression`); the assembler
decompresses it before delivering the message. A count with the
:data:`REMOTE` or :data:`ACK` bit set announces a control message of the
same-host path (:mod:`.same_host`): an offer, delivered as a
:class:`RemoteOffer` among the messages, or an answer to one, collected in
:attr:`FrameAssembler.acks` instead. :func:`frame_prefix` builds the prefix for a list of frames;
:class:`FrameAssembler` is a sans-IO parser: the transport asks it for a
buffer to receive into (:meth:`~FrameAssembler.get_buffer`), reports how many
bytes arrived (:meth:`~FrameAssembler.buffer_updated`) and collects the
messages that became complete. Each message body is received straight into
one writable buffer (see :mod:`.buffers`) and its frames are memoryview
slices of it: no copy after the socket, and NumPy arrays loaded from it are
writable.

Limits guard against garbage on the wire (a peer speaking another protocol,
or corruption): more than :data:`MAX_FRAMES` frames or a body larger than
``max_message_size`` raises :class:`FrameError`, after which the stream
cannot be resynchronized and the comm must be closed.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from shoal.distributed._exceptions import FrameError
from shoal.distributed.comm.buffers import LARGE, allocate
from shoal.distributed.comm.compression import decompress

__all__ = ["ACK", "ALIGNMENT", "COMPRESSED", "MAX_FRAMES", "REMOTE", "FrameAssembler", "RemoteOffer",
           "frame_prefix"]

MAX_FRAMES = 1 << 16
#: Flag in a frame's announced length: the frame is lz4-compressed.
COMPRESSED = 1 << 63
#: Flags in a message's frame count: a same-host offer, or the answer to one (see :mod:`.same_host`).
REMOTE = 1 << 62
ACK = 1 << 61
_KINDS = REMOTE | ACK
_U64 = struct.Struct("<Q")


class RemoteOffer(list):  # type: ignore[type-arg]
    """The frames of a same-host offer: the message's small frames, empty ones where big frames go, then
    the offer's description (see :mod:`.same_host`)."""


def frame_prefix(frames: Sequence[bytes | bytearray | memoryview], compressed: Sequence[bool] = (),
                 kind: int = 0) -> bytes:
    """The prefix announcing ``frames``; ``compressed[i]`` marks frame ``i`` as lz4-compressed.

    ``kind`` is 0 for a message, :data:`REMOTE` or :data:`ACK` for a control message.

    >>> frame_prefix([b"ab", b""]) == bytes([2] + [0] * 7 + [2] + [0] * 7 + [0] * 8)
    True
    """
    sizes = [memoryview(f).nbytes for f in frames]
    if compressed:
        sizes = [size | COMPRESSED if flag else size for size, flag in zip(sizes, compressed, strict=True)]
    return struct.pack(f"<{len(sizes) + 1}Q", len(sizes) | kind, *sizes)


#: Frames of a large body start at multiples of this many bytes (see :class:`FrameAssembler`).
ALIGNMENT = 64


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


class FrameAssembler:
    """Reassembles messages from a byte stream; see the module docstring.

    Frames are laid out so that arrays loaded from them are aligned, as
    arrays NumPy allocates are: in a large body (at least
    :data:`~.buffers.LARGE` bytes) each frame starts at a multiple of
    :data:`ALIGNMENT` bytes and is received on its own; a small body is
    received in one piece and a frame of it that is misaligned is copied.
    A misaligned float array computes more slowly and, where NumPy's
    vectorized loops peel off a different number of leading elements, sums
    in a different order than the sender's copy did.

    >>> a = FrameAssembler(max_message_size=100)
    >>> wire = frame_prefix([b"hi", b"there"]) + b"hithere"
    >>> for byte in wire:
    ...     a.get_buffer()[0] = byte
    ...     a.buffer_updated(1)
    >>> [bytes(f) for f in a.messages.pop()]
    [b'hi', b'there']
    """

    def __init__(self, max_message_size: int) -> None:
        self.max_message_size = max_message_size
        #: Complete messages, oldest first: each a list of frames (a :class:`RemoteOffer` for an offer).
        self.messages: list[list[memoryview]] = []
        #: Answers to same-host offers, oldest first: whether the peer took the message.
        self.acks: list[bool] = []
        self._kind = 0
        self._count = bytearray(8)
        self._target: Any = self._count
        self._offset = 0
        self._end = 8  # where the bytes wanted now end in _target
        self._phase = 0  # 0: frame count, 1: frame lengths, 2: body
        self._sizes: tuple[int, ...] = ()
        self._starts: list[int] = []  # where each frame starts in the body
        self._frame = 0  # with a frame-by-frame body: the frame being received
        self._compressed: list[int] = []

    def get_buffer(self) -> memoryview:
        """Where the next bytes should be written (exactly what is still missing)."""
        return memoryview(self._target)[self._offset:self._end]

    def buffer_updated(self, nbytes: int) -> None:
        """Account for ``nbytes`` written into the last buffer; may complete a message."""
        self._offset += nbytes
        while self._offset == self._end:
            self._advance()

    def _advance(self) -> None:
        if self._phase == 0:
            (n,) = _U64.unpack(self._count)
            self._kind = n & _KINDS
            n &= ~_KINDS
            if n > MAX_FRAMES:
                raise FrameError(f"received a message announcing {n:,} frames (at most {MAX_FRAMES:,} are "
                                 f"allowed): the peer is not speaking shoal's protocol or the stream is corrupt")
            self._phase = 1
            self._target = bytearray(8 * n)
            self._offset, self._end = 0, 8 * n
            if n == 0:
                self._sizes = ()
                self._deliver()
        elif self._phase == 1:
            self._start_body()
        elif self._frame + 1 < len(self._sizes):
            self._next_frame(self._frame + 1)
        else:
            self._deliver()

    def _start_body(self) -> None:
        n = len(self._target) // 8
        sizes = struct.unpack(f"<{n}Q", self._target)
        self._compressed = [i for i, size in enumerate(sizes) if size & COMPRESSED]
        if self._compressed:
            sizes = tuple(size & ~COMPRESSED for size in sizes)
        self._sizes = sizes
        total = sum(sizes)
        if total > self.max_message_size:
            raise FrameError(
                f"received a message of {total:,} bytes, over the limit of {self.max_message_size:,} "
                f"bytes (distributed.comm.max-message-size). Send large data in pieces (scatter or "
                f"split it into more tasks) or raise the limit on both sides."
            )
        self._phase = 2
        starts = []
        position = 0
        large = total >= LARGE
        for size in sizes:
            if large:
                position = _aligned(position)
            starts.append(position)
            position += size
        self._starts = starts
        self._target = allocate(position)
        if large:
            self._next_frame(0)  # frame by frame, each into its aligned place
        else:
            self._frame = len(sizes) - 1  # the whole body in one piece
            self._offset, self._end = 0, position
        while self._phase == 2 and self._offset == self._end:
            self._advance()  # empty frames (or an empty body): nothing to wait for

    def _next_frame(self, i: int) -> None:
        self._frame = i
        self._offset = self._starts[i]
        self._end = self._offset + self._sizes[i]

    def _deliver(self) -> None:
        view = memoryview(self._target)
        large = len(view) >= LARGE
        frames = []
        for start, size in zip(self._starts, self._sizes, strict=True):
            frame = view[start:start + size]
            if not large and start % 16 and size >= 16:
                frame = memoryview(bytearray(frame))  # a fresh (malloc-aligned) copy: see the class docstring
            frames.append(frame)
        for i in self._compressed:
            frames[i] = memoryview(decompress(frames[i], self.max_message_size))
        self._compressed = []
        if self._kind == ACK:
            self.acks.append(bool(frames) and bytes(frames[0]) == b"\x01")
        elif self._kind == REMOTE:
            self.messages.append(RemoteOffer(frames))
        else:
            self.messages.append(frames)
        self._kind = 0
        self._phase = 0
        self._target = self._count
        self._offset, self._end = 0, 8
        self._sizes = ()
        self._starts = []
        self._frame = 0

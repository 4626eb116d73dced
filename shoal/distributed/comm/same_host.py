"""Large messages between processes of one machine, copied once instead of through TCP.

A message sent over loopback TCP is copied twice (into the kernel's socket
buffers, then out of them) and both copies write through memory. When the
two ends of a TCP comm run on the same machine, the sender of a large
message instead announces where its big frames lie in its memory (an
*offer*: process id, and address and length of each frame) and waits; the
receiver copies those bytes straight from the sender's memory into its own
receive buffers with Linux's ``process_vm_readv`` (one copy, split over a
few threads) and answers with an *ack*. If the receiver cannot (another
machine or container after all, a kernel or security policy that forbids
reading another process, a platform without the call) it answers *no*, and
the sender sends that message, and every later one on that comm, over TCP.

The offer and the ack are frames of their own kind on the stream (see
:data:`~.framing.REMOTE` and :data:`~.framing.ACK`), so the application
never sees them. Reading another process's memory needs the same
permission as a debugger attaching to it (same user, and ptrace not
restricted further); a peer that can send us messages can already make us
unpickle anything, so this adds no trust that the comm did not need.

Setting ``distributed.comm.same-host-copy`` to False turns this off.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import hashlib
import os
import struct
import sys
from collections.abc import Sequence
from typing import Any

from shoal import config

__all__ = ["MIN_BYTES", "MIN_FRAME", "address", "can_read_other_processes", "decode_offer", "enabled",
           "encode_offer", "host_token", "read_into", "stats"]

#: A message goes this way only if its frames of at least :data:`MIN_FRAME` bytes add up to this much: smaller
#: messages fit in the sockets' buffers, and TCP then lets the sender move on before the receiver reads.
MIN_BYTES = 16 << 20
#: Frames smaller than this travel inline, in the offer itself.
MIN_FRAME = 1 << 20
#: Each thread of a copy reads at least this many bytes.
_PIECE = 16 << 20
_THREADS = max(1, min(4, os.cpu_count() or 1))
_HEAD = struct.Struct("<Q16sI")  # pid, host token, number of entries
_ENTRY = struct.Struct("<IQQ")  # frame index, address, length

#: Counters for tests and diagnostics: messages received this way, and offers declined.
stats = {"received": 0, "declined": 0}


class _IOVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


@functools.cache
def _process_vm_readv() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        call = libc.process_vm_readv
    except (OSError, AttributeError):
        return None
    call.restype = ctypes.c_ssize_t
    call.argtypes = [ctypes.c_int, ctypes.POINTER(_IOVec), ctypes.c_ulong, ctypes.POINTER(_IOVec), ctypes.c_ulong,
                     ctypes.c_ulong]
    return call


@functools.cache
def host_token() -> bytes:
    """16 bytes equal in two processes exactly when their process ids mean the same processes.

    That is the same boot of the same kernel and the same pid namespace.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            boot = f.read().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return bytes(16)  # all zeros: never matched, see decode_offer
    return hashlib.blake2b(boot + b":" + str(namespace).encode(), digest_size=16).digest()


def enabled() -> bool:
    """Whether this process offers and accepts same-host copies (platform and config)."""
    return (bool(config.get("distributed.comm.same-host-copy", True)) and _process_vm_readv() is not None
            and any(host_token()))


@functools.cache
def can_read_other_processes() -> bool:
    """Whether this process may read another process's memory (a probe of a short-lived child process).

    Comms do not need this (a refused copy falls back to TCP); tests and diagnostics use it to tell a
    platform that forbids it (a ptrace policy, a seccomp filter) from a bug.
    """
    import subprocess

    if not enabled():
        return False
    with subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE) as child:
        try:
            return _probe(child.pid)
        finally:
            child.kill()


def _probe(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                span, perms = line.split()[:2]
                if perms.startswith("r"):
                    _read(pid, bytearray(64), 0, int(span.split("-")[0], 16), 64)
                    return True
    except OSError:
        pass
    return False


def address(view: Any) -> int | None:
    """Where the bytes of a contiguous buffer start in this process's memory (None if NumPy is missing)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - the distributed extra works without NumPy
        return None
    return int(np.frombuffer(view, dtype=np.uint8).ctypes.data) if len(view) else None


def encode_offer(entries: Sequence[tuple[int, int, int]]) -> bytes:
    """The offer frame for ``entries`` of ``(frame index, address, length)`` in this process."""
    return _HEAD.pack(os.getpid(), host_token(), len(entries)) + b"".join(_ENTRY.pack(*e) for e in entries)


def decode_offer(frame: Any) -> tuple[int, list[tuple[int, int, int]]] | None:
    """``(pid, entries)`` of an offer frame, or None when it comes from another host or pid namespace."""
    data = bytes(frame)
    pid, token, count = _HEAD.unpack_from(data)
    if token != host_token() or not any(token):
        return None
    entries = [_ENTRY.unpack_from(data, _HEAD.size + i * _ENTRY.size) for i in range(count)]
    return pid, entries


def _read(pid: int, dest: Any, offset: int, remote: int, nbytes: int) -> None:
    """Copy ``nbytes`` from ``remote`` in process ``pid`` to ``dest[offset:]``; OSError if refused.

    ``dest`` itself (not its address) is passed so that this thread keeps it alive while it writes.
    """
    call = _process_vm_readv()
    local = address(dest)
    assert local is not None
    local += offset
    done = 0
    while done < nbytes:
        mine = _IOVec(local + done, nbytes - done)
        theirs = _IOVec(remote + done, nbytes - done)
        got = call(pid, ctypes.byref(mine), 1, ctypes.byref(theirs), 1, 0)
        if got <= 0:
            errno = ctypes.get_errno() if got < 0 else 0
            raise OSError(errno, f"process_vm_readv from pid {pid}: {os.strerror(errno) if errno else 'no progress'}")
        done += got


async def read_into(pid: int, copies: Sequence[tuple[Any, int]]) -> None:
    """Fill each writable buffer of ``copies`` (``(buffer, remote address)``) from process ``pid``, in threads.

    The copy releases the GIL (ctypes does), so large ones are split into pieces that run side by side.
    """
    pieces = []
    for dest, remote in copies:
        nbytes = len(dest)
        parts = max(1, min(_THREADS, nbytes // _PIECE))
        step = -(-nbytes // parts)
        step += -step % 4096  # pieces end on page boundaries
        for start in range(0, nbytes, step):
            pieces.append((dest, start, remote + start, min(step, nbytes - start)))
    # Every piece must have finished before the caller may reuse the buffers or ack the sender.
    results = await asyncio.gather(*(asyncio.to_thread(_read, pid, *piece) for piece in pieces),
                                   return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result

"""Comms: serialization, framing, TCP and in-process channels, the connection pool."""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct

import numpy as np
import pandas as pd
import pytest

from shoal._exceptions import SerializationError
from shoal.distributed._exceptions import CommClosedError, FrameError, SchedulerUnreachableError
from shoal.distributed.comm import ConnectionPool, connect, dumps, listen, loads, new_inproc_address
from shoal.distributed.comm.framing import FrameAssembler, frame_prefix


def run(coro, timeout=20):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Unpicklable:
    def __reduce__(self):
        raise TypeError("no pickling for you")


# ----------------------------------------------------------------- serialization

def test_round_trip_keeps_tuples_and_nested_structures():
    msg = {"op": "x", "keys": [("a", 0, 1), "b", 3], "nested": {"t": (1, (2, 3))}, "b": b"raw", "none": None}
    assert loads(dumps(msg)) == msg
    assert type(loads(dumps(msg))["keys"][0]) is tuple


def test_numpy_travels_out_of_band_without_copy():
    x = np.arange(1_000_000, dtype="f8")
    frames = dumps({"data": x})
    assert any(isinstance(f, memoryview) and f.nbytes == x.nbytes for f in frames)
    # Received frames are slices of one writable buffer, as the TCP comm delivers them.
    body = bytearray(b"".join(bytes(f) for f in frames))
    views, start = [], 0
    for f in frames:
        n = memoryview(f).nbytes
        views.append(memoryview(body)[start:start + n])
        start += n
    y = loads(views)["data"]
    np.testing.assert_array_equal(x, y)
    assert y.flags.writeable
    y[0] = 42.0  # writes into the receive buffer: no copy was made
    (data_view,) = [v for v in views if v.nbytes == x.nbytes]
    assert np.frombuffer(data_view, dtype="f8")[0] == 42.0


def test_pandas_and_functions_round_trip():
    df = pd.DataFrame({"a": np.arange(5), "b": list("abcde")})
    out = loads(dumps({"df": df, "f": lambda x: x * 2}))
    pd.testing.assert_frame_equal(out["df"], df)
    assert out["f"](4) == 8


def test_unpicklable_object_raises_serialization_error():
    with pytest.raises(SerializationError, match="Could not serialize Unpicklable"):
        dumps({"x": Unpicklable()})


def test_serialization_error_pickles():
    exc = SerializationError("boom")
    assert str(pickle.loads(pickle.dumps(exc))) == "boom"


# ----------------------------------------------------------------- framing

def test_assembler_handles_split_and_joined_messages():
    a = FrameAssembler(1000)
    wire = b""
    for frames in ([b"a", b"bc"], [], [b""], [b"xyz"]):
        wire += frame_prefix(frames) + b"".join(frames)
    pos = 0
    while pos < len(wire):
        buf = a.get_buffer()
        n = min(len(buf), 3, len(wire) - pos)
        buf[:n] = wire[pos:pos + n]
        a.buffer_updated(n)
        pos += n
    assert [[bytes(f) for f in m] for m in a.messages] == [[b"a", b"bc"], [], [b""], [b"xyz"]]


def test_assembler_refuses_oversized_and_corrupt():
    a = FrameAssembler(10)
    wire = frame_prefix([b"x" * 11])
    with pytest.raises(FrameError, match="over the limit"):
        for byte in wire:
            a.get_buffer()[0] = byte
            a.buffer_updated(1)
    b = FrameAssembler(10)
    b.get_buffer()[:8] = struct.pack("<Q", 1 << 40)
    with pytest.raises(FrameError, match="not speaking shoal's protocol"):
        b.buffer_updated(8)


# ----------------------------------------------------------------- channels

async def _echo_server(address):
    async def handler(comm):
        try:
            while True:
                msg = await comm.read()
                await comm.write(msg)
        except CommClosedError:
            pass

    return await listen(address, handler)


@pytest.mark.parametrize("scheme", ["tcp", "inproc"])
def test_echo(scheme):
    async def main():
        listener = await _echo_server("tcp://127.0.0.1:0" if scheme == "tcp" else new_inproc_address())
        assert listener.address.startswith(scheme + "://")
        comm = await connect(listener.address, timeout=5)
        x = np.arange(10)
        for i in range(5):
            await comm.write({"i": i, "x": x, "key": ("k", i)})
        for i in range(5):
            got = await comm.read()
            assert got["i"] == i and got["key"] == ("k", i)
            np.testing.assert_array_equal(got["x"], x)
        await comm.close()
        assert comm.closed()
        with pytest.raises(CommClosedError):
            await comm.read()
        listener.stop()

    run(main())


@pytest.mark.parametrize("scheme", ["tcp", "inproc"])
def test_peer_close_wakes_reader(scheme):
    async def main():
        accepted = asyncio.Queue()

        async def handler(comm):
            await accepted.put(comm)

        listener = await listen("tcp://127.0.0.1:0" if scheme == "tcp" else new_inproc_address(), handler)
        comm = await connect(listener.address)
        server_end = await accepted.get()
        reader = asyncio.ensure_future(comm.read())
        await asyncio.sleep(0)
        await server_end.close()
        with pytest.raises(CommClosedError):
            await reader
        await comm.close()
        listener.stop()

    run(main())


def test_large_array_over_tcp():
    async def main():
        listener = await _echo_server("tcp://127.0.0.1:0")
        comm = await connect(listener.address)
        x = np.random.default_rng(0).random(4_000_000)
        await comm.write(x)
        y = await comm.read()
        np.testing.assert_array_equal(x, y)
        await comm.close()
        listener.stop()

    run(main())


def test_oversized_message_closes_only_that_comm():
    async def main():
        errors = []

        async def handler(comm):
            try:
                while True:
                    await comm.write(await comm.read())
            except FrameError as exc:
                errors.append(exc)
            except CommClosedError:
                pass

        listener = await listen("tcp://127.0.0.1:0", handler, max_message_size=1000)
        big = await connect(listener.address)
        small = await connect(listener.address)
        await big.write(b"x" * 5000)
        with pytest.raises(CommClosedError):
            await big.read()
        await small.write("still fine")
        assert await small.read() == "still fine"
        assert errors and "over the limit" in str(errors[0])
        await big.close()
        await small.close()
        listener.stop()

    run(main())


def test_garbage_on_the_wire_closes_that_comm():
    async def main():
        errors = []

        async def handler(comm):
            try:
                await comm.read()
            except FrameError as exc:
                errors.append(exc)

        listener = await listen("tcp://127.0.0.1:0", handler)
        host, port = listener.address[len("tcp://"):].split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        # A valid prefix whose body is not msgpack.
        writer.write(frame_prefix([b"\xc1\xc1\xc1"]) + b"\xc1\xc1\xc1")
        await writer.drain()
        assert await reader.read() == b""  # the server closed it
        writer.close()
        await writer.wait_closed()
        assert errors and "Could not decode" in str(errors[0])
        listener.stop()

    run(main())


def test_unserializable_write_leaves_comm_usable():
    async def main():
        listener = await _echo_server("tcp://127.0.0.1:0")
        comm = await connect(listener.address)
        with pytest.raises(SerializationError):
            await comm.write({"x": Unpicklable()})
        await comm.write("ok")
        assert await comm.read() == "ok"
        await comm.close()
        listener.stop()

    run(main())


def test_connect_times_out_with_clear_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now

    async def main():
        with pytest.raises(SchedulerUnreachableError, match="Could not connect"):
            await connect(f"tcp://127.0.0.1:{port}", timeout=0.3)

    run(main())


def test_unknown_scheme():
    with pytest.raises(ValueError, match="Unknown comm scheme"):
        run(connect("udp://x:1", timeout=0.1))


def test_connection_pool_reuses_and_raises_remote_errors():
    async def main():
        opened = []

        async def handler(comm):
            opened.append(comm)
            try:
                while True:
                    msg = await comm.read()
                    if msg["op"] == "fail":
                        await comm.write({"status": "error", "exception": ZeroDivisionError("remote")})
                    else:
                        await comm.write({"status": "OK", "x": msg["x"] + 1})
            except CommClosedError:
                pass

        listener = await listen("tcp://127.0.0.1:0", handler)
        pool = ConnectionPool()
        for i in range(3):
            assert (await pool.call(listener.address, {"op": "inc", "x": i}))["x"] == i + 1
        assert len(opened) == 1
        with pytest.raises(ZeroDivisionError, match="remote"):
            await pool.call(listener.address, {"op": "fail"})
        await pool.close()
        listener.stop()

    run(main())

"""Large messages between processes of one machine: copied out of the sender, or over TCP when declined."""

from __future__ import annotations

import asyncio
import multiprocessing

import numpy as np
import pytest

from shoal import config
from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm import connect, listen, same_host
from shoal.distributed.comm.framing import ACK, REMOTE, FrameAssembler, RemoteOffer, frame_prefix

pytestmark = pytest.mark.skipif(not same_host.enabled(), reason="process_vm_readv is not available here")

BIG = 3 * same_host.MIN_BYTES // 8 * 8  # bytes of one large array (over the threshold)


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def big_array(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(BIG // 8)


async def echo_pair(handler):
    """A listener on 127.0.0.1 running ``handler(comm)``, and a client comm connected to it."""
    listener = await listen("tcp://127.0.0.1:0", handler)
    comm = await connect(listener.address)
    return listener, comm


def test_large_message_is_copied_once_and_arrives_whole_and_in_order():
    x = big_array(0)

    async def main():
        async def handler(comm):
            while True:
                try:
                    msg = await comm.read()
                except CommClosedError:
                    return
                await comm.write(msg)

        listener, comm = await echo_pair(handler)
        before = dict(same_host.stats)
        await comm.write({"x": x, "small": np.arange(10), "tag": 1})
        await comm.write({"tag": 2})  # queued behind the offer: must come second
        first, second = await comm.read(), await comm.read()
        await comm.close()
        listener.stop()
        return before, first, second

    before, first, second = run(main())
    np.testing.assert_array_equal(first["x"], x)
    np.testing.assert_array_equal(first["small"], np.arange(10))
    assert (first["tag"], second["tag"]) == (1, 2)
    assert first["x"].flags.writeable  # lands in receive memory of its own, as over TCP
    # Both directions (the request and the echo) took the same-host path.
    assert same_host.stats["received"] - before["received"] == 2
    assert same_host.stats["declined"] == before["declined"]


def test_declined_offer_falls_back_to_tcp_for_good(monkeypatch):
    x = big_array(1)

    def refuse(*args):
        raise PermissionError(1, "Operation not permitted (as under a strict ptrace policy)")

    monkeypatch.setattr(same_host, "_read", refuse)

    async def main():
        got = []

        async def handler(comm):
            for _ in range(3):
                got.append(await comm.read())

        listener, comm = await echo_pair(handler)
        before = dict(same_host.stats)
        await comm.write({"x": x, "n": 1})
        await comm.write({"n": 2})
        await comm.write({"x": x[::-1].copy(), "n": 3})  # after a refusal, straight over TCP: no second offer
        for _ in range(200):
            if len(got) == 3:
                break
            await asyncio.sleep(0.05)
        await comm.close()
        listener.stop()
        return before, got

    before, got = run(main())
    assert [m["n"] for m in got] == [1, 2, 3]
    np.testing.assert_array_equal(got[0]["x"], x)
    np.testing.assert_array_equal(got[2]["x"], x[::-1])
    assert same_host.stats["declined"] - before["declined"] == 1
    assert same_host.stats["received"] == before["received"]


def test_offer_from_another_host_is_declined():
    # The token differs: process ids there mean other processes, so the receiver must not read them.
    offer = bytearray(same_host.encode_offer([(0, 1234, 4096)]))
    offer[8:24] = bytes(range(16))
    assert same_host.decode_offer(offer) is None
    pid, entries = same_host.decode_offer(same_host.encode_offer([(0, 1234, 4096)]))
    assert entries == [(0, 1234, 4096)]


def test_control_frames_are_kept_out_of_the_messages():
    a = FrameAssembler(max_message_size=1 << 20)
    wire = (frame_prefix([b"\x01"], kind=ACK) + b"\x01" + frame_prefix([b"hi"]) + b"hi"
            + frame_prefix([b"", b"desc"], kind=REMOTE) + b"desc" + frame_prefix([b"\x00"], kind=ACK) + b"\x00")
    view = memoryview(wire)
    while view:
        buf = a.get_buffer()
        n = min(len(buf), len(view))
        buf[:n] = view[:n]
        view = view[n:]
        a.buffer_updated(n)
    assert a.acks == [True, False]
    assert [bytes(f) for f in a.messages[0]] == [b"hi"]
    assert type(a.messages[1]) is RemoteOffer and [bytes(f) for f in a.messages[1]] == [b"", b"desc"]


def test_simultaneous_large_writes_both_ways_do_not_deadlock():
    x, y = big_array(2), big_array(3)

    async def main():
        server_got = asyncio.get_running_loop().create_future()

        async def handler(comm):
            # Reader and writer run at once on each end, as in a worker's connection.
            reader = asyncio.ensure_future(comm.read())
            await comm.write({"y": y})
            server_got.set_result(await reader)

        listener, comm = await echo_pair(handler)
        reader = asyncio.ensure_future(comm.read())
        await comm.write({"x": x})
        client_got = await reader
        got = await server_got
        await comm.close()
        listener.stop()
        return client_got, got

    client_got, server_got = run(main())
    np.testing.assert_array_equal(client_got["y"], y)
    np.testing.assert_array_equal(server_got["x"], x)


def test_switched_off_by_config_uses_tcp():
    x = big_array(4)

    async def main():
        got = asyncio.get_running_loop().create_future()

        async def handler(comm):
            got.set_result(await comm.read())

        with config.set({"distributed.comm.same-host-copy": False}):
            listener, comm = await echo_pair(handler)
            before = dict(same_host.stats)
            await comm.write({"x": x})
            msg = await got
        await comm.close()
        listener.stop()
        return before, msg

    before, msg = run(main())
    np.testing.assert_array_equal(msg["x"], x)
    assert same_host.stats == before


def _serve_one(address_queue, seed):
    """In a child process: accept one connection, send one large array, wait for the peer to hang up."""
    async def main():
        done = asyncio.get_running_loop().create_future()

        async def handler(comm):
            await comm.write({"x": big_array(seed), "pid": multiprocessing.current_process().pid})
            try:
                await comm.read()
            except CommClosedError:
                pass
            done.set_result(None)

        listener = await listen("tcp://127.0.0.1:0", handler)
        address_queue.put(listener.address)
        await asyncio.wait_for(done, 60)
        listener.stop()

    asyncio.run(main())


@pytest.mark.skipif(not same_host.can_read_other_processes(),
                    reason="this platform forbids reading another process's memory (comms use TCP there)")
def test_copy_between_two_processes():
    ctx = multiprocessing.get_context("spawn")
    addresses = ctx.Queue()
    child = ctx.Process(target=_serve_one, args=(addresses, 5), daemon=True)
    child.start()
    try:
        address = addresses.get(timeout=60)

        async def main():
            comm = await connect(address)
            before = dict(same_host.stats)
            msg = await comm.read()
            await comm.close()
            return before, msg

        before, msg = run(main(), timeout=60)
        assert msg["pid"] == child.pid
        np.testing.assert_array_equal(msg["x"], big_array(5))
        assert same_host.stats["received"] - before["received"] == 1
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            child.join(timeout=10)

"""Receive buffers: the pool recycles memory once its users are gone, and messages free their buffers promptly."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref

import numpy as np
import pytest

from shoal.distributed.comm import buffers, connect, dumps, listen, loads
from shoal.distributed.comm.buffers import LARGE, BufferPool, allocate

MB = 2**20


def run(coro, timeout=20):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.fixture
def installed_pool():
    previous = buffers.pool()
    pool = buffers.install_pool(256 * MB, max_idle=60)
    try:
        yield pool
    finally:
        buffers._pool = previous


def test_allocate_sizes_and_writability():
    for n in (0, 10, LARGE - 1, LARGE, 3 * LARGE + 5):
        buf = allocate(n)
        view = memoryview(buf).cast("B")
        assert view.nbytes == n and not view.readonly
        if n:
            view[-1] = 7
            assert view[-1] == 7


def test_pool_reuses_a_block_only_after_its_last_user_is_gone(no_gc):
    pool = BufferPool(max_bytes=64 * MB)
    body = pool.take(8 * MB)
    arr = np.frombuffer(memoryview(body)[MB:2 * MB], dtype="u1")  # a user array still pointing into it
    del body
    assert pool.free_bytes == 0
    other = pool.take(8 * MB)  # the first block is still in use: fresh memory
    assert pool.fresh == 2 and pool.reused == 0
    del arr, other
    assert pool.free_bytes == 16 * MB
    again = pool.take(8 * MB)
    assert pool.reused == 1 and len(again) == 8 * MB and again.flags.writeable


def test_pool_picks_the_smallest_fitting_block_and_leaves_far_larger_ones(no_gc):
    pool = BufferPool(max_bytes=512 * MB)
    blocks = [pool.take(n) for n in (4 * MB, 6 * MB, 100 * MB)]
    del blocks
    assert pool.free_bytes == 110 * MB
    got = pool.take(5 * MB)  # fits the 6 MB block, not the 100 MB one
    assert len(got) == 5 * MB and pool.free_bytes == 104 * MB
    tiny = pool.take(2 * MB)  # 4 MB block fits within the slack
    assert pool.free_bytes == 100 * MB
    del got, tiny
    small = pool.take(2 * MB)
    assert pool.free_bytes == 106 * MB  # the 4 MB block again, never the 100 MB one
    del small


def test_pool_keeps_at_most_max_bytes_and_trims_idle_blocks(no_gc):
    pool = BufferPool(max_bytes=10 * MB, max_idle=0.05)
    a, b = pool.take(6 * MB), pool.take(6 * MB)
    del a, b
    assert pool.free_bytes == 6 * MB  # the second block would pass max_bytes: released
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and pool.trim() == 0:
        time.sleep(0.02)
    assert pool.free_bytes == 0
    c = pool.take(MB * 2)
    del c
    assert pool.trim(everything=True) == 2 * MB and pool.free_bytes == 0


def test_pool_returns_blocks_freed_on_other_threads(no_gc):
    pool = BufferPool(max_bytes=256 * MB)
    holders = [pool.take(2 * MB) for _ in range(16)]

    def drop(i: int) -> None:
        holders[i] = None

    threads = [threading.Thread(target=drop, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert pool.free_bytes == 32 * MB
    again = [pool.take(2 * MB) for _ in range(16)]
    assert pool.reused == 16 and pool.free_bytes == 0
    del again


def test_loads_frees_the_received_buffer_without_the_cyclic_collector(no_gc):
    x = np.arange(300_000, dtype="f8")
    frames = dumps({"data": x, "nested": ("a", ("b", 1))})
    body = np.frombuffer(b"".join(bytes(f) for f in frames), dtype="u1").copy()
    alive = weakref.ref(body)  # ndarrays support weak references; bytearrays don't
    views, start = [], 0
    for f in frames:
        n = memoryview(f).nbytes
        views.append(memoryview(body)[start:start + n])
        start += n
    del body, frames
    out = loads(views)
    np.testing.assert_array_equal(out["data"], x)
    assert out["nested"] == ("a", ("b", 1))
    del views
    assert alive() is not None  # the loaded array still uses the buffer
    del out
    assert alive() is None


def test_dumps_keeps_no_reference_cycle(no_gc):
    x = np.arange(100_000, dtype="f8")
    alive = weakref.ref(x)
    frames = dumps({"k": (1, (x,))})
    del frames, x
    assert alive() is None


def test_large_messages_over_tcp_reuse_pooled_memory(installed_pool, no_gc):
    n = 4 * MB

    async def main() -> list[float]:
        got: asyncio.Queue = asyncio.Queue()

        async def handler(comm):
            while True:
                try:
                    msg = await comm.read()
                except Exception:  # noqa: BLE001 - the client closed
                    return
                arr = msg["x"]
                assert arr.flags.writeable
                arr[0] += 1  # the receive buffer belongs to us
                total = float(arr[0]) + float(arr[-1])
                del msg, arr  # let go before the next message arrives, as a worker releasing a key does
                await got.put(total)

        listener = await listen("tcp://127.0.0.1:0", handler)
        comm = await connect(listener.address)
        sums = []
        for i in range(4):
            await comm.write({"x": np.full(n // 8, float(i))})
            sums.append(await asyncio.wait_for(got.get(), 10))
        await comm.close()
        listener.stop()
        return sums

    assert run(main()) == [1.0, 3.0, 5.0, 7.0]
    assert installed_pool.reused >= 3 and installed_pool.fresh == 1


@pytest.mark.parametrize("sizes", [
    [5, 2 * MB + 3, 0, 8 * 1000, MB + 1],  # a large body: every frame starts on an aligned offset
    [3, 800, 0, 1601],                      # a small body: misaligned frames are copied
    [0, 0, 0],
    [2 * MB, 0, 0],
])
@pytest.mark.parametrize("step", [1 << 20, 7919])
def test_assembler_delivers_aligned_frames(sizes, step):
    from shoal.distributed.comm.framing import ALIGNMENT, FrameAssembler, frame_prefix

    rng = np.random.default_rng(len(sizes))
    frames = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes]
    wire = frame_prefix(frames) + b"".join(frames)
    wire = wire + wire  # two messages back to back
    assembler = FrameAssembler(max_message_size=1 << 30)
    position = 0
    while position < len(wire):
        buf = assembler.get_buffer()
        assert len(buf) > 0, "the assembler asked for an empty read"
        n = min(len(buf), step, len(wire) - position)
        buf[:n] = wire[position:position + n]
        assembler.buffer_updated(n)
        position += n
    assert len(assembler.messages) == 2
    for message in assembler.messages:
        assert [bytes(f) for f in message] == frames
        for frame in message:
            if frame.nbytes >= 16:
                address = np.frombuffer(frame, dtype=np.uint8).ctypes.data
                assert address % (ALIGNMENT if sum(sizes) >= MB else 16) == 0


def test_arrays_arrive_aligned_and_sum_as_the_senders(installed_pool):
    x = np.random.default_rng(5).random(MB // 8 * 3 + 1)

    async def main() -> tuple[bool, float]:
        got: asyncio.Queue = asyncio.Queue()

        async def handler(comm):
            msg = await comm.read()
            await got.put((msg["x"].flags.aligned and msg["x"].ctypes.data % 64 == 0, float(msg["x"].sum())))

        listener = await listen("tcp://127.0.0.1:0", handler)
        comm = await connect(listener.address)
        await comm.write({"pad": b"123", "x": x})
        result = await asyncio.wait_for(got.get(), 10)
        await comm.close()
        listener.stop()
        return result

    aligned, total = run(main())
    assert aligned and total == float(x.sum())

"""shoal.distributed against dask.distributed on a LocalCluster of 2 worker processes x 1 thread.

Cases (issue 6):

- ``client.map(inc, range(20000))`` then ``client.gather``: tasks per second;
- a 50,000-task graph (25,000 ``inc`` and a binary tree of ``add``) built with
  ``delayed`` and run through ``client.compute``: tasks per second;
- the median round trip of ``client.submit(inc, i, pure=False).result()``;
- moving a 500 MB NumPy array from one worker to another (``SHOAL_BENCH_SCALE``
  scales the size), against the loopback TCP bandwidth of plain blocking
  sockets measured in the same run; the target is at least 80% of loopback.
  Loopback streams one 8 MB buffer that stays in the CPU cache; a second
  reference streams the same number of bytes from one large array into
  another (both in DRAM, as a real transfer must), which is the floor any
  TCP transfer of that array can reach.
  Workers on one machine copy large messages straight out of the sender's
  memory (``distributed.comm.same-host-copy``, see
  ``shoal/distributed/comm/same_host.py``); a second shoal cluster with that
  setting off shows what TCP alone does, as between machines.

Dask/distributed runs the same code in the same process when it is importable.
Bandwidths are the best of ``TRANSFER_REPEAT`` runs (for shoal, Dask and the
loopback alike): on a shared machine the best run is the least disturbed one.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time
from operator import add
from typing import Any

from common import optional, report

N_MAP = 20_000
N_LEAVES = 25_000
N_ROUND_TRIPS = 300
SCALE = float(os.environ.get("SHOAL_BENCH_SCALE", "1"))
TRANSFER_BYTES = max(8, int(500 * 2**20 * SCALE) // 8 * 8)
TRANSFER_REPEAT = 5


def inc(x: int) -> int:
    return x + 1


def make_array(nbytes: int) -> Any:
    """Random floats: incompressible, so a comm compressing frames ("auto") cannot shortcut the move."""
    import numpy as np

    return np.random.default_rng(0).random(nbytes // 8)


def nbytes_of(x: Any) -> int:
    return int(x.nbytes)


def map_rate(client: Any) -> float:
    start = time.perf_counter()
    futures = client.map(inc, range(N_MAP))
    results = client.gather(futures)
    took = time.perf_counter() - start
    assert results[-1] == N_MAP
    del futures
    time.sleep(0.5)  # let the releases drain before the next case
    return N_MAP / took


def tree(delayed: Any) -> tuple[Any, int]:
    level = [delayed(inc)(i) for i in range(N_LEAVES)]
    ntasks = len(level)
    while len(level) > 1:
        level = [delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
        ntasks += len(level) - (1 if len(level) % 2 else 0)
    return level[0], ntasks


def graph_rate(client: Any, delayed: Any) -> float:
    total, _ = tree(delayed)
    ntasks = len(dict(total.__dask_graph__()))
    start = time.perf_counter()
    result = client.compute(total).result()
    took = time.perf_counter() - start
    assert result == sum(range(1, N_LEAVES + 1))
    time.sleep(0.5)
    return ntasks / took


def round_trip_ms(client: Any) -> float:
    times = []
    for i in range(N_ROUND_TRIPS):
        start = time.perf_counter()
        client.submit(inc, i, pure=False).result()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def transfer_once(client: Any, source_worker: str, target_worker: str) -> float:
    """Seconds to move a fresh ``TRANSFER_BYTES`` array from one worker to a task on another."""
    source = client.submit(make_array, TRANSFER_BYTES, workers=[source_worker], pure=False)
    client.gather(client.submit(nbytes_of, source, workers=[source_worker], pure=False))
    start = time.perf_counter()
    moved = client.submit(nbytes_of, source, workers=[target_worker], pure=False).result()
    took = time.perf_counter() - start
    assert moved == TRANSFER_BYTES
    del source
    time.sleep(0.2)  # let both copies be freed before the next run
    return took


def transfer_mb_s(client: Any) -> float:
    workers = sorted(client.scheduler_info()["workers"])
    took = min(transfer_once(client, workers[0], workers[1]) for _ in range(TRANSFER_REPEAT))
    return TRANSFER_BYTES / 2**20 / took


def _loopback_once(whole: bool = False) -> float:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    chunk = TRANSFER_BYTES if whole else 8 * 2**20
    payload = memoryview(bytearray(chunk))
    target = memoryview(bytearray(chunk))  # allocated (and its pages touched) before the clock starts

    def sink() -> None:
        conn, _ = server.accept()
        got = 0
        while got < TRANSFER_BYTES:
            n = conn.recv_into(target[got % chunk:])
            if not n:
                break
            got += n
        conn.sendall(b"x")
        conn.close()

    thread = threading.Thread(target=sink)
    thread.start()
    sock = socket.create_connection(("127.0.0.1", port))
    start = time.perf_counter()
    sent = 0
    while sent < TRANSFER_BYTES:
        n = min(chunk, TRANSFER_BYTES - sent)  # exactly TRANSFER_BYTES: the sink stops reading there
        sock.sendall(payload[:n])
        sent += n
    sock.recv(1)
    took = time.perf_counter() - start
    sock.close()
    thread.join()
    server.close()
    return took


def loopback_mb_s(whole: bool = False) -> float:
    """Plain blocking-socket bandwidth on 127.0.0.1 for the same number of bytes (best of the repeats).

    ``whole=True`` sends one array of all the bytes into a buffer as large (DRAM to DRAM), instead of
    re-sending an 8 MB buffer into another 8 MB buffer (cache to cache).
    """
    return TRANSFER_BYTES / 2**20 / min(_loopback_once(whole) for _ in range(TRANSFER_REPEAT))


def tcp_only_transfer_mb_s() -> float:
    """The transfer on a fresh shoal cluster whose workers send everything over TCP (as between machines)."""
    from shoal.distributed import Client, LocalCluster

    variable = "SHOAL_DISTRIBUTED__COMM__SAME_HOST_COPY"  # read by the worker processes at start
    os.environ[variable] = "False"
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster, set_as_default=False) as client:
            client.submit(inc, 0).result()
            return transfer_mb_s(client)
    finally:
        del os.environ[variable]


def run_cases(client: Any, delayed: Any) -> dict[str, float]:
    client.submit(inc, 0).result()  # warm up: workers import and connect
    return {
        "map": map_rate(client),
        "graph": graph_rate(client, delayed),
        "round_trip": round_trip_ms(client),
        "transfer": transfer_mb_s(client),
    }


def main() -> None:
    import shoal
    from shoal.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            Client(cluster, set_as_default=False) as client:
        ours = run_cases(client, shoal.delayed)
    tcp_only = tcp_only_transfer_mb_s()
    theirs: dict[str, float | None] = dict.fromkeys(ours)
    distributed = optional("distributed")
    dask = optional("dask")
    if distributed is not None and dask is not None:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster, set_as_default=False) as client:
            theirs = run_cases(client, dask.delayed)  # type: ignore[assignment]
    loopback = loopback_mb_s()
    whole = loopback_mb_s(whole=True)
    size = f"{TRANSFER_BYTES / 2**20:.0f} MB"
    report("distributed: LocalCluster 2 processes x 1 thread", [
        (f"client.map(inc, range({N_MAP:,})) + gather", ours["map"], theirs["map"], "tasks/s"),
        (f"{N_LEAVES * 2 - 1:,}-task graph via client.compute", ours["graph"], theirs["graph"], "tasks/s"),
        ("median submit().result() round trip", ours["round_trip"], theirs["round_trip"], "ms"),
        (f"move {size} array between workers", ours["transfer"], theirs["transfer"], "MB/s"),
        (f"move {size} array, shoal over TCP only", tcp_only, theirs["transfer"], "MB/s"),
        ("loopback TCP bandwidth (same run)", loopback, None, "MB/s"),
        (f"loopback TCP, one {size} array into another", whole, None, "MB/s"),
    ])
    dask_ratio = f", dask {theirs['transfer'] / loopback:.0%}" if theirs["transfer"] else ""
    print(f"  transfer of {size} vs loopback TCP: shoal {ours['transfer'] / loopback:.0%}{dask_ratio} "
          f"(target: shoal >= 80%); shoal over TCP only {tcp_only / loopback:.0%}")
    whole_ratio = f", dask {theirs['transfer'] / whole:.0%}" if theirs["transfer"] else ""
    print(f"  transfer of {size} vs the same array over plain sockets: shoal {ours['transfer'] / whole:.0%}"
          f"{whole_ratio}")


if __name__ == "__main__":
    main()

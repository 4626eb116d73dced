"""shoal.array against Dask: reductions on a persisted array, matmul, and a larger-than-memory sum.

Cases (issue 3), on ``x = random((20000, 20000), chunks=(2000, 2000))``
(3.2 GB, persisted in memory first):

- ``(x + x.T).mean(axis=0)``, ``x.sum()``, ``x.std(axis=1)``: seconds, best
  of three, shoal and Dask each on its own copy of the same data;
- the memory-bandwidth floor: a NumPy copy (``np.copyto``) of as many bytes
  as ``x`` holds, in GB/s, and ``x.sum()``'s time over the copy's;
- ``x @ y`` for 6000 x 6000 arrays chunked 1500, against one NumPy ``@``
  (NumPy, shoal and Dask runs interleaved, best of ``SHOAL_BENCH_ROUNDS``,
  default 3; the load average is printed with the figures);
- larger than memory: ``random((40000, 40000), chunks=(2000, 2000)).sum()``
  (12.8 GB generated block by block, never persisted): seconds and peak
  resident memory, sampled every 20 ms, each library in a fresh subprocess
  so that the two peaks are independent.

``SHOAL_BENCH_SCALE`` scales the bytes of every case (0.25: a quarter,
for a quick run); block shapes stay the same. ``SHOAL_BENCH_CASES`` picks a
comma-separated subset of ``persisted,matmul,memory`` (e.g. ``matmul`` alone).
When ``shoal.array.random`` has no ``random`` yet, both libraries build ``x``
from the same per-block generator (``np.random.default_rng(seed).random``)
with ``blockwise``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
from common import best_of, optional, report

SCALE = float(os.environ.get("SHOAL_BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "3"))
#: Which cases run: a comma-separated subset of "persisted,matmul,memory" (all by default).
CASES = set(os.environ.get("SHOAL_BENCH_CASES", "persisted,matmul,memory").replace(" ", "").split(","))
CHUNK = 2000


def _side(full: int, chunk: int) -> int:
    """``full`` scaled so that the bytes scale by SCALE, kept a multiple of ``chunk``."""
    return max(chunk, round(full * math.sqrt(SCALE) / chunk) * chunk)


def _block(seed: int, shape: tuple[int, int]) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


class _Generator:
    """Block ``(i, j)`` of a random array: the same function for shoal and Dask."""

    def __init__(self, nblocks: int, chunk: int) -> None:
        self.nblocks, self.chunk = nblocks, chunk

    def __call__(self, block_id: tuple[int, int] | None = None, **_: Any) -> np.ndarray:
        i, j = block_id or (0, 0)
        return _block(i * self.nblocks + j, (self.chunk, self.chunk))


def random_array(lib: str, side: int, chunk: int) -> Any:
    """``random((side, side), chunks=chunk)`` with ``lib`` ("shoal" or "dask")."""
    nblocks = side // chunk
    if lib == "shoal":
        import shoal.array as sa

        if hasattr(sa.random, "random"):
            return sa.random.random((side, side), chunks=(chunk, chunk))
        from shoal.array._blockwise import blockwise

        return blockwise(_Generator(nblocks, chunk), "ij", new_axes={"i": (chunk,) * nblocks, "j": (chunk,) * nblocks},
                         dtype="f8", block_kwargs=lambda index: {"block_id": index}, name=f"random-{side}-{chunk}")
    import dask.array as da

    if _shoal_has_random():
        return da.random.random((side, side), chunks=(chunk, chunk))
    return da.map_blocks(_Generator(nblocks, chunk), dtype="f8", chunks=((chunk,) * nblocks, (chunk,) * nblocks),
                         meta=np.empty((0, 0)), name=f"random-{side}-{chunk}")


def _shoal_has_random() -> bool:
    import shoal.array as sa

    return hasattr(sa.random, "random")


def transpose(x: Any) -> Any:
    if hasattr(x, "T"):
        return x.T
    from shoal.array._blockwise import blockwise  # until the shape family brings .T

    return blockwise(np.transpose, "ji", x, "ij", dtype=x.dtype)


def expressions(x: Any) -> dict[str, Any]:
    return {"(x + x.T).mean(axis=0)": lambda: (x + transpose(x)).mean(axis=0).compute(),
            "x.sum()": lambda: x.sum().compute(),
            "x.std(axis=1)": lambda: x.std(axis=1).compute()}


def time_persisted(lib: str, side: int) -> dict[str, float]:
    x = random_array(lib, side, CHUNK).persist()
    out = {name: best_of(fn, 3) * 1e3 for name, fn in expressions(x).items()}
    del x
    return out


def bandwidth_floor(nbytes: int) -> float:
    """Seconds of the fastest of three ``np.copyto`` of ``nbytes`` (pages touched beforehand)."""
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    return best_of(lambda: np.copyto(dst, src), 3)


def time_matmuls(libs: list[str], side: int, chunk: int) -> dict[str, float]:
    """Best-of-ROUNDS seconds of ``x @ y`` per library ("numpy": one ``a @ b``), runs interleaved.

    The machine may be shared: one round runs every library once, so a burst of
    outside load hits all of them rather than one; the best round of each is kept.
    """
    rng = np.random.default_rng(0)
    a, b = rng.random((side, side)), rng.random((side, side))
    expected = (a @ b)[:3, :3]
    runs: dict[str, Any] = {"numpy": lambda: a @ b}
    for lib in libs:
        if lib == "numpy":
            continue
        if lib == "shoal":
            import shoal.array as mod
        else:
            import dask.array as mod  # type: ignore[no-redef]
        x = mod.from_array(a, chunks=chunk).persist()
        y = mod.from_array(b, chunks=chunk).persist()
        try:
            product = x @ y
            np.testing.assert_allclose(product.compute()[:3, :3], expected)
        except (TypeError, NotImplementedError, AttributeError) as exc:
            print(f"  note: {lib} x @ y is not available yet ({type(exc).__name__}: {exc}); matmul skipped")
            continue
        runs[lib] = product.compute
    times: dict[str, list[float]] = {lib: [] for lib in runs}
    for _ in range(ROUNDS):
        for lib, fn in runs.items():
            times[lib].append(best_of(fn, 1))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"  matmul {side}x{side} chunks {chunk}, load average {load}: "
          + "; ".join(f"{lib} " + " ".join(f"{t:.2f}" for t in ts) for lib, ts in times.items()))
    return {lib: min(ts) for lib, ts in times.items()}


# -- larger than memory, one library per process --------------------------------------------------------------
def _peak_rss_of(fn: Any) -> tuple[float, float, float]:
    """Run ``fn``; return (seconds, peak RSS in MB, RSS before in MB), RSS sampled every 20 ms."""
    import psutil

    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak[0] = max(peak[0], process.memory_info().rss)
    return seconds, peak[0] / 1e6, before / 1e6


def larger_than_memory_child(lib: str, side: int) -> None:
    x = random_array(lib, side, CHUNK)
    total = x.sum()
    seconds, peak, before = _peak_rss_of(lambda: total.compute())
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "before_mb": before}))


def larger_than_memory(lib: str, side: int) -> dict[str, float] | None:
    python = sys.executable
    done = subprocess.run([python, __file__, "--larger-than-memory", lib, str(side)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        print(f"  note: the {lib} larger-than-memory run failed:\n{done.stderr[-2000:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    side = _side(20_000, CHUNK)
    big = _side(40_000, CHUNK)
    mm = max(1500, round(6000 * math.sqrt(SCALE) / 1500) * 1500)
    dask = optional("dask.array")
    version = f"dask {optional('dask').__version__}" if dask is not None else "dask not installed"
    source = "shoal.array.random.random" if _shoal_has_random() else "a per-block default_rng generator"
    rows: list[tuple[str, float, float | None, str]] = []

    if "persisted" in CASES:
        nbytes = side * side * 8
        floor = bandwidth_floor(nbytes)
        ours = time_persisted("shoal", side)
        theirs = time_persisted("dask", side) if dask is not None else {}
        rows += [(name, ours[name], theirs.get(name), "ms") for name in ours]
        rows.append(("memory bandwidth floor (np.copyto)", nbytes / floor / 1e9, None, "GB/s"))
        rows.append(("x.sum() time / bandwidth floor", ours["x.sum()"] / 1e3 / floor,
                     theirs["x.sum()"] / 1e3 / floor if theirs else None, "x"))

    if "matmul" in CASES:
        best = time_matmuls(["numpy", "shoal"] + (["dask"] if dask is not None else []), mm, 1500)
        if "shoal" in best:
            theirs_mm = best.get("dask")
            rows.append((f"matmul {mm}x{mm} chunks 1500", best["shoal"], theirs_mm, "s"))
            rows.append(("matmul time / one NumPy @", best["shoal"] / best["numpy"],
                         theirs_mm / best["numpy"] if theirs_mm else None, "x"))

    if "memory" in CASES:
        big_ours = larger_than_memory("shoal", big)
        big_theirs = larger_than_memory("dask", big) if dask is not None else None
        if big_ours is not None:
            label = f"random(({big}, {big})).sum(), not persisted"
            rows.append((label + ": time", big_ours["seconds"], big_theirs["seconds"] if big_theirs else None, "s"))
            rows.append((label + ": peak RSS", big_ours["peak_mb"], big_theirs["peak_mb"] if big_theirs else None,
                         "MB"))
    report(f"shoal.array: x = random(({side}, {side}), chunks={CHUNK}) from {source}; {version}; "
           f"SHOAL_BENCH_SCALE={SCALE}", rows)

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--larger-than-memory":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        larger_than_memory_child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

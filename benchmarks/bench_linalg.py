"""shoal.array.linalg against Dask: the SVD of a tall-and-skinny array.

Case (issue 3): ``u, s, v = linalg.svd(x)`` of a ``(2,000,000 x 20)`` float64
array (320 MB) chunked by rows (blocks of 100,000 rows), persisted in memory
first; seconds to build the graph and compute all three factors, best of
three (in milliseconds), shoal and Dask each on its own copy of the same data. NumPy's
``np.linalg.svd(a, full_matrices=False)`` on the whole array is shown for
reference. ``SHOAL_BENCH_SCALE`` scales the number of rows (0.25: a quarter);
the block length stays the same.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from common import best_of, optional, report

SCALE = float(os.environ.get("SHOAL_BENCH_SCALE", "1"))
COLUMNS = 20
CHUNK_ROWS = 100_000


def _rows() -> int:
    return max(CHUNK_ROWS, round(2_000_000 * SCALE))


def time_svd(lib: str, a: np.ndarray) -> float:
    """Best of three: build ``svd`` of the persisted array and compute ``u, s, v``."""
    if lib == "shoal":
        import shoal as base
        import shoal.array as mod
    else:
        import dask as base  # type: ignore[no-redef]
        import dask.array as mod  # type: ignore[no-redef]
    x = mod.from_array(a, chunks=(CHUNK_ROWS, COLUMNS)).persist()

    def run() -> Any:
        return base.compute(*mod.linalg.svd(x))

    u, s, v = run()
    np.testing.assert_allclose(s, _expected_s(a), rtol=1e-8)
    np.testing.assert_allclose((u[:1000] * s) @ v, a[:1000], atol=1e-8)
    del u, s, v
    seconds = best_of(run, 3)
    return seconds


_S_CACHE: dict[int, np.ndarray] = {}


def _expected_s(a: np.ndarray) -> np.ndarray:
    """Singular values of ``a`` from NumPy (once per array)."""
    if id(a) not in _S_CACHE:
        _S_CACHE[id(a)] = np.linalg.svd(a, compute_uv=False)
    return _S_CACHE[id(a)]


def main() -> None:
    rows = _rows()
    a = np.random.default_rng(0).standard_normal((rows, COLUMNS))
    dask = optional("dask.array")
    version = f"dask {optional('dask').__version__}" if dask is not None else "dask not installed"
    numpy_seconds = best_of(lambda: np.linalg.svd(a, full_matrices=False), 3)
    ours = time_svd("shoal", a)
    theirs = time_svd("dask", a) if dask is not None else None
    rows_out: list[tuple[str, float, float | None, str]] = [
        (f"svd of ({rows:,} x {COLUMNS}), row chunks {CHUNK_ROWS:,}", ours * 1e3,
         theirs * 1e3 if theirs is not None else None, "ms"),
        ("svd time / one NumPy svd of the whole array", ours / numpy_seconds,
         theirs / numpy_seconds if theirs is not None else None, "x"),
    ]
    report(f"shoal.array.linalg: tall-and-skinny SVD (TSQR); {version}; SHOAL_BENCH_SCALE={SCALE}", rows_out)


if __name__ == "__main__":
    main()

"""BLAS runs one thread per worker thread during a multi-threaded computation, and is restored after."""

from __future__ import annotations

import pytest

import shoal

np = pytest.importorskip("numpy")
threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads(_: object = None) -> list[int]:
    return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def test_blas_is_limited_while_threads_compute_and_restored_after():
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library is loaded in this process")
    inside = shoal.delayed(_blas_threads)(1).compute(scheduler="threads", num_workers=2)
    assert inside and all(n == 1 for n in inside)
    assert _blas_threads() == before
    with shoal.config.set({"local.blas-threads": None}):
        assert shoal.delayed(_blas_threads)(2).compute(scheduler="threads", num_workers=2) == before

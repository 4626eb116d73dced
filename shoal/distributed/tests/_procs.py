"""Helpers for tests that run ``shoal scheduler`` / ``shoal worker`` as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def read_line(proc: subprocess.Popen, prefix: str, timeout: float = 30) -> str:
    """The rest of the first line of ``proc``'s output starting with ``prefix``; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line[len(prefix):].strip()
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"{prefix!r} not printed within {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM ``proc`` and return its exit status; SIGKILL it (and fail) if it does not exit in ``timeout`` s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


#: Set in a worker process by ``client.run(set_marker)``; a fresh process starts without it.
_MARKER: int | None = None


def set_marker() -> int:
    """Mark this process (run on workers with ``client.run``); returns its pid."""
    global _MARKER
    _MARKER = os.getpid()
    return _MARKER


def get_marker() -> int | None:
    """The pid stored by :func:`set_marker` in this process, or None in a fresh one."""
    return _MARKER


def wait_until(predicate, timeout: float = 30.0) -> None:
    """Poll ``predicate`` every 50 ms until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.05)

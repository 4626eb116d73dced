"""The background event loop that sync callers (Client, LocalCluster) run coroutines on.

One daemon thread per process runs an asyncio loop; the client, an
in-process scheduler and in-process workers all live on it, and
:func:`run_sync` hands coroutines to it from any other thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["get_loop", "in_loop_thread", "run_sync"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def get_loop() -> asyncio.AbstractEventLoop:
    """The shared background loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            _thread = threading.Thread(target=run, name="shoal-io-loop", daemon=True)
            _thread.start()
            ready.wait()
            _loop = loop
        return _loop


def in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the background loop and wait for its result."""
    if in_loop_thread():
        coro.close()
        raise RuntimeError(
            "A synchronous shoal.distributed call was made from the client's event-loop thread, where it would "
            "wait forever. Use the asynchronous API there (Client(asynchronous=True), await client.gather(...))."
        )
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    try:
        return future.result(timeout)
    except TimeoutError:
        future.cancel()
        raise

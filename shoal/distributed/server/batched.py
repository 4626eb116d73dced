"""A long-lived comm that sends messages in batches.

:meth:`BatchedStream.send` only appends to a buffer; the buffer goes out as
one list-message at the end of the current event-loop iteration (scheduled
with ``call_soon``), or, when the previous write was less than ``interval``
seconds ago, once that interval has passed. A lone message after a quiet
period therefore leaves at once, which keeps round trips short, while a
steady stream of messages (results of thousands of tiny tasks) is coalesced
into one frame per interval. Coalescing starts only after several writes
in a row came faster than the interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.core import Comm

__all__ = ["BatchedStream"]

logger = logging.getLogger("shoal.distributed")

#: Writes in a row that must come less than ``interval`` apart before coalescing starts (a request/response
#: ping-pong writes about once per round trip and is never delayed).
_BURST = 4


class BatchedStream:
    """Batches writes to ``comm``; see the module docstring."""

    def __init__(self, comm: Comm, interval: float = 0.0) -> None:
        self.comm = comm
        #: Minimum seconds between two writes: a message after a quiet period leaves at once, a stream of them
        #: is coalesced into one write per interval.
        self.interval = interval
        #: Times of the last writes; coalescing starts only when they came faster than ``interval`` apart.
        self._flushes: deque[float] = deque([-1e9] * _BURST, maxlen=_BURST)
        self._buffer: list[Any] = []
        self._scheduled = False
        self._writing = False
        self._loop = asyncio.get_running_loop()
        self.closed = False
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, msg: Any) -> None:
        """Queue ``msg`` (must run on the stream's loop)."""
        if self.closed:
            return
        self._buffer.append(msg)
        if not self._scheduled:
            self._scheduled = True
            now = self._loop.time()
            wait = self.interval - (now - self._flushes[-1])
            if wait > 0 and now - self._flushes[0] < self.interval:
                self._loop.call_later(wait, self._flush)
            else:
                self._loop.call_soon(self._flush)

    def send_threadsafe(self, msg: Any) -> None:
        """Queue ``msg`` from any thread."""
        self._loop.call_soon_threadsafe(self.send, msg)

    def _flush(self) -> None:
        self._scheduled = False
        if self._writing or not self._buffer or self.closed:
            return
        batch, self._buffer = self._buffer, []
        self._flushes.append(self._loop.time())
        self._writing = True
        task = self._loop.create_task(self._write(batch))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, batch: list[Any]) -> None:
        try:
            await self.comm.write(batch)
        except CommClosedError:
            self.closed = True
        except Exception as exc:  # noqa: BLE001 - one bad message must not kill the stream
            logger.error("could not send a batch of %d messages to %s: %s", len(batch), self.comm.peer_address, exc)
            if len(batch) > 1:
                # Send the others one by one so that only the bad message is dropped.
                for msg in batch:
                    try:
                        await self.comm.write([msg])
                    except CommClosedError:
                        self.closed = True
                        break
                    except Exception as one:  # noqa: BLE001
                        logger.error("dropped a message with op=%r: %s", _op(msg), one)
        finally:
            self._writing = False
        if self._buffer and not self.closed:
            self._flush()

    async def close(self) -> None:
        """Send what is buffered, then close the comm."""
        if self._buffer and not self.closed and not self._writing:
            self._flush()
        for task in list(self._pending):
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except (TimeoutError, CommClosedError):
                pass
        self.closed = True
        await self.comm.close()

    def abort(self) -> None:
        self.closed = True
        self.comm.abort()


def _op(msg: Any) -> Any:
    return msg.get("op") if isinstance(msg, dict) else type(msg).__name__


async def read_batches(comm: Comm, on_batch: Callable[[list[Any]], Any]) -> None:
    """Read list-messages from ``comm`` and pass each to ``on_batch`` until the comm closes."""
    while True:
        batch = await comm.read()
        if not isinstance(batch, list):
            batch = [batch]
        result = on_batch(batch)
        if asyncio.iscoroutine(result):
            await result
        del batch, result  # not held while waiting for the next batch: it may carry large values

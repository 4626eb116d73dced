"""A bounded in-memory log handler that each worker keeps for ``Client.get_worker_logs``."""

from __future__ import annotations

import logging
from collections import deque

__all__ = ["WorkerLogHandler"]


class WorkerLogHandler(logging.Handler):
    """Keep the last ``maxlen`` records as ``(level name, formatted message)`` pairs.

    Attached to the ``shoal`` logger, so it sees what that logger lets
    through (its effective level; WARNING unless configured). Workers of one
    process share that logger, so in-process workers see each other's records.

    Examples
    --------
    >>> handler = WorkerLogHandler(maxlen=2)
    >>> log = logging.getLogger("shoal.doctest-logs")
    >>> log.addHandler(handler)
    >>> for i in range(3):
    ...     log.warning("message %d", i)
    >>> log.removeHandler(handler)
    >>> handler.logs()
    [('WARNING', 'message 1'), ('WARNING', 'message 2')]
    """

    def __init__(self, maxlen: int = 1000) -> None:
        super().__init__()
        self.records: deque[tuple[str, str]] = deque(maxlen=maxlen)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append((record.levelname, self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)

    def logs(self, n: int | None = None) -> list[tuple[str, str]]:
        """The most recent ``n`` records (all kept ones by default), oldest first."""
        out = list(self.records)
        return out if n is None else out[-n:] if n > 0 else []

"""shoal.local: schedulers that run a graph on one machine.

``get_sync`` runs tasks one by one in the calling thread, ``get_threads`` on
a thread pool, ``get_processes`` on worker processes; all three are the one
loop in :mod:`shoal.local.loop` with a different way to hand out tasks.
"""

from __future__ import annotations

from shoal.local.callbacks import Callback
from shoal.local.loop import execute
from shoal.local.selection import get_scheduler, register_default_client
from shoal.local.state import ExecutionState
from shoal.local.sync import get_sync
from shoal.local.threads import get_threads

__all__ = [
    "Callback",
    "ExecutionState",
    "execute",
    "get_processes",
    "get_scheduler",
    "get_sync",
    "get_threads",
    "register_default_client",
]


def __getattr__(name: str) -> object:
    if name == "get_processes":
        from shoal.local.processes import get_processes

        return get_processes
    raise AttributeError(f"module 'shoal.local' has no attribute {name!r}")

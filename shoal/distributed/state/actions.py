"""Actions: what the state machines ask their servers to do.

Actions are instructions in the imperative; a server performs them and
decides nothing. Messages are plain dicts that the comm layer can send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shoal.graph.task import Key

__all__ = ["Execute", "Fetch", "SendToClient", "SendToScheduler", "SendToWorker"]


@dataclass(frozen=True, slots=True)
class SendToWorker:
    worker: str
    msg: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SendToClient:
    client: str
    msg: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SendToScheduler:
    msg: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Execute:
    """Run ``key``'s task in the thread pool with its dependencies' values."""

    key: Key
    stimulus_id: str


@dataclass(frozen=True, slots=True)
class Fetch:
    """Get ``keys`` from ``peer``."""

    peer: str
    keys: tuple[Key, ...]
    stimulus_id: str

"""Comms: message channels between clients, the scheduler and workers.

See :mod:`.core` for the interface, :mod:`.serialization` for how messages
become bytes, :mod:`.framing` for frames on a stream, and the ``tcp`` and
``inproc`` backends. :class:`~.pool.ConnectionPool` reuses comms for
request/response calls.
"""

from __future__ import annotations

from shoal.distributed.comm import inproc, tcp
from shoal.distributed.comm.core import Comm, Listener, connect, listen, parse_address
from shoal.distributed.comm.inproc import new_inproc_address
from shoal.distributed.comm.pool import ConnectionPool
from shoal.distributed.comm.serialization import dumps, loads, pickle_value, unpickle_value

__all__ = [
    "Comm",
    "ConnectionPool",
    "Listener",
    "connect",
    "dumps",
    "inproc",
    "listen",
    "loads",
    "new_inproc_address",
    "parse_address",
    "pickle_value",
    "tcp",
    "unpickle_value",
]

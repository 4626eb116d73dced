"""``Reschedule``: raised by a task to be put back and run again, not marked as failed.

A task that raises :class:`Reschedule` gives up its run: the worker drops it
without reporting an error, and the scheduler assigns it again, to the other
worker allowed to run it that can start it soonest, else (no other is
allowed) to the same one; see
:mod:`shoal.distributed.state.rescheduling`. Nothing counts these runs: a
task that always raises it is rescheduled for ever. Mirrors
``distributed.Reschedule``, except that Dask may hand the task straight back
to the worker that gave it up.
"""

from __future__ import annotations

from shoal._exceptions import ShoalError

__all__ = ["Reschedule"]


class Reschedule(ShoalError):
    """Raise in a task to have the scheduler run it again, elsewhere if another worker can.

    Examples
    --------
    >>> from shoal.distributed import Client, get_worker
    >>> def picky():
    ...     if get_worker().name == "0":
    ...         raise Reschedule()
    ...     return get_worker().name
    >>> with Client(processes=False, n_workers=2, set_as_default=False) as client:
    ...     client.submit(picky, workers=["0", "1"]).result(timeout=30)
    '1'
    """

"""Which workers to retire (no I/O): the policy behind ``retire_workers(n=...)`` and ``workers_to_close``.

It mirrors Dask's ``Scheduler.workers_to_close``. Workers are considered in
groups (each worker alone unless ``key`` maps several to one group, e.g. by
host; a group is retired whole). Groups are ranked cheapest first:

1. idle groups (nothing processing) before busy ones;
2. within each, the group holding the fewest bytes first;
3. among equals, the group that joined last first (as Dask's stable sort
   then pop from the end does), so ties retire the newest workers.

Workers running a seceded task (``long_running``: a task that uses
``worker_client`` and would restart from scratch elsewhere) are never chosen.
Groups are taken in that order until the next one would break a limit:

- with ``n`` (or ``target``, meaning ``n = len(workers) - target``): stop
  once ``n`` workers are chosen; busy groups may be chosen;
- without ``n``: stop at the first busy group, and keep enough memory limit
  (``memory_ratio`` times the bytes held, 2 by default) on the workers left;
  with ``n`` and ``memory_ratio`` both, a group that satisfies either goes;
- ``minimum``: never leave fewer workers than that.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shoal.distributed.state.tasks import WorkerRecord

__all__ = ["workers_to_close"]


def workers_to_close(workers: Sequence[WorkerRecord], *, memory_ratio: float | None = None, n: int | None = None,
                     key: Callable[[WorkerRecord], Hashable] | None = None, minimum: int | None = None,
                     target: int | None = None) -> list[WorkerRecord]:
    """The workers that are cheapest to retire, in the order they should go; see the module docstring.

    Parameters
    ----------
    workers : sequence of WorkerRecord
        Every connected worker, in the order they joined.
    memory_ratio : float, optional
        Memory limit to keep, as a multiple of the bytes held (2 when neither this nor ``n`` is given).
    n : int, optional
        How many workers to retire.
    key : callable, optional
        Maps a worker to its group (``lambda ws: ws.host``); a group is retired whole.
    minimum : int, optional
        Workers to keep at least.
    target : int, optional
        Workers to keep (used when ``n`` is None).

    Returns
    -------
    list of WorkerRecord
    """
    total_workers = len(workers)
    if target is not None and n is None:
        n = total_workers - target
    if n is not None:
        n = max(n, 0)
        target = total_workers - n
    if n is None and memory_ratio is None:
        memory_ratio = 2
    if not n and all(ws.processing for ws in workers):
        return []
    groups: dict[Hashable, list[WorkerRecord]] = {}
    for ws in workers:
        if not ws.long_running:
            groups.setdefault(ws.address if key is None else key(ws), []).append(ws)
    limit = {g: sum(ws.memory_limit for ws in members) for g, members in groups.items()}
    held = {g: sum(ws.nbytes for ws in members) for g, members in groups.items()}
    idle = {g: not any(ws.processing for ws in members) for g, members in groups.items()}
    remaining_limit = sum(limit.values())
    total_bytes = sum(held.values())
    joined = {g: i for i, g in enumerate(groups)}
    ranked = sorted(groups, key=lambda g: (not idle[g], held[g], -joined[g]))
    chosen: list[WorkerRecord] = []
    remaining = total_workers
    for group in ranked:
        size = len(groups[group])
        if n is None and not idle[group]:
            break
        if minimum and remaining - size < minimum:
            break
        remaining_limit -= limit[group]
        by_count = n is not None and remaining - size >= (target or 0)
        by_memory = memory_ratio is not None and remaining_limit >= memory_ratio * total_bytes
        if not (by_count or by_memory):
            break
        chosen.extend(groups[group])
        remaining -= size
    return chosen

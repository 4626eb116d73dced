"""Scheduler requests about the whole cluster: state dumps and hardware benchmarks.

- ``cluster_state`` gathers the scheduler's state and every worker's
  (``dump_state``), with versions, as ``Client.dump_cluster_state`` writes
  it: ``{"scheduler": ..., "workers": {address: ...}, "versions":
  {"scheduler": ..., "workers": {address: ...}}}``. A worker that fails to
  answer appears as the ``repr`` of its error, as in Dask.
- ``dump_cluster_state`` writes that dump from the scheduler (for paths on
  the scheduler's machine, or URLs).
- ``benchmark_hardware`` runs the disk and memory benchmarks on every worker
  and the network benchmark between pairs of workers, and averages each
  size over the workers (Dask's ``Scheduler.benchmark_hardware``).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from shoal.distributed._state_dump import plain, record_to_dict, write_state
from shoal.distributed.server.scheduler_extras import get_versions

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer

__all__ = ["SchedulerTools"]


class SchedulerTools:
    """RPC handlers ``cluster_state``, ``dump_cluster_state``, ``benchmark_hardware``."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # ------------------------------------------------------------------ state dump

    def scheduler_state(self, exclude: set[str]) -> dict[str, Any]:
        server = self.server
        state = server.state
        out = {"type": "Scheduler", "id": server.id, "address": server.address, "status": server.status,
               "started": server.start_time,
               "tasks": {key: record_to_dict(ts, exclude) for key, ts in state.tasks.items()},
               "workers": {a: record_to_dict(ws, exclude) for a, ws in state.workers.items()},
               "clients": {c: record_to_dict(cr, exclude) for c, cr in state.clients.items()},
               "unrunnable": state.unrunnable, "queued": getattr(state, "queued", ()),
               "stealing": state.stealing, "aliases": state.aliases, "durations": state.durations,
               "log": state.log, "task_stream": state.task_stream, "retired": dict(server.retired),
               "plugins": sorted(server.plugins), "worker_plugins": sorted(server.admin.plugins),
               "nannies": server.nannies.nannies, "nanny_plugins": sorted(server.nannies.plugins),
               "metadata": server.extras.metadata}
        return plain({k: v for k, v in out.items() if k not in exclude})

    async def rpc_cluster_state(self, exclude: list[str] | None = None) -> dict[str, Any]:
        skip = set(("run_spec",) if exclude is None else exclude)
        workers = list(self.server.state.workers)
        pool = self.server.pool
        states, versions = await asyncio.gather(
            asyncio.gather(*(pool.call(w, {"op": "dump_state", "exclude": sorted(skip)}) for w in workers),
                           return_exceptions=True),
            asyncio.gather(*(pool.call(w, {"op": "versions"}) for w in workers), return_exceptions=True))
        return {"scheduler": self.scheduler_state(skip),
                "workers": {w: repr(s) if isinstance(s, BaseException) else s["state"]
                            for w, s in zip(workers, states, strict=True)},
                "versions": {"scheduler": get_versions(),
                             "workers": {w: v["versions"] for w, v in zip(workers, versions, strict=True)
                                         if not isinstance(v, BaseException)}}}

    async def rpc_dump_cluster_state(self, filename: str, format: str = "msgpack",
                                     exclude: list[str] | None = None) -> str:
        state = await self.rpc_cluster_state(exclude)
        return await asyncio.get_running_loop().run_in_executor(None, write_state, state, filename, format)

    # ------------------------------------------------------------------ benchmarks

    async def rpc_benchmark_hardware(self, duration: float | None = None) -> dict[str, dict[str, float]]:
        pool = self.server.pool
        workers = list(self.server.state.workers)
        out: dict[str, defaultdict[str, list[float]]] = {m: defaultdict(list) for m in ("disk", "memory", "network")}
        for mode in ("disk", "memory"):
            replies = await asyncio.gather(*(pool.call(w, {"op": f"benchmark_{mode}", "duration": duration})
                                             for w in workers))
            for reply in replies:
                for size, bandwidth in reply["result"].items():
                    out[mode][size].append(bandwidth)
        # Pairs in random order, as Dask: workers that joined together often share a host, and a pair on one
        # host measures the loopback, not the network.
        random.shuffle(workers)
        pairs = list(zip(workers[::2], workers[1::2], strict=False))
        replies = await asyncio.gather(*(pool.call(a, {"op": "benchmark_network", "address": b, "duration": duration})
                                         for a, b in pairs))
        for reply in replies:
            for size, bandwidth in reply["result"].items():
                out["network"][size].append(bandwidth)
        return {mode: {size: sum(v) / len(v) for size, v in sizes.items()} for mode, sizes in out.items()}

"""Cluster administration on the scheduler: replicas, rebalancing, restarts, worker plugins, error replay.

These requests change where data lives or reset the cluster; they are rare
and may take a round trip to several workers, so they live outside the
state machine's event loop and edit the scheduler's bookkeeping only after
the workers confirm (a replica is recorded once the copy has arrived, and
forgotten before the worker is told to drop it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from shoal.distributed.state.events import KeysCancelled

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord

__all__ = ["SchedulerAdmin"]

logger = logging.getLogger("shoal.distributed.scheduler")


class SchedulerAdmin:
    """RPC handlers for ``replicate``, ``rebalance``, ``restart``, worker plugins and ``error_spec``."""

    def __init__(self, server: SchedulerServer) -> None:
        self.server = server
        #: Worker plugins by name (pickled): installed on every worker, including those that join later.
        self.plugins: dict[str, bytes] = {}

    def handlers(self) -> dict[str, Any]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # ------------------------------------------------------------------ replicas

    def _in_memory(self, keys: list[Any] | None) -> list[SchedulerTaskRecord]:
        tasks = self.server.state.tasks
        if keys is None:
            return [ts for ts in tasks.values() if ts.status == "memory"]
        missing = [k for k in keys if k not in tasks or tasks[k].status != "memory"]
        if missing:
            raise ValueError(f"Keys {missing[:5]} are not in memory on any worker; wait for their futures to "
                             f"finish before replicating or rebalancing them.")
        return [tasks[k] for k in keys]

    def _workers(self, workers: list[str] | None) -> list[WorkerRecord]:
        state = self.server.state
        if workers is None:
            return list(state.workers.values())
        chosen = [state.aliases.get(w, w) for w in workers]
        unknown = [w for w in chosen if w not in state.workers]
        if unknown:
            raise ValueError(f"Unknown workers {unknown}; known workers are {sorted(state.workers)}.")
        return [state.workers[w] for w in chosen]

    async def _copy(self, moves: dict[WorkerRecord, dict[Any, list[str]]]) -> None:
        """Have each worker fetch ``{key: holders}``; record the replicas that arrived."""
        state = self.server.state
        order = list(moves)
        replies = await asyncio.gather(*(self.server.pool.call(ws.address, {"op": "gather_replicas",
                                                                             "who_has": moves[ws]})
                                         for ws in order), return_exceptions=True)
        for ws, reply in zip(order, replies, strict=True):
            if isinstance(reply, BaseException):
                logger.warning("worker %s could not take replicas: %s", ws.address, reply)
                continue
            if state.workers.get(ws.address) is not ws:
                continue
            for key in reply.get("keys", []):
                ts = state.tasks.get(key)
                if ts is not None and ts.status == "memory":
                    state._add_replica(ts, ws)
                else:  # released while it travelled: the copy is of no use
                    await self._drop(ws, [key], record=False)

    async def _drop(self, ws: WorkerRecord, keys: list[Any], *, record: bool = True) -> None:
        state = self.server.state
        if record:
            for key in keys:
                ts = state.tasks.get(key)
                if ts is not None:
                    state._remove_replica(ts, ws)
        stream = self.server.worker_streams.get(ws.address)
        if stream is not None:
            stream.send({"op": "free_keys", "keys": list(keys), "stimulus_id": "admin-drop-replica"})

    async def move_data_off(self, addresses: list[str]) -> None:
        """Copy the results that only ``addresses`` hold to the emptiest remaining workers (before retiring)."""
        state = self.server.state
        leaving = {state.workers[a] for a in addresses if a in state.workers}
        staying = [ws for ws in state.workers.values() if ws not in leaving]
        if not leaving or not staying:
            return
        load = {ws: ws.nbytes for ws in staying}
        moves: dict[WorkerRecord, dict[Any, list[str]]] = {}
        for ws in leaving:
            for ts in ws.has_what:
                if ts.who_has <= leaving and not any(ts.key in m for m in moves.values()):
                    receiver = min(staying, key=lambda w: load[w])
                    moves.setdefault(receiver, {})[ts.key] = [h.address for h in ts.who_has]
                    load[receiver] += max(ts.nbytes, 0)
        if moves:
            await self._copy(moves)

    async def rpc_replicate(self, keys: list[Any], n: int | None = None, workers: list[str] | None = None) -> int:
        """Copy each key until ``n`` workers (default: all of ``workers``) hold it; drop surplus copies."""
        tasks = self._in_memory(keys)
        pool = self._workers(workers)
        if not pool:
            raise ValueError("No workers to replicate to.")
        target = len(pool) if n is None else n
        if target < 1:
            raise ValueError(f"replicate(n={n}) needs n >= 1.")
        target = min(target, len(pool))
        moves: dict[WorkerRecord, dict[Any, list[str]]] = {}
        copies = 0
        for ts in tasks:
            holders = [ws for ws in ts.who_has if ws in pool]
            if len(holders) > target:
                for ws in sorted(holders, key=lambda w: -w.nbytes)[:len(holders) - target]:
                    await self._drop(ws, [ts.key])
                continue
            # Fill the emptiest workers first, so replicas also even out memory use.
            candidates = sorted((ws for ws in pool if ws not in ts.who_has), key=lambda w: w.nbytes)
            sources = [ws.address for ws in ts.who_has]
            for ws in candidates[:target - len(holders)]:
                moves.setdefault(ws, {})[ts.key] = sources
                copies += 1
        if moves:
            await self._copy(moves)
        return copies

    async def rpc_rebalance(self, keys: list[Any] | None = None, workers: list[str] | None = None) -> int:
        """Move results from the fullest workers to the emptiest until they hold about the same bytes."""
        pool = self._workers(workers)
        if len(pool) < 2:
            return 0
        chosen = set(self._in_memory(keys))
        load = {ws: ws.nbytes for ws in pool}
        mean = sum(load.values()) / len(pool)
        moves: dict[WorkerRecord, dict[Any, list[str]]] = {}
        drops: dict[WorkerRecord, list[Any]] = {}
        for sender in sorted(pool, key=lambda w: -load[w]):
            if load[sender] <= mean:
                break
            for ts in sorted((t for t in sender.has_what if t in chosen), key=lambda t: -max(t.nbytes, 0)):
                size = max(ts.nbytes, 0)
                receiver = min(pool, key=lambda w: load[w])
                # Only moves that bring both ends closer to the mean are worth the transfer.
                if load[sender] - size < mean - size / 2 or load[receiver] + size > mean + size / 2:
                    continue
                if receiver in ts.who_has or receiver is sender:
                    continue
                moves.setdefault(receiver, {})[ts.key] = [sender.address]
                drops.setdefault(sender, []).append(ts.key)
                load[sender] -= size
                load[receiver] += size
                if load[sender] <= mean:
                    break
        if not moves:
            return 0
        await self._copy(moves)
        moved = 0
        for sender, ks in drops.items():
            # Drop the sender's copy only where the receiver's copy is recorded: never lose the last replica.
            safe = [k for k in ks if k in self.server.state.tasks and len(self.server.state.tasks[k].who_has) > 1]
            if safe:
                await self._drop(sender, safe)
                moved += len(safe)
        return moved

    # ------------------------------------------------------------------ restart

    async def rpc_restart(self) -> int:
        """Cancel every client's work and clear every worker; return how many workers were cleared."""
        server = self.server
        state = server.state
        events = [KeysCancelled(cid, tuple(ts.key for ts in record.wants_what), server._stimulus("restart"))
                  for cid, record in list(state.clients.items()) if record.wants_what]
        if events:
            server.handle(*events)
        for ev in events:
            stream = server.client_streams.get(ev.client)
            if stream is not None:
                stream.send({"op": "cancelled_keys", "keys": list(ev.keys), "restart": True})
        replies = await asyncio.gather(*(server.pool.call(w, {"op": "clear_state"}) for w in list(state.workers)),
                                       return_exceptions=True)
        return sum(1 for r in replies if not isinstance(r, BaseException))

    # ------------------------------------------------------------------ plugins

    async def rpc_register_worker_plugin(self, plugin: bytes, name: str) -> dict[str, Any]:
        """Remember ``plugin`` for workers that join later and install it on every current worker."""
        self.plugins[name] = plugin
        return await self.server.rpc_broadcast({"op": "plugin_add", "plugin": plugin, "name": name})

    async def rpc_unregister_worker_plugin(self, name: str) -> dict[str, Any]:
        if name not in self.plugins:
            raise ValueError(f"No worker plugin named {name!r}; registered: {sorted(self.plugins)}.")
        del self.plugins[name]
        return await self.server.rpc_broadcast({"op": "plugin_remove", "name": name})

    # ------------------------------------------------------------------ error replay

    def rpc_error_spec(self, key: Any) -> dict[str, Any]:
        """The failing task behind ``key``: its spec, and how to get each input (fetch, or recompute)."""
        tasks = self.server.state.tasks
        ts = tasks.get(key)
        if ts is None or ts.status != "erred":
            status = ts.status if ts is not None else "forgotten"
            raise ValueError(f"Task {key!r} did not fail (its status is {status!r}); recreate_error_locally needs "
                             f"a future whose task raised.")
        blame = ts.exception_blame or ts
        graph: dict[Any, Any] = {}
        fetch: list[Any] = []
        stack = [blame]
        seen = set()
        while stack:
            current = stack.pop()
            if current.key in seen:
                continue
            seen.add(current.key)
            if current is not blame and current.status == "memory":
                fetch.append(current.key)
                continue
            if current.run_spec is None:
                raise ValueError(f"Input {current.key!r} of {blame.key!r} is no longer held by any worker and "
                                 f"cannot be recomputed (it was scattered); scatter it again.")
            graph[current.key] = (current.run_spec, [d.key for d in current.dependencies])
            stack.extend(current.dependencies)
        return {"key": blame.key, "graph": graph, "fetch": fetch}

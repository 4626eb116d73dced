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

from shoal.distributed._exceptions import CommClosedError
from shoal.distributed.comm.serialization import pickle_value, unpickle_value
from shoal.distributed.nanny import nanny_of, request_restart
from shoal.distributed.state.events import KeysCancelled

if TYPE_CHECKING:
    from shoal.distributed.server.scheduler import SchedulerServer
    from shoal.distributed.state.tasks import SchedulerTaskRecord, WorkerRecord

__all__ = ["SchedulerAdmin"]

logger = logging.getLogger("shoal.distributed.scheduler")

#: Seconds ``client.restart`` waits for restarted workers by default (as in Dask).
_DEFAULT_RESTART_TIMEOUT = 30.0
#: Seconds a worker has to answer a restart request (or the question who its nanny is).
_ASK_TIMEOUT = 5.0


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

    async def rpc_restart(self, timeout: float | None = None, wait_for_workers: bool = True) -> dict[str, Any]:
        """Cancel every client's work and give every worker a fresh start; see ``Client.restart``.

        Workers under a nanny close and their nannies start new processes; with ``wait_for_workers`` this
        returns once as many workers are registered as before (TimeoutError after ``timeout`` seconds,
        default 30). Workers without a nanny only have their state cleared.
        """
        server = self.server
        state = server.state
        timeout = _DEFAULT_RESTART_TIMEOUT if timeout is None else float(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        events = [KeysCancelled(cid, tuple(ts.key for ts in record.wants_what), server._stimulus("restart"))
                  for cid, record in list(state.clients.items()) if record.wants_what]
        if events:
            server.handle(*events)
        for ev in events:
            stream = server.client_streams.get(ev.client)
            if stream is not None:
                stream.send({"op": "cancelled_keys", "keys": list(ev.keys), "restart": True})
        before = {address: ws.name for address, ws in state.workers.items()}
        # Asking is quick even when the wait is short: a worker busy in a task still answers from its event loop.
        ask = max(timeout, _ASK_TIMEOUT)
        nannies = await asyncio.gather(*(self.run_on(a, request_restart, ask) for a in before))
        restarting = {a: nanny for a, nanny in zip(before, nannies, strict=True) if nanny is not None}
        others = [a for a in before if a not in restarting]
        replies = await asyncio.gather(*(server.pool.call(a, {"op": "clear_state"}) for a in others),
                                       return_exceptions=True)
        cleared = [a for a, r in zip(others, replies, strict=True) if not isinstance(r, BaseException)]
        if restarting and wait_for_workers:
            while any(a in state.workers for a in restarting) or len(state.workers) < len(before):
                if loop.time() > deadline:
                    raise TimeoutError(await self._restart_timeout_message(before, restarting, timeout))
                await asyncio.sleep(0.02)
        return {"restarted": sorted(restarting), "cleared": sorted(cleared)}

    async def run_on(self, address: str, func: Any, timeout: float) -> Any:
        """``func(dask_worker)`` on one worker; None if it fails or the worker does not answer."""
        try:
            reply = await asyncio.wait_for(
                self.server.pool.call(address, {"op": "run", "function": pickle_value((func, (), {}))}), timeout)
        except (TimeoutError, OSError, CommClosedError, RuntimeError) as exc:
            logger.warning("restart: worker %s did not answer (%s)", address, exc)
            return None
        if not reply.get("ok"):
            logger.warning("restart: %s failed on worker %s: %s", func.__name__, address, reply.get("text"))
            return None
        return unpickle_value(reply["result"])

    async def _restart_timeout_message(self, before: dict[str, str], restarting: dict[str, Any],
                                       timeout: float) -> str:
        """Which restarted workers are not back: their nanny runs no registered worker yet."""
        state = self.server.state
        now = list(state.workers)
        nannies = await asyncio.gather(*(self.run_on(a, nanny_of, _ASK_TIMEOUT) for a in now if a not in restarting))
        back = {tuple(n) for n in nannies if n is not None}
        missing = [a for a, nanny in restarting.items() if a in state.workers or tuple(nanny) not in back]

        def label(address: str) -> str:
            name = before[address]
            return address if name == address else f"{name!r} ({address})"

        stuck = [label(a) for a in missing if a in state.workers]
        gone = [label(a) for a in missing if a not in state.workers]
        parts = []
        if gone:
            parts.append(f"not back yet: {', '.join(gone)}")
        if stuck:
            parts.append(f"never closed for the restart: {', '.join(stuck)}")
        return (f"client.restart: only {len(state.workers)} of {len(before)} workers were registered "
                f"{timeout:g}s after the restart ({'; '.join(parts) or 'workers are missing'}). Their nannies may "
                f"need longer to start a worker process (raise timeout=), or could not (see the nanny's log); "
                f"restart(wait_for_workers=False) does not wait.")

    # ------------------------------------------------------------------ plugins

    async def rpc_register_worker_plugin(self, plugin: bytes, name: str, idempotent: bool = False) -> dict[str, Any]:
        """Remember ``plugin`` for workers that join later and install it on every current worker.

        With ``idempotent`` a plugin already registered under ``name`` stays and nothing is sent.
        """
        if idempotent and name in self.plugins:
            return {}
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

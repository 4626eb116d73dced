"""Client methods that move data: ``gather`` results out of the cluster, ``scatter`` data into it, ``cancel``.

Mixed into :class:`~shoal.distributed.Client`. Results are fetched straight
from the workers holding them (small ones arrive inline with the
scheduler's report and need no fetch).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from shoal.distributed.actor import Actor, claim_actors
from shoal.distributed._exceptions import CommClosedError, FutureCancelledError
from shoal.distributed._loop import run_sync
from shoal.distributed._pack import _SKIP, _rebuild, _scatter_result, futures_of
from shoal.distributed.client_base import ClientCore
from shoal.distributed.future import Future
from shoal.graph.task import Key
from shoal.graph.tokenize import tokenize

__all__ = ["ClientDataMixin"]


class ClientDataMixin(ClientCore):
    """``gather``, ``scatter`` and ``cancel`` of :class:`~shoal.distributed.Client`."""

    def _result_of(self, future: Future, timeout: float | None) -> Any:
        state = future._state
        if state.status == "finished" and state.has_value:
            value = state.value
            return value._claimed_by(self) if type(value) is Actor else value
        return self.gather([future], errors="raise")[0] if not self.asynchronous else None

    def gather(self, futures: Any, errors: str = "raise", direct: bool | None = None,
               asynchronous: bool | None = None) -> Any:
        """Wait for futures and return their results, in the same structure (list, dict, nested).

        Parameters
        ----------
        futures : Future or (nested) list, tuple, set or dict of Futures
        errors : {"raise", "skip"}
            Re-raise the first failed task's exception, or leave failed
            futures out of the result.
        """
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors= must be 'raise' or 'skip', got {errors!r}.")
        flat = futures_of(futures) if not isinstance(futures, Future) else [futures]
        if self.asynchronous:
            return self._gather_structure(futures, flat, errors)
        values = run_sync(self._gather_async(flat, errors), None)
        return _rebuild(futures, dict(zip([f.key for f in flat], values, strict=True)), errors)

    async def _gather_structure(self, futures: Any, flat: list[Future], errors: str) -> Any:
        values = await self._gather_async(flat, errors)
        return _rebuild(futures, dict(zip([f.key for f in flat], values, strict=True)), errors)

    async def _gather_async(self, futures: list[Future], errors: str) -> list[Any]:
        results: dict[Key, Any] = {}
        for _attempt in range(20):
            for fut in futures:
                await fut._state.wait_done()
            missing: list[Key] = []
            recomputing = False
            for fut in futures:
                state = fut._state
                if fut.key in results:
                    continue
                if state.status == "error":
                    if errors == "raise":
                        exc = state.exception()
                        assert exc is not None
                        raise exc.with_traceback(state.traceback())
                    results[fut.key] = _SKIP
                elif state.status == "cancelled":
                    if errors == "raise":
                        known = state.exception()  # carries the reason given to cancel(), if any
                        raise known if isinstance(known, FutureCancelledError) else FutureCancelledError(
                            fut.key, "it was cancelled")
                    results[fut.key] = _SKIP
                elif state.has_value:
                    results[fut.key] = state.value
                elif state.status == "finished":
                    missing.append(fut.key)
                else:  # lost since it finished (its worker left): wait for the recomputation
                    recomputing = True
            if not missing:
                if recomputing:
                    continue
                break
            got = await self._fetch(missing)
            results.update(got)
            if len(got) < len(missing):
                await asyncio.sleep(0.05 * (_attempt + 1))
        else:
            lost = [f.key for f in futures if f.key not in results]
            raise CommClosedError(f"Could not fetch the data of {lost[:5]} from any worker.")
        return claim_actors([results[f.key] for f in futures], self)

    async def _fetch(self, keys: list[Key]) -> dict[Key, Any]:
        assert self._pool is not None
        who_has = await self._scheduler_call("who_has", keys=keys)
        by_worker: dict[str, list[Key]] = {}
        for key in keys:
            holders = who_has.get(key) or []
            if holders:
                by_worker.setdefault(holders[0], []).append(key)

        async def one(worker: str, ks: list[Key]) -> dict[Key, Any]:
            try:
                reply = await self._pool.call(worker, {"op": "get_data", "keys": ks})  # type: ignore[union-attr]
                return dict(reply["data"])
            except (OSError, CommClosedError):
                return {}

        out: dict[Key, Any] = {}
        for part in await asyncio.gather(*(one(w, ks) for w, ks in by_worker.items())):
            out.update(part)
        return out

    def scatter(self, data: Any, workers: Any = None, broadcast: bool = False, direct: bool | None = None,
                hash: bool = True, timeout: float | None = None) -> Any:
        """Move data into the cluster; return Futures for it (the same structure as ``data``).

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1) as client:
        ...     [x] = client.scatter([10])
        ...     client.submit(lambda v: v + 1, x).result()
        11
        """
        self._check_running()
        if isinstance(data, dict):
            items = list(data.items())
        elif isinstance(data, (list, tuple, set, frozenset)):
            items = [(f"{type(v).__name__}-{tokenize(v) if hash else uuid.uuid4().hex}", v) for v in data]
        else:
            items = [(f"{type(data).__name__}-{tokenize(data) if hash else uuid.uuid4().hex}", data)]
        coro = self._scatter(items, workers, broadcast)
        if self.asynchronous:
            return self._scatter_wrap(data, coro)
        futures = run_sync(coro, timeout)
        return _scatter_result(data, futures)

    async def _scatter_wrap(self, data: Any, coro: Any) -> Any:
        return _scatter_result(data, await coro)

    async def _scatter(self, items: list[tuple[Key, Any]], workers: Any, broadcast: bool) -> list[Future]:
        if isinstance(workers, str):
            workers = [workers]
        nthreads = await self._scheduler_call("nthreads", workers=workers)
        if not nthreads:
            nthreads = {}
            for _ in range(200):  # a cluster that is still starting: wait for a worker
                await asyncio.sleep(0.05)
                nthreads = await self._scheduler_call("nthreads", workers=workers)
                if nthreads:
                    break
            if not nthreads:
                raise RuntimeError("No workers to scatter data to: start workers, or pass workers= that exist.")
        addresses = sorted(nthreads)
        slots = [a for a in addresses for _ in range(nthreads[a])]
        placement: dict[str, dict[Key, Any]] = {}
        for i, (key, value) in enumerate(items):
            targets = addresses if broadcast else [slots[i % len(slots)]]
            for address in targets:
                placement.setdefault(address, {})[key] = value
        assert self._pool is not None
        replies = await asyncio.gather(*(self._pool.call(a, {"op": "update_data", "data": d})
                                         for a, d in placement.items()))
        placed: dict[Key, tuple[list[str], int, str]] = {}
        for address, reply in zip(placement, replies, strict=True):
            for key, (nbytes, type_name) in reply["info"].items():
                entry = placed.setdefault(key, ([], nbytes, type_name))
                entry[0].append(address)
        futures = []
        for key, _ in items:
            fut = Future(key, self)
            if not fut._state.done:
                fut._state.finish(placed[key][2])
            futures.append(fut)
        self._send({"op": "scattered", "placed": placed})
        return futures

    def cancel(self, futures: Any, asynchronous: bool | None = None, force: bool = False, reason: str | None = None,
               msg: str | None = None) -> None:
        """Stop computing ``futures`` and release their results; their ``result()`` raises CancelledError.

        ``reason`` (or Dask's older ``msg``) is attached to the error the futures raise.
        """
        keys = [f.key for f in futures_of(futures)]
        why = reason if reason is not None else msg
        for key in keys:
            state = self._states.get(key)
            if state is not None:
                state.cancel(why)
        if keys and self.status == "running":
            self._send({"op": "cancel_keys", "keys": keys})

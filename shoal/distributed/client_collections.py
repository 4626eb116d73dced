"""Client methods for collections: ``compute``, ``persist`` and the scheduler protocol's ``get``.

Mixed into :class:`~shoal.distributed.Client`. Each turns collections (or a
raw graph) into one graph submission and Futures for the keys asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shoal.base import collections_to_graph, is_dask_collection
from shoal.distributed._pack import _finalize, _first_key, _refs
from shoal.distributed.client_base import ClientCore
from shoal.distributed.future import Future
from shoal.graph.task import DataNode, Key, Task, key_split
from shoal.graph.tokenize import tokenize
from shoal.local.loop import flatten_keys, pack_results

__all__ = ["ClientCollectionsMixin"]


class ClientCollectionsMixin(ClientCore):
    """``compute``, ``persist`` and ``get`` of :class:`~shoal.distributed.Client`."""

    if TYPE_CHECKING:  # defined by Client and ClientDataMixin
        def _graph_to_futures(self, graph: Mapping[Key, Any], keys: list[Key], **kwargs: Any
                              ) -> dict[Key, Future]: ...

        def gather(self, futures: Any, errors: str = "raise", direct: bool | None = None,
                   asynchronous: bool | None = None) -> Any: ...

    def compute(self, collections: Any, sync: bool = False, optimize_graph: bool = True, priority: int = 0,
                retries: int | None = None, workers: Any = None, resources: dict[str, float] | None = None,
                allow_other_workers: bool = False, **kwargs: Any) -> Any:
        """Start computing collections in the cluster; return a Future for each (their results with ``sync=True``).

        Examples
        --------
        >>> import shoal
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     total = client.compute(shoal.delayed(sum)([1, 2, 3]))
        ...     total.result()
        6
        """
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        colls = [c for c in items if is_dask_collection(c)]
        graph: dict[Key, Any] = dict(collections_to_graph(colls, optimize_graph=optimize_graph)) if colls else {}
        final_keys = []
        out: list[Any] = []
        for c in items:
            if not is_dask_collection(c):
                out.append(c)
                continue
            finalize, extra = c.__dask_postcompute__()
            name = f"finalize-{key_split(_first_key(c.__dask_keys__()))}-{tokenize(c.__dask_keys__(), finalize)}"
            graph[name] = Task(name, _finalize, finalize, _refs(c.__dask_keys__()), *extra)
            final_keys.append(name)
            out.append(name)
        futures = self._graph_to_futures(graph, final_keys, priority=priority, retries=retries, workers=workers,
                                         resources=resources, allow_other_workers=allow_other_workers)
        result = [futures[x] if isinstance(x, str) and x in futures else x for x in out]
        if sync:
            result = self.gather(result)
        return result[0] if single else result

    def persist(self, collections: Any, optimize_graph: bool = True, priority: int = 0, retries: int | None = None,
                workers: Any = None, resources: dict[str, float] | None = None, **kwargs: Any) -> Any:
        """Start computing collections and return equal collections whose graphs hold the Futures."""
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        graph = collections_to_graph(items, optimize_graph=optimize_graph)
        keys = [flatten_keys(c.__dask_keys__()) for c in items]
        futures = self._graph_to_futures(graph, [k for ks in keys for k in ks], priority=priority, retries=retries,
                                         workers=workers, resources=resources)
        out = []
        for c, ks in zip(items, keys, strict=True):
            rebuild, extra = c.__dask_postpersist__()
            out.append(rebuild({k: DataNode(k, futures[k]) for k in ks}, *extra))
        return out[0] if single else out

    def get(self, dsk: Mapping[Key, Any], keys: Any, *, sync: bool = True, priority: int = 0,
            retries: int | None = None, workers: Any = None, resources: dict[str, float] | None = None,
            **kwargs: Any) -> Any:
        """Compute ``keys`` of the graph ``dsk`` on the cluster (the ``get`` of the scheduler protocol).

        ``keys`` may be a key or a nested list of keys; the results come back
        in the same shape. Extra keywords of local schedulers are ignored.
        """
        flat = flatten_keys(keys)
        futures = self._graph_to_futures(dsk, flat, priority=priority, retries=retries, workers=workers,
                                         resources=resources)
        ordered = [futures[k] for k in flat]
        if not sync:
            return pack_results(keys, futures)
        values = self.gather(ordered)
        return pack_results(keys, dict(zip(flat, values, strict=True)))

"""Published datasets: futures and persisted collections shared between clients by name.

``client.publish_dataset(df=persisted)`` stores the object on the scheduler
and keeps its results in memory (the scheduler holds them for a pseudo-client,
so they outlive the publishing client); ``other.get_dataset("df")`` in any
client of the cluster gets an equal object whose futures belong to ``other``.
Mirrors ``distributed.Client.publish_dataset`` and ``Client.datasets``.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import cloudpickle

from shoal.base import is_dask_collection
from shoal.distributed._loop import run_sync
from shoal.distributed.client_base import ClientCore
from shoal.distributed.future import Future

__all__ = ["ClientDatasetsMixin", "Datasets"]

_NO_DEFAULT = object()
_FUTURE = "shoal-future"


class _FuturePickler(cloudpickle.CloudPickler):
    """Pickles Futures as their keys (a Future itself refuses to be pickled: it belongs to one client)."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=5)
        self.keys: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is Future:
            self.keys.append(obj.key)
            return (_FUTURE, obj.key)
        return None


class _FutureUnpickler(pickle.Unpickler):
    """Turns the keys back into Futures of ``client``."""

    def __init__(self, file: io.BytesIO, client: Any) -> None:
        super().__init__(file)
        self.client = client
        self.keys: list[Any] = []

    def persistent_load(self, pid: Any) -> Any:
        tag, key = pid
        if tag != _FUTURE:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r} in a published dataset")
        self.keys.append(key)
        return Future(key, self.client)


def _dumps(obj: Any) -> tuple[bytes, list[Any]]:
    """Pickle ``obj`` with its Futures as keys; return the bytes and those keys (also used by Variable, Queue)."""
    buf = io.BytesIO()
    pickler = _FuturePickler(buf)
    pickler.dump(obj)
    return buf.getvalue(), list(dict.fromkeys(pickler.keys))


def _loads(data: bytes, client: Any) -> Any:
    """Undo :func:`_dumps`: the Futures come back as futures of ``client``, which learns where each key stands."""
    unpickler = _FutureUnpickler(io.BytesIO(data), client)
    obj = unpickler.load()
    if unpickler.keys:
        # The scheduler already counts the client as holding the keys; asking again now that the futures exist
        # makes it report their state to them.
        client._send_graph({}, {}, list(dict.fromkeys(unpickler.keys)), {})
    return obj


class ClientDatasetsMixin(ClientCore):
    """``publish_dataset``, ``get_dataset``, ``list_datasets``, ``unpublish_dataset`` and ``datasets``."""

    id: str

    if TYPE_CHECKING:  # defined by Client
        def persist(self, collections: Any, **kwargs: Any) -> Any: ...

        def _send_graph(self, tasks: Any, dependencies: Any, wanted: Any, ordering: Any, **kw: Any) -> None: ...

    def _sync(self, coro: Any) -> Any:
        return coro if self.asynchronous else run_sync(coro, self.timeout + 30)

    def publish_dataset(self, *args: Any, name: str | None = None, override: bool = False, **kwargs: Any) -> Any:
        """Publish futures or collections under names, for any client of the cluster to get back.

        Collections are persisted first. The results stay in the cluster's
        memory until the dataset is unpublished, also after this client closes.

        Parameters
        ----------
        *args
            One object to publish under ``name`` (several are published as a list).
        name : str, optional
            The name for ``args``.
        override : bool
            Replace a dataset of the same name instead of raising.
        **kwargs
            Objects to publish under their keyword names.

        Raises
        ------
        KeyError
            A dataset of that name exists and ``override`` is False (the error
            is also a ValueError).

        Examples
        --------
        >>> from shoal.distributed import Client
        >>> with Client(processes=False, n_workers=1, set_as_default=False) as client:
        ...     client.publish_dataset(x=client.submit(sum, [1, 2]))
        ...     client.list_datasets(), client.get_dataset("x").result()
        (('x',), 3)
        """
        if name is not None:
            if not args:
                raise ValueError("publish_dataset(name=...) needs the object to publish as well: call it as "
                                 "publish_dataset(obj, name='ds').")
            kwargs[name] = args[0] if len(args) == 1 else list(args)
        elif args:
            raise ValueError("publish_dataset needs names for its positional arguments: use "
                             "publish_dataset(obj, name='ds') or publish_dataset(ds=obj).")
        items = {k: self.persist(v) if is_dask_collection(v) else v for k, v in kwargs.items()}

        async def go() -> None:
            for key_name, obj in items.items():
                data, keys = _dumps(obj)
                await self._scheduler_call("publish_put", keys=keys, name=key_name, data=data, override=override,
                                           client=self.id)

        return self._sync(go())

    def unpublish_dataset(self, name: str, **kwargs: Any) -> Any:
        """Remove the dataset ``name``; its results are released unless other futures hold them."""
        return self._call("publish_delete", name=name)

    def list_datasets(self, **kwargs: Any) -> Any:
        """The names of the published datasets, sorted."""
        if self.asynchronous:
            async def go() -> tuple[str, ...]:
                return tuple(await self._scheduler_call("publish_list"))

            return go()
        return tuple(self._call("publish_list"))

    def get_dataset(self, name: str, default: Any = _NO_DEFAULT, **kwargs: Any) -> Any:
        """The dataset published under ``name``, with futures of this client.

        Raises
        ------
        KeyError
            No dataset ``name`` is published and no ``default`` was given.
        """

        async def go() -> Any:
            entry = await self._scheduler_call("publish_get", name=name, client=self.id)
            if entry is None:
                if default is not _NO_DEFAULT:
                    return default
                names = await self._scheduler_call("publish_list")
                raise KeyError(f"Dataset {name!r} not found; published datasets: {names}.")
            return _loads(entry["data"], self)

        return self._sync(go())

    @property
    def datasets(self) -> Datasets:
        """The published datasets as a mutable mapping: ``client.datasets["x"] = future``."""
        return Datasets(self)


class Datasets(MutableMapping[str, Any]):
    """A dict-like view of a cluster's published datasets (``Client.datasets``)."""

    def __init__(self, client: Any) -> None:
        if client.asynchronous:
            raise NotImplementedError("client.datasets blocks; with an asynchronous Client await "
                                      "client.get_dataset / publish_dataset instead.")
        self._client = client

    def __getitem__(self, name: str) -> Any:
        return self._client.get_dataset(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self._client.publish_dataset(value, name=name)

    def __delitem__(self, name: str) -> None:
        if not self._client.unpublish_dataset(name):
            raise KeyError(f"Dataset {name!r} not found; published datasets: {list(self)}.")

    def __iter__(self) -> Iterator[str]:
        return iter(self._client.list_datasets())

    def __len__(self) -> int:
        return len(self._client.list_datasets())

    def __contains__(self, name: object) -> bool:
        return name in self._client.list_datasets()

    def __repr__(self) -> str:
        return f"<Datasets: {list(self)}>"

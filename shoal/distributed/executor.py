"""``CompatibleExecutor``: a :class:`concurrent.futures.Executor` that runs calls on a shoal cluster.

In Dask this name only raises, pointing at ``Client.get_executor()``; here it
is that executor, made from a client (the current one by default), for code
that wants an ``Executor`` class to instantiate.
"""

from __future__ import annotations

from typing import Any

from shoal.distributed.client import Client
from shoal.distributed.client_extras import ClientExecutor

__all__ = ["CompatibleExecutor"]


class CompatibleExecutor(ClientExecutor):
    """A :class:`concurrent.futures.Executor` over ``client`` (``Client.current()`` by default).

    ``kwargs`` (``workers``, ``resources``, ``retries``, ``pure``, ...) go to every ``submit``, as with
    :meth:`Client.get_executor`.

    Examples
    --------
    >>> from shoal.distributed import Client
    >>> with Client(processes=False, n_workers=1) as client:
    ...     with CompatibleExecutor() as ex:
    ...         ex.submit(pow, 2, 5).result()
    32
    """

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        super().__init__(Client.current() if client is None else client, **kwargs)

"""The :class:`Bag`: a parallel list of Python objects, split into partitions.

A bag is a lazy sequence of partitions, each a list of arbitrary Python
objects; its operations mimic ``map``/``filter``, toolz and PySpark RDDs.
Nothing runs until ``compute()``, which runs the graph on the processes
scheduler by default (Python objects hold the GIL); ``scheduler="threads"``
or ``"sync"`` work too.

The class itself holds the graph (see :mod:`shoal.bag._collection`) and the
operations that look at results (``take``, ``to_delayed``,
``to_dataframe``); the operations that build new bags come from one mixin per
family: transformations, reductions, grouping, joining and text output.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from typing import Any

from shoal.bag._aggregate import AggregateMethods
from shoal.bag._collection import BagBase
from shoal.bag._groupby import GroupbyMethods
from shoal.bag._join import JoinMethods
from shoal.bag._stages import Pipeline, Take, run_partition
from shoal.bag._string import StringAccessor
from shoal.bag._write import TextMethods
from shoal.bag._transform import Concat, TransformMethods
from shoal.delayed import Delayed
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["Bag"]


class Bag(TransformMethods, AggregateMethods, GroupbyMethods, JoinMethods, TextMethods, BagBase):
    """A parallel collection of Python objects, in partitions.

    Build bags with :func:`from_sequence`, :func:`read_text`,
    :func:`from_delayed` and friends; the constructor is for graphs written
    by hand: ``graph`` maps ``(name, i)`` for ``i`` in ``range(npartitions)``
    to tasks that each produce an iterable.

    Parameters
    ----------
    dsk : mapping
        The task graph (shoal tasks or Dask-style tuples).
    name : str
        The name shared by the partition keys.
    npartitions : int
        The number of partitions.

    Examples
    --------
    >>> import shoal.bag as db
    >>> b = db.from_sequence(range(5), npartitions=2)
    >>> b
    shoal.bag<from-sequence, npartitions=2>
    >>> b.filter(lambda x: x % 2 == 0).map(lambda x: x * 10).compute()
    [0, 20, 40]

    A graph written by hand:

    >>> b = db.Bag({("x", 0): (range, 3), ("x", 1): (range, 2)}, "x", npartitions=2)
    >>> b.map(lambda x: x * 10).compute()
    [0, 10, 20, 0, 10]
    """

    def __init__(self, dsk: Mapping[Key, Any], name: str, npartitions: int) -> None:
        super().__init__(dsk, name, npartitions)

    @property
    def str(self) -> StringAccessor:
        """String methods applied to each element: ``b.str.lower()``, ``b.str.split()``, ``b.str.match(pattern)``.

        >>> import shoal.bag as db
        >>> db.from_sequence(["Alice Smith", "Bob Jones"]).str.lower().str.split().compute()
        [['alice', 'smith'], ['bob', 'jones']]
        """
        return StringAccessor(self)

    def take(self, k: int, npartitions: int = 1, compute: bool = True, warn: bool = True) -> Any:
        """The first ``k`` elements, as a tuple.

        Only the first ``npartitions`` partitions are computed (``-1`` for
        all of them), and within each only up to ``k`` elements are produced:
        ``read_text(...).map(json.loads).take(2)`` reads a few lines of the
        first file, not all of it.

        Parameters
        ----------
        k : int
            The number of elements wanted.
        npartitions : int
            How many leading partitions to take from (default 1; -1 for all).
        compute : bool
            Return the elements (default) or a lazy bag of them.
        warn : bool
            Warn (``UserWarning``) when fewer than ``k`` elements were found.

        Examples
        --------
        >>> import shoal.bag as db
        >>> db.from_sequence(range(1000), npartitions=10).take(3)
        (0, 1, 2)
        """
        if npartitions == -1:
            npartitions = self.npartitions
        if not 1 <= npartitions <= self.npartitions:
            raise ValueError(
                f"take(npartitions={npartitions}) asks for more partitions than {self!r} has; "
                f"pass a number from 1 to {self.npartitions}, or -1 for all."
            )
        token = tokenize(self.name, k, npartitions)
        name = f"take-{token}"
        pipeline = Pipeline([Take(k)], [1], "take")
        layer: dict[Key, Any] = {
            (f"take-part-{token}", i): Task((f"take-part-{token}", i), run_partition, pipeline, i, Ref((self.name, i)))
            for i in range(npartitions)
        }
        gather = Pipeline([Concat(), Take(k)], [npartitions, 0], "take")
        layer[(name, 0)] = Task((name, 0), run_partition, gather, 0,
                                *[Ref((f"take-part-{token}", i)) for i in range(npartitions)])
        taken = self._new_bag(layer, name, 1)
        if not compute:
            return taken
        result = tuple(taken.compute())
        if warn and len(result) < k:
            scope = "partition" if npartitions == 1 else f"{npartitions} partitions"
            warnings.warn(
                f"take({k}) found only {len(result)} elements in the first {scope} of {self!r}. "
                f"Pass npartitions=-1 to take from every partition (or warn=False to silence this).",
                UserWarning,
                stacklevel=2,
            )
        return result

    def to_delayed(self, optimize_graph: bool = True) -> list[Delayed]:
        """One :class:`~shoal.delayed.Delayed` per partition, each computing to a list.

        With ``optimize_graph=True`` (the default) they share the culled and
        fused graph.

        >>> import shoal.bag as db
        >>> parts = db.from_sequence(range(4), npartitions=2).map(lambda x: x + 1).to_delayed()
        >>> [p.compute() for p in parts]
        [[1, 2], [3, 4]]
        """
        keys = self.__dask_keys__()
        graph: Mapping[Key, Any] = self.__dask_graph__()
        if optimize_graph:
            graph = self.__dask_optimize__(graph, keys)
        return [Delayed(key, None, (), layer=graph) for key in keys]

    def to_dataframe(self, meta: Any = None, columns: Any = None, optimize_graph: bool = True) -> Any:
        """Create a ``shoal.dataframe.DataFrame`` with one pandas partition per bag partition.

        Elements must be dicts (keys become columns) or tuples/lists (with
        ``columns=`` naming them).

        Parameters
        ----------
        meta : pandas.DataFrame, dict or list of (name, dtype), optional
            The columns and dtypes of the result; inferred from the first
            element if omitted (which computes it).
        columns : list, optional
            Column names for tuple elements, or the columns to keep.
        optimize_graph : bool
            Fuse the bag's graph before handing partitions over.

        Raises
        ------
        ImportError
            If ``shoal.dataframe`` (or pandas) is not available.
        """
        try:
            # Optional and heavy: only this method needs the dataframe collection and pandas.
            dataframe = importlib.import_module("shoal.dataframe")
            pandas = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError(
                f"Bag.to_dataframe needs shoal.dataframe and pandas, which could not be imported ({exc}). "
                f"Install them (pip install 'shoal[dataframe]'), or build a pandas DataFrame from the "
                f"computed bag: pandas.DataFrame(bag.compute())."
            ) from exc
        converter = importlib.import_module("shoal.bag._dataframe")
        return converter.bag_to_dataframe(self, dataframe, pandas, meta=meta, columns=columns,
                                          optimize_graph=optimize_graph)

    def to_avro(self, filename: str | list[str], schema: Any, name_function: Any = None,
                storage_options: dict[str, Any] | None = None, codec: str = "null", sync_interval: int = 16000,
                metadata: dict[str, str] | None = None, compute: bool = True, **kwargs: Any) -> Any:
        """Write this bag of records to Avro files, one per partition (needs ``fastavro``).

        Mirrors ``dask.bag.Bag.to_avro``: ``filename`` is a pattern with
        ``*`` or a list of paths, ``schema`` the Avro schema every record
        matches, ``codec`` the block compression (``"null"``, ``"deflate"``,
        ...). Returns the paths written, or one :class:`~shoal.delayed.Delayed`
        per file with ``compute=False``; :func:`shoal.bag.read_avro` reads
        them back. Parameters and errors are described in the module
        ``shoal.bag._avro``.
        """
        # Looked up when called, like to_dataframe's converter: the Avro module builds bags, so it imports this one.
        avro = importlib.import_module("shoal.bag._avro")
        return avro.to_avro(self, filename, schema, name_function=name_function, storage_options=storage_options,
                            codec=codec, sync_interval=sync_interval, metadata=metadata, compute=compute, **kwargs)

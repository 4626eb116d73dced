"""Making bags: from Python sequences, delayed values, ranges, URLs, and from other bags."""

from __future__ import annotations

import builtins
import math
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from shoal.bag._collection import data_partitions
from shoal.bag._core import Bag
from shoal.bag._stages import Identity, Pipeline, Stage, run_partition, zip_partitions
from shoal.delayed import Delayed, finalize
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["bag_range", "bag_zip", "concat", "from_delayed", "from_sequence", "from_url"]

#: Up to this many elements, from_sequence defaults to one element per partition (as Dask does).
_SMALL = 100


def from_sequence(seq: Iterable[Any], partition_size: int | None = None, npartitions: int | None = None) -> Bag:
    """A bag of the elements of a Python sequence.

    Parameters
    ----------
    seq : iterable
        The elements; read once, now.
    partition_size : int, optional
        Elements per partition (the last one may be shorter).
    npartitions : int, optional
        How many partitions to aim for. As in Dask, it sets the partition
        size: ``ceil(n / npartitions)`` elements for up to 100 elements,
        ``floor(n / npartitions)`` beyond, so the count may differ a little
        (30 elements in 4 partitions: 8, 8, 8, 6). By default one partition
        per element up to 100 elements, and partitions of
        ``ceil(sqrt(n) / 10)`` elements beyond.

    Notes
    -----
    Mirrors ``dask.bag.from_sequence``, partition sizes included.
    Loading data into the driver and then into a bag ships it to the
    workers; when you can, make a bag of file names or ids and ``map`` a
    loading function over it instead.

    Examples
    --------
    >>> import shoal.bag as db
    >>> b = db.from_sequence(range(10), npartitions=3)
    >>> b.npartitions, b.map_partitions(len).compute()
    (3, [4, 4, 2])
    """
    items = list(seq)
    n = len(items)
    if partition_size is not None and npartitions is not None:
        raise ValueError("from_sequence takes partition_size= or npartitions=, not both.")
    if partition_size is not None:
        if partition_size < 1:
            raise ValueError(f"from_sequence needs partition_size >= 1, got {partition_size!r}.")
    elif npartitions is not None:
        if npartitions < 1:
            raise ValueError(f"from_sequence needs npartitions >= 1, got {npartitions!r}.")
        # Dask's rule, so that the same call cuts the same partitions: round the size up for short
        # sequences (never more partitions than asked), down for long ones (never longer partitions).
        partition_size = max(1, -(-n // npartitions) if n <= _SMALL else n // npartitions)
    else:
        partition_size = 1 if n <= _SMALL else math.ceil(math.sqrt(n) / math.sqrt(_SMALL))
    parts = [items[i:i + partition_size] for i in builtins.range(0, n, partition_size)]
    if not parts:
        parts = [[]]
    name = f"from-sequence-{tokenize(items, partition_size, npartitions)}"
    return Bag._from_layer(data_partitions(name, parts), name, len(parts))


def from_delayed(values: Delayed | Sequence[Delayed]) -> Bag:
    """A bag with one partition per delayed value, each computing to an iterable.

    >>> import shoal, shoal.bag as db
    >>> parts = [shoal.delayed(range)(i) for i in (2, 3)]
    >>> db.from_delayed(parts).compute()
    [0, 1, 0, 1, 2]
    """
    if isinstance(values, Delayed):
        values = [values]
    values = [v if isinstance(v, Delayed) else finalize(v) for v in values]
    if not values:
        raise ValueError("from_delayed needs at least one Delayed value.")
    name = f"bag-from-delayed-{tokenize(*values)}"
    pipeline = Pipeline([Identity()], [1], "bag-from-delayed")
    layer = {(name, i): Task((name, i), run_partition, pipeline, i, Ref(v.key)) for i, v in enumerate(values)}
    return Bag._from_layer(layer, name, len(values), values)


class _Range(Stage):
    __slots__ = ()

    def __call__(self, start: int, stop: int) -> range:
        return builtins.range(start, stop)


def bag_range(n: int, npartitions: int) -> Bag:
    """The integers ``0`` to ``n - 1``, in ``npartitions`` partitions (exported as ``range``).

    >>> import shoal.bag as db
    >>> db.range(5, npartitions=2).compute()
    [0, 1, 2, 3, 4]
    """
    if npartitions < 1:
        raise ValueError(f"range needs npartitions >= 1, got {npartitions!r}.")
    name = f"range-{tokenize(n, npartitions)}"
    pipeline = Pipeline([_Range()], [2], "range")
    bounds = [(j * n) // npartitions for j in builtins.range(npartitions + 1)]
    layer = {(name, j): Task((name, j), run_partition, pipeline, j, bounds[j], bounds[j + 1])
             for j in builtins.range(npartitions)}
    return Bag._from_layer(layer, name, npartitions)


def concat(bags: Sequence[Bag]) -> Bag:
    """One bag with the partitions of all ``bags``, one after the other.

    >>> import shoal.bag as db
    >>> db.concat([db.from_sequence([1, 2]), db.from_sequence([3])]).compute()
    [1, 2, 3]
    """
    bags = list(bags)
    if not bags:
        raise ValueError("concat needs at least one bag.")
    name = f"concat-{tokenize(*bags)}"
    pipeline = Pipeline([Identity()], [1], "concat")
    layer: dict[Key, Any] = {}
    k = 0
    for bag in bags:
        for i in builtins.range(bag.npartitions):
            layer[(name, k)] = Task((name, k), run_partition, pipeline, k, Ref((bag.name, i)))
            k += 1
    return Bag._from_layer(layer, name, k, bags)


class _Zip(Stage):
    __slots__ = ()

    def __call__(self, *parts: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        return zip_partitions(parts, "zip")


def bag_zip(*bags: Bag) -> Bag:
    """Zip bags partition by partition: a bag of tuples (exported as ``zip``).

    The bags must have the same number of partitions, and corresponding
    partitions the same length.

    Notes
    -----
    Mirrors ``dask.bag.zip``; difference: partitions of different lengths
    raise ``ValueError`` instead of silently dropping the extra elements.

    >>> import shoal.bag as db
    >>> a = db.from_sequence([1, 2, 3], npartitions=2)
    >>> db.zip(a, a.map(str)).compute()
    [(1, '1'), (2, '2'), (3, '3')]
    """
    if not bags:
        raise ValueError("zip needs at least one bag.")
    counts = {b.npartitions for b in bags}
    if len(counts) > 1:
        raise ValueError(
            f"zip needs bags with the same number of partitions, got {[b.npartitions for b in bags]}. "
            f"Repartition them alike first."
        )
    name = f"zip-{tokenize(*bags)}"
    pipeline = Pipeline([_Zip()], [len(bags)], "zip")
    layer = {(name, i): Task((name, i), run_partition, pipeline, i, *[Ref((b.name, i)) for b in bags])
             for i in builtins.range(bags[0].npartitions)}
    return Bag._from_layer(layer, name, bags[0].npartitions, bags)


class _UrlLines(Stage):
    __slots__ = ()

    def __call__(self, url: str) -> list[bytes]:
        with urllib.request.urlopen(url) as response:
            return list(response.readlines())

    def describe(self, url: str) -> str:
        return repr(url)


def from_url(urls: str | Sequence[str]) -> Bag:
    """A bag of the lines (as bytes) of the documents at ``urls``, one partition per URL.

    >>> import pathlib, tempfile, shoal.bag as db
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "page.txt"
    >>> _ = path.write_text("one\\ntwo\\n")
    >>> db.from_url(path.as_uri()).compute()
    [b'one\\n', b'two\\n']
    """
    if isinstance(urls, str):
        urls = [urls]
    name = f"from-url-{tokenize(list(urls))}"
    pipeline = Pipeline([_UrlLines()], [1], "from-url")
    layer = {(name, i): Task((name, i), run_partition, pipeline, i, url) for i, url in enumerate(urls)}
    return Bag._from_layer(layer, name, len(urls))


"""shoal.bag: parallel lists of Python objects.

A bag is a sequence of partitions, each a list of arbitrary Python objects,
with operations that mimic iterators, toolz and PySpark RDDs: ``map``,
``filter``, ``pluck``, ``flatten``, ``frequencies``, ``foldby``,
``groupby``, ... Mirrors ``dask.bag``: a Dask user changes
``import dask.bag as db`` to ``import shoal.bag as db``.

Bags run on the processes scheduler by default, since Python objects hold the
GIL; chains of element-wise steps and the per-partition half of reductions
run as one task per partition, so only small results move between processes.

>>> import shoal.bag as db
>>> b = db.from_sequence(["a b", "b c", "c"], npartitions=2)
>>> b.str.split().flatten().frequencies(sort=True).compute()
[('b', 2), ('c', 2), ('a', 1)]
"""

from __future__ import annotations

from shoal.bag import random
from shoal.bag._avro import read_avro
from shoal.bag._collection import Item
from shoal.bag._core import Bag
from shoal.bag._creation import bag_range as range
from shoal.bag._creation import bag_zip as zip
from shoal.bag._creation import concat, from_delayed, from_sequence, from_url
from shoal.bag._text import read_text
from shoal.bag._transform import map_bags as map
from shoal.bag._transform import map_partitions_bags as map_partitions
from shoal.bag._write import to_textfiles

__all__ = [
    "Bag",
    "Item",
    "concat",
    "from_delayed",
    "from_sequence",
    "from_url",
    "map",
    "map_partitions",
    "random",
    "range",
    "read_avro",
    "read_text",
    "to_textfiles",
    "zip",
]

"""The ``.str`` accessor: Python's string methods, applied to each element of a bag."""

from __future__ import annotations

import fnmatch
from functools import partial
from operator import methodcaller
from typing import TYPE_CHECKING, Any

from shoal.bag._collection import partitionwise
from shoal.bag._stages import Filter, Map, Stage
from shoal.graph.task import Key
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["StringAccessor"]


class StringAccessor:
    """String methods for a bag of strings: ``b.str.<method>(...)`` maps ``str.<method>`` over it.

    Any method of ``str`` works (``lower``, ``strip``, ``split``,
    ``replace``, ``startswith``, ...), plus :meth:`match`, which filters.

    Examples
    --------
    >>> import shoal.bag as db
    >>> b = db.from_sequence(["Alice Smith", "Bob Jones", "Charlie Smith"])
    >>> b.str.lower().compute()
    ['alice smith', 'bob jones', 'charlie smith']
    >>> b.str.split(" ").pluck(0).compute()
    ['Alice', 'Bob', 'Charlie']
    >>> b.str.match("*Smith").compute()
    ['Alice Smith', 'Charlie Smith']
    """

    def __init__(self, bag: Bag) -> None:
        self._bag = bag

    def __dir__(self) -> list[str]:
        return sorted(set(dir(type(self))) | {name for name in dir(str) if not name.startswith("_")})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(str, name):
            raise AttributeError(f"'str' has no method {name!r}, so bag.str has none either.")
        return partial(self._call, name)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Bag:
        bag = self._bag
        name = f"str-{method}-{tokenize(bag.name, method, args, kwargs)}"
        stage = Map(methodcaller(method, *args, **kwargs))
        return bag._new_bag(_layer(bag, name, stage), name, bag.npartitions)

    def match(self, pattern: str) -> Bag:
        """Keep the strings that match a shell-style ``pattern`` (``fnmatch``: ``*``, ``?``, ``[seq]``).

        >>> import shoal.bag as db
        >>> db.from_sequence(["a.json", "b.csv"]).str.match("*.json").compute()
        ['a.json']
        """
        bag = self._bag
        name = f"str-match-{tokenize(bag.name, pattern)}"
        stage = Filter(partial(fnmatch.fnmatch, pat=pattern))
        return bag._new_bag(_layer(bag, name, stage), name, bag.npartitions)


def _layer(bag: Bag, name: str, stage: Stage) -> dict[Key, Any]:
    return partitionwise(name, stage, [bag], [], bag.npartitions)

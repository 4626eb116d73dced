"""``from_graph``: a DataFrame or Series whose partitions are keys of a task graph written by hand.

The graph's own key names are kept: the collection gets keys
``(name_prefix-<token>, i)`` that are aliases of the given ``keys``, so the
partitions can sit under any names (Dask does the same). The graph, a dict or
a :class:`~shoal.highlevelgraph.HighLevelGraph`, is not copied; it is read
only when the collection is computed.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from typing import Any

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import FromGraph
from shoal.dataframe._meta import is_frame_like, make_meta
from shoal.graph.task import Alias, Key, is_key
from shoal.graph.tokenize import tokenize

__all__ = ["from_graph"]


def from_graph(layer: Mapping[Key, Any], _meta: Any, divisions: Sequence[Any] | None, keys: Sequence[Key],
               name_prefix: str) -> Any:
    """A collection whose partition ``i`` is the result of ``keys[i]`` in the graph ``layer``.

    Mirrors ``dask.dataframe.from_graph``.

    Parameters
    ----------
    layer : mapping
        A task graph (dict, legacy Dask tuple tasks allowed, or a
        ``HighLevelGraph``) that computes every key in ``keys``.
    _meta : pandas object
        An empty DataFrame, Series or Index with the partitions' structure
        (or anything :func:`shoal.dataframe.utils.make_meta` accepts).
    divisions : sequence or None
        ``len(keys) + 1`` index boundaries, or ``None`` entries (or ``None``
        itself) when they are unknown.
    keys : sequence of keys
        The key of each partition, in order.
    name_prefix : str
        The prefix of the new collection's name.

    Returns
    -------
    DataFrame, Series or Index

    Raises
    ------
    ValueError
        If ``keys`` is empty, ``divisions`` has the wrong length or a key is missing from ``layer``.
    TypeError
        If ``layer`` is not a mapping or a key is not a key.

    Examples
    --------
    >>> import pandas as pd
    >>> graph = {("parts", 0): pd.DataFrame({"x": [1, 2]}), ("parts", 1): pd.DataFrame({"x": [3]}, index=[2])}
    >>> df = from_graph(graph, pd.DataFrame({"x": pd.Series([], dtype="int64")}), (0, 2, 2),
    ...                 [("parts", 0), ("parts", 1)], "hand")
    >>> df.x.sum().compute()
    np.int64(6)
    """
    if not isinstance(layer, Mapping):
        raise TypeError(f"from_graph needs a task graph (a mapping of key -> task) as layer, got "
                        f"{type(layer).__name__}.")
    keys = list(keys)
    if not keys:
        raise ValueError("from_graph needs at least one partition key in keys.")
    for i, key in enumerate(keys):
        if not is_key(key):
            raise TypeError(f"keys[{i}] = {key!r} is not a key; keys are strings or tuples like ('name', 0).")
        if key not in layer:
            raise ValueError(
                f"keys[{i}] = {key!r} is not in the graph given as layer. Pass the keys of the tasks that "
                f"compute the partitions (for a collection x, x.__dask_keys__()), in order."
            )
    if divisions is None:
        divisions = (None,) * (len(keys) + 1)
    divisions = tuple(divisions)
    if len(divisions) != len(keys) + 1:
        raise ValueError(
            f"from_graph got {len(keys)} keys and {len(divisions)} divisions; divisions needs one more entry than "
            f"keys (the boundaries of each partition), or None for unknown divisions."
        )
    meta = _meta if is_frame_like(_meta) else make_meta(_meta)
    name = f"{name_prefix}-{tokenize(keys, divisions, meta)}"
    aliases = {(name, i): Alias((name, i), key) for i, key in enumerate(keys)}
    # ChainMap, not a merged dict: the graph is read when the collection is lowered to tasks, not here.
    return new_collection(FromGraph(ChainMap(aliases, layer), meta, divisions, name, name_prefix))

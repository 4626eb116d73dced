"""Collections from in-memory data and from delayed values: ``from_pandas``, ``from_dict``, ``from_delayed``."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._core import new_collection
from shoal.dataframe._expr import Expr, FromPandas
from shoal.dataframe._io.strings import convert_string_enabled, to_arrow_strings
from shoal.dataframe._meta import make_meta, meta_from_output
from shoal.delayed import Delayed
from shoal.graph.task import GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = ["from_delayed", "from_dict", "from_pandas"]


def _split_points(index: pd.Index, n_rows: int, chunksize: int, sort: bool) -> list[int]:
    """Row positions where partitions start; with a sorted index, equal labels never straddle two partitions."""
    starts = [0]
    pos = chunksize
    while pos < n_rows:
        if sort:
            # Move the cut forward past repeats of the label before it.
            while pos < n_rows and index[pos] == index[pos - 1]:
                pos += 1
            if pos >= n_rows:
                break
        starts.append(pos)
        pos += chunksize
    return starts


def from_pandas(data: pd.DataFrame | pd.Series, npartitions: int | None = None, chunksize: int | None = None,
                sort: bool = True) -> Any:
    """Split an in-memory pandas object into a shoal collection.

    Parameters
    ----------
    data : pandas.DataFrame or pandas.Series
    npartitions : int, optional
        How many partitions (at most; fewer when the data is short or when
        repeated index labels must stay together). Default 1.
    chunksize : int, optional
        Rows per partition instead of ``npartitions``.
    sort : bool
        Sort by the index first, so that divisions are known and ``loc``
        touches only the partitions it needs. ``False`` keeps the order and
        leaves divisions unknown.

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> df = sd.from_pandas(pd.DataFrame({"x": range(6)}), npartitions=3)
    >>> df.npartitions, df.divisions
    (3, (0, 2, 4, 5))
    """
    if isinstance(data, pd.Index):
        data = data.to_series()
    if not isinstance(data, pd.DataFrame | pd.Series):
        raise TypeError(f"from_pandas takes a pandas DataFrame or Series, got {type(data).__name__}")
    if npartitions is not None and chunksize is not None:
        raise ValueError("Pass npartitions= or chunksize=, not both")
    if npartitions is not None and npartitions < 1:
        raise ValueError(f"npartitions must be at least 1, got {npartitions}")
    if chunksize is not None and chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}")
    n_rows = len(data)
    # A shallow copy (copy-on-write in pandas 3): later in-place edits of the caller's object, such as
    # adding a column or renaming, must not change what this collection holds.
    data = data.copy(deep=False)
    if convert_string_enabled():
        data = to_arrow_strings(data)
    if sort and not data.index.is_monotonic_increasing:
        data = data.sort_index()
    if chunksize is None:
        chunksize = max(1, math.ceil(n_rows / (npartitions or 1)))
    token = tokenize(data, sort)
    if n_rows == 0:
        return new_collection(FromPandas(data, [(0, 0)], (None, None), None, token))
    starts = _split_points(data.index, n_rows, chunksize, sort)
    bounds = [(s, e) for s, e in zip(starts, [*starts[1:], n_rows], strict=True)]
    if sort and data.index.is_monotonic_increasing and not data.index.hasnans:
        divisions: tuple[Any, ...] = (*(data.index[s] for s in starts), data.index[-1])
        divisions = tuple(d.item() if isinstance(d, np.generic) else d for d in divisions)
    else:
        divisions = (None,) * (len(bounds) + 1)
    return new_collection(FromPandas(data, bounds, divisions, None, token))


def from_dict(data: dict[Any, Any], npartitions: int = 1, orient: str = "columns", dtype: Any = None,
              columns: Any = None) -> Any:
    """``from_pandas(pd.DataFrame.from_dict(data, ...), npartitions)``.

    >>> import shoal.dataframe as sd
    >>> sd.from_dict({"a": [1, 2, 3]}, npartitions=2).a.sum().compute()
    np.int64(6)
    """
    return from_pandas(pd.DataFrame.from_dict(data, orient=orient, dtype=dtype, columns=columns),
                       npartitions=npartitions)


class FromDelayed(Expr):
    """Partitions computed by ``Delayed`` values."""

    _parameters = ("values", "meta", "divisions_")
    _label = "from-delayed"

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        graph: dict[Key, GraphNode] = {}
        for i, value in enumerate(self.values):
            graph.update(value.__dask_graph__())
            graph[(self._name, i)] = Task((self._name, i), _check_partition, Ref(value.key), self.meta, i)
        return graph


def _check_partition(part: Any, meta: Any, i: int) -> Any:
    if isinstance(meta, pd.DataFrame):
        if not isinstance(part, pd.DataFrame):
            raise TypeError(f"from_delayed: partition {i} is a {type(part).__name__}, but meta is a DataFrame")
        if list(part.columns) != list(meta.columns):
            raise ValueError(
                f"from_delayed: partition {i} has columns {list(part.columns)}, but meta says "
                f"{list(meta.columns)}. Pass meta= matching every partition, or fix the function."
            )
    return part


def from_delayed(dfs: list[Delayed] | Delayed, meta: Any = None, divisions: Any = None, verify_meta: bool = True
                 ) -> Any:
    """A collection whose partitions are the results of ``Delayed`` values.

    Without ``meta`` the first value is computed to find the structure.

    Examples
    --------
    >>> import pandas as pd, shoal, shoal.dataframe as sd
    >>> parts = [shoal.delayed(pd.DataFrame)({"x": [i, i + 1]}) for i in (0, 10)]
    >>> sd.from_delayed(parts, meta={"x": "i8"}).x.sum().compute()
    np.int64(22)
    """
    values = [dfs] if isinstance(dfs, Delayed) else list(dfs)
    if not values:
        raise ValueError("from_delayed needs at least one Delayed value")
    for v in values:
        if not isinstance(v, Delayed):
            raise TypeError(f"from_delayed takes Delayed values, got {type(v).__name__}")
    if meta is None:
        meta = meta_from_output(values[0].compute())
    else:
        meta = make_meta(meta)
    if isinstance(divisions, str):
        # Dask's word, and Dask's refusal: finding sorted divisions would compute every partition.
        raise NotImplementedError(f"from_delayed: divisions={divisions!r} is not supported; compute the divisions "
                                  f"yourself (a sorted tuple of {len(values) + 1} index values: each partition's "
                                  f"first label, then the last partition's last) or pass divisions=None.")
    if divisions is None:
        divisions = (None,) * (len(values) + 1)
    elif len(divisions) != len(values) + 1:
        raise ValueError(f"divisions must have {len(values) + 1} entries (one more than the values), got "
                         f"{len(divisions)}")
    return new_collection(FromDelayed(values, meta, tuple(divisions)))

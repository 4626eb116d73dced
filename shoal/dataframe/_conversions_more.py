"""More conversions of DataFrame and Series: ``to_bag``, ``to_backend`` and ``visualize``.

``to_bag`` hands each partition to :mod:`shoal.bag` as one bag partition: the
rows become tuples or dicts (``format="tuple"``/``"dict"``), or, with
``format="frame"``, the bag partition holds one element, the pandas partition.
Dask makes the frame itself the bag partition, so that computing the bag
iterates the frames (yielding column labels); shoal's bag partitions are
lists, and a one-frame list keeps ``bag.map(len)`` and ``compute()`` meaningful.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from shoal.dataframe._core import FrameBase, new_collection
from shoal.graph.task import Key, Ref, Task
from shoal.graph.tokenize import tokenize

# Only the module-level function: shoal.dataframe re-exports everything listed here.
__all__ = ["to_bag"]

_FORMATS = ("tuple", "dict", "frame")


def _rows(part: Any, index: bool, format: str) -> Any:
    """One partition as bag elements (see :func:`to_bag`)."""
    if format == "frame":
        return [part]
    if isinstance(part, pd.Series):
        if format == "tuple":
            return list(part.items()) if index else part.tolist()
        records = part.to_frame().to_dict(orient="records")
    else:
        if format == "tuple":
            return [tuple(row) for row in part.itertuples(index=index, name=None)]
        records = part.to_dict(orient="records")
    if index:
        return [{"index": label, **record} for label, record in zip(part.index, records, strict=True)]
    return records


def to_bag(df: Any, index: bool = False, format: str = "tuple") -> Any:
    """A :class:`shoal.bag.Bag` of the rows of a DataFrame or Series; mirrors ``dask.dataframe.to_bag``.

    Parameters
    ----------
    df : DataFrame or Series
    index : bool
        Include the index: first in each tuple, under the key ``"index"`` in each dict, or, for a Series,
        as ``(label, value)`` pairs.
    format : {"tuple", "dict", "frame"}
        Rows as tuples, as ``{column: value}`` dicts, or one element per partition: the pandas partition
        (Dask makes the frame itself the bag partition; here ``compute()`` gives the list of frames).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}), npartitions=2)
    >>> df.to_bag().compute(scheduler="sync")
    [(1, 'a'), (2, 'b'), (3, 'c')]
    >>> df.to_bag(index=True, format="dict").compute(scheduler="sync")[0]
    {'index': 0, 'x': 1, 'y': 'a'}
    """
    from shoal.bag import Bag

    if not isinstance(df, FrameBase) or not isinstance(df._meta, pd.DataFrame | pd.Series):
        raise TypeError(f"to_bag needs a shoal DataFrame or Series, got {type(df).__name__}")
    if format not in _FORMATS:
        raise ValueError(f"to_bag(format={format!r}): use one of {list(_FORMATS)}")
    opt = df._opt()
    name = f"to-bag-{tokenize(opt._name, bool(index), format)}"
    layer: dict[Key, Any] = {
        (name, i): Task((name, i), _rows, Ref((opt._name, i)), bool(index), format) for i in range(df.npartitions)
    }
    return Bag._from_layer(layer, name, df.npartitions, (df,))


class MoreConvertMethods:
    """``to_bag``, ``to_backend`` and ``visualize`` of DataFrame and Series."""

    def to_bag(self, index: bool = False, format: str = "tuple") -> Any:
        """A bag of the rows; see :func:`shoal.dataframe.to_bag`."""
        return to_bag(self, index=index, format=format)

    def to_backend(self, backend: str | None = None, **kwargs: Any) -> Any:
        """This collection on another dataframe backend; shoal has only ``"pandas"``, so it returns itself.

        Mirrors Dask's ``to_backend``; any other backend (such as ``"cudf"``) raises ``ValueError``.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1]}), npartitions=1)
        >>> df.to_backend("pandas").compute().x.tolist()
        [1]
        """
        if backend not in (None, "pandas"):
            raise ValueError(f"to_backend({backend!r}): shoal supports only the 'pandas' dataframe backend. "
                             f"Compute the result and convert it yourself, e.g. cudf.from_pandas(df.compute()).")
        if kwargs:
            raise TypeError(f"to_backend('pandas') takes no further options, got {sorted(kwargs)}")
        return new_collection(self._expr)  # type: ignore[attr-defined]


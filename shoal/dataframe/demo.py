"""Random time series for examples, tests and benchmarks (``dask.dataframe.demo``).

:func:`make_timeseries` builds a lazy DataFrame on a regular time grid from
``start`` (included) to ``end`` (excluded), one row every ``freq``, split into
partitions at every ``partition_freq`` boundary. Each partition draws its own
values from a generator seeded with ``(seed, partition number)``, so a
partition is the same whenever and wherever it is computed, and nothing is
generated before ``compute()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._functions import from_map

__all__ = ["make_timeseries"]

#: Values of text and categorical columns.
NAMES = ["Ada", "Ben", "Cleo", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "June", "Kai", "Lea", "Max", "Nia",
         "Otto", "Pia", "Quin", "Rosa", "Sam", "Tess", "Uma", "Vic", "Wes", "Xia", "Yuri", "Zoe"]

_KINDS = {float: "float", "float": "float", "f8": "float", "float64": "float",
          int: "int", "int": "int", "i8": "int", "int64": "int",
          str: "str", "str": "str", object: "str", "object": "str", "string": "str",
          "category": "category"}


def _kind(column: Any, dtype: Any) -> str:
    try:
        return _KINDS[dtype]
    except (KeyError, TypeError):
        raise TypeError(f"make_timeseries: column {column!r} has dtype {dtype!r}; use float, int, str or "
                        f"'category'.") from None


def _grid(lo: pd.Timestamp, hi: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """The points of the grid ``start, start + freq, ...`` (before ``end``) that fall in ``[lo, hi)``."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        step = pd.Timedelta(offset)
        first = start + math.ceil((lo - start) / step) * step  # the grid runs on across partitions
        if first >= hi:
            return pd.DatetimeIndex([], dtype="datetime64[ns]", name="timestamp")
        return pd.date_range(first, hi, freq=freq, inclusive="left", name="timestamp", unit="ns")
    grid = pd.date_range(start, end, freq=freq, inclusive="left", name="timestamp", unit="ns")
    return grid[(grid >= lo) & (grid < hi)]


def _make_partition(piece: tuple[pd.Timestamp, pd.Timestamp, int], start: pd.Timestamp, end: pd.Timestamp,
                    freq: str, kinds: dict[Any, str], seed: int, lams: dict[Any, float]) -> pd.DataFrame:
    lo, hi, number = piece
    index = _grid(lo, hi, start, end, freq)
    rng = np.random.default_rng([seed, number])
    n = len(index)
    columns: dict[Any, Any] = {}
    for column, kind in kinds.items():
        if kind == "float":
            columns[column] = rng.uniform(-1.0, 1.0, n)
        elif kind == "int":
            columns[column] = rng.poisson(lams.get(column, 1000), n).astype("int64")
        else:
            codes = rng.integers(0, len(NAMES), n)
            if kind == "category":
                columns[column] = pd.Categorical.from_codes(codes, categories=NAMES)
            else:
                columns[column] = pd.Series([NAMES[c] for c in codes], dtype=pd.Series(NAMES).dtype).array
    return pd.DataFrame(columns, index=index)


def make_timeseries(start: Any = "2000-01-01", end: Any = "2000-12-31", dtypes: dict[Any, Any] | None = None,
                    freq: str = "10s", partition_freq: str = "1ME", seed: int | None = None, **kwargs: Any) -> Any:
    """A lazy DataFrame of random values on a regular time index; mirrors ``dask.dataframe.demo.make_timeseries``.

    Parameters
    ----------
    start, end : datetime-like
        The first row's time, and the time the rows stop before.
    dtypes : dict, optional
        Column name to ``float`` (uniform on [-1, 1)), ``int`` (Poisson, mean 1000), ``str`` (first names) or
        ``'category'`` (first names as a categorical). Default ``{"name": str, "id": int, "x": float,
        "y": float}``.
    freq : str
        Time between rows.
    partition_freq : str
        Partitions start at ``start`` and at every boundary of this frequency after it.
    seed : int, optional
        Makes the values reproducible; without it a seed is drawn once, when the collection is built.
    **kwargs
        ``<column>_lam=``: the mean of an ``int`` column.

    Notes
    -----
    Dask's divisions are ``date_range(start, end, partition_freq)``, so with
    the default ``'1ME'`` its data begins at the end of January; shoal's
    first partition begins at ``start``.

    Examples
    --------
    >>> import shoal.dataframe as sd
    >>> df = sd.demo.make_timeseries("2000-01-01", "2000-01-04", {"x": float, "n": int}, freq="1h",
    ...                              partition_freq="1D", seed=0)
    >>> df.npartitions, len(df), df.dtypes.tolist()
    (3, 72, [dtype('float64'), dtype('int64')])
    """
    dtypes = {"name": str, "id": int, "x": float, "y": float} if dtypes is None else dict(dtypes)
    kinds = {column: _kind(column, dtype) for column, dtype in dtypes.items()}
    lams: dict[Any, float] = {}
    for key, value in kwargs.items():
        column = key[:-len("_lam")] if key.endswith("_lam") else None
        if column not in kinds or kinds[column] != "int":
            raise TypeError(f"make_timeseries got an unexpected keyword {key!r}; the only per-column option is "
                            f"'<column>_lam' for an int column (columns: {list(kinds)}).")
        lams[column] = value
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        raise ValueError(f"make_timeseries: end ({end}) must come after start ({start})")
    bounds = pd.date_range(start, end, freq=partition_freq)
    divisions = [start, *(b for b in bounds if start < b < end), end]
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    pieces = [(divisions[i], divisions[i + 1], i) for i in range(len(divisions) - 1)]
    meta = _make_partition((start, start, 0), start, end, freq, kinds, seed, lams)
    return from_map(_make_partition, pieces, args=(start, end, freq, kinds, seed, lams), meta=meta,
                    divisions=tuple(divisions), label="make-timeseries")

"""``read_csv`` keywords that change how blocks parse: ``header=``, ``names=``, ``skiprows=``, ``assume_missing=``.

A file is cut into byte blocks (:mod:`.csv`). The first block is parsed with
the user's keywords as they are: pandas skips ``skiprows`` lines, takes row
``header`` after them as the column names (or none with ``header=None``, or
``names=``). A later block starts mid-file, so it is parsed with
``skiprows`` dropped and, when the file has a header row, that row's line put
in front and ``header=0``; with ``header=None`` nothing is put in front. This
is what Dask does; ``skiprows`` given as a list or a function therefore only
applies to the first block, as in Dask.

Keywords pandas' ``read_csv`` doesn't know are refused up front with the
``TypeError`` pandas itself would give, rather than surfacing as a failure to
parse the sample.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pandas as pd

__all__ = ["assume_missing", "block_kwargs", "check_keywords", "header_row", "read_header_line"]


@functools.cache
def _pandas_keywords() -> frozenset[str]:
    return frozenset(inspect.signature(pd.read_csv).parameters) - {"filepath_or_buffer"}


def check_keywords(kwargs: dict[str, Any], reader: str = "read_csv") -> None:
    """Raise ``TypeError`` naming the first keyword neither shoal's ``read_csv`` nor pandas' knows."""
    unknown = [k for k in kwargs if k not in _pandas_keywords()]
    if unknown:
        raise TypeError(f"{reader}() got an unexpected keyword argument {unknown[0]!r}: it is neither a keyword of "
                        f"dask.dataframe.{reader} nor of pandas.{reader}.")


def header_row(kwargs: dict[str, Any]) -> int | None:
    """The row (after ``skiprows``) holding the column names, or ``None`` when the file has none."""
    header = kwargs.get("header", "infer")
    if header == "infer":
        return None if kwargs.get("names") is not None else 0
    if header is None:
        return None
    if isinstance(header, int) and not isinstance(header, bool) and header >= 0:
        return header
    raise ValueError(f"read_csv supports header= as None, 'infer' or one row number, got {header!r}: several "
                     f"header rows (MultiIndex columns) can't be repeated in front of every block. Read with "
                     f"header=None, names=[...] instead.")


def _skipped_lines(kwargs: dict[str, Any]) -> int:
    skiprows = kwargs.get("skiprows")
    return skiprows if isinstance(skiprows, int) and not isinstance(skiprows, bool) else 0


def read_header_line(f: Any, kwargs: dict[str, Any]) -> bytes:
    """The header line put in front of later blocks (``b""`` with no header row), read from the open file."""
    row = header_row(kwargs)
    if row is None:
        return b""
    line = b""
    for _ in range(_skipped_lines(kwargs) + row + 1):
        line = f.readline()
    return line  # type: ignore[no-any-return]


def block_kwargs(kwargs: dict[str, Any], first: bool) -> dict[str, Any]:
    """The keywords a block is parsed with: the user's for the first block of a file; see the module docstring."""
    if first or ("skiprows" not in kwargs and kwargs.get("header", "infer") in ("infer", 0, None)):
        return kwargs
    later = {k: v for k, v in kwargs.items() if k != "skiprows"}
    later["header"] = 0 if header_row(kwargs) is not None else None
    return later


def assume_missing(sample: pd.DataFrame, kwargs: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Dask's ``assume_missing=True``: integer columns without a ``dtype=`` become ``float64`` (in the sample
    and, through ``dtype=``, in every block), so that a missing value further down parses as NaN."""
    given = kwargs.get("dtype")
    if given is not None and not isinstance(given, dict):
        return sample, kwargs  # one dtype for every column: nothing is left to assume
    given = dict(given or {})
    floats = {c: "float64" for c in sample.columns if sample.dtypes[c].kind in "iu" and c not in given}
    if not floats:
        return sample, kwargs
    return sample.astype(floats), {**kwargs, "dtype": {**given, **floats}}

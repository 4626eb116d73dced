"""Joining computed partitions into the one pandas frame ``compute()`` returns.

``pd.concat`` copies column after column on one thread, while the other
cores sit idle at the very end of a computation. For big frames whose
partitions agree on columns and dtypes, the NumPy-backed columns are
concatenated on a small thread pool instead (NumPy releases the GIL while it
copies), and the rest (Arrow strings, extension dtypes) through pandas
meanwhile. The result is what ``pd.concat(parts)`` gives: same columns,
dtypes and index.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["concat_frames"]

#: Below this many rows a single ``pd.concat`` is quicker than handing columns to threads.
PARALLEL_ROWS = 1_000_000
#: NumPy kinds copied by ``np.concatenate`` exactly as pandas would (booleans, numbers, naive datetimes).
_NUMPY_KINDS = frozenset("biufcmM")


def _parallel_ok(parts: list[pd.DataFrame]) -> bool:
    first = parts[0]
    columns = first.columns
    if isinstance(columns, pd.MultiIndex) or columns.has_duplicates or first.attrs:
        return False
    dtypes = first.dtypes
    return all(p.columns.equals(columns) and p.dtypes.equals(dtypes) and not p.attrs for p in parts[1:])


def concat_frames(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat(parts)``, with big NumPy columns copied on several threads."""
    threads = min(os.cpu_count() or 1, 4)
    if threads < 2 or len(parts) < 2 or sum(len(p) for p in parts) < PARALLEL_ROWS or not _parallel_ok(parts):
        return pd.concat(parts)
    first = parts[0]
    positions = range(first.shape[1])
    numeric = [i for i in positions if isinstance(first.dtypes.iloc[i], np.dtype)
               and first.dtypes.iloc[i].kind in _NUMPY_KINDS]
    if not numeric:
        return pd.concat(parts)
    others = [i for i in positions if i not in numeric]
    arrays: dict[int, Any] = {}
    with ThreadPoolExecutor(threads) as pool:
        futures = {i: pool.submit(np.concatenate, [p.iloc[:, i].to_numpy() for p in parts]) for i in numeric}
        # Meanwhile, on this thread: the index and the columns pandas must join itself.
        index = first.index.append([p.index for p in parts[1:]])
        if others:
            rest = pd.concat([p.iloc[:, others] for p in parts], ignore_index=True)
            for k, i in enumerate(others):
                arrays[i] = rest.iloc[:, k].array
        for i, future in futures.items():
            arrays[i] = future.result()
    # Series of the parts' own dtypes: from bare arrays pandas 3 would infer ``str`` for object columns.
    dtypes = first.dtypes
    out = pd.DataFrame({i: pd.Series(arrays[i], index=index, dtype=dtypes.iloc[i], copy=False) for i in positions},
                       copy=False)
    out.columns = first.columns
    return out

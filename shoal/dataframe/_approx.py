"""``nunique_approx``: distinct rows counted with HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007).

Every row is hashed to 64 bits (:func:`pandas.util.hash_pandas_object`, so
equal rows hash alike in every partition). The top ``_B = 16`` bits pick one
of ``m = 65536`` registers; a register keeps the largest *rank* seen, the
position of the first 1 bit in the remaining 48 bits. A partition's partial
is its register array (64 KiB), partials combine by element-wise maximum,
and the estimate is the bias-corrected harmonic mean of ``2**register``.

Relative standard error: ``1.04 / sqrt(m)``, about 0.41 %. Below ``2.5 m``
distinct values the estimator switches to linear counting (from the number
of empty registers), which is nearly exact for small sets: it is off only
when two values share a register (chance about ``n**2 / 2**17``, so 3 % for
60 values), and then by about one. Missing values
count as a value, as in Dask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shoal.dataframe._expr import Expr, TreeReduce

__all__ = ["RELATIVE_ERROR", "nunique_approx"]

#: Bits of the hash that choose the register.
_B = 16
_M = 1 << _B
#: Bits left for the rank.
_REST = 64 - _B
#: One standard deviation of the estimate, relative to the true count.
RELATIVE_ERROR = 1.04 / np.sqrt(_M)


def _registers(part: Any) -> np.ndarray:
    registers = np.zeros(_M, dtype=np.uint8)
    if len(part) == 0:
        return registers
    hashes = pd.util.hash_pandas_object(part, index=False).to_numpy()
    buckets = (hashes >> np.uint64(_REST)).astype(np.intp)
    rest = hashes & np.uint64((1 << _REST) - 1)
    # rest < 2**48 converts to float64 exactly, and frexp's exponent is then its exact bit length.
    _, bit_length = np.frexp(rest.astype(np.float64))
    rank = (_REST + 1 - bit_length).astype(np.uint8)
    np.maximum.at(registers, buckets, rank)
    return registers


def _merge(parts: list[np.ndarray]) -> np.ndarray:
    return np.maximum.reduce(parts) if len(parts) > 1 else parts[0]


def _estimate(parts: list[np.ndarray]) -> np.float64:
    registers = _merge(parts)
    alpha = 0.7213 / (1 + 1.079 / _M)
    raw = alpha * _M * _M / np.sum(np.ldexp(1.0, -registers.astype(np.int64)))
    empty = int(np.count_nonzero(registers == 0))
    if raw <= 2.5 * _M and empty:
        return np.float64(_M * np.log(_M / empty))
    return np.float64(raw)


def nunique_approx(expr: Expr, split_every: int | None = None) -> TreeReduce:
    """A scalar expression: the approximate number of distinct rows (or values, for a Series)."""
    return TreeReduce([expr], _registers, _merge, _estimate, np.float64(0.0), "nunique-approx", None, split_every)

"""Which foreign array types shoal treats as chunk types rather than deferring to them.

In a binary operation ``x + other`` a shoal array handles ``other`` itself
only when it is a type it knows how to hold in its blocks (NumPy arrays and
scalars, lists, and whatever :func:`register_chunk_type` added); for any
other type it returns ``NotImplemented`` so that Python asks ``other`` (a
type above shoal in NEP 13's casting hierarchy, say) to handle the operation.
The registry lives here, below :mod:`._elementwise`, so the operators can read
it without an upward import.
"""

from __future__ import annotations

import builtins

import numpy as np

__all__ = ["HANDLED_CHUNK_TYPES", "register_chunk_type"]

#: Types a shoal array operates on directly in binary operators (grows with register_chunk_type).
HANDLED_CHUNK_TYPES: list[type] = [np.ndarray, np.ma.MaskedArray]


def register_chunk_type(type: type) -> None:  # noqa: A002 - Dask's parameter name
    """Register ``type`` as a chunk type: shoal arrays operate on it instead of deferring to it.

    Mirrors ``dask.array.register_chunk_type``. Use it for duck arrays that
    sit *below* shoal arrays in the casting hierarchy, so that
    ``shoal_array + duck`` builds a lazy shoal array.

    Parameters
    ----------
    type : type
        The duck-array class.

    Examples
    --------
    >>> class Tiny:
    ...     def __array__(self, dtype=None, copy=None):
    ...         return np.ones(2)
    >>> register_chunk_type(Tiny)
    >>> Tiny in HANDLED_CHUNK_TYPES
    True
    """
    if not isinstance(type, builtins.type):
        raise TypeError(f"register_chunk_type expects a class, got {type!r} of type {builtins.type(type).__name__}.")
    if type not in HANDLED_CHUNK_TYPES:
        HANDLED_CHUNK_TYPES.append(type)


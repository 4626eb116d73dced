"""Joining blocks of any chunk type: ``concatenate_lookup``, a dispatch on the blocks' type.

Computing an array, rechunking it and tree reductions all join neighbouring
blocks. ``np.concatenate`` is right for plain NumPy blocks, but it drops the
masks of ``np.ma.MaskedArray`` blocks and cannot join ``scipy.sparse``
matrices at all. As Dask's ``concatenate_lookup`` does, the join is chosen by
the type of the first block that is not a plain ``ndarray`` (so a masked
block among plain ones still gives a masked result), and libraries with
their own chunk types register theirs::

    @concatenate_lookup.register(MyChunk)
    def _(parts, axis=0): ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shoal.array._ma_chunk import concatenate_masked
from shoal.graph.dispatch import Dispatch

__all__ = ["concatenate_chunks", "concatenate_lookup"]

concatenate_lookup = Dispatch("concatenate")
concatenate_lookup.register((object, np.ndarray), lambda parts, axis=0: np.concatenate(parts, axis=axis))
concatenate_lookup.register(np.ma.MaskedArray, concatenate_masked)


@concatenate_lookup.register_lazy("scipy")
def _register_scipy() -> None:
    import scipy.sparse as sp

    def join_sparse(parts: list[Any], axis: int = 0) -> Any:
        # Sparse matrices are 2-d; keep the first block's storage format (csr stays csr).
        if axis not in (0, 1, -1, -2):
            raise ValueError(f"scipy.sparse blocks are 2-d and join along axis 0 or 1, not {axis}.")
        stack = sp.vstack if axis in (0, -2) else sp.hstack
        return stack(parts, format=getattr(parts[0], "format", None))

    concatenate_lookup.register(sp.spmatrix, join_sparse)
    if hasattr(sp, "sparray"):
        concatenate_lookup.register(sp.sparray, join_sparse)


def concatenate_chunks(parts: list[Any], axis: int = 0) -> Any:
    """Join ``parts`` along ``axis`` with the handler for their chunk type (``np.concatenate`` for NumPy).

    >>> concatenate_chunks([np.array([1, 2]), np.array([3])]).tolist()
    [1, 2, 3]
    >>> out = concatenate_chunks([np.array([1.0]), np.ma.masked_array([2.0], mask=[True])])
    >>> out.mask.tolist()
    [False, True]
    """
    for part in parts:
        if type(part) is not np.ndarray:
            return concatenate_lookup.dispatch(type(part))(parts, axis=axis)
    return np.concatenate(parts, axis=axis)

"""Dispatch tables for chunk types; mirrors ``dask.array.dispatch``.

``concatenate_lookup`` chooses how blocks of a chunk type are joined when an
array is computed, rechunked or reduced. NumPy, masked arrays and
``scipy.sparse`` matrices are registered; register your own chunk type with::

    from shoal.array.dispatch import concatenate_lookup

    @concatenate_lookup.register(MyChunk)
    def _(parts, axis=0):
        return MyChunk.join(parts, axis)
"""

from __future__ import annotations

from shoal.array._concatenate import concatenate_lookup

__all__ = ["concatenate_lookup"]

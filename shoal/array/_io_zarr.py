"""Zarr arrays in and out: ``to_zarr`` (through :func:`shoal.array.store`) and ``from_zarr``.

``to_zarr`` needs no lock when each block covers whole zarr chunks (it
rechunks irregular arrays to make that so), and takes one otherwise. A new
local store is written under a temporary name and renamed into place once
every block is written.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from typing import Any

from shoal.array._base import ArrayBase
from shoal.array._from_array import asarray, from_array
# The writer's building blocks are shared with store and to_hdf5.
from shoal.array._io import (
    _delayed_over,
    _is_local_path,
    _region_offsets,
    _replace_path,
    _store_layer,
    _temporary_name,
    store,
)
from shoal.array._rechunk import rechunk

__all__ = ["ZarrMethods", "from_zarr", "to_zarr"]


def _aligned(chunks: Any, zchunks: tuple[int, ...], offsets: tuple[int, ...]) -> bool:
    """Whether every block boundary falls on a zarr chunk boundary (so writes never share a zarr chunk)."""
    for dim_chunks, z, start in zip(chunks, zchunks, offsets, strict=True):
        position = start
        for length in dim_chunks[:-1]:
            position += length
            if position % z:
                return False
        if start % z:
            return False
    return True


def _regular(chunks: Any) -> bool:
    """All blocks equal along each dimension, except a shorter last one."""
    return all(len(set(c[:-1])) <= 1 and (len(c) < 2 or c[-1] <= c[0]) for c in chunks)


def to_zarr(arr: Any, url: Any, component: str | None = None, storage_options: dict[str, Any] | None = None,
            overwrite: bool = False, region: Any = None, compute: bool = True, return_stored: bool = False,
            **kwargs: Any) -> Any:
    """Write an array to a zarr array: a path or URL (a new array) or an existing ``zarr.Array``.

    Parameters
    ----------
    arr : Array
    url : str, path, or zarr.Array
        Where to write. ``"s3://..."`` and other fsspec URLs work with ``storage_options``.
    component : str, optional
        Path of the array inside a zarr group.
    overwrite : bool
        Replace an existing array at ``url``.
    region : tuple of slices, optional
        Where to write inside an existing ``zarr.Array``.
    compute, return_stored
        As for :func:`store`.
    **kwargs
        Passed to ``zarr.create_array`` (``compressors=``, ``zarr_format=``, ...).

    Notes
    -----
    Mirrors ``dask.array.to_zarr``. Differences: arrays with irregular chunks
    are rechunked to regular ones (Dask raises), and a new local array is
    written under a temporary name and renamed into place when complete.

    Examples
    --------
    >>> import tempfile, os, numpy as np, shoal.array as sa
    >>> path = os.path.join(tempfile.mkdtemp(), "x.zarr")
    >>> to_zarr(sa.arange(10, chunks=4), path)
    >>> from_zarr(path).compute()
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    import zarr

    arr = arr if isinstance(arr, ArrayBase) else asarray(arr)
    if any(isinstance(s, float) and math.isnan(s) for s in arr.shape):
        raise ValueError(
            f"to_zarr: the array {arr.name!r} has unknown chunk sizes {arr.chunks}. Call x.compute_chunk_sizes() "
            f"first."
        )
    if isinstance(url, zarr.Array):
        placement = _region_offsets(region, url, arr, 0)
        # Parallel partial writes to one zarr chunk would lose updates: lock unless aligned (a stepped region
        # spreads each block over the target's chunks).
        starts = tuple(start for start, _ in placement)
        aligned = all(step == 1 for _, step in placement) and _aligned(arr.chunks, tuple(url.chunks), starts)
        lock = not aligned if arr.ndim else False
        return store(arr, url, lock=lock, regions=region, compute=compute, return_stored=return_stored)
    if region is not None:
        raise ValueError("to_zarr: region= needs an existing zarr.Array as url; open it with zarr.open_array first.")
    if not _regular(arr.chunks):
        arr = rechunk(arr, tuple(max(c) if c else 0 for c in arr.chunks))
    zchunks = tuple(max(1, int(c[0])) for c in arr.chunks)
    temporary = None
    if _is_local_path(url) and component is None and not return_stored:
        path = os.fspath(url)
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"to_zarr: {path} already exists; pass overwrite=True to replace it.")
        temporary = _temporary_name(path)
    create_kwargs = dict(kwargs)
    if storage_options:
        create_kwargs["storage_options"] = storage_options
    target = zarr.create_array(store=temporary or url, name=component, shape=tuple(int(s) for s in arr.shape),
                               dtype=arr.dtype, chunks=zchunks, overwrite=overwrite, **create_kwargs)
    if temporary is None:
        return store(arr, target, lock=False, compute=compute, return_stored=return_stored)
    layer, deps = _store_layer(arr, target, None, None, f"store-map-{uuid.uuid4().hex}", False, 0)
    done = _delayed_over(list(layer), layer, deps, actions=[(_replace_path, temporary, os.fspath(url), overwrite)])
    if not compute:
        return done
    try:
        done.compute()
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return None


def from_zarr(url: Any, component: str | None = None, storage_options: dict[str, Any] | None = None,
              chunks: Any = None, name: str | None = None, inline_array: bool = False, **kwargs: Any) -> Any:
    """Read a zarr array (a path, URL or ``zarr.Array``) as a shoal array, chunk by chunk.

    ``chunks`` defaults to the zarr chunks. Extra keyword arguments go to
    ``zarr.open_array``. Mirrors ``dask.array.from_zarr``.

    >>> import numpy as np, zarr
    >>> z = zarr.create_array(store={}, shape=(4,), chunks=(2,), dtype="i8")
    >>> z[:] = np.arange(4)
    >>> from_zarr(z).chunks
    ((2, 2),)
    """
    import zarr

    if isinstance(url, zarr.Array):
        z = url
    else:
        open_kwargs = dict(kwargs)
        if storage_options:
            open_kwargs["storage_options"] = storage_options
        try:
            z = zarr.open_array(store=url, path=component or "", mode="r", **open_kwargs)
        except FileNotFoundError as exc:
            where = f"{url!s}" + (f" (component {component!r})" if component else "")
            raise FileNotFoundError(f"from_zarr: no zarr array at {where}.") from exc
    chunks = tuple(z.chunks) if chunks is None else chunks
    # The data behind a path can change between calls: never reuse another read's keys.
    name = name or f"from-zarr-{uuid.uuid4().hex}"
    return from_array(z, chunks=chunks, name=name, inline_array=inline_array, asarray=True)


class ZarrMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def to_zarr(self, *args: Any, **kwargs: Any) -> Any:
        """Write this array to a zarr array; see :func:`to_zarr`."""
        return to_zarr(self, *args, **kwargs)

"""Arrays in and out of storage: ``store``, ``to_hdf5``, npy stacks (zarr: :mod:`._io_zarr`).

``store`` is the one writer: every block becomes a task that computes the
block and writes it into ``target[region of the block]``; the other writers
create the target (a zarr array, an HDF5 dataset) and call it. Blocks are
written as they are computed and released at once, so an array larger than
memory streams to disk. Block computation and its write are fused into one
task, so no finished block waits in memory for a separate writer task.

Concurrency
    Writes of different blocks run in parallel. ``lock=True`` (the default
    of ``store``) serializes them for targets that are not thread-safe;
    ``to_zarr`` needs no lock when each block covers whole zarr chunks (it
    rechunks irregular arrays to make that so), and takes one otherwise.

Files
    Where the destination is a new local path, writers produce it under a
    temporary name next to it and rename it into place once every block is
    written, so a crash never leaves a half-written file under the real
    name. (Appending to an existing HDF5 file, or writing into an existing
    zarr array, happens in place.)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

from shoal.array._base import ArrayBase, collect_graph, new_array
from shoal.array._chunks import normalize_chunks, slices_from_chunks
from shoal.array._from_array import asarray
from shoal.array._rechunk import rechunk
from shoal.delayed import Delayed
from shoal.graph.fuse import fuse_linear
from shoal.graph.task import Key, Ref, Task
from shoal.utils import SerializableLock

__all__ = [
    "IOMethods",
    "from_npy_stack",
    "store",
    "to_hdf5",
    "to_npy_stack",
]


# -- tasks ---------------------------------------------------------------------------

def _store_block(block: Any, target: Any, index: tuple[slice, ...], lock: Any, return_stored: bool) -> Any:
    if lock is not None:
        with lock:
            target[index] = block
    else:
        target[index] = block
    return block if return_stored else None


def _load_stored(target: Any, index: tuple[slice, ...], lock: Any) -> np.ndarray:
    if lock is not None:
        with lock:
            return np.asarray(target[index])
    return np.asarray(target[index])


def _finish(done: list[Any], *actions: tuple[Any, ...]) -> None:
    """Run the clean-up steps (renames) once every block is written."""
    for func, *args in actions:
        func(*args)


def _replace_path(temporary: str, final: str, overwrite: bool) -> None:
    if os.path.isdir(final) and not os.path.islink(final):
        if not overwrite:
            raise FileExistsError(f"{final} appeared while it was being written; the new data is in {temporary}.")
        shutil.rmtree(final)
    os.replace(temporary, final)


# -- store ---------------------------------------------------------------------------

def _resolve_lock(lock: Any) -> Any:
    if lock is True:
        return SerializableLock()
    return lock or None


def _region_offsets(region: Any, target: Any, source: ArrayBase, position: int) -> tuple[tuple[int, int], ...]:
    """Where ``source`` goes in ``target``: ``(start, step)`` per axis of the region, checked against the shapes."""
    shape = tuple(int(s) for s in source.shape)
    target_shape = getattr(target, "shape", None)
    if region is None:
        if target_shape is not None and tuple(target_shape) != shape:
            raise ValueError(
                f"store: source {position} has shape {shape} but its target has shape {tuple(target_shape)}. "
                f"Pass regions= to write into part of the target."
            )
        return ((0, 1),) * len(shape)
    region = region if isinstance(region, tuple) else (region,)
    if len(region) > len(shape) and len(shape) > 0 or any(not isinstance(r, slice) for r in region):
        raise ValueError(f"store: region {region!r} must be a tuple of slices, one per dimension of {shape}.")
    placement = []
    for d, length in enumerate(shape):
        piece = region[d] if d < len(region) else slice(None)
        full = int(target_shape[d]) if target_shape is not None else None
        if full is not None:
            start, stop, step = piece.indices(full)
        elif (piece.step or 1) < 0 or any(v is not None and v < 0 for v in (piece.start, piece.stop)):
            raise ValueError(f"store: region {region!r} counts from the end of a target whose shape is not known "
                             f"yet; give non-negative starts, stops and steps.")
        else:
            start, stop, step = piece.start or 0, piece.stop if piece.stop is not None else length, piece.step or 1
        covered = len(range(start, stop, step))
        if covered != length:
            raise ValueError(
                f"store: region {region!r} covers {covered} along axis {d}, but source {position} has "
                f"length {length} there (shape {shape})."
            )
        placement.append((start, step))
    return tuple(placement)


def _in_target(slices: tuple[slice, ...], placement: tuple[tuple[int, int], ...]) -> tuple[slice, ...]:
    """The part of the target that a block (``slices`` of the source) fills, given the region's placement."""
    out = []
    for s, (start, step) in zip(slices, placement, strict=True):
        stop = start + step * s.stop
        # With a negative step a stop before index 0 must be None: -1 would mean the last element.
        out.append(slice(start + step * s.start, stop if stop >= 0 else None, step))
    return tuple(out)


def _store_layer(source: ArrayBase, target: Any, region: Any, lock: Any, name: str, return_stored: bool,
                 position: int) -> tuple[dict[Key, Any], list[Any]]:
    if any(isinstance(s, float) and math.isnan(s) for s in source.shape):
        raise ValueError(
            f"store: source {position} ({source.name!r}) has unknown chunk sizes {source.chunks}, so the place "
            f"of each block in the target is not known. Call x.compute_chunk_sizes() first."
        )
    deps: list[Any] = [source]
    if isinstance(target, Delayed):
        deps.append(target)
        target_arg: Any = Ref(target.key)
    else:
        target_arg = target
    offsets = _region_offsets(region, target if not isinstance(target, Delayed) else None, source, position)
    layer: dict[Key, Any] = {}
    for index, slices in zip(product(*(range(n) for n in source.numblocks)), slices_from_chunks(source.chunks),
                             strict=True):
        where = _in_target(slices, offsets)
        key = (name, *index) if index else (name,)
        source_key = (source.name, *index) if index else (source.name,)
        layer[key] = Task(key, _store_block, Ref(source_key), target_arg, where, lock, return_stored)
    return layer, deps


def _delayed_over(keys: list[Key], layer: dict[Key, Any], deps: list[Any], actions: Sequence[tuple[Any, ...]] = (),
                  prefix: str = "store") -> Delayed:
    """One Delayed that finishes when every key in ``keys`` has run (then runs ``actions``)."""
    final = f"{prefix}-{uuid.uuid4().hex}"
    graph: dict[Key, Any] = {}
    for dep in deps:
        graph.update(collect_graph(dep) if hasattr(dep, "_layer") and not isinstance(dep, Delayed)
                     else dep.__dask_graph__())
    graph.update(layer)
    graph[final] = Task(final, _finish, [Ref(k) for k in keys], *actions)
    # Fuse "compute the block, write it" into one task per block (see the module docstring).
    fused, _ = fuse_linear(graph, [final])
    return Delayed(final, None, (), layer=fused)


def store(sources: Any, targets: Any, lock: Any = True, regions: Any = None, compute: bool = True,
          return_stored: bool = False, **kwargs: Any) -> Any:
    """Write arrays block by block into anything that supports ``target[slices] = block``.

    Parameters
    ----------
    sources : Array or list of Array
    targets : array-like or list of array-likes
        NumPy arrays, h5py or zarr datasets, memory maps, or Delayed values
        computing to such objects; one per source.
    lock : bool or Lock
        Serialize the writes: ``True`` makes one lock shared by all of them;
        ``False`` lets them run in parallel (for thread-safe targets).
    regions : tuple of slices or list of them, optional
        Where in each target its source goes (contiguous slices).
    compute : bool
        Write now (the default), or return a Delayed that writes when computed.
    return_stored : bool
        Return arrays holding the stored data: read back from the targets if
        ``compute=True``, or arrays that write their blocks as they are
        computed if ``compute=False``.
    **kwargs
        Passed to ``compute``.

    Returns
    -------
    None, a Delayed (``compute=False``), or with ``return_stored=True`` the stored array (one source,
    as Dask returns it) or a tuple of them (several sources).

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> x = sa.arange(6, chunks=4) * 10
    >>> out = np.zeros(6, dtype=int)
    >>> store(x, out)
    >>> out
    array([ 0, 10, 20, 30, 40, 50])
    >>> big = np.zeros(8, dtype=int)
    >>> store(x, big, regions=(slice(2, 8),))
    >>> big
    array([ 0,  0,  0, 10, 20, 30, 40, 50])
    """
    single = isinstance(sources, ArrayBase) or not isinstance(sources, list | tuple)
    sources = [sources] if single else list(sources)
    targets = [targets] if single and not (isinstance(targets, list | tuple) and len(targets) == 1) else \
        list(targets) if isinstance(targets, list | tuple) else [targets]
    if len(sources) != len(targets):
        raise ValueError(f"store got {len(sources)} sources but {len(targets)} targets; give one target per source.")
    sources = [s if isinstance(s, ArrayBase) else asarray(s) for s in sources]
    if regions is None or isinstance(regions, tuple | slice):
        regions = [regions] * len(sources)
    elif len(regions) != len(sources):
        raise ValueError(f"store got {len(regions)} regions for {len(sources)} sources; give one region each.")
    lock = _resolve_lock(lock)
    names = [f"store-map-{uuid.uuid4().hex}" for _ in sources]
    layers = [_store_layer(s, t, r, lock, n, return_stored, i)
              for i, (s, t, r, n) in enumerate(zip(sources, targets, regions, names, strict=True))]

    if return_stored and not compute:
        return _one_or_tuple([new_array(layer, name, s.chunks, s.dtype, deps=tuple(deps), meta=s._meta)
                              for (layer, deps), name, s in zip(layers, names, sources, strict=True)])
    all_layer: dict[Key, Any] = {}
    all_deps: list[Any] = []
    for layer, deps in layers:
        all_layer.update(layer)
        all_deps.extend(deps)
    done = _delayed_over(list(all_layer), all_layer, all_deps)
    if not compute:
        return done
    done.compute(**kwargs)
    if not return_stored:
        return None
    return _one_or_tuple([_load_array(s, t, r, lock, i)
                          for i, (s, t, r) in enumerate(zip(sources, targets, regions, strict=True))])


def _one_or_tuple(arrays: list[Any]) -> Any:
    # Dask returns the array itself when there is one source, even one given in a list.
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _load_array(source: ArrayBase, target: Any, region: Any, lock: Any, position: int) -> Any:
    """An array reading back, block by block, what ``store`` wrote into ``target``."""
    if isinstance(target, Delayed):
        target = target.compute()
    offsets = _region_offsets(region, target, source, position)
    name = f"load-stored-{uuid.uuid4().hex}"
    layer: dict[Key, Any] = {}
    for index, slices in zip(product(*(range(n) for n in source.numblocks)), slices_from_chunks(source.chunks),
                             strict=True):
        where = _in_target(slices, offsets)
        key = (name, *index) if index else (name,)
        layer[key] = Task(key, _load_stored, target, where, lock)
    return new_array(layer, name, source.chunks, source.dtype, meta=source._meta)


# -- zarr ----------------------------------------------------------------------------

def _is_local_path(url: Any) -> bool:
    return isinstance(url, str | os.PathLike) and "://" not in os.fspath(url)


def _temporary_name(path: str) -> str:
    head, tail = os.path.split(os.path.abspath(path))
    return os.path.join(head, f".{tail}.tmp-{uuid.uuid4().hex[:12]}")


# -- HDF5 ----------------------------------------------------------------------------

def to_hdf5(filename: Any, *args: Any, chunks: Any = True, **kwargs: Any) -> None:
    """Write one or more arrays to datasets of an HDF5 file (with h5py).

    Call as ``to_hdf5(filename, "/x", x)`` or ``to_hdf5(filename, {"/x": x, "/y": y})``.
    ``chunks=True`` gives the datasets the arrays' chunk shape; other keyword
    arguments (``compression="gzip"``, ...) go to ``h5py.File.require_dataset``.
    The writes share one lock, since HDF5 is not safe for parallel writes.

    A new file is written under a temporary name and renamed when complete;
    an existing file is added to in place.

    >>> import os, tempfile, h5py, shoal.array as sa
    >>> path = os.path.join(tempfile.mkdtemp(), "data.h5")
    >>> to_hdf5(path, "/x", sa.ones((4, 4), chunks=2))
    >>> with h5py.File(path, "r") as f:
    ...     f["/x"][:].sum(), f["/x"].chunks
    (np.float64(16.0), (2, 2))
    """
    import h5py

    if len(args) == 1 and isinstance(args[0], dict):
        data = dict(args[0])
    elif len(args) == 2 and isinstance(args[0], str):
        data = {args[0]: args[1]}
    else:
        raise TypeError("to_hdf5 takes (filename, datapath, array) or (filename, {datapath: array, ...}).")
    data = {path: value if isinstance(value, ArrayBase) else asarray(value) for path, value in data.items()}
    for path, value in data.items():
        if any(isinstance(s, float) and math.isnan(s) for s in value.shape):
            raise ValueError(f"to_hdf5: array for {path!r} has unknown chunk sizes; call x.compute_chunk_sizes().")
    final = os.fspath(filename)
    temporary = None if os.path.exists(final) else _temporary_name(final)
    try:
        with h5py.File(temporary or final, mode="a") as f:
            datasets = []
            for path, value in data.items():
                shape = tuple(int(s) for s in value.shape)
                if chunks is True:
                    dataset_chunks = tuple(max(1, int(c[0])) for c in value.chunks) if value.ndim and all(shape) \
                        else None
                else:
                    dataset_chunks = chunks
                datasets.append(f.require_dataset(path, shape=shape, dtype=value.dtype, chunks=dataset_chunks,
                                                  **kwargs))
            store(list(data.values()), datasets, lock=True)
    except BaseException:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)
        raise
    if temporary is not None:
        os.replace(temporary, final)


# -- npy stacks ----------------------------------------------------------------------

_INFO = "info.json"


def _save_block(block: np.ndarray, path: str) -> None:
    temporary = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    with open(temporary, "wb") as f:
        np.save(f, block, allow_pickle=False)
    os.replace(temporary, path)


def _write_info(dirname: str, info: dict[str, Any]) -> None:
    temporary = os.path.join(dirname, f"{_INFO}.tmp-{uuid.uuid4().hex[:12]}")
    with open(temporary, "w") as f:
        json.dump(info, f)
    os.replace(temporary, os.path.join(dirname, _INFO))


def to_npy_stack(dirname: Any, x: Any, axis: int = 0) -> None:
    """Write an array as a directory of ``.npy`` files, one per block along ``axis``.

    The array is first rechunked to one block along every other axis. Each
    file is written under a temporary name and renamed; the ``info.json``
    describing the stack comes last, so an interrupted write is never read as
    complete. Read it back with :func:`from_npy_stack`.

    >>> import os, tempfile, shoal.array as sa
    >>> path = tempfile.mkdtemp()
    >>> to_npy_stack(path, sa.arange(10, chunks=4))
    >>> sorted(os.listdir(path))
    ['0.npy', '1.npy', '2.npy', 'info.json']
    >>> from_npy_stack(path).chunks
    ((4, 4, 2),)
    """
    x = x if isinstance(x, ArrayBase) else asarray(x)
    if x.ndim == 0:
        raise ValueError("to_npy_stack needs an array with at least one dimension; got a 0-d array.")
    if not -x.ndim <= axis < x.ndim:
        raise np.exceptions.AxisError(f"to_npy_stack: axis {axis} is out of bounds for an array of dimension "
                                      f"{x.ndim}.")
    axis %= x.ndim
    if any(isinstance(s, float) and math.isnan(s) for s in x.shape):
        raise ValueError(f"to_npy_stack: {x.name!r} has unknown chunk sizes; call x.compute_chunk_sizes() first.")
    wanted = tuple(c if d == axis else (int(x.shape[d]),) for d, c in enumerate(x.chunks))
    if wanted != x.chunks:
        x = rechunk(x, wanted)
    dirname = os.fspath(dirname)
    os.makedirs(dirname, exist_ok=True)
    name = f"to-npy-stack-{uuid.uuid4().hex}"
    layer: dict[Key, Any] = {}
    for i in range(x.numblocks[axis]):
        index = tuple(i if d == axis else 0 for d in range(x.ndim))
        layer[(name, i)] = Task((name, i), _save_block, Ref((x.name, *index)), os.path.join(dirname, f"{i}.npy"))
    _delayed_over(list(layer), layer, [x]).compute()
    info = {"chunks": [[int(v) for v in c] for c in x.chunks], "dtype": np.lib.format.dtype_to_descr(x.dtype),
            "axis": axis}
    _write_info(dirname, info)


def from_npy_stack(dirname: Any, mmap_mode: str | None = "r") -> Any:
    """Read a stack written by :func:`to_npy_stack`; blocks are memory-mapped by default.

    Parameters
    ----------
    dirname : str or path
    mmap_mode : str or None
        Passed to ``numpy.load``: ``"r"`` maps the files and reads pages only
        when used; ``None`` loads each block whole.
    """
    dirname = os.fspath(dirname)
    info_path = os.path.join(dirname, _INFO)
    try:
        with open(info_path) as f:
            info = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"from_npy_stack: {info_path} does not exist; {dirname} is not a complete stack written by "
            f"shoal.array.to_npy_stack."
        ) from None
    chunks = tuple(tuple(c) for c in info["chunks"])
    axis = int(info["axis"])
    descr = info["dtype"]
    dtype = np.lib.format.descr_to_dtype([tuple(d) for d in descr] if isinstance(descr, list) else descr)
    name = f"from-npy-stack-{uuid.uuid4().hex}"
    layer: dict[Key, Any] = {}
    for i in range(len(chunks[axis])):
        index = tuple(i if d == axis else 0 for d in range(len(chunks)))
        key = (name, *index)
        layer[key] = Task(key, np.load, os.path.join(dirname, f"{i}.npy"), mmap_mode=mmap_mode,
                          allow_pickle=False)
    return new_array(layer, name, normalize_chunks(chunks), dtype)


class IOMethods:
    """Methods of ``Array`` from this family."""

    __slots__ = ()

    def store(self, target: Any, **kwargs: Any) -> Any:
        """Write this array into ``target`` block by block; see :func:`store`.

        >>> import numpy as np, shoal.array as sa
        >>> out = np.empty(3)
        >>> sa.ones(3, chunks=2).store(out)
        >>> out
        array([1., 1., 1.])
        """
        return store([self], [target], **kwargs)

    def to_hdf5(self, filename: Any, datapath: str, **kwargs: Any) -> None:
        """Write this array to dataset ``datapath`` of HDF5 file ``filename``; see :func:`to_hdf5`."""
        to_hdf5(filename, datapath, self, **kwargs)

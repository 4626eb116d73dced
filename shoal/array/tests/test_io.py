"""Array I/O: store, zarr, HDF5 (including from_array over an h5py dataset) and npy stacks."""

from __future__ import annotations

import os
import pickle
import tempfile
import threading

import h5py
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings

import shoal
import shoal.array as sa
from shoal.array._io import SerializableLock
from shoal.array.utils import assert_eq
from shoal.array.tests.strategies import chunks_for




def leftovers(directory):
    """Temporary files or directories left next to the real ones."""
    return [name for name in os.listdir(directory) if ".tmp-" in name]


# -- store ---------------------------------------------------------------------------

@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6), data=st.data(),
       lock=st.sampled_from([True, False]))
@settings(max_examples=30, deadline=None)
def test_store_into_numpy(shape, data, lock):
    x = np.arange(int(np.prod(shape)), dtype="f8").reshape(shape)
    d = sa.from_array(x, chunks=data.draw(chunks_for(shape)))
    out = np.full(shape, -1.0)
    assert sa.store(d, out, lock=lock) is None
    np.testing.assert_array_equal(out, x)


def test_store_several_sources_and_regions():
    a = sa.arange(6, chunks=4)
    b = sa.ones((2, 3), chunks=1, dtype=int)
    t1, t2 = np.zeros(10, dtype=int), np.zeros((4, 5), dtype=int)
    sa.store([a, b], [t1, t2], regions=[(slice(4, 10),), (slice(1, 3), slice(2, 5))])
    np.testing.assert_array_equal(t1, [0, 0, 0, 0, 0, 1, 2, 3, 4, 5])
    expected = np.zeros((4, 5), dtype=int)
    expected[1:3, 2:5] = 1
    np.testing.assert_array_equal(t2, expected)
    t3 = np.zeros(8, dtype=int)
    sa.store(a, t3, regions=(slice(-6, None),))
    np.testing.assert_array_equal(t3, [0, 0, 0, 1, 2, 3, 4, 5])


def test_store_is_lazy_with_compute_false():
    x = sa.arange(10, chunks=3) + 1
    out = np.zeros(10, dtype=int)
    task = sa.store(x, out, compute=False)
    assert isinstance(task, shoal.delayed.Delayed)
    assert not out.any()
    task.compute()
    np.testing.assert_array_equal(out, np.arange(10) + 1)


def test_store_fuses_compute_and_write():
    x = sa.arange(10, chunks=5) * 2 + 1
    task = sa.store(x, np.zeros(10, dtype=int), compute=False)
    # Two blocks, each computed and written by one task, plus the final task.
    assert len(task.__dask_graph__()) == 3


def test_store_return_stored():
    x = sa.arange(8, chunks=3) * 3
    out = np.zeros(8, dtype=int)
    stored = sa.store(x, out, return_stored=True)  # one source: the array itself, as in Dask
    np.testing.assert_array_equal(out, np.arange(8) * 3)
    out[:] = 7  # the returned array reads back from the target
    assert_eq(stored, np.full(8, 7))
    lazy_out = np.zeros(8, dtype=int)
    lazy = sa.store(x, lazy_out, return_stored=True, compute=False)
    assert not lazy_out.any()
    assert_eq(lazy, np.arange(8) * 3)
    np.testing.assert_array_equal(lazy_out, np.arange(8) * 3)
    via_method = x.store(np.zeros(8, dtype=int), return_stored=True, compute=False)
    assert_eq(via_method, np.arange(8) * 3)


def test_store_into_delayed_target():
    holder = {}

    def make_target():
        holder["t"] = np.zeros(5)
        return holder["t"]

    target = shoal.delayed(make_target, pure=False)()
    sa.store(sa.ones(5, chunks=2), target, scheduler="sync")
    np.testing.assert_array_equal(holder["t"], np.ones(5))


class CountingLock:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def __enter__(self):
        self.lock.acquire()
        self.count += 1

    def __exit__(self, *exc):
        self.lock.release()


def test_store_uses_the_given_lock_for_every_block():
    lock = CountingLock()
    sa.store(sa.ones((6, 6), chunks=2), np.zeros((6, 6)), lock=lock, scheduler="threads")
    assert lock.count == 9


def test_store_errors():
    with pytest.raises(ValueError, match="2 sources but 1 targets"):
        sa.store([sa.ones(2), sa.ones(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"shape \(3,\) but its target has shape \(4,\)"):
        sa.store(sa.ones(3), np.zeros(4))
    with pytest.raises(ValueError, match="region"):
        sa.store(sa.ones(3), np.zeros(4), regions=(slice(0, 2),))
    with pytest.raises(ValueError, match="covers 1 along axis 0"):
        sa.store(sa.ones(2), np.zeros(4), regions=(slice(0, 4, 4),))
    unknown = sa.ones(4, chunks=2)
    unknown._chunks = ((np.nan, np.nan),)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.store(unknown, np.zeros(4))


def test_serializable_lock_round_trip():
    lock = SerializableLock()
    copy = pickle.loads(pickle.dumps(lock))
    assert copy.lock is lock.lock and copy.token == lock.token
    held = threading.Event()
    with copy:
        # Another thread cannot take the original while the copy is held: they are one lock.
        worker = threading.Thread(target=lambda: held.set() if lock.acquire(blocking=False) else None)
        worker.start()
        worker.join(timeout=10)
    assert not held.is_set()
    assert SerializableLock().lock is not lock.lock


# -- zarr ----------------------------------------------------------------------------

@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), data=st.data(),
       dtype=st.sampled_from(["f8", "i4", "u1"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_zarr_round_trip(tmp_path, shape, data, dtype):
    x = (np.arange(int(np.prod(shape))) % 200).astype(dtype).reshape(shape)
    d = sa.from_array(x, chunks=data.draw(chunks_for(shape)))
    workdir = tempfile.mkdtemp(dir=tmp_path)
    path = os.path.join(workdir, "a.zarr")
    sa.to_zarr(d, path)
    z = zarr.open_array(str(path), mode="r")
    np.testing.assert_array_equal(z[...], x)
    back = sa.from_zarr(path)
    assert back.chunks == sa.from_array(x, chunks=tuple(z.chunks)).chunks
    assert_eq(back, x)
    assert leftovers(workdir) == []


def test_zarr_and_hdf5_zero_dimensional_and_empty(tmp_path):
    scalar = sa.from_array(np.array(5.0))
    sa.to_zarr(scalar, tmp_path / "s.zarr")
    assert_eq(sa.from_zarr(tmp_path / "s.zarr"), np.array(5.0))
    sa.to_hdf5(str(tmp_path / "s.h5"), "/x", scalar)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert f["/x"][()] == 5.0
    sa.to_zarr(sa.ones((0, 3)), tmp_path / "e.zarr")
    assert_eq(sa.from_zarr(tmp_path / "e.zarr"), np.ones((0, 3)))


def test_zarr_irregular_chunks_are_rechunked(tmp_path):
    x = np.arange(20).reshape(4, 5)
    d = sa.from_array(x, chunks=((1, 3), (2, 1, 2)))
    d.to_zarr(tmp_path / "x.zarr")
    z = zarr.open_array(str(tmp_path / "x.zarr"), mode="r")
    assert z.chunks == (3, 2)
    np.testing.assert_array_equal(z[...], x)


def test_zarr_overwrite_component_and_errors(tmp_path):
    path = tmp_path / "x.zarr"
    sa.to_zarr(sa.ones(4, chunks=2), path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        sa.to_zarr(sa.zeros(4, chunks=2), path)
    sa.to_zarr(sa.zeros(6, chunks=2), path, overwrite=True)
    assert_eq(sa.from_zarr(path), np.zeros(6))
    assert leftovers(tmp_path) == []
    group = tmp_path / "g.zarr"
    zarr.open_group(str(group), mode="w")
    sa.to_zarr(sa.arange(5, chunks=2), group, component="inner/x")
    assert_eq(sa.from_zarr(group, component="inner/x"), np.arange(5))
    assert_eq(sa.from_zarr(group, component="inner/x", chunks=5), np.arange(5))
    with pytest.raises(FileNotFoundError, match="no zarr array"):
        sa.from_zarr(tmp_path / "missing.zarr")
    with pytest.raises(ValueError, match="region"):
        sa.to_zarr(sa.ones(2), tmp_path / "y.zarr", region=(slice(0, 2),))
    unknown = sa.ones(4, chunks=2)
    unknown._chunks = ((np.nan, np.nan),)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        sa.to_zarr(unknown, tmp_path / "z.zarr")


def test_zarr_compute_false_renames_when_computed(tmp_path):
    path = tmp_path / "lazy.zarr"
    task = sa.to_zarr(sa.arange(10, chunks=3), path, compute=False)
    assert not path.exists()
    task.compute()
    assert path.exists() and leftovers(tmp_path) == []
    assert_eq(sa.from_zarr(path), np.arange(10))


def test_zarr_existing_array_with_region_and_misaligned_blocks(tmp_path):
    z = zarr.create_array(store=str(tmp_path / "t.zarr"), shape=(20,), chunks=(4,), dtype="i8", fill_value=0)
    # Blocks of 3 straddle zarr chunks of 4: the writes must not lose each other's data.
    sa.to_zarr(sa.arange(1, 19, chunks=3), z, region=(slice(1, 19),))
    expected = np.zeros(20, dtype="i8")
    expected[1:19] = np.arange(1, 19)
    np.testing.assert_array_equal(z[...], expected)
    stored = sa.to_zarr(sa.ones(20, chunks=4, dtype="i8"), z, return_stored=True)
    assert_eq(stored, np.ones(20, dtype="i8"))


def test_zarr_with_processes_scheduler(tmp_path):
    z = zarr.create_array(store=str(tmp_path / "p.zarr"), shape=(12,), chunks=(4,), dtype="f8")
    sa.store(sa.arange(12.0, chunks=4), z, lock=False, scheduler="processes")
    np.testing.assert_array_equal(z[...], np.arange(12.0))


def test_from_zarr_reads_in_memory_array():
    z = zarr.create_array(store={}, shape=(6, 4), chunks=(3, 2), dtype="f4")
    z[...] = np.arange(24, dtype="f4").reshape(6, 4)
    d = sa.from_zarr(z)
    assert d.chunks == ((3, 3), (2, 2))
    assert_eq(d.sum(axis=0), np.arange(24, dtype="f4").reshape(6, 4).sum(axis=0))


# -- HDF5 ----------------------------------------------------------------------------

def test_to_hdf5_round_trip_and_from_array_with_lock(tmp_path):
    path = str(tmp_path / "data.h5")
    x = np.random.default_rng(0).random((30, 20))
    d = sa.from_array(x, chunks=(7, 6))
    sa.to_hdf5(path, "/group/x", d)
    assert leftovers(tmp_path) == []
    with h5py.File(path, "r") as f:
        dataset = f["/group/x"]
        assert dataset.chunks == (7, 6)
        np.testing.assert_array_equal(dataset[...], x)
        back = sa.from_array(dataset, chunks=(10, 10), lock=True)
        assert_eq(back, x)
        assert_eq(back.sum(axis=1), x.sum(axis=1))
        np.testing.assert_allclose(back.mean().compute(scheduler="threads"), x.mean())


def test_to_hdf5_dict_form_appends_and_method(tmp_path):
    path = str(tmp_path / "many.h5")
    sa.to_hdf5(path, {"/a": sa.arange(5, chunks=2), "/b": sa.ones((2, 2), chunks=1)})
    sa.ones(3, chunks=2).to_hdf5(path, "/c", compression="gzip")  # the file exists: added in place
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["/a"][...], np.arange(5))
        np.testing.assert_array_equal(f["/b"][...], np.ones((2, 2)))
        assert f["/c"].compression == "gzip"
    with pytest.raises(TypeError, match="datapath"):
        sa.to_hdf5(path, sa.ones(2))


def test_to_hdf5_failure_leaves_no_file(tmp_path):
    path = tmp_path / "broken.h5"

    def boom(block):
        raise RuntimeError("bad block")

    x = sa.ones(4, chunks=2).map_blocks(boom, dtype="f8")
    with pytest.raises(RuntimeError, match="bad block"):
        sa.to_hdf5(str(path), "/x", x)
    assert not path.exists() and leftovers(tmp_path) == []


class RecordingDataset:
    """Wraps an h5py dataset and records every read, to check reads go block by block."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.shape, self.dtype = dataset.shape, dataset.dtype
        self.reads = []
        self.active = 0
        self.overlapped = False

    def __getitem__(self, index):
        self.active += 1
        if self.active > 1:
            self.overlapped = True
        try:
            self.reads.append(index)
            return self.dataset[index]
        finally:
            self.active -= 1


def test_from_array_reads_h5py_chunk_by_chunk_under_lock(tmp_path):
    path = str(tmp_path / "read.h5")
    x = np.arange(64.0).reshape(8, 8)
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=x, chunks=(4, 4))
    with h5py.File(path, "r") as f:
        source = RecordingDataset(f["x"])
        d = sa.from_array(source, chunks=(4, 4), lock=True, name="h5-read")
        result = d.compute(scheduler="threads")
        np.testing.assert_array_equal(result, x)
        assert sorted(source.reads, key=repr) == sorted(
            [(slice(i, i + 4), slice(j, j + 4)) for i in (0, 4) for j in (0, 4)], key=repr)
        assert not source.overlapped
        source.reads.clear()
        # Only the blocks a computation needs are read.
        blocks = d.to_delayed()
        np.testing.assert_array_equal(blocks[1, 0].compute(scheduler="sync"), x[4:, :4])
        assert source.reads == [(slice(4, 8), slice(0, 4))]


# -- npy stacks ----------------------------------------------------------------------

@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), data=st.data(),
       dtype=st.sampled_from(["f8", "i2", "c8"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_npy_stack_round_trip(tmp_path, shape, data, dtype):
    x = np.arange(int(np.prod(shape))).astype(dtype).reshape(shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    d = sa.from_array(x, chunks=data.draw(chunks_for(shape)))
    directory = os.path.join(tempfile.mkdtemp(dir=tmp_path), "stack")
    sa.to_npy_stack(directory, d, axis=axis)
    assert leftovers(directory) == []
    back = sa.from_npy_stack(directory)
    assert back.chunks[axis % len(shape)] == d.chunks[axis % len(shape)]
    assert back.dtype == x.dtype
    assert_eq(back, x)
    assert_eq(sa.from_npy_stack(directory, mmap_mode=None), x)


def test_npy_stack_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="info.json"):
        sa.from_npy_stack(tmp_path)
    with pytest.raises(np.exceptions.AxisError):
        sa.to_npy_stack(tmp_path / "s", sa.ones(3), axis=1)
    with pytest.raises(ValueError, match="0-d"):
        sa.to_npy_stack(tmp_path / "s", sa.ones(()))

"""``Bag.groupby``: a full shuffle, on disk or through tasks.

Every element goes to output partition ``stable_hash(key) % npartitions``,
where all elements with its key meet; the output is a bag of ``(key,
[elements])`` pairs, the elements of each group in their original order.
:func:`stable_hash` is the same in every process (Python's ``hash`` of a
string changes with ``PYTHONHASHSEED``, which differs between worker
processes), and equal keys hash equally even across types (``1``, ``1.0``
and ``True``).

``shuffle="disk"`` (the default on the local schedulers)
    One task per input partition (fused with whatever produces the
    partition) sorts its elements into per-output buffers, pickles them in
    batches and appends them to one file per output partition in a run
    directory, ``<output>.<input>``: every file has a single writer, so no
    locks. Pickled batches wait in memory until they reach ``blocksize``
    bytes, then go to disk, so a task holds at most about ``blocksize`` bytes
    of pickles plus a batch of elements, whatever the partition's size. After
    a barrier, output task ``j`` reads the files ``j.*`` in input order,
    groups them, deletes them, and removes the run directory when it is the
    last. The run directory lives under a root named when the graph is built
    (under the ``temporary-directory`` setting); the root is removed by the
    last reader, and in any case when the grouped bag is garbage collected or
    the interpreter exits, so a failed computation leaves nothing behind for
    long. Needs every worker to see the same disk: the local schedulers.

``shuffle="tasks"``
    A staged all-to-all in memory (for a cluster): lanes are numbered in base
    ``r`` with ``r ** stages >= max(partitions)`` and ``r <= max_branch``;
    stage ``s`` splits each lane by digit ``s`` of its elements' target and
    gathers, for each lane, the pieces from the ``r`` lanes that differ from
    it only in that digit. After the last stage lane ``p`` holds exactly the
    elements bound for output ``p``, in input order (gathers concatenate
    sources in digit order, most significant last).
"""

from __future__ import annotations

import math
import numbers
import os
import pickle
import shutil
import tempfile
import uuid
import weakref
import zlib
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import cloudpickle

from shoal import config
from shoal.bag._stages import SEQ, VALUE, Pipeline, Stage, run_partition
from shoal.graph.task import DataNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

if TYPE_CHECKING:
    from shoal.bag._core import Bag

__all__ = ["GroupbyMethods", "ShuffleRead", "ShuffleWrite", "stable_hash"]

_MASK = (1 << 61) - 1


def stable_hash(key: Any) -> int:
    """A hash of ``key`` that is the same in every process and run.

    Numbers use Python's numeric hash (already stable, and equal for equal
    numbers of different types); strings and bytes a CRC-32; tuples and
    frozensets combine their elements'; anything else the CRC-32 of its
    pickle.

    >>> stable_hash("a") == stable_hash("a"), stable_hash(1) == stable_hash(1.0) == stable_hash(True)
    (True, True)
    """
    typ = type(key)
    if typ is str:
        return zlib.crc32(key.encode("utf-8", "surrogatepass"))
    if typ is int or typ is float or typ is bool:
        return hash(key) & _MASK
    if typ is tuple:
        h = 0x345678
        for item in key:
            h = (h * 1000003 ^ stable_hash(item)) & _MASK
        return h ^ len(key)
    if typ is bytes:
        return zlib.crc32(key)
    if key is None:
        return 0x9E3779B9
    if typ is frozenset:
        h = 0
        for item in key:
            h ^= stable_hash(item)
        return h
    if typ is complex or isinstance(key, numbers.Number):
        return hash(key) & _MASK
    return zlib.crc32(pickle.dumps(key, protocol=4))


# --------------------------------------------------------------------------- disk shuffle


def _dumps(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - lambdas and the like need cloudpickle
        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class ShuffleWrite(Stage):
    """Sort one input partition into files, one per output partition; returns how many batches spilled."""

    __slots__ = ("grouper", "nout", "blocksize")
    kind = VALUE

    def __init__(self, grouper: Callable[[Any], Any], nout: int, blocksize: int) -> None:
        self.grouper = grouper
        self.nout = nout
        #: Bytes of pickled batches held in memory before they are written out.
        self.blocksize = blocksize

    def __call__(self, part: Iterable[Any], rundir: str, index: int) -> int:
        grouper, nout = self.grouper, self.nout
        buckets: list[list[tuple[Any, Any]]] = [[] for _ in range(nout)]
        frames: list[list[bytes]] = [[] for _ in range(nout)]
        held = pending = spills = 0
        limit = 256  # elements between pickling rounds; adapted to the element size below
        for x in part:
            k = grouper(x)
            buckets[stable_hash(k) % nout].append((k, x))
            pending += 1
            if pending >= limit:
                packed = self._pack(buckets, frames)
                held += packed
                limit = max(16, min(10_000, self.blocksize * pending // max(1, packed) // 2))
                pending = 0
                if held >= self.blocksize:
                    self._spill(frames, rundir, index)
                    spills += 1
                    held = 0
        self._pack(buckets, frames)
        self._spill(frames, rundir, index)
        return spills + 1

    @staticmethod
    def _pack(buckets: list[list[tuple[Any, Any]]], frames: list[list[bytes]]) -> int:
        size = 0
        for j, bucket in enumerate(buckets):
            if bucket:
                frame = _dumps(bucket)
                frames[j].append(frame)
                size += len(frame)
                buckets[j] = []
        return size

    @staticmethod
    def _spill(frames: list[list[bytes]], rundir: str, index: int) -> None:
        for j, pending in enumerate(frames):
            if pending:
                with open(os.path.join(rundir, f"{j}.{index}"), "ab") as f:
                    f.write(b"".join(pending))
                pending.clear()


class ShuffleRead(Stage):
    """Read, group and delete the files of one output partition."""

    __slots__ = ("index", "ninputs", "root")

    def __init__(self, index: int, ninputs: int, root: str) -> None:
        self.index = index
        self.ninputs = ninputs
        self.root = root

    def __call__(self, rundir: str) -> list[tuple[Any, list[Any]]]:
        groups: dict[Any, list[Any]] = {}
        for i in range(self.ninputs):
            path = os.path.join(rundir, f"{self.index}.{i}")
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed by the with below
            except FileNotFoundError:
                continue  # that input had nothing for this output
            with f:
                while True:
                    try:
                        frame = pickle.load(f)
                    except EOFError:
                        break
                    for k, x in frame:
                        group = groups.get(k)
                        if group is None:
                            groups[k] = [x]
                        else:
                            group.append(x)
            os.remove(path)
        # The last reader to finish removes the (then empty) directories.
        for directory in (rundir, self.root):
            try:
                os.rmdir(directory)
            except OSError:
                pass
        return list(groups.items())

    def describe(self, rundir: str) -> str:
        return f"shuffle files {os.path.join(rundir, f'{self.index}.*')!r}"


def _make_run_directory(root: str) -> str:
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix="run-", dir=root)


def _after_writes(rundir: str, spills: list[int]) -> str:
    return rundir


def _disk_groupby(bag: Bag, grouper: Callable[[Any], Any], npartitions: int, blocksize: int, token: str) -> Bag:
    name = f"groupby-disk-{token}"
    base = config.get("temporary-directory", None) or tempfile.gettempdir()
    root = os.path.join(base, f"shoal-shuffle-{token[:12]}-{uuid.uuid4().hex[:8]}")
    init, barrier, write = f"groupby-disk-init-{token}", f"groupby-disk-barrier-{token}", f"groupby-disk-write-{token}"
    layer: dict[Key, Any] = {init: Task(init, _make_run_directory, root)}
    writer = Pipeline([ShuffleWrite(grouper, npartitions, blocksize)], [3], "groupby")
    for i in range(bag.npartitions):
        layer[(write, i)] = Task((write, i), run_partition, writer, i, Ref((bag.name, i)), Ref(init), i)
    layer[barrier] = Task(barrier, _after_writes, Ref(init), [Ref((write, i)) for i in range(bag.npartitions)])
    for j in range(npartitions):
        reader = Pipeline([ShuffleRead(j, bag.npartitions, root)], [1], "groupby")
        layer[(name, j)] = Task((name, j), run_partition, reader, j, Ref(barrier))
    grouped = bag._new_bag(layer, name, npartitions)
    # Whatever a failed run leaves under root goes when the bag does (or at exit).
    weakref.finalize(grouped, shutil.rmtree, root, True)
    return grouped


# --------------------------------------------------------------------------- task shuffle


class _TagTarget(Stage):
    """``(output partition, key, element)`` for each element."""

    __slots__ = ("grouper", "nout")

    def __init__(self, grouper: Callable[[Any], Any], nout: int) -> None:
        self.grouper = grouper
        self.nout = nout

    def __call__(self, part: Iterable[Any]) -> Iterable[tuple[int, Any, Any]]:
        grouper, nout = self.grouper, self.nout
        for x in part:
            k = grouper(x)
            yield (stable_hash(k) % nout, k, x)


def _split_by_digit(lane: Iterable[tuple[int, Any, Any]], stage: int, radix: int) -> list[list[Any]]:
    divisor = radix ** stage
    pieces: list[list[Any]] = [[] for _ in range(radix)]
    for item in lane:
        pieces[(item[0] // divisor) % radix].append(item)
    return pieces


def _gather_piece(digit: int, sources: list[list[list[Any]]]) -> list[Any]:
    out: list[Any] = []
    for pieces in sources:
        out.extend(pieces[digit])
    return out


class _GroupTagged(Stage):
    """Group ``(target, key, element)`` triples into ``(key, [elements])`` pairs."""

    __slots__ = ()
    kind = SEQ

    def __call__(self, lane: Iterable[tuple[int, Any, Any]]) -> list[tuple[Any, list[Any]]]:
        groups: dict[Any, list[Any]] = {}
        for _, k, x in lane:
            group = groups.get(k)
            if group is None:
                groups[k] = [x]
            else:
                group.append(x)
        return list(groups.items())


def _tasks_groupby(bag: Bag, grouper: Callable[[Any], Any], npartitions: int, max_branch: int, token: str) -> Bag:
    name = f"groupby-tasks-{token}"
    lanes_needed = max(bag.npartitions, npartitions)
    stages = 1
    while max_branch ** stages < lanes_needed:
        stages += 1
    radix = max(2, math.ceil(lanes_needed ** (1 / stages)))
    while radix ** stages < lanes_needed:
        radix += 1
    nlanes = radix ** stages

    layer: dict[Key, Any] = {}
    tag = f"groupby-tasks-tag-{token}"
    tagger = Pipeline([_TagTarget(grouper, npartitions)], [1], "groupby")
    lanes: list[Key] = []
    for i in range(nlanes):
        if i < bag.npartitions:
            layer[(tag, i)] = Task((tag, i), run_partition, tagger, i, Ref((bag.name, i)))
        else:
            layer[(tag, i)] = DataNode((tag, i), [])
        lanes.append((tag, i))
    for s in range(stages):
        split, gather = f"groupby-tasks-split-{s}-{token}", f"groupby-tasks-gather-{s}-{token}"
        step = radix ** s
        for lane in range(nlanes):
            layer[(split, lane)] = Task((split, lane), _split_by_digit, Ref(lanes[lane]), s, radix)
        new_lanes: list[Key] = []
        for lane in range(nlanes):
            digit = (lane // step) % radix
            base = lane - digit * step
            sources = [Ref((split, base + d * step)) for d in range(radix)]
            layer[(gather, lane)] = Task((gather, lane), _gather_piece, digit, sources)
            new_lanes.append((gather, lane))
        lanes = new_lanes
    grouping = Pipeline([_GroupTagged()], [1], "groupby")
    for p in range(npartitions):
        layer[(name, p)] = Task((name, p), run_partition, grouping, p, Ref(lanes[p]))
    return bag._new_bag(layer, name, npartitions)


class GroupbyMethods:
    """``groupby`` for :class:`shoal.bag.Bag`."""

    name: str
    npartitions: int

    def groupby(self: Bag, grouper: Any, method: str | None = None, npartitions: int | None = None,
                blocksize: int = 2**20, max_branch: int | None = None, shuffle: str | None = None) -> Bag:
        """Group elements by ``grouper``: a bag of ``(key, [elements])`` pairs.

        This moves every element (a full shuffle); when the groups are only
        reduced, :meth:`foldby` is much faster.

        Parameters
        ----------
        grouper : callable or object
            A function of the element, or a key/index to select from it.
        method : str, optional
            Old name of ``shuffle``.
        npartitions : int, optional
            Output partitions (default: as many as the input).
        blocksize : int
            Disk shuffle: bytes of pickled elements a task holds in memory
            before writing them to disk.
        max_branch : int, optional
            Task shuffle: the most partitions one task gathers from (default 32).
        shuffle : {"disk", "tasks"}, optional
            ``"disk"`` (the default, unless the ``shuffle`` setting says
            otherwise) for the local schedulers; ``"tasks"`` for a cluster.

        Notes
        -----
        Mirrors ``dask.bag.Bag.groupby``; difference: the elements of each
        group keep their input order, with either shuffle.

        Examples
        --------
        >>> import shoal.bag as db
        >>> b = db.from_sequence(range(10), npartitions=3)
        >>> sorted(b.groupby(lambda x: x % 3).compute())
        [(0, [0, 3, 6, 9]), (1, [1, 4, 7]), (2, [2, 5, 8])]
        """
        how = shuffle or method or config.get("shuffle", None) or "disk"
        if how not in ("disk", "tasks"):
            raise ValueError(f"groupby(shuffle={how!r}) is not a shuffle shoal.bag knows; use 'disk' or 'tasks'.")
        npartitions = npartitions or self.npartitions
        keyfunc = grouper if callable(grouper) else itemgetter(grouper)
        token = tokenize(self.name, grouper, how, npartitions, blocksize, max_branch)
        if how == "disk":
            return _disk_groupby(self, keyfunc, npartitions, int(blocksize), token)
        return _tasks_groupby(self, keyfunc, npartitions, max_branch or 32, token)

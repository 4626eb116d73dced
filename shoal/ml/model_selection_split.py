"""``train_test_split`` and ``ShuffleSplit`` for shoal arrays and dataframes, block by block.

With ``shuffle=True`` (the default) each row block of an array (each partition of a dataframe) is
split on its own, as ``sklearn.model_selection.ShuffleSplit`` would split it: block ``b`` of ``n_b``
rows puts ``ceil(test_size * n_b)`` of them in the test set and ``floor(train_size * n_b)`` (or the
rest) in the train set, chosen by a permutation seeded from ``random_state`` and the block number.
So the split never moves rows between blocks, every input gets the same rows (the seeds and block
lengths are the same), and when ``train_size`` is not given the two parts partition the rows exactly.
Array blocks come out in the permutation's order (like scikit-learn); dataframe partitions keep
their row order, so known divisions stay valid.

With ``shuffle=False`` the split is scikit-learn's exactly: the first ``n_train`` rows, then the next
``n_test``.

NumPy arrays, pandas objects and lists are passed to ``sklearn.model_selection.train_test_split``.
Mirrors ``dask_ml.model_selection.train_test_split``; see
https://ml.dask.org/modules/generated/dask_ml.model_selection.train_test_split.html.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from sklearn.model_selection import ShuffleSplit as _SklearnShuffleSplit
from sklearn.model_selection import train_test_split as _sklearn_train_test_split
from sklearn.utils import check_random_state

from shoal.array import Array, concatenate, from_array
from shoal.base import compute, is_dask_collection
from shoal.dataframe import concat

__all__ = ["ShuffleSplit", "train_test_split"]


def _check_sizes(test_size: Any, train_size: Any, blockwise: bool) -> tuple[Any, Any]:
    if test_size is None and train_size is None:
        test_size = 0.25
    for name, value in (("test_size", test_size), ("train_size", train_size)):
        if value is None:
            continue
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if blockwise:
                raise TypeError(f"train_test_split got {name}={value}, a row count, but shuffled shoal "
                                f"collections are split block by block, so sizes must be fractions: pass "
                                f"{name}=<a float in (0, 1)>, or shuffle=False to split at a row number.")
            if value <= 0:
                raise ValueError(f"{name}={value} must be a positive number of rows.")
        elif isinstance(value, numbers.Real):
            if not 0 < value < 1:
                raise ValueError(f"{name}={value} must be a fraction strictly between 0 and 1 (or an int number "
                                 f"of rows with shuffle=False).")
        else:
            raise TypeError(f"{name} must be a float fraction or an int row count, got {type(value).__name__}.")
    if (isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1 + 1e-12):
        raise ValueError(f"test_size={test_size} and train_size={train_size} add up to more than 1; "
                         f"lower one of them, or leave train_size out to use the rest.")
    return test_size, train_size


def _counts(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """``(n_test, n_train)`` of ``n`` rows, rounded as ``ShuffleSplit`` rounds them."""
    n_test = None if test_size is None else (
        math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size))
    n_train = None if train_size is None else (
        math.floor(train_size * n) if isinstance(train_size, float) else int(train_size))
    if n_train is None:
        n_train = n - n_test  # type: ignore[operator]
    if n_test is None:
        n_test = n - n_train
    if n_train + n_test > n:
        raise ValueError(f"train_test_split: {n_train} train rows and {n_test} test rows do not fit in the "
                         f"{n} rows given; lower test_size or train_size.")
    return n_test, n_train


def _positions(n: int, seed: int, test_size: Any, train_size: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` row positions of one block of ``n`` rows."""
    n_test, n_train = _counts(n, test_size, train_size)
    perm = np.random.RandomState(seed).permutation(n)
    return perm[n_test:n_test + n_train], perm[:n_test]


def _partition_rows(part: Any, seed: int, test_size: Any, train_size: Any, which: str) -> Any:
    train, test = _positions(len(part), seed, test_size, train_size)
    return part.iloc[np.sort(train if which == "train" else test)]


def _slice_rows(part: Any, start: int, stop: int) -> Any:
    return part.iloc[start:stop]


def _kind(x: Any) -> str:
    if isinstance(x, Array):
        return "array"
    if is_dask_collection(x) and hasattr(x, "npartitions"):
        return "frame"
    if is_dask_collection(x):
        raise TypeError(f"train_test_split takes shoal arrays and dataframes, got a {type(x).__name__}; "
                        f"convert it first (for a bag: .to_dataframe()).")
    return "memory"


def _check_arrays(arrays: list[Array]) -> None:
    first = arrays[0]
    for i, x in enumerate(arrays):
        if any(math.isnan(c) for c in x.chunks[0]):
            raise ValueError(f"Argument {i} of train_test_split has unknown chunk sizes along axis 0; call "
                             f"x.compute_chunk_sizes() first.")
        if x.chunks[0] != first.chunks[0]:
            raise ValueError(f"The arrays passed to train_test_split have different row blocks: argument 0 has "
                             f"{first.chunks[0]} and argument {i} has {x.chunks[0]}. Rechunk them alike, e.g. "
                             f"y = y.rechunk({{0: X.chunks[0]}}).")


def _check_frames(frames: list[Any]) -> None:
    first = frames[0]
    for i, f in enumerate(frames):
        if f.npartitions != first.npartitions:
            raise ValueError(f"The dataframes passed to train_test_split have different numbers of partitions: "
                             f"argument 0 has {first.npartitions} and argument {i} has {f.npartitions}. "
                             f"Repartition them alike (y = y.repartition(divisions=X.divisions)).")
        if first.known_divisions and f.known_divisions and tuple(f.divisions) != tuple(first.divisions):
            raise ValueError(f"The dataframes passed to train_test_split have different divisions: argument 0 "
                             f"has {first.divisions} and argument {i} has {f.divisions}; their rows would not "
                             f"line up. Repartition them alike.")


def train_test_split(*arrays: Any, test_size: float | int | None = None, train_size: float | int | None = None,
                     random_state: Any = None, shuffle: bool = True, **options: Any) -> list[Any]:
    """Split arrays or dataframes into random train and test subsets.

    Parameters
    ----------
    *arrays : shoal Arrays, or shoal DataFrames/Series, or NumPy/pandas/lists
        All of one family, with the same rows (same row chunks / partitions).
    test_size, train_size : float or int, optional
        Fractions of each block's rows (ints, as row counts, only with ``shuffle=False`` or in-memory
        data). Default: ``test_size=0.25`` and the rest in the train set.
    random_state : int, RandomState or None
        Seeds the per-block permutations.
    shuffle : bool
        ``False`` splits at a row number, exactly as scikit-learn.
    **options
        Passed to scikit-learn for in-memory inputs (``stratify=``).

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``: lazy shoal collections for shoal inputs.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.arange(20).reshape(10, 2), chunks=5)
    >>> X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
    >>> X_train.shape, X_test.shape
    ((8, 2), (2, 2))
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array to split.")
    kinds = {_kind(a) for a in arrays}
    if kinds == {"memory"}:
        return _sklearn_train_test_split(*arrays, test_size=test_size, train_size=train_size,  # type: ignore
                                         random_state=random_state, shuffle=shuffle, **options)
    if len(kinds) > 1:
        raise TypeError(f"train_test_split got a mix of {sorted(kinds)} inputs; pass all shoal arrays, all shoal "
                        f"dataframes/series, or all in-memory data (compute() the shoal ones first).")
    if options:
        raise TypeError(f"train_test_split does not support {sorted(options)} for shoal collections "
                        f"(stratify= needs the labels of all rows at once); compute() them and split in memory.")
    blockwise = bool(shuffle)
    test_size, train_size = _check_sizes(test_size, train_size, blockwise)
    kind = kinds.pop()
    if kind == "array":
        _check_arrays(list(arrays))
        blocks = [int(n) for n in arrays[0].chunks[0]]
    else:
        _check_frames(list(arrays))
        blocks = []
    if not shuffle:
        return _split_unshuffled(list(arrays), kind, test_size, train_size)
    rng = check_random_state(random_state)
    nblocks = len(blocks) if kind == "array" else arrays[0].npartitions
    seeds = [int(s) for s in rng.randint(0, 2**31 - 1, size=nblocks)]
    out: list[Any] = []
    if kind == "array":
        where = [_positions(n, seed, test_size, train_size) for n, seed in zip(blocks, seeds, strict=True)]
        for x in arrays:
            for side in (0, 1):
                out.append(concatenate([x.blocks[b][where[b][side]] for b in range(nblocks)], axis=0))
        return out
    for frame in arrays:
        for which in ("train", "test"):
            pieces = [frame.partitions[b].map_partitions(_partition_rows, seeds[b], test_size, train_size, which,
                                                         meta=frame._meta) for b in range(nblocks)]
            out.append(pieces[0] if nblocks == 1 else concat(pieces))
    return out


def _split_unshuffled(arrays: list[Any], kind: str, test_size: Any, train_size: Any) -> list[Any]:
    """scikit-learn's ``shuffle=False``: rows ``[0, n_train)`` train, ``[n_train, n_train + n_test)`` test."""
    if kind == "array":
        n = int(arrays[0].shape[0])
        n_test, n_train = _counts(n, test_size, train_size)
        return [part for x in arrays for part in (x[:n_train], x[n_train:n_train + n_test])]
    lengths = [int(v) for v in compute(arrays[0].map_partitions(len))[0]]
    n_test, n_train = _counts(sum(lengths), test_size, train_size)
    out = []
    for frame in arrays:
        for lo, hi in ((0, n_train), (n_train, n_train + n_test)):
            pieces, start = [], 0
            for b, length in enumerate(lengths):
                a, z = max(lo - start, 0), min(hi - start, length)
                if z > a or (not pieces and b == len(lengths) - 1):
                    pieces.append(frame.partitions[b].map_partitions(_slice_rows, a, max(z, a),
                                                                     meta=frame._meta))
                start += length
            out.append(pieces[0] if len(pieces) == 1 else concat(pieces))
    return out



class ShuffleSplit:
    """Random train/test index splits of the rows, block by block; mirrors ``dask_ml.model_selection.ShuffleSplit``.

    Parameters
    ----------
    n_splits : int
        Number of (train, test) pairs.
    test_size, train_size : float, optional
        Fractions of each block's rows (default ``test_size=0.1``, the rest in the train set). With
        ``blockwise=False``, ints (row counts) are accepted too.
    blockwise : bool
        Split every row block on its own (``ceil(test_size * n_b)`` test rows of block ``b``, as
        :func:`train_test_split`), so no rows move between blocks; ``False`` splits all rows as
        ``sklearn.model_selection.ShuffleSplit`` does, with the same ``random_state``.
    random_state : int, RandomState or None

    Notes
    -----
    ``split`` yields shoal arrays of row positions (``X[train]`` selects the rows lazily); only the
    number of rows of each block is read, never the data.

    Examples
    --------
    >>> import numpy as np, shoal.array as sa
    >>> X = sa.from_array(np.zeros((10, 2)), chunks=5)
    >>> train, test = next(ShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(X))
    >>> train.shape, test.shape
    ((8,), (2,))
    """

    def __init__(self, n_splits: int = 10, test_size: float | int | None = 0.1, train_size: float | int | None = None,
                 blockwise: bool = True, random_state: Any = None) -> None:
        self.n_splits = n_splits
        self.test_size = test_size
        self.train_size = train_size
        self.blockwise = blockwise
        self.random_state = random_state

    def __repr__(self) -> str:
        return (f"ShuffleSplit(n_splits={self.n_splits}, test_size={self.test_size!r}, train_size={self.train_size!r}, "
                f"blockwise={self.blockwise}, random_state={self.random_state!r})")

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of splits, ``n_splits``."""
        return int(self.n_splits)

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        """Yield ``(train, test)`` shoal arrays of row positions, ``n_splits`` times."""
        if not (isinstance(self.n_splits, numbers.Integral) and self.n_splits >= 1):
            raise ValueError(f"ShuffleSplit: n_splits must be an int >= 1, got {self.n_splits!r}.")
        blocks = self._blocks(X)
        test_size, train_size = _check_sizes(self.test_size, self.train_size, self.blockwise)
        if not self.blockwise:
            splitter = _SklearnShuffleSplit(self.n_splits, test_size=test_size, train_size=train_size,
                                            random_state=self.random_state)
            for train, test in splitter.split(np.empty((sum(blocks), 0))):
                yield from_array(train, chunks=max(len(train), 1)), from_array(test, chunks=max(len(test), 1))
            return
        rng = check_random_state(self.random_state)
        starts = np.cumsum((0, *blocks[:-1]))
        for _ in range(self.n_splits):
            seeds = rng.randint(0, 2**31 - 1, size=len(blocks))
            where = [_positions(n, int(s), test_size, train_size) for n, s in zip(blocks, seeds, strict=True)]
            train = [w[0] + start for w, start in zip(where, starts, strict=True)]
            test = [w[1] + start for w, start in zip(where, starts, strict=True)]
            yield (from_array(np.concatenate(train), chunks=(tuple(len(t) for t in train),)),
                   from_array(np.concatenate(test), chunks=(tuple(len(t) for t in test),)))

    @staticmethod
    def _blocks(X: Any) -> list[int]:
        if isinstance(X, Array):
            if any(math.isnan(c) for c in X.chunks[0]):
                raise ValueError("ShuffleSplit.split: X has unknown chunk sizes along axis 0; call "
                                 "X.compute_chunk_sizes() first.")
            return [int(c) for c in X.chunks[0]]
        if is_dask_collection(X) and hasattr(X, "npartitions"):
            return [int(v) for v in compute(X.map_partitions(len))[0]]
        return [len(X)]

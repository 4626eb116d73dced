"""Expression nodes: the lazy plan behind every shoal DataFrame, Series, Index and Scalar.

An :class:`Expr` is an immutable node with ``operands`` (other expressions and
plain values). From its operands alone it knows, without computing data:

- ``_meta``: an empty pandas object (or a NumPy scalar for scalars) with the
  output's columns, dtypes and index type;
- ``divisions``: ``npartitions + 1`` index boundaries, or ``None`` entries when
  the index order is unknown;
- ``_name``: ``label-token``, a deterministic hash of type and operands, so two
  equal plans share keys (and work) in one graph.

Partition ``i`` of an expression is the graph key ``(_name, i)``. Subclasses
produce their tasks in :meth:`Expr._layer`; :class:`Blockwise` nodes (one
output partition per input partition, nothing shared between partitions)
instead describe one partition's task with :meth:`Blockwise._task`, which is
what lets :mod:`shoal.dataframe._lower` fuse chains of them into one task per
partition.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from shoal.dataframe._meta import inference_error, is_frame_like, make_meta_nonempty, meta_from_output
from shoal.graph.task import DataNode, GraphNode, Key, Ref, Task
from shoal.graph.tokenize import tokenize

__all__ = [
    "Blockwise",
    "Expr",
    "FromGraph",
    "MapPartitions",
    "Partitions",
    "Projection",
]


class Expr:
    """A node of the lazy plan; see the module docstring.

    Subclasses list the names of their operands in ``_parameters`` (operands
    are positional, in that order, and readable as attributes) and give
    defaults in ``_defaults``.
    """

    _parameters: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    @property
    def _label(self) -> str:
        """The human-readable prefix of the keys (``repr`` shows it as the last operation).

        Subclasses set it as a class attribute; one with a ``label`` operand is named by it.
        """
        return self.operands[self._parameters.index("label")] if "label" in self._parameters else "expr"

    def __init__(self, *operands: Any, **kwargs: Any) -> None:
        ops = list(operands)
        for param in self._parameters[len(ops):]:
            if param in kwargs:
                ops.append(kwargs.pop(param))
            elif param in self._defaults:
                ops.append(self._defaults[param])
            else:
                raise TypeError(f"{type(self).__name__} needs the operand {param!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unknown operands {sorted(kwargs)}")
        self.operands = ops

    def __getattr__(self, name: str) -> Any:
        params = type(self)._parameters
        if name in params:
            return self.operands[params.index(name)]
        raise AttributeError(f"{type(self).__name__!r} expression has no attribute {name!r}")

    # -- identity ----------------------------------------------------------------------
    @functools.cached_property
    def _name(self) -> str:
        return f"{self._label}-{tokenize(type(self).__name__, *self.operands)}"

    def __dask_tokenize__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        shown = ", ".join(_short(op) for op in self.operands)
        return f"{type(self).__name__}({shown})"

    # -- metadata ------------------------------------------------------------------------
    @functools.cached_property
    def _meta(self) -> Any:
        """The empty pandas object the result looks like: a ``meta`` operand, or what the subclass works out."""
        if "meta" in self._parameters:
            return self.operands[self._parameters.index("meta")]
        raise NotImplementedError(f"{type(self).__name__} defines no _meta")  # pragma: no cover

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def npartitions(self) -> int:
        return len(self.divisions) - 1

    @property
    def columns(self) -> list[Any]:
        return list(self._meta.columns) if isinstance(self._meta, pd.DataFrame) else []

    def dependencies(self) -> list[Expr]:
        """The expressions among the operands (inside lists too), in order, with repeats."""
        return list(_iter_exprs(self.operands))

    def rebuild(self, operands: list[Any]) -> Expr:
        """The same node over new operands."""
        return type(self)(*operands)

    # -- lowering --------------------------------------------------------------------------
    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        """Tasks computing the keys ``(_name, i)``; ``ctx.input(child, i)`` reads a child's partition."""
        raise NotImplementedError(f"{type(self).__name__} does not lower to tasks")

    #: Whether this node reads each child partition once, partition-wise, so that a
    #: blockwise child used only here can run inline (see ``_lower``).
    _fuses_inputs = False
    #: Whether its tasks depend on partition numbers (``partition_info``, labels assigned per partition), so
    #: that partition pruning must not sink a ``Partitions`` selection below it (which would renumber them).
    _pins_partitions = False

    # -- optimizer hooks -------------------------------------------------------------------
    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        """For projection pushdown: which columns each child must supply, given what consumers need.

        ``None`` means all columns. The default is conservative: every child supplies everything.
        """
        return [(child, None) for child in self.dependencies()]

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        """A version producing only ``columns`` (a reader's pushdown), or ``None`` if not supported."""
        return None

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        """A version computing only these partitions, or ``None`` if not supported."""
        return None

    def _push_filter(self, conditions: list[tuple[Any, str, Any]]) -> Expr | None:
        """A reader that keeps only rows meeting all ``(column, op, value)`` conditions, or ``None``."""
        return None


def _iter_exprs(operands: Any) -> Iterator[Expr]:
    for op in operands:
        if isinstance(op, Expr):
            yield op
        elif type(op) is list or type(op) is tuple:
            yield from _iter_exprs(op)


def _short(op: Any) -> str:
    if isinstance(op, Expr):
        return op._name
    if isinstance(op, pd.DataFrame | pd.Series):
        return f"<{type(op).__name__} {op.shape}>"
    text = repr(op)
    return text if len(text) < 40 else text[:37] + "..."


def is_scalar_expr(expr: Any) -> bool:
    return isinstance(expr, Expr) and not is_frame_like(expr._meta)


def frame_operands(operands: list[Any]) -> list[Expr]:
    """The partitioned (non-scalar) expressions among ``operands``."""
    return [op for op in _iter_exprs(operands) if not is_scalar_expr(op)]


def check_aligned(exprs: list[Expr], what: str) -> None:
    """Partition-wise operations need inputs split the same way; say how to fix it when not."""
    first = exprs[0]
    for other in exprs[1:]:
        if other.npartitions != first.npartitions:
            raise ValueError(
                f"{what} needs inputs with the same partitions, but {first._label!r} has "
                f"{first.npartitions} partitions and {other._label!r} has {other.npartitions}. "
                f"Repartition one to match the other, e.g. b.repartition(divisions=a.divisions)."
            )
        known = None not in first.divisions and None not in other.divisions
        if known and tuple(first.divisions) != tuple(other.divisions):
            raise ValueError(
                f"{what} needs inputs with the same divisions, but got {first.divisions} and "
                f"{other.divisions}. Repartition one to match: b.repartition(divisions=a.divisions)."
            )


class Blockwise(Expr):
    """Output partition ``i`` depends only on partition ``i`` of each partitioned operand.

    Scalar operands (reductions) are broadcast to every partition.
    """

    _fuses_inputs = True
    #: The function called on the partitions; subclasses set it or override ``_task``.
    operation: Callable[..., Any] | None = None
    #: Whether the index is unchanged, so that divisions carry over.
    _keeps_index = True

    def _args(self) -> list[Any]:
        """The positional operands passed to ``operation`` (default: all)."""
        return list(self.operands)

    def _kwargs(self) -> dict[str, Any]:
        return {}

    @functools.cached_property
    def _meta(self) -> Any:
        args = [op._meta if isinstance(op, Expr) else op for op in self._args()]
        return self.operation(*args, **self._kwargs())  # type: ignore[misc]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        frames = frame_operands(self._args())
        if not frames:
            return (None, None)
        check_aligned(frames, self._label)
        if not self._keeps_index:
            return (None,) * (frames[0].npartitions + 1)
        return tuple(frames[0].divisions)

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        args = [ctx.input(op, i) if isinstance(op, Expr) else op for op in self._args()]
        kwargs = self._kwargs()
        return Task(key, self.operation, *args, **kwargs)  # type: ignore[arg-type]

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        return {(self._name, i): self._task(i, ctx, (self._name, i)) for i in range(self.npartitions)}


class MapPartitions(Blockwise):
    """``func(partition, *args, **kwargs)`` on every partition (args may hold aligned frames).

    ``columnwise=True`` promises that output column ``c`` depends only on input
    column ``c``, which lets projection pushdown read fewer columns.
    """

    _parameters = ("frame", "func", "args", "kwargs", "meta", "label", "columnwise", "keeps_index")
    _defaults = {"args": (), "kwargs": None, "meta": None, "label": None, "columnwise": False,
                 "keeps_index": True}

    @property
    def _label(self) -> str:  # type: ignore[override]
        return self.label or getattr(self.func, "__name__", "map-partitions").replace("_", "-").strip("-")

    @property
    def _keeps_index(self) -> bool:  # type: ignore[override]
        return bool(self.keeps_index)

    def operation(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self.func(*args, **kwargs)

    def _args(self) -> list[Any]:
        return [self.frame, *self.args]

    def _kwargs(self) -> dict[str, Any]:
        return dict(self.kwargs or {})

    def _task(self, i: int, ctx: Any, key: Key | None) -> Task:
        args = [ctx.input(op, i) if isinstance(op, Expr) else op for op in self._args()]
        return Task(key, self.func, *args, **self._kwargs())

    @functools.cached_property
    def _meta(self) -> Any:
        if self.meta is not None:
            return self.meta
        args = [op._meta if isinstance(op, Expr) else op for op in self._args()]
        try:
            return self.func(*args, **self._kwargs())
        except Exception:  # noqa: BLE001 - functions that fail on empty input get a small fake partition
            fake = [make_meta_nonempty(a) if is_frame_like(a) else a for a in args]
            try:
                return meta_from_output(self.func(*fake, **self._kwargs()))
            except Exception as exc:
                raise inference_error(
                    exc, f"shoal could not infer the output of {self._label!r} by running it on a small sample "
                    f"({type(exc).__name__}: {exc}). Pass meta= with an empty pandas "
                    f"object shaped like the output, e.g. meta=pd.DataFrame({{'x': pd.Series(dtype='f8')}})."
                ) from exc

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        out: list[tuple[Expr, set[Any] | None]] = [(self.frame, needed if self.columnwise else None)]
        for op in _iter_exprs(self.args):
            out.append((op, needed if self.columnwise else None))
        return out


class Projection(Blockwise):
    """``frame[columns]``: one column (a Series) or a list of columns (a DataFrame)."""

    _parameters = ("frame", "columns_")
    _label = "getitem"

    @staticmethod
    def operation(frame: Any, columns: Any) -> Any:  # type: ignore[override]
        return frame[columns]

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        cols = self.columns_
        return [(self.frame, set(cols) if isinstance(cols, list) else {cols})]


class Filter(Blockwise):
    """``frame[predicate]`` with a boolean Series aligned to ``frame``."""

    _parameters = ("frame", "predicate")
    _label = "filter"

    @staticmethod
    def operation(frame: Any, predicate: Any) -> Any:  # type: ignore[override]
        return frame[predicate]

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed), (self.predicate, None)]


class Assign(Blockwise):
    """``frame.assign(**{name: value})``, one column at a time so that pushdown can see through it."""

    _parameters = ("frame", "key", "value")
    _label = "assign"

    @staticmethod
    def operation(frame: Any, key: Any, value: Any) -> Any:  # type: ignore[override]
        if isinstance(value, pd.Series) and not len(frame.index) and len(value.index):
            # pandas gives a frame without rows the Series' index; an empty partition must stay empty.
            value = value.reindex(frame.index)
        return frame.assign(**{key: value})

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        out: list[tuple[Expr, set[Any] | None]] = [(self.frame, None if needed is None else needed - {self.key})]
        if isinstance(self.value, Expr):
            out.append((self.value, None))
        return out


class Partitions(Expr):
    """Only some partitions of ``frame`` (contiguous ``indices``)."""

    _parameters = ("frame", "indices")
    _label = "partitions"
    _fuses_inputs = True

    @functools.cached_property
    def _meta(self) -> Any:
        return self.frame._meta

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        div = self.frame.divisions
        idx = self.indices
        return (*(div[i] for i in idx), div[idx[-1] + 1])

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        out: dict[Key, GraphNode] = {}
        for j, i in enumerate(self.indices):
            arg = ctx.input(self.frame, i)
            key = (self._name, j)
            out[key] = arg.with_key(key) if isinstance(arg, Task) else Task(key, _identity, arg)
        return out

    def _needed_columns(self, needed: set[Any] | None) -> list[tuple[Expr, set[Any] | None]]:
        return [(self.frame, needed)]


def _identity(x: Any) -> Any:
    return x


class FromGraph(Expr):
    """Partitions that already exist in a graph (after ``persist``, or from ``to_delayed`` round trips)."""

    _parameters = ("graph", "meta", "divisions_", "name", "label")
    _defaults = {"label": "from-graph"}

    @functools.cached_property
    def _name(self) -> str:
        return self.name  # type: ignore[no-any-return]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        return dict(self.graph)


class FromPandas(Expr):
    """Slices of an in-memory pandas object; ``columns`` is set by projection pushdown."""

    _parameters = ("data", "bounds", "divisions_", "columns_", "token")
    _defaults = {"columns_": None, "token": None}
    _label = "from-pandas"

    @functools.cached_property
    def _name(self) -> str:
        # The data is hashed once by from_pandas (``label`` carries that token), not on every rebuild.
        return f"from-pandas-{tokenize(self.token, self.bounds, self.columns_)}"

    @functools.cached_property
    def _meta(self) -> Any:
        return self._project(self.data.iloc[:0])

    def _project(self, part: Any) -> Any:
        return part if self.columns_ is None else part[self.columns_]

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return tuple(self.divisions_)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        return {(self._name, i): DataNode((self._name, i), self._project(self.data.iloc[start:stop]))
                for i, (start, stop) in enumerate(self.bounds)}

    def _select_columns(self, columns: list[Any]) -> Expr | None:
        if not isinstance(self.data, pd.DataFrame):
            return None
        keep = [c for c in self.data.columns if c in set(columns)]
        return FromPandas(self.data, self.bounds, self.divisions_, keep, self.token)

    def _select_partitions(self, indices: list[int]) -> Expr | None:
        bounds = [self.bounds[i] for i in indices]
        div = self.divisions_
        return FromPandas(self.data, bounds, (*(div[i] for i in indices), div[indices[-1] + 1]), self.columns_,
                          self.token)


#: Chunk functions of tree reductions -> a kernel computing the same partial on an Arrow table, used when the
#: reduction reads Parquet directly (see :mod:`shoal.dataframe._io.parquet_reduce`).
ARROW_CHUNKS: dict[Callable[..., Any], Callable[..., Any]] = {}


class TreeReduce(Expr):
    """Reduce all partitions to one: ``chunk`` per partition, ``combine`` on groups, ``aggregate`` last.

    ``chunk(*partitions, **chunk_kwargs)`` reads the aligned partitions of
    ``frames``; ``combine(list_of_partials)`` and ``aggregate(list_of_partials)``
    take lists of at most ``split_every`` partials, so memory stays bounded by
    the tree's width, not the number of partitions.
    """

    _parameters = ("frames", "chunk", "combine", "aggregate", "meta", "label", "chunk_kwargs", "split_every")
    _defaults = {"chunk_kwargs": None, "split_every": None}
    _fuses_inputs = True

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        # Checked here because collections ask for divisions when they are built.
        if self.split_every is not None and self.split_every < 2:
            raise ValueError(f"split_every must be at least 2 (partials combined per task), got {self.split_every}")
        frames = list(self.frames)
        check_aligned(frames, self._label)
        return (None, None)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        split_every = self.split_every or 8
        frames = list(self.frames)
        n = frames[0].npartitions
        graph: dict[Key, GraphNode] = {}
        chunk_name = f"{self._name}-chunk"
        level: list[Key] = []
        for i in range(n):
            key = (chunk_name, i)
            graph[key] = self._chunk_task(ctx, frames, i, key)
            level.append(key)
        depth = 0
        while len(level) > split_every:
            depth += 1
            name = f"{self._name}-combine-{depth}"
            nxt: list[Key] = []
            for j in range(math.ceil(len(level) / split_every)):
                key = (name, j)
                group = level[j * split_every:(j + 1) * split_every]
                graph[key] = Task(key, self.combine, [Ref(k) for k in group])
                nxt.append(key)
            level = nxt
        graph[(self._name, 0)] = Task((self._name, 0), self.aggregate, [Ref(k) for k in level])
        return graph

    def _chunk_task(self, ctx: Any, frames: list[Expr], i: int, key: Key) -> Task:
        """``chunk`` on partition ``i``; read and reduced in one pass over Arrow data where a kernel exists."""
        kwargs = self.chunk_kwargs or {}
        arrow_chunk = ARROW_CHUNKS.get(self.chunk)
        if arrow_chunk is not None and len(frames) == 1:
            from shoal.dataframe._io.parquet_reduce import reduce_task

            fused = reduce_task(frames[0], ctx, i, key, arrow_chunk, self.chunk, kwargs)
            if fused is not None:
                return fused
        return Task(key, self.chunk, *[ctx.input(f, i) for f in frames], **kwargs)


class Scalar(Expr):
    """A literal value as a one-partition scalar expression (``Scalar`` arithmetic on plain values)."""

    _parameters = ("value",)
    _label = "scalar"

    @functools.cached_property
    def _meta(self) -> Any:
        return self.value

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        return (None, None)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        return {(self._name, 0): DataNode((self._name, 0), self.value)}

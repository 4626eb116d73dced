"""The user-facing collections: ``DataFrame``, ``Series``, ``Index`` and ``Scalar``.

A collection is a thin handle on an expression (``._expr``). Methods build
new expressions and wrap them with :func:`new_collection`, which picks the
class from the expression's meta. The collection protocol optimizes the
expression once (memoized) and lowers it, so ``__dask_graph__`` and
``__dask_keys__`` always describe the same, optimized plan.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from shoal.base import compute, persist
from shoal.dataframe import _reductions as red
from shoal.dataframe._expr import Expr, FromGraph, MapPartitions, Partitions, TreeReduce
from shoal.dataframe._expr import Scalar as ScalarExpr
from shoal.dataframe._lower import build_graph, optimize
from shoal.dataframe._categorical import unify_categories
from shoal.dataframe._concat import concat_frames
from shoal.dataframe._enforce import EnforceMeta
from shoal.dataframe._meta import is_frame_like, make_meta
from shoal.dataframe._partition_info import PassPartitionInfo, partition_info_for, takes_partition_info
from shoal.delayed import Delayed
from shoal.graph.task import GraphNode, Key
from shoal.local.threads import get_threads

__all__ = ["FrameBase", "LazyTruthValueError", "Scalar", "concat_partitions", "new_collection",
           "register_collection_class", "scalar"]


def concat_partitions(parts: list[Any]) -> Any:
    """Join computed partitions in order into one pandas object."""
    if not parts:
        raise ValueError("no partitions to concatenate")
    if isinstance(parts[0], pd.Index):
        return parts[0].append(list(parts[1:])) if len(parts) > 1 else parts[0]
    if not isinstance(parts[0], pd.DataFrame | pd.Series):
        return parts[0]
    # Empty partitions can carry looser dtypes (object for an empty filter result); skip them.
    kept = unify_categories([p for p in parts if len(p)] or parts[:1])
    if len(kept) == 1:
        return _writable(kept[0])
    return concat_frames(kept) if isinstance(kept[0], pd.DataFrame) else pd.concat(kept)


def _writable(part: Any) -> Any:
    """``part``, copied if a column is a read-only view (of Arrow memory, say), so the user can assign into it.

    ``pd.concat`` of several partitions makes new arrays anyway; a result of one partition would otherwise
    refuse ``df.loc[0, "x"] = 5`` with "assignment destination is read-only", where pandas' own readers give
    writable frames.
    """
    columns = part.items() if isinstance(part, pd.DataFrame) else [(part.name, part)]
    for _, column in columns:
        values = column.array
        if isinstance(values, pd.arrays.NumpyExtensionArray) and not values._ndarray.flags.writeable:
            return part.copy()
    return part


def explain_lines(root: Expr) -> list[str]:
    """One line per node, children indented under their consumer; repeated subtrees are named once."""
    lines: list[str] = []
    shown: set[str] = set()

    def visit(expr: Expr, depth: int) -> None:
        cols = f" columns={expr.columns}" if expr.columns else ""
        again = " (shown above)" if expr._name in shown else ""
        lines.append(f"{'  ' * depth}{expr._label}: npartitions={expr.npartitions}{cols}{again}")
        if again:
            return
        shown.add(expr._name)
        for dep in expr.dependencies():
            visit(dep, depth + 1)

    visit(root, 0)
    return lines


def _first(parts: list[Any]) -> Any:
    return parts[0]


def _rebuild(graph: Mapping[Key, Any], meta: Any, divisions: tuple[Any, ...], name: str, label: str,
             rename: Any = None) -> Any:
    if rename:
        name = rename.get(name, name)
    return new_collection(FromGraph(dict(graph), meta, divisions, name, label))


#: pandas type -> collection class; ``_frame`` registers DataFrame, Series and Index when it is
#: imported, so that modules below it can build collections without importing upward.
_collection_classes: dict[type, type] = {}


def register_collection_class(pandas_type: type, cls: type) -> None:
    _collection_classes[pandas_type] = cls


def new_collection(expr: Expr) -> Any:
    """Wrap an expression in the collection class its meta calls for."""
    meta = expr._meta
    expr.divisions  # noqa: B018 - validates partition alignment now, at build time
    for pandas_type, cls in _collection_classes.items():
        if isinstance(meta, pandas_type):
            return cls(expr)
    return ScalarCollection(expr)


class LazyTruthValueError(TypeError, ValueError):
    """``bool(collection)``: a ``TypeError`` as in Dask, and a ``ValueError`` as pandas raises for ambiguous truth."""


def _flip(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    return op(b, a)


def _unwrap(other: Any) -> Any:
    """The expression behind a collection; plain values stay as they are."""
    if isinstance(other, FrameBase):
        return other._expr
    if isinstance(other, pd.DataFrame | pd.Series):
        raise TypeError(
            "Combining a shoal collection with an in-memory pandas object element-wise is not supported: "
            "pandas would align the whole object against each partition. Wrap it first with "
            "shoal.dataframe.from_pandas(obj, npartitions=...) using the same divisions."
        )
    return other


def _binary(op: Callable[[Any, Any], Any], name: str, reflected: bool = False) -> Callable[[Any, Any], Any]:
    def method(self: FrameBase, other: Any) -> Any:
        if isinstance(other, pd.Series) and isinstance(self._meta, pd.DataFrame):
            # pandas matches a Series against a frame's columns, not its index: every partition gets it whole.
            return new_collection(MapPartitions(self._expr, _partial_flip(op) if reflected else op, (other,), None,
                                                None, name, False))
        if isinstance(other, pd.DataFrame | pd.Series) and not isinstance(self, ScalarCollection):
            other = _pandas_operand(self, other, name)
        if (isinstance(other, FrameBase) and not isinstance(other, ScalarCollection)
                and not isinstance(self, ScalarCollection) and tuple(self.divisions) != tuple(other.divisions)):
            # Split both at the union of their divisions first, as Dask does.
            from shoal.dataframe._methods_elementwise import aligned
            self, other = aligned(name, self, other)
        other_expr = _unwrap(other)
        func = _partial_flip(op) if reflected else op
        if isinstance(self, ScalarCollection) and isinstance(other, FrameBase) and not isinstance(
                other, ScalarCollection):
            # scalar (op) frame: the frame drives the partitioning.
            return new_collection(MapPartitions(other_expr, _partial_flip(func), (self._expr,), None, None,
                                                name, True))
        return new_collection(MapPartitions(self._expr, func, (other_expr,), None, None, name, True))

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _pandas_operand(obj: FrameBase, other: pd.DataFrame | pd.Series, name: str) -> FrameBase:
    """An in-memory pandas operand as a collection split like ``obj``, so that pandas' alignment holds per partition.

    As in Dask, ``ddf.x + pandas_series`` aligns on the index; the pandas object is cut at ``obj``'s divisions
    (the binary operator then splits both at the union of divisions, if labels fall outside).
    """
    if not obj.known_divisions:
        raise TypeError(
            f"{name}: combining a shoal collection with an in-memory pandas {type(other).__name__} needs known "
            f"divisions to align them on the index, and this collection's are unknown. Set a sorted index first "
            f"(set_index(..., sorted=True)), or wrap the pandas object with shoal.dataframe.from_pandas."
        )
    if not other.index.is_monotonic_increasing:
        other = other.sort_index()
    from shoal.dataframe._io.memory import from_pandas  # noqa: PLC0415 - _io builds on this module

    return from_pandas(other, npartitions=1)  # type: ignore[no-any-return]


def _partial_flip(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    return functools.partial(_flip, op)


def _unary(op: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    def method(self: FrameBase) -> Any:
        return new_collection(MapPartitions(self._expr, op, (), None, None, name, True))

    method.__name__ = f"__{name}__"
    return method


class FrameBase:
    """What every shoal dataframe collection shares: metadata, the protocol, computing."""

    #: Always a collection: ``is_dask_collection`` need not build (optimize and lower) the graph to find out.
    _shoal_collection = True

    def visualize(self, filename: str | None = "mydask", format: str | None = None, optimize_graph: bool = False,
                  **kwargs: Any) -> Any:
        """Draw the task graph with Graphviz; see :func:`shoal.visualize`.

        The graph drawn is the one ``compute()`` runs (the plan is always optimized first); ``filename=None``
        writes nothing and returns the ``graphviz.Digraph``. Frames, Series, indexes and scalars alike.
        """
        from shoal.base import visualize

        return visualize(self, filename=filename, format=format, optimize_graph=optimize_graph, **kwargs)

    def __init__(self, expr: Expr) -> None:
        self._expr = expr
        self._optimized: Expr | None = None

    # -- metadata ------------------------------------------------------------------------
    @property
    def _meta(self) -> Any:
        return self._expr._meta

    @property
    def _name(self) -> str:
        return self._expr._name

    @property
    def divisions(self) -> tuple[Any, ...]:
        """Index values at the partition boundaries (``None`` entries when unknown)."""
        return tuple(self._expr.divisions)

    @property
    def npartitions(self) -> int:
        return self._expr.npartitions

    @property
    def known_divisions(self) -> bool:
        return len(self.divisions) > 0 and self.divisions[0] is not None

    @property
    def expr(self) -> Expr:
        return self._expr

    def _opt(self) -> Expr:
        if self._optimized is None:
            self._optimized = optimize(self._expr)
        return self._optimized

    def optimize(self) -> Any:
        """The same collection over its optimized plan."""
        return new_collection(self._opt())

    def explain(self) -> None:
        """Print the optimized plan as a tree, output at the top.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"a": [1, 2], "b": [3, 4], "c": [5, 6]}), npartitions=1)
        >>> df[df.a > 1].b.explain()
        getitem: npartitions=1
          filter: npartitions=1 columns=['a', 'b']
            from-pandas: npartitions=1 columns=['a', 'b']
            gt: npartitions=1
              getitem: npartitions=1
                from-pandas: npartitions=1 columns=['a', 'b'] (shown above)
        """
        print("\n".join(explain_lines(self._opt())))

    # -- the collection protocol -----------------------------------------------------------
    def __dask_graph__(self) -> dict[Key, GraphNode]:
        return build_graph(self._opt())

    def __dask_keys__(self) -> list[Key]:
        opt = self._opt()
        return [(opt._name, i) for i in range(opt.npartitions)]

    def __dask_layers__(self) -> tuple[str, ...]:
        return (self._opt()._name,)

    def __dask_tokenize__(self) -> str:
        return self._expr._name

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return concat_partitions, ()

    def __dask_postpersist__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        opt = self._opt()
        return _rebuild, (self._meta, self.divisions, opt._name, self._expr._label)

    __dask_scheduler__ = staticmethod(get_threads)

    @staticmethod
    def __dask_optimize__(graph: Mapping[Key, GraphNode], keys: list[Key], **kwargs: Any) -> Mapping[Key, GraphNode]:
        # The expression was optimized before lowering; the graph is final.
        return graph

    @property
    def dask(self) -> dict[Key, GraphNode]:
        return self.__dask_graph__()

    def compute(self, **kwargs: Any) -> Any:
        """Compute and return a pandas object (a scalar for a ``Scalar``)."""
        (result,) = compute(self, traverse=False, **kwargs)
        return result

    def persist(self, **kwargs: Any) -> Any:
        """Compute the partitions and return a collection holding them in memory."""
        (result,) = persist(self, traverse=False, **kwargs)
        return result

    def __reduce__(self) -> tuple[Any, ...]:
        return (new_collection, (self._expr,))

    def to_delayed(self, optimize_graph: bool = True) -> list[Delayed]:
        """One ``Delayed`` per partition."""
        expr = self._opt() if optimize_graph else self._expr
        graph = build_graph(expr)
        return [Delayed((expr._name, i), None, (), layer=graph) for i in range(expr.npartitions)]

    # -- partition-wise building blocks ----------------------------------------------------
    def map_partitions(self, func: Callable[..., Any], *args: Any, meta: Any = None, align_dataframes: bool = True,
                       enforce_metadata: bool = True, transform_divisions: bool = True,
                       clear_divisions: bool = False, **kwargs: Any) -> Any:
        """Apply ``func(partition, *args, **kwargs)`` to every partition.

        Collections in ``args`` and ``kwargs`` are passed partition by
        partition (they must have the same partitions); scalars computed by
        shoal are broadcast. ``meta`` describes the output (a pandas object,
        a ``{column: dtype}`` dict or a ``(name, dtype)`` tuple); without it,
        ``func`` is run on a small fake partition to find out. With
        ``enforce_metadata=True`` (the default, as in Dask) every output
        partition is checked against a given ``meta`` (columns and their
        order; a Series takes its name). A function returning one value per
        partition, such as ``len``, gives a Series indexed by partition number
        (with ``meta=``, a one-row Series per partition, as in Dask). A function
        with a ``partition_info`` parameter gets Dask's
        ``{"number": i, "division": divisions[i]}`` for its partition.

        Examples
        --------
        >>> import pandas as pd, shoal.dataframe as sd
        >>> df = sd.from_pandas(pd.DataFrame({"x": [1, 2, 3, 4]}), npartitions=2)
        >>> df.map_partitions(lambda p: p.x * 10).compute().tolist()
        [10, 20, 30, 40]
        >>> df.map_partitions(len).compute().tolist()
        [2, 2]
        """
        if kwargs and any(isinstance(v, FrameBase) for v in kwargs.values()):
            raise TypeError("Pass collections to map_partitions positionally, not as keyword arguments.")
        exprs = tuple(_unwrap(a) for a in args)
        if takes_partition_info(func) and "partition_info" not in kwargs and not isinstance(self, ScalarCollection):
            # Dask's {"number": i, "division": divisions[i]}, as one more partitioned operand.
            func = PassPartitionInfo(func, self.divisions[0])
            exprs = (*exprs, partition_info_for(self.divisions))
        # A {column: dtype} dict or (name, dtype) tuple describes the values; the index is the input's, as Dask does.
        meta = make_meta(meta, index=self._meta.index if not is_frame_like(meta) and isinstance(
            self._meta, pd.DataFrame | pd.Series) else None) if meta is not None else None
        if enforce_metadata and is_frame_like(meta):
            # The plan trusts a given meta; check each partition against it, as Dask does.
            func = EnforceMeta(func, meta)
        expr = MapPartitions(self._expr, func, exprs, kwargs or None, meta, None, False, not clear_divisions)
        if not is_frame_like(expr._meta) and not isinstance(self, ScalarCollection):
            # One value per partition (``len``, a sum): a Series indexed by partition number, as in Dask.
            return new_collection(red.partition_values(expr))
        return new_collection(expr)

    @property
    def partitions(self) -> _PartitionIndexer:
        """Select partitions: ``df.partitions[0]``, ``df.partitions[1:3]``."""
        return _PartitionIndexer(self)

    def get_partition(self, n: int) -> Any:
        return self.partitions[n]

    def _select_partitions(self, indices: list[int]) -> Any:
        return new_collection(Partitions(self._expr, indices))

    def head(self, n: int = 5, npartitions: int = 1, compute: bool = True) -> Any:
        """The first ``n`` rows, reading only the first ``npartitions`` partitions (``-1``: all)."""
        k = self.npartitions if npartitions == -1 else min(npartitions, self.npartitions)
        if k < 1:
            raise ValueError(f"npartitions must be -1 or at least 1, got {npartitions}")
        part = Partitions(self._expr, list(range(k))) if k < self.npartitions else self._expr
        expr = TreeReduce([part], _head_chunk, _head_agg(n), _head_agg(n), self._meta, "head", {"n": n})
        out = new_collection(expr)
        return out.compute() if compute else out

    def tail(self, n: int = 5, compute: bool = True) -> Any:
        """The last ``n`` rows, reading only the last partition."""
        last = self.npartitions - 1
        part = Partitions(self._expr, [last]) if self.npartitions > 1 else self._expr
        expr = TreeReduce([part], _tail_chunk, _tail_agg(n), _tail_agg(n), self._meta, "tail", {"n": n})
        out = new_collection(expr)
        return out.compute() if compute else out

    def __len__(self) -> int:
        return int(new_collection(red.length(self._expr)).compute())

    def __bool__(self) -> bool:
        raise LazyTruthValueError(
            f"The truth value of a {type(self).__name__} is ambiguous: it is lazy. Use a.any(), a.all(), "
            f"or compute() first."
        )

    # -- element-wise --------------------------------------------------------------------
    __add__ = _binary(operator.add, "add")
    __radd__ = _binary(operator.add, "add", True)
    __sub__ = _binary(operator.sub, "sub")
    __rsub__ = _binary(operator.sub, "sub", True)
    __mul__ = _binary(operator.mul, "mul")
    __rmul__ = _binary(operator.mul, "mul", True)
    __truediv__ = _binary(operator.truediv, "truediv")
    __rtruediv__ = _binary(operator.truediv, "truediv", True)
    __floordiv__ = _binary(operator.floordiv, "floordiv")
    __rfloordiv__ = _binary(operator.floordiv, "floordiv", True)
    __mod__ = _binary(operator.mod, "mod")
    __rmod__ = _binary(operator.mod, "mod", True)
    __pow__ = _binary(operator.pow, "pow")
    __rpow__ = _binary(operator.pow, "pow", True)
    __and__ = _binary(operator.and_, "and")
    __rand__ = _binary(operator.and_, "and", True)
    __or__ = _binary(operator.or_, "or")
    __ror__ = _binary(operator.or_, "or", True)
    __xor__ = _binary(operator.xor, "xor")
    __rxor__ = _binary(operator.xor, "xor", True)
    __lt__ = _binary(operator.lt, "lt")
    __le__ = _binary(operator.le, "le")
    __gt__ = _binary(operator.gt, "gt")
    __ge__ = _binary(operator.ge, "ge")
    __eq__ = _binary(operator.eq, "eq")  # type: ignore[assignment]
    __ne__ = _binary(operator.ne, "ne")  # type: ignore[assignment]
    __neg__ = _unary(operator.neg, "neg")
    __pos__ = _unary(operator.pos, "pos")
    __invert__ = _unary(operator.invert, "invert")
    __abs__ = _unary(operator.abs, "abs")
    __hash__ = object.__hash__


def _head_chunk(part: Any, n: int) -> Any:
    return part.head(n)


class _HeadAgg:
    """Concatenate partials in order, keep the first (or last) ``n`` rows; picklable and tokenizable."""

    def __init__(self, n: int, last: bool) -> None:
        self.n, self.last = n, last

    def __call__(self, parts: list[Any]) -> Any:
        joined = concat_partitions(parts)
        return joined.tail(self.n) if self.last else joined.head(self.n)

    def __dask_tokenize__(self) -> Any:
        return ("head-agg", self.n, self.last)


def _head_agg(n: int) -> _HeadAgg:
    return _HeadAgg(n, False)


def _tail_chunk(part: Any, n: int) -> Any:
    return part.tail(n)


def _tail_agg(n: int) -> _HeadAgg:
    return _HeadAgg(n, True)


class _PartitionIndexer:
    def __init__(self, obj: FrameBase) -> None:
        self.obj = obj

    def __getitem__(self, index: Any) -> Any:
        n = self.obj.npartitions
        if isinstance(index, int | np.integer):
            i = int(index) + n if index < 0 else int(index)
            if not 0 <= i < n:
                raise IndexError(f"partition {index} is out of range: the collection has {n} partitions")
            indices = [i]
        elif isinstance(index, slice):
            indices = list(range(n))[index]
            if index.step not in (None, 1) or not indices:
                raise IndexError(f"select a non-empty, contiguous range of the {n} partitions, got {index}")
        else:
            raise TypeError(f"partitions[...] takes an int or a slice, got {type(index).__name__}")
        return self.obj._select_partitions(indices)


class ScalarCollection(FrameBase):
    """A lazy single value, such as ``df.x.sum()``; supports arithmetic and ``compute()``."""

    def __dask_postcompute__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return _first, ()

    @property
    def dtype(self) -> Any:
        return getattr(self._meta, "dtype", np.dtype(type(self._meta)))

    def __repr__(self) -> str:
        return f"shoal.dataframe.Scalar<{self._expr._label}, dtype={self.dtype}>"

    def __float__(self) -> float:
        return float(self.compute())

    def __int__(self) -> int:
        return int(self.compute())


Scalar = ScalarCollection


def scalar(value: Any) -> ScalarCollection:
    """A literal as a lazy scalar."""
    return ScalarCollection(ScalarExpr(value))

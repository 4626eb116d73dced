"""``shoal.dataframe.map_overlap``: one function over several aligned collections, each with its neighbours' rows.

``df.map_overlap`` (see :class:`shoal.dataframe._overlap.Overlap`) extends one
collection. The top-level function also takes collections among the
arguments: they are first split at the same divisions as ``df``
(:func:`shoal.dataframe._align.aligned`), then *each* is extended by
``before``/``after`` rows (or a time span) of its own neighbours, so that
``func(df_part, other_part)`` sees the same rows of both, as ``func(df, other)``
would on the whole pandas objects. The result is trimmed back to ``df``'s own
rows of the partition. Lazy scalars among the arguments are passed whole to
every call.

Dask extends only ``df`` and passes the other collections' partitions as they
are, so a function that looks back (``b.shift(1)``) sees a gap at every
partition edge; shoal extends them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd

from shoal.dataframe._align import aligned, as_collection, is_partitioned
from shoal.dataframe._core import FrameBase, new_collection
from shoal.dataframe._enforce import EnforceMeta
from shoal.dataframe._expr import Expr
from shoal.dataframe._meta import is_frame_like, make_meta, make_meta_nonempty, meta_from_output, with_index_of
from shoal.dataframe._overlap import _concat, _head_for_previous, _like, _tail_for_next, normalize_span
from shoal.graph.task import GraphNode, Key, Ref, Task

__all__ = ["map_overlap"]

_NO_DEFAULT: Any = pd.api.extensions.no_default


class _FrameSlot:
    """Stands in a task's argument list for the extended partition of frame ``j`` (frame 0 is ``df``)."""

    def __init__(self, j: int) -> None:
        self.j = j

    def __repr__(self) -> str:
        return f"<frame {self.j}>"

    def __dask_tokenize__(self) -> Any:
        return ("frame-slot", self.j)


def _apply(prevs: list[Any], parts: list[Any], nexts: list[Any], func: Callable[..., Any], args: list[Any],
           kwargs: dict[str, Any], index: int, meta: Any) -> Any:
    joined = [_concat([p, part, nx]) for p, part, nx in zip(prevs, parts, nexts, strict=True)]
    n_prev = 0 if prevs[0] is None else len(prevs[0])
    call_args = [joined[a.j] if isinstance(a, _FrameSlot) else a for a in args]
    out = func(joined[0], *call_args, **kwargs)
    if len(out) != len(joined[0]):
        raise ValueError(
            f"map_overlap: the function returned {len(out)} rows for partition {index}, whose first frame extended "
            f"by its neighbours' rows has {len(joined[0])}; it must return one row per row of that frame so the "
            f"borrowed rows can be trimmed. Use map_partitions for functions that change the number of rows."
        )
    out = out.iloc[n_prev:n_prev + len(parts[0])]
    return _like(out, meta) if not len(out) else out


class MultiOverlap(Expr):
    """``func(df, *args)`` per partition, every partitioned argument extended like ``df``; see the module docstring.

    ``frames[0]`` is ``df``; ``args`` holds a :class:`_FrameSlot` where another frame goes, lazy scalar
    expressions and plain values. All frames have the same divisions.
    """

    _parameters = ("frames", "func", "before", "after", "args", "kwargs", "meta", "label", "keep_divisions")
    # Each partition is read by three tasks (its own and both neighbours'), so it is computed once, not inlined.
    _fuses_inputs = False

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...]:
        first = self.frames[0]
        return tuple(first.divisions) if self.keep_divisions else (None,) * (first.npartitions + 1)

    def _layer(self, ctx: Any) -> dict[Key, GraphNode]:
        frames = list(self.frames)
        n = frames[0].npartitions
        graph: dict[Key, GraphNode] = {}
        parts = [[ctx.input(frame, i) for i in range(n)] for frame in frames]
        for j in range(len(frames)):
            prev_name, next_name = f"{self._name}-before-{j}", f"{self._name}-after-{j}"
            if self.before:
                for i in range(1, n):
                    carry = Ref((prev_name, i - 1)) if i > 1 else None
                    graph[(prev_name, i)] = Task((prev_name, i), _tail_for_next, carry, parts[j][i - 1], self.before)
            if self.after:
                for i in range(n - 2, -1, -1):
                    carry = Ref((next_name, i + 1)) if i < n - 2 else None
                    graph[(next_name, i)] = Task((next_name, i), _head_for_previous, parts[j][i + 1], carry,
                                                 self.after)
        args = [ctx.input(a, 0) if isinstance(a, Expr) else a for a in self.args]
        for i in range(n):
            prevs = [Ref((f"{self._name}-before-{j}", i)) if self.before and i > 0 else None
                     for j in range(len(frames))]
            nexts = [Ref((f"{self._name}-after-{j}", i)) if self.after and i < n - 1 else None
                     for j in range(len(frames))]
            key = (self._name, i)
            graph[key] = Task(key, _apply, prevs, [p[i] for p in parts], nexts, self.func, args,
                              dict(self.kwargs or {}), i, self._meta)
        return graph


def _infer_meta(func: Callable[..., Any], metas: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return meta_from_output(func(*metas, **kwargs))
    except Exception:  # noqa: BLE001 - functions that fail on empty input get small stand-in partitions
        fake = [make_meta_nonempty(m) if is_frame_like(m) else m for m in metas]
        try:
            return meta_from_output(func(*fake, **kwargs))
        except Exception as exc:
            raise ValueError(
                f"map_overlap could not infer the output of {getattr(func, '__name__', func)!r} by running it on "
                f"small stand-in partitions ({type(exc).__name__}: {exc}). Pass meta= with an empty pandas object "
                f"shaped like the output."
            ) from exc


def map_overlap(func: Callable[..., Any], df: Any, before: Any, after: Any, *args: Any, meta: Any = _NO_DEFAULT,
                enforce_metadata: bool = True, transform_divisions: bool = True, clear_divisions: bool = False,
                align_dataframes: bool = False, **kwargs: Any) -> Any:
    """``func(df, *args, **kwargs)`` on each partition extended by its neighbours' rows, then trimmed.

    Mirrors ``dask.dataframe.map_overlap``.

    Parameters
    ----------
    func : callable
        Called as ``func(df_part, *args, **kwargs)``; must return one row per row of ``df_part``.
    df : shoal or pandas DataFrame / Series
        The collection that drives the partitioning (a pandas object becomes one partition).
    before, after : int, str or timedelta
        Rows (or a time span such as ``'2h'`` on a datetime index) borrowed from the previous and next
        partitions.
    *args
        Passed after the partition. DataFrames and Series (shoal or pandas) are split at ``df``'s divisions
        and extended the same way; lazy scalars are computed and passed whole; anything else as it is.
    meta : optional
        The output's structure; inferred by running ``func`` on empty (or small stand-in) partitions if absent.
    enforce_metadata : bool
        Check each output partition against ``meta`` when ``meta`` is given (as ``map_partitions`` does).
    transform_divisions : bool
        Accepted for Dask compatibility; divisions are those of ``df`` unless ``clear_divisions``.
    clear_divisions : bool
        Forget the divisions of the output.
    align_dataframes : bool
        Accepted for Dask compatibility. Collections are always split at the same divisions (when they differ
        and are known) so that each partition sees matching rows, as pandas would align them.
    **kwargs
        Passed to every call (plain values only).

    Examples
    --------
    >>> import pandas as pd, shoal.dataframe as sd
    >>> a = sd.from_pandas(pd.Series([1.0, 2, 3, 4, 5]), npartitions=2)
    >>> b = sd.from_pandas(pd.Series([10.0, 20, 30, 40, 50]), npartitions=3)
    >>> sd.map_overlap(lambda x, y: x + y.shift(1), a, 1, 0, b).compute().tolist()
    [nan, 12.0, 23.0, 34.0, 45.0]
    """
    if not callable(func):
        raise TypeError(f"map_overlap(func, df, before, after, ...): func must be callable, got "
                        f"{type(func).__name__}. The order is func first, then the collection.")
    df = as_collection(df)
    if not is_partitioned(df) or isinstance(df._meta, pd.Index):
        raise TypeError(f"map_overlap: df must be a DataFrame or Series (shoal or pandas), got {type(df).__name__}")
    if any(isinstance(v, FrameBase) for v in kwargs.values()):
        raise TypeError("map_overlap: pass collections positionally (they are split and extended like df), not as "
                        "keyword arguments.")
    args_list = [as_collection(a) for a in args]
    positions = [k for k, a in enumerate(args_list) if is_partitioned(a)]
    if positions:
        lined_up = aligned("map_overlap", df, *(args_list[k] for k in positions))
        df = lined_up[0]
        for k, coll in zip(positions, lined_up[1:], strict=True):
            args_list[k] = coll
    index = df._meta.index
    before = normalize_span(before, "before", index)
    after = normalize_span(after, "after", index)
    metas = [df._meta, *(a._meta if isinstance(a, FrameBase) else a for a in args_list)]
    # A dict or (name, dtype) meta gets the input's index type: the output keeps the input's rows.
    out_meta = (with_index_of(make_meta(meta), df._meta) if meta is not _NO_DEFAULT and meta is not None
                else _infer_meta(func, metas, kwargs))
    call = EnforceMeta(func, out_meta) if enforce_metadata and meta is not _NO_DEFAULT and meta is not None else func
    frames = [df._expr, *(args_list[k]._expr for k in positions)]
    slots = {k: _FrameSlot(j) for j, k in enumerate(positions, start=1)}
    operands = tuple(slots[k] if k in slots else a._expr if isinstance(a, FrameBase) else a
                     for k, a in enumerate(args_list))
    label = getattr(func, "__name__", "overlap").replace("_", "-").strip("-<>") or "overlap"
    label = "map-overlap" if label == "lambda" else label
    return new_collection(MultiOverlap(frames, call, before, after, operands, kwargs or None, out_meta, label,
                                       not clear_divisions))

"""Partition pipelines: how one bag task turns its inputs into a partition.

Every partition task of a bag is ``Task(key, run_partition, pipeline, index,
*inputs)``. A :class:`Pipeline` is a list of *stages*; the first stage reads
the task's first inputs (a partition, or the arguments of a source such as a
file block), and each later stage reads the output of the one before it plus
its own *side inputs* (the results of ``Item`` or ``Delayed`` arguments, a
file name, ...) taken, in order, from the remaining inputs.

Stages are lazy
    A stage that produces a sequence (``kind == SEQ``) returns an iterator
    built from C-level tools where it can (``map``, ``filter``,
    ``itertools``), so a fused chain ``read -> map -> filter -> pluck`` streams
    each element through every step without building intermediate lists. Only
    the pipeline's result is materialized: a ``SEQ`` pipeline returns a list
    (what crosses a process boundary or is stored must be a list), a
    ``VALUE`` pipeline (the per-partition half of a reduction) returns its
    small value.

A partition input may be any iterable
    Stored partitions are lists, but a hand-written graph may hold ``range``
    objects or tuples and a fused input is an iterator. A stage consumes its
    partition input at most once, and converts it with :func:`as_list` when
    it needs several passes.

Fusion
    :mod:`shoal.bag._optimize` joins a partition task to the partition task
    that feeds its first input (when nothing else needs that intermediate
    partition) by concatenating their pipelines; see there.

Errors
    :func:`run_partition` adds a note naming the partition index, the bag and,
    for tasks that read files, the file and byte range, to any exception
    raised while the partition is produced (lazily produced elements fail
    while the pipeline's result is being built, inside this same call). The
    exception keeps its type, and :func:`keep_notes_when_pickled` makes the
    note survive the trip back from a worker process even for exception types
    whose ``__reduce__`` drops instance attributes (``json.JSONDecodeError``).
"""

from __future__ import annotations

import abc
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from operator import itemgetter
from typing import Any, ClassVar

__all__ = [
    "EMPTY",
    "SEQ",
    "VALUE",
    "Filter",
    "Flatten",
    "Identity",
    "Map",
    "MapMany",
    "MapPartitions",
    "Pipeline",
    "Pluck",
    "Stage",
    "Starmap",
    "Take",
    "as_list",
    "keep_notes_when_pickled",
    "zip_partitions",
    "run_partition",
]

#: Stage kinds: the stage yields the elements of a partition / a single value.
SEQ = "seq"
VALUE = "value"

#: Types that can be iterated several times and have a length.
_MULTIPASS = (list, tuple, range)


class _Empty:
    """The per-partition result of a reduction over an empty partition.

    A singleton that stays one across pickling, so aggregates can test
    ``x is EMPTY`` on results that came back from worker processes.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"

    def __reduce__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()


def as_list(part: Iterable[Any]) -> list[Any] | tuple[Any, ...] | range:
    """Return ``part`` as something that can be iterated many times.

    >>> as_list(iter([1, 2]))
    [1, 2]
    >>> r = range(3)
    >>> as_list(r) is r
    True
    """
    return part if type(part) in _MULTIPASS else list(part)


class Stage(abc.ABC):
    """One step of a pipeline. Subclasses define ``__call__`` and ``kind``."""

    __slots__ = ()
    kind: ClassVar[str] = SEQ

    @abc.abstractmethod
    def __call__(self, *inputs: Any) -> Any:
        """Run the step on its inputs (partitions or per-partition values)."""

    def describe(self, *inputs: Any) -> str | None:
        """Where this stage's data comes from, for error notes (sources only)."""
        return None

    def __repr__(self) -> str:
        return type(self).__name__


class Pipeline:
    """Stages run one after the other inside one task; see the module docstring.

    ``arities[0]`` is the number of inputs the first stage reads; ``arities[i]``
    for a later stage is the number of side inputs it reads after the previous
    stage's output.

    >>> p = Pipeline([Map(abs), Filter(bool)], [1, 0], name="demo")
    >>> p([-2, 0, 3])
    [2, 3]
    """

    __slots__ = ("stages", "arities", "name", "kind")

    def __init__(self, stages: list[Stage], arities: list[int], name: str) -> None:
        if len(stages) != len(arities) or not stages:
            raise ValueError("a Pipeline needs one arity per stage and at least one stage")
        self.stages = tuple(stages)
        self.arities = tuple(arities)
        #: The names of the bags whose steps this pipeline runs, "a -> b" (for error notes).
        self.name = name
        self.kind = stages[-1].kind

    def __call__(self, *inputs: Any) -> Any:
        stages = self.stages
        arities = self.arities
        first = arities[0]
        result = stages[0](*inputs[:first])
        position = first
        for stage, arity in zip(stages[1:], arities[1:], strict=True):
            if arity:
                result = stage(result, *inputs[position:position + arity])
                position += arity
            else:
                result = stage(result)
        if self.kind == SEQ and type(result) is not list:
            result = list(result)
        return result

    def describe(self, *inputs: Any) -> str | None:
        return self.stages[0].describe(*inputs[:self.arities[0]])

    def __repr__(self) -> str:
        return f"Pipeline({' -> '.join(map(repr, self.stages))})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Pipeline, (list(self.stages), list(self.arities), self.name))


def run_partition(pipeline: Pipeline, index: int, *inputs: Any) -> Any:
    """Run ``pipeline`` on ``inputs`` to produce partition ``index``; the function of every bag task."""
    try:
        return pipeline(*inputs)
    except Exception as exc:
        where = ""
        try:
            origin = pipeline.describe(*inputs)
        except Exception:  # noqa: BLE001 - a failing description must not hide the real error
            origin = None
        if origin:
            where = f", reading {origin}"
        steps = pipeline.name.split(" -> ")
        if len(steps) > 5:
            steps = [*steps[:2], "...", *steps[-2:]]
        exc.add_note(f"shoal.bag: raised while computing partition {index} ({' -> '.join(steps)}){where}")
        keep_notes_when_pickled(exc)
        raise


# --------------------------------------------------------------------------- notes across processes


def keep_notes_when_pickled(exc: BaseException) -> None:
    """Make ``exc.__notes__`` survive pickling, as it must to cross a process boundary.

    The default ``BaseException.__reduce__`` carries the instance ``__dict__``
    (where notes live), but some exception types override it with one that
    rebuilds from ``args`` alone; for those, an instance-level
    ``__reduce_ex__`` (which pickle consults before the class's) re-attaches
    the notes after unpickling.

    >>> import json, pickle
    >>> try:
    ...     json.loads("{")
    ... except ValueError as e:
    ...     e.add_note("partition 3")
    ...     keep_notes_when_pickled(e)
    ...     pickle.loads(pickle.dumps(e)).__notes__
    ['partition 3']
    """
    cls = type(exc)
    if cls.__reduce__ is BaseException.__reduce__ or "__reduce_ex__" in vars(exc):
        return
    try:
        exc.__reduce_ex__ = _ReduceWithNotes(exc)  # type: ignore[method-assign]
    except (AttributeError, TypeError):  # an exception type without an instance __dict__
        pass


class _ReduceWithNotes:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __call__(self, protocol: int) -> tuple[Any, ...]:
        exc = self.exc
        reduced = type(exc).__reduce_ex__(exc, protocol)
        if isinstance(reduced, str):
            return reduced  # type: ignore[return-value]
        func, args = reduced[0], reduced[1]
        state = reduced[2] if len(reduced) > 2 else None
        if isinstance(state, dict):
            state = {k: v for k, v in state.items() if k != "__reduce_ex__"}
        return (_restore_with_notes, (func, args, state, list(getattr(exc, "__notes__", []))))


def _restore_with_notes(func: Callable[..., Any], args: tuple[Any, ...], state: Any, notes: list[str]) -> Any:
    exc = func(*args)
    if state:
        if hasattr(exc, "__setstate__"):
            exc.__setstate__(state)
        else:
            exc.__dict__.update(state)
    exc.__notes__ = notes
    return exc


# --------------------------------------------------------------------------- element-wise stages


class Identity(Stage):
    """The partition as it is (materialized to a list at the end of the task)."""

    __slots__ = ()

    def __call__(self, part: Iterable[Any]) -> Iterable[Any]:
        return part


class Map(Stage):
    """``func(x, **kwargs)`` for each element ``x``."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any] | None = None) -> None:
        self.func = partial(func, **kwargs) if kwargs else func

    def __call__(self, part: Iterable[Any]) -> Iterator[Any]:
        return map(self.func, part)

    def __repr__(self) -> str:
        return f"Map({_name(self.func)})"


class Starmap(Stage):
    """``func(*x, **kwargs)`` for each element ``x``; keyword values may be side inputs."""

    __slots__ = ("func", "kwarg_names", "kwargs")

    def __init__(self, func: Callable[..., Any], kwargs: dict[str, Any], side_names: list[str]) -> None:
        self.func = func
        self.kwargs = kwargs
        #: Names of the keyword arguments whose values arrive as side inputs, in order.
        self.kwarg_names = tuple(side_names)

    def __call__(self, part: Iterable[Any], *side: Any) -> Iterator[Any]:
        kwargs = dict(self.kwargs, **dict(zip(self.kwarg_names, side, strict=True)))
        func = partial(self.func, **kwargs) if kwargs else self.func
        return itertools.starmap(func, part)


#: Markers in a MapMany/MapPartitions argument template.
BAG = "bag"  # the next partition input
SIDE = "side"  # the next side input (Item, Delayed)
CONST = "const"  # a literal value


class MapMany(Stage):
    """``func(*args, **kwargs)`` element-wise, where arguments mix partitions, side inputs and constants.

    ``template`` lists ``(kind, value)`` for each positional argument and
    ``kw_template`` maps keyword names to the same pairs (``kind`` is
    :data:`BAG`, :data:`SIDE` or :data:`CONST`). Inputs arrive as every
    partition first (positional ones, then keyword ones), then every side
    input in the same order. Partitions are zipped strictly: partitions of
    different lengths raise ``ValueError`` instead of silently dropping
    elements.

    >>> from operator import add
    >>> list(MapMany(add, [(BAG, None), (CONST, 10)], {}, nbags=1)([1, 2]))
    [11, 12]
    """

    __slots__ = ("func", "template", "kw_template", "nbags")

    def __init__(self, func: Callable[..., Any], template: list[tuple[str, Any]],
                 kw_template: dict[str, tuple[str, Any]], nbags: int) -> None:
        self.func = func
        self.template = tuple(template)
        self.kw_template = kw_template
        self.nbags = nbags

    def __call__(self, *inputs: Any) -> Iterator[Any]:
        parts = inputs[:self.nbags]
        positional, keywords = _resolve_template(self.template, self.kw_template, inputs[self.nbags:])
        kw_columns = {name: value for name, (kind, value) in keywords.items() if kind == BAG}
        constant_kwargs = {name: value for name, (kind, value) in keywords.items() if kind != BAG}
        func = partial(self.func, **constant_kwargs) if constant_kwargs else self.func
        if self.nbags == 1 and not kw_columns:
            # One partition among constants: a C-level map over repeated constants.
            return map(func, *[parts[0] if kind == BAG else itertools.repeat(value) for kind, value in positional])
        return _map_rows(func, zip_partitions(parts, "map"), positional, kw_columns)

    def __repr__(self) -> str:
        return f"MapMany({_name(self.func)})"


def zip_partitions(parts: Iterable[Iterable[Any]], opname: str) -> Iterator[tuple[Any, ...]]:
    """Zip corresponding partitions of several bags, which must have the same length.

    >>> list(zip_partitions([[1, 2], "ab"], "zip"))
    [(1, 'a'), (2, 'b')]
    >>> list(zip_partitions([[1, 2], "a"], "zip"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: zip: corresponding partitions of the bags have different lengths (zip() argument 2 is ...
    """
    rows = zip(*parts, strict=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except ValueError as exc:
            raise ValueError(
                f"{opname}: corresponding partitions of the bags have different lengths ({exc}). Elements are "
                f"paired by position, so the bags must have the same number of elements in each partition: "
                f"build them the same way, or use join/groupby to pair elements by key."
            ) from exc
        yield row


def _resolve_template(template: tuple[tuple[str, Any], ...], kw_template: dict[str, tuple[str, Any]],
                      side_inputs: tuple[Any, ...]) -> tuple[list[tuple[str, Any]], dict[str, tuple[str, Any]]]:
    """Number the partitions (BAG -> column index) and put side-input values in place (SIDE -> CONST)."""
    side = iter(side_inputs)
    column = itertools.count()
    positional = [(BAG, next(column)) if kind == BAG else (CONST, next(side) if kind == SIDE else value)
                  for kind, value in template]
    keywords = {name: (BAG, next(column)) if kind == BAG else (CONST, next(side) if kind == SIDE else value)
                for name, (kind, value) in kw_template.items()}
    return positional, keywords


def _map_rows(func: Callable[..., Any], rows: Iterable[tuple[Any, ...]], positional: list[tuple[str, Any]],
              kw_columns: dict[str, int]) -> Iterator[Any]:
    for row in rows:
        args = [row[value] if kind == BAG else value for kind, value in positional]
        if kw_columns:
            yield func(*args, **{name: row[i] for name, i in kw_columns.items()})
        else:
            yield func(*args)


class MapPartitions(Stage):
    """``func(partition, ...)`` once per partition; partitions are passed as lists.

    A result that is not an iterable (or is a string) becomes a partition of
    one element, so ``map_partitions(len)`` gives one length per partition.
    """

    __slots__ = ("func", "template", "kw_template", "nbags")

    def __init__(self, func: Callable[..., Any], template: list[tuple[str, Any]],
                 kw_template: dict[str, tuple[str, Any]], nbags: int) -> None:
        self.func = func
        self.template = tuple(template)
        self.kw_template = kw_template
        self.nbags = nbags

    def __call__(self, *inputs: Any) -> Any:
        # Users' functions get lists: they may call len() or iterate twice.
        parts = [p if type(p) is list else list(p) for p in inputs[:self.nbags]]
        positional, keywords = _resolve_template(self.template, self.kw_template, inputs[self.nbags:])
        args = [parts[value] if kind == BAG else value for kind, value in positional]
        kwargs = {name: parts[value] if kind == BAG else value for name, (kind, value) in keywords.items()}
        result = self.func(*args, **kwargs)
        if result is None:
            raise TypeError(
                f"map_partitions function {_name(self.func)} returned None; it must return the new "
                f"partition (a list or another iterable)."
            )
        if isinstance(result, str | bytes) or not hasattr(result, "__iter__"):
            # A scalar per partition (map_partitions(len)) becomes a one-element partition.
            return [result]
        return result

    def __repr__(self) -> str:
        return f"MapPartitions({_name(self.func)})"


class Filter(Stage):
    """Keep the elements for which ``predicate`` is true (``keep=False``: false)."""

    __slots__ = ("predicate", "keep")

    def __init__(self, predicate: Callable[[Any], Any], keep: bool = True) -> None:
        self.predicate = predicate
        self.keep = keep

    def __call__(self, part: Iterable[Any]) -> Iterator[Any]:
        return filter(self.predicate, part) if self.keep else itertools.filterfalse(self.predicate, part)

    def __repr__(self) -> str:
        return f"Filter({_name(self.predicate)})"


class Pluck(Stage):
    """``x[key]`` for each element; a list of keys gives a tuple per element."""

    __slots__ = ("key", "default")

    def __init__(self, key: Any, default: Any = EMPTY) -> None:
        self.key = key
        self.default = default

    def __call__(self, part: Iterable[Any]) -> Iterator[Any]:
        key = self.key
        if self.default is EMPTY:
            if type(key) is list:
                if len(key) == 1:
                    getter = itemgetter(key[0])
                    return ((getter(x),) for x in part)
                return map(itemgetter(*key), part)
            return map(itemgetter(key), part)
        return _pluck_default(key, self.default, part)


def _get_default(x: Any, key: Any, default: Any) -> Any:
    try:
        return x[key]
    except (KeyError, IndexError, TypeError):
        return default


def _pluck_default(key: Any, default: Any, part: Iterable[Any]) -> Iterator[Any]:
    if type(key) is list:
        for x in part:
            yield tuple(_get_default(x, k, default) for k in key)
    else:
        for x in part:
            yield _get_default(x, key, default)


class Flatten(Stage):
    """Concatenate the elements, which are themselves iterables."""

    __slots__ = ()

    def __call__(self, part: Iterable[Iterable[Any]]) -> Iterator[Any]:
        return itertools.chain.from_iterable(part)


class Take(Stage):
    """The first ``k`` elements: reading stops there, so upstream work stops too."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, part: Iterable[Any]) -> Iterator[Any]:
        return itertools.islice(part, self.k)


def count_elements(part: Iterable[Any]) -> int:
    """Count the elements of an iterable without keeping them.

    >>> count_elements(x for x in "abc")
    3
    """
    if type(part) in _MULTIPASS:
        return len(part)  # type: ignore[arg-type]
    counter = itertools.count()
    # zip pulls one from each; a zero-length deque drains at C speed.
    deque(zip(part, counter, strict=False), maxlen=0)
    return next(counter)


def _name(func: Any) -> str:
    while isinstance(func, partial):
        func = func.func
    name = getattr(func, "__name__", None) or type(func).__name__
    return "lambda" if name == "<lambda>" else str(name)

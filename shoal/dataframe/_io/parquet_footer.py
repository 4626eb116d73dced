"""Which row groups and columns of a Parquet file a read needs, decided from the file's footer.

Row groups whose min/max statistics rule a filter out are dropped before any
task exists (:func:`matching_row_groups`), and string columns stored as
dictionaries are read as such (:func:`dictionary_columns`). Split from
:mod:`shoal.dataframe._io.parquet`, which reads and writes.

Parsed footers are kept per process (:func:`local_footer`), keyed by the
footer's own bytes: planning parses each file's footer, and every read task
would parse it again, as would the next query over the same files. Reading
the footer's bytes costs a few microseconds; parsing them, about a hundred.
Because the key is the bytes themselves, a rewritten file is never described
by a stale footer.
"""

from __future__ import annotations

import collections
import functools
import threading
from typing import Any

#: Filter operators and the Arrow compute kernels that evaluate them.
KERNELS = {"==": "equal", "=": "equal", "!=": "not_equal", ">": "greater", ">=": "greater_equal",
           "<": "less", "<=": "less_equal"}


def is_trivial(expression: Any) -> bool:
    """Whether a partition expression selects everything (a file outside any hive ``key=value`` folder)."""
    return bool(expression is None or expression.equals(_true_expression()))


@functools.cache
def _true_expression() -> Any:
    import pyarrow.dataset as ds

    return ds.scalar(True)


class Footer:
    """A file's parsed footer, its Arrow schema, and min/max statistics gathered per column on first use."""

    __slots__ = ("metadata", "schema", "_positions", "_stats")

    def __init__(self, metadata: Any) -> None:
        self.metadata = metadata
        self.schema = metadata.schema.to_arrow_schema()
        self._positions: dict[str, int] | None = None
        self._stats: dict[int, list[tuple[Any, Any] | None]] = {}

    @property
    def positions(self) -> dict[str, int]:
        """Column path -> position among the file's leaf columns."""
        if self._positions is None:
            schema = self.metadata.schema
            self._positions = {schema.column(i).path: i for i in range(self.metadata.num_columns)}
        return self._positions

    def min_max(self, position: int) -> list[tuple[Any, Any] | None]:
        """Per row group, the column's ``(min, max)``, or ``None`` where the statistics don't say."""
        found = self._stats.get(position)
        if found is None:
            found = []
            for g in range(self.metadata.num_row_groups):
                stats = self.metadata.row_group(g).column(position).statistics
                found.append((stats.min, stats.max) if stats is not None and stats.has_min_max else None)
            self._stats[position] = found
        return found


#: Footers larger than this are parsed every time: files with thousands of columns would fill the cache.
_MAX_CACHED_FOOTER = 256 << 10
#: The cache's budget in footer bytes (parsed, a footer takes a few times its size); the oldest go first.
_CACHE_BYTES = 16 << 20
_footers: collections.OrderedDict[bytes, Footer] = collections.OrderedDict()
_footer_bytes = 0
_footer_lock = threading.Lock()


def local_footer(source: Any) -> Footer | None:
    """The parsed footer of the Parquet file open as ``source`` (an Arrow random-access file), from the cache.

    Returns ``None`` when the file is not plain Parquet (too short, encrypted footer, a length that doesn't
    fit): the caller then lets Arrow open it, so that Arrow's own error names what is wrong.
    """
    global _footer_bytes
    import pyarrow as pa
    import pyarrow.parquet as pq

    size = source.size()
    if size < 12:
        return None
    tail = source.read_at(8, size - 8)
    length = int.from_bytes(tail[:4], "little")
    if tail[4:] != b"PAR1" or length + 12 > size:
        return None
    raw = source.read_at(length, size - 8 - length) + tail
    footer = _footers.get(raw)
    if footer is not None:
        return footer
    try:
        # Offsets in the footer are absolute, so the footer's bytes alone parse into the file's metadata.
        footer = Footer(pq.read_metadata(pa.BufferReader(raw)))
    except (OSError, ValueError, pa.ArrowException):
        return None
    if len(raw) <= _MAX_CACHED_FOOTER:
        with _footer_lock:
            if raw not in _footers:
                _footers[raw] = footer
                _footer_bytes += len(raw)
            while _footer_bytes > _CACHE_BYTES:
                old, _ = _footers.popitem(last=False)
                _footer_bytes -= len(old)
    return footer


def fragment_footer(fragment: Any) -> Footer | None:
    """:func:`local_footer` of a dataset fragment on the local disk; ``None`` for other file systems."""
    from pyarrow.fs import LocalFileSystem

    if not isinstance(fragment.filesystem, LocalFileSystem):
        return None
    try:
        with fragment.filesystem.open_input_file(fragment.path) as source:
            return local_footer(source)
    except OSError:
        return None  # Arrow's own attempt raises the error that names the file


def _row_group_infos(fragments: list[Any]) -> list[Any]:
    return [rg for frag in fragments for rg in frag.row_groups]


def matching_row_groups(fragment: Any, filters: Any, expression: Any, schema: Any,
                        chosen: tuple[int, ...] | None) -> list[int]:
    """Row groups of ``fragment`` (among ``chosen``, default all) whose statistics don't rule ``filters`` out.

    Plain comparisons on numeric columns are checked against the footer's min/max here, in Python: Arrow's
    ``split_by_row_group`` builds a statistics expression per row group and costs several times more, which
    a selective query spends before its first task can start. Anything else (strings, dates, hive keys,
    Arrow expressions) goes to Arrow.
    """
    groups = _prune_with_statistics(fragment, filters, schema, chosen)
    if groups is not None:
        return groups
    row_groups = fragment.split_by_row_group(filter=expression, schema=schema)
    found = [rg.id for rg in _row_group_infos(row_groups)]
    return found if chosen is None else [g for g in found if g in set(chosen)]


#: Arrow types whose Parquet min/max statistics are plain Python numbers that compare like the column's values.
_NUMERIC_STAT_TYPES = frozenset("int8 int16 int32 int64 uint8 uint16 uint32 uint64 float double".split())


def _prune_with_statistics(fragment: Any, filters: Any, schema: Any, chosen: tuple[int, ...] | None
                           ) -> list[int] | None:
    """The row groups a DNF filter on numeric columns may match, or ``None`` when Arrow must decide.

    A group is dropped only when, for every OR branch, some condition is impossible given the column's
    min and max. ``!=`` and ``not in`` never drop a group: NaN is left out of float statistics, and NaN
    differs from every value. Nulls never match a comparison, so they can't keep a group alive.
    """
    if filters is None:
        return list(chosen) if chosen is not None else list(range(fragment.metadata.num_row_groups))
    if not isinstance(filters, list):
        return None
    if not is_trivial(fragment.partition_expression):
        return None
    conjuncts = filters if filters and isinstance(filters[0], list) else [filters]
    names = set(schema.names)
    for conjunct in conjuncts:
        for condition in conjunct:
            if not (isinstance(condition, tuple | list) and len(condition) == 3):
                return None
            column, op, value = condition
            if column not in names or str(schema.field(column).type) not in _NUMERIC_STAT_TYPES:
                return None
            if op not in KERNELS and op not in ("in", "not in"):
                return None
            values = list(value) if op in ("in", "not in") else [value]
            # NaN compares false to everything here, but Arrow's ``is_in`` matches NaN with NaN.
            if not all(isinstance(v, int | float) and not isinstance(v, bool) and v == v for v in values):
                return None
    footer = fragment_footer(fragment) or Footer(fragment.metadata)
    positions = footer.positions
    if any(c not in positions for conjunct in conjuncts for c, _, _ in conjunct):
        return None
    physical = footer.schema
    if any(physical.field(c).type != schema.field(c).type for conjunct in conjuncts for c, _, _ in conjunct):
        return None
    stats = {c: footer.min_max(positions[c]) for conjunct in conjuncts for c, _, _ in conjunct}
    groups = range(footer.metadata.num_row_groups) if chosen is None else chosen
    return [g for g in groups
            if any(all(_may_match(stats[c][g], op, v) for c, op, v in conjunct) for conjunct in conjuncts)]


def _may_match(stats: tuple[Any, Any] | None, op: str, value: Any) -> bool:
    """Whether a row group with this ``(min, max)`` can hold a row where ``column op value`` is true."""
    if stats is None:
        return True
    low, high = stats
    if op in ("==", "="):
        return bool(low <= value <= high)
    if op == ">":
        return bool(high > value)
    if op == ">=":
        return bool(high >= value)
    if op == "<":
        return bool(low < value)
    if op == "<=":
        return bool(low <= value)
    if op == "in":
        return any(low <= v <= high for v in value)
    return True  # "!=" and "not in"


STRING_TYPES = frozenset(("string", "large_string"))


def dictionary_columns(metadata: Any, schema: Any, columns: list[Any] | None, groups: tuple[int, ...] | None
                       ) -> list[str]:
    """String columns stored dictionary-encoded in every row group read: cheaper to read as dictionaries.

    Decoding a dictionary page into a string array per value costs more than reading the indices and
    then expanding them with one ``take`` (about half for a low-cardinality column such as a name).
    A column chunk holds dictionary indices, not plain strings, when its data pages take under 4 bytes
    per value: a plain string costs 4 bytes of length before its characters. A writer that gave up on the
    dictionary part way (high cardinality) stores plain pages, fails that test and is read as it is.
    """
    names = schema.names if columns is None else columns
    wanted = [n for n in names if n in schema.names and str(schema.field(n).type) in STRING_TYPES]
    if not wanted or metadata.num_row_groups == 0:
        return []
    positions = {metadata.schema.column(i).path: i for i in range(metadata.num_columns)}
    chosen = [n for n in wanted if n in positions]
    for g in range(metadata.num_row_groups) if groups is None else groups:
        row_group = metadata.row_group(g)
        kept = []
        for name in chosen:
            chunk = row_group.column(positions[name])
            if not chunk.has_dictionary_page or chunk.num_values == 0:
                continue
            data_bytes = chunk.total_compressed_size - (chunk.data_page_offset - chunk.dictionary_page_offset)
            if data_bytes < 4 * chunk.num_values:
                kept.append(name)
        chosen = kept
        if not chosen:
            break
    return chosen
